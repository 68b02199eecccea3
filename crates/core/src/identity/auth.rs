//! Logging in and staying logged in: password checks with throttling, database-backed sessions
//! (so several server instances share them), and hashed API tokens.

use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Order, Query};
use serde::Serialize;
use uuid::Uuid;

use super::users::{self, User};
use super::{hash_token, random_token};
use crate::authz::Actor;
use crate::db::{self, Db, col, get_i64, get_opt_ts, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult};
use crate::settings::Settings;

/// A new session: the cookie value and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token: String,
    pub csrf: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters, so people can tell their tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

async fn throttle_state(
    db: &Db,
    key: &str,
) -> CoreResult<Option<(i64, chrono::DateTime<Utc>, Option<chrono::DateTime<Utc>>)>> {
    let mut q = Query::select();
    q.columns(["failures", "window_start", "locked_until"].map(col))
        .from(col("login_failures"))
        .and_where(Expr::col(col("key")).eq(key));
    Ok(match db::fetch_one(db.reader(), &q).await? {
        Some(r) => Some((
            get_i64(&r, "failures")?,
            get_ts(&r, "window_start")?,
            get_opt_ts(&r, "locked_until")?,
        )),
        None => None,
    })
}

async fn check_throttle(db: &Db, key: &str) -> CoreResult<()> {
    if let Some((_, _, Some(until))) = throttle_state(db, key).await? {
        let now = Utc::now();
        if until > now {
            return Err(CoreError::Throttled {
                retry_after_secs: (until - now).num_seconds().max(1),
            });
        }
    }
    Ok(())
}

/// A client address is allowed this many times the per-account failures: one office behind a
/// NAT shares an address, and one person's typos must not lock out everyone there.
const CLIENT_FAILURE_FACTOR: i64 = 5;

async fn record_failure(db: &Db, settings: &Settings, key: &str, limit: i64) -> CoreResult<()> {
    let now = crate::now();
    let window = Duration::minutes(settings.throttle_window_minutes);
    let (failures, start) = match throttle_state(db, key).await? {
        Some((n, start, _)) if now - start < window => (n + 1, start),
        _ => (1, now),
    };
    let locked = (failures >= limit).then(|| now + window);
    let txn = db.begin().await?;
    let mut d = Query::delete();
    d.from_table(col("login_failures"))
        .and_where(Expr::col(col("key")).eq(key));
    db::delete(&txn, &d).await?;
    let mut q = Query::insert();
    q.into_table(col("login_failures"))
        .columns(["key", "failures", "window_start", "locked_until"].map(col))
        .values_panic([key.into(), failures.into(), start.into(), locked.into()]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

async fn clear_failures(db: &Db, key: &str) -> CoreResult<()> {
    let mut d = Query::delete();
    d.from_table(col("login_failures"))
        .and_where(Expr::col(col("key")).eq(key));
    let txn = db.begin().await?;
    db::delete(&txn, &d).await?;
    txn.commit().await?;
    Ok(())
}

/// Checks a password and opens a session. Repeated failures for one account, or from one
/// client address, lock further attempts for the throttle window. The same error answers an
/// unknown e-mail and a wrong password, so logins do not reveal who has an account.
pub async fn login(
    db: &Db,
    settings: &Settings,
    email: &str,
    password: &str,
    client: &str,
) -> CoreResult<(User, SessionInfo)> {
    let email = email.trim().to_lowercase();
    let account_key = format!("email:{email}");
    let client_key = format!("client:{client}");
    // No account has control characters in its address, and PostgreSQL refuses NUL in text: such
    // a login fails like a wrong password without reaching the users table or the account key.
    if email.chars().any(char::is_control) {
        check_throttle(db, &client_key).await?;
        record_failure(
            db,
            settings,
            &client_key,
            settings.max_login_failures * CLIENT_FAILURE_FACTOR,
        )
        .await?;
        return Err(CoreError::Unauthenticated);
    }
    check_throttle(db, &account_key).await?;
    check_throttle(db, &client_key).await?;
    let user = users::find_by_email(db, &email).await?;
    let ok = match &user {
        Some(u) if !u.disabled => {
            users::verify_password(password, &users::password_hash_of(db, u.id).await?)
        }
        _ => {
            // Spend the same time as a real check so timing does not reveal unknown e-mails.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY
                .get_or_init(|| users::hash_password("not a real password").unwrap_or_default());
            let _ = users::verify_password(password, dummy);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        record_failure(db, settings, &account_key, settings.max_login_failures).await?;
        record_failure(
            db,
            settings,
            &client_key,
            settings.max_login_failures * CLIENT_FAILURE_FACTOR,
        )
        .await?;
        return Err(CoreError::Unauthenticated);
    };
    clear_failures(db, &account_key).await?;
    let session = create_session(db, settings, user.id).await?;
    Ok((user, session))
}

pub async fn create_session(
    db: &Db,
    settings: &Settings,
    user_id: Uuid,
) -> CoreResult<SessionInfo> {
    let token = random_token();
    let csrf = random_token();
    let now = crate::now();
    let mut q = Query::insert();
    q.into_table(col("sessions"))
        .columns(
            [
                "token_hash",
                "user_id",
                "csrf_token",
                "created_at",
                "expires_at",
            ]
            .map(col),
        )
        .values_panic([
            hash_token(&token).into(),
            user_id.into(),
            csrf.clone().into(),
            now.into(),
            (now + Duration::hours(settings.session_hours)).into(),
        ]);
    let txn = db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(SessionInfo { token, csrf })
}

/// The actor behind a session cookie and the session's CSRF token, if the session is live.
pub async fn session_actor(db: &Db, token: &str) -> CoreResult<(Actor, String)> {
    let mut q = Query::select();
    q.columns(["user_id", "csrf_token", "expires_at", "revoked_at"].map(col))
        .from(col("sessions"))
        .and_where(Expr::col(col("token_hash")).eq(hash_token(token)));
    let row = db::fetch_one(db.reader(), &q)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    if get_opt_ts(&row, "revoked_at")?.is_some() || get_ts(&row, "expires_at")? <= Utc::now() {
        return Err(CoreError::Unauthenticated);
    }
    let user = users::get(db.reader(), get_uuid(&row, "user_id")?).await?;
    if user.disabled {
        return Err(CoreError::Unauthenticated);
    }
    Ok((
        users::actor_for(db, &user).await?,
        get_string(&row, "csrf_token")?,
    ))
}

pub async fn logout(db: &Db, token: &str) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("sessions"))
        .value(col("revoked_at"), crate::now())
        .and_where(Expr::col(col("token_hash")).eq(hash_token(token)));
    let txn = db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn revoke_user_sessions<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("sessions"))
        .value(col("revoked_at"), crate::now())
        .and_where(Expr::col(col("user_id")).eq(user_id))
        .and_where(Expr::col(col("revoked_at")).is_null());
    db::update(conn, &q).await?;
    Ok(())
}

