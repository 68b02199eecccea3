//! The duplicate check (查重): the live records of an entity that share a key with a record
//! being typed, saved or edited.
//!
//! Each declared rule (`EntityDef::dedupe`) gives keys of the record ([`super::keys::of`]); the
//! stored records holding the same key of the same rule are found by one index look-up per rule,
//! all in one statement: the phone, e-mail and domain rules in `contact_points`, the others in
//! `dedupe_keys` ([`super::keys`]). Records in the recycle bin do not count.
//!
//! A match the actor may not read is still reported — two reps must not work the same customer
//! without knowing — but only as its owner's name: never its id, its title or any other field.
//!
//! Saves go through [`on_write`] and [`refusal`]: a match of a rule that blocks refuses the save;
//! a match of a rule that warns refuses it unless the input says `allow_duplicate: true`. An
//! edit is checked only for the keys it adds, so a record kept on purpose beside its twin can be
//! edited without saying so again.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::{Alias, Asterisk, Expr, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, Value as SqlValue};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::keys::{self, Store};
use super::{Action, Rule, rules};
use crate::Core;
use crate::authz::{Actor, Scope};
use crate::db::{self, Backend, col, get_opt_uuid, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, Params, codes};
use crate::records::def::EntityDef;
use crate::records::{JsonMap, values};

/// At most this many matches are reported (and read), whatever a key is shared by.
pub const MAX_MATCHES: usize = 20;

/// A live record that shares a key with the record checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The strongest rule it matched: one that blocks before one that warns, then in the order
    /// of [`Rule::ALL`].
    pub rule: Rule,
    /// Every rule it matched, the strongest first.
    pub rules: Vec<Rule>,
    /// What the match does: the action of `rule`.
    pub action: Action,
    /// Whether the actor may read the record. Only then are its id, title and fields given.
    pub readable: bool,
    pub record_id: Option<Uuid>,
    /// Its name, in the actor's language.
    pub title: Option<String>,
    /// The name of the user who owns it: given even when the record is not readable.
    pub owner_name: String,
    /// What tells it apart at a glance: the fields of the rules it matched and the entity's key
    /// facts (`billing_address.city` as such).
    pub fields: Option<JsonMap>,
}

/// Which keys a check compares.
#[derive(Clone, Copy)]
enum Compare<'a> {
    /// Every key of the record.
    All,
    /// Only the keys the record has and `stored` (its version before an edit) had not.
    Added(&'a JsonMap),
}

/// The live records of `def` that share a key with `input`, a record as typed: whole or in part
/// (just a name), its values not yet validated (what does not validate gives no key).
/// `exclude` is the record being edited. At most [`MAX_MATCHES`], the strongest first.
pub async fn find(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    input: &JsonMap,
    exclude: Option<Uuid>,
) -> CoreResult<Vec<Match>> {
    let grant = actor.grant(def.name);
    if grant.read == Scope::None && grant.write == Scope::None {
        return Err(CoreError::forbidden_for(codes::ROLE_CANNOT_READ, def.name));
    }
    let mut rec = JsonMap::new();
    for name in def.dedupe.iter().flat_map(|d| d.fields) {
        if let (Some(f), Some(v)) = (def.field(name), input.get(*name))
            && let Ok(c) = values::canonical(&f.kind, v, &core.settings)
        {
            rec.insert((*name).to_string(), c);
        }
    }
    let ask = Ask {
        compare: Compare::All,
        exclude,
        lock: false,
        only: None,
    };
    matches(core.db.reader(), core, actor, def, &rec, ask).await
}

/// The live records of `def` that share a key of one of `rules` with `rec` (a validated
/// record), as the transaction `conn` sees them, its own writes included: an import's matching
/// on natural keys (e-mail, phone, domain, tax id, company name). At most [`MAX_MATCHES`].
pub async fn holders<C: ConnectionTrait>(
    conn: &C,
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    rec: &JsonMap,
    rules: &[Rule],
) -> CoreResult<Vec<Match>> {
    let ask = Ask {
        compare: Compare::All,
        exclude: None,
        lock: false,
        only: Some(rules),
    };
    matches(conn, core, actor, def, rec, ask).await
}

/// The matches of a record about to be saved, as the save's transaction sees the others: only
/// for the keys it adds to `stored` (none on a create), and only of the rules `only` when given
/// (a save that allows duplicates needs the rules that block, nothing else can refuse it).
/// `rec` is the validated record.
pub(crate) async fn on_write<C: ConnectionTrait>(
    conn: &C,
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    (rec, stored): (&JsonMap, Option<&JsonMap>),
    id: Uuid,
    only: Option<&[Rule]>,
) -> CoreResult<Vec<Match>> {
    let ask = Ask {
        compare: stored.map_or(Compare::All, Compare::Added),
        exclude: Some(id),
        lock: true,
        only,
    };
    matches(conn, core, actor, def, rec, ask).await
}

