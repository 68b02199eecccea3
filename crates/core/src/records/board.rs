//! An entity's board (`BoardDef`): its records in a column per line of the record they sit
//! within (opportunities by the stages of their pipeline), each column with its count and sum
//! of what the reader may read, and moving a record from one column to another as the state
//! machine says (a plain update between open columns, the action that leads to a closed one).

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::aggregate::{AggregateQuery, Grouping, Measure};
use super::def::{ActionDef, BoardDef, EntityDef, FieldDef, FieldKind};
use super::filter::{Filter, FilterOp};
use super::service::{ListQuery, Record, RecordService};
use crate::authz::Actor;
use crate::error::{CoreError, CoreResult};

/// The most cards a column shows; the column links to the list for the rest.
pub const CARDS_PER_COLUMN: u64 = 50;

/// One column of a board.
#[derive(Debug, Clone)]
pub struct Column {
    /// The line (a stage) as its record holds it.
    pub line: Value,
    /// The line's id.
    pub id: String,
    /// The state a record in this column is in (open, won, lost).
    pub state: String,
    /// Whether the column shows every record (an open stage) or only those closed in the
    /// period (won and lost).
    pub open: bool,
    /// How many records the reader may read are in the column (and its period).
    pub count: u64,
    /// The sum of the board's field over them: one per currency for money.
    pub sums: Vec<Value>,
    /// The first [`CARDS_PER_COLUMN`] of them, each with the system fields, its title's
    /// fields, the board's card fields and its column only.
    pub cards: Vec<Record>,
    /// The conditions (beyond the board's filter) that put a record in this column: what the
    /// list of all of them filters by.
    pub conditions: Vec<(String, FilterOp, String)>,
}

/// A board of the records within one record (a pipeline).
#[derive(Debug, Clone)]
pub struct Board {
    pub def: &'static BoardDef,
    /// The record whose lines are the columns.
    pub within: Record,
    pub columns: Vec<Column>,
    /// The first and last day of the reader's current quarter, which closed columns show.
    pub period: (NaiveDate, NaiveDate),
}

/// The first and last day of the quarter that holds `day`.
pub fn quarter_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_month = (day.month0() / 3) * 3 + 1;
    let start = NaiveDate::from_ymd_opt(day.year(), first_month, 1).unwrap_or(day);
    let next = if first_month == 10 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), first_month + 3, 1)
    };
    let end = next.and_then(|n| n.pred_opt()).unwrap_or(day);
    (start, end)
}

/// The board `def` declares, or why there is none.
fn board_of(def: &EntityDef) -> CoreResult<&'static BoardDef> {
    def.board.ok_or(CoreError::NotFound)
}

/// The entity holding the columns' lines and the child collection they are, from the column
/// field's declaration.
fn lines_of(
    def: &'static EntityDef,
    board: &BoardDef,
    registry: &'static super::Registry,
) -> CoreResult<(&'static EntityDef, &'static str)> {
    let column = def
        .field(board.column)
        .ok_or_else(|| CoreError::Internal(format!("board column {} is no field", board.column)))?;
    let FieldKind::LineRef { via, child } = &column.kind else {
        return Err(CoreError::Internal(format!(
            "board column {} is not a line reference",
            board.column
        )));
    };
    let within = def
        .field(via)
        .ok_or_else(|| CoreError::Internal(format!("board within {via} is no field")))?;
    let FieldKind::Ref { entity, .. } = &within.kind else {
        return Err(CoreError::Internal(format!(
            "board within {via} is not a reference"
        )));
    };
    let within_def = registry
        .by_name(entity)
        .ok_or_else(|| CoreError::Internal(format!("board within unknown entity {entity}")))?;
    Ok((within_def, child.name))
}

fn cond(field: &str, op: FilterOp, value: Value) -> Filter {
    Filter::Cond {
        field: field.to_string(),
        op,
        value,
    }
}

/// The most owners a column is read through one by one (see [`RecordService::board`]); a
/// larger team's columns are read through the stage.
const BOARD_OWNERS_AT_MOST: usize = 200;

