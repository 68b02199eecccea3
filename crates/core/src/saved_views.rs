//! Saved list views: a name and what the list shows — its filter (the JSON form of
//! [`Filter`]), its sort and its columns in order — per user and entity, and shared with the
//! user's team when they choose. A list's address is derived from a view, not stored in it, so
//! the API, the UI and a view saved in either read the same.

use sea_orm::sea_query::{Cond, Expr, Order, Query};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, Db, col, get_opt_string, get_opt_uuid, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, codes};
use crate::records::Filter;

#[derive(Debug, Clone, Serialize)]
pub struct SavedView {
    pub id: Uuid,
    pub entity: String,
    pub name: String,
    /// The list's filter in its JSON form (`{"and": []}` for none).
    pub filter: Value,
    /// `name` or `-name`; none for the entity's default order.
    pub sort: Option<String>,
    /// The columns, in order; none for the entity's default columns.
    pub columns: Vec<String>,
    /// Shown to everyone in its owner's team too.
    pub shared: bool,
    /// Whose view it is.
    pub owner_name: String,
    /// The reader's own view (they may delete it); else a teammate's shared one.
    pub mine: bool,
}

/// What a view is saved with.
#[derive(Debug, Clone, Default)]
pub struct ViewInput {
    pub name: String,
    pub filter: Option<Value>,
    pub sort: Option<String>,
    pub columns: Vec<String>,
    pub shared: bool,
}

/// The longest view name.
const MAX_NAME_CHARS: usize = 100;
/// The largest filter a view keeps, as JSON.
const MAX_FILTER_BYTES: usize = 8000;
/// The most columns a view shows.
const MAX_COLUMNS: usize = 60;
/// The longest column or sort name.
const MAX_KEY_CHARS: usize = 100;

/// The reader's views of `entity` and those their teammates share, by name.
pub async fn list(db: &Db, actor: &Actor, entity: &str) -> CoreResult<Vec<SavedView>> {
    let mut q = Query::select();
    q.columns(
        [
            "id", "user_id", "entity", "name", "filter", "sort", "columns", "team_id",
        ]
        .map(|c| (col("saved_views"), col(c))),
    )
    .expr_as(
        Expr::col((col("users"), col("name"))),
        sea_orm::sea_query::Alias::new("owner_name"),
    )
    .from(col("saved_views"))
    .inner_join(
        col("users"),
        Expr::col((col("users"), col("id"))).equals((col("saved_views"), col("user_id"))),
    )
    .and_where(Expr::col((col("saved_views"), col("entity"))).eq(entity))
    .order_by((col("saved_views"), col("name")), Order::Asc);
    let mine = Expr::col((col("saved_views"), col("user_id"))).eq(actor.user_id);
    match actor.team_id {
        Some(team) => q.cond_where(
            Cond::any()
                .add(mine)
                .add(Expr::col((col("saved_views"), col("team_id"))).eq(team)),
        ),
        None => q.and_where(mine),
    };
    db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            let owner = get_uuid(r, "user_id")?;
            Ok(SavedView {
                id: get_uuid(r, "id")?,
                entity: get_string(r, "entity")?,
                name: get_string(r, "name")?,
                filter: json_or(get_opt_string(r, "filter")?, Filter::all().to_json()),
                sort: get_opt_string(r, "sort")?.filter(|s| !s.is_empty()),
                columns: serde_json::from_value(json_or(
                    get_opt_string(r, "columns")?,
                    Value::Array(vec![]),
                ))
                .unwrap_or_default(),
                shared: get_opt_uuid(r, "team_id")?.is_some(),
                owner_name: get_string(r, "owner_name")?,
                mine: owner == actor.user_id,
            })
        })
        .collect()
}

fn json_or(text: Option<String>, default: Value) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(default)
}

