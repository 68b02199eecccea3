//! Backups of an SQLite database, and restores from them: the one place that holds the SQL they
//! need (DESIGN.md §5). PostgreSQL's backups are `pg_dump`'s and its restores `pg_restore`'s
//! (the README's "Backups" names the commands); both entry points here say so when asked.
//!
//! A backup is `VACUUM INTO` on a connection of its own: one read transaction, so the copy is the
//! database as it was at one instant, while the server goes on reading and writing (readers never
//! wait; the writer's log only grows until the copy ends). It is written under a temporary name
//! beside the target and renamed once complete and on disk, so the target name never holds half a
//! backup. A restore checks the backup before anything is written, copies it beside the target,
//! brings its schema up to date there and only then gives it the target's name.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sea_orm_migration::MigratorTrait;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use super::{Backend, Db, IfMissing, migrations, normalize_url};
use crate::error::{CoreError, CoreResult, Params, codes};

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub took: Duration,
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    pub file: PathBuf,
    pub bytes: u64,
    /// Migrations applied to the restored copy (the backup was older than this program).
    pub migrated: Vec<String>,
}

/// Whether a backup may replace a file already at its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Replace,
}

fn refused(code: &'static str, message: String, params: &[(&'static str, Value)]) -> CoreError {
    CoreError::BadRequest {
        code,
        message,
        params: params.iter().cloned().collect::<Params>(),
    }
}

fn shown(path: &Path) -> Value {
    Value::String(path.display().to_string())
}

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("{what} {}: {e}", path.display()))
}

/// A name beside `file` for a copy in the making: hidden, unique, and never mistaken for a
/// finished one.
fn beside(file: &Path, tag: &str) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "guanxi.db".into());
    file.with_file_name(format!(".{name}.{tag}-{}", uuid::Uuid::now_v7().simple()))
}

/// Removes a file and the log files SQLite may have left beside it.
fn remove_with_logs(file: &Path) {
    let _ = std::fs::remove_file(file);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut log = file.as_os_str().to_owned();
        log.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(log));
    }
}

/// Writes `file`'s data and its directory entry to disk.
fn sync(file: &Path) -> CoreResult<()> {
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("writing", file, e))?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Not every platform opens a directory for syncing; the data itself is on disk.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

fn path_text(path: &Path) -> CoreResult<&str> {
    path.to_str()
        .ok_or_else(|| CoreError::Internal(format!("{} is not a UTF-8 file name", path.display())))
}

impl Db {
    /// Writes a consistent copy of the database to `dest` while others go on reading and
    /// writing. SQLite only: on PostgreSQL the answer names `pg_dump`.
    pub async fn backup_to(&self, dest: &Path, existing: Existing) -> CoreResult<BackupReport> {
        if self.backend == Backend::Postgres {
            return Err(on_postgres());
        }
        let Some(source) = self.file.as_deref() else {
            return Err(refused(
                codes::BACKUP_IN_MEMORY,
                "an in-memory database has no file to back up".into(),
                &[],
            ));
        };
        backup_file(source, dest, existing).await
    }
}

fn on_postgres() -> CoreError {
    refused(
        codes::BACKUP_ON_POSTGRES,
        "back up PostgreSQL with pg_dump --format=custom".into(),
        &[],
    )
}

/// Backs up the database at `url` (a file path or URL) to `dest`: on PostgreSQL the answer names
/// `pg_dump` without connecting. The SQLite file must exist; nothing but the one connection
/// that copies it is opened (no migrations, no checkpoint), so the processes serving it notice
/// nothing but a reader.
pub async fn backup_url(url: &str, dest: &Path, existing: Existing) -> CoreResult<BackupReport> {
    let url = normalize_url(url);
    if url.starts_with("postgres") {
        return Err(on_postgres());
    }
    let source = SqliteConnectOptions::from_str(&url)
        .map_err(|e| CoreError::Internal(format!("bad SQLite URL {url}: {e}")))?
        .get_filename()
        .to_path_buf();
    if source.as_path() == Path::new(":memory:") {
        return Err(refused(
            codes::BACKUP_IN_MEMORY,
            "an in-memory database has no file to back up".into(),
            &[],
        ));
    }
    if !source.is_file() {
        return Err(CoreError::DatabaseMissing(source.display().to_string()));
    }
    backup_file(&source, dest, existing).await
}