impl RecordService<'_> {
    /// The entity that holds the board's columns (pipelines), if the entity has a board.
    pub fn board_within(&self) -> CoreResult<&'static EntityDef> {
        let def = self.def();
        let board = board_of(def)?;
        Ok(lines_of(def, board, self.core().registry)?.0)
    }

    /// The board of the records within record `within` (a pipeline `actor` has read, with or
    /// without its lines) that `actor` may read and `filter` matches: each column's count and
    /// sum through the aggregation (the running totals answer them when there is no filter),
    /// and its first cards. A page that has read the pipelines with their lines (for its
    /// pickers) hands the board its own: reading the pipeline again was two statements.
    pub async fn board(
        &self,
        actor: &Actor,
        within: &Record,
        filter: Option<Filter>,
    ) -> CoreResult<Board> {
        let def = self.def();
        let board = board_of(def)?;
        let (within_def, child) = lines_of(def, board, self.core().registry)?;
        let within = match within.get(child) {
            Some(_) => within.clone(),
            None => {
                let id = within
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or(CoreError::NotFound)?;
                self.core().records(within_def).get(actor, id).await?
            }
        };
        let today = Utc::now().with_timezone(&actor.time_zone).date_naive();
        let period = quarter_of(today);
        let lines: Vec<Value> = within
            .get(child)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let filter = filter.filter(|f| !f.is_everything());
        let line_ids = |open: bool| -> Vec<Value> {
            lines
                .iter()
                .filter(|l| {
                    (l.get(board.line_state).and_then(Value::as_str) == Some(board.open_state))
                        == open
                })
                .filter_map(|l| l.get("id").cloned())
                .collect()
        };
        let (open_ids, closed_ids) = (line_ids(true), line_ids(false));
        let in_period = |parts: &mut Vec<Filter>| {
            parts.push(cond(
                board.closed_on,
                FilterOp::Gte,
                json!(period.0.to_string()),
            ));
            parts.push(cond(
                board.closed_on,
                FilterOp::Lte,
                json!(period.1.to_string()),
            ));
        };
        let measures = vec![Measure::Count, Measure::Sum(board.sum.to_string())];
        let group = vec![Grouping {
            field: board.column.to_string(),
            bucket: None,
        }];
        // Open columns: without a filter, the running totals by stage answer.
        let open_filter = filter.clone().map(|f| {
            Filter::And(vec![
                f,
                cond(board.column, FilterOp::In, Value::Array(open_ids.clone())),
            ])
        });
        let mut groups = Vec::new();
        if !open_ids.is_empty() {
            let q = AggregateQuery {
                group: group.clone(),
                measures: measures.clone(),
                filter: open_filter,
            };
            groups.extend(
                self.aggregate(actor, &q)
                    .await?
                    .groups
                    .into_iter()
                    .filter(|g| g.keys.first().is_some_and(|k| open_ids.contains(k))),
            );
        }
        if !closed_ids.is_empty() {
            let mut parts: Vec<Filter> = filter.iter().cloned().collect();
            parts.push(cond(
                board.column,
                FilterOp::In,
                Value::Array(closed_ids.clone()),
            ));
            in_period(&mut parts);
            let q = AggregateQuery {
                group,
                measures,
                filter: Some(Filter::And(parts)),
            };
            groups.extend(
                self.aggregate(actor, &q)
                    .await?
                    .groups
                    .into_iter()
                    .filter(|g| g.keys.first().is_some_and(|k| closed_ids.contains(k))),
            );
        }
        // A reader who reads only some people's records (a rep, a team's manager) reads each
        // column through those people's deals of the stage (an index by owner, stage and
        // date), where the stage's own index would walk everyone's to find theirs. Only where
        // the scope is exactly a set of owners (records read through others are not owned),
        // and one that a list of values holds.
        let owners = match (def.read_through, def.shared_with) {
            (None, None) => self
                .scope_owners(actor, BOARD_OWNERS_AT_MOST)
                .await?
                .filter(|o| o.len() <= BOARD_OWNERS_AT_MOST),
            _ => None,
        };
        let mut columns = Vec::new();
        for line in &lines {
            let Some(id) = line.get("id").and_then(Value::as_str) else {
                continue;
            };
            let state = line
                .get(board.line_state)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let open = state == board.open_state;
            let mut count = 0u64;
            let mut sums = Vec::new();
            for g in groups
                .iter()
                .filter(|g| g.keys.first().and_then(Value::as_str) == Some(id))
            {
                count += g.values.first().and_then(Value::as_u64).unwrap_or(0);
                if let Some(s) = g.values.get(1).filter(|v| !v.is_null()) {
                    sums.push(s.clone());
                }
            }
            let mut conditions = vec![(board.column.to_string(), FilterOp::Eq, id.to_string())];
            if !open {
                conditions.push((
                    board.closed_on.to_string(),
                    FilterOp::Gte,
                    period.0.to_string(),
                ));
                conditions.push((
                    board.closed_on.to_string(),
                    FilterOp::Lte,
                    period.1.to_string(),
                ));
            }
            let cards = if count == 0 {
                Vec::new()
            } else {
                let mut parts: Vec<Filter> = filter.iter().cloned().collect();
                if let Some(owners) = &owners {
                    parts.push(cond(
                        "owner_id",
                        FilterOp::In,
                        Value::Array(owners.iter().map(|o| json!(o.to_string())).collect()),
                    ));
                }
                parts.extend(
                    conditions
                        .iter()
                        .map(|(f, op, v)| cond(f, *op, Value::String(v.clone()))),
                );
                let sort = if open {
                    board.closed_on.to_string()
                } else {
                    format!("-{}", board.closed_on)
                };
                let q = ListQuery {
                    filter: Some(Filter::And(parts)),
                    sort: Some(sort),
                    limit: CARDS_PER_COLUMN,
                    // What a card shows: the cards are hundreds of records, and reading them
                    // whole (and naming everything they refer to) was most of the board's time.
                    fields: Some(
                        def.showing(&[board.card, &[board.column, board.closed_on]].concat()),
                    ),
                    ..Default::default()
                };
                self.list(actor, &q).await?.items
            };
            columns.push(Column {
                line: line.clone(),
                id: id.to_string(),
                state,
                open,
                count,
                sums,
                cards,
                conditions,
            });
        }
        Ok(Board {
            def: board,
            within,
            columns,
            period,
        })
    }

    /// The action moving record `id` to the board's column `line` is (close-won, close-lost,
    /// reopen, as the state machine names it), or `None` when the move is a plain update of the
    /// column field (within the same state, or a line the engine will refuse by its own rules).
    pub async fn board_move_action(
        &self,
        actor: &Actor,
        id: Uuid,
        line: &str,
    ) -> CoreResult<Option<&'static ActionDef>> {
        let def = self.def();
        let board = board_of(def)?;
        let (within_def, child) = lines_of(def, board, self.core().registry)?;
        let rec = self.get(actor, id).await?;
        let line_value = Value::String(line.to_string());
        let via = def
            .field(board.column)
            .and_then(|f| match &f.kind {
                FieldKind::LineRef { via, .. } => Some(*via),
                _ => None,
            })
            .unwrap_or(board.within);
        let target_state = match rec
            .get(via)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
        {
            Some(within_id) => {
                let within = self
                    .core()
                    .records(within_def)
                    .get(actor, within_id)
                    .await?;
                within
                    .get(child)
                    .and_then(Value::as_array)
                    .and_then(|ls| ls.iter().find(|l| l.get("id") == Some(&line_value)))
                    .and_then(|l| l.get(board.line_state))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }
            None => None,
        };
        let action = match (def.states, target_state) {
            (Some(states), Some(to)) => {
                let from = rec
                    .get(states.field)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if states.allows(&from, &to, None) {
                    None
                } else {
                    states.actions_between(&from, &to).first().copied()
                }
            }
            _ => None,
        };
        Ok(action.and_then(|a| def.action(a)))
    }

    /// The inputs of `action` a person fills in when a board move is that action: all but the
    /// board's column, which the move itself gives.
    pub fn board_move_inputs(&self, action: &'static ActionDef) -> Vec<&'static FieldDef> {
        let column = self.def().board.map(|b| b.column);
        action
            .input
            .iter()
            .filter(|f| Some(f.name) != column)
            .collect()
    }

    /// The field of the record named `name` that a board move may set along with the column,
    /// as a form would (what the stage or the action's rules require, such as a close date):
    /// one of the entity's declared fields, not computed, not the column itself.
    pub fn board_move_field(&self, name: &str) -> Option<&'static FieldDef> {
        let def = self.def();
        let column = def.board.map(|b| b.column);
        def.field(name)
            .filter(|f| !f.computed && Some(f.name) != column)
    }

    /// Moves record `id` to the board's column `line` (a stage): within the same state a plain
    /// update of the column field, to another state the action the state machine names for
    /// that move (close-won, close-lost, reopen), given the line when it asks for it and
    /// `input` (a lost reason, a date) for the rest of what it asks. `fields` are values of the
    /// record's own fields ([`board_move_field`](Self::board_move_field)) set in the same
    /// write: what the stage requires, given when the move asked for it. Every rule of the
    /// update or the action applies; a refusal changes nothing.
    pub async fn move_on_board(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: Option<i64>,
        line: &str,
        input: &serde_json::Map<String, Value>,
        fields: &serde_json::Map<String, Value>,
    ) -> CoreResult<Record> {
        let def = self.def();
        let board = board_of(def)?;
        let line_value = Value::String(line.to_string());
        let mut errors = crate::FieldErrors::new();
        for k in fields.keys() {
            if self.board_move_field(k).is_none() {
                errors.insert(
                    k.clone(),
                    crate::FieldError::new(crate::codes::UNKNOWN_FIELD),
                );
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        // A line of another record, or a move no action makes, goes as an update: the engine
        // refuses it by its own rules and says why.
        match self.board_move_action(actor, id, line).await? {
            Some(a) => {
                let mut body = serde_json::Map::new();
                for f in self.board_move_inputs(a) {
                    if let Some(v) = input.get(f.name) {
                        body.insert(f.name.into(), v.clone());
                    }
                }
                if a.field(board.column).is_some() {
                    body.insert(board.column.into(), line_value);
                }
                self.act_setting(
                    actor,
                    id,
                    a.name,
                    expected_version,
                    &Value::Object(body),
                    fields,
                )
                .await
            }
            None => {
                let mut body = fields.clone();
                body.insert(board.column.into(), line_value);
                self.update(actor, id, expected_version, &Value::Object(body))
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_run_from_their_first_to_their_last_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(
            quarter_of(d(2026, 12, 5)),
            (d(2026, 10, 1), d(2026, 12, 31))
        );
        assert_eq!(quarter_of(d(2026, 1, 1)), (d(2026, 1, 1), d(2026, 3, 31)));
        assert_eq!(quarter_of(d(2026, 5, 31)), (d(2026, 4, 1), d(2026, 6, 30)));
        assert_eq!(quarter_of(d(2024, 9, 30)), (d(2024, 7, 1), d(2024, 9, 30)));
    }
}
