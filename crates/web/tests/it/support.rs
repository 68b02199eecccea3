//! Starting the real app on port 0 with a fresh database, on SQLite always and on PostgreSQL
//! when `GUANXI_TEST_POSTGRES_URL` is set (DESIGN.md section 9).

#![allow(dead_code)]

use std::path::PathBuf;

use guanxi_core::identity::{NewUser, auth, teams, users};
use guanxi_core::{Core, Db, Settings};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run tests. Under `CI=true` PostgreSQL is required.
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

pub struct TestApp {
    pub base: String,
    pub core: Core,
    pub backend: Backend,
    file: Option<PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", f.display()));
            }
        }
    }
}

/// A fresh, empty database URL for one test.
async fn fresh_database(backend: Backend) -> (String, Option<PathBuf>) {
    let name = format!("guanxi_t_{}", uuid::Uuid::now_v7().simple());
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            (path.display().to_string(), Some(path))
        }
        Backend::Postgres => {
            let admin =
                std::env::var("GUANXI_TEST_POSTGRES_URL").expect("GUANXI_TEST_POSTGRES_URL");
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!(
                "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
            ))
            .execute(&mut conn)
            .await
            .expect("create test database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .expect("URL with a database name");
            (format!("{base}/{name}"), None)
        }
    }
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, Settings::default()).await
}

pub async fn spawn_with(backend: Backend, settings: Settings) -> TestApp {
    let (url, file) = fresh_database(backend).await;
    let db = Db::open(&url).await.expect("open and migrate");
    let core = Core::new(db, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = guanxi_web::app(
        core.clone(),
        guanxi_web::WebOptions {
            secure_cookies: false,
        },
    );
    tokio::spawn(async move {
        let _ = guanxi_web::serve(listener, app).await;
    });
    TestApp {
        base: format!("http://{addr}"),
        core,
        backend,
        file,
    }
}

/// A user with an API token, for calling the API as them.
pub struct TestUser {
    pub id: uuid::Uuid,
    pub email: String,
    pub token: String,
    pub base: String,
    pub client: Client,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub async fn team(&self, name: &str) -> uuid::Uuid {
        match teams::find_by_name(&self.core.db, name)
            .await
            .expect("teams")
        {
            Some(t) => t.id,
            None => {
                teams::create(&self.core.db, None, name)
                    .await
                    .expect("create team")
                    .id
            }
        }
    }

    /// Creates a user with the role (and team) and an API token.
    pub async fn user(&self, role: &str, team: Option<&str>) -> TestUser {
        let team_id = match team {
            Some(t) => Some(self.team(t).await),
            None => None,
        };
        let email = format!("{role}.{}@example.com", uuid::Uuid::now_v7().simple());
        let u = users::create(
            &self.core.db,
            None,
            NewUser {
                email: email.clone(),
                name: format!("{role} user"),
                role: role.into(),
                team_id,
                password: PASSWORD.into(),
                locale: Some("en".into()),
            },
        )
        .await
        .expect("create user");
        let (token, _) = auth::create_token(&self.core.db, None, u.id, "test")
            .await
            .expect("token");
        TestUser {
            id: u.id,
            email,
            token,
            base: self.base.clone(),
            client: Client::new(),
        }
    }

    pub fn anonymous(&self) -> Client {
        Client::new()
    }
}

impl TestUser {
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.req(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.req(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(Method::DELETE, path).send().await.expect("DELETE")
    }

    /// Creates a record and returns its JSON, failing the test with the body if it did not work.
    pub async fn create(&self, plural: &str, body: Value) -> Value {
        let res = self.post(&format!("/api/v1/{plural}"), &body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "creating {plural}: {json}");
        json
    }
}

pub async fn json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}
