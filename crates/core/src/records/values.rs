//! Between a field's API form (JSON) and its columns: validation and normalization on the way in,
//! the canonical JSON on the way out. Both directions live here so they cannot drift apart.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use rust_decimal::Decimal;
use sea_orm::QueryResult;
use sea_orm::sea_query::Value as SqlValue;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::def::{ADDRESS_PARTS, FieldDef, FieldKind, Options};
use super::service::ts_string;
use super::{money, percent, sort_key};
use crate::db::{
    get_at, get_opt_bool, get_opt_date, get_opt_i64, get_opt_string, get_opt_ts, get_opt_uuid,
};
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

/// Whether a field keeps a collation key beside its value, in `<column>_sort`: sortable text
/// and long text, which lists order by pinyin ([`super::sort_key`]). Choices, web addresses and
/// tax ids are codes or ASCII and sort by their own column.
///
/// The key is one of the field's [`columns`], so every write stores it with the value; no
/// record's key is read out ([`from_row`] reads the value alone). A table whose entity declares
/// such a field needs the column: `schema::sort_key` in the migration that adds the field (on
/// PostgreSQL it is declared `COLLATE "C"`, so that the locale cannot reorder the keys), with an
/// index on (`<column>_sort`, id) if large lists sort by it.
pub fn has_sort_key(field: &FieldDef) -> bool {
    field.sortable
        && matches!(
            field.kind,
            FieldKind::Text { .. } | FieldKind::LongText { .. }
        )
}

/// The column of a field's collation key (see [`has_sort_key`]).
pub fn sort_key_column(column: &str) -> String {
    format!("{column}_sort")
}

/// The column names a field occupies, its value's first.
pub fn columns(field: &FieldDef) -> Vec<String> {
    if has_sort_key(field) {
        return vec![field.column.to_string(), sort_key_column(field.column)];
    }
    match field.kind {
        FieldKind::Money => vec![
            format!("{}_amount", field.column),
            format!("{}_currency", field.column),
        ],
        FieldKind::Address => ADDRESS_PARTS
            .iter()
            .map(|p| format!("{}_{p}", field.column))
            .collect(),
        FieldKind::Regarding => REGARDING_PARTS
            .iter()
            .map(|p| format!("{}_{p}", field.column))
            .collect(),
        _ => vec![field.column.to_string()],
    }
}

/// The parts of a "regarding" value, each in a column `<column>_<part>`.
pub const REGARDING_PARTS: [&str; 2] = ["entity", "id"];

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

/// Nothing, as people see it: null, an empty text or list, an object of nothings (an empty
/// address). What `required` refuses and what the audit trail does not count as a change.
pub fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(blank),
        _ => false,
    }
}

/// The locales an admin-edited label may be given in.
pub const LABEL_LOCALES: [&str; 2] = ["en", "zh-CN"];

fn id_value(v: &Value) -> Result<Value, FieldError> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
        Value::String(s) => {
            let id = uuid::Uuid::parse_str(s.trim())
                .map_err(|_| FieldError::not_parsed(codes::NOT_AN_ID, v))?;
            Ok(Value::String(id.to_string()))
        }
        _ => Err(FieldError::not_parsed(codes::NOT_AN_ID, v)),
    }
}

/// The longest option a choice accepts (custom options are at most 100 characters).
const MAX_OPTION_CHARS: usize = 100;

fn one_option(options: &Options, v: &Value) -> Result<String, FieldError> {
    let s = as_text(v, MAX_OPTION_CHARS)?;
    if s.is_empty() || options.contains(&s) {
        Ok(s)
    } else {
        Err(FieldError::not_one_of(&s, &options.codes()))
    }
}

