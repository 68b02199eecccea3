//! Users and the grants of their roles.

use std::collections::HashMap;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Order, Query, SelectStatement};
use serde::Serialize;
use uuid::Uuid;

use crate::authz::{Actor, Grant, Role, Scope};
use crate::db::{
    self, Backend, Db, col, get_bool, get_i64, get_opt_uuid, get_string, get_ts, get_uuid,
};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes, shown};
use crate::normalize;

pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

/// How amounts read to a user: `grouped` (`¥8,740,000`, the default) or `wan` (`874万元`).
pub const MONEY_FORMATS: [&str; 2] = ["grouped", "wan"];

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub locale: String,
    /// One of [`MONEY_FORMATS`].
    pub money_format: String,
    /// The IANA zone they chose, or `''` for the instance default
    /// ([`crate::Settings::default_time_zone`]); the zone in effect is the actor's.
    pub time_zone: String,
    pub disabled: bool,
    pub created_at: String,
    pub version: i64,
}

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub team_id: Option<Uuid>,
    pub password: String,
    pub locale: Option<String>,
}

#[derive(Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    pub team_id: Option<Option<Uuid>>,
    pub locale: Option<String>,
    pub money_format: Option<String>,
    /// An IANA zone, or `''` to go back to the instance default.
    pub time_zone: Option<String>,
    pub disabled: Option<bool>,
}

const COLUMNS: [&str; 11] = [
    "id",
    "email",
    "name",
    "role",
    "team_id",
    "locale",
    "money_format",
    "time_zone",
    "disabled",
    "created_at",
    "version",
];

fn from_row(r: &sea_orm::QueryResult) -> CoreResult<User> {
    let role_s = get_string(r, "role")?;
    Ok(User {
        id: get_uuid(r, "id")?,
        email: get_string(r, "email")?,
        name: get_string(r, "name")?,
        role: role_s.parse().map_err(CoreError::Internal)?,
        team_id: get_opt_uuid(r, "team_id")?,
        locale: get_string(r, "locale")?,
        // Stored as '' until the user chooses.
        money_format: Some(get_string(r, "money_format")?)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| MONEY_FORMATS[0].to_string()),
        time_zone: get_string(r, "time_zone")?,
        disabled: get_bool(r, "disabled")?,
        created_at: crate::records::service::ts_string(get_ts(r, "created_at")?),
        version: get_i64(r, "version")?,
    })
}

/// Adds to `q` the user that a row of `table` (a session or an API token, by its `user_id`)
/// belongs to, and the grants stored for the user's role, in the columns [`holder`] reads: a
/// credential, its user and what they may do in one query, which every authenticated request
/// makes. The query gives a row per stored grant (one row when there is none).
pub(crate) fn join_holder(q: &mut SelectStatement, table: &str) {
    q.columns(COLUMNS.map(|c| (col("users"), col(c))))
        .expr_as(
            Expr::col((col("role_permissions"), col("entity"))),
            sea_orm::sea_query::Alias::new("grant_entity"),
        )
        .expr_as(
            Expr::col((col("role_permissions"), col("read_scope"))),
            sea_orm::sea_query::Alias::new("grant_read"),
        )
        .expr_as(
            Expr::col((col("role_permissions"), col("write_scope"))),
            sea_orm::sea_query::Alias::new("grant_write"),
        )
        .inner_join(
            col("users"),
            Expr::col((col("users"), col("id"))).equals((col(table), col("user_id"))),
        )
        .left_join(
            col("role_permissions"),
            Expr::col((col("role_permissions"), col("role"))).equals((col("users"), col("role"))),
        );
}

/// The user [`join_holder`] added to the rows, as an actor with their role's grants; `None`
/// without rows.
pub(crate) fn holder(
    core: &crate::Core,
    rows: &[sea_orm::QueryResult],
) -> CoreResult<Option<(User, Actor)>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let user = from_row(first)?;
    let mut stored = HashMap::new();
    for r in rows {
        if let Some(entity) = db::get_opt_string(r, "grant_entity")? {
            stored.insert(entity, grant_of(r, "grant_read", "grant_write")?);
        }
    }
    let actor = actor_with(core, &user, &stored);
    Ok(Some((user, actor)))
}

