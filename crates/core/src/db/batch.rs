//! Several writes sent to the database as one.
//!
//! SQLite has one writer, and the writes that share a commit (`group_commit`) run one after the
//! other on it. Each statement is a round trip to the connection's thread, two thread switches,
//! and under load a wait for the request's task to be scheduled again, all while the next
//! writes wait their turn. A record's rows (the record, its search entry, its audit entry) are
//! therefore sent as one SQL text with their parameters in order, which SQLite runs statement by
//! statement, binding each one's parameters after the previous one's.
//!
//! PostgreSQL does not take parameters with several statements in one text, and there each
//! statement is a network round trip, which is most of what a record's create costs. So when
//! every statement of a batch writes (`INSERT`, `UPDATE`, `DELETE`), they go as one statement:
//! all but the last become data-modifying parts of a `WITH`, their parameters numbered on after
//! the previous ones'. PostgreSQL runs each part exactly once and to completion, and checks the
//! foreign keys at the end of the statement, as it would after the last of separate ones; the
//! rows written are the same. The parts see the same snapshot, so a batch must not hold two
//! writes of which one reads what the other writes (a record's rows never do: each goes to a
//! table of its own, or adds rows beside the others).

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use super::{Backend, backend_of};
use crate::error::CoreResult;

/// Statements to run in order, in the same transaction as the connection they run on.
#[derive(Default)]
pub struct Batch {
    statements: Vec<Statement>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn from_statements(statements: Vec<Statement>) -> Batch {
        Batch { statements }
    }

    pub fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Runs them all: on SQLite in one round trip. The first failure stops the rest; the caller's
    /// transaction (or savepoint) then undoes what ran.
    pub async fn run<C: ConnectionTrait>(self, conn: &C) -> CoreResult<()> {
        for s in self.into_statements(backend_of(conn)) {
            conn.execute(s).await?;
        }
        Ok(())
    }

    /// The statements as they are sent: on SQLite one text, on PostgreSQL one statement where
    /// every part writes.
    pub(super) fn into_statements(self, backend: Backend) -> Vec<Statement> {
        match backend {
            Backend::Sqlite if self.statements.len() > 1 => {
                let mut sql = String::new();
                let mut values: Vec<Value> = Vec::new();
                for s in self.statements {
                    sql.push_str(&s.sql);
                    sql.push_str(";\n");
                    values.extend(s.values.map(|v| v.0).unwrap_or_default());
                }
                vec![Statement::from_sql_and_values(
                    DatabaseBackend::Sqlite,
                    sql,
                    values,
                )]
            }
            Backend::Postgres
                if self.statements.len() > 1 && self.statements.iter().all(writes) =>
            {
                let (sql, values) = as_one_statement(self.statements);
                vec![Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    sql,
                    values,
                )]
            }
            _ => self.statements,
        }
    }
}

/// Whether a statement only writes, so that it may be a part of a `WITH`.
fn writes(s: &Statement) -> bool {
    let head = s.sql.trim_start();
    ["INSERT", "UPDATE", "DELETE"].iter().any(|verb| {
        head.get(..verb.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(verb))
    })
}

/// PostgreSQL's statements as one: `WITH w0 AS (first), w1 AS (second), … last`, each one's
/// parameters (`$1`, `$2`, …) numbered on after the previous ones'.
fn as_one_statement(statements: Vec<Statement>) -> (String, Vec<Value>) {
    let last = statements.len().saturating_sub(1);
    let mut sql = String::with_capacity(statements.iter().map(|s| s.sql.len() + 16).sum());
    let mut values: Vec<Value> = Vec::new();
    for (i, s) in statements.into_iter().enumerate() {
        if i < last {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ("));
            renumber(&s.sql, values.len(), &mut sql);
            sql.push(')');
        } else {
            sql.push(' ');
            renumber(&s.sql, values.len(), &mut sql);
        }
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
    }
    (sql, values)
}

/// Copies `sql` into `out` with every parameter `$n` outside quotes as `$(n + by)`.
fn renumber(sql: &str, by: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + by).to_string());
            }
            None => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_become_one_with_their_parameters_numbered_on() {
        let st = |sql: &str, n: i64| {
            Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                vec![Value::from(n), Value::from(n + 1)],
            )
        };
        let (sql, values) = as_one_statement(vec![
            st("INSERT INTO a (x, y) VALUES ($1, $2)", 1),
            st("INSERT INTO b (\"$1\", y) VALUES ($1, '$2'), ($2, $1)", 3),
            st("DELETE FROM c WHERE x = $1 AND y = $2", 5),
        ]);
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2)), \
             w1 AS (INSERT INTO b (\"$1\", y) VALUES ($3, '$2'), ($4, $3)) \
             DELETE FROM c WHERE x = $5 AND y = $6"
        );
        assert_eq!(values.len(), 6);
        assert!(writes(&st("  insert into a values ($1)", 1)));
        assert!(!writes(&st("SELECT 1", 1)));
    }
}
