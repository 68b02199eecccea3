//! Reading an entity's records as calendar entries ([`CalendarDef`]) and moving one in time.
//!
//! Both go through the record service: a range is an ordinary list with a filter the engine
//! compiles (so the reader's scope applies), a move an ordinary update (so every rule, the
//! version check and the audit run).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::def::{CalendarDef, EntityDef};
use super::filter::{Filter, FilterOp};
use super::service::{ListQuery, MAX_LIMIT, Record, RecordService, ts_string};
use crate::authz::Actor;
use crate::db::{Backend, Db};
use crate::error::{CoreError, CoreResult, FieldError, codes};

/// The most entries one range reads: a team's busy month fits, a runaway range stops.
pub const MAX_ENTRIES: usize = 5_000;

/// An instant field of a record.
pub fn instant(rec: &Record, field: &str) -> Option<DateTime<Utc>> {
    rec.get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Where an entry sits in time: its start (or, without one, its due time) and its end.
/// Entries with neither are not on a calendar.
pub fn span(cal: &CalendarDef, rec: &Record) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    match instant(rec, cal.start) {
        Some(start) => Some((start, instant(rec, cal.end).filter(|e| *e >= start))),
        None => instant(rec, cal.due).map(|due| (due, None)),
    }
}

fn cond(field: impl Into<String>, op: FilterOp, value: Value) -> Filter {
    Filter::Cond {
        field: field.into(),
        op,
        value,
    }
}

/// How far before a range a read looks for entries that started earlier and still run: a
/// meeting or a trip of up to a month. Bounding it lets the start be read as a range of an
/// index rather than from the beginning of time. Reads look back less when the entity's
/// entries are known to be shorter ([`longest_span`]); longer entries are listed apart
/// ([`long_ddl`]).
pub const LONGEST_ENTRY: Duration = Duration::days(31);

/// The table that holds, per entity with a calendar, the longest span (end less start, in
/// whole seconds, rounded up) any of its entries has had.
pub const SPANS: &str = "calendar_spans";

/// The statements that create `def`'s kept longest span on `backend`: its row, counted from
/// the entries already there, and the triggers that raise it when an entry is written longer.
/// Kept by triggers so that every writer (a form, the API, an import) keeps it.
///
/// Why: an entry that started before a range and still runs is in the range, so a read must
/// look back as far as an entry can last. A month's look back made a whole company's day read
/// every entry of the month before it (35,000 rows at 400 people); entries of an hour or two
/// make it a few hours. The span only grows: a longer entry deleted or shortened leaves it,
/// which costs reads time, never an entry.
pub fn span_ddl(def: &EntityDef, backend: Backend) -> Vec<String> {
    let Some(cal) = def.calendar else {
        return Vec::new();
    };
    let (t, entity, start, end) = (def.table, def.name, cal.start, cal.end);
    let seconds = |row: &str| match backend {
        Backend::Sqlite => {
            format!("unixepoch({row}.\"{end}\") - unixepoch({row}.\"{start}\") + 1")
        }
        Backend::Postgres => format!(
            "CAST(ceil(extract(epoch FROM {row}.\"{end}\" - {row}.\"{start}\")) AS BIGINT) + 1"
        ),
    };
    let raise = format!(
        "UPDATE \"{SPANS}\" SET \"longest\" = {s} WHERE \"entity\" = '{entity}' \
         AND \"longest\" < {s}",
        s = seconds("NEW")
    );
    // An end before the start gives a span below any kept one: the update's own test skips it.
    let timed = format!("NEW.\"{start}\" IS NOT NULL AND NEW.\"{end}\" IS NOT NULL");
    let mut out = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS \"{SPANS}\" (\"entity\" TEXT NOT NULL PRIMARY KEY, \
             \"longest\" BIGINT NOT NULL)"
        ),
        format!(
            "INSERT INTO \"{SPANS}\" (\"entity\", \"longest\") SELECT '{entity}', \
             COALESCE(MAX({s}), 0) FROM \"{t}\" AS e WHERE e.\"{start}\" IS NOT NULL \
             AND e.\"{end}\" > e.\"{start}\"",
            s = seconds("e")
        ),
    ];
    match backend {
        Backend::Sqlite => {
            out.push(format!(
                "CREATE TRIGGER \"{t}_span_insert\" AFTER INSERT ON \"{t}\" WHEN {timed} \
                 BEGIN {raise}; END"
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_span_update\" AFTER UPDATE OF \"{start}\", \"{end}\" \
                 ON \"{t}\" WHEN {timed} BEGIN {raise}; END"
            ));
        }
        Backend::Postgres => {
            out.push(format!(
                "CREATE FUNCTION \"{t}_span_keep\"() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN {raise}; RETURN NULL; END $$"
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_span\" AFTER INSERT OR UPDATE OF \"{start}\", \"{end}\" \
                 ON \"{t}\" FOR EACH ROW WHEN ({timed}) EXECUTE FUNCTION \"{t}_span_keep\"()"
            ));
        }
    }
    out
}

