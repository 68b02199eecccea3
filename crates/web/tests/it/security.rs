//! The holes a security probe found, each checked the way the probe found it: login bursts,
//! redirects, proxies, passwords, over-complex filters, error bodies, cache and browser headers,
//! deceptive characters in names.

use guanxi_core::Settings;
use guanxi_web::{TrustedProxies, WebOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    Backend, PASSWORD, Resp, TestApp, backends, browser, csrf_of, login_cookie, spawn, spawn_full,
};

fn behind_proxy() -> WebOptions {
    WebOptions {
        trusted_proxies: TrustedProxies::parse(&["127.0.0.1"]).expect("proxies"),
        ..WebOptions::default()
    }
}

/// One form login through `base`, claiming (through the trusted proxy) to come from `client`.
async fn login_from(base: &str, client: &str, email: &str, password: &str) -> StatusCode {
    browser()
        .post(format!("{base}/login"))
        .header("X-Forwarded-For", client)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("login")
        .status()
}

/// Sends every login at once and counts the answers: 401 means the password was checked.
async fn burst(attempts: Vec<(String, String)>) -> (usize, usize) {
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(base, email)| {
            // Every attempt comes from the same client address.
            tokio::spawn(async move {
                login_from(&base, "198.51.100.7", &email, "wrong password").await
            })
        })
        .collect();
    let (mut checked, mut throttled) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    (checked, throttled)
}

/// The servers a burst is spread over: one on SQLite, two instances on PostgreSQL.
async fn instances(app: &TestApp) -> Vec<String> {
    let mut out = vec![app.base.clone()];
    if app.backend == Backend::Postgres {
        out.push(app.another_instance(behind_proxy()).await);
    }
    out
}

#[tokio::test]
async fn parallel_wrong_passwords_for_one_account_check_at_most_the_allowance() {
    for b in backends() {
        let app = spawn_full(b, Settings::default(), behind_proxy()).await;
        let user = app.user("sales", Some("A")).await;
        let servers = instances(&app).await;
        let attempts = (0..100)
            .map(|i| (servers[i % servers.len()].clone(), user.email.clone()))
            .collect();
        let (checked, throttled) = burst(attempts).await;
        assert!(
            (1..=5).contains(&checked),
            "{b:?}: {checked} of 100 passwords were checked; the allowance is 5"
        );
        assert_eq!(checked + throttled, 100, "{b:?}");
        // The account is locked now, even with the right password, on every instance.
        for s in &servers {
            assert_eq!(
                login_from(s, "203.0.113.1", &user.email, PASSWORD).await,
                StatusCode::TOO_MANY_REQUESTS,
                "{b:?}"
            );
        }
    }
}

