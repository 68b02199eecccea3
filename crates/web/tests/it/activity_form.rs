//! The activity form shows what each kind needs: the fields of some kinds only come in groups
//! marked with their kinds (the page's script hides the others), every field is still there
//! and saved without the script, and a record's page leaves out the empty fields of other kinds.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, backends, csrf_of, form_as, login_cookie, page_as, spawn};

/// The part of `html` inside the form group `name`.
fn group<'a>(html: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let start = html.find(&format!(
        "<fieldset class=\"field-group\" id=\"group-{name}\""
    ))?;
    let rest = &html[start..];
    let open_end = rest.find('>')?;
    let end = rest.find("</fieldset>")?;
    Some((&rest[..open_end], &rest[open_end..end]))
}

#[tokio::test]
async fn the_form_marks_the_kinds_each_field_belongs_to() {
    let def = guanxi_core::areas::registry()
        .by_name("activity")
        .expect("activities are declared");
    for b in backends() {
        let app = spawn(b).await;
        for lang in ["en", "zh-CN"] {
            let rep = app.user_in("sales", None, lang).await;
            let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
            let (status, html) = page_as(&app, Some(&cookie), lang, "/activities/new").await;
            assert_eq!(status, StatusCode::OK, "{b:?} {lang}: {html}");
            let mut grouped = Vec::new();
            for g in def.field_groups {
                let (open, inner) = group(&html, g.name)
                    .unwrap_or_else(|| panic!("{b:?} {lang}: group {} in {html}", g.name));
                assert!(
                    open.contains(&format!(
                        "data-shown-by=\"f.{}\" data-shown-when=\"{}\"",
                        g.field,
                        g.values.join(" ")
                    )),
                    "{b:?} {lang}: {open}"
                );
                assert!(
                    inner.contains("<legend>"),
                    "{b:?} {lang}: a heading: {inner}"
                );
                // Computed fields are not asked for: only the record's page shows them.
                for f in g
                    .fields
                    .iter()
                    .filter(|f| def.field(f).is_none_or(|d| !d.computed))
                {
                    assert!(
                        inner.contains(&format!("data-field=\"f.{f}\"")),
                        "{b:?} {lang}: {f} in group {}: {inner}",
                        g.name
                    );
                    grouped.push(*f);
                }
            }
            // The fields every kind has are outside any group, and every field is on the form.
            for f in def.fields.iter().filter(|f| !f.computed) {
                let marker = format!("data-field=\"f.{}\"", f.name);
                assert_eq!(html.matches(&marker).count(), 1, "{b:?} {lang}: {marker}");
                if !grouped.contains(&f.name) {
                    let before = &html[..html.find(&marker).unwrap_or(0)];
                    assert!(
                        before.matches("<fieldset").count()
                            == before.matches("</fieldset>").count(),
                        "{b:?} {lang}: {} belongs to every kind",
                        f.name
                    );
                }
            }
            for f in ["subject", "kind", "regarding", "priority", "description"] {
                assert!(!grouped.contains(&f), "{f} belongs to every kind");
            }
            // Each group is headed, and says (for a page without the script) what it is for.
            let (legend, shown_for) = if lang == "en" {
                ("<legend>Call details</legend>", "For Meeting, Visit")
            } else {
                ("<legend>通话信息</legend>", "适用于：会议、拜访")
            };
            assert!(html.contains(legend), "{b:?}: {html}");
            assert!(html.contains(shown_for), "{b:?}: {html}");
        }
    }
}

#[tokio::test]
async fn every_field_typed_is_saved_and_a_page_shows_only_its_kinds_empty_fields() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", None).await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;

        // Without the script a rep may fill in a field of another kind: it is kept.
        let (status, location, body) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/activities",
            &[
                ("_csrf", &csrf),
                ("f.subject", "Notes from the trade fair"),
                ("f.kind", "note"),
                ("f.priority", "normal"),
                ("f.location", "Hall 3"),
                ("f.description", "They want a quote by May."),
                ("f.owner_id", &rep.id.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {body}");
        let path = location.expect("to the note").replace("?done=create", "");
        let id = path.rsplit('/').next().expect("id").to_string();
        let note = rep.get_r(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(
            note.body["location"],
            json!("Hall 3"),
            "{b:?}: {}",
            note.text
        );

        // Its page shows what it holds, and not the empty fields of calls, tasks or meetings.
        let (_, html) = page_as(&app, Some(&cookie), "en", &path).await;
        assert!(html.contains("Hall 3"), "{b:?}: {html}");
        assert!(html.contains("They want a quote by May."), "{b:?}");
        for other in [
            "Call outcome",
            "Due",
            "Repeats",
            "Checked in",
            "Colleagues",
            "Reminder",
        ] {
            assert!(
                !html.contains(&format!(">{other}<")),
                "{b:?}: {other} on a note: {html}"
            );
        }
        // A call's page shows its own fields, empty ones included. The API stores a field of
        // another kind as before.
        let zh = app.user_in("sales", None, "zh-CN").await;
        let (zh_cookie, _) = login_cookie(&app, &zh.email, PASSWORD).await;
        let call = zh
            .create(
                "activities",
                json!({"subject": "回访李总", "kind": "call", "location": "Office"}),
            )
            .await;
        assert_eq!(call["location"], json!("Office"));
        let call_id = call["id"].as_str().expect("id");
        let path = format!("/activities/{call_id}");
        let (_, html) = page_as(&app, Some(&zh_cookie), "zh-CN", &path).await;
        for own in ["通话结果", "呼叫方向", "开始时间", "提醒"] {
            assert!(
                html.contains(&format!(">{own}<")),
                "{b:?}: {own} on a call: {html}"
            );
        }
        assert!(html.contains("Office"), "{b:?}: what it holds is shown");

        // A customer's timeline shows each entry's own facts, and not another kind's.
        let account = rep
            .create(
                "accounts",
                json!({"name": "Harbour Lights Trading", "kind": "company"}),
            )
            .await;
        let regarding = json!({"entity": "account", "id": account["id"]});
        rep.create(
            "activities",
            json!({"subject": "Price call", "kind": "call", "call_outcome": "connected",
                   "call_duration": 720, "location": "Office", "priority": "normal",
                   "regarding": regarding}),
        )
        .await;
        rep.create(
            "activities",
            json!({"subject": "Site visit", "kind": "visit", "location": "Hall 5",
                   "priority": "high", "starts_at": "2099-05-01T02:00:00Z",
                   "regarding": regarding}),
        )
        .await;
        let page = format!(
            "/accounts/{}?tab=timeline",
            account["id"].as_str().expect("id")
        );
        let (_, html) = page_as(&app, Some(&cookie), "en", &page).await;
        for shown in [
            "Call outcome: Connected",
            "Location: Hall 5",
            "Priority: High",
        ] {
            assert!(html.contains(shown), "{b:?}: {shown}: {html}");
        }
        for not in ["Location: Office", "Priority: Normal"] {
            assert!(!html.contains(not), "{b:?}: {not}: {html}");
        }
        for other in ["截止时间", "签到时间", "参与同事"] {
            assert!(
                !html.contains(&format!(">{other}<")),
                "{b:?}: {other} on a call: {html}"
            );
        }
    }
}