/// An exact number with at most `scale` decimals, as an integer of 10^-scale units.
pub fn parse_decimal(v: &Value, scale: u32) -> Result<i64, FieldError> {
    let not_a_number = || FieldError::not_parsed(codes::NOT_A_NUMBER, v);
    let dec = match v {
        Value::Number(n) => n.to_string().parse::<Decimal>(),
        Value::String(s) => s.trim().replace([',', '_'], "").parse::<Decimal>(),
        _ => return Err(not_a_number()),
    }
    .map_err(|_| not_a_number())?;
    if dec.normalize().scale() > scale {
        return Err(FieldError::new(codes::TOO_MANY_DECIMAL_PLACES).with("max", scale));
    }
    let out_of_range = || {
        let bound = Decimal::new(i64::MAX, scale).trunc();
        FieldError::new(codes::OUT_OF_RANGE)
            .with("min", (-bound).to_string())
            .with("max", bound.to_string())
    };
    dec.checked_mul(Decimal::from(10_i64.pow(scale)))
        .and_then(|d| i64::try_from(d.trunc()).ok())
        .ok_or_else(out_of_range)
}

/// The API's form of a decimal: a JSON number, whole where it can be (3, 2.5).
pub fn decimal_json(units: i64, scale: u32) -> Value {
    let dec = Decimal::new(units, scale).normalize();
    serde_json::from_str(&dec.to_string()).unwrap_or(Value::Null)
}

/// Validates and normalizes one value of a field of `kind` into its canonical JSON (`Null` when
/// empty). Standard and custom fields both come through here.
pub fn canonical(kind: &FieldKind, v: &Value, settings: &Settings) -> Result<Value, FieldError> {
    let text = |s: String| {
        if s.is_empty() {
            Value::Null
        } else {
            Value::String(s)
        }
    };
    match kind {
        FieldKind::Text { max } | FieldKind::LongText { max } => Ok(text(as_text(v, *max)?)),
        FieldKind::Choice(options) => Ok(text(one_option(options, v)?)),
        FieldKind::MultiChoice(options) => {
            let items: Vec<Value> = match v {
                Value::Null => vec![],
                Value::Array(a) => a.clone(),
                // A form or a CSV cell: options separated by commas.
                Value::String(s) => s
                    .split([',', '，'])
                    .map(|p| Value::String(p.trim().to_string()))
                    .collect(),
                _ => return Err(FieldError::new(codes::NOT_A_LIST)),
            };
            if items.len() > MAX_LIST_ENTRIES * 10 {
                return Err(
                    FieldError::new(codes::TOO_MANY_ENTRIES).with("max", MAX_LIST_ENTRIES * 10)
                );
            }
            let mut out: Vec<Value> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let s = one_option(options, item).map_err(|e| e.in_entry(i + 1))?;
                let s = Value::String(s);
                if !blank(&s) && !out.contains(&s) {
                    out.push(s);
                }
            }
            Ok(Value::Array(out))
        }
        FieldKind::Decimal { scale } => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            _ => Ok(decimal_json(parse_decimal(v, *scale)?, *scale)),
        },
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
        FieldKind::DateTime => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => {
                let t = chrono::DateTime::parse_from_rfc3339(s.trim())
                    .map_err(|_| FieldError::not_parsed(codes::NOT_A_DATE_TIME, v))?;
                Ok(Value::String(crate::records::service::ts_string(
                    t.with_timezone(&chrono::Utc).trunc_subsecs(6),
                )))
            }
            _ => Err(FieldError::not_parsed(codes::NOT_A_DATE_TIME, v)),
        },
        FieldKind::Bool => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Null => Ok(Value::Bool(false)),
            // What forms and spreadsheets write for a box.
            Value::String(s) if matches!(s.trim(), "true" | "on" | "1") => Ok(Value::Bool(true)),
            Value::String(s) if matches!(s.trim(), "false" | "off" | "0" | "") => {
                Ok(Value::Bool(false))
            }
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
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => id_value(v),
        FieldKind::Regarding => match v {
            Value::Null => Ok(Value::Null),
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| !REGARDING_PARTS.contains(&k.as_str())) {
                    return Err(FieldError::new(codes::UNKNOWN_KEY).with("key", shown(k)));
                }
                let entity = as_text(o.get("entity").unwrap_or(&Value::Null), 64)
                    .map_err(|e| e.in_part("entity"))?;
                let id = id_value(o.get("id").unwrap_or(&Value::Null))?;
                match (entity.is_empty(), id.is_null()) {
                    (true, true) => Ok(Value::Null),
                    (false, false) => Ok(json!({"entity": entity, "id": id})),
                    (true, false) => Err(FieldError::new(codes::REQUIRED).in_part("entity")),
                    (false, true) => Err(FieldError::new(codes::REQUIRED).in_part("id")),
                }
            }
            _ => Err(FieldError::new(codes::NOT_AN_OBJECT)),
        },
        FieldKind::Duration => match v {
            Value::Null => Ok(Value::Null),
            Value::Number(n) => match n.as_i64() {
                Some(s) if s >= 0 => Ok(Value::from(s)),
                Some(_) => Err(FieldError::new(codes::OUT_OF_RANGE)
                    .with("min", 0)
                    .with("max", i64::MAX)),
                None => Err(FieldError::not_parsed(codes::NOT_A_WHOLE_NUMBER, v)),
            },
            _ => Err(FieldError::not_parsed(codes::NOT_A_WHOLE_NUMBER, v)),
        },
        FieldKind::Percent => match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            _ => Ok(percent::to_json(percent::parse(v)?)),
        },
        FieldKind::Labels { max } => {
            let mut out = serde_json::Map::new();
            match v {
                Value::Null => {}
                // One text for every locale, until someone words it in the other.
                Value::String(_) => {
                    let t = as_text(v, *max)?;
                    if !t.is_empty() {
                        for l in LABEL_LOCALES {
                            out.insert(l.to_string(), Value::String(t.clone()));
                        }
                    }
                }
                Value::Object(o) => {
                    for (k, item) in o {
                        let Some(locale) = LABEL_LOCALES.iter().find(|l| **l == k.as_str()) else {
                            return Err(FieldError::new(codes::UNKNOWN_KEY).with("key", shown(k)));
                        };
                        let t = as_text(item, *max).map_err(|e| e.in_part(locale))?;
                        if !t.is_empty() {
                            out.insert(k.clone(), Value::String(t));
                        }
                    }
                }
                _ => return Err(FieldError::new(codes::NOT_AN_OBJECT)),
            }
            Ok(if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            })
        }
    }
}

