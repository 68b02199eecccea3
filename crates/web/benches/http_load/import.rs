//! `GUANXI_BENCH_IMPORT=FILE`: a contacts import of FILE (match `fill`, the suggested mapping,
//! as an administrator of its own) runs beside the server while the clients create records, as
//! an import job does in `guanxi serve` (issue 12's target: a 1,000,000-row import while 16
//! clients creating records keep p99 under 100 ms).
//!
//! The import starts as the first measured create run starts, and that run's rounds repeat
//! until the import ends, so that every create it reports was made while the import wrote. The
//! import goes through the engine's import (`import::run::run`), the path an import job takes
//! once its upload is on the instance's disk. Afterwards the bench prints the import's rows, its
//! time and rows per second, and its longest batch (how long it held SQLite's one writer).
//!
//! `GUANXI_BENCH_IMPORT_SECONDS=N` stops the import after N seconds, as a person stops one from
//! its page (the batches written stay): for a backend on which the whole file would take hours
//! beside the clients. The rows per second are then those of the part imported.
//!
//! A file imported once is recognised by its fingerprint and its imported lines are passed over
//! the next time: give each run a fresh copy of the database, or read the rows per second of the
//! rest.

use std::path::PathBuf;
use std::time::Instant;

use guanxi_core::Core;
use guanxi_core::identity::auth;
use guanxi_core::import::mapping::{Targets, suggest};
use guanxi_core::import::run::{self, Policy, Report, RowError, RunOptions};
use guanxi_core::import::{FileKind, ReadOptions, Source, ledger};
use guanxi_web::i18n::EveryLanguage;
use tokio::task::JoinHandle;

/// The file to import beside the create runs, if any.
pub fn wanted() -> Option<PathBuf> {
    std::env::var_os("GUANXI_BENCH_IMPORT").map(PathBuf::from)
}

/// An import running on the server's runtime.
pub struct Running {
    file: PathBuf,
    started: Instant,
    task: JoinHandle<(Report, Vec<RowError>)>,
}

impl Running {
    pub fn finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the end and prints what the import did.
    pub async fn report(self) {
        let (report, errors) = self.task.await.unwrap();
        let secs = self.started.elapsed().as_secs_f64();
        let c = &report.counts;
        println!(
            "import of {}: {} rows read in {secs:.1} s ({:.0} rows/s, those imported before \
             left out): {} created, {} updated, \
             {} skipped, {} failed ({} row errors), {} records made for references; \
             {} batches, the longest holding the writer {:.0} ms, {} written again row by row",
            self.file.display(),
            c.read,
            (c.read - c.already) as f64 / secs.max(f64::EPSILON),
            c.created,
            c.updated,
            c.skipped,
            c.failed,
            errors.len(),
            c.linked_created,
            report.batches,
            report.longest_batch.as_secs_f64() * 1000.0,
            report.retried,
        );
        if report.stopped {
            println!(
                "  stopped by request (GUANXI_BENCH_IMPORT_SECONDS): the figures are those of \
                 the part imported"
            );
        }
        if c.already > 0 {
            println!(
                "  {} rows were imported by an earlier run of the same file and passed over: \
                 run the bench on a fresh copy of the database",
                c.already
            );
        }
    }
}

/// Starts the import of `file` on `server` as a new administrator.
pub async fn start(server: &tokio::runtime::Handle, core: &Core, file: PathBuf) -> Running {
    let (_, token) = crate::admin::admin(core, "bench.import", None).await;
    let actor = auth::token_actor(core, &token).await.unwrap();
    let def = core.registry.find("contacts").unwrap();
    let name = file.display().to_string();
    let fingerprint = run::fingerprint(std::fs::File::open(&file).unwrap()).unwrap();
    let read = ReadOptions {
        kind: FileKind::from_name(&name),
        ..ReadOptions::default()
    };
    let mut source = Source::open(
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        &read,
    )
    .unwrap_or_else(|e| panic!("{name}: {}", e.code()));
    let custom = core.records(def).custom_defs().await.unwrap();
    let targets = Targets::of(def, &custom);
    let mapping = suggest(&targets, source.headers(), &EveryLanguage::default()).mapping();
    let plan = mapping
        .resolve(&targets, source.headers())
        .unwrap_or_else(|_| panic!("{name}: the suggested mapping does not fit the file"))
        .reading_labels(def, &custom, &EveryLanguage::default());
    let mut options = RunOptions {
        policy: Policy::Fill,
        dry_run: false,
        file_name: name,
        fingerprint,
        mapping: mapping.to_toml(),
        stop_after: None,
        run_id: None,
        create_missing: false,
    };
    // The run's record made beforehand, as a queued job's is, so that it can be stopped by id.
    let run_id = uuid::Uuid::now_v7();
    let txn = core.db.begin().await.unwrap();
    run::queue_run(&txn, &actor, def, &options, run_id)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    options.run_id = Some(run_id);
    if let Some(secs) = std::env::var("GUANXI_BENCH_IMPORT_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let (core, actor) = (core.clone(), actor.clone());
        server.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            let _ = ledger::request_stop(&core, &actor, run_id).await;
        });
    }
    let core = core.clone();
    let started = Instant::now();
    let task = server.spawn(async move {
        let mut errors: Vec<RowError> = Vec::new();
        let report = run::run(
            &core,
            &actor,
            def,
            &mut source,
            &plan,
            &options,
            &mut errors,
        )
        .await
        .unwrap();
        (report, errors)
    });
    Running {
        file,
        started,
        task,
    }
}