/// The keys of `rules` that `rec` (a validated record) holds, rule by rule: what
/// [`holders_by_key`] looks up for it.
pub fn keys_of(def: &EntityDef, rec: &JsonMap, rules: &[Rule]) -> Vec<(Rule, Vec<String>)> {
    let mut out = wanted(def, rec, Compare::All);
    out.retain(|(r, _)| rules.contains(r));
    out
}

/// A live record holding a key, with what deciding whether the actor may read it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub id: Uuid,
    pub owner: Uuid,
    pub owner_team: Option<Uuid>,
}

/// The live records of `def` holding each of `wanted`'s keys, as `conn` sees them: the keys of
/// many records looked up in one statement (an import's batch of rows). `None` when more than
/// `most` holders would be read (a key shared by very many records): the caller then asks
/// record by record ([`holders`]), as it would have without this.
pub async fn holders_by_key<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    wanted: &[(Rule, Vec<String>)],
    most: u64,
) -> CoreResult<Option<HashMap<(Rule, String), Vec<Holder>>>> {
    let mut parts = wanted
        .iter()
        .filter(|(_, ks)| !ks.is_empty())
        .map(|(rule, ks)| part(def, *rule, ks, None, true));
    let Some(mut q) = parts.next() else {
        return Ok(Some(HashMap::new()));
    };
    for p in parts {
        q.union(UnionType::All, p);
    }
    q.limit(most + 1);
    let rows = db::fetch_all(conn, &q).await?;
    if rows.len() as u64 > most {
        return Ok(None);
    }
    let mut out: HashMap<(Rule, String), Vec<Holder>> = HashMap::new();
    for row in rows {
        let Some(rule) = Rule::parse(&get_string(&row, "rule")?) else {
            continue;
        };
        let holder = Holder {
            id: get_uuid(&row, "record_id")?,
            owner: get_uuid(&row, "owner_id")?,
            owner_team: get_opt_uuid(&row, "owner_team")?,
        };
        let list = out
            .entry((rule, get_string(&row, "matched_key")?))
            .or_default();
        if !list.contains(&holder) {
            list.push(holder);
        }
    }
    Ok(Some(out))
}

/// Why a save with these matches is refused, if it is: by the first match of a rule that blocks,
/// else, unless `allow_duplicate`, by the first match. A 409 `duplicate` naming the rule, the
/// entity and the match's owner, with the match's id when the actor may read it, and every match
/// (`matches`, as [`find`] gives them).
pub(crate) fn refusal(
    def: &EntityDef,
    matches: &[Match],
    allow_duplicate: bool,
) -> Option<CoreError> {
    let first = matches
        .iter()
        .find(|m| m.action == Action::Block)
        .or_else(|| matches.first().filter(|_| !allow_duplicate))?;
    let mut params = Params::new();
    params.insert("rule", Value::from(first.rule.as_str()));
    params.insert("action", Value::from(first.action.as_str()));
    params.insert("entity", Value::from(def.name));
    params.insert("owner", Value::from(first.owner_name.clone()));
    if let Some(id) = first.record_id {
        params.insert("record_id", Value::from(id.to_string()));
    }
    params.insert(
        "matches",
        serde_json::to_value(matches).unwrap_or(Value::Array(vec![])),
    );
    let hint = match first.action {
        Action::Block => "",
        Action::Warn => "; send allow_duplicate: true to save it anyway",
    };
    Some(CoreError::Conflict {
        code: codes::DUPLICATE,
        message: format!("another {} has the same {}{hint}", def.name, first.rule),
        params,
    })
}

/// The keys to look for, rule by rule (each rule once, in declaration order).
fn wanted(def: &EntityDef, rec: &JsonMap, compare: Compare<'_>) -> Vec<(Rule, Vec<String>)> {
    let mut out: Vec<(Rule, BTreeSet<String>)> = Vec::new();
    for d in def.dedupe {
        let mut ks = keys::of(def, d, rec);
        if let Compare::Added(stored) = compare {
            let had = keys::of(def, d, stored);
            ks.retain(|k| !had.contains(k));
        }
        match out.iter_mut().find(|(r, _)| *r == d.rule) {
            Some((_, all)) => all.extend(ks),
            None => out.push((d.rule, ks)),
        }
    }
    out.into_iter()
        .filter(|(_, ks)| !ks.is_empty())
        .map(|(r, ks)| (r, ks.into_iter().collect()))
        .collect()
}

