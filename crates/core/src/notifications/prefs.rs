//! Each user's choice, per kind of notice, of whether it also comes by e-mail. Only choices
//! that were made are stored; a kind without one follows its default.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use uuid::Uuid;

use super::{KINDS, kind};
use crate::Core;
use crate::authz::Actor;
use crate::db::{self, col, get_bool, get_string};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors};

fn table() -> crate::db::Name {
    col("notification_prefs")
}

/// Whether `user` gets notices of `kind` by e-mail.
pub(super) async fn wants_email<C: ConnectionTrait>(
    conn: &C,
    user: Uuid,
    kind_name: &str,
) -> CoreResult<bool> {
    let Some(kind) = kind(kind_name) else {
        return Ok(false);
    };
    let mut q = Query::select();
    q.column(col("by_email"))
        .from(table())
        .and_where(Expr::col(col("user_id")).eq(user))
        .and_where(Expr::col(col("kind")).eq(kind.name));
    match db::fetch_one(conn, &q).await? {
        Some(row) => get_bool(&row, "by_email"),
        None => Ok(kind.email_by_default),
    }
}

/// `actor`'s choice for every kind, in [`KINDS`] order: the kind's name and whether it comes by
/// e-mail.
pub async fn email_choices(core: &Core, actor: &Actor) -> CoreResult<Vec<(&'static str, bool)>> {
    let mut q = Query::select();
    q.columns(["kind", "by_email"].map(col))
        .from(table())
        .and_where(Expr::col(col("user_id")).eq(actor.user_id));
    let mut chosen = Vec::new();
    for row in db::fetch_all(core.db.reader(), &q).await? {
        chosen.push((get_string(&row, "kind")?, get_bool(&row, "by_email")?));
    }
    Ok(KINDS
        .iter()
        .map(|k| {
            let by_email = chosen
                .iter()
                .find(|(name, _)| name == k.name)
                .map_or(k.email_by_default, |&(_, by_email)| by_email);
            (k.name, by_email)
        })
        .collect())
}

/// Records whether `actor` gets notices of `kind_name` by e-mail.
pub async fn set_email_choice(
    core: &Core,
    actor: &Actor,
    kind_name: &str,
    by_email: bool,
) -> CoreResult<()> {
    let Some(kind) = kind(kind_name) else {
        let mut errors = FieldErrors::new();
        errors.insert(
            "kind".into(),
            FieldError::not_one_of(kind_name, &KINDS.iter().map(|k| k.name).collect::<Vec<_>>()),
        );
        return Err(CoreError::Validation(errors));
    };
    let mut q = Query::insert();
    q.into_table(table())
        .columns(["user_id", "kind", "by_email"].map(col))
        .values_panic([actor.user_id.into(), kind.name.into(), by_email.into()])
        .on_conflict(
            OnConflict::columns(["user_id", "kind"].map(col))
                .update_column(col("by_email"))
                .to_owned(),
        );
    let txn = core.db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}
