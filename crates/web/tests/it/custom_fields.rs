//! Custom fields over the API: definitions of every kind, values validated and normalized,
//! filters, history, export, definition edits with versions.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestUser, backends, spawn};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn define(admin: &TestUser, body: Value) -> Value {
    let r = admin.post_r("/api/v1/custom-fields", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.text);
    r.body
}

async fn ids(u: &TestUser, qs: &str) -> BTreeSet<String> {
    let r = u.get_r(&format!("/api/v1/accounts?{qs}")).await;
    assert_eq!(r.status, StatusCode::OK, "{qs}: {}", r.text);
    r.ids().into_iter().collect()
}

#[tokio::test]
async fn every_kind_validates_filters_and_shows_in_history_and_export() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let defs = [
            json!({"entity": "account", "key": "note", "label_en": "Note", "label_zh": "备注", "kind": "text"}),
            json!({"entity": "account", "key": "story", "label_en": "Story", "kind": "long_text"}),
            json!({"entity": "account", "key": "score", "label_zh": "评分", "kind": "decimal"}),
            json!({"entity": "account", "key": "deal", "label_en": "Deal", "kind": "money"}),
            json!({"entity": "account", "key": "signed", "label_en": "Signed", "kind": "date"}),
            json!({"entity": "account", "key": "tier", "label_en": "Tier", "kind": "choice", "options": ["gold", "silver", "bronze"]}),
            json!({"entity": "account", "key": "tags", "label_en": "Tags", "kind": "multi_choice", "options": ["vip", "gov", "export"]}),
            json!({"entity": "account", "key": "vip", "label_en": "VIP", "kind": "bool"}),
            json!({"entity": "contact", "key": "hobby", "label_en": "Hobby", "kind": "text", "required": true}),
        ];
        for d in defs {
            let got = define(&admin, d.clone()).await;
            assert_eq!(got["key"], d["key"]);
            assert_eq!(got["kind"], d["kind"]);
            assert_eq!(got["version"], 1);
        }
        let list = admin.get_r("/api/v1/custom-fields?entity=account").await;
        let keys: Vec<&str> = list.body["data"]
            .as_array()
            .expect("defs")
            .iter()
            .filter_map(|d| d["key"].as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "note", "story", "score", "deal", "signed", "tier", "tags", "vip"
            ],
            "{b:?}: in position order"
        );
        assert_eq!(
            admin
                .get_r("/api/v1/custom-fields?entity=accounts")
                .await
                .body,
            list.body,
            "the plural names the same entity"
        );
        assert_eq!(
            admin.get_r("/api/v1/custom-fields").await.body["data"]
                .as_array()
                .map(Vec::len),
            Some(9)
        );

        // Values are normalized.
        let a = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Custom A", "custom": {
                    "note": "  trimmed  ", "story": "line 1\nline 2", "score": "87.5",
                    "deal": {"amount": "120000.5", "currency": "usd"}, "signed": "2024-03-01",
                    "tier": "gold", "tags": ["vip", "gov", "vip"], "vip": true}}),
            )
            .await;
        let c = &a["custom"];
        assert_eq!(c["note"], "trimmed", "{b:?}: {a}");
        assert_eq!(c["story"], "line 1\nline 2");
        assert_eq!(c["score"], 87.5);
        assert_eq!(c["deal"], json!({"amount": "120000.50", "currency": "USD"}));
        assert_eq!(c["signed"], "2024-03-01");
        assert_eq!(c["tier"], "gold");
        assert_eq!(c["tags"], json!(["vip", "gov"]));
        assert_eq!(c["vip"], true);
        let a_id = a["id"].as_str().expect("id").to_string();
        let b_rec = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Custom B", "custom": {
                    "score": 12, "deal": 999, "signed": "2023-12-31", "tier": "silver",
                    "tags": "export", "vip": "false", "note": "Another note"}}),
            )
            .await;
        assert_eq!(b_rec["custom"]["tags"], json!(["export"]));
        assert_eq!(b_rec["custom"]["vip"], false);
        assert_eq!(
            b_rec["custom"]["deal"],
            json!({"amount": "999.00", "currency": "CNY"})
        );
        let b_id = b_rec["id"].as_str().expect("id").to_string();
        let plain = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Custom None"}),
            )
            .await;
        let n_id = plain["id"].as_str().expect("id").to_string();
        // An unset checkbox reads as absent (and filters as false).
        assert!(plain["custom"]["vip"].is_null() || plain["custom"]["vip"] == false);

        // Invalid values name the custom field.
        for (custom, field) in [
            (json!({"score": "lots"}), "custom.score"),
            (json!({"score": true}), "custom.score"),
            (json!({"deal": {"amount": "1.234"}}), "custom.deal"),
            (
                json!({"deal": {"amount": "1", "currency": "dollars"}}),
                "custom.deal",
            ),
            (json!({"signed": "01/03/2024"}), "custom.signed"),
            (json!({"signed": 20240301}), "custom.signed"),
            (json!({"tier": "platinum"}), "custom.tier"),
            (json!({"tier": ["gold"]}), "custom.tier"),
            (json!({"tags": ["vip", "nope"]}), "custom.tags"),
            (json!({"tags": [1]}), "custom.tags"),
            (json!({"vip": "maybe"}), "custom.vip"),
            (json!({"note": 5}), "custom.note"),
            (json!({"note": "x".repeat(501)}), "custom.note"),
            (json!({"story": "x".repeat(10_001)}), "custom.story"),
            (json!({"unknown": 1}), "custom.unknown"),
        ] {
            sales
                .post_r(
                    "/api/v1/accounts",
                    &json!({"kind": "company", "name": "Bad custom", "custom": custom}),
                )
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(field),
                );
            sales
                .patch_r(
                    &format!("/api/v1/accounts/{a_id}"),
                    &json!({"custom": custom}),
                )
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(field),
                );
        }
        // A required custom field on contacts.
        sales
            .post_r("/api/v1/contacts", &json!({"family_name": "李"}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("custom.hobby"),
            );
        let con = sales
            .create(
                "contacts",
                json!({"family_name": "李", "custom": {"hobby": "围棋"}}),
            )
            .await;
        sales
            .patch_r(
                &format!("/api/v1/contacts/{}", con["id"].as_str().expect("id")),
                &json!({"custom": {"hobby": ""}}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("custom.hobby"),
            );

        // Filters on every kind.
        let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        for (qs, want) in [
            ("custom.note=trimmed".to_string(), set(&[&a_id])),
            ("custom.note[contains]=NOTE".into(), set(&[&b_id])),
            ("custom.note[starts_with]=anoth".into(), set(&[&b_id])),
            ("custom.note[starts_with]=note".into(), set(&[])),
            ("custom.note[empty]=".into(), set(&[&n_id])),
            ("custom.story[contains]=line%202".into(), set(&[&a_id])),
            ("custom.score[gt]=50".into(), set(&[&a_id])),
            ("custom.score[lte]=12".into(), set(&[&b_id])),
            ("custom.score=87.5".into(), set(&[&a_id])),
            ("custom.score[empty]=".into(), set(&[&n_id])),
            ("custom.deal[gte]=1000".into(), set(&[&a_id])),
            ("custom.deal[lt]=1000".into(), set(&[&b_id])),
            ("custom.signed[lt]=2024-01-01".into(), set(&[&b_id])),
            ("custom.signed[gte]=2024-01-01".into(), set(&[&a_id])),
            ("custom.tier=gold".into(), set(&[&a_id])),
            ("custom.tier[ne]=gold".into(), set(&[&b_id])),
            ("custom.tier[in]=gold,silver".into(), set(&[&a_id, &b_id])),
            ("custom.tags=vip".into(), set(&[&a_id])),
            ("custom.tags[contains]=export".into(), set(&[&b_id])),
            ("custom.tags[in]=gov,export".into(), set(&[&a_id, &b_id])),
            ("custom.tags[empty]=".into(), set(&[&n_id])),
            ("custom.vip=true".into(), set(&[&a_id])),
            ("custom.vip=false".into(), set(&[&b_id, &n_id])),
            (
                format!(
                    "filter={}",
                    enc(
                        r#"{"or": [{"field": "custom.vip", "value": true}, {"field": "custom.score", "op": "lt", "value": 20}]}"#
                    )
                ),
                set(&[&a_id, &b_id]),
            ),
        ] {
            assert_eq!(ids(&sales, &qs).await, want, "{b:?} {qs}");
        }
        for bad in [
            "custom.score[gt]=high",
            "custom.deal[gt]=rich",
            "custom.vip=perhaps",
            "custom.tags[gt]=vip",
            "custom.vip[contains]=t",
            "custom.hobby=x",
        ] {
            sales
                .get_r(&format!("/api/v1/accounts?{bad}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
        }

        // History records custom changes; export carries custom columns.
        let r = sales
            .patch_r(
                &format!("/api/v1/accounts/{a_id}"),
                &json!({"custom": {"tier": "bronze", "tags": []}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body["custom"]["score"], 87.5,
            "untouched custom values stay"
        );
        assert!(r.body["custom"].get("tags").is_none() || r.body["custom"]["tags"] == json!([]));
        let h = sales
            .get_r(&format!("/api/v1/accounts/{a_id}/history"))
            .await;
        let changes = h.body["data"][0]["changes"].as_array().expect("changes");
        let tier = changes
            .iter()
            .find(|c| c["field"] == "custom.tier")
            .unwrap_or_else(|| panic!("{b:?}: {}", h.text));
        assert_eq!(tier["from"], "gold");
        assert_eq!(tier["to"], "bronze");
        assert!(changes.iter().any(|c| c["field"] == "custom.tags"));
        assert_eq!(changes.len(), 2, "{}", h.text);
        let csv = sales.get_r("/api/v1/accounts/export.csv").await;
        let header = csv.text.lines().next().expect("header");
        for k in ["custom.note", "custom.deal", "custom.tags", "custom.vip"] {
            assert!(header.contains(k), "{header}");
        }

        // Definitions: admin-only, validated, versioned, kind and key fixed.
        let tier_def = list.body["data"]
            .as_array()
            .expect("defs")
            .iter()
            .find(|d| d["key"] == "tier")
            .expect("tier")
            .clone();
        let tier_id = tier_def["id"].as_str().expect("id").to_string();
        let dpath = format!("/api/v1/custom-fields/{tier_id}");
        let r = admin
            .send(
                admin
                    .req(Method::PATCH, &dpath)
                    .header("If-Match", "\"1\"")
                    .json(&json!({"label_zh": "等级", "options": ["gold", "silver", "bronze", "iron"]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["label_zh"], "等级");
        admin
            .send(
                admin
                    .req(Method::PATCH, &dpath)
                    .header("If-Match", "\"1\"")
                    .json(&json!({"label_en": "Stale"})),
            )
            .await
            .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
        for (body, field) in [
            (json!({"kind": "text"}), "kind"),
            (json!({"key": "level"}), "key"),
            (json!({"entity": "contact"}), "entity"),
            (json!({"options": []}), "options"),
            (json!({"required": "yes"}), "required"),
            (json!({"colour": 1}), "colour"),
            (json!({"label_en": "x".repeat(101)}), "label_en"),
        ] {
            admin.patch_r(&dpath, &body).await.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
        }
        assert_eq!(admin.get_r(&dpath).await.body["version"], 2);
        let r = sales
            .patch_r(
                &format!("/api/v1/accounts/{b_id}"),
                &json!({"custom": {"tier": "iron"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "new options apply: {}", r.text);
        for (body, field) in [
            (
                json!({"entity": "account", "key": "note", "label_en": "Dup", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "name", "label_en": "Clash", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "owner_id", "label_en": "Clash", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "Bad Key", "label_en": "x", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "9lives", "label_en": "x", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "k".repeat(41), "label_en": "x", "kind": "text"}),
                "key",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "kind": "text"}),
                "label_en",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x", "kind": "colour"}),
                "kind",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x"}),
                "kind",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x", "kind": "single_select"}),
                "options",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x", "kind": "multi_select", "options": [""]}),
                "options",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x", "kind": "text", "options": "a,b"}),
                "options",
            ),
            (
                json!({"entity": "account", "key": "ok_key", "label_en": "x", "kind": "text", "position": "first"}),
                "position",
            ),
            (
                json!({"entity": "widget", "key": "ok_key", "label_en": "x", "kind": "text"}),
                "entity",
            ),
            (
                json!({"key": "ok_key", "label_en": "x", "kind": "text"}),
                "entity",
            ),
        ] {
            admin
                .post_r("/api/v1/custom-fields", &body)
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(field),
                );
        }

        // Deleting a definition: its filter goes, records stay writable.
        let score_id = list.body["data"]
            .as_array()
            .expect("defs")
            .iter()
            .find(|d| d["key"] == "score")
            .expect("score")["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert_eq!(
            admin
                .delete_r(&format!("/api/v1/custom-fields/{score_id}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        admin
            .get_r(&format!("/api/v1/custom-fields/{score_id}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        sales
            .get_r("/api/v1/accounts?custom.score[gt]=1")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
        // Its values stay stored until the next write, but neither a record nor a list shows them.
        let got = sales.get_r(&format!("/api/v1/accounts/{a_id}")).await;
        assert!(
            got.body["custom"].get("score").is_none(),
            "{b:?}: {}",
            got.text
        );
        let listed = sales.get_r(&format!("/api/v1/accounts?id={a_id}")).await;
        assert_eq!(
            listed.body["data"][0]["custom"], got.body["custom"],
            "{b:?}: {}",
            listed.text
        );
        sales
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "After", "custom": {"score": 1}}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("custom.score"),
            );
        let r = sales
            .patch_r(
                &format!("/api/v1/accounts/{a_id}"),
                &json!({"custom": {"note": "after delete"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(
            r.body["custom"].get("score").is_none(),
            "{b:?}: a deleted field's value is dropped on the next write: {}",
            r.text
        );
        let csv = sales.get_r("/api/v1/accounts/export.csv").await;
        assert!(
            !csv.text
                .lines()
                .next()
                .unwrap_or("")
                .contains("custom.score")
        );
    }
}

/// The kinds standard fields have beyond the first eight: whole numbers, percentages, instants,
/// durations, web addresses, references to a record, to a user and to any record. Each is
/// validated, checked against what the writer may read, filtered, recorded in the history and
/// shown by name on the record's page and in its form, as a standard field of its kind is.
#[tokio::test]
async fn custom_fields_take_the_standard_kinds() {
    use crate::support::{PASSWORD, browser, csrf_of, login_cookie};
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let other = app.user("sales", Some("B")).await;
        for d in [
            json!({"entity": "account", "key": "visits", "label_en": "Visits", "kind": "int"}),
            json!({"entity": "account", "key": "share", "label_en": "Share", "kind": "percent"}),
            json!({"entity": "account", "key": "kickoff", "label_en": "Kick-off", "kind": "date_time"}),
            json!({"entity": "account", "key": "call_time", "label_en": "Call time", "kind": "duration"}),
            json!({"entity": "account", "key": "site", "label_en": "Site", "kind": "url"}),
            json!({"entity": "account", "key": "partner", "label_en": "Partner", "label_zh": "合作伙伴", "kind": "ref", "refers_to": "account"}),
            json!({"entity": "account", "key": "manager", "label_en": "Key account manager", "kind": "user"}),
            json!({"entity": "account", "key": "about", "label_en": "About", "kind": "regarding"}),
        ] {
            let got = define(&admin, d.clone()).await;
            assert_eq!(got["kind"], d["kind"], "{b:?}");
        }
        // Earlier kind names still work, and read as today's.
        let legacy = define(
            &admin,
            json!({"entity": "contact", "key": "level", "label_en": "Level", "kind": "single_select", "options": ["a", "b"]}),
        )
        .await;
        assert_eq!(legacy["kind"], "choice");
        assert_eq!(legacy["options"], json!(["a", "b"]));
        // A reference names a kind of record that has owners.
        for (body, field) in [
            (
                json!({"entity": "account", "key": "r1", "label_en": "R", "kind": "ref"}),
                "refers_to",
            ),
            (
                json!({"entity": "account", "key": "r2", "label_en": "R", "kind": "ref", "refers_to": "pipeline"}),
                "refers_to",
            ),
            (
                json!({"entity": "account", "key": "r3", "label_en": "R", "kind": "phones"}),
                "kind",
            ),
        ] {
            admin
                .post_r("/api/v1/custom-fields", &body)
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(field),
                );
        }

        let partner = sales
            .create("accounts", json!({"kind": "company", "name": "伙伴科技"}))
            .await;
        let p_id = partner["id"].as_str().expect("id").to_string();
        let hidden = other
            .create(
                "accounts",
                json!({"kind": "company", "name": "Other team's"}),
            )
            .await;
        let h_id = hidden["id"].as_str().expect("id").to_string();
        let person = sales
            .create(
                "contacts",
                json!({"family_name": "周", "given_name": "敏", "custom": {"level": "a"}}),
            )
            .await;
        let c_id = person["id"].as_str().expect("id").to_string();
        let manager = admin.id.to_string();

        let a = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Kinds A", "custom": {
                    "visits": "12", "share": "12.5%", "kickoff": "2026-05-06T10:00:00+08:00",
                    "call_time": 5400, "site": " https://kinds.example.com ", "partner": p_id,
                    "manager": manager, "about": {"entity": "contact", "id": c_id}}}),
            )
            .await;
        let c = &a["custom"];
        assert_eq!(c["visits"], 12, "{b:?}: {a}");
        assert_eq!(c["share"], 12.5);
        assert_eq!(c["kickoff"], "2026-05-06T02:00:00.000000Z");
        assert_eq!(c["call_time"], 5400);
        assert_eq!(c["site"], "https://kinds.example.com");
        assert_eq!(c["partner"], p_id.as_str());
        assert_eq!(c["manager"], manager.as_str());
        assert_eq!(c["about"], json!({"entity": "contact", "id": c_id}));
        let a_id = a["id"].as_str().expect("id").to_string();
        let plain = sales
            .create("accounts", json!({"kind": "company", "name": "Kinds none"}))
            .await;
        let n_id = plain["id"].as_str().expect("id").to_string();

        // Bad values, each named, nothing written.
        let nobody = uuid::Uuid::now_v7().to_string();
        for (custom, field, code) in [
            (
                json!({"visits": "1.5"}),
                "custom.visits",
                "not_a_whole_number",
            ),
            (json!({"share": 101}), "custom.share", "out_of_range"),
            (
                json!({"kickoff": "tomorrow"}),
                "custom.kickoff",
                "not_a_date_time",
            ),
            (json!({"call_time": -5}), "custom.call_time", "out_of_range"),
            (
                json!({"site": "not a site"}),
                "custom.site",
                "invalid_website",
            ),
            (json!({"partner": "x"}), "custom.partner", "not_an_id"),
            (
                json!({"partner": nobody}),
                "custom.partner",
                "no_such_record",
            ),
            // Outside the writer's scope reads as not there.
            (json!({"partner": h_id}), "custom.partner", "no_such_record"),
            (json!({"manager": nobody}), "custom.manager", "no_such_user"),
            (
                json!({"about": {"entity": "planet", "id": c_id}}),
                "custom.about.entity",
                "not_one_of",
            ),
            (
                json!({"about": {"entity": "contact"}}),
                "custom.about",
                "required",
            ),
            (
                json!({"about": {"entity": "contact", "id": h_id}}),
                "custom.about",
                "no_such_record",
            ),
            (json!({"about": "contact"}), "custom.about", "not_an_object"),
        ] {
            let r = sales
                .patch_r(
                    &format!("/api/v1/accounts/{n_id}"),
                    &json!({"custom": custom}),
                )
                .await;
            r.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
            assert_eq!(
                r.body["error"]["fields"][field]["code"], code,
                "{b:?} {custom}: {}",
                r.text
            );
        }
        assert_eq!(
            sales.get_r(&format!("/api/v1/accounts/{n_id}")).await.body["version"],
            1,
            "{b:?}: refused writes leave the record as it was"
        );

        let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        for (qs, want) in [
            ("custom.visits[gt]=10".to_string(), set(&[&a_id])),
            ("custom.visits[lt]=10".into(), set(&[])),
            ("custom.share[gte]=12.5".into(), set(&[&a_id])),
            ("custom.kickoff[lt]=2026-06-01".into(), set(&[&a_id])),
            ("custom.kickoff[gt]=2026-05-06T03:00:00Z".into(), set(&[])),
            ("custom.call_time[gt]=3600".into(), set(&[&a_id])),
            ("custom.site[contains]=KINDS".into(), set(&[&a_id])),
            (format!("custom.partner={p_id}"), set(&[&a_id])),
            ("custom.partner[empty]=".into(), set(&[&n_id, &p_id])),
            ("custom.manager=me".into(), set(&[])),
            (format!("custom.manager={manager}"), set(&[&a_id])),
            (format!("custom.about={c_id}"), set(&[&a_id])),
            ("custom.about.entity=contact".into(), set(&[&a_id])),
        ] {
            assert_eq!(ids(&sales, &qs).await, want, "{b:?} {qs}");
        }
        for bad in [
            "custom.partner[gt]=x",
            "custom.partner=nope",
            "custom.kickoff[lt]=soon",
            "custom.about.planet=x",
        ] {
            sales
                .get_r(&format!("/api/v1/accounts?{bad}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
        }

        // The record's page names what it refers to; the history too.
        let second = sales
            .create("accounts", json!({"kind": "company", "name": "第二伙伴"}))
            .await;
        let s_id = second["id"].as_str().expect("id").to_string();
        let r = sales
            .patch_r(
                &format!("/api/v1/accounts/{a_id}"),
                &json!({"custom": {"partner": s_id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let (cookie, _) = login_cookie(&app, &sales.email, PASSWORD).await;
        let page = |path: String| {
            let cookie = cookie.clone();
            let base = app.base.clone();
            async move {
                browser()
                    .get(format!("{base}{path}"))
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .send()
                    .await
                    .expect("page")
                    .text()
                    .await
                    .expect("html")
            }
        };
        let html = page(format!("/accounts/{a_id}")).await;
        for shown in ["第二伙伴", "admin user", "周敏", "1 h 30 min", "12.5%"] {
            assert!(html.contains(shown), "{b:?}: the page shows {shown}");
        }
        let html = page(format!("/accounts/{a_id}?tab=history")).await;
        assert!(
            html.contains("伙伴科技") && html.contains("第二伙伴"),
            "{b:?}: the history names both partners"
        );
        // The form offers each control and saves what it shows unchanged.
        let html = page(format!("/accounts/{a_id}/edit")).await;
        for control in [
            "name=\"f.custom.kickoff\"",
            "type=\"datetime-local\"",
            "name=\"f.custom.call_time.hours\"",
            "name=\"f.custom.about.entity\"",
            "name=\"f.custom.about.id\"",
            "name=\"f.custom.manager\"",
        ] {
            assert!(html.contains(control), "{b:?}: the form has {control}");
        }
        let csrf = csrf_of(&app, &cookie).await;
        let version = sales.get_r(&format!("/api/v1/accounts/{a_id}")).await.body["version"]
            .as_i64()
            .expect("version");
        let form = [
            ("_csrf", csrf.as_str()),
            ("version", &version.to_string()),
            ("f.kind", "company"),
            ("f.name", "Kinds A"),
            ("f.custom.visits", "13"),
            ("f.custom.share", "12.5"),
            // Read in the user's zone: the instance's default, Asia/Shanghai.
            ("f.custom.kickoff", "2026-05-06T10:00"),
            ("f.custom.call_time.hours", "2"),
            ("f.custom.call_time.minutes", "15"),
            ("f.custom.site", "https://kinds.example.com"),
            ("f.custom.partner", s_id.as_str()),
            ("f.custom.manager", manager.as_str()),
            ("f.custom.about.entity", "contact"),
            ("f.custom.about.id", c_id.as_str()),
            ("f.owner_id", &sales.id.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let res = browser()
            .post(format!("{}/accounts/{a_id}", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .form(&form)
            .send()
            .await
            .expect("save");
        assert!(
            res.status().is_redirection(),
            "{b:?}: saved, {}",
            res.status()
        );
        let got = sales.get_r(&format!("/api/v1/accounts/{a_id}")).await.body;
        assert_eq!(got["custom"]["visits"], 13, "{b:?}: {got}");
        assert_eq!(got["custom"]["kickoff"], "2026-05-06T02:00:00.000000Z");
        assert_eq!(got["custom"]["call_time"], 8100);
        assert_eq!(
            got["custom"]["about"],
            json!({"entity": "contact", "id": c_id})
        );
    }
}