#[tokio::test]
async fn parallel_wrong_logins_from_one_address_check_at_most_its_allowance() {
    for b in backends() {
        let app = spawn_full(b, Settings::default(), behind_proxy()).await;
        let servers = instances(&app).await;
        let attempts = (0..200)
            .map(|i| {
                (
                    servers[i % servers.len()].clone(),
                    format!("nobody{i}@example.com"),
                )
            })
            .collect();
        let (checked, _) = burst(attempts).await;
        assert!(
            (1..=25).contains(&checked),
            "{b:?}: {checked} of 200 logins were checked; one address may fail 25"
        );
        // Another address is not affected, and a right password there works.
        let user = app.user("sales", Some("A")).await;
        assert_eq!(
            login_from(&app.base, "203.0.113.2", &user.email, PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn a_right_password_does_not_use_up_the_address_allowance() {
    let app = spawn_full(Backend::Sqlite, Settings::default(), behind_proxy()).await;
    let user = app.user("sales", Some("A")).await;
    // Thirty good logins from one office address: more than its 25 failures, none refused.
    for i in 0..30 {
        assert_eq!(
            login_from(&app.base, "198.51.100.9", &user.email, PASSWORD).await,
            StatusCode::SEE_OTHER,
            "login {i}"
        );
    }
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Without trusted proxies the header is ignored: varying it does not escape the address
    // limit (everything comes from 127.0.0.1).
    let app = spawn(Backend::Sqlite).await;
    for i in 0..25 {
        let s = login_from(
            &app.base,
            &format!("192.0.2.{i}"),
            &format!("x{i}@example.com"),
            "wrong password",
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let user = app.user("sales", Some("A")).await;
    assert_eq!(
        login_from(&app.base, "192.0.2.200", &user.email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Behind a trusted proxy, one person's failures lock only their address: the rest of the
    // office (other addresses behind the same proxy) still logs in.
    let app = spawn_full(Backend::Sqlite, Settings::default(), behind_proxy()).await;
    for i in 0..30 {
        login_from(
            &app.base,
            "192.0.2.1",
            &format!("x{i}@example.com"),
            "wrong password",
        )
        .await;
    }
    let user = app.user("sales", Some("A")).await;
    assert_eq!(
        login_from(&app.base, "192.0.2.1", &user.email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&app.base, "192.0.2.2", &user.email, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    // A client cannot forge its way out by adding entries on the left.
    assert_eq!(
        login_from(&app.base, "10.9.9.9, 192.0.2.1", &user.email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn logins_and_language_switches_redirect_only_to_this_site() {
    let app = spawn(Backend::Sqlite).await;
    let user = app.user("sales", Some("A")).await;
    for (next, expected) in [
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("\\\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/contacts?sort=-name", "/contacts?sort=-name"),
        ("/a\r\nSet-Cookie: evil=1", "/aSet-Cookie:%20evil=1"),
    ] {
        let res = browser()
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", user.email.as_str()),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&res), expected, "{next:?}");
        let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies.len(), 1, "{next:?}: {cookies:?}");
    }
    // The login page's form carries only the resolved target.
    let html = browser()
        .get(format!("{}/login?next=/%09/evil.example/", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("evil.example"), "{html}");

    // The language switch's `back` follows the same rule.
    let (cookie, _) = login_cookie(&app, &user.email, PASSWORD).await;
    let csrf = csrf_of(&app, &cookie).await;
    for (back, expected) in [("/\t/evil.example/", "/"), ("/contacts", "/contacts")] {
        let res = browser()
            .post(format!("{}/settings/locale", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("locale", "zh-CN"),
                ("back", back),
            ])
            .send()
            .await
            .expect("switch");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{back:?}");
        assert_eq!(location(&res), expected, "{back:?}");
    }
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_revokes_tokens() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let path = format!("/api/v1/users/{}/password", sales.id);

        // A bearer token alone cannot change its owner's password.
        sales
            .post_r(&path, &json!({"password": "a brand new passphrase"}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("current_password"),
            );
        sales
            .post_r(
                &path,
                &json!({"password": "a brand new passphrase", "current_password": "guess"}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("current_password"),
            );
        assert_eq!(sales.get_r("/api/v1/me").await.status, StatusCode::OK);

        // With the current password it works, and the token that did it is revoked with the
        // rest: the password may have been changed because something leaked.
        let r = sales
            .post_r(
                &path,
                &json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.text);
        assert_eq!(
            sales.get_r("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b:?}"
        );
        let (_, _) = login_cookie(&app, &sales.email, "a brand new passphrase").await;

        // Asked to, a change keeps the tokens.
        let keeper = app.user("sales", Some("A")).await;
        let r = keeper
            .post_r(
                &format!("/api/v1/users/{}/password", keeper.id),
                &json!({"password": "another good passphrase", "current_password": PASSWORD,
                        "keep_tokens": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.text);
        assert_eq!(keeper.get_r("/api/v1/me").await.status, StatusCode::OK);

        // An administrator resets someone else's without knowing it; their tokens end.
        let other = app.user("sales", Some("A")).await;
        let r = admin
            .post_r(
                &format!("/api/v1/users/{}/password", other.id),
                &json!({"password": "reset by the admin 7"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.text);
        assert_eq!(
            other.get_r("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        // An administrator changing their own password is asked for it like anyone.
        admin
            .post_r(
                &format!("/api/v1/users/{}/password", admin.id),
                &json!({"password": "a brand new passphrase"}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("current_password"),
            );
    }
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_a_login() {
    let app = spawn(Backend::Sqlite).await;
    let sales = app.user("sales", Some("A")).await;
    let path = format!("/api/v1/users/{}/password", sales.id);
    for i in 0..5 {
        let r = sales
            .post_r(
                &path,
                &json!({"password": "a brand new passphrase", "current_password": format!("guess {i}")}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{i}: {}",
            r.text
        );
    }
    sales
        .post_r(
            &path,
            &json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
        )
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None);
}

#[tokio::test]
async fn a_disabled_user_enabled_again_does_not_get_old_tokens_back() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let path = format!("/api/v1/users/{}", sales.id);
        let r = admin.patch_r(&path, &json!({"disabled": true})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = admin.patch_r(&path, &json!({"disabled": false})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            sales.get_r("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b:?}"
        );
        // Logging in and making a new token works as usual.
        login_cookie(&app, &sales.email, PASSWORD).await;
    }
}

#[tokio::test]
async fn common_passwords_and_the_email_are_refused() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    for pw in [
        "12345678",
        "password",
        "        ",
        "qwertyuiop",
        "password123",
        "11111111",
        "abcdefgh",
        "new.user@example.com",
        "NEW.USER@EXAMPLE.COM",
    ] {
        admin
            .post_r(
                "/api/v1/users",
                &json!({"email": "new.user@example.com", "name": "新用户", "role": "sales",
                        "password": pw}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("password"),
            );
    }
    let sales = app.user("sales", Some("A")).await;
    sales
        .post_r(
            &format!("/api/v1/users/{}/password", sales.id),
            &json!({"password": "12345678", "current_password": PASSWORD}),
        )
        .await
        .assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("password"),
        );
    // A passphrase is fine.
    let r = admin
        .post_r(
            "/api/v1/users",
            &json!({"email": "new.user@example.com", "name": "新用户", "role": "sales",
                    "password": "绿茶 and 45 lanterns"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn the_settings_page_changes_a_password_with_feedback() {
    let app = spawn(Backend::Sqlite).await;
    let sales = app.user("sales", Some("A")).await;
    let (cookie, _) = login_cookie(&app, &sales.email, PASSWORD).await;
    let csrf = csrf_of(&app, &cookie).await;
    let post = |current: &'static str, new: &'static str| {
        let url = format!("{}/settings/password", app.base);
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        async move {
            browser()
                .post(url)
                .header("Cookie", format!("guanxi_session={cookie}"))
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("current", current),
                    ("password", new),
                ])
                .send()
                .await
                .expect("post")
        }
    };
    let html = post("wrong", "a brand new passphrase")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("The current password is wrong."), "{html}");
    let html = post(PASSWORD, "password").await.text().await.expect("html");
    assert!(
        html.contains("New password: Too common or too easy to guess"),
        "{html}"
    );
    let res = post(PASSWORD, "a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("set-cookie").is_some());
    let html = res.text().await.expect("html");
    assert!(html.contains("Password changed"), "{html}");
    assert_eq!(
        sales.get_r("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn over_complex_filters_are_refused_with_the_limit() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let many = vec!["kind=company"; 1000].join("&");
        let r = admin.get_r(&format!("/api/v1/accounts?{many}")).await;
        r.assert_error(StatusCode::BAD_REQUEST, "filter_too_complex", None);
        assert!(r.text.contains("100"), "{}", r.text);
        // The same through a JSON tree, and nested too deep.
        let conds: Vec<_> = (0..150)
            .map(|_| json!({"field": "kind", "value": "company"}))
            .collect();
        let tree = json!({"or": conds}).to_string();
        let q: String = form_urlencoded::byte_serialize(tree.as_bytes()).collect();
        admin
            .get_r(&format!("/api/v1/accounts?filter={q}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "filter_too_complex", None);
        let mut deep = json!({"field": "kind", "value": "company"});
        for _ in 0..20 {
            deep = json!({"not": deep});
        }
        let q: String = form_urlencoded::byte_serialize(deep.to_string().as_bytes()).collect();
        admin
            .get_r(&format!("/api/v1/accounts?filter={q}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "filter_too_complex", None);
        // Exports and the UI list refuse it too, without a 500.
        admin
            .get_r(&format!("/api/v1/accounts/export.csv?{many}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "filter_too_complex", None);
        let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        let ui_many = vec!["ff=kind&fo=eq&fv=company"; 1000].join("&");
        let res = browser()
            .get(format!("{}/accounts?{ui_many}", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .expect("page");
        assert!(!res.status().is_server_error(), "{b:?}: {}", res.status());
        let html = res.text().await.expect("html");
        assert!(
            html.contains("A filter may have at most 100 conditions; this one has 1000"),
            "{b:?}"
        );
        // A filter within the limits still works.
        let few = vec!["kind=company"; 50].join("&");
        assert_eq!(
            admin.get_r(&format!("/api/v1/accounts?{few}")).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn odd_queries_and_paths_get_the_json_error_body() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    admin
        .get_r("/api/v1/search?q=x&limit=1&limit=2")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query", None);
    admin
        .get_r("/api/v1/accounts?limit=1&limit=2")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query", None);
    admin.get_r("/api/v1/accounts/%FF%FE").await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    admin.get_r("/api/v1/users/%C3%28/x").await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    admin
        .delete_r("/api/v1/recycle-bin/%FF/%FE")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    let r = admin.get_r("/api/v1/recycle-bin?entity=").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    admin
        .get_r("/api/v1/recycle-bin?entity=nothing")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_entity", None);
}

fn header(r: &Resp, name: &str) -> String {
    r.header(name).unwrap_or_default()
}

#[tokio::test]
async fn private_responses_are_not_cached_and_browsers_get_the_policies() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    for path in [
        "/api/v1/me",
        "/api/v1/accounts",
        "/api/v1/accounts/export.csv",
    ] {
        let r = admin.get_r(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(header(&r, "cache-control"), "no-store", "{path}");
        assert!(
            header(&r, "permissions-policy").contains("camera=()"),
            "{path}"
        );
        assert!(r.header("strict-transport-security").is_none(), "{path}");
    }
    let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
    for path in ["/accounts", "/settings", "/accounts/export.csv"] {
        let res = browser()
            .get(format!("{}{path}", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
    // Static assets keep their own caching.
    let res = browser()
        .get(format!("{}/assets/app.css", app.base))
        .send()
        .await
        .expect("css");
    assert!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("public")),
    );

    // Behind TLS (secure cookies on), HSTS too.
    let tls = spawn_full(
        Backend::Sqlite,
        Settings::default(),
        WebOptions {
            secure_cookies: true,
            ..WebOptions::default()
        },
    )
    .await;
    let res = browser()
        .get(format!("{}/login", tls.base))
        .send()
        .await
        .expect("login page");
    assert!(
        res.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("max-age=")),
    );
}

#[tokio::test]
async fn names_refuse_bidi_overrides_and_zero_width_characters() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        for name in [
            "华信\u{202E}gnp.exe",
            "\u{2067}上海华信\u{2069}",
            "华\u{200B}信",
            "\u{FEFF}华信",
        ] {
            for (path, body) in [
                ("/api/v1/accounts", json!({"name": name, "kind": "company"})),
                (
                    "/api/v1/users",
                    json!({"email": "u@example.com", "name": name, "role": "sales",
                           "password": "绿茶 and 45 lanterns"}),
                ),
                ("/api/v1/teams", json!({"name": name})),
                ("/api/v1/tokens", json!({"name": name})),
            ] {
                admin.post_r(path, &body).await.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some("name"),
                );
            }
        }
        // Custom text fields too.
        let r = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "nickname", "kind": "text",
                        "label_en": "Nickname", "label_zh": "简称"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        admin
            .post_r(
                "/api/v1/accounts",
                &json!({"name": "华信", "kind": "company",
                        "custom": {"nickname": "华信\u{202E}gnp.exe"}}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("custom.nickname"),
            );
        // Joiners stay allowed (emoji sequences need them).
        let r = admin
            .post_r(
                "/api/v1/accounts",
                &json!({"name": "家庭 👨\u{200D}👩\u{200D}👧 工作室", "kind": "company"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
    }
}

/// A form posted without the session's CSRF token is refused with the page that says so, in
/// the user's language, and changes nothing; without a session it is sent to sign in.
#[tokio::test]
async fn forms_without_the_sessions_token_change_nothing() {
    let app = spawn(Backend::Sqlite).await;
    let user = app.user("admin", None).await;
    let (cookie, _) = login_cookie(&app, &user.email, PASSWORD).await;
    let post = |token: &'static str, cookie: Option<String>| {
        let mut req = browser()
            .post(format!("{}/accounts", app.base))
            .header("accept-language", "zh-CN");
        if let Some(c) = cookie {
            req = req.header("Cookie", format!("guanxi_session={c}"));
        }
        req.form(&[
            ("_csrf", token),
            ("kind", "company"),
            ("name", "跨站提交公司"),
        ])
        .send()
    };
    let res = post("not-the-token", Some(cookie.clone()))
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.expect("html");
    assert!(
        !html.contains("csrf_failed"),
        "no internal code shown: {html}"
    );
    let res = post("not-the-token", None).await.expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    let (_, found) = crate::support::json(user.get("/api/v1/search?q=跨站提交公司").await).await;
    assert_eq!(found["data"].as_array().map(Vec::len), Some(0), "{found}");
}
