//! Between HTML forms and records: form fields to the JSON the record engine takes. (Records
//! to CSV cells: `export`.)

use chrono::NaiveDateTime;
use guanxi_core::records::JsonMap;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_core::time_zone::{self, Tz};
use guanxi_core::{EntityDef, FieldError, FieldErrors};
use serde_json::{Value, json};

/// A record as a form gave it: the JSON for the record engine, and what only the form can tell
/// is wrong (a wall-clock time the user's zone skips), by the field names the engine uses. A
/// field with such an error holds what was typed, so the form shows it again as it was.
pub struct FormInput {
    pub value: Value,
    pub errors: FieldErrors,
}

/// One value as read from the form, with the error only the form can tell.
struct Read {
    value: Value,
    error: Option<FieldError>,
}

impl Read {
    fn ok(value: Value) -> Read {
        Read { value, error: None }
    }
}

/// Builds a record's JSON from submitted form pairs named `f.<field>`, `f.<field>.<part>`,
/// `f.phones.<i>.number`, `f.custom.<key>`. Every standard field on the form is present, so an
/// unchecked checkbox (absent from the pairs) means false. Date-times are read in `zone`, the
/// user's.
pub fn record_from_form(
    def: &EntityDef,
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
    pairs: &[(String, String)],
    zone: Tz,
) -> FormInput {
    let get_all = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let get = |name: &str| -> Option<&str> { get_all(name).into_iter().next() };
    let mut out = JsonMap::new();
    let mut errors = FieldErrors::new();
    for f in def.fields.iter().filter(|f| !f.computed) {
        let key = format!("f.{}", f.name);
        if let Some(read) = field_value(&f.kind, &key, &get_all, zone) {
            if let Some(e) = read.error {
                errors.insert(f.name.into(), e);
            }
            out.insert(f.name.into(), read.value);
        }
    }
    for child in def.children.iter().filter(|c| !c.computed) {
        let mut lines = Vec::new();
        for i in 0..child.max {
            let prefix = format!("f.{}.{i}", child.name);
            let id = get(&format!("{prefix}.id")).unwrap_or("").trim();
            let mut line = JsonMap::new();
            let mut filled = !id.is_empty();
            for f in child.fields {
                let key = format!("{prefix}.{}", f.name);
                let present = pairs.iter().any(|(k, _)| k.starts_with(&key));
                if let Some(read) = field_value(&f.kind, &key, &get_all, zone) {
                    let v = read.value;
                    // An unticked box or an empty input alone does not make a line.
                    filled |= present && !matches!(v, Value::Bool(false)) && !blank(&v);
                    if let Some(e) = read.error {
                        // Named as the engine names a line's field: by its place in the list.
                        errors.insert(format!("{}[{}].{}", child.name, lines.len(), f.name), e);
                    }
                    line.insert(f.name.into(), v);
                }
            }
            if filled {
                if !id.is_empty() {
                    line.insert("id".into(), Value::String(id.to_string()));
                }
                lines.push(Value::Object(line));
            }
        }
        out.insert(child.name.into(), Value::Array(lines));
    }
    custom_from_form(custom, &get_all, zone, &mut out, &mut errors);
    FormInput {
        value: Value::Object(out),
        errors,
    }
}

fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(blank),
        _ => false,
    }
}

