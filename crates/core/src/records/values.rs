//! Between a field's API form (JSON) and its columns: validation and normalization on the way in,
//! the canonical JSON on the way out. Both directions live here so they cannot drift apart.

use chrono::NaiveDate;
use sea_orm::QueryResult;
use sea_orm::sea_query::Value as SqlValue;
use serde_json::{Value, json};

use super::def::{ADDRESS_PARTS, FieldDef, FieldKind};
use super::money;
use crate::db::{get_bool, get_json, get_opt_date, get_opt_i64, get_opt_uuid, get_string};
use crate::error::{CoreResult, FieldError, codes, shown};
use crate::normalize;
use crate::settings::Settings;

pub type Columns = Vec<(String, SqlValue)>;

fn text_value(s: &str) -> SqlValue {
    SqlValue::String(Some(Box::new(s.to_string())))
}

fn json_value(v: Value) -> SqlValue {
    SqlValue::Json(Some(Box::new(v)))
}

/// The column names a field occupies.
pub fn columns(field: &FieldDef) -> Vec<String> {
    match field.kind {
        FieldKind::Money => vec![
            format!("{}_amount", field.column),
            format!("{}_currency", field.column),
        ],
        FieldKind::Address => ADDRESS_PARTS
            .iter()
            .map(|p| format!("{}_{p}", field.column))
            .collect(),
        _ => vec![field.column.to_string()],
    }
}

fn as_text(v: &Value, max: usize) -> Result<String, FieldError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => {
            let t = s.trim();
            if t.chars().count() > max {
                Err(FieldError::new(codes::TOO_LONG).with("max", max))
            } else {
                normalize::check_chars(t, true)?;
                Ok(t.to_string())
            }
        }
        _ => Err(FieldError::new(codes::NOT_A_STRING)),
    }
}

/// The most entries a list of phones or e-mail addresses holds.
const MAX_LIST_ENTRIES: usize = 20;
/// The longest label of a phone or e-mail entry.
const MAX_LABEL_CHARS: usize = 32;
/// The longest part of an address.
const MAX_ADDRESS_PART_CHARS: usize = 200;

/// The entries of a list of `{key, "label"}` objects (or bare strings), with their position from
/// 1 for errors about one of them.
fn labelled_list<'a>(
    v: &'a Value,
    key: &'static str,
) -> Result<Vec<(usize, &'a Value, String)>, FieldError> {
    let items = match v {
        Value::Null => return Ok(vec![]),
        Value::Array(items) => items,
        _ => return Err(FieldError::new(codes::NOT_A_LIST)),
    };
    if items.len() > MAX_LIST_ENTRIES {
        return Err(FieldError::new(codes::TOO_MANY_ENTRIES).with("max", MAX_LIST_ENTRIES));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        match item {
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| *k != key && *k != "label") {
                    return Err(FieldError::new(codes::UNKNOWN_KEY)
                        .with("key", shown(k))
                        .in_entry(n));
                }
                let label = as_text(o.get("label").unwrap_or(&Value::Null), MAX_LABEL_CHARS)
                    .map_err(|e| e.in_part("label").in_entry(n))?;
                out.push((n, o.get(key).unwrap_or(&Value::Null), label));
            }
            Value::String(_) => out.push((n, item, String::new())),
            _ => return Err(FieldError::new(codes::NOT_AN_OBJECT).in_entry(n)),
        }
    }
    Ok(out)
}

