//! Titles of referenced records obey the reader's scope: a contact linked to an account the
//! reader may not read shows a neutral label where the account's name would be, in every page,
//! API response and export the reader can get — whether the account was never in their scope,
//! left it after the link was made (owner change, role grant change) or was deleted.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, TestUser, backends, browser, login_cookie, spawn};

const LABEL_EN: &str = "Record you cannot view";
const LABEL_ZH: &str = "无权查看的记录";

/// A logged-in browser session.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
}

impl<'a> Browser<'a> {
    async fn login(app: &'a TestApp, u: &TestUser) -> Browser<'a> {
        let (cookie, _) = login_cookie(app, &u.email, PASSWORD).await;
        Browser { app, cookie }
    }

    async fn page(&self, path: &str) -> String {
        let res = browser()
            .get(format!("{}{path}", self.app.base))
            .header("Cookie", format!("guanxi_session={}", self.cookie))
            .send()
            .await
            .expect("page");
        let status = res.status();
        let html = res.text().await.expect("html");
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        html
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[track_caller]
fn hides(text: &str, names: &[&str], what: &str) {
    for n in names {
        assert!(!text.contains(n), "{what} shows '{n}':\n{text}");
    }
}

#[track_caller]
fn labelled(html: &str, label: &str, what: &str) {
    assert!(
        html.contains(label),
        "{what} lacks the label '{label}':\n{html}"
    );
}

#[tokio::test]
async fn titles_of_references_outside_the_readers_scope_are_never_shown() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep_a = app.user("sales", Some("North")).await;
        let rep_b = app.user("sales", Some("South")).await;
        let mate_b = app.user("sales", Some("South")).await;

        // Never in B's scope: A's account, linked to B's contact by the administrator.
        let secret_name = "Zephyrine Secret Holdings";
        let secret = id(&admin
            .create(
                "accounts",
                json!({"kind": "company", "name": secret_name, "owner_id": rep_a.id}),
            )
            .await);
        let early = id(&admin
            .create(
                "contacts",
                json!({"family_name": "Linked", "given_name": "Early", "account_id": secret, "owner_id": rep_b.id}),
            )
            .await);
        // In B's scope (a team-mate's) when B links it, moved to A's team afterwards.
        let moved_name = "Quillon Shared Works";
        let moved = id(&admin
            .create(
                "accounts",
                json!({"kind": "company", "name": moved_name, "owner_id": mate_b.id}),
            )
            .await);
        let later = id(&rep_b
            .create(
                "contacts",
                json!({"family_name": "Linked", "given_name": "Later", "account_id": moved}),
            )
            .await);

        let web = Browser::login(&app, &rep_b).await;
        // While readable, the name is shown and linked, on pages and in history.
        let html = web.page(&format!("/contacts/{later}")).await;
        assert!(
            html.contains(moved_name) && html.contains(&format!("href=\"/accounts/{moved}\"")),
            "{b:?}: a readable account is named and linked:\n{html}"
        );
        let html = web.page(&format!("/contacts/{later}?tab=history")).await;
        assert!(
            html.contains(moved_name),
            "{b:?}: history names it:\n{html}"
        );
        assert!(web.page("/contacts").await.contains(moved_name), "{b:?}");
        assert!(
            web.page(&format!("/contacts/new?account_id={moved}"))
                .await
                .contains(moved_name),
            "{b:?}"
        );

        let r = admin
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [moved], "owner_id": rep_a.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);

        let names = [secret_name, moved_name];
        let ctx = format!("{b:?} as B");
        // Forms prefilled from the address show the label, never the name.
        for path in [
            format!("/contacts/new?account_id={secret}"),
            format!("/contacts/new?account_id={moved}"),
            format!("/accounts/new?parent_id={secret}"),
            format!("/accounts/new?parent_id={moved}"),
        ] {
            let html = web.page(&path).await;
            hides(&html, &names, &format!("{ctx} {path}"));
            labelled(&html, LABEL_EN, &format!("{ctx} {path}"));
        }
        // B's own contacts: the link stays (the id is the stored value) but is not named.
        for (contact, account) in [(&early, &secret), (&later, &moved)] {
            let path = format!("/contacts/{contact}");
            let html = web.page(&path).await;
            hides(&html, &names, &format!("{ctx} {path}"));
            labelled(&html, LABEL_EN, &format!("{ctx} {path}"));
            assert!(
                !html.contains(&format!("href=\"/accounts/{account}\"")),
                "{ctx} {path}: links the unreadable account"
            );
            let path = format!("/contacts/{contact}/edit");
            let html = web.page(&path).await;
            hides(&html, &names, &format!("{ctx} {path}"));
            labelled(&html, LABEL_EN, &format!("{ctx} {path}"));
            assert!(
                html.contains(&format!("value=\"{account}\"")),
                "{ctx} {path}: editing must keep the link"
            );
            let path = format!("/contacts/{contact}?tab=history");
            let html = web.page(&path).await;
            hides(&html, &names, &format!("{ctx} {path}"));
            labelled(&html, LABEL_EN, &format!("{ctx} {path}"));

            let r = rep_b.get_r(&format!("/api/v1/contacts/{contact}")).await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            assert_eq!(r.body["account_id"], account.as_str(), "{ctx}");
            hides(&r.text, &names, &format!("{ctx} API GET"));
            let r = rep_b
                .get_r(&format!("/api/v1/contacts/{contact}/history"))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            hides(&r.text, &names, &format!("{ctx} API history"));
        }
        let html = web.page("/contacts").await;
        hides(&html, &names, &format!("{ctx} contacts list"));
        labelled(&html, LABEL_EN, &format!("{ctx} contacts list"));
        for path in [
            "/contacts?cols=name,account_id".to_string(),
            format!("/contacts?ff=account_id&fo=eq&fv={secret}"),
            "/contacts/export.csv".to_string(),
            "/search?q=Zephyrine".to_string(),
            "/search?q=Quillon".to_string(),
        ] {
            hides(&web.page(&path).await, &names, &format!("{ctx} {path}"));
        }
        for path in [
            "/api/v1/contacts",
            "/api/v1/contacts?limit=500&count=true",
            "/api/v1/contacts/export.csv",
            "/api/v1/search?q=Zephyrine",
            "/api/v1/search?q=Quillon",
        ] {
            let r = rep_b.get_r(path).await;
            assert_eq!(r.status, StatusCode::OK, "{ctx} {path}: {}", r.text);
            hides(&r.text, &names, &format!("{ctx} {path}"));
        }
        let csv = rep_b.get_r("/api/v1/contacts/export.csv").await;
        assert!(
            csv.text.contains(&secret) && csv.text.contains(&moved),
            "{ctx}: the export keeps the stored ids:\n{}",
            csv.text
        );

        // The label reads in the reader's language.
        let r = rep_b
            .patch_r("/api/v1/me", &json!({"locale": "zh-CN"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
        for path in [
            format!("/contacts/{early}"),
            format!("/contacts/new?account_id={secret}"),
        ] {
            let html = web.page(&path).await;
            hides(&html, &names, &format!("{ctx} {path}"));
            labelled(&html, LABEL_ZH, &format!("{ctx} {path} in Chinese"));
        }

        // Whoever may read the accounts still sees them named and linked.
        let admin_web = Browser::login(&app, &admin).await;
        let html = admin_web.page(&format!("/contacts/{early}")).await;
        assert!(
            html.contains(secret_name) && !html.contains(LABEL_EN),
            "{b:?} as admin:\n{html}"
        );
        let html = admin_web.page("/contacts").await;
        assert!(html.contains(secret_name) && html.contains(moved_name));
        let rep_a_web = Browser::login(&app, &rep_a).await;
        let html = rep_a_web
            .page(&format!("/contacts/new?account_id={secret}"))
            .await;
        assert!(html.contains(secret_name), "{b:?} as A:\n{html}");
    }
}

#[tokio::test]
async fn a_narrowed_grant_or_a_deleted_account_hides_the_title() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("South")).await;
        let mate = app.user("sales", Some("South")).await;
        let team_name = "Ostrava Team Account";
        let team_acct = id(&admin
            .create(
                "accounts",
                json!({"kind": "company", "name": team_name, "owner_id": mate.id}),
            )
            .await);
        let own_name = "Pelargon Own Account";
        let own_acct = id(&rep
            .create("accounts", json!({"kind": "company", "name": own_name}))
            .await);
        let child = id(&rep
            .create(
                "accounts",
                json!({"kind": "company", "name": "Child Of Team", "parent_id": team_acct}),
            )
            .await);
        let c_team = id(&rep
            .create(
                "contacts",
                json!({"family_name": "Grant", "given_name": "Team", "account_id": team_acct}),
            )
            .await);
        let c_own = id(&rep
            .create(
                "contacts",
                json!({"family_name": "Grant", "given_name": "Own", "account_id": own_acct}),
            )
            .await);
        let web = Browser::login(&app, &rep).await;
        assert!(
            web.page(&format!("/contacts/{c_team}"))
                .await
                .contains(team_name)
        );
        assert!(
            web.page(&format!("/accounts/{child}"))
                .await
                .contains(team_name)
        );

        // Sales now read only their own accounts: the team-mate's leaves the rep's scope.
        let r = admin
            .put_r(
                "/api/v1/roles/sales/grants/account",
                &json!({"read": "own", "write": "own"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        for path in [
            format!("/contacts/{c_team}"),
            format!("/contacts/{c_team}?tab=history"),
            format!("/accounts/{child}"),
            format!("/accounts/{child}/edit"),
            "/contacts".to_string(),
            "/accounts?cols=name,parent_id".to_string(),
            format!("/accounts/new?parent_id={team_acct}"),
        ] {
            let html = web.page(&path).await;
            hides(&html, &[team_name], &format!("{b:?} {path}"));
            labelled(&html, LABEL_EN, &format!("{b:?} {path}"));
        }
        // The rep's own account is still named.
        assert!(
            web.page(&format!("/contacts/{c_own}"))
                .await
                .contains(own_name)
        );

        // A role that may read no accounts at all sees every reference as unreadable.
        let r = admin
            .put_r(
                "/api/v1/roles/sales/grants/account",
                &json!({"read": "none", "write": "none"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let html = web.page(&format!("/contacts/{c_own}")).await;
        hides(&html, &[own_name, team_name], &format!("{b:?} read none"));
        labelled(&html, LABEL_EN, &format!("{b:?} read none"));

        // Deleted: the reference shows as unavailable, even to a reader of the account.
        let r = admin
            .put_r(
                "/api/v1/roles/sales/grants/account",
                &json!({"read": "team", "write": "own"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert!(
            web.page(&format!("/contacts/{c_own}"))
                .await
                .contains(own_name)
        );
        let r = rep.delete_r(&format!("/api/v1/accounts/{own_acct}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.text);
        let html = web.page(&format!("/contacts/{c_own}")).await;
        hides(&html, &[own_name], &format!("{b:?} deleted"));
        labelled(&html, LABEL_EN, &format!("{b:?} deleted"));
        let r = rep
            .post_r(&format!("/api/v1/accounts/{own_acct}/restore"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert!(
            web.page(&format!("/contacts/{c_own}"))
                .await
                .contains(own_name)
        );
    }
}
