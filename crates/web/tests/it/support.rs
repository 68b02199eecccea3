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
    /// The database URL, for opening it again.
    pub url: String,
    file: Option<PathBuf>,
    /// The PostgreSQL database this test created, dropped when the test ends.
    pg_database: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", f.display()));
            }
        }
        if let Some(name) = self.pg_database.take() {
            // Drop runs inside the test's runtime, which cannot be blocked on: a short-lived
            // thread with its own runtime does it. FORCE ends the app's pooled connections.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    let Ok(admin) = std::env::var("GUANXI_TEST_POSTGRES_URL") else {
                        return;
                    };
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh, empty database URL for one test.
async fn fresh_database(backend: Backend) -> (String, Option<PathBuf>, Option<String>) {
    let name = format!("guanxi_t_{}", uuid::Uuid::now_v7().simple());
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            if std::env::var("GUANXI_TEST_RESTORED").as_deref() == Ok("1") {
                restore_fresh(&path).await;
            }
            (path.display().to_string(), Some(path), None)
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
            (format!("{base}/{name}"), None, Some(name))
        }
    }
}

/// With `GUANXI_TEST_RESTORED=1`, each SQLite test runs on a database restored from a backup
/// (`VACUUM INTO`, then `guanxi restore`'s checks and copy) of a freshly migrated one, so that the
/// whole suite shows a restored database serves like the original.
async fn restore_fresh(path: &std::path::Path) {
    let source = path.with_extension("source.db");
    let backup = path.with_extension("backup.db");
    let db = Db::open(source.to_str().expect("path"))
        .await
        .expect("source");
    db.backup_to(&backup, guanxi_core::db::backup::Existing::Refuse)
        .await
        .expect("backup");
    db.close().await.expect("close");
    guanxi_core::db::backup::restore(&backup, path.to_str().expect("path"))
        .await
        .expect("restore");
    for f in [source, backup] {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", f.display()));
        }
    }
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, Settings::default()).await
}

pub async fn spawn_with(backend: Backend, settings: Settings) -> TestApp {
    spawn_full(backend, settings, guanxi_web::WebOptions::default()).await
}

/// Serves `core` on a fresh loopback port and returns its base URL.
async fn serve(core: Core, opts: guanxi_web::WebOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = guanxi_web::app(core, opts);
    tokio::spawn(async move {
        let _ = guanxi_web::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Sends the server's error lines to the test's output, which the harness shows when the test
/// fails: a 500 says only "an internal error occurred", and the cause is in that line.
fn log_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
            .try_init();
    });
}

pub async fn spawn_full(
    backend: Backend,
    settings: Settings,
    opts: guanxi_web::WebOptions,
) -> TestApp {
    log_errors();
    let (url, file, pg_database) = fresh_database(backend).await;
    let db = Db::open(&url).await.expect("open and migrate");
    let core = Core::new(db, settings);
    let base = serve(core.clone(), opts).await;
    TestApp {
        base,
        core,
        backend,
        url,
        file,
        pg_database,
    }
}

impl TestApp {
    /// A server on another database (a restored backup, say), with this app's settings: its
    /// base URL and core.
    pub async fn serve_database(&self, url: &str) -> (String, Core) {
        let db = Db::open(url).await.expect("open the other database");
        let core = Core::new(db, self.core.settings.clone());
        let base = serve(core.clone(), guanxi_web::WebOptions::default()).await;
        (base, core)
    }

    /// Another server instance on the same database, as a second `guanxi serve` behind a load
    /// balancer would be (its own connection pool); returns its base URL.
    pub async fn another_instance(&self, opts: guanxi_web::WebOptions) -> String {
        let db = Db::open(&self.url).await.expect("open the same database");
        serve(Core::new(db, self.core.settings.clone()), opts).await
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
        self.user_in(role, team, "en").await
    }

    /// Creates a user with the role (and team), whose interface speaks `locale`, and a token.
    pub async fn user_in(&self, role: &str, team: Option<&str>, locale: &str) -> TestUser {
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
                locale: Some(locale.into()),
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
    /// The same user, with the same token, calling the server at `base`.
    pub fn at(&self, base: &str) -> TestUser {
        TestUser {
            id: self.id,
            email: self.email.clone(),
            token: self.token.clone(),
            base: base.to_string(),
            client: Client::new(),
        }
    }

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

// ---- Helpers for the API suites (bad input, access, concurrency, identity). ----

/// A response read whole: status, headers, the raw text and the JSON body (`Null` if none).
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub async fn read(res: Response) -> Resp {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts the API's error shape: status, `error.code`, a message, and (when given) that
    /// `error.fields` names `field`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        let err = &self.body["error"];
        assert_eq!(err["code"], code, "error code; body: {}", self.text);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error message; body: {}",
            self.text
        );
        if let Some(f) = field {
            let e = &err["fields"][f];
            assert!(
                e["code"].as_str().is_some_and(|c| !c.is_empty())
                    && e["message"].as_str().is_some_and(|m| !m.is_empty())
                    && e["params"].is_object(),
                "error.fields should name '{f}' with a code, a message and params; body: {}",
                self.text
            );
        }
    }

