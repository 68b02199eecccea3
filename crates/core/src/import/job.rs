//! The import job: a file uploaded in the browser ([`super::uploads`]) imported by the job
//! runner on whichever instance claims it, through [`super::run::run`], with the run's record
//! made as the job was queued ([`queue`]) so that people follow its progress.
//!
//! A job that dies half-way (the server killed) is claimed again once its lease runs out; the
//! attempt after it passes over every row already imported (the runner's re-run logic) and
//! imports the rest. The rows that failed report again, so a run's kept errors are cleared as
//! an attempt starts. When the run ends, its user is notified (`import_done`) and the file is
//! kept a week more ([`super::uploads::KEPT_DAYS`]).

use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::mapping::{Mapping, Targets};
use super::run::{self, Counts, Policy, RowError, RunOptions, Sink};
use super::uploads::{self, Upload};
use super::{FileKind, ReadOptions, Source};
use crate::Core;
use crate::authz::Actor;
use crate::error::{CoreError, CoreResult};
use crate::identity::users;
use crate::jobs::{self, JobError, JobHandler, NewJob};
use crate::notifications::{self, Notice};
use crate::records::def::EntityDef;

/// The kind of the import job.
pub const KIND: &str = "import";

/// The notice its user gets when a run ends.
pub const DONE_NOTICE: &str = "import_done";

/// The notice its user gets when a run was stopped by a person.
pub const STOPPED_NOTICE: &str = "import_stopped";

/// An import is tried this many times (a server killed mid-way, a database that went away).
const ATTEMPTS: i64 = 5;

/// What people chose for a run in the wizard.
#[derive(Debug, Clone)]
pub struct Choice {
    pub policy: Policy,
    pub mapping: Mapping,
    /// The worksheet of a workbook.
    pub sheet: Option<String>,
}

/// Opens an upload as a [`Source`] on this instance (see [`uploads::local_copy`]).
pub async fn open(core: &Core, upload: &Upload, sheet: Option<String>) -> CoreResult<Source> {
    let path = uploads::local_copy(core, upload).await?;
    let file = std::fs::File::open(&path)
        .map_err(|e| CoreError::Internal(format!("opening an upload: {e}")))?;
    let options = ReadOptions {
        kind: FileKind::from_name(&upload.file_name),
        sheet,
        ..ReadOptions::default()
    };
    Ok(Source::open(std::io::BufReader::new(file), &options)?)
}

/// The worksheets of an uploaded workbook (none for a text file).
pub async fn sheets(core: &Core, upload: &Upload) -> CoreResult<Vec<String>> {
    let kind = match FileKind::from_name(&upload.file_name) {
        Some(k @ (FileKind::Xlsx | FileKind::Xls)) => k,
        _ => return Ok(Vec::new()),
    };
    let path = uploads::local_copy(core, upload).await?;
    let file = std::fs::File::open(&path)
        .map_err(|e| CoreError::Internal(format!("opening an upload: {e}")))?;
    Ok(super::source::sheet_names(file, kind)?)
}

/// The options of a run of `upload` with `choice`.
pub fn options(upload: &Upload, choice: &Choice, dry_run: bool) -> RunOptions {
    RunOptions {
        policy: choice.policy,
        dry_run,
        file_name: upload.file_name.clone(),
        fingerprint: upload.fingerprint.clone(),
        mapping: choice.mapping.to_toml(),
        stop_after: None,
        run_id: None,
        create_missing: false,
    }
}

/// Queues the import of `upload`: the run's record (queued, with the upload's id) and its job,
/// in one transaction. Returns the run's id.
pub async fn queue(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    upload: &Upload,
    choice: &Choice,
) -> CoreResult<Uuid> {
    let id = upload.id;
    let txn = core.db.begin().await?;
    run::queue_run(&txn, actor, def, &options(upload, choice, false), id).await?;
    let job = NewJob::new(KIND, json!({ "run": id, "sheet": choice.sheet }))
        .attempts(ATTEMPTS)
        .key(format!("{KIND}:{id}"));
    jobs::enqueue(&txn, job).await?;
    txn.commit().await?;
    Ok(id)
}

