//! The day an invoice was written off, so a refresh or a churn model's training as of an earlier
//! day sees it as it was then: still open.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0049_write_off_dates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("payment_records"))
                .add_column(ColumnDef::new(name("written_off_on")).date().null())
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