/// The table that lists, per entity with a calendar, its entries longer than
/// [`LONGEST_ENTRY`]: their ids and where they start and end.
pub const LONG: &str = "calendar_long";

/// The statements that create `def`'s list of long entries on `backend`: the table, filled from
/// the entries already there, and the triggers that keep it as entries are written, moved and
/// removed, by every writer.
///
/// Why: a read looks back at most [`LONGEST_ENTRY`] for entries that began before its range,
/// so that a range stays a range of an index. An entry that lasts longer (a quarter's on-site
/// project) would drop off the calendar a month after it began. Such entries are few, so they
/// are listed apart and each read takes those of its range from the list as well.
pub fn long_ddl(def: &EntityDef, backend: Backend) -> Vec<String> {
    let Some(cal) = def.calendar else {
        return Vec::new();
    };
    let (t, entity, start, end) = (def.table, def.name, cal.start, cal.end);
    let limit = LONGEST_ENTRY.num_seconds();
    let long = |row: &str| match backend {
        Backend::Sqlite => {
            format!("unixepoch({row}.\"{end}\") - unixepoch({row}.\"{start}\") > {limit}")
        }
        Backend::Postgres => {
            format!("{row}.\"{end}\" - {row}.\"{start}\" > interval '{limit} seconds'")
        }
    };
    let (id_type, at_type) = match backend {
        Backend::Sqlite => ("uuid_text", "timestamp_with_timezone_text"),
        Backend::Postgres => ("UUID", "TIMESTAMPTZ"),
    };
    let forget = format!(
        "DELETE FROM \"{LONG}\" WHERE \"entity\" = '{entity}' AND \"entry_id\" = OLD.\"id\""
    );
    // `verb` is SQLite's `INSERT OR REPLACE` where a row may be listed already.
    let list = |verb: &str, row: &str| {
        format!(
            "{verb} INTO \"{LONG}\" (\"entity\", \"entry_id\", \"starts\", \"ends\") \
             SELECT '{entity}', {row}.\"id\", {row}.\"{start}\", {row}.\"{end}\""
        )
    };
    let mut out = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS \"{LONG}\" (\"entity\" TEXT NOT NULL, \
             \"entry_id\" {id_type} NOT NULL, \"starts\" {at_type} NOT NULL, \
             \"ends\" {at_type} NOT NULL, PRIMARY KEY (\"entity\", \"entry_id\"))"
        ),
        format!(
            "{} FROM \"{t}\" AS e WHERE {}",
            list("INSERT", "e"),
            long("e")
        ),
    ];
    match backend {
        Backend::Sqlite => {
            out.push(format!(
                "CREATE TRIGGER \"{t}_long_insert\" AFTER INSERT ON \"{t}\" WHEN {} \
                 BEGIN {}; END",
                long("NEW"),
                list("INSERT OR REPLACE", "NEW")
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_long_update\" AFTER UPDATE OF \"{start}\", \"{end}\" \
                 ON \"{t}\" WHEN {} OR {} BEGIN {forget}; {} WHERE {}; END",
                long("OLD"),
                long("NEW"),
                list("INSERT", "NEW"),
                long("NEW")
            ));
            out.push(format!(
                "CREATE TRIGGER \"{t}_long_delete\" AFTER DELETE ON \"{t}\" WHEN {} \
                 BEGIN {forget}; END",
                long("OLD")
            ));
        }
        Backend::Postgres => {
            out.push(format!(
                "CREATE FUNCTION \"{t}_long_keep\"() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF TG_OP <> 'INSERT' THEN {forget}; END IF; \
                 IF TG_OP <> 'DELETE' AND {} THEN {} ON CONFLICT (\"entity\", \"entry_id\") \
                 DO UPDATE SET \"starts\" = EXCLUDED.\"starts\", \"ends\" = EXCLUDED.\"ends\"; \
                 END IF; RETURN NULL; END $$",
                long("NEW"),
                list("INSERT", "NEW")
            ));
            // Three triggers, so that each tests in its WHEN what its rows can be: most entries
            // are short and never reach the function.
            for (name, on, when) in [
                ("insert", "INSERT".to_string(), long("NEW")),
                (
                    "update",
                    format!("UPDATE OF \"{start}\", \"{end}\""),
                    format!("{} OR {}", long("OLD"), long("NEW")),
                ),
                ("delete", "DELETE".to_string(), long("OLD")),
            ] {
                out.push(format!(
                    "CREATE TRIGGER \"{t}_long_{name}\" AFTER {on} ON \"{t}\" FOR EACH ROW \
                     WHEN ({when}) EXECUTE FUNCTION \"{t}_long_keep\"()"
                ));
            }
        }
    }
    out
}

