//! Aggregation on both backends: every grouping and measure equals a reference computed here
//! from the raw rows, under each role's scope, with a filter, without the recycle bin, money
//! kept apart by currency; fields that cannot group or be summed are refused by name.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::areas::sales::{OPPORTUNITIES, PIPELINES};
use guanxi_core::db;
use guanxi_core::records::aggregate::{AggregateQuery, Bucket, Grouping, Measure};
use guanxi_core::records::{Filter, FilterOp};
use guanxi_core::{Actor, CoreError, codes};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

/// One live opportunity as stored.
#[derive(Clone, Debug)]
struct Opp {
    owner: Uuid,
    stage: Uuid,
    status: String,
    close: Option<NaiveDate>,
    amount: Option<(i64, String)>,
    probability: Option<i64>,
    created: NaiveDate,
}

fn bucket(d: NaiveDate, b: Bucket) -> String {
    match b {
        Bucket::Day => d.format("%Y-%m-%d").to_string(),
        Bucket::Week => {
            let monday = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            monday.format("%Y-%m-%d").to_string()
        }
        Bucket::Month => d.format("%Y-%m").to_string(),
        Bucket::Quarter => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
        Bucket::Year => d.year().to_string(),
    }
}

fn key(o: &Opp, g: &Grouping) -> Value {
    match (g.field.as_str(), g.bucket) {
        ("owner_id", None) => json!(o.owner.to_string()),
        ("stage_id", None) => json!(o.stage.to_string()),
        ("status", None) => json!(o.status),
        ("close_date", Some(b)) => o.close.map_or(Value::Null, |d| json!(bucket(d, b))),
        ("created_at", Some(b)) => json!(bucket(o.created, b)),
        other => panic!("no reference for {other:?}"),
    }
}

/// The reference: groups of `opps` by `group` and, for money, currency, with count, sum, min and
/// max of the amount and the average probability, as the service words them.
fn reference(opps: &[&Opp], group: &[Grouping]) -> Vec<(Vec<Value>, Vec<Value>)> {
    type Acc = (i64, Vec<i64>, Vec<i64>);
    let mut groups: BTreeMap<(Vec<String>, String), (Vec<Value>, Acc)> = BTreeMap::new();
    for o in opps {
        let keys: Vec<Value> = group.iter().map(|g| key(o, g)).collect();
        let currency = o
            .amount
            .as_ref()
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        // Nulls last, as the service orders.
        let sort: Vec<String> = keys
            .iter()
            .map(|k| match k {
                Value::Null => "\u{10FFFF}".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let entry = groups
            .entry((sort, currency))
            .or_insert_with(|| (keys.clone(), (0, Vec::new(), Vec::new())));
        entry.1.0 += 1;
        if let Some((minor, _)) = &o.amount {
            entry.1.1.push(*minor);
        }
        if let Some(p) = o.probability {
            entry.1.2.push(p);
        }
    }
    groups
        .into_iter()
        .map(|((_, currency), (keys, (n, amounts, probs)))| {
            let money = |x: Option<i64>| {
                x.map_or(Value::Null, |m| {
                    guanxi_core::records::money::to_json(m, &currency)
                })
            };
            let avg = if probs.is_empty() {
                Value::Null
            } else {
                let mean = probs.iter().sum::<i64>() as f64 / probs.len() as f64;
                json!(((mean / 100.0) * 100.0).round() / 100.0)
            };
            let sum = (!amounts.is_empty()).then(|| amounts.iter().sum());
            (
                keys,
                vec![
                    json!(n),
                    money(sum),
                    money(amounts.iter().min().copied()),
                    money(amounts.iter().max().copied()),
                    avg,
                ],
            )
        })
        .collect()
}

fn measures() -> Vec<Measure> {
    [
        "count",
        "sum:amount",
        "min:amount",
        "max:amount",
        "avg:probability",
    ]
    .iter()
    .map(|m| Measure::parse(m).unwrap())
    .collect()
}

/// Measures the running totals keep.
fn kept_measures() -> Vec<Measure> {
    ["count", "sum:amount"]
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect()
}

async fn stored(core: &guanxi_core::Core) -> Vec<(Opp, Option<Uuid>)> {
    let rows = db::raw_query(
        core.db.reader(),
        "SELECT o.owner_id, o.stage_id, o.status, o.close_date, o.amount_amount, o.amount_currency, \
         o.probability, o.created_at, u.team_id FROM opportunities o JOIN users u ON u.id = o.owner_id \
         WHERE o.deleted_at IS NULL",
        vec![],
    )
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let amount = db::get_opt_i64(r, "amount_amount").unwrap();
            let currency = db::get_string(r, "amount_currency").unwrap();
            (
                Opp {
                    owner: db::get_uuid(r, "owner_id").unwrap(),
                    stage: db::get_uuid(r, "stage_id").unwrap(),
                    status: db::get_string(r, "status").unwrap(),
                    close: db::get_opt_date(r, "close_date").unwrap(),
                    amount: amount.map(|a| (a, currency)),
                    probability: db::get_opt_i64(r, "probability").unwrap(),
                    created: db::get_ts(r, "created_at").unwrap().date_naive(),
                },
                db::get_opt_uuid(r, "team_id").unwrap(),
            )
        })
        .collect()
}

