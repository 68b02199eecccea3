//! SQLite's narrow copy of the search entries (`search_keys`, m0010) also keeps each entry's
//! entity, so that the search box checks what a reader may see of each text match in the narrow
//! copy rather than in `search_entries`, whose rows carry whole documents: a sales rep's search
//! reads many matches outside their scope before it has enough of their own, and each was a
//! look-up in a table of gigabytes. Only the answers' titles are read from the entries.
//!
//! The copy is made again with the new column; at 4,000,000 entries that takes seconds.
//! PostgreSQL's entries have no rowid, and nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0020_search_keys_entity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        conn.execute_unprepared(&keys_table(true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        conn.execute_unprepared(&keys_table(false)).await?;
        Ok(())
    }
}

/// The statements that make `search_keys` again, with the entity or (going back) without.
fn keys_table(with_entity: bool) -> String {
    let (col, def, new, changed) = if with_entity {
        (
            ", entity",
            ",\n    entity TEXT NOT NULL",
            ", new.entity",
            " OR new.entity IS NOT old.entity",
        )
    } else {
        ("", "", "", "")
    };
    format!(
        "DROP TRIGGER search_keys_ai;
        DROP TRIGGER search_keys_ad;
        DROP TRIGGER search_keys_au;
        DROP TABLE search_keys;
        CREATE TABLE search_keys (
            rowid INTEGER PRIMARY KEY,
            owner_id BLOB NOT NULL,
            record_id BLOB NOT NULL{def}
        );
        INSERT INTO search_keys (rowid, owner_id, record_id{col})
            SELECT rowid, owner_id, record_id{col} FROM search_entries ORDER BY rowid;
        CREATE TRIGGER search_keys_ai AFTER INSERT ON search_entries BEGIN
            INSERT INTO search_keys (rowid, owner_id, record_id{col})
                VALUES (new.rowid, new.owner_id, new.record_id{new});
        END;
        CREATE TRIGGER search_keys_ad AFTER DELETE ON search_entries BEGIN
            DELETE FROM search_keys WHERE rowid = old.rowid;
        END;
        CREATE TRIGGER search_keys_au AFTER UPDATE OF rowid, owner_id, record_id{col} ON search_entries
        WHEN new.rowid IS NOT old.rowid OR new.owner_id IS NOT old.owner_id
            OR new.record_id IS NOT old.record_id{changed}
        BEGIN
            DELETE FROM search_keys WHERE rowid = old.rowid;
            INSERT INTO search_keys (rowid, owner_id, record_id{col})
                VALUES (new.rowid, new.owner_id, new.record_id{new});
        END;"
    )
}
