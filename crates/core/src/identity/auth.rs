//! Logging in and staying logged in: password checks with throttling, database-backed sessions
//! (so several server instances share them), and hashed API tokens.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use serde::Serialize;
use uuid::Uuid;

use super::throttle::{self, Key};
use super::users::{self, User};
use super::{hash_token, random_token};
use crate::authz::Actor;
use crate::db::{self, Db, col, get_opt_ts, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, codes};
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

/// A client address is allowed this many times the per-account failures: one office behind a
/// NAT shares an address, and one person's typos must not lock out everyone there.
const CLIENT_FAILURE_FACTOR: i64 = 5;

fn account_key(email: &str) -> String {
    format!("email:{email}")
}

/// Checks a password against the user with this (normalized) e-mail. Unknown and disabled users
/// cost the same time as a real check, so timing does not reveal who has an account.
async fn check_password(db: &Db, email: &str, password: &str) -> CoreResult<Option<User>> {
    let user = users::find_by_email(db, email).await?;
    let ok = match &user {
        Some(u) if !u.disabled => {
            users::verify_password(password, &users::password_hash_of(db, u.id).await?)
        }
        _ => {
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY
                .get_or_init(|| users::hash_password("not a real password").unwrap_or_default());
            let _ = users::verify_password(password, dummy);
            false
        }
    };
    Ok(user.filter(|_| ok))
}

/// Checks a password and opens a session. Failures for one account, or from one client address,
/// lock further attempts for the throttle window, and the allowance holds however many attempts
/// arrive at once (see `throttle`). The same error answers an unknown e-mail and a wrong
/// password, so logins do not reveal who has an account.
pub async fn login(
    db: &Db,
    settings: &Settings,
    email: &str,
    password: &str,
    client: &str,
) -> CoreResult<(User, SessionInfo)> {
    let email = email.trim().to_lowercase();
    let client_key = format!("client:{client}");
    let client = Key {
        name: &client_key,
        limit: settings.max_login_failures * CLIENT_FAILURE_FACTOR,
    };
    // No account has control characters in its address, and PostgreSQL refuses NUL in text: such
    // a login fails like a wrong password without reaching the users table or the account key.
    if email.chars().any(char::is_control) {
        throttle::take(db, settings, &client).await?;
        return Err(CoreError::Unauthenticated);
    }
    let account_key = account_key(&email);
    let account = Key {
        name: &account_key,
        limit: settings.max_login_failures,
    };
    throttle::take(db, settings, &account).await?;
    if let Err(e) = throttle::take(db, settings, &client).await {
        // Refused before any check: the account's slot was not used.
        throttle::give_back(db, &account).await?;
        return Err(e);
    }
    let Some(user) = check_password(db, &email, password).await? else {
        // Both slots stay taken: that is the failure counted.
        return Err(CoreError::Unauthenticated);
    };
    throttle::clear(db, &account_key).await?;
    throttle::give_back(db, &client).await?;
    let session = create_session(db, settings, user.id).await?;
    Ok((user, session))
}

