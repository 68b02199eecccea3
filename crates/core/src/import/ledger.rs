//! The import's own records beside the rows it writes: the version each record had when a run
//! last wrote it and the records a run made for a row's reference by name (what an undo needs
//! to know whether someone changed a record since), the run's heartbeat, runs whose process is
//! gone, and the list of runs people see.
//!
//! # Interrupted runs
//!
//! A run touches its heartbeat (`import_runs.heartbeat_at`) with every batch it commits, in the
//! batch's transaction, beside its counts, so the counts of a run that dies are those of the
//! batches it committed. A batch takes well under a second; a `running` run whose heartbeat is
//! older than [`STALE_AFTER`] has no process writing it any more (killed, the machine stopped).
//! Such a run is marked `interrupted` when a run of the same file for the same entity starts
//! (which then imports the rows it did not), and lists as interrupted before that. A heartbeat,
//! rather than "a new run marks every older one", because two people may start the same file at
//! once: the older run is then still alive and must not be called interrupted.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, Order, Query};
use serde::Serialize;
use uuid::Uuid;

use crate::Core;
use crate::authz::Actor;
use crate::db::{self, col, get_i64, get_string};
use crate::error::{CoreError, CoreResult, codes};
use crate::identity::users;
use crate::records::def::EntityDef;

use super::run::Counts;

/// How long a `running` run (or an undo) may go without a heartbeat before it counts as
/// interrupted: far beyond a batch (at most a fraction of a second, or a few seconds waiting for
/// a busy writer).
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// Run statuses.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const FINISHED: &str = "finished";
    pub const STOPPED: &str = "stopped";
    pub const INTERRUPTED: &str = "interrupted";
    pub const UNDOING: &str = "undoing";
    pub const UNDONE: &str = "undone";
}

/// The instant before which a heartbeat is stale.
pub(crate) fn stale_before() -> DateTime<Utc> {
    let stale = chrono::Duration::from_std(STALE_AFTER).unwrap_or(chrono::Duration::MAX);
    crate::now() - stale
}

/// `heartbeat_at` (or, for a run from before heartbeats, `started_at`) is older than `cutoff`.
pub(crate) fn stale_condition(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Expr::col(col("heartbeat_at")).lt(cutoff))
        .add(
            Condition::all()
                .add(Expr::col(col("heartbeat_at")).is_null())
                .add(Expr::col(col("started_at")).lt(cutoff)),
        )
}

/// Marks the `running` runs of `def` on the file `fingerprint` whose heartbeat stopped as
/// `interrupted`; how many.
pub async fn mark_interrupted(core: &Core, def: &EntityDef, fingerprint: &str) -> CoreResult<u64> {
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("status"), status::INTERRUPTED)
        .value(col("finished_at"), crate::now())
        .and_where(Expr::col(col("entity")).eq(def.name))
        .and_where(Expr::col(col("fingerprint")).eq(fingerprint))
        .and_where(Expr::col(col("status")).eq(status::RUNNING))
        .cond_where(stale_condition(stale_before()));
    let txn = core.db.begin().await?;
    let n = db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(n)
}

/// The versions of `ids` of `def`, as `conn` sees them (deleted records too).
pub(crate) async fn versions<C: sea_orm::ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    ids: &[Uuid],
) -> CoreResult<HashMap<Uuid, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Query::select();
        q.columns(["id", "version"].map(col))
            .from(col(def.table))
            .and_where(Expr::col(col("id")).is_in(chunk.iter().copied()));
        for row in db::fetch_all(conn, &q).await? {
            out.insert(db::get_uuid(&row, "id")?, get_i64(&row, "version")?);
        }
    }
    Ok(out)
}

