//! The access matrix: every role against every record route, for records of their own, their
//! team-mates' and other teams'; nothing leaks through list, search, count, export or the
//! recycle bin. Plus admin-only routes and role grants changed at run time.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Resp, TestApp, TestUser, backends, spawn};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Scope {
    None,
    Own,
    Team,
    All,
}

struct Member {
    label: &'static str,
    role: &'static str,
    team: Option<&'static str>,
    user: TestUser,
}

/// The default grants of DESIGN.md / the issue: (read, write).
fn grants(role: &str) -> (Scope, Scope) {
    match role {
        "admin" => (Scope::All, Scope::All),
        "manager" => (Scope::Team, Scope::Team),
        "sales" => (Scope::Team, Scope::Own),
        "marketing" | "service" => (Scope::All, Scope::Own),
        "read_only" => (Scope::All, Scope::None),
        other => panic!("role {other}"),
    }
}

fn reaches(scope: Scope, actor: &Member, owner: &Member) -> bool {
    match scope {
        Scope::None => false,
        Scope::Own => actor.user.id == owner.user.id,
        Scope::Team => {
            actor.user.id == owner.user.id || (actor.team.is_some() && actor.team == owner.team)
        }
        Scope::All => true,
    }
}

async fn members(app: &TestApp) -> Vec<Member> {
    let spec: [(&str, &str, Option<&str>); 8] = [
        ("admin", "admin", None),
        ("manager", "manager", Some("A")),
        ("sales1", "sales", Some("A")),
        ("sales2", "sales", Some("A")),
        ("sales3", "sales", Some("B")),
        ("marketing", "marketing", Some("B")),
        ("service", "service", None),
        ("read_only", "read_only", None),
    ];
    let mut out = Vec::new();
    for (label, role, team) in spec {
        out.push(Member {
            label,
            role,
            team,
            user: app.user(role, team).await,
        });
    }
    out
}

fn record_body(plural: &str, owner: &Member) -> Value {
    if plural == "accounts" {
        json!({"kind": "company", "name": format!("Matrixrec {}", owner.label), "owner_id": owner.user.id})
    } else {
        json!({"family_name": "Matrixrec", "given_name": owner.label, "owner_id": owner.user.id})
    }
}

fn ids_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn expect(r: &Resp, want: StatusCode, what: &str) {
    assert_eq!(r.status, want, "{what}: {}", r.text);
    if !want.is_success() {
        let code = match want {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::FORBIDDEN => "forbidden",
            _ => "",
        };
        assert_eq!(r.body["error"]["code"], code, "{what}: {}", r.text);
    }
}

