//! `guanxi backup` and `guanxi restore`, run as an operator runs them: a backup taken while
//! writers create records restores to a database holding every record created before it began,
//! which opens and serves; a restore refuses a target that holds data and a file that is not a
//! Guanxi database, and writes nothing then; a clean stop of `guanxi serve` leaves no
//! write-ahead log behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::identity::{NewUser, users};
use guanxi_core::records::service::{Count, ListQuery};
use guanxi_core::{Actor, Core, Db, Settings, db};
use serde_json::json;
use sqlx::Connection;
use uuid::Uuid;

use crate::support::{FreshDb, fails, guanxi, ok};

async fn admin(core: &Core) -> Actor {
    let user = users::create(
        &core.db,
        None,
        NewUser {
            email: "boss@example.com".into(),
            name: "王芳".into(),
            role: "admin".into(),
            team_id: None,
            password: "correct horse battery".into(),
            locale: Some("zh-CN".into()),
        },
    )
    .await
    .unwrap();
    users::actor_for(core, &user).await.unwrap()
}

fn size_of(path: &std::path::Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn wal_of(db: &FreshDb) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}-wal", db.path()))
}

/// Four writers create accounts without pause; `guanxi backup` runs meanwhile. The restored
/// copy holds every account whose creation had returned before the backup began, passes
/// SQLite's integrity check, lists and reads through the record service, and takes new records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_every_record_created_before_it() {
    let source = FreshDb::new("live.db");
    ok(&["migrate", "--database", source.path()]);
    let core = Core::new(Db::open(source.path()).await.unwrap(), Settings::default());
    let boss = admin(&core).await;

    let created: Arc<Mutex<Vec<(Uuid, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (core, boss, created, stop) =
            (core.clone(), boss.clone(), created.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let rec = core
                    .records(&ACCOUNTS)
                    .create(
                        &boss,
                        &json!({"kind": "company", "name": format!("备份测试{w}号客户{n}有限公司")}),
                    )
                    .await
                    .unwrap();
                let id = Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap();
                created.lock().unwrap().push((id, Instant::now()));
                n += 1;
            }
        }));
    }
    // Some records first, then the backup while the writers go on.
    while created.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup = FreshDb::new("backup.db");
    let began = Instant::now();
    let (from, to) = (source.path().to_owned(), backup.path().to_owned());
    let out = tokio::task::spawn_blocking(move || guanxi(&["backup", "--database", &from, &to]))
        .await
        .unwrap();
    let ended = Instant::now();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.starts_with("backup written to "), "{said}");
    assert!(
        said.contains(" in ") && said.trim_end().ends_with(" s"),
        "{said}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let created = created.lock().unwrap().clone();
    let before: Vec<Uuid> = created
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| *id)
        .collect();
    let after = created.iter().filter(|(_, at)| *at > ended).count();
    assert!(before.len() >= 200, "{}", before.len());
    assert!(after > 0, "the writers went on writing after the backup");
    // No half-written backup under another name beside it.
    let beside: Vec<_> = std::fs::read_dir(backup.0.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(beside, ["backup.db"]);

    let restored = FreshDb::new("restored.db");
    let said = ok(&["restore", backup.path(), "--database", restored.path()]);
    assert!(said.starts_with("restored "), "{said}");
    core.db.close().await.unwrap();

    let core = Core::new(
        Db::open(restored.path()).await.unwrap(),
        Settings::default(),
    );
    let check = db::raw_query(core.db.reader(), "PRAGMA integrity_check", vec![])
        .await
        .unwrap();
    assert_eq!(
        db::get_at::<String>(&check[0], 0, "integrity_check").unwrap(),
        "ok"
    );
    let boss = users::actor_for(
        &core,
        &users::find_by_email(&core.db, "boss@example.com")
            .await
            .unwrap()
            .unwrap(),
    )
    .await
    .unwrap();
    let accounts = core.records(&ACCOUNTS);
    for id in &before {
        let rec = accounts.get(&boss, *id).await.unwrap();
        assert_eq!(rec["id"], id.to_string());
    }
    let page = accounts
        .list(
            &boss,
            &ListQuery {
                limit: 50,
                count: Count::Exact,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let total = page.total.unwrap().count as usize;
    assert!(
        (before.len()..=created.len()).contains(&total),
        "{} before, {total} restored, {} in all",
        before.len(),
        created.len()
    );
    assert_eq!(page.items.len(), 50);
    // The restored database takes writes, and search finds what it holds.
    accounts
        .create(
            &boss,
            &json!({"kind": "company", "name": "恢复之后新建有限公司"}),
        )
        .await
        .unwrap();
    core.db.close().await.unwrap();
}

/// What a restore refuses, each with a clear message and without writing anything; and what a
/// backup refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_and_backup_refuse_what_they_cannot_do_and_write_nothing() {
    let source = FreshDb::new("guanxi.db");
    ok(&["migrate", "--database", source.path()]);
    let backup = FreshDb::new("b.db");
    ok(&["backup", "--database", source.path(), backup.path()]);

    // A backup does not replace a file unless told to.
    fails(
        &["backup", "--database", source.path(), backup.path()],
        &["already exists", "--force"],
    );
    ok(&[
        "backup",
        "--database",
        source.path(),
        backup.path(),
        "--force",
    ]);

    // A target that holds data.
    fails(
        &["restore", backup.path(), "--database", source.path()],
        &["already holds data", "new, empty database"],
    );

    let target = FreshDb::new("target.db");
    let nothing_written = |target: &FreshDb| {
        let dir = target.0.parent().unwrap();
        let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    };
    // A file that is not a database.
    let text = FreshDb::new("contacts.csv");
    std::fs::write(&text.0, "姓名,手机\n张伟,13800138000\n").unwrap();
    fails(
        &["restore", text.path(), "--database", target.path()],
        &[
            "contacts.csv",
            "is not a Guanxi backup",
            "not an SQLite database",
        ],
    );
    nothing_written(&target);
    // No file at all.
    fails(
        &["restore", "no-such-backup.db", "--database", target.path()],
        &["There is no file no-such-backup.db"],
    );
    nothing_written(&target);
    // An SQLite database of something else.
    let other = FreshDb::new("other.db");
    {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", other.path()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE notes (body TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    fails(
        &["restore", other.path(), "--database", target.path()],
        &["is an SQLite database, but not a Guanxi one"],
    );
    nothing_written(&target);
    // A backup from a newer Guanxi.
    let newer = FreshDb::new("newer.db");
    std::fs::copy(&backup.0, &newer.0).unwrap();
    {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", newer.path()))
            .await
            .unwrap();
        sqlx::query("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m9999_from_the_future', 0)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    fails(
        &["restore", newer.path(), "--database", target.path()],
        &["newer version of Guanxi", "m9999_from_the_future"],
    );
    nothing_written(&target);
    // A database in use, its newest pages still in the log beside it.
    let live = FreshDb::new("live.db");
    ok(&["migrate", "--database", live.path()]);
    {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", live.path()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE scratch (x TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        // Left open while the restore looks: the log stays beside the file.
        fails(
            &["restore", live.path(), "--database", target.path()],
            &["is a database in use", "guanxi backup"],
        );
        c.close().await.unwrap();
    }
    nothing_written(&target);
    // A backup cut short.
    let cut = FreshDb::new("cut.db");
    let bytes = std::fs::read(&backup.0).unwrap();
    std::fs::write(&cut.0, &bytes[..bytes.len() / 3]).unwrap();
    let out = guanxi(&["restore", cut.path(), "--database", target.path()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is damaged and cannot be restored") || err.contains("not a Guanxi"),
        "{err}"
    );
    nothing_written(&target);

    // A backup from an older Guanxi is brought up to date as it is restored.
    let older = FreshDb::new("older.db");
    {
        use guanxi_core::db::migrations::Migrator;
        use sea_orm_migration::MigratorTrait;
        let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", older.path()))
            .await
            .unwrap();
        let all = Migrator::migrations().len() as u32;
        Migrator::up(&conn, Some(all - 3)).await.unwrap();
        conn.close().await.unwrap();
    }
    let brought = FreshDb::new("brought.db");
    let said = ok(&["restore", older.path(), "--database", brought.path()]);
    let applied: Vec<&str> = said.lines().filter(|l| l.starts_with("applied ")).collect();
    assert_eq!(applied.len(), 3, "{said}");
    let now = Core::new(Db::open(brought.path()).await.unwrap(), Settings::default());
    assert_eq!(
        now.db.applied_migrations().await.unwrap().len(),
        <guanxi_core::db::migrations::Migrator as sea_orm_migration::MigratorTrait>::migrations()
            .len()
    );
    now.db.close().await.unwrap();

    // The good backup restores, and the restored file is then a target that holds data.
    ok(&["restore", backup.path(), "--database", target.path()]);
    fails(
        &["restore", backup.path(), "--database", target.path()],
        &["already holds data"],
    );

    // PostgreSQL is backed up and restored with its own tools, named in the answer.
    fails(
        &[
            "backup",
            "--database",
            "postgres://guanxi@127.0.0.1:1/guanxi",
            "x.dump",
        ],
        &["pg_dump --format=custom"],
    );
    fails(
        &[
            "restore",
            backup.path(),
            "--database",
            "postgres://guanxi@127.0.0.1:1/guanxi",
        ],
        &["pg_restore"],
    );
    assert!(!std::path::Path::new("x.dump").exists());
}

/// `guanxi serve` stopped the way service managers stop it (SIGTERM), or with Ctrl-C (SIGINT),
/// copies the write-ahead log into the database file and leaves no log behind, however much was
/// written while it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_leaves_no_write_ahead_log_behind() {
    for signal in ["-TERM", "-INT"] {
        let db = FreshDb::new("serve.db");
        ok(&["migrate", "--database", db.path()]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
            .args(["serve", "--database", db.path(), "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("running at"), "{line}");

        // Another process writes 16 MB in one transaction while the server runs.
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.path()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE bulk (b BLOB)")
            .execute(&mut c)
            .await
            .unwrap();
        let mut txn = c.begin().await.unwrap();
        for _ in 0..4000 {
            sqlx::query("INSERT INTO bulk VALUES (randomblob(4000))")
                .execute(&mut *txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        c.close().await.unwrap();
        let grown = size_of(&wal_of(&db)).unwrap_or(0);
        assert!(
            grown > 8_000_000,
            "{signal}: the log holds the writes: {grown}"
        );

        let stopped = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "{signal}: {status}");
        let left = size_of(&wal_of(&db)).unwrap_or(0);
        assert_eq!(left, 0, "{signal}: the log is gone or empty");
        // Nothing was lost: every row is in the database file.
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.path()))
            .await
            .unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bulk")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(rows, 4000);
        c.close().await.unwrap();
    }
}

/// The README's PostgreSQL path, run as written: `pg_dump` in custom format while the data is
/// there, `pg_restore` into a new, empty database, `guanxi migrate`; every record reads back and
/// search finds it. Skipped when PostgreSQL is not configured or `pg_dump` is not installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_pg_dump_and_pg_restore_commands_round_trip_a_database() {
    use crate::job_burst::FreshPg;
    let tools = ["pg_dump", "pg_restore"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok());
    if !tools {
        return;
    }
    let Some(source) = FreshPg::new().await else {
        return;
    };
    let Some(target) = FreshPg::new().await else {
        return;
    };
    ok(&["migrate", "--database", &source.url]);
    let core = Core::new(Db::open(&source.url).await.unwrap(), Settings::default());
    let boss = admin(&core).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let rec = core
            .records(&ACCOUNTS)
            .create(
                &boss,
                &json!({"kind": "company", "name": format!("转储测试{n}号有限公司")}),
            )
            .await
            .unwrap();
        ids.push(Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap());
    }
    core.db.close().await.unwrap();

    let dump = FreshDb::new("guanxi.dump");
    let out = Command::new("pg_dump")
        .args([
            "--format=custom",
            &format!("--file={}", dump.path()),
            &source.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The target is new and empty (created as the README's createdb does).
    let out = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--exit-on-error",
            &format!("--dbname={}", target.url),
            dump.path(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&["migrate", "--database", &target.url]);

    let core = Core::new(Db::open(&target.url).await.unwrap(), Settings::default());
    let boss = users::actor_for(
        &core,
        &users::find_by_email(&core.db, "boss@example.com")
            .await
            .unwrap()
            .unwrap(),
    )
    .await
    .unwrap();
    for id in &ids {
        core.records(&ACCOUNTS).get(&boss, *id).await.unwrap();
    }
    let found = guanxi_core::search::search(&core.db, &boss, "转储测试7号", &[&ACCOUNTS], 20)
        .await
        .unwrap();
    assert!(found.iter().any(|h| h.id == ids[7]), "{}", found.len());
    core.db.close().await.unwrap();
    source.drop_it().await;
    target.drop_it().await;
}

/// Scheduled backups as an operator turns them on: `GUANXI_BACKUP_DIR` (or `backup_dir` in the
/// file) makes the job processes write a dated backup there, which restores.
#[test]
fn a_configured_backup_directory_gets_a_dated_backup_from_the_job_runner() {
    let db = FreshDb::new("guanxi.db");
    ok(&["migrate", "--database", db.path()]);
    let dir = db.0.parent().unwrap().join("nightly");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_guanxi"))
            .args(args)
            .env("GUANXI_BACKUP_DIR", &dir)
            .env("GUANXI_BACKUP_KEEP", "3")
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap()
    };
    let out = run(&["jobs", "run", "--once", "--database", db.path()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("guanxi-") && names[0].ends_with(".db"),
        "{names:?}"
    );
    // Once a period: a second pass in the same period writes nothing more.
    let out = run(&["jobs", "run", "--once", "--database", db.path()]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let restored = FreshDb::new("restored.db");
    ok(&[
        "restore",
        dir.join(&names[0]).to_str().unwrap(),
        "--database",
        restored.path(),
    ]);
}
