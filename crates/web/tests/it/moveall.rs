//! `guanxi export-all` / `guanxi import-all`: the demo company on SQLite moves to PostgreSQL and
//! back with nothing lost — the exports of source, PostgreSQL copy and SQLite copy are equal
//! table by table — and the copy serves: the same people log in with the same passwords, search
//! finds a contact by pinyin and by phone, a record's history shows. Refusals (a target that
//! holds data, a newer schema, a damaged file) say why and leave the target empty. Without
//! PostgreSQL the move goes SQLite → SQLite.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use guanxi_core::identity::users;
use guanxi_core::moveall::{self, Manifest};
use guanxi_core::notifications::{self, Notice};
use guanxi_core::saved_views::{self, ViewInput};
use guanxi_core::{CoreError, Db};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, backends, browser, spawn};

fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "guanxi-moveall-{tag}-{}",
        uuid::Uuid::now_v7().simple()
    ))
}

fn quiet(_: &str) {}

/// Every table file of an export, its lines sorted: the canonical form two exports compare in.
fn tables_of(dir: &Path) -> Vec<(String, Vec<String>)> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest
        .tables
        .iter()
        .map(|t| {
            let text = std::fs::read_to_string(dir.join(&t.file)).unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            (t.name.clone(), lines)
        })
        .collect()
}

fn assert_same(a: &Path, b: &Path, ctx: &str) {
    let (x, y) = (tables_of(a), tables_of(b));
    assert_eq!(
        x.iter().map(|t| &t.0).collect::<Vec<_>>(),
        y.iter().map(|t| &t.0).collect::<Vec<_>>(),
        "{ctx}: tables"
    );
    for ((name, l), (_, r)) in x.iter().zip(&y) {
        assert_eq!(l.len(), r.len(), "{ctx}: {name} rows");
        for (i, (a, b)) in l.iter().zip(r).enumerate() {
            assert_eq!(a, b, "{ctx}: {name} row {i}");
        }
    }
}

async fn rows_in(url: &str) -> i64 {
    let db = Db::connect(url).await.unwrap();
    let mut n = 0;
    for t in ["users", "accounts", "contacts", "audit_log", "jobs"] {
        n += guanxi_core::db::raw_query(
            db.reader(),
            &format!("SELECT count(*) AS n FROM {t}"),
            vec![],
        )
        .await
        .map(|r| guanxi_core::db::get_i64(&r[0], "n").unwrap_or(0))
        .unwrap_or(0);
    }
    db.close().await.unwrap();
    n
}

fn code_of(e: &CoreError) -> &'static str {
    match e {
        CoreError::BadRequest { code, .. } => code,
        other => panic!("not a refusal: {other:?}"),
    }
}

