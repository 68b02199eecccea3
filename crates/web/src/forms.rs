//! Between HTML forms / CSV and records: form fields to the JSON the record engine takes, and
//! records to CSV cells.

use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_core::records::{JsonMap, ListQuery};
use guanxi_core::{Actor, Core, CoreResult, EntityDef};
use serde_json::{Value, json};

use crate::ui::display;

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
    for f in def.fields {
        let key = format!("f.{}", f.name);
        let v = match &f.kind {
            FieldKind::Derived => continue,
            FieldKind::Bool => Value::Bool(get(&key).is_some()),
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
                get(&key)
                    .unwrap_or("")
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.into()))
                    .collect(),
            ),
            _ => match get(&key) {
                Some(s) => Value::String(s.to_string()),
                None => continue,
            },
        };
        out.insert(f.name.into(), v);
    }
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
    Value::Object(out)
}

/// Spreadsheets run cells starting with these as formulas; a leading apostrophe keeps them text.
fn neutralize(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

pub const EXPORT_MAX_ROWS: usize = 100_000;

/// Every matching record the actor may read as CSV, one column per field (addresses split into
/// parts), custom fields last.
pub async fn export_csv(
    core: &Core,
    def: &'static EntityDef,
    actor: &Actor,
    q: &mut ListQuery,
) -> CoreResult<Vec<u8>> {
    let svc = core.records(def);
    let custom = svc.custom_defs().await?;
    let mut header: Vec<String> = vec!["id".into()];
    for f in def.fields {
        match f.kind {
            FieldKind::Address => {
                header.extend(ADDRESS_PARTS.iter().map(|p| format!("{}.{p}", f.name)))
            }
            _ => header.push(f.name.into()),
        }
    }
    header.extend(["owner_id", "created_at", "updated_at", "version"].map(String::from));
    header.extend(custom.iter().map(|d| format!("custom.{}", d.key)));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)
        .map_err(|e| guanxi_core::CoreError::Internal(e.to_string()))?;
    q.limit = 500;
    q.count = false;
    let mut rows = 0;
    loop {
        let page = svc.list(actor, q).await?;
        for rec in &page.items {
            let mut cells: Vec<String> = vec![str_of(rec.get("id"))];
            for f in def.fields {
                let v = rec.get(f.name).unwrap_or(&Value::Null);
                match f.kind {
                    FieldKind::Address => {
                        cells.extend(ADDRESS_PARTS.iter().map(|p| str_of(v.get(*p))))
                    }
                    _ => cells.push(display::plain(&f.kind, v)),
                }
            }
            for k in ["owner_id", "created_at", "updated_at", "version"] {
                cells.push(str_of(rec.get(k)));
            }
            let cv = rec.get("custom").cloned().unwrap_or(Value::Null);
            for d in &custom {
                cells.push(display::custom_plain(
                    cv.get(&d.key).unwrap_or(&Value::Null),
                ));
            }
            w.write_record(cells.into_iter().map(neutralize))
                .map_err(|e| guanxi_core::CoreError::Internal(e.to_string()))?;
            rows += 1;
        }
        match page.next_cursor {
            Some(c) if rows < EXPORT_MAX_ROWS => q.cursor = Some(c),
            _ => break,
        }
    }
    w.into_inner()
        .map_err(|e| guanxi_core::CoreError::Internal(e.to_string()))
}

fn str_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::neutralize;

    #[test]
    fn formula_cells_are_neutralized() {
        assert_eq!(neutralize("=1+1".into()), "'=1+1");
        assert_eq!(neutralize("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(neutralize("北京".into()), "北京");
    }
}
