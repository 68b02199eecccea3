//! Teams: the unit of "team" record scope.

use sea_orm::sea_query::{Expr, Order, Query};
use serde::Serialize;
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, Db, col, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, codes, shown};

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
}

fn require_admin(actor: Option<&Actor>) -> CoreResult<()> {
    match actor {
        Some(a) if !a.is_admin() => Err(CoreError::forbidden(codes::ADMIN_ONLY)),
        _ => Ok(()),
    }
}

pub async fn list(db: &Db) -> CoreResult<Vec<Team>> {
    let mut q = Query::select();
    q.columns(["id", "name"].map(col))
        .from(col("teams"))
        .order_by(col("name"), Order::Asc);
    db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            Ok(Team {
                id: get_uuid(r, "id")?,
                name: get_string(r, "name")?,
            })
        })
        .collect()
}

pub async fn get(db: &Db, id: Uuid) -> CoreResult<Team> {
    list(db)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(CoreError::NotFound)
}

pub async fn find_by_name(db: &Db, name: &str) -> CoreResult<Option<Team>> {
    Ok(list(db).await?.into_iter().find(|t| t.name == name.trim()))
}

/// The longest team name.
const MAX_NAME_CHARS: usize = 100;

fn check_name(name: &str) -> CoreResult<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(CoreError::field("name", FieldError::new(codes::REQUIRED)));
    }
    if n.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::field(
            "name",
            FieldError::new(codes::TOO_LONG).with("max", MAX_NAME_CHARS),
        ));
    }
    // PostgreSQL refuses NUL in text; other control characters have no place in a name.
    if let Err(e) = crate::normalize::check_name_chars(n) {
        return Err(CoreError::field("name", e));
    }
    Ok(n.to_string())
}

fn name_in_use(name: &str) -> CoreError {
    CoreError::field(
        "name",
        FieldError::new(codes::ALREADY_IN_USE).with("value", shown(name)),
    )
}

/// Creates a team. `actor` is `None` for the command line, which runs with the machine's
/// authority.
pub async fn create(db: &Db, actor: Option<&Actor>, name: &str) -> CoreResult<Team> {
    require_admin(actor)?;
    let name = check_name(name)?;
    if find_by_name(db, &name).await?.is_some() {
        return Err(name_in_use(&name));
    }
    let id = Uuid::now_v7();
    let now = crate::now();
    let mut q = Query::insert();
    q.into_table(col("teams"))
        .columns(["id", "name", "created_at", "updated_at"].map(col))
        .values_panic([id.into(), name.clone().into(), now.into(), now.into()]);
    let txn = db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(Team { id, name })
}

pub async fn rename(db: &Db, actor: Option<&Actor>, id: Uuid, name: &str) -> CoreResult<Team> {
    require_admin(actor)?;
    let name = check_name(name)?;
    get(db, id).await?;
    if find_by_name(db, &name).await?.is_some_and(|t| t.id != id) {
        return Err(name_in_use(&name));
    }
    let mut q = Query::update();
    q.table(col("teams"))
        .value(col("name"), name.clone())
        .value(col("updated_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(id));
    let txn = db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(Team { id, name })
}

/// Deletes a team; its members stay, without a team.
pub async fn delete(db: &Db, actor: Option<&Actor>, id: Uuid) -> CoreResult<()> {
    require_admin(actor)?;
    get(db, id).await?;
    let txn = db.begin().await?;
    let mut u = Query::update();
    // A change to a user raises its version, which the kept list of users watches.
    u.table(col("users"))
        .value(col("team_id"), Option::<Uuid>::None)
        .value(col("version"), Expr::col(col("version")).add(1))
        .and_where(Expr::col(col("team_id")).eq(id));
    db::update(&txn, &u).await?;
    let mut q = Query::delete();
    q.from_table(col("teams"))
        .and_where(Expr::col(col("id")).eq(id));
    db::delete(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}