/// One value of a field of `kind` from the form inputs named after `key`; `None` when the form
/// has none. Standard and custom fields alike.
fn field_value<'p>(
    kind: &FieldKind,
    key: &str,
    get_all: &impl Fn(&str) -> Vec<&'p str>,
    zone: Tz,
) -> Option<Read> {
    let get = |name: &str| -> Option<&'p str> { get_all(name).into_iter().next() };
    if let FieldKind::DateTime = kind {
        return get(key).map(|local| date_time(local.trim(), zone));
    }
    Some(Read::ok({
        match kind {
            FieldKind::Bool => Value::Bool(get(key).is_some()),
            FieldKind::MultiChoice(_) => Value::Array(
                get_all(key)
                    .into_iter()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            ),
            FieldKind::Regarding => {
                let id = get(&format!("{key}.id")).unwrap_or("").trim();
                if id.is_empty() {
                    Value::Null
                } else {
                    json!({"entity": get(&format!("{key}.entity")).unwrap_or(""), "id": id})
                }
            }
            // Hours and minutes, as people give a length of time.
            FieldKind::Duration => {
                let hours = get(&format!("{key}.hours")).unwrap_or("").trim();
                let minutes = get(&format!("{key}.minutes")).unwrap_or("").trim();
                if hours.is_empty() && minutes.is_empty() {
                    Value::Null
                } else {
                    match (whole(hours), whole(minutes)) {
                        (Some(h), Some(m)) => json!(h.saturating_mul(3600).saturating_add(m * 60)),
                        // Passed on as typed, so the engine names what is wrong with it.
                        _ => Value::String(format!("{hours}:{minutes}")),
                    }
                }
            }
            FieldKind::Address => {
                let mut o = JsonMap::new();
                for part in ADDRESS_PARTS {
                    o.insert(
                        part.into(),
                        Value::String(get(&format!("{key}.{part}")).unwrap_or("").to_string()),
                    );
                }
                // An address typed as one line (北京市丰台区科技园路382号) fills the parts left
                // empty; one that cannot be split is kept whole as the street, never lost.
                let line = get(&format!("{key}.line")).unwrap_or("").trim();
                let empty = |o: &JsonMap, p: &str| {
                    o.get(p)
                        .and_then(Value::as_str)
                        .is_none_or(|s| s.trim().is_empty())
                };
                if !line.is_empty()
                    && ["province", "city", "district", "street"]
                        .iter()
                        .all(|p| empty(&o, p))
                {
                    match guanxi_core::address::split_line(line) {
                        Some(parts) => {
                            o.insert("province".into(), Value::String(parts.province));
                            o.insert("city".into(), Value::String(parts.city));
                            o.insert("district".into(), Value::String(parts.district));
                            o.insert("street".into(), Value::String(parts.street));
                        }
                        None => {
                            o.insert("street".into(), Value::String(line.to_string()));
                        }
                    }
                }
                Value::Object(o)
            }
            FieldKind::Money => {
                let amount = get(&format!("{key}.amount")).unwrap_or("").trim();
                if amount.is_empty() {
                    Value::Null
                } else {
                    json!({"amount": amount, "currency": get(&format!("{key}.currency")).unwrap_or("")})
                }
            }
            FieldKind::Phones | FieldKind::Emails => {
                let item_key = if matches!(kind, FieldKind::Phones) {
                    "number"
                } else {
                    "address"
                };
                let mut items = Vec::new();
                for i in 0..20 {
                    let Some(value) = get(&format!("{key}.{i}.{item_key}")) else {
                        continue;
                    };
                    if value.trim().is_empty() {
                        continue;
                    }
                    let label = get(&format!("{key}.{i}.label")).unwrap_or("");
                    items.push(json!({item_key: value, "label": label}));
                }
                Value::Array(items)
            }
            FieldKind::StringList { .. } => Value::Array(
                get(key)
                    .unwrap_or("")
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.into()))
                    .collect(),
            ),
            FieldKind::Labels { .. } => {
                let mut o = JsonMap::new();
                for l in guanxi_core::records::values::LABEL_LOCALES {
                    if let Some(t) = get(&format!("{key}.{l}")) {
                        o.insert(l.into(), Value::String(t.to_string()));
                    }
                }
                Value::Object(o)
            }
            _ => Value::String(get(key)?.to_string()),
        }
    }))
}

/// A whole number, with an empty input as zero.
fn whole(s: &str) -> Option<i64> {
    if s.is_empty() {
        Some(0)
    } else {
        s.parse::<i64>().ok().filter(|n| *n >= 0)
    }
}

/// A `datetime-local` value (`2026-05-06T10:00`, which has no zone) read in the user's `zone`:
/// the instant in RFC 3339, or what was typed and why it is no time there. Empty is no value;
/// what is not such a value is passed on as typed for the engine to refuse by name.
fn date_time(local: &str, zone: Tz) -> Read {
    if local.is_empty() {
        return Read::ok(Value::Null);
    }
    let Some(t) = local_time(local) else {
        return Read::ok(Value::String(local.to_string()));
    };
    match time_zone::to_utc(t, zone) {
        Ok(t) => Read::ok(Value::String(t.to_rfc3339())),
        Err(e) => Read {
            value: Value::String(local.to_string()),
            error: Some(e),
        },
    }
}

/// A `datetime-local` value read in `zone` as the engine takes it (see [`date_time`]): the value,
/// or why it is no time there.
pub(crate) fn local_instant(local: &str, zone: Tz) -> Result<Value, FieldError> {
    let read = date_time(local, zone);
    match read.error {
        Some(e) => Err(e),
        None => Ok(read.value),
    }
}

/// The wall-clock time a `datetime-local` input gives, with or without seconds.
pub(crate) fn local_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// The value a `datetime-local` input shows for a stored instant: its wall-clock time in the
/// user's `zone` (`2026-05-06T10:00`). What is not an instant (a value typed and refused) shows
/// as it was typed.
pub(crate) fn local_input(v: &str, zone: Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(t) => time_zone::to_local(t.to_utc(), zone)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        Err(_) => v.to_string(),
    }
}

/// Custom field values from inputs named `f.custom.<key>`, and the owner from `f.owner_id`.
fn custom_from_form<'p>(
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
    get_all: &impl Fn(&str) -> Vec<&'p str>,
    zone: Tz,
    out: &mut JsonMap,
    errors: &mut FieldErrors,
) {
    let get = |name: &str| -> Option<&'p str> { get_all(name).into_iter().next() };
    if let Some(owner) = get("f.owner_id").filter(|s| !s.is_empty()) {
        out.insert("owner_id".into(), Value::String(owner.into()));
    }
    let mut c = JsonMap::new();
    for d in custom {
        let key = format!("f.{}", d.path());
        if let Some(read) = field_value(&d.kind, &key, get_all, zone) {
            if let Some(e) = read.error {
                errors.insert(d.path(), e);
            }
            c.insert(d.key.clone(), read.value);
        }
    }
    out.insert("custom".into(), Value::Object(c));
}
