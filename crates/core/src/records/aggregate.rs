//! Aggregation: count, sum, average, minimum and maximum of the records a reader may read and a
//! filter matches, grouped by one or two fields (a date by day, week, month, quarter or year).
//! What boards, dashboards, reports and the charts above lists read.
//!
//! Only fields whose values name a group may group: choices, references, users, a pipeline's
//! stage, yes/no, and dates in buckets. Only numbers may be summed or averaged. A sum of money
//! is never added across currencies: a money measure groups by its currency too. Buckets are
//! of UTC dates.

use std::fmt;

use chrono::Datelike;

use sea_orm::sea_query::{Alias, Expr, NullOrdering, Order, Query, SelectStatement};
use serde::Serialize;
use serde_json::{Value, json};

use super::def::{EntityDef, FieldKind};
use super::filter::{Filter, FilterContext, FilterOp, Narrowing};
use super::money;
use super::rollup::{self, DimKind};
use super::service::{ListQuery, RecordService};
use crate::authz::{Actor, Scope};
use crate::db::{self, Backend, col};
use crate::error::{CoreError, CoreResult, codes};

/// The most groups one aggregation returns; more are cut, and the result says so.
pub const MAX_GROUPS: usize = 1000;

/// A span of time a date falls into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// ISO weeks, from Monday; named by their Monday.
    Week,
    Month,
    Quarter,
    Year,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Day,
        Bucket::Week,
        Bucket::Month,
        Bucket::Quarter,
        Bucket::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
            Bucket::Quarter => "quarter",
            Bucket::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The bucket's name for a UTC date column `c` (`YYYY-MM-DD…` text on SQLite, a date or
    /// timestamp on PostgreSQL): `2026-05-04` for a day or a week, `2026-05`, `2026-Q2`, `2026`.
    fn sql(self, backend: Backend, c: &str, is_instant: bool) -> String {
        match backend {
            Backend::Sqlite => match self {
                Bucket::Day => format!("substr({c}, 1, 10)"),
                // `weekday 0` moves to the Sunday on or after; six days before it is Monday.
                Bucket::Week => format!("date(substr({c}, 1, 10), 'weekday 0', '-6 days')"),
                Bucket::Month => format!("substr({c}, 1, 7)"),
                Bucket::Quarter => format!(
                    "(substr({c}, 1, 4) || '-Q' || ((CAST(substr({c}, 6, 2) AS INTEGER) + 2) / 3))"
                ),
                Bucket::Year => format!("substr({c}, 1, 4)"),
            },
            Backend::Postgres => {
                let d = if is_instant {
                    format!("(({c}) AT TIME ZONE 'UTC')::date")
                } else {
                    c.to_string()
                };
                match self {
                    Bucket::Day => format!("to_char({d}, 'YYYY-MM-DD')"),
                    Bucket::Week => format!("to_char(date_trunc('week', {d}), 'YYYY-MM-DD')"),
                    Bucket::Month => format!("to_char({d}, 'YYYY-MM')"),
                    Bucket::Quarter => format!("to_char({d}, 'YYYY-\"Q\"Q')"),
                    Bucket::Year => format!("to_char({d}, 'YYYY')"),
                }
            }
        }
    }
}

/// A field to group by, and for a date the bucket: `owner_id`, `close_date:month`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    pub field: String,
    pub bucket: Option<Bucket>,
}

impl Grouping {
    /// `field`, or `field:bucket` for a date.
    pub fn parse(s: &str) -> CoreResult<Grouping> {
        let s = s.trim();
        Ok(match s.split_once(':') {
            Some((field, bucket)) => Grouping {
                field: field.to_string(),
                bucket: Some(Bucket::parse(bucket).ok_or_else(|| {
                    not_groupable(
                        field,
                        &format!(
                            "grouped by '{bucket}': a date groups by day, week, month, quarter or year"
                        ),
                    )
                })?),
            },
            None => Grouping {
                field: s.to_string(),
                bucket: None,
            },
        })
    }
}

/// What to compute over each group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Measure {
    Count,
    Sum(String),
    Avg(String),
    Min(String),
    Max(String),
}

