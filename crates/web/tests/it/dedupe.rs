//! The duplicate check (查重) over HTTP: a save that would duplicate answers 409 `duplicate`,
//! worded in the caller's language without naming what they may not read; the check itself; and
//! the rules' settings.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{backends, spawn};

#[tokio::test]
async fn a_duplicate_save_is_a_worded_conflict() {
    for b in backends() {
        let app = spawn(b).await;
        let zh = app.user_in("sales", Some("A"), "zh-CN").await;
        let en = app.user_in("sales", Some("A"), "en").await;
        let first = zh
            .create(
                "accounts",
                json!({"kind": "company", "name": "中太数据科技（北京）有限公司", "tax_id": "91350100M000100Y43"}),
            )
            .await;
        let second = json!({"kind": "company", "name": "北京中太数据科技有限公司"});

        let r = zh.post_r("/api/v1/accounts", &second).await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        let err = &r.body["error"];
        assert_eq!(err["params"]["rule"], "name", "{b:?}: {}", r.text);
        assert_eq!(err["params"]["action"], "warn");
        assert_eq!(err["params"]["entity"], "account");
        assert_eq!(err["params"]["owner"], "sales user");
        assert_eq!(err["params"]["record_id"], first["id"]);
        assert_eq!(err["params"]["matches"][0]["title"], first["name"]);
        assert_eq!(
            err["message"],
            "已有名称相同的客户（负责人：sales user）。如确认不是同一客户，仍可保存。"
        );
        let r = en.post_r("/api/v1/accounts", &second).await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(
            r.body["error"]["message"],
            "A record of type Account with the same name already exists (owner: sales user). If this is a different one, you may still save it."
        );

        // Said on purpose, it is saved; `allow_duplicate` is no field of the record.
        let mut allowed = second.clone();
        allowed["allow_duplicate"] = json!(true);
        let made = zh.create("accounts", allowed).await;
        assert!(made.get("allow_duplicate").is_none());
        let r = zh
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "无关公司", "allow_duplicate": 1}),
            )
            .await;
        r.assert_field("allow_duplicate", "not_a_boolean");

        // The same tax id is refused even so, and so is an update that brings it.
        let r = zh
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "另一家公司", "tax_id": "91350100M000100Y43", "allow_duplicate": true}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(r.body["error"]["params"]["action"], "block");
        assert_eq!(
            r.body["error"]["message"],
            "已有统一社会信用代码相同的客户（负责人：sales user），不能重复录入。"
        );
        let r = en
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "Another Co", "tax_id": "91350100m000100y43", "allow_duplicate": true}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(
            r.body["error"]["message"],
            "A record of type Account with the same tax ID already exists (owner: sales user). It cannot be entered twice."
        );
        let path = format!("/api/v1/accounts/{}", made["id"].as_str().unwrap_or(""));
        let r = zh
            .patch_r(
                &path,
                &json!({"tax_id": "91350100M000100Y43", "allow_duplicate": true}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(r.body["error"]["params"]["rule"], "tax_id");
        // An edit that adds no key is no duplicate of anything.
        let r = zh.patch_r(&path, &json!({"rating": "hot"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        // Another team's rep learns whose customer it is, and nothing more.
        let other = app.user_in("sales", Some("B"), "zh-CN").await;
        let r = other
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "中太数据科技有限公司"}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert!(r.body["error"]["params"].get("record_id").is_none());
        assert!(!r.text.contains("北京") && !r.text.contains(first["id"].as_str().unwrap_or("-")));
        assert_eq!(
            r.body["error"]["message"],
            "已有名称相同的客户（负责人：sales user）。如确认不是同一客户，仍可保存。"
        );

        // Contacts: the same phone.
        zh.create(
            "contacts",
            json!({"family_name": "张", "given_name": "三", "phones": [{"number": "138 1234 5678"}]}),
        )
        .await;
        let r = zh
            .post_r(
                "/api/v1/contacts",
                &json!({"family_name": "李", "given_name": "四", "phones": [{"number": "13812345678"}]}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(
            r.body["error"]["message"],
            "已有电话相同的联系人（负责人：sales user）。如确认不是同一联系人，仍可保存。"
        );
    }
}

#[tokio::test]
async fn the_check_answers_matches_the_caller_may_see() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("A")).await;
        let other = app.user("sales", Some("B")).await;
        let first = rep
            .create(
                "accounts",
                json!({"kind": "company", "name": "中太数据科技（北京）有限公司", "phones": [{"number": "010 6234 5678"}], "description": "内部备注"}),
            )
            .await;
        let r = rep
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"name": "北京中太数据科技有限公司"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let data = r.body["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(data.len(), 1, "{}", r.text);
        let m = &data[0];
        assert_eq!(m["rule"], "name");
        assert_eq!(m["rules"], json!(["name", "name_pinyin"]));
        assert_eq!(m["action"], "warn");
        assert_eq!(m["readable"], true);
        assert_eq!(m["record_id"], first["id"]);
        assert_eq!(m["title"], "中太数据科技（北京）有限公司");
        assert_eq!(m["owner_name"], "sales user");
        assert_eq!(m["fields"]["phones"], first["phones"]);

        // The record being edited is no duplicate of itself; its whole body may be sent.
        let r = rep.post_r("/api/v1/accounts/duplicates", &first).await;
        assert_eq!(r.body["data"], json!([]), "{}", r.text);
        let r = rep
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"id": "nope", "name": "x"}),
            )
            .await;
        r.assert_field("id", "not_an_id");
        // Values that do not validate are left out, not refused.
        let r = rep
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"phones": [{"number": "12"}], "name": 5}),
            )
            .await;
        assert_eq!(r.body["data"], json!([]), "{}", r.text);
        let r = rep
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"phones": [{"number": "+86 10 6234 5678"}]}),
            )
            .await;
        assert_eq!(r.body["data"][0]["rule"], "phone", "{}", r.text);

        // Another team: the owner's name only.
        let r = other
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"name": "中太数据科技"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let m = &r.body["data"][0];
        assert_eq!(m["readable"], false, "{}", r.text);
        assert_eq!(m["owner_name"], "sales user");
        for k in ["record_id", "title", "fields"] {
            assert_eq!(m[k], Value::Null, "{k}: {}", r.text);
        }
        assert!(!r.text.contains("北京") && !r.text.contains("内部备注"));

        // Deleted, it is no longer found.
        let id = first["id"].as_str().unwrap_or("");
        let res = rep.delete(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let r = rep
            .post_r(
                "/api/v1/accounts/duplicates",
                &json!({"name": "中太数据科技"}),
            )
            .await;
        assert_eq!(r.body["data"], json!([]), "{}", r.text);

        // Not a JSON object: refused as such.
        let r = rep
            .post_r("/api/v1/contacts/duplicates", &json!(["张三"]))
            .await;
        r.assert_field("body", "not_an_object");
    }
}

