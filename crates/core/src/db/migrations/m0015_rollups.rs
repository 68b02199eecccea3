//! Running totals of opportunities (`records::rollup`): the table, the triggers that keep it,
//! and the totals of the deals already there. Aggregations over every deal (the list's charts,
//! later boards and forecasts) read them instead of every row: grouped by owner and month over
//! 2,000,000 deals, 4.4 s of reading became a few milliseconds (bench/README §15).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::areas::sales::OPPORTUNITIES;
use crate::db::backend_of;
use crate::records::rollup;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0015_rollups"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for statement in rollup::ddl(&OPPORTUNITIES, backend_of(m.get_connection())) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for statement in rollup::drop_ddl(&OPPORTUNITIES, backend_of(m.get_connection())) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
