//! Login throttling that holds under parallel attempts and across server instances.
//!
//! An attempt takes a slot from its key's allowance *before* the password is checked, inside a
//! transaction that locks the key's row (`FOR UPDATE` on PostgreSQL; SQLite has one writer), so
//! a burst of a hundred attempts cannot all read "4 failures so far" and all go ahead: the
//! allowance is spent one slot at a time, and the attempt that takes the last slot sets the
//! lock-out. A slot that turns out not to be a failure (the password was right, or another key
//! refused the attempt before any check) is given back.

use crate::db::WriteTxn;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockType, OnConflict, Query};

use crate::db::{self, Db, col, get_i64, get_opt_ts, get_ts};
use crate::error::{CoreError, CoreResult};
use crate::settings::Settings;

/// One throttled key (`email:…`, `client:…`) and how many attempts it may fail in a window.
pub(crate) struct Key<'a> {
    pub name: &'a str,
    pub limit: i64,
}

struct State {
    failures: i64,
    window_start: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Makes sure the key has a row and locks it for the rest of the transaction.
async fn lock_row(txn: &WriteTxn, key: &str) -> CoreResult<State> {
    let now = crate::now();
    let mut ins = Query::insert();
    ins.into_table(col("login_failures"))
        .columns(["key", "failures", "window_start", "locked_until"].map(col))
        .values_panic([
            key.into(),
            0i64.into(),
            now.into(),
            Option::<DateTime<Utc>>::None.into(),
        ])
        .on_conflict(OnConflict::column(col("key")).do_nothing().to_owned());
    db::insert(txn, &ins).await?;
    let mut q = Query::select();
    q.columns(["failures", "window_start", "locked_until"].map(col))
        .from(col("login_failures"))
        .and_where(Expr::col(col("key")).eq(key))
        .lock(LockType::Update);
    let row = db::fetch_one(txn, &q)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("throttle row {key} vanished")))?;
    Ok(State {
        failures: get_i64(&row, "failures")?,
        window_start: get_ts(&row, "window_start")?,
        locked_until: get_opt_ts(&row, "locked_until")?,
    })
}

async fn store(txn: &WriteTxn, key: &str, s: &State) -> CoreResult<()> {
    let mut u = Query::update();
    u.table(col("login_failures"))
        .value(col("failures"), s.failures)
        .value(col("window_start"), s.window_start)
        .value(col("locked_until"), s.locked_until)
        .and_where(Expr::col(col("key")).eq(key));
    db::update(txn, &u).await?;
    Ok(())
}

/// Takes one attempt from the key's allowance, or refuses with the time left on its lock-out.
pub(crate) async fn take(db: &Db, settings: &Settings, key: &Key<'_>) -> CoreResult<()> {
    let now = crate::now();
    let window = Duration::minutes(settings.throttle_window_minutes);
    let txn = db.begin().await?;
    let mut s = lock_row(&txn, key.name).await?;
    if let Some(until) = s.locked_until.filter(|u| *u > now) {
        txn.rollback().await?;
        return Err(CoreError::Throttled {
            retry_after_secs: (until - now).num_seconds().max(1),
        });
    }
    if now - s.window_start >= window || s.locked_until.is_some() {
        // The window (or the lock-out that ended it) is over: count afresh.
        s.failures = 0;
        s.window_start = now;
        s.locked_until = None;
    }
    s.failures += 1;
    if s.failures >= key.limit {
        s.locked_until = Some(now + window);
    }
    store(&txn, key.name, &s).await?;
    txn.commit().await?;
    Ok(())
}

/// Gives back a slot taken by an attempt that did not fail, lifting a lock-out that slot set.
pub(crate) async fn give_back(db: &Db, key: &Key<'_>) -> CoreResult<()> {
    let txn = db.begin().await?;
    let mut s = lock_row(&txn, key.name).await?;
    if s.failures > 0 {
        s.failures -= 1;
        if s.failures < key.limit {
            s.locked_until = None;
        }
        store(&txn, key.name, &s).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Forgets a key's failures, after the right password for it.
pub(crate) async fn clear(db: &Db, key: &str) -> CoreResult<()> {
    let mut d = Query::delete();
    d.from_table(col("login_failures"))
        .and_where(Expr::col(col("key")).eq(key));
    let txn = db.begin().await?;
    db::delete(&txn, &d).await?;
    txn.commit().await?;
    Ok(())
}
