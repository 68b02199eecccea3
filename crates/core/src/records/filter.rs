//! The one filter tree (field, operator, value; and / or / not) that list views, saved views,
//! exports and the API's query parameters all use, and its compilation to SQL conditions with
//! bound parameters. Only fields the entity declares (plus system and custom fields) can be
//! named, so a filter can never reach a column it should not.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, Func, Query, SimpleExpr, Value as SqlValue};
use serde_json::Value;
use uuid::Uuid;

use super::def::{ADDRESS_PARTS, EntityDef, FieldKind};
use super::money;
use super::pinyin_match;
use crate::authz::Actor;
use crate::custom_fields::CustomFieldDef;
use crate::db::{self, Backend, col};
use crate::error::{CoreError, CoreResult, Params, codes};
use crate::normalize;
use crate::settings::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    Contains,
    StartsWith,
    In,
    Empty,
    NotEmpty,
}

impl FilterOp {
    pub const ALL: [FilterOp; 11] = [
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Lte,
        FilterOp::Gt,
        FilterOp::Gte,
        FilterOp::Contains,
        FilterOp::StartsWith,
        FilterOp::In,
        FilterOp::Empty,
        FilterOp::NotEmpty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Ne => "ne",
            FilterOp::Lt => "lt",
            FilterOp::Lte => "lte",
            FilterOp::Gt => "gt",
            FilterOp::Gte => "gte",
            FilterOp::Contains => "contains",
            FilterOp::StartsWith => "starts_with",
            FilterOp::In => "in",
            FilterOp::Empty => "empty",
            FilterOp::NotEmpty => "not_empty",
        }
    }

    pub fn parse(s: &str) -> Option<FilterOp> {
        FilterOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cond {
        field: String,
        op: FilterOp,
        value: Value,
    },
}

fn bad(message: impl Into<String>) -> CoreError {
    CoreError::bad_request("invalid_filter", message)
}

/// Conditions one filter may hold (query parameters and JSON together).
pub const MAX_FILTER_CONDITIONS: usize = 100;
/// How deep `and` / `or` / `not` may nest.
pub const MAX_FILTER_DEPTH: usize = 10;
/// Values compared in all (an `in` list counts each of its values).
pub const MAX_FILTER_VALUES: usize = 2_000;

/// A filter past one of the limits: at most `limit` `unit`s, and it has `has`. The params let the
/// UI word it; the message is for the developer reading the API's answer.
fn too_complex(unit: &'static str, limit: usize, has: usize, message: String) -> CoreError {
    let mut params = Params::new();
    params.insert("unit", Value::from(unit));
    params.insert("limit", Value::from(limit));
    params.insert("has", Value::from(has));
    CoreError::BadRequest {
        code: codes::FILTER_TOO_COMPLEX,
        message,
        params,
    }
}

impl Filter {
    pub fn all() -> Filter {
        Filter::And(vec![])
    }

    /// Whether the filter lets every record through: an `And` of nothing, however nested, as
    /// the API sends when a list has no conditions.
    pub fn is_everything(&self) -> bool {
        matches!(self, Filter::And(parts) if parts.iter().all(Filter::is_everything))
    }

    /// Parses the JSON form: `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}` or
    /// `{"field": "name", "op": "contains", "value": "中太"}`.
    pub fn from_json(v: &Value) -> CoreResult<Filter> {
        let o = v
            .as_object()
            .ok_or_else(|| bad("a filter must be a JSON object"))?;
        if let Some(items) = o.get("and").or_else(|| o.get("or")) {
            let list = items
                .as_array()
                .ok_or_else(|| bad("'and' and 'or' take a list of filters"))?;
            let parsed = list
                .iter()
                .map(Filter::from_json)
                .collect::<CoreResult<Vec<_>>>()?;
            return Ok(if o.contains_key("and") {
                Filter::And(parsed)
            } else {
                Filter::Or(parsed)
            });
        }
        if let Some(inner) = o.get("not") {
            return Ok(Filter::Not(Box::new(Filter::from_json(inner)?)));
        }
        let field = o
            .get("field")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a condition needs a 'field'"))?;
        let op_s = o.get("op").and_then(Value::as_str).unwrap_or("eq");
        let op = FilterOp::parse(op_s).ok_or_else(|| bad(format!("unknown operator '{op_s}'")))?;
        for k in o.keys() {
            if !["field", "op", "value"].contains(&k.as_str()) {
                return Err(bad(format!("unknown key '{k}' in a filter condition")));
            }
        }
        Ok(Filter::Cond {
            field: field.to_string(),
            op,
            value: o.get("value").cloned().unwrap_or(Value::Null),
        })
    }

    pub fn to_json(&self) -> Value {
        match self {
            Filter::And(v) => {
                serde_json::json!({"and": v.iter().map(Filter::to_json).collect::<Vec<_>>()})
            }
            Filter::Or(v) => {
                serde_json::json!({"or": v.iter().map(Filter::to_json).collect::<Vec<_>>()})
            }
            Filter::Not(f) => serde_json::json!({"not": f.to_json()}),
            Filter::Cond { field, op, value } => {
                serde_json::json!({"field": field, "op": op.as_str(), "value": value})
            }
        }
    }

