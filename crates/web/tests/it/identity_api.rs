//! Sessions, CSRF, login throttling, API tokens and the caller's own settings over HTTP.

use guanxi_core::Settings;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{
    PASSWORD, Resp, TestApp, backends, browser, csrf_of, login_cookie, spawn, spawn_with,
};

/// A request with the session cookie and no bearer token.
fn with_cookie(app: &TestApp, method: Method, path: &str, cookie: &str) -> reqwest::RequestBuilder {
    browser()
        .request(method, format!("{}{path}", app.base))
        .header("Cookie", format!("guanxi_session={cookie}"))
}

async fn send(rb: reqwest::RequestBuilder) -> Resp {
    Resp::read(rb.send().await.expect("request")).await
}

#[tokio::test]
async fn session_cookie_csrf_and_logout() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("A")).await;

        // The login form sets an HttpOnly, SameSite=Lax session cookie and redirects.
        let (cookie, set_cookie) = login_cookie(&app, &sales.email.to_uppercase(), PASSWORD).await;
        let lower = set_cookie.to_lowercase();
        assert!(lower.contains("httponly"), "{set_cookie}");
        assert!(lower.contains("samesite=lax"), "{set_cookie}");
        assert!(lower.contains("path=/"), "{set_cookie}");
        assert!(!lower.contains("secure"), "no TLS in tests: {set_cookie}");
        assert!(cookie.len() >= 32, "a long random session id");

        // The cookie works for the API.
        let r = send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["user"]["email"], sales.email);
        assert_eq!(r.body["user"]["role"], "sales");
        assert!(r.body["user"].get("password_hash").is_none());
        assert_eq!(
            r.body["grants"]["account"],
            json!({"read": "team", "write": "own"})
        );
        let r = send(with_cookie(&app, Method::GET, "/api/v1/accounts", &cookie)).await;
        assert_eq!(r.status, StatusCode::OK);

        // State-changing API calls with the cookie need the session's X-CSRF-Token.
        let csrf = csrf_of(&app, &cookie).await;
        // Created twice below (by cookie and by token): a duplicate on purpose.
        let create = json!({"kind": "company", "name": "Cookie Co", "allow_duplicate": true});
        for token in [None, Some("wrong"), Some("")] {
            let mut rb = with_cookie(&app, Method::POST, "/api/v1/accounts", &cookie).json(&create);
            if let Some(t) = token {
                rb = rb.header("X-CSRF-Token", t);
            }
            send(rb)
                .await
                .assert_error(StatusCode::FORBIDDEN, "csrf_failed", None);
        }
        for (m, path) in [
            (Method::PATCH, "/api/v1/me"),
            (
                Method::DELETE,
                "/api/v1/tokens/00000000-0000-0000-0000-000000000000",
            ),
            (Method::PUT, "/api/v1/roles/sales/grants/account"),
        ] {
            send(with_cookie(&app, m, path, &cookie).json(&json!({})))
                .await
                .assert_error(StatusCode::FORBIDDEN, "csrf_failed", None);
        }
        assert_eq!(crate::support::count_rows(&app, "accounts").await, 0);
        let r = send(
            with_cookie(&app, Method::POST, "/api/v1/accounts", &cookie)
                .header("X-CSRF-Token", &csrf)
                .json(&create),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        // A bearer token needs no CSRF token.
        let r = sales.post_r("/api/v1/accounts", &create).await;
        assert_eq!(r.status, StatusCode::CREATED);

        // UI forms without the _csrf field (or with another session's) are refused.
        let other_session = {
            let other = app.user("sales", Some("A")).await;
            let (c, _) = login_cookie(&app, &other.email, PASSWORD).await;
            csrf_of(&app, &c).await
        };
        for form in [
            vec![("f.kind", "company"), ("f.name", "Form Co")],
            vec![
                ("_csrf", other_session.as_str()),
                ("f.kind", "company"),
                ("f.name", "Form Co"),
            ],
        ] {
            let r = send(with_cookie(&app, Method::POST, "/accounts", &cookie).form(&form)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.text);
        }
        for path in ["/settings/locale", "/settings/tokens", "/logout"] {
            let r = send(
                with_cookie(&app, Method::POST, path, &cookie)
                    .form(&[("locale", "zh-CN"), ("name", "t")]),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?} {path}");
        }
        assert_eq!(crate::support::count_rows(&app, "accounts").await, 2);
        // With the token the form works.
        let r = send(
            with_cookie(&app, Method::POST, "/accounts", &cookie).form(&[
                ("_csrf", csrf.as_str()),
                ("f.kind", "company"),
                ("f.name", "Form Co"),
            ]),
        )
        .await;
        assert!(r.status.is_redirection(), "{b:?}: {} {}", r.status, r.text);
        assert_eq!(crate::support::count_rows(&app, "accounts").await, 3);

        // Logout revokes the session server-side: the old cookie stops working.
        let r = send(
            with_cookie(&app, Method::POST, "/logout", &cookie).form(&[("_csrf", csrf.as_str())]),
        )
        .await;
        assert!(r.status.is_redirection(), "{}", r.status);
        send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let r = send(with_cookie(&app, Method::GET, "/accounts", &cookie)).await;
        assert!(
            r.status.is_redirection(),
            "pages send a logged-out browser to /login"
        );
        assert!(
            r.header("location")
                .is_some_and(|l| l.starts_with("/login")),
            "{:?}",
            r.header("location")
        );
        // The bearer token is unaffected.
        assert_eq!(sales.get_r("/api/v1/me").await.status, StatusCode::OK);
        // A made-up cookie is nobody.
        send(with_cookie(&app, Method::GET, "/api/v1/me", "forged"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        send(browser().get(format!("{}/api/v1/me", app.base)))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);

        // Wrong passwords and unknown users get the same 401 page, no cookie.
        for (email, pw) in [
            (sales.email.as_str(), "wrong password"),
            ("nobody@example.com", PASSWORD),
        ] {
            let res = browser()
                .post(format!("{}/login", app.base))
                .form(&[("email", email), ("password", pw)])
                .send()
                .await
                .expect("login");
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert!(res.headers().get("set-cookie").is_none());
        }
        // The login page never redirects off-site.
        let res = browser()
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", sales.email.as_str()),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ])
            .send()
            .await
            .expect("login");
        let loc = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(loc.starts_with('/') && !loc.starts_with("//"), "{loc}");
    }
}