/// Copies the SQLite file `source` to `dest` (see the module's notes).
async fn backup_file(source: &Path, dest: &Path, existing: Existing) -> CoreResult<BackupReport> {
    let exists = || {
        refused(
            codes::BACKUP_EXISTS,
            format!("{} exists", dest.display()),
            &[("file", shown(dest))],
        )
    };
    if existing == Existing::Refuse && dest.exists() {
        return Err(exists());
    }
    let started = Instant::now();
    let partial = beside(dest, "partial");
    let written = vacuum_into(source, &partial)
        .await
        .and_then(|()| sync(&partial));
    if let Err(e) = written {
        remove_with_logs(&partial);
        return Err(e);
    }
    let placed = match existing {
        // A link fails if the name was taken meanwhile, where a rename would replace it.
        Existing::Refuse => std::fs::hard_link(&partial, dest).or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Err(e)
            } else {
                std::fs::rename(&partial, dest)
            }
        }),
        Existing::Replace => std::fs::rename(&partial, dest),
    };
    let _ = std::fs::remove_file(&partial);
    match placed {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
        Err(e) => return Err(io("writing the backup to", dest, e)),
    }
    sync(dest)?;
    let bytes = std::fs::metadata(dest)
        .map_err(|e| io("reading", dest, e))?
        .len();
    Ok(BackupReport {
        file: dest.to_path_buf(),
        bytes,
        took: started.elapsed(),
    })
}

/// `VACUUM INTO` from a connection of its own, which holds one read transaction for the copy.
async fn vacuum_into(source: &Path, into: &Path) -> CoreResult<()> {
    let opts = SqliteConnectOptions::new()
        .filename(source)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| io("opening", source, e))?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(path_text(into)?)
        .execute(&mut conn)
        .await
        .map_err(|e| io("writing the backup to", into, e));
    let _ = conn.close().await;
    copied.map(|_| ())
}

/// Restores the SQLite backup `backup` into `target` (a file path or `sqlite://` URL), which
/// must not exist yet or be an empty database. Nothing is written until the backup has passed
/// SQLite's integrity check and shown itself a Guanxi database no newer than this program;
/// migrations it lacks are applied to the copy before it takes the target's name.
pub async fn restore(backup: &Path, target: &str) -> CoreResult<RestoreReport> {
    let url = normalize_url(target);
    if url.starts_with("postgres") {
        return Err(refused(
            codes::RESTORE_INTO_POSTGRES,
            "restore PostgreSQL with pg_restore".into(),
            &[],
        ));
    }
    let target = SqliteConnectOptions::from_str(&url)
        .map_err(|e| CoreError::Internal(format!("bad SQLite URL {url}: {e}")))?
        .get_filename()
        .to_path_buf();
    if target.as_path() == Path::new(":memory:") {
        return Err(CoreError::Internal(
            "a restore needs a database file to write".into(),
        ));
    }
    let had = check_backup(backup).await?;
    check_empty(&target).await?;

    let copy = beside(&target, "restoring");
    let migrated = match prepare(backup, &copy, &had).await {
        Ok(m) => m,
        Err(e) => {
            remove_with_logs(&copy);
            return Err(e);
        }
    };
    // Checked again: another process may have created the target meanwhile.
    if let Err(e) = check_empty(&target).await {
        remove_with_logs(&copy);
        return Err(e);
    }
    // An empty file, or log files without a database, would be read as part of the restored one.
    remove_with_logs(&target);
    if let Err(e) = std::fs::rename(&copy, &target) {
        remove_with_logs(&copy);
        return Err(io("writing", &target, e));
    }
    sync(&target)?;
    let bytes = std::fs::metadata(&target)
        .map_err(|e| io("reading", &target, e))?
        .len();
    Ok(RestoreReport {
        file: target,
        bytes,
        migrated,
    })
}

