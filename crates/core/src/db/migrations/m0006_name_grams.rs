//! Names found by any part of them, fast: contacts get their whole name as a field of its own
//! (张三, John Smith), and the search documents of accounts, contacts and opportunities gain the
//! two- and three-character pieces of their names (`search::grams`), which `contains` filters
//! on those names read instead of every row.
//!
//! Every existing contact gets its name, and every existing document its pieces, here: a filter
//! that trusted the pieces of a document that lacked them would miss records.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseTransaction, QueryResult, TransactionTrait, Value,
};
use uuid::Uuid;

use super::schema::*;
use crate::areas::customers::contacts::whole_name;
use crate::db::{self, col, get_string, get_uuid};
use crate::error::CoreError;
use crate::search::{grams, tsvector_literal};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_name_grams"
    }
}

/// (entity, table, field): the names whose pieces the documents gain. Frozen here: a field
/// flagged later needs a migration of its own.
const NAMES: [(&str, &str, &str); 3] = [
    ("account", "accounts", "name"),
    ("contact", "contacts", "name"),
    ("opportunity", "opportunities", "name"),
];

/// Rows read and written per round, so memory stays flat on large tables.
const BATCH: u64 = 2000;

fn err(e: CoreError) -> DbErr {
    DbErr::Migration(e.to_string())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs migrations outside a transaction; this one rewrites data and must not
        // stop half-way. (On PostgreSQL this is a savepoint in the migrator's transaction.)
        let txn = m.get_connection().begin().await?;
        // Shaped as `schema::text` makes optional text: '' rather than NULL.
        txn.execute_unprepared("ALTER TABLE contacts ADD COLUMN name varchar NOT NULL DEFAULT ''")
            .await?;
        fill_contact_names(&txn).await?;
        txn.execute(
            txn.get_database_backend()
                .build(&index("contacts", &["name", "id"])),
        )
        .await?;
        for (entity, table, field) in NAMES {
            add_pieces(&txn, entity, table, field).await?;
        }
        txn.commit().await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the name pieces migration cannot be reverted".into(),
        ))
    }
}

/// The next batch of `table`'s rows (deleted ones included) after `after`, in id order, with
/// `id` and `columns`.
async fn batch_after(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[&str],
    after: Option<Uuid>,
) -> Result<Vec<QueryResult>, DbErr> {
    let mut q = Query::select();
    q.column(col("id"))
        .columns(columns.iter().map(|c| col(c)))
        .from(col(table))
        .order_by(col("id"), Order::Asc)
        .limit(BATCH);
    if let Some(a) = after {
        q.and_where(Expr::col(col("id")).gt(a));
    }
    db::fetch_all(txn, &q).await.map_err(err)
}

async fn fill_contact_names(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    let mut after = None;
    loop {
        let rows = batch_after(txn, "contacts", &["family_name", "given_name"], after).await?;
        for r in &rows {
            let id = get_uuid(r, "id").map_err(err)?;
            let name = whole_name(
                &get_string(r, "family_name").map_err(err)?,
                &get_string(r, "given_name").map_err(err)?,
            );
            let mut u = Query::update();
            u.table(col("contacts"))
                .value(col("name"), name)
                .and_where(Expr::col(col("id")).eq(id));
            db::update(txn, &u).await.map_err(err)?;
            after = Some(id);
        }
        if rows.len() < BATCH as usize {
            return Ok(());
        }
    }
}

async fn add_pieces(
    txn: &DatabaseTransaction,
    entity: &str,
    table: &str,
    field: &str,
) -> Result<(), DbErr> {
    let backend = db::backend_of(txn);
    let mut after = None;
    loop {
        let rows = batch_after(txn, table, &[field], after).await?;
        for r in &rows {
            let id = get_uuid(r, "id").map_err(err)?;
            after = Some(id);
            let tokens = grams::of_value(entity, field, &get_string(r, field).map_err(err)?);
            if tokens.is_empty() {
                continue;
            }
            // Appended: the document's other tokens stay as they were written.
            let (sql, doc): (&str, Value) = match backend {
                db::Backend::Sqlite => (
                    "UPDATE search_entries SET doc = doc || ' ' || ? WHERE record_id = ?",
                    tokens.join(" ").into(),
                ),
                db::Backend::Postgres => (
                    "UPDATE search_entries SET doc = doc || CAST($1 AS tsvector) WHERE record_id = $2",
                    tsvector_literal(&tokens).into(),
                ),
            };
            db::raw_execute(txn, sql, vec![doc, id.into()])
                .await
                .map_err(err)?;
        }
        if rows.len() < BATCH as usize {
            return Ok(());
        }
    }
}
