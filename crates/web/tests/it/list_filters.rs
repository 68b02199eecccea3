//! The list page's filters as people type them: choice labels for codes, amounts with 万 and 亿,
//! and the chips that say what the list is filtered by — on both backends.

use serde_json::json;

use crate::support::{PASSWORD, backends, login_cookie, page_as, spawn};

/// The record links of a list page, in order.
fn row_links(html: &str) -> Vec<String> {
    html.split("<td data-label=")
        .filter_map(|cell| {
            let start = cell.find("class=\"lead\"><a href=\"")? + "class=\"lead\"><a href=\"".len();
            let end = cell[start..].find('"')?;
            Some(cell[start..start + end].to_string())
        })
        .collect()
}

#[tokio::test]
async fn labels_and_chinese_magnitudes_filter_like_codes_and_numbers() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", Some("East"), "zh-CN").await;
        for (i, (kind, revenue)) in [
            ("customer", "2000000"),
            ("customer", "500000"),
            ("prospect", "3000000"),
            ("partner", "1000000"),
        ]
        .iter()
        .enumerate()
        {
            rep.create(
                "accounts",
                json!({"kind": "company", "name": format!("过滤测试{i}号有限公司"), "type": kind,
                       "annual_revenue": {"amount": revenue, "currency": "CNY"}}),
            )
            .await;
        }
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let list = |q: String| {
            let app = &app;
            let cookie = cookie.clone();
            async move {
                let (status, html) =
                    page_as(app, Some(&cookie), "zh-CN", &format!("/accounts?{q}")).await;
                assert_eq!(status, 200, "{q}");
                (row_links(&html), html)
            }
        };
        let (by_code, _) = list("ff=type&fo=eq&fv=customer".into()).await;
        assert_eq!(by_code.len(), 2, "{b:?}");
        for label in [
            "ff=type&fo=eq&fv=%E6%88%90%E4%BA%A4%E5%AE%A2%E6%88%B7",
            "ff=type&fo=eq&fv=Customer",
        ] {
            let (by_label, html) = list(label.to_string()).await;
            assert_eq!(by_label, by_code, "{b:?} {label}");
            assert!(
                html.contains("客户类型 等于 成交客户"),
                "{b:?}: the chip words it"
            );
        }
        let (plain, _) = list("ff=annual_revenue&fo=gte&fv=1000000".into()).await;
        assert_eq!(plain.len(), 3, "{b:?}");
        for typed in ["100%E4%B8%87", "0.01%E4%BA%BF", "1%2C000%2C000"] {
            let (got, _) = list(format!("ff=annual_revenue&fo=gte&fv={typed}")).await;
            assert_eq!(got, plain, "{b:?} {typed}");
        }
        // A word that is neither a code nor a label is refused with the list's message, not a 500.
        let (got, html) = list("ff=annual_revenue&fo=gte&fv=lots".into()).await;
        assert!(got.is_empty());
        assert!(html.contains("id=\"list-error\""), "{b:?}");
    }
}

/// A bulk change the user may not make comes back to the list with the reason in their
/// language, and changes nothing; one they may make says how many records changed.
#[tokio::test]
async fn bulk_owner_changes_say_what_happened_or_why_not() {
    let app = spawn(crate::support::Backend::Sqlite).await;
    let rep = app.user_in("sales", Some("East"), "zh-CN").await;
    let other_team = app.user_in("sales", Some("West"), "zh-CN").await;
    let acc = rep
        .create(
            "accounts",
            json!({"kind": "company", "name": "批量测试有限公司"}),
        )
        .await;
    let id = acc["id"].as_str().expect("id").to_string();
    let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
    let csrf = crate::support::csrf_of(&app, &cookie).await;
    let post = |owner: String, ids: Vec<String>| {
        let (app, cookie, csrf) = (&app, cookie.clone(), csrf.clone());
        async move {
            let mut form: Vec<(&str, String)> = vec![
                ("_csrf", csrf),
                ("back", "/accounts".into()),
                ("owner_id", owner),
            ];
            form.extend(ids.into_iter().map(|i| ("ids", i)));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::support::form_as(app, Some(&cookie), "zh-CN", "/accounts/bulk-owner", &form)
                .await
        }
    };
    // Nothing ticked; another team's rep as owner: back to the list, worded, nothing changed.
    let (status, to, body) = post(rep.id.to_string(), vec![]).await;
    let to = to.unwrap_or_else(|| panic!("a redirect, not {status}: {body}"));
    assert!(to.ends_with("failed=no_records_chosen"), "{to}");
    let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &to).await;
    assert!(html.contains("请先勾选要处理的记录。"), "{html}");
    let (_, to, _) = post(other_team.id.to_string(), vec![id.clone()]).await;
    let to = to.expect("a redirect");
    assert!(to.contains("failed="), "{to}");
    let (status, html) = page_as(&app, Some(&cookie), "zh-CN", &to).await;
    assert_eq!(status, 200);
    assert!(html.contains("class=\"flash failed\""), "{html}");
    let (_, got) = crate::support::json(rep.get(&format!("/api/v1/accounts/{id}")).await).await;
    assert_eq!(got["owner_id"], rep.id.to_string(), "unchanged");
    // Allowed (to themself: a sales rep hands records only to themself): said, with the count
    // of records that changed hands.
    let (_, to, _) = post(rep.id.to_string(), vec![id.clone()]).await;
    let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &to.expect("a redirect")).await;
    assert!(html.contains("已为 0 条记录更换负责人。"), "{html}");
}

