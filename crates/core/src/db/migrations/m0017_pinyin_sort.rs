//! Lists sort Chinese text by pinyin, the same on SQLite and PostgreSQL: every sortable text
//! field gets its collation key in `<column>_sort` (`records::sort_key`), which lists order by
//! instead of the text's bytes (上海 came before 北京; now 阿里巴巴, 北京, 长沙, 重庆, 上海, 厦门).
//!
//! The key column is declared with `schema::sort_key` (`COLLATE "C"` on PostgreSQL), filled here
//! for every existing row, the recycle bin's included, in Rust, a few thousand rows a statement
//! in id order, so memory stays flat at millions of rows. Each text sort that had an index gets
//! one on (key, id) in its place, the shape of the keyset seek; the others had none and get
//! none. The indexes on the texts themselves stay: the `eq` filter (`?name=…`, the API's default
//! operator) finds its rows through them (without, a name among 100,000 accounts took 26 ms on
//! SQLite instead of 0.2), and the key cannot serve it while the filter compares the text.
//!
//! On the shared 2-core machine, 100,000 accounts took 0.7 to 1 s on SQLite and 4.5 to 6 s on
//! PostgreSQL, which writes a new version of each row and its index entries; 1,000,000 took
//! 9.5 s and 56 s.
//!
//! The fields are those sortable when this migration was written. Frozen here: a text field
//! made sortable later, or a new entity's, gets its key column in its own migration (the schema
//! conformance test holds every sortable field to having its sort column).

use std::time::Instant;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, TransactionTrait, Value};
use uuid::Uuid;

use super::schema::*;
use crate::db::{self, col, get_string, get_uuid};
use crate::error::CoreError;
use crate::records::sort_key;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_pinyin_sort"
    }
}

/// A table's sortable text columns, which get keys, and those of them whose sort had an index,
/// which get one on (key, id): `(name, id)` on each table, and `(family_name, given_name, id)`,
/// which served the sort by family name, on contacts.
struct Sorts {
    table: &'static str,
    columns: &'static [&'static str],
    indexed: &'static [&'static str],
}

const SORTS: [Sorts; 3] = [
    Sorts {
        table: "accounts",
        columns: &["name"],
        indexed: &["name"],
    },
    Sorts {
        table: "contacts",
        columns: &["name", "family_name", "given_name", "title", "department"],
        indexed: &["name", "family_name"],
    },
    Sorts {
        table: "opportunities",
        columns: &["name"],
        indexed: &["name"],
    },
];

/// Rows read and written per statement. Contacts bind six values a row, 12,000 a statement:
/// below both backends' limits on bound parameters (32,766 and 65,535).
const BATCH: u64 = 2000;

fn err(e: CoreError) -> DbErr {
    DbErr::Migration(e.to_string())
}

fn key_index(table: &str, column: &str) -> IndexCreateStatement {
    index(table, &[&format!("{column}_sort"), "id"])
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs migrations outside a transaction; this one fills columns and must not stop
        // half-way. (On PostgreSQL this is a savepoint in the migrator's transaction.)
        let txn = m.get_connection().begin().await?;
        let backend = txn.get_database_backend();
        for s in &SORTS {
            for c in s.columns {
                let add = Table::alter()
                    .table(name(s.table))
                    .add_column(sort_key(backend, c))
                    .to_owned();
                txn.execute(backend.build(&add)).await?;
            }
            let t = Instant::now();
            let rows = fill(&txn, s.table, s.columns).await?;
            // Built after the fill: one sort of the keys rather than a row's worth of index
            // upkeep per key written.
            for c in s.indexed {
                txn.execute(backend.build(&key_index(s.table, c))).await?;
            }
            tracing::info!(table = s.table, rows, took = ?t.elapsed(), "sort keys filled");
        }
        txn.commit().await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let backend = conn.get_database_backend();
        for s in &SORTS {
            for c in s.indexed {
                conn.execute_unprepared(&format!("DROP INDEX ix_{}_{c}_sort_id", s.table))
                    .await?;
            }
            for c in s.columns {
                let drop = Table::alter()
                    .table(name(s.table))
                    .drop_column(name(&format!("{c}_sort")))
                    .to_owned();
                conn.execute(backend.build(&drop)).await?;
            }
        }
        Ok(())
    }
}

