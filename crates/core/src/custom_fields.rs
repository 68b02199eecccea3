//! Admin-defined custom fields per entity: their definitions and the validation of their values,
//! which live in each record's `custom` JSON object.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, Db, col, get_bool, get_i64, get_json, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes, shown};
use crate::records::def::{FieldKind, Options};
use crate::records::values;
use crate::settings::Settings;

/// The kinds an administrator may give a field of their own: the kinds standard fields have
/// whose value is one JSON value. Phones, e-mails and addresses are left out: their standard
/// fields feed the phone and e-mail matching and the address columns, which a value inside the
/// `custom` object cannot.
pub const CUSTOM_KINDS: [&str; 16] = [
    "text",
    "long_text",
    "choice",
    "multi_choice",
    "int",
    "decimal",
    "percent",
    "money",
    "date",
    "date_time",
    "duration",
    "bool",
    "url",
    "ref",
    "user",
    "regarding",
];

/// Kind codes of earlier versions, still accepted on input.
fn current_code(code: &str) -> &str {
    match code {
        "number" => "decimal",
        "single_select" => "choice",
        "multi_select" => "multi_choice",
        "checkbox" => "bool",
        other => other,
    }
}

/// The longest custom text, and the longest custom long text.
const MAX_TEXT_CHARS: usize = 500;
const MAX_LONG_TEXT_CHARS: usize = 10_000;
/// Decimals a custom number keeps: enough for rates and measures, and for the floats that
/// earlier versions stored.
const DECIMAL_SCALE: u32 = 6;

/// The field kind of a custom field of kind `code`: `options` for the choices, `refers_to` the
/// entity a reference points at. `None` for a code that is not a custom kind, or a reference
/// without its entity.
pub fn kind_of(
    code: &str,
    options: &[String],
    refers_to: Option<&'static crate::EntityDef>,
) -> Option<FieldKind> {
    Some(match current_code(code) {
        "text" => FieldKind::Text {
            max: MAX_TEXT_CHARS,
        },
        "long_text" => FieldKind::LongText {
            max: MAX_LONG_TEXT_CHARS,
        },
        "choice" => FieldKind::Choice(Options::Listed(options.to_vec())),
        "multi_choice" => FieldKind::MultiChoice(Options::Listed(options.to_vec())),
        "int" => FieldKind::Int {
            min: -MAX_SAFE_INT,
            max: MAX_SAFE_INT,
        },
        "decimal" => FieldKind::Decimal {
            scale: DECIMAL_SCALE,
        },
        "percent" => FieldKind::Percent,
        "money" => FieldKind::Money,
        "date" => FieldKind::Date,
        "date_time" => FieldKind::DateTime,
        "duration" => FieldKind::Duration,
        "bool" => FieldKind::Bool,
        "url" => FieldKind::Url,
        "ref" => {
            let target = refers_to?;
            FieldKind::Ref {
                table: target.table,
                entity: target.name,
            }
        }
        "user" => FieldKind::User,
        "regarding" => FieldKind::Regarding,
        _ => return None,
    })
}

/// The largest whole number a custom integer holds: what a JSON reader keeps exactly.
const MAX_SAFE_INT: i64 = (1 << 53) - 1;

/// An administrator's field on one entity. Its value lives in the record's `custom` object and
/// is validated, shown, filtered and exported by its kind, as a standard field's is.
#[derive(Clone, Debug)]
pub struct CustomFieldDef {
    pub id: Uuid,
    pub entity: String,
    pub key: String,
    pub label_en: String,
    pub label_zh: String,
    pub kind: FieldKind,
    pub required: bool,
    pub position: i64,
    pub version: i64,
}

impl Serialize for CustomFieldDef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "id": self.id,
            "entity": self.entity,
            "key": self.key,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "kind": self.kind.code(),
            "options": self.options(),
            "refers_to": self.refers_to(),
            "required": self.required,
            "position": self.position,
            "version": self.version,
        })
        .serialize(s)
    }
}