/// A stored record found by a key, before what the actor may see of it is decided.
struct Found {
    id: Uuid,
    owner: Uuid,
    owner_name: String,
    owner_team: Option<Uuid>,
    rules: Vec<Rule>,
}

/// What a check compares and leaves out.
struct Ask<'a> {
    compare: Compare<'a>,
    /// The record being edited.
    exclude: Option<Uuid>,
    /// Whether the keys are locked until the transaction ends: a save's check (see
    /// [`lock_keys`]).
    lock: bool,
    /// Only the keys of these rules.
    only: Option<&'a [Rule]>,
}

async fn matches<C: ConnectionTrait>(
    conn: &C,
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    rec: &JsonMap,
    ask: Ask<'_>,
) -> CoreResult<Vec<Match>> {
    let mut wanted = wanted(def, rec, ask.compare);
    if let Some(only) = ask.only {
        wanted.retain(|(r, _)| only.contains(r));
    }
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    if ask.lock && db::backend_of(conn) == Backend::Postgres {
        lock_keys(conn, def, &wanted).await?;
    }
    let found = candidates(conn, def, &wanted, ask.exclude).await?;
    if found.is_empty() {
        return Ok(vec![]);
    }
    let actions = rules::actions_in(conn, def).await?;
    let action_of = |r: Rule| {
        actions
            .iter()
            .find(|(a, _)| *a == r)
            .map_or_else(|| r.default_action(), |(_, a)| *a)
    };
    let strength = |r: &Rule| {
        (
            action_of(*r) != Action::Block,
            Rule::ALL.iter().position(|a| a == r),
        )
    };
    let mut out: Vec<(Found, bool)> = found
        .into_iter()
        .map(|mut f| {
            f.rules.sort_by_key(strength);
            f.rules.dedup();
            let readable = actor.reaches(actor.grant(def.name).read, f.owner, f.owner_team);
            (f, readable)
        })
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        a.rules
            .first()
            .map(strength)
            .cmp(&b.rules.first().map(strength))
            .then(a.id.cmp(&b.id))
    });
    out.truncate(MAX_MATCHES);
    let readable: Vec<Uuid> = out.iter().filter(|(_, r)| *r).map(|(f, _)| f.id).collect();
    let mut shown: HashMap<Uuid, JsonMap> = HashMap::new();
    for r in core.records(def).live_in(conn, &readable).await? {
        if let Some(id) = r
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
        {
            shown.insert(id, r);
        }
    }
    Ok(out
        .into_iter()
        .filter_map(|(f, readable)| {
            let rule = *f.rules.first()?;
            let rec = if readable { shown.get(&f.id) } else { None };
            Some(Match {
                rule,
                action: action_of(rule),
                readable: rec.is_some(),
                record_id: rec.map(|_| f.id),
                title: rec.map(|r| (def.title)(r, &actor.locale)),
                fields: rec.map(|r| facts(def, &f.rules, r)),
                owner_name: f.owner_name,
                rules: f.rules,
            })
        })
        .collect())
}

/// The fields a match shows: those of the rules it matched, then the entity's key facts.
fn facts(def: &EntityDef, matched: &[Rule], rec: &JsonMap) -> JsonMap {
    let mut out = JsonMap::new();
    let names = def
        .dedupe
        .iter()
        .filter(|d| matched.contains(&d.rule))
        .flat_map(|d| d.fields.iter().copied())
        .chain(def.key_facts.iter().copied());
    for name in names {
        if out.contains_key(name) {
            continue;
        }
        let mut parts = name.split('.');
        let mut v = parts.next().and_then(|p| rec.get(p));
        for p in parts {
            v = v.and_then(|x| x.get(p));
        }
        out.insert(name.to_string(), v.cloned().unwrap_or(Value::Null));
    }
    out
}

/// On PostgreSQL, where saves run side by side, a save holds a lock on each key it checks
/// until it commits, so that two saves of the same new key cannot both find nothing. The locks
/// are taken in key order, so two saves never wait for each other in a circle. (SQLite has one
/// writer, which runs the check and the save of one record before the next.)
async fn lock_keys<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    wanted: &[(Rule, Vec<String>)],
) -> CoreResult<()> {
    let mut names: Vec<String> = wanted
        .iter()
        .flat_map(|(r, ks)| ks.iter().map(move |k| format!("{}:{r}:{k}", def.name)))
        .collect();
    names.sort();
    let rows: Vec<String> = (1..=names.len()).map(|i| format!("(${i})")).collect();
    // The first key of the pair names the lock space: "dedu" in ASCII.
    let sql = format!(
        "SELECT pg_advisory_xact_lock(1684366437, hashtext(k)) FROM (VALUES {}) AS v(k)",
        rows.join(", ")
    );
    db::raw_query(conn, &sql, names.into_iter().map(SqlValue::from).collect()).await?;
    Ok(())
}

