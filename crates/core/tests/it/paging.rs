//! Keyset paging over sorts of every value type, with blanks (NULLs) and duplicates, on SQLite
//! always and on PostgreSQL when `GUANXI_TEST_POSTGRES_URL` is set. The expected order is worked
//! out here from the values the test stored, not from what the engine answers: blanks first
//! ascending and last descending, the id breaking ties, descending the exact reverse.

use chrono::NaiveDate;
use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::authz::Actor;
use guanxi_core::records::cursor::Cursor;
use guanxi_core::records::def::{FieldDef, FieldKind};
use guanxi_core::records::{Access, JsonMap, ListQuery, Plain};
use guanxi_core::{Core, CoreError, EntityDef};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

/// Accounts as an entity that lets its parent be sorted by. No real entity offers a sort by a
/// reference to people (an order of ids means nothing to them), but the next entities' lists may
/// order by one, so the engine pages it like any other type; this view of the accounts table,
/// declared only here, shows that it does.
static ACCOUNTS_BY_PARENT: EntityDef = EntityDef {
    name: "account",
    plural: "accounts",
    area: "customers",
    table: "accounts",
    fields: &[
        FieldDef::new("name", FieldKind::Text { max: 200 }).required(),
        FieldDef::new(
            "parent_id",
            FieldKind::Ref {
                table: "accounts",
                entity: "account",
            },
        )
        .sortable(),
    ],
    default_sort: "-created_at",
    default_columns: &["name"],
    related_columns: &["name"],
    title_sort: "name",
    title: plain_title,
    title_fields: &["name"],
    search_names: no_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: None,
    behaviour: &Plain,
    error_codes: &[],
    charts: &[],
    key_facts: &[],
    dedupe: &[],
    rollups: &[],
    read_through: None,
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    field_groups: &[],
};

fn plain_title(rec: &JsonMap, _locale: &str) -> String {
    rec.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn no_names(_rec: &JsonMap) -> Vec<String> {
    vec![]
}

/// A sort value as the test orders it. Only values of one variant meet in one sort; `Option`
/// puts a blank (`None`) before every value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Int(Option<i64>),
    Date(Option<NaiveDate>),
    Bool(bool),
    Id(Option<Uuid>),
}

/// One stored record and the sort keys the test gave it.
struct Row {
    id: Uuid,
    keys: Vec<(&'static str, Key)>,
}

fn id_of(rec: &JsonMap) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().expect("id")).expect("uuid")
}

/// Pages through a sort `limit` records at a time and returns the ids in the order shown,
/// checking the cursors end.
async fn page_through(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    sort: &str,
    limit: u64,
    total: usize,
) -> Vec<Uuid> {
    let mut got = Vec::new();
    let mut cursor = None;
    for _ in 0..=total {
        let page = core
            .records(def)
            .list(
                actor,
                &ListQuery {
                    sort: Some(sort.to_string()),
                    cursor: cursor.clone(),
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{sort} limit {limit}: {e}"));
        assert!(page.items.len() as u64 <= limit, "{sort}: page size");
        got.extend(page.items.iter().map(id_of));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return got;
        }
    }
    panic!("{sort} limit {limit}: the cursors do not end");
}

fn expected(rows: &[Row], field: &str, desc: bool) -> Vec<Uuid> {
    let mut want: Vec<(Key, Uuid)> = rows
        .iter()
        .map(|r| {
            let key = r
                .keys
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, k)| k.clone())
                .expect("a key per sorted field");
            (key, r.id)
        })
        .collect();
    want.sort();
    if desc {
        want.reverse();
    }
    want.into_iter().map(|(_, id)| id).collect()
}

