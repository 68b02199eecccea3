//! A file's row made the record the API would take (see [`super::run`]): list fields take every
//! column mapped to them and every value of a cell that holds several; a whole name is split;
//! dates are read with the column's format; owners and users are found by name or e-mail;
//! references given by name are kept to be found (or made) when the row is written.

use std::collections::HashMap;

use serde_json::{Value, json};
use uuid::Uuid;

use super::keys::Keyed;
use super::mapping::{Plan, TargetKind};
use super::run::RowError;
use super::{labels_back, names};
use crate::Core;
use crate::authz::Actor;
use crate::error::{CoreResult, FieldError, codes};
use crate::identity::users;
use crate::records::JsonMap;
use crate::records::def::{EntityDef, FieldKind};

/// A reference given by name, found (or made) when the row is written.
#[derive(Clone)]
pub(super) struct NamedRef {
    /// Where its id goes: a field, or `custom.<key>`.
    pub(super) key: String,
    pub(super) entity: &'static EntityDef,
    pub(super) name: String,
    pub(super) column: String,
}

/// A row made ready for the engine.
#[derive(Clone)]
pub(super) struct Prepared {
    pub(super) line: u64,
    pub(super) input: JsonMap,
    pub(super) refs: Vec<NamedRef>,
    pub(super) values: Vec<String>,
    pub(super) errors: Vec<RowError>,
    /// The row's natural keys, once the run has worked them out: the look-ahead and the row's
    /// write both need them, and working them out parses the row's phones.
    pub(super) keys: Option<Keyed>,
}

/// The users the owner and user columns name, by e-mail and by name.
pub(super) struct People {
    by_email: HashMap<String, Uuid>,
    by_name: HashMap<String, Vec<Uuid>>,
}

impl People {
    pub(super) async fn load(core: &Core) -> CoreResult<People> {
        let mut by_email = HashMap::new();
        let mut by_name: HashMap<String, Vec<Uuid>> = HashMap::new();
        for u in users::list(&core.db).await?.iter() {
            if u.disabled {
                continue;
            }
            by_email.insert(u.email.trim().to_lowercase(), u.id);
            by_name
                .entry(u.name.trim().to_string())
                .or_default()
                .push(u.id);
        }
        Ok(People { by_email, by_name })
    }

    fn find(&self, text: &str) -> Result<Uuid, FieldError> {
        let t = text.trim();
        if let Ok(id) = Uuid::parse_str(t) {
            return Ok(id);
        }
        if let Some(id) = self.by_email.get(&t.to_lowercase()) {
            return Ok(*id);
        }
        match self.by_name.get(t).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some([_, _, ..]) => {
                Err(FieldError::new(codes::IMPORT_AMBIGUOUS_USER).with("value", t.to_string()))
            }
            _ => Err(FieldError::new(codes::IMPORT_NO_SUCH_USER).with("value", t.to_string())),
        }
    }
}

