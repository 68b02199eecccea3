//! Jobs across real processes, with a real SMTP server on loopback: a burst of 1,000 notices
//! due at once is e-mailed exactly once each by `guanxi serve` and `guanxi jobs run` sharing a
//! SQLite file, and by two `guanxi serve` instances sharing a PostgreSQL database; a notice
//! that falls due while no process runs is e-mailed once when one starts again.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use guanxi_core::identity::{NewUser, users};
use guanxi_core::notifications::{self, Notice};
use guanxi_core::{Core, Db, Settings};
use guanxi_smtp_sink::SmtpSink;
use serde_json::json;
use sqlx::Connection;

use crate::support::{FreshDb, ok};

const BURST: usize = 1000;

/// A `guanxi` process that is killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `guanxi <args>` on `database`, sending e-mail to `sink`.
fn start(args: &[&str], database: &str, sink: &SmtpSink) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .args(["--database", database])
        .env("GUANXI_SMTP_HOST", sink.host())
        .env("GUANXI_SMTP_PORT", sink.port().to_string())
        .env("GUANXI_SMTP_TLS", "none")
        .env("GUANXI_MAIL_FROM", "关系 CRM <crm@example.com>")
        .env("GUANXI_PUBLIC_URL", "https://crm.example.com")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Proc(child)
}

fn serve(database: &str, sink: &SmtpSink) -> Proc {
    start(&["serve", "--listen", "127.0.0.1:0"], database, sink)
}

/// The test's own view of the database, with e-mail on, so that notices queue their e-mails.
async fn core(database: &str, sink: &SmtpSink) -> Core {
    let settings = Settings {
        public_url: "https://crm.example.com".into(),
        mail: Some(guanxi_core::mail::MailSettings {
            host: sink.host(),
            port: sink.port(),
            tls: guanxi_core::mail::TlsMode::None,
            user: String::new(),
            password: Default::default(),
            from: "crm@example.com".into(),
            timeout: Duration::from_secs(5),
        }),
        ..Settings::default()
    };
    Core::new(Db::open(database).await.unwrap(), settings)
}

/// A rep whose reminders go by e-mail (the default).
async fn rep(core: &Core) -> uuid::Uuid {
    users::create(
        &core.db,
        None,
        NewUser {
            email: "rep@example.com".into(),
            name: "张伟".into(),
            role: "sales".into(),
            team_id: None,
            password: "correct horse battery".into(),
            locale: Some("zh-CN".into()),
        },
    )
    .await
    .unwrap()
    .id
}

/// Notices `from..to` for `user`, due now, each titled by its number.
async fn notices(core: &Core, user: uuid::Uuid, from: usize, to: usize) {
    for chunk in (from..to).collect::<Vec<_>>().chunks(100) {
        let txn = core.db.begin().await.unwrap();
        for n in chunk {
            notifications::notify(
                core,
                &txn,
                Notice {
                    user_id: user,
                    kind: "reminder",
                    params: json!({"title": format!("burst {n}")}),
                    about: None,
                    visible_at: guanxi_core::now(),
                },
            )
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();
    }
}

/// Waits until `sink` holds `n` messages (and a moment more, for any duplicate), then returns
/// how many times each subject arrived.
async fn arrived(sink: &SmtpSink, n: usize) -> BTreeMap<String, usize> {
    let started = Instant::now();
    sink.wait_for(n, Duration::from_secs(180)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut by_subject = BTreeMap::new();
    for m in sink.messages() {
        *by_subject
            .entry(m.header("Subject").unwrap_or_default())
            .or_insert(0) += 1;
    }
    eprintln!(
        "{} messages in {:.1} s",
        sink.messages().len(),
        started.elapsed().as_secs_f64()
    );
    by_subject
}

fn assert_each_once(by_subject: &BTreeMap<String, usize>, n: usize) {
    let twice: Vec<_> = by_subject.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(by_subject.len(), n, "every notice e-mailed");
    for i in 0..n {
        assert!(
            by_subject.contains_key(&format!("提醒：burst {i}")),
            "burst {i} missing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_thousand_jobs_runs_once_each_across_a_server_and_a_jobs_process_on_sqlite() {
    let db = FreshDb::new("burst.db");
    ok(&["migrate", "--database", db.path()]);
    let sink = SmtpSink::start().await.unwrap();
    let core = core(db.path(), &sink).await;
    let user = rep(&core).await;
    notices(&core, user, 0, BURST).await;

    let server = serve(db.path(), &sink);
    let worker = start(&["jobs", "run"], db.path(), &sink);
    assert_each_once(&arrived(&sink, BURST).await, BURST);
    drop((server, worker));

    // Due while nothing runs: sent once when a server starts again.
    notices(&core, user, BURST, BURST + 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.messages().len(), BURST, "nothing runs the job yet");
    let _server = serve(db.path(), &sink);
    assert_each_once(&arrived(&sink, BURST + 1).await, BURST + 1);
    core.db.close().await.unwrap();
}

/// A fresh PostgreSQL database for one test, dropped at the end; none when PostgreSQL is not
/// configured (`GUANXI_TEST_POSTGRES_URL`), which CI always sets.
pub(crate) struct FreshPg {
    admin: String,
    pub(crate) name: String,
    pub(crate) url: String,
}

impl FreshPg {
    pub(crate) async fn new() -> Option<FreshPg> {
        let admin = std::env::var("GUANXI_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("guanxi_cli_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        let base = admin.rsplit_once('/').unwrap().0.to_string();
        Some(FreshPg {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }

    pub(crate) async fn drop_it(self) {
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_thousand_jobs_runs_once_each_across_two_servers_on_postgres() {
    let Some(pg) = FreshPg::new().await else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs this test on PostgreSQL"
        );
        return;
    };
    ok(&["migrate", "--database", &pg.url]);
    let sink = SmtpSink::start().await.unwrap();
    let core = core(&pg.url, &sink).await;
    let user = rep(&core).await;
    notices(&core, user, 0, BURST).await;

    let one = serve(&pg.url, &sink);
    let two = serve(&pg.url, &sink);
    assert_each_once(&arrived(&sink, BURST).await, BURST);
    drop((one, two));

    notices(&core, user, BURST, BURST + 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.messages().len(), BURST, "nothing runs the job yet");
    let one = serve(&pg.url, &sink);
    assert_each_once(&arrived(&sink, BURST + 1).await, BURST + 1);
    // The server stops before its database goes.
    drop(one);
    core.db.close().await.unwrap();
    pg.drop_it().await;
}
