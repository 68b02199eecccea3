//! Chinese text sorts by pinyin (`records::sort_key`), with the readings places are known by,
//! the same on SQLite and PostgreSQL, page by page through the keyset cursors; and a database
//! whose rows were written before the sort keys existed gets them when it is migrated.
//!
//! The expected orders are written out here, not worked out with the key function.

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::areas::sales::OPPORTUNITIES;
use guanxi_core::authz::Actor;
use guanxi_core::db::migrations::Migrator;
use guanxi_core::db::{self, Backend, col, get_string, raw_query};
use guanxi_core::identity::users;
use guanxi_core::records::{Filter, FilterOp, ListQuery, sort_key, values};
use guanxi_core::{Core, EntityDef};
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

/// Account names in the order a list sorted by name shows them: digits first, then Chinese by
/// pinyin among Latin text letter by letter (长 cháng, 重 chóng, 厦 xià as the places read).
/// The two alike are told apart by their ids.
const ACCOUNTS_IN_ORDER: [&str; 12] = [
    "3M中国有限公司",
    "阿里巴巴集团",
    "Apple Inc.",
    "Bei Jing Trading",
    "北京字节跳动科技有限公司",
    "长沙银行",
    "重庆长安汽车股份有限公司",
    "上海浦东发展银行",
    "厦门航空有限公司",
    "厦门航空有限公司",
    "xiamen logistics",
    "Zebra Ltd",
];

/// The order the accounts are created in.
const CREATED: [usize; 12] = [8, 7, 11, 6, 5, 1, 9, 4, 0, 10, 3, 2];

/// Contacts (family name, given name) and the family names in sorted order: blanks first, then
/// 李 li, 欧阳 ouyang, Smith, 曾 zēng (as a surname reads), 张 zhang.
const CONTACT_NAMES: [(&str, &str); 7] = [
    ("张", "三"),
    ("", "Anna"),
    ("曾", "伟"),
    ("Smith", "John"),
    ("李", "四"),
    ("", "小明"),
    ("欧阳", "娜娜"),
];
const FAMILY_NAMES_IN_ORDER: [&str; 5] = ["李", "欧阳", "Smith", "曾", "张"];
/// Whole names (`name`): English given name first, Chinese family name first.
const WHOLE_NAMES_IN_ORDER: [&str; 7] = [
    "Anna",
    "John Smith",
    "李四",
    "欧阳娜娜",
    "小明",
    "曾伟",
    "张三",
];

fn id_of(rec: &serde_json::Map<String, Value>) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().expect("id")).expect("uuid")
}

/// Every record of `ids` in sort `sort`, `limit` a page, following the cursors; each page's
/// records checked to show no sort key.
async fn page_through(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    sort: &str,
    limit: u64,
    ids: &[Uuid],
) -> Vec<serde_json::Map<String, Value>> {
    let only = Filter::Cond {
        field: "id".into(),
        op: FilterOp::In,
        value: json!(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()),
    };
    let mut got = Vec::new();
    let mut cursor = None;
    for _ in 0..=ids.len() {
        let q = ListQuery {
            filter: Some(only.clone()),
            sort: Some(sort.into()),
            cursor: cursor.clone(),
            limit,
            ..Default::default()
        };
        let page = core
            .records(def)
            .list(actor, &q)
            .await
            .unwrap_or_else(|e| panic!("{sort}: {e}"));
        assert!(page.items.len() as u64 <= limit);
        // The page the API writes straight from the rows shows the same records, keys unshown.
        let rows = core.records(def).list_rows(actor, &q).await.unwrap();
        let shown = serde_json::to_value(rows.items()).unwrap();
        assert_eq!(shown, serde_json::to_value(&page.items).unwrap());
        for rec in &page.items {
            assert!(
                rec.keys().all(|k| !k.ends_with("_sort")),
                "{sort}: a record shows its sort key: {rec:?}"
            );
        }
        got.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            return got;
        }
    }
    panic!("{sort}: the cursors do not end");
}

fn texts(recs: &[serde_json::Map<String, Value>], field: &str) -> Vec<String> {
    recs.iter()
        .map(|r| r[field].as_str().unwrap_or("").to_string())
        .collect()
}