    /// Parses query-string pairs: `name=x` (equals), `name[contains]=x`, `type[in]=a,b`,
    /// `phones[empty]=`. All pairs are combined with AND.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> CoreResult<Filter> {
        let mut conds = Vec::new();
        for (key, value) in pairs {
            let (field, op) = match key.split_once('[') {
                Some((f, rest)) => {
                    let op_s = rest
                        .strip_suffix(']')
                        .ok_or_else(|| bad(format!("malformed parameter '{key}'")))?;
                    (
                        f,
                        FilterOp::parse(op_s)
                            .ok_or_else(|| bad(format!("unknown operator '{op_s}' in '{key}'")))?,
                    )
                }
                None => (key, FilterOp::Eq),
            };
            let value = if op == FilterOp::In {
                Value::Array(
                    value
                        .split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                )
            } else {
                Value::String(value.to_string())
            };
            conds.push(Filter::Cond {
                field: field.to_string(),
                op,
                value,
            });
        }
        Ok(Filter::And(conds))
    }

    /// Refuses filters larger than any person or report needs. Past these, SQL grows beyond what
    /// the databases take (SQLite's expression depth of 1,000 and its 32,766 bound values) or
    /// what a request should cost, and the caller would get a 500 instead of a reason.
    pub fn check_limits(&self) -> CoreResult<()> {
        fn walk(f: &Filter, depth: usize, conds: &mut usize, values: &mut usize) -> CoreResult<()> {
            if depth > MAX_FILTER_DEPTH {
                return Err(too_complex(
                    "levels",
                    MAX_FILTER_DEPTH,
                    depth,
                    format!("a filter may nest and/or/not at most {MAX_FILTER_DEPTH} levels deep"),
                ));
            }
            match f {
                Filter::And(v) | Filter::Or(v) => {
                    for i in v {
                        walk(i, depth + 1, conds, values)?;
                    }
                }
                Filter::Not(i) => walk(i, depth + 1, conds, values)?,
                Filter::Cond { value, .. } => {
                    *conds += 1;
                    *values += match value {
                        Value::Array(a) => a.len(),
                        _ => 1,
                    };
                }
            }
            Ok(())
        }
        let (mut conds, mut values) = (0, 0);
        walk(self, 0, &mut conds, &mut values)?;
        if conds > MAX_FILTER_CONDITIONS {
            return Err(too_complex(
                "conditions",
                MAX_FILTER_CONDITIONS,
                conds,
                format!(
                    "a filter may have at most {MAX_FILTER_CONDITIONS} conditions; this one has {conds}"
                ),
            ));
        }
        if values > MAX_FILTER_VALUES {
            return Err(too_complex(
                "values",
                MAX_FILTER_VALUES,
                values,
                format!(
                    "a filter may compare at most {MAX_FILTER_VALUES} values in all; this one has {values}"
                ),
            ));
        }
        Ok(())
    }

    /// The fields a filter names, for callers that show or check them.
    /// The conditions every match meets: those joined by `and` alone, not under `or` or `not`.
    pub fn required_conditions(&self) -> Vec<(&str, FilterOp, &Value)> {
        match self {
            Filter::And(v) => v.iter().flat_map(Filter::required_conditions).collect(),
            Filter::Or(_) | Filter::Not(_) => Vec::new(),
            Filter::Cond { field, op, value } => vec![(field.as_str(), *op, value)],
        }
    }

    pub fn conditions(&self) -> Vec<(&str, FilterOp, &Value)> {
        match self {
            Filter::And(v) | Filter::Or(v) => v.iter().flat_map(Filter::conditions).collect(),
            Filter::Not(f) => f.conditions(),
            Filter::Cond { field, op, value } => vec![(field.as_str(), *op, value)],
        }
    }
}

/// What a filter is compiled against.
pub struct FilterContext<'a> {
    pub entity: &'a EntityDef,
    pub custom: &'a [CustomFieldDef],
    pub backend: Backend,
    pub actor: &'a Actor,
    pub settings: &'a Settings,
    /// Text conditions to narrow by the pieces of what was typed ([`Narrowing`]).
    pub narrow: &'a Narrowing,
    /// The field whose order the rows are read in (a page's sort), if any.
    pub order: Option<&'a str>,
}

/// `contains` and `starts_with` conditions on fields with pieces in the search documents
/// (`FieldDef::grams`), each with the records it may hold: the condition reads only those, then
/// applies its `LIKE` as it would to every row, so the answer is the same. Conditions absent
/// here read every row (in list order, which finds a page of a common text soonest).
#[derive(Debug, Default)]
pub struct Narrowing {
    /// (field, text as typed, records); a filter holds a few text conditions at most.
    by_text: Vec<(String, String, Pieces)>,
}

/// Which records a narrowed text condition reads.
#[derive(Debug)]
enum Pieces {
    /// Those whose search documents hold every one of these tokens.
    Holding(Vec<String>),
    /// These: the first holders of the tokens in creation order, and every unordered holder
    /// (`search::order`).
    Records(Vec<Uuid>),
}

/// A text condition that pieces could narrow: (field, text as typed) and its tokens.
pub type Narrowable = ((String, String), Vec<String>);

impl Narrowing {
    pub const NONE: &Narrowing = &Narrowing {
        by_text: Vec::new(),
    };

    /// The text conditions of `filter` that pieces could narrow, with their tokens.
    pub fn candidates(entity: &EntityDef, filter: &Filter) -> Vec<Narrowable> {
        narrowable(entity, filter.conditions())
    }

    /// The text conditions that pieces could narrow and that every match of `filter` meets
    /// (outside any `or` and `not`), and that only their pieces match: not those that also
    /// match as pinyin ([`pinyin_match`]), whose matches the pieces do not all hold.
    pub fn required(entity: &EntityDef, filter: &Filter) -> Vec<Narrowable> {
        narrowable(entity, filter.required_conditions())
            .into_iter()
            .filter(|((field, typed), _)| {
                entity
                    .field(field)
                    .is_none_or(|def| pinyin_match::of_typed(def, typed).is_none())
            })
            .collect()
    }

    pub fn add(&mut self, field: String, typed: String, tokens: Vec<String>) {
        self.by_text.push((field, typed, Pieces::Holding(tokens)));
    }

    /// Narrows the text condition to `records`.
    pub fn add_records(&mut self, field: String, typed: String, records: Vec<Uuid>) {
        self.by_text.push((field, typed, Pieces::Records(records)));
    }

    fn pieces(&self, field: &str, typed: &str) -> Option<&Pieces> {
        self.by_text
            .iter()
            .find(|(f, t, _)| f == field && t == typed)
            .map(|(_, _, p)| p)
    }
}

