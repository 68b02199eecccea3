//! One row of one table as a write stores it, and the one multi-row `INSERT` that writes such
//! rows, its SQL text written directly for either backend.

use sea_orm::sea_query::{InsertStatement, Query, SimpleExpr, Value as SqlValue};
use sea_orm::{ConnectionTrait, Statement};

use super::col;
use crate::error::{CoreError, CoreResult};

/// One row of one table: its columns and the values stored in them, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub table: &'static str,
    pub columns: Vec<(String, SqlValue)>,
}

impl TableRow {
    pub fn new(table: &'static str, columns: Vec<(String, SqlValue)>) -> TableRow {
        TableRow { table, columns }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(c, _)| c.as_str())
    }

    pub fn values(&self) -> impl Iterator<Item = &SqlValue> {
        self.columns.iter().map(|(_, v)| v)
    }

    /// The value of column `name`, if the row has it.
    pub fn get(&self, name: &str) -> Option<&SqlValue> {
        self.columns.iter().find(|(c, _)| c == name).map(|(_, v)| v)
    }

    /// Replaces the value of column `name`, if the row has it.
    pub fn set(&mut self, name: &str, value: SqlValue) {
        if let Some((_, v)) = self.columns.iter_mut().find(|(c, _)| c == name) {
            *v = value;
        }
    }

    /// One `INSERT` of `rows`, which must all be rows of the same table with the same columns;
    /// `None` when there are none.
    pub fn insert_all(rows: &[TableRow]) -> CoreResult<Option<InsertStatement>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut q = Query::insert();
        q.into_table(col(first.table))
            .columns(first.names().map(col));
        for row in rows {
            if row.table != first.table || !row.names().eq(first.names()) {
                return Err(CoreError::Internal(format!(
                    "rows of {} and {} in one insert",
                    first.table, row.table
                )));
            }
            q.values(row.values().map(|v| SimpleExpr::Value(v.clone())))
                .map_err(|e| CoreError::Internal(format!("building an insert: {e}")))?;
        }
        Ok(Some(q))
    }
}

impl TableRow {
    /// [`Self::insert_all`] as the statement it builds for `conn`'s backend, its SQL text
    /// written directly: the same text and parameters, without building a statement tree for
    /// every row a write adds (a tenth of a bulk load's time went there).
    pub fn statement_all<C: ConnectionTrait>(
        conn: &C,
        rows: &[TableRow],
    ) -> CoreResult<Option<Statement>> {
        Self::statement_of(conn.get_database_backend(), rows.to_vec())
    }

    /// [`Self::statement_all`] of rows that go into the statement: their values are moved, not
    /// copied (a record's search document and audit changes are its largest).
    pub(crate) fn statement_of(
        backend: sea_orm::DbBackend,
        rows: Vec<TableRow>,
    ) -> CoreResult<Option<Statement>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let width = first.columns.len();
        let mut sql = String::with_capacity(32 + width * (16 + 6 * rows.len()));
        sql.push_str("INSERT INTO ");
        quote(&mut sql, first.table);
        sql.push_str(" (");
        for (i, name) in first.names().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            quote(&mut sql, name);
        }
        sql.push_str(") VALUES ");
        let table = first.table;
        let names: Vec<String> = first.names().map(str::to_string).collect();
        let mut values = Vec::with_capacity(width * rows.len());
        for (r, row) in rows.into_iter().enumerate() {
            if row.table != table || !row.names().eq(names.iter().map(String::as_str)) {
                return Err(CoreError::Internal(format!(
                    "rows of {} and {} in one insert",
                    table, row.table
                )));
            }
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (i, (_, v)) in row.columns.into_iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    sea_orm::DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(values.len() + 1).to_string());
                    }
                    _ => sql.push('?'),
                }
                values.push(v);
            }
            sql.push(')');
        }
        Ok(Some(Statement::from_sql_and_values(backend, sql, values)))
    }

    /// Inserts `rows` (see [`Self::statement_all`]); how many were written.
    pub async fn write_all<C: ConnectionTrait>(conn: &C, rows: &[TableRow]) -> CoreResult<u64> {
        match Self::statement_all(conn, rows)? {
            Some(s) => Ok(conn.execute(s).await?.rows_affected()),
            None => Ok(0),
        }
    }
}

/// An identifier as sea-query quotes one for both backends: in double quotes, a double quote
/// doubled.
fn quote(sql: &mut String, name: &str) {
    sql.push('"');
    for c in name.chars() {
        if c == '"' {
            sql.push('"');
        }
        sql.push(c);
    }
    sql.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directly written insert is sea-query's, text and parameters.
    #[test]
    fn direct_inserts_are_sea_querys() {
        let rows = vec![
            TableRow::new(
                "t",
                vec![
                    ("a".into(), SqlValue::from(1i64)),
                    ("b\"c".into(), SqlValue::from("x")),
                ],
            ),
            TableRow::new(
                "t",
                vec![
                    ("a".into(), SqlValue::from(2i64)),
                    ("b\"c".into(), SqlValue::from("y")),
                ],
            ),
        ];
        let q = TableRow::insert_all(&rows).unwrap().unwrap();
        use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
        let sqlite = TableRow::statement_of(sea_orm::DbBackend::Sqlite, rows.clone())
            .unwrap()
            .unwrap();
        let (sql, values) = q.build(SqliteQueryBuilder);
        assert_eq!(sqlite.sql, sql);
        assert_eq!(sqlite.values, Some(values));
        let pg = TableRow::statement_of(sea_orm::DbBackend::Postgres, rows.clone())
            .unwrap()
            .unwrap();
        let (sql, values) = q.build(PostgresQueryBuilder);
        assert_eq!(pg.sql, sql);
        assert_eq!(pg.values, Some(values));
    }
}
