//! Days are the user's days: a date the system fills in for someone (the day a deal is closed,
//! the last day a task repeats on) is their day in their time zone, not UTC's. A rep in Beijing
//! working at 07:30 on a Wednesday is on Wednesday, though UTC is still on Tuesday. On both
//! backends, with the instant injected through `RecordService::as_of`.

use chrono::{DateTime, Utc};
use guanxi_core::areas::activities::ACTIVITIES;
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::areas::sales::{LOST_REASONS, OPPORTUNITIES, PIPELINES};
use guanxi_core::records::{Filter, ListQuery};
use guanxi_core::time_zone::Tz;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

fn id(rec: &serde_json::Map<String, Value>) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[tokio::test]
async fn a_deal_closed_without_a_date_is_dated_by_the_closers_day() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "days@example.com").await;
        // The lost reasons a company starts with.
        guanxi_core::setup::install_defaults(&core).await.unwrap();
        let mut beijing = boss.clone();
        beijing.time_zone = Tz::Asia__Shanghai;
        let mut new_york = boss.clone();
        new_york.time_zone = Tz::America__New_York;
        // Wednesday 2026-06-10 07:30 in Beijing; still Tuesday 06-09 by UTC (and in New York).
        let morning = at("2026-06-09T23:30:00Z");

        let account = core
            .records(&ACCOUNTS)
            .create(
                &boss,
                &json!({"kind": "company", "name": "北京晨光科技有限公司"}),
            )
            .await
            .unwrap();
        let pipeline = core
            .records(&PIPELINES)
            .create(
                &boss,
                &json!({"name": "Days", "position": 2,
                        "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
            )
            .await
            .unwrap();
        let deal = |name: &'static str| {
            let (core, account, pipeline) = (&core, &account, &pipeline);
            let boss = &boss;
            async move {
                core.records(&OPPORTUNITIES)
                    .create(
                        boss,
                        &json!({"name": name, "account_id": account["id"],
                                "pipeline_id": pipeline["id"]}),
                    )
                    .await
                    .unwrap()
            }
        };
        let deals = core.records(&OPPORTUNITIES);

        // Won at 07:30 in Beijing: dated Wednesday.
        let won = deal("晨会前签下的单子").await;
        let won = deals
            .as_of(morning)
            .act(&beijing, id(&won), "close_won", None, &json!({}))
            .await
            .unwrap();
        assert_eq!(won["close_date"], json!("2026-06-10"), "{backend:?}");

        // Lost at the same instant in Beijing: Wednesday too.
        let reasons = core
            .records(&LOST_REASONS)
            .list(&boss, &ListQuery::default())
            .await
            .unwrap();
        let reason = reasons.items.first().expect("a lost reason")["id"].clone();
        let lost = deal("没谈成的单子").await;
        let lost = deals
            .as_of(morning)
            .act(
                &beijing,
                id(&lost),
                "close_lost",
                None,
                &json!({"lost_reason_id": reason}),
            )
            .await
            .unwrap();
        assert_eq!(lost["close_date"], json!("2026-06-10"), "{backend:?}");

        // The same instant in New York is still Tuesday evening.
        let late = deal("纽约的单子").await;
        let late = deals
            .as_of(morning)
            .act(&new_york, id(&late), "close_won", None, &json!({}))
            .await
            .unwrap();
        assert_eq!(late["close_date"], json!("2026-06-09"), "{backend:?}");

        // A date given is kept as given.
        let dated = deal("补录的单子").await;
        let dated = deals
            .as_of(morning)
            .act(
                &beijing,
                id(&dated),
                "close_won",
                None,
                &json!({"close_date": "2026-06-01"}),
            )
            .await
            .unwrap();
        assert_eq!(dated["close_date"], json!("2026-06-01"), "{backend:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_task_repeats_until_the_end_of_its_last_day_on_the_users_calendar() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "repeat-days@example.com").await;
        let mut beijing = boss.clone();
        beijing.time_zone = Tz::Asia__Shanghai;
        let tasks = core.records(&ACTIVITIES);
        // Due Friday 2026-06-12 07:30 in Beijing (Thursday 23:30 UTC), weekly until Thursday
        // 06-18: the next Friday is past the last day, though by UTC's day it is Thursday.
        let ended = tasks
            .create(
                &beijing,
                &json!({"kind": "task", "subject": "周报（到 18 日为止）",
                        "due_at": "2026-06-11T23:30:00Z",
                        "repeat": "weekly", "repeat_until": "2026-06-18"}),
            )
            .await
            .unwrap();
        // Until Friday 06-19: it comes once more, on Friday 07:30 in Beijing.
        let goes_on = tasks
            .create(
                &beijing,
                &json!({"kind": "task", "subject": "周报（到 19 日为止）",
                        "due_at": "2026-06-11T23:30:00Z",
                        "repeat": "weekly", "repeat_until": "2026-06-19"}),
            )
            .await
            .unwrap();
        for t in [&ended, &goes_on] {
            tasks
                .update(&beijing, id(t), None, &json!({"done": true}))
                .await
                .unwrap();
        }
        let next = |subject: &str| {
            let q = ListQuery {
                filter: Some(
                    Filter::from_json(&json!({"and": [
                        {"field": "subject", "op": "eq", "value": subject},
                        {"field": "done", "op": "eq", "value": false},
                    ]}))
                    .unwrap(),
                ),
                ..Default::default()
            };
            let tasks = &tasks;
            let beijing = &beijing;
            async move { tasks.list(beijing, &q).await.unwrap().items }
        };
        assert!(
            next("周报（到 18 日为止）").await.is_empty(),
            "{backend:?}: no occurrence after the last day"
        );
        let following = next("周报（到 19 日为止）").await;
        assert_eq!(following.len(), 1, "{backend:?}");
        assert_eq!(
            at(following[0]["due_at"].as_str().unwrap()),
            at("2026-06-18T23:30:00Z"),
            "{backend:?}"
        );
        fresh.cleanup(core).await;
    }
}
