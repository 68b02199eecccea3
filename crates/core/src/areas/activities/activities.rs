//! Activities (跟进): what a rep did or will do about a customer — a task, a call, a meeting, a
//! visit (拜访) or a note — each regarding any business record.
//!
//! Whoever may read the record an activity regards may read the activity, whoever owns it
//! (`read_through`): a manager reading an account reads every call logged on it. The colleagues
//! invited to it read it too (`shared_with`). A recurring task, once done, is followed by its next
//! occurrence; the rule must end (a date or a count). A reminder rings its owner and attending
//! colleagues ahead of its time, kept by the engine's reminders seam as the activity changes.

use async_trait::async_trait;
use chrono::{DateTime, Days, Duration, Months, NaiveDate, NaiveDateTime, Utc};

use crate::time_zone::{self, Tz};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::reminders::Kept;

use crate::areas::str_field;
use crate::error::{CoreResult, FieldError, FieldErrors, codes};
use crate::records::def::{
    Access, CalendarDef, ChildDef, EntityDef, FieldDef, FieldGroup, FieldKind, OptionSet,
    TimelineDef,
};
use crate::records::service::ts_string;
use crate::records::{Behaviour, Event, Filter, FilterOp, JsonMap, Work};

pub static KINDS: OptionSet = OptionSet {
    name: "activity_kinds",
    codes: &["task", "call", "meeting", "visit", "note"],
};
pub static PRIORITIES: OptionSet = OptionSet {
    name: "priorities",
    codes: &["high", "normal", "low"],
};
pub static DIRECTIONS: OptionSet = OptionSet {
    name: "call_directions",
    codes: &["outbound", "inbound"],
};
pub static OUTCOMES: OptionSet = OptionSet {
    name: "call_outcomes",
    codes: &[
        "connected",
        "no_answer",
        "busy",
        "voicemail",
        "wrong_number",
    ],
};
pub static REPEATS: OptionSet = OptionSet {
    name: "repeats",
    codes: &["daily", "weekly", "monthly", "yearly"],
};

/// How long before an activity starts (or falls due) its people are reminded.
pub static REMINDS: OptionSet = OptionSet {
    name: "activity_reminds",
    codes: &["at_time", "min_5", "min_15", "min_30", "hour_1", "day_1"],
};

/// How long before the activity's time a reminder code reminds.
fn remind_ahead(code: &str) -> Option<Duration> {
    Some(match code {
        "at_time" => Duration::zero(),
        "min_5" => Duration::minutes(5),
        "min_15" => Duration::minutes(15),
        "min_30" => Duration::minutes(30),
        "hour_1" => Duration::hours(1),
        "day_1" => Duration::days(1),
        _ => return None,
    })
}

/// A reminder on an activity with neither a start nor a due time to count from (`remind`).
pub const REMINDER_NEEDS_TIME: &str = "reminder_needs_time";

/// An end before the start (`ends_at`).
pub const ENDS_BEFORE_START: &str = "ends_before_start";
/// A repeating activity without an end date or a number of occurrences (`repeat`).
pub const REPEAT_NEVER_ENDS: &str = "repeat_never_ends";
/// A repeating activity without a due date to count from (`due_at`).
pub const REPEAT_NEEDS_DUE: &str = "repeat_needs_due";
/// Only tasks repeat (`repeat`).
pub const REPEAT_ONLY_TASKS: &str = "repeat_only_tasks";

/// Whether an attendee said they come.
pub static RESPONSES: OptionSet = OptionSet {
    name: "attendee_responses",
    codes: &["invited", "accepted", "tentative", "declined"],
};

const USER_FIELDS: &[FieldDef] = &[
    FieldDef::new("user_id", FieldKind::User).required(),
    FieldDef::new("response", FieldKind::choice(&RESPONSES)).initial("invited"),
];

const CONTACT_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "contact_id",
        FieldKind::Ref {
            table: "contacts",
            entity: "contact",
        },
    )
    .required(),
    FieldDef::new("response", FieldKind::choice(&RESPONSES)).initial("invited"),
];

