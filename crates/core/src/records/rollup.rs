//! Running totals of an entity's live records (`EntityDef::rollup`), kept by database triggers
//! in a table of their own, `<table>_rollup`: one row per owner, dimension values, month and
//! currency, with the count and sums of the records there. An aggregation that groups only by
//! those and asks only for counts, sums and averages of those, with no filter, reads these rows
//! (thousands) instead of every record (millions).
//!
//! Triggers rather than the record engine keep them, so that every writer does: the engine's
//! writes, a bulk load, a migration's own statements. Each row the table holds is in exactly one
//! key: a record's insert adds to its key, its delete takes away, and an update that changes a
//! key (a new stage, an amount, its deletion to the recycle bin) moves it from one to the other,
//! in the same transaction. A key emptied stays with zero counts and is not read.
//!
//! Besides each owner's rows, every key is also kept for the whole company, under the owner
//! [`everyone_id`]: a reader who may read every record reads those few rows, where summing each
//! owner's would read as many rows as there are people (84,000 for a stage board of 4,000).
//! Whoever reads by owner (a scope, a grouping or a filter by owner) never reads them.
//!
//! Keys are never null (both databases treat nulls as distinct in a unique key): no value is
//! stored as the greatest id or `~`, which sort after every real value, so that reading the key
//! in order lists records without a value last, as the aggregation promises, without a sort.

use super::def::{EntityDef, FieldKind, RollupDef};
use crate::db::Backend;

/// What a column of the rollup holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimKind {
    Id,
    Text,
    /// `YYYY-MM` of a date.
    Month,
    /// A money field's currency: empty where there is no amount, which sorts first, as the
    /// records' own currencies do in an aggregation.
    Currency,
}

/// A key column of the rollup and where it comes from.
#[derive(Clone, Debug)]
pub struct Dim {
    /// The field it groups (`owner_id`, `stage_id`, `close_date`), or for a currency the money
    /// field's name with `_currency`.
    pub field: String,
    /// Its column in the rollup table.
    pub column: String,
    /// Its column in the entity's table.
    source: String,
    pub kind: DimKind,
    /// The date is an instant (stored with a time zone), not a calendar date.
    instant: bool,
}

impl Dim {
    /// A month of a calendar date (not of an instant, whose month depends on a time zone):
    /// bounds on the date that fall between months are bounds on it.
    pub fn is_calendar_date(&self) -> bool {
        self.kind == DimKind::Month && !self.instant
    }
}

/// A summed field and its columns.
#[derive(Clone, Debug)]
pub struct Sum {
    pub field: String,
    /// The stored value in the entity's table (`amount_amount`, `probability`).
    source: String,
    /// Its currency dim's column, for money.
    pub currency: Option<String>,
    pub sum_column: String,
    pub n_column: String,
}

/// The rollup of `def`, laid out.
#[derive(Clone, Debug)]
pub struct Layout {
    pub table: String,
    pub dims: Vec<Dim>,
    pub sums: Vec<Sum>,
}

/// The owner key, first in every rollup.
pub const OWNER: &str = "owner_id";

/// The layouts of `def`'s rollups, coarsest first. A declaration that cannot be kept (a field
/// that is not there or cannot name a group) is left out; the registry test holds every
/// declaration to this.
pub fn layouts(def: &EntityDef) -> Vec<Layout> {
    def.rollups.iter().filter_map(|r| layout(def, r)).collect()
}

