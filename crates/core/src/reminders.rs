//! Reminders on records ("follow up on 6 May 10:00"): a notice to the record's owner that shows
//! in their bell at the time set, and goes by e-mail then if they chose so.
//!
//! A reminder is its notice: set writes the notice (and its e-mail job) and an audit entry in
//! one transaction; the pending ones are the record's notices of kind `reminder` not yet shown;
//! cancelling one removes the notice and its e-mail. Works for every entity of records.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, Order, Query};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, col, get_json, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes};
use crate::notifications::{self, Notice};
use crate::records::EntityDef;
use crate::{Core, audit, jobs, now};

/// The kind of notice a reminder is.
pub const KIND: &str = "reminder";

/// The longest note.
pub const MAX_NOTE_CHARS: usize = 200;

/// How far ahead a reminder may be set.
pub const MAX_AHEAD: Duration = Duration::days(5 * 366);

/// A reminder not yet shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reminder {
    pub id: Uuid,
    /// Whose bell it shows in: the record's owner when it was set.
    pub user_id: Uuid,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// A reminder as its record's history shows it: when, and its note.
fn history_text(at: DateTime<Utc>, note: &str) -> Value {
    let when = at.format("%Y-%m-%d %H:%M UTC");
    if note.is_empty() {
        json!(when.to_string())
    } else {
        json!(format!("{when} · {note}"))
    }
}

/// What a reminder says: its note, or the record's name when it has none.
fn params(note: &str, record_title: &str) -> Value {
    let title = if note.is_empty() { record_title } else { note };
    json!({ "title": title, "note": note, "record": record_title })
}