#[tokio::test]
async fn a_manager_plans_follow_ups_for_each_owner_all_or_nothing() {
    let app = spawn(crate::support::Backend::Sqlite).await;
    let manager = app.user_in("manager", Some("East"), "en").await;
    let rep = app.user_in("sales", Some("East"), "en").await;
    let mate = app.user_in("sales", Some("East"), "en").await;
    let mut ids = Vec::new();
    for (who, name) in [(&rep, "跟进测试甲有限公司"), (&mate, "跟进测试乙有限公司")]
    {
        let acc = who
            .create("accounts", json!({"kind": "company", "name": name}))
            .await;
        ids.push(acc["id"].as_str().expect("id").to_string());
    }
    let (cookie, _) = login_cookie(&app, &manager.email, PASSWORD).await;
    let (_, list) = page_as(&app, Some(&cookie), "en", "/accounts").await;
    assert!(
        list.contains("Plan follow-ups") && list.contains("id=\"plan-submit\""),
        "{list}"
    );
    let csrf = crate::support::csrf_of(&app, &cookie).await;
    let post = |subject: &str, due: &str| {
        let mut form: Vec<(&str, String)> = vec![
            ("_csrf", csrf.clone()),
            ("back", "/accounts".into()),
            ("task_subject", subject.into()),
            ("task_due", due.into()),
        ];
        form.extend(ids.iter().map(|i| ("ids", i.clone())));
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::support::form_as(app, Some(&cookie), "en", "/accounts/bulk-tasks", &form).await
        }
    };
    async fn tasks(who: &crate::support::TestUser) -> Vec<serde_json::Value> {
        let (_, got) =
            crate::support::json(who.get("/api/v1/activities?kind=task&owner_id=me").await).await;
        got["data"].as_array().cloned().unwrap_or_default()
    }
    // No subject, or a due time that is none: said, and no task made.
    for (subject, due, code, words) in [
        ("", "", "no_task_subject", "Say what the follow-up task is."),
        (
            "Call them",
            "next week",
            "bad_task_due",
            "The due time is not a date and time.",
        ),
    ] {
        let (_, to, _) = post(subject, due).await;
        let to = to.expect("a redirect");
        assert!(to.ends_with(&format!("failed={code}")), "{to}");
        let (_, html) = page_as(&app, Some(&cookie), "en", &to).await;
        assert!(html.contains(words), "{html}");
    }
    assert!(tasks(&rep).await.is_empty() && tasks(&mate).await.is_empty());
    // A task each, for each account's owner, about their account, due when asked.
    let (_, to, _) = post("Call to ask how they are getting on", "2030-01-15T10:00").await;
    let to = to.expect("a redirect");
    assert!(to.contains("done=follow_ups&n=2"), "{to}");
    let (_, html) = page_as(&app, Some(&cookie), "en", &to).await;
    assert!(html.contains("2 follow-up tasks created"), "{html}");
    for (who, id) in [(&rep, &ids[0]), (&mate, &ids[1])] {
        let mine = tasks(who).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["regarding"]["id"], json!(id));
        assert_eq!(mine[0]["subject"], "Call to ask how they are getting on");
        assert!(
            mine[0]["due_at"]
                .as_str()
                .unwrap_or("")
                .starts_with("2030-01-15")
        );
    }
    // A rep may give work only to themself: planning for their own and a teammate's account
    // makes neither task, and says why.
    let (rep_cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
    let rep_csrf = crate::support::csrf_of(&app, &rep_cookie).await;
    let mut form: Vec<(&str, &str)> = vec![
        ("_csrf", rep_csrf.as_str()),
        ("back", "/accounts"),
        ("task_subject", "Second call"),
    ];
    form.extend(ids.iter().map(|i| ("ids", i.as_str())));
    let (_, to, _) =
        crate::support::form_as(&app, Some(&rep_cookie), "en", "/accounts/bulk-tasks", &form).await;
    let to = to.expect("a redirect");
    assert!(to.contains("failed="), "{to}");
    let (_, html) = page_as(&app, Some(&rep_cookie), "en", &to).await;
    assert!(html.contains("class=\"flash failed\""), "{html}");
    assert_eq!(
        tasks(&rep).await.len(),
        1,
        "the rep's own task was not made either"
    );
    assert_eq!(tasks(&mate).await.len(), 1);
}