/// The layout of one rollup. Its key starts with the owner, the months and the currencies, the
/// order most aggregations group in, so that reading the key in order groups as it goes.
pub fn layout(def: &EntityDef, r: &RollupDef) -> Option<Layout> {
    let mut dims = vec![Dim {
        field: OWNER.into(),
        column: OWNER.into(),
        source: OWNER.into(),
        kind: DimKind::Id,
        instant: false,
    }];
    for name in r.months {
        let (source, instant) = match *name {
            "created_at" | "updated_at" => (name.to_string(), true),
            _ => {
                let f = def.field(name)?;
                match f.kind {
                    FieldKind::Date => (f.column.to_string(), false),
                    FieldKind::DateTime => (f.column.to_string(), true),
                    _ => return None,
                }
            }
        };
        dims.push(Dim {
            field: name.to_string(),
            column: format!("{name}_month"),
            source,
            kind: DimKind::Month,
            instant,
        });
    }
    let mut sums = Vec::new();
    for name in r.sums {
        let f = def.field(name)?;
        let (source, currency) = match f.kind {
            FieldKind::Money => {
                let currency = format!("{}_currency", f.column);
                dims.push(Dim {
                    field: currency.clone(),
                    column: currency.clone(),
                    source: currency.clone(),
                    kind: DimKind::Currency,
                    instant: false,
                });
                (format!("{}_amount", f.column), Some(currency))
            }
            FieldKind::Int { .. }
            | FieldKind::Duration
            | FieldKind::Decimal { .. }
            | FieldKind::Percent => (f.column.to_string(), None),
            _ => return None,
        };
        sums.push(Sum {
            field: name.to_string(),
            source,
            currency,
            sum_column: format!("{name}_sum"),
            n_column: format!("{name}_n"),
        });
    }
    for name in r.dims {
        let f = def.field(name)?;
        let kind = match f.kind {
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => DimKind::Id,
            FieldKind::Choice(_) => DimKind::Text,
            _ => return None,
        };
        dims.push(Dim {
            field: name.to_string(),
            column: f.column.to_string(),
            source: f.column.to_string(),
            kind,
            instant: false,
        });
    }
    Some(Layout {
        table: format!("{}_rollup_{}", def.table, r.name),
        dims,
        sums,
    })
}

/// The id that stands for "none" in an id key: the greatest, so it sorts last.
pub fn none_id(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "x'ffffffffffffffffffffffffffffffff'",
        Backend::Postgres => "'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid",
    }
}

/// The owner the company's own totals are kept under: the nil id, which no user has.
pub fn everyone_id(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "x'00000000000000000000000000000000'",
        Backend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
    }
}

/// The text that stands for "none" in a text or month key: after digits and letters.
pub const NONE_TEXT: &str = "~";

impl Dim {
    /// The key of row `r` (`NEW` or `OLD` in a trigger, a table alias in a rebuild).
    fn key_of(&self, r: &str, backend: Backend) -> String {
        let c = format!("{r}.\"{}\"", self.source);
        match (self.kind, backend) {
            (DimKind::Id, b) => format!("COALESCE({c}, {})", none_id(b)),
            // An empty text is no value too, as the records' own lists read it.
            (DimKind::Text, _) => format!("COALESCE(NULLIF({c}, ''), '{NONE_TEXT}')"),
            (DimKind::Currency, _) => format!("COALESCE({c}, '')"),
            (DimKind::Month, Backend::Sqlite) => {
                format!("COALESCE(substr({c}, 1, 7), '{NONE_TEXT}')")
            }
            (DimKind::Month, Backend::Postgres) if self.instant => {
                format!("COALESCE(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM'), '{NONE_TEXT}')")
            }
            (DimKind::Month, Backend::Postgres) => {
                format!("COALESCE(to_char({c}, 'YYYY-MM'), '{NONE_TEXT}')")
            }
        }
    }

    /// The key as a group reads it: none for the stand-in.
    pub fn read(&self, backend: Backend) -> String {
        let c = format!("\"{}\"", self.column);
        match self.kind {
            DimKind::Id => format!("NULLIF({c}, {})", none_id(backend)),
            DimKind::Text | DimKind::Month => format!("NULLIF({c}, '{NONE_TEXT}')"),
            DimKind::Currency => c,
        }
    }
}

