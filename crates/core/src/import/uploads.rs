//! Imports started in the browser: the uploaded file kept in the database, the mappings people
//! save, the row errors a run keeps for its error file, and the runs people may see.
//!
//! # The file
//!
//! An upload is streamed into [`UploadWriter`] in chunks of [`CHUNK_BYTES`], each written in a
//! short transaction of its own, and refused past [`crate::Settings::import_max_bytes`]. It is
//! kept in the database rather than on one instance's disk, so that the import job may run on
//! any instance sharing the database. [`local_copy`] writes it to a temporary file of the
//! instance reading it (once; later reads reuse the copy) for [`super::Source`] to read. The
//! file goes two days after its upload when no import was started, a week after its run ended,
//! or when the user cancels ([`delete`], [`tidy`]).
//!
//! # Who sees what
//!
//! A file and its run are seen by the user who uploaded it and by administrators
//! ([`run_of`], [`list_runs`]); saved mappings are shared within the company, one name per
//! entity.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Order, Query};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ReadError;
use super::mapping::Mapping;
use super::run::{Counts, RowError};
use crate::authz::{Actor, Scope};
use crate::db::{self, col, get_i64, get_opt_ts, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, Params, codes};
use crate::records::def::EntityDef;
use crate::{Core, now};

/// How much of a file one row of `import_file_chunks` holds.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The largest upload unless settings say otherwise: 200 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 200 << 20;

/// How long a file no import was started from is kept.
const UNUSED_DAYS: i64 = 2;
/// How long a file is kept after its run ended (to look at its errors, to run it again).
pub const KEPT_DAYS: i64 = 7;

/// The longest name of a saved mapping.
const NAME_MAX: usize = 100;

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Uuid,
    pub entity: String,
    pub file_name: String,
    pub size: u64,
    pub fingerprint: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

fn may_import(actor: &Actor, def: &'static EntityDef) -> CoreResult<()> {
    if actor.grant(def.name).write == Scope::None {
        return Err(CoreError::forbidden_for(codes::ROLE_CANNOT_WRITE, def.name));
    }
    Ok(())
}

fn statement(e: sea_orm::sea_query::error::Error) -> CoreError {
    CoreError::Internal(format!("building a statement: {e}"))
}

/// An upload being written, chunk by chunk.
pub struct UploadWriter<'a> {
    core: &'a Core,
    id: Uuid,
    limit: u64,
    size: u64,
    seq: i64,
    buf: Vec<u8>,
    hash: Sha256,
}

impl<'a> UploadWriter<'a> {
    /// Starts keeping a file of `def`'s records uploaded by `actor`, who must be allowed to
    /// create them; at most `limit` bytes.
    pub async fn begin(
        core: &'a Core,
        actor: &Actor,
        def: &'static EntityDef,
        file_name: &str,
    ) -> CoreResult<UploadWriter<'a>> {
        may_import(actor, def)?;
        let id = Uuid::now_v7();
        let at = now();
        let name: String = file_name.chars().take(200).collect();
        let mut q = Query::insert();
        q.into_table(col("import_files"))
            .columns(
                [
                    "id",
                    "entity",
                    "file_name",
                    "size",
                    "fingerprint",
                    "created_by",
                    "created_at",
                    "expires_at",
                ]
                .map(col),
            )
            .values([
                id.into(),
                def.name.into(),
                name.into(),
                0i64.into(),
                "".into(),
                actor.user_id.into(),
                at.into(),
                (at + chrono::Duration::days(UNUSED_DAYS)).into(),
            ])
            .map_err(statement)?;
        let txn = core.db.begin().await?;
        db::insert(&txn, &q).await?;
        txn.commit().await?;
        Ok(UploadWriter {
            core,
            id,
            limit: core.settings.import_max_bytes,
            size: 0,
            seq: 0,
            buf: Vec::with_capacity(CHUNK_BYTES),
            hash: Sha256::new(),
        })
    }

    /// The bytes that follow. Past the limit the upload is refused ([`ReadError::FileTooLarge`])
    /// and what was kept of it removed.
    pub async fn push(&mut self, bytes: &[u8]) -> CoreResult<()> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            delete_file(self.core, self.id).await?;
            return Err(ReadError::FileTooLarge { limit: self.limit }.into());
        }
        self.hash.update(bytes);
        self.buf.extend_from_slice(bytes);
        while self.buf.len() >= CHUNK_BYTES {
            let rest = self.buf.split_off(CHUNK_BYTES);
            let chunk = std::mem::replace(&mut self.buf, rest);
            self.write_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn write_chunk(&mut self, chunk: Vec<u8>) -> CoreResult<()> {
        let mut q = Query::insert();
        q.into_table(col("import_file_chunks"))
            .columns(["file_id", "seq", "data"].map(col))
            .values([self.id.into(), self.seq.into(), chunk.into()])
            .map_err(statement)?;
        let txn = self.core.db.begin().await?;
        db::insert(&txn, &q).await?;
        txn.commit().await?;
        self.seq += 1;
        Ok(())
    }

    /// The whole file was received: an empty one is refused ([`ReadError::EmptyFile`]).
    pub async fn finish(mut self) -> CoreResult<Upload> {
        if self.size == 0 {
            delete_file(self.core, self.id).await?;
            return Err(ReadError::EmptyFile.into());
        }
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            self.write_chunk(chunk).await?;
        }
        let fingerprint: String = self
            .hash
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut q = Query::update();
        q.table(col("import_files"))
            .value(col("size"), i64::try_from(self.size).unwrap_or(i64::MAX))
            .value(col("fingerprint"), fingerprint)
            .and_where(Expr::col(col("id")).eq(self.id));
        let txn = self.core.db.begin().await?;
        db::update(&txn, &q).await?;
        txn.commit().await?;
        file(self.core, self.id).await
    }

    /// The upload was abandoned (the connection dropped): what was kept of it goes.
    pub async fn abort(self) -> CoreResult<()> {
        delete_file(self.core, self.id).await
    }
}

