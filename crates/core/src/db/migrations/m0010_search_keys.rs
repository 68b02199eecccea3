//! SQLite keeps a narrow copy of each search entry's key, owner and record (`search_keys`),
//! which the database itself keeps in step with `search_entries` by triggers.
//!
//! A page narrowed by a name's pieces reads the holders of the pieces from the full-text index
//! and checks each one's owner against the reader's scope (`search::order`). In
//! `search_entries` each row carries its document, a few kilobytes: one or two rows to a page,
//! so every check is a look-up in a table of many gigabytes at a few million records, and for
//! a sales rep whose team owns a tenth of the records it took more than half of the page's
//! time (a two-character name: 1.9 ms of 2.7). The same look-ups in a table of only the key,
//! owner and record took 0.8 ms. An index on those columns did not do as well (1.4 ms): an
//! index's inner pages hold whole entries where a table's hold only keys, so its tree is
//! deeper. A trigger-kept table cannot drift from its source, and costs a write one more small
//! row.
//!
//! At 4,000,000 entries the copy takes a few seconds. PostgreSQL's entries have no rowid, and
//! nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_search_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        // A change to a row's key, owner or record replaces its copy. An upsert sets the owner
        // on every write, mostly to what it was: those leave the copy alone.
        conn.execute_unprepared(
            "CREATE TABLE search_keys (
                rowid INTEGER PRIMARY KEY,
                owner_id BLOB NOT NULL,
                record_id BLOB NOT NULL
            );
            INSERT INTO search_keys (rowid, owner_id, record_id)
                SELECT rowid, owner_id, record_id FROM search_entries ORDER BY rowid;
            CREATE TRIGGER search_keys_ai AFTER INSERT ON search_entries BEGIN
                INSERT INTO search_keys (rowid, owner_id, record_id)
                    VALUES (new.rowid, new.owner_id, new.record_id);
            END;
            CREATE TRIGGER search_keys_ad AFTER DELETE ON search_entries BEGIN
                DELETE FROM search_keys WHERE rowid = old.rowid;
            END;
            CREATE TRIGGER search_keys_au AFTER UPDATE OF rowid, owner_id, record_id ON search_entries
            WHEN new.rowid IS NOT old.rowid OR new.owner_id IS NOT old.owner_id
                OR new.record_id IS NOT old.record_id
            BEGIN
                DELETE FROM search_keys WHERE rowid = old.rowid;
                INSERT INTO search_keys (rowid, owner_id, record_id)
                    VALUES (new.rowid, new.owner_id, new.record_id);
            END;",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        conn.execute_unprepared(
            "DROP TRIGGER search_keys_ai;
            DROP TRIGGER search_keys_ad;
            DROP TRIGGER search_keys_au;
            DROP TABLE search_keys;",
        )
        .await?;
        Ok(())
    }
}
