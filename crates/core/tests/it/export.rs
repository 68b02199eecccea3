//! Exports in their code form read back to exactly the values the engine holds, for every entity
//! of the registry, on SQLite and (when set up) PostgreSQL: every column of the record (each
//! field, each address and money part, each child collection, the system fields) and nothing
//! dropped.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::authz::Actor;
use guanxi_core::dedupe::Rule;
use guanxi_core::records::export::{
    Codes, Column, Export, Source, choose, columns, value_of, write_csv,
};
use guanxi_core::records::{FieldKind, JsonMap, ListQuery};
use guanxi_core::{Core, EntityDef};
use serde_json::{Value, json};

use crate::support::{Fresh, admin, backends};

/// A unified social credit code with a correct check character (GB 32100-2015), another each
/// time: a second account with a tax id already used is refused as a duplicate.
fn uscc() -> String {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(42);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = format!("91330100MA{n:07}");
    let sum: usize = body
        .chars()
        .map(|c| ALPHABET.find(c).unwrap())
        .zip(WEIGHTS)
        .map(|(v, w)| v * w)
        .sum();
    let check = ALPHABET.as_bytes()[(31 - sum % 31) % 31] as char;
    format!("{body}{check}")
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Makes one record of an entity with a value in every field that can be set and lines in
/// every collection that can be written, creating the records references point to.
struct Maker<'a> {
    core: &'a Core,
    actor: &'a Actor,
    made: HashMap<&'static str, String>,
}

impl Maker<'_> {
    fn record<'s>(
        &'s mut self,
        def: &'static EntityDef,
        lines: bool,
    ) -> Pin<Box<dyn Future<Output = JsonMap> + 's>> {
        Box::pin(async move {
            let mut body = def.example.map(|e| e(7)).unwrap_or_default();
            for f in def.fields {
                if f.computed || body.contains_key(f.name) {
                    continue;
                }
                if let Some(v) = self.value(&f.kind, f.required || lines).await {
                    body.insert(f.name.into(), v);
                }
            }
            if lines {
                for child in def.children {
                    if child.computed || body.contains_key(child.name) {
                        continue;
                    }
                    let mut line = JsonMap::new();
                    for f in child.fields {
                        if let Some(v) = self.value(&f.kind, true).await {
                            line.insert(f.name.into(), v);
                        }
                    }
                    body.insert(child.name.into(), json!([line.clone(), line]));
                }
            }
            // Another system's id names one record: each record gets its own.
            for d in def.dedupe.iter().filter(|d| d.rule == Rule::ExternalId) {
                for name in d.fields {
                    if let Some(Value::String(s)) = body.get_mut(*name) {
                        s.push_str(&format!(" {}", uuid::Uuid::now_v7().simple()));
                    }
                }
            }
            // A referenced record and the one exported are alike on purpose.
            if !def.dedupe.is_empty() {
                body.insert("allow_duplicate".into(), json!(true));
            }
            let rec = self
                .core
                .records(def)
                .create(self.actor, &Value::Object(body))
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", def.plural));
            self.core
                .records(def)
                .get(self.actor, rec["id"].as_str().unwrap().parse().unwrap())
                .await
                .unwrap()
        })
    }

    async fn value(&mut self, kind: &FieldKind, references: bool) -> Option<Value> {
        Some(match kind {
            FieldKind::Text { max } => json!(cut("=1+1 导出 export", *max)),
            FieldKind::LongText { max } => json!(cut("第一行\n-second, \"quoted\"", *max)),
            FieldKind::Choice(set) => json!(set.codes().last().unwrap()),
            FieldKind::MultiChoice(set) => json!(set.codes()),
            FieldKind::Decimal { scale } if *scale < 3 => json!(-12.5),
            FieldKind::Decimal { .. } => json!(-12.375),
            FieldKind::Int { min, max } => json!((*min).max(0).min(*max)),
            FieldKind::Money => json!({"amount": "-1234.50", "currency": "CNY"}),
            FieldKind::Date => json!("2024-02-29"),
            FieldKind::DateTime => json!("2021-03-04T05:06:07.123456Z"),
            FieldKind::Bool => json!(true),
            FieldKind::Url => json!("https://www.example.com/about"),
            FieldKind::TaxId => json!(uscc()),
            FieldKind::Phones => json!([{"number": "+8613812345678", "label": "mobile"}]),
            FieldKind::Emails => json!([{"address": "a@example.com", "label": "work"}]),
            FieldKind::StringList { max_len, .. } => json!([cut("旧名, old", *max_len), "@x"]),
            FieldKind::Address => json!({"country": "CN", "province": "浙江省", "city": "杭州市",
                "district": "西湖区", "street": "文三路 1 号", "postal_code": "310000"}),
            FieldKind::Duration => json!(3_660),
            FieldKind::Percent => json!(12.5),
            FieldKind::Labels { max } => {
                json!({"en": cut("Label", *max), "zh-CN": cut("标签", *max)})
            }
            FieldKind::Ref { entity, .. } if references => {
                json!(self.target(entity).await)
            }
            FieldKind::User => json!(self.actor.user_id.to_string()),
            FieldKind::Regarding if references => {
                json!({"entity": "account", "id": self.target("account").await})
            }
            // A line of another record: the entity picks one itself when it is not required.
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => {
                return None;
            }
        })
    }

    async fn target(&mut self, entity: &'static str) -> String {
        if let Some(id) = self.made.get(entity) {
            return id.clone();
        }
        let def = self.core.registry.by_name(entity).unwrap();
        let rec = self.record(def, false).await;
        let id = rec["id"].as_str().unwrap().to_string();
        self.made.insert(entity, id.clone());
        id
    }
}

