//! Bad input gets the right 4xx with the error body naming the field, and nothing is written;
//! garbage sent to every route never produces a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_records::{concrete, routes as served_routes};
use crate::support::{Resp, TestApp, TestUser, audit_rows, backends, count_rows, spawn};

/// Everything a failed request must leave untouched.
#[derive(Debug, PartialEq)]
struct Snapshot {
    accounts: i64,
    contacts: i64,
    audit: i64,
    search: i64,
    points: i64,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    Snapshot {
        accounts: count_rows(app, "accounts").await,
        contacts: count_rows(app, "contacts").await,
        audit: count_rows(app, "audit_log").await,
        search: count_rows(app, "search_entries").await,
        points: count_rows(app, "contact_points").await,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

#[tokio::test]
async fn invalid_record_fields_are_named_and_nothing_is_written() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("A")).await;
        let acc = sales
            .create("accounts", json!({"kind": "company", "name": "Valid Co"}))
            .await;
        let id = acc["id"].as_str().expect("id").to_string();
        let before = snapshot(&app).await;

        let base = || json!({"kind": "company", "name": "Bad Input Co"});
        let with = |k: &str, v: Value| {
            let mut o = base();
            o[k] = v;
            o
        };
        let cases: Vec<(Value, &str, &str)> = vec![
            (with("colour", json!("red")), "colour", "unknown_field"),
            (with("name", json!(123)), "name", "not_a_string"),
            (with("name", json!("x".repeat(201))), "name", "too_long"),
            (with("name", json!("中".repeat(201))), "name", "too_long"),
            (
                with("name", json!("bad\u{0}name")),
                "name",
                "control_characters",
            ),
            (with("name", json!("")), "name", "required"),
            (json!({"kind": "company"}), "name", "required"),
            (json!({"name": "No Kind"}), "kind", "required"),
            (with("kind", json!("alien")), "kind", "not_one_of"),
            (with("type", json!("vip")), "type", "not_one_of"),
            (with("rating", json!(3)), "rating", "not_a_string"),
            (
                with("employees", json!("many")),
                "employees",
                "not_a_whole_number",
            ),
            (with("employees", json!(-1)), "employees", "out_of_range"),
            (
                with("employees", json!(1.5)),
                "employees",
                "not_a_whole_number",
            ),
            (
                with("employees", json!(1e30)),
                "employees",
                "not_a_whole_number",
            ),
            (
                with("annual_revenue", json!({"amount": "abc"})),
                "annual_revenue",
                "not_a_number",
            ),
            (
                with(
                    "annual_revenue",
                    json!({"amount": "1.234", "currency": "CNY"}),
                ),
                "annual_revenue",
                "too_many_decimals",
            ),
            (
                with("annual_revenue", json!({"amount": "1", "currency": "yuan"})),
                "annual_revenue",
                "not_a_currency",
            ),
            (
                with(
                    "annual_revenue",
                    json!({"amount": "99999999999999999999999"}),
                ),
                "annual_revenue",
                "too_large",
            ),
            (
                with(
                    "annual_revenue",
                    json!({"amount": "79228162514264337593543950335"}),
                ),
                "annual_revenue",
                "too_large",
            ),
            (
                with("annual_revenue", json!("-79228162514264337593543950335")),
                "annual_revenue",
                "too_large",
            ),
            (
                with("annual_revenue", json!(1e300)),
                "annual_revenue",
                "not_a_number",
            ),
            (
                with("annual_revenue", json!(true)),
                "annual_revenue",
                "not_a_number",
            ),
            (with("phones", json!("13812345678")), "phones", "not_a_list"),
            (
                with("phones", json!([{"number": "not a phone"}])),
                "phones",
                "invalid_phone",
            ),
            (
                with("phones", json!([{"number": "12"}])),
                "phones",
                "invalid_phone",
            ),
            (
                with("phones", json!([{"number": 13812345678u64}])),
                "phones",
                "not_a_string",
            ),
            (
                with("phones", json!([{"number": "13812345678", "ext": "1"}])),
                "phones",
                "unknown_key",
            ),
            (
                with(
                    "phones",
                    json!([{"number": "13812345678", "label": "x".repeat(33)}]),
                ),
                "phones",
                "too_long",
            ),
            (
                with(
                    "phones",
                    Value::Array(vec![json!({"number": "13812345678"}); 21]),
                ),
                "phones",
                "too_many_entries",
            ),
            (
                with("emails", json!([{"address": "not-an-email"}])),
                "emails",
                "invalid_email",
            ),
            (
                with("emails", json!([{"address": "a@b"}])),
                "emails",
                "invalid_email",
            ),
            (
                with("emails", json!([{"address": "a b@example.com"}])),
                "emails",
                "invalid_email",
            ),
            (
                with("emails", json!({"address": "a@example.com"})),
                "emails",
                "not_a_list",
            ),
            (
                with("website", json!("not a website")),
                "website",
                "invalid_website",
            ),
            (
                with("tax_id", json!("91350100M000100Y44")),
                "tax_id",
                "invalid_tax_id",
            ),
            (with("tax_id", json!("税号")), "tax_id", "invalid_tax_id"),
            (
                with("billing_address", json!("北京市")),
                "billing_address",
                "not_an_object",
            ),
            (
                with("billing_address", json!({"planet": "Mars"})),
                "billing_address",
                "unknown_key",
            ),
            (
                with("billing_address", json!({"city": "x".repeat(201)})),
                "billing_address",
                "too_long",
            ),
            (
                with("former_names", json!("old")),
                "former_names",
                "not_a_list",
            ),
            (
                with("former_names", json!([1, 2])),
                "former_names",
                "not_a_string",
            ),
            (
                with("former_names", Value::Array(vec![json!("n"); 21])),
                "former_names",
                "too_many_entries",
            ),
            (
                with("description", json!("x".repeat(10_001))),
                "description",
                "too_long",
            ),
            (
                with("parent_id", json!("not-an-id")),
                "parent_id",
                "not_an_id",
            ),
            (
                with("parent_id", json!(uuid::Uuid::now_v7())),
                "parent_id",
                "no_such_record",
            ),
            (with("parent_id", json!(42)), "parent_id", "not_an_id"),
            (with("domain", json!("example.com")), "domain", "computed"),
            (with("id", json!(uuid::Uuid::now_v7())), "id", "read_only"),
            (with("version", json!(1)), "version", "read_only"),
            (
                with("created_at", json!("2020-01-01T00:00:00Z")),
                "created_at",
                "read_only",
            ),
            (with("deleted_at", json!(null)), "deleted_at", "read_only"),
            (
                with("owner_id", json!("not-an-id")),
                "owner_id",
                "not_an_id",
            ),
            (with("owner_id", json!(7)), "owner_id", "not_an_id"),
            (
                with("owner_id", json!(uuid::Uuid::now_v7())),
                "owner_id",
                "no_such_user",
            ),
            (with("custom", json!("x")), "custom", "not_an_object"),
            (
                with("custom", json!({"nope": 1})),
                "custom.nope",
                "unknown_field",
            ),
        ];
        for (body, field, code) in &cases {
            let r = sales.post_r("/api/v1/accounts", body).await;
            r.assert_field(field, code);
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(field)),
                "{b:?}: the message names {field}: {}",
                r.text
            );
            // The same field is refused on update.
            let mut patch = body.clone();
            if let Some(o) = patch.as_object_mut()
                && *field != "name"
                && *field != "kind"
            {
                o.remove("name");
                o.remove("kind");
            }
            let top = field.split('.').next().unwrap_or(field);
            if *field != "version" && patch.get(top).is_some() {
                let r = sales
                    .patch_r(&format!("/api/v1/accounts/{id}"), &patch)
                    .await;
                assert_eq!(r.status, UNPROCESSABLE, "{b:?} PATCH {patch}: {}", r.text);
            }
        }
        // Several bad fields are all named at once.
        let r = sales
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "alien", "name": "", "emails": [{"address": "x"}], "colour": 1}),
            )
            .await;
        r.assert_error(UNPROCESSABLE, "validation_failed", None);
        for f in ["kind", "name", "emails", "colour"] {
            assert!(
                r.body["error"]["fields"][f]["code"].is_string(),
                "{f}: {}",
                r.text
            );
        }
        // Contacts: their own kinds.
        for (body, field, code) in [
            (
                json!({"given_name": "A", "birthday": "31/12/1990"}),
                "birthday",
                "not_a_date",
            ),
            (
                json!({"given_name": "A", "birthday": "1990-02-30"}),
                "birthday",
                "not_a_date",
            ),
            (
                json!({"given_name": "A", "birthday": 19900101}),
                "birthday",
                "not_a_date",
            ),
            (
                json!({"given_name": "A", "do_not_call": "yes"}),
                "do_not_call",
                "not_a_boolean",
            ),
            (
                json!({"given_name": "A", "do_not_email": 1}),
                "do_not_email",
                "not_a_boolean",
            ),
            (
                json!({"given_name": "A", "salutation": "sir"}),
                "salutation",
                "not_one_of",
            ),
            (
                json!({"given_name": "A", "preferred_channel": "fax"}),
                "preferred_channel",
                "not_one_of",
            ),
            (
                json!({"given_name": "A", "account_id": uuid::Uuid::now_v7()}),
                "account_id",
                "no_such_record",
            ),
            (
                json!({"given_name": "A", "wechat_id": "w".repeat(65)}),
                "wechat_id",
                "too_long",
            ),
            (
                json!({"title": "CEO"}),
                "family_name",
                "family_or_given_name_required",
            ),
            (
                json!({"given_name": "A", "name": "A B"}),
                "name",
                "computed",
            ),
        ] {
            sales
                .post_r("/api/v1/contacts", &body)
                .await
                .assert_field(field, code);
        }

        let after = snapshot(&app).await;
        assert_eq!(before, after, "{b:?}: a refused request wrote something");
        let g = sales.get_r(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(g.body["version"], 1, "{b:?}");
        assert_eq!(g.body["name"], "Valid Co");
        assert_eq!(audit_rows(&app, &id, None).await, 1);
    }
}

