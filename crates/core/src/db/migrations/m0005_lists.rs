//! Sources and industries become lists administrators keep, with a name per language, like lost
//! reasons: accounts and opportunities refer to them instead of holding a fixed source code
//! (`web`, `referral`, …) and a free industry text.
//!
//! Nothing is lost: each former source code becomes a row named as the translation files named
//! it, each distinct industry text (in live and deleted accounts alike) a row named by that text
//! in both languages, and every record points to its row. Saved views that filtered, showed or
//! sorted by the old fields are rewritten to the new ones. Audit rows keep the old values: they
//! record what was written then.
//!
//! A database without users (a new installation) gets no rows here: a row needs an owner, and
//! the defaults are filled, audited, by `setup::install_defaults` once there is an administrator.
//! The rows made here have no creation audit row: nobody created them, the upgrade did.

use std::collections::HashMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::schema::*;
use crate::areas::customers::{INDUSTRIES, SOURCES};
use crate::db::{self, col, get_string, get_uuid};
use crate::error::CoreError;
use crate::records::{EntityDef, JsonMap};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_lists"
    }
}

/// The former source codes and their labels in the translation files when this migration was
/// written (English, Chinese), in their order. Frozen here: the list's defaults may change later,
/// what the old codes meant may not.
const FORMER_SOURCES: [(&str, &str, &str); 9] = [
    ("web", "Website", "网站"),
    ("referral", "Referral", "转介绍"),
    ("trade_show", "Trade show", "展会"),
    ("advertising", "Advertising", "广告"),
    ("cold_call", "Cold call", "电话陌拜"),
    ("partner", "Partner", "合作伙伴"),
    ("social_media", "Social media", "社交媒体"),
    ("existing_customer", "Existing customer", "老客户"),
    ("other", "Other", "其他"),
];

/// (table, old text column, new reference column, list table): the fields that change.
const MOVES: [(&str, &str, &str, &str); 3] = [
    ("accounts", "source", "source_id", "sources"),
    ("opportunities", "source", "source_id", "sources"),
    ("accounts", "industry", "industry_id", "industries"),
];

/// Saved views of these entities name the fields that change.
const VIEW_ENTITIES: [&str; 2] = ["account", "opportunity"];

fn err(e: CoreError) -> DbErr {
    DbErr::Migration(e.to_string())
}

async fn run<S: sea_orm_migration::sea_orm::StatementBuilder>(
    txn: &DatabaseTransaction,
    s: &S,
) -> Result<(), DbErr> {
    txn.execute(txn.get_database_backend().build(s)).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs migrations outside a transaction; this one rewrites data and must not
        // stop half-way. (On PostgreSQL this is a savepoint in the migrator's transaction.)
        let txn = m.get_connection().begin().await?;
        for table in ["sources", "industries"] {
            create_list_table(&txn, table).await?;
        }
        for (table, _, new, list) in MOVES {
            add_reference(&txn, table, new, list).await?;
        }
        let owner = first_owner(&txn).await?;
        let (sources, industries) = match owner {
            Some(owner) => (
                fill_sources(&txn, owner).await?,
                fill_industries(&txn, owner).await?,
            ),
            // No users, so no records or views to convert either.
            None => (HashMap::new(), Vec::new()),
        };
        for (table, old, new, list) in MOVES {
            let ids: Vec<(String, Uuid)> = if list == "sources" {
                sources.iter().map(|(k, v)| (k.clone(), v.id)).collect()
            } else {
                industries.iter().map(|i| (i.text.clone(), i.id)).collect()
            };
            for (value, id) in ids {
                let mut u = Query::update();
                u.table(col(table))
                    .value(col(new), id)
                    .and_where(Expr::col(col(old)).eq(value));
                db::update(&txn, &u).await.map_err(err)?;
            }
            run(
                &txn,
                &Table::alter()
                    .table(col(table))
                    .drop_column(col(old))
                    .to_owned(),
            )
            .await?;
        }
        rewrite_saved_views(&txn, &sources, &industries).await?;
        txn.commit().await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the lists migration cannot be reverted".into(),
        ))
    }
}

