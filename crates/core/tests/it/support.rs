//! What the integration tests share: a fresh database per test on each backend, and an
//! administrator to act as.

use std::path::PathBuf;

use guanxi_core::authz::Actor;
use guanxi_core::db::Backend;
use guanxi_core::identity::{NewUser, teams, users};
use guanxi_core::{Core, Db, Settings};
use sqlx::Connection;
use uuid::Uuid;

/// A fresh database for one test, removed afterwards.
pub struct Fresh {
    pub url: String,
    file: Option<PathBuf>,
    pg_name: Option<(String, String)>,
}

impl Fresh {
    pub async fn new(backend: Backend) -> Fresh {
        let name = format!("guanxi_core_t_{}", Uuid::now_v7().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Fresh {
                    url: path.display().to_string(),
                    file: Some(path),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("GUANXI_TEST_POSTGRES_URL").unwrap();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!(
                    "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
                ))
                .execute(&mut conn)
                .await
                .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
                Fresh {
                    url: format!("{base}/{name}"),
                    file: None,
                    pg_name: Some((admin, name)),
                }
            }
        }
    }

    pub async fn core(&self) -> Core {
        self.core_with(Settings::default()).await
    }

    pub async fn core_with(&self, settings: Settings) -> Core {
        Core::new(Db::open(&self.url).await.unwrap(), settings)
    }

    pub async fn cleanup(self, core: Core) {
        core.db.close().await.unwrap();
        if let Some((admin, name)) = &self.pg_name {
            let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", f.display()));
            }
        }
    }
}

pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("GUANXI_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => out.push(Backend::Postgres),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but GUANXI_TEST_POSTGRES_URL is not set")
        }
        _ => {}
    }
    out
}

pub async fn admin(core: &Core, email: &str) -> Actor {
    let user = match users::find_by_email(&core.db, email).await.unwrap() {
        Some(u) => u,
        None => users::create(
            &core.db,
            None,
            NewUser {
                email: email.into(),
                name: "Test Admin".into(),
                role: "admin".into(),
                team_id: None,
                password: "correct horse battery".into(),
                locale: None,
            },
        )
        .await
        .unwrap(),
    };
    users::actor_for(core, &user).await.unwrap()
}

/// A sales rep of `team`, created by `boss`: their id.
// This file is also the seed crate's test support, whose tests make no reps.
#[allow(dead_code)]
pub async fn sales_rep(core: &Core, boss: &Actor, email: &str, team: Uuid) -> Uuid {
    users::create(
        &core.db,
        Some(boss),
        NewUser {
            email: email.into(),
            name: email.into(),
            role: "sales".into(),
            team_id: Some(team),
            password: "correct horse battery".into(),
            locale: None,
        },
    )
    .await
    .unwrap()
    .id
}

/// Two teams: North with rep@ and mate@, South with other@, all sales reps: their ids in that
/// order.
#[allow(dead_code)] // As `sales_rep`.
pub async fn two_teams(core: &Core, boss: &Actor) -> [Uuid; 3] {
    let north = teams::create(&core.db, Some(boss), "North")
        .await
        .unwrap()
        .id;
    let south = teams::create(&core.db, Some(boss), "South")
        .await
        .unwrap()
        .id;
    [
        sales_rep(core, boss, "rep@example.com", north).await,
        sales_rep(core, boss, "mate@example.com", north).await,
        sales_rep(core, boss, "other@example.com", south).await,
    ]
}

/// The actor of the user with `email`.
#[allow(dead_code)] // As `sales_rep`.
pub async fn actor(core: &Core, email: &str) -> Actor {
    let user = users::find_by_email(&core.db, email)
        .await
        .unwrap()
        .unwrap();
    users::actor_for(core, &user).await.unwrap()
}

/// Settings that send e-mail through the SMTP server at `host:port`, with links to
/// `https://crm.example.com`.
#[allow(dead_code)] // As `sales_rep`.
pub fn mailing(host: String, port: u16) -> Settings {
    Settings {
        public_url: "https://crm.example.com".into(),
        mail: Some(guanxi_core::mail::MailSettings {
            host,
            port,
            tls: guanxi_core::mail::TlsMode::None,
            user: String::new(),
            password: Default::default(),
            from: "关系 CRM <crm@example.com>".into(),
            timeout: std::time::Duration::from_secs(2),
        }),
        ..Settings::default()
    }
}
