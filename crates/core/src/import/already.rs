//! The lines of a file that earlier runs imported, which a run passes over (see
//! [`super::run`]'s re-runs).

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, Query};

use super::run::Outcome;
use crate::Core;
use crate::db::{self, col, get_i64};
use crate::error::CoreResult;
use crate::records::def::EntityDef;

/// How many lines' outcomes of an earlier run are read at a time.
const IMPORTED_WINDOW: u64 = 20_000;

/// The lines of the file already imported for `def` (any outcome but a failure or an undo), read a window
/// of lines at a time as the file is read (its lines only grow), so that a re-run of a file of
/// millions of rows never holds all of them.
pub(super) struct Imported {
    /// Whether an earlier run imported any line of the file at all.
    any: bool,
    /// The window read: lines from `from` up to `to`, and those of them imported.
    from: u64,
    to: u64,
    lines: HashSet<u64>,
}

impl Imported {
    pub(super) async fn open(
        core: &Core,
        def: &EntityDef,
        fingerprint: &str,
    ) -> CoreResult<Imported> {
        let mut q = Self::query(def, fingerprint);
        q.limit(1);
        let any = !db::fetch_all(core.db.reader(), &q).await?.is_empty();
        Ok(Imported {
            any,
            from: 0,
            to: 0,
            lines: HashSet::new(),
        })
    }

    fn query(def: &EntityDef, fingerprint: &str) -> sea_orm::sea_query::SelectStatement {
        let mut q = Query::select();
        q.column(col("line"))
            .from(col("import_rows"))
            .and_where(Expr::col(col("entity")).eq(def.name))
            .and_where(Expr::col(col("fingerprint")).eq(fingerprint))
            // A row that failed, or whose record an undo took back, is imported again.
            .and_where(Expr::col(col("outcome")).is_not_in([Outcome::Failed.as_str(), "undone"]));
        q
    }

    pub(super) async fn contains(
        &mut self,
        core: &Core,
        def: &EntityDef,
        fingerprint: &str,
        line: u64,
    ) -> CoreResult<bool> {
        if !self.any || line == 0 {
            return Ok(false);
        }
        if line < self.from || line >= self.to {
            self.from = line;
            self.to = line.saturating_add(IMPORTED_WINDOW);
            let mut q = Self::query(def, fingerprint);
            q.and_where(Expr::col(col("line")).gte(i64::try_from(self.from).unwrap_or(i64::MAX)))
                .and_where(Expr::col(col("line")).lt(i64::try_from(self.to).unwrap_or(i64::MAX)));
            self.lines.clear();
            for row in db::fetch_all(core.db.reader(), &q).await? {
                self.lines
                    .insert(u64::try_from(get_i64(&row, "line")?).unwrap_or(0));
            }
        }
        Ok(self.lines.contains(&line))
    }
}