pub(crate) fn require_admin(actor: Option<&Actor>) -> CoreResult<()> {
    match actor {
        Some(a) if !a.is_admin() => Err(CoreError::forbidden(codes::ADMIN_ONLY)),
        _ => Ok(()),
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest user name.
const MAX_NAME_CHARS: usize = 100;

/// Whether a password may be set for the user with this e-mail and name. Besides the length, it
/// must not be the e-mail address, and it must not be among the passwords attackers try first:
/// common passwords, keyboard walks, repeats and sequences, words with digits tacked on, the
/// user's own name or address (zxcvbn's estimate of more than a million guesses, its score 2).
pub fn check_password(pw: &str, email: &str, name: &str) -> Result<(), FieldError> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(codes::TOO_SHORT).with("min", MIN_PASSWORD_CHARS));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(codes::TOO_LONG).with("max", MAX_PASSWORD_CHARS));
    }
    let email = email.trim();
    if !email.is_empty() && pw.trim().eq_ignore_ascii_case(email) {
        return Err(FieldError::new(codes::PASSWORD_SAME_AS_EMAIL));
    }
    // The estimate's cost grows with length; past 64 characters a password is long enough that
    // its first 64 decide whether it is a common one.
    let head: String = pw.chars().take(64).collect();
    let local = email.split('@').next().unwrap_or("");
    if zxcvbn::zxcvbn(&head, &[email, local, name.trim()]).score() < zxcvbn::Score::Two {
        return Err(FieldError::new(codes::PASSWORD_TOO_COMMON));
    }
    Ok(())
}

pub fn hash_password(pw: &str) -> CoreResult<String> {
    Argon2::default()
        .hash_password(pw.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("hashing a password: {e}")))
}

pub fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

/// Every user, by e-mail. Pages read this many times over, so it is kept in memory while the
/// users' stamp reads the same: how many there are, the sum of their versions (every change to
/// a user raises its version, [`update`] and a team's deletion alike) and the newest's creation.
/// Reading the stamp is one small aggregate; another instance's change shows at once.
pub async fn list(db: &Db) -> CoreResult<Arc<Vec<User>>> {
    let stamp = directory_stamp(db).await?;
    // Shared, not copied: a page asks several times, and a copy of four hundred people each
    // time cost more than the stamp's read.
    if let Some(kept) = db.directory.get::<Vec<User>>(&stamp) {
        return Ok(kept);
    }
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col("users"))
        .order_by(col("email"), Order::Asc);
    let users = db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(from_row)
        .collect::<CoreResult<Vec<User>>>()?;
    let users = Arc::new(users);
    db.directory.put(stamp, Arc::clone(&users));
    Ok(users)
}

/// What changes whenever the users [`list`] reads change; read once within a
/// [`db::memo::one_read`].
async fn directory_stamp(db: &Db) -> CoreResult<String> {
    db::memo::stamp("users", || read_directory_stamp(db)).await
}

/// The table of stamps that triggers keep ([`stamp_ddl`]), one row per thing stamped.
pub const STAMPS: &str = "stamps";

async fn read_directory_stamp(db: &Db) -> CoreResult<String> {
    let mut q = Query::select();
    q.column(col("version"))
        .from(col(STAMPS))
        .and_where(Expr::col(col("name")).eq("users"));
    let row = db::fetch_one(db.reader(), &q)
        .await?
        .ok_or_else(|| CoreError::Internal("the users' stamp is missing".into()))?;
    Ok(get_i64(&row, "version")?.to_string())
}

/// The users' stamp: a number every insert, change and deletion of a user raises, by triggers,
/// so that every writer (a form, the command line, a restore, a team's deletion setting its
/// people's team to none) raises it. Reading it is one row by its key. Until m0044 it was an
/// aggregate over every user (how many, the sum of their versions, the newest's creation),
/// read by every page: 0.5 M instructions at 400 people, ten times that at 4,000.
pub fn stamp_ddl(backend: Backend) -> Vec<String> {
    let bump =
        format!("UPDATE \"{STAMPS}\" SET \"version\" = \"version\" + 1 WHERE \"name\" = 'users'");
    let mut out = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS \"{STAMPS}\" (\"name\" TEXT NOT NULL PRIMARY KEY, \
             \"version\" BIGINT NOT NULL)"
        ),
        format!("INSERT INTO \"{STAMPS}\" (\"name\", \"version\") VALUES ('users', 1)"),
    ];
    match backend {
        Backend::Sqlite => {
            for on in ["INSERT", "UPDATE", "DELETE"] {
                out.push(format!(
                    "CREATE TRIGGER \"users_stamp_{}\" AFTER {on} ON \"users\" \
                     BEGIN {bump}; END",
                    on.to_lowercase()
                ));
            }
        }
        Backend::Postgres => {
            out.push(format!(
                "CREATE FUNCTION \"users_stamp_raise\"() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN {bump}; RETURN NULL; END $$"
            ));
            // Once a statement: a statement changing many people needs one raise.
            out.push(
                "CREATE TRIGGER \"users_stamp\" AFTER INSERT OR UPDATE OR DELETE ON \"users\" \
                 FOR EACH STATEMENT EXECUTE FUNCTION \"users_stamp_raise\"()"
                    .to_string(),
            );
        }
    }
    out
}