/// A label in `locale`, else in any other locale it was given in.
pub fn label_in(v: &Value, locale: &str) -> String {
    let Some(o) = v.as_object() else {
        return v.as_str().unwrap_or("").to_string();
    };
    o.get(locale)
        .or_else(|| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn uuid_value(v: Option<&Value>) -> SqlValue {
    SqlValue::Uuid(
        v.and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .map(Box::new),
    )
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The columns and values that store a canonical value.
pub fn to_columns(field: &FieldDef, v: &Value) -> Columns {
    let col = field.column.to_string();
    match &field.kind {
        FieldKind::Text { .. } | FieldKind::LongText { .. } if has_sort_key(field) => {
            let text = str_of(v);
            let key = sort_key_column(&col);
            vec![
                (col, text_value(text)),
                (key, text_value(&sort_key::key(text))),
            ]
        }
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => vec![(col, text_value(str_of(v)))],
        FieldKind::Int { .. } | FieldKind::Duration => vec![(col, SqlValue::BigInt(v.as_i64()))],
        FieldKind::Decimal { scale } => {
            vec![(col, SqlValue::BigInt(parse_decimal(v, *scale).ok()))]
        }
        FieldKind::Regarding => vec![
            (
                format!("{col}_entity"),
                text_value(v.get("entity").map(str_of).unwrap_or("")),
            ),
            (format!("{col}_id"), uuid_value(v.get("id"))),
        ],
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
        FieldKind::DateTime => vec![(
            col,
            SqlValue::ChronoDateTimeUtc(
                v.as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| Box::new(t.with_timezone(&chrono::Utc))),
            ),
        )],
        FieldKind::Bool => vec![(col, SqlValue::Bool(Some(v.as_bool().unwrap_or(false))))],
        FieldKind::Phones
        | FieldKind::Emails
        | FieldKind::StringList { .. }
        | FieldKind::MultiChoice(_) => {
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
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => {
            vec![(col, uuid_value(Some(v)))]
        }
        FieldKind::Percent => vec![(col, SqlValue::BigInt(percent::parse(v).ok()))],
        FieldKind::Labels { .. } => vec![(
            col,
            json_value(if v.is_null() {
                Value::Object(serde_json::Map::new())
            } else {
                v.clone()
            }),
        )],
    }
}

/// A date as SQLite stores it when that is the text a record shows (`2026-11-06`, as sqlx
/// writes a date): `Some(None)` for no date, `None` for anything else (decoded instead).
/// Parsing the text into a date only to print it again cost a board more than the rest of its
/// cards' values.
pub(super) fn stored_date(row: &SqliteRow, at: usize) -> Option<Option<&str>> {
    let text: Option<&str> = row.try_get(at).ok()?;
    let Some(t) = text else {
        return Some(None);
    };
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let real = i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .is_some();
    (shaped && real).then_some(Some(t))
}

/// An id as a record holds it. Written through a buffer rather than `Display`, which cost
/// three times as much: a board's cards hold a thousand ids.
pub fn id_json(id: uuid::Uuid) -> Value {
    Value::String(id.hyphenated().encode_lower(&mut [0; 36]).to_owned())
}

fn opt_text(s: String) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s)
    }
}

