//! Each user reads amounts as they chose on the settings page (`¥8,740,000` or `874万元`),
//! through the API and the UI, on both backends; a format that does not exist is refused
//! naming the ones that do.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, backends, csrf_of, form_as, login_cookie, page_as, spawn};

#[tokio::test]
async fn amounts_read_in_wan_for_whoever_chose_it() {
    for b in backends() {
        let app = spawn(b).await;
        let chooser = app.user_in("sales", Some("East"), "zh-CN").await;
        let other = app.user_in("sales", Some("East"), "zh-CN").await;
        let acc = chooser
            .create(
                "accounts",
                json!({"kind": "company", "name": "金额写法测试有限公司",
                       "annual_revenue": {"amount": "8740000", "currency": "CNY"}}),
            )
            .await;
        let page = format!("/accounts/{}", acc["id"].as_str().expect("id"));
        let (cookie, _) = login_cookie(&app, &chooser.email, PASSWORD).await;
        let (other_cookie, _) = login_cookie(&app, &other.email, PASSWORD).await;

        // Grouped digits until they choose.
        let (status, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(html.contains("¥8,740,000"), "{b:?}");

        // The settings page offers both, each by an example, and saves the choice.
        let (_, settings) = page_as(&app, Some(&cookie), "zh-CN", "/settings").await;
        assert!(
            settings.contains("874万元") && settings.contains("¥8,740,000"),
            "{b:?}"
        );
        let csrf = csrf_of(&app, &cookie).await;
        let (status, location, _) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            "/settings/locale",
            &[
                ("_csrf", &csrf),
                ("locale", "zh-CN"),
                ("money_format", "wan"),
                ("back", "/settings?done=display"),
            ],
        )
        .await;
        assert!(status.is_redirection(), "{b:?} {status}");
        let location = location.expect("back to the settings");
        let (_, saved) = page_as(&app, Some(&cookie), "zh-CN", &location).await;
        assert!(saved.contains("显示设置已保存"), "{b:?}");

        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        assert!(html.contains("874万元"), "{b:?}");
        assert!(!html.contains("¥8,740,000"), "{b:?}");
        let (_, list) = page_as(
            &app,
            Some(&cookie),
            "zh-CN",
            "/accounts?cols=name,annual_revenue",
        )
        .await;
        assert!(list.contains("874万元"), "{b:?}");
        // Only for them.
        let (_, theirs) = page_as(&app, Some(&other_cookie), "zh-CN", &page).await;
        assert!(theirs.contains("¥8,740,000"), "{b:?}");

        // The API keeps amounts as data, and says what the choice is.
        let me = chooser.get_r("/api/v1/me").await;
        assert_eq!(me.body["user"]["money_format"], "wan", "{b:?}");
        let rec = chooser
            .get_r(&format!(
                "/api/v1/accounts/{}",
                acc["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(rec.body["annual_revenue"]["amount"], "8740000.00", "{b:?}");
        // An unknown format is refused, naming the ones there are; nothing changes.
        let r = chooser
            .patch_r("/api/v1/me", &json!({"money_format": "lakh"}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        r.assert_field("money_format", "not_one_of");
        let r = chooser
            .patch_r("/api/v1/me", &json!({"money_format": "grouped"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?} {}", r.text);
        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        assert!(html.contains("¥8,740,000"), "{b:?}");
    }
}