impl Measure {
    /// `count`, or `sum:<field>`, `avg:<field>`, `min:<field>`, `max:<field>`.
    pub fn parse(s: &str) -> Option<Measure> {
        let s = s.trim();
        if s == "count" {
            return Some(Measure::Count);
        }
        let (op, field) = s.split_once(':')?;
        let field = field.to_string();
        Some(match op {
            "sum" => Measure::Sum(field),
            "avg" => Measure::Avg(field),
            "min" => Measure::Min(field),
            "max" => Measure::Max(field),
            _ => return None,
        })
    }

    fn field(&self) -> Option<&str> {
        match self {
            Measure::Count => None,
            Measure::Sum(f) | Measure::Avg(f) | Measure::Min(f) | Measure::Max(f) => Some(f),
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Count => f.write_str("count"),
            Measure::Sum(x) => write!(f, "sum:{x}"),
            Measure::Avg(x) => write!(f, "avg:{x}"),
            Measure::Min(x) => write!(f, "min:{x}"),
            Measure::Max(x) => write!(f, "max:{x}"),
        }
    }
}

/// An aggregation to compute.
#[derive(Clone, Debug, Default)]
pub struct AggregateQuery {
    /// One or two groupings.
    pub group: Vec<Grouping>,
    /// At least one measure.
    pub measures: Vec<Measure>,
    pub filter: Option<Filter>,
}

/// One group: its keys in the order of the groupings (ids as text, bucket names, codes; null
/// for records without a value), and a value per measure (money as `{amount, currency}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub keys: Vec<Value>,
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregation {
    pub groups: Vec<Group>,
    /// More groups matched than [`MAX_GROUPS`]; the first are given.
    pub truncated: bool,
}

/// How a grouped key is read back.
#[derive(Clone, Copy)]
enum KeyKind {
    Id,
    Text,
    Bool,
}

/// How a measured value is read back and shown.
#[derive(Clone, Copy)]
enum ValueKind {
    Count,
    Int,
    /// Stored in 10^-scale units.
    Scaled(u32),
    /// Minor units, with the currency in the select's column `c<n>`.
    Money(usize),
}

fn not_groupable(field: &str, why: &str) -> CoreError {
    CoreError::bad_request(codes::NOT_GROUPABLE, format!("'{field}' cannot be {why}"))
        .with_param("field", json!(field))
}

/// The column of a stored field and its kind, system fields included.
fn target(def: &EntityDef, name: &str) -> Option<(String, Option<&'static FieldKind>)> {
    match name {
        "owner_id" | "created_by" | "updated_by" | "created_at" | "updated_at" => {
            Some((name.to_string(), None))
        }
        _ => def
            .field(name)
            .map(|f| (f.column.to_string(), Some(&f.kind))),
    }
}

