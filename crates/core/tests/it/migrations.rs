//! Upgrades of databases that hold data: a database left at an earlier migration, filled the way
//! that version stored records, is migrated and read back through the services.

use chrono::{DateTime, Utc};
use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS, INDUSTRIES, SOURCES};
use guanxi_core::areas::sales::OPPORTUNITIES;
use guanxi_core::db::migrations::Migrator;
use guanxi_core::db::{self, Backend, col};
use guanxi_core::identity::users;
use guanxi_core::records::{Filter, FilterOp, ListQuery};
use guanxi_core::{Actor, Core, EntityDef, saved_views};
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, backends};

/// How many migrations come before sources and industries became lists.
fn before_lists() -> u32 {
    Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0005_lists")
        .expect("the lists migration") as u32
}

async fn connect(fresh: &Fresh, backend: Backend) -> DatabaseConnection {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", fresh.url),
        Backend::Postgres => fresh.url.clone(),
    };
    Database::connect(url).await.unwrap()
}

async fn insert(conn: &DatabaseConnection, table: &str, values: Vec<(&str, SimpleExpr)>) {
    let mut q = Query::insert();
    q.into_table(col(table))
        .columns(values.iter().map(|(c, _)| col(c)))
        .values_panic(values.into_iter().map(|(_, v)| v));
    db::insert(conn, &q).await.unwrap();
}