/// The names of the users `ids` names, by id: what a page that shows a few records' owners
/// needs, rather than every user ([`list`]).
pub async fn names(db: &Db, ids: &[Uuid]) -> CoreResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = Query::select();
    q.columns([col("id"), col("name")])
        .from(col("users"))
        .and_where(db::id_in(db.backend(), Expr::col(col("id")).into(), ids));
    db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(|r| Ok((get_uuid(r, "id")?, get_string(r, "name")?)))
        .collect()
}

pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> CoreResult<User> {
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col("users"))
        .and_where(Expr::col(col("id")).eq(id));
    from_row(&db::fetch_one(conn, &q).await?.ok_or(CoreError::NotFound)?)
}

pub async fn find_by_email(db: &Db, email: &str) -> CoreResult<Option<User>> {
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col("users"))
        .and_where(Expr::col(col("email")).eq(email.trim().to_lowercase()));
    db::fetch_one(db.reader(), &q)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub(crate) async fn password_hash_of(db: &Db, id: Uuid) -> CoreResult<String> {
    let mut q = Query::select();
    q.column(col("password_hash"))
        .from(col("users"))
        .and_where(Expr::col(col("id")).eq(id));
    get_string(
        &db::fetch_one(db.reader(), &q)
            .await?
            .ok_or(CoreError::NotFound)?,
        "password_hash",
    )
}

fn check_locale(l: &str, errors: &mut FieldErrors) {
    if !LOCALES.contains(&l) {
        errors.insert("locale".into(), FieldError::not_one_of(l, &LOCALES));
    }
}

fn check_money_format(f: &str, errors: &mut FieldErrors) {
    if !MONEY_FORMATS.contains(&f) {
        errors.insert(
            "money_format".into(),
            FieldError::not_one_of(f, &MONEY_FORMATS),
        );
    }
}

/// A person's name: present, at most [`MAX_NAME_CHARS`], no control or deceptive characters.
fn check_name(name: &str) -> Result<(), FieldError> {
    let name = name.trim();
    if name.is_empty() {
        Err(FieldError::new(codes::REQUIRED))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(FieldError::new(codes::TOO_LONG).with("max", MAX_NAME_CHARS))
    } else {
        normalize::check_name_chars(name)
    }
}

/// A role by its code, or the field error naming the roles there are.
pub fn parse_role(s: &str) -> Result<Role, FieldError> {
    s.parse::<Role>()
        .map_err(|_| FieldError::not_one_of(s, &Role::ALL.map(Role::as_str)))
}

/// A scope by its code, or the field error naming the scopes there are.
pub fn parse_scope(s: &str) -> Result<Scope, FieldError> {
    s.parse::<Scope>()
        .map_err(|_| FieldError::not_one_of(s, &Scope::ALL.map(Scope::as_str)))
}

fn email_in_use(email: &str) -> FieldError {
    FieldError::new(codes::ALREADY_IN_USE).with("value", shown(email))
}

async fn check_team(db: &Db, team: Option<Uuid>, errors: &mut FieldErrors) -> CoreResult<()> {
    if let Some(t) = team
        && super::teams::get(db, t).await.is_err()
    {
        errors.insert("team_id".into(), FieldError::new(codes::NO_SUCH_TEAM));
    }
    Ok(())
}