impl RecordService<'_> {
    /// Computes `q` over the live records `actor` may read that its filter matches.
    pub async fn aggregate(&self, actor: &Actor, q: &AggregateQuery) -> CoreResult<Aggregation> {
        let def = self.def();
        let backend = self.core().db.backend();
        if q.group.is_empty() || q.group.len() > 2 {
            let names: Vec<&str> = q.group.iter().map(|g| g.field.as_str()).collect();
            return Err(
                CoreError::bad_request(codes::NOT_GROUPABLE, "group by one or two fields")
                    .with_param("field", json!(names.join(", "))),
            );
        }
        if q.measures.is_empty() || q.measures.len() > 6 {
            let names: Vec<String> = q.measures.iter().map(ToString::to_string).collect();
            return Err(CoreError::bad_request(
                codes::NOT_MEASURABLE,
                "ask for one to six measures (count, sum:<field>, avg:<field>, min:<field>, max:<field>)",
            )
            .with_param("field", json!(names.join(", "))));
        }
        let table = def.table;
        let mut sel = Query::select();
        sel.from(col(table));
        let mut keys = Vec::new();
        let mut grouped = Vec::new();
        for (i, g) in q.group.iter().enumerate() {
            let (column, kind) = target(def, &g.field)
                .ok_or_else(|| not_groupable(&g.field, "grouped: no such field"))?;
            let c = format!("\"{table}\".\"{column}\"");
            let is_instant = matches!(g.field.as_str(), "created_at" | "updated_at")
                || matches!(kind, Some(FieldKind::DateTime));
            let is_date = is_instant || matches!(kind, Some(FieldKind::Date));
            let (expr, key) = match (is_date, g.bucket) {
                (true, Some(b)) => (b.sql(backend, &c, is_instant), KeyKind::Text),
                (true, None) => {
                    return Err(not_groupable(
                        &g.field,
                        "grouped without a bucket (day, week, month, quarter or year)",
                    ));
                }
                (false, Some(_)) => {
                    return Err(not_groupable(
                        &g.field,
                        "grouped by a bucket: it is not a date",
                    ));
                }
                (false, None) => match kind {
                    None => (c, KeyKind::Id),
                    Some(FieldKind::Choice(_)) => (c, KeyKind::Text),
                    Some(FieldKind::Bool) => (c, KeyKind::Bool),
                    Some(FieldKind::Ref { .. } | FieldKind::User | FieldKind::LineRef { .. }) => {
                        (c, KeyKind::Id)
                    }
                    Some(_) => {
                        return Err(not_groupable(
                            &g.field,
                            "grouped (only choices, references, users, stages, yes/no and dates group)",
                        ));
                    }
                },
            };
            sel.expr_as(Expr::cust(expr.clone()), Alias::new(format!("g{i}")));
            grouped.push(expr);
            keys.push(key);
        }
        let mut values = Vec::new();
        let mut currencies: Vec<String> = Vec::new();
        // The money field of each currency column, in the same order.
        let mut money_fields: Vec<String> = Vec::new();
        for (i, m) in q.measures.iter().enumerate() {
            let (sql, kind) = match m.field() {
                None => ("COUNT(*)".to_string(), ValueKind::Count),
                Some(name) => {
                    let (column, kind) = target(def, name)
                        .filter(|(_, k)| k.is_some())
                        .ok_or_else(|| measure_error(m, name))?;
                    let (column, vk) = match kind {
                        Some(FieldKind::Money) => {
                            let currency = format!("\"{table}\".\"{column}_currency\"");
                            let at = match currencies.iter().position(|c| c == &currency) {
                                Some(at) => at,
                                None => {
                                    currencies.push(currency);
                                    money_fields.push(name.to_string());
                                    currencies.len() - 1
                                }
                            };
                            (format!("{column}_amount"), ValueKind::Money(at))
                        }
                        Some(FieldKind::Int { .. } | FieldKind::Duration) => {
                            (column, ValueKind::Int)
                        }
                        Some(FieldKind::Decimal { scale }) => (column, ValueKind::Scaled(*scale)),
                        Some(FieldKind::Percent) => (column, ValueKind::Scaled(2)),
                        _ => return Err(measure_error(m, name)),
                    };
                    let c = format!("\"{table}\".\"{column}\"");
                    let sql = match (m, backend) {
                        (Measure::Avg(_), Backend::Postgres) => {
                            format!("CAST(AVG({c}) AS DOUBLE PRECISION)")
                        }
                        (Measure::Avg(_), Backend::Sqlite) => format!("AVG({c})"),
                        // PostgreSQL sums bigints as numeric; back to bigint, which holds any
                        // sum of amounts people keep.
                        (Measure::Sum(_), Backend::Postgres) => format!("CAST(SUM({c}) AS BIGINT)"),
                        (Measure::Sum(_), Backend::Sqlite) => format!("SUM({c})"),
                        (Measure::Min(_), _) => format!("MIN({c})"),
                        _ => format!("MAX({c})"),
                    };
                    (sql, vk)
                }
            };
            sel.expr_as(Expr::cust(sql), Alias::new(format!("m{i}")));
            values.push(kind);
        }
        for (i, c) in currencies.iter().enumerate() {
            sel.expr_as(Expr::cust(c.clone()), Alias::new(format!("c{i}")));
        }
        let mut sel = match self.rollup_select(actor, q, &money_fields)? {
            Some(from_rollup) => from_rollup,
            None => {
                let list = ListQuery {
                    filter: q.filter.clone(),
                    ..Default::default()
                };
                sel.cond_where(self.matching(actor, &list).await?);
                for e in &grouped {
                    sel.add_group_by([Expr::cust(e.clone())]);
                }
                for c in &currencies {
                    sel.add_group_by([Expr::cust(c.clone())]);
                }
                // Records without a value last, on both databases.
                for i in 0..q.group.len() {
                    sel.order_by_with_nulls(
                        Alias::new(format!("g{i}")),
                        Order::Asc,
                        NullOrdering::Last,
                    );
                }
                for i in 0..currencies.len() {
                    sel.order_by(Alias::new(format!("c{i}")), Order::Asc);
                }
                sel
            }
        };
        sel.limit(MAX_GROUPS as u64 + 1);
        let rows = db::fetch_all(self.core().db.reader(), &sel).await?;
        let truncated = rows.len() > MAX_GROUPS;
        let mut groups = Vec::with_capacity(rows.len().min(MAX_GROUPS));
        for row in rows.iter().take(MAX_GROUPS) {
            let mut ks = Vec::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                let name = format!("g{i}");
                ks.push(match k {
                    KeyKind::Id => {
                        db::get_opt_uuid(row, &name)?.map_or(Value::Null, |u| json!(u.to_string()))
                    }
                    KeyKind::Text => db::get_opt_string(row, &name)?
                        .filter(|s| !s.is_empty())
                        .map_or(Value::Null, Value::String),
                    KeyKind::Bool => db::get_opt_bool(row, &name)?.map_or(Value::Null, Value::Bool),
                });
            }
            let mut vs = Vec::with_capacity(values.len());
            for (i, (v, m)) in values.iter().zip(&q.measures).enumerate() {
                let name = format!("m{i}");
                let avg = matches!(m, Measure::Avg(_));
                vs.push(match v {
                    ValueKind::Count => json!(db::get_i64(row, &name)?),
                    _ if avg => match db::get_opt_f64(row, &name)? {
                        None => Value::Null,
                        Some(x) => scaled(*v, x, row)?,
                    },
                    _ => match db::get_opt_i64(row, &name)? {
                        None => Value::Null,
                        Some(n) => scaled(*v, n as f64, row)?,
                    },
                });
            }
            groups.push(Group {
                keys: ks,
                values: vs,
            });
        }
        Ok(Aggregation { groups, truncated })
    }
}

