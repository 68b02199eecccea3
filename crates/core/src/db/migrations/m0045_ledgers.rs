//! The ledgers customer insights read: sales history (销售记录), payments (回款记录) and customer
//! facts (客户情况), each row an account's. Reads go by account and date (an account's history,
//! the refresh's scan in date order), so each table has that index beside the lists' sort
//! indexes; a return's check finds its order by account and order number.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0045_ledgers"
    }
}

fn date(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).date().null().to_owned()
}

fn money(t: &mut TableCreateStatement, col: &str) {
    t.col(big_null(&format!("{col}_amount")))
        .col(text(&format!("{col}_currency")));
}

/// A ledger table: its id, the account it belongs to (its rows go when the account is purged),
/// then `columns`, then the columns of every business record.
fn ledger(table: &str, columns: impl FnOnce(&mut TableCreateStatement)) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name(table)).col(uuid_pk()).col(uuid("account_id"));
    columns(&mut t);
    record_columns(&mut t);
    t.foreign_key(&mut fk(
        table,
        "owner_id",
        "users",
        ForeignKeyAction::Restrict,
    ))
    .foreign_key(&mut fk(
        table,
        "account_id",
        "accounts",
        ForeignKeyAction::Cascade,
    ));
    t.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        m.create_table(ledger("sales_records", |t| {
            t.col(date("date"))
                .col(text("kind"))
                .col(text("order_ref"))
                .col(sort_key(backend, "order_ref"))
                .col(text("product_code"))
                .col(text("product_name"))
                .col(text("category"))
                .col(big_null("quantity"));
            money(t, "amount");
            t.col(big_null("exchange_rate"));
            money(t, "cost");
            money(t, "base_amount");
            money(t, "base_cost");
        }))
        .await?;
        m.create_table(ledger("payment_records", |t| {
            t.col(text("invoice_ref"))
                .col(sort_key(backend, "invoice_ref"))
                .col(date("invoice_date"))
                .col(date("due_date"))
                .col(date("paid_date"));
            money(t, "amount");
            t.col(big_null("exchange_rate")).col(boolean("written_off"));
            money(t, "base_amount");
        }))
        .await?;
        m.create_table(ledger("customer_facts", |t| {
            t.col(date("recorded_on"))
                .col(big_null("satisfaction"))
                .col(big_null("recommendation"))
                .col(big_null("share_of_wallet"))
                .col(date("contract_end"))
                .col(text("integration_level"))
                .col(big_null("loyalty_balance"));
        }))
        .await?;

        let common = |table: &'static str| {
            [
                (table, vec!["created_at", "id", "owner_id", "deleted_at"]),
                (table, vec!["updated_at", "id"]),
                (table, vec!["owner_id", "created_at", "id"]),
            ]
        };
        let mut indexes: Vec<(&str, Vec<&str>)> = Vec::new();
        for t in ["sales_records", "payment_records", "customer_facts"] {
            indexes.extend(common(t));
        }
        indexes.extend([
            ("sales_records", vec!["account_id", "date"]),
            ("sales_records", vec!["account_id", "order_ref"]),
            ("sales_records", vec!["date", "id"]),
            ("sales_records", vec!["kind", "id"]),
            ("sales_records", vec!["order_ref_sort", "id"]),
            ("sales_records", vec!["amount_amount", "id"]),
            ("sales_records", vec!["base_amount_amount", "id"]),
            ("payment_records", vec!["account_id", "invoice_date"]),
            ("payment_records", vec!["invoice_ref_sort", "id"]),
            ("payment_records", vec!["invoice_date", "id"]),
            ("payment_records", vec!["due_date", "id"]),
            ("payment_records", vec!["paid_date", "id"]),
            ("payment_records", vec!["amount_amount", "id"]),
            ("payment_records", vec!["base_amount_amount", "id"]),
            ("customer_facts", vec!["account_id", "recorded_on"]),
            ("customer_facts", vec!["recorded_on", "id"]),
            ("customer_facts", vec!["contract_end", "id"]),
        ]);
        for (table, cols) in &indexes {
            m.create_index(index(table, cols)).await?;
        }
        let conn = m.get_connection();
        for t in ["sales_records", "payment_records", "customer_facts"] {
            conn.execute_unprepared(&format!(
                "CREATE INDEX ix_{t}_deleted ON {t} (deleted_at) WHERE deleted_at IS NOT NULL"
            ))
            .await?;
        }
        // PostgreSQL's sort indexes keep blanks first, as lists ask (m0041).
        super::m0041_sort_nulls_first::Migration.up(m).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the ledgers migration cannot be reverted".into(),
        ))
    }
}
