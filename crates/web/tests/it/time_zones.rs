//! Each user reads and types times in their own time zone, chosen through the API or the settings
//! page (the instance's default, Asia/Shanghai, until they do): record pages show stored instants
//! in it, and `datetime-local` inputs are read in it, daylight saving included. On both backends.

use chrono::{DateTime, Duration, DurationRound, Utc};
use guanxi_core::time_zone::Tz;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestApp, TestUser, backends, csrf_of, form_as, login_cookie, page_as, spawn,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("RFC 3339").to_utc()
}

/// An instant as a page shows it to a reader in `zone`.
fn shown_in(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

#[tokio::test]
async fn a_zone_chosen_through_the_api_is_the_one_pages_show_times_in() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", Some("East"), "zh-CN").await;
        let acc = rep
            .create(
                "accounts",
                json!({"kind": "company", "name": "时区测试有限公司"}),
            )
            .await;
        let id = acc["id"].as_str().expect("id");
        let created = utc(acc["created_at"].as_str().expect("created_at"));
        // A reminder in ten days, on the minute, so both zones name another hour.
        let at = (Utc::now() + Duration::days(10))
            .duration_trunc(Duration::minutes(1))
            .expect("on the minute");
        let r = rep
            .post_r(
                &format!("/api/v1/accounts/{id}/reminders"),
                &json!({"at": at.to_rfc3339(), "note": "回访"}),
            )
            .await;
        assert!(r.status.is_success(), "{b:?}: {}", r.text);
        let page = format!("/accounts/{id}");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;

        // Nobody has chosen: the instance's zone, and the API says so.
        let me = rep.get_r("/api/v1/me").await;
        assert_eq!(me.body["user"]["time_zone"], "", "{b:?}");
        assert_eq!(me.body["time_zone_in_effect"], "Asia/Shanghai", "{b:?}");
        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        let shanghai = Tz::Asia__Shanghai;
        assert!(html.contains(&shown_in(at, shanghai)), "{b:?}: reminder");
        assert!(
            html.contains(&shown_in(created, shanghai)),
            "{b:?}: created"
        );
        assert!(!html.contains(" UTC<"), "{b:?}: no UTC text left");

        // New York: the same instants read there, still machine-readable as UTC.
        let r = rep
            .patch_r("/api/v1/me", &json!({"time_zone": "America/New_York"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["user"]["time_zone"], "America/New_York", "{b:?}");
        assert_eq!(r.body["time_zone_in_effect"], "America/New_York", "{b:?}");
        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        let ny = Tz::America__New_York;
        assert!(
            html.contains(&shown_in(at, ny)),
            "{b:?}: reminder in New York"
        );
        assert!(!html.contains(&shown_in(at, shanghai)), "{b:?}");
        assert!(
            html.contains(&format!(
                "<time datetime=\"{}\">{}</time>",
                at.to_rfc3339(),
                shown_in(at, ny)
            )),
            "{b:?}: the instant for machines beside the local text"
        );
        assert!(html.contains(&shown_in(created, ny)), "{b:?}: created");
        // The history shows its times there too.
        let (_, history) =
            page_as(&app, Some(&cookie), "zh-CN", &format!("{page}?tab=history")).await;
        assert!(history.contains(&shown_in(created, ny)), "{b:?}: history");
        // Only for them: someone else still reads Shanghai time.
        let other = app.user_in("sales", Some("East"), "en").await;
        let (other_cookie, _) = login_cookie(&app, &other.email, PASSWORD).await;
        let (_, theirs) = page_as(&app, Some(&other_cookie), "en", &page).await;
        assert!(theirs.contains(&shown_in(created, shanghai)), "{b:?}");

        // A zone that does not exist: 422 with the code, worded in the user's language and
        // naming the value; nothing changes.
        let r = rep
            .patch_r("/api/v1/me", &json!({"time_zone": "Mars/Olympus"}))
            .await;
        let e = r.assert_field("time_zone", "unknown_time_zone");
        let message = e["message"].as_str().expect("message");
        assert!(message.contains("Mars/Olympus"), "{b:?}: {message}");
        assert!(message.contains("时区"), "{b:?}: in Chinese: {message}");
        assert_eq!(e["params"]["value"], "Mars/Olympus", "{b:?}");
        let me = rep.get_r("/api/v1/me").await;
        assert_eq!(me.body["user"]["time_zone"], "America/New_York", "{b:?}");
        // In English for an English reader.
        let r = other
            .patch_r("/api/v1/me", &json!({"time_zone": "asia/shanghai"}))
            .await;
        let e = r.assert_field("time_zone", "unknown_time_zone");
        assert!(
            e["message"]
                .as_str()
                .expect("message")
                .contains("is not a time zone"),
            "{b:?}: {}",
            r.text
        );

        // '' goes back to the default.
        let r = rep.patch_r("/api/v1/me", &json!({"time_zone": ""})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["user"]["time_zone"], "", "{b:?}");
        assert_eq!(r.body["time_zone_in_effect"], "Asia/Shanghai", "{b:?}");
        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &page).await;
        assert!(
            html.contains(&shown_in(at, shanghai)),
            "{b:?}: back in Shanghai"
        );

        // Administrators set it for others through the user API.
        let admin = app.user("admin", None).await;
        let r = admin
            .patch_r(
                &format!("/api/v1/users/{}", other.id),
                &json!({"time_zone": "Europe/Berlin"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["time_zone"], "Europe/Berlin", "{b:?}");
        let r = admin
            .patch_r(
                &format!("/api/v1/users/{}", other.id),
                &json!({"time_zone": "+08:00"}),
            )
            .await;
        r.assert_field("time_zone", "unknown_time_zone");
    }
}

/// Defines a date-time custom field `kickoff` on accounts and gives `user` an account to edit,
/// with a session: the account's id, the cookie and the CSRF token.
async fn kickoff_account(app: &TestApp, user: &TestUser) -> (String, String, String) {
    let acc = user
        .create(
            "accounts",
            json!({"kind": "company", "name": kickoff_name(user)}),
        )
        .await;
    let (cookie, _) = login_cookie(app, &user.email, PASSWORD).await;
    let csrf = csrf_of(app, &cookie).await;
    (acc["id"].as_str().expect("id").to_string(), cookie, csrf)
}

/// The name of `user`'s account, one of its own (a name two accounts share is a duplicate).
fn kickoff_name(user: &TestUser) -> String {
    format!("Kick-off {}", user.id)
}

/// Saves the account's edit form with `kickoff` typed as `local`.
async fn save_kickoff(
    app: &TestApp,
    user: &TestUser,
    id: &str,
    (cookie, csrf): (&str, &str),
    local: &str,
) -> (StatusCode, String) {
    let version = user.get_r(&format!("/api/v1/accounts/{id}")).await.body["version"]
        .as_i64()
        .expect("version")
        .to_string();
    let owner = user.id.to_string();
    let (status, _, html) = form_as(
        app,
        Some(cookie),
        "en",
        &format!("/accounts/{id}"),
        &[
            ("_csrf", csrf),
            ("version", &version),
            ("f.kind", "company"),
            ("f.name", &kickoff_name(user)),
            ("f.custom.kickoff", local),
            ("f.owner_id", &owner),
        ],
    )
    .await;
    (status, html)
}

async fn kickoff_of(user: &TestUser, id: &str) -> Value {
    user.get_r(&format!("/api/v1/accounts/{id}")).await.body["custom"]["kickoff"].clone()
}

#[tokio::test]
async fn a_datetime_local_input_is_read_in_the_users_zone() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let r = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "kickoff", "label_en": "Kick-off", "label_zh": "启动时间", "kind": "date_time"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);

        // In Shanghai (the default): eight hours ahead of UTC, summer and winter.
        let east = app.user_in("sales", Some("East"), "en").await;
        let (id, cookie, csrf) = kickoff_account(&app, &east).await;
        let (status, html) =
            save_kickoff(&app, &east, &id, (&cookie, &csrf), "2026-07-15T09:00").await;
        assert!(status.is_redirection(), "{b:?}: {status} {html}");
        assert_eq!(
            kickoff_of(&east, &id).await,
            "2026-07-15T01:00:00.000000Z",
            "{b:?}"
        );
        // Shown again as typed: on the page and in the edit form.
        let (_, page) = page_as(&app, Some(&cookie), "en", &format!("/accounts/{id}")).await;
        assert!(page.contains("2026-07-15 09:00"), "{b:?}");
        let (_, form) = page_as(&app, Some(&cookie), "en", &format!("/accounts/{id}/edit")).await;
        assert!(form.contains("value=\"2026-07-15T09:00\""), "{b:?}");

        // In New York: four hours behind in summer, five in winter.
        let west = app.user_in("sales", Some("West"), "en").await;
        let r = west
            .patch_r("/api/v1/me", &json!({"time_zone": "America/New_York"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let (id, cookie, csrf) = kickoff_account(&app, &west).await;
        let session = (cookie.as_str(), csrf.as_str());
        let (status, _) = save_kickoff(&app, &west, &id, session, "2026-07-15T09:00").await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert_eq!(
            kickoff_of(&west, &id).await,
            "2026-07-15T13:00:00.000000Z",
            "{b:?}"
        );
        let (status, _) = save_kickoff(&app, &west, &id, session, "2026-01-15T09:00").await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert_eq!(
            kickoff_of(&west, &id).await,
            "2026-01-15T14:00:00.000000Z",
            "{b:?}"
        );
        let (_, form) = page_as(&app, Some(&cookie), "en", &format!("/accounts/{id}/edit")).await;
        assert!(form.contains("value=\"2026-01-15T09:00\""), "{b:?}");

        // 02:30 on 8 March 2026 never happens in New York: refused on the form, in the user's
        // language, with what they typed kept; nothing saved.
        let (status, html) = save_kickoff(&app, &west, &id, session, "2026-03-08T02:30").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        assert!(
            html.contains("2026-03-08 02:30 does not exist in America/New_York"),
            "{b:?}: {html}"
        );
        assert!(html.contains("value=\"2026-03-08T02:30\""), "{b:?}");
        assert_eq!(
            kickoff_of(&west, &id).await,
            "2026-01-15T14:00:00.000000Z",
            "{b:?}"
        );
        // The same in Chinese.
        let r = west
            .patch_r("/api/v1/me", &json!({"locale": "zh-CN"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}");
        let (status, html) = save_kickoff(&app, &west, &id, session, "2026-03-08T02:30").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        assert!(
            html.contains("America/New_York 时区没有 2026-03-08 02:30"),
            "{b:?}"
        );

        // 01:30 on 1 November 2026 happens twice: the first, still on daylight time.
        let (status, _) = save_kickoff(&app, &west, &id, session, "2026-11-01T01:30").await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert_eq!(
            kickoff_of(&west, &id).await,
            "2026-11-01T05:30:00.000000Z",
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn the_settings_page_offers_the_zones_and_saves_the_choice() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user_in("sales", Some("East"), "zh-CN").await;
        let (cookie, _) = login_cookie(&app, &user.email, PASSWORD).await;
        let (status, html) = page_as(&app, Some(&cookie), "zh-CN", "/settings").await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        // A labelled select: the default first (chosen, and open to the browser's suggestion),
        // the common zones, then every other, each with its offset.
        assert!(
            html.contains("<label for=\"time-zone-select\">时区</label>"),
            "{b:?}"
        );
        assert!(html.contains("data-suggest-browser-zone"), "{b:?}");
        assert!(
            html.contains("<option value=\"\" selected>系统默认（Asia/Shanghai）</option>"),
            "{b:?}"
        );
        for label in [
            "Asia/Shanghai (UTC+08:00)",
            "Asia/Kolkata (UTC+05:30)",
            "UTC (UTC+00:00)",
            "Pacific/Auckland (UTC+1",
        ] {
            assert!(html.contains(label), "{b:?}: {label}");
        }
        let common = html.find("Australia/Sydney (").expect("common zones");
        let other = html.find("Africa/Abidjan (").expect("all zones");
        assert!(common < other, "{b:?}: the common ones first");

        let csrf = csrf_of(&app, &cookie).await;
        let save = |zone: &'static str| {
            let (cookie, csrf) = (cookie.clone(), csrf.clone());
            let app = &app;
            async move {
                form_as(
                    app,
                    Some(&cookie),
                    "zh-CN",
                    "/settings/locale",
                    &[
                        ("_csrf", &csrf),
                        ("locale", "zh-CN"),
                        ("money_format", "grouped"),
                        ("time_zone", zone),
                        ("back", "/settings?done=display"),
                    ],
                )
                .await
            }
        };
        let (status, location, _) = save("Asia/Tokyo").await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        let (_, saved) = page_as(&app, Some(&cookie), "zh-CN", &location.expect("back")).await;
        assert!(saved.contains("显示设置已保存"), "{b:?}");
        assert!(
            saved.contains("<option value=\"Asia/Tokyo\" selected>Asia/Tokyo (UTC+09:00)</option>"),
            "{b:?}"
        );
        assert!(
            !saved.contains("data-suggest-browser-zone"),
            "{b:?}: chosen, nothing to suggest"
        );
        assert_eq!(
            user.get_r("/api/v1/me").await.body["user"]["time_zone"],
            "Asia/Tokyo"
        );

        // What the select does not offer is named on the page and not saved.
        let (status, _, html) = save("Mars/Olympus").await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(
            html.contains("“Mars/Olympus”不是有效的时区"),
            "{b:?}: {html}"
        );
        assert_eq!(
            user.get_r("/api/v1/me").await.body["user"]["time_zone"],
            "Asia/Tokyo"
        );

        // Back to the default.
        let (status, _, _) = save("").await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert_eq!(user.get_r("/api/v1/me").await.body["user"]["time_zone"], "");
    }
}
