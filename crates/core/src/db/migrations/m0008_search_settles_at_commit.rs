//! SQLite's full-text index is written once per commit instead of once per write.
//!
//! Writes share a commit, each in its own savepoint (`db::group_commit`), and FTS5 writes its
//! pending terms to disk as a new segment at every savepoint it takes part in, then merges
//! segments: half the time of a write went there. So the triggers on `search_entries` no longer
//! write to `search_fts`; they note which rows changed, with the document the index holds for
//! each, and [`SETTLE`] brings the index up to date with those notes in the same transaction,
//! just before it commits. A note made in a savepoint that is rolled back goes with it.
//!
//! The note keeps the first document seen for a row: that is the one the index holds, however
//! often the row changes before the commit; a row that is new has none. (`WHERE NOT EXISTS`
//! rather than `INSERT OR IGNORE`: an upsert's conflict handling overrides a trigger's, so the
//! second change of a row in one transaction failed on the note's key.)
//! Reads that use the index inside a transaction (`search::holding`) also take the noted rows,
//! and then check the text itself, so they stay exact before the index is settled.
//!
//! PostgreSQL's index is a column of `search_entries` and needs none of this.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_search_settles_at_commit"
    }
}

/// Brings `search_fts` up to date with the noted rows; run in the transaction, before commit.
pub(crate) const SETTLE: &str = "
    INSERT INTO search_fts(search_fts, rowid, doc)
        SELECT 'delete', rowid, indexed_doc FROM search_fts_pending WHERE indexed_doc IS NOT NULL;
    INSERT INTO search_fts(rowid, doc)
        SELECT e.rowid, e.doc FROM search_fts_pending p JOIN search_entries e ON e.rowid = p.rowid;
    DELETE FROM search_fts_pending;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        conn.execute_unprepared(
            "CREATE TABLE search_fts_pending (
                rowid INTEGER PRIMARY KEY,
                indexed_doc TEXT
            );
            DROP TRIGGER search_entries_ai;
            DROP TRIGGER search_entries_ad;
            DROP TRIGGER search_entries_au;
            CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN
                INSERT INTO search_fts_pending(rowid, indexed_doc) SELECT new.rowid, NULL
                    WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE rowid = new.rowid);
            END;
            CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN
                INSERT INTO search_fts_pending(rowid, indexed_doc) SELECT old.rowid, old.doc
                    WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE rowid = old.rowid);
            END;
            CREATE TRIGGER search_entries_au AFTER UPDATE OF doc ON search_entries BEGIN
                INSERT INTO search_fts_pending(rowid, indexed_doc) SELECT old.rowid, old.doc
                    WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE rowid = old.rowid);
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
        conn.execute_unprepared(SETTLE).await?;
        conn.execute_unprepared(
            "DROP TRIGGER search_entries_ai;
            DROP TRIGGER search_entries_ad;
            DROP TRIGGER search_entries_au;
            DROP TABLE search_fts_pending;
            CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN
                INSERT INTO search_fts(rowid, doc) VALUES (new.rowid, new.doc);
            END;
            CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN
                INSERT INTO search_fts(search_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
            END;
            CREATE TRIGGER search_entries_au AFTER UPDATE OF doc ON search_entries BEGIN
                INSERT INTO search_fts(search_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
                INSERT INTO search_fts(rowid, doc) VALUES (new.rowid, new.doc);
            END;",
        )
        .await?;
        Ok(())
    }
}
