//! Between HTML forms and records: form fields to the JSON the record engine takes. (Records
//! to CSV cells: `export`.)

use guanxi_core::EntityDef;
use guanxi_core::records::JsonMap;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldDef, FieldKind};
use serde_json::{Value, json};

/// Builds a record's JSON from submitted form pairs named `f.<field>`, `f.<field>.<part>`,
/// `f.phones.<i>.number`, `f.custom.<key>`. Every standard field on the form is present, so an
/// unchecked checkbox (absent from the pairs) means false.
pub fn record_from_form(
    def: &EntityDef,
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
    pairs: &[(String, String)],
) -> Value {
    let get_all = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let get = |name: &str| -> Option<&str> { get_all(name).into_iter().next() };
    let mut out = JsonMap::new();
    for f in def.fields.iter().filter(|f| !f.computed) {
        let key = format!("f.{}", f.name);
        if let Some(v) = field_value(f, &key, &get) {
            out.insert(f.name.into(), v);
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
                if let Some(v) = field_value(f, &key, &get) {
                    // An unticked box or an empty input alone does not make a line.
                    filled |= present && !matches!(v, Value::Bool(false)) && !blank(&v);
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
    custom_from_form(custom, &get_all, &mut out);
    Value::Object(out)
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

/// One field's value from the form inputs named after `key`; `None` when the form has none.
fn field_value<'p>(
    f: &FieldDef,
    key: &str,
    get: &impl Fn(&str) -> Option<&'p str>,
) -> Option<Value> {
    Some({
        match &f.kind {
            FieldKind::Bool => Value::Bool(get(key).is_some()),
            FieldKind::Address => {
                let mut o = JsonMap::new();
                for part in ADDRESS_PARTS {
                    o.insert(
                        part.into(),
                        Value::String(get(&format!("{key}.{part}")).unwrap_or("").to_string()),
                    );
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
                let item_key = if matches!(f.kind, FieldKind::Phones) {
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
    })
}

/// Custom field values from inputs named `f.custom.<key>`, and the owner from `f.owner_id`.
fn custom_from_form<'p>(
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
    get_all: &impl Fn(&str) -> Vec<&'p str>,
    out: &mut JsonMap,
) {
    let get = |name: &str| -> Option<&'p str> { get_all(name).into_iter().next() };
    if let Some(owner) = get("f.owner_id").filter(|s| !s.is_empty()) {
        out.insert("owner_id".into(), Value::String(owner.into()));
    }
    let mut c = JsonMap::new();
    for d in custom {
        let key = format!("f.custom.{}", d.key);
        let v = match d.kind {
            guanxi_core::custom_fields::CustomKind::Checkbox => Value::Bool(get(&key).is_some()),
            guanxi_core::custom_fields::CustomKind::MultiSelect => Value::Array(
                get_all(&key)
                    .into_iter()
                    .map(|s| Value::String(s.into()))
                    .collect(),
            ),
            _ => Value::String(get(&key).unwrap_or("").to_string()),
        };
        c.insert(d.key.clone(), v);
    }
    out.insert("custom".into(), Value::Object(c));
}
