//! Opportunities' running totals gain one by stage and close month (`by_stage_month`): the
//! pipeline board's won and lost columns count and sum the quarter's deals of a stage, which
//! read every deal of the quarter (tens of thousands of rows) and now read a few hundred totals.
//! Every rollup also keeps the whole company's totals beside each owner's (`records::rollup`),
//! which is what an administrator's board and charts read: 30 rows where summing every owner's
//! read 8,000 at 400 people.
//!
//! `m0015` creates the rollups declared today, so a new database has this one already; an
//! older one does not. Dropping and creating them all again suits both, and recounts every
//! total from the deals.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::areas::sales::OPPORTUNITIES;
use crate::db::backend_of;
use crate::records::rollup;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0033_rollup_stage_month"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let b = backend_of(m.get_connection());
        for statement in rollup::drop_ddl(&OPPORTUNITIES, b)
            .into_iter()
            .chain(rollup::ddl(&OPPORTUNITIES, b))
        {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The totals are what the deals say; an older binary reads the ones it knows.
        Ok(())
    }
}