/// How many columns a field takes, in the order [`columns`] names them.
pub fn column_count(field: &FieldDef) -> usize {
    if has_sort_key(field) {
        return 2;
    }
    match field.kind {
        FieldKind::Money => 2,
        FieldKind::Address => ADDRESS_PARTS.len(),
        FieldKind::Regarding => REGARDING_PARTS.len(),
        _ => 1,
    }
}

/// Reads a field's canonical JSON from a row that selected its [`columns`] in order, the first
/// at position `at`.
pub fn from_row(field: &FieldDef, row: &QueryResult, at: usize) -> CoreResult<Value> {
    let col = field.column;
    Ok(match &field.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => opt_text(get_at(row, at, col)?),
        FieldKind::Int { .. } | FieldKind::Duration => get_at::<Option<i64>>(row, at, col)?
            .map(Value::from)
            .unwrap_or(Value::Null),
        FieldKind::Decimal { scale } => get_at::<Option<i64>>(row, at, col)?
            .map(|u| decimal_json(u, *scale))
            .unwrap_or(Value::Null),
        // REGARDING_PARTS: the entity, then the id.
        FieldKind::Regarding => match get_at::<Option<uuid::Uuid>>(row, at + 1, col)? {
            Some(id) => json!({
                "entity": get_at::<String>(row, at, col)?,
                "id": id_json(id),
            }),
            None => Value::Null,
        },
        // The amount, then the currency.
        FieldKind::Money => match get_at::<Option<i64>>(row, at, col)? {
            Some(minor) => money::to_json(minor, &get_at::<String>(row, at + 1, col)?),
            None => Value::Null,
        },
        FieldKind::Date => match row.try_as_sqlite_row().and_then(|r| stored_date(r, at)) {
            Some(text) => text
                .map(|t| Value::String(t.to_string()))
                .unwrap_or(Value::Null),
            None => get_at::<Option<NaiveDate>>(row, at, col)?
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .unwrap_or(Value::Null),
        },
        FieldKind::DateTime => get_at::<Option<DateTime<Utc>>>(row, at, col)?
            .map(|t| Value::String(ts_string(t)))
            .unwrap_or(Value::Null),
        FieldKind::Bool => Value::Bool(get_at(row, at, col)?),
        FieldKind::Phones
        | FieldKind::Emails
        | FieldKind::StringList { .. }
        | FieldKind::MultiChoice(_) => get_at(row, at, col)?,
        FieldKind::Address => {
            let mut o = serde_json::Map::new();
            for (i, part) in ADDRESS_PARTS.iter().enumerate() {
                o.insert(part.to_string(), opt_text(get_at(row, at + i, col)?));
            }
            Value::Object(o)
        }
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => {
            get_at::<Option<uuid::Uuid>>(row, at, col)?
                .map(id_json)
                .unwrap_or(Value::Null)
        }
        FieldKind::Percent => get_at::<Option<i64>>(row, at, col)?
            .map(percent::to_json)
            .unwrap_or(Value::Null),
        FieldKind::Labels { .. } => match get_at(row, at, col)? {
            Value::Object(o) if !o.is_empty() => Value::Object(o),
            _ => Value::Null,
        },
    })
}

