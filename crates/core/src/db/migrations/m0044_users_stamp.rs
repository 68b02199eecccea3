//! The users' stamp becomes a number that triggers raise (`identity::users::stamp_ddl`):
//! every page read it as an aggregate over every user, 0.5 M instructions a page at 400 people
//! and ten times that at 4,000, where one row by its key is a few thousand.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::db::backend_of;
use crate::identity::users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0044_users_stamp"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for statement in users::stamp_ddl(backend_of(conn)) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // An older binary reads its aggregate and ignores the table.
        Ok(())
    }
}