impl CustomFieldDef {
    pub fn label(&self, locale: &str) -> &str {
        if locale.starts_with("zh") && !self.label_zh.is_empty() {
            &self.label_zh
        } else {
            &self.label_en
        }
    }

    /// The API name of the field: `custom.<key>`.
    pub fn path(&self) -> String {
        format!("custom.{}", self.key)
    }

    /// A choice field's options, in order; empty for other kinds.
    pub fn options(&self) -> Vec<&str> {
        match &self.kind {
            FieldKind::Choice(o) | FieldKind::MultiChoice(o) => o.codes(),
            _ => vec![],
        }
    }

    /// The entity a reference field points at.
    pub fn refers_to(&self) -> Option<&'static str> {
        match self.kind {
            FieldKind::Ref { entity, .. } => Some(entity),
            _ => None,
        }
    }

    /// Validates one value, returning its canonical JSON (`Null` for empty).
    pub fn canonical(&self, v: &Value, settings: &Settings) -> Result<Value, FieldError> {
        values::canonical(&self.kind, v, settings)
    }
}

/// Validates a `custom` object against the definitions. `current` is the stored object on update.
pub fn validate(
    defs: &[CustomFieldDef],
    input: Option<&Value>,
    current: Option<&serde_json::Map<String, Value>>,
    settings: &Settings,
    errors: &mut FieldErrors,
) -> serde_json::Map<String, Value> {
    let mut out = current.cloned().unwrap_or_default();
    // Drop values of fields that no longer exist, so a deleted definition leaves no residue.
    out.retain(|k, _| defs.iter().any(|d| &d.key == k));
    match input {
        None => {}
        Some(Value::Object(o)) => {
            for (k, v) in o {
                match defs.iter().find(|d| &d.key == k) {
                    None => {
                        errors.insert(format!("custom.{k}"), FieldError::new(codes::UNKNOWN_FIELD));
                    }
                    Some(def) => match def.canonical(v, settings) {
                        Ok(c) => {
                            out.insert(k.clone(), c);
                        }
                        Err(e) => {
                            errors.insert(format!("custom.{k}"), e);
                        }
                    },
                }
            }
        }
        Some(_) => {
            errors.insert("custom".into(), FieldError::new(codes::NOT_AN_OBJECT));
        }
    }
    for def in defs {
        let missing = match out.get(&def.key) {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if def.required && missing && !matches!(def.kind, FieldKind::Bool) {
            errors
                .entry(format!("custom.{}", def.key))
                .or_insert_with(|| FieldError::new(codes::REQUIRED));
        }
    }
    out.retain(|_, v| !values::blank(v));
    out
}

#[derive(Clone, Debug, Deserialize)]
pub struct CustomFieldInput {
    pub key: Option<String>,
    pub label_en: Option<String>,
    pub label_zh: Option<String>,
    pub kind: Option<String>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
    /// The entity a reference field points at (`account`).
    pub refers_to: Option<String>,
    pub position: Option<i64>,
}

const TABLE: &str = "custom_fields";

/// How long definitions read from the database serve the reads and writes of records before
/// they are read again. Every list, read and write needs its entity's definitions; asking the
/// database each time was a query per request. A change made through this process clears them
/// at once; one made through another instance (several servers on PostgreSQL) is seen within
/// this time.
const CACHE_TTL: Duration = Duration::from_secs(2);

/// Definitions per entity as last read, shared by everything that serves one database.
#[derive(Default)]
pub struct Cache {
    by_entity: Mutex<HashMap<String, (Instant, Vec<CustomFieldDef>)>>,
}

impl Cache {
    fn entries(&self) -> MutexGuard<'_, HashMap<String, (Instant, Vec<CustomFieldDef>)>> {
        // A panic while the map was held leaves nothing half-done worth refusing to read.
        self.by_entity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The definitions of `entity`, from the cache while fresh, else from the database.
    pub async fn of(&self, core: &crate::Core, entity: &str) -> CoreResult<Vec<CustomFieldDef>> {
        self.of_on(core.db.reader(), core.registry, entity).await
    }

    /// [`Self::of`], read on `conn` when not kept: a write reads them in its own transaction.
    /// On PostgreSQL reads and writes share one pool, and a write that asked the pool for a
    /// second connection while holding one waited for itself: fifty creates at once on a fresh
    /// start, each holding its transaction and asking for a reader, took every connection and
    /// failed after the pool's timeout.
    pub async fn of_on<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        registry: &crate::Registry,
        entity: &str,
    ) -> CoreResult<Vec<CustomFieldDef>> {
        if let Some((at, defs)) = self.entries().get(entity)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(defs.clone());
        }
        let defs = list(conn, registry, Some(entity)).await?;
        self.entries()
            .insert(entity.to_string(), (Instant::now(), defs.clone()));
        Ok(defs)
    }

    /// Forgets every entity's definitions: one changed.
    pub fn clear(&self) {
        self.entries().clear();
    }
}