/// A list table shaped like lost reasons: a name per language, an order, a description, and the
/// columns of every record.
async fn create_list_table(txn: &DatabaseTransaction, table: &str) -> Result<(), DbErr> {
    let mut t = Table::create();
    t.table(name(table))
        .col(uuid_pk())
        .col(json("name", "{}"))
        .col(big_null("position"))
        .col(long_text("description"));
    record_columns(&mut t);
    t.foreign_key(&mut fk(
        table,
        "owner_id",
        "users",
        ForeignKeyAction::Restrict,
    ));
    run(txn, &t.to_owned()).await?;
    for cols in [
        &["position", "id"][..],
        &["created_at", "id"],
        &["updated_at", "id"],
    ] {
        run(txn, &index(table, cols)).await?;
    }
    txn.execute_unprepared(&format!(
        "CREATE INDEX ix_{table}_deleted ON {table} (deleted_at) WHERE deleted_at IS NOT NULL"
    ))
    .await?;
    Ok(())
}

/// A nullable reference column, emptied when its row is purged (as lost reasons are), and
/// indexed for the filter and for the list row's related records.
async fn add_reference(
    txn: &DatabaseTransaction,
    table: &str,
    column: &str,
    to: &str,
) -> Result<(), DbErr> {
    // sea-query cannot add a foreign key to an existing SQLite table; both accept it inline.
    let ty = match txn.get_database_backend() {
        DbBackend::Postgres => "uuid",
        _ => "uuid_text",
    };
    txn.execute_unprepared(&format!(
        "ALTER TABLE {table} ADD COLUMN {column} {ty} NULL \
         CONSTRAINT fk_{table}_{column} REFERENCES {to} (id) ON DELETE SET NULL"
    ))
    .await?;
    run(txn, &index(table, &[column])).await
}

/// Who owns rows made here: the earliest active administrator, else the earliest active user,
/// else the earliest user (the owner `setup::install_defaults` would pick, where there is one).
async fn first_owner(txn: &DatabaseTransaction) -> Result<Option<Uuid>, DbErr> {
    let mut q = Query::select();
    q.columns([col("id"), col("role")])
        .expr_as(Expr::col(col("disabled")), col("off"))
        .from(col("users"))
        .order_by(col("created_at"), Order::Asc)
        .order_by(col("id"), Order::Asc);
    let rows = db::fetch_all(txn, &q).await.map_err(err)?;
    let mut users = Vec::new();
    for r in &rows {
        let off: bool = r.try_get("", "off")?;
        users.push((
            get_uuid(r, "id").map_err(err)?,
            get_string(r, "role").map_err(err)?,
            off,
        ));
    }
    Ok(users
        .iter()
        .find(|(_, role, off)| role == "admin" && !off)
        .or_else(|| users.iter().find(|(_, _, off)| !off))
        .or_else(|| users.first())
        .map(|(id, _, _)| *id))
}

/// A row of a new list, as the text that named it before and its names now.
#[derive(Debug, Clone)]
struct Item {
    id: Uuid,
    /// The old value: a source code, or an industry text.
    text: String,
    en: String,
    zh: String,
}

/// Writes one list row and its search entry, as the record service would.
async fn insert_item(
    txn: &DatabaseTransaction,
    def: &EntityDef,
    owner: Uuid,
    item: &Item,
    position: usize,
) -> Result<(), DbErr> {
    let now = crate::now();
    let name_json = json!({"en": item.en, "zh-CN": item.zh});
    let mut q = Query::insert();
    q.into_table(col(def.table))
        .columns(
            [
                "id",
                "name",
                "position",
                "description",
                "owner_id",
                "custom",
                "created_at",
                "updated_at",
                "version",
            ]
            .map(col),
        )
        .values_panic([
            item.id.into(),
            name_json.clone().into(),
            (position as i64).into(),
            "".into(),
            owner.into(),
            json!({}).into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]);
    db::insert(txn, &q).await.map_err(err)?;
    let mut rec = JsonMap::new();
    rec.insert("name".into(), name_json);
    rec.insert("position".into(), json!(position));
    crate::search::index(txn, def, item.id, owner, &rec)
        .await
        .map_err(err)
}

/// The distinct non-empty values of a text column, most used first.
async fn distinct_values(
    txn: &DatabaseTransaction,
    table: &str,
    column: &str,
) -> Result<Vec<(String, i64)>, DbErr> {
    let mut q = Query::select();
    q.expr_as(Expr::col(col(column)), col("v"))
        .expr_as(Expr::cust("COUNT(*)"), col("n"))
        .from(col(table))
        .and_where(Expr::col(col(column)).ne(""))
        .group_by_col(col(column));
    let mut out = Vec::new();
    for r in db::fetch_all(txn, &q).await.map_err(err)? {
        out.push((
            get_string(&r, "v").map_err(err)?,
            crate::db::get_i64(&r, "n").map_err(err)?,
        ));
    }
    Ok(out)
}