/// Keeps the records made for rows' references by name (`(entity, id, line)`), with their
/// versions now, as what run `run_id` made.
pub(crate) async fn remember_linked<C: sea_orm::ConnectionTrait>(
    conn: &C,
    run_id: Uuid,
    made: &[(&'static EntityDef, Uuid, u64)],
) -> CoreResult<()> {
    let mut by_entity: HashMap<&'static str, (&'static EntityDef, Vec<Uuid>)> = HashMap::new();
    for (def, id, _) in made {
        by_entity
            .entry(def.name)
            .or_insert_with(|| (def, Vec::new()))
            .1
            .push(*id);
    }
    let mut known = HashMap::new();
    for (def, ids) in by_entity.values() {
        known.extend(versions(conn, def, ids).await?);
    }
    for chunk in made.chunks(200) {
        let mut q = Query::insert();
        q.into_table(col("import_linked"))
            .columns(["run_id", "entity", "record_id", "line", "version"].map(col));
        for (def, id, line) in chunk {
            q.values([
                run_id.into(),
                def.name.into(),
                (*id).into(),
                i64::try_from(*line).unwrap_or(i64::MAX).into(),
                known.get(id).copied().unwrap_or(1).into(),
            ])
            .map_err(|e| CoreError::Internal(format!("building a statement: {e}")))?;
        }
        db::insert(conn, &q).await?;
    }
    Ok(())
}

/// A run as people see it in the list of imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub id: Uuid,
    pub entity: String,
    pub file_name: String,
    pub policy: String,
    /// `running`, `finished`, `stopped`, `interrupted`, `undoing` or `undone`; a run whose
    /// heartbeat stopped reads `interrupted` even before a new run of its file marks it so.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    /// The importing user's name.
    pub created_by_name: String,
    pub counts: Counts,
    pub undo: Option<UndoSummary>,
}

/// What the undo of a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoSummary {
    pub at: Option<DateTime<Utc>>,
    pub by: Option<Uuid>,
    pub by_name: String,
    pub removed: u64,
    pub restored: u64,
    pub skipped: u64,
}

const COLUMNS: [&str; 20] = [
    "id",
    "entity",
    "file_name",
    "policy",
    "status",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "created_by",
    "rows_read",
    "created",
    "updated",
    "skipped",
    "failed",
    "already",
    "undone_at",
    "undone_by",
    "removed",
    "restored",
    "undo_skipped",
];

fn summary(row: &sea_orm::QueryResult, names: &HashMap<Uuid, String>) -> CoreResult<RunSummary> {
    let n = |c: &str| get_i64(row, c).map(|v| u64::try_from(v).unwrap_or(0));
    let mut status = get_string(row, "status")?;
    let heartbeat = db::get_opt_ts(row, "heartbeat_at")?;
    let started_at = db::get_ts(row, "started_at")?;
    if (status == status::RUNNING || status == status::UNDOING)
        && heartbeat.unwrap_or(started_at) < stale_before()
    {
        // An undo that stopped half-way too: what it did stays done, and it can be run again.
        status = status::INTERRUPTED.to_string();
    }
    let created_by = db::get_uuid(row, "created_by")?;
    let undone_by = db::get_opt_uuid(row, "undone_by")?;
    let undone_at = db::get_opt_ts(row, "undone_at")?;
    let (removed, restored, undo_skipped) = (n("removed")?, n("restored")?, n("undo_skipped")?);
    let undo =
        (undone_at.is_some() || removed + restored + undo_skipped > 0).then(|| UndoSummary {
            at: undone_at,
            by: undone_by,
            by_name: undone_by
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_default(),
            removed,
            restored,
            skipped: undo_skipped,
        });
    Ok(RunSummary {
        id: db::get_uuid(row, "id")?,
        entity: get_string(row, "entity")?,
        file_name: get_string(row, "file_name")?,
        policy: get_string(row, "policy")?,
        status,
        started_at,
        finished_at: db::get_opt_ts(row, "finished_at")?,
        created_by,
        created_by_name: names.get(&created_by).cloned().unwrap_or_default(),
        counts: Counts {
            read: n("rows_read")?,
            created: n("created")?,
            updated: n("updated")?,
            skipped: n("skipped")?,
            failed: n("failed")?,
            already: n("already")?,
            linked_created: 0,
        },
        undo,
    })
}

async fn user_names(core: &Core) -> CoreResult<HashMap<Uuid, String>> {
    Ok(users::list(&core.db)
        .await?
        .iter()
        .map(|u| (u.id, u.name.clone()))
        .collect())
}

