//! Password reset by e-mail: a link with a single-use secret that runs out.
//!
//! Asking for a reset answers the same whether or not the address has an account, so the form
//! tells nobody who does. Only the secret's hash is stored; the link in the letter is its one
//! copy, and the letter's job forgets its text once sent. Using the link ends every reset the
//! user had pending and every session, as a new password does.

use chrono::Duration;
use sea_orm::sea_query::{Expr, Query};
use uuid::Uuid;

use super::users::{self, User};
use super::{auth, hash_token, random_token};
use crate::db::{self, col, get_uuid};
use crate::error::{CoreError, CoreResult, codes};
use crate::mail::{self, Letter};
use crate::{Core, now};

/// How long a link works.
pub const LIFETIME: Duration = Duration::minutes(30);

/// At most this many letters per user within [`LIFETIME`]: a stranger who knows the address can
/// ask again and again, but not fill the mailbox.
pub const MAX_PENDING: i64 = 3;

fn table() -> crate::db::Name {
    col("password_resets")
}

/// Starts a reset for the enabled user whose e-mail is `email`: stores the secret's hash and
/// queues the letter `write` words for that user from the secret. Does nothing, and says
/// nothing different, for an address without an account, a disabled one, one that asked too
/// often, or when no e-mail can be sent.
pub async fn request(
    core: &Core,
    email: &str,
    write: impl FnOnce(&User, &str) -> Letter,
) -> CoreResult<()> {
    if core.mailer.is_none() {
        return Ok(());
    }
    let Some(user) = users::find_by_email(&core.db, email).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let at = now();
    let txn = core.db.begin().await?;
    let mut pending = Query::select();
    pending
        .expr_as(Expr::cust("COUNT(*)"), col("n"))
        .from(table())
        .and_where(Expr::col(col("user_id")).eq(user.id))
        .and_where(Expr::col(col("created_at")).gt(at - LIFETIME));
    let asked = match db::fetch_one(&txn, &pending).await? {
        Some(row) => db::get_i64(&row, "n")?,
        None => 0,
    };
    if asked >= MAX_PENDING {
        return Ok(());
    }
    let secret = random_token();
    let id = Uuid::now_v7();
    let mut q = Query::insert();
    q.into_table(table())
        .columns(["id", "user_id", "secret_hash", "created_at", "expires_at"].map(col))
        .values_panic([
            id.into(),
            user.id.into(),
            hash_token(&secret).into(),
            at.into(),
            (at + LIFETIME).into(),
        ]);
    db::insert(&txn, &q).await?;
    mail::queue(
        &txn,
        &write(&user, &secret),
        Some(format!("password-reset:{id}")),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The user a link's `secret` resets the password of, while it works.
pub async fn holder(core: &Core, secret: &str) -> CoreResult<User> {
    let mut q = Query::select();
    q.column(col("user_id"))
        .from(table())
        .and_where(Expr::col(col("secret_hash")).eq(hash_token(secret)))
        .and_where(Expr::col(col("used_at")).is_null())
        .and_where(Expr::col(col("expires_at")).gt(now()));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or_else(invalid)?;
    let user = users::get(core.db.reader(), get_uuid(&row, "user_id")?).await?;
    if user.disabled {
        return Err(invalid());
    }
    Ok(user)
}

/// Sets the password of the link's holder to `password`, once: the link is used in the same
/// transaction, so two submissions of one link cannot both succeed. Returns the user.
pub async fn complete(core: &Core, secret: &str, password: &str) -> CoreResult<User> {
    let user = holder(core, secret).await?;
    users::check_password(password, &user.email, &user.name)
        .map_err(|e| CoreError::field("password", e))?;
    let hash = users::hash_password(password)?;
    let at = now();
    let txn = core.db.begin().await?;
    let mut used = Query::update();
    used.table(table())
        .value(col("used_at"), at)
        .and_where(Expr::col(col("secret_hash")).eq(hash_token(secret)))
        .and_where(Expr::col(col("used_at")).is_null())
        .and_where(Expr::col(col("expires_at")).gt(at));
    if db::update(&txn, &used).await? != 1 {
        return Err(invalid());
    }
    // The user's other links stop working too: the password they were for is gone.
    let mut others = Query::update();
    others
        .table(table())
        .value(col("used_at"), at)
        .and_where(Expr::col(col("user_id")).eq(user.id))
        .and_where(Expr::col(col("used_at")).is_null());
    db::update(&txn, &others).await?;
    // A forgotten password is not a leaked one: API tokens stay, sessions end.
    auth::store_password(&txn, user.id, hash, true).await?;
    txn.commit().await?;
    Ok(user)
}

fn invalid() -> CoreError {
    CoreError::bad_request(
        codes::RESET_LINK_INVALID,
        "this password reset link was used, ran out or does not exist",
    )
}
