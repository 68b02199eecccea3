//! Two clients writing the same record with the same version: exactly one wins, the other gets
//! 412 (If-Match) or 409 (body version), and nothing is lost. Parallel creates all succeed.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Resp, TestUser, audit_rows, backends, count_rows, spawn};

const ROUNDS: usize = 20;

/// Races two PATCHes of one record per round and checks the outcome.
async fn race(a: &TestUser, b: &TestUser, app: &crate::support::TestApp, if_match: bool) {
    let mut updates_won = 0;
    for round in 0..ROUNDS {
        let rec = a
            .create(
                "accounts",
                json!({"kind": "company", "name": format!("Race {round}")}),
            )
            .await;
        let id = rec["id"].as_str().expect("id").to_string();
        let path = format!("/api/v1/accounts/{id}");
        let send = |u: &TestUser, who: &str| {
            // Every round's records are renamed alike: duplicates on purpose.
            let body = if if_match {
                json!({"name": who, "description": format!("{who} wrote this"),
                       "allow_duplicate": true})
            } else {
                json!({"name": who, "description": format!("{who} wrote this"), "version": 1,
                       "allow_duplicate": true})
            };
            let mut rb = u.req(reqwest::Method::PATCH, &path).json(&body);
            if if_match {
                rb = rb.header("If-Match", "\"1\"");
            }
            async move { Resp::read(rb.send().await.expect("PATCH")).await }
        };
        let (ra, rb) = tokio::join!(send(a, "alpha"), send(b, "beta"));
        let (loser_status, loser_code) = if if_match {
            (StatusCode::PRECONDITION_FAILED, "precondition_failed")
        } else {
            (StatusCode::CONFLICT, "version_conflict")
        };
        let (winner, loser, who) = match (ra.status, rb.status) {
            (StatusCode::OK, s) if s == loser_status => (&ra, &rb, "alpha"),
            (s, StatusCode::OK) if s == loser_status => (&rb, &ra, "beta"),
            (x, y) => panic!(
                "{:?} round {round}: expected one 200 and one {loser_status}, got {x} and {y}: {} / {}",
                app.backend, ra.text, rb.text
            ),
        };
        loser.assert_error(loser_status, loser_code, None);
        assert_eq!(winner.body["version"], 2);
        assert_eq!(winner.header("etag").as_deref(), Some("\"2\""));
        // The stored record is the winner's write, whole.
        let g = a.get_r(&path).await;
        assert_eq!(g.body["version"], 2, "{:?}", app.backend);
        assert_eq!(g.body["name"], who);
        assert_eq!(g.body["description"], format!("{who} wrote this"));
        // One update in the history, by the winner.
        assert_eq!(audit_rows(app, &id, Some("update")).await, 1);
        let h = a.get_r(&format!("{path}/history")).await;
        let winner_id = if who == "alpha" { a.id } else { b.id };
        assert_eq!(h.body["data"][0]["actor_id"], winner_id.to_string());
        updates_won += 1;
    }
    assert_eq!(updates_won, ROUNDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_updates_one_wins_with_if_match() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let manager = app.user("manager", Some("A")).await;
        race(&s1, &manager, &app, true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_updates_one_wins_with_body_version() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let manager = app.user("manager", Some("A")).await;
        race(&s1, &manager, &app, false).await;
    }
}

/// Updates without any version are last-writer-wins but never lose a field write: each
/// success is one version step and one history entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unversioned_concurrent_updates_each_count() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let rec = s1
            .create("accounts", json!({"kind": "company", "name": "Counter"}))
            .await;
        let id = rec["id"].as_str().expect("id").to_string();
        let path = format!("/api/v1/accounts/{id}");
        let mut set = tokio::task::JoinSet::new();
        for i in 0..10 {
            let (base, token, path) = (s1.base.clone(), s1.token.clone(), path.clone());
            set.spawn(async move {
                let res = reqwest::Client::new()
                    .patch(format!("{base}{path}"))
                    .bearer_auth(token)
                    .json(&json!({"description": format!("writer {i}")}))
                    .send()
                    .await
                    .expect("PATCH");
                Resp::read(res).await
            });
        }
        let mut ok = 0;
        while let Some(r) = set.join_next().await {
            let r = r.expect("task");
            // Without a version, a write that races another is either applied or refused as a
            // conflict; never a server error, never silently dropped.
            match r.status {
                StatusCode::OK => ok += 1,
                StatusCode::CONFLICT => {
                    r.assert_error(StatusCode::CONFLICT, "version_conflict", None)
                }
                s => panic!("{b:?}: unexpected {s}: {}", r.text),
            }
        }
        assert!(ok >= 1, "{b:?}");
        let g = s1.get_r(&path).await;
        assert_eq!(
            g.body["version"],
            1 + ok as i64,
            "{b:?}: one version step per success"
        );
        assert_eq!(audit_rows(&app, &id, Some("update")).await, ok as i64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_creates_all_succeed() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..50 {
            let u = if i % 2 == 0 { &s1 } else { &s2 };
            let (base, token) = (u.base.clone(), u.token.clone());
            let (plural, body) = if i % 5 == 0 {
                (
                    "contacts",
                    json!({"family_name": "并", "given_name": format!("发{i}"), "phones": [{"number": format!("1381234{i:04}")}]}),
                )
            } else {
                (
                    "accounts",
                    json!({"kind": "company", "name": format!("并发公司 {i}"), "emails": [{"address": format!("x{i}@bingfa{i}.cn")}]}),
                )
            };
            set.spawn(async move {
                let res = reqwest::Client::new()
                    .post(format!("{base}/api/v1/{plural}"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("POST");
                Resp::read(res).await
            });
        }
        let mut ids = HashSet::new();
        while let Some(r) = set.join_next().await {
            let r = r.expect("task");
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
            ids.insert(r.body["id"].as_str().expect("id").to_string());
        }
        assert_eq!(ids.len(), 50);
        assert_eq!(count_rows(&app, "accounts").await, 40);
        assert_eq!(count_rows(&app, "contacts").await, 10);
        assert_eq!(count_rows(&app, "audit_log").await, 50);
        assert_eq!(count_rows(&app, "search_entries").await, 50);
        let r = s1.get_r("/api/v1/accounts?count=true&limit=500").await;
        assert_eq!(r.body["total"], 40);
        let hits = s1
            .get_r("/api/v1/search?q=并发&limit=100&entity=accounts")
            .await;
        assert_eq!(
            hits.body["data"].as_array().map(Vec::len),
            Some(40),
            "{b:?}: {}",
            hits.text
        );
    }
}

/// A delete racing an update: one of them wins cleanly, and the record ends up consistent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_update_leaves_a_consistent_record() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let manager = app.user("manager", Some("A")).await;
        for round in 0..10 {
            let rec = s1
                .create(
                    "accounts",
                    json!({"kind": "company", "name": format!("Doomed {round}")}),
                )
                .await;
            let id = rec["id"].as_str().expect("id").to_string();
            let path = format!("/api/v1/accounts/{id}");
            let del = s1
                .req(reqwest::Method::DELETE, &path)
                .header("If-Match", "\"1\"");
            let upd = manager
                .req(reqwest::Method::PATCH, &path)
                .header("If-Match", "\"1\"")
                .json(&json!({"description": "late"}));
            let (rd, ru) = tokio::join!(
                async { Resp::read(del.send().await.expect("DELETE")).await },
                async { Resp::read(upd.send().await.expect("PATCH")).await }
            );
            let statuses = (rd.status, ru.status);
            let deleted = s1.get_r("/api/v1/recycle-bin?entity=account").await;
            let in_bin = deleted.body["data"]
                .as_array()
                .expect("bin")
                .iter()
                .any(|r| r["id"] == id.as_str());
            match statuses {
                (StatusCode::NO_CONTENT, s) => {
                    assert!(
                        s == StatusCode::PRECONDITION_FAILED || s == StatusCode::NOT_FOUND,
                        "{b:?}: update after delete: {s} {}",
                        ru.text
                    );
                    assert!(in_bin);
                    assert_eq!(audit_rows(&app, &id, Some("update")).await, 0);
                }
                (StatusCode::PRECONDITION_FAILED, StatusCode::OK) => {
                    assert!(!in_bin);
                    let g: Value = s1.get_r(&path).await.body;
                    assert_eq!(g["description"], "late");
                    assert_eq!(audit_rows(&app, &id, Some("delete")).await, 0);
                }
                other => panic!("{b:?}: {other:?}: {} / {}", rd.text, ru.text),
            }
        }
    }
}

/// Creating the same e-mail address from many tasks at once makes one user; every other create
/// gets the field error a single duplicate gets, not a database error.
#[tokio::test]
async fn concurrent_creates_of_one_email_make_one_user() {
    use guanxi_core::CoreError;
    use guanxi_core::identity::{NewUser, users};
    for b in backends() {
        let app = spawn(b).await;
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let db = app.core.db.clone();
                tokio::spawn(async move {
                    users::create(
                        &db,
                        None,
                        NewUser {
                            email: "same.person@example.com".into(),
                            name: format!("Same {i}"),
                            role: "sales".into(),
                            team_id: None,
                            password: "a long enough password".into(),
                            locale: None,
                        },
                    )
                    .await
                })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(_) => created += 1,
                Err(CoreError::Validation(fields)) => {
                    assert!(
                        fields["email"].code == guanxi_core::codes::ALREADY_IN_USE,
                        "{b:?}: {fields:?}"
                    )
                }
                Err(e) => panic!("{b:?}: {e}"),
            }
        }
        assert_eq!(created, 1, "{b:?}");
    }
}