#[tokio::test]
async fn administrators_set_what_each_rule_does() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user_in("sales", Some("A"), "zh-CN").await;

        let r = rep.get_r("/api/v1/accounts/dedupe-rules").await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let listed: Vec<(Value, Value)> = r.body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| (s["rule"].clone(), s["action"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            listed,
            [
                ("tax_id", "block"),
                ("domain", "warn"),
                ("phone", "warn"),
                ("email", "warn"),
                ("name", "warn"),
                ("name_pinyin", "warn"),
                ("external_id", "block"),
            ]
            .map(|(r, a)| (json!(r), json!(a)))
        );
        assert_eq!(r.body["data"][1]["fields"], json!(["domain", "website"]));
        let r = rep.get_r("/api/v1/contacts/dedupe-rules").await;
        let rules: Vec<Value> = r.body["data"]
            .as_array()
            .map(|a| a.iter().map(|s| s["rule"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            rules,
            [
                json!("email"),
                json!("phone"),
                json!("person_name"),
                json!("external_id")
            ]
        );

        // Only administrators change them.
        let r = rep
            .put_r(
                "/api/v1/accounts/dedupe-rules/name",
                &json!({"action": "block"}),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert_eq!(r.body["error"]["reason"], "admin_only");
        for (path, body, field, code) in [
            (
                "/api/v1/accounts/dedupe-rules/name",
                json!({"action": "refuse"}),
                "action",
                "not_one_of",
            ),
            (
                "/api/v1/accounts/dedupe-rules/name",
                json!({}),
                "action",
                "required",
            ),
            (
                "/api/v1/accounts/dedupe-rules/name",
                json!({"action": "block", "why": 1}),
                "why",
                "unknown_field",
            ),
            (
                "/api/v1/accounts/dedupe-rules/person_name",
                json!({"action": "block"}),
                "rule",
                "not_one_of",
            ),
            (
                "/api/v1/contacts/dedupe-rules/nonsense",
                json!({"action": "block"}),
                "rule",
                "not_one_of",
            ),
        ] {
            admin.put_r(path, &body).await.assert_field(field, code);
        }
        let r = admin
            .put_r(
                "/api/v1/accounts/dedupe-rules/name",
                &json!({"action": "block"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"rule": "name", "action": "block", "default_action": "warn", "fields": ["name"]})
        );
        let r = rep.get_r("/api/v1/accounts/dedupe-rules").await;
        assert_eq!(r.body["data"][4]["action"], "block");

        // A name match now refuses the save, allowed or not.
        rep.create(
            "accounts",
            json!({"kind": "company", "name": "南京同名实业有限公司"}),
        )
        .await;
        let r = rep
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "同名实业", "allow_duplicate": true}),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "duplicate", None);
        assert_eq!(
            r.body["error"]["message"],
            "已有名称相同的客户（负责人：sales user），不能重复录入。"
        );
    }
}