impl RecordService<'_> {
    /// The aggregation `q` read from the entity's running totals, when they hold all it asks:
    /// a filter of their keys ([`rollup_conditions`]), groupings by their keys (a date by month,
    /// quarter or year), counts and sums or averages of their sums. The select has the scan's
    /// columns: `g<i>`, `m<i>`, `c<i>` for the currencies of `money_fields`.
    fn rollup_select(
        &self,
        actor: &Actor,
        q: &AggregateQuery,
        money_fields: &[String],
    ) -> CoreResult<Option<SelectStatement>> {
        let def = self.def();
        let backend = self.core().db.backend();
        for l in rollup::layouts(def) {
            let Some(conds) = rollup_conditions(&l, q.filter.as_ref()) else {
                continue;
            };
            let Some(mut sel) = from_layout(&l, backend, q, money_fields) else {
                continue;
            };
            // A key's condition compiles as the records' own: the rollup names its key columns
            // as the table does and stores them the same way.
            let ctx = FilterContext {
                entity: def,
                custom: &[],
                backend,
                actor,
                settings: &self.core().settings,
                narrow: Narrowing::NONE,
                order: None,
            };
            for c in conds {
                match c {
                    RollupCondition::Key(f) => sel.cond_where(ctx.compile(f)?),
                    RollupCondition::Month(sql) => sel.and_where(Expr::cust(sql)),
                };
            }
            // Whoever may read every record and asks nothing by owner reads the company's own
            // totals; any other read is by owner, and leaves them out.
            let by_owner = q.group.iter().any(|g| g.field == rollup::OWNER)
                || q.filter
                    .as_ref()
                    .is_some_and(|f| f.conditions().iter().any(|(c, _, _)| *c == rollup::OWNER));
            let owner = Expr::col(col(rollup::OWNER));
            let everyone = Expr::cust(rollup::everyone_id(backend));
            if actor.grant(def.name).read == Scope::All && !by_owner {
                sel.and_where(owner.eq(everyone));
            } else {
                sel.and_where(owner.clone().ne(everyone));
                sel.cond_where(self.scope_on(actor, owner)?);
            }
            return Ok(Some(sel));
        }
        Ok(None)
    }
}

/// A condition a rollup applies for a filter.
enum RollupCondition<'f> {
    /// `eq` or `in` on a key the rollup keeps as the records do.
    Key(&'f Filter),
    /// A bound on a month key, in SQL.
    Month(String),
}

