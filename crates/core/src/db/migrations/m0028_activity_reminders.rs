//! An activity's reminder: how long before it starts (or falls due) its owner and attending
//! colleagues are reminded, and the instant that gives, which the bell's notice is written for.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0028_activity_reminders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter()
                .table(name("activities"))
                .add_column(text("remind"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(name("activities"))
                .add_column(ts_null("remind_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["remind_at", "remind"] {
            m.alter_table(
                Table::alter()
                    .table(name("activities"))
                    .drop_column(name(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