/// Creates an API token for a user and returns it in clear, the only time it is shown.
pub async fn create_token(
    db: &Db,
    actor: Option<&Actor>,
    user_id: Uuid,
    name: &str,
) -> CoreResult<(String, ApiToken)> {
    if let Some(a) = actor
        && a.user_id != user_id
        && !a.is_admin()
    {
        return Err(CoreError::Forbidden(
            "you may create tokens only for yourself".into(),
        ));
    }
    let user = users::get(db.reader(), user_id).await?;
    if user.disabled {
        return Err(CoreError::field("user", "the user is disabled"));
    }
    let name = name.trim();
    if name.chars().count() > 100 {
        return Err(CoreError::field("name", "at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::field(
            "name",
            "must not contain control characters",
        ));
    }
    let secret = format!("gx_{}", random_token());
    let id = Uuid::now_v7();
    let now = crate::now();
    let prefix: String = secret.chars().take(8).collect();
    let mut q = Query::insert();
    q.into_table(col("api_tokens"))
        .columns(
            [
                "id",
                "user_id",
                "name",
                "token_hash",
                "prefix",
                "created_at",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            user_id.into(),
            name.into(),
            hash_token(&secret).into(),
            prefix.clone().into(),
            now.into(),
        ]);
    let txn = db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    let ts = crate::records::service::ts_string(now);
    Ok((
        secret,
        ApiToken {
            id,
            name: name.to_string(),
            prefix,
            created_at: ts,
            last_used_at: None,
        },
    ))
}

/// The actor behind a bearer token.
pub async fn token_actor(db: &Db, token: &str) -> CoreResult<Actor> {
    let mut q = Query::select();
    q.columns(["id", "user_id", "revoked_at", "last_used_at"].map(col))
        .from(col("api_tokens"))
        .and_where(Expr::col(col("token_hash")).eq(hash_token(token)));
    let row = db::fetch_one(db.reader(), &q)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    if get_opt_ts(&row, "revoked_at")?.is_some() {
        return Err(CoreError::Unauthenticated);
    }
    let user = users::get(db.reader(), get_uuid(&row, "user_id")?).await?;
    if user.disabled {
        return Err(CoreError::Unauthenticated);
    }
    // Record use at most once a minute: a busy script should not turn every read into a write.
    let last = get_opt_ts(&row, "last_used_at")?;
    if last.is_none_or(|t| Utc::now() - t > Duration::minutes(1)) {
        let mut u = Query::update();
        u.table(col("api_tokens"))
            .value(col("last_used_at"), crate::now())
            .and_where(Expr::col(col("id")).eq(get_uuid(&row, "id")?));
        let txn = db.begin().await?;
        db::update(&txn, &u).await?;
        txn.commit().await?;
    }
    users::actor_for(db, &user).await
}

pub async fn list_tokens(db: &Db, user_id: Uuid) -> CoreResult<Vec<ApiToken>> {
    let mut q = Query::select();
    q.columns(["id", "name", "prefix", "created_at", "last_used_at"].map(col))
        .from(col("api_tokens"))
        .and_where(Expr::col(col("user_id")).eq(user_id))
        .and_where(Expr::col(col("revoked_at")).is_null())
        .order_by(col("created_at"), Order::Desc);
    db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            Ok(ApiToken {
                id: get_uuid(r, "id")?,
                name: get_string(r, "name")?,
                prefix: get_string(r, "prefix")?,
                created_at: crate::records::service::ts_string(get_ts(r, "created_at")?),
                last_used_at: get_opt_ts(r, "last_used_at")?
                    .map(crate::records::service::ts_string),
            })
        })
        .collect()
}

pub async fn revoke_token(db: &Db, actor: &Actor, token_id: Uuid) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("api_tokens"))
        .value(col("revoked_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(token_id));
    if !actor.is_admin() {
        q.and_where(Expr::col(col("user_id")).eq(actor.user_id));
    }
    let txn = db.begin().await?;
    let n = db::update(&txn, &q).await?;
    txn.commit().await?;
    if n == 0 {
        Err(CoreError::NotFound)
    } else {
        Ok(())
    }
}