/// Validates and normalizes one field's input into its canonical JSON (`Null` when empty).
pub fn canonical(field: &FieldDef, v: &Value, settings: &Settings) -> Result<Value, FieldError> {
    let text = |s: String| {
        if s.is_empty() {
            Value::Null
        } else {
            Value::String(s)
        }
    };
    match &field.kind {
        FieldKind::Text { max } | FieldKind::LongText { max } => Ok(text(as_text(v, *max)?)),
        FieldKind::Choice(options) => {
            let s = as_text(v, 64)?;
            if s.is_empty() || options.contains(&s.as_str()) {
                Ok(text(s))
            } else {
                Err(FieldError::not_one_of(&s, options))
            }
        }
        FieldKind::Int { min, max } => {
            let out_of_range = || {
                FieldError::new(codes::OUT_OF_RANGE)
                    .with("min", *min)
                    .with("max", *max)
            };
            let n = match v {
                Value::Null => return Ok(Value::Null),
                Value::String(s) if s.trim().is_empty() => return Ok(Value::Null),
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(i) if i >= *min && i <= *max => Ok(Value::from(i)),
                Some(_) => Err(out_of_range()),
                None => Err(FieldError::not_parsed(codes::NOT_A_WHOLE_NUMBER, v)),
            }
        }
        FieldKind::Money => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            _ => {
                let (minor, currency) = money::parse(v, &settings.default_currency)?;
                Ok(money::to_json(minor, &currency))
            }
        },
        FieldKind::Date => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => {
                let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| FieldError::not_parsed(codes::NOT_A_DATE, v))?;
                Ok(Value::String(d.format("%Y-%m-%d").to_string()))
            }
            _ => Err(FieldError::not_parsed(codes::NOT_A_DATE, v)),
        },
        FieldKind::Bool => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Null => Ok(Value::Bool(false)),
            _ => Err(FieldError::new(codes::NOT_A_BOOLEAN)),
        },
        FieldKind::Url => {
            let s = as_text(v, 500)?;
            if !s.is_empty() {
                normalize::domain_of_website(&s)?;
            }
            Ok(text(s))
        }
        FieldKind::TaxId => {
            let s = as_text(v, 32)?;
            Ok(text(if s.is_empty() {
                s
            } else {
                normalize::tax_id(&s)?
            }))
        }
        FieldKind::Phones => {
            let mut out = Vec::new();
            for (n, number, label) in labelled_list(v, "number")? {
                let raw = number
                    .as_str()
                    .ok_or_else(|| FieldError::new(codes::NOT_A_STRING).in_entry(n))?;
                let e164 = normalize::phone_e164(raw, &settings.default_region)
                    .map_err(|e| e.in_entry(n))?;
                out.push(json!({"number": e164, "label": label}));
            }
            Ok(Value::Array(out))
        }
        FieldKind::Emails => {
            let mut out = Vec::new();
            for (n, address, label) in labelled_list(v, "address")? {
                let raw = address
                    .as_str()
                    .ok_or_else(|| FieldError::new(codes::NOT_A_STRING).in_entry(n))?;
                let e = normalize::email(raw).map_err(|e| e.in_entry(n))?;
                out.push(json!({"address": e, "label": label}));
            }
            Ok(Value::Array(out))
        }
        FieldKind::StringList { max_items, max_len } => {
            let items = match v {
                Value::Null => vec![],
                Value::Array(a) => a.clone(),
                _ => return Err(FieldError::new(codes::NOT_A_LIST)),
            };
            if items.len() > *max_items {
                return Err(FieldError::new(codes::TOO_MANY_ENTRIES).with("max", *max_items));
            }
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let s = as_text(item, *max_len).map_err(|e| e.in_entry(i + 1))?;
                if !s.is_empty() {
                    out.push(Value::String(s));
                }
            }
            Ok(Value::Array(out))
        }
        FieldKind::Address => {
            let obj = match v {
                Value::Null => serde_json::Map::new(),
                Value::Object(o) => o.clone(),
                _ => return Err(FieldError::new(codes::NOT_AN_OBJECT)),
            };
            if let Some(k) = obj.keys().find(|k| !ADDRESS_PARTS.contains(&k.as_str())) {
                return Err(FieldError::new(codes::UNKNOWN_KEY).with("key", shown(k)));
            }
            let mut out = serde_json::Map::new();
            for part in ADDRESS_PARTS {
                let s = as_text(
                    obj.get(part).unwrap_or(&Value::Null),
                    MAX_ADDRESS_PART_CHARS,
                )
                .map_err(|e| e.in_part(part))?;
                out.insert(part.to_string(), text(s));
            }
            Ok(Value::Object(out))
        }
        FieldKind::Ref { .. } => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => {
                let id = uuid::Uuid::parse_str(s.trim())
                    .map_err(|_| FieldError::not_parsed(codes::NOT_AN_ID, v))?;
                Ok(Value::String(id.to_string()))
            }
            _ => Err(FieldError::not_parsed(codes::NOT_AN_ID, v)),
        },
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The columns and values that store a canonical value.
pub fn to_columns(field: &FieldDef, v: &Value) -> Columns {
    let col = field.column.to_string();
    match &field.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => vec![(col, text_value(str_of(v)))],
        FieldKind::Int { .. } => vec![(col, SqlValue::BigInt(v.as_i64()))],
        FieldKind::Money => {
            let minor = v.get("amount").and_then(|a| a.as_str()).and_then(|a| {
                let cur = str_of(v.get("currency").unwrap_or(&Value::Null));
                money::parse_amount(a, cur).ok()
            });
            let currency = v.get("currency").map(str_of).unwrap_or("");
            vec![
                (format!("{col}_amount"), SqlValue::BigInt(minor)),
                (format!("{col}_currency"), text_value(currency)),
            ]
        }
        FieldKind::Date => vec![(
            col,
            SqlValue::ChronoDate(
                v.as_str()
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                    .map(Box::new),
            ),
        )],
        FieldKind::Bool => vec![(col, SqlValue::Bool(Some(v.as_bool().unwrap_or(false))))],
        FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => {
            vec![(
                col,
                json_value(if v.is_null() {
                    Value::Array(vec![])
                } else {
                    v.clone()
                }),
            )]
        }
        FieldKind::Address => ADDRESS_PARTS
            .iter()
            .map(|p| {
                (
                    format!("{col}_{p}"),
                    text_value(v.get(*p).map(str_of).unwrap_or("")),
                )
            })
            .collect(),
        FieldKind::Ref { .. } => vec![(
            col,
            SqlValue::Uuid(
                v.as_str()
                    .and_then(|s| uuid::Uuid::parse_str(s).ok())
                    .map(Box::new),
            ),
        )],
    }
}

fn opt_text(s: String) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s)
    }
}

/// Reads a field's canonical JSON from a row that selected its columns.
pub fn from_row(field: &FieldDef, row: &QueryResult) -> CoreResult<Value> {
    let col = field.column;
    Ok(match &field.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => opt_text(get_string(row, col)?),
        FieldKind::Int { .. } => get_opt_i64(row, col)?
            .map(Value::from)
            .unwrap_or(Value::Null),
        FieldKind::Money => match get_opt_i64(row, &format!("{col}_amount"))? {
            Some(minor) => money::to_json(minor, &get_string(row, &format!("{col}_currency"))?),
            None => Value::Null,
        },
        FieldKind::Date => get_opt_date(row, col)?
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .unwrap_or(Value::Null),
        FieldKind::Bool => Value::Bool(get_bool(row, col)?),
        FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => get_json(row, col)?,
        FieldKind::Address => {
            let mut o = serde_json::Map::new();
            for part in ADDRESS_PARTS {
                o.insert(
                    part.to_string(),
                    opt_text(get_string(row, &format!("{col}_{part}"))?),
                );
            }
            Value::Object(o)
        }
        FieldKind::Ref { .. } => get_opt_uuid(row, col)?
            .map(|u| Value::String(u.to_string()))
            .unwrap_or(Value::Null),
    })
}