/// What rollup `l` applies to hold only what `filter` matches, when it can: a filter that is
/// a conjunction of `eq` and `in` on its keys (owner, stage, status…) and of bounds on a
/// calendar date it keeps by month that fall between months (`close_date >= 2026-10-01 and
/// close_date <= 2026-12-31`: a quarter). `None` when any part of the filter cannot be
/// applied to totals, and the records are read instead.
fn rollup_conditions<'f>(
    l: &rollup::Layout,
    filter: Option<&'f Filter>,
) -> Option<Vec<RollupCondition<'f>>> {
    fn walk<'f>(l: &rollup::Layout, f: &'f Filter, out: &mut Vec<RollupCondition<'f>>) -> bool {
        match f {
            Filter::And(parts) => parts.iter().all(|p| walk(l, p, out)),
            Filter::Or(parts) if parts.is_empty() => true,
            Filter::Or(_) | Filter::Not(_) => false,
            Filter::Cond { field, op, value } => {
                let Some(dim) = l.dims.iter().find(|d| &d.field == field) else {
                    return false;
                };
                match dim.kind {
                    // A record without a value is kept under a stand-in, which `eq` and `in`
                    // never name; `ne` or `empty` would need it told apart.
                    DimKind::Id | DimKind::Text => {
                        if matches!(op, FilterOp::Eq | FilterOp::In) {
                            out.push(RollupCondition::Key(f));
                            true
                        } else {
                            false
                        }
                    }
                    DimKind::Month if dim.is_calendar_date() => {
                        match month_bound(&dim.column, *op, value) {
                            Some(sql) => {
                                out.push(RollupCondition::Month(sql));
                                true
                            }
                            None => false,
                        }
                    }
                    DimKind::Month | DimKind::Currency => false,
                }
            }
        }
    }
    let mut out = Vec::new();
    match filter {
        Some(f) if !walk(l, f, &mut out) => None,
        _ => Some(out),
    }
}

/// A bound on a date, said of its month when it falls between months: on or after the 1st,
/// before the 1st, on or before the last day, after the last day. Records without a date are
/// kept under a month after every other ([`rollup::NONE_TEXT`]) and left out, as the bound
/// leaves them out of the records.
fn month_bound(column: &str, op: FilterOp, value: &Value) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(value.as_str()?, "%Y-%m-%d").ok()?;
    let first = d.day() == 1;
    let last = d.succ_opt().is_some_and(|n| n.day() == 1);
    let sql_op = match op {
        FilterOp::Gte if first => ">=",
        FilterOp::Lt if first => "<",
        FilterOp::Lte if last => "<=",
        FilterOp::Gt if last => ">",
        _ => return None,
    };
    // The month is formatted from a parsed date: only digits and a dash reach the SQL.
    Some(format!(
        "\"{column}\" {sql_op} '{month}' AND \"{column}\" <> '{none}'",
        month = d.format("%Y-%m"),
        none = rollup::NONE_TEXT
    ))
}

/// Whether `q` is answered from `def`'s running totals (cheaply, however many records): what a
/// page asks before an aggregation it would not run over too many records.
pub fn reads_totals(def: &EntityDef, q: &AggregateQuery) -> bool {
    let mut money_fields: Vec<String> = Vec::new();
    for m in &q.measures {
        if let Some(f) = m.field()
            && def
                .field(f)
                .is_some_and(|d| matches!(d.kind, FieldKind::Money))
            && !money_fields.iter().any(|x| x == f)
        {
            money_fields.push(f.to_string());
        }
    }
    // The backend only words the statement; whether there is one does not depend on it.
    rollup::layouts(def).iter().any(|l| {
        rollup_conditions(l, q.filter.as_ref()).is_some()
            && from_layout(l, Backend::Sqlite, q, &money_fields).is_some()
    })
}