/// The SQL type of the values a list sorts by. A keyset cursor carries the last row's value in
/// this type's JSON form and the next page binds it back as this type, so the seek compares like
/// with like: PostgreSQL refuses `date > text`, and SQLite compares values of different types by
/// type class alone (every number before every text), which drops or repeats rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortType {
    /// A JSON string.
    Text,
    /// A JSON integer: whole numbers, and money amounts in minor units.
    Int,
    /// `YYYY-MM-DD`.
    Date,
    Bool,
    /// An id in its hyphenated form.
    Uuid,
    /// RFC 3339, as the API shows instants.
    Timestamp,
}

/// What a list orders by for one sort: a real column, the type of its values, and whether it
/// holds NULLs (blanks), which need their own place in the order and their own way past a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortColumn {
    pub column: String,
    pub ty: SortType,
    pub nullable: bool,
}

/// The column a field sorts by, or `None` for kinds without one order: lists (phones, e-mails,
/// string lists) and addresses, which span columns. Text kinds store '' rather than NULL and
/// booleans false, so only numbers, money, dates and references hold NULLs. Money sorts by its
/// amount in minor units; across currencies that compares the numbers, not their worth.
/// Sortable text sorts by its collation key ([`has_sort_key`]): Chinese by pinyin, and the same
/// order on both backends. The key of blank text is '', so blanks still sort first.
pub fn sort_column(field: &FieldDef) -> Option<SortColumn> {
    let plain = |ty, nullable| {
        Some(SortColumn {
            column: field.column.to_string(),
            ty,
            nullable,
        })
    };
    if has_sort_key(field) {
        return Some(SortColumn {
            column: sort_key_column(field.column),
            ty: SortType::Text,
            nullable: false,
        });
    }
    match field.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => plain(SortType::Text, false),
        FieldKind::Int { .. }
        | FieldKind::Duration
        | FieldKind::Percent
        | FieldKind::Decimal { .. } => plain(SortType::Int, true),
        FieldKind::DateTime => plain(SortType::Timestamp, true),
        FieldKind::Money => Some(SortColumn {
            column: format!("{}_amount", field.column),
            ty: SortType::Int,
            nullable: true,
        }),
        FieldKind::Date => plain(SortType::Date, true),
        FieldKind::Bool => plain(SortType::Bool, false),
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => {
            plain(SortType::Uuid, true)
        }
        // A text per language has no one order; lists, addresses and "regarding" span values
        // or columns.
        FieldKind::Phones
        | FieldKind::Emails
        | FieldKind::StringList { .. }
        | FieldKind::MultiChoice(_)
        | FieldKind::Address
        | FieldKind::Regarding
        | FieldKind::Labels { .. } => None,
    }
}

impl SortColumn {
    /// A record's own instant (`created_at`, `updated_at`, `deleted_at` in the recycle bin,
    /// where it is always set).
    pub fn timestamp(column: &str) -> SortColumn {
        SortColumn {
            column: column.to_string(),
            ty: SortType::Timestamp,
            nullable: false,
        }
    }