/// A stored definition, or `None` (logged) for one this version cannot read: a kind it does not
/// know, or a reference to an entity it no longer has. Such a field's values stay stored and are
/// left out of reads, as a deleted field's are.
fn from_row(
    row: &sea_orm::QueryResult,
    registry: &crate::Registry,
) -> CoreResult<Option<CustomFieldDef>> {
    let code = get_string(row, "kind")?;
    let options: Vec<String> =
        serde_json::from_value(get_json(row, "options")?).unwrap_or_default();
    let refers_to = get_string(row, "refers_to")?;
    let key = get_string(row, "key")?;
    let Some(kind) = kind_of(&code, &options, registry.by_name(&refers_to)) else {
        tracing::warn!(
            key,
            code,
            refers_to,
            "custom field of a kind this version cannot read"
        );
        return Ok(None);
    };
    Ok(Some(CustomFieldDef {
        id: get_uuid(row, "id")?,
        entity: get_string(row, "entity")?,
        key,
        label_en: get_string(row, "label_en")?,
        label_zh: get_string(row, "label_zh")?,
        kind,
        required: get_bool(row, "required")?,
        position: get_i64(row, "position")?,
        version: get_i64(row, "version")?,
    }))
}

const COLUMNS: [&str; 11] = [
    "id",
    "entity",
    "key",
    "label_en",
    "label_zh",
    "kind",
    "required",
    "options",
    "refers_to",
    "position",
    "version",
];

/// The definitions of one entity (or all, with `None`), in display order.
pub async fn list<C: sea_orm::ConnectionTrait>(
    conn: &C,
    registry: &crate::Registry,
    entity: Option<&str>,
) -> CoreResult<Vec<CustomFieldDef>> {
    let mut q = Query::select();
    q.from(col(TABLE))
        .columns(COLUMNS.map(col))
        .order_by(col("entity"), Order::Asc)
        .order_by(col("position"), Order::Asc)
        .order_by(col("key"), Order::Asc);
    if let Some(e) = entity {
        q.and_where(Expr::col(col("entity")).eq(e));
    }
    let mut out = Vec::new();
    for row in db::fetch_all(conn, &q).await? {
        out.extend(from_row(&row, registry)?);
    }
    Ok(out)
}

pub async fn get(db: &Db, registry: &crate::Registry, id: Uuid) -> CoreResult<CustomFieldDef> {
    let mut q = Query::select();
    q.from(col(TABLE))
        .columns(COLUMNS.map(col))
        .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    from_row(&row, registry)?.ok_or(CoreError::NotFound)
}

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && k.len() <= MAX_KEY_CHARS
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The most options a select field has.
const MAX_OPTIONS: usize = 200;
/// The longest option, and the longest label.
const MAX_LABEL_CHARS: usize = 100;
/// The longest key.
const MAX_KEY_CHARS: usize = 40;