impl Layout {
    fn columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self.dims.iter().map(|d| d.column.clone()).collect();
        cols.push("n".into());
        for s in &self.sums {
            cols.push(s.sum_column.clone());
            cols.push(s.n_column.clone());
        }
        cols
    }

    /// The values row `r` adds (`sign` 1) or takes away (-1): to its owner's key, or with
    /// `company` to the whole company's.
    fn values(&self, r: &str, sign: i8, backend: Backend, company: bool) -> Vec<String> {
        let mut vals: Vec<String> = self
            .dims
            .iter()
            .map(|d| {
                if company && d.field == OWNER {
                    everyone_id(backend).to_string()
                } else {
                    d.key_of(r, backend)
                }
            })
            .collect();
        vals.push(format!("{sign}"));
        for s in &self.sums {
            let c = format!("{r}.\"{}\"", s.source);
            vals.push(format!("{sign} * COALESCE({c}, 0)"));
            vals.push(format!("CASE WHEN {c} IS NULL THEN 0 ELSE {sign} END"));
        }
        vals
    }

    /// The statement that adds (or takes away) row `r` to its key (`company`: the company's).
    fn upsert(&self, r: &str, sign: i8, backend: Backend, company: bool) -> String {
        let cols = self.columns();
        let keys: Vec<String> = self
            .dims
            .iter()
            .map(|d| format!("\"{}\"", d.column))
            .collect();
        let sets: Vec<String> = cols
            .iter()
            .skip(self.dims.len())
            .map(|c| {
                format!(
                    "\"{c}\" = \"{t}\".\"{c}\" + excluded.\"{c}\"",
                    t = self.table
                )
            })
            .collect();
        // SQLite needs a WHERE in an upsert's SELECT to tell its ON CONFLICT from a join's ON.
        format!(
            "INSERT INTO \"{t}\" ({cols}) SELECT {vals} WHERE true ON CONFLICT ({keys}) DO UPDATE SET {sets}",
            t = self.table,
            cols = cols
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", "),
            vals = self.values(r, sign, backend, company).join(", "),
            keys = keys.join(", "),
            sets = sets.join(", "),
        )
    }

    /// A row moved keys: some key column or summed value differs between `OLD` and `NEW`.
    fn moved(&self) -> String {
        let mut cols: Vec<&str> = self.dims.iter().map(|d| d.source.as_str()).collect();
        cols.extend(self.sums.iter().map(|s| s.source.as_str()));
        cols.push("deleted_at");
        cols.iter()
            .map(|c| format!("OLD.\"{c}\" IS DISTINCT FROM NEW.\"{c}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

/// The statements that create `def`'s rollups on `backend`: for each, the table, its unique
/// key, the triggers, and the totals of the records already there.
pub fn ddl(def: &EntityDef, backend: Backend) -> Vec<String> {
    layouts(def)
        .iter()
        .flat_map(|l| layout_ddl(def, l, backend))
        .collect()
}

/// The statements that drop `def`'s rollups on `backend`, triggers first.
pub fn drop_ddl(def: &EntityDef, backend: Backend) -> Vec<String> {
    let mut out = Vec::new();
    for l in layouts(def) {
        let t = &l.table;
        match backend {
            Backend::Sqlite => {
                for trigger in ["insert", "delete", "update"] {
                    out.push(format!("DROP TRIGGER IF EXISTS \"{t}_{trigger}\""));
                }
            }
            Backend::Postgres => {
                out.push(format!("DROP FUNCTION IF EXISTS \"{t}_keep\"() CASCADE"));
            }
        }
        out.push(format!("DROP TABLE IF EXISTS \"{t}\""));
    }
    out
}

fn layout_ddl(def: &EntityDef, l: &Layout, backend: Backend) -> Vec<String> {
    let source = def.table;
    let t = &l.table;
    let id_type = match backend {
        Backend::Sqlite => "uuid_text",
        Backend::Postgres => "uuid",
    };
    let mut cols: Vec<String> = l
        .dims
        .iter()
        .map(|d| match d.kind {
            DimKind::Id => format!("\"{}\" {id_type} NOT NULL", d.column),
            _ => format!("\"{}\" TEXT NOT NULL", d.column),
        })
        .collect();
    cols.push("\"n\" BIGINT NOT NULL".into());
    for s in &l.sums {
        cols.push(format!("\"{}\" BIGINT NOT NULL", s.sum_column));
        cols.push(format!("\"{}\" BIGINT NOT NULL", s.n_column));
    }
    let keys: Vec<String> = l.dims.iter().map(|d| format!("\"{}\"", d.column)).collect();
    cols.push(format!("PRIMARY KEY ({})", keys.join(", ")));
    // On SQLite the rows are stored in key order, so that reading them in order reads no index.
    let clustered = match backend {
        Backend::Sqlite => " WITHOUT ROWID",
        Backend::Postgres => "",
    };
    let mut out = vec![format!(
        "CREATE TABLE \"{t}\" ({}){clustered}",
        cols.join(", ")
    )];
    let moved = l.moved();
    match backend {
        Backend::Sqlite => {
            // SQLite spells IS DISTINCT FROM as IS NOT.
            let moved = moved.replace("IS DISTINCT FROM", "IS NOT");
            let both = |r: &str, sign: i8, live: Option<&str>| -> String {
                [false, true]
                    .iter()
                    .map(|&company| {
                        let u = l.upsert(r, sign, backend, company);
                        match live {
                            None => u,
                            Some(cond) => {
                                let (head, tail) = split_where(&u);
                                format!("{head} AND {cond} {tail}")
                            }
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            out.push(format!(
                "CREATE TRIGGER \"{t}_insert\" AFTER INSERT ON \"{source}\" WHEN NEW.deleted_at IS NULL BEGIN {}; END",
                both("NEW", 1, None)
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_delete\" AFTER DELETE ON \"{source}\" WHEN OLD.deleted_at IS NULL BEGIN {}; END",
                both("OLD", -1, None)
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_update\" AFTER UPDATE ON \"{source}\" WHEN {moved} BEGIN \
                 {old}; {new}; END",
                old = both("OLD", -1, Some("OLD.deleted_at IS NULL")),
                new = both("NEW", 1, Some("NEW.deleted_at IS NULL")),
            ));
        }
        Backend::Postgres => {
            out.push(format!(
                "CREATE FUNCTION \"{t}_keep\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN {old}; {old_all}; END IF; \
                 IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN {new}; {new_all}; END IF; \
                 RETURN NULL; END $$",
                old = l.upsert("OLD", -1, backend, false),
                old_all = l.upsert("OLD", -1, backend, true),
                new = l.upsert("NEW", 1, backend, false),
                new_all = l.upsert("NEW", 1, backend, true),
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_insert_delete\" AFTER INSERT OR DELETE ON \"{source}\" \
                 FOR EACH ROW EXECUTE FUNCTION \"{t}_keep\"()"
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_update\" AFTER UPDATE ON \"{source}\" FOR EACH ROW \
                 WHEN ({moved}) EXECUTE FUNCTION \"{t}_keep\"()"
            ));
        }
    }
    // The records already there: each owner's totals, then the company's.
    let cols = l.columns();
    let dims_n = l.dims.len();
    for company in [false, true] {
        let vals = l.values("r", 1, backend, company);
        let select: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i < dims_n {
                    v.clone()
                } else {
                    format!("SUM({v})")
                }
            })
            .collect();
        out.push(format!(
            "INSERT INTO \"{t}\" ({}) SELECT {} FROM \"{source}\" AS r WHERE r.deleted_at IS NULL GROUP BY {}",
            cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
            select.join(", "),
            (1..=dims_n).map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
        ));
    }
    out
}

/// An upsert split at its `WHERE true`, so a trigger can add its own condition there.
fn split_where(upsert: &str) -> (String, String) {
    match upsert.split_once(" WHERE true ") {
        Some((head, tail)) => (format!("{head} WHERE true"), tail.to_string()),
        None => (upsert.to_string(), String::new()),
    }
}