/// Checks `sort` and its reverse through pages of 2, 1 and 3 (so every record is the last of a
/// page, the cursor's row, in some walk) and one page of all.
async fn check_sort(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    field: &str,
    ids: &[Uuid],
    want: &[Uuid],
    ctx: &str,
) {
    let mut reversed = want.to_vec();
    reversed.reverse();
    for (sort, want) in [
        (field.to_string(), want),
        (format!("-{field}"), &reversed[..]),
    ] {
        for limit in [2, 1, 3, 100] {
            let got: Vec<Uuid> = page_through(core, actor, def, &sort, limit, ids)
                .await
                .iter()
                .map(id_of)
                .collect();
            assert_eq!(got, want, "{ctx} sort={sort} limit={limit}");
        }
    }
}

#[tokio::test]
async fn names_sort_by_pinyin_through_every_cursor_page() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "pinyin@example.com").await;
        let ctx = format!("{backend:?}");

        // Accounts, created in a scrambled order.
        let accounts = core.records(&ACCOUNTS);
        let mut by_place: Vec<Option<Uuid>> = vec![None; ACCOUNTS_IN_ORDER.len()];
        for i in CREATED {
            let rec = accounts
                .create(
                    &actor,
                    &json!({"kind": "company", "name": ACCOUNTS_IN_ORDER[i], "allow_duplicate": true}),
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx} {}: {e}", ACCOUNTS_IN_ORDER[i]));
            by_place[i] = Some(id_of(&rec));
        }
        let mut want: Vec<Uuid> = by_place.into_iter().map(Option::unwrap).collect();
        // The two alike: the smaller id first.
        if want[8] > want[9] {
            want.swap(8, 9);
        }
        let ids = want.clone();
        check_sort(&core, &actor, &ACCOUNTS, "name", &ids, &want, &ctx).await;
        let names = texts(
            &page_through(&core, &actor, &ACCOUNTS, "name", 2, &ids).await,
            "name",
        );
        assert_eq!(names, ACCOUNTS_IN_ORDER, "{ctx}");

        // An update writes the new name's key: 阿波罗 (a-bo-luo) comes before 阿里巴巴.
        let zebra = want[11];
        accounts
            .update(
                &actor,
                zebra,
                None,
                &json!({"name": "阿波罗科技", "allow_duplicate": true}),
            )
            .await
            .unwrap();
        let names = texts(
            &page_through(&core, &actor, &ACCOUNTS, "name", 2, &ids).await,
            "name",
        );
        assert_eq!(
            names[..3],
            ["3M中国有限公司", "阿波罗科技", "阿里巴巴集团"],
            "{ctx}"
        );

        // Contacts: family names with blanks, which come first ascending and last descending,
        // and the whole names they make.
        let contacts = core.records(&CONTACTS);
        let mut made = Vec::new();
        for (family, given) in CONTACT_NAMES {
            let rec = contacts
                .create(
                    &actor,
                    &json!({"family_name": family, "given_name": given, "allow_duplicate": true}),
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx} {family}{given}: {e}"));
            made.push((
                id_of(&rec),
                family,
                rec["name"].as_str().unwrap().to_string(),
            ));
        }
        let ids: Vec<Uuid> = made.iter().map(|m| m.0).collect();
        let mut blanks: Vec<Uuid> = made
            .iter()
            .filter(|m| m.1.is_empty())
            .map(|m| m.0)
            .collect();
        blanks.sort();
        let mut want = blanks;
        for f in FAMILY_NAMES_IN_ORDER {
            want.extend(made.iter().filter(|m| m.1 == f).map(|m| m.0));
        }
        check_sort(&core, &actor, &CONTACTS, "family_name", &ids, &want, &ctx).await;
        let want: Vec<Uuid> = WHOLE_NAMES_IN_ORDER
            .iter()
            .map(|n| made.iter().find(|m| m.2 == *n).expect(n).0)
            .collect();
        check_sort(&core, &actor, &CONTACTS, "name", &ids, &want, &ctx).await;

        // What the entity reads back: no sort key among its fields.
        let rec = accounts.get(&actor, zebra).await.unwrap();
        assert!(!rec.contains_key("name_sort"), "{ctx}: {rec:?}");
        fresh.cleanup(core).await;
    }
}

/// The sort key columns of the tables as migrated, and the sorts whose lists had an index.
const KEY_INDEXES: [(&str, &str); 4] = [
    ("accounts", "name"),
    ("contacts", "name"),
    ("contacts", "family_name"),
    ("opportunities", "name"),
];

