//! Reading typed values out of result rows, with errors that name the column.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::QueryResult;
use sea_orm::sea_query::{Iden, Quote};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// A table's or column's name in a statement.
pub fn col(name: &str) -> Name {
    Name(name.to_string())
}

/// A name in a statement, quoted as sea-query's `Alias` is, without its detour: `Alias` writes
/// a name through two new strings and a `format!`, and a board's statements name six hundred
/// columns (3 % of its instructions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Iden for Name {
    fn unquoted(&self, s: &mut dyn fmt::Write) {
        // The writer is the statement's `String`, which cannot fail; `Iden` has no way to say so.
        let _ = s.write_str(&self.0);
    }

    fn prepare(&self, s: &mut dyn fmt::Write, q: Quote) {
        let close = q.right();
        let _ = s.write_char(q.left());
        // The closing quote doubled inside the name, as `Alias` writes it.
        for (i, part) in self.0.split(close).enumerate() {
            if i > 0 {
                let _ = s.write_char(close);
                let _ = s.write_char(close);
            }
            let _ = s.write_str(part);
        }
        let _ = s.write_char(close);
    }
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, name: &str) -> CoreResult<T> {
    row.try_get::<T>("", name)
        .map_err(|e| CoreError::Internal(format!("reading column {name}: {e}")))
}

/// The value at position `at` of a row whose columns are known in order; `name` only words the
/// error. A page decodes thousands of values, and finding each by name hashed it first.
pub fn get_at<T: sea_orm::TryGetable>(row: &QueryResult, at: usize, name: &str) -> CoreResult<T> {
    row.try_get_by_index::<T>(at)
        .map_err(|e| CoreError::Internal(format!("reading column {name} (#{at}): {e}")))
}

pub fn get_uuid(row: &QueryResult, name: &str) -> CoreResult<Uuid> {
    get(row, name)
}
pub fn get_opt_uuid(row: &QueryResult, name: &str) -> CoreResult<Option<Uuid>> {
    get(row, name)
}
pub fn get_string(row: &QueryResult, name: &str) -> CoreResult<String> {
    get(row, name)
}
pub fn get_opt_string(row: &QueryResult, name: &str) -> CoreResult<Option<String>> {
    get(row, name)
}
pub fn get_i64(row: &QueryResult, name: &str) -> CoreResult<i64> {
    get(row, name)
}
pub fn get_opt_i64(row: &QueryResult, name: &str) -> CoreResult<Option<i64>> {
    get(row, name)
}
pub fn get_bool(row: &QueryResult, name: &str) -> CoreResult<bool> {
    get(row, name)
}
pub fn get_opt_bool(row: &QueryResult, name: &str) -> CoreResult<Option<bool>> {
    get(row, name)
}
pub fn get_ts(row: &QueryResult, name: &str) -> CoreResult<DateTime<Utc>> {
    get(row, name)
}
pub fn get_opt_ts(row: &QueryResult, name: &str) -> CoreResult<Option<DateTime<Utc>>> {
    get(row, name)
}
pub fn get_opt_date(row: &QueryResult, name: &str) -> CoreResult<Option<NaiveDate>> {
    get(row, name)
}
pub fn get_json(row: &QueryResult, name: &str) -> CoreResult<serde_json::Value> {
    get(row, name)
}
pub fn get_opt_f64(row: &QueryResult, name: &str) -> CoreResult<Option<f64>> {
    get(row, name)
}

#[cfg(test)]
mod name_tests {
    use sea_orm::sea_query::{
        Alias, Expr, MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder,
    };

    use super::col;

    #[test]
    fn names_are_quoted_as_sea_query_quotes_them() {
        for name in ["id", "owner_id", "a\"b", "\"", "a`b", "名字", ""] {
            let ours = Query::select()
                .column((col("t"), col(name)))
                .from(col(name))
                .and_where(Expr::col(col(name)).eq(1))
                .to_owned();
            let theirs = Query::select()
                .column((Alias::new("t"), Alias::new(name)))
                .from(Alias::new(name))
                .and_where(Expr::col(Alias::new(name)).eq(1))
                .to_owned();
            assert_eq!(
                ours.to_string(SqliteQueryBuilder),
                theirs.to_string(SqliteQueryBuilder)
            );
            assert_eq!(
                ours.to_string(PostgresQueryBuilder),
                theirs.to_string(PostgresQueryBuilder)
            );
            assert_eq!(
                ours.to_string(MysqlQueryBuilder),
                theirs.to_string(MysqlQueryBuilder)
            );
        }
    }
}