#[tokio::test]
async fn logins_are_throttled_after_repeated_failures() {
    for b in backends() {
        let settings = Settings {
            max_login_failures: 5,
            throttle_window_minutes: 15,
            ..Settings::default()
        };
        let app = spawn_with(b, settings).await;
        let sales = app.user("sales", Some("A")).await;
        let login = |pw: &'static str, email: String| {
            let url = format!("{}/login", app.base);
            async move {
                browser()
                    .post(url)
                    .form(&[("email", email.as_str()), ("password", pw)])
                    .send()
                    .await
                    .expect("login")
            }
        };
        for i in 0..5 {
            let res = login("wrong password", sales.email.clone()).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b:?} attempt {i}");
        }
        // Now locked, even with the right password, with a Retry-After.
        let res = login(PASSWORD, sales.email.clone()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}");
        let retry: i64 = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(retry > 0 && retry <= 15 * 60, "{b:?}: Retry-After {retry}");
        assert!(res.headers().get("set-cookie").is_none());
        // One person's typos do not lock out the others behind the same address...
        let other = app.user("sales", Some("A")).await;
        let res = login(PASSWORD, other.email.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b:?}");
        // ...but guessing across many accounts from one address does (5 × the account limit).
        for i in 0..20 {
            let res = login("wrong password", format!("nobody{i}@example.com")).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b:?} spray {i}");
        }
        let res = login(PASSWORD, other.email.clone()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}");
        // API tokens are not affected by login throttling.
        assert_eq!(sales.get_r("/api/v1/me").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn tokens_disabled_users_and_own_settings() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("A")).await;
        let other = app.user("sales", Some("A")).await;

        // Create a token, shown once; the list shows its prefix only.
        let r = sales
            .post_r("/api/v1/tokens", &json!({"name": "报表脚本"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        let secret = r.body["token"].as_str().expect("token").to_string();
        let token_id = r.body["info"]["id"].as_str().expect("id").to_string();
        assert!(secret.starts_with("gx_") && secret.len() > 40, "{secret}");
        let list = sales.get_r("/api/v1/tokens").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.text.contains(&secret), "the secret is never listed");
        let names: Vec<&str> = list.body["data"]
            .as_array()
            .expect("tokens")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(names.contains(&"报表脚本"), "{}", list.text);
        assert!(
            list.body["data"]
                .as_array()
                .expect("tokens")
                .iter()
                .all(|t| t.get("token_hash").is_none())
        );
        // The secret is stored hashed.
        let stored = crate::support::count_sql(
            &app,
            &format!("SELECT COUNT(*) AS n FROM api_tokens WHERE token_hash = '{secret}'"),
        )
        .await;
        assert_eq!(stored, 0, "tokens are not stored in clear");
        let call = |token: String, path: &'static str| {
            let url = format!("{}{path}", app.base);
            async move {
                Resp::read(
                    reqwest::Client::new()
                        .get(url)
                        .bearer_auth(token)
                        .send()
                        .await
                        .expect("GET"),
                )
                .await
            }
        };
        let r = call(secret.clone(), "/api/v1/me").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["user"]["id"], sales.id.to_string());
        // Its use is recorded on the token: never used before the call, used after it.
        let last_used = |list: &Resp| {
            list.body["data"]
                .as_array()
                .expect("tokens")
                .iter()
                .find(|t| t["id"] == token_id.as_str())
                .map(|t| t["last_used_at"].clone())
        };
        assert_eq!(last_used(&list), Some(serde_json::Value::Null), "{b:?}");
        let after = sales.get_r("/api/v1/tokens").await;
        assert!(
            last_used(&after).is_some_and(|t| t.is_string()),
            "{b:?}: {}",
            after.text
        );
        // Others cannot revoke it; its owner can.
        other
            .delete_r(&format!("/api/v1/tokens/{token_id}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(
            call(secret.clone(), "/api/v1/me").await.status,
            StatusCode::OK
        );
        let r = sales.delete_r(&format!("/api/v1/tokens/{token_id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        call(secret.clone(), "/api/v1/me").await.assert_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
        // Revoking again is harmless.
        let again = sales.delete_r(&format!("/api/v1/tokens/{token_id}")).await;
        assert!(
            again.status == StatusCode::NO_CONTENT || again.status == StatusCode::NOT_FOUND,
            "{}",
            again.text
        );
        assert!(!sales.get_r("/api/v1/tokens").await.text.contains(&token_id));
        sales
            .post_r("/api/v1/tokens", &json!({"name": "x".repeat(101)}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("name"),
            );
        sales
            .post_r("/api/v1/tokens", &json!({"name": "t", "user_id": admin.id}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("user_id"),
            );

        // /api/v1/me: change one's own language and name, nothing else.
        let r = sales
            .patch_r("/api/v1/me", &json!({"locale": "zh-CN"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["user"]["locale"], "zh-CN");
        assert_eq!(
            sales.get_r("/api/v1/me").await.body["user"]["locale"],
            "zh-CN"
        );
        let r = sales
            .patch_r("/api/v1/me", &json!({"name": "王销售"}))
            .await;
        assert_eq!(r.body["user"]["name"], "王销售");
        for (body, field) in [
            (json!({"locale": "fr"}), "locale"),
            (json!({"locale": 1}), "locale"),
            (json!({"name": ""}), "name"),
            (json!({"role": "admin"}), "role"),
            (json!({"team_id": null}), "team_id"),
            (json!({"disabled": false}), "disabled"),
            (json!({"email": "me@example.com"}), "email"),
        ] {
            sales.patch_r("/api/v1/me", &body).await.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
        }
        let me = sales.get_r("/api/v1/me").await;
        assert_eq!(me.body["user"]["role"], "sales");
        assert_eq!(me.body["user"]["locale"], "zh-CN");
        // The UI follows the stored language.
        let (cookie, _) = login_cookie(&app, &sales.email, PASSWORD).await;
        let html = send(with_cookie(&app, Method::GET, "/accounts", &cookie))
            .await
            .text;
        assert!(html.contains("lang=\"zh-CN\""), "{b:?}");

        // A disabled user's token and sessions stop working at once.
        let r = admin
            .patch_r(
                &format!("/api/v1/users/{}", sales.id),
                &json!({"disabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["disabled"], true);
        sales.get_r("/api/v1/me").await.assert_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
        sales
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "Ghost"}),
            )
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let res = browser()
            .post(format!("{}/login", app.base))
            .form(&[("email", sales.email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "disabled users cannot log in"
        );
        // Nor can they be given new tokens or records.
        admin
            .post_r(
                "/api/v1/accounts",
                &json!({"kind": "company", "name": "To ghost", "owner_id": sales.id}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("owner_id"),
            );
        // Enabled again, neither the old token nor the old session works: disabling revoked both.
        let r = admin
            .patch_r(
                &format!("/api/v1/users/{}", sales.id),
                &json!({"disabled": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            sales.get_r("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);

        // A new password (by an admin) ends the user's sessions (and their API tokens, checked in
        // security.rs).
        let (cookie, _) = login_cookie(&app, &other.email, PASSWORD).await;
        let r = admin
            .post_r(
                &format!("/api/v1/users/{}/password", other.id),
                &json!({"password": "a brand new password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let (c2, _) = login_cookie(&app, &other.email, "a brand new password").await;
        assert_eq!(
            send(with_cookie(&app, Method::GET, "/api/v1/me", &c2))
                .await
                .status,
            StatusCode::OK
        );
        admin
            .post_r(
                &format!("/api/v1/users/{}/password", other.id),
                &json!({"password": "short"}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("password"),
            );
    }
}

#[tokio::test]
async fn teams_over_the_api() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let r = admin
            .post_r("/api/v1/teams", &json!({"name": "华东大区"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        let id = r.body["id"].as_str().expect("id").to_string();
        admin
            .post_r("/api/v1/teams", &json!({"name": " 华东大区 "}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("name"),
            );
        admin
            .post_r("/api/v1/teams", &json!({"name": ""}))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("name"),
            );
        let r = admin
            .patch_r(&format!("/api/v1/teams/{id}"), &json!({"name": "华东区"}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["name"], "华东区");
        let member = app.user("sales", Some("华东区")).await;
        assert_eq!(
            admin
                .get_r(&format!("/api/v1/users/{}", member.id))
                .await
                .body["team_id"],
            id.as_str()
        );
        let r = admin.delete_r(&format!("/api/v1/teams/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // Members stay, without a team.
        let u = admin.get_r(&format!("/api/v1/users/{}", member.id)).await;
        assert_eq!(u.status, StatusCode::OK);
        assert!(u.body["team_id"].is_null());
        admin
            .get_r(&format!("/api/v1/teams/{id}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        admin.get_r("/api/v1/users/not-an-id").await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
}

#[tokio::test]
async fn sessions_expire_and_responses_carry_security_headers() {
    for b in backends() {
        let settings = Settings {
            session_hours: 0,
            ..Settings::default()
        };
        let app = spawn_with(b, settings).await;
        let sales = app.user("sales", Some("A")).await;
        // A session that has expired is no session.
        let (cookie, _) = login_cookie(&app, &sales.email, PASSWORD).await;
        send(with_cookie(&app, Method::GET, "/api/v1/me", &cookie))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        // Every response says how it may be framed, sniffed and referred.
        for path in ["/api/v1/me", "/login", "/api/v1/nowhere"] {
            let r = sales.get_r(path).await;
            assert_eq!(
                r.header("x-content-type-options").as_deref(),
                Some("nosniff")
            );
            assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
            assert!(
                r.header("content-security-policy")
                    .is_some_and(|c| c.contains("default-src 'self'")),
                "{path}"
            );
        }
    }
}
