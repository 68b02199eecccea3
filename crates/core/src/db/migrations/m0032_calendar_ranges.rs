//! A calendar reads a person's entries that start in a range, or that started up to a month
//! before it and end inside it. With the owner and the start alone indexed, each entry of the
//! month before had its row fetched to read its end, which cost more than the week's own
//! entries. With the end in the index that test is made on the index and only the entries
//! shown are fetched. Entries with no start (tasks, notes) are left out of the index: they are
//! never read by start, and with them in it SQLite took "no start" for a rare value and read
//! a person's every task to find the week's due ones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0032_calendar_ranges"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE INDEX ix_activities_owner_start_end ON activities \
             (owner_id, starts_at, ends_at) WHERE starts_at IS NOT NULL",
        )
        .await?;
        conn.execute_unprepared("DROP INDEX ix_activities_owner_id_starts_at")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE INDEX ix_activities_owner_id_starts_at ON activities (owner_id, starts_at)",
        )
        .await?;
        conn.execute_unprepared("DROP INDEX ix_activities_owner_start_end")
            .await?;
        Ok(())
    }
}
