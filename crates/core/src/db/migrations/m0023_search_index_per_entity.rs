//! PostgreSQL keeps one text index per entity instead of one over all entries
//! (`search::pg_entity_index_statement`), and its search reads each entity's own.
//!
//! With one index, a search limited to accounts (a reference picker) for a term common among
//! contacts but rare among accounts read every contact holding it: `138` (phone numbers) held by
//! 94,000 of 4,000,000 entries, 2,303 of them accounts, took a sales rep's picker up to 14 s
//! (bench §18). Each entity's index holds that entity's entries only, so such a search reads
//! the postings of the entity searched and no other.
//!
//! The indexes are built here from the whole table, one entity at a time (2 and 5.5 minutes for
//! 1,000,000 accounts and 3,000,000 contacts on two cores), then the one index is dropped. SQLite's
//! index is FTS5's; nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::search::{pg_entity_index, pg_entity_index_statement};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0023_search_index_per_entity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // A text index builds several times faster with room to sort its postings in memory
        // than with the default 64 MB; the setting is put back afterwards.
        conn.execute_unprepared("SET maintenance_work_mem = '512MB'")
            .await?;
        for def in crate::areas::registry().all() {
            conn.execute_unprepared(&pg_entity_index_statement(def.name))
                .await?;
        }
        conn.execute_unprepared(
            "DROP INDEX IF EXISTS ix_search_entries_doc; RESET maintenance_work_mem",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        conn.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_search_entries_doc ON search_entries USING gin (doc)",
        )
        .await?;
        for def in crate::areas::registry().all() {
            conn.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS {}",
                pg_entity_index(def.name)
            ))
            .await?;
        }
        Ok(())
    }
}