/// Adds a user. `actor` is `None` for the command line.
pub async fn create(db: &Db, actor: Option<&Actor>, new: NewUser) -> CoreResult<User> {
    require_admin(actor)?;
    let mut errors = FieldErrors::new();
    let email = normalize::email(&new.email).unwrap_or_else(|e| {
        errors.insert("email".into(), e);
        String::new()
    });
    let name = new.name.trim().to_string();
    if let Err(e) = check_name(&name) {
        errors.insert("name".into(), e);
    }
    if let Err(e) = parse_role(&new.role) {
        errors.insert("role".into(), e);
    }
    if let Err(e) = check_password(&new.password, &new.email, &new.name) {
        errors.insert("password".into(), e);
    }
    let locale = new.locale.unwrap_or_else(|| "zh-CN".into());
    check_locale(&locale, &mut errors);
    check_team(db, new.team_id, &mut errors).await?;
    if !email.is_empty() && find_by_email(db, &email).await?.is_some() {
        errors.insert("email".into(), email_in_use(&email));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let hash = hash_password(&new.password)?;
    let id = Uuid::now_v7();
    let now = crate::now();
    let mut q = Query::insert();
    q.into_table(col("users"))
        .columns(
            [
                "id",
                "email",
                "name",
                "password_hash",
                "role",
                "team_id",
                "locale",
                "disabled",
                "created_at",
                "updated_at",
                "version",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            email.clone().into(),
            name.into(),
            hash.into(),
            new.role.into(),
            new.team_id.into(),
            locale.into(),
            false.into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]);
    let txn = db.begin().await?;
    match db::insert(&txn, &q).await {
        // Another create of the same address committed between the check above and this insert
        // (password hashing makes that window wide): the unique index holds, and the caller gets
        // the same field error as if the check had seen it.
        Err(CoreError::Database(e))
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let mut errors = FieldErrors::new();
            errors.insert("email".into(), email_in_use(&email));
            return Err(CoreError::Validation(errors));
        }
        other => other?,
    };
    txn.commit().await?;
    get(db.reader(), id).await
}

