//! Each entity with a calendar lists its entries longer than a month apart
//! (`records::calendar::long_ddl`): a read looks back at most a month for entries that began
//! before its range, and a quarter's on-site project dropped off the calendar a month after it
//! began.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::areas::activities::ACTIVITIES;
use crate::db::backend_of;
use crate::records::calendar;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0043_calendar_long"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for statement in calendar::long_ddl(&ACTIVITIES, backend_of(conn)) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // An older binary ignores the list and reads as before.
        Ok(())
    }
}