fn user_title(line: &JsonMap, _locale: &str) -> String {
    str_field(line, "user_id").to_string()
}

fn contact_title(line: &JsonMap, _locale: &str) -> String {
    str_field(line, "contact_id").to_string()
}

/// The colleagues who take part in a meeting or a visit.
pub const ATTENDEE_USERS: ChildDef = ChildDef {
    name: "attendee_users",
    table: "activity_attendee_users",
    parent_column: "activity_id",
    fields: USER_FIELDS,
    max: 200,
    computed: false,
    title: user_title,
    // A team's calendar reads the meetings its people attend in a week by these (m0039).
    carries: &["starts_at", "due_at"],
};

/// The people at the customer who take part: contacts the writer may read.
pub const ATTENDEE_CONTACTS: ChildDef = ChildDef {
    name: "attendee_contacts",
    table: "activity_attendee_contacts",
    parent_column: "activity_id",
    fields: CONTACT_FIELDS,
    max: 200,
    computed: false,
    title: contact_title,
    carries: &[],
};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("subject", FieldKind::Text { max: 200 })
        .required()
        .sortable(),
    FieldDef::new("kind", FieldKind::choice(&KINDS))
        .required()
        .sortable()
        .initial("task"),
    FieldDef::new("regarding", FieldKind::Regarding),
    FieldDef::new("priority", FieldKind::choice(&PRIORITIES)).initial("normal"),
    // A call's, meeting's or visit's start and end.
    FieldDef::new("starts_at", FieldKind::DateTime).sortable(),
    FieldDef::new("ends_at", FieldKind::DateTime),
    // A task's deadline.
    FieldDef::new("due_at", FieldKind::DateTime).sortable(),
    // Repeating tasks.
    FieldDef::new("repeat", FieldKind::choice(&REPEATS)),
    FieldDef::new("repeat_interval", FieldKind::Int { min: 1, max: 365 }),
    FieldDef::new("repeat_until", FieldKind::Date),
    FieldDef::new("repeat_count", FieldKind::Int { min: 1, max: 1000 }),
    // Calls.
    FieldDef::new("direction", FieldKind::choice(&DIRECTIONS)),
    FieldDef::new("phone", FieldKind::Text { max: 40 }),
    FieldDef::new("call_duration", FieldKind::Duration),
    FieldDef::new("call_outcome", FieldKind::choice(&OUTCOMES)),
    // How long an inbound call rang before it was answered.
    FieldDef::new("answer_wait", FieldKind::Duration),
    // Meetings and visits.
    FieldDef::new("location", FieldKind::Text { max: 200 }),
    FieldDef::new("checked_in_at", FieldKind::DateTime),
    // Reminding: how long ahead, and the instant that gives.
    FieldDef::new("remind", FieldKind::choice(&REMINDS)),
    FieldDef::new("remind_at", FieldKind::DateTime).computed(),
    FieldDef::new("done", FieldKind::Bool).sortable(),
    FieldDef::new("done_at", FieldKind::DateTime).computed(),
    FieldDef::new("description", FieldKind::LongText { max: 10_000 }),
];

/// Which fields belong to which kinds: a note is a subject, what it regards and its text; the
/// others add their own. Subject, kind, regarding, priority and description belong to all.
static FIELD_GROUPS: &[FieldGroup] = &[
    FieldGroup {
        name: "when",
        field: "kind",
        values: &["call", "meeting", "visit"],
        fields: &["starts_at", "ends_at"],
    },
    FieldGroup {
        name: "task",
        field: "kind",
        values: &["task"],
        fields: &[
            "due_at",
            "repeat",
            "repeat_interval",
            "repeat_until",
            "repeat_count",
        ],
    },
    FieldGroup {
        name: "call",
        field: "kind",
        values: &["call"],
        fields: &[
            "direction",
            "phone",
            "call_duration",
            "call_outcome",
            "answer_wait",
        ],
    },
    FieldGroup {
        name: "place",
        field: "kind",
        values: &["meeting", "visit"],
        fields: &["location", "attendee_users", "attendee_contacts"],
    },
    FieldGroup {
        name: "check_in",
        field: "kind",
        values: &["visit"],
        fields: &["checked_in_at"],
    },
    FieldGroup {
        name: "follow_up",
        field: "kind",
        values: &["task", "call", "meeting", "visit"],
        fields: &["remind", "remind_at", "done", "done_at"],
    },
];