/// The ids of `def`'s long entries (see [`long_ddl`]) that run within `[from, to)`.
async fn long_entries(
    db: &Db,
    def: &EntityDef,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<Uuid>> {
    let sql = match db.backend() {
        Backend::Sqlite => format!(
            "SELECT \"entry_id\" FROM \"{LONG}\" WHERE \"entity\" = ? AND \"starts\" < ? \
             AND \"ends\" > ?"
        ),
        Backend::Postgres => format!(
            "SELECT \"entry_id\" FROM \"{LONG}\" WHERE \"entity\" = $1 AND \"starts\" < $2 \
             AND \"ends\" > $3"
        ),
    };
    let rows = crate::db::raw_query(
        db.reader(),
        &sql,
        vec![def.name.into(), to.into(), from.into()],
    )
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get_by_index::<Uuid>(0)?))
        .collect()
}

/// The longest span `def`'s entries have had, when it is kept.
async fn longest_span(db: &Db, def: &EntityDef) -> CoreResult<Option<Duration>> {
    let param = match db.backend() {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    let sql = format!("SELECT \"longest\" FROM \"{SPANS}\" WHERE \"entity\" = {param}");
    let rows = crate::db::raw_query(db.reader(), &sql, vec![def.name.into()]).await?;
    let kept = match rows.first() {
        Some(row) => Some(row.try_get_by_index::<i64>(0)?),
        None => None,
    };
    Ok(kept.map(Duration::seconds))
}

/// Whose entries a read takes: those they own, or those they attend.
#[derive(Clone, Copy)]
enum Belonging {
    Owned,
    Attended,
}

/// When an entry is placed: by its start, or (without one) by its due time.
#[derive(Clone, Copy)]
enum Placing {
    Start,
    Due,
}

/// The filter of entries that belong to any of `people` one way.
fn whose(cal: &CalendarDef, people: &[Uuid], belonging: Belonging) -> Filter {
    let ids = Value::Array(people.iter().map(|p| json!(p.to_string())).collect());
    match belonging {
        Belonging::Owned => cond("owner_id", FilterOp::In, ids),
        Belonging::Attended => cond(
            format!("{}.{}", cal.attendees, cal.attendee_user),
            FilterOp::In,
            ids,
        ),
    }
}

/// The filter of entries in `[from, to)` that belong to any of `people` one way and are placed
/// one way. An entry starting before `from` (by at most `lookback`) is in when it ends after
/// it. Each of the four reads
/// is a range of one index (owner, start and end; owner and due time; or the attendees' table),
/// where one filter with both ORs left SQLite none and it walked the whole table.
///
/// Placed by due time means "without a start", but that test is left to the caller: said in
/// SQL, SQLite takes "no start" for a rare value (most starts are distinct) and reads every
/// task of the person through the start's index instead of the due times of the range.
fn range_filter(
    cal: &CalendarDef,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    people: &[Uuid],
    belonging: Belonging,
    placing: Placing,
    lookback: Duration,
) -> Filter {
    // An attended entry's range is said on the attendee lines, which carry its start and due
    // time (`ChildDef::carries`): one read of their index by person and time, where the
    // attendees alone gave every meeting the people ever attended.
    let on = match belonging {
        Belonging::Owned => String::new(),
        Belonging::Attended => format!("{}.", cal.attendees),
    };
    let whose = whose(cal, people, belonging);
    let at = |field: &str| format!("{on}{field}");
    let mut conds = vec![whose];
    match placing {
        Placing::Start => conds.extend([
            cond(
                at(cal.start),
                FilterOp::Gte,
                json!(ts_string(from - lookback)),
            ),
            cond(at(cal.start), FilterOp::Lt, json!(ts_string(to))),
            Filter::Or(vec![
                cond(cal.start, FilterOp::Gte, json!(ts_string(from))),
                cond(cal.end, FilterOp::Gt, json!(ts_string(from))),
            ]),
        ]),
        Placing::Due => conds.extend([
            cond(at(cal.due), FilterOp::Gte, json!(ts_string(from))),
            cond(at(cal.due), FilterOp::Lt, json!(ts_string(to))),
        ]),
    }
    Filter::And(conds)
}

/// What a calendar read takes beyond its range and its people.
#[derive(Debug, Default, Clone, Copy)]
pub struct Entries<'a> {
    /// Fields read beyond an entry's title and what places it (a feed's location).
    pub shown: &'a [&'a str],
    /// Only timed entries not yet done, the first this many by start: an agenda's next
    /// meetings, which for a whole company's day read a few rows rather than thousands.
    pub next_timed: Option<u64>,
}

