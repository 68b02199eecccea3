//! Errors are codes with params; people read them in their own language, worded from the
//! translation files: in the API's `message`s and on the pages.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, backends, browser, csrf_of, login_cookie, spawn};

/// A too-long name and a bad second phone number.
fn invalid_account() -> serde_json::Value {
    json!({
        "kind": "company",
        "name": "长".repeat(201),
        "phones": [{"number": "138 1234 5678"}, {"number": "12"}],
    })
}

#[tokio::test]
async fn the_api_answers_codes_worded_in_the_callers_language() {
    for b in backends() {
        let app = spawn(b).await;
        let zh = app.user_in("sales", Some("A"), "zh-CN").await;
        let en = app.user_in("sales", Some("A"), "en").await;

        let r = zh.post_r("/api/v1/accounts", &invalid_account()).await;
        let name = r.assert_field("name", "too_long");
        assert_eq!(name["params"], json!({"max": 200}), "{b:?}: {}", r.text);
        assert_eq!(name["message"], "最多 200 个字符");
        let phones = r.assert_field("phones", "invalid_phone");
        assert_eq!(phones["params"], json!({"entry": 2, "value": "12"}));
        assert_eq!(phones["message"], "第 2 项：电话号码“12”无效");
        assert_eq!(r.body["error"]["message"], "请检查以下字段：name、phones");

        // The same codes for an English speaker, worded in English.
        let r = en.post_r("/api/v1/accounts", &invalid_account()).await;
        let name = r.assert_field("name", "too_long");
        assert_eq!(name["params"]["max"], 200);
        assert_eq!(name["message"], "At most 200 characters");
        let phones = r.assert_field("phones", "invalid_phone");
        assert_eq!(phones["message"], "Entry 2: “12” is not a phone number");
        assert_eq!(
            r.body["error"]["message"],
            "Please check these fields: name, phones"
        );

        // A part of a value is named; choices list the options.
        let r = zh
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "alien", "name": "部分", "billing_address": {"city": "城".repeat(201)}}),
            )
            .await;
        let city = r.assert_field("billing_address", "too_long");
        assert_eq!(city["params"], json!({"max": 200, "part": "city"}));
        assert_eq!(city["message"], "城市：最多 200 个字符");
        let kind = r.assert_field("kind", "not_one_of");
        assert_eq!(
            kind["params"],
            json!({"value": "alien", "options": ["company", "person"]})
        );
        assert_eq!(kind["message"], "“alien”不是可选值，可选：company、person");

        // A refusal says why, with the entity worded as its name.
        let reader = app.user_in("read_only", None, "zh-CN").await;
        let r = reader
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "只读"}),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert_eq!(r.body["error"]["reason"], "role_cannot_write");
        assert_eq!(r.body["error"]["params"], json!({"entity": "account"}));
        assert_eq!(r.body["error"]["message"], "您的角色无权新建或修改客户。");

        // A filter past a limit gives the figures.
        let many = vec!["kind=company"; 150].join("&");
        let r = zh.get_r(&format!("/api/v1/accounts?{many}")).await;
        r.assert_error(StatusCode::BAD_REQUEST, "filter_too_complex", None);
        assert_eq!(
            r.body["error"]["params"],
            json!({"limit": 100, "has": 150, "unit": "conditions"})
        );
        assert_eq!(
            r.body["error"]["message"],
            "筛选条件最多 100 个，当前有 150 个"
        );

        // A caller not known is answered in English.
        let r = crate::support::Resp::read(
            app.anonymous()
                .get(format!("{}/api/v1/accounts", app.base))
                .send()
                .await
                .expect("request"),
        )
        .await;
        r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        assert_eq!(
            r.body["error"]["message"],
            "Log in or send a valid API token."
        );
    }
}

#[tokio::test]
async fn a_chinese_user_sees_form_errors_in_chinese_with_their_figures() {
    for b in backends() {
        let app = spawn(b).await;
        let zh = app.user_in("sales", Some("A"), "zh-CN").await;
        let (cookie, _) = login_cookie(&app, &zh.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let long = "长".repeat(201);
        let res = browser()
            .post(format!("{}/accounts", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("f.kind", "company"),
                ("f.name", long.as_str()),
                ("f.phones.0.number", "138 1234 5678"),
                ("f.phones.1.number", "12"),
                ("f.website", "不是网址"),
            ])
            .send()
            .await
            .expect("form");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        let html = res.text().await.expect("html");
        for want in [
            "请更正下面标出的字段。",
            "最多 200 个字符",
            "第 2 项：电话号码“12”无效",
            "网址“不是网址”无效",
        ] {
            assert!(html.contains(want), "{b:?}: {want} missing:\n{html}");
        }
        // Nothing of the English wording or the codes leaks onto the page.
        for unwanted in ["characters", "too_long", "invalid_phone", "not a"] {
            assert!(!html.contains(unwanted), "{b:?}: {unwanted} shown:\n{html}");
        }
    }
}
