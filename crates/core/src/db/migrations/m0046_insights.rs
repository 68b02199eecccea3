//! Customer insights (DESIGN.md section 8): one row per account with the current value of every
//! insight, its reason and what it was before; the history of each insight's values as they
//! change (for "rose above X since D"); and the refreshes that made them, with the models each
//! fitted so a new ledger row can re-score its account without refitting.
//!
//! Insights are a wide row rather than one row per name: a list filters and sorts on them as on
//! an account's own columns, with an index per insight people filter by.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0046_insights"
    }
}

fn date(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).date().null().to_owned()
}

fn real(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).double().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("insight_runs"))
                .col(uuid_pk())
                .col(ColumnDef::new(name("as_of")).date().not_null())
                .col(ts("started_at"))
                .col(ts_null("finished_at"))
                .col(text("state"))
                .col(big("scored"))
                .col(json("models", "{}"))
                .col(json("settings", "{}"))
                .col(long_text("error"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(name("account_insights"))
                .col(
                    ColumnDef::new(name("account_id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(uuid("run_id"))
                .col(ColumnDef::new(name("as_of")).date().not_null())
                .col(text("tier"))
                .col(text("tier_reason"))
                .col(real("profitability"))
                .col(real("margin_rate"))
                .col(real("days_to_pay"))
                .col(text("rfm_segment"))
                .col(big_null("rfm_r"))
                .col(big_null("rfm_f"))
                .col(big_null("rfm_m"))
                .col(big_null("recency_days"))
                .col(big_null("purchases"))
                .col(real("revenue"))
                .col(big_null("value_decile"))
                .col(real("p_alive"))
                .col(real("expected_purchases"))
                .col(real("clv"))
                .col(text("value_missing"))
                .col(text("lifecycle_stage"))
                .col(text("lifecycle_reason"))
                .col(big_null("tenure_days"))
                .col(real("trend"))
                .col(real("usual_interval_days"))
                .col(date("next_due_from"))
                .col(date("next_due_to"))
                .col(text("due_status"))
                .col(json("changes", "{}"))
                .foreign_key(&mut fk(
                    "account_insights",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(name("insight_history"))
                .col(uuid("account_id"))
                .col(text("name"))
                .col(ColumnDef::new(name("valid_from")).date().not_null())
                .col(real("number"))
                .col(text("code"))
                .primary_key(
                    Index::create()
                        .col(name("account_id"))
                        .col(name("name"))
                        .col(name("valid_from")),
                )
                .foreign_key(&mut fk(
                    "insight_history",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["tier", "account_id"][..],
            &["rfm_segment", "account_id"],
            &["lifecycle_stage", "account_id"],
            &["value_decile", "account_id"],
            &["p_alive", "account_id"],
            &["clv", "account_id"],
            &["due_status", "account_id"],
        ] {
            m.create_index(index("account_insights", cols)).await?;
        }
        m.create_index(index("insight_runs", &["started_at"]))
            .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_insight_history_name_valid_from ON insight_history (name, valid_from)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the insights migration cannot be reverted".into(),
        ))
    }
}