/// Reads a code-form cell back as the value it stands for, given the value it should be (which
/// says whether the cell is text or JSON).
fn read_back(cell: &str, like: &Value) -> Value {
    match like {
        Value::String(_) => json!(cell),
        _ if cell.is_empty() => match like {
            Value::Array(_) => json!([]),
            _ => Value::Null,
        },
        _ => serde_json::from_str(cell).unwrap_or_else(|e| panic!("{cell:?}: {e}")),
    }
}

#[tokio::test]
async fn every_entity_exports_codes_that_read_back_to_the_record() {
    for b in backends() {
        let fresh = Fresh::new(b).await;
        let core = fresh.core().await;
        let actor = admin(&core, "export-admin@example.com").await;
        guanxi_core::setup::install_defaults(&core).await.unwrap();
        let mut maker = Maker {
            core: &core,
            actor: &actor,
            made: HashMap::new(),
        };
        for def in core.registry.all() {
            let ctx = format!("{b:?} {}", def.plural);
            let rec = maker.record(def, true).await;
            let id = rec["id"].as_str().unwrap().to_string();

            let export = Export::start(&core, &actor, def, ListQuery::default())
                .await
                .unwrap();
            let cols = export.columns().to_vec();
            assert_eq!(cols.len(), columns(def, &[]).len(), "{ctx}");
            for child in def.children {
                assert!(
                    cols.iter().any(|c| c.code == child.name),
                    "{ctx}: lines of {} are exported",
                    child.name
                );
            }
            let mut out = Vec::new();
            let n = write_csv(export, Box::new(Codes), &mut out).await.unwrap();
            let mut reader = csv::Reader::from_reader(out.as_slice());
            let header: Vec<String> = reader
                .headers()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            assert_eq!(
                header,
                cols.iter().map(|c| c.code.clone()).collect::<Vec<_>>(),
                "{ctx}"
            );
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(rows.len(), n, "{ctx}");
            let row = rows
                .iter()
                .find(|r| r.get(0) == Some(id.as_str()))
                .unwrap_or_else(|| panic!("{ctx}: the record is exported"));
            for (i, c) in cols.iter().enumerate() {
                let want = value_of(c, &rec).into_owned();
                let cell = &row[i];
                // Text a spreadsheet would run carries an apostrophe; numbers never do.
                let cell = match (&want, cell.strip_prefix('\'')) {
                    (Value::String(s), Some(rest)) if s.starts_with(['=', '+', '-', '@']) => rest,
                    _ => cell,
                };
                assert_eq!(read_back(cell, &want), want, "{ctx}: column {}", c.code);
            }
            for child in def.children {
                let lines = rec[child.name].as_array().map(Vec::len).unwrap_or(0);
                assert!(lines > 0, "{ctx}: the test made lines of {}", child.name);
            }
        }
        fresh.cleanup(core).await;
    }
}

/// The columns a person chose, in their order, by any of their names; `name` is the title
/// where an entity has no name field.
#[test]
fn chosen_columns_come_in_their_order_by_any_of_their_names() {
    let all = columns(&ACCOUNTS, &[]);
    let codes = |c: &[Column]| c.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
    let (chosen, unknown) = choose(
        &ACCOUNTS,
        &all,
        &[
            "type",
            "name",
            "billing.city",
            "annual_revenue",
            "owner_id",
            "nonsense",
            "name",
            "created_by",
        ],
        "zh-CN",
    );
    assert_eq!(
        codes(&chosen),
        [
            "type",
            "name",
            "billing_address.city",
            "annual_revenue.amount",
            "annual_revenue.currency",
            "owner_id",
            "created_by"
        ]
    );
    assert_eq!(unknown, ["nonsense"]);
    // An entity without a name field: `name` is its title, as its list shows it.
    static NAMELESS: EntityDef = EntityDef {
        fields: &[],
        title: |rec, locale| format!("{locale}: {}", rec["subject"]),
        ..CONTACTS
    };
    let (chosen, _) = choose(&NAMELESS, &columns(&NAMELESS, &[]), &["name"], "zh-CN");
    assert!(matches!(chosen[0].source, Source::Title { .. }));
    let mut rec = JsonMap::new();
    rec.insert("subject".into(), json!("回访"));
    assert_eq!(*value_of(&chosen[0], &rec), json!("zh-CN: \"回访\""));
}
