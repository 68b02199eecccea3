//! Stopping an import that runs, on both backends: the flag set on the run's record is read
//! before each batch, the batches written stay, the run says `stopped` with its counts and can
//! be undone; who may stop it, and a run that ended cannot be stopped.

use std::io::Cursor;

use guanxi_core::areas::customers::CONTACTS;
use guanxi_core::import::ledger;
use guanxi_core::import::mapping::{Mapping, Targets, suggest};
use guanxi_core::import::run::{self, Counts, Policy, RowError, RunOptions, Sink};
use guanxi_core::import::undo::undo;
use guanxi_core::import::{ReadOptions, Source};
use guanxi_core::{Actor, Core, CoreError, codes};
use uuid::Uuid;

use crate::import_run::{count, import};
use crate::support::{Fresh, actor, admin, backends, two_teams};

/// Asks the run to stop once its first batch is written, as a person would from its page
/// while it runs (another task, another instance: the flag is in the database).
struct StopAfterFirstBatch {
    core: Core,
    actor: Actor,
    run_id: Uuid,
    asked: bool,
    seen: Vec<Counts>,
}

impl Sink for StopAfterFirstBatch {
    fn error(&mut self, _error: RowError) {}

    fn progress(&mut self, counts: &Counts) {
        self.seen.push(counts.clone());
        if self.asked {
            return;
        }
        self.asked = true;
        let (core, actor, id) = (self.core.clone(), self.actor.clone(), self.run_id);
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                let now = ledger::request_stop(&core, &actor, id).await.unwrap();
                assert_eq!(now, "running");
            })
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_keeps_its_written_batches_and_can_be_undone() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let mut file = String::from("姓名,电子邮箱\n");
        for i in 0..600 {
            file.push_str(&format!("联系人{i},c{i}@example.com\n"));
        }
        let mut source = Source::open(
            Cursor::new(file.clone().into_bytes()),
            &ReadOptions::default(),
        )
        .unwrap();
        let targets = Targets::of(&CONTACTS, &[]);
        let mapping: Mapping = suggest(&targets, source.headers(), &()).mapping();
        let plan = mapping.resolve(&targets, source.headers()).unwrap();
        let run_id = Uuid::now_v7();
        let options = RunOptions {
            policy: Policy::Skip,
            dry_run: false,
            file_name: "大文件.csv".into(),
            fingerprint: run::fingerprint(file.as_bytes()).unwrap(),
            mapping: mapping.to_toml(),
            stop_after: None,
            run_id: Some(run_id),
            create_missing: false,
        };
        let mut sink = StopAfterFirstBatch {
            core: core.clone(),
            actor: boss.clone(),
            run_id,
            asked: false,
            seen: Vec::new(),
        };
        let report = run::run(
            &core,
            &boss,
            &CONTACTS,
            &mut source,
            &plan,
            &options,
            &mut sink,
        )
        .await
        .unwrap();
        // One batch was written, then the run noticed the flag and stopped before the next.
        assert!(report.stopped, "{backend:?}: {report:?}");
        assert_eq!(sink.seen.len(), 1, "{backend:?}: {:?}", sink.seen);
        let written = report.counts.created;
        assert!(written > 0 && written < 600, "{backend:?}: {report:?}");
        assert_eq!(
            count(&core, "contacts").await,
            written as i64,
            "{backend:?}"
        );
        let run = ledger::get(&core, &boss, run_id).await.unwrap();
        assert_eq!(run.status, "stopped", "{backend:?}");
        assert_eq!(run.counts.created, written, "{backend:?}");
        assert!(run.finished_at.is_some());
        // Stopping it again: it no longer runs.
        match ledger::request_stop(&core, &boss, run_id).await {
            Err(CoreError::Conflict { code, .. }) => assert_eq!(code, codes::IMPORT_NOT_RUNNING),
            other => panic!("{backend:?}: {other:?}"),
        }
        // The stopped run is undone as any other.
        let done = undo(&core, &boss, run_id).await.unwrap();
        assert_eq!(done.removed, written, "{backend:?}: {done:?}");
        assert_eq!(count(&core, "contacts").await, 0, "{backend:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn only_the_importer_and_administrators_may_stop_a_run() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let rep = actor(&core, "rep@example.com").await;
        let mate = actor(&core, "mate@example.com").await;
        // A run as the wizard queues it, not yet taken up by a job.
        let (report, _) = import(&core, &rep, &CONTACTS, "姓名\n王五\n", Policy::Skip).await;
        let finished = report.run_id.unwrap();
        let queued = Uuid::now_v7();
        let options = RunOptions {
            policy: Policy::Skip,
            dry_run: false,
            file_name: "b.csv".into(),
            fingerprint: "f".repeat(64),
            mapping: String::new(),
            stop_after: None,
            run_id: None,
            create_missing: false,
        };
        let txn = core.db.begin().await.unwrap();
        run::queue_run(&txn, &rep, &CONTACTS, &options, queued)
            .await
            .unwrap();
        txn.commit().await.unwrap();

        match ledger::request_stop(&core, &mate, queued).await {
            Err(CoreError::Forbidden { code, .. }) => {
                assert_eq!(code, codes::IMPORT_STOP_NOT_ALLOWED)
            }
            other => panic!("{backend:?}: {other:?}"),
        }
        assert!(matches!(
            ledger::request_stop(&core, &boss, Uuid::now_v7()).await,
            Err(CoreError::NotFound)
        ));
        match ledger::request_stop(&core, &rep, finished).await {
            Err(CoreError::Conflict { code, .. }) => assert_eq!(code, codes::IMPORT_NOT_RUNNING),
            other => panic!("{backend:?}: {other:?}"),
        }
        // The administrator may; the run is asked to stop and still queued until its job sees it.
        assert_eq!(
            ledger::request_stop(&core, &boss, queued).await.unwrap(),
            "queued"
        );
        assert!(ledger::stop_requested(&core, queued).await.unwrap());
        assert!(!ledger::stop_requested(&core, finished).await.unwrap());
        fresh.cleanup(core).await;
    }
}