#[tokio::test]
async fn every_role_on_every_record_route() {
    for b in backends() {
        let app = spawn(b).await;
        let team = members(&app).await;
        let admin = &team[0].user;
        for plural in ["accounts", "contacts"] {
            // One record owned by each member, made by the administrator.
            let mut records: Vec<(usize, String)> = Vec::new();
            for (i, owner) in team.iter().enumerate() {
                let rec = admin.create(plural, record_body(plural, owner)).await;
                records.push((i, rec["id"].as_str().expect("id").to_string()));
            }
            for actor in &team {
                let (read, write) = grants(actor.role);
                let u = &actor.user;
                let visible: BTreeSet<String> = records
                    .iter()
                    .filter(|(o, _)| reaches(read, actor, &team[*o]))
                    .map(|(_, id)| id.clone())
                    .collect();
                let ctx = format!("{b:?} {plural} as {}", actor.label);

                // Lists, counts, search and export show exactly what the role may read.
                let r = u
                    .get_r(&format!("/api/v1/{plural}?limit=500&count=true"))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                assert_eq!(ids_of(&r.body["data"]), visible, "{ctx}: list");
                assert_eq!(r.body["total"], visible.len(), "{ctx}: count");
                let r = u
                    .get_r(&format!(
                        "/api/v1/{plural}?limit=1&count=true&sort=-updated_at"
                    ))
                    .await;
                assert_eq!(r.body["total"], visible.len(), "{ctx}: count");
                let r = u
                    .get_r(&format!(
                        "/api/v1/search?q=matrixrec&limit=100&entity={plural}"
                    ))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                assert_eq!(ids_of(&r.body["data"]), visible, "{ctx}: search");
                let r = u.get_r("/api/v1/search?q=matrixrec&limit=100").await;
                let hits: BTreeSet<String> = r.body["data"]
                    .as_array()
                    .expect("hits")
                    .iter()
                    .filter(|h| h["entity"] == plural.trim_end_matches('s'))
                    .filter_map(|h| h["id"].as_str().map(str::to_string))
                    .collect();
                assert_eq!(hits, visible, "{ctx}: search across entities");
                let r = u.get_r(&format!("/api/v1/{plural}/export.csv")).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                let exported: BTreeSet<String> = csv::Reader::from_reader(r.text.as_bytes())
                    .records()
                    .map(|row| row.expect("row")[0].to_string())
                    .collect();
                assert_eq!(exported, visible, "{ctx}: export");
                for (o, id) in &records {
                    if !visible.contains(id) {
                        // Asking for a hidden record by id or by its owner finds nothing.
                        for q in [format!("id={id}"), format!("owner_id={}", team[*o].user.id)] {
                            let r = u.get_r(&format!("/api/v1/{plural}?{q}&count=true")).await;
                            assert_eq!(r.body["data"], json!([]), "{ctx}: {q}");
                            assert_eq!(r.body["total"], 0, "{ctx}: {q}");
                            let r = u.get_r(&format!("/api/v1/{plural}/export.csv?{q}")).await;
                            assert!(!r.text.contains(id.as_str()), "{ctx}: export {q}");
                        }
                    }
                }

                for (o, id) in &records {
                    let owner = &team[*o];
                    let can_read = reaches(read, actor, owner);
                    let can_write = can_read && reaches(write, actor, owner);
                    let what = format!("{ctx} on {}'s record", owner.label);
                    let path = format!("/api/v1/{plural}/{id}");
                    let read_status = if can_read {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    let write_status = |ok: StatusCode| {
                        if !can_read {
                            StatusCode::NOT_FOUND
                        } else if !can_write {
                            StatusCode::FORBIDDEN
                        } else {
                            ok
                        }
                    };
                    expect(&u.get_r(&path).await, read_status, &format!("GET {what}"));
                    expect(
                        &u.get_r(&format!("{path}/history")).await,
                        read_status,
                        &format!("history {what}"),
                    );
                    let r = u
                        .patch_r(
                            &path,
                            &json!({"description": format!("edited by {}", actor.label)}),
                        )
                        .await;
                    expect(&r, write_status(StatusCode::OK), &format!("PATCH {what}"));

                    // Change owner to oneself, then back.
                    let r = u
                        .post_r(
                            &format!("/api/v1/{plural}/change-owner"),
                            &json!({"ids": [id], "owner_id": u.id}),
                        )
                        .await;
                    expect(
                        &r,
                        write_status(StatusCode::OK),
                        &format!("change-owner {what}"),
                    );
                    if r.status.is_success() && actor.user.id != owner.user.id {
                        assert_eq!(r.body["changed"], 1, "{what}");
                        let back = admin
                            .post_r(
                                &format!("/api/v1/{plural}/change-owner"),
                                &json!({"ids": [id], "owner_id": owner.user.id}),
                            )
                            .await;
                        assert_eq!(back.status, StatusCode::OK, "{}", back.text);
                    }

                    // Delete, then restore, each by the actor where allowed, else by admin.
                    let r = u.delete_r(&path).await;
                    expect(
                        &r,
                        write_status(StatusCode::NO_CONTENT),
                        &format!("DELETE {what}"),
                    );
                    if !r.status.is_success() {
                        assert_eq!(admin.delete_r(&path).await.status, StatusCode::NO_CONTENT);
                    }
                    // In the bin: history still follows read access, purge is for admins.
                    expect(
                        &u.get_r(&format!("{path}/history")).await,
                        read_status,
                        &format!("history of deleted {what}"),
                    );
                    if actor.role != "admin" {
                        let r = u
                            .delete_r(&format!(
                                "/api/v1/recycle-bin/{}/{id}",
                                plural.trim_end_matches('s')
                            ))
                            .await;
                        expect(&r, StatusCode::FORBIDDEN, &format!("purge {what}"));
                    }
                    let r = u.post_r(&format!("{path}/restore"), &json!({})).await;
                    expect(&r, write_status(StatusCode::OK), &format!("restore {what}"));
                    if !r.status.is_success() {
                        let back = admin.post_r(&format!("{path}/restore"), &json!({})).await;
                        assert_eq!(back.status, StatusCode::OK, "{}", back.text);
                    }
                    // Nothing moved: the owner is unchanged.
                    let g = admin.get_r(&path).await;
                    assert_eq!(g.body["owner_id"], owner.user.id.to_string(), "{what}");
                }
            }

            // The recycle bin shows each role only what it may read.
            for (_, id) in &records {
                assert_eq!(
                    admin
                        .delete_r(&format!("/api/v1/{plural}/{id}"))
                        .await
                        .status,
                    StatusCode::NO_CONTENT
                );
            }
            for actor in &team {
                let (read, _) = grants(actor.role);
                let visible: BTreeSet<String> = records
                    .iter()
                    .filter(|(o, _)| reaches(read, actor, &team[*o]))
                    .map(|(_, id)| id.clone())
                    .collect();
                for bin in [
                    format!("/api/v1/recycle-bin?entity={plural}"),
                    "/api/v1/recycle-bin".to_string(),
                ] {
                    let r = actor.user.get_r(&bin).await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                    assert_eq!(
                        ids_of(&r.body["data"]),
                        visible,
                        "{b:?} {bin} as {}",
                        actor.label
                    );
                }
                // The list of deleted records is not reachable through the live list.
                let r = actor
                    .user
                    .get_r(&format!("/api/v1/{plural}?count=true"))
                    .await;
                assert_eq!(r.body["total"], 0);
            }
            for (_, id) in &records {
                let r = admin
                    .post_r(&format!("/api/v1/{plural}/{id}/restore"), &json!({}))
                    .await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }
    }
}

#[tokio::test]
async fn administration_routes_are_for_admins() {
    for b in backends() {
        let app = spawn(b).await;
        let team = members(&app).await;
        let admin = &team[0].user;
        let team_a = app.team("A").await;
        let r = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "tier", "label_en": "Tier", "kind": "text"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let cf = r.body["id"].as_str().expect("id").to_string();
        let victim = app.user("sales", Some("A")).await;
        let acc = admin
            .create("accounts", json!({"kind": "company", "name": "Bin"}))
            .await;
        let acc_id = acc["id"].as_str().expect("id").to_string();
        assert_eq!(
            admin
                .delete_r(&format!("/api/v1/accounts/{acc_id}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let users_before = admin.get_r("/api/v1/users").await.body["data"]
            .as_array()
            .expect("users")
            .len();

        for m in team.iter().filter(|m| m.role != "admin") {
            let u = &m.user;
            let ctx = format!("{b:?} as {}", m.label);
            let forbidden: Vec<(Method, String, Value)> = vec![
                (
                    Method::POST,
                    "/api/v1/users".into(),
                    json!({"email": format!("new.{}@example.com", m.label), "name": "New", "role": "admin", "password": "password-123"}),
                ),
                (
                    Method::PATCH,
                    format!("/api/v1/users/{}", victim.id),
                    json!({"name": "Renamed"}),
                ),
                (
                    Method::PATCH,
                    format!("/api/v1/users/{}", victim.id),
                    json!({"disabled": true}),
                ),
                (
                    Method::POST,
                    format!("/api/v1/users/{}/password", victim.id),
                    json!({"password": "taken-over-1"}),
                ),
                // No one promotes themselves or changes their own team.
                (
                    Method::PATCH,
                    format!("/api/v1/users/{}", u.id),
                    json!({"role": "admin"}),
                ),
                (
                    Method::PATCH,
                    format!("/api/v1/users/{}", u.id),
                    json!({"team_id": team_a}),
                ),
                (
                    Method::POST,
                    "/api/v1/teams".into(),
                    json!({"name": "Rogue"}),
                ),
                (
                    Method::PATCH,
                    format!("/api/v1/teams/{team_a}"),
                    json!({"name": "Renamed"}),
                ),
                (Method::DELETE, format!("/api/v1/teams/{team_a}"), json!({})),
                (
                    Method::PUT,
                    "/api/v1/roles/sales/grants/account".into(),
                    json!({"read": "all", "write": "all"}),
                ),
                (
                    Method::POST,
                    "/api/v1/custom-fields".into(),
                    json!({"entity": "account", "key": "rogue", "label_en": "Rogue", "kind": "text"}),
                ),
                (
                    Method::PATCH,
                    format!("/api/v1/custom-fields/{cf}"),
                    json!({"label_en": "Rogue"}),
                ),
                (
                    Method::DELETE,
                    format!("/api/v1/custom-fields/{cf}"),
                    json!({}),
                ),
                (
                    Method::DELETE,
                    format!("/api/v1/recycle-bin/account/{acc_id}"),
                    json!({}),
                ),
            ];
            for (method, path, body) in forbidden {
                let mut rb = u.req(method.clone(), &path);
                if method != Method::DELETE {
                    rb = rb.json(&body);
                }
                let r = u.send(rb).await;
                r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                let _ = &ctx;
            }
            // Reading the directory and one's own changes are allowed.
            for path in [
                "/api/v1/users",
                "/api/v1/teams",
                "/api/v1/roles",
                "/api/v1/custom-fields",
                "/api/v1/me",
                "/api/v1/tokens",
            ] {
                let r = u.get_r(path).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx} GET {path}: {}", r.text);
            }
            let r = u
                .patch_r(
                    &format!("/api/v1/users/{}", u.id),
                    &json!({"name": format!("{} renamed", m.label)}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            assert_eq!(r.body["role"], m.role);
        }
        // Nothing the refused calls asked for happened.
        let users = admin.get_r("/api/v1/users").await;
        assert_eq!(
            users.body["data"].as_array().expect("users").len(),
            users_before
        );
        let v = admin.get_r(&format!("/api/v1/users/{}", victim.id)).await;
        assert_eq!(v.body["name"], "sales user");
        assert_eq!(v.body["disabled"], false);
        assert_eq!(
            admin.get_r(&format!("/api/v1/teams/{team_a}")).await.body["name"],
            "A"
        );
        assert_eq!(
            admin
                .get_r(&format!("/api/v1/custom-fields/{cf}"))
                .await
                .body["label_en"],
            "Tier"
        );
        let roles = admin.get_r("/api/v1/roles").await;
        let sales = roles.body["data"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["role"] == "sales")
            .expect("sales")
            .clone();
        assert_eq!(
            sales["grants"]["account"],
            json!({"read": "team", "write": "own"})
        );
        assert_eq!(
            admin.get_r("/api/v1/recycle-bin").await.body["data"][0]["id"],
            acc_id.as_str()
        );
        // The victim's password was not changed: their old one still logs in.
        let (cookie, _) =
            crate::support::login_cookie(&app, &victim.email, crate::support::PASSWORD).await;
        assert!(!cookie.is_empty());

        // An admin can do all of it.
        let r = admin
            .post_r(
                "/api/v1/users",
                &json!({"email": "Made.By.Admin@Example.com", "name": "新用户", "role": "manager", "team_id": team_a, "password": "password-123", "locale": "zh-CN"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["email"], "made.by.admin@example.com");
        assert_eq!(r.body["role"], "manager");
        assert!(r.body.get("password_hash").is_none() && !r.text.contains("argon2"));
        for (body, field) in [
            (
                json!({"email": "made.by.admin@example.com", "name": "Dup", "role": "sales", "password": "password-123"}),
                "email",
            ),
            (
                json!({"email": "bad", "name": "X", "role": "sales", "password": "password-123"}),
                "email",
            ),
            (
                json!({"email": "x@example.com", "name": "X", "role": "king", "password": "password-123"}),
                "role",
            ),
            (
                json!({"email": "x@example.com", "name": "X", "role": "sales", "password": "short"}),
                "password",
            ),
            (
                json!({"email": "x@example.com", "name": "", "role": "sales", "password": "password-123"}),
                "name",
            ),
            (
                json!({"email": "x@example.com", "name": "X", "role": "sales", "password": "password-123", "team_id": uuid::Uuid::now_v7()}),
                "team_id",
            ),
            (
                json!({"email": "x@example.com", "name": "X", "role": "sales", "password": "password-123", "locale": "fr"}),
                "locale",
            ),
            (
                json!({"email": "x@example.com", "name": "X", "role": "sales", "password": "password-123", "is_admin": true}),
                "is_admin",
            ),
        ] {
            admin.post_r("/api/v1/users", &body).await.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
        }
        // An admin cannot lock themselves out.
        admin
            .patch_r(
                &format!("/api/v1/users/{}", admin.id),
                &json!({"role": "sales"}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("role"),
            );
    }
}

async fn list(u: &TestUser) -> (StatusCode, BTreeSet<String>, Value) {
    let r = u.get_r("/api/v1/accounts?limit=500&count=true").await;
    (r.status, ids_of(&r.body["data"]), r.body["total"].clone())
}

#[tokio::test]
async fn role_grants_changed_at_run_time_take_effect() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let s3 = app.user("sales", Some("B")).await;
        let mk = |u: &TestUser, name: &str| {
            let body = json!({"kind": "company", "name": name, "owner_id": u.id});
            let admin = &admin;
            async move {
                admin.create("accounts", body).await["id"]
                    .as_str()
                    .expect("id")
                    .to_string()
            }
        };
        let a1 = mk(&s1, "Grant One").await;
        let a2 = mk(&s2, "Grant Two").await;
        let a3 = mk(&s3, "Grant Three").await;
        let c1 = s1
            .create(
                "contacts",
                json!({"family_name": "Grant", "given_name": "One"}),
            )
            .await["id"]
            .as_str()
            .expect("id")
            .to_string();
        let set = |ids: &[&String]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let grant = |read: &str, write: &str| json!({"read": read, "write": write});
        let put = |role: &str, entity: &str, body: Value| {
            let path = format!("/api/v1/roles/{role}/grants/{entity}");
            let admin = &admin;
            async move { admin.put_r(&path, &body).await }
        };

        // Default: sales read team, write own.
        assert_eq!(list(&s1).await.1, set(&[&a1, &a2]));

        // Narrow to own: the team-mate's record disappears everywhere.
        let r = put("sales", "account", grant("own", "own")).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["grant"], grant("own", "own"));
        let (_, ids, total) = list(&s1).await;
        assert_eq!(ids, set(&[&a1]), "{b:?}");
        assert_eq!(total, 1);
        s1.get_r(&format!("/api/v1/accounts/{a2}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let hits = s1.get_r("/api/v1/search?q=grant&entity=accounts").await;
        assert_eq!(ids_of(&hits.body["data"]), set(&[&a1]), "{b:?}");
        let csv = s1.get_r("/api/v1/accounts/export.csv").await;
        assert!(!csv.text.contains(&a2) && csv.text.contains(&a1));
        // Contacts keep their own grant.
        assert_eq!(
            s2.get_r(&format!("/api/v1/contacts/{c1}")).await.status,
            StatusCode::OK
        );
        let me = s1.get_r("/api/v1/me").await;
        assert_eq!(me.body["grants"]["account"], grant("own", "own"));

        // Widen to read all, write team: other teams become visible, team-mates editable.
        let r = put("sales", "account", grant("all", "team")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(list(&s1).await.1, set(&[&a1, &a2, &a3]));
        let r = s1
            .patch_r(
                &format!("/api/v1/accounts/{a2}"),
                &json!({"description": "team write"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        s1.patch_r(
            &format!("/api/v1/accounts/{a3}"),
            &json!({"description": "other team"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        // Team write also lets them hand records to team-mates.
        let r = s1
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [a1], "owner_id": s2.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        // No read at all: lists are refused, search and records show nothing, create refused.
        let r = put("sales", "account", grant("none", "none")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        s1.get_r("/api/v1/accounts")
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        s1.get_r("/api/v1/accounts/export.csv").await.assert_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
        assert_eq!(
            s1.get_r("/api/v1/search?q=grant").await.body["data"]
                .as_array()
                .expect("hits")
                .iter()
                .filter(|h| h["entity"] == "account")
                .count(),
            0
        );
        s1.get_r(&format!("/api/v1/accounts/{a1}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        // The recycle bin across entities leaves accounts out; asked for accounts, it refuses.
        assert_eq!(
            s1.delete_r(&format!("/api/v1/contacts/{c1}")).await.status,
            StatusCode::NO_CONTENT
        );
        let bin = s1.get_r("/api/v1/recycle-bin").await;
        assert_eq!(bin.status, StatusCode::OK, "{b:?}: {}", bin.text);
        assert_eq!(ids_of(&bin.body["data"]), set(&[&c1]));
        s1.get_r("/api/v1/recycle-bin?entity=account")
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        s1.post_r(
            "/api/v1/accounts",
            &json!({"kind": "company", "name": "No"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        s1.post_r(
            "/api/v1/accounts/change-owner",
            &json!({"ids": [a2], "owner_id": s1.id}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        // Other roles are unaffected.
        let manager = app.user("manager", Some("A")).await;
        assert_eq!(list(&manager).await.0, StatusCode::OK);

        // Bad grants are refused and change nothing.
        for (role, entity, body, field) in [
            ("sales", "account", grant("own", "all"), "write"),
            ("sales", "account", grant("most", "own"), "read"),
            ("sales", "account", json!({"read": "all"}), "write"),
            (
                "sales",
                "account",
                json!({"read": "all", "write": "own", "x": 1}),
                "x",
            ),
            ("sales", "widget", grant("all", "all"), "entity"),
            ("king", "account", grant("all", "all"), "role"),
            ("admin", "account", grant("own", "own"), "role"),
        ] {
            put(role, entity, body).await.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
        }
        let r = s1.get_r("/api/v1/me").await;
        assert_eq!(r.body["grants"]["account"], grant("none", "none"));
        // Read-only can be given write on its own records.
        let ro = app.user("read_only", None).await;
        ro.post_r(
            "/api/v1/accounts",
            &json!({"kind": "company", "name": "RO"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        let r = put("read_only", "account", grant("all", "own")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = ro
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "RO"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let _ = a3;
    }
}

/// The board's counts and sums, for every role: only the deals each may read.
#[tokio::test]
async fn board_sums_hold_only_what_each_role_may_read() {
    for b in backends() {
        let app = spawn(b).await;
        let team = members(&app).await;
        let admin = &team[0].user;
        let d = crate::board::deals(admin).await;
        let first = d.pipeline["stages"][0]["id"]
            .as_str()
            .expect("stage")
            .to_string();
        // One deal per member who may write, of 1,000 times their place in the matrix.
        let mut owned = Vec::new();
        for (i, owner) in team.iter().enumerate() {
            if grants(owner.role).1 == Scope::None {
                continue;
            }
            let amount = ((i + 1) * 1000).to_string();
            d.open(&owner.user, owner.label, "Qualification", &amount)
                .await;
            owned.push((i, (i + 1) as f64 * 1000.0));
        }
        for actor in &team {
            let (cookie, _) =
                crate::support::login_cookie(&app, &actor.user.email, crate::support::PASSWORD)
                    .await;
            let (status, html) = crate::support::page_as(
                &app,
                Some(&cookie),
                "en",
                &format!(
                    "/opportunities/board?p={}",
                    d.pipeline["id"].as_str().expect("id")
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{b:?} {}", actor.label);
            let readable: Vec<f64> = owned
                .iter()
                .filter(|(o, _)| reaches(grants(actor.role).0, actor, &team[*o]))
                .map(|(_, a)| *a)
                .collect();
            let at = html.find(&format!("id=\"col-{first}\"")).expect("column");
            let col = &html[at..];
            let attr = |name: &str| {
                let m = format!("{name}=\"");
                let s = col.find(&m).expect("attribute") + m.len();
                col[s..].split('"').next().expect("value").to_string()
            };
            assert_eq!(
                attr("data-count"),
                readable.len().to_string(),
                "{b:?} {}",
                actor.label
            );
            let sum: f64 = attr("data-sum")
                .split(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0);
            assert_eq!(sum, readable.iter().sum::<f64>(), "{b:?} {}", actor.label);
        }
    }
}
