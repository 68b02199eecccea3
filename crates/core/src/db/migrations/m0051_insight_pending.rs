//! The accounts whose ledger changed since their insights were last scored: a sale, a payment or
//! customer facts written puts its account here (once, however many rows a burst or an import
//! writes) and queues the job that scores it again.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0051_insight_pending"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("insight_pending"))
                .col(
                    ColumnDef::new(name("account_id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ts("since"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