/// An administrator, boss@example.com, as every earlier schema stored users.
async fn insert_boss(conn: &DatabaseConnection) -> Uuid {
    let id = Uuid::now_v7();
    let now = guanxi_core::now();
    insert(
        conn,
        "users",
        vec![
            ("id", id.into()),
            ("email", "boss@example.com".into()),
            ("name", "Boss".into()),
            ("role", "admin".into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    id
}

/// A row as the earlier schema stored it: the record columns and the given ones.
async fn record(
    conn: &DatabaseConnection,
    table: &str,
    owner: Uuid,
    at: DateTime<Utc>,
    fields: Vec<(&str, SimpleExpr)>,
) -> Uuid {
    let id = Uuid::now_v7();
    let mut values: Vec<(&str, SimpleExpr)> = vec![
        ("id", id.into()),
        ("owner_id", owner.into()),
        ("created_at", at.into()),
        ("updated_at", at.into()),
    ];
    values.extend(fields);
    insert(conn, table, values).await;
    id
}

async fn names_of(core: &Core, actor: &Actor, def: &'static EntityDef) -> Vec<Value> {
    core.records(def)
        .list(
            actor,
            &ListQuery {
                sort: Some("position".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r["name"].clone())
        .collect()
}

/// The name of the list row a record's reference points to.
async fn name_at(core: &Core, actor: &Actor, def: &'static EntityDef, rec: &Value) -> Value {
    let field = if def.name == "source" {
        "source_id"
    } else {
        "industry_id"
    };
    let Some(id) = rec[field].as_str() else {
        return Value::Null;
    };
    core.records(def)
        .get(actor, Uuid::parse_str(id).unwrap())
        .await
        .unwrap()["name"]
        .clone()
}

#[tokio::test]
async fn source_codes_and_industry_texts_become_list_references() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let conn = connect(&fresh, backend).await;
        Migrator::up(&conn, Some(before_lists())).await.unwrap();

        let now = guanxi_core::now();
        let admin_id = insert_boss(&conn).await;
        let account = |name: &'static str, industry: &'static str, source: &'static str| {
            vec![
                ("kind", "company".into()),
                ("name", name.into()),
                ("industry", industry.into()),
                ("source", source.into()),
            ]
        };
        let a = record(
            &conn,
            "accounts",
            admin_id,
            now,
            account("甲", "软件", "trade_show"),
        )
        .await;
        let b = record(
            &conn,
            "accounts",
            admin_id,
            now,
            account("乙", "软件", "web"),
        )
        .await;
        let c = record(&conn, "accounts", admin_id, now, account("丙", "物流", "")).await;
        let d = record(&conn, "accounts", admin_id, now, account("丁", "", "")).await;
        // In the recycle bin: restored later, it must still have its industry.
        let mut gone = account("戊", "Green energy", "referral");
        gone.push(("deleted_at", now.into()));
        let e = record(&conn, "accounts", admin_id, now, gone).await;
        let o = record(
            &conn,
            "opportunities",
            admin_id,
            now,
            vec![
                ("name", "ERP".into()),
                ("account_id", a.into()),
                ("status", "open".into()),
                ("source", "existing_customer".into()),
            ],
        )
        .await;
        let view = |name: &'static str, entity: &'static str, query: &'static str| {
            vec![
                ("id", Uuid::now_v7().into()),
                ("user_id", admin_id.into()),
                ("entity", entity.into()),
                ("name", name.into()),
                ("query", query.into()),
                ("created_at", now.into()),
            ]
        };
        insert(
            &conn,
            "saved_views",
            view(
                "展会软件",
                "account",
                "ff=source&fo=eq&fv=trade_show&ff=industry&fo=eq&fv=%E8%BD%AF%E4%BB%B6&cols=name%2Cindustry",
            ),
        )
        .await;
        insert(
            &conn,
            "saved_views",
            view(
                "老客户",
                "opportunity",
                "ff=source&fo=in&fv=existing_customer%2Creferral",
            ),
        )
        .await;
        Migrator::up(&conn, None).await.unwrap();
        conn.close().await.unwrap();

        let core = fresh.core().await;
        let user = users::find_by_email(&core.db, "boss@example.com")
            .await
            .unwrap()
            .unwrap();
        let actor = users::actor_for(&core, &user).await.unwrap();
        // Every former source, named as the translations named it, in its order.
        let sources = names_of(&core, &actor, &SOURCES).await;
        assert_eq!(sources.len(), 9, "{backend:?}");
        assert_eq!(sources[0], json!({"en": "Website", "zh-CN": "网站"}));
        // One industry per distinct text, the most used first, named by it in both languages.
        assert_eq!(
            names_of(&core, &actor, &INDUSTRIES).await,
            vec![
                json!({"en": "软件", "zh-CN": "软件"}),
                json!({"en": "Green energy", "zh-CN": "Green energy"}),
                json!({"en": "物流", "zh-CN": "物流"}),
            ]
        );
        let accounts = core.records(&ACCOUNTS);
        let get = |id: Uuid| {
            let accounts = &accounts;
            let actor = &actor;
            async move { Value::Object(accounts.get(actor, id).await.unwrap()) }
        };
        for (id, industry, source) in [
            (a, json!("软件"), json!("展会")),
            (b, json!("软件"), json!("网站")),
            (c, json!("物流"), Value::Null),
            (d, Value::Null, Value::Null),
        ] {
            let rec = get(id).await;
            assert_eq!(
                name_at(&core, &actor, &INDUSTRIES, &rec).await["zh-CN"],
                industry,
                "{backend:?} {}",
                rec["name"]
            );
            assert_eq!(
                name_at(&core, &actor, &SOURCES, &rec).await["zh-CN"],
                source,
                "{backend:?} {}",
                rec["name"]
            );
        }
        let restored = Value::Object(accounts.restore(&actor, e).await.unwrap());
        assert_eq!(
            name_at(&core, &actor, &INDUSTRIES, &restored).await["en"],
            "Green energy"
        );
        assert_eq!(
            name_at(&core, &actor, &SOURCES, &restored).await["en"],
            "Referral"
        );
        let opp = Value::Object(core.records(&OPPORTUNITIES).get(&actor, o).await.unwrap());
        assert_eq!(
            name_at(&core, &actor, &SOURCES, &opp).await,
            json!({"en": "Existing customer", "zh-CN": "老客户"})
        );

        // Filters on the references find what the texts found.
        let software = get(a).await["industry_id"].clone();
        let found = accounts
            .list(
                &actor,
                &ListQuery {
                    filter: Some(Filter::Cond {
                        field: "industry_id".into(),
                        op: FilterOp::Eq,
                        value: software.clone(),
                    }),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut ids: Vec<&str> = found
            .items
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        ids.sort();
        let mut want = vec![a.to_string(), b.to_string()];
        want.sort();
        assert_eq!(ids, want);

        // Saved views now name the references and their ids.
        let trade_show = get(a).await["source_id"].as_str().unwrap().to_string();
        let views = saved_views::list(&core.db, &actor, "account")
            .await
            .unwrap();
        // (and, since m0018, keep the filter, sort and columns as such).
        assert_eq!(
            views[0].filter,
            json!({"and": [
                {"field": "source_id", "op": "eq", "value": trade_show},
                {"field": "industry_id", "op": "eq", "value": software.as_str().unwrap()}
            ]})
        );
        assert_eq!(views[0].columns, ["name", "industry_id"]);
        let views = saved_views::list(&core.db, &actor, "opportunity")
            .await
            .unwrap();
        let existing = opp["source_id"].as_str().unwrap();
        let referral = restored["source_id"].as_str().unwrap();
        let mut ids = [existing, referral];
        ids.sort();
        let cond = &views[0].filter["and"][0];
        assert_eq!(cond["field"], "source_id");
        assert_eq!(cond["op"], "in");
        let mut got: Vec<&str> = cond["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        got.sort();
        assert_eq!(got, ids);

        // The lists were kept, so no defaults are added to them.
        assert!(guanxi_core::setup::install_defaults(&core).await.unwrap());
        assert_eq!(names_of(&core, &actor, &INDUSTRIES).await.len(), 3);
        assert_eq!(names_of(&core, &actor, &SOURCES).await.len(), 9);
        fresh.cleanup(core).await;
    }
}

/// A new installation gets the default sources and industries once its first administrator
/// exists, once only, even when several servers start together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_are_installed_once() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        assert!(!guanxi_core::setup::install_defaults(&core).await.unwrap());
        let actor = crate::support::admin(&core, "first@example.com").await;
        // Separate connection pools, as separate servers have.
        let others = [fresh.core().await, fresh.core().await, fresh.core().await];
        let (x, y, z) = tokio::join!(
            guanxi_core::setup::install_defaults(&others[0]),
            guanxi_core::setup::install_defaults(&others[1]),
            guanxi_core::setup::install_defaults(&others[2]),
        );
        for ok in [x, y, z] {
            // On SQLite a server that lost the race may be refused; it never duplicates.
            if backend == Backend::Postgres {
                assert!(ok.unwrap());
            }
        }
        assert!(guanxi_core::setup::install_defaults(&core).await.unwrap());
        let industries = names_of(&core, &actor, &INDUSTRIES).await;
        assert_eq!(industries.len(), 11, "{backend:?}");
        assert_eq!(
            industries[0],
            json!({"en": "Manufacturing", "zh-CN": "制造业"})
        );
        assert_eq!(names_of(&core, &actor, &SOURCES).await.len(), 9);
        for other in others {
            other.db.close().await.unwrap();
        }
        fresh.cleanup(core).await;
    }
}

/// How many migrations come before contacts had a whole name and names had pieces.
fn before_name_grams() -> u32 {
    Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0006_name_grams")
        .expect("the name pieces migration") as u32
}

/// A search entry as earlier versions wrote it, without the pieces of names: its document the
/// title's characters, words and pinyin, as the search box looks them up.
async fn entry_without_pieces(
    conn: &DatabaseConnection,
    backend: Backend,
    entity: &str,
    id: Uuid,
    owner: Uuid,
    title: &str,
) {
    let doc = guanxi_core::search::text::tokens(title)
        .into_iter()
        .chain(guanxi_core::search::text::pinyin_tokens(title))
        .collect::<Vec<_>>();
    let doc = match backend {
        Backend::Sqlite => doc.join(" "),
        Backend::Postgres => doc
            .iter()
            .enumerate()
            .map(|(i, t)| format!("'{t}':{}", i + 1))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO search_entries (record_id, entity, owner_id, title, doc) VALUES (?, ?, ?, ?, ?)"
        }
        Backend::Postgres => {
            "INSERT INTO search_entries (record_id, entity, owner_id, title, doc) VALUES ($1, $2, $3, $4, CAST($5 AS tsvector))"
        }
    };
    db::raw_execute(
        conn,
        sql,
        vec![
            id.into(),
            entity.into(),
            owner.into(),
            title.into(),
            doc.into(),
        ],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn contacts_get_whole_names_and_names_get_pieces() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let conn = connect(&fresh, backend).await;
        Migrator::up(&conn, Some(before_name_grams()))
            .await
            .unwrap();
        let now = guanxi_core::now();
        let admin_id = insert_boss(&conn).await;
        let mut contacts = Vec::new();
        for (family, given) in [("王", "芳"), ("Smith", "John"), ("", "Madonna")] {
            let id = record(
                &conn,
                "contacts",
                admin_id,
                now,
                vec![("family_name", family.into()), ("given_name", given.into())],
            )
            .await;
            entry_without_pieces(&conn, backend, "contact", id, admin_id, "").await;
            contacts.push(id);
        }
        let account = record(
            &conn,
            "accounts",
            admin_id,
            now,
            vec![("kind", "company".into()), ("name", "北京中太数据".into())],
        )
        .await;
        entry_without_pieces(&conn, backend, "account", account, admin_id, "北京中太数据").await;
        // An older record, created so late in its second that SQLite's date functions round
        // it into the next one, and an entry whose record is gone.
        let older_at = chrono::DateTime::from_timestamp_micros(
            (now.timestamp() - 86_400) * 1_000_000 + 999_700,
        )
        .unwrap();
        let older = record(
            &conn,
            "accounts",
            admin_id,
            older_at,
            vec![("kind", "company".into()), ("name", "上海中太".into())],
        )
        .await;
        entry_without_pieces(&conn, backend, "account", older, admin_id, "上海中太").await;
        entry_without_pieces(&conn, backend, "account", Uuid::now_v7(), admin_id, "x").await;
        Migrator::up(&conn, None).await.unwrap();
        if backend == Backend::Sqlite {
            // Entries are keyed by their records' creation milliseconds (m0009).
            let rows = db::raw_query(
                &conn,
                "SELECT rowid AS k, record_id FROM search_entries ORDER BY rowid",
                vec![],
            )
            .await
            .unwrap();
            let keys: Vec<(i64, Uuid)> = rows
                .iter()
                .map(|r| {
                    (
                        db::get_i64(r, "k").unwrap(),
                        db::get_uuid(r, "record_id").unwrap(),
                    )
                })
                .collect();
            let slot = guanxi_core::search::order::slot(now).unwrap();
            assert_eq!(keys.len(), 6);
            assert!(keys[0].0 < 0, "the entry of no record has no order");
            assert_eq!(keys[1].1, older);
            let older_slot = guanxi_core::search::order::slot(older_at);
            assert_eq!(Some(keys[1].0), older_slot);
            let mut rest: Vec<i64> = keys[2..].iter().map(|k| k.0).collect();
            rest.sort();
            assert_eq!(rest, (slot..slot + 4).collect::<Vec<_>>());
        }
        conn.close().await.unwrap();

        let core = fresh.core().await;
        let actor = crate::support::admin(&core, "boss@example.com").await;
        let names = |def: &'static EntityDef, text: &'static str| {
            let core = &core;
            let actor = &actor;
            async move {
                let filter = json!({"field": "name", "op": "contains", "value": text});
                core.records(def)
                    .list(
                        actor,
                        &ListQuery {
                            filter: Some(Filter::from_json(&filter).unwrap()),
                            limit: 10,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|r| r["name"].clone())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            names(&CONTACTS, "王芳").await,
            vec![json!("王芳")],
            "{backend:?}"
        );
        assert_eq!(names(&CONTACTS, "n sm").await, vec![json!("John Smith")]);
        assert_eq!(names(&CONTACTS, "adon").await, vec![json!("Madonna")]);
        assert_eq!(
            names(&ACCOUNTS, "中太").await,
            vec![json!("北京中太数据"), json!("上海中太")]
        );
        // The search box finds them as typed a few letters at a time, from an index built
        // again with prefix indexes on SQLite (m0021) and its narrow copy with entities (m0020).
        if backend == Backend::Sqlite {
            let rows = db::raw_query(
                &core.db.reader().clone(),
                "SELECT sql FROM sqlite_master WHERE name = 'search_fts'",
                vec![],
            )
            .await
            .unwrap();
            let sql = db::get_string(&rows[0], "sql").unwrap();
            assert!(sql.contains("prefix='2 3 4 5'"), "{sql}");
        }
        for typed in ["zhon", "zhongtai", "中太"] {
            let hits = guanxi_core::search::search(&core.db, &actor, typed, &[&ACCOUNTS], 10)
                .await
                .unwrap();
            let mut titles: Vec<&str> = hits.iter().map(|h| h.title.as_str()).collect();
            titles.sort();
            assert_eq!(titles, ["上海中太", "北京中太数据"], "{backend:?} {typed}");
        }
        fresh.cleanup(core).await;
    }
}

/// On PostgreSQL every sort index keeps NULLs where lists want them (first ascending), so that
/// it serves a list's order read either way: the board's columns among them, which the indexes
/// of m0029 and m0034 had left sorting every deal of a stage.
#[tokio::test]
async fn sort_indexes_keep_blanks_where_lists_put_them() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let conn = core.db.reader().clone();
        let left = guanxi_core::db::migrations::sort_indexes_with_nulls_last(&conn)
            .await
            .unwrap();
        assert!(left.is_empty(), "{backend:?}: {left:?}");
        if backend == Backend::Postgres {
            let rows = db::raw_query(
                &conn,
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_opportunities_stage_id_close_date_id'",
                vec![],
            )
            .await
            .unwrap();
            let def = db::get_string(&rows[0], "indexdef").unwrap();
            assert!(def.contains("close_date NULLS FIRST, id"), "{def}");
            // Read in its order both ways: no sort of the stage's deals.
            for order in ["ASC NULLS FIRST, id ASC", "DESC NULLS LAST, id DESC"] {
                let plan = db::raw_query(
                    &conn,
                    &format!(
                        "EXPLAIN SELECT id FROM opportunities WHERE stage_id = \
                         '00000000-0000-0000-0000-000000000001' ORDER BY close_date {order} LIMIT 51"
                    ),
                    vec![],
                )
                .await
                .unwrap();
                let text: Vec<String> = plan
                    .iter()
                    .map(|r| db::get_string(r, "QUERY PLAN").unwrap())
                    .collect();
                assert!(
                    !text.iter().any(|l| l.contains("Sort")),
                    "{order}: {text:#?}"
                );
            }
        }
        fresh.cleanup(core).await;
    }
}

/// Every board reads a column through an index on (column, date, id), so that which line or
/// dates a column asks for cannot change how it is read: the board binds them without letting
/// SQLite's planner look at them (`FilterContext::bound`), which would plan each column's
/// statement again on every board.
#[tokio::test]
async fn every_board_keeps_the_index_its_columns_are_read_by() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let conn = core.db.reader().clone();
        let mut boards = 0;
        for def in core.registry.all() {
            let Some(board) = def.board else { continue };
            boards += 1;
            let name = format!("ix_{}_{}_{}_id", def.table, board.column, board.closed_on);
            let sql = match backend {
                Backend::Sqlite => format!(
                    "SELECT name AS n FROM sqlite_master WHERE type = 'index' AND name = '{name}'"
                ),
                Backend::Postgres => {
                    format!("SELECT indexname AS n FROM pg_indexes WHERE indexname = '{name}'")
                }
            };
            let rows = db::raw_query(&conn, &sql, vec![]).await.unwrap();
            assert_eq!(
                rows.len(),
                1,
                "{backend:?}: {} has no index {name}",
                def.name
            );
        }
        assert!(boards > 0, "no entity declares a board");
        fresh.cleanup(core).await;
    }
}