async fn file(core: &Core, id: Uuid) -> CoreResult<Upload> {
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "entity",
            "file_name",
            "size",
            "fingerprint",
            "created_by",
            "created_at",
        ]
        .map(col),
    )
    .from(col("import_files"))
    .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    Ok(Upload {
        id: get_uuid(&row, "id")?,
        entity: get_string(&row, "entity")?,
        file_name: get_string(&row, "file_name")?,
        size: u64::try_from(get_i64(&row, "size")?).unwrap_or(0),
        fingerprint: get_string(&row, "fingerprint")?,
        created_by: get_uuid(&row, "created_by")?,
        created_at: get_ts(&row, "created_at")?,
    })
}

/// The upload `id` of `def`'s records, for its uploader (or an administrator).
pub async fn upload(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
) -> CoreResult<Upload> {
    let u = file(core, id).await?;
    if u.entity != def.name || (u.created_by != actor.user_id && !actor.is_admin()) {
        return Err(CoreError::NotFound);
    }
    Ok(u)
}

/// The upload of a job: whoever queued it.
pub async fn upload_for_job(core: &Core, id: Uuid) -> CoreResult<Upload> {
    file(core, id).await
}

fn copy_path(id: Uuid) -> PathBuf {
    std::env::temp_dir().join(format!("guanxi-import-{}", id.simple()))
}

/// A copy of the upload on this instance's disk, to read: written from the database the first
/// time, one chunk at a time.
pub async fn local_copy(core: &Core, upload: &Upload) -> CoreResult<PathBuf> {
    let path = copy_path(upload.id);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == upload.size) {
        return Ok(path);
    }
    let part = path.with_extension(format!("part-{}", Uuid::now_v7().simple()));
    let io = |e: std::io::Error| CoreError::Internal(format!("copying an upload: {e}"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&part).map_err(io)?);
    let mut seq: i64 = 0;
    loop {
        let mut q = Query::select();
        q.column(col("data"))
            .from(col("import_file_chunks"))
            .and_where(Expr::col(col("file_id")).eq(upload.id))
            .and_where(Expr::col(col("seq")).eq(seq));
        let Some(row) = db::fetch_one(core.db.reader(), &q).await? else {
            break;
        };
        let data: Vec<u8> = row
            .try_get("", "data")
            .map_err(|e| CoreError::Internal(format!("reading an upload: {e}")))?;
        out.write_all(&data).map_err(io)?;
        seq += 1;
    }
    out.flush().map_err(io)?;
    drop(out);
    std::fs::rename(&part, &path).map_err(io)?;
    Ok(path)
}

async fn delete_file(core: &Core, id: Uuid) -> CoreResult<()> {
    let mut chunks = Query::delete();
    chunks
        .from_table(col("import_file_chunks"))
        .and_where(Expr::col(col("file_id")).eq(id));
    let mut q = Query::delete();
    q.from_table(col("import_files"))
        .and_where(Expr::col(col("id")).eq(id));
    let txn = core.db.begin().await?;
    db::delete(&txn, &chunks).await?;
    db::delete(&txn, &q).await?;
    txn.commit().await?;
    let _ = std::fs::remove_file(copy_path(id));
    Ok(())
}

