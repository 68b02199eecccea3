//! A sales rep's lists when the rep's scope is large: the page is read in list order rather
//! than through the owner index (on SQLite, from a few thousand records in scope), and shows
//! exactly the records of the rep and the rep's team, in order, with the right total. Worked
//! out here from the rows the test stored.

use chrono::{DateTime, Duration, Utc};
use guanxi_core::Core;
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::authz::Actor;
use guanxi_core::db::{self, col};
use guanxi_core::identity::{teams, users};
use guanxi_core::records::scope_plan::ScopeRead;
use guanxi_core::records::{Count, Filter, ListQuery};
use sea_orm::sea_query::Query;
use uuid::Uuid;

use crate::support::{Fresh, admin, backends, sales_rep, two_teams};

/// Stores an account row directly, as of `at`, in the recycle bin when `deleted` says so.
async fn store_account(
    txn: &db::WriteTxn,
    owner: Uuid,
    at: DateTime<Utc>,
    deleted: Option<DateTime<Utc>>,
    name: String,
) -> Uuid {
    let id = Uuid::now_v7();
    let mut q = Query::insert();
    q.into_table(col("accounts"))
        .columns(
            [
                "id",
                "owner_id",
                "created_at",
                "updated_at",
                "deleted_at",
                "kind",
                "name",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            owner.into(),
            at.into(),
            at.into(),
            deleted.into(),
            "company".into(),
            name.into(),
        ]);
    db::insert(txn, &q).await.unwrap();
    id
}

#[tokio::test]
async fn a_large_scope_lists_exactly_its_records_in_order() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, mate, other] = two_teams(&core, &boss).await;

        // 12,000 accounts, newest last, owned in turn by the rep, the rep's team-mate, someone
        // of another team and the rep again: 9,000 in the rep's scope, more than a page reads
        // through the owner index. Every 97th of the team's is in the recycle bin.
        let start = guanxi_core::now() - Duration::days(1);
        let owners = [rep, mate, other, rep];
        let mut visible = Vec::new();
        let txn = core.db.begin().await.unwrap();
        for i in 0..12_000i64 {
            let owner = owners[i as usize % owners.len()];
            let at = start + Duration::milliseconds(i);
            let deleted = (owner != other && i % 97 == 0).then_some(at);
            let id = store_account(&txn, owner, at, deleted, format!("Account {i:05}")).await;
            if owner != other && deleted.is_none() {
                visible.push(id);
            }
        }
        txn.commit().await.unwrap();

        let user = users::find_by_email(&core.db, "rep@example.com")
            .await
            .unwrap()
            .unwrap();
        let actor = users::actor_for(&core, &user).await.unwrap();
        // On SQLite, the plan each phase's first page chose.
        let plan_is = |want: ScopeRead, phase: &str| {
            if backend == db::Backend::Sqlite {
                let got = core.scope_plans.chosen(ACCOUNTS.name, rep);
                assert_eq!(got, Some(want), "{phase}");
            }
        };

        // Spread among everyone's: read in list order.
        assert_pages(&core, &actor, &visible, backend).await;
        plan_is(ScopeRead::InListOrder, "spread");

        // 3,000 older accounts of the other team's, as a first import before the team's work,
        // then 3,000 newer ones, as a later import: the team's records are not among the 2,000
        // at the oldest end, then at either end, and a page by creation reads owner by owner.
        // The records are the same.
        for (from, label) in [
            (start - Duration::hours(1), "older"),
            (start + Duration::hours(1), "newer"),
        ] {
            let txn = core.db.begin().await.unwrap();
            for i in 0..3_000i64 {
                let at = from + Duration::milliseconds(i);
                store_account(&txn, other, at, None, format!("Imported {label} {i:04}")).await;
            }
            txn.commit().await.unwrap();
            core.scope_plans.forget();
            assert_pages(&core, &actor, &visible, backend).await;
            plan_is(ScopeRead::OwnerByOwner, label);
        }

        // Eight newcomers to the team, with no records yet: too many owners to merge. Pages under
        // the plan chosen before read in list order, and so does the next plan.
        let north = user.team_id.expect("the rep's team");
        for i in 0..8 {
            sales_rep(&core, &boss, &format!("new{i}@example.com"), north).await;
        }
        let actor = users::actor_for(&core, &user).await.unwrap();
        assert_pages(&core, &actor, &visible, backend).await;
        core.scope_plans.forget();
        assert_pages(&core, &actor, &visible, backend).await;
        plan_is(ScopeRead::InListOrder, "too many owners");
        fresh.cleanup(core).await;
    }
}

