//! A backup taken while a sales rep creates records through the API restores to a database the
//! real app serves as before: every entity's record reads back identical, with the same tokens;
//! every account created before the backup began is there; lists, search and a representative
//! part of the conformance suite's lifecycle (If-Match, delete, recycle bin, restore, history)
//! work on the restored copy; and it passes SQLite's integrity check. SQLite only: PostgreSQL is
//! backed up with `pg_dump`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guanxi_core::db::backup::{self, Existing};
use guanxi_core::{Role, db};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::conformance::{Gen, cast, changing_patch, entities, get_ok, id_of};
use crate::support::{Backend, spawn};

#[tokio::test]
async fn a_backup_under_api_writes_restores_to_a_database_that_serves_as_before() {
    let app = spawn(Backend::Sqlite).await;
    let (sales, admin) = cast(&app).await;
    let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
    let mut made = Vec::new();
    for def in entities() {
        let (rec, _) = g.full(def, 0).await;
        made.push((*def, id_of(&rec)));
    }

    // A second rep creates accounts through the API without pause while the backup runs.
    let rep = app.user("sales", Some("Conformance")).await;
    let created: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (created, stop) = (created.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let rec = rep
                    .create(
                        "accounts",
                        json!({"kind": "company", "name": format!("备份期间{n}号客户有限公司"), "allow_duplicate": true}),
                    )
                    .await;
                created.lock().unwrap().push((id_of(&rec), Instant::now()));
                n += 1;
            }
            rep
        })
    };
    while created.lock().unwrap().len() < 30 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dir =
        std::env::temp_dir().join(format!("guanxi-restore-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.db");
    let began = Instant::now();
    app.core
        .db
        .backup_to(&file, Existing::Refuse)
        .await
        .unwrap();
    let ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let rep = writer.await.unwrap();
    let created = created.lock().unwrap().clone();
    assert!(created.iter().any(|(_, at)| *at > ended), "writes went on");

    let restored = dir.join("restored.db");
    backup::restore(&file, restored.to_str().unwrap())
        .await
        .unwrap();
    let (base, core) = app.serve_database(restored.to_str().unwrap()).await;
    let check = db::raw_query(core.db.reader(), "PRAGMA integrity_check", vec![])
        .await
        .unwrap();
    assert_eq!(
        db::get_at::<String>(&check[0], 0, "integrity_check").unwrap(),
        "ok"
    );

    // Every entity's record reads back as it did, for the same users with the same tokens.
    let currency = app.core.settings.default_currency.clone();
    for (def, id) in &made {
        let ctx = def.plural;
        let before = g.writer(def);
        let after = before.at(&base);
        let path = format!("/api/v1/{}/{id}", def.plural);
        let was = get_ok(before, &path).await;
        let is = get_ok(&after, &path).await;
        assert_eq!(is.body, was.body, "{ctx}");
        assert_eq!(is.header("etag"), was.header("etag"), "{ctx}");
        let listed = get_ok(&after, &format!("/api/v1/{}?limit=500", def.plural)).await;
        assert!(
            listed.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id.as_str()),
            "{ctx}: listed"
        );

        // The lifecycle, on the restored copy.
        let version = is.body["version"].as_i64().unwrap();
        let (field, change) = changing_patch(def, &is.body, 5, &currency);
        let r = after
            .patch_if_match(&path, version, &json!({field: change.input}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
        assert_eq!(r.body[field], change.canonical, "{ctx}");
        let r = after
            .patch_if_match(&path, version, &json!({field: change.input}))
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{ctx}");
        let r = after.delete_r(&path).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);
        after
            .get_r(&path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let r = after.post_r(&format!("{path}/restore"), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
        let history = get_ok(&after, &format!("{path}/history")).await;
        assert!(
            history.body["data"].as_array().unwrap().len() >= 4,
            "{ctx}: {}",
            history.text
        );
        // The source is untouched by what the restored copy did.
        let r = get_ok(before, &path).await;
        assert_eq!(r.body, was.body, "{ctx}");
    }

    // Every account the rep had created before the backup began is there.
    let rep = rep.at(&base);
    let earlier: Vec<&String> = created
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id)
        .collect();
    assert!(earlier.len() >= 30);
    for id in &earlier {
        get_ok(&rep, &format!("/api/v1/accounts/{id}")).await;
    }
    // Search finds them, and the restored copy takes new records.
    let found = get_ok(
        &rep,
        &format!(
            "/api/v1/search?q={}&entity=accounts&limit=100",
            enc("备份期间0号")
        ),
    )
    .await;
    assert!(found.text.contains(earlier[0].as_str()), "{}", found.text);
    let r = rep
        .send(
            rep.req(Method::POST, "/api/v1/accounts")
                .json(&json!({"kind": "company", "name": "恢复之后的新客户有限公司"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let _: Value = r.body;
    core.db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