/// Index names of `table`.
async fn indexes<C: ConnectionTrait>(conn: &C, backend: Backend, table: &str) -> Vec<String> {
    let rows = match backend {
        Backend::Sqlite => raw_query(
            conn,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            vec![table.into()],
        ),
        Backend::Postgres => raw_query(
            conn,
            "SELECT indexname::text AS name FROM pg_indexes WHERE tablename = $1",
            vec![table.into()],
        ),
    }
    .await
    .unwrap();
    rows.iter()
        .map(|r| get_string(r, "name").unwrap())
        .collect()
}

/// Every sortable text field of every entity has its key column, ordered by bytes on both
/// backends (`COLLATE "C"` on PostgreSQL, whatever the database's locale); the sorts that had
/// an index have one on (key, id).
#[tokio::test]
async fn key_columns_compare_bytes_and_the_sorts_keep_their_indexes() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let conn = core.db.reader();
        for def in core.registry.all() {
            for f in def.fields.iter().filter(|f| values::has_sort_key(f)) {
                let column = values::sort_key_column(f.column);
                let ctx = format!("{backend:?} {}.{column}", def.table);
                let sqlite = format!(
                    "SELECT \"notnull\" AS not_null, '' AS collation \
                     FROM pragma_table_info('{}') WHERE name = ?",
                    def.table
                );
                let rows = match backend {
                    Backend::Sqlite => raw_query(conn, &sqlite, vec![column.clone().into()]),
                    Backend::Postgres => raw_query(
                        conn,
                        "SELECT CAST(CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS bigint) AS not_null, \
                         COALESCE(collation_name::text, '') AS collation \
                         FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1 \
                         AND column_name = $2",
                        vec![def.table.into(), column.clone().into()],
                    ),
                }
                .await
                .unwrap();
                assert_eq!(rows.len(), 1, "{ctx}: the column exists");
                assert_eq!(db::get_i64(&rows[0], "not_null").unwrap(), 1, "{ctx}");
                if backend == Backend::Postgres {
                    assert_eq!(get_string(&rows[0], "collation").unwrap(), "C", "{ctx}");
                }
            }
        }
        for (table, column) in KEY_INDEXES {
            let have = indexes(conn, backend, table).await;
            assert!(
                have.contains(&format!("ix_{table}_{column}_sort_id")),
                "{backend:?} {table}: {have:?}"
            );
        }
        // The indexes on the texts themselves serve the `eq` filter and stay.
        assert!(
            indexes(conn, backend, "accounts")
                .await
                .contains(&"ix_accounts_name_id".to_string())
        );
        fresh.cleanup(core).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Upgrading a database with rows
// ---------------------------------------------------------------------------------------------

/// How many migrations come before the sort keys.
fn before_sort_keys() -> u32 {
    Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0017_pinyin_sort")
        .expect("the sort key migration") as u32
}

async fn connect(fresh: &Fresh, backend: Backend) -> DatabaseConnection {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", fresh.url),
        Backend::Postgres => fresh.url.clone(),
    };
    Database::connect(url).await.unwrap()
}

/// Rows of `table` as the earlier schema stored them: the record columns and `fields`, whose
/// names are the same for every row. Their ids, in order.
async fn insert_rows(
    conn: &DatabaseConnection,
    table: &str,
    owner: Uuid,
    fields: &[&str],
    rows: Vec<Vec<SimpleExpr>>,
) -> Vec<Uuid> {
    let now = guanxi_core::now();
    let mut ids = Vec::new();
    for chunk in rows.chunks(1000) {
        let mut q = Query::insert();
        q.into_table(col(table)).columns(
            ["id", "owner_id", "created_at", "updated_at"]
                .iter()
                .chain(fields)
                .map(|c| col(c)),
        );
        for values in chunk {
            let id = Uuid::now_v7();
            ids.push(id);
            let mut all: Vec<SimpleExpr> = vec![id.into(), owner.into(), now.into(), now.into()];
            all.extend(values.iter().cloned());
            q.values_panic(all);
        }
        db::insert(conn, &q).await.unwrap();
    }
    ids
}