    /// The row's sort value in the form a cursor carries it (`null` for NULL).
    pub fn read(&self, row: &QueryResult) -> CoreResult<Value> {
        let c = self.column.as_str();
        Ok(match self.ty {
            SortType::Text => get_opt_string(row, c)?.map(Value::String),
            SortType::Int => get_opt_i64(row, c)?.map(Value::from),
            SortType::Date => {
                get_opt_date(row, c)?.map(|d| json!(d.format("%Y-%m-%d").to_string()))
            }
            SortType::Bool => get_opt_bool(row, c)?.map(Value::Bool),
            SortType::Uuid => get_opt_uuid(row, c)?.map(|u| json!(u.to_string())),
            SortType::Timestamp => get_opt_ts(row, c)?.map(|t| json!(ts_string(t))),
        }
        .unwrap_or(Value::Null))
    }

    /// A cursor's sort value as the column's SQL type: `Ok(None)` for a blank, `Err` (why) when
    /// it does not fit, including a blank for a column that never holds one.
    pub fn bind(&self, v: &Value) -> Result<Option<SqlValue>, String> {
        if v.is_null() {
            return if self.nullable {
                Ok(None)
            } else {
                Err("a blank value, which this sort never has".into())
            };
        }
        let s = v.as_str();
        let bound = match self.ty {
            SortType::Text => s.map(text_value),
            SortType::Int => v.as_i64().map(|i| SqlValue::BigInt(Some(i))),
            SortType::Date => s
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map(|d| SqlValue::ChronoDate(Some(Box::new(d)))),
            SortType::Bool => v.as_bool().map(|b| SqlValue::Bool(Some(b))),
            SortType::Uuid => s
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .map(|u| SqlValue::Uuid(Some(Box::new(u)))),
            SortType::Timestamp => s
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| SqlValue::from(t.with_timezone(&Utc))),
        };
        bound
            .map(Some)
            .ok_or_else(|| format!("{v} is not {}", self.ty.what()))
    }
}

