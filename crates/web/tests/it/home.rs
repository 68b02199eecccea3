//! The home page end to end on both backends: a rep's tasks late and due today, today's
//! meetings, their open deals by stage and those closing this month, and the records they opened
//! lately; a manager's switch between their own day, the team's and one person's; and nothing a
//! reader may not read.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, backends, login_cookie, page_as, spawn};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The part of the page inside the element with this id, up to the next card.
fn card<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|rest| rest.split("<section").next())
        .unwrap_or("")
}

#[tokio::test]
async fn the_home_page_shows_each_reader_their_day_and_a_manager_their_team() {
    let zone = guanxi_core::time_zone::parse("Asia/Shanghai").expect("zone");
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let manager = app.user_in("manager", Some("North"), "zh-CN").await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let south = app.user("sales", Some("South")).await;

        let pipeline = id(&admin
            .create(
                "pipelines",
                json!({"name": {"en": "New business", "zh-CN": "新客户销售"}, "position": 1,
                       "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
            )
            .await);
        let account = id(&rep
            .create(
                "accounts",
                json!({"kind": "company", "name": "杭州云帆科技有限公司"}),
            )
            .await);
        let south_account = id(&south
            .create(
                "accounts",
                json!({"kind": "company", "name": "Southwind Ltd"}),
            )
            .await);

        // The reader's calendar: today and this month in their zone (the instance default).
        let now = Utc::now();
        let local = guanxi_core::time_zone::to_local(now, zone);
        let today: NaiveDate = local.date();
        let month_end = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
            .expect("month end");
        let deal = |name: &str, amount: &str, close: NaiveDate, account: &str| {
            json!({"name": name, "account_id": account, "pipeline_id": pipeline,
                   "amount": {"amount": amount, "currency": "CNY"},
                   "close_date": close.to_string()})
        };
        rep.create(
            "opportunities",
            deal("云帆 ERP 项目", "100000", month_end, &account),
        )
        .await;
        rep.create(
            "opportunities",
            deal("云帆二期", "50000", today + Duration::days(400), &account),
        )
        .await;
        mate.create(
            "opportunities",
            deal("Mate's deal", "30000", month_end, &account),
        )
        .await;
        south
            .create(
                "opportunities",
                deal("South deal", "70000", month_end, &south_account),
            )
            .await;

        let at = |d: Duration| (now + d).to_rfc3339();
        let task =
            |subject: &str, due: String| json!({"subject": subject, "kind": "task", "due_at": due});
        rep.create(
            "activities",
            task("Send the revised quote", at(-Duration::hours(30))),
        )
        .await;
        rep.create(
            "activities",
            task("Plan next quarter", at(Duration::days(3))),
        )
        .await;
        let done = task("Old done task", at(-Duration::hours(5)));
        let mut done = done;
        done["done"] = json!(true);
        rep.create("activities", done).await;
        mate.create(
            "activities",
            task("Chase the payment", at(-Duration::hours(2))),
        )
        .await;
        south
            .create(
                "activities",
                task("South's own task", at(-Duration::hours(2))),
            )
            .await;
        // A meeting later today, when today has a later part.
        let meeting_at = now + Duration::minutes(5);
        let meeting_today = guanxi_core::time_zone::to_local(meeting_at, zone).date() == today;
        if meeting_today {
            rep.create(
                "activities",
                json!({"subject": "Demo at Yunfan", "kind": "meeting",
                       "starts_at": meeting_at.to_rfc3339(),
                       "ends_at": (meeting_at + Duration::minutes(1)).to_rfc3339(),
                       "regarding": {"entity": "account", "id": account}}),
            )
            .await;
            // And one a colleague holds, to which the rep is invited.
            mate.create(
                "activities",
                json!({"subject": "Pipeline review", "kind": "meeting",
                       "starts_at": meeting_at.to_rfc3339(),
                       "attendee_users": [{"user_id": rep.id}]}),
            )
            .await;
        }

        // The rep's day.
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (status, html) = page_as(&app, Some(&cookie), "en", "/").await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        let tasks = card(&html, "home-tasks");
        assert!(tasks.contains("Send the revised quote"), "{b:?}: {tasks}");
        assert!(tasks.contains("id=\"home-overdue\""), "{b:?}: {tasks}");
        for absent in ["Plan next quarter", "Old done task", "Chase the payment"] {
            assert!(!html.contains(absent), "{b:?}: {absent} shown to the rep");
        }
        if meeting_today {
            let meetings = card(&html, "home-meetings");
            assert!(meetings.contains("Demo at Yunfan"), "{b:?}: {html}");
            assert!(meetings.contains("Pipeline review"), "{b:?}: invited");
        }
        let pipe = card(&html, "home-pipeline");
        assert!(pipe.contains("¥150,000.00"), "{b:?}: {pipe}");
        assert!(pipe.contains("2 open deals"), "{b:?}: {pipe}");
        assert!(pipe.contains("Qualification"), "{b:?}: {pipe}");
        let closing = card(&html, "home-closing");
        assert!(closing.contains("云帆 ERP 项目"), "{b:?}: {closing}");
        assert!(!closing.contains("云帆二期"), "{b:?}: {closing}");
        // "See all" opens the rep's open tasks: its conditions as chips, the old done task and a
        // colleague's left out.
        let see_all = tasks
            .split("href=\"")
            .nth(1)
            .and_then(|h| h.split('"').next())
            .unwrap()
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        let (status, list) = page_as(&app, Some(&cookie), "en", &see_all).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {see_all}");
        assert!(list.contains("Owner is Me"), "{b:?}: {see_all}: {list}");
        assert!(list.contains("Send the revised quote"), "{b:?}: {list}");
        for absent in ["Old done task", "Chase the payment"] {
            assert!(!list.contains(absent), "{b:?}: {absent} in {see_all}");
        }
        assert!(
            !html.contains("id=\"home-whose\""),
            "{b:?}: a rep runs only their own"
        );
        assert!(
            card(&html, "home-recent").contains("Records you open will be listed here"),
            "{b:?}: nothing opened yet"
        );

        // What the rep opens is listed as recently viewed, until they may no longer read it.
        let (status, _) = page_as(&app, Some(&cookie), "en", &format!("/accounts/{account}")).await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        let (_, html) = page_as(&app, Some(&cookie), "en", "/").await;
        let recent = card(&html, "home-recent");
        assert!(
            recent.contains(&format!("href=\"/accounts/{account}\"")),
            "{b:?}: {recent}"
        );
        // A page the rep may not open is not a visit.
        let (status, _) = page_as(
            &app,
            Some(&cookie),
            "en",
            &format!("/accounts/{south_account}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b:?}");
        let (_, html) = page_as(&app, Some(&cookie), "en", "/").await;
        assert!(!html.contains("Southwind"), "{b:?}: {html}");

        // The manager: their own day by default, the team's on the switch, one person's too.
        let (mcookie, _) = login_cookie(&app, &manager.email, PASSWORD).await;
        let (status, html) = page_as(&app, Some(&mcookie), "zh-CN", "/").await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("id=\"home-whose\""), "{b:?}: {html}");
        assert!(html.contains("我的团队"), "{b:?}");
        assert!(
            html.contains("暂无进行中的商机"),
            "{b:?}: the manager owns none"
        );
        assert!(!html.contains("Send the revised quote"), "{b:?}");

        let (_, html) = page_as(&app, Some(&mcookie), "zh-CN", "/?who=team").await;
        let pipe = card(&html, "home-pipeline");
        assert!(pipe.contains("¥180,000.00"), "{b:?}: {pipe}");
        assert!(pipe.contains("3 个进行中的商机"), "{b:?}: {pipe}");
        assert!(
            pipe.contains("初步接洽"),
            "{b:?}: the stage in the reader's language"
        );
        let tasks = card(&html, "home-tasks");
        assert!(tasks.contains("Send the revised quote"), "{b:?}: {tasks}");
        assert!(tasks.contains("Chase the payment"), "{b:?}: {tasks}");
        assert!(
            !html.contains("South&#x27;s own task") && !html.contains("South's own task"),
            "{b:?}"
        );
        assert!(!html.contains("South deal"), "{b:?}");

        let (_, html) = page_as(&app, Some(&mcookie), "zh-CN", &format!("/?who={}", mate.id)).await;
        assert!(html.contains("Chase the payment"), "{b:?}");
        assert!(!html.contains("Send the revised quote"), "{b:?}");
        assert!(card(&html, "home-pipeline").contains("¥30,000.00"), "{b:?}");

        // Someone outside the team is not on the switch: asking for them shows the manager's own.
        let (_, html) = page_as(
            &app,
            Some(&mcookie),
            "zh-CN",
            &format!("/?who={}", south.id),
        )
        .await;
        assert!(
            !html.contains("South&#x27;s own task") && !html.contains("South's own task"),
            "{b:?}"
        );
        assert!(
            !html.contains(&format!("value=\"{}\"", south.id)),
            "{b:?}: not offered"
        );
        assert!(html.contains("暂无进行中的商机"), "{b:?}");

        // The admin's team is everyone.
        let (acookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        let (_, html) = page_as(&app, Some(&acookie), "en", "/?who=team").await;
        assert!(
            card(&html, "home-pipeline").contains("¥250,000.00"),
            "{b:?}"
        );
        // Everyone's meetings, read without naming everyone: each once.
        if meeting_today {
            let meetings = card(&html, "home-meetings");
            for subject in ["Demo at Yunfan", "Pipeline review"] {
                assert_eq!(meetings.matches(subject).count(), 1, "{b:?}: {meetings}");
            }
        }
    }
}