/// Rows the earlier schema holds, more than one batch of them, get their keys; lists sort by
/// them after the upgrade, the recycle bin's rows included.
#[tokio::test]
async fn rows_written_before_the_keys_get_them_on_upgrade() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let conn = connect(&fresh, backend).await;
        Migrator::up(&conn, Some(before_sort_keys())).await.unwrap();
        let ctx = format!("{backend:?}");

        let boss = Uuid::now_v7();
        let now = guanxi_core::now();
        let mut q = Query::insert();
        q.into_table(col("users"))
            .columns(["id", "email", "name", "role", "created_at", "updated_at"].map(col))
            .values_panic([
                boss.into(),
                "boss@example.com".into(),
                "Boss".into(),
                "admin".into(),
                now.into(),
                now.into(),
            ]);
        db::insert(&conn, &q).await.unwrap();

        let mut named = Vec::new();
        for i in CREATED {
            let name = ACCOUNTS_IN_ORDER[i];
            let id = insert_rows(
                &conn,
                "accounts",
                boss,
                &["kind", "name"],
                vec![vec!["company".into(), name.into()]],
            )
            .await[0];
            named.push((i, id));
        }
        // A batch and a half more, so the upgrade reads several batches.
        let many: Vec<Vec<SimpleExpr>> = (0..3100)
            .map(|i| vec!["company".into(), format!("批量客户{i:04}").into()])
            .collect();
        insert_rows(&conn, "accounts", boss, &["kind", "name"], many).await;
        // In the recycle bin.
        let binned = insert_rows(
            &conn,
            "accounts",
            boss,
            &["kind", "name", "deleted_at"],
            vec![vec!["company".into(), "重庆回收站".into(), now.into()]],
        )
        .await[0];
        let contact_rows: Vec<Vec<SimpleExpr>> = CONTACT_NAMES
            .iter()
            .map(|(f, g)| {
                let whole = guanxi_core::areas::customers::contacts::whole_name(f, g);
                vec![
                    (*f).into(),
                    (*g).into(),
                    whole.into(),
                    "董事长".into(),
                    "".into(),
                ]
            })
            .collect();
        let contacts = insert_rows(
            &conn,
            "contacts",
            boss,
            &["family_name", "given_name", "name", "title", "department"],
            contact_rows,
        )
        .await;
        let opportunities = insert_rows(
            &conn,
            "opportunities",
            boss,
            &["name", "status"],
            ["上海项目", "长沙项目", "北京项目"]
                .iter()
                .map(|n| vec![(*n).into(), "open".into()])
                .collect(),
        )
        .await;

        Migrator::up(&conn, None).await.unwrap();

        // Every key is the key of its text, blank for blank text.
        for (table, columns) in [
            ("accounts", &["name"][..]),
            (
                "contacts",
                &["name", "family_name", "given_name", "title", "department"],
            ),
            ("opportunities", &["name"]),
        ] {
            let select: Vec<String> = columns
                .iter()
                .map(|c| format!("{c}, {c}_sort AS {c}__key"))
                .collect();
            let rows = raw_query(
                &conn,
                &format!("SELECT {} FROM {table}", select.join(", ")),
                vec![],
            )
            .await
            .unwrap();
            assert!(!rows.is_empty());
            for r in &rows {
                for c in columns {
                    let text = get_string(r, c).unwrap();
                    let key = get_string(r, &format!("{c}__key")).unwrap();
                    assert_eq!(key, sort_key::key(&text), "{ctx} {table}.{c} {text}");
                }
            }
            if table == "accounts" {
                assert_eq!(rows.len(), 12 + 3100 + 1, "{ctx}");
            }
        }
        conn.close().await.unwrap();

        let core = fresh.core().await;
        let user = users::find_by_email(&core.db, "boss@example.com")
            .await
            .unwrap()
            .unwrap();
        let actor = users::actor_for(&core, &user).await.unwrap();
        let mut want: Vec<(usize, Uuid)> = named.clone();
        want.sort();
        let mut want: Vec<Uuid> = want.into_iter().map(|(_, id)| id).collect();
        if want[8] > want[9] {
            want.swap(8, 9);
        }
        let ids = want.clone();
        check_sort(&core, &actor, &ACCOUNTS, "name", &ids, &want, &ctx).await;
        let names = texts(
            &page_through(&core, &actor, &OPPORTUNITIES, "name", 2, &opportunities).await,
            "name",
        );
        assert_eq!(names, ["北京项目", "长沙项目", "上海项目"], "{ctx}");
        let names = texts(
            &page_through(&core, &actor, &CONTACTS, "family_name", 2, &contacts).await,
            "family_name",
        );
        assert_eq!(names, ["", "", "李", "欧阳", "Smith", "曾", "张"], "{ctx}");
        // The recycle bin sorts by the keys too.
        let bin = core
            .records(&ACCOUNTS)
            .list(
                &actor,
                &ListQuery {
                    sort: Some("name".into()),
                    deleted: true,
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(bin.items.iter().map(id_of).collect::<Vec<_>>(), [binned]);
        fresh.cleanup(core).await;
    }
}
