//! How many statements of a transaction could have written, and how many failed.
//!
//! A caller that compares two readings knows whether the work between them wrote nothing and met
//! no failure: an import's row refused before its write, which the batch can then leave out
//! without being taken back. Reads are told from writes by their text: a query that does not
//! start with `SELECT` counts as a write (`INSERT … RETURNING`, a `WITH` that may hold one).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use sea_orm::{DbErr, Statement};

#[derive(Default)]
pub(super) struct Tally {
    writes: AtomicU64,
    failures: AtomicU64,
}

/// A reading of a transaction's tally (`WriteTxn::statements`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statements {
    pub writes: u64,
    pub failures: u64,
}

impl Tally {
    pub(super) fn wrote(&self) {
        self.writes.fetch_add(1, Relaxed);
    }

    /// Counts `out` a failure if it is one, and hands it on.
    pub(super) fn outcome<T>(&self, out: Result<T, DbErr>) -> Result<T, DbErr> {
        if out.is_err() {
            self.failures.fetch_add(1, Relaxed);
        }
        out
    }

    /// Counts a query a write unless it is a `SELECT`.
    pub(super) fn query(&self, stmt: &Statement) {
        if !is_read(&stmt.sql) {
            self.wrote();
        }
    }

    pub(super) fn reading(&self) -> Statements {
        Statements {
            writes: self.writes.load(Relaxed),
            failures: self.failures.load(Relaxed),
        }
    }
}

fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_select_is_a_read() {
        assert!(is_read("SELECT 1"));
        assert!(is_read("\n  select * from t"));
        assert!(!is_read("INSERT INTO t (a) VALUES (1) RETURNING id"));
        assert!(!is_read(
            "WITH x AS (DELETE FROM t RETURNING id) SELECT * FROM x"
        ));
        assert!(!is_read("UPDATE t SET a = 1"));
        assert!(!is_read("SEL"));
    }

    #[test]
    fn a_reading_counts_writes_and_failures() {
        let t = Tally::default();
        t.query(&Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT 1",
        ));
        assert_eq!(
            t.reading(),
            Statements {
                writes: 0,
                failures: 0
            }
        );
        t.wrote();
        let failed: Result<(), DbErr> = t.outcome(Err(DbErr::Custom("refused".into())));
        assert!(failed.is_err());
        assert_eq!(t.outcome(Ok(1)).ok(), Some(1));
        assert_eq!(
            t.reading(),
            Statements {
                writes: 1,
                failures: 1
            }
        );
    }
}
