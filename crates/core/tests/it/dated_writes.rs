//! Writes recorded as made at an earlier instant (`RecordService::as_of`), as the demo's year of
//! work and imports of history load them: the record's times, its history, the times its rules
//! stamp (an opportunity's stage history), and its place in newest-first lists, including those
//! read through the search keys in creation order, on both backends.

use chrono::{Duration, Utc};
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::areas::sales::{OPPORTUNITIES, PIPELINES};
use guanxi_core::audit;
use guanxi_core::records::{Filter, ListQuery};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

fn id(rec: &serde_json::Map<String, Value>) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap()
}

fn at(rec: &serde_json::Map<String, Value>, key: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(rec[key].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn history_loaded_as_of_earlier_instants_reads_as_it_happened() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "history@example.com").await;
        let now = Utc::now();
        let long_ago = now - Duration::days(300);
        let later = now - Duration::days(120);

        // Made now, then one made 300 days ago and changed 120 days ago, then another now.
        let accounts = core.records(&ACCOUNTS);
        let first = accounts
            .create(
                &boss,
                &json!({"kind": "company", "name": "中太今日甲有限公司"}),
            )
            .await
            .unwrap();
        let old = accounts
            .as_of(long_ago)
            .create(
                &boss,
                &json!({"kind": "company", "name": "中太往年有限公司"}),
            )
            .await
            .unwrap();
        let old_id = id(&old);
        assert!(
            (at(&old, "created_at") - long_ago).num_milliseconds().abs() < 1,
            "{backend:?}"
        );
        let changed = accounts
            .as_of(later)
            .update(&boss, old_id, None, &json!({"rating": "hot"}))
            .await
            .unwrap();
        assert_eq!(
            at(&changed, "created_at"),
            at(&old, "created_at"),
            "{backend:?}"
        );
        assert!(
            (at(&changed, "updated_at") - later)
                .num_milliseconds()
                .abs()
                < 1,
            "{backend:?}"
        );
        let last = accounts
            .create(
                &boss,
                &json!({"kind": "company", "name": "中太今日乙有限公司"}),
            )
            .await
            .unwrap();

        // The history says when.
        let entries = audit::history(&core.db, old_id, 10).await.unwrap();
        let whens: Vec<(String, i64)> = entries
            .iter()
            .map(|e| (e.action.clone(), (now - e.at).num_days()))
            .collect();
        assert_eq!(
            whens,
            vec![("update".to_string(), 120), ("create".to_string(), 300)],
            "{backend:?}"
        );

        // Newest first it comes last, unfiltered and filtered by a name's pieces (the order
        // SQLite reads through the search keys).
        for filter in [
            None,
            Some(json!({"field": "name", "op": "contains", "value": "中太"})),
        ] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = accounts
                    .list(
                        &boss,
                        &ListQuery {
                            filter: filter.as_ref().map(|f| Filter::from_json(f).unwrap()),
                            sort: Some("-created_at".into()),
                            cursor: cursor.take(),
                            limit: 1,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                seen.extend(page.items.iter().map(id));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(
                seen,
                vec![id(&last), id(&first), old_id],
                "{backend:?} {filter:?}"
            );
        }

        // Rules stamp the instant too: the stage an opportunity entered, the day it closed.
        let pipeline = core
            .records(&PIPELINES)
            .create(
                &boss,
                &json!({"name": "New business", "position": 1,
                        "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
            )
            .await
            .unwrap();
        let opp = core
            .records(&OPPORTUNITIES)
            .as_of(long_ago)
            .create(
                &boss,
                &json!({"name": "往年商机", "account_id": old["id"], "pipeline_id": pipeline["id"]}),
            )
            .await
            .unwrap();
        let won = core
            .records(&OPPORTUNITIES)
            .as_of(later)
            .act(&boss, id(&opp), "close_won", None, &json!({}))
            .await
            .unwrap();
        assert_eq!(
            won["close_date"],
            json!(
                guanxi_core::time_zone::day_of(later, boss.time_zone)
                    .format("%Y-%m-%d")
                    .to_string()
            ),
            "{backend:?}"
        );
        let stages = won["stage_history"].as_array().unwrap();
        assert_eq!(stages.len(), 2, "{backend:?}");
        let entered = |i: usize| {
            chrono::DateTime::parse_from_rfc3339(stages[i]["entered_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!((now - entered(0)).num_days(), 300, "{backend:?}");
        assert_eq!((now - entered(1)).num_days(), 120, "{backend:?}");
        fresh.cleanup(core).await;
    }
}