/// The rep's pages of accounts are exactly `oldest_first`, newest first (by 50 with a total,
/// by 1 and by 7) and oldest first (by 1 and by 7).
async fn assert_pages(core: &Core, actor: &Actor, oldest_first: &[Uuid], backend: db::Backend) {
    let svc = core.records(&ACCOUNTS);
    let mut newest_first = oldest_first.to_vec();
    newest_first.reverse();
    let mut cursor = None;
    let mut seen = Vec::new();
    for page in 0..3 {
        let got = svc
            .list(
                actor,
                &ListQuery {
                    cursor: cursor.clone(),
                    limit: 50,
                    count: Count::Capped,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let total = got.total.expect("a total");
        assert_eq!(
            (total.count, total.more),
            (oldest_first.len() as u64, false),
            "{backend:?} {page}"
        );
        seen.extend(ids(&got.items));
        cursor = got.next_cursor;
    }
    assert_eq!(seen, newest_first[..150].to_vec(), "{backend:?}");
    for (sort, want) in [
        ("-created_at", &newest_first[..]),
        ("created_at", oldest_first),
    ] {
        for limit in [1, 7] {
            let mut cursor = None;
            let mut seen = Vec::new();
            for _ in 0..4 {
                let got = svc
                    .list(
                        actor,
                        &ListQuery {
                            sort: Some(sort.into()),
                            cursor: cursor.clone(),
                            limit,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                seen.extend(ids(&got.items));
                cursor = got.next_cursor;
            }
            let n = seen.len();
            assert_eq!(n as u64, 4 * limit, "{backend:?} {sort} by {limit}");
            assert_eq!(seen, want[..n].to_vec(), "{backend:?} {sort} by {limit}");
        }
    }
}

fn ids(items: &[serde_json::Map<String, serde_json::Value>]) -> Vec<Uuid> {
    items
        .iter()
        .map(|r| Uuid::parse_str(r["id"].as_str().unwrap()).unwrap())
        .collect()
}

/// A whole list's total is read through the live records' owner index on SQLite (a term that
/// holds for every owner): it still counts every owner's live records, and only those, with or
/// without an empty filter, and the recycle bin counts its own.
#[tokio::test]
async fn a_whole_list_counts_every_owners_live_records() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let team = teams::create(&core.db, Some(&boss), "North")
            .await
            .unwrap()
            .id;
        let rep = sales_rep(&core, &boss, "rep@example.com", team).await;
        let svc = core.records(&ACCOUNTS);
        // Two through the engine, owned by the admin; 40 stored directly, owned in turn by the
        // admin and the rep, every fifth of them in the recycle bin.
        for name in ["甲公司", "乙公司"] {
            svc.create(&boss, &serde_json::json!({"kind": "company", "name": name}))
                .await
                .unwrap();
        }
        let now = guanxi_core::now();
        let txn = core.db.begin().await.unwrap();
        for i in 0..40i64 {
            let owner = if i % 2 == 0 { boss.user_id } else { rep };
            let deleted = (i % 5 == 0).then_some(now);
            store_account(&txn, owner, now, deleted, format!("Account {i:02}")).await;
        }
        txn.commit().await.unwrap();

        for (filter, deleted, expected) in [
            (None, false, 34),
            (Some(Filter::all()), false, 34),
            (Some(Filter::And(vec![Filter::all()])), false, 34),
            (None, true, 8),
        ] {
            for count in [Count::Capped, Count::Exact] {
                let got = svc
                    .list(
                        &boss,
                        &ListQuery {
                            filter: filter.clone(),
                            limit: 5,
                            count,
                            deleted,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                let total = got.total.expect("a total");
                assert_eq!(
                    (total.count, total.more),
                    (expected, false),
                    "{backend:?} {filter:?} deleted={deleted} {count:?}"
                );
            }
        }
        fresh.cleanup(core).await;
    }
}

/// A large scope's page is read in list order, skipping other people's records in the index
/// (`records::scope_plan`, migration m0011): every entity of business records lists newest
/// first from an index that holds the owner and the deletion, or each record skipped costs a
/// look-up of its row.
#[tokio::test]
async fn every_business_entity_lists_newest_first_with_owners_at_hand() {
    let fresh = Fresh::new(guanxi_core::db::Backend::Sqlite).await;
    let core = fresh.core().await;
    let mut checked = 0;
    for def in core.registry.all() {
        if def.access != guanxi_core::records::def::Access::Records {
            continue;
        }
        // In list order, and owner by owner when the list is thin at an end.
        for columns in [
            "created_at,id,owner_id,deleted_at",
            "owner_id,created_at,id",
        ] {
            let found = db::raw_query(
                core.db.reader(),
                "SELECT il.name AS n FROM pragma_index_list(?1) il WHERE (SELECT group_concat(name, ',') \
                 FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) = ?2",
                vec![def.table.into(), columns.into()],
            )
            .await
            .unwrap();
            assert!(!found.is_empty(), "{}: no index on ({columns})", def.table);
        }
        checked += 1;
    }
    assert!(checked >= 3, "{checked}");
    fresh.cleanup(core).await;
}
