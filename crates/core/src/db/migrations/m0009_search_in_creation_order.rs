//! SQLite's search entries are keyed in the order their records were created
//! (`search::order`): each existing entry gets the first free key of its record's creation
//! millisecond, and the full-text index, which is keyed by the same rowids, is rebuilt.
//!
//! The creation instant comes from each entity's table, found through the registry by the
//! entity name the entry holds. An entry whose record cannot be found, or was created before
//! 1970, gets a negative key: it is then read by every ordered search that its pieces match.
//! At 4,000,000 records it took about 7 minutes (re-keying 2.5, rebuilding the index 4).
//!
//! PostgreSQL's entries have no rowid, and nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::search::order::SLOT_BITS;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_search_in_creation_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        // The creation instants of the records that entries name, entity by entity, for the
        // entities whose tables exist at this point of the schema's history.
        let mut instants = Vec::new();
        for def in crate::areas::registry().all() {
            let found = conn
                .query_one(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    [def.table.into()],
                ))
                .await?;
            if found.is_some() {
                instants.push(format!(
                    "SELECT e.rowid AS old, t.created_at AS at FROM search_entries e \
                     JOIN \"{table}\" t ON t.id = e.record_id WHERE e.entity = '{entity}'",
                    table = def.table,
                    entity = def.name,
                ));
            }
        }
        let instants = if instants.is_empty() {
            "SELECT NULL AS old, NULL AS at WHERE 0".to_string()
        } else {
            instants.join(" UNION ALL ")
        };
        // The creation millisecond, cut from the stored UTC text ("2026-12-04 05:41:52.123456"
        // and an offset, or "…T…Z") as `search::order::slot` cuts it in Rust: SQLite's own date
        // functions round to the nearest millisecond, which can carry into the next second.
        let ms = "CAST(strftime('%s', substr(i.at, 1, 19)) AS INTEGER) * 1000 \
                  + CASE WHEN substr(i.at, 20, 1) = '.' \
                         THEN CAST(substr(i.at || '000', 21, 3) AS INTEGER) ELSE 0 END";
        let slot = 1i64 << SLOT_BITS;
        conn.execute_unprepared(&format!(
            "{settle}
            CREATE TEMP TABLE search_keys AS
                SELECT old, ms, ROW_NUMBER() OVER (PARTITION BY ms ORDER BY old) - 1 AS n
                FROM (SELECT e.rowid AS old, CASE WHEN i.at IS NULL THEN NULL ELSE {ms} END AS ms
                      FROM search_entries e LEFT JOIN ({instants}) i ON i.old = e.rowid);
            UPDATE search_keys SET ms = NULL WHERE ms < 0 OR n >= {slot};
            CREATE TEMP TABLE search_rekey AS
                SELECT old, ms * {slot} + n AS new FROM search_keys WHERE ms IS NOT NULL
                UNION ALL
                SELECT old, -ROW_NUMBER() OVER (ORDER BY old) AS new FROM search_keys WHERE ms IS NULL;
            CREATE INDEX temp.search_rekey_old ON search_rekey (old);
            UPDATE search_entries SET rowid = (SELECT new FROM search_rekey r WHERE r.old = search_entries.rowid);
            DROP TABLE search_rekey;
            DROP TABLE search_keys;
            INSERT INTO search_fts(search_fts) VALUES ('rebuild');",
            settle = super::SETTLE_SEARCH_INDEX,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The old keys carried no meaning; the new ones serve as well without the ordered reads.
        Ok(())
    }
}