fn readable(a: &Actor, owner: Uuid, team: Option<Uuid>) -> bool {
    a.reaches(a.grant("opportunity").read, owner, team)
}

#[tokio::test]
async fn aggregations_equal_a_reference_under_every_scope() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let people = [
            boss.clone(),
            actor(&core, "rep@example.com").await,
            actor(&core, "mate@example.com").await,
            actor(&core, "other@example.com").await,
        ];
        let pipeline = core
            .records(&PIPELINES)
            .create(
                &boss,
                &json!({"name": "New business", "position": 1,
                        "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
            )
            .await
            .unwrap();
        let open: Vec<String> = pipeline["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "open")
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        let opps = core.records(&OPPORTUNITIES);
        let mut made = Vec::new();
        for (i, who) in people.iter().enumerate() {
            let account = core
                .records(&ACCOUNTS)
                .create(who, &json!({"kind": "company", "name": format!("客户{i}")}))
                .await
                .unwrap();
            for n in 0..14i64 {
                let mut body = json!({
                    "name": format!("商机 {i}-{n}"),
                    "account_id": account["id"],
                    "pipeline_id": pipeline["id"],
                    "stage_id": open[(n as usize) % 2],
                });
                if n % 5 != 4 {
                    // Spread over days, weeks, months, quarters and two years.
                    let d = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
                        + chrono::Duration::days(n * 23 + i as i64 * 3);
                    body["close_date"] = json!(d.format("%Y-%m-%d").to_string());
                }
                if n % 7 != 6 {
                    let currency = if n % 4 == 3 { "USD" } else { "CNY" };
                    body["amount"] = json!({"amount": format!("{}.{:02}", 1000 * (n + 1) + i as i64 * 7, n * 3 % 100), "currency": currency});
                }
                if n % 3 == 0 {
                    body["probability"] = json!(12.5 + n as f64);
                }
                let rec = opps.create(who, &body).await.unwrap();
                made.push(Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap());
            }
        }
        // Records change after they are made: each change moves them between groups (and in
        // the running totals, between keys).
        for (n, id) in made.iter().enumerate().filter(|(n, _)| n % 6 == 1) {
            let mut change =
                json!({"stage_id": open[2], "amount": {"amount": "555.55", "currency": "CNY"}});
            if n % 12 == 1 {
                change["close_date"] = json!("2027-02-14");
            }
            opps.update(&boss, *id, None, &change).await.unwrap();
        }
        opps.update(&boss, made[8], None, &json!({"amount": null}))
            .await
            .unwrap();
        opps.change_owner(&boss, &[made[5], made[6]], people[3].user_id)
            .await
            .unwrap();
        // One in the recycle bin is in no aggregation; one back from it is; one purged is gone.
        opps.delete(&boss, made[3], None).await.unwrap();
        opps.delete(&boss, made[4], None).await.unwrap();
        opps.restore(&boss, made[4]).await.unwrap();
        opps.delete(&boss, made[7], None).await.unwrap();
        opps.purge(&boss, made[7]).await.unwrap();
        let all = stored(&core).await;
        assert_eq!(all.len(), 4 * 14 - 2);

        let groupings: Vec<Vec<Grouping>> = [
            vec!["owner_id"],
            vec!["stage_id"],
            vec!["status"],
            vec!["close_date:day"],
            vec!["close_date:week"],
            vec!["close_date:month"],
            vec!["close_date:quarter"],
            vec!["close_date:year"],
            vec!["owner_id", "close_date:month"],
            vec!["stage_id", "owner_id"],
            vec!["created_at:week", "status"],
            vec!["created_at:quarter"],
        ]
        .iter()
        .map(|g| g.iter().map(|s| Grouping::parse(s).unwrap()).collect())
        .collect();
        let first_stage = Filter::Cond {
            field: "stage_id".into(),
            op: FilterOp::Eq,
            value: json!(open[0]),
        };
        let cond = |field: &str, op: FilterOp, value: serde_json::Value| Filter::Cond {
            field: field.into(),
            op,
            value,
        };
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Filters the running totals can apply (keys; a date's bounds between months) and
        // some they cannot (a bound inside a month), each with what it matches.
        type Matches = Box<dyn Fn(&Opp) -> bool>;
        let (s0, s1) = (open[0].clone(), open[1].clone());
        let filters: Vec<(Option<Filter>, Matches)> = vec![
            (None, Box::new(|_| true)),
            (Some(first_stage.clone()), {
                let s0 = s0.clone();
                Box::new(move |o| o.stage.to_string() == s0)
            }),
            (
                Some(Filter::And(vec![
                    cond("stage_id", FilterOp::In, json!([open[0], open[1]])),
                    cond("close_date", FilterOp::Gte, json!("2026-01-01")),
                    cond("close_date", FilterOp::Lte, json!("2026-06-30")),
                ])),
                Box::new(move |o| {
                    [&s0, &s1].contains(&&o.stage.to_string())
                        && o.close
                            .is_some_and(|d| d >= date("2026-01-01") && d <= date("2026-06-30"))
                }),
            ),
            (
                Some(Filter::And(vec![
                    cond("status", FilterOp::Eq, json!("open")),
                    cond("close_date", FilterOp::Gt, json!("2025-12-31")),
                    cond("close_date", FilterOp::Lt, json!("2026-04-01")),
                ])),
                Box::new(move |o| {
                    o.status == "open"
                        && o.close
                            .is_some_and(|d| d > date("2025-12-31") && d < date("2026-04-01"))
                }),
            ),
            (
                Some(Filter::And(vec![
                    cond("close_date", FilterOp::Gte, json!("2026-01-15")),
                    cond(
                        "owner_id",
                        FilterOp::Eq,
                        json!(people[1].user_id.to_string()),
                    ),
                ])),
                {
                    let owner = people[1].user_id;
                    Box::new(move |o| {
                        o.owner == owner && o.close.is_some_and(|d| d >= date("2026-01-15"))
                    })
                },
            ),
        ];
        for who in &people {
            let theirs: Vec<&Opp> = all
                .iter()
                .filter(|(o, team)| readable(who, o.owner, *team))
                .map(|(o, _)| o)
                .collect();
            assert!(!theirs.is_empty());
            for group in &groupings {
                for (filter, matches) in &filters {
                    let matched: Vec<&Opp> =
                        theirs.iter().copied().filter(|o| matches(o)).collect();
                    let want = reference(&matched, group);
                    // Every measure (read from the records), then those the running totals keep
                    // (read from them when nothing is filtered).
                    for (measures, picked) in [
                        (measures(), vec![0, 1, 2, 3, 4]),
                        (kept_measures(), vec![0, 1]),
                    ] {
                        let q = AggregateQuery {
                            group: group.clone(),
                            measures,
                            filter: filter.clone(),
                        };
                        let got = opps.aggregate(who, &q).await.unwrap();
                        let got: Vec<_> =
                            got.groups.into_iter().map(|g| (g.keys, g.values)).collect();
                        let want: Vec<_> = want
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    picked.iter().map(|&i| v[i].clone()).collect::<Vec<_>>(),
                                )
                            })
                            .collect();
                        assert_eq!(
                            got, want,
                            "{backend:?} as {} by {group:?} filtered {filter:?} measures {picked:?}",
                            who.email,
                        );
                    }
                }
            }
        }
        // The unfiltered totals came from the running totals: without them there is nothing,
        // while an aggregation filtered by what they do not keep still reads the records.
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, "DELETE FROM opportunities_rollup_by_month", vec![])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let by_stage = AggregateQuery {
            group: vec![Grouping::parse("stage_id").unwrap()],
            measures: kept_measures(),
            filter: None,
        };
        assert!(
            !opps
                .aggregate(&boss, &by_stage)
                .await
                .unwrap()
                .groups
                .is_empty()
        );
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, "DELETE FROM opportunities_rollup_by_stage", vec![])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert!(
            opps.aggregate(&boss, &by_stage)
                .await
                .unwrap()
                .groups
                .is_empty()
        );
        let q = |filter: Option<Filter>| AggregateQuery {
            group: vec![Grouping::parse("owner_id").unwrap()],
            measures: kept_measures(),
            filter,
        };
        assert!(
            opps.aggregate(&boss, &q(None))
                .await
                .unwrap()
                .groups
                .is_empty()
        );
        assert!(
            opps.aggregate(&boss, &q(Some(first_stage.clone())))
                .await
                .unwrap()
                .groups
                .is_empty(),
            "a filter of a kept key reads the totals"
        );
        let mid_month = cond("close_date", FilterOp::Gte, json!("2026-01-15"));
        assert!(
            !opps
                .aggregate(&boss, &q(Some(mid_month)))
                .await
                .unwrap()
                .groups
                .is_empty()
        );
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn fields_that_cannot_group_or_add_up_are_refused_by_name() {
    let fresh = Fresh::new(guanxi_core::db::Backend::Sqlite).await;
    let core = fresh.core().await;
    let boss = admin(&core, "boss@example.com").await;
    let opps = core.records(&OPPORTUNITIES);
    let refused = |group: &[&str], measure: &str| AggregateQuery {
        group: group.iter().map(|g| Grouping::parse(g).unwrap()).collect(),
        measures: vec![Measure::parse(measure).unwrap()],
        filter: None,
    };
    for (group, measure, code, field) in [
        (&["name"][..], "count", codes::NOT_GROUPABLE, Some("name")),
        (
            &["close_date"][..],
            "count",
            codes::NOT_GROUPABLE,
            Some("close_date"),
        ),
        (
            &["owner_id:month"][..],
            "count",
            codes::NOT_GROUPABLE,
            Some("owner_id"),
        ),
        (
            &["no_such"][..],
            "count",
            codes::NOT_GROUPABLE,
            Some("no_such"),
        ),
        (
            &["status", "owner_id", "stage_id"][..],
            "count",
            codes::NOT_GROUPABLE,
            Some("status, owner_id, stage_id"),
        ),
        (
            &["status"][..],
            "sum:name",
            codes::NOT_MEASURABLE,
            Some("name"),
        ),
        (
            &["status"][..],
            "avg:close_date",
            codes::NOT_MEASURABLE,
            Some("close_date"),
        ),
        (
            &["status"][..],
            "max:nothing",
            codes::NOT_MEASURABLE,
            Some("nothing"),
        ),
    ] {
        match opps.aggregate(&boss, &refused(group, measure)).await {
            Err(CoreError::BadRequest {
                code: c, params, ..
            }) => {
                assert_eq!(c, code, "{group:?} {measure}");
                assert_eq!(params.get("field").and_then(Value::as_str), field);
            }
            other => panic!("{group:?} {measure}: {other:?}"),
        }
    }
    assert!(Grouping::parse("close_date:fortnight").is_err());
    assert!(Measure::parse("median:amount").is_none());
    fresh.cleanup(core).await;
}

