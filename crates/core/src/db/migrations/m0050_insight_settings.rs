//! The insight models' settings an administrator keeps: the JSON written over the defaults (a
//! section per model, as the CLI's `--settings` files), who changed it and when.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0050_insight_settings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("insight_settings"))
                .col(ColumnDef::new(name("id")).text().not_null().primary_key())
                .col(json("settings", "{}"))
                .col(ts("updated_at"))
                .col(uuid_null("updated_by"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