/// Splits a cell that holds several values of a list (phones, e-mails): `138…; 139…`,
/// `a@x.cn，b@y.cn`, one per line.
pub(super) fn several(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', '，', ';', '；', '、', '\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Date formats tried when a column names none: ISO, and what spreadsheets in China write.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"];

/// A date cell as the API takes it (`2026-03-15`), read with the column's format or, without
/// one, any of [`DATE_FORMATS`]; `None` when it does not read.
pub(super) fn date_text(v: &str, format: Option<&str>) -> Option<String> {
    let v = v.trim();
    let day = |f: &str| chrono::NaiveDate::parse_from_str(v, f).ok();
    let found = match format {
        // A workbook's date cells read as ISO dates whatever the column's format.
        Some(f) => day(f).or_else(|| day("%Y-%m-%d")),
        None => DATE_FORMATS.iter().find_map(|f| day(f)),
    };
    found.map(|d| d.format("%Y-%m-%d").to_string())
}

/// A date-time cell as the API takes it (an instant), read in `zone` with the column's format
/// or, without one, the usual ones; `None` when it does not read.
pub(super) fn date_time_text(
    v: &str,
    format: Option<&str>,
    zone: crate::time_zone::Tz,
) -> Option<String> {
    let v = v.trim();
    if chrono::DateTime::parse_from_rfc3339(v).is_ok() {
        return Some(v.to_string());
    }
    // As an export for people writes an instant read outside anyone's session.
    let (v, zone) = match labels_back::utc_text(v) {
        Some(t) => (t, crate::time_zone::Tz::UTC),
        None => (v, zone),
    };
    let formats: Vec<&str> = match format {
        // A workbook's date cells read as ISO whatever the column's format.
        Some(f) => vec![f, "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
        None => vec![
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y/%m/%d %H:%M:%S",
            "%Y/%m/%d %H:%M",
        ],
    };
    formats
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
        .and_then(|local| crate::time_zone::to_utc(local, zone).ok())
        .map(crate::records::service::ts_string)
}

/// How a date written in `format` looks (15 March 2026, 14:30), for an error that says what a
/// column expects without showing a format's codes.
pub fn date_example(format: &str) -> String {
    use std::fmt::Write;
    let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 15)
        .and_then(|d| d.and_hms_opt(14, 30, 0))
        .unwrap_or_default();
    let mut out = String::new();
    match write!(out, "{}", at.format(format)) {
        Ok(()) => out,
        Err(_) => format.to_string(),
    }
}

pub(super) fn bool_value(v: &str) -> Value {
    match v.trim().to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" | "✓" | "on" | "x" => Value::Bool(true),
        "否" | "n" | "no" | "false" | "0" | "×" | "off" | "" => Value::Bool(false),
        _ => Value::String(v.to_string()),
    }
}

