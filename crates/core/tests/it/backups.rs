//! Scheduled backups as the job runner runs them: a dated copy in the configured directory, the
//! newest fourteen kept and nothing else touched; a failure told to every administrator. And the
//! PostgreSQL answer, which names `pg_dump`.

use std::path::PathBuf;

use guanxi_core::backups::{BackupSchedule, FAILED_NOTICE, KIND};
use guanxi_core::db::Backend;
use guanxi_core::db::backup::{Existing, check_backup};
use guanxi_core::identity::users;
use guanxi_core::jobs::runner::Runner;
use guanxi_core::jobs::{self, Handlers, JobState};
use guanxi_core::{CoreError, Db, codes, notifications};

use crate::support::{Fresh, admin, backends, sales_rep};

/// A directory of its own for one test, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        let d =
            std::env::temp_dir().join(format!("guanxi-backups-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn names(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn schedule(dir: PathBuf, keep: usize) -> BackupSchedule {
    BackupSchedule {
        dir,
        every_hours: 24,
        keep,
    }
}

#[tokio::test]
async fn a_scheduled_backup_writes_a_dated_copy_and_keeps_the_newest_fourteen() {
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core().await;
    admin(&core, "boss@example.com").await;
    let dir = Dir::new();
    let into = dir.0.join("nightly");
    std::fs::create_dir_all(&into).unwrap();
    // Sixteen earlier backups, and files of the operator's that are not the job's.
    for day in 1..=16 {
        std::fs::write(into.join(format!("guanxi-202601{day:02}-180000.db")), "old").unwrap();
    }
    for other in ["README.txt", "guanxi-before-upgrade.db"] {
        std::fs::write(into.join(other), "mine").unwrap();
    }
    // Copies cut off by a stopped process: one two days old, one that may still be running.
    for (name, age_hours) in [
        (".guanxi-20260101-180000.db.partial-0193", 48),
        (".guanxi-20260116-180000.db.partial-0194", 1),
    ] {
        let f = std::fs::File::create(into.join(name)).unwrap();
        f.set_modified(
            std::time::SystemTime::now() - std::time::Duration::from_secs(age_hours * 3600),
        )
        .unwrap();
    }

    let runner = Runner::new(
        core.clone(),
        schedule(into.clone(), 14).register(Handlers::default()),
    );
    let pass = runner.run_due().await.unwrap();
    assert_eq!((pass.done, pass.failed), (1, 0));

    let names = dir.names("nightly");
    let scheduled: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("guanxi-20"))
        .collect();
    assert_eq!(scheduled.len(), 14, "{names:?}");
    assert!(names.contains(&"README.txt".to_string()));
    assert!(names.contains(&"guanxi-before-upgrade.db".to_string()));
    // The three oldest went; the new one is the newest.
    for gone in 1..=3 {
        assert!(!names.contains(&format!("guanxi-202601{gone:02}-180000.db")));
    }
    assert!(names.contains(&"guanxi-20260104-180000.db".to_string()));
    let newest = into.join(scheduled.last().unwrap());
    assert!(!newest.ends_with("guanxi-20260116-180000.db"));
    // The job's own copy left no temporary file; of the earlier ones, only the stale one went.
    let hidden: Vec<&String> = names.iter().filter(|n| n.starts_with('.')).collect();
    assert_eq!(
        hidden,
        [".guanxi-20260116-180000.db.partial-0194"],
        "{names:?}"
    );

    // The copy is a Guanxi database with the data in it.
    check_backup(&newest).await.unwrap();
    let copy = Db::connect(newest.to_str().unwrap()).await.unwrap();
    assert!(
        users::find_by_email(&copy, "boss@example.com")
            .await
            .unwrap()
            .is_some()
    );
    copy.close().await.unwrap();

    // The job's outcome names the file and what went.
    let rows = guanxi_core::db::raw_query(
        core.db.reader(),
        "SELECT result FROM jobs WHERE kind = 'backup' AND state = 'done'",
        vec![],
    )
    .await
    .unwrap();
    let result = guanxi_core::db::get_json(&rows[0], "result")
        .unwrap()
        .to_string();
    assert!(result.contains("guanxi-20260101-180000.db"), "{result}");
    fresh.cleanup(core).await;
}

#[tokio::test]
async fn a_failed_scheduled_backup_tells_every_administrator_and_removes_nothing() {
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core().await;
    let boss = admin(&core, "boss@example.com").await;
    let deputy = admin(&core, "deputy@example.com").await;
    let team = guanxi_core::identity::teams::create(&core.db, Some(&boss), "North")
        .await
        .unwrap()
        .id;
    let rep = sales_rep(&core, &boss, "rep@example.com", team).await;
    let dir = Dir::new();
    // The configured directory cannot be made: a file holds its place.
    std::fs::write(dir.0.join("blocked"), "a file").unwrap();
    let runner = Runner::new(
        core.clone(),
        schedule(dir.0.join("blocked").join("nightly"), 14).register(Handlers::default()),
    );
    let pass = runner.run_due().await.unwrap();
    assert_eq!((pass.done, pass.failed), (0, 1));

    for who in [&boss, &deputy] {
        let notes = notifications::list(&core, who, false, 10, None)
            .await
            .unwrap();
        let note = notes.iter().find(|n| n.kind == FAILED_NOTICE).unwrap();
        assert!(
            note.params["dir"].as_str().unwrap().ends_with("nightly"),
            "{note:?}"
        );
        assert_eq!(note.params["reason"], "directory", "{note:?}");
        assert!(!note.params["detail"].as_str().unwrap().is_empty());
    }
    let rep = users::actor_for(&core, &users::get(core.db.reader(), rep).await.unwrap())
        .await
        .unwrap();
    let notes = notifications::list(&core, &rep, false, 10, None)
        .await
        .unwrap();
    assert!(notes.iter().all(|n| n.kind != FAILED_NOTICE));
    // The failed job stays for an administrator to retry.
    let failed = jobs::list(&core, None, Some(JobState::Failed), 10)
        .await
        .unwrap();
    assert!(failed.iter().any(|j| j.kind == KIND));
    assert_eq!(dir.names(""), ["blocked"]);
    fresh.cleanup(core).await;
}

#[tokio::test]
async fn a_backup_on_postgres_names_pg_dump() {
    for backend in backends() {
        if backend == Backend::Sqlite {
            continue;
        }
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let err = core
            .db
            .backup_to(std::path::Path::new("never.db"), Existing::Refuse)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::BadRequest { code, .. } if code == codes::BACKUP_ON_POSTGRES)
        );
        assert!(!std::path::Path::new("never.db").exists());
        fresh.cleanup(core).await;
    }
}