fn check_options(code: &str, options: &[String], errors: &mut FieldErrors) {
    let selects = matches!(code, "choice" | "multi_choice");
    if selects && options.is_empty() {
        errors.insert("options".into(), FieldError::new(codes::REQUIRED));
    }
    if options.len() > MAX_OPTIONS {
        errors.insert(
            "options".into(),
            FieldError::new(codes::TOO_MANY_ENTRIES).with("max", MAX_OPTIONS),
        );
        return;
    }
    for (i, o) in options.iter().enumerate() {
        let problem = if o.trim().is_empty() {
            Some(FieldError::new(codes::REQUIRED))
        } else if o.chars().count() > MAX_LABEL_CHARS {
            Some(FieldError::new(codes::TOO_LONG).with("max", MAX_LABEL_CHARS))
        } else {
            crate::normalize::check_name_chars(o).err()
        };
        if let Some(e) = problem {
            errors.insert("options".into(), e.in_entry(i + 1));
            return;
        }
    }
}

/// Labels, when given, are at most 100 characters without control characters (PostgreSQL
/// refuses NUL in text, which would otherwise surface as a 500).
fn check_labels(input: &CustomFieldInput, errors: &mut FieldErrors) {
    for (field, label) in [("label_en", &input.label_en), ("label_zh", &input.label_zh)] {
        if let Some(l) = label {
            if l.trim().chars().count() > MAX_LABEL_CHARS {
                errors.insert(
                    field.into(),
                    FieldError::new(codes::TOO_LONG).with("max", MAX_LABEL_CHARS),
                );
            } else if let Err(e) = crate::normalize::check_name_chars(l) {
                errors.insert(field.into(), e);
            }
        }
    }
}

fn require_admin(actor: &Actor) -> CoreResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(CoreError::forbidden(codes::ADMIN_ONLY))
    }
}