/// Cancels an upload no import was started from: the file goes.
pub async fn delete(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
) -> CoreResult<()> {
    let u = upload(core, actor, def, id).await?;
    delete_file(core, u.id).await
}

/// Keeps the file for [`KEPT_DAYS`] from now: its run ended. This instance's copy of it goes
/// (a later run writes it again from the database): kept until the file expired, the copies of
/// every import stayed in the temporary directory, and on instances that never run the tidy-up,
/// for ever.
pub async fn keep_after_run(core: &Core, id: Uuid) -> CoreResult<()> {
    let _ = std::fs::remove_file(copy_path(id));
    let mut q = Query::update();
    q.table(col("import_files"))
        .value(col("expires_at"), now() + chrono::Duration::days(KEPT_DAYS))
        .and_where(Expr::col(col("id")).eq(id));
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the files whose time is up; returns how many.
pub async fn tidy(core: &Core) -> CoreResult<u64> {
    let mut q = Query::select();
    q.column(col("id"))
        .from(col("import_files"))
        .and_where(Expr::col(col("expires_at")).lt(now()))
        .limit(500);
    let mut gone = 0;
    for row in db::fetch_all(core.db.reader(), &q).await? {
        delete_file(core, get_uuid(&row, "id")?).await?;
        gone += 1;
    }
    Ok(gone)
}

// ---------------------------------------------------------------------------------------------
// Saved mappings.

/// A mapping saved under a name.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedMapping {
    pub id: Uuid,
    pub name: String,
    pub mapping: Mapping,
}

/// The mappings saved for `def`, by name.
pub async fn mappings(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
) -> CoreResult<Vec<SavedMapping>> {
    may_import(actor, def)?;
    let mut q = Query::select();
    q.columns(["id", "name", "mapping"].map(col))
        .from(col("import_mappings"))
        .and_where(Expr::col(col("entity")).eq(def.name))
        .order_by(col("name"), Order::Asc);
    let mut out = Vec::new();
    for row in db::fetch_all(core.db.reader(), &q).await? {
        let Ok(mapping) = Mapping::from_toml(&get_string(&row, "mapping")?) else {
            continue;
        };
        out.push(SavedMapping {
            id: get_uuid(&row, "id")?,
            name: get_string(&row, "name")?,
            mapping,
        });
    }
    Ok(out)
}

fn name_error(code: &'static str) -> CoreError {
    let mut errors = FieldErrors::new();
    errors.insert("name".into(), FieldError::new(code));
    CoreError::Validation(errors)
}

/// Saves `mapping` for `def` as `name`, which no other mapping of `def` has.
pub async fn save_mapping(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    name: &str,
    mapping: &Mapping,
) -> CoreResult<Uuid> {
    may_import(actor, def)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(name_error(codes::REQUIRED));
    }
    if name.chars().count() > NAME_MAX {
        let mut errors = FieldErrors::new();
        errors.insert(
            "name".into(),
            FieldError::new(codes::TOO_LONG).with("max", NAME_MAX),
        );
        return Err(CoreError::Validation(errors));
    }
    let mut taken = Query::select();
    taken
        .column(col("id"))
        .from(col("import_mappings"))
        .and_where(Expr::col(col("entity")).eq(def.name))
        .and_where(Expr::col(col("name")).eq(name));
    let txn = core.db.begin().await?;
    if db::fetch_one(&txn, &taken).await?.is_some() {
        return Err(name_error(codes::MAPPING_NAME_TAKEN));
    }
    let id = Uuid::now_v7();
    let mut stored = mapping.clone();
    stored.entity = Some(def.name.to_string());
    let mut q = Query::insert();
    q.into_table(col("import_mappings"))
        .columns(
            [
                "id",
                "entity",
                "name",
                "mapping",
                "created_by",
                "created_at",
            ]
            .map(col),
        )
        .values([
            id.into(),
            def.name.into(),
            name.into(),
            stored.to_toml().into(),
            actor.user_id.into(),
            now().into(),
        ])
        .map_err(statement)?;
    // Two people saving the same name at once: the unique index refuses the second.
    if db::insert(&txn, &q).await.is_err() {
        return Err(name_error(codes::MAPPING_NAME_TAKEN));
    }
    txn.commit().await?;
    Ok(id)
}