/// The select that answers `q` from rollup `l`, when `l` holds what it asks; scope is the
/// caller's to add.
fn from_layout(
    l: &rollup::Layout,
    backend: Backend,
    q: &AggregateQuery,
    money_fields: &[String],
) -> Option<SelectStatement> {
    {
        let mut sel = Query::select();
        sel.from(Alias::new(l.table.as_str()));
        let mut grouped = Vec::new();
        for (i, g) in q.group.iter().enumerate() {
            let dim = l.dims.iter().find(|d| d.field == g.field)?;
            let c = format!("\"{}\"", dim.column);
            // A key read as it is stored groups by its column, which the rollup's key reads in
            // order; only a quarter or a year groups by an expression.
            let (expr, group_by) = match (dim.kind, g.bucket) {
                (DimKind::Id | DimKind::Text | DimKind::Currency, None)
                | (DimKind::Month, Some(Bucket::Month)) => (dim.read(backend), c.clone()),
                (DimKind::Month, Some(Bucket::Quarter)) => {
                    let e = format!(
                        "CASE WHEN {c} = '{none}' THEN NULL ELSE substr({c}, 1, 4) || '-Q' || \
                         CAST((CAST(substr({c}, 6, 2) AS INTEGER) + 2) / 3 AS TEXT) END",
                        none = rollup::NONE_TEXT
                    );
                    (e.clone(), e)
                }
                (DimKind::Month, Some(Bucket::Year)) => {
                    let e = format!("NULLIF(substr({c}, 1, 4), '{}')", rollup::NONE_TEXT);
                    (e.clone(), e)
                }
                _ => return None,
            };
            sel.expr_as(Expr::cust(expr), Alias::new(format!("g{i}")));
            grouped.push(group_by);
        }
        for (i, m) in q.measures.iter().enumerate() {
            let sum_of = |field: &str| l.sums.iter().find(|s| s.field == field);
            let sql = match m {
                Measure::Count => "CAST(SUM(\"n\") AS BIGINT)".to_string(),
                Measure::Sum(f) => match sum_of(f) {
                    Some(s) => format!(
                        "CASE WHEN SUM(\"{n}\") = 0 THEN NULL ELSE CAST(SUM(\"{v}\") AS BIGINT) END",
                        n = s.n_column,
                        v = s.sum_column
                    ),
                    None => return None,
                },
                Measure::Avg(f) => match sum_of(f) {
                    Some(s) => format!(
                        "CASE WHEN SUM(\"{n}\") = 0 THEN NULL ELSE \
                         CAST(SUM(\"{v}\") AS DOUBLE PRECISION) / SUM(\"{n}\") END",
                        n = s.n_column,
                        v = s.sum_column
                    ),
                    None => return None,
                },
                // Minimum and maximum cannot be kept as records leave.
                Measure::Min(_) | Measure::Max(_) => return None,
            };
            sel.expr_as(Expr::cust(sql), Alias::new(format!("m{i}")));
        }
        for (i, field) in money_fields.iter().enumerate() {
            let currency = l
                .sums
                .iter()
                .find(|s| &s.field == field)
                .and_then(|s| s.currency.clone())?;
            let c = format!("\"{currency}\"");
            sel.expr_as(Expr::cust(c.clone()), Alias::new(format!("c{i}")));
            grouped.push(c);
        }
        for e in &grouped {
            sel.add_group_by([Expr::cust(e.clone())]);
        }
        // Keys emptied by deletes stay with zero counts.
        sel.and_having(Expr::cust("SUM(\"n\") > 0"));
        // Stored keys sort their "none" last; ordered by them as grouped, a grouping that
        // follows the rollup's key is read in order and stops at the page's end, unsorted. A
        // quarter or a year reads as null for a record without a date: last too.
        for e in &grouped {
            sel.order_by_expr_with_nulls(Expr::cust(e.clone()), Order::Asc, NullOrdering::Last);
        }
        Some(sel)
    }
}

/// A measured value in stored units as people read it.
fn scaled(kind: ValueKind, x: f64, row: &sea_orm::QueryResult) -> CoreResult<Value> {
    Ok(match kind {
        ValueKind::Count | ValueKind::Int => {
            if x.fract() == 0.0 {
                json!(x as i64)
            } else {
                json!((x * 100.0).round() / 100.0)
            }
        }
        ValueKind::Scaled(scale) => {
            let factor = 10f64.powi(scale as i32);
            json!(((x / factor) * 100.0).round() / 100.0)
        }
        ValueKind::Money(at) => {
            let currency = db::get_opt_string(row, &format!("c{at}"))?.unwrap_or_default();
            money::to_json(x.round() as i64, &currency)
        }
    })
}

fn measure_error(m: &Measure, field: &str) -> CoreError {
    CoreError::bad_request(
        codes::NOT_MEASURABLE,
        format!("'{m}' cannot be computed: '{field}' is not a number, an amount or a percentage of this entity"),
    )
    .with_param("field", json!(field))
}
