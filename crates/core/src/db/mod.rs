//! Connections to SQLite or PostgreSQL, chosen by URL, behind one type.
//!
//! SQLite gets two pools: many readers and exactly one writer. SQLite allows one writer at a time
//! anyway; funnelling writes through one connection turns "database is locked" races between
//! deferred transactions into an orderly queue. PostgreSQL uses one pool for both.

mod ahead;
pub mod backup;
mod batch;
mod checkpoints;
mod group_commit;
mod held;
pub mod memo;
pub mod migrations;
mod rows;
mod table_row;
mod tally;

pub use batch::Batch;
pub use held::Part;
pub use rows::{
    Name, col, get_at, get_bool, get_i64, get_json, get_opt_bool, get_opt_date, get_opt_f64,
    get_opt_i64, get_opt_string, get_opt_ts, get_opt_uuid, get_string, get_ts, get_uuid,
};
pub use table_row::TableRow;
pub use tally::Statements;
use tally::Tally;

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sea_query::{
    DeleteStatement, Expr, InsertStatement, QueryStatementWriter, SelectStatement, SimpleExpr,
    UpdateStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqlxPostgresConnector, SqlxSqliteConnector, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{CoreError, CoreResult};
use group_commit::{Ending, GroupCommit};
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    read: DatabaseConnection,
    write: DatabaseConnection,
    /// PostgreSQL's readers for text search ([`TextRead`]); SQLite reads text as anything else.
    text: Option<[DatabaseConnection; 2]>,
    /// SQLite's writes queue here, to share commits under load; PostgreSQL has none.
    group: Option<GroupCommit>,
    /// The connection SQLite's checkpoints run on (`checkpoints`); none in memory or on
    /// PostgreSQL.
    checkpointer: Option<DatabaseConnection>,
    backend: Backend,
    /// The SQLite file (none on PostgreSQL, or for an in-memory database): what a backup copies.
    file: Option<std::path::PathBuf>,
    /// The people of the company as last read ([`crate::identity::users::list`]).
    pub(crate) directory: memo::Memo,
}