/// The headers a mapping names that the file lacks.
pub fn missing_headers(mapping: &Mapping, headers: &[String]) -> Vec<String> {
    let norm = |h: &str| super::mapping::normalize_header(h);
    let have: HashSet<String> = headers.iter().map(|h| norm(h)).collect();
    mapping
        .columns
        .iter()
        .filter(|c| !have.contains(&norm(&c.header)))
        .map(|c| c.header.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Row errors, kept for the error file.

/// A row's error as kept: what the error file says of it, in the reader's language.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredError {
    pub line: u64,
    pub column: String,
    pub code: String,
    pub params: Params,
    pub values: Vec<String>,
}

/// The param names errors use, as the `'static` keys [`Params`] takes: each distinct name
/// read back is kept once.
fn param_key(k: &str) -> &'static str {
    static KEYS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut keys = KEYS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = keys.get(k) {
        return found;
    }
    let leaked: &'static str = Box::leak(k.to_string().into_boxed_str());
    keys.insert(leaked);
    leaked
}

/// Removes a run's kept errors: an attempt starts again (the rows that failed are tried again
/// and report again).
pub async fn clear_errors(core: &Core, run_id: Uuid) -> CoreResult<()> {
    let mut q = Query::delete();
    q.from_table(col("import_errors"))
        .and_where(Expr::col(col("run_id")).eq(run_id));
    let txn = core.db.begin().await?;
    db::delete(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// Keeps row errors of a run; `seq` numbers a row's errors.
pub async fn store_errors(core: &Core, run_id: Uuid, errors: &[(u64, RowError)]) -> CoreResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let txn = core.db.begin().await?;
    for chunk in errors.chunks(200) {
        let mut q = Query::insert();
        q.into_table(col("import_errors")).columns(
            [
                "run_id",
                "line",
                "seq",
                "column_name",
                "code",
                "params",
                "row_values",
            ]
            .map(col),
        );
        for (seq, e) in chunk {
            let params: serde_json::Map<String, Value> = e
                .params
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect();
            q.values([
                run_id.into(),
                i64::try_from(e.line).unwrap_or(i64::MAX).into(),
                i64::try_from(*seq).unwrap_or(i64::MAX).into(),
                e.column.clone().into(),
                e.code.into(),
                Value::Object(params).to_string().into(),
                Value::from(e.values.clone()).to_string().into(),
            ])
            .map_err(statement)?;
        }
        q.on_conflict(
            sea_orm::sea_query::OnConflict::columns(["run_id", "line", "seq"].map(col))
                .do_nothing()
                .to_owned(),
        );
        db::insert(&txn, &q).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A page of a run's kept errors after `after` (line, seq), in the file's order.
pub async fn errors_page(
    core: &Core,
    run_id: Uuid,
    after: Option<(u64, u64)>,
    limit: u64,
) -> CoreResult<(Vec<StoredError>, Option<(u64, u64)>)> {
    let mut q = Query::select();
    q.columns(["line", "seq", "column_name", "code", "params", "row_values"].map(col))
        .from(col("import_errors"))
        .and_where(Expr::col(col("run_id")).eq(run_id))
        .order_by(col("line"), Order::Asc)
        .order_by(col("seq"), Order::Asc)
        .limit(limit);
    if let Some((line, seq)) = after {
        let (line, seq) = (
            i64::try_from(line).unwrap_or(i64::MAX),
            i64::try_from(seq).unwrap_or(i64::MAX),
        );
        q.cond_where(
            sea_orm::sea_query::Condition::any()
                .add(Expr::col(col("line")).gt(line))
                .add(
                    sea_orm::sea_query::Condition::all()
                        .add(Expr::col(col("line")).eq(line))
                        .add(Expr::col(col("seq")).gt(seq)),
                ),
        );
    }
    let mut out = Vec::new();
    let mut last = None;
    for row in db::fetch_all(core.db.reader(), &q).await? {
        let line = u64::try_from(get_i64(&row, "line")?).unwrap_or(0);
        let seq = u64::try_from(get_i64(&row, "seq")?).unwrap_or(0);
        last = Some((line, seq));
        let params =
            serde_json::from_str::<serde_json::Map<String, Value>>(&get_string(&row, "params")?)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (param_key(&k), v))
                .collect();
        let values = serde_json::from_str::<Vec<String>>(&get_string(&row, "row_values")?)
            .unwrap_or_default();
        out.push(StoredError {
            line,
            column: get_string(&row, "column_name")?,
            code: get_string(&row, "code")?,
            params,
            values,
        });
    }
    let more = out.len() as u64 == limit;
    Ok((out, if more { last } else { None }))
}

// ---------------------------------------------------------------------------------------------
// Runs, as people follow them.

/// A run as its page and the history show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    pub id: Uuid,
    pub entity: String,
    pub file_name: String,
    pub policy: String,
    /// queued, running, finished, stopped, failed
    pub status: String,
    pub created_by: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: Counts,
    /// The mapping it ran with (TOML): the headers of the error file.
    pub mapping: String,
    /// The rows of its file, once counted.
    pub total: Option<u64>,
    /// Someone asked it to stop ([`super::ledger::request_stop`]); a running run stops before
    /// its next batch.
    pub stop_requested: bool,
}

const RUN_COLUMNS: [&str; 16] = [
    "id",
    "entity",
    "file_name",
    "policy",
    "status",
    "created_by",
    "started_at",
    "finished_at",
    "rows_read",
    "created",
    "updated",
    "skipped",
    "failed",
    "already",
    "mapping",
    "stop_requested_at",
];

fn run_view(row: &sea_orm::QueryResult) -> CoreResult<RunView> {
    let n = |c: &str| get_i64(row, c).map(|v| u64::try_from(v).unwrap_or(0));
    Ok(RunView {
        id: get_uuid(row, "id")?,
        entity: get_string(row, "entity")?,
        file_name: get_string(row, "file_name")?,
        policy: get_string(row, "policy")?,
        status: get_string(row, "status")?,
        created_by: get_uuid(row, "created_by")?,
        started_at: get_ts(row, "started_at")?,
        finished_at: get_opt_ts(row, "finished_at")?,
        counts: Counts {
            read: n("rows_read")?,
            created: n("created")?,
            updated: n("updated")?,
            skipped: n("skipped")?,
            failed: n("failed")?,
            already: n("already")?,
            linked_created: 0,
        },
        mapping: get_string(row, "mapping")?,
        total: None,
        stop_requested: get_opt_ts(row, "stop_requested_at")?.is_some(),
    })
}

/// Run `id`, for the user who started it or an administrator.
pub async fn run_of(core: &Core, actor: &Actor, id: Uuid) -> CoreResult<RunView> {
    let mut q = Query::select();
    q.columns(RUN_COLUMNS.map(col))
        .from(col("import_runs"))
        .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    let mut run = run_view(&row)?;
    if run.created_by != actor.user_id && !actor.is_admin() {
        return Err(CoreError::NotFound);
    }
    run.total = rows_of(core, id).await?;
    Ok(run)
}

/// The runs `actor` may see, newest first: an administrator's all, anyone else's their own.
pub async fn list_runs(core: &Core, actor: &Actor, limit: u64) -> CoreResult<Vec<RunView>> {
    let mut q = Query::select();
    q.columns(RUN_COLUMNS.map(col))
        .from(col("import_runs"))
        .order_by(col("started_at"), Order::Desc)
        .order_by(col("id"), Order::Desc)
        .limit(limit);
    if !actor.is_admin() {
        q.and_where(Expr::col(col("created_by")).eq(actor.user_id));
    }
    db::fetch_all(core.db.reader(), &q)
        .await?
        .iter()
        .map(run_view)
        .collect()
}

/// Sets a run's status (a job that cannot go on says `failed`).
pub async fn set_status(core: &Core, id: Uuid, status: &str) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("status"), status)
        .value(col("finished_at"), now())
        .and_where(Expr::col(col("id")).eq(id));
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// How many rows the file of run `id` has, once its job counted them.
async fn rows_of(core: &Core, id: Uuid) -> CoreResult<Option<u64>> {
    let mut q = Query::select();
    q.column(col("rows"))
        .from(col("import_files"))
        .and_where(Expr::col(col("id")).eq(id));
    Ok(db::fetch_one(core.db.reader(), &q)
        .await?
        .and_then(|r| get_i64(&r, "rows").ok())
        .and_then(|n| u64::try_from(n).ok()))
}

/// Keeps how many rows the file of run `id` has, for its progress bar.
pub async fn set_rows(core: &Core, id: Uuid, rows: u64) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("import_files"))
        .value(col("rows"), i64::try_from(rows).unwrap_or(i64::MAX))
        .and_where(Expr::col(col("id")).eq(id));
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}