/// Writes the keys of `columns` into their `<column>_sort` columns for every row of `table`,
/// [`BATCH`] rows at a time in id order: the number of rows read. Rows whose texts are all blank
/// already hold their keys (blank, the column's default) and are not written.
pub(crate) async fn fill<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    columns: &[&str],
) -> Result<u64, DbErr> {
    let mut after: Option<Uuid> = None;
    let mut read = 0;
    loop {
        let mut q = Query::select();
        q.column(col("id"))
            .columns(columns.iter().map(|c| col(c)))
            .from(col(table))
            .order_by(col("id"), Order::Asc)
            .limit(BATCH);
        if let Some(a) = after {
            q.and_where(Expr::col(col("id")).gt(a));
        }
        let rows = db::fetch_all(conn, &q).await.map_err(err)?;
        read += rows.len() as u64;
        let mut keyed: Vec<(Uuid, Vec<String>)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = get_uuid(r, "id").map_err(err)?;
            after = Some(id);
            let mut keys = Vec::with_capacity(columns.len());
            for c in columns {
                keys.push(sort_key::key(&get_string(r, c).map_err(err)?));
            }
            if keys.iter().any(|k| !k.is_empty()) {
                keyed.push((id, keys));
            }
        }
        if let (Some(first), Some(last)) = (keyed.first(), keyed.last()) {
            let range = (first.0, last.0);
            write_keys(conn, table, columns, range, keyed).await?;
        }
        if rows.len() < BATCH as usize {
            return Ok(read);
        }
    }
}

/// One `UPDATE … FROM (VALUES …)` of the rows' keys, joined on the id, the rows' ids all in
/// `range`. The range is stated: without it PostgreSQL joins a batch to the table by hashing
/// and reads every row of the table for every batch (at 100,000 accounts, 25 ms of each 110);
/// with it, it reads the batch's rows through the primary key.
async fn write_keys<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    columns: &[&str],
    range: (Uuid, Uuid),
    rows: Vec<(Uuid, Vec<String>)>,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let width = columns.len() + 1;
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * width);
    let mut tuples: Vec<String> = Vec::with_capacity(rows.len());
    for (id, keys) in rows {
        let first = values.len() + 1;
        let tuple: Vec<String> = (first..first + width)
            .map(|n| match backend {
                DbBackend::Postgres if n == first => format!("CAST(${n} AS uuid)"),
                DbBackend::Postgres => format!("${n}"),
                _ => "?".to_string(),
            })
            .collect();
        tuples.push(format!("({})", tuple.join(", ")));
        values.push(id.into());
        values.extend(keys.into_iter().map(Value::from));
    }
    // SQLite names the columns of VALUES column1, column2, …; PostgreSQL takes names.
    let (alias, id, key) = match backend {
        DbBackend::Postgres => {
            let names: Vec<String> = (1..width).map(|i| format!("k{i}")).collect();
            (
                format!("v (id, {})", names.join(", ")),
                "v.id".to_string(),
                names,
            )
        }
        _ => (
            "v".to_string(),
            "v.column1".to_string(),
            (2..=width).map(|i| format!("v.column{i}")).collect(),
        ),
    };
    let sets: Vec<String> = columns
        .iter()
        .zip(&key)
        .map(|(c, k)| format!("\"{c}_sort\" = {k}"))
        .collect();
    let (from, to) = match backend {
        DbBackend::Postgres => (
            format!("CAST(${} AS uuid)", values.len() + 1),
            format!("CAST(${} AS uuid)", values.len() + 2),
        ),
        _ => ("?".to_string(), "?".to_string()),
    };
    values.extend([range.0.into(), range.1.into()]);
    let sql = format!(
        "UPDATE \"{table}\" SET {} FROM (VALUES {}) AS {alias} \
         WHERE \"{table}\".\"id\" = {id} AND \"{table}\".\"id\" BETWEEN {from} AND {to}",
        sets.join(", "),
        tuples.join(", "),
    );
    db::raw_execute(conn, &sql, values).await.map_err(err)?;
    Ok(())
}
