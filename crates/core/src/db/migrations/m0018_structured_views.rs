//! Saved views keep what a list shows — its filter (JSON), its sort and its columns — instead of
//! the list's address, and may be shared with their owner's team. Each stored address is read
//! once into those parts: the UI's (`ff`/`fo`/`fv` conditions, `sort`, `cols`) and the API's
//! (`field=value`, `field[op]=value`, `filter=` JSON, `sort`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use serde_json::Value;

use super::schema::*;
use crate::db::{self, col, get_string, get_uuid};
use crate::records::{Filter, FilterOp};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_structured_views"
    }
}

async fn run<S: sea_orm_migration::sea_orm::StatementBuilder>(
    txn: &DatabaseTransaction,
    s: &S,
) -> Result<(), DbErr> {
    txn.execute(txn.get_database_backend().build(s)).await?;
    Ok(())
}

fn err(e: crate::error::CoreError) -> DbErr {
    DbErr::Migration(e.to_string())
}

/// What a view's address said, in parts.
#[derive(Debug, PartialEq)]
pub(crate) struct Parts {
    pub filter: Value,
    pub sort: Option<String>,
    pub columns: Vec<String>,
}

/// Reads a stored address. A condition that does not parse is left out rather than failing the
/// migration (the UI never wrote one; the API checked none).
pub(crate) fn parts(query: &str) -> Parts {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let all = |k: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut conds = Vec::new();
    let (ff, fo, fv) = (all("ff"), all("fo"), all("fv"));
    for (i, field) in ff.iter().enumerate() {
        let op = fo
            .get(i)
            .and_then(|o| FilterOp::parse(o))
            .unwrap_or(FilterOp::Eq);
        let v = fv.get(i).copied().unwrap_or("");
        if field.is_empty() {
            continue;
        }
        let value = if op == FilterOp::In {
            Value::Array(
                v.split(',')
                    .map(|x| Value::String(x.trim().to_string()))
                    .collect(),
            )
        } else {
            Value::String(v.to_string())
        };
        conds.push(Filter::Cond {
            field: String::from(*field),
            op,
            value,
        });
    }
    const NOT_CONDITIONS: [&str; 12] = [
        "ff", "fo", "fv", "sort", "cols", "col", "cursor", "limit", "count", "filter", "v", "size",
    ];
    let api = pairs
        .iter()
        .filter(|(k, _)| !NOT_CONDITIONS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()));
    if let Ok(Filter::And(more)) = Filter::from_pairs(api) {
        conds.extend(more);
    }
    if let Some(Ok(f)) = all("filter")
        .first()
        .map(|j| serde_json::from_str::<Value>(j).map(|v| Filter::from_json(&v)))
        && let Ok(f) = f
    {
        conds.push(f);
    }
    let mut columns: Vec<String> = all("col").into_iter().map(String::from).collect();
    if columns.is_empty() {
        columns = all("cols")
            .first()
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
    }
    Parts {
        filter: Filter::And(conds).to_json(),
        sort: all("sort")
            .first()
            .filter(|s| !s.is_empty())
            .map(|s| String::from(*s)),
        columns,
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let txn = m.get_connection().begin().await?;
        for c in [
            long_text("filter"),
            text("sort"),
            long_text("columns"),
            uuid_null("team_id"),
        ] {
            run(
                &txn,
                &Table::alter()
                    .table(name("saved_views"))
                    .add_column(c)
                    .to_owned(),
            )
            .await?;
        }
        let mut q = Query::select();
        q.columns([col("id"), col("query")])
            .from(col("saved_views"));
        for r in db::fetch_all(&txn, &q).await.map_err(err)? {
            let p = parts(&get_string(&r, "query").map_err(err)?);
            let mut u = Query::update();
            u.table(col("saved_views"))
                .value(col("filter"), p.filter.to_string())
                .value(col("sort"), p.sort.unwrap_or_default())
                .value(
                    col("columns"),
                    serde_json::to_string(&p.columns).unwrap_or_else(|_| "[]".into()),
                )
                .and_where(Expr::col(col("id")).eq(get_uuid(&r, "id").map_err(err)?));
            db::update(&txn, &u).await.map_err(err)?;
        }
        run(
            &txn,
            &Table::alter()
                .table(name("saved_views"))
                .drop_column(name("query"))
                .to_owned(),
        )
        .await?;
        // Shared views are listed by team.
        run(
            &txn,
            &index("saved_views", &["team_id", "entity"]).to_owned(),
        )
        .await?;
        txn.commit().await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the structured views migration cannot be reverted".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_and_api_addresses_read_into_parts() {
        let p = parts(
            "ff=type&fo=eq&fv=customer&ff=source_id&fo=in&fv=a%2Cb&sort=-name&cols=name%2Ctype",
        );
        assert_eq!(
            p.filter,
            serde_json::json!({"and": [
                {"field": "type", "op": "eq", "value": "customer"},
                {"field": "source_id", "op": "in", "value": ["a", "b"]}
            ]})
        );
        assert_eq!(p.sort.as_deref(), Some("-name"));
        assert_eq!(p.columns, ["name", "type"]);
        let p = parts("billing_address.province=北京市&sort=name");
        assert_eq!(
            p.filter,
            serde_json::json!({"and": [{"field": "billing_address.province", "op": "eq", "value": "北京市"}]})
        );
        assert!(p.columns.is_empty());
        assert_eq!(parts("").filter, serde_json::json!({"and": []}));
    }
}