fn title(rec: &JsonMap, _locale: &str) -> String {
    str_field(rec, "subject").to_string()
}

fn search_names(rec: &JsonMap) -> Vec<String> {
    vec![str_field(rec, "subject").to_string()]
}

fn instant(rec: &JsonMap, field: &str) -> Option<DateTime<Utc>> {
    rec.get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn blank(rec: &JsonMap, field: &str) -> bool {
    rec.get(field).is_none_or(crate::records::values::blank)
}

/// The due time of the occurrence after one due at `due`, or `None` when the rule has ended.
/// The rule is read in `zone`, the time zone of the person it repeats for: a daily task at 09:00
/// stays at 09:00 on their clock across a change of offset, and "until Friday" means up to the
/// end of their Friday, not of UTC's.
pub fn next_due(rec: &JsonMap, due: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
    let every = rec
        .get("repeat_interval")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1)
        .max(1);
    let step = |t: NaiveDateTime| match str_field(rec, "repeat") {
        "daily" => t.checked_add_days(Days::new(u64::from(every))),
        "weekly" => t.checked_add_days(Days::new(7 * u64::from(every))),
        "monthly" => t.checked_add_months(Months::new(every)),
        "yearly" => t.checked_add_months(Months::new(12 * every)),
        _ => None,
    };
    // A wall-clock time the zone skips that day (a spring-forward) is stepped in UTC instead.
    let next = match step(time_zone::to_local(due, zone)) {
        Some(local) => time_zone::to_utc(local, zone)
            .ok()
            .or_else(|| step(due.naive_utc()).map(|t| t.and_utc())),
        None => None,
    }?;
    if rec.get("repeat_count").and_then(Value::as_u64) == Some(1) {
        return None;
    }
    let until = rec
        .get("repeat_until")
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match until {
        Some(until) if time_zone::day_of(next, zone) > until => None,
        _ => Some(next),
    }
}

/// Whether the record is done now, and whether it was before this write.
fn done_now_and_before(event: &Event<'_>, rec: &JsonMap) -> (bool, bool) {
    let done = |r: &JsonMap| r.get("done").and_then(Value::as_bool) == Some(true);
    (done(rec), event.stored.is_some_and(done))
}

struct Rules;