/// Copies the backup to `copy` and applies the migrations it lacks; returns their names.
async fn prepare(backup: &Path, copy: &Path, had: &[String]) -> CoreResult<Vec<String>> {
    std::fs::copy(backup, copy).map_err(|e| io("copying the backup to", copy, e))?;
    let db = Db::connect_with(path_text(copy)?, IfMissing::Refuse).await?;
    let migrated = async {
        db.migrate().await?;
        let now = db.applied_migrations().await?;
        Ok::<_, CoreError>(now.into_iter().filter(|m| !had.contains(m)).collect())
    }
    .await;
    db.close().await?;
    let migrated = migrated?;
    sync(copy)?;
    Ok(migrated)
}

/// Checks that `file` is an intact Guanxi database no newer than this program, reading it
/// without writing anything (not even SQLite's log files); returns the migrations it has.
pub async fn check_backup(file: &Path) -> CoreResult<Vec<String>> {
    let not_a_database = || {
        refused(
            codes::RESTORE_NOT_A_DATABASE,
            format!("{} is not an SQLite database", file.display()),
            &[("file", shown(file))],
        )
    };
    match std::fs::metadata(file) {
        Err(_) => {
            return Err(refused(
                codes::RESTORE_NO_FILE,
                format!("no file {}", file.display()),
                &[("file", shown(file))],
            ));
        }
        Ok(m) if !m.is_file() || m.len() == 0 => return Err(not_a_database()),
        Ok(_) => {}
    }
    // Its newest pages would be in the log, which a copy of the file alone misses.
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0) {
        return Err(refused(
            codes::RESTORE_LIVE_DATABASE,
            format!("{} has a write-ahead log beside it", file.display()),
            &[("file", shown(file))],
        ));
    }
    let opts = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true);
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|_| not_a_database())?;
    let checked = check_open_backup(&mut conn, file, not_a_database).await;
    let _ = conn.close().await;
    checked
}

async fn check_open_backup(
    conn: &mut SqliteConnection,
    file: &Path,
    not_a_database: impl Fn() -> CoreError,
) -> CoreResult<Vec<String>> {
    let damaged = |problem: String| {
        refused(
            codes::RESTORE_DAMAGED,
            format!("{} is damaged: {problem}", file.display()),
            &[("file", shown(file)), ("problem", Value::String(problem))],
        )
    };
    let rows = match sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows,
        Err(e) if e.to_string().contains("not a database") => return Err(not_a_database()),
        Err(e) => return Err(damaged(e.to_string())),
    };
    let findings: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .collect();
    if findings != ["ok"] {
        return Err(damaged(
            findings.into_iter().take(3).collect::<Vec<_>>().join("; "),
        ));
    }
    let not_guanxi = || {
        refused(
            codes::RESTORE_NOT_GUANXI,
            format!("{} is not a Guanxi database", file.display()),
            &[("file", shown(file))],
        )
    };
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
         AND name IN ('seaql_migrations', 'users', 'jobs')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| damaged(e.to_string()))?;
    if tables < 3 {
        return Err(not_guanxi());
    }
    let had: Vec<String> = sqlx::query_scalar("SELECT version FROM seaql_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|_| not_guanxi())?;
    let known: Vec<String> = migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    if let Some(newer) = had.iter().find(|m| !known.contains(m)) {
        return Err(refused(
            codes::RESTORE_NEWER_SCHEMA,
            format!(
                "{} was written by a newer Guanxi (migration {newer})",
                file.display()
            ),
            &[
                ("file", shown(file)),
                ("migration", Value::String(newer.clone())),
            ],
        ));
    }
    Ok(had)
}

/// Refuses a target that holds anything: a file that is not an empty database, or one with any
/// table in it.
async fn check_empty(target: &Path) -> CoreResult<()> {
    let not_empty = || {
        refused(
            codes::RESTORE_TARGET_NOT_EMPTY,
            format!("{} is not empty", target.display()),
            &[("target", shown(target))],
        )
    };
    match std::fs::metadata(target) {
        Err(_) => return Ok(()),
        Ok(m) if !m.is_file() => return Err(not_empty()),
        Ok(m) if m.len() == 0 => return Ok(()),
        Ok(_) => {}
    }
    let opts = SqliteConnectOptions::new()
        .filename(target)
        .read_only(true)
        .busy_timeout(Duration::from_secs(5));
    let Ok(mut conn) = SqliteConnection::connect_with(&opts).await else {
        return Err(not_empty());
    };
    let tables: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    match tables {
        Ok(0) => Ok(()),
        _ => Err(not_empty()),
    }
}