/// Sets a reminder at `at` on the record `id` of `def` for its owner. The actor must be its
/// owner or may change it: a reader elsewhere may not fill an owner's bell.
pub async fn set(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
    at: DateTime<Utc>,
    note: &str,
) -> CoreResult<Reminder> {
    let (rec, writable) = core.records(def).get_with_access(actor, id).await?;
    let owner = rec
        .get("owner_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| CoreError::Internal(format!("{} {id} has no owner", def.name)))?;
    if owner != actor.user_id && !writable {
        return Err(CoreError::forbidden_for(
            codes::RECORD_OUT_OF_REACH,
            def.name,
        ));
    }
    let note = note.trim();
    let mut errors = FieldErrors::new();
    // Stored to the microsecond, as every time is, so what is read back equals what was set.
    let at = at.trunc_subsecs(6);
    let current = now();
    if at <= current {
        errors.insert(
            "at".into(),
            FieldError::new(codes::REMINDER_IN_PAST).with("value", json!(at.to_rfc3339())),
        );
    } else if at > current + MAX_AHEAD {
        errors.insert(
            "at".into(),
            FieldError::new(codes::OUT_OF_RANGE)
                .with("min", json!(current.to_rfc3339()))
                .with("max", json!((current + MAX_AHEAD).to_rfc3339())),
        );
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        errors.insert(
            "note".into(),
            FieldError::new(codes::TOO_LONG).with("max", json!(MAX_NOTE_CHARS)),
        );
    } else if note.chars().any(char::is_control) {
        errors.insert("note".into(), FieldError::new(codes::CONTROL_CHARACTERS));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let title = (def.title)(&rec, &actor.locale);
    let txn = core.db.begin().await?;
    let notice = notifications::notify(
        core,
        &txn,
        Notice {
            user_id: owner,
            kind: KIND,
            params: params(note, &title),
            about: Some((def.name, id)),
            visible_at: at,
        },
    )
    .await?;
    audit::write(
        &txn,
        def.name,
        id,
        "remind",
        Some(actor.user_id),
        &[audit::Change {
            field: "reminder".into(),
            from: Value::Null,
            to: history_text(at, note),
        }],
        crate::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(Reminder {
        id: notice,
        user_id: owner,
        at,
        note: note.to_owned(),
    })
}

/// The mark on the reminders a field of the record keeps (an activity's "remind me 15 minutes
/// before"), in their params: what tells them from those people set by hand.
const KEPT_BY: &str = "field";

/// The reminders a field of a record keeps: for whom, when (none for `None` or a time passed),
/// and the record's name they show.
pub struct Kept<'a> {
    pub field: &'static str,
    pub at: Option<DateTime<Utc>>,
    pub users: &'a [Uuid],
    pub title: &'a str,
}

/// Makes the pending reminders that `field` of record `id` keeps be one per user in `users` at
/// `at`, or none: those it kept before are removed (with their e-mails), in `conn`, the
/// transaction of the write that changed the record. Reminders people set by hand stay. Called
/// through [`crate::records::Work::keep_reminders`].
pub(crate) async fn keep<C: sea_orm::ConnectionTrait>(
    core: &Core,
    conn: &C,
    def: &'static EntityDef,
    id: Uuid,
    kept: Kept<'_>,
) -> CoreResult<()> {
    let Kept {
        field,
        at,
        users,
        title,
    } = kept;
    let mut q = Query::select();
    q.columns(["id", "params"].map(col))
        .from(col("notifications"))
        .and_where(Expr::col(col("entity")).eq(def.name))
        .and_where(Expr::col(col("record_id")).eq(id))
        .and_where(Expr::col(col("kind")).eq(KIND))
        .and_where(Expr::col(col("visible_at")).gt(now()));
    for row in db::fetch_all(conn, &q).await? {
        let params = get_json(&row, "params")?;
        if params.get(KEPT_BY).and_then(Value::as_str) != Some(field) {
            continue;
        }
        let notice = get_uuid(&row, "id")?;
        let mut delete = Query::delete();
        delete
            .from_table(col("notifications"))
            .and_where(Expr::col(col("id")).eq(notice));
        db::delete(conn, &delete).await?;
        jobs::forget_queued(conn, &notifications::email_job_key(notice)).await?;
    }
    let Some(at) = at.filter(|at| *at > now()) else {
        return Ok(());
    };
    let mut params = params("", title);
    params[KEPT_BY] = json!(field);
    for user in users {
        notifications::notify(
            core,
            conn,
            Notice {
                user_id: *user,
                kind: KIND,
                params: params.clone(),
                about: Some((def.name, id)),
                visible_at: at.trunc_subsecs(6),
            },
        )
        .await?;
    }
    Ok(())
}

/// The reminders on the record `id` not yet shown, soonest first, for a reader of the record.
pub async fn pending(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
) -> CoreResult<Vec<Reminder>> {
    core.records(def).check_readable(actor, id).await?;
    let mut q = Query::select();
    q.columns(["id", "user_id", "visible_at", "params"].map(col))
        .from(col("notifications"))
        .and_where(Expr::col(col("entity")).eq(def.name))
        .and_where(Expr::col(col("record_id")).eq(id))
        .and_where(Expr::col(col("kind")).eq(KIND))
        .and_where(Expr::col(col("visible_at")).gt(now()))
        .order_by(col("visible_at"), Order::Asc)
        .limit(100);
    db::fetch_all(core.db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            let params = get_json(r, "params")?;
            Ok(Reminder {
                id: get_uuid(r, "id")?,
                user_id: get_uuid(r, "user_id")?,
                at: get_ts(r, "visible_at")?,
                note: params
                    .get("note")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            })
        })
        .collect()
}

/// Cancels the pending reminder `reminder` on the record `id`: whoever may set one there may
/// cancel one. Not found once it has shown.
pub async fn cancel(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    id: Uuid,
    reminder: Uuid,
) -> CoreResult<()> {
    let found = pending(core, actor, def, id)
        .await?
        .into_iter()
        .find(|r| r.id == reminder)
        .ok_or(CoreError::NotFound)?;
    let (_, writable) = core.records(def).get_with_access(actor, id).await?;
    if found.user_id != actor.user_id && !writable {
        return Err(CoreError::forbidden_for(
            codes::RECORD_OUT_OF_REACH,
            def.name,
        ));
    }
    let txn = core.db.begin().await?;
    let mut q = Query::delete();
    q.from_table(col("notifications"))
        .and_where(Expr::col(col("id")).eq(reminder))
        .and_where(Expr::col(col("visible_at")).gt(now()));
    if db::delete(&txn, &q).await? != 1 {
        return Err(CoreError::NotFound);
    }
    jobs::forget_queued(&txn, &notifications::email_job_key(reminder)).await?;
    audit::write(
        &txn,
        def.name,
        id,
        "remind",
        Some(actor.user_id),
        &[audit::Change {
            field: "reminder".into(),
            from: history_text(found.at, &found.note),
            to: Value::Null,
        }],
        crate::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