    /// Asserts a 422 whose `error.fields` names `field` with `code`, and returns that field's
    /// error (`{code, message, params}`).
    #[track_caller]
    pub fn assert_field(&self, field: &str, code: &str) -> &Value {
        self.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        );
        let e = &self.body["error"]["fields"][field];
        assert_eq!(e["code"], code, "error.fields.{field}; body: {}", self.text);
        e
    }

    /// The ids in a `{"data": [...]}` list.
    pub fn ids(&self) -> Vec<String> {
        self.body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestUser {
    /// Sends a request and reads the whole response.
    pub async fn send(&self, rb: RequestBuilder) -> Resp {
        Resp::read(rb.send().await.expect("request")).await
    }

    pub async fn get_r(&self, path: &str) -> Resp {
        Resp::read(self.get(path).await).await
    }

    pub async fn post_r(&self, path: &str, body: &Value) -> Resp {
        Resp::read(self.post(path, body).await).await
    }

    pub async fn patch_r(&self, path: &str, body: &Value) -> Resp {
        Resp::read(self.patch(path, body).await).await
    }

    pub async fn put_r(&self, path: &str, body: &Value) -> Resp {
        self.send(self.req(Method::PUT, path).json(body)).await
    }

    pub async fn delete_r(&self, path: &str) -> Resp {
        Resp::read(self.delete(path).await).await
    }

    /// PATCH with `If-Match: "<version>"`.
    pub async fn patch_if_match(&self, path: &str, version: i64, body: &Value) -> Resp {
        self.send(
            self.req(Method::PATCH, path)
                .header("If-Match", format!("\"{version}\""))
                .json(body),
        )
        .await
    }
}

/// A row count from the test database (`table` must be a plain table name).
pub async fn count_rows(app: &TestApp, table: &str) -> i64 {
    count_sql(app, &format!("SELECT COUNT(*) AS n FROM {table}")).await
}

/// Runs a `SELECT COUNT(*) AS n ...` written without parameters.
pub async fn count_sql(app: &TestApp, sql: &str) -> i64 {
    let rows = guanxi_core::db::raw_query(app.core.db.reader(), sql, vec![])
        .await
        .expect("count query");
    guanxi_core::db::get_i64(&rows[0], "n").expect("count")
}

/// The number of audit rows for a record (optionally only those with `action`).
pub async fn audit_rows(app: &TestApp, record_id: &str, action: Option<&str>) -> i64 {
    let id = uuid::Uuid::parse_str(record_id).expect("uuid");
    let (p1, p2) = match app.backend {
        Backend::Sqlite => ("?", "?"),
        Backend::Postgres => ("$1", "$2"),
    };
    let mut sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE record_id = {p1}");
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    if let Some(a) = action {
        sql.push_str(&format!(" AND action = {p2}"));
        values.push(a.into());
    }
    let rows = guanxi_core::db::raw_query(app.core.db.reader(), &sql, values)
        .await
        .expect("audit count");
    guanxi_core::db::get_i64(&rows[0], "n").expect("count")
}

/// A browser-like client: no automatic redirects, cookies sent by hand.
pub fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Logs in through the form and returns the session cookie's value and its `Set-Cookie` line.
pub async fn login_cookie(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let res = browser()
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/accounts"),
        ])
        .send()
        .await
        .expect("login");
    assert!(
        res.status().is_redirection(),
        "login should redirect, got {}",
        res.status()
    );
    let set = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("guanxi_session="))
        .expect("session cookie")
        .to_string();
    let value = set
        .trim_start_matches("guanxi_session=")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    (value, set)
}

/// The CSRF token of a session, read from a page's form.
pub async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let html = browser()
        .get(format!("{}/settings", app.base))
        .header("Cookie", format!("guanxi_session={cookie}"))
        .send()
        .await
        .expect("settings page")
        .text()
        .await
        .expect("html");
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    html[start..]
        .split('"')
        .next()
        .expect("csrf value")
        .to_string()
}

/// Settings that send e-mail to `sink`, with links to `https://crm.example.com`.
pub fn mailing(sink: &guanxi_smtp_sink::SmtpSink) -> Settings {
    use guanxi_core::mail::{MailSettings, Secret, TlsMode};
    Settings {
        public_url: "https://crm.example.com".into(),
        mail: Some(MailSettings {
            host: sink.host(),
            port: sink.port(),
            tls: TlsMode::None,
            user: "crm".into(),
            password: Secret::new("s3cret-smtp-pass"),
            from: "关系 CRM <crm@example.com>".into(),
            timeout: std::time::Duration::from_secs(3),
        }),
        ..Settings::default()
    }
}

/// Runs every job due now, as `guanxi serve`'s runner would.
pub async fn run_jobs(app: &TestApp) -> guanxi_core::jobs::runner::Pass {
    guanxi_core::jobs::runner::Runner::new(
        app.core.clone(),
        guanxi_web::jobs(app.core.db.backend()),
    )
    .run_due()
    .await
    .expect("a pass of the job runner")
}

/// A page fetched as a browser whose session is `cookie` (none: anonymous), in `lang`.
pub async fn page_as(
    app: &TestApp,
    cookie: Option<&str>,
    lang: &str,
    path: &str,
) -> (StatusCode, String) {
    let mut rb = browser()
        .get(format!("{}{path}", app.base))
        .header("Accept-Language", lang);
    if let Some(c) = cookie {
        rb = rb.header("Cookie", format!("guanxi_session={c}"));
    }
    let res = rb.send().await.expect("GET page");
    let status = res.status();
    (status, res.text().await.expect("page text"))
}

/// A form posted as a browser whose session is `cookie` (none: anonymous), in `lang`.
pub async fn form_as(
    app: &TestApp,
    cookie: Option<&str>,
    lang: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let mut rb = browser()
        .post(format!("{}{path}", app.base))
        .header("Accept-Language", lang)
        .form(form);
    if let Some(c) = cookie {
        rb = rb.header("Cookie", format!("guanxi_session={c}"));
    }
    let res = rb.send().await.expect("POST form");
    let status = res.status();
    let location = res
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, location, res.text().await.expect("page text"))
}
