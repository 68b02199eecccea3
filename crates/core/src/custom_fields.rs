//! Admin-defined custom fields per entity: their definitions and the validation of their values,
//! which live in each record's `custom` JSON object.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, Db, col, get_bool, get_i64, get_json, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes, shown};
use crate::records::money;
use crate::settings::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomKind {
    Text,
    LongText,
    Number,
    Money,
    Date,
    SingleSelect,
    MultiSelect,
    Checkbox,
}

impl CustomKind {
    pub const ALL: [CustomKind; 8] = [
        CustomKind::Text,
        CustomKind::LongText,
        CustomKind::Number,
        CustomKind::Money,
        CustomKind::Date,
        CustomKind::SingleSelect,
        CustomKind::MultiSelect,
        CustomKind::Checkbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CustomKind::Text => "text",
            CustomKind::LongText => "long_text",
            CustomKind::Number => "number",
            CustomKind::Money => "money",
            CustomKind::Date => "date",
            CustomKind::SingleSelect => "single_select",
            CustomKind::MultiSelect => "multi_select",
            CustomKind::Checkbox => "checkbox",
        }
    }

    pub fn parse(s: &str) -> Option<CustomKind> {
        CustomKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomFieldDef {
    pub id: Uuid,
    pub entity: String,
    pub key: String,
    pub label_en: String,
    pub label_zh: String,
    pub kind: CustomKind,
    pub required: bool,
    pub options: Vec<String>,
    pub position: i64,
    pub version: i64,
}

impl CustomFieldDef {
    pub fn label(&self, locale: &str) -> &str {
        if locale.starts_with("zh") && !self.label_zh.is_empty() {
            &self.label_zh
        } else {
            &self.label_en
        }
    }

    /// Validates one value, returning its canonical JSON (`Null` for empty).
    pub fn canonical(&self, v: &Value, settings: &Settings) -> Result<Value, FieldError> {
        let empty = match v {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if empty {
            return Ok(match self.kind {
                CustomKind::Checkbox => Value::Bool(false),
                _ => Value::Null,
            });
        }
        match self.kind {
            CustomKind::Text | CustomKind::LongText => {
                let max = if self.kind == CustomKind::Text {
                    500
                } else {
                    10_000
                };
                let s = v
                    .as_str()
                    .ok_or(FieldError::new(codes::NOT_A_STRING))?
                    .trim();
                if s.chars().count() > max {
                    return Err(FieldError::new(codes::TOO_LONG).with("max", max));
                }
                crate::normalize::check_chars(s, true)?;
                Ok(Value::String(s.to_string()))
            }
            CustomKind::Number => {
                let n = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                }
                .filter(|f| f.is_finite())
                .ok_or_else(|| FieldError::not_parsed(codes::NOT_A_NUMBER, v))?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| FieldError::not_parsed(codes::NOT_A_NUMBER, v))
            }
            CustomKind::Money => {
                let (minor, cur) = money::parse(v, &settings.default_currency)?;
                Ok(money::to_json(minor, &cur))
            }
            CustomKind::Date => {
                let not_a_date = || FieldError::not_parsed(codes::NOT_A_DATE, v);
                let s = v.as_str().ok_or_else(not_a_date)?;
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| not_a_date())?;
                Ok(Value::String(s.trim().to_string()))
            }
            CustomKind::SingleSelect => {
                let s = v
                    .as_str()
                    .ok_or(FieldError::new(codes::NOT_A_STRING))?
                    .trim();
                if self.options.iter().any(|o| o == s) {
                    Ok(Value::String(s.to_string()))
                } else {
                    Err(FieldError::not_one_of(s, &self.options))
                }
            }
            CustomKind::MultiSelect => {
                let items: Vec<String> = match v {
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(i, x)| {
                            x.as_str()
                                .map(|s| s.trim().to_string())
                                .ok_or_else(|| FieldError::new(codes::NOT_A_STRING).in_entry(i + 1))
                        })
                        .collect::<Result<_, _>>()?,
                    Value::String(s) => s
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect(),
                    _ => return Err(FieldError::new(codes::NOT_A_LIST)),
                };
                let mut out: Vec<String> = Vec::new();
                for item in items {
                    if !self.options.contains(&item) {
                        return Err(FieldError::not_one_of(&item, &self.options));
                    }
                    if !out.contains(&item) {
                        out.push(item);
                    }
                }
                Ok(Value::Array(out.into_iter().map(Value::String).collect()))
            }
            CustomKind::Checkbox => match v {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(s) if s == "true" || s == "on" || s == "1" => Ok(Value::Bool(true)),
                Value::String(s) if s == "false" || s == "off" || s == "0" => {
                    Ok(Value::Bool(false))
                }
                _ => Err(FieldError::new(codes::NOT_A_BOOLEAN)),
            },
        }
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
        if def.required && missing && def.kind != CustomKind::Checkbox {
            errors
                .entry(format!("custom.{}", def.key))
                .or_insert_with(|| FieldError::new(codes::REQUIRED));
        }
    }
    out.retain(|_, v| !v.is_null());
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
    pub position: Option<i64>,
}

