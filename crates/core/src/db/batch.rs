//! Several writes sent to the database as one.
//!
//! SQLite has one writer, and the writes that share a commit (`group_commit`) run one after the
//! other on it. Each statement is a round trip to the connection's thread, two thread switches,
//! and under load a wait for the request's task to be scheduled again, all while the next
//! writes wait their turn. A record's rows (the record, its search entry, its audit entry) are
//! therefore sent as one SQL text with their parameters in order, which SQLite runs statement by
//! statement, binding each one's parameters after the previous one's. PostgreSQL does not take
//! parameters with several statements, so there they go one by one, as before.

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

    pub fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Runs them all: on SQLite in one round trip. The first failure stops the rest; the caller's
    /// transaction (or savepoint) then undoes what ran.
    pub async fn run<C: ConnectionTrait>(self, conn: &C) -> CoreResult<()> {
        match backend_of(conn) {
            Backend::Sqlite if self.statements.len() > 1 => {
                let mut sql = String::new();
                let mut values: Vec<Value> = Vec::new();
                for s in self.statements {
                    sql.push_str(&s.sql);
                    sql.push_str(";\n");
                    values.extend(s.values.map(|v| v.0).unwrap_or_default());
                }
                conn.execute(Statement::from_sql_and_values(
                    DatabaseBackend::Sqlite,
                    sql,
                    values,
                ))
                .await?;
            }
            _ => {
                for s in self.statements {
                    conn.execute(s).await?;
                }
            }
        }
        Ok(())
    }
}