#[test]
fn every_declared_rollup_and_chart_can_be_kept_and_computed() {
    for def in guanxi_core::areas::registry().all() {
        assert_eq!(
            guanxi_core::records::rollup::layouts(def).len(),
            def.rollups.len(),
            "a rollup of {} names a field it cannot keep",
            def.name
        );
        for chart in def.charts {
            let g = Grouping::parse(chart.group).unwrap();
            assert!(
                def.field(&g.field).is_some() || g.field == "owner_id",
                "{}: {}",
                def.name,
                chart.name
            );
            assert!(Measure::parse(chart.measure).is_some(), "{}", chart.name);
        }
    }
}

#[test]
fn only_counts_sums_and_averages_by_kept_keys_filtered_by_kept_keys_read_the_running_totals() {
    let q = |group: &[&str], measures: &[&str], filter: Option<Filter>| AggregateQuery {
        group: group.iter().map(|g| Grouping::parse(g).unwrap()).collect(),
        measures: measures
            .iter()
            .map(|m| Measure::parse(m).unwrap())
            .collect(),
        filter,
    };
    let reads =
        |q: &AggregateQuery| guanxi_core::records::aggregate::reads_totals(&OPPORTUNITIES, q);
    assert!(reads(&q(
        &["owner_id", "close_date:month"],
        &["count", "sum:amount"],
        None
    )));
    assert!(reads(&q(
        &["stage_id"],
        &["sum:amount", "avg:weighted_amount"],
        None
    )));
    assert!(reads(&q(
        &["close_date:quarter"],
        &["count"],
        Some(Filter::And(vec![]))
    )));
    assert!(reads(&q(&["status", "owner_id"], &["count"], None)));
    assert!(reads(&q(
        &["stage_id", "close_date:month"],
        &["count"],
        None
    )));
    assert!(!reads(&q(
        &["stage_id", "created_at:month"],
        &["count"],
        None
    )));
    assert!(!reads(&q(&["close_date:week"], &["count"], None)));
    assert!(!reads(&q(&["created_at:month"], &["count"], None)));
    assert!(!reads(&q(&["owner_id"], &["max:amount"], None)));
    assert!(!reads(&q(&["owner_id"], &["avg:probability"], None)));
    let open = Filter::Cond {
        field: "status".into(),
        op: FilterOp::Eq,
        value: json!("open"),
    };
    assert!(reads(&q(&["owner_id"], &["count"], Some(open.clone()))));
    let quarter = Filter::And(vec![
        open.clone(),
        Filter::Cond {
            field: "close_date".into(),
            op: FilterOp::Gte,
            value: json!("2026-10-01"),
        },
        Filter::Cond {
            field: "close_date".into(),
            op: FilterOp::Lte,
            value: json!("2026-12-31"),
        },
    ]);
    assert!(reads(&q(
        &["stage_id"],
        &["count", "sum:amount"],
        Some(quarter)
    )));
    let mid_month = Filter::Cond {
        field: "close_date".into(),
        op: FilterOp::Lt,
        value: json!("2026-12-15"),
    };
    assert!(!reads(&q(&["stage_id"], &["count"], Some(mid_month))));
    let not_open = Filter::Cond {
        field: "status".into(),
        op: FilterOp::Ne,
        value: json!("open"),
    };
    assert!(!reads(&q(&["owner_id"], &["count"], Some(not_open))));
    let named = Filter::Cond {
        field: "name".into(),
        op: FilterOp::Contains,
        value: json!("ERP"),
    };
    assert!(!reads(&q(&["owner_id"], &["count"], Some(named))));
    assert!(!guanxi_core::records::aggregate::reads_totals(
        &ACCOUNTS,
        &q(&["owner_id"], &["count"], None)
    ));
}
