//! Each user may choose the time zone pages show times in and forms read them in (an IANA name,
//! `Asia/Shanghai`); `''` until they do, and then the instance's default applies.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0024_user_time_zone"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("users"))
                .add_column(text("time_zone"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("users"))
                .drop_column(name("time_zone"))
                .to_owned(),
        )
        .await
    }
}