async fn accounts(core: &Core, actor: &Actor) -> Vec<Row> {
    let svc = core.records(&ACCOUNTS);
    let employees = [
        None,
        Some(5),
        Some(5),
        None,
        Some(100),
        Some(0),
        Some(5),
        None,
        Some(42),
        Some(7),
    ];
    // In yuan: the engine sorts by the stored minor units.
    let revenue = [
        Some("150.00"),
        None,
        Some("150"),
        Some("-20.5"),
        None,
        Some("9999999.99"),
        Some("150.00"),
        None,
        Some("0.01"),
        Some("0"),
    ];
    let minor = |s: &str| -> i64 {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let cents: i64 = format!("{frac:0<2}").parse().expect("cents");
        let whole: i64 = whole.parse().expect("yuan");
        whole * 100 + if s.starts_with('-') { -cents } else { cents }
    };
    let mut rows: Vec<Row> = Vec::new();
    for (i, (e, r)) in employees.iter().zip(revenue).enumerate() {
        // The first two are parents; the others refer to one of them or to none, so parents
        // repeat and blanks fall between.
        let parent = match i {
            0 | 1 | 4 | 7 => None,
            _ if i % 2 == 0 => Some(rows[0].id),
            _ => Some(rows[1].id),
        };
        let rec = svc
            .create(
                actor,
                &json!({
                    "kind": "company",
                    "name": format!("Paging {i}"),
                    "employees": e,
                    "annual_revenue": r.map(|a| json!({"amount": a, "currency": "CNY"})),
                    "parent_id": parent.map(|p| p.to_string()),
                }),
            )
            .await
            .expect("account");
        rows.push(Row {
            id: id_of(&rec),
            keys: vec![
                ("employees", Key::Int(*e)),
                ("annual_revenue", Key::Int(r.map(minor))),
                ("parent_id", Key::Id(parent)),
            ],
        });
    }
    rows
}

async fn contacts(core: &Core, actor: &Actor) -> Vec<Row> {
    let svc = core.records(&CONTACTS);
    let birthdays = [
        None,
        Some("1990-05-01"),
        Some("1990-05-01"),
        None,
        Some("1985-12-31"),
        Some("2001-01-01"),
        None,
        Some("1990-05-01"),
        Some("1970-01-01"),
        Some("1999-02-28"),
    ];
    let do_not_call = [
        true, false, true, false, false, true, false, false, true, false,
    ];
    let mut rows = Vec::new();
    for (i, (b, d)) in birthdays.iter().zip(do_not_call).enumerate() {
        let rec = svc
            .create(
                actor,
                &json!({"family_name": format!("Paging {i}"), "birthday": b, "do_not_call": d}),
            )
            .await
            .expect("contact");
        rows.push(Row {
            id: id_of(&rec),
            keys: vec![
                (
                    "birthday",
                    Key::Date(b.map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))),
                ),
                ("do_not_call", Key::Bool(d)),
            ],
        });
    }
    rows
}

#[tokio::test]
async fn every_value_type_pages_once_each_in_order_with_blanks_and_ties() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "paging@example.com").await;
        let accounts = accounts(&core, &actor).await;
        let contacts = contacts(&core, &actor).await;
        let sorts: [(&'static EntityDef, &str, &[Row]); 5] = [
            (&ACCOUNTS, "employees", &accounts),
            (&ACCOUNTS, "annual_revenue", &accounts),
            (&ACCOUNTS_BY_PARENT, "parent_id", &accounts),
            (&CONTACTS, "birthday", &contacts),
            (&CONTACTS, "do_not_call", &contacts),
        ];
        for (def, field, rows) in sorts {
            for desc in [false, true] {
                let sort = if desc {
                    format!("-{field}")
                } else {
                    field.to_string()
                };
                let want = expected(rows, field, desc);
                // Page sizes 1 to 3 put page boundaries (cursor rows) on every record, blank
                // or not, and on either side of the step from blanks to values.
                for limit in [2, 1, 3] {
                    let got = page_through(&core, &actor, def, &sort, limit, rows.len()).await;
                    assert_eq!(
                        got, want,
                        "{backend:?} {} sort={sort} limit={limit}: every record once, in order",
                        def.plural
                    );
                }
                // One page of everything agrees with the pages.
                let all = page_through(&core, &actor, def, &sort, 500, rows.len()).await;
                assert_eq!(
                    all, want,
                    "{backend:?} {} sort={sort}: one page",
                    def.plural
                );
            }
        }
        fresh.cleanup(core).await;
    }
}