pub async fn create(
    core: &crate::Core,
    actor: &Actor,
    entity: &str,
    input: CustomFieldInput,
) -> CoreResult<CustomFieldDef> {
    require_admin(actor)?;
    let (db, registry) = (&core.db, core.registry);
    if registry.by_name(entity).is_none() {
        return Err(CoreError::field("entity", registry.not_an_entity(entity)));
    }
    let mut errors = FieldErrors::new();
    check_labels(&input, &mut errors);
    let key = input.key.unwrap_or_default().trim().to_string();
    if !valid_key(&key) {
        errors.insert(
            "key".into(),
            FieldError::new(codes::INVALID_KEY).with("max", MAX_KEY_CHARS),
        );
    }
    let crate_entity = registry.by_name(entity);
    if crate_entity.is_some_and(|e| e.field(&key).is_some())
        || crate::records::def::SYSTEM_FIELDS.contains(&key.as_str())
    {
        errors.insert(
            "key".into(),
            FieldError::new(codes::ALREADY_IN_USE).with("value", shown(&key)),
        );
    }
    let label_en = input.label_en.unwrap_or_default().trim().to_string();
    let label_zh = input.label_zh.unwrap_or_default().trim().to_string();
    if label_en.is_empty() && label_zh.is_empty() {
        errors.insert("label_en".into(), FieldError::new(codes::LABEL_REQUIRED));
    }
    let code = input.kind.as_deref().map(current_code).unwrap_or("");
    if !CUSTOM_KINDS.contains(&code) {
        errors.insert(
            "kind".into(),
            FieldError::not_one_of(input.kind.as_deref().unwrap_or(""), &CUSTOM_KINDS),
        );
    }
    let options: Vec<String> = if matches!(code, "choice" | "multi_choice") {
        input
            .options
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.trim().to_string())
            .collect()
    } else {
        vec![]
    };
    check_options(code, &options, &mut errors);
    let refers_to = if code == "ref" {
        let name = input.refers_to.as_deref().unwrap_or("").trim();
        let target = registry
            .by_name(name)
            .filter(|e| e.access == crate::records::def::Access::Records);
        if target.is_none() {
            let records: Vec<&str> = registry
                .all()
                .iter()
                .filter(|e| e.access == crate::records::def::Access::Records)
                .map(|e| e.name)
                .collect();
            errors.insert(
                "refers_to".into(),
                if name.is_empty() {
                    FieldError::new(codes::REQUIRED)
                } else {
                    FieldError::not_one_of(name, &records)
                },
            );
        }
        target
    } else {
        None
    };
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let txn = db.begin().await?;
    let existing = list(&txn, registry, Some(entity)).await?;
    if existing.iter().any(|d| d.key == key) {
        return Err(CoreError::field(
            "key",
            FieldError::new(codes::ALREADY_IN_USE).with("value", shown(&key)),
        ));
    }
    let id = Uuid::now_v7();
    let now = crate::now();
    let position = input.position.unwrap_or(existing.len() as i64 + 1);
    let mut q = Query::insert();
    q.into_table(col(TABLE))
        .columns(
            [
                "id",
                "entity",
                "key",
                "label_en",
                "label_zh",
                "kind",
                "required",
                "options",
                "refers_to",
                "position",
                "created_at",
                "updated_at",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            entity.into(),
            key.clone().into(),
            label_en.into(),
            label_zh.into(),
            code.into(),
            input.required.unwrap_or(false).into(),
            serde_json::json!(options).into(),
            refers_to.map(|e| e.name).unwrap_or("").into(),
            position.into(),
            now.into(),
            now.into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    core.custom_fields.clear();
    get(db, registry, id).await
}

pub async fn update(
    core: &crate::Core,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    input: CustomFieldInput,
) -> CoreResult<CustomFieldDef> {
    require_admin(actor)?;
    let (db, registry) = (&core.db, core.registry);
    let current = get(db, registry, id).await?;
    if let Some(v) = expected_version
        && v != current.version
    {
        return Err(CoreError::StaleVersion {
            current: current.version,
        });
    }
    let mut errors = FieldErrors::new();
    check_labels(&input, &mut errors);
    // Stored values follow the key and the kind: changing either is a new field.
    if input.key.as_ref().is_some_and(|k| k != &current.key) {
        errors.insert("key".into(), FieldError::new(codes::READ_ONLY));
    }
    let code = current.kind.code();
    if input
        .kind
        .as_deref()
        .is_some_and(|k| current_code(k) != code)
    {
        errors.insert("kind".into(), FieldError::new(codes::READ_ONLY));
    }
    if input
        .refers_to
        .as_deref()
        .is_some_and(|r| Some(r) != current.refers_to())
    {
        errors.insert("refers_to".into(), FieldError::new(codes::READ_ONLY));
    }
    let options: Vec<String> = match input.options.clone() {
        Some(o) if matches!(code, "choice" | "multi_choice") => {
            o.into_iter().map(|o| o.trim().to_string()).collect()
        }
        _ => current.options().into_iter().map(String::from).collect(),
    };
    check_options(code, &options, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let mut q = Query::update();
    q.table(col(TABLE))
        .value(
            col("label_en"),
            input
                .label_en
                .unwrap_or(current.label_en)
                .trim()
                .to_string(),
        )
        .value(
            col("label_zh"),
            input
                .label_zh
                .unwrap_or(current.label_zh)
                .trim()
                .to_string(),
        )
        .value(col("required"), input.required.unwrap_or(current.required))
        .value(col("options"), serde_json::json!(options))
        .value(col("position"), input.position.unwrap_or(current.position))
        .value(col("updated_at"), crate::now())
        .value(col("version"), current.version + 1)
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("version")).eq(current.version));
    let txn = db.begin().await?;
    if db::update(&txn, &q).await? == 0 {
        return Err(CoreError::StaleVersion {
            current: current.version + 1,
        });
    }
    txn.commit().await?;
    core.custom_fields.clear();
    get(db, registry, id).await
}

/// Removes a definition. Stored values stay in the records' JSON, are left out of every read
/// (`RecordService::present`) and are dropped on each record's next write.
pub async fn delete(core: &crate::Core, actor: &Actor, id: Uuid) -> CoreResult<()> {
    require_admin(actor)?;
    let (db, registry) = (&core.db, core.registry);
    get(db, registry, id).await?;
    let mut q = Query::delete();
    q.from_table(col(TABLE))
        .and_where(Expr::col(col("id")).eq(id));
    let txn = db.begin().await?;
    db::delete(&txn, &q).await?;
    txn.commit().await?;
    core.custom_fields.clear();
    Ok(())
}