const TABLE: &str = "custom_fields";

fn from_row(row: &sea_orm::QueryResult) -> CoreResult<CustomFieldDef> {
    let kind_s = get_string(row, "kind")?;
    let options = get_json(row, "options")?;
    Ok(CustomFieldDef {
        id: get_uuid(row, "id")?,
        entity: get_string(row, "entity")?,
        key: get_string(row, "key")?,
        label_en: get_string(row, "label_en")?,
        label_zh: get_string(row, "label_zh")?,
        kind: CustomKind::parse(&kind_s)
            .ok_or_else(|| CoreError::Internal(format!("bad custom kind {kind_s}")))?,
        required: get_bool(row, "required")?,
        options: serde_json::from_value(options).unwrap_or_default(),
        position: get_i64(row, "position")?,
        version: get_i64(row, "version")?,
    })
}

const COLUMNS: [&str; 10] = [
    "id", "entity", "key", "label_en", "label_zh", "kind", "required", "options", "position",
    "version",
];

/// The definitions of one entity (or all, with `None`), in display order.
pub async fn list<C: sea_orm::ConnectionTrait>(
    conn: &C,
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
    db::fetch_all(conn, &q)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn get(db: &Db, id: Uuid) -> CoreResult<CustomFieldDef> {
    let mut q = Query::select();
    q.from(col(TABLE))
        .columns(COLUMNS.map(col))
        .and_where(Expr::col(col("id")).eq(id));
    let row = db::fetch_one(db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    from_row(&row)
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

fn check_options(kind: CustomKind, options: &[String], errors: &mut FieldErrors) {
    let selects = matches!(kind, CustomKind::SingleSelect | CustomKind::MultiSelect);
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
    db: &Db,
    registry: &crate::Registry,
    actor: &Actor,
    entity: &str,
    input: CustomFieldInput,
) -> CoreResult<CustomFieldDef> {
    require_admin(actor)?;
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
    let kind = match input.kind.as_deref().and_then(CustomKind::parse) {
        Some(k) => k,
        None => {
            let names: Vec<&str> = CustomKind::ALL.iter().map(|k| k.as_str()).collect();
            errors.insert(
                "kind".into(),
                FieldError::not_one_of(input.kind.as_deref().unwrap_or(""), &names),
            );
            CustomKind::Text
        }
    };
    let options: Vec<String> = input
        .options
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.trim().to_string())
        .collect();
    check_options(kind, &options, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let txn = db.begin().await?;
    let existing = list(&txn, Some(entity)).await?;
    if existing.iter().any(|d| d.key == key) {
        return Err(CoreError::field(
            "key",
            FieldError::new(codes::ALREADY_IN_USE).with("value", shown(&key)),
        ));
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
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
            kind.as_str().into(),
            input.required.unwrap_or(false).into(),
            serde_json::json!(options).into(),
            position.into(),
            now.into(),
            now.into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    get(db, id).await
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    input: CustomFieldInput,
) -> CoreResult<CustomFieldDef> {
    require_admin(actor)?;
    let current = get(db, id).await?;
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
    if input
        .kind
        .as_ref()
        .is_some_and(|k| k != current.kind.as_str())
    {
        errors.insert("kind".into(), FieldError::new(codes::READ_ONLY));
    }
    let options = input.options.clone().unwrap_or(current.options.clone());
    check_options(current.kind, &options, &mut errors);
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
        .value(col("updated_at"), Utc::now())
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
    get(db, id).await
}

/// Removes a definition. Stored values stay in the records' JSON, are left out of every read
/// (`RecordService::present`) and are dropped on each record's next write.
pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    require_admin(actor)?;
    get(db, id).await?;
    let mut q = Query::delete();
    q.from_table(col(TABLE))
        .and_where(Expr::col(col("id")).eq(id));
    let txn = db.begin().await?;
    db::delete(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}
