//! Each user chooses how amounts read to them: grouped digits with the currency's sign
//! (`¥8,740,000`, the default, which `''` stands for) or in 万 (`874万元`), as Chinese finance
//! people write them.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_money_format"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("users"))
                .add_column(text("money_format"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("users"))
                .drop_column(name("money_format"))
                .to_owned(),
        )
        .await
    }
}
