//! Each entity with a calendar keeps the longest span its entries have had
//! (`records::calendar::span_ddl`), so that a calendar read looks back as far as an entry can
//! really last rather than a month: a whole company's day read the month before it, 35,000
//! entries at 400 people, to find the few that started yesterday and still run.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::areas::activities::ACTIVITIES;
use crate::db::backend_of;
use crate::records::calendar;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0042_calendar_spans"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for statement in calendar::span_ddl(&ACTIVITIES, backend_of(conn)) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Without the kept span, reads look back a month, as before; an older binary ignores it.
        Ok(())
    }
}