/// The one transaction a service call writes in, a connection like any other; on
/// SQLite it is a savepoint in a commit shared with other writes (see `group_commit`), and
/// `commit` returns once that shared commit is done.
pub struct WriteTxn {
    txn: std::sync::Arc<DatabaseTransaction>,
    ended: Option<oneshot::Sender<Ending>>,
    /// SQLite's write alone ([`Db::begin_alone`]): the search index is settled before it
    /// commits, as a shared commit does.
    settle: bool,
    /// A bulk load's write in flight (see `ahead`).
    ahead: ahead::Ahead,
    /// A bulk load's records not yet sent (see `held`).
    held: std::sync::Mutex<held::Held>,
    /// How many records are held before they go (see [`WriteTxn::hold_few`]).
    hold: std::sync::atomic::AtomicUsize,
    /// What the transaction's statements did so far (see `tally`).
    tally: Tally,
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.ready().await?;
        self.tally.wrote();
        self.tally.outcome(self.txn.execute(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.ready().await?;
        self.tally.wrote();
        self.tally.outcome(self.txn.execute_unprepared(sql).await)
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.ready().await?;
        self.tally.query(&stmt);
        self.tally.outcome(self.txn.query_one(stmt).await)
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.ready().await?;
        self.tally.query(&stmt);
        self.tally.outcome(self.txn.query_all(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

impl WriteTxn {
    /// Saves the write. On SQLite this waits for the commit it shares.
    pub async fn commit(self) -> CoreResult<()> {
        self.ready().await?;
        let WriteTxn {
            txn, ended, settle, ..
        } = self;
        let txn = alone(txn)?;
        if settle {
            group_commit::settle(&txn).await?;
        }
        txn.commit().await?;
        let Some(ended) = ended else {
            return Ok(());
        };
        let (reply, committed) = oneshot::channel();
        if ended.send(Ending::Kept(reply)).is_err() {
            return Err(group_commit::stopped());
        }
        group_commit::outcome(committed.await)
    }

    /// Starts the commit and returns at once: the connection commits while the caller goes on
    /// (a bulk load works out its next batch meanwhile); [`Committing::wait`] says how it
    /// ended, and when. Nothing else can write on this connection until it has.
    pub fn commit_in_background(self) -> Committing {
        Committing(tokio::spawn(async move {
            self.commit().await?;
            Ok(std::time::Instant::now())
        }))
    }

    /// Undoes the write (dropping it does the same).
    pub async fn rollback(self) -> CoreResult<()> {
        // A write in flight that failed is taken back with the rest, and what is held with it.
        drop(std::mem::take(&mut *self.held()));
        let _ = self.ahead.settle().await;
        let WriteTxn { txn, ended, .. } = self;
        let undone = alone(txn)?.rollback().await;
        if let Some(ended) = ended {
            let _ = ended.send(Ending::Undone);
        }
        Ok(undone?)
    }

    /// Lets writes made through [`Self::execute_ahead`] be sent ahead (see `ahead`), or not.
    /// Only for a caller that takes the whole transaction back on any failure: a write sent
    /// ahead that fails is reported by the statement after it.
    pub fn send_writes_ahead(&self, on: bool) {
        self.ahead.allow(on);
    }

    /// Waits for a write sent ahead: its failure, if it failed.
    pub async fn settle_ahead(&self) -> Result<(), DbErr> {
        self.ready().await
    }

    /// Writes a record's rows, `parts` in order. Where writes may be sent ahead they are held
    /// instead, to go with the next records' (see `held`): a failure then shows in a later
    /// statement, or in [`Self::settle_ahead`].
    pub async fn write_record(&self, parts: Vec<Part>) -> Result<(), DbErr> {
        let backend = self.get_database_backend();
        if !self.ahead.allowed() {
            let mut one = held::Held::default();
            one.add(parts);
            let batch = Batch::from_statements(one.statements(backend).map_err(held_failed)?);
            return batch.run(self).await.map_err(held_failed);
        }
        if !self.held().joins(&parts) {
            self.send_held().await?;
        }
        // Counted as it is held: a row refused after this one did not write (see `tally`).
        self.tally.wrote();
        let full = {
            let mut held = self.held();
            held.add(parts);
            held.len() >= self.hold.load(std::sync::atomic::Ordering::Relaxed)
        };
        if full {
            self.send_held().await?;
        }
        Ok(())
    }

    /// Holds one record at most (`few`), or as many as `held` allows. A batch that others wait
    /// for ends when its budget says, and its end waits for everything held: beside people's
    /// saves a bulk load holds few, so that it does not keep them waiting longer.
    pub fn hold_few(&self, few: bool) {
        let n = if few { 1 } else { held::HOLD };
        self.hold.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The records held, for the next statements to be sent after them.
    fn held(&self) -> std::sync::MutexGuard<'_, held::Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends what is held, ahead.
    async fn send_held(&self) -> Result<(), DbErr> {
        let held = std::mem::take(&mut *self.held());
        if held.len() == 0 {
            return Ok(());
        }
        let backend = backend_of(self);
        let statements = held
            .statements(self.get_database_backend())
            .map_err(held_failed)?;
        for s in Batch::from_statements(statements).into_statements(backend) {
            self.tally.outcome(self.ahead.send(&self.txn, s).await)?;
        }
        Ok(())
    }

    /// What is held sent, and what was sent ahead written: the transaction as its statements
    /// so far left it.
    async fn ready(&self) -> Result<(), DbErr> {
        self.send_held().await?;
        self.tally.outcome(self.ahead.settle().await)
    }

    /// How many statements could have written and how many failed, so far (see `tally`).
    pub fn statements(&self) -> Statements {
        self.tally.reading()
    }
}

/// A commit under way ([`WriteTxn::commit_in_background`]).
pub struct Committing(tokio::task::JoinHandle<CoreResult<std::time::Instant>>);

impl Committing {
    /// Waits until the commit is done: when it was, or its failure if it failed.
    pub async fn wait(self) -> CoreResult<std::time::Instant> {
        self.0
            .await
            .map_err(|e| CoreError::Internal(format!("a commit did not finish: {e}")))?
    }
}

/// A failure to lay out or run held rows, as the connection's error.
fn held_failed(e: CoreError) -> DbErr {
    match e {
        CoreError::Database(e) => e,
        other => DbErr::Custom(other.to_string()),
    }
}

/// The transaction, once no write in flight holds it.
fn alone(txn: std::sync::Arc<DatabaseTransaction>) -> CoreResult<DatabaseTransaction> {
    std::sync::Arc::try_unwrap(txn)
        .map_err(|_| CoreError::Internal("a transaction ended with a write in flight".into()))
}

/// Turns what a user typed (`guanxi.db`, `sqlite://x.db`, `postgres://…`) into a driver URL.
pub fn normalize_url(input: &str) -> String {
    if input.starts_with("postgres://")
        || input.starts_with("postgresql://")
        || input.starts_with("sqlite:")
    {
        input.to_string()
    } else {
        format!("sqlite://{input}")
    }
}

/// How many read connections an SQLite file gets: one more than the cores. Each connection is a
/// thread that reads through the memory map, so reads are CPU work, and beyond the cores more
/// threads only take turns: with 16 of them on two cores a list page's p99 at 16 clients was
/// 26–31 ms, with 3 it was 18–25 ms at the same CPU per page. The one extra keeps a core busy
/// while a reader waits for a page from disk. Requests beyond it wait for a free connection
/// (queued, not refused; exports take one per page, so they do not hold one).
/// How much of an SQLite file each connection reads through a memory map: 256 GiB (all of it)
/// unless `GUANXI_SQLITE_MMAP_MB` says otherwise. A mapped page a connection has read counts in
/// the process's resident memory (as a clean page of the file the kernel may drop, shared with
/// its page cache), so a command that reads a whole large database through the map shows as
/// large as the part it read; with a smaller map, pages beyond it are read with `pread` into
/// SQLite's own page cache (16 MiB a connection) instead. `asked` is the caller's own limit, in
/// MiB (a bulk command's).
fn sqlite_map_size(asked: Option<u64>) -> String {
    const ALL: u64 = 256 << 30;
    std::env::var("GUANXI_SQLITE_MMAP_MB")
        .ok()
        .and_then(|mb| mb.trim().parse::<u64>().ok())
        .or(asked)
        .map_or(ALL, |mb| mb.saturating_mul(1 << 20).min(ALL))
        .to_string()
}

fn sqlite_readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores + 1).unwrap_or(u32::MAX)
}

/// How text search reads a term's postings ([`Db::text_reader`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextRead {
    /// Of a term held by more than `TEXT_SAMPLE` of an index's entries, a sample of about so
    /// many (`gin_fuzzy_search_limit`): `zh`, held by a million of 4,000,000 entries, took 139
    /// ms to read whole and 15 ms sampled (bench §18).
    Sampled,
    /// All of them.
    Whole,
}

/// See [`TextRead::Sampled`].
const TEXT_SAMPLE: &str = "5000";

/// Connections of each of PostgreSQL's text readers: searches are short, and a few at a time
/// keep the cores busy.
const TEXT_READERS: u32 = 8;

/// What opening an SQLite file that does not exist does. Commands that set up a database
/// (`migrate`, `serve`, `demo`, `bench-data`) create it; commands that need existing data refuse,
/// so a mistyped path does not quietly become an empty database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfMissing {
    Create,
    Refuse,
}

impl Db {
    /// Connects without migrating, creating a missing SQLite file. `url` may be a plain file path.
    pub async fn connect(url: &str) -> CoreResult<Db> {
        Db::connect_with(url, IfMissing::Create).await
    }

    pub async fn connect_with(url: &str, if_missing: IfMissing) -> CoreResult<Db> {
        Db::connect_mapped(url, if_missing, None).await
    }

    /// Connects as [`Db::connect_with`], mapping at most `map_mb` MiB of an SQLite file into
    /// memory (`None`: all of it; `GUANXI_SQLITE_MMAP_MB` decides over both). See
    /// `sqlite_map_size`.
    pub async fn connect_mapped(
        url: &str,
        if_missing: IfMissing,
        map_mb: Option<u64>,
    ) -> CoreResult<Db> {
        let url = normalize_url(url);
        if url.starts_with("postgres") {
            let pool = PgPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(10))
                .connect(&url)
                .await
                .map_err(|e| CoreError::Internal(format!("cannot connect to PostgreSQL: {e}")))?;
            let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            let opts = PgConnectOptions::from_str(&url)
                .map_err(|e| CoreError::Internal(format!("bad PostgreSQL URL: {e}")))?;
            let text = |sample: &str| {
                let pool = PgPoolOptions::new()
                    .max_connections(TEXT_READERS)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with(opts.clone().options([
                        ("enable_seqscan", "off"),
                        ("gin_fuzzy_search_limit", sample),
                    ]));
                SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
            };
            Ok(Db {
                read: conn.clone(),
                write: conn,
                text: Some([text(TEXT_SAMPLE), text("0")]),
                group: None,
                checkpointer: None,
                backend: Backend::Postgres,
                file: None,
                directory: memo::Memo::default(),
            })
        } else {
            let opts = SqliteConnectOptions::from_str(&url)
                .map_err(|e| CoreError::Internal(format!("bad SQLite URL {url}: {e}")))?
                .create_if_missing(if_missing == IfMissing::Create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true)
                // 16 MiB of page cache per connection, and reads through a memory map, which
                // serves a large database from the OS cache without copying. The map covers
                // files up to 256 GiB (address space, not memory; SQLite's own ceiling is raised
                // to match in .cargo/config.toml): beyond the map every page read is a `pread`
                // and a copy, which at 15 GB was most of a common name's `contains`.
                .pragma("cache_size", "-16384")
                .pragma("mmap_size", sqlite_map_size(map_mb))
                .pragma("temp_store", "memory")
                // After a checkpoint has copied the log into the file, the next write starts the
                // log again from its beginning and cuts the file down to this size; without a
                // limit a log once grown by a bulk load keeps its size on disk for good.
                .pragma("journal_size_limit", "67108864")
                // A list page is 51 rows; with the default buffer of 50 the connection's worker
                // thread stalls on the last row until the request task drains the rest.
                .row_buffer_size(256);
            let file = opts.get_filename().to_path_buf();
            if if_missing == IfMissing::Refuse
                && file != std::path::Path::new(":memory:")
                && !file.exists()
            {
                return Err(CoreError::DatabaseMissing(file.display().to_string()));
            }
            // An embedded file cannot drop a connection, so the health check sqlx runs on every
            // acquire is a wasted round trip to the connection's worker thread (about 5% of a
            // list request's CPU).
            let in_memory = file.as_path() == std::path::Path::new(":memory:");
            // A file's log is copied into it by a task of its own (`checkpoints`), not by the
            // writer's commits; an in-memory database has one connection and keeps the default.
            let write_opts = if in_memory {
                opts.clone()
            } else {
                opts.clone().pragma("wal_autocheckpoint", "0")
            };
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with(write_opts)
                .await
                .map_err(|e| CoreError::Internal(format!("cannot open {url}: {e}")))?;
            let checkpointer = if in_memory {
                None
            } else {
                let conn = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(opts.clone())
                    .await
                    .map_err(|e| CoreError::Internal(format!("cannot open {url}: {e}")))?;
                Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(conn))
            };
            // Readers open the file read-only, so a write sent to the reader pool by mistake
            // fails loudly instead of racing the single writer for the lock.
            let read = SqlitePoolOptions::new()
                .max_connections(sqlite_readers())
                .test_before_acquire(false)
                .connect_with(opts.read_only(true))
                .await
                .map_err(|e| CoreError::Internal(format!("cannot open {url}: {e}")))?;
            let write = SqlxSqliteConnector::from_sqlx_sqlite_pool(write);
            // One commit waiting is enough: the next checkpoint copies all of them.
            let (commits, committed) = tokio::sync::mpsc::channel(1);
            let group =
                GroupCommit::start(write.clone(), checkpointer.is_some().then_some(commits));
            if let Some(conn) = &checkpointer {
                checkpoints::start(conn.clone(), committed, group.quiet());
            }
            Ok(Db {
                read: SqlxSqliteConnector::from_sqlx_sqlite_pool(read),
                text: None,
                group: Some(group),
                checkpointer,
                write,
                backend: Backend::Sqlite,
                file: (!in_memory).then_some(file),
                directory: memo::Memo::default(),
            })
        }
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> CoreResult<Db> {
        Db::open_with(url, IfMissing::Create).await
    }

    /// Connects and migrates, refusing or creating a missing SQLite file as asked.
    pub async fn open_with(url: &str, if_missing: IfMissing) -> CoreResult<Db> {
        Db::open_mapped(url, if_missing, None).await
    }

    /// [`Db::open_with`], mapping at most `map_mb` MiB of an SQLite file (see
    /// [`Db::connect_mapped`]).
    pub async fn open_mapped(
        url: &str,
        if_missing: IfMissing,
        map_mb: Option<u64>,
    ) -> CoreResult<Db> {
        let db = Db::connect_mapped(url, if_missing, map_mb).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> CoreResult<()> {
        migrations::Migrator::up(&self.write, None).await?;
        Ok(())
    }

    /// Names of migrations applied so far, oldest first. Read through the writer: the migrator
    /// creates its bookkeeping table if it is missing, which the read-only SQLite pool refuses.
    pub async fn applied_migrations(&self) -> CoreResult<Vec<String>> {
        let applied = migrations::Migrator::get_applied_migrations(&self.write).await?;
        Ok(applied.iter().map(|m| m.name().to_string()).collect())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn reader(&self) -> &DatabaseConnection {
        &self.read
    }

    /// Where text search reads (`search`). On PostgreSQL, connections of their own that never
    /// scan a table from its start for rows that match (the planner takes that plan for terms
    /// common overall, and it read millions of rows when they were rare among what a search
    /// may return: a phone prefix among accounts, 8 s), and that read a sample of about
    /// `TEXT_SAMPLE` postings of a common term if asked to ([`TextRead::Sampled`]). Settings
    /// of the session, not of a transaction, so a search costs no round trips to set them.
    pub fn text_reader(&self, read: TextRead) -> &DatabaseConnection {
        match (&self.text, read) {
            (None, _) => &self.read,
            (Some([sampled, _]), TextRead::Sampled) => sampled,
            (Some([_, whole]), TextRead::Whole) => whole,
        }
    }

    /// Begins the one transaction a service call writes in.
    pub async fn begin(&self) -> CoreResult<WriteTxn> {
        match &self.group {
            None => Ok(WriteTxn {
                txn: std::sync::Arc::new(self.write.begin().await?),
                ended: None,
                settle: false,
                ahead: ahead::Ahead::default(),
                held: Default::default(),
                hold: held::HOLD.into(),
                tally: Tally::default(),
            }),
            Some(group) => {
                let slot = group.join().await?;
                Ok(WriteTxn {
                    txn: std::sync::Arc::new(slot.txn),
                    ended: Some(slot.ended),
                    settle: slot.alone,
                    ahead: ahead::Ahead::default(),
                    held: Default::default(),
                    hold: held::HOLD.into(),
                    tally: Tally::default(),
                })
            }
        }
    }

    /// Begins a transaction for a bulk write (an import's batch): on SQLite one of its own,
    /// not shared with other writes (see `group_commit`), which it holds the writer for; the
    /// caller keeps it short.
    pub async fn begin_alone(&self) -> CoreResult<WriteTxn> {
        match &self.group {
            None => self.begin().await,
            Some(group) => {
                let slot = group.join_alone().await?;
                Ok(WriteTxn {
                    txn: std::sync::Arc::new(slot.txn),
                    ended: Some(slot.ended),
                    settle: slot.alone,
                    ahead: ahead::Ahead::default(),
                    held: Default::default(),
                    hold: held::HOLD.into(),
                    tally: Tally::default(),
                })
            }
        }
    }

    /// Copies SQLite's write-ahead log into the database file and empties it; nothing on
    /// PostgreSQL. After a bulk load the log holds gigabytes that every reader would otherwise
    /// look pages up in until a checkpoint got round to it.
    /// How many ordinary writes are waiting for SQLite's one writer at this moment (always 0 on
    /// PostgreSQL, whose writes do not queue here): a bulk write holding the writer alone keeps
    /// its transactions short while others wait.
    pub fn writes_waiting(&self) -> usize {
        self.group.as_ref().map_or(0, GroupCommit::waiting)
    }

    pub async fn checkpoint(&self) -> CoreResult<()> {
        if self.backend == Backend::Sqlite {
            self.write
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        Ok(())
    }

    /// Gives SQLite's query planner statistics of the tables whose size changed much since it
    /// last had them (all of them, the first time); nothing on PostgreSQL, whose autovacuum
    /// does this. Without statistics the planner guesses, and with sampled ones it guessed
    /// wrong: it took a deal stage for about 1,000 deals when the won stage held 85,000, and read
    /// a rep's won column through the stage's index, 2–4 ms where the owners' index takes 0.4.
    /// A plain `PRAGMA optimize` samples: its default mask includes 0x10, which caps each
    /// analysis at a few thousand index entries whatever `analysis_limit` says. So the mask is
    /// given without it: 0x02 (analyze the tables that need it) and 0x10000 (look at every
    /// table, not only those this connection used), and every entry is read. Seconds on a
    /// large database, held as a write, which is why the nightly tidy-up and bulk loads run it
    /// and pages never do; a table whose size has not changed much is not read again.
    /// Connections opened after it plan with the new figures.
    pub async fn optimize(&self) -> CoreResult<()> {
        if self.backend == Backend::Sqlite {
            self.write
                .execute_unprepared("PRAGMA analysis_limit = 0; PRAGMA optimize = 0x10002")
                .await?;
        }
        Ok(())
    }

    /// Closes every connection. On SQLite the readers close first and the writer last: SQLite
    /// copies the write-ahead log into the file and removes it when the last connection to the
    /// file closes, but only if that connection may write; a process that ends without closing,
    /// or whose last connection is a reader, leaves the log, however large, beside the file.
    pub async fn close(self) -> CoreResult<()> {
        if let Some(text) = self.text {
            for conn in text {
                conn.close().await?;
            }
        }
        self.read.close().await?;
        if let Some(conn) = self.checkpointer {
            conn.close().await?;
        }
        if self.backend == Backend::Sqlite {
            // No checkpoint that waits is forced here: one that waits for other processes'
            // readers would hold back their writers meanwhile. The writer closing last
            // checkpoints and removes the log itself, when no other process has the file open;
            // `empty_log` catches the case where one of ours closed late.
            self.write.close().await?;
            if let Some(file) = &self.file {
                empty_log(file).await;
            }
        }
        Ok(())
    }

    /// The connection writes go through, outside the shared commits: for loads that hold a
    /// transaction of their own on a database nobody else uses yet (`moveall`).
    pub(crate) fn writer(&self) -> &DatabaseConnection {
        &self.write
    }

    /// The SQLite file this handle opened (none on PostgreSQL or in memory).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }
}

/// Builds a statement for the backend a connection speaks.
pub fn stmt<C: ConnectionTrait, S: QueryStatementWriter>(conn: &C, s: &S) -> Statement {
    let backend: DbBackend = conn.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let (sql, values) = s.build(sea_orm::sea_query::PostgresQueryBuilder);
            Statement::from_sql_and_values(backend, sql, values)
        }
        _ => {
            let (sql, values) = s.build(sea_orm::sea_query::SqliteQueryBuilder);
            Statement::from_sql_and_values(backend, sql, values)
        }
    }
}

pub async fn fetch_all<C: ConnectionTrait>(
    conn: &C,
    s: &SelectStatement,
) -> CoreResult<Vec<QueryResult>> {
    Ok(conn.query_all(stmt(conn, s)).await?)
}

pub async fn fetch_one<C: ConnectionTrait>(
    conn: &C,
    s: &SelectStatement,
) -> CoreResult<Option<QueryResult>> {
    Ok(conn.query_one(stmt(conn, s)).await?)
}

pub async fn insert<C: ConnectionTrait>(conn: &C, s: &InsertStatement) -> CoreResult<u64> {
    Ok(conn.execute(stmt(conn, s)).await?.rows_affected())
}

pub async fn update<C: ConnectionTrait>(conn: &C, s: &UpdateStatement) -> CoreResult<u64> {
    Ok(conn.execute(stmt(conn, s)).await?.rows_affected())
}

pub async fn delete<C: ConnectionTrait>(conn: &C, s: &DeleteStatement) -> CoreResult<u64> {
    Ok(conn.execute(stmt(conn, s)).await?.rows_affected())
}

/// Empties the write-ahead log of `file` if it is still there after every connection of this
/// handle closed: one of sqlx's connection threads sometimes outlives its pool's close (seen
/// after `guanxi migrate`, about one run in four, before this existed), and a log left beside
/// the file means a copy of the file alone misses what was written. A checkpoint that must wait
/// (another process reading or writing) is not waited for: it fails at once and the log stays,
/// as it did without this. One that starts holds another process's writer while it copies what
/// is left in the log, which that process's own checkpoints keep short.
async fn empty_log(file: &std::path::Path) {
    use sqlx::{ConnectOptions, Connection};
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    if !std::path::Path::new(&wal).exists() {
        return;
    }
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .busy_timeout(Duration::ZERO)
        .disable_statement_logging();
    let Ok(mut conn) = opts.connect().await else {
        return;
    };
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
    {
        tracing::debug!(error = %e, "the log is left for the last connection to copy");
    }
    let _ = conn.close().await;
}

/// Runs hand-written SQL with `$1`-style placeholders on PostgreSQL and `?` on SQLite: callers
/// pass SQL for the connection's backend (see `search`, the one place that needs it).
pub async fn raw_query<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> CoreResult<Vec<QueryResult>> {
    let backend = conn.get_database_backend();
    Ok(conn
        .query_all(Statement::from_sql_and_values(backend, sql, values))
        .await?)
}

pub async fn raw_execute<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> CoreResult<u64> {
    let backend = conn.get_database_backend();
    Ok(conn
        .execute(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected())
}

/// `value` as a bound parameter that SQLite's planner does not look at. Where the planner looks
/// at a bound value (through its samples of an index, `sqlite_stat4`), it plans the statement
/// again every time a value is bound there, which for a statement carrying the reader's scope
/// was a sixth to a quarter of a page's work. For values that cannot change the best plan
/// (the id of a person or a record, an instant: `FilterContext::bound`), `+?` is the same value
/// without the look (SQLite skips only a bare `?`). PostgreSQL plans with values of its own
/// accord, and gets the bare value.
pub fn unprobed(backend: Backend, value: impl Into<sea_orm::Value>) -> SimpleExpr {
    match backend {
        Backend::Sqlite => Expr::cust_with_values("+?", [value.into()]),
        Backend::Postgres => SimpleExpr::Value(value.into()),
    }
}

/// `column IN ids`, for a list of ids of any length. On SQLite the ids travel as one JSON
/// array: one statement for every length, kept prepared, and no id the planner looks at one by
/// one ([`unprobed`]): naming a board's 269 accounts planned its statement again, id by id, on
/// every read. On PostgreSQL, the plain list.
pub fn id_in(backend: Backend, column: SimpleExpr, ids: &[uuid::Uuid]) -> SimpleExpr {
    match backend {
        Backend::Sqlite => {
            let mut list = String::with_capacity(ids.len() * 35 + 2);
            list.push('[');
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    list.push(',');
                }
                list.push('"');
                list.push_str(id.simple().encode_lower(&mut uuid::Uuid::encode_buffer()));
                list.push('"');
            }
            list.push(']');
            Expr::cust_with_exprs(
                "? IN (SELECT unhex(value) FROM json_each(?))",
                [column, SimpleExpr::Value(list.into())],
            )
        }
        Backend::Postgres => Expr::expr(column).is_in(ids.iter().copied()),
    }
}

/// `column` is among the ids `sub` selects, for a `sub` expected to select few (a record's
/// lines that meet a condition: the meetings a team attends this week). PostgreSQL reads such
/// an `IN` as a semi-join, and when the outer table's filter carries hashed subplans (a
/// reader's scope) it priced probing the table by primary key, id by id, far above a parallel
/// scan of the whole table: a rep's week read a million activities for the 26 it named, 114 ms
/// against 1 ms. As an array the ids are read once, first, and the table probed by its key.
/// SQLite plans the plain `IN` well.
pub fn id_among(backend: Backend, column: SimpleExpr, sub: SelectStatement) -> SimpleExpr {
    match backend {
        Backend::Sqlite => Expr::expr(column).in_subquery(sub),
        Backend::Postgres => Expr::cust_with_exprs(
            "$1 = ANY(ARRAY($2))",
            [
                column,
                SimpleExpr::SubQuery(None, Box::new(sub.into_sub_query_statement())),
            ],
        ),
    }
}

pub fn backend_of<C: ConnectionTrait>(conn: &C) -> Backend {
    match conn.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

#[cfg(test)]
mod id_among_tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    fn lines() -> SelectStatement {
        let mut sub = Query::select();
        sub.column(col("parent_id"))
            .from(col("lines"))
            .and_where(Expr::col(col("user_id")).eq(3));
        sub
    }

    /// PostgreSQL reads the ids first, as an array; SQLite keeps the plain `IN`. Both with the
    /// subquery's own parameters bound.
    #[test]
    fn ids_among_lines_as_each_backend_reads_them_best() {
        let built =
            |backend, sql: &dyn Fn(&SelectStatement) -> (String, sea_orm::sea_query::Values)| {
                let mut q = Query::select();
                q.column(col("id")).from(col("records")).and_where(id_among(
                    backend,
                    Expr::col(col("id")).into(),
                    lines(),
                ));
                sql(&q)
            };
        let (pg, pg_values) = built(Backend::Postgres, &|q| q.build(PostgresQueryBuilder));
        assert_eq!(
            pg,
            r#"SELECT "id" FROM "records" WHERE "id" = ANY(ARRAY((SELECT "parent_id" FROM "lines" WHERE "user_id" = $1)))"#
        );
        assert_eq!(pg_values.0.len(), 1);
        let (lite, lite_values) = built(Backend::Sqlite, &|q| q.build(SqliteQueryBuilder));
        assert_eq!(
            lite,
            r#"SELECT "id" FROM "records" WHERE "id" IN (SELECT "parent_id" FROM "lines" WHERE "user_id" = ?)"#
        );
        assert_eq!(lite_values.0.len(), 1);
    }
}
