//! Loyalty, switching cost, value focus and next best products on the account's insights row,
//! with why each is missing and which customer facts the account lacks; and the survey ratings
//! of the four value dimensions (product, service, price, relationship) on customer facts, which
//! value focus reads.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0048_fact_insights"
    }
}

fn double(n: &str) -> ColumnDef {
    ColumnDef::new(name(n)).double().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for c in [
            double("loyalty_index"),
            double("loyalty_behaviour"),
            double("loyalty_attitude"),
            text("loyalty_type"),
            double("switching_cost"),
            text("switching_level"),
            text("switching_lever"),
            text("value_focus"),
            double("value_focus_gap"),
            json("next_products", "[]"),
            json("facts_missing", "{}"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(name("account_insights"))
                    .add_column(c)
                    .to_owned(),
            )
            .await?;
        }
        for c in [
            "rating_product",
            "rating_service",
            "rating_price",
            "rating_relationship",
        ] {
            m.alter_table(
                Table::alter()
                    .table(name("customer_facts"))
                    .add_column(big_null(c))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("account_insights", &["loyalty_index", "account_id"]))
            .await?;
        m.create_index(index("account_insights", &["switching_cost", "account_id"]))
            .await?;
        Ok(())
    }
}