/// A numbered page (a cursor at an offset) shows the rows a keyset walk shows there, on both
/// backends, and its next cursor goes on from it; an offset past the count's cap is refused.
#[tokio::test]
async fn numbered_pages_agree_with_the_keyset_walk() {
    use guanxi_core::records::cursor::Cursor;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "numbered@example.com").await;
        let rows = accounts(&core, &actor).await;
        for sort in ["employees", "-annual_revenue"] {
            let field = sort.trim_start_matches('-');
            let want = expected(&rows, field, sort.starts_with('-'));
            let list = |cursor: Option<String>| {
                let core = &core;
                let actor = &actor;
                async move {
                    core.records(&ACCOUNTS)
                        .list(
                            actor,
                            &ListQuery {
                                sort: Some(sort.to_string()),
                                cursor,
                                limit: 3,
                                ..Default::default()
                            },
                        )
                        .await
                }
            };
            for at in [0u64, 1, 3, 4] {
                let page = list(Some(Cursor::at_offset(sort, at).encode()))
                    .await
                    .expect("numbered page");
                let got: Vec<Uuid> = page.items.iter().map(id_of).collect();
                let from = (at as usize).min(want.len());
                let to = (from + 3).min(want.len());
                assert_eq!(got, want[from..to], "{backend:?} {sort} at {at}");
                if let Some(next) = page.next_cursor {
                    let after = list(Some(next)).await.expect("next page");
                    let got: Vec<Uuid> = after.items.iter().map(id_of).collect();
                    let end = (to + 3).min(want.len());
                    assert_eq!(got, want[to..end], "{backend:?} {sort} after {at}");
                }
            }
            let err = list(Some(Cursor::at_offset(sort, 10_001).encode()))
                .await
                .expect_err("past the cap");
            assert!(err.to_string().contains("cursor"), "{err}");
        }
        fresh.cleanup(core).await;
    }
}

/// A cursor whose value does not fit its sort's type is refused as a malformed cursor, on both
/// backends, never passed to the database (where PostgreSQL would fail the query).
#[tokio::test]
async fn a_cursor_value_of_the_wrong_type_is_an_invalid_cursor() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "paging@example.com").await;
        let cases: [(&'static EntityDef, &str, Value); 14] = [
            (&ACCOUNTS, "employees", json!("many")),
            (&ACCOUNTS, "employees", json!(1.5)),
            (&ACCOUNTS, "-employees", json!(true)),
            // Money cursors carry minor units, not the amount as the API shows it.
            (&ACCOUNTS, "annual_revenue", json!("150.00")),
            (
                &ACCOUNTS,
                "annual_revenue",
                json!({"amount": "1", "currency": "CNY"}),
            ),
            (&ACCOUNTS_BY_PARENT, "parent_id", json!("not an id")),
            (&ACCOUNTS_BY_PARENT, "-parent_id", json!(7)),
            (&CONTACTS, "birthday", json!("1990-13-01")),
            (&CONTACTS, "-birthday", json!(19_900_501)),
            // Text and booleans are never blank, so a blank in their cursor is no cursor of ours.
            (&CONTACTS, "do_not_call", Value::Null),
            (&CONTACTS, "do_not_call", json!("yes")),
            (&ACCOUNTS, "name", Value::Null),
            (&ACCOUNTS, "name", json!(3)),
            (&ACCOUNTS, "-created_at", json!("yesterday")),
        ];
        for (def, sort, v) in cases {
            let cursor = Cursor {
                s: sort.to_string(),
                v: v.clone(),
                id: Uuid::now_v7(),
                o: None,
            }
            .encode();
            let r = core
                .records(def)
                .list(
                    &actor,
                    &ListQuery {
                        sort: Some(sort.to_string()),
                        cursor: Some(cursor),
                        limit: 2,
                        ..Default::default()
                    },
                )
                .await;
            assert!(
                matches!(
                    r,
                    Err(CoreError::BadRequest {
                        code: "invalid_cursor",
                        ..
                    })
                ),
                "{backend:?} {} sort={sort} v={v}: {r:?}",
                def.plural
            );
        }
        // A blank is a value these sorts have, and a cursor may stop on one.
        for (def, sort) in [
            (&ACCOUNTS, "employees"),
            (&ACCOUNTS, "-annual_revenue"),
            (&CONTACTS, "birthday"),
        ] {
            let cursor = Cursor {
                s: sort.to_string(),
                v: Value::Null,
                id: Uuid::now_v7(),
                o: None,
            }
            .encode();
            core.records(def)
                .list(
                    &actor,
                    &ListQuery {
                        sort: Some(sort.to_string()),
                        cursor: Some(cursor),
                        limit: 2,
                        ..Default::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{backend:?} sort={sort}: {e}"));
        }
        fresh.cleanup(core).await;
    }
}