/// Every former source, and any other code found in the data (none passed validation, but
/// nothing stored may be dropped), keyed by code.
async fn fill_sources(
    txn: &DatabaseTransaction,
    owner: Uuid,
) -> Result<HashMap<String, Item>, DbErr> {
    let mut items: Vec<Item> = FORMER_SOURCES
        .iter()
        .map(|(code, en, zh)| Item {
            id: Uuid::now_v7(),
            text: String::from(*code),
            en: String::from(*en),
            zh: String::from(*zh),
        })
        .collect();
    for table in ["accounts", "opportunities"] {
        for (code, _) in distinct_values(txn, table, "source").await? {
            if !items.iter().any(|i| i.text == code) {
                items.push(Item {
                    id: Uuid::now_v7(),
                    text: code.clone(),
                    en: code.clone(),
                    zh: code,
                });
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        insert_item(txn, &SOURCES, owner, item, i + 1).await?;
    }
    Ok(items.into_iter().map(|i| (i.text.clone(), i)).collect())
}

/// One industry per distinct text, named by that text in both languages, the most used first.
async fn fill_industries(txn: &DatabaseTransaction, owner: Uuid) -> Result<Vec<Item>, DbErr> {
    let mut texts = distinct_values(txn, "accounts", "industry").await?;
    texts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut items = Vec::new();
    for (i, (text, _)) in texts.into_iter().enumerate() {
        let item = Item {
            id: Uuid::now_v7(),
            en: text.clone(),
            zh: text.clone(),
            text,
        };
        insert_item(txn, &INDUSTRIES, owner, &item, i + 1).await?;
        items.push(item);
    }
    Ok(items)
}

async fn rewrite_saved_views(
    txn: &DatabaseTransaction,
    sources: &HashMap<String, Item>,
    industries: &[Item],
) -> Result<(), DbErr> {
    let mut sources: Vec<Item> = sources.values().cloned().collect();
    sources.sort_by(|a, b| a.text.cmp(&b.text));
    let lists = Lists {
        sources: &sources,
        industries,
    };
    let mut q = Query::select();
    q.columns([col("id"), col("query")])
        .from(col("saved_views"))
        .and_where(Expr::col(col("entity")).is_in(VIEW_ENTITIES));
    for r in db::fetch_all(txn, &q).await.map_err(err)? {
        let query = get_string(&r, "query").map_err(err)?;
        let new = lists.rewrite_query(&query);
        if new != query {
            let mut u = Query::update();
            u.table(col("saved_views"))
                .value(col("query"), new)
                .and_where(Expr::col(col("id")).eq(get_uuid(&r, "id").map_err(err)?));
            db::update(txn, &u).await.map_err(err)?;
        }
    }
    Ok(())
}

/// The new lists, for rewriting saved views.
struct Lists<'a> {
    sources: &'a [Item],
    industries: &'a [Item],
}

/// How a saved view's condition on an old field reads on the new one.
struct Cond {
    field: String,
    op: String,
    value: Value,
}

impl Lists<'_> {
    /// The new field and the rows of its list for an old field name, if it changed.
    fn field(&self, old: &str) -> Option<(&'static str, &[Item])> {
        match old {
            "source" => Some(("source_id", self.sources)),
            "industry" => Some(("industry_id", self.industries)),
            _ => None,
        }
    }

    /// A condition on an old field as one on the reference: the rows whose old value met it.
    /// `eq` and `ne` stay as they are, with the id; other comparisons become `in` over the ids
    /// that match, so "industry contains 软件" still finds what it found. A value that matches
    /// no row becomes the nil id, which matches nothing, as the old value did.
    fn cond(&self, field: &str, op: &str, value: &Value) -> Option<Cond> {
        let (new, items) = self.field(field)?;
        if op == "empty" || op == "not_empty" {
            return Some(Cond {
                field: new.into(),
                op: op.into(),
                value: value.clone(),
            });
        }
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Source filters compared codes; people may have typed a label instead.
        let is = |i: &Item, v: &str| {
            i.text == v || (field == "source" && (i.en.eq_ignore_ascii_case(v) || i.zh == v))
        };
        let matching: Vec<String> = match op {
            "eq" | "ne" => items
                .iter()
                .filter(|i| is(i, &text(value)))
                .map(|i| i.id.to_string())
                .take(1)
                .collect(),
            "in" => {
                let wanted: Vec<String> = match value {
                    Value::Array(a) => a.iter().map(text).collect(),
                    v => text(v).split(',').map(|s| s.trim().to_string()).collect(),
                };
                items
                    .iter()
                    .filter(|i| wanted.iter().any(|w| is(i, w)))
                    .map(|i| i.id.to_string())
                    .collect()
            }
            _ => {
                let v = text(value).to_lowercase();
                items
                    .iter()
                    .filter(|i| {
                        let t = i.text.to_lowercase();
                        match op {
                            "contains" => t.contains(&v),
                            "starts_with" => t.starts_with(&v),
                            "lt" => t < v,
                            "lte" => t <= v,
                            "gt" => t > v,
                            "gte" => t >= v,
                            _ => false,
                        }
                    })
                    .map(|i| i.id.to_string())
                    .collect()
            }
        };
        let ids = if matching.is_empty() {
            vec![Uuid::nil().to_string()]
        } else {
            matching
        };
        let (op, value) = match op {
            "eq" | "ne" => (op.to_string(), Value::String(ids[0].clone())),
            _ => ("in".to_string(), json!(ids)),
        };
        Some(Cond {
            field: new.into(),
            op,
            value,
        })
    }

    /// A saved view's query string with the old fields replaced: the list page's filter rows
    /// (`ff`, `fo`, `fv`), columns (`cols`, `col`) and sort, and the API's `field[op]=value`
    /// and `filter=` JSON tree.
    fn rewrite_query(&self, query: &str) -> String {
        let mentions = |k: &str, v: &str| {
            let base = k.split_once('[').map_or(k, |(f, _)| f);
            self.field(base).is_some()
                || (["ff", "col", "sort"].contains(&k)
                    && self.field(v.trim_start_matches('-')).is_some())
                || (k == "cols" && v.split(',').any(|c| self.field(c).is_some()))
                || (k == "filter" && (v.contains("\"source\"") || v.contains("\"industry\"")))
        };
        // Others are kept byte for byte rather than re-encoded.
        if !form_urlencoded::parse(query.as_bytes()).any(|(k, v)| mentions(&k, &v)) {
            return query.to_string();
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let nth = |key: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let (ff, fo, fv) = (nth("ff"), nth("fo"), nth("fv"));
        // The list page reads the i-th `ff`, `fo` and `fv` as one row; rewrite rows whole.
        let mut rows: Vec<(String, String, String)> = Vec::new();
        for (i, f) in ff.iter().enumerate() {
            let o = fo.get(i).cloned().unwrap_or_else(|| "eq".into());
            let v = fv.get(i).cloned().unwrap_or_default();
            rows.push(match self.cond(f, &o, &Value::String(v.clone())) {
                Some(c) => {
                    let v = match c.value {
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (c.field, c.op, v)
                }
                None => (f.clone(), o, v),
            });
        }
        let rename = |c: &str| match self.field(c) {
            Some((new, _)) => new.to_string(),
            None => c.to_string(),
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            let n = seen.entry(k.as_str()).or_insert(0);
            let i = *n;
            *n += 1;
            let row = rows.get(i);
            match (k.as_str(), row) {
                ("ff", Some(r)) => {
                    out.append_pair(k, &r.0);
                }
                ("fo", Some(r)) => {
                    out.append_pair(k, &r.1);
                }
                ("fv", Some(r)) => {
                    out.append_pair(k, &r.2);
                }
                ("cols", _) => {
                    let cols: Vec<String> = v.split(',').map(rename).collect();
                    out.append_pair(k, &cols.join(","));
                }
                ("col", _) => {
                    out.append_pair(k, &rename(v));
                }
                // References have no order people understand; the view falls back to its
                // entity's default sort.
                ("sort", _) if self.field(v.trim_start_matches('-')).is_some() => {}
                ("filter", _) => match serde_json::from_str::<Value>(v) {
                    Ok(tree) => {
                        out.append_pair(k, &self.rewrite_tree(tree).to_string());
                    }
                    Err(_) => {
                        out.append_pair(k, v);
                    }
                },
                _ => {
                    let (field, op) = match k.split_once('[') {
                        Some((f, rest)) => (f, rest.trim_end_matches(']')),
                        None => (k.as_str(), "eq"),
                    };
                    match self.cond(field, op, &Value::String(v.clone())) {
                        Some(c) => {
                            let v = match c.value {
                                Value::Array(a) => a
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join(","),
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            out.append_pair(&format!("{}[{}]", c.field, c.op), &v);
                        }
                        None => {
                            out.append_pair(k, v);
                        }
                    }
                }
            }
        }
        out.finish()
    }

    /// A filter tree (`{"field", "op", "value"}` under `and`, `or`, `not`) with conditions on
    /// the old fields rewritten.
    fn rewrite_tree(&self, tree: Value) -> Value {
        match tree {
            Value::Object(mut o) => {
                let field = o.get("field").and_then(Value::as_str).map(str::to_string);
                if let Some(field) = field {
                    let op = o
                        .get("op")
                        .and_then(Value::as_str)
                        .unwrap_or("eq")
                        .to_string();
                    let value = o.get("value").cloned().unwrap_or(Value::Null);
                    if let Some(c) = self.cond(&field, &op, &value) {
                        o.insert("field".into(), Value::String(c.field));
                        o.insert("op".into(), Value::String(c.op));
                        o.insert("value".into(), c.value);
                    }
                    return Value::Object(o);
                }
                Value::Object(
                    o.into_iter()
                        .map(|(k, v)| (k, self.rewrite_tree(v)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.into_iter().map(|v| self.rewrite_tree(v)).collect()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str, en: &str, zh: &str, n: u128) -> Item {
        Item {
            id: Uuid::from_u128(n),
            text: text.into(),
            en: en.into(),
            zh: zh.into(),
        }
    }

    fn decode(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn saved_views_name_the_new_fields_and_ids() {
        let sources = [
            item("web", "Website", "网站", 1),
            item("referral", "Referral", "转介绍", 2),
        ];
        let industries = [
            item("软件", "软件", "软件", 3),
            item("软件外包", "软件外包", "软件外包", 4),
        ];
        let lists = Lists {
            sources: &sources,
            industries: &industries,
        };
        let id = |n: u128| Uuid::from_u128(n).to_string();
        let q = "ff=source&fo=eq&fv=web&ff=name&fo=contains&fv=%E5%8D%8E&ff=industry&fo=contains&fv=%E8%BD%AF%E4%BB%B6&sort=-industry&cols=name%2Cindustry%2Csource";
        assert_eq!(
            decode(&lists.rewrite_query(q)),
            vec![
                ("ff".into(), "source_id".into()),
                ("fo".into(), "eq".into()),
                ("fv".into(), id(1)),
                ("ff".into(), "name".into()),
                ("fo".into(), "contains".into()),
                ("fv".into(), "华".into()),
                ("ff".into(), "industry_id".into()),
                ("fo".into(), "in".into()),
                ("fv".into(), format!("{},{}", id(3), id(4))),
                ("cols".into(), "name,industry_id,source_id".into()),
            ]
        );
        // The API's forms: an `in` over codes, an unknown text, a JSON tree.
        let q = "source%5Bin%5D=web%2Creferral&industry=%E5%86%9C%E4%B8%9A&filter=%7B%22or%22%3A%5B%7B%22field%22%3A%22industry%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22%E8%BD%AF%E4%BB%B6%22%7D%5D%7D&sort=name";
        let out = decode(&lists.rewrite_query(q));
        assert_eq!(
            out[0],
            ("source_id[in]".into(), format!("{},{}", id(1), id(2)))
        );
        assert_eq!(out[1], ("industry_id[eq]".into(), Uuid::nil().to_string()));
        let tree: Value = serde_json::from_str(&out[2].1).unwrap();
        assert_eq!(
            tree,
            json!({"or": [{"field": "industry_id", "op": "eq", "value": id(3)}]})
        );
        assert_eq!(out[3], ("sort".into(), "name".into()));
        // Views that name neither field stay as they were.
        let q = "ff=name&fo=contains&fv=a&cols=name%2Ctype";
        assert_eq!(lists.rewrite_query(q), q);
    }
}