#[async_trait]
impl Behaviour for Rules {
    fn derive(&self, rec: &mut JsonMap, errors: &mut FieldErrors) {
        if let (Some(start), Some(end)) = (instant(rec, "starts_at"), instant(rec, "ends_at"))
            && end < start
        {
            errors.insert(
                "ends_at".into(),
                FieldError::new(ENDS_BEFORE_START).with("start", json!(ts_string(start))),
            );
        }
        if !blank(rec, "repeat") {
            if str_field(rec, "kind") != "task" {
                errors.insert("repeat".into(), FieldError::new(REPEAT_ONLY_TASKS));
            } else if blank(rec, "repeat_until") && blank(rec, "repeat_count") {
                errors.insert("repeat".into(), FieldError::new(REPEAT_NEVER_ENDS));
            } else if blank(rec, "due_at") {
                errors.insert("due_at".into(), FieldError::new(REPEAT_NEEDS_DUE));
            }
        }
        let anchor = instant(rec, "starts_at").or_else(|| instant(rec, "due_at"));
        let remind_at = match (remind_ahead(str_field(rec, "remind")), anchor) {
            (None, _) => Value::Null,
            (Some(ahead), Some(at)) => json!(ts_string(at - ahead)),
            (Some(_), None) => {
                errors.insert("remind".into(), FieldError::new(REMINDER_NEEDS_TIME));
                Value::Null
            }
        };
        rec.insert("remind_at".into(), remind_at);
        if matches!(str_field(rec, "kind"), "meeting" | "visit") && blank(rec, "starts_at") {
            errors.insert("starts_at".into(), FieldError::new(codes::REQUIRED));
        }
        // An attendee added without an answer is invited.
        for child in ["attendee_users", "attendee_contacts"] {
            if let Some(Value::Array(lines)) = rec.get_mut(child) {
                for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                    if line
                        .get("response")
                        .is_none_or(crate::records::values::blank)
                    {
                        line.insert("response".into(), json!("invited"));
                    }
                }
            }
        }
    }

    async fn validate(
        &self,
        work: &mut Work<'_>,
        event: &Event<'_>,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        let (done, was_done) = done_now_and_before(event, rec);
        // A reminder being set must be still to come; one that has shown stays as it was.
        let reminder_set = event.stored.is_none()
            || ["remind", "starts_at", "due_at"]
                .iter()
                .any(|f| event.sent(f) && event.stored.and_then(|s| s.get(*f)) != rec.get(*f));
        if let Some(at) = instant(rec, "remind_at")
            && reminder_set
            && !done
            && at <= work.now()
        {
            let local = crate::time_zone::to_local(at, work.actor().time_zone);
            errors.insert(
                "remind".into(),
                FieldError::new(codes::REMINDER_IN_PAST).with(
                    "value",
                    json!(local.format(crate::time_zone::SHOWN).to_string()),
                ),
            );
        }
        let done_at = match (done, was_done) {
            (false, _) => Value::Null,
            (true, false) => json!(ts_string(work.now())),
            (true, true) => rec.get("done_at").cloned().unwrap_or(Value::Null),
        };
        rec.insert("done_at".into(), done_at);
        // A call is logged as it happens unless its time is given.
        if str_field(rec, "kind") == "call" && blank(rec, "starts_at") {
            rec.insert("starts_at".into(), json!(ts_string(work.now())));
        }
        Ok(())
    }

    /// A repeating task just done is followed by its next occurrence, owned by the same person
    /// and about the same record, with one occurrence fewer to come.
    async fn after(&self, work: &mut Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
        keep_reminders(work, event, rec).await?;
        let (done, was_done) = done_now_and_before(event, rec);
        if !done || was_done || blank(rec, "repeat") {
            return Ok(());
        }
        let Some(next) =
            instant(rec, "due_at").and_then(|due| next_due(rec, due, work.actor().time_zone))
        else {
            return Ok(());
        };
        let count = rec
            .get("repeat_count")
            .and_then(Value::as_u64)
            .map(|n| json!(n.saturating_sub(1)))
            .unwrap_or(Value::Null);
        let mut input = JsonMap::new();
        for f in [
            "subject",
            "kind",
            "regarding",
            "priority",
            "repeat",
            "repeat_interval",
            "repeat_until",
            "description",
            "owner_id",
        ] {
            if let Some(v) = rec.get(f).filter(|v| !v.is_null()) {
                input.insert(f.into(), v.clone());
            }
        }
        // Done, undone and done again, it was carried on the first time: its next occurrence
        // (same person, subject and time) is there already.
        let mut same = vec![
            cond("due_at", json!(ts_string(next))),
            cond(
                "subject",
                rec.get("subject").cloned().unwrap_or(Value::Null),
            ),
            cond("kind", json!("task")),
        ];
        if let Some(owner) = rec.get("owner_id").filter(|v| !v.is_null()) {
            same.push(cond("owner_id", owner.clone()));
        }
        if work.count_all(&ACTIVITIES, &Filter::And(same)).await? > 0 {
            return Ok(());
        }
        input.insert("due_at".into(), json!(ts_string(next)));
        input.insert("repeat_count".into(), count);
        work.create(&ACTIVITIES, &Value::Object(input)).await?;
        Ok(())
    }
}

