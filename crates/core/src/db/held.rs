//! Records' rows held back in a bulk load, to go to the database several records at a time:
//! each table's rows of them as one multi-row `INSERT`.
//!
//! A record's rows sent ahead (`ahead`) overlap the loader's work with the database's, but one
//! record at a time: when the connection has written a record it waits for the loader's thread
//! to wake, take the answer and hand over the next record, and the loader's thread waits for the
//! connection's likewise. On two cores the two threads mostly took turns: importing 100,000
//! contacts, each was busy about half the time (`bench/README.md` §40). Held, a few dozen
//! records go in one hand-over and the connection writes them in one go, while the loader works
//! out the next ones; a table's rows in one statement also cost SQLite less than one statement
//! each.
//!
//! What is held goes before anything else the transaction is asked (a read must see it, a commit
//! must hold it), so the statements still run in the order they were made as far as anyone can
//! see. Within the held records, the records' own rows go first, all in one statement; then each
//! other table's rows in the order the table first came (a record's lines, its matching keys, its
//! audit entry), which refer to their own record only, never to another record's other rows.
//! Records of another table (an account made for a contact's company) are not held together with
//! them: what is held goes first, so a contact that names the account is written after it.
//! A statement that cannot be merged (a search entry, whose key is allocated from the entries
//! before it) goes as it is, after the same statement of the records before.

use sea_orm::{DbBackend, Statement};

use super::TableRow;
use crate::error::CoreResult;

/// Most records held before they go: enough that the hand-over is a small part of their
/// writing, few enough that a statement stays far below either backend's limit of parameters
/// (a contact's rows take about fifty).
pub(super) const HOLD: usize = 32;

/// One part of a record's write.
pub enum Part {
    /// Rows of one table, all with the same columns.
    Rows(Vec<TableRow>),
    /// A statement that goes as it is.
    Alone(Statement),
}

/// The rows or statements of the held records that go as one.
enum Group {
    Rows(Vec<TableRow>),
    Alone(Vec<Statement>),
}

impl Group {
    /// Whether `part` goes with this group: rows of the same table with the same columns, or
    /// the same statement.
    fn takes(&self, part: &Part) -> bool {
        match (self, part) {
            (Group::Rows(held), Part::Rows(rows)) => match (held.first(), rows.first()) {
                (Some(a), Some(b)) => a.table == b.table && a.names().eq(b.names()),
                _ => false,
            },
            (Group::Alone(held), Part::Alone(s)) => held.first().is_some_and(|h| h.sql == s.sql),
            _ => false,
        }
    }
}

/// The records held so far.
#[derive(Default)]
pub(super) struct Held {
    groups: Vec<Group>,
    records: usize,
}

impl Held {
    pub(super) fn len(&self) -> usize {
        self.records
    }

    /// Whether a record written as `parts` may be held with those held: nothing is held, or its
    /// own row goes to the same table with the same columns as theirs.
    pub(super) fn joins(&self, parts: &[Part]) -> bool {
        match (self.groups.first(), parts.first()) {
            (None, _) => true,
            (Some(first), Some(part)) => first.takes(part),
            (Some(_), None) => true,
        }
    }

    /// Holds a record's write, `parts` in the order the record writes them.
    pub(super) fn add(&mut self, parts: Vec<Part>) {
        self.records += 1;
        for part in parts {
            if let Part::Rows(rows) = &part
                && rows.is_empty()
            {
                continue;
            }
            match self.groups.iter_mut().find(|g| g.takes(&part)) {
                Some(Group::Rows(held)) => {
                    if let Part::Rows(rows) = part {
                        held.extend(rows);
                    }
                }
                Some(Group::Alone(held)) => {
                    if let Part::Alone(s) = part {
                        held.push(s);
                    }
                }
                None => self.groups.push(match part {
                    Part::Rows(rows) => Group::Rows(rows),
                    Part::Alone(s) => Group::Alone(vec![s]),
                }),
            }
        }
    }

    /// The statements that write what is held, in order.
    pub(super) fn statements(self, backend: DbBackend) -> CoreResult<Vec<Statement>> {
        let mut out = Vec::with_capacity(self.groups.len() + self.records);
        for group in self.groups {
            match group {
                Group::Rows(rows) => out.extend(TableRow::statement_of(backend, rows)?),
                Group::Alone(statements) => out.extend(statements),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::Value as SqlValue;

    fn row(table: &'static str, columns: &[&str], n: i64) -> TableRow {
        TableRow::new(
            table,
            columns
                .iter()
                .map(|c| (c.to_string(), SqlValue::from(n)))
                .collect(),
        )
    }

    fn record(n: i64, points: usize) -> Vec<Part> {
        vec![
            Part::Rows(vec![row("people", &["id", "name"], n)]),
            Part::Rows(
                (0..points)
                    .map(|_| row("points", &["id", "v"], n))
                    .collect(),
            ),
            Part::Alone(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO entries (id) VALUES (?)",
                [SqlValue::from(n)],
            )),
            Part::Rows(vec![row("audit", &["id"], n)]),
        ]
    }

    /// Held records go as one insert per table, the records' own first, other tables in the
    /// order they came, and an unmergeable statement once per record, in the records' order.
    #[test]
    fn held_records_go_table_by_table_in_order() {
        let mut held = Held::default();
        held.add(record(1, 0));
        assert!(held.joins(&record(2, 2)));
        held.add(record(2, 2));
        held.add(record(3, 1));
        assert_eq!(held.len(), 3);
        let statements = held.statements(DbBackend::Sqlite).unwrap();
        let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                r#"INSERT INTO "people" ("id", "name") VALUES (?, ?), (?, ?), (?, ?)"#,
                "INSERT INTO entries (id) VALUES (?)",
                "INSERT INTO entries (id) VALUES (?)",
                "INSERT INTO entries (id) VALUES (?)",
                r#"INSERT INTO "audit" ("id") VALUES (?), (?), (?)"#,
                r#"INSERT INTO "points" ("id", "v") VALUES (?, ?), (?, ?), (?, ?)"#,
            ]
        );
        let values = |i: usize| statements[i].values.clone().unwrap().0;
        assert_eq!(values(0), [1i64, 1, 2, 2, 3, 3].map(SqlValue::from));
        assert_eq!(values(2), [SqlValue::from(2i64)]);
        assert_eq!(values(5), [2i64, 2, 2, 2, 3, 3].map(SqlValue::from));
    }

    /// A record of another table, or with other columns, does not join those held.
    #[test]
    fn another_tables_record_waits_for_the_held_to_go() {
        let mut held = Held::default();
        held.add(record(1, 1));
        let other = vec![Part::Rows(vec![row("companies", &["id", "name"], 2)])];
        assert!(!held.joins(&other));
        let narrower = vec![Part::Rows(vec![row("people", &["id"], 2)])];
        assert!(!held.joins(&narrower));
        assert!(Held::default().joins(&other));
    }
}