/// Keeps a run's row errors as they come, on a task of its own.
struct KeptErrors {
    tx: mpsc::UnboundedSender<(u64, RowError)>,
    last_line: u64,
    seq: u64,
}

impl Sink for KeptErrors {
    fn error(&mut self, error: RowError) {
        if error.line == self.last_line {
            self.seq += 1;
        } else {
            self.last_line = error.line;
            self.seq = 0;
        }
        let _ = self.tx.send((self.seq, error));
    }
}

fn retry(e: CoreError) -> JobError {
    JobError::Retry(e.to_string())
}

/// Runs the jobs of [`KIND`]. An uploaded file may be an export for people, in either
/// language: `labels` are what its words are read back with, given by whoever words them.
pub struct ImportJob {
    pub labels: std::sync::Arc<dyn super::mapping::Labels + Send + Sync>,
}

#[async_trait::async_trait]
impl JobHandler for ImportJob {
    async fn run(&self, core: &Core, payload: &Value) -> Result<Value, JobError> {
        let id = payload
            .get("run")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| JobError::Fatal("the payload names no run".into()))?;
        let sheet = payload
            .get("sheet")
            .and_then(Value::as_str)
            .map(str::to_string);
        import(core, id, sheet, self.labels.as_ref()).await
    }
}

async fn import(
    core: &Core,
    id: Uuid,
    sheet: Option<String>,
    labels: &(dyn super::mapping::Labels + Send + Sync),
) -> Result<Value, JobError> {
    let mut q = sea_orm::sea_query::Query::select();
    q.columns(["entity", "status", "created_by", "mapping", "policy"].map(crate::db::col))
        .from(crate::db::col("import_runs"))
        .and_where(sea_orm::sea_query::Expr::col(crate::db::col("id")).eq(id));
    let Some(row) = crate::db::fetch_one(core.db.reader(), &q)
        .await
        .map_err(retry)?
    else {
        return Err(JobError::Fatal("the run is gone".into()));
    };
    let get = |c: &str| crate::db::get_string(&row, c).map_err(retry);
    let status = get("status")?;
    if matches!(status.as_str(), "finished" | "failed") {
        return Ok(json!({ "status": status }));
    }
    let fail = |why: String| async move {
        let _ = uploads::set_status(core, id, "failed").await;
        JobError::Fatal(why)
    };
    let Some(def) = core.registry.by_name(&get("entity")?) else {
        return Err(fail("no such entity".into()).await);
    };
    let user_id = crate::db::get_uuid(&row, "created_by").map_err(retry)?;
    let user = users::get(core.db.reader(), user_id).await.map_err(retry)?;
    if user.disabled {
        return Err(fail("the user is disabled".into()).await);
    }
    let actor = users::actor_for(core, &user).await.map_err(retry)?;
    let upload = match uploads::upload_for_job(core, id).await {
        Ok(u) => u,
        Err(CoreError::NotFound) => return Err(fail("the file is gone".into()).await),
        Err(e) => return Err(retry(e)),
    };
    let mapping = match Mapping::from_toml(&get("mapping")?) {
        Ok(m) => m,
        Err(e) => return Err(fail(e.to_string()).await),
    };
    let policy = Policy::parse(&get("policy")?).unwrap_or(Policy::Skip);
    // Stopped before this attempt began (queued, or between attempts): what was written stays,
    // and so do the errors kept.
    if super::ledger::stop_requested(core, id)
        .await
        .map_err(retry)?
    {
        if status != super::ledger::status::STOPPED {
            uploads::set_status(core, id, super::ledger::status::STOPPED)
                .await
                .map_err(retry)?;
        }
        let run = uploads::run_of(core, &actor, id).await.map_err(retry)?;
        uploads::keep_after_run(core, id).await.map_err(retry)?;
        if status != super::ledger::status::STOPPED {
            notify_done(core, &actor, def, id, &run.counts, &upload.file_name, true)
                .await
                .map_err(retry)?;
        }
        return Ok(json!({ "run": id, "counts": run.counts, "stopped": true }));
    }
    // Count the rows first, for the progress bar.
    let mut counting = match open(core, &upload, sheet.clone()).await {
        Ok(s) => s,
        Err(CoreError::BadRequest { message, .. }) => return Err(fail(message).await),
        Err(e) => return Err(retry(e)),
    };
    let total = counting.by_ref().count() as u64;
    uploads::set_rows(core, id, total).await.map_err(retry)?;
    let mut source = open(core, &upload, sheet.clone()).await.map_err(retry)?;
    let custom = core.records(def).custom_defs().await.map_err(retry)?;
    let targets = Targets::of(def, &custom);
    let plan = match mapping.resolve(&targets, source.headers()) {
        Ok(p) => p.reading_labels(def, &custom, labels),
        Err(e) => {
            let why = e.first().map(|e| e.to_string()).unwrap_or_default();
            return Err(fail(why).await);
        }
    };
    uploads::clear_errors(core, id).await.map_err(retry)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, RowError)>();
    let writer_core = core.clone();
    let writer = tokio::spawn(async move {
        let mut batch = Vec::new();
        let mut result = Ok(());
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < 500 {
                match rx.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => break,
                }
            }
            if let Err(e) = uploads::store_errors(&writer_core, id, &batch).await {
                result = Err(e);
            }
            batch.clear();
        }
        result
    });
    let mut sink = KeptErrors {
        tx,
        last_line: 0,
        seq: 0,
    };
    let choice = Choice {
        policy,
        mapping,
        sheet,
    };
    let mut run_options = options(&upload, &choice, false);
    run_options.run_id = Some(id);
    let outcome = run::run(
        core,
        &actor,
        def,
        &mut source,
        &plan,
        &run_options,
        &mut sink,
    )
    .await;
    drop(sink);
    let kept = writer
        .await
        .map_err(|e| JobError::Retry(format!("keeping row errors: {e}")))?;
    let report = match outcome {
        Ok(r) => r,
        // A file the reader gave up on part-way: the run says `stopped`.
        Err(e @ CoreError::BadRequest { .. }) => {
            let run = uploads::run_of(core, &actor, id).await.map_err(retry)?;
            notify_done(core, &actor, def, id, &run.counts, &upload.file_name, false)
                .await
                .map_err(retry)?;
            uploads::keep_after_run(core, id).await.map_err(retry)?;
            return Err(JobError::Fatal(e.to_string()));
        }
        Err(e) => return Err(retry(e)),
    };
    kept.map_err(retry)?;
    uploads::keep_after_run(core, id).await.map_err(retry)?;
    notify_done(
        core,
        &actor,
        def,
        id,
        &report.counts,
        &upload.file_name,
        report.stopped,
    )
    .await
    .map_err(retry)?;
    Ok(json!({ "run": id, "counts": report.counts, "stopped": report.stopped }))
}

async fn notify_done(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
    c: &Counts,
    file: &str,
    stopped: bool,
) -> CoreResult<()> {
    let txn = core.db.begin().await?;
    notifications::notify(
        core,
        &txn,
        Notice {
            user_id: actor.user_id,
            kind: if stopped { STOPPED_NOTICE } else { DONE_NOTICE },
            params: json!({
                "file": file,
                "entity": def.name,
                "created": c.created,
                "updated": c.updated,
                "skipped": c.skipped,
                "failed": c.failed,
                "href": format!("/imports/{id}"),
            }),
            about: None,
            visible_at: crate::now(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