/// Checks a logged-in user's current password before a sensitive change (a new password). It
/// spends the account's login allowance like a login does, so a stolen session or token cannot
/// be used to guess the password either. A wrong password is a field error on `field`.
pub async fn verify_current_password(
    db: &Db,
    settings: &Settings,
    user_id: Uuid,
    password: &str,
    field: &str,
) -> CoreResult<()> {
    let user = users::get(db.reader(), user_id).await?;
    let key_name = account_key(&user.email);
    let key = Key {
        name: &key_name,
        limit: settings.max_login_failures,
    };
    throttle::take(db, settings, &key).await?;
    if check_password(db, &user.email, password).await?.is_none() {
        return Err(CoreError::field(
            field,
            FieldError::new(codes::WRONG_PASSWORD),
        ));
    }
    throttle::clear(db, &key_name).await
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
pub async fn session_actor(core: &crate::Core, token: &str) -> CoreResult<(Actor, String)> {
    let db = &core.db;
    let mut q = Query::select();
    q.columns(["csrf_token", "expires_at", "revoked_at"].map(|c| (col("sessions"), col(c))))
        .from(col("sessions"))
        .and_where(Expr::col((col("sessions"), col("token_hash"))).eq(hash_token(token)));
    users::join_holder(&mut q, "sessions");
    let rows = db::fetch_all(db.reader(), &q).await?;
    let (Some(row), Some((user, actor))) = (rows.first(), users::holder(core, &rows)?) else {
        return Err(CoreError::Unauthenticated);
    };
    if get_opt_ts(row, "revoked_at")?.is_some() || get_ts(row, "expires_at")? <= Utc::now() {
        return Err(CoreError::Unauthenticated);
    }
    if user.disabled {
        return Err(CoreError::Unauthenticated);
    }
    Ok((actor, get_string(row, "csrf_token")?))
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

/// A password change. People changing their own password give the current one; an administrator
/// resetting someone else's (or the command line) does not.
pub struct NewPassword<'a> {
    pub password: &'a str,
    pub current: Option<&'a str>,
    /// Keep the user's API tokens. A new password revokes them otherwise: a password changed
    /// because it leaked should not leave behind the tokens made with it.
    pub keep_tokens: bool,
}

pub async fn set_password(
    db: &Db,
    settings: &crate::settings::Settings,
    actor: Option<&Actor>,
    id: Uuid,
    change: NewPassword<'_>,
) -> CoreResult<()> {
    let own = actor.is_some_and(|a| a.user_id == id);
    if actor.is_some() && !own {
        users::require_admin(actor)?;
    }
    let user = users::get(db.reader(), id).await?;
    users::check_password(change.password, &user.email, &user.name)
        .map_err(|e| CoreError::field("password", e))?;
    if own {
        match change.current {
            None | Some("") => {
                return Err(CoreError::field(
                    "current_password",
                    FieldError::new(codes::REQUIRED),
                ));
            }
            Some(current) => {
                verify_current_password(db, settings, id, current, "current_password").await?
            }
        }
    }
    let hash = users::hash_password(change.password)?;
    let txn = db.begin().await?;
    store_password(&txn, id, hash, change.keep_tokens).await?;
    txn.commit().await?;
    Ok(())
}

/// Writes a user's new password `hash` in `txn`. A new password ends every session (the caller
/// starts a new one for a browser that changed its own), and the API tokens unless kept.
pub(super) async fn store_password<C: sea_orm::ConnectionTrait>(
    txn: &C,
    id: Uuid,
    hash: String,
    keep_tokens: bool,
) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("users"))
        .value(col("password_hash"), hash)
        .value(col("updated_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(id));
    db::update(txn, &q).await?;
    super::revoke::sessions(txn, id).await?;
    if !keep_tokens {
        super::revoke::tokens(txn, id).await?;
    }
    Ok(())
}

/// The longest token name.
const MAX_TOKEN_NAME_CHARS: usize = 100;

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
        return Err(CoreError::forbidden(codes::ADMIN_ONLY));
    }
    let user = users::get(db.reader(), user_id).await?;
    if user.disabled {
        return Err(CoreError::field(
            "user",
            FieldError::new(codes::USER_DISABLED),
        ));
    }
    let name = name.trim();
    if name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(CoreError::field(
            "name",
            FieldError::new(codes::TOO_LONG).with("max", MAX_TOKEN_NAME_CHARS),
        ));
    }
    crate::normalize::check_name_chars(name).map_err(|e| CoreError::field("name", e))?;
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
pub async fn token_actor(core: &crate::Core, token: &str) -> CoreResult<Actor> {
    let db = &core.db;
    let mut q = Query::select();
    q.expr_as(
        Expr::col((col("api_tokens"), col("id"))),
        Alias::new("token_id"),
    )
    .columns(["revoked_at", "last_used_at"].map(|c| (col("api_tokens"), col(c))))
    .from(col("api_tokens"))
    .and_where(Expr::col((col("api_tokens"), col("token_hash"))).eq(hash_token(token)));
    users::join_holder(&mut q, "api_tokens");
    let rows = db::fetch_all(db.reader(), &q).await?;
    let (Some(row), Some((user, actor))) = (rows.first(), users::holder(core, &rows)?) else {
        return Err(CoreError::Unauthenticated);
    };
    if get_opt_ts(row, "revoked_at")?.is_some() {
        return Err(CoreError::Unauthenticated);
    }
    if user.disabled {
        return Err(CoreError::Unauthenticated);
    }
    // Record use at most once a minute: a busy script should not turn every read into a write.
    let last = get_opt_ts(row, "last_used_at")?;
    if last.is_none_or(|t| Utc::now() - t > Duration::minutes(1)) {
        let mut u = Query::update();
        u.table(col("api_tokens"))
            .value(col("last_used_at"), crate::now())
            .and_where(Expr::col(col("id")).eq(get_uuid(row, "token_id")?));
        let txn = db.begin().await?;
        db::update(&txn, &u).await?;
        txn.commit().await?;
    }
    Ok(actor)
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