/// Saves (or replaces, by name among the user's own) a view. A shared view is shared with the
/// user's team; a user without a team cannot share.
pub async fn save(
    db: &Db,
    registry: &crate::Registry,
    actor: &Actor,
    entity: &str,
    input: &ViewInput,
) -> CoreResult<SavedView> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(CoreError::field("name", FieldError::new(codes::REQUIRED)));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::field(
            "name",
            FieldError::new(codes::TOO_LONG).with("max", MAX_NAME_CHARS),
        ));
    }
    // PostgreSQL refuses NUL in text, so control characters are refused here, not by a 500.
    crate::normalize::check_name_chars(name).map_err(|e| CoreError::field("name", e))?;
    if registry.by_name(entity).is_none() {
        return Err(CoreError::field("entity", registry.not_an_entity(entity)));
    }
    let filter = match &input.filter {
        None | Some(Value::Null) => Filter::all(),
        Some(v) => {
            let f = Filter::from_json(v)?;
            f.check_limits()?;
            f
        }
    };
    let filter_json = filter.to_json().to_string();
    if filter_json.len() > MAX_FILTER_BYTES {
        return Err(CoreError::field(
            "filter",
            FieldError::new(codes::TOO_LONG).with("max", MAX_FILTER_BYTES),
        ));
    }
    let sort = input
        .sort
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = sort {
        check_key("sort", s)?;
    }
    if input.columns.len() > MAX_COLUMNS {
        return Err(CoreError::field(
            "columns",
            FieldError::new(codes::TOO_MANY_ENTRIES).with("max", MAX_COLUMNS),
        ));
    }
    let mut columns: Vec<&str> = Vec::new();
    for c in &input.columns {
        let c = c.trim();
        check_key("columns", c)?;
        // Each column once, where it was first chosen.
        if !c.is_empty() && !columns.contains(&c) {
            columns.push(c);
        }
    }
    let team = match (input.shared, actor.team_id) {
        (false, _) => None,
        (true, Some(t)) => Some(t),
        (true, None) => {
            return Err(CoreError::field(
                "shared",
                FieldError::new(codes::NO_TEAM_TO_SHARE_WITH),
            ));
        }
    };
    let txn = db.begin().await?;
    let mut d = Query::delete();
    d.from_table(col("saved_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("entity")).eq(entity))
        .and_where(Expr::col(col("name")).eq(name));
    db::delete(&txn, &d).await?;
    let id = Uuid::now_v7();
    let columns_json = serde_json::to_string(&columns).unwrap_or_else(|_| "[]".into());
    let mut q = Query::insert();
    q.into_table(col("saved_views"))
        .columns(
            [
                "id",
                "user_id",
                "entity",
                "name",
                "filter",
                "sort",
                "columns",
                "team_id",
                "created_at",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            actor.user_id.into(),
            entity.into(),
            name.into(),
            filter_json.into(),
            sort.unwrap_or("").into(),
            columns_json.into(),
            team.into(),
            crate::now().into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(SavedView {
        id,
        entity: entity.to_string(),
        name: name.to_string(),
        filter: filter.to_json(),
        sort: sort.map(str::to_string),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        shared: team.is_some(),
        owner_name: actor.name.clone(),
        mine: true,
    })
}

/// A sort or column name: short, printable.
fn check_key(field: &'static str, s: &str) -> CoreResult<()> {
    if s.chars().count() > MAX_KEY_CHARS {
        return Err(CoreError::field(
            field,
            FieldError::new(codes::TOO_LONG).with("max", MAX_KEY_CHARS),
        ));
    }
    crate::normalize::check_name_chars(s).map_err(|e| CoreError::field(field, e))
}

/// Deletes a view: the user's own, or as an administrator a shared one nobody looks after.
pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let mut d = Query::delete();
    d.from_table(col("saved_views"))
        .and_where(Expr::col(col("id")).eq(id));
    let own = Expr::col(col("user_id")).eq(actor.user_id);
    if actor.is_admin() {
        d.cond_where(
            Cond::any()
                .add(own)
                .add(Expr::col(col("team_id")).is_not_null()),
        );
    } else {
        d.and_where(own);
    }
    let txn = db.begin().await?;
    let n = db::delete(&txn, &d).await?;
    txn.commit().await?;
    if n == 0 {
        Err(CoreError::NotFound)
    } else {
        Ok(())
    }
}
