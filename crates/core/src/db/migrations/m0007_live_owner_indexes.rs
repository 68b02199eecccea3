//! An index of the live records of each owner, for counts: a list's total under a sales rep's
//! scope (`owner_id = me OR owner_id IN team`) and live records only (`deleted_at IS NULL`)
//! otherwise reads a table row per record to check that it is not in the recycle bin. The
//! partial index holds exactly the live records, so such a count reads the index alone; a count
//! of all live records reads it from its start and stops at the cap.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_live_owner_indexes"
    }
}

/// The tables whose lists grow large. Frozen here: a later entity declares its index in its
/// own migration.
const TABLES: [&str; 3] = ["accounts", "contacts", "opportunities"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for table in TABLES {
            conn.execute_unprepared(&format!(
                "CREATE INDEX ix_{table}_live_owner ON {table} (owner_id) WHERE deleted_at IS NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for table in TABLES {
            conn.execute_unprepared(&format!("DROP INDEX ix_{table}_live_owner"))
                .await?;
        }
        Ok(())
    }
}