/// The live records (but `exclude`) that hold one of the wanted keys, with their owners: one
/// statement, a part per rule, each part reading at most one more than [`MAX_MATCHES`] rows.
async fn candidates<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    wanted: &[(Rule, Vec<String>)],
    exclude: Option<Uuid>,
) -> CoreResult<Vec<Found>> {
    let mut parts = wanted.iter().enumerate().map(|(i, (rule, ks))| {
        let mut inner = part(def, *rule, ks, exclude, false);
        inner.limit(MAX_MATCHES as u64 + 1);
        let mut outer = Query::select();
        outer
            .column(Asterisk)
            .from_subquery(inner, Alias::new(format!("m{i}")));
        outer
    });
    let Some(mut q) = parts.next() else {
        return Ok(vec![]);
    };
    for p in parts {
        q.union(UnionType::All, p);
    }
    let mut out: Vec<Found> = Vec::new();
    for row in db::fetch_all(conn, &q).await? {
        let id = get_uuid(&row, "record_id")?;
        let Some(rule) = Rule::parse(&get_string(&row, "rule")?) else {
            continue;
        };
        match out.iter_mut().find(|f| f.id == id) {
            Some(f) => f.rules.push(rule),
            None => out.push(Found {
                id,
                owner: get_uuid(&row, "owner_id")?,
                owner_name: get_string(&row, "owner_name")?,
                owner_team: get_opt_uuid(&row, "owner_team")?,
                rules: vec![rule],
            }),
        }
    }
    Ok(out)
}

/// The records holding one of `keys` of `rule`, live and not `exclude`; with the key each holds
/// (`matched_key`) when `with_key`.
fn part(
    def: &EntityDef,
    rule: Rule,
    keys: &[String],
    exclude: Option<Uuid>,
    with_key: bool,
) -> SelectStatement {
    let (t, k, u) = (col(def.table), Alias::new("k"), Alias::new("u"));
    let mut q = Query::select();
    let key_column = match Store::of(rule) {
        Store::Keys => "key",
        Store::Points(_) => "value",
    };
    if with_key {
        q.expr_as(
            Expr::col((k.clone(), col(key_column))),
            Alias::new("matched_key"),
        );
    }
    match Store::of(rule) {
        Store::Keys => {
            q.from_as(col(keys::TABLE), k.clone())
                .and_where(Expr::col((k.clone(), col("entity"))).eq(def.name))
                .and_where(Expr::col((k.clone(), col("rule"))).eq(rule.as_str()))
                .and_where(Expr::col((k.clone(), col("key"))).is_in(keys.iter().cloned()));
        }
        Store::Points(kind) => {
            q.from_as(col("contact_points"), k.clone())
                .and_where(Expr::col((k.clone(), col("kind"))).eq(kind))
                .and_where(Expr::col((k.clone(), col("value"))).is_in(keys.iter().cloned()))
                .and_where(Expr::col((k.clone(), col("entity"))).eq(def.name));
        }
    }
    q.distinct()
        .expr_as(Expr::col((t.clone(), col("id"))), Alias::new("record_id"))
        .column((t.clone(), col("owner_id")))
        .expr_as(
            Expr::col((u.clone(), col("name"))),
            Alias::new("owner_name"),
        )
        .expr_as(
            Expr::col((u.clone(), col("team_id"))),
            Alias::new("owner_team"),
        )
        // A code, not input: the rule's name as a constant of the statement.
        .expr_as(
            Expr::cust(format!("'{}'", rule.as_str())),
            Alias::new("rule"),
        )
        .inner_join(
            t.clone(),
            Expr::col((t.clone(), col("id"))).equals((k.clone(), col("record_id"))),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            col("users"),
            u.clone(),
            Expr::col((u.clone(), col("id"))).equals((t.clone(), col("owner_id"))),
        )
        .and_where(Expr::col((t.clone(), col("deleted_at"))).is_null());
    if let Some(x) = exclude {
        q.and_where(Expr::col((t, col("id"))).ne(x));
    }
    q
}