/// Makes a row the API's JSON (see the module's documentation).
pub(super) fn prepare(
    def: &'static EntityDef,
    core: &Core,
    actor: &Actor,
    plan: &Plan,
    people: &People,
    row: super::Row,
) -> Prepared {
    let mut input = JsonMap::new();
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    let mut custom = JsonMap::new();
    let mut currency: Option<String> = None;
    let line = row.line;
    let mut error = |column: &str, e: FieldError| {
        errors.push(RowError {
            line,
            column: column.to_string(),
            code: e.code,
            params: e.params,
            values: Vec::new(),
        });
    };
    let readback = plan.readback.as_deref();
    for (i, planned, v) in plan.values(&row) {
        let header = plan.headers.get(i).map_or("", String::as_str);
        let v = labels_back::unneutralized(v);
        let read;
        match &planned.kind {
            TargetKind::Field => {
                let Some(f) = def.field(&planned.field) else {
                    continue;
                };
                let v = match readback {
                    Some(rb) => {
                        read = labels_back::read_back(rb, f, v);
                        if read.is_empty() {
                            continue;
                        }
                        read.as_str()
                    }
                    None => v,
                };
                let name = f.name.to_string();
                let label = planned.label.clone().map_or(Value::Null, Value::String);
                let mut push = |item: Value| {
                    let list = input.entry(name.clone()).or_insert_with(|| json!([]));
                    if let Value::Array(a) = list {
                        a.push(item);
                    }
                };
                match &f.kind {
                    FieldKind::Phones | FieldKind::Emails => {
                        let key = if matches!(f.kind, FieldKind::Phones) {
                            "number"
                        } else {
                            "address"
                        };
                        // For re-import, the value as the API gives it: a JSON list.
                        if let Ok(items) = serde_json::from_str::<Vec<Value>>(v) {
                            items.into_iter().for_each(&mut push);
                            continue;
                        }
                        for p in several(v) {
                            // For people, a label follows in brackets: `0571 8888 6666 (工作)`.
                            let (p, own) = match readback {
                                Some(rb) => rb.point(p),
                                None => (p, None),
                            };
                            push(
                                json!({key: p, "label": own.map_or(label.clone(), Value::String)}),
                            );
                        }
                    }
                    FieldKind::StringList { .. } => several(v).for_each(|p| push(json!(p))),
                    FieldKind::MultiChoice(_) => {
                        let joined = match input.get(&name).and_then(Value::as_str) {
                            Some(before) => format!("{before},{v}"),
                            None => v.to_string(),
                        };
                        input.insert(name, Value::String(joined));
                    }
                    FieldKind::Date | FieldKind::DateTime => {
                        let format = planned.date_format.as_deref();
                        let text = if matches!(f.kind, FieldKind::Date) {
                            date_text(v, format)
                        } else {
                            date_time_text(v, format, actor.time_zone)
                        };
                        match (format, text) {
                            (_, Some(t)) => {
                                input.insert(name, Value::String(t));
                            }
                            // The column says how it writes dates, and this one does not.
                            (Some(f), None) => error(
                                header,
                                FieldError::new(codes::IMPORT_DATE_NOT_IN_FORMAT)
                                    .with("value", v.trim())
                                    .with("example", date_example(f)),
                            ),
                            // No format said: the engine words what it cannot read.
                            (None, None) => {
                                input.insert(name, Value::String(v.trim().to_string()));
                            }
                        }
                    }
                    FieldKind::Bool => {
                        input.insert(name, bool_value(v));
                    }
                    FieldKind::Ref { entity, .. } => match Uuid::parse_str(v.trim()) {
                        Ok(id) => {
                            input.insert(name, Value::String(id.to_string()));
                        }
                        Err(_) => match core.registry.by_name(entity) {
                            Some(target) => refs.push(NamedRef {
                                key: name,
                                entity: target,
                                name: v.trim().to_string(),
                                column: header.to_string(),
                            }),
                            None => error(header, FieldError::new(codes::NOT_AN_ID)),
                        },
                    },
                    FieldKind::User => match people.find(v) {
                        Ok(id) => {
                            input.insert(name, Value::String(id.to_string()));
                        }
                        Err(e) => error(header, e),
                    },
                    FieldKind::Address => {
                        let parts = crate::address::split_line(v).map_or_else(
                            || json!({"street": v}),
                            |s| {
                                json!({
                                    "province": s.province, "city": s.city,
                                    "district": s.district, "street": s.street,
                                })
                            },
                        );
                        input.insert(name, parts);
                    }
                    _ => {
                        input.insert(name, Value::String(v.to_string()));
                    }
                }
            }
            TargetKind::AddressPart { field, part } => {
                let whole = input
                    .entry((*field).to_string())
                    .or_insert_with(|| json!({}));
                if let Value::Object(o) = whole {
                    o.insert((*part).to_string(), Value::String(v.to_string()));
                }
            }
            TargetKind::Custom => {
                let key = planned.field.trim_start_matches("custom.").to_string();
                let v = readback.map_or_else(|| v.to_string(), |rb| rb.choice(&planned.field, v));
                custom.insert(key, Value::String(v));
            }
            TargetKind::WholeName { family, given } => {
                let parts = names::split(v);
                // A family or given name column of its own says more than the split.
                input
                    .entry((*family).to_string())
                    .or_insert(Value::String(parts.family));
                input
                    .entry((*given).to_string())
                    .or_insert(Value::String(parts.given));
            }
            TargetKind::Currency => currency = Some(crate::records::money::currency_code(v)),
            TargetKind::Owner => match people.find(v) {
                Ok(id) => {
                    input.insert("owner_id".into(), Value::String(id.to_string()));
                }
                Err(e) => error(header, e),
            },
        }
    }
    // The row's currency goes with each of its amounts (the field's own check then names an
    // unknown one).
    if let Some(currency) = currency.filter(|c| !c.is_empty()) {
        for f in def
            .fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Money))
        {
            if let Some(amount) = input.get_mut(f.name) {
                *amount = json!({"amount": amount.clone(), "currency": currency});
            }
        }
    }
    if !custom.is_empty() {
        input.insert("custom".into(), Value::Object(custom));
    }
    let values = row.fields;
    for e in &mut errors {
        e.values = values.clone();
    }
    Prepared {
        line,
        input,
        refs,
        values,
        errors,
        keys: None,
    }
}
