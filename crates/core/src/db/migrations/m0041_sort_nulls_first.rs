//! PostgreSQL: the sort indexes of nullable columns sort NULLs first, as every list asks.
//!
//! Lists put blanks first ascending and last descending on both backends (`ORDER BY c ASC
//! NULLS FIRST` / `DESC NULLS LAST`), which is SQLite's order. PostgreSQL's indexes keep NULLs
//! last unless told, and an index in the other NULL order serves that `ORDER BY` in neither
//! direction: the board's columns (by stage, then close date) fetched every deal of a stage and
//! sorted them to show 51, 10 ms a column at a tenth of the scale where reading the index in
//! order takes a fraction of one. m0003 declared its indexes so; later ones (the board's, the
//! activities' due and start times, amounts) were not.
//!
//! Every index of the shape a sort or keyset read uses, `(…, column, id)`, is rebuilt with its
//! nullable columns `NULLS FIRST`; a test holds that none is left otherwise
//! ([`sort_indexes_with_nulls_last`]). SQLite orders NULLs first in any index: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0041_sort_nulls_first"
    }
}

/// An index to rebuild: its name, table, key columns as `CREATE INDEX` should list them, and its
/// predicate if partial.
#[derive(Debug)]
pub struct SortIndex {
    pub name: String,
    pub table: String,
    pub columns: String,
    pub predicate: Option<String>,
}

/// On PostgreSQL, the plain B-tree indexes whose last key column is `id` and which keep some
/// nullable key column's NULLs last (empty on SQLite). Expression, unique and primary-key
/// indexes are not sort indexes and are left out.
pub async fn sort_indexes_with_nulls_last<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<SortIndex>, DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(Vec::new());
    }
    // `indoption` bit 2 is NULLS FIRST; key columns are the first `indnkeyatts` of `indkey`.
    let sql = r#"
        SELECT c.relname AS name, t.relname AS tbl,
          (SELECT string_agg(quote_ident(a.attname)
                   || CASE WHEN a.attnotnull THEN '' ELSE ' NULLS FIRST' END, ', ' ORDER BY k.ord)
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts) AS cols,
          pg_get_expr(i.indpred, i.indrelid) AS pred
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_am am ON am.oid = c.relam
        WHERE n.nspname = current_schema() AND am.amname = 'btree'
          AND NOT i.indisunique AND NOT i.indisprimary AND i.indexprs IS NULL
          AND (SELECT a.attname FROM pg_attribute a
               WHERE a.attrelid = i.indrelid AND a.attnum = (i.indkey::int2[])[i.indnkeyatts - 1]) = 'id'
          AND EXISTS (
              SELECT 1 FROM unnest(i.indkey::int2[], i.indoption::int2[]) WITH ORDINALITY k(attnum, opt, ord)
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts AND NOT a.attnotnull AND (k.opt & 2) = 0)
        ORDER BY c.relname"#;
    let rows = conn
        .query_all(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SortIndex {
                name: r.try_get("", "name")?,
                table: r.try_get("", "tbl")?,
                columns: r.try_get("", "cols")?,
                predicate: r.try_get("", "pred")?,
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for ix in sort_indexes_with_nulls_last(conn).await? {
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            conn.execute_unprepared(&format!("DROP INDEX {}", quote(&ix.name)))
                .await?;
            let mut create = format!(
                "CREATE INDEX {} ON {} ({})",
                quote(&ix.name),
                quote(&ix.table),
                ix.columns
            );
            if let Some(p) = &ix.predicate {
                create.push_str(&format!(" WHERE {p}"));
            }
            conn.execute_unprepared(&create).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The NULL order of an index changes no result, only which reads it serves.
        Ok(())
    }
}
