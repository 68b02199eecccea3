//! Notifications: what the bell shows each user.
//!
//! A notice is written with [`notify`] in the transaction of the event that causes it, so it
//! exists exactly when the event does. It shows from its `visible_at` (a reminder set for 6 May
//! 10:00 is written when it is set and shows then); pages poll [`unread_count`], so a notice
//! that falls due shows without a reload. The wording is not stored: a notice keeps its `kind`
//! and `params`, which the presentation layer words in the reader's language, and the record it
//! is about, which the reader opens under their own read scope.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

pub mod prefs;

use crate::authz::Actor;
use crate::db::{self, col, get_json, get_opt_ts, get_opt_uuid, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult};
use crate::jobs::{self, NewJob};
use crate::{Core, now};

fn table() -> crate::db::Name {
    col("notifications")
}

/// A kind of notice, and whether its recipients get it by e-mail unless they choose otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoticeKind {
    pub name: &'static str,
    pub email_by_default: bool,
}

/// Every kind of notice, in the order a user's choices list them. An area that notifies adds
/// its kinds here and their wording (`notification-{name}`, `notification-kind-{name}`).
pub const KINDS: &[NoticeKind] = &[
    NoticeKind {
        name: "reminder",
        email_by_default: true,
    },
    NoticeKind {
        name: INSIGHT_ALERT,
        email_by_default: true,
    },
];

/// An insight crossing its threshold (`insights::alerts`).
pub const INSIGHT_ALERT: &str = "insight_alert";

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static NoticeKind> {
    KINDS.iter().find(|k| k.name == name)
}

/// A notice to write.
#[derive(Clone, Debug)]
pub struct Notice {
    pub user_id: Uuid,
    /// What happened (`reminder`, `assigned`, …): the key of its wording.
    pub kind: &'static str,
    /// The values its wording needs.
    pub params: Value,
    /// The record it is about: the entity's name and the record's id.
    pub about: Option<(&'static str, Uuid)>,
    /// When it shows; now for most, the due time for a reminder.
    pub visible_at: DateTime<Utc>,
}

/// A notice as its recipient sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub params: Value,
    /// The entity of the record it is about (empty when none).
    pub entity: String,
    pub record_id: Option<Uuid>,
    pub visible_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Writes `notice` in `conn`, the transaction of the event that causes it, and, when e-mail is
/// configured and its recipient wants this kind by e-mail, queues the e-mail for when it shows.
pub async fn notify<C: ConnectionTrait>(core: &Core, conn: &C, notice: Notice) -> CoreResult<Uuid> {
    let id = Uuid::now_v7();
    let (entity, record) = match notice.about {
        Some((entity, id)) => (entity, Some(id)),
        None => ("", None),
    };
    let mut q = Query::insert();
    q.into_table(table())
        .columns(
            [
                "id",
                "user_id",
                "kind",
                "params",
                "entity",
                "record_id",
                "created_at",
                "visible_at",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            notice.user_id.into(),
            notice.kind.into(),
            notice.params.into(),
            entity.into(),
            record.into(),
            now().into(),
            notice.visible_at.into(),
        ]);
    db::insert(conn, &q).await?;
    if core.mailer.is_some() && prefs::wants_email(conn, notice.user_id, notice.kind).await? {
        let job = NewJob::new(EMAIL_JOB, serde_json::json!({ "notification": id }))
            .due(notice.visible_at)
            .attempts(crate::mail::ATTEMPTS)
            .key(email_job_key(id));
        jobs::enqueue(conn, job).await?;
    }
    Ok(id)
}

/// The key of the job that e-mails notice `id`: what removes it with the notice.
pub fn email_job_key(id: Uuid) -> String {
    format!("{EMAIL_JOB}:{id}")
}

/// The kind of job that e-mails a notice as it shows. Its handler belongs to the presentation
/// layer, which words the notice in the recipient's language.
pub const EMAIL_JOB: &str = "notice-email";

/// A notice with its recipient, for the job that e-mails it: none once it is gone.
pub async fn for_email(core: &Core, id: Uuid) -> CoreResult<Option<(Uuid, Notification)>> {
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "user_id",
            "kind",
            "params",
            "entity",
            "record_id",
            "visible_at",
            "read_at",
        ]
        .map(col),
    )
    .from(table())
    .and_where(Expr::col(col("id")).eq(id));
    let Some(r) = db::fetch_one(core.db.reader(), &q).await? else {
        return Ok(None);
    };
    Ok(Some((get_uuid(&r, "user_id")?, read_notification(&r)?)))
}

