//! PostgreSQL documents keep each token's first 2, 3, 4 and 5 characters as lexemes of their own
//! (`search::prefix_lexemes`), so that a prefix typed into the search box is one exact look-up
//! in the text index. A `tsquery` prefix (`zhon:*`) reads the posting list of every lexeme that
//! starts so, all of them, before `LIMIT` applies: at 100,000 accounts and 300,000 contacts the
//! search box's mix took a sales rep 129.7 ms p99 (bench §17).
//!
//! Every stored document gets its prefix lexemes here, at the positions of their tokens: one
//! statement over the whole table, which rewrites every entry and its index entries (minutes at
//! millions of entries). SQLite keeps the same prefixes in its index itself (m0021); nothing
//! changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0022_search_prefix_lexemes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if conn.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The same lexemes `search::tsvector_literal` writes: none for piece tokens (which start
        // with the mark), none for one character, and none twice (a document written after
        // this release already has them).
        conn.execute_unprepared(
            "UPDATE search_entries SET doc = doc || COALESCE((
                SELECT string_agg(
                    quote_literal('ǂǂ' || left(u.lexeme, n)) || ':' || array_to_string(u.positions, ','),
                    ' ')::tsvector
                FROM unnest(search_entries.doc) AS u,
                     generate_series(2, least(5, char_length(u.lexeme))) AS n
                WHERE left(u.lexeme, 1) <> 'ǂ'
            ), ''::tsvector)
            WHERE NOT EXISTS (
                SELECT 1 FROM unnest(search_entries.doc) AS u WHERE left(u.lexeme, 2) = 'ǂǂ'
            )",
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
            "UPDATE search_entries SET doc = COALESCE((
                SELECT string_agg(
                    quote_literal(u.lexeme) || ':' || array_to_string(u.positions, ','), ' ')::tsvector
                FROM unnest(search_entries.doc) AS u
                WHERE left(u.lexeme, 2) <> 'ǂǂ'
            ), ''::tsvector)",
        )
        .await?;
        Ok(())
    }
}