/// The demo company, plus what the demo does not make: a saved view, a notification, a failed
/// login, a session and an API token.
async fn fill(app: &TestApp) {
    guanxi_seed::demo::seed_demo(&app.core).await.unwrap();
    let admin = users::find_by_email(&app.core.db, "admin@demo.guanxi.local")
        .await
        .unwrap()
        .unwrap();
    let actor = users::actor_for(&app.core, &admin).await.unwrap();
    saved_views::save(
        &app.core.db,
        app.core.registry,
        &actor,
        "contact",
        &ViewInput {
            name: "北京的联系人".into(),
            filter: Some(json!({"field": "name", "op": "contains", "value": "王"})),
            sort: Some("-updated_at".into()),
            columns: vec!["name".into(), "phones".into()],
            shared: false,
        },
    )
    .await
    .unwrap();
    let txn = app.core.db.begin().await.unwrap();
    notifications::notify(
        &app.core,
        &txn,
        Notice {
            user_id: admin.id,
            kind: "reminder",
            params: json!({"title": "回访客户", "null": null}),
            about: None,
            visible_at: guanxi_core::now(),
        },
    )
    .await
    .unwrap();
    guanxi_core::jobs::enqueue(
        &txn,
        guanxi_core::jobs::NewJob::new("email", json!({"to": "王芳 <wf@example.cn>", "n": 1.5})),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let _ = app.user("sales", None).await; // an API token
    let res = browser()
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@demo.guanxi.local"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    login(&app.base, guanxi_seed::demo::DEMO_PASSWORD).await;
}

/// Logs the demo administrator in; returns the session cookie.
async fn login(base: &str, password: &str) -> String {
    let res = browser()
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@demo.guanxi.local"),
            ("password", password),
            ("next", "/accounts"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "login: {}", res.status());
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("guanxi_session="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn get(base: &str, cookie: &str, path: &str) -> Value {
    let res = browser()
        .get(format!("{base}{path}"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// The moved database serves: login with the demo password, search by pinyin and by phone, a
/// record's history.
async fn serves(source: &TestApp, url: &str) {
    let (base, _core) = source.serve_database(url).await;
    let cookie = login(&base, guanxi_seed::demo::DEMO_PASSWORD).await;
    let contacts = get(&base, &cookie, "/api/v1/contacts?limit=50").await;
    let contact = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["phones"].as_array().is_some_and(|p| !p.is_empty()))
        .expect("a contact with a phone")
        .clone();
    let id = contact["id"].as_str().unwrap();
    let name = format!(
        "{}{}",
        contact["family_name"].as_str().unwrap_or_default(),
        contact["given_name"].as_str().unwrap_or_default()
    );
    let pinyin = guanxi_core::search::text::pinyin_tokens(&name)
        .into_iter()
        .filter(|t| t.chars().all(|c| c.is_ascii_alphabetic()))
        .max_by_key(String::len)
        .expect("a pinyin token");
    let phone = contact["phones"][0]["number"]
        .as_str()
        .unwrap()
        .trim_start_matches('+')
        .to_string();
    for q in [pinyin.as_str(), phone.as_str()] {
        let hits = get(
            &base,
            &cookie,
            &format!("/api/v1/search?q={q}&limit=100&entity=contacts"),
        )
        .await;
        assert!(
            hits["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["id"] == id),
            "search {q} finds {name}: {hits}"
        );
    }
    let history = get(&base, &cookie, &format!("/api/v1/contacts/{id}/history")).await;
    assert!(
        !history["data"].as_array().unwrap().is_empty(),
        "history of {name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_database_moves_to_postgresql_and_back_with_nothing_lost() {
    let source = spawn(Backend::Sqlite).await;
    fill(&source).await;
    let other = *backends().last().unwrap();
    let target = spawn(other).await;
    let back = spawn(Backend::Sqlite).await;
    let (e1, e2, e3) = (temp_dir("e1"), temp_dir("e2"), temp_dir("e3"));

    let out = moveall::export_all(&source.url, &e1, &quiet).await.unwrap();
    assert!(out.rows > 5_000, "{}", out.rows);
    let manifest = moveall::read_manifest(&e1).unwrap();
    for t in [
        "users",
        "audit_log",
        "jobs",
        "custom_fields",
        "saved_views",
        "notifications",
    ] {
        let entry = manifest.tables.iter().find(|e| e.name == t).unwrap();
        assert!(entry.rows > 0, "{t} is exported with its rows");
    }
    moveall::import_all(&e1, &target.url, &quiet).await.unwrap();
    moveall::export_all(&target.url, &e2, &quiet).await.unwrap();
    assert_same(&e1, &e2, "source and the copy");
    moveall::import_all(&e2, &back.url, &quiet).await.unwrap();
    moveall::export_all(&back.url, &e3, &quiet).await.unwrap();
    assert_same(&e1, &e3, "source and the copy of the copy");

    serves(&source, &target.url).await;
    serves(&source, &back.url).await;

    // A target that holds data is refused, and keeps what it had.
    let before = rows_in(&target.url).await;
    let e = moveall::import_all(&e1, &target.url, &quiet)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "move_target_not_empty");
    assert_eq!(rows_in(&target.url).await, before);

    // A damaged file, a newer schema: refused, and the empty target stays empty.
    let empty = spawn(other).await;
    let damaged = temp_dir("damaged");
    moveall::export_all(&source.url, &damaged, &quiet)
        .await
        .unwrap();
    let file = damaged.join("tables/contacts.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen('1', "2", 1)).unwrap();
    let e = moveall::import_all(&damaged, &empty.url, &quiet)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "move_checksum_mismatch");
    assert_eq!(rows_in(&empty.url).await, 0);

    let newer = temp_dir("newer");
    moveall::export_all(&source.url, &newer, &quiet)
        .await
        .unwrap();
    let path = newer.join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["migrations"]
        .as_array_mut()
        .unwrap()
        .push(json!("m9999_from_the_future"));
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let e = moveall::import_all(&newer, &empty.url, &quiet)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "move_newer_schema");
    assert_eq!(rows_in(&empty.url).await, 0);

    // A row that cannot load rolls the whole import back.
    let bad = temp_dir("badrow");
    moveall::export_all(&source.url, &bad, &quiet)
        .await
        .unwrap();
    let file = bad.join("tables/contacts.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let last = lines.len() - 1;
    lines[last] = lines[last].replacen('"', "\"x", 1); // not a uuid any more
    let body = lines.join("\n") + "\n";
    std::fs::write(&file, &body).unwrap();
    let path = bad.join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    use sha2::Digest;
    let sum: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for t in m["tables"].as_array_mut().unwrap() {
        if t["name"] == "contacts" {
            t["sha256"] = json!(sum);
        }
    }
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let e = moveall::import_all(&bad, &empty.url, &quiet)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "move_bad_row");
    assert_eq!(rows_in(&empty.url).await, 0, "nothing half-written");

    for d in [e1, e2, e3, damaged, newer, bad] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The export finds its tables in the schema: every table is exported or named as rebuilt, on
/// each backend, and a table added later is exported without an edit.
#[tokio::test]
async fn every_table_is_exported_or_rebuilt() {
    for backend in backends() {
        let app = spawn(backend).await;
        let txn = app.core.db.begin().await.unwrap();
        guanxi_core::db::raw_execute(
            &txn,
            "CREATE TABLE added_later (id BIGINT PRIMARY KEY, note TEXT)",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let dir = temp_dir("tables");
        moveall::export_all(&app.url, &dir, &quiet).await.unwrap();
        let m = moveall::read_manifest(&dir).unwrap();
        let mut named: BTreeSet<String> = m.tables.iter().map(|t| t.name.clone()).collect();
        assert!(named.contains("added_later"), "{backend:?}");
        named.extend(m.rebuilt.iter().map(|d| d.name.clone()));
        let listed = match backend {
            Backend::Sqlite => {
                "SELECT name AS n FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_fts%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
        };
        let rows = guanxi_core::db::raw_query(app.core.db.reader(), listed, vec![])
            .await
            .unwrap();
        for r in rows {
            let n = guanxi_core::db::get_string(&r, "n").unwrap();
            assert!(
                named.contains(&n),
                "{backend:?}: {n} is neither exported nor rebuilt"
            );
        }
        // An export is written only into an empty directory.
        let e = moveall::export_all(&app.url, &dir, &quiet)
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "move_dir_not_empty");
        let _ = std::fs::remove_dir_all(dir);
    }
}