#[tokio::test]
async fn stale_versions_owners_and_references() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let s3 = app.user("sales", Some("B")).await;
        let disabled = app.user("sales", Some("A")).await;
        let r = admin
            .patch_r(
                &format!("/api/v1/users/{}", disabled.id),
                &json!({"disabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        let acc = s1
            .create("accounts", json!({"kind": "company", "name": "Versioned"}))
            .await;
        let id = acc["id"].as_str().expect("id").to_string();
        let path = format!("/api/v1/accounts/{id}");
        let r = s1
            .patch_if_match(&path, 1, &json!({"description": "一"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
        let before = snapshot(&app).await;

        // Stale If-Match → 412; stale body version → 409; both leave the record alone.
        s1.patch_if_match(&path, 1, &json!({"description": "二"}))
            .await
            .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
        s1.patch_r(&path, &json!({"description": "二", "version": 1}))
            .await
            .assert_error(StatusCode::CONFLICT, "version_conflict", None);
        let e = s1
            .patch_r(&path, &json!({"version": "two"}))
            .await
            .assert_field("version", "not_a_whole_number")
            .clone();
        assert_eq!(e["params"]["value"], "two");
        for v in ["W/\"1\"", "1", "\"99\""] {
            let r = s1
                .send(
                    s1.req(Method::PATCH, &path)
                        .header("If-Match", v)
                        .json(&json!({"description": "三"})),
                )
                .await;
            r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
        }
        for v in ["\"abc\"", "*x", ""] {
            let r = s1
                .send(
                    s1.req(Method::PATCH, &path)
                        .header("If-Match", v)
                        .json(&json!({"description": "三"})),
                )
                .await;
            r.assert_error(StatusCode::BAD_REQUEST, "invalid_if_match", None);
        }
        let r = s1
            .send(s1.req(Method::DELETE, &path).header("If-Match", "\"1\""))
            .await;
        r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
        // A weak ETag of the current version works.
        let r = s1
            .send(
                s1.req(Method::PATCH, &path)
                    .header("If-Match", "W/\"2\"")
                    .json(&json!({"description": "四"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut before = before;
        before.audit += 1;

        // Owners: missing, foreign (outside the caller's write scope), disabled, malformed.
        for (owner, who, code) in [
            (json!(uuid::Uuid::now_v7()), &s1, "no_such_user"),
            (json!(s3.id), &s1, "owner_out_of_reach"),
            (json!(s2.id), &s1, "owner_out_of_reach"),
            (json!(disabled.id), &admin, "user_disabled"),
            (json!("me"), &s1, "not_an_id"),
        ] {
            who.post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "Owned", "owner_id": owner}),
            )
            .await
            .assert_field("owner_id", code);
            who.patch_r(&path, &json!({"owner_id": owner}))
                .await
                .assert_field("owner_id", code);
        }

        // References: deleted, unknown, unreadable, self and cycles.
        let parent = s1
            .create("accounts", json!({"kind": "company", "name": "Parent"}))
            .await;
        let pid = parent["id"].as_str().expect("id").to_string();
        let child = s1
            .create(
                "accounts",
                json!({"kind": "company", "name": "Child", "parent_id": pid}),
            )
            .await;
        let cid = child["id"].as_str().expect("id").to_string();
        let grandchild = s1
            .create(
                "accounts",
                json!({"kind": "company", "name": "Grandchild", "parent_id": cid}),
            )
            .await;
        let gid = grandchild["id"].as_str().expect("id").to_string();
        before.accounts += 3;
        before.audit += 3;
        before.search += 3;
        let other_team = s3
            .create("accounts", json!({"kind": "company", "name": "B only"}))
            .await;
        let oid = other_team["id"].as_str().expect("id").to_string();
        before.accounts += 1;
        before.audit += 1;
        before.search += 1;
        let doomed = s1
            .create("accounts", json!({"kind": "company", "name": "Doomed"}))
            .await;
        let did = doomed["id"].as_str().expect("id").to_string();
        assert_eq!(
            s1.delete_r(&format!("/api/v1/accounts/{did}")).await.status,
            StatusCode::NO_CONTENT
        );
        before.accounts += 1;
        before.audit += 2;

        for (target, field, plural, code) in [
            (&did, "parent_id", "accounts", "in_recycle_bin"),
            (&oid, "parent_id", "accounts", "no_such_record"),
            (&did, "account_id", "contacts", "in_recycle_bin"),
            (&oid, "account_id", "contacts", "no_such_record"),
        ] {
            let mut body = if plural == "accounts" {
                json!({"kind": "company", "name": "Ref"})
            } else {
                json!({"family_name": "引"})
            };
            body[field] = json!(target);
            let r = s1.post_r(&format!("/api/v1/{plural}"), &body).await;
            // The entity referred to is a param, worded as its name.
            assert_eq!(r.assert_field(field, code)["params"]["entity"], "account");
        }
        for (rec, new_parent, code) in [
            (&pid, &gid, "own_ancestor"),
            (&pid, &cid, "own_ancestor"),
            (&cid, &cid, "refers_to_itself"),
            (&pid, &pid, "refers_to_itself"),
        ] {
            s1.patch_r(
                &format!("/api/v1/accounts/{rec}"),
                &json!({"parent_id": new_parent}),
            )
            .await
            .assert_field("parent_id", code);
        }
        s1.patch_r(&path, &json!({"parent_id": did}))
            .await
            .assert_field("parent_id", "in_recycle_bin");

        let after = snapshot(&app).await;
        assert_eq!(before, after, "{b:?}: a refused request wrote something");
        let g = s1.get_r(&path).await;
        assert_eq!(g.body["version"], 3, "{b:?}");
        assert_eq!(g.body["description"], "四");
        assert_eq!(g.body["owner_id"], s1.id.to_string());
        assert_eq!(g.body["parent_id"], Value::Null);
        assert_eq!(audit_rows(&app, &id, Some("update")).await, 2);
        let g = s1.get_r(&format!("/api/v1/accounts/{pid}")).await;
        assert_eq!(g.body["parent_id"], Value::Null);
        assert_eq!(g.body["version"], 1);
        // A record whose parent is later deleted can still be edited.
        assert_eq!(
            s1.delete_r(&format!("/api/v1/accounts/{pid}")).await.status,
            StatusCode::NO_CONTENT
        );
        let r = s1
            .patch_r(
                &format!("/api/v1/accounts/{cid}"),
                &json!({"description": "仍可编辑"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
    }
}

#[tokio::test]
async fn list_parameters_are_checked() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("A")).await;
        sales
            .create("accounts", json!({"kind": "company", "name": "Listed"}))
            .await;
        let bad_filter = |q: String| (q, "invalid_filter");
        let cases: Vec<(String, &str)> = vec![
            bad_filter("colour=red".into()),
            bad_filter("custom.nope=1".into()),
            bad_filter("billing_address=北京".into()),
            bad_filter("billing_address.planet=Mars".into()),
            bad_filter("name.first=x".into()),
            bad_filter("name[like]=x".into()),
            bad_filter("name[contains=x".into()),
            bad_filter("name[gt]=x".into()),
            bad_filter("employees[gt]=abc".into()),
            bad_filter("employees[contains]=1".into()),
            bad_filter("created_at[gt]=yesterday".into()),
            bad_filter("owner_id=someone".into()),
            bad_filter("phones=notaphone".into()),
            bad_filter("phones[gt]=1".into()),
            bad_filter("phones[contains]=abc".into()),
            bad_filter("annual_revenue[gt]=lots".into()),
            bad_filter("deleted_at[empty]=".into()),
            bad_filter("password_hash=x".into()),
            // Lists do not search; a `q` must not be silently ignored.
            bad_filter("q=acme".into()),
            bad_filter(format!("filter={}", enc("{not json"))),
            bad_filter(format!("filter={}", enc("[1,2]"))),
            bad_filter(format!(
                "filter={}",
                enc(r#"{"field": "colour", "value": 1}"#)
            )),
            bad_filter(format!(
                "filter={}",
                enc(r#"{"field": "name", "op": "regex", "value": 1}"#)
            )),
            bad_filter(format!("filter={}", enc(r#"{"and": {"field": "name"}}"#))),
            bad_filter(format!(
                "filter={}",
                enc(r#"{"field": "name", "value": "x", "sql": "1=1"}"#)
            )),
            bad_filter(format!("filter={}", enc(r#"{"op": "eq", "value": "x"}"#))),
            bad_filter(format!(
                "filter={}",
                enc(r#"{"field": "type", "op": "in", "value": []}"#)
            )),
            ("sort=description".into(), "invalid_sort"),
            ("sort=phones".into(), "invalid_sort"),
            ("sort=-colour".into(), "invalid_sort"),
            ("sort=custom.tier".into(), "invalid_sort"),
            ("sort=deleted_at".into(), "invalid_sort"),
            ("sort=--name".into(), "invalid_sort"),
            ("cursor=garbage".into(), "invalid_cursor"),
            ("cursor=%21%21%21".into(), "invalid_cursor"),
            // Valid base64 of JSON that is not a cursor, and a cursor with a bad timestamp.
            ("cursor=e30".into(), "invalid_cursor"),
            (
                format!(
                    "cursor={}",
                    base64_url(
                        r#"{"s":"-created_at","v":"not a time","id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            (
                format!(
                    "cursor={}",
                    base64_url(
                        r#"{"s":"-created_at","v":17,"id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            (format!("cursor={}", "A".repeat(3000)), "invalid_cursor"),
            // A value that does not fit the sort's type: 400, never a database error.
            (
                format!(
                    "sort=employees&cursor={}",
                    base64_url(
                        r#"{"s":"employees","v":"many","id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            (
                format!(
                    "sort=-annual_revenue&cursor={}",
                    base64_url(
                        r#"{"s":"-annual_revenue","v":"150.00","id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            (
                format!(
                    "sort=name&cursor={}",
                    base64_url(
                        r#"{"s":"name","v":null,"id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            ("limit=0".into(), "invalid_limit"),
            ("limit=501".into(), "invalid_limit"),
            ("limit=-1".into(), "invalid_limit"),
            ("limit=ten".into(), "invalid_limit"),
            ("limit=".into(), "invalid_limit"),
        ];
        for (qs, code) in &cases {
            let r = sales.get_r(&format!("/api/v1/accounts?{qs}")).await;
            r.assert_error(StatusCode::BAD_REQUEST, code, None);
            // The export and the recycle bin check the same way.
            if *code != "invalid_cursor" {
                let r = sales
                    .get_r(&format!("/api/v1/accounts/export.csv?{qs}"))
                    .await;
                r.assert_error(StatusCode::BAD_REQUEST, code, None);
            }
        }
        // Contacts check their own fields.
        for (qs, code) in [
            ("billing_address.city=x", "invalid_filter"),
            ("employees=1", "invalid_filter"),
            ("birthday[gt]=someday", "invalid_filter"),
            ("do_not_call=perhaps", "invalid_filter"),
            ("do_not_call[gt]=true", "invalid_filter"),
            ("account_id=acme", "invalid_filter"),
            ("sort=account_id", "invalid_sort"),
            ("sort=address", "invalid_sort"),
            ("sort=description", "invalid_sort"),
            (
                &format!(
                    "sort=birthday&cursor={}",
                    base64_url(
                        r#"{"s":"birthday","v":"1990-13-01","id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
            (
                &format!(
                    "sort=-do_not_call&cursor={}",
                    base64_url(
                        r#"{"s":"-do_not_call","v":"yes","id":"01a202ec-f67a-770d-9e87-e0036332a154"}"#
                    )
                ),
                "invalid_cursor",
            ),
        ] {
            sales
                .get_r(&format!("/api/v1/contacts?{qs}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, code, None);
        }
        // limit=500 and limit=1 are fine.
        for ok in [
            "limit=1",
            "limit=500",
            "sort=name",
            "sort=-updated_at",
            "cursor=",
        ] {
            let r = sales.get_r(&format!("/api/v1/accounts?{ok}")).await;
            assert_eq!(r.status, StatusCode::OK, "{b:?} {ok}: {}", r.text);
        }
        // Search and recycle-bin parameters.
        sales
            .get_r("/api/v1/search?q=a&limit=0")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_limit", None);
        sales
            .get_r("/api/v1/search?q=a&entity=widgets")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_entity", None);
        sales
            .get_r(&format!("/api/v1/search?q={}", "x".repeat(201)))
            .await
            .assert_error(UNPROCESSABLE, "validation_failed", Some("q"));
        sales
            .get_r("/api/v1/recycle-bin?cursor=abc")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_cursor", None);
        sales
            .get_r("/api/v1/recycle-bin?entity=account&limit=0")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_limit", None);
        sales
            .get_r("/api/v1/recycle-bin?entity=widgets")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_entity", None);
    }
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn malformed_bodies_content_types_and_sizes() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let acc = admin
            .create("accounts", json!({"kind": "company", "name": "Body Co"}))
            .await;
        let id = acc["id"].as_str().expect("id").to_string();
        let before = snapshot(&app).await;
        let targets = [
            (Method::POST, "/api/v1/accounts".to_string()),
            (Method::PATCH, format!("/api/v1/accounts/{id}")),
            (Method::POST, "/api/v1/contacts".to_string()),
            (Method::POST, "/api/v1/accounts/change-owner".to_string()),
            (Method::POST, "/api/v1/users".to_string()),
            (Method::PATCH, "/api/v1/me".to_string()),
            (Method::POST, "/api/v1/teams".to_string()),
            (Method::POST, "/api/v1/custom-fields".to_string()),
            (Method::POST, "/api/v1/saved-views".to_string()),
            (Method::POST, "/api/v1/tokens".to_string()),
            (
                Method::PUT,
                "/api/v1/roles/sales/grants/account".to_string(),
            ),
        ];
        let big = format!(
            "{{\"kind\": \"company\", \"name\": \"Big\", \"description\": \"{}\"}}",
            "x".repeat(crate_body_limit() + 10)
        );
        for (m, path) in &targets {
            let send = |body: Vec<u8>, ct: Option<&str>| {
                let mut rb = admin.req(m.clone(), path).body(body);
                if let Some(ct) = ct {
                    rb = rb.header("Content-Type", ct);
                }
                admin.send(rb)
            };
            send(b"{\"name\": ".to_vec(), Some("application/json"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_json", None);
            send(b"\xff\xfe{}".to_vec(), Some("application/json"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_json", None);
            send(Vec::new(), Some("application/json"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_json", None);
            send(b"{\"name\": \"x\"}".to_vec(), Some("text/plain"))
                .await
                .assert_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    None,
                );
            send(
                b"name=x".to_vec(),
                Some("application/x-www-form-urlencoded"),
            )
            .await
            .assert_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
            );
            send(b"{\"name\": \"x\"}".to_vec(), None)
                .await
                .assert_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    None,
                );
            for non_object in ["[]", "\"x\"", "1", "null", "true", "[{\"name\": \"x\"}]"] {
                send(
                    non_object.as_bytes().to_vec(),
                    Some("application/json; charset=utf-8"),
                )
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_body", None);
            }
            send(big.clone().into_bytes(), Some("application/json"))
                .await
                .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
        }
        // Deeply nested JSON is refused, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let r = admin
            .send(
                admin
                    .req(Method::POST, "/api/v1/accounts")
                    .header("Content-Type", "application/json")
                    .body(deep),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_json", None);
        // A body just under the limit is read (and refused for the field, not the size).
        let near = json!({"kind": "company", "name": "Near", "description": "x".repeat(crate_body_limit() - 200)});
        admin.post_r("/api/v1/accounts", &near).await.assert_error(
            UNPROCESSABLE,
            "validation_failed",
            Some("description"),
        );
        assert_eq!(before, snapshot(&app).await, "{b:?}: nothing written");
    }
}

fn crate_body_limit() -> usize {
    guanxi_web::BODY_LIMIT
}

#[tokio::test]
async fn script_names_round_trip_unchanged_and_render_as_text() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("A")).await;
        let evil = "<script>alert(1)</script>";
        let odd = "O'Brien & \"Sons\" <b>Ltd</b> \\ ; DROP TABLE accounts; --";
        let acc = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": evil, "description": odd, "former_names": [odd],
                       "billing_address": {"street": evil}}),
            )
            .await;
        let id = acc["id"].as_str().expect("id").to_string();
        let con = sales
            .create(
                "contacts",
                json!({"family_name": evil, "given_name": odd, "account_id": id}),
            )
            .await;
        let cid = con["id"].as_str().expect("id").to_string();
        let g = sales.get_r(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(g.body["name"], evil);
        assert_eq!(g.body["description"], odd);
        assert_eq!(g.body["former_names"][0], odd);
        assert_eq!(g.body["billing_address"]["street"], evil);
        assert!(
            g.header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
        let r = sales
            .get_r(&format!("/api/v1/accounts?name={}", enc(evil)))
            .await;
        assert_eq!(r.ids(), vec![id.clone()], "{b:?}");
        let r = sales
            .get_r(&format!("/api/v1/accounts?description={}", enc(odd)))
            .await;
        assert_eq!(r.ids(), vec![id.clone()], "{b:?}");
        let r = sales
            .get_r(&format!("/api/v1/search?q={}", enc("script")))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        // Everything still there, nothing dropped.
        assert_eq!(count_rows(&app, "accounts").await, 1);
        // Pages show the text escaped.
        let (cookie, _) =
            crate::support::login_cookie(&app, &sales.email, crate::support::PASSWORD).await;
        for page in [
            format!("/accounts/{id}"),
            format!("/contacts/{cid}"),
            "/accounts".to_string(),
            "/contacts".to_string(),
            format!("/accounts/{id}/edit"),
            format!("/search?q={}", enc("script")),
            format!("/search?q={}", enc(evil)),
            format!("/accounts?name[contains]={}", enc(evil)),
        ] {
            let res = crate::support::browser()
                .get(format!("{}{page}", app.base))
                .header("Cookie", format!("guanxi_session={cookie}"))
                .send()
                .await
                .expect("page");
            assert!(
                res.status().as_u16() < 500,
                "{b:?} {page}: {}",
                res.status()
            );
            let html = res.text().await.expect("html");
            assert!(
                !html.contains(evil),
                "{b:?} {page}: a script tag from data reached the page"
            );
            assert!(!html.contains("<b>Ltd</b>"), "{b:?} {page}");
        }
        let res = crate::support::browser()
            .get(format!("{}/accounts/{id}", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .expect("page");
        let html = res.text().await.expect("html");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || html.contains("&#60;script&#62;"),
            "{b:?}: the name shows as text"
        );
    }
}

/// Garbage for every route, as admin (the widest paths through the code) and anonymously.
#[tokio::test]
async fn garbage_to_every_route_never_yields_a_server_error() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let acc = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Garbage Target"}),
            )
            .await;
        let real_id = acc["id"].as_str().expect("id").to_string();
        let ids = [
            real_id.clone(),
            "not-a-uuid".to_string(),
            "00000000-0000-0000-0000-000000000000".to_string(),
            "%00".to_string(),
            "..%2F..%2Fetc%2Fpasswd".to_string(),
            "x".repeat(3000),
            "%E4%B8%AD".to_string(),
        ];
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("application/json", b"{}".to_vec()),
            ("application/json", b"{\"".to_vec()),
            ("application/json", b"[]".to_vec()),
            ("application/json", b"null".to_vec()),
            ("application/json", b"\x00\x01\x02".to_vec()),
            (
                "application/json",
                json!({"name": "\u{0}", "email": "\u{0}@x.cn", "kind": "\u{0}", "entity": "\u{0}", "key": "\u{0}",
                       "label_en": "\u{0}", "query": "\u{0}", "password": "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
                       "role": "\u{0}", "locale": "\u{0}", "read": "\u{0}", "write": "\u{0}", "options": ["\u{0}"],
                       "ids": ["\u{0}"], "owner_id": "\u{0}", "team_id": "\u{0}", "custom": {"\u{0}": "\u{0}"}})
                .to_string()
                .into_bytes(),
            ),
            (
                "application/json",
                json!({"name": 1e308, "email": [], "kind": {}, "entity": 5, "key": true, "ids": [1, null, {}],
                       "owner_id": [], "team_id": 1, "options": "a", "position": 1e300, "required": "yes",
                       "disabled": "no", "version": -9_223_372_036_854_775_807i64, "custom": [], "read": 1,
                       "employees": 9_223_372_036_854_775_807i64, "annual_revenue": {"amount": "1e400"}})
                .to_string()
                .into_bytes(),
            ),
            (
                "application/json",
                json!({"name": "x".repeat(100_000), "email": format!("{}@example.com", "a".repeat(300)),
                       "entity": "account", "key": "k".repeat(1000), "kind": "text", "label_en": "l".repeat(1000),
                       "query": "q".repeat(10_000), "role": "sales", "password": "p".repeat(10_000)})
                .to_string()
                .into_bytes(),
            ),
            ("text/plain", b"hello".to_vec()),
            ("application/x-www-form-urlencoded", b"_csrf=x&name=%00".to_vec()),
        ];
        let queries = [
            "",
            "?limit=-1&sort=%00&cursor=%ff&filter=%7B",
            "?q=%00&entity=%00&limit=99999999999999999999",
            "?name=%00&custom.x=1&billing_address.city[contains]=%25%5F%5C",
            "?q=%27%22%3B--%20%2F*&sort=-&count=maybe",
            "?filter=%7B%22or%22%3A%5B%5D%7D&q=%E4%B8%AD%E5%A4%AA%20OR%20*%20AND%20%22",
            "?q=%22%27%5C%2A%3A%26%7C%21%28%29%3C-%3E",
            "?name[contains]=%00&q=a%00b&cursor=%00",
        ];
        let mut routes: Vec<(Method, String)> = Vec::new();
        for (m, p) in served_routes() {
            let method: Method = m.to_uppercase().parse().expect("method");
            if p.contains("{id}") {
                for id in &ids {
                    routes.push((method.clone(), concrete(&p, id)));
                }
            } else {
                routes.push((method, concrete(&p, &real_id)));
            }
        }
        for extra in [
            "/api/v1/roles/%00/grants/%00",
            "/api/v1/roles/admin/grants/account",
            "/api/v1/recycle-bin/%00/x",
            "/api/v1/nothing/here",
        ] {
            for m in [Method::GET, Method::PUT, Method::POST, Method::DELETE] {
                routes.push((m, extra.to_string()));
            }
        }
        let mut failures = Vec::new();
        let mut requests = 0;
        for (method, path) in &routes {
            for (i, q) in queries.iter().enumerate() {
                let with_body = matches!(*method, Method::POST | Method::PATCH | Method::PUT);
                let body_set: Vec<&(&str, Vec<u8>)> = if with_body {
                    // Every body once, with the plain query; the other queries with `{}`.
                    if i == 0 {
                        bodies.iter().collect()
                    } else {
                        bodies.iter().take(1).collect()
                    }
                } else {
                    vec![]
                };
                let who: [Option<&TestUser>; 2] = [Some(&admin), None];
                for user in who {
                    let url = format!("{}{path}{q}", app.base);
                    let client = reqwest::Client::new();
                    let mut sends = Vec::new();
                    if body_set.is_empty() {
                        sends.push(client.request(method.clone(), &url));
                    } else {
                        for (ct, body) in &body_set {
                            sends.push(
                                client
                                    .request(method.clone(), &url)
                                    .header("Content-Type", *ct)
                                    .body(body.clone()),
                            );
                        }
                    }
                    for mut rb in sends {
                        if let Some(u) = user {
                            rb = rb.bearer_auth(&u.token);
                        }
                        let res = rb.send().await.expect("request");
                        requests += 1;
                        let status = res.status();
                        if status.is_server_error() {
                            let text = res.text().await.unwrap_or_default();
                            failures.push(format!("{method} {path}{q} → {status} {text}"));
                        }
                    }
                }
            }
        }
        // Field by field: a body each route accepts, with one value at a time replaced by
        // something nasty (a NUL byte, a huge string, the wrong type).
        let team = app.team("Garbage Team").await;
        let cf = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "g_sel", "label_en": "G", "kind": "multi_select", "options": ["a", "b"]}),
            )
            .await;
        assert_eq!(cf.status, StatusCode::CREATED, "{}", cf.text);
        let cf_id = cf.body["id"].as_str().expect("id").to_string();
        let good: Vec<(Method, String, Value)> = vec![
            (
                Method::POST,
                "/api/v1/accounts".into(),
                json!({"kind": "company", "name": "G", "website": "g.cn", "tax_id": "T1", "billing_address": {"city": "c"}, "phones": [{"number": "13812345678", "label": "l"}], "emails": [{"address": "g@g.cn", "label": "l"}], "former_names": ["f"], "annual_revenue": {"amount": "1", "currency": "CNY"}, "custom": {"g_sel": ["a"]}}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/accounts/{real_id}"),
                json!({"name": "G", "description": "d", "owner_id": sales.id}),
            ),
            (
                Method::POST,
                "/api/v1/contacts".into(),
                json!({"family_name": "G", "given_name": "g", "wechat_id": "w", "birthday": "2000-01-01", "account_id": real_id}),
            ),
            (
                Method::POST,
                "/api/v1/accounts/change-owner".into(),
                json!({"ids": [real_id], "owner_id": sales.id}),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                json!({"email": "g@example.com", "name": "G", "role": "sales", "password": "password-1", "locale": "en", "team_id": team}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{}", sales.id),
                json!({"name": "G", "role": "sales", "locale": "en", "team_id": team, "disabled": false}),
            ),
            (
                Method::POST,
                format!("/api/v1/users/{}/password", sales.id),
                json!({"password": "password-2"}),
            ),
            (
                Method::PATCH,
                "/api/v1/me".into(),
                json!({"name": "G", "locale": "zh-CN"}),
            ),
            (Method::POST, "/api/v1/teams".into(), json!({"name": "G"})),
            (
                Method::PATCH,
                format!("/api/v1/teams/{team}"),
                json!({"name": "G2"}),
            ),
            (
                Method::PUT,
                "/api/v1/roles/sales/grants/account".into(),
                json!({"read": "team", "write": "own"}),
            ),
            (Method::POST, "/api/v1/tokens".into(), json!({"name": "G"})),
            (
                Method::POST,
                "/api/v1/custom-fields".into(),
                json!({"entity": "account", "key": "g1", "label_en": "G", "label_zh": "G", "kind": "single_select", "options": ["x"], "required": false, "position": 1}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/custom-fields/{cf_id}"),
                json!({"label_en": "G", "options": ["a", "b", "c"], "position": 2}),
            ),
            (
                Method::POST,
                "/api/v1/saved-views".into(),
                json!({"entity": "account", "name": "G", "query": "a=b"}),
            ),
        ];
        let nasty = [
            json!("\u{0}"),
            json!("a\u{0}b"),
            json!("x".repeat(70_000)),
            json!(-1),
            json!(1.5e300),
            json!(null),
            json!([]),
            json!({}),
            json!(["\u{0}"]),
            json!({"\u{0}": "\u{0}"}),
        ];
        for (method, path, body) in &good {
            for key in body.as_object().expect("object").keys() {
                for v in &nasty {
                    let mut b2 = body.clone();
                    b2[key] = v.clone();
                    let res = admin.send(admin.req(method.clone(), path).json(&b2)).await;
                    requests += 1;
                    if res.status.is_server_error() {
                        failures.push(format!(
                            "{method} {path} {key}={v} → {} {}",
                            res.status, res.text
                        ));
                    }
                }
            }
        }
        // Also a bearer token that is garbage, and an Authorization header that is not UTF-8.
        for auth in ["Bearer ", "Basic abc", "Bearer gx_nope", "bearer x"] {
            let res = reqwest::Client::new()
                .get(format!("{}/api/v1/accounts", app.base))
                .header("Authorization", auth)
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        }
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/accounts", app.base))
            .header(
                "Authorization",
                reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("header"),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(requests > 500, "{requests}");
        assert!(
            failures.is_empty(),
            "{b:?}: {} server errors, e.g.:\n{}",
            failures.len(),
            failures
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        // The app still works afterwards.
        let r: Resp = sales.get_r(&format!("/api/v1/accounts/{real_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// The HTML side: every page with a garbage query, every form with a valid CSRF token and one
/// field at a time replaced by something nasty. Never a 500.
#[tokio::test]
async fn ui_garbage_never_yields_a_server_error() {
    use crate::support::{PASSWORD, browser, csrf_of, login_cookie};
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let victim = app.user("sales", Some("A")).await;
        let team = app.team("A").await;
        let acc = sales
            .create("accounts", json!({"kind": "company", "name": "UI Garbage"}))
            .await;
        let id = acc["id"].as_str().expect("id").to_string();
        let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let client = browser();
        let mut failures = Vec::new();
        let check = |what: String, status: StatusCode, text: String, failures: &mut Vec<String>| {
            if status.is_server_error() {
                failures.push(format!(
                    "{what} → {status} {}",
                    &text[..text.len().min(300)]
                ));
            }
        };
        let pages = [
            "/".to_string(),
            "/login".into(),
            "/settings".into(),
            "/admin".into(),
            "/admin/users".into(),
            "/admin/teams".into(),
            "/admin/roles".into(),
            "/admin/custom-fields".into(),
            "/admin/%00".into(),
            "/accounts".into(),
            "/accounts/new".into(),
            "/accounts/export.csv".into(),
            format!("/accounts/{id}"),
            format!("/accounts/{id}/edit"),
            "/accounts/not-a-uuid".into(),
            "/accounts/not-a-uuid/edit".into(),
            "/contacts".into(),
            "/contacts/new".into(),
            format!("/contacts/{id}"),
            "/search".into(),
            "/recycle-bin".into(),
        ];
        let queries = [
            "",
            "?q=%00&sort=%00&cursor=%00&limit=0&next=%00",
            "?name[contains]=%00&colour=1&filter=%7B&view=%00&columns=%00",
            "?q=%22%27%5C%2A%3A%26%7C%21%28%29&sort=-&cursor=e30&limit=99999999999",
            "?account_id=%00&owner_id=me&custom.x=1&billing_address.planet=x",
        ];
        for page in &pages {
            for q in queries {
                let res = client
                    .get(format!("{}{page}{q}", app.base))
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .header("Accept-Language", "zh-CN,zh;q=0.9,\u{0}")
                    .send()
                    .await;
                // A header reqwest cannot send is not the server's problem.
                let Ok(res) = res else { continue };
                let status = res.status();
                check(
                    format!("GET {page}{q}"),
                    status,
                    res.text().await.unwrap_or_default(),
                    &mut failures,
                );
            }
        }
        let base: Vec<(&str, String)> = vec![
            ("_csrf", csrf.clone()),
            ("email", "ui.new@example.com".into()),
            ("name", "UI".into()),
            ("role", "sales".into()),
            ("team_id", team.to_string()),
            ("password", "password-123".into()),
            ("current", "not-my-password".into()),
            ("locale", "en".into()),
            ("id", victim.id.to_string()),
            ("read", "team".into()),
            ("write", "own".into()),
            ("entity", "account".into()),
            ("key", "ui_k".into()),
            ("label_en", "L".into()),
            ("label_zh", "标".into()),
            ("kind", "text".into()),
            ("options", "a\nb".into()),
            ("query", "sort=name".into()),
            ("owner_id", sales.id.to_string()),
            ("ids", id.clone()),
            ("back", "/accounts".into()),
            ("next", "/accounts".into()),
            ("version", "1".into()),
            ("f.kind", "company".into()),
            ("f.name", "UI Co".into()),
            ("f.family_name", "UI".into()),
            ("f.phones.0.number", "13812345678".into()),
            ("f.billing_address.city", "北京".into()),
            ("f.annual_revenue.amount", "12".into()),
            ("f.annual_revenue.currency", "CNY".into()),
            ("f.employees", "3".into()),
            ("f.birthday", "2000-01-01".into()),
        ];
        let forms = [
            "/login".to_string(),
            "/settings/locale".into(),
            "/settings/password".into(),
            "/settings/tokens".into(),
            "/settings/tokens/revoke".into(),
            "/admin/users/add".into(),
            "/admin/users/update".into(),
            "/admin/teams/add".into(),
            "/admin/roles/set".into(),
            "/admin/custom-fields/add".into(),
            "/admin/custom-fields/delete".into(),
            "/admin/teams/delete".into(),
            "/accounts".into(),
            "/contacts".into(),
            "/accounts/bulk-owner".into(),
            "/accounts/views".into(),
            "/accounts/views/delete".into(),
            format!("/accounts/{id}"),
            format!("/accounts/{id}/owner"),
            format!("/accounts/{id}/frobnicate"),
            format!("/accounts/{id}/delete"),
            format!("/accounts/{id}/restore"),
        ];
        let nasty = ["a\u{0}b", "\u{1b}'\"<>&;--"];
        for path in &forms {
            let mut variants: Vec<Vec<(&str, String)>> = vec![base.clone()];
            for (i, (k, _)) in base.iter().enumerate() {
                if *k == "_csrf" {
                    continue;
                }
                for n in nasty {
                    let mut v = base.clone();
                    v[i].1 = n.to_string();
                    variants.push(v);
                }
            }
            // A huge value and a form without a CSRF token.
            let mut huge = base.clone();
            huge[2].1 = "x".repeat(100_000);
            variants.push(huge);
            variants.push(base.iter().skip(1).cloned().collect());
            for form in variants {
                let res = client
                    .post(format!("{}{path}", app.base))
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .form(&form)
                    .send()
                    .await
                    .expect("POST");
                let status = res.status();
                check(
                    format!(
                        "POST {path} {:?}",
                        form.iter().find(|(k, v)| *k != "_csrf"
                            && base.iter().any(|(bk, bv)| bk == k && bv != v))
                    ),
                    status,
                    res.text().await.unwrap_or_default(),
                    &mut failures,
                );
            }
            // Bodies that are not forms at all.
            for (ct, body) in [
                ("application/json", b"{\"_csrf\": 1}".to_vec()),
                (
                    "application/x-www-form-urlencoded",
                    b"%%%&&&==\xff".to_vec(),
                ),
                ("text/plain", b"\x00".to_vec()),
            ] {
                let res = client
                    .post(format!("{}{path}", app.base))
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .header("Content-Type", ct)
                    .body(body)
                    .send()
                    .await
                    .expect("POST");
                let status = res.status();
                check(
                    format!("POST {path} as {ct}"),
                    status,
                    res.text().await.unwrap_or_default(),
                    &mut failures,
                );
            }
        }
        assert!(
            failures.is_empty(),
            "{b:?}: {} server errors, e.g.:\n{}",
            failures.len(),
            failures
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