fn narrowable(entity: &EntityDef, conditions: Vec<(&str, FilterOp, &Value)>) -> Vec<Narrowable> {
    let mut out = Vec::new();
    for (field, op, value) in conditions {
        if !matches!(op, FilterOp::Contains | FilterOp::StartsWith) {
            continue;
        }
        let (Some(def), Some(typed)) = (entity.field(field), as_str(value)) else {
            continue;
        };
        if !def.grams {
            continue;
        }
        if let Some(tokens) = crate::search::grams::of_typed(entity.name, field, &typed) {
            out.push(((field.to_string(), typed), tokens));
        }
    }
    out
}

/// The value kinds a filter compares.
#[derive(Clone, Copy, PartialEq)]
enum Scalar {
    Text,
    Int,
    Date,
    Timestamp,
    Bool,
    Id,
    Money,
    Percent,
    /// An exact number with this many decimals, stored as an integer of its smallest units.
    Decimal(u32),
    /// A number inside the `custom` object.
    Float,
    /// A date inside the `custom` object, an ISO text that orders as the dates do.
    DateText,
    /// An instant inside the `custom` object, in the one RFC 3339 form the API writes.
    InstantText,
    /// An id inside the `custom` object, as text.
    IdText,
}

/// How a field name resolves: a SQL expression and the kind of its values.
enum Target {
    Column(SimpleExpr, Scalar),
    Points(&'static str),
    /// A custom field's value, read as text from the `custom` JSON.
    JsonText(SimpleExpr),
    /// Options picked from a list (multi choice), as a JSON array.
    Picked(ArrayAt),
    /// A declared list of strings: a JSON array column, `[]` when empty.
    List(&'static str),
    /// A field of a child line (`attendee_users.user_id`), or one the lines carry of their
    /// record (`attendee_users.starts_at`, [`ChildDef::carries`]): the record has a line
    /// meeting the condition.
    Line(Line),
}

/// A condition's place on child lines: the table, its parent column, the line's own column or
/// the carried one (unqualified, so that inside the lines' subquery it names theirs).
struct Line {
    table: &'static str,
    parent: &'static str,
    target: Box<Target>,
    /// A field the lines carry of their record: the same on every line of it.
    carried: bool,
}

/// The conditions of an `and` on one collection's lines. Each condition on a line's own field
/// is met by some line, not necessarily the same one (two attendees named means both attend).
/// A carried field holds its record's value on every line, so a condition on it may join each
/// of those reads: the lines' index by person and start then answers "whom and when" at once,
/// where "whom" alone read every line the people ever had.
struct LineConds {
    table: &'static str,
    parent: &'static str,
    own: Vec<SimpleExpr>,
    carried: Vec<SimpleExpr>,
}

impl LineConds {
    fn into_expr(self, backend: Backend, entity_table: &'static str) -> Condition {
        let having = |conds: Vec<SimpleExpr>| -> SimpleExpr {
            let mut lines = Query::select();
            lines
                .column(Alias::new(self.parent))
                .from(Alias::new(self.table));
            for c in conds {
                lines.and_where(c);
            }
            db::id_among(
                backend,
                Expr::col((Alias::new(entity_table), Alias::new("id"))).into(),
                lines,
            )
        };
        let mut all = Condition::all();
        if self.own.is_empty() {
            return all.add(having(self.carried));
        }
        for own in self.own {
            let mut conds = vec![own];
            conds.extend(self.carried.iter().cloned());
            all = all.add(having(conds));
        }
        all
    }
}

/// Where a JSON array of picked options lives.
enum ArrayAt {
    /// A column of the entity's table.
    Column(&'static str),
    /// A key of the `custom` object.
    Custom(String),
}

/// `lhs LIKE pattern ESCAPE '\\'`, the pattern made from `typed` by [`like_pattern`]. The escape
/// character is a bound parameter like the pattern: SQLite marks a statement whose `LIKE` has a
/// bound pattern and a literal escape to be prepared again whenever the pattern is bound (in
/// case the pattern's prefix could use an index, which `lower(column)` never can), and that
/// re-preparing took 4 % of the CPU of a list page filtered by a name. An escape that is not a
/// literal leaves the statement as it was prepared.
fn like(backend: Backend, lhs: SimpleExpr, typed: &str, prefix_only: bool) -> SimpleExpr {
    let sql = match backend {
        Backend::Sqlite => "? LIKE ? ESCAPE ?",
        Backend::Postgres => "$1 LIKE $2 ESCAPE $3",
    };
    Expr::cust_with_exprs(
        sql,
        [lhs, like_pattern(typed, prefix_only).into(), "\\".into()],
    )
}

fn like_pattern(s: &str, prefix_only: bool) -> String {
    let escaped = s
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    if prefix_only {
        format!("{escaped}%")
    } else {
        format!("%{escaped}%")
    }
}

/// An RFC 3339 instant, or a date as its midnight UTC.
fn instant(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
}

fn as_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl FilterContext<'_> {
    /// A JSON value at `path` inside the `custom` object (`$.key` or `$.key.amount`), cast to a
    /// SQL type (`sql_type`) or, with `None`, as text.
    fn custom_at(&self, key: &str, sub: Option<&str>, sql_type: Option<&str>) -> SimpleExpr {
        match self.backend {
            // sea-query fills `$n` on PostgreSQL and `?` on SQLite; a `?` reached PostgreSQL as
            // its jsonb key-exists operator, so every custom-field filter failed there.
            Backend::Postgres => {
                let at = match sub {
                    Some(s) => format!("(\"custom\" -> $1 ->> '{s}')"),
                    None => "(\"custom\" ->> $1)".to_string(),
                };
                let sql = match sql_type {
                    Some(t) => format!("CAST({at} AS {t})"),
                    None => at,
                };
                Expr::cust_with_values(sql, [key.to_string()])
            }
            // json_extract already gives numbers as numbers and booleans as 0 or 1.
            Backend::Sqlite => {
                let path = match sub {
                    Some(s) => format!("$.\"{key}\".{s}"),
                    None => format!("$.\"{key}\""),
                };
                Expr::cust_with_values("json_extract(\"custom\", ?)", [path])
            }
        }
    }

    /// How a custom field's name resolves, by its kind: the same comparisons as a standard field
    /// of that kind, on its value inside the `custom` object.
    fn custom_target(
        &self,
        name: &str,
        def: &CustomFieldDef,
        part: Option<&str>,
    ) -> CoreResult<Target> {
        let key = def.key.as_str();
        let unknown = || bad(format!("unknown field '{name}' for {}", self.entity.plural));
        if let FieldKind::Regarding = def.kind {
            return match part {
                None | Some("id") => Ok(Target::Column(
                    self.custom_at(key, Some("id"), None),
                    Scalar::IdText,
                )),
                Some("entity") => Ok(Target::JsonText(self.custom_at(key, Some("entity"), None))),
                Some(_) => Err(unknown()),
            };
        }
        if part.is_some() {
            return Err(unknown());
        }
        let at = |sql_type| self.custom_at(key, None, sql_type);
        Ok(match &def.kind {
            FieldKind::Int { .. } | FieldKind::Duration => {
                Target::Column(at(Some("BIGINT")), Scalar::Int)
            }
            FieldKind::Decimal { .. } | FieldKind::Percent => {
                Target::Column(at(Some("DOUBLE PRECISION")), Scalar::Float)
            }
            FieldKind::Money => Target::Column(
                match self.backend {
                    Backend::Postgres => self.custom_at(key, Some("amount"), Some("NUMERIC")),
                    Backend::Sqlite => Expr::cust_with_values(
                        "CAST(json_extract(\"custom\", ?) AS REAL)",
                        [format!("$.\"{key}\".amount")],
                    ),
                },
                Scalar::Float,
            ),
            // An unset box is absent from the object, and reads as false.
            FieldKind::Bool => Target::Column(
                match self.backend {
                    Backend::Postgres => Expr::cust_with_values(
                        "COALESCE((\"custom\" ->> $1) = 'true', false)",
                        [key.to_string()],
                    ),
                    Backend::Sqlite => Expr::cust_with_values(
                        "COALESCE(json_extract(\"custom\", ?), 0) = 1",
                        [format!("$.\"{key}\"")],
                    ),
                },
                Scalar::Bool,
            ),
            FieldKind::Date => Target::Column(at(None), Scalar::DateText),
            FieldKind::DateTime => Target::Column(at(None), Scalar::InstantText),
            FieldKind::Ref { .. } | FieldKind::User => Target::Column(at(None), Scalar::IdText),
            FieldKind::MultiChoice(_) => Target::Picked(ArrayAt::Custom(key.to_string())),
            _ => Target::JsonText(at(None)),
        })
    }

    /// `insight.<name>`: the records whose current insight meets the condition (a record
    /// without insights meets none), for the entity insights are about.
    fn insight_target(&self, name: &str, insight: &str) -> CoreResult<Target> {
        use crate::insights::{self, ValueKind};
        if self.entity.name != insights::subject().name {
            return Err(bad(format!(
                "{} have no insights to filter on ('{name}')",
                self.entity.plural
            )));
        }
        if let Some((insight, day)) = insight.split_once('@') {
            return self.insight_then(name, insight, day);
        }
        let kind = insights::filterable(insight).ok_or_else(|| {
            bad(format!(
                "unknown insight '{insight}' (insights: {})",
                insights::FILTERABLE.map(|(n, _)| n).join(", ")
            ))
        })?;
        let scalar = match kind {
            ValueKind::Code => Scalar::Text,
            ValueKind::Whole => Scalar::Int,
            ValueKind::Number => Scalar::Float,
            ValueKind::Date => Scalar::Date,
        };
        Ok(Target::Line(Line {
            table: insights::TABLE,
            parent: insights::KEY,
            target: Box::new(Target::Column(Expr::col(col(insight)).into(), scalar)),
            carried: false,
        }))
    }

    /// `insight.<name>@<date>`: the insight's value as the first refresh on or after the date
    /// left it (from the history kept of tracked insights), so that "rose above 0.6 since
    /// 1 November" is `insight.churn_risk[gt]=0.6` and `insight.churn_risk@2026-11-01[lte]=0.6`.
    /// A record with no value then (no refresh since, or no insight yet) meets no condition.
    fn insight_then(&self, name: &str, insight: &str, day: &str) -> CoreResult<Target> {
        use crate::insights::{self, ValueKind};
        let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| bad(format!("'{name}': '{day}' is not a date (YYYY-MM-DD)")))?;
        if !insights::TRACKED.contains(&insight) {
            return Err(bad(format!(
                "'{name}': only these insights keep their history: {}",
                insights::TRACKED.join(", ")
            )));
        }
        let (column, scalar) = match insights::filterable(insight) {
            Some(ValueKind::Code) => ("code", Scalar::Text),
            Some(ValueKind::Whole) => ("number", Scalar::Int),
            Some(_) => ("number", Scalar::Float),
            None => return Err(bad(format!("unknown insight '{insight}'"))),
        };
        // Both names are checked against the declared lists and the date parsed above, so
        // writing them into the statement is safe.
        let at = format!(
            "(SELECT MIN(r.as_of) FROM insight_runs r WHERE r.state = 'done' AND r.as_of >= '{day}')"
        );
        let value = format!(
            "CASE WHEN insight_history.name = '{insight}' AND insight_history.valid_from = \
             (SELECT MAX(h.valid_from) FROM insight_history h \
              WHERE h.account_id = insight_history.account_id AND h.name = '{insight}' \
              AND h.valid_from <= {at}) THEN insight_history.{column} END"
        );
        Ok(Target::Line(Line {
            table: "insight_history",
            parent: insights::KEY,
            target: Box::new(Target::Column(Expr::cust(value), scalar)),
            carried: false,
        }))
    }

    fn resolve(&self, name: &str) -> CoreResult<Target> {
        let c = |n: &str| -> SimpleExpr { Expr::col(col(n)).into() };
        match name {
            "id" => return Ok(Target::Column(c("id"), Scalar::Id)),
            "owner_id" | "created_by" | "updated_by" => {
                return Ok(Target::Column(c(name), Scalar::Id));
            }
            "created_at" | "updated_at" => return Ok(Target::Column(c(name), Scalar::Timestamp)),
            "version" => return Ok(Target::Column(c(name), Scalar::Int)),
            _ => {}
        }
        if let Some(insight) = name.strip_prefix("insight.") {
            return self.insight_target(name, insight);
        }
        if let Some(path) = name.strip_prefix("custom.") {
            let (key, part) = match path.split_once('.') {
                Some((k, p)) => (k, Some(p)),
                None => (path, None),
            };
            let def =
                self.custom.iter().find(|d| d.key == key).ok_or_else(|| {
                    bad(format!("unknown field '{name}' for {}", self.entity.plural))
                })?;
            return self.custom_target(name, def, part);
        }
        let (base, part) = match name.split_once('.') {
            Some((b, p)) => (b, Some(p)),
            None => (name, None),
        };
        if let (Some(child), Some(p)) = (self.entity.children.iter().find(|c| c.name == base), part)
        {
            let line = |target: Target, carried: bool| {
                Target::Line(Line {
                    table: child.table,
                    parent: child.parent_column,
                    target: Box::new(target),
                    carried,
                })
            };
            return match child.fields.iter().find(|f| f.name == p) {
                Some(f) if matches!(f.kind, FieldKind::Ref { .. } | FieldKind::User) => {
                    Ok(line(Target::Column(c(f.column), Scalar::Id), false))
                }
                None if child.carries.contains(&p) => match self.resolve(p)? {
                    column @ Target::Column(..) => Ok(line(column, true)),
                    _ => Err(bad(format!("'{name}' cannot be filtered"))),
                },
                _ => Err(bad(format!(
                    "unknown field '{name}' for {}",
                    self.entity.plural
                ))),
            };
        }
        let field = self
            .entity
            .field(base)
            .ok_or_else(|| bad(format!("unknown field '{name}' for {}", self.entity.plural)))?;
        match (&field.kind, part) {
            (FieldKind::Regarding, None | Some("id")) => Ok(Target::Column(
                c(&format!("{}_id", field.column)),
                Scalar::Id,
            )),
            (FieldKind::Regarding, Some("entity")) => Ok(Target::Column(
                c(&format!("{}_entity", field.column)),
                Scalar::Text,
            )),
            (FieldKind::Address, Some(p)) if ADDRESS_PARTS.contains(&p) => Ok(Target::Column(
                c(&format!("{}_{p}", field.column)),
                Scalar::Text,
            )),
            (FieldKind::Address, _) => Err(bad(format!(
                "filter on a part of '{base}': {}",
                ADDRESS_PARTS.map(|p| format!("{base}.{p}")).join(", ")
            ))),
            (_, Some(_)) => Err(bad(format!(
                "unknown field '{name}' for {}",
                self.entity.plural
            ))),
            (FieldKind::Money, None) => Ok(Target::Column(
                c(&format!("{}_amount", field.column)),
                Scalar::Money,
            )),
            (FieldKind::Phones, None) => Ok(Target::Points("phone")),
            (FieldKind::Emails, None) => Ok(Target::Points("email")),
            (FieldKind::StringList { .. }, None) => Ok(Target::List(field.column)),
            (FieldKind::MultiChoice(_), None) => Ok(Target::Picked(ArrayAt::Column(field.column))),
            (FieldKind::Int { .. } | FieldKind::Duration, None) => {
                Ok(Target::Column(c(field.column), Scalar::Int))
            }
            (FieldKind::Decimal { scale }, None) => {
                Ok(Target::Column(c(field.column), Scalar::Decimal(*scale)))
            }
            (FieldKind::Date, None) => Ok(Target::Column(c(field.column), Scalar::Date)),
            (FieldKind::DateTime, None) => Ok(Target::Column(c(field.column), Scalar::Timestamp)),
            (FieldKind::Bool, None) => Ok(Target::Column(c(field.column), Scalar::Bool)),
            (FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User, None) => {
                Ok(Target::Column(c(field.column), Scalar::Id))
            }
            (FieldKind::Percent, None) => Ok(Target::Column(c(field.column), Scalar::Percent)),
            (FieldKind::Labels { .. }, None) => Err(bad(format!(
                "'{name}' cannot be filtered (it holds a text per language)"
            ))),
            (_, None) => Ok(Target::Column(c(field.column), Scalar::Text)),
        }
    }

    fn scalar(&self, kind: Scalar, field: &str, v: &Value) -> CoreResult<SqlValue> {
        let typed = as_str(v).ok_or_else(|| bad(format!("'{field}' needs a value")))?;
        let typed = typed.trim();
        // Amounts and counts as people type them: `100万`, `1.5亿`, `1,000,000`.
        let expanded = match kind {
            Scalar::Int | Scalar::Float | Scalar::Money | Scalar::Decimal(_) => {
                super::magnitude::expand(typed)
            }
            _ => None,
        };
        let s = expanded.as_deref().unwrap_or(typed);
        let wrong = |what: &str| bad(format!("'{typed}' is not {what} (field '{field}')"));
        Ok(match kind {
            Scalar::Text => SqlValue::String(Some(Box::new(s.to_string()))),
            Scalar::Int => {
                SqlValue::BigInt(Some(s.parse::<i64>().map_err(|_| wrong("a whole number"))?))
            }
            Scalar::Float => {
                SqlValue::Double(Some(s.parse::<f64>().map_err(|_| wrong("a number"))?))
            }
            Scalar::Money => SqlValue::BigInt(Some(
                money::parse_amount(s, &self.settings.default_currency)
                    .map_err(|_| wrong("an amount"))?,
            )),
            Scalar::Decimal(scale) => SqlValue::BigInt(Some(
                super::values::parse_decimal(&Value::String(s.to_string()), scale)
                    .map_err(|_| wrong("a number"))?,
            )),
            Scalar::DateText => SqlValue::String(Some(Box::new(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| wrong("a date (YYYY-MM-DD)"))?
                    .format("%Y-%m-%d")
                    .to_string(),
            ))),
            Scalar::InstantText => SqlValue::String(Some(Box::new(super::service::ts_string(
                instant(s).map_err(|_| wrong("a date or RFC 3339 time"))?,
            )))),
            Scalar::IdText => SqlValue::String(Some(Box::new(
                self.id_or_me(s).map_err(|_| wrong("an id"))?.to_string(),
            ))),
            Scalar::Percent => SqlValue::BigInt(Some(
                super::percent::parse(&Value::String(s.to_string()))
                    .map_err(|_| wrong("a percentage between 0 and 100"))?,
            )),
            Scalar::Date => SqlValue::ChronoDate(Some(Box::new(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| wrong("a date (YYYY-MM-DD)"))?,
            ))),
            Scalar::Timestamp => SqlValue::ChronoDateTimeUtc(Some(Box::new(
                instant(s).map_err(|_| wrong("a date or RFC 3339 time"))?,
            ))),
            Scalar::Bool => SqlValue::Bool(Some(match s {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(wrong("true or false")),
            })),
            Scalar::Id => SqlValue::Uuid(Some(Box::new(
                self.id_or_me(s).map_err(|_| wrong("an id"))?,
            ))),
        })
    }

    /// The owners `f` keeps records of, when it names them: an `owner_id` `eq` or `in` that
    /// every record must meet (the filter itself, or one of the conditions it ands). `None`
    /// when it keeps records of any owner, or names one wrongly (compiling it says how).
    pub fn owners_named(&self, f: &Filter) -> Option<Vec<Uuid>> {
        let named = |f: &Filter| match f {
            Filter::Cond { field, op, value } if field == "owner_id" => {
                let items: Vec<&str> = match (op, value) {
                    (FilterOp::Eq, Value::String(s)) => vec![s.as_str()],
                    (FilterOp::In, Value::Array(a)) => {
                        a.iter().map(Value::as_str).collect::<Option<_>>()?
                    }
                    (FilterOp::In, Value::String(s)) => s.split(',').collect(),
                    _ => return None,
                };
                let ids: Option<Vec<Uuid>> =
                    items.iter().map(|s| self.id_or_me(s.trim()).ok()).collect();
                ids.filter(|ids| !ids.is_empty())
            }
            _ => None,
        };
        match f {
            Filter::And(items) => items.iter().find_map(named),
            other => named(other),
        }
    }

    /// A value compared with `field`, bound where the planner does not look at it when it is
    /// the id of a record or a person, or an instant ([`crate::db::unprobed`]): nearly every
    /// one is its own, and a person's are read through indexes on (owner, time) whatever the
    /// value. Looking cost a re-planning of the statement on every read (a fifth of a rep's
    /// home page, a tenth of a team's week) and changed no plan of those pages. A stage or
    /// another line of a short list, a choice, a date and a number stay in view: how many
    /// records hold the value is what tells the planner how to read them (a quarter's won
    /// deals against a handful in an open stage).
    ///
    /// A board's column read in the board's order is the exception: the index on (column,
    /// date, id) every board keeps reads it whatever the line or the dates are, and looking at
    /// them planned each column's statement again on every board (half of the statement's work).
    fn bound(&self, kind: Scalar, field: &str, v: SqlValue) -> SimpleExpr {
        let line = || {
            self.entity
                .field(field)
                .is_some_and(|f| matches!(f.kind, FieldKind::LineRef { .. }))
        };
        let board_read = || {
            self.entity.board.is_some_and(|b| {
                self.order == Some(b.closed_on) && (field == b.column || field == b.closed_on)
            })
        };
        if (matches!(kind, Scalar::Id) && !line())
            || matches!(kind, Scalar::Timestamp)
            || board_read()
        {
            crate::db::unprobed(self.backend, v)
        } else {
            SimpleExpr::Value(v)
        }
    }

    /// An id, or `me` for the reader.
    fn id_or_me(&self, s: &str) -> Result<Uuid, uuid::Error> {
        if s == "me" {
            Ok(self.actor.user_id)
        } else {
            Uuid::parse_str(s)
        }
    }

    fn list(&self, kind: Scalar, field: &str, v: &Value) -> CoreResult<Vec<SqlValue>> {
        let items: Vec<Value> = match v {
            Value::Array(a) => a.clone(),
            Value::String(s) => s.split(',').map(|p| Value::String(p.to_string())).collect(),
            other => vec![other.clone()],
        };
        if items.is_empty() || items.len() > 500 {
            return Err(bad(format!("'in' on '{field}' takes 1 to 500 values")));
        }
        items.iter().map(|i| self.scalar(kind, field, i)).collect()
    }

    /// Compiles a filter into a SQL condition, after checking it is within the limits.
    pub fn compile(&self, f: &Filter) -> CoreResult<Condition> {
        f.check_limits()?;
        self.compile_node(f)
    }

    fn compile_node(&self, f: &Filter) -> CoreResult<Condition> {
        Ok(match f {
            Filter::And(items) => {
                let mut c = Condition::all();
                let mut lines: Vec<LineConds> = Vec::new();
                for i in items {
                    if let Filter::Cond { field, op, value } = i
                        && let Target::Line(line) = self.resolve(field)?
                    {
                        let (table, parent, carried) = (line.table, line.parent, line.carried);
                        let e = self.line_condition(line, field, *op, value)?;
                        let at = match lines.iter().position(|l| l.table == table) {
                            Some(at) => at,
                            None => {
                                lines.push(LineConds {
                                    table,
                                    parent,
                                    own: Vec::new(),
                                    carried: Vec::new(),
                                });
                                lines.len() - 1
                            }
                        };
                        if carried {
                            lines[at].carried.push(e);
                        } else {
                            lines[at].own.push(e);
                        }
                        continue;
                    }
                    c = c.add(self.compile_node(i)?);
                }
                for l in lines {
                    c = c.add(l.into_expr(self.backend, self.entity.table));
                }
                c
            }
            Filter::Or(items) => {
                let mut c = Condition::any();
                for i in items {
                    c = c.add(self.compile_node(i)?);
                }
                if items.is_empty() {
                    Condition::all()
                } else {
                    c
                }
            }
            Filter::Not(inner) => self.compile_node(inner)?.not(),
            Filter::Cond { field, op, value } => {
                Condition::all().add(self.condition(field, *op, value)?)
            }
        })
    }

    /// The condition a line must meet for a condition on `line`'s field.
    fn line_condition(
        &self,
        line: Line,
        field: &str,
        op: FilterOp,
        value: &Value,
    ) -> CoreResult<SimpleExpr> {
        use FilterOp::*;
        // "Has a line that is not…" or "…with a blank" reads as something else than people
        // mean by it; the comparisons of a carried instant are what a calendar needs.
        if !matches!(op, Eq | In | Lt | Lte | Gt | Gte) {
            return Err(bad(format!(
                "operator '{}' does not apply to field '{field}'",
                op.as_str()
            )));
        }
        self.condition_on(*line.target, field, op, value)
    }

    fn condition(&self, field: &str, op: FilterOp, value: &Value) -> CoreResult<SimpleExpr> {
        self.condition_on(self.resolve(field)?, field, op, value)
    }

    fn condition_on(
        &self,
        target: Target,
        field: &str,
        op: FilterOp,
        value: &Value,
    ) -> CoreResult<SimpleExpr> {
        use FilterOp::*;
        let unsupported = || {
            bad(format!(
                "operator '{}' does not apply to field '{field}'",
                op.as_str()
            ))
        };
        match target {
            Target::Column(e, kind) => {
                let empty_value: Option<SqlValue> = match kind {
                    Scalar::Text => Some(SqlValue::String(Some(Box::new(String::new())))),
                    _ => None,
                };
                match op {
                    Eq | Ne | Lt | Lte | Gt | Gte => {
                        if matches!(
                            kind,
                            Scalar::Text | Scalar::Bool | Scalar::Id | Scalar::IdText
                        ) && !matches!(op, Eq | Ne)
                        {
                            return Err(unsupported());
                        }
                        let v = self.bound(kind, field, self.scalar(kind, field, value)?);
                        let e = Expr::expr(e);
                        Ok(match op {
                            Eq => e.eq(v),
                            Ne => e.ne(v),
                            Lt => e.lt(v),
                            Lte => e.lte(v),
                            Gt => e.gt(v),
                            _ => e.gte(v),
                        })
                    }
                    Contains | StartsWith => {
                        if kind != Scalar::Text {
                            return Err(unsupported());
                        }
                        let s =
                            as_str(value).ok_or_else(|| bad(format!("'{field}' needs a value")))?;
                        let like = like(
                            self.backend,
                            Func::lower(e).into(),
                            s.trim(),
                            op == StartsWith,
                        );
                        let table = self.entity.table;
                        let as_typed = match self.narrow.pieces(field, &s) {
                            Some(Pieces::Holding(tokens)) => {
                                crate::search::holding(self.backend, self.entity, tokens).and(like)
                            }
                            Some(Pieces::Records(ids)) => {
                                let id = Expr::col((Alias::new(table), Alias::new("id")));
                                id.is_in(ids.iter().copied()).and(like)
                            }
                            None => like,
                        };
                        let as_pinyin = self.entity.field(field).and_then(|def| {
                            pinyin_match::of_typed(def, &s).map(|m| {
                                m.condition(self.backend, self.entity, def, op == StartsWith)
                            })
                        });
                        Ok(match as_pinyin {
                            Some(p) => as_typed.or(p),
                            None => as_typed,
                        })
                    }
                    In => Ok(Expr::expr(e).is_in(
                        self.list(kind, field, value)?
                            .into_iter()
                            .map(|v| self.bound(kind, field, v)),
                    )),
                    Empty => Ok(match empty_value {
                        Some(ev) => Expr::expr(e.clone()).is_null().or(Expr::expr(e).eq(ev)),
                        None => Expr::expr(e).is_null(),
                    }),
                    NotEmpty => Ok(match empty_value {
                        Some(ev) => Expr::expr(e.clone())
                            .is_not_null()
                            .and(Expr::expr(e).ne(ev)),
                        None => Expr::expr(e).is_not_null(),
                    }),
                }
            }
            Target::Line(line) => {
                let (table, parent, carried) = (line.table, line.parent, line.carried);
                let e = self.line_condition(line, field, op, value)?;
                let conds = LineConds {
                    table,
                    parent,
                    own: if carried { Vec::new() } else { vec![e.clone()] },
                    carried: if carried { vec![e] } else { Vec::new() },
                };
                Ok(conds.into_expr(self.backend, self.entity.table).into())
            }
            Target::JsonText(e) => match op {
                Eq | Ne => {
                    let v = self.scalar(Scalar::Text, field, value)?;
                    Ok(if op == Eq {
                        Expr::expr(e).eq(v)
                    } else {
                        Expr::expr(e).ne(v)
                    })
                }
                Contains | StartsWith => {
                    let s = as_str(value).ok_or_else(|| bad(format!("'{field}' needs a value")))?;
                    // Built from functions, not `cust_with_exprs("…$1…")`: sea-query only
                    // substitutes `$1` for PostgreSQL, so on SQLite it became a stray parameter.
                    let text = Func::lower(Func::cast_as(e, Alias::new("TEXT")));
                    // A custom field's value is the text itself, so `starts_with` is a prefix.
                    Ok(like(self.backend, text.into(), s.trim(), op == StartsWith))
                }
                In => Ok(Expr::expr(e).is_in(self.list(Scalar::Text, field, value)?)),
                Empty => Ok(Expr::expr(e).is_null()),
                NotEmpty => Ok(Expr::expr(e).is_not_null()),
                _ => Err(unsupported()),
            },
            Target::Picked(at) => {
                let table = self.entity.table;
                let (array, key): (String, Option<String>) = match &at {
                    ArrayAt::Column(column) => (format!("\"{table}\".\"{column}\""), None),
                    ArrayAt::Custom(key) => ("\"custom\"".to_string(), Some(key.clone())),
                };
                // One picked option: an item of the array equals it.
                let has = |v: String| -> SimpleExpr {
                    match (self.backend, &key) {
                        (Backend::Postgres, Some(k)) => Expr::cust_with_values(
                            format!("({array} -> $1) @> to_jsonb(CAST($2 AS TEXT))"),
                            [k.clone(), v],
                        ),
                        (Backend::Postgres, None) => Expr::cust_with_values(
                            format!("{array} @> to_jsonb(CAST($1 AS TEXT))"),
                            [v],
                        ),
                        (Backend::Sqlite, Some(k)) => Expr::cust_with_values(
                            format!(
                                "EXISTS (SELECT 1 FROM json_each({array}, ?) \
                                 WHERE json_each.value = ?)"
                            ),
                            [format!("$.\"{k}\""), v],
                        ),
                        (Backend::Sqlite, None) => Expr::cust_with_values(
                            format!(
                                "EXISTS (SELECT 1 FROM json_each({array}) \
                                 WHERE json_each.value = ?)"
                            ),
                            [v],
                        ),
                    }
                };
                // None picked: no array, or an empty one.
                let none = || -> SimpleExpr {
                    match (self.backend, &key) {
                        (Backend::Postgres, Some(k)) => Expr::cust_with_values(
                            format!("COALESCE(jsonb_array_length({array} -> $1), 0) = 0"),
                            [k.clone()],
                        ),
                        (Backend::Postgres, None) => {
                            Expr::cust(format!("COALESCE(jsonb_array_length({array}), 0) = 0"))
                        }
                        (Backend::Sqlite, Some(k)) => Expr::cust_with_values(
                            format!("COALESCE(json_array_length({array}, ?), 0) = 0"),
                            [format!("$.\"{k}\"")],
                        ),
                        (Backend::Sqlite, None) => {
                            Expr::cust(format!("COALESCE(json_array_length({array}), 0) = 0"))
                        }
                    }
                };
                let one = || {
                    as_str(value)
                        .map(|s| s.trim().to_string())
                        .ok_or_else(|| bad(format!("'{field}' needs a value")))
                };
                match op {
                    Eq | Contains => Ok(has(one()?)),
                    Ne => Ok(has(one()?).not()),
                    In => {
                        let items = self.list(Scalar::Text, field, value)?;
                        let mut any = Condition::any();
                        for i in items {
                            if let SqlValue::String(Some(s)) = i {
                                any = any.add(has(*s));
                            }
                        }
                        Ok(SimpleExpr::from(any))
                    }
                    Empty => Ok(none()),
                    NotEmpty => Ok(none().not()),
                    _ => Err(unsupported()),
                }
            }
            Target::List(column) => {
                let table = self.entity.table;
                let has = |v: String| -> SimpleExpr {
                    match self.backend {
                        // An array contains a string when one of its items is that string.
                        Backend::Postgres => Expr::cust_with_values(
                            format!("\"{table}\".\"{column}\" @> to_jsonb(CAST($1 AS TEXT))"),
                            [v],
                        ),
                        Backend::Sqlite => Expr::cust_with_values(
                            format!(
                                "EXISTS (SELECT 1 FROM json_each(\"{table}\".\"{column}\") \
                                 WHERE json_each.value = ?)"
                            ),
                            [v],
                        ),
                    }
                };
                let text =
                    || Func::cast_as(Expr::col((col(table), col(column))), Alias::new("TEXT"));
                let value = || {
                    as_str(value)
                        .map(|s| s.trim().to_string())
                        .ok_or_else(|| bad(format!("'{field}' needs a value")))
                };
                // Equality is about the items: the column holds JSON text, which compared to a
                // string never matched on SQLite and was an error (jsonb = text) on PostgreSQL.
                // Empty is `[]`, which the column holds for "none", not NULL. A list's text has
                // no one start, so `starts_with` looks anywhere in it, as `contains` does.
                match op {
                    Eq => Ok(has(value()?)),
                    Ne => Ok(has(value()?).not()),
                    Contains | StartsWith => Ok(like(
                        self.backend,
                        Func::lower(text()).into(),
                        &value()?,
                        false,
                    )),
                    Empty => Ok(Expr::col((col(table), col(column)))
                        .is_null()
                        .or(Expr::expr(text()).eq("[]"))),
                    NotEmpty => Ok(Expr::col((col(table), col(column)))
                        .is_not_null()
                        .and(Expr::expr(text()).ne("[]"))),
                    _ => Err(unsupported()),
                }
            }
            Target::Points(kind) => {
                let s = as_str(value).unwrap_or_default();
                let (value_cond, points_kind) = match op {
                    Eq => {
                        let (normalized, what) = if kind == "phone" {
                            (
                                normalize::phone_e164(&s, &self.settings.default_region),
                                "a phone number",
                            )
                        } else {
                            (normalize::email(&s), "an e-mail address")
                        };
                        let normalized = normalized.map_err(|_| {
                            bad(format!("'{}' is not {what} (field '{field}')", s.trim()))
                        })?;
                        (Some(Expr::col(col("value")).eq(normalized)), kind)
                    }
                    Contains => {
                        let needle: String = if kind == "phone" {
                            s.chars().filter(|c| c.is_ascii_digit()).collect()
                        } else {
                            s.trim().to_lowercase()
                        };
                        if needle.is_empty() {
                            return Err(bad(format!("'{field}' needs a value")));
                        }
                        (
                            Some(like(
                                self.backend,
                                Expr::col(col("value")).into(),
                                &needle,
                                false,
                            )),
                            kind,
                        )
                    }
                    Empty | NotEmpty => (None, kind),
                    _ => return Err(unsupported()),
                };
                let mut sub = Query::select();
                sub.column(col("record_id"))
                    .from(col("contact_points"))
                    .and_where(Expr::col(col("kind")).eq(points_kind));
                if let Some(vc) = value_cond {
                    sub.and_where(vc);
                }
                let id = Expr::col((col(self.entity.table), col("id")));
                Ok(if op == Empty {
                    id.not_in_subquery(sub)
                } else {
                    id.in_subquery(sub)
                })
            }
        }
    }
}