/// The runs `actor` may see, newest first, at most `limit`: an administrator's every run,
/// anyone else's their own.
pub async fn list(core: &Core, actor: &Actor, limit: u64) -> CoreResult<Vec<RunSummary>> {
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col("import_runs"))
        .order_by(col("started_at"), Order::Desc)
        .order_by(col("id"), Order::Desc)
        .limit(limit);
    if !actor.is_admin() {
        q.and_where(Expr::col(col("created_by")).eq(actor.user_id));
    }
    let names = user_names(core).await?;
    db::fetch_all(core.db.reader(), &q)
        .await?
        .iter()
        .map(|r| summary(r, &names))
        .collect()
}

/// One run, for `actor` (as [`list`]: another user's run is not found unless they are an
/// administrator).
pub async fn get(core: &Core, actor: &Actor, id: Uuid) -> CoreResult<RunSummary> {
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col("import_runs"))
        .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    let s = summary(&row, &user_names(core).await?)?;
    if !actor.is_admin() && s.created_by != actor.user_id {
        return Err(CoreError::NotFound);
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Stopping a run.

/// Asks run `id` to stop, as `actor`: the person who imported or an administrator
/// ([`codes::IMPORT_STOP_NOT_ALLOWED`]); a run no longer queued or running cannot be
/// ([`codes::IMPORT_NOT_RUNNING`], with its `status`). The flag is kept on the run's record, so
/// the run notices it before its next batch on whichever instance it runs; the batches it
/// wrote stay, and the run ends `stopped` (it can be undone as any other). A run whose process
/// is gone (its heartbeat stopped) is marked stopped at once, and its file kept as a finished
/// run's is. Returns the status the run has now (`stopped`, or still `running` until the job
/// notices).
pub async fn request_stop(core: &Core, actor: &Actor, id: Uuid) -> CoreResult<String> {
    let mut q = Query::select();
    q.columns(["status", "created_by", "heartbeat_at", "started_at"].map(col))
        .from(col("import_runs"))
        .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    let created_by = db::get_uuid(&row, "created_by")?;
    if created_by != actor.user_id && !actor.is_admin() {
        return Err(CoreError::forbidden(codes::IMPORT_STOP_NOT_ALLOWED));
    }
    let stored = get_string(&row, "status")?;
    let beat = db::get_opt_ts(&row, "heartbeat_at")?.unwrap_or(db::get_ts(&row, "started_at")?);
    let stale = stored == status::RUNNING && beat < stale_before();
    if !matches!(stored.as_str(), status::QUEUED | status::RUNNING) {
        return Err(not_running(&stored));
    }
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("stop_requested_at"), crate::now())
        .value(col("stop_requested_by"), actor.user_id)
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("status")).is_in([status::QUEUED, status::RUNNING]));
    if stale {
        q.value(col("status"), status::STOPPED)
            .value(col("finished_at"), crate::now())
            .cond_where(stale_condition(stale_before()));
    }
    let txn = core.db.begin().await?;
    let n = db::update(&txn, &q).await?;
    txn.commit().await?;
    if n == 0 {
        // It ended (or its process came back) between the look and the write.
        let mut q = Query::select();
        q.column(col("status"))
            .from(col("import_runs"))
            .and_where(Expr::col(col("id")).eq(id));
        let now = match db::fetch_one(core.db.reader(), &q).await? {
            Some(r) => get_string(&r, "status")?,
            None => return Err(CoreError::NotFound),
        };
        return Err(not_running(&now));
    }
    if stale {
        super::uploads::keep_after_run(core, id).await?;
        return Ok(status::STOPPED.to_string());
    }
    Ok(stored)
}

fn not_running(status: &str) -> CoreError {
    let mut params = crate::error::Params::new();
    params.insert("status", serde_json::Value::String(status.to_string()));
    CoreError::Conflict {
        code: codes::IMPORT_NOT_RUNNING,
        message: format!("the import is {status}, not running"),
        params,
    }
}

/// Whether someone asked run `id` to stop (read before each batch of the run).
pub async fn stop_requested(core: &Core, id: Uuid) -> CoreResult<bool> {
    let mut q = Query::select();
    q.column(col("stop_requested_at"))
        .from(col("import_runs"))
        .and_where(Expr::col(col("id")).eq(id));
    Ok(match db::fetch_one(core.db.reader(), &q).await? {
        Some(row) => db::get_opt_ts(&row, "stop_requested_at")?.is_some(),
        None => false,
    })
}
