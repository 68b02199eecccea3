//! E-mail through the web layer, against a real SMTP server on loopback: "forgot your password"
//! from the login page to a new password, notices e-mailed in their recipient's language when
//! they show, each user's e-mail choices, and the administrator's test message.

use std::time::Duration;

use guanxi_core::db;
use guanxi_core::notifications::{self, Notice};
use guanxi_smtp_sink::{Behaviour, SmtpSink};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    PASSWORD, backends, csrf_of, form_as, login_cookie, mailing, page_as, run_jobs, spawn,
    spawn_with,
};

/// The link in a letter's plain-text part that starts with `prefix`.
fn link_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_link_in_the_email_once() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let app = spawn_with(backend, mailing(&sink)).await;
        let user = app.user_in("sales", Some("North"), "zh-CN").await;

        // The login page offers it; asking answers alike for an address with and without an
        // account.
        let (_, login) = page_as(&app, None, "en", "/login").await;
        assert!(login.contains("href=\"/password-reset\""), "{login}");
        let (status, form) = page_as(&app, None, "en", "/password-reset").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("Send me a link"), "{form}");
        let (s1, _, known) = form_as(
            &app,
            None,
            "en",
            "/password-reset",
            &[("email", &user.email)],
        )
        .await;
        let (s2, _, unknown) = form_as(
            &app,
            None,
            "en",
            "/password-reset",
            &[("email", "nobody@example.com")],
        )
        .await;
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
        assert!(
            known.contains("a link to choose a new password is on its way"),
            "{known}"
        );
        assert_eq!(
            known.replace(&user.email, "X"),
            unknown.replace("nobody@example.com", "X")
        );

        // One letter, in the user's language (Chinese), with the link in both parts.
        run_jobs(&app).await;
        let got = sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 1);
        let letter = &got[0];
        assert_eq!(letter.to, vec![user.email.clone()]);
        assert_eq!(
            letter.header("Subject").as_deref(),
            Some("设置新的关系 CRM 密码")
        );
        let text = letter.text_part().unwrap();
        assert!(text.contains("30 分钟内有效"), "{text}");
        let link = link_in(&text, "https://crm.example.com/password-reset/");
        assert!(
            letter
                .html_part()
                .unwrap()
                .contains(&format!("href=\"{link}\""))
        );
        let path = link.trim_start_matches("https://crm.example.com");

        // The link's page names the account; two different passwords, then a weak one, are
        // refused with a reason, and the link still works after them.
        let (status, choose) = page_as(&app, None, "en", path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(choose.contains(&user.email));
        let (status, _, page) = form_as(
            &app,
            None,
            "en",
            path,
            &[
                ("password", "plum tram cycle 42"),
                ("confirm", "plum tram cycle 43"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("The two passwords differ"), "{page}");
        let (status, _, page) = form_as(
            &app,
            None,
            "zh-CN",
            path,
            &[("password", "password"), ("confirm", "password")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("新密码："), "{page}");

        let (status, to, _) = form_as(
            &app,
            None,
            "en",
            path,
            &[
                ("password", "plum tram cycle 42"),
                ("confirm", "plum tram cycle 42"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(to.as_deref(), Some("/login?reset=done"));
        let (_, welcome) = page_as(&app, None, "en", "/login?reset=done").await;
        assert!(welcome.contains("Your password is set"), "{welcome}");
        login_cookie(&app, &user.email, "plum tram cycle 42").await;

        // Used: the page says so, and the form cannot set a password again.
        let (status, gone) = page_as(&app, None, "en", path).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(gone.contains("This link no longer works"), "{gone}");
        let (status, _, _) = form_as(
            &app,
            None,
            "en",
            path,
            &[
                ("password", "other fine words 77"),
                ("confirm", "other fine words 77"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::GONE);
        login_cookie(&app, &user.email, "plum tram cycle 42").await;
        let (status, _) = page_as(&app, None, "en", "/password-reset/not-a-secret").await;
        assert_eq!(status, StatusCode::GONE);
        assert_eq!(sink.messages().len(), 1);
    }
}

#[tokio::test]
async fn without_email_the_reset_page_says_whom_to_ask() {
    let app = spawn(crate::support::Backend::Sqlite).await;
    let (_, page) = page_as(&app, None, "zh-CN", "/password-reset").await;
    assert!(page.contains("请联系管理员"), "{page}");
    assert!(!page.contains("name=\"email\""));
}

#[tokio::test]
async fn notices_are_emailed_in_their_recipients_language_when_they_show_as_each_chose() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let app = spawn_with(backend, mailing(&sink)).await;
        let zh = app.user_in("sales", Some("North"), "zh-CN").await;
        let en = app.user_in("sales", Some("North"), "en").await;
        let quiet = app.user_in("sales", Some("North"), "en").await;
        let account = zh
            .create("accounts", json!({"kind": "company", "name": "华为技术"}))
            .await;
        let account_id = uuid::Uuid::parse_str(account["id"].as_str().unwrap()).unwrap();

        // The quiet one turns reminders by e-mail off on the settings page.
        let (cookie, _) = login_cookie(&app, &quiet.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let (_, settings) = page_as(&app, Some(&cookie), "en", "/settings").await;
        assert!(
            settings.contains("id=\"email-reminder\" value=\"1\" checked"),
            "{settings}"
        );
        let (status, to, _) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/settings/notifications",
            &[("_csrf", &csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, settings) = page_as(&app, Some(&cookie), "en", to.as_deref().unwrap()).await;
        assert!(
            settings.contains("e-mail notification choices are saved"),
            "{settings}"
        );
        assert!(!settings.contains("id=\"email-reminder\" value=\"1\" checked"));

        let txn = app.core.db.begin().await.unwrap();
        for (user, at) in [
            (zh.id, guanxi_core::now()),
            (en.id, guanxi_core::now() + chrono::Duration::hours(3)),
            (quiet.id, guanxi_core::now()),
        ] {
            notifications::notify(
                &app.core,
                &txn,
                Notice {
                    user_id: user,
                    kind: "reminder",
                    params: json!({"title": "跟进报价"}),
                    about: Some(("account", account_id)),
                    visible_at: at,
                },
            )
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();

        // Now: the Chinese reader's, worded in Chinese, linking to the account.
        run_jobs(&app).await;
        let got = sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].to, vec![zh.email.clone()]);
        assert_eq!(got[0].header("Subject").as_deref(), Some("提醒：跟进报价"));
        let text = got[0].text_part().unwrap();
        assert!(
            text.contains(&format!("https://crm.example.com/accounts/{account_id}")),
            "{text}"
        );

        // Three hours on, the English reader's.
        let txn = app.core.db.begin().await.unwrap();
        db::raw_execute(
            &txn,
            "UPDATE jobs SET due_at = created_at WHERE kind = 'notice-email'",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        run_jobs(&app).await;
        let got = sink.wait_for(2, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            sink.messages().len(),
            2,
            "once each, none for the quiet one"
        );
        assert_eq!(got[1].to, vec![en.email.clone()]);
        assert_eq!(
            got[1].header("Subject").as_deref(),
            Some("Reminder: 跟进报价")
        );
    }
}

#[tokio::test]
async fn an_administrator_sends_a_test_message_and_reads_what_the_server_said() {
    let sink = SmtpSink::start().await.unwrap();
    let app = spawn_with(crate::support::Backend::Sqlite, mailing(&sink)).await;
    let admin = app.user_in("admin", None, "en").await;
    let rep = app.user("sales", Some("North")).await;
    let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
    let csrf = csrf_of(&app, &cookie).await;

    let (status, page) = page_as(&app, Some(&cookie), "en", "/admin/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("127.0.0.1:{}", sink.port())),
        "{page}"
    );
    assert!(page.contains("Set (not shown)"));
    assert!(
        !page.contains("s3cret-smtp-pass"),
        "the password never shows"
    );

    let (status, _, page) = form_as(
        &app,
        Some(&cookie),
        "en",
        "/admin/mail/test",
        &[("_csrf", &csrf), ("to", "ops@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("handed to the mail server for ops@example.com"),
        "{page}"
    );
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].to, vec!["ops@example.com".to_string()]);
    assert_eq!(got[0].auth_user.as_deref(), Some("crm"));

    sink.set_behaviour(Behaviour::RefuseRecipients);
    let (_, _, page) = form_as(
        &app,
        Some(&cookie),
        "en",
        "/admin/mail/test",
        &[("_csrf", &csrf), ("to", "ops@example.com")],
    )
    .await;
    assert!(
        page.contains("The mail server refused the message"),
        "{page}"
    );
    assert!(page.contains("550"), "{page}");

    let (rep_cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
    let (status, _) = page_as(&app, Some(&rep_cookie), "en", "/admin/mail").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let bare = spawn(crate::support::Backend::Sqlite).await;
    let boss = bare.user_in("admin", None, "zh-CN").await;
    let (cookie, _) = login_cookie(&bare, &boss.email, PASSWORD).await;
    let (_, page) = page_as(&bare, Some(&cookie), "zh-CN", "/admin/mail").await;
    assert!(page.contains("尚未配置 SMTP 服务器"), "{page}");
}