impl SortType {
    fn what(self) -> &'static str {
        match self {
            SortType::Text => "text",
            SortType::Int => "a whole number",
            SortType::Date => "a date (YYYY-MM-DD)",
            SortType::Bool => "true or false",
            SortType::Uuid => "an id",
            SortType::Timestamp => "an RFC 3339 instant",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_sorts_by_one_real_column_of_its_type() {
        let by = |kind| sort_column(&FieldDef::new("f", kind).column("c"));
        let col = |column: &str, ty, nullable| {
            Some(SortColumn {
                column: column.into(),
                ty,
                nullable,
            })
        };
        assert_eq!(
            by(FieldKind::Text { max: 9 }),
            col("c", SortType::Text, false)
        );
        assert_eq!(
            by(FieldKind::choice(&super::super::def::OptionSet {
                name: "test",
                codes: &["a"]
            })),
            col("c", SortType::Text, false)
        );
        assert_eq!(
            by(FieldKind::Int { min: 0, max: 9 }),
            col("c", SortType::Int, true)
        );
        // Money sorts by its amount column, not by the prefix its columns share.
        assert_eq!(by(FieldKind::Money), col("c_amount", SortType::Int, true));
        assert_eq!(by(FieldKind::Date), col("c", SortType::Date, true));
        assert_eq!(by(FieldKind::Bool), col("c", SortType::Bool, false));
        assert_eq!(
            by(FieldKind::Ref {
                table: "t",
                entity: "e"
            }),
            col("c", SortType::Uuid, true)
        );
        assert_eq!(by(FieldKind::Address), None);
        assert_eq!(by(FieldKind::Phones), None);
        // Sortable text sorts by its collation key; other text kinds by themselves.
        let sortable = |kind| sort_column(&FieldDef::new("f", kind).column("c").sortable());
        assert_eq!(
            sortable(FieldKind::Text { max: 9 }),
            col("c_sort", SortType::Text, false)
        );
        assert_eq!(
            sortable(FieldKind::LongText { max: 9 }),
            col("c_sort", SortType::Text, false)
        );
        assert_eq!(sortable(FieldKind::Url), col("c", SortType::Text, false));
        assert_eq!(sortable(FieldKind::TaxId), col("c", SortType::Text, false));
    }

    /// Every writer stores what [`columns`] names and readers select, in that order: for every
    /// field of every entity and child collection, the sort keys included.
    #[test]
    fn writes_store_the_columns_reads_select() {
        let settings = Settings::default();
        let registry = crate::areas::registry();
        let fields = registry.all().iter().flat_map(|def| {
            def.fields
                .iter()
                .chain(def.children.iter().flat_map(|c| c.fields.iter()))
        });
        let mut keys = 0;
        for f in fields {
            let v = canonical(&f.kind, &Value::Null, &settings).unwrap_or(Value::Null);
            let names: Vec<String> = to_columns(f, &v).into_iter().map(|(c, _)| c).collect();
            assert_eq!(names, columns(f), "{}", f.name);
            assert_eq!(column_count(f), names.len(), "{}", f.name);
            if has_sort_key(f) {
                keys += 1;
                assert_eq!(
                    sort_column(f).map(|s| s.column),
                    Some(format!("{}_sort", f.column))
                );
            }
        }
        assert!(keys > 0, "names sort by their keys");
    }

    #[test]
    fn a_sortable_text_stores_its_key_beside_it() {
        let f = FieldDef::new("name", FieldKind::Text { max: 200 }).sortable();
        let cols = to_columns(&f, &json!("北京"));
        assert_eq!(
            cols,
            vec![
                ("name".to_string(), text_value("北京")),
                ("name_sort".to_string(), text_value(&sort_key::key("北京"))),
            ]
        );
        // Blank text has a blank key, which sorts first as '' did.
        let blank = to_columns(&f, &Value::Null);
        assert_eq!(blank[1], ("name_sort".to_string(), text_value("")));
        // A field nobody sorts by has no key.
        let plain = FieldDef::new("note", FieldKind::Text { max: 200 });
        assert_eq!(columns(&plain), vec!["note".to_string()]);
    }

    #[test]
    fn a_cursor_value_binds_as_its_type_or_not_at_all() {
        let sc = |ty, nullable| SortColumn {
            column: "c".into(),
            ty,
            nullable,
        };
        let int = sc(SortType::Int, true);
        assert_eq!(int.bind(&json!(42)), Ok(Some(SqlValue::BigInt(Some(42)))));
        assert_eq!(int.bind(&Value::Null), Ok(None));
        assert!(int.bind(&json!("42")).is_err());
        assert!(int.bind(&json!(4.2)).is_err());
        let date = sc(SortType::Date, true);
        let d = NaiveDate::from_ymd_opt(1990, 5, 1).map(Box::new);
        assert_eq!(
            date.bind(&json!("1990-05-01")),
            Ok(Some(SqlValue::ChronoDate(d)))
        );
        assert!(date.bind(&json!("1990-13-01")).is_err());
        // Booleans and text are never blank: a blank in their cursor is not one of ours.
        let flag = sc(SortType::Bool, false);
        assert_eq!(
            flag.bind(&json!(true)),
            Ok(Some(SqlValue::Bool(Some(true))))
        );
        assert!(flag.bind(&Value::Null).is_err());
        assert!(flag.bind(&json!(1)).is_err());
        assert!(sc(SortType::Text, false).bind(&Value::Null).is_err());
        let id = uuid::Uuid::now_v7();
        assert_eq!(
            sc(SortType::Uuid, true).bind(&json!(id.to_string())),
            Ok(Some(SqlValue::Uuid(Some(Box::new(id)))))
        );
        assert!(sc(SortType::Uuid, true).bind(&json!("nope")).is_err());
        let ts = sc(SortType::Timestamp, false);
        assert!(ts.bind(&json!("2024-02-29T12:00:00.000001Z")).is_ok());
        assert!(ts.bind(&json!("2024-02-29")).is_err());
    }
}