fn read_notification(r: &sea_orm::QueryResult) -> CoreResult<Notification> {
    Ok(Notification {
        id: get_uuid(r, "id")?,
        kind: get_string(r, "kind")?,
        params: get_json(r, "params")?,
        entity: get_string(r, "entity")?,
        record_id: get_opt_uuid(r, "record_id")?,
        visible_at: get_ts(r, "visible_at")?,
        read_at: get_opt_ts(r, "read_at")?,
    })
}

/// How many of `actor`'s notices show now and are unread.
pub async fn unread_count(core: &Core, actor: &Actor) -> CoreResult<u64> {
    let mut q = Query::select();
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(table())
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("read_at")).is_null())
        .and_where(Expr::col(col("visible_at")).lte(now()));
    let row = db::fetch_one(core.db.reader(), &q).await?;
    Ok(row
        .map(|r| db::get_i64(&r, "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// The most notices a page lists.
pub const MAX_PAGE: u64 = 100;

/// `actor`'s notices that show now, newest first, up to `limit`; only unread ones when
/// `unread_only`; after `before` (a notice of theirs, the last of the previous page).
pub async fn list(
    core: &Core,
    actor: &Actor,
    unread_only: bool,
    limit: u64,
    before: Option<Uuid>,
) -> CoreResult<Vec<Notification>> {
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "kind",
            "params",
            "entity",
            "record_id",
            "visible_at",
            "read_at",
        ]
        .map(col),
    )
    .from(table())
    .and_where(Expr::col(col("user_id")).eq(actor.user_id))
    .and_where(Expr::col(col("visible_at")).lte(now()))
    .order_by(col("visible_at"), Order::Desc)
    .order_by(col("id"), Order::Desc)
    .limit(limit.clamp(1, MAX_PAGE));
    if unread_only {
        q.and_where(Expr::col(col("read_at")).is_null());
    }
    if let Some(before) = before {
        let last = own(core, actor, before).await?;
        q.and_where(
            Expr::tuple([
                Expr::col(col("visible_at")).into(),
                Expr::col(col("id")).into(),
            ])
            .lt(Expr::tuple([last.visible_at.into(), last.id.into()])),
        );
    }
    db::fetch_all(core.db.reader(), &q)
        .await?
        .iter()
        .map(read_notification)
        .collect()
}

/// The notice `id` if it is `actor`'s and shows now; not found otherwise (another user's notice
/// is not told apart from none).
async fn own(core: &Core, actor: &Actor, id: Uuid) -> CoreResult<Notification> {
    let mut q = Query::select();
    q.columns(["id", "visible_at"].map(col))
        .from(table())
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("visible_at")).lte(now()));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    Ok(Notification {
        id: get_uuid(&row, "id")?,
        kind: String::new(),
        params: Value::Null,
        entity: String::new(),
        record_id: None,
        visible_at: get_ts(&row, "visible_at")?,
        read_at: None,
    })
}

/// Marks `actor`'s notice `id` read (again is fine); not found if it is not theirs or does not
/// show yet.
pub async fn mark_read(core: &Core, actor: &Actor, id: Uuid) -> CoreResult<()> {
    own(core, actor, id).await?;
    let mut q = Query::update();
    q.table(table())
        .value(col("read_at"), now())
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("read_at")).is_null());
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// Marks every notice of `actor` that shows now read; returns how many were unread.
pub async fn mark_all_read(core: &Core, actor: &Actor) -> CoreResult<u64> {
    let at = now();
    let mut q = Query::update();
    q.table(table())
        .value(col("read_at"), at)
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("read_at")).is_null())
        .and_where(Expr::col(col("visible_at")).lte(at));
    let txn = core.db.begin().await?;
    let n = db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(n)
}