pub async fn update(
    db: &Db,
    actor: Option<&Actor>,
    id: Uuid,
    patch: UserPatch,
) -> CoreResult<User> {
    // People may change their own name, language, money format and time zone; everything else
    // is for administrators.
    let own = actor.is_some_and(|a| a.user_id == id);
    let admin_only = patch.role.is_some() || patch.team_id.is_some() || patch.disabled.is_some();
    if admin_only || !own {
        require_admin(actor)?;
    }
    let current = get(db.reader(), id).await?;
    let mut errors = FieldErrors::new();
    if let Some(n) = &patch.name
        && let Err(e) = check_name(n)
    {
        errors.insert("name".into(), e);
    }
    if let Some(r) = &patch.role
        && let Err(e) = parse_role(r)
    {
        errors.insert("role".into(), e);
    }
    if let Some(l) = &patch.locale {
        check_locale(l, &mut errors);
    }
    if let Some(f) = &patch.money_format {
        check_money_format(f, &mut errors);
    }
    if let Some(z) = &patch.time_zone
        && let Err(e) = crate::time_zone::check_choice(z)
    {
        errors.insert("time_zone".into(), e);
    }
    if let Some(t) = patch.team_id {
        check_team(db, t, &mut errors).await?;
    }
    if actor.is_some_and(|a| a.user_id == id)
        && (patch.disabled == Some(true) || patch.role.as_deref().is_some_and(|r| r != "admin"))
    {
        errors.insert("role".into(), FieldError::new(codes::CANNOT_DEMOTE_SELF));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let mut q = Query::update();
    q.table(col("users"))
        .value(
            col("name"),
            patch
                .name
                .map(|n| n.trim().to_string())
                .unwrap_or(current.name),
        )
        .value(col("role"), patch.role.unwrap_or(current.role.to_string()))
        .value(col("team_id"), patch.team_id.unwrap_or(current.team_id))
        .value(col("locale"), patch.locale.unwrap_or(current.locale))
        .value(
            col("money_format"),
            patch.money_format.unwrap_or(current.money_format),
        )
        .value(
            col("time_zone"),
            patch.time_zone.unwrap_or(current.time_zone),
        )
        .value(col("disabled"), patch.disabled.unwrap_or(current.disabled))
        .value(col("updated_at"), crate::now())
        .value(col("version"), current.version + 1)
        .and_where(Expr::col(col("id")).eq(id));
    let txn = db.begin().await?;
    db::update(&txn, &q).await?;
    if patch.disabled == Some(true) {
        // Both sessions and API tokens end: enabling the user again must not bring back tokens
        // that may have leaked while they were away.
        super::revoke::sessions(&txn, id).await?;
        super::revoke::tokens(&txn, id).await?;
    }
    txn.commit().await?;
    get(db.reader(), id).await
}

/// The grants administrators stored for a role, by entity. An entity without one has the
/// role's default (`Actor::grant` falls back to it).
pub async fn grants(db: &Db, role: Role) -> CoreResult<HashMap<String, Grant>> {
    let mut out: HashMap<String, Grant> = HashMap::new();
    let mut q = Query::select();
    q.columns(["entity", "read_scope", "write_scope"].map(col))
        .from(col("role_permissions"))
        .and_where(Expr::col(col("role")).eq(role.as_str()));
    for r in db::fetch_all(db.reader(), &q).await? {
        out.insert(
            get_string(&r, "entity")?,
            grant_of(&r, "read_scope", "write_scope")?,
        );
    }
    Ok(out)
}

/// A stored grant from a row's `read` and `write` columns.
fn grant_of(r: &sea_orm::QueryResult, read: &str, write: &str) -> CoreResult<Grant> {
    Ok(Grant {
        read: get_string(r, read)?.parse().map_err(CoreError::Internal)?,
        write: get_string(r, write)?.parse().map_err(CoreError::Internal)?,
    })
}

/// What a role may read and write of every entity: the stored grant, else the role's default.
pub async fn role_grants(
    db: &Db,
    registry: &crate::Registry,
    role: Role,
) -> CoreResult<std::collections::BTreeMap<String, Grant>> {
    Ok(with_defaults(registry, role, &grants(db, role).await?))
}

/// The `stored` grants of a role, and its default for each entity without one.
fn with_defaults(
    registry: &crate::Registry,
    role: Role,
    stored: &HashMap<String, Grant>,
) -> std::collections::BTreeMap<String, Grant> {
    registry
        .all()
        .iter()
        .map(|e| {
            let g = stored
                .get(e.name)
                .copied()
                .unwrap_or_else(|| crate::authz::default_grant(role, e.access));
            (e.name.to_string(), g)
        })
        .collect()
}

/// Sets what a role may read and write of an entity. Administrators always keep everything.
pub async fn set_grant(
    db: &Db,
    registry: &crate::Registry,
    actor: Option<&Actor>,
    role: Role,
    entity: &str,
    grant: Grant,
) -> CoreResult<()> {
    require_admin(actor)?;
    if registry.by_name(entity).is_none() {
        return Err(CoreError::field("entity", registry.not_an_entity(entity)));
    }
    if role == Role::Admin {
        return Err(CoreError::field(
            "role",
            FieldError::new(codes::ADMIN_HAS_FULL_ACCESS),
        ));
    }
    if grant.write > grant.read {
        // Named as the API and the admin form send it.
        return Err(CoreError::field(
            "write",
            FieldError::new(codes::WRITE_BEYOND_READ),
        ));
    }
    let txn = db.begin().await?;
    let mut d = Query::delete();
    d.from_table(col("role_permissions"))
        .and_where(Expr::col(col("role")).eq(role.as_str()))
        .and_where(Expr::col(col("entity")).eq(entity));
    db::delete(&txn, &d).await?;
    let mut q = Query::insert();
    q.into_table(col("role_permissions"))
        .columns(["role", "entity", "read_scope", "write_scope"].map(col))
        .values_panic([
            role.as_str().into(),
            entity.into(),
            grant.read.as_str().into(),
            grant.write.as_str().into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// The actor for a user, with their role's grant for every entity loaded (stored ones, else the
/// defaults for the entity's kind of access) and the time zone they read in.
pub async fn actor_for(core: &crate::Core, user: &User) -> CoreResult<Actor> {
    Ok(actor_with(core, user, &grants(&core.db, user.role).await?))
}

/// The actor for a user whose role has the `stored` grants.
fn actor_with(core: &crate::Core, user: &User, stored: &HashMap<String, Grant>) -> Actor {
    let registry = core.registry;
    Actor {
        user_id: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role,
        team_id: user.team_id,
        locale: user.locale.clone(),
        money_format: user.money_format.clone(),
        time_zone: crate::time_zone::resolve(&user.time_zone, core.settings.default_time_zone),
        grants: with_defaults(registry, user.role, stored)
            .into_iter()
            .collect(),
    }
}