fn cond(field: &str, value: Value) -> Filter {
    Filter::Cond {
        field: field.into(),
        op: FilterOp::Eq,
        value,
    }
}

/// The bell's reminders of the activity follow its reminder, its time, its subject and its
/// people: its owner and the colleagues who attend and have not declined. A done activity
/// reminds no one.
async fn keep_reminders(work: &mut Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
    const KEPT: [&str; 5] = ["remind_at", "owner_id", "attendee_users", "subject", "done"];
    let changed = match event.stored {
        None => !blank(rec, "remind_at"),
        Some(stored) => KEPT.iter().any(|f| stored.get(*f) != rec.get(*f)),
    };
    if !changed {
        return Ok(());
    }
    let at = instant(rec, "remind_at").filter(|_| rec.get("done") != Some(&json!(true)));
    let mut users: Vec<Uuid> = Vec::new();
    let owner = rec
        .get("owner_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    users.extend(owner);
    if let Some(Value::Array(lines)) = rec.get("attendee_users") {
        for line in lines {
            if line.get("response").and_then(Value::as_str) == Some("declined") {
                continue;
            }
            if let Some(u) = line
                .get("user_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                && !users.contains(&u)
            {
                users.push(u);
            }
        }
    }
    let title = title(rec, "");
    let kept = Kept {
        field: "remind",
        at,
        users: &users,
        title: &title,
    };
    work.keep_reminders(&ACTIVITIES, event.id, kept).await
}

/// Values the field kinds alone cannot make valid: a start before the end, and a task whose
/// repeating rule ends.
fn example(seed: u32) -> JsonMap {
    let day = 1 + seed % 28;
    let mut out = JsonMap::new();
    out.insert("kind".into(), json!("task"));
    out.insert(
        "due_at".into(),
        json!(format!("2099-03-{day:02}T09:00:00Z")),
    );
    out.insert(
        "starts_at".into(),
        json!(format!("2099-03-{day:02}T10:00:00Z")),
    );
    out.insert(
        "ends_at".into(),
        json!(format!("2099-03-{day:02}T11:30:00Z")),
    );
    out.insert("repeat".into(), json!(REPEATS.codes[seed as usize % 4]));
    out.insert("repeat_interval".into(), json!(1 + seed % 3));
    out.insert("repeat_count".into(), json!(2 + seed % 5));
    out
}

pub static ACTIVITIES: EntityDef = EntityDef {
    name: "activity",
    plural: "activities",
    area: "activities",
    table: "activities",
    fields: FIELDS,
    default_sort: "-created_at",
    default_columns: &[
        "subject",
        "kind",
        "regarding",
        "due_at",
        "starts_at",
        "done",
        "owner_id",
    ],
    related_columns: &["subject", "kind", "starts_at", "done"],
    title_sort: "subject",
    title,
    title_fields: &["subject"],
    search_names,
    children: &[ATTENDEE_USERS, ATTENDEE_CONTACTS],
    states: None,
    actions: &[],
    access: Access::Records,
    example: Some(example),
    behaviour: &Rules,
    error_codes: &[
        ENDS_BEFORE_START,
        REPEAT_NEVER_ENDS,
        REPEAT_NEEDS_DUE,
        REPEAT_ONLY_TASKS,
        REMINDER_NEEDS_TIME,
    ],
    charts: &[],
    key_facts: &["kind", "regarding", "starts_at", "owner_id"],
    dedupe: &[],
    rollups: &[],
    read_through: Some("regarding"),
    shared_with: Some(("attendee_users", "user_id")),
    timeline: Some(&TIMELINE),
    board: None,
    calendar: Some(&CALENDAR),
    field_groups: FIELD_GROUPS,
};

static CALENDAR: CalendarDef = CalendarDef {
    start: "starts_at",
    end: "ends_at",
    due: "due_at",
    kind: "kind",
    done: "done",
    attendees: "attendee_users",
    attendee_user: "user_id",
    new_kind: "meeting",
    location: "location",
    detail: "description",
};

static TIMELINE: TimelineDef = TimelineDef {
    regarding: "regarding",
    kind: "kind",
    when: &["starts_at", "due_at"],
    done: "done",
    subject: "subject",
    detail: "description",
    quick_kinds: &["call", "note", "task", "visit"],
    quick_due: "due_at",
    follow_up: "task",
    facts: &[
        "call_outcome",
        "call_duration",
        "direction",
        "location",
        "priority",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: Value) -> JsonMap {
        v.as_object().cloned().unwrap_or_default()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_next_occurrence_follows_the_rule_until_it_ends() {
        let due = at("2026-01-31T09:00:00Z");
        let monthly = rec(json!({"repeat": "monthly", "repeat_count": 3}));
        // The end of a shorter month, not the third of the next.
        assert_eq!(
            next_due(&monthly, due, Tz::UTC),
            Some(at("2026-02-28T09:00:00Z"))
        );
        let weekly =
            rec(json!({"repeat": "weekly", "repeat_interval": 2, "repeat_until": "2026-02-14"}));
        assert_eq!(
            next_due(&weekly, due, Tz::UTC),
            Some(at("2026-02-14T09:00:00Z"))
        );
        let ended =
            rec(json!({"repeat": "weekly", "repeat_interval": 2, "repeat_until": "2026-02-13"}));
        assert_eq!(next_due(&ended, due, Tz::UTC), None);
        let last = rec(json!({"repeat": "daily", "repeat_count": 1}));
        assert_eq!(next_due(&last, due, Tz::UTC), None);
    }

    #[test]
    fn a_repeating_task_is_read_on_its_owners_clock_and_calendar() {
        // Due Friday 2026-02-06 07:30 in Beijing, which is Thursday 23:30 UTC: weekly until
        // Friday 02-13 means the next Friday is still in (it is 02-12 by UTC's day).
        let due = at("2026-02-05T23:30:00Z");
        let weekly = rec(json!({"repeat": "weekly", "repeat_until": "2026-02-13"}));
        assert_eq!(
            next_due(&weekly, due, Tz::Asia__Shanghai),
            Some(at("2026-02-12T23:30:00Z"))
        );
        let until_thursday = rec(json!({"repeat": "weekly", "repeat_until": "2026-02-12"}));
        assert_eq!(next_due(&until_thursday, due, Tz::Asia__Shanghai), None);
        // 09:00 in New York stays 09:00 after the clocks go forward (2026-03-08).
        let daily = rec(json!({"repeat": "daily", "repeat_count": 5}));
        assert_eq!(
            next_due(&daily, at("2026-03-07T14:00:00Z"), Tz::America__New_York),
            Some(at("2026-03-08T13:00:00Z"))
        );
    }

    #[test]
    fn rules_refuse_an_end_before_the_start_and_a_rule_that_never_ends() {
        let mut errors = FieldErrors::new();
        let mut r = rec(
            json!({"kind": "meeting", "starts_at": "2026-01-02T10:00:00Z",
            "ends_at": "2026-01-02T09:00:00Z"}),
        );
        Rules.derive(&mut r, &mut errors);
        assert_eq!(errors["ends_at"].code, ENDS_BEFORE_START);
        let mut errors = FieldErrors::new();
        let mut r =
            rec(json!({"kind": "task", "repeat": "daily", "due_at": "2026-01-02T10:00:00Z"}));
        Rules.derive(&mut r, &mut errors);
        assert_eq!(errors["repeat"].code, REPEAT_NEVER_ENDS);
        let mut errors = FieldErrors::new();
        let mut r = rec(json!({"kind": "visit"}));
        Rules.derive(&mut r, &mut errors);
        assert_eq!(errors["starts_at"].code, codes::REQUIRED);
    }
}