impl RecordService<'_> {
    /// The entries between two instants that belong to `people` (owned or attended), as the
    /// actor may read them, soonest first. Not found when the entity has no calendar. Each
    /// holds its title, what places it (start, end, due time, kind, done) and the fields
    /// `shown` names (a feed's location); a team's week is a thousand records, and reading
    /// them whole was most of its time.
    pub async fn calendar_entries(
        &self,
        actor: &Actor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        people: &[Uuid],
        read: Entries<'_>,
    ) -> CoreResult<Vec<Record>> {
        let cal = self.def().calendar.ok_or(CoreError::NotFound)?;
        let fields = self.def().showing(
            &[
                &[cal.start, cal.end, cal.due, cal.kind, cal.done],
                read.shown,
            ]
            .concat(),
        );
        if people.is_empty() || to <= from {
            return Ok(Vec::new());
        }
        // Whoever attends an entry of everyone's calendar is among everyone, and the entry is
        // someone's, so read as owned: the attendees' reads would only find it again, and for a
        // whole company they are the slowest (every invitation of everyone, then the range).
        let wanted: HashSet<Uuid> = people.iter().copied().collect();
        let everyone = crate::identity::users::list(&self.core().db)
            .await?
            .iter()
            .all(|u| wanted.contains(&u.id));
        let db = &self.core().db;
        let kept = longest_span(db, self.def()).await?;
        let lookback = kept.map_or(LONGEST_ENTRY, |d| d.min(LONGEST_ENTRY));
        // Entries longer than the look back are listed apart: read those of the range by id.
        let long = match kept {
            Some(d) if d > LONGEST_ENTRY => long_entries(db, self.def(), from, to).await?,
            _ => Vec::new(),
        };
        let mut out: Vec<Record> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        // An `in` takes at most 500 values: a larger team is read in parts. Each part is read
        // four ways (owned or attended, placed by start or by due time), each in its time order.
        let ways = [
            (Belonging::Owned, Placing::Start),
            (Belonging::Owned, Placing::Due),
            (Belonging::Attended, Placing::Start),
            (Belonging::Attended, Placing::Due),
        ];
        'parts: for part in people.chunks(400) {
            for (belonging, placing) in ways {
                if everyone && matches!(belonging, Belonging::Attended)
                    || read.next_timed.is_some() && matches!(placing, Placing::Due)
                {
                    continue;
                }
                let sort = match placing {
                    Placing::Start => cal.start,
                    Placing::Due => cal.due,
                };
                let mut filter = range_filter(cal, from, to, part, belonging, placing, lookback);
                if read.next_timed.is_some() {
                    filter = Filter::And(vec![filter, cond(cal.done, FilterOp::Eq, json!(false))]);
                }
                let mut q = ListQuery {
                    filter: Some(filter),
                    sort: Some(sort.into()),
                    limit: read.next_timed.unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                    fields: Some(fields.clone()),
                    ..Default::default()
                };
                loop {
                    let page = self.list(actor, &q).await?;
                    for rec in page.items {
                        // An entry with a start is placed by it, by the other read.
                        if matches!(placing, Placing::Due) && instant(&rec, cal.start).is_some() {
                            continue;
                        }
                        let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
                        if seen.insert(id.to_string()) {
                            out.push(rec);
                        }
                    }
                    if out.len() >= MAX_ENTRIES {
                        break 'parts;
                    }
                    // Each read's first entries by start hold the first of them all.
                    if read.next_timed.is_some() {
                        break;
                    }
                    match page.next_cursor {
                        Some(c) => q.cursor = Some(c),
                        None => break,
                    }
                }
            }
            for belonging in [Belonging::Owned, Belonging::Attended] {
                if everyone && matches!(belonging, Belonging::Attended) {
                    continue;
                }
                // At most 400 ids a read, as people: each read is one page.
                for ids in long.chunks(400) {
                    let ids = Value::Array(ids.iter().map(|i| json!(i.to_string())).collect());
                    let mut conds =
                        vec![whose(cal, part, belonging), cond("id", FilterOp::In, ids)];
                    if read.next_timed.is_some() {
                        conds.push(cond(cal.done, FilterOp::Eq, json!(false)));
                    }
                    let q = ListQuery {
                        filter: Some(Filter::And(conds)),
                        limit: MAX_LIMIT,
                        fields: Some(fields.clone()),
                        ..Default::default()
                    };
                    for rec in self.list(actor, &q).await?.items {
                        let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
                        if seen.insert(id.to_string()) {
                            out.push(rec);
                        }
                    }
                    if out.len() >= MAX_ENTRIES {
                        break 'parts;
                    }
                }
            }
        }
        // Each key is an instant parsed from text: once a record, not once a comparison.
        out.sort_by_cached_key(|r| span(cal, r).map(|(s, _)| s));
        if let Some(n) = read.next_timed {
            out.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        }
        Ok(out)
    }

    /// Moves entry `id` to start at `start`: with `end`, to end then; without, keeping its
    /// length. An entry placed by its due time moves its due time. An ordinary update, so a
    /// stale `version`, an end before the start or a record out of the actor's reach is
    /// refused as any edit is.
    pub async fn reschedule(
        &self,
        actor: &Actor,
        id: Uuid,
        version: Option<i64>,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    ) -> CoreResult<Record> {
        let cal = self.def().calendar.ok_or(CoreError::NotFound)?;
        let rec = self.get(actor, id).await?;
        let mut input = serde_json::Map::new();
        match instant(&rec, cal.start) {
            Some(old_start) => {
                let end = end.or_else(|| {
                    instant(&rec, cal.end).map(|old_end| start + (old_end - old_start))
                });
                input.insert(cal.start.into(), json!(ts_string(start)));
                if let Some(e) = end {
                    input.insert(cal.end.into(), json!(ts_string(e)));
                }
            }
            None if instant(&rec, cal.due).is_some() => {
                input.insert(cal.due.into(), json!(ts_string(start)));
            }
            None => {
                return Err(CoreError::field(
                    cal.start,
                    FieldError::new(codes::REQUIRED),
                ));
            }
        }
        self.update(actor, id, version, &Value::Object(input)).await
    }
}

/// How long an entry without an end is drawn (and written to a feed).
pub fn default_length() -> Duration {
    Duration::minutes(30)
}
