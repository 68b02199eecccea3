//! The conformance suite (DESIGN.md section 10): every entity in the registry, on every backend,
//! through the public API. Nothing here names an entity or one of its fields: the tests learn
//! them from `registry()`, so an entity is tested by being declared. What a field accepts, how a
//! filter operator applies and who may do what are derived from the declarations, `filter.rs`
//! and `default_grant`, not written out per entity.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use guanxi_core::authz::{Actor, Role, Scope, default_grant};
use guanxi_core::records::def::{ADDRESS_PARTS, EntityDef, FieldDef, FieldKind, SYSTEM_FIELDS};
use guanxi_core::records::{FilterOp, money, values};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Backend, Resp, TestApp, TestUser, backends, spawn};

fn entities() -> &'static [&'static EntityDef] {
    guanxi_core::areas::registry().all()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("record id").to_string()
}

// ---------------------------------------------------------------------------------------------
// Valid values per field kind
// ---------------------------------------------------------------------------------------------

/// Two lower-case letters per seed. Text values start with these after a common prefix, so the
/// letters decide their order, and plain lower-case letters order the same in bytes (the suite's
/// expectation), in SQLite and under PostgreSQL's `C` and `en_US` collations.
fn letters(seed: u32) -> String {
    let a = (b'a' + (seed / 26 % 26) as u8) as char;
    let b = (b'a' + (seed % 26) as u8) as char;
    format!("{a}{b}")
}

/// A unified social credit code with a correct check character (GB 32100-2015), different per
/// seed.
fn uscc(seed: u32) -> String {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91330100MA{:07}", seed % 10_000_000);
    let sum: usize = body
        .chars()
        .map(|c| ALPHABET.find(c).expect("USCC character"))
        .zip(WEIGHTS)
        .map(|(v, w)| v * w)
        .sum();
    let check = ALPHABET.as_bytes()[(31 - sum % 31) % 31] as char;
    format!("{body}{check}")
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect::<String>().trim().to_string()
}

/// A value as sent and the canonical form the API must give back for it.
#[derive(Clone, Debug)]
struct Sample {
    input: Value,
    canonical: Value,
}

/// A valid value of a field that is not a reference, different per seed; `None` for computed
/// fields, which cannot be set.
fn sample(field: &FieldDef, seed: u32, currency: &str) -> Option<Sample> {
    if field.computed {
        return None;
    }
    let same = |v: Value| {
        Some(Sample {
            input: v.clone(),
            canonical: v,
        })
    };
    let l = letters(seed);
    match &field.kind {
        FieldKind::Text { max } => {
            // Padded with spaces to check they are trimmed.
            let canonical = truncate(&format!("conf{l} 样本"), *max);
            Some(Sample {
                input: json!(format!("  {canonical}  ")),
                canonical: json!(canonical),
            })
        }
        FieldKind::LongText { max } => same(json!(truncate(
            &format!("conf{l} 第一行\n第二行\tend"),
            *max
        ))),
        FieldKind::Choice(options) => same(json!(options[seed as usize % options.len()])),
        FieldKind::Int { min, max } => {
            let span = (*max - *min).min(999);
            same(json!(*min + (i64::from(seed) * 37 + 11) % (span + 1)))
        }
        FieldKind::Money => {
            let digits = money::minor_digits(currency);
            let whole = 1000 + i64::from(seed) * 13;
            let amount = if digits == 0 {
                whole.to_string()
            } else {
                let frac = i64::from(seed) % 10i64.pow(digits);
                format!("{whole}.{frac:0width$}", width = digits as usize)
            };
            Some(Sample {
                input: json!({"amount": amount, "currency": currency.to_lowercase()}),
                canonical: json!({"amount": amount, "currency": currency}),
            })
        }
        FieldKind::Date => {
            let d = NaiveDate::from_ymd_opt(1980, 1, 1).expect("date")
                + Duration::days(i64::from(seed) * 17);
            same(json!(d.format("%Y-%m-%d").to_string()))
        }
        FieldKind::Bool => same(json!(true)),
        FieldKind::Url => {
            let url = format!("https://www.Conf-{l}.example.com/about");
            Some(Sample {
                input: json!(format!(" {url} ")),
                canonical: json!(url),
            })
        }
        FieldKind::TaxId => {
            let code = uscc(seed);
            Some(Sample {
                input: json!(code.to_lowercase()),
                canonical: json!(code),
            })
        }
        FieldKind::Phones => {
            let n = seed % 10_000;
            Some(Sample {
                input: json!([
                    {"number": format!("138 {n:04} 5678"), "label": "mobile"},
                    {"number": format!("010-6552 {n:04}"), "label": "office"},
                ]),
                canonical: json!([
                    {"number": format!("+86138{n:04}5678"), "label": "mobile"},
                    {"number": format!("+86106552{n:04}"), "label": "office"},
                ]),
            })
        }
        FieldKind::Emails => Some(Sample {
            input: json!([{"address": format!(" Conf.{l}@Example-Conf.COM "), "label": "work"}]),
            canonical: json!([{"address": format!("conf.{l}@example-conf.com"), "label": "work"}]),
        }),
        FieldKind::StringList { max_items, max_len } => {
            // An empty entry is dropped and padding trimmed.
            let input: Vec<String> = [
                truncate(&format!("conf{l} 旧名"), *max_len),
                String::new(),
                format!("  {}  ", truncate("second", *max_len)),
            ]
            .into_iter()
            .take(*max_items)
            .collect();
            let canonical: Vec<&str> = input
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            Some(Sample {
                input: json!(input),
                canonical: json!(canonical),
            })
        }
        FieldKind::Address => same(json!({
            "country": "CN", "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "street": format!("文三路 {seed} 号"), "postal_code": "310000",
        })),
        FieldKind::Percent => same(json!((seed * 7 + 5) % 100)),
        FieldKind::Duration => same(json!(u64::from(seed) * 3_600 + 60)),
        FieldKind::DateTime => {
            let t = DateTime::parse_from_rfc3339("2021-03-04T05:06:07.123456Z")
                .expect("instant")
                .with_timezone(&Utc)
                + Duration::hours(i64::from(seed) * 5);
            Some(Sample {
                input: json!(t.to_rfc3339_opts(SecondsFormat::Micros, false)),
                canonical: json!(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
            })
        }
        FieldKind::Labels { max } => same(json!({
            "en": truncate(&format!("conf{l} label"), *max),
            "zh-CN": truncate(&format!("conf{l} 标签"), *max),
        })),
        // A line of the record another field refers to: the entity picks it.
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } => None,
    }
}

/// What a field holds when it was never set or was cleared.
fn blank_of(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Bool => json!(false),
        FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => json!([]),
        FieldKind::Address => Value::Object(
            ADDRESS_PARTS
                .iter()
                .map(|p| (p.to_string(), Value::Null))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Blank as the filter operators `empty` / `not_empty` mean it.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_blank),
        _ => false,
    }
}

type Samples = Vec<(&'static FieldDef, Sample)>;

fn body_of(samples: &Samples) -> Value {
    Value::Object(
        samples
            .iter()
            .map(|(f, s)| (f.name.to_string(), s.input.clone()))
            .collect(),
    )
}

/// Builds valid records for a user, creating the records that references point to on first use
/// (one per referenced entity, shared by every record that refers to it).
struct Gen<'a> {
    user: &'a TestUser,
    currency: String,
    targets: HashMap<&'static str, String>,
}

impl<'a> Gen<'a> {
    fn new(app: &TestApp, user: &'a TestUser) -> Gen<'a> {
        Gen {
            user,
            currency: app.core.settings.default_currency.clone(),
            targets: HashMap::new(),
        }
    }

    /// A value for every field that can be set. References in records made only to be referred
    /// to are left out unless required, so a self-reference (a parent of the same entity) ends.
    fn samples<'s>(
        &'s mut self,
        def: &'static EntityDef,
        seed: u32,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Samples> + 's>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for f in def.fields {
                match f.kind {
                    FieldKind::Ref { entity, .. } => {
                        if depth > 0 && !f.required {
                            continue;
                        }
                        let id = self.target(entity, depth).await;
                        out.push((
                            f,
                            Sample {
                                input: json!(id),
                                canonical: json!(id),
                            },
                        ));
                    }
                    _ => {
                        if let Some(s) = sample(f, seed, &self.currency) {
                            out.push((f, s));
                        }
                    }
                }
            }
            out
        })
    }

    async fn target(&mut self, entity: &'static str, depth: usize) -> String {
        if let Some(id) = self.targets.get(entity) {
            return id.clone();
        }
        assert!(
            depth < 5,
            "required references form a cycle through {entity}"
        );
        let def = guanxi_core::areas::registry()
            .by_name(entity)
            .unwrap_or_else(|| {
                panic!("a reference names entity '{entity}', which is not declared")
            });
        let samples = self.samples(def, 900 + depth as u32, depth + 1).await;
        let id = id_of(&self.user.create(def.plural, body_of(&samples)).await);
        self.targets.insert(entity, id.clone());
        id
    }

    /// Creates a full record (every settable field) and returns it with its samples.
    async fn full(&mut self, def: &'static EntityDef, seed: u32) -> (Value, Samples) {
        let samples = self.samples(def, seed, 0).await;
        let rec = self.user.create(def.plural, body_of(&samples)).await;
        (rec, samples)
    }

    /// The smallest valid body: the required fields, plus whichever fields the entity's own
    /// rules ask for (named in a 422), taken from a full sample. Creates the record.
    async fn sparse(&mut self, def: &'static EntityDef, seed: u32) -> (Value, Value) {
        let all = self.samples(def, seed, 0).await;
        let mut body: serde_json::Map<String, Value> = all
            .iter()
            .filter(|(f, _)| f.required)
            .map(|(f, s)| (f.name.to_string(), s.input.clone()))
            .collect();
        for _ in 0..=def.fields.len() {
            let r = self
                .user
                .post_r(
                    &format!("/api/v1/{}", def.plural),
                    &Value::Object(body.clone()),
                )
                .await;
            if r.status == StatusCode::CREATED {
                return (Value::Object(body), r.body);
            }
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
            let named: Vec<String> = r.body["error"]["fields"]
                .as_object()
                .expect("fields")
                .keys()
                .cloned()
                .collect();
            let before = body.len();
            for (f, s) in &all {
                if named.iter().any(|n| n == f.name) {
                    body.insert(f.name.to_string(), s.input.clone());
                }
            }
            assert!(
                body.len() > before,
                "{}: a sparse record is refused for fields no sample fills: {}",
                def.plural,
                r.text
            );
        }
        panic!("{}: no sparse record could be made", def.plural);
    }
}

/// A change to one plain field (not a reference, not derived) to a value it does not hold now.
fn changing_patch(
    def: &EntityDef,
    current: &Value,
    seed: u32,
    currency: &str,
) -> (&'static str, Sample) {
    for f in def.fields {
        if matches!(f.kind, FieldKind::Ref { .. }) {
            continue;
        }
        if let Some(s) = sample(f, seed, currency)
            && current[f.name] != s.canonical
        {
            return (f.name, s);
        }
    }
    panic!("{}: no field can be changed by the suite", def.plural);
}

async fn get_ok(u: &TestUser, path: &str) -> Resp {
    let r = u.get_r(path).await;
    assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
    r
}

// ---------------------------------------------------------------------------------------------
// 1. Valid records per field kind
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_field_kind_round_trips() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("sales", Some("Conformance")).await;
        let mut g = Gen::new(&app, &user);
        for def in entities() {
            let p = def.plural;
            let samples = g.samples(def, 0, 0).await;
            let settable = def.fields.iter().filter(|f| !f.computed).count();
            assert_eq!(
                samples.len(),
                settable,
                "{p}: a sample for every settable field"
            );

            let r = user
                .post_r(&format!("/api/v1/{p}"), &body_of(&samples))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?} {p}: {}", r.text);
            let id = id_of(&r.body);
            assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{b:?} {p}");
            assert_eq!(
                r.header("location"),
                Some(format!("/api/v1/{p}/{id}")),
                "{b:?} {p}"
            );
            let created = r.body;
            let got = get_ok(&user, &format!("/api/v1/{p}/{id}")).await;
            assert_eq!(
                got.body, created,
                "{b:?} {p}: GET equals what create returned"
            );
            let rec = &got.body;
            for (f, s) in &samples {
                assert_eq!(
                    rec[f.name], s.canonical,
                    "{b:?} {p}.{}: sent {}",
                    f.name, s.input
                );
            }
            for f in def.fields {
                assert!(
                    rec.get(f.name).is_some(),
                    "{b:?} {p}: {} is in the record",
                    f.name
                );
            }
            for s in SYSTEM_FIELDS {
                assert!(rec.get(*s).is_some(), "{b:?} {p}: system field {s}");
            }
            assert_eq!(rec["owner_id"], user.id.to_string(), "{b:?} {p}");
            assert_eq!(rec["created_by"], user.id.to_string(), "{b:?} {p}");
            assert_eq!(rec["version"], 1, "{b:?} {p}");
            assert_eq!(rec["deleted_at"], Value::Null, "{b:?} {p}");

            // Every value changed at once goes through the update path the same way.
            let next = g.samples(def, 1, 0).await;
            let r = user
                .patch_if_match(&format!("/api/v1/{p}/{id}"), 1, &body_of(&next))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?} {p}: {}", r.text);
            assert_eq!(r.body["version"], 2, "{b:?} {p}");
            for (f, s) in &next {
                assert_eq!(
                    r.body[f.name], s.canonical,
                    "{b:?} {p}.{} after PATCH",
                    f.name
                );
            }

            // Clearing every optional field gives each kind's blank (the entity's own rules may
            // keep some: those named in a 422 are left as they are).
            let mut clear: serde_json::Map<String, Value> = def
                .fields
                .iter()
                .filter(|f| !f.required && !f.computed)
                .map(|f| (f.name.to_string(), Value::Null))
                .collect();
            let cleared = loop {
                let r = user
                    .patch_r(&format!("/api/v1/{p}/{id}"), &Value::Object(clear.clone()))
                    .await;
                if r.status == StatusCode::OK {
                    break r.body;
                }
                r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
                let before = clear.len();
                for k in r.body["error"]["fields"]
                    .as_object()
                    .expect("fields")
                    .keys()
                {
                    clear.remove(k);
                }
                assert!(
                    clear.len() < before,
                    "{b:?} {p}: clearing refused: {}",
                    r.text
                );
            };
            for f in def.fields {
                if clear.contains_key(f.name) {
                    assert_eq!(
                        cleared[f.name],
                        blank_of(&f.kind),
                        "{b:?} {p}.{} cleared",
                        f.name
                    );
                }
            }

            // Computed fields: sending one is refused, naming it.
            for f in def.fields.iter().filter(|f| f.computed) {
                let mut body = body_of(&samples);
                body[f.name] = json!("set-by-hand.example.com");
                let r = user.post_r(&format!("/api/v1/{p}"), &body).await;
                r.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(f.name),
                );
                let r = user
                    .patch_r(
                        &format!("/api/v1/{p}/{id}"),
                        &json!({f.name: "x.example.com"}),
                    )
                    .await;
                r.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(f.name),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Lifecycle: create, get, patch, If-Match, delete, restore, purge, history
// ---------------------------------------------------------------------------------------------

fn bin_ids(r: &Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .expect("bin data")
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn lifecycle_with_versions_recycle_bin_and_history() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("sales", Some("Conformance")).await;
        let admin = app.user("admin", None).await;
        let currency = app.core.settings.default_currency.clone();
        let mut g = Gen::new(&app, &user);
        for def in entities() {
            let p = def.plural;
            let ctx = format!("{b:?} {p}");
            let (created, samples) = g.full(def, 0).await;
            let id = id_of(&created);
            let path = format!("/api/v1/{p}/{id}");

            let r = get_ok(&user, &path).await;
            assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{ctx}");

            let (field, change) = changing_patch(def, &r.body, 5, &currency);
            let before = r.body[field].clone();
            let r = user
                .patch_if_match(&path, 1, &json!({field: change.input}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            assert_eq!(r.body["version"], 2, "{ctx}");
            assert_eq!(r.header("etag").as_deref(), Some("\"2\""), "{ctx}");
            assert_eq!(r.body[field], change.canonical, "{ctx}");

            // A write based on version 1 is refused and changes nothing.
            let r = user
                .patch_if_match(&path, 1, &json!({field: before.clone()}))
                .await;
            r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
            let r = user
                .send(user.req(Method::DELETE, &path).header("If-Match", "\"1\""))
                .await;
            r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
            let r = get_ok(&user, &path).await;
            assert_eq!(r.header("etag").as_deref(), Some("\"2\""), "{ctx}");
            assert_eq!(r.body[field], change.canonical, "{ctx}");

            let r = user
                .send(user.req(Method::DELETE, &path).header("If-Match", "\"2\""))
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);
            user.get_r(&path)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found", None);
            let bin = format!("/api/v1/recycle-bin?entity={p}");
            let r = get_ok(&user, &bin).await;
            let entry = r.body["data"]
                .as_array()
                .expect("bin")
                .iter()
                .find(|e| e["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{ctx}: deleted record in the bin: {}", r.text))
                .clone();
            assert_eq!(entry["entity"], def.name, "{ctx}");
            assert_eq!(entry["deleted_by"], user.id.to_string(), "{ctx}");
            assert!(entry["deleted_at"].is_string(), "{ctx}");

            // Restore through the entity's route, then through the bin's.
            let r = user.post_r(&format!("{path}/restore"), &json!({})).await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            let restored_version = r.body["version"].as_i64().expect("version");
            assert!(restored_version > 2, "{ctx}: restoring is a new version");
            let r = get_ok(&user, &path).await;
            assert_eq!(
                r.header("etag"),
                Some(format!("\"{restored_version}\"")),
                "{ctx}"
            );
            assert_eq!(r.body[field], change.canonical, "{ctx}: restored as it was");
            assert!(!bin_ids(&get_ok(&user, &bin).await).contains(&id), "{ctx}");

            let r = user.delete_r(&path).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);
            let r = user
                .post_r(
                    &format!("/api/v1/recycle-bin/{}/{id}/restore", def.name),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            get_ok(&user, &path).await;
            let r = user.delete_r(&path).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);

            // History, oldest first, with field-level changes.
            let h = get_ok(&user, &format!("{path}/history")).await;
            let mut entries = h.body["data"].as_array().expect("history").clone();
            entries.reverse();
            let actions: Vec<&str> = entries
                .iter()
                .map(|e| e["action"].as_str().expect("action"))
                .collect();
            assert_eq!(
                actions,
                [
                    "create", "update", "delete", "restore", "delete", "restore", "delete"
                ],
                "{ctx}"
            );
            let changes = |e: &Value| -> BTreeMap<String, (Value, Value)> {
                e["changes"]
                    .as_array()
                    .expect("changes")
                    .iter()
                    .map(|c| {
                        (
                            c["field"].as_str().expect("field").to_string(),
                            (c["from"].clone(), c["to"].clone()),
                        )
                    })
                    .collect()
            };
            let create = changes(&entries[0]);
            for (f, s) in &samples {
                if !is_blank(&s.canonical) {
                    assert_eq!(
                        create.get(f.name),
                        Some(&(Value::Null, s.canonical.clone())),
                        "{ctx}: create records {}",
                        f.name
                    );
                }
            }
            let mut update = changes(&entries[1]);
            // A derived field may follow the change; that is the entity's business.
            update.retain(|k, _| !def.field(k).is_some_and(|f| f.computed));
            assert_eq!(
                update,
                BTreeMap::from([(
                    field.to_string(),
                    (before.clone(), change.canonical.clone())
                )]),
                "{ctx}: update records exactly the changed field"
            );
            for e in &entries {
                assert_eq!(e["actor_id"], user.id.to_string(), "{ctx}");
                assert_eq!(e["record_id"], id.as_str(), "{ctx}");
                assert_eq!(e["entity"], def.name, "{ctx}");
            }

            // Only an administrator purges; then the record is gone everywhere.
            let purge = format!("/api/v1/recycle-bin/{}/{id}", def.name);
            user.delete_r(&purge)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
            assert!(bin_ids(&get_ok(&admin, &bin).await).contains(&id), "{ctx}");
            let r = admin.delete_r(&purge).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);
            assert!(!bin_ids(&get_ok(&admin, &bin).await).contains(&id), "{ctx}");
            admin
                .get_r(&path)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found", None);
            admin.get_r(&format!("{path}/history")).await.assert_error(
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            );
            admin
                .post_r(&format!("{path}/restore"), &json!({}))
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found", None);
            admin
                .delete_r(&purge)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Filters: every filterable field and every operator
// ---------------------------------------------------------------------------------------------

/// How `filter.rs` resolves a field name, which decides the operators that apply.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Filtered {
    /// A text column (text, long text, choice, url, tax id, derived, an address part).
    Text,
    /// Ordered values: integers, money amounts, dates, instants.
    Ordered(Ordered),
    Bool,
    /// An id column (references and the system id fields).
    Id,
    /// Phones or e-mails, matched through the contact points table.
    Points {
        phone: bool,
    },
    /// A list of strings, matched in its JSON text.
    List,
    /// A whole address: only its parts filter.
    WholeAddress,
    /// A text per language: nothing filters on it.
    Unfilterable,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ordered {
    Int,
    Percent,
    Money,
    Date,
    Instant,
}

impl Filtered {
    fn of(kind: &FieldKind) -> Filtered {
        match kind {
            FieldKind::Text { .. }
            | FieldKind::LongText { .. }
            | FieldKind::Choice(_)
            | FieldKind::Url
            | FieldKind::TaxId => Filtered::Text,
            FieldKind::Int { .. } | FieldKind::Duration => Filtered::Ordered(Ordered::Int),
            FieldKind::Money => Filtered::Ordered(Ordered::Money),
            FieldKind::Date => Filtered::Ordered(Ordered::Date),
            FieldKind::Bool => Filtered::Bool,
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } => Filtered::Id,
            FieldKind::Percent => Filtered::Ordered(Ordered::Percent),
            FieldKind::DateTime => Filtered::Ordered(Ordered::Instant),
            FieldKind::Labels { .. } => Filtered::Unfilterable,
            FieldKind::Phones => Filtered::Points { phone: true },
            FieldKind::Emails => Filtered::Points { phone: false },
            FieldKind::StringList { .. } => Filtered::List,
            FieldKind::Address => Filtered::WholeAddress,
        }
    }

    /// The system fields that filter, as `filter.rs` resolves them.
    fn system(name: &str) -> Option<Filtered> {
        match name {
            "id" | "owner_id" | "created_by" | "updated_by" => Some(Filtered::Id),
            "created_at" | "updated_at" => Some(Filtered::Ordered(Ordered::Instant)),
            "version" => Some(Filtered::Ordered(Ordered::Int)),
            _ => None,
        }
    }

    /// The operators `filter.rs` applies to this kind of field; the others must be refused.
    fn applies(self, op: FilterOp) -> bool {
        use FilterOp::*;
        match self {
            Filtered::Text => !matches!(op, Lt | Lte | Gt | Gte),
            Filtered::Ordered(_) => !matches!(op, Contains | StartsWith),
            Filtered::Bool | Filtered::Id => matches!(op, Eq | Ne | In | Empty | NotEmpty),
            Filtered::Points { .. } => matches!(op, Eq | Contains | Empty | NotEmpty),
            Filtered::List => !matches!(op, Lt | Lte | Gt | Gte | In),
            Filtered::WholeAddress | Filtered::Unfilterable => false,
        }
    }
}

/// The value of an ordered field one step below and above `v`, as a filter takes it.
fn neighbours(o: Ordered, v: &Value) -> (Value, Value) {
    match o {
        Ordered::Int => {
            let n = v.as_i64().expect("integer");
            (json!(n - 1), json!(n + 1))
        }
        Ordered::Percent => {
            let n = v.as_f64().expect("percentage");
            (json!(n - 0.01), json!(n + 0.01))
        }
        Ordered::Money => {
            let amount = v["amount"].as_str().expect("amount");
            let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
            let whole: i64 = whole.parse().expect("whole amount");
            let with = |w: i64| {
                if frac.is_empty() {
                    json!(w.to_string())
                } else {
                    json!(format!("{w}.{frac}"))
                }
            };
            (with(whole - 1), with(whole + 1))
        }
        Ordered::Date => {
            let d = NaiveDate::parse_from_str(v.as_str().expect("date"), "%Y-%m-%d").expect("date");
            let f = |d: NaiveDate| json!(d.format("%Y-%m-%d").to_string());
            (f(d - Duration::days(1)), f(d + Duration::days(1)))
        }
        Ordered::Instant => {
            let t: DateTime<Utc> = v.as_str().expect("instant").parse().expect("RFC 3339");
            let f = |t: DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::Micros, true));
            (
                f(t - Duration::microseconds(1)),
                f(t + Duration::microseconds(1)),
            )
        }
    }
}

/// The value a filter compares for an ordered field (a money field compares its amount).
fn scalar_of(o: Ordered, v: &Value) -> Value {
    match o {
        Ordered::Money => v["amount"].clone(),
        _ => v.clone(),
    }
}

/// Conditions with a value, each with whether the full record `v` must match it.
fn value_cases(kind: Filtered, name: &str, v: &Value) -> Vec<(FilterOp, Value, bool)> {
    use FilterOp::*;
    let other_id = uuid::Uuid::now_v7().to_string();
    match kind {
        Filtered::Text => {
            let s = v.as_str().expect("text value");
            let chars: Vec<char> = s.chars().collect();
            let middle: String = if chars.len() >= 3 {
                chars[1..chars.len() - 1].iter().collect()
            } else {
                s.to_string()
            };
            let prefix: String = chars.iter().take(4).collect();
            let rest: String = chars.iter().skip(1).collect();
            let not_prefix = if rest.is_empty() || s.starts_with(&rest) {
                "zqzqzq".to_string()
            } else {
                rest
            };
            vec![
                (Eq, json!(s), true),
                (Eq, json!("zqzqzq"), false),
                (Ne, json!(s), false),
                (Ne, json!("zqzqzq"), true),
                // Case does not matter to contains and starts_with.
                (Contains, json!(middle.to_uppercase()), true),
                (Contains, json!("zqzqzq"), false),
                (StartsWith, json!(prefix.to_uppercase()), true),
                (StartsWith, json!(not_prefix), false),
                (In, json!([s, "zqzqzq"]), true),
                (In, json!(["zqzqzq", "qzqzqz"]), false),
            ]
        }
        Filtered::Ordered(o) => {
            let x = scalar_of(o, v);
            let (lo, hi) = neighbours(o, v);
            vec![
                (Eq, x.clone(), true),
                (Eq, hi.clone(), false),
                (Ne, x.clone(), false),
                (Ne, hi.clone(), true),
                (Lt, hi.clone(), true),
                (Lt, x.clone(), false),
                (Lte, x.clone(), true),
                (Lte, lo.clone(), false),
                (Gt, lo.clone(), true),
                (Gt, x.clone(), false),
                (Gte, x.clone(), true),
                (Gte, hi.clone(), false),
                (In, json!([x, hi]), true),
                (In, json!([lo, hi]), false),
            ]
        }
        Filtered::Bool => {
            let x = v.as_bool().expect("bool");
            vec![
                (Eq, json!(x), true),
                (Eq, json!(!x), false),
                (Ne, json!(!x), true),
                (Ne, json!(x), false),
                (In, json!([x]), true),
                (In, json!([!x]), false),
            ]
        }
        Filtered::Id => {
            let x = v.as_str().expect("id");
            let mut out = vec![
                (Eq, json!(x), true),
                (Eq, json!(other_id), false),
                (Ne, json!(x), false),
                (Ne, json!(other_id), true),
                (In, json!([x, other_id]), true),
                (In, json!([other_id]), false),
            ];
            // The suite's user made and owns every record it filters: "me" is them.
            if name == "owner_id" || name.ends_with("_by") {
                out.push((Eq, json!("me"), true));
                out.push((Ne, json!("me"), false));
            }
            out
        }
        Filtered::Points { phone } => {
            let first = &v[0][if phone { "number" } else { "address" }];
            let first = first.as_str().expect("contact point");
            // Equality normalizes what it is given, as input is: e-mails compare lower-cased.
            let (same, part, other) = if phone {
                let digits: String = first.chars().filter(char::is_ascii_digit).collect();
                (
                    first.to_string(),
                    digits[digits.len() - 8..].to_string(),
                    "+8613912345678",
                )
            } else {
                let domain = first.split_once('@').expect("address").1;
                (
                    first.to_uppercase(),
                    domain.to_uppercase(),
                    "nobody@nowhere.example.org",
                )
            };
            vec![
                (Eq, json!(same), true),
                (Eq, json!(other), false),
                (Contains, json!(part), true),
                (
                    Contains,
                    json!(if phone { "99999999" } else { "zqzqzq" }),
                    false,
                ),
            ]
        }
        Filtered::List => {
            let first = v[0].as_str().expect("list item");
            let prefix: String = first.chars().take(4).collect();
            let middle: String = first.chars().skip(1).take(3).collect();
            vec![
                (Eq, json!(first), true),
                (Eq, json!("zqzqzq"), false),
                (Ne, json!(first), false),
                (Ne, json!("zqzqzq"), true),
                (Contains, json!(middle.to_uppercase()), true),
                (Contains, json!("zqzqzq"), false),
                (StartsWith, json!(prefix), true),
                (StartsWith, json!("zqzqzq"), false),
            ]
        }
        Filtered::WholeAddress | Filtered::Unfilterable => vec![],
    }
}

/// The filterable names of an entity with how each filters and where its value is read in a
/// record: (name, kind, field name, address part).
fn filterable(def: &EntityDef) -> Vec<(String, Filtered, String, Option<&'static str>)> {
    let mut out = Vec::new();
    for f in def.fields {
        let kind = Filtered::of(&f.kind);
        out.push((f.name.to_string(), kind, f.name.to_string(), None));
        if kind == Filtered::WholeAddress {
            for part in ADDRESS_PARTS {
                out.push((
                    format!("{}.{part}", f.name),
                    Filtered::Text,
                    f.name.to_string(),
                    Some(part),
                ));
            }
        }
    }
    for s in SYSTEM_FIELDS {
        if let Some(kind) = Filtered::system(s) {
            out.push((s.to_string(), kind, s.to_string(), None));
        }
    }
    out
}

async fn filtered_ids(
    u: &TestUser,
    plural: &str,
    filter: &Value,
) -> Result<BTreeSet<String>, Resp> {
    let r = u
        .get_r(&format!(
            "/api/v1/{plural}?limit=500&filter={}",
            enc(&filter.to_string())
        ))
        .await;
    if r.status == StatusCode::OK {
        Ok(r.ids().into_iter().collect())
    } else {
        Err(r)
    }
}

/// The same condition as query-string parameters (`field[op]=value`), where the value can be
/// written that way.
fn as_pair(name: &str, op: FilterOp, value: &Value) -> Option<String> {
    let text = |v: &Value| match v {
        Value::String(s) if !s.contains(',') => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    };
    let v = match value {
        Value::Array(items) => items
            .iter()
            .map(text)
            .collect::<Option<Vec<_>>>()?
            .join(","),
        other => text(other)?,
    };
    Some(format!(
        "{}={}",
        enc(&format!("{name}[{}]", op.as_str())),
        enc(&v)
    ))
}

#[tokio::test]
async fn every_filterable_field_and_operator() {
    // Collected rather than failed one by one, so one run shows every condition that is wrong.
    let mut failures: Vec<String> = Vec::new();
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("sales", Some("Conformance")).await;
        let mut g = Gen::new(&app, &user);
        for def in entities() {
            let p = def.plural;
            let (full, _) = g.full(def, 0).await;
            let (_, sparse) = g.sparse(def, 1).await;
            let (full_id, sparse_id) = (id_of(&full), id_of(&sparse));
            for (name, kind, field, part) in filterable(def) {
                let value_in = |rec: &Value| match part {
                    Some(pt) => rec[&field][pt].clone(),
                    None => rec[&field].clone(),
                };
                let (v_full, v_sparse) = (value_in(&full), value_in(&sparse));
                let ctx = format!("{b:?} {p}: {name}");
                // Bools and the system fields always hold a value.
                let blank = |v: &Value| kind != Filtered::Bool && is_blank(v);
                let mut cases: Vec<(FilterOp, Value, bool, Option<bool>)> = vec![
                    (
                        FilterOp::Empty,
                        Value::Null,
                        blank(&v_full),
                        Some(blank(&v_sparse)),
                    ),
                    (
                        FilterOp::NotEmpty,
                        Value::Null,
                        !blank(&v_full),
                        Some(!blank(&v_sparse)),
                    ),
                ];
                if !blank(&v_full) {
                    cases.extend(
                        value_cases(kind, &name, &v_full)
                            .into_iter()
                            .map(|(op, v, m)| (op, v, m, None)),
                    );
                }
                for op in FilterOp::ALL {
                    let cond = json!({"field": name, "op": op.as_str(), "value": "x"});
                    if !kind.applies(op) {
                        let r = filtered_ids(&user, p, &cond).await.expect_err(&ctx);
                        r.assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
                        continue;
                    }
                    assert!(
                        cases.iter().any(|c| c.0 == op),
                        "{ctx}: the suite has no case for {}",
                        op.as_str()
                    );
                }
                for (op, value, want_full, want_sparse) in cases {
                    if !kind.applies(op) {
                        continue;
                    }
                    let cond = json!({"field": name, "op": op.as_str(), "value": value});
                    let what = format!("{ctx} {} {value}", op.as_str());
                    let ids = match filtered_ids(&user, p, &cond).await {
                        Ok(ids) => ids,
                        Err(r) => {
                            failures.push(format!("{what}: {} {}", r.status, r.text));
                            continue;
                        }
                    };
                    if ids.contains(&full_id) != want_full {
                        failures.push(format!("{what}: full record should match: {want_full}"));
                    }
                    if let Some(want) = want_sparse
                        && ids.contains(&sparse_id) != want
                    {
                        failures.push(format!("{what}: sparse record should match: {want}"));
                    }
                    // The query-string form means the same.
                    if let Some(pair) = as_pair(&name, op, &value) {
                        let r = user.get_r(&format!("/api/v1/{p}?limit=500&{pair}")).await;
                        if r.status != StatusCode::OK
                            || r.ids().into_iter().collect::<BTreeSet<_>>() != ids
                        {
                            failures.push(format!("{what}: as {pair}: {} {}", r.status, r.text));
                        }
                    }
                }
            }
            // A part an address does not have, and a part of something that is not an address.
            for f in def.fields {
                let bad = match f.kind {
                    FieldKind::Address => format!("{}.planet", f.name),
                    _ => format!("{}.part", f.name),
                };
                let cond = json!({"field": bad, "op": "eq", "value": "x"});
                filtered_ids(&user, p, &cond)
                    .await
                    .expect_err(&bad)
                    .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} filter conditions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Sorting and cursors
// ---------------------------------------------------------------------------------------------

/// How the suite orders a sortable value, learnt from its field's kind (`None`: a record's own
/// instants). Blanks, NULL or '' for text, sort first ascending and last descending on both
/// backends; whole numbers, money by its amount in minor units (whatever the currency) and
/// booleans as numbers; text, ISO dates and instants, and ids (lower-case hex, which orders as
/// their bytes do) by their bytes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Blank,
    Num(i64),
    Text(String),
}

fn sort_key(kind: Option<&FieldKind>, v: &Value) -> SortKey {
    if is_blank(v) {
        return SortKey::Blank;
    }
    let text = || SortKey::Text(v.as_str().expect("a string").to_string());
    match kind {
        None => text(),
        Some(
            FieldKind::Text { .. }
            | FieldKind::LongText { .. }
            | FieldKind::Choice(_)
            | FieldKind::Url
            | FieldKind::TaxId
            | FieldKind::Date
            | FieldKind::DateTime
            | FieldKind::Ref { .. }
            | FieldKind::LineRef { .. },
        ) => text(),
        Some(FieldKind::Int { .. } | FieldKind::Duration) => {
            SortKey::Num(v.as_i64().expect("a whole number"))
        }
        // Hundredths of a percent, as stored.
        Some(FieldKind::Percent) => {
            SortKey::Num((v.as_f64().expect("a percentage") * 100.0).round() as i64)
        }
        Some(FieldKind::Money) => {
            // A stored amount always names its currency: the default is never used.
            let (minor, _) = money::parse(v, "CNY").expect("an amount");
            SortKey::Num(minor)
        }
        Some(FieldKind::Bool) => SortKey::Num(i64::from(v.as_bool().expect("a boolean"))),
        Some(
            k @ (FieldKind::Phones
            | FieldKind::Emails
            | FieldKind::StringList { .. }
            | FieldKind::Address
            | FieldKind::Labels { .. }),
        ) => panic!("{k:?} has no single order: a field of this kind cannot be sortable"),
    }
}

#[tokio::test]
async fn every_sortable_field_pages_with_cursors() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("sales", Some("Conformance")).await;
        let mut g = Gen::new(&app, &user);
        for def in entities() {
            let p = def.plural;
            // Two records alike (seed 1) check the id tiebreak; a sparse one, blank sorting.
            let mut ids = Vec::new();
            for seed in [3, 1, 4, 1, 5] {
                ids.push(id_of(&g.full(def, seed).await.0));
            }
            ids.push(id_of(&g.sparse(def, 9).await.1));
            let only_these = enc(&json!({"field": "id", "op": "in", "value": ids}).to_string());
            let all = get_ok(&user, &format!("/api/v1/{p}?limit=500&filter={only_these}")).await;
            let records: HashMap<String, Value> = all.body["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|r| (id_of(r), r.clone()))
                .collect();
            assert_eq!(records.len(), ids.len(), "{b:?} {p}: the records made");

            let mut keys: Vec<&str> = def
                .fields
                .iter()
                .filter(|f| f.sortable)
                .map(|f| f.name)
                .collect();
            keys.extend(["created_at", "updated_at"]);
            for key in keys {
                for desc in [false, true] {
                    let sort = if desc {
                        format!("-{key}")
                    } else {
                        key.to_string()
                    };
                    let ctx = format!("{b:?} {p} sort={sort}");
                    let kind = def.field(key).map(|f| &f.kind);
                    let mut want: Vec<(SortKey, String)> = records
                        .iter()
                        .map(|(id, r)| (sort_key(kind, &r[key]), id.clone()))
                        .collect();
                    want.sort();
                    if desc {
                        want.reverse();
                    }
                    let want: Vec<String> = want.into_iter().map(|(_, id)| id).collect();

                    let mut got: Vec<String> = Vec::new();
                    let mut cursor: Option<String> = None;
                    for _ in 0..=ids.len() {
                        let mut url = format!(
                            "/api/v1/{p}?sort={}&limit=2&filter={only_these}",
                            enc(&sort)
                        );
                        if let Some(c) = &cursor {
                            url.push_str(&format!("&cursor={}", enc(c)));
                        }
                        let r = get_ok(&user, &url).await;
                        let page = r.ids();
                        assert!(page.len() <= 2, "{ctx}: page size");
                        got.extend(page);
                        cursor = r.body["next_cursor"].as_str().map(str::to_string);
                        if cursor.is_none() {
                            break;
                        }
                    }
                    assert!(cursor.is_none(), "{ctx}: the cursors end");
                    assert_eq!(got, want, "{ctx}: every record once, in order");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Export
// ---------------------------------------------------------------------------------------------

/// A cell as the export writes text that a spreadsheet would run as a formula.
fn neutralized(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[tokio::test]
async fn export_has_a_column_per_field_and_the_record() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("sales", Some("Conformance")).await;
        let mut g = Gen::new(&app, &user);
        for def in entities() {
            let p = def.plural;
            let ctx = format!("{b:?} {p}");
            let (rec, _) = g.full(def, 0).await;
            let id = id_of(&rec);
            let r = get_ok(&user, &format!("/api/v1/{p}/export.csv")).await;
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("text/csv")),
                "{ctx}"
            );
            let mut reader = csv::Reader::from_reader(r.text.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .expect("header")
                .iter()
                .map(str::to_string)
                .collect();
            let col = |name: &str| {
                let at: Vec<usize> = header
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| *h == name)
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(at.len(), 1, "{ctx}: one column {name} in {header:?}");
                at[0]
            };
            let row = reader
                .records()
                .map(|row| row.expect("row"))
                .find(|row| row.get(col("id")) == Some(id.as_str()))
                .unwrap_or_else(|| panic!("{ctx}: the record is exported"));
            let cell = |name: &str| row.get(col(name)).expect("cell").to_string();
            for f in def.fields {
                let v = &rec[f.name];
                match &f.kind {
                    FieldKind::Address => {
                        for part in ADDRESS_PARTS {
                            let name = format!("{}.{part}", f.name);
                            let want = v[part].as_str().unwrap_or("");
                            assert_eq!(cell(&name), neutralized(want), "{ctx}: {name}");
                        }
                    }
                    FieldKind::Money => {
                        let c = cell(f.name);
                        for part in ["amount", "currency"] {
                            let want = v[part].as_str().expect("money part");
                            assert!(c.contains(want), "{ctx}: {} = {c}", f.name);
                        }
                    }
                    FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => {
                        let c = cell(f.name);
                        for item in v.as_array().expect("list") {
                            let main = item
                                .as_str()
                                .or_else(|| item["number"].as_str())
                                .or_else(|| item["address"].as_str())
                                .expect("item");
                            assert!(c.contains(main), "{ctx}: {} = {c} lacks {main}", f.name);
                        }
                    }
                    _ => {
                        let want = match v {
                            Value::Null => String::new(),
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        assert_eq!(cell(f.name), neutralized(&want), "{ctx}: {}", f.name);
                    }
                }
            }
            for s in ["owner_id", "created_at", "updated_at", "version"] {
                let want = match &rec[s] {
                    Value::String(x) => x.clone(),
                    other => other.to_string(),
                };
                assert_eq!(cell(s), want, "{ctx}: {s}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. OpenAPI
// ---------------------------------------------------------------------------------------------

/// Follows a local `$ref` in the OpenAPI document.
fn resolve<'d>(doc: &'d Value, v: &'d Value) -> &'d Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a local schema reference: {r}"));
            &doc["components"]["schemas"][name]
        }
        None => v,
    }
}

#[tokio::test]
async fn openapi_describes_every_entity() {
    for b in backends() {
        let app = spawn(b).await;
        let user = app.user("read_only", None).await;
        let doc = get_ok(&user, "/api/v1/openapi.json").await.body;
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{b:?}: OpenAPI 3.1"
        );
        for def in entities() {
            let p = def.plural;
            let paths = &doc["paths"];
            for (path, methods) in [
                (format!("/api/v1/{p}"), &["get", "post"][..]),
                (format!("/api/v1/{p}/{{id}}"), &["get", "patch", "delete"]),
                (format!("/api/v1/{p}/{{id}}/history"), &["get"]),
                (format!("/api/v1/{p}/{{id}}/restore"), &["post"]),
                (format!("/api/v1/{p}/export.csv"), &["get"]),
            ] {
                for m in methods {
                    assert!(
                        paths[&path][m].is_object(),
                        "{b:?}: {} {path} is documented",
                        m.to_uppercase()
                    );
                }
            }
            // The record schema has every field; the input schema every field but derived ones.
            let item = &paths[format!("/api/v1/{p}/{{id}}")];
            let record = resolve(
                &doc,
                &item["get"]["responses"]["200"]["content"]["application/json"]["schema"],
            );
            let input = resolve(
                &doc,
                &item["patch"]["requestBody"]["content"]["application/json"]["schema"],
            );
            for f in def.fields {
                assert!(
                    record["properties"][f.name].is_object(),
                    "{b:?} {p}: the record schema has {}",
                    f.name
                );
                assert_eq!(
                    input["properties"][f.name].is_object(),
                    !f.computed,
                    "{b:?} {p}: the input schema and {}",
                    f.name
                );
            }
            for s in SYSTEM_FIELDS {
                assert!(
                    record["properties"][*s].is_object(),
                    "{b:?} {p}: the record schema has {s}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Labels in both locales
// ---------------------------------------------------------------------------------------------

/// The messages of a locale's Fluent files that have a value (`key = text`, or text on the
/// indented lines that follow). Read raw: the loader falls back to English and then to the key
/// itself, which would hide a missing translation.
fn fluent_messages(locale: &str) -> BTreeMap<String, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(locale);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("locale directory") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("ftl file");
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(k) = &current {
                    let v = out.entry(k.clone()).or_insert_with(String::new);
                    v.push_str(line.trim());
                }
                continue;
            }
            current = None;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let k = k.trim().to_string();
                out.insert(k.clone(), v.trim().to_string());
                current = Some(k);
            }
        }
    }
    out
}

#[test]
fn every_entity_field_and_choice_has_labels_in_both_locales() {
    let mut missing = Vec::new();
    for locale in ["en", "zh-CN"] {
        let msgs = fluent_messages(locale);
        let has = |k: &str| msgs.get(k).is_some_and(|v| !v.is_empty());
        let mut need = |what: String, keys: Vec<String>| {
            if !keys.iter().any(|k| has(k)) {
                missing.push(format!("{locale}: {what} (one of {})", keys.join(", ")));
            }
        };
        for def in entities() {
            // As the UI asks for them (ui/records.rs, ui/mod.rs, ui/display.rs).
            for key in [
                format!("entity-{}", def.name),
                format!("entity-{}", def.plural),
                format!("nav-{}", def.plural),
            ] {
                need(key.clone(), vec![key]);
            }
            let field_keys = |name: &str| {
                vec![
                    format!("field-{}-{name}", def.name),
                    format!("field-{name}"),
                ]
            };
            for f in def.fields {
                need(format!("{}.{}", def.name, f.name), field_keys(f.name));
                match f.kind {
                    FieldKind::Choice(options) => {
                        for o in options {
                            let key = format!("choice-{}-{o}", f.name);
                            need(key.clone(), vec![key]);
                        }
                    }
                    FieldKind::Address => {
                        for part in ADDRESS_PARTS {
                            let key = format!("addr-{part}");
                            need(key.clone(), vec![key]);
                        }
                    }
                    _ => {}
                }
            }
            // The columns lists show by default, which may name system fields or the title.
            for c in def.default_columns.iter().chain(def.related_columns) {
                let base = c.split('.').next().unwrap_or(c);
                need(format!("{} column {c}", def.name), field_keys(base));
                if let Some((_, part)) = c.split_once('.') {
                    let key = format!("addr-{part}");
                    need(key.clone(), vec![key]);
                }
            }
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "labels missing:\n{}",
        missing.join("\n")
    );
}

/// An entity's rules answer with the engine's codes or those it declares (`error_codes`), so the
/// test below checks every code they can give. An empty record is what breaks rules most.
#[test]
fn entity_rules_use_declared_codes() {
    for def in entities() {
        let mut errors = guanxi_core::FieldErrors::new();
        def.behaviour
            .derive(&mut serde_json::Map::new(), &mut errors);
        for (field, e) in errors {
            assert!(
                guanxi_core::codes::ALL.contains(&e.code) || def.error_codes.contains(&e.code),
                "{}.{field}: {} is not declared",
                def.name,
                e.code
            );
        }
    }
}

/// Every error code, the engine's and each entity's own, and the API's top-level codes the
/// translation files word, has a message in both locales, which formats with the params a
/// message may use (a variable it names but no error gives would fail to format).
#[test]
fn every_error_code_has_a_message_in_both_locales() {
    use guanxi_web::i18n::I18n;
    let mut all: Vec<(&str, String)> = guanxi_core::codes::ALL
        .iter()
        .map(|c| (*c, "the engine".to_string()))
        .collect();
    for def in entities() {
        all.extend(def.error_codes.iter().map(|c| (*c, def.name.to_string())));
    }
    all.extend(
        guanxi_web::WORDED_CODES
            .iter()
            .map(|c| (*c, "the API".to_string())),
    );
    let entity = entities().first().map(|d| d.name).unwrap_or_default();
    let params: guanxi_core::Params = [
        ("max", json!(9)),
        ("min", json!(1)),
        ("value", json!("v")),
        ("options", json!(["a", "b"])),
        ("entity", json!(entity)),
        ("key", json!("k")),
        ("currency", json!("CNY")),
        ("limit", json!(10)),
        ("has", json!(11)),
        ("unit", json!("conditions")),
        ("fields", json!(["f"])),
        ("seconds", json!(5)),
        ("current", json!(2)),
        ("entry", json!(3)),
        ("part", json!("label")),
        ("choice", json!("status-open")),
        ("from_state", json!("status-open")),
        ("to_state", json!("status-won")),
        ("actions", json!(["opportunity-close_won"])),
        ("stage", json!({"en": "Won", "zh-CN": "赢单"})),
        ("count", json!(2)),
    ]
    .into_iter()
    .collect();
    let (en, zh) = (I18n::new("en"), I18n::new("zh-CN"));
    let files = [
        ("en", fluent_messages("en")),
        ("zh-CN", fluent_messages("zh-CN")),
    ];
    let mut missing = Vec::new();
    for (code, whose) in &all {
        let key = format!("error-{code}");
        for (locale, msgs) in &files {
            if msgs.get(&key).is_none_or(String::is_empty) {
                missing.push(format!("{locale}: {key} ({whose})"));
            }
        }
        match (en.try_error(code, &params), zh.try_error(code, &params)) {
            (Some(e), Some(z)) if e != z => {}
            (e, z) => missing.push(format!("{key} ({whose}) does not format: {e:?} / {z:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "error messages missing:\n{}",
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The access matrix
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn access_matrix_follows_the_default_grants() {
    for b in backends() {
        let app = spawn(b).await;
        let (team_a, team_b) = (app.team("Conf A").await, app.team("Conf B").await);
        let admin = app.user("admin", None).await;
        let mate = app.user("sales", Some("Conf A")).await;
        let other = app.user("sales", Some("Conf B")).await;
        let currency = app.core.settings.default_currency.clone();
        let mut actors = Vec::new();
        for role in Role::ALL {
            actors.push((role, app.user(role.as_str(), Some("Conf A")).await));
        }
        let mut g = Gen::new(&app, &admin);
        for def in entities() {
            let p = def.plural;
            // The smallest valid record, without references: what access is about is the owner.
            let (minimal, _) = g.sparse(def, 2).await;
            for (role, u) in &actors {
                let actor = Actor {
                    user_id: u.id,
                    name: String::new(),
                    email: u.email.clone(),
                    role: *role,
                    team_id: Some(team_a),
                    locale: "en".into(),
                    grants: HashMap::new(),
                };
                let grant = default_grant(*role, def.access);
                let owners = [
                    (u.id, team_a, "own"),
                    (mate.id, team_a, "a team-mate's"),
                    (other.id, team_b, "another team's"),
                ];
                let mut records = Vec::new();
                for (owner, _, _) in &owners {
                    let mut body = minimal.clone();
                    body["owner_id"] = json!(owner);
                    records.push(id_of(&admin.create(p, body).await));
                }
                let ctx = format!("{b:?} {p} as {role}");

                // Creating needs some write scope.
                let r = u.post_r(&format!("/api/v1/{p}"), &minimal).await;
                if grant.write == Scope::None {
                    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                } else {
                    assert_eq!(r.status, StatusCode::CREATED, "{ctx}: create: {}", r.text);
                }

                let only_these =
                    enc(&json!({"field": "id", "op": "in", "value": records}).to_string());
                let r = u
                    .get_r(&format!("/api/v1/{p}?limit=500&filter={only_these}"))
                    .await;
                let listed: BTreeSet<String> = if grant.read == Scope::None {
                    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                    BTreeSet::new()
                } else {
                    assert_eq!(r.status, StatusCode::OK, "{ctx}: list: {}", r.text);
                    r.ids().into_iter().collect()
                };

                for ((owner, owner_team, whose), id) in owners.iter().zip(&records) {
                    let what = format!("{ctx} on {whose} record");
                    let can_read = actor.reaches(grant.read, *owner, Some(*owner_team));
                    let can_write =
                        can_read && actor.reaches(grant.write, *owner, Some(*owner_team));
                    let path = format!("/api/v1/{p}/{id}");
                    assert_eq!(listed.contains(id), can_read, "{what}: listed");
                    let r = u.get_r(&path).await;
                    if can_read {
                        assert_eq!(r.status, StatusCode::OK, "{what}: GET: {}", r.text);
                    } else {
                        r.assert_error(StatusCode::NOT_FOUND, "not_found", None);
                    }
                    // Hidden records look absent; visible ones the role may not change are 403.
                    let refused = |r: &Resp| {
                        if can_read {
                            r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                        } else {
                            r.assert_error(StatusCode::NOT_FOUND, "not_found", None);
                        }
                    };
                    let current = get_ok(&admin, &path).await.body;
                    let (field, change) = changing_patch(def, &current, 7, &currency);
                    let r = u.patch_r(&path, &json!({field: change.input})).await;
                    if can_write {
                        assert_eq!(r.status, StatusCode::OK, "{what}: PATCH: {}", r.text);
                    } else {
                        refused(&r);
                        assert_eq!(
                            get_ok(&admin, &path).await.body,
                            current,
                            "{what}: unchanged"
                        );
                    }
                    let r = u.delete_r(&path).await;
                    if can_write {
                        assert_eq!(
                            r.status,
                            StatusCode::NO_CONTENT,
                            "{what}: DELETE: {}",
                            r.text
                        );
                    } else {
                        refused(&r);
                        get_ok(&admin, &path).await;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Schema
// ---------------------------------------------------------------------------------------------

/// The kinds of database column the engine reads and writes, by the types PostgreSQL reports.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ColumnType {
    /// Text stored as '' when empty (never NULL), which sorting and `empty` rely on.
    Text,
    Int,
    Date,
    Bool,
    Json,
    Uuid,
    Instant,
}

impl ColumnType {
    fn postgres(self) -> &'static [&'static str] {
        match self {
            ColumnType::Text => &["text", "character varying"],
            ColumnType::Int => &["bigint", "integer"],
            ColumnType::Date => &["date"],
            ColumnType::Bool => &["boolean"],
            ColumnType::Json => &["jsonb", "json"],
            ColumnType::Uuid => &["uuid"],
            ColumnType::Instant => &["timestamp with time zone"],
        }
    }
}

/// Every column the engine expects of an entity's table, with its type.
fn expected_columns(def: &EntityDef) -> Vec<(String, ColumnType)> {
    let mut out = Vec::new();
    for f in def.fields {
        let cols = values::columns(f);
        let types: Vec<ColumnType> = match f.kind {
            FieldKind::Text { .. }
            | FieldKind::LongText { .. }
            | FieldKind::Choice(_)
            | FieldKind::Url
            | FieldKind::TaxId
            | FieldKind::Address => vec![ColumnType::Text; cols.len()],
            FieldKind::Int { .. } | FieldKind::Duration => vec![ColumnType::Int],
            FieldKind::Money => vec![ColumnType::Int, ColumnType::Text],
            FieldKind::Date => vec![ColumnType::Date],
            FieldKind::Bool => vec![ColumnType::Bool],
            FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => {
                vec![ColumnType::Json]
            }
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } => vec![ColumnType::Uuid],
            FieldKind::Percent => vec![ColumnType::Int],
            FieldKind::DateTime => vec![ColumnType::Instant],
            FieldKind::Labels { .. } => vec![ColumnType::Json],
        };
        assert_eq!(
            types.len(),
            cols.len(),
            "{}.{}: a type per column",
            def.table,
            f.name
        );
        out.extend(cols.into_iter().zip(types));
    }
    for s in SYSTEM_FIELDS {
        let t = match *s {
            "version" => ColumnType::Int,
            "created_at" | "updated_at" | "deleted_at" => ColumnType::Instant,
            _ => ColumnType::Uuid,
        };
        out.push((s.to_string(), t));
    }
    out.push(("custom".into(), ColumnType::Json));
    out
}

#[tokio::test]
async fn every_declared_column_exists_in_the_migrated_tables() {
    use guanxi_core::db::{get_i64, get_string, raw_query};
    for b in backends() {
        let app = spawn(b).await;
        let conn = app.core.db.reader();
        for def in entities() {
            // name -> (type, nullable)
            let actual: HashMap<String, (String, bool)> = match b {
                Backend::Sqlite => {
                    let rows = raw_query(
                        conn,
                        &format!(
                            "SELECT name, type, \"notnull\" AS not_null FROM pragma_table_info('{}')",
                            def.table
                        ),
                        vec![],
                    )
                    .await
                    .expect("pragma_table_info");
                    rows.iter()
                        .map(|r| {
                            (
                                get_string(r, "name").expect("name"),
                                (
                                    get_string(r, "type").expect("type").to_lowercase(),
                                    get_i64(r, "not_null").expect("not_null") == 0,
                                ),
                            )
                        })
                        .collect()
                }
                Backend::Postgres => {
                    let rows = raw_query(
                        conn,
                        "SELECT column_name::text AS name, data_type::text AS type, \
                         is_nullable::text AS nullable FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1",
                        vec![def.table.into()],
                    )
                    .await
                    .expect("information_schema.columns");
                    rows.iter()
                        .map(|r| {
                            (
                                get_string(r, "name").expect("name"),
                                (
                                    get_string(r, "type").expect("type"),
                                    get_string(r, "nullable").expect("nullable") == "YES",
                                ),
                            )
                        })
                        .collect()
                }
            };
            assert!(!actual.is_empty(), "{b:?}: table {} exists", def.table);
            for (col, want) in expected_columns(def) {
                let ctx = format!("{b:?} {}.{col}", def.table);
                let (ty, nullable) = actual.get(&col).unwrap_or_else(|| {
                    panic!("{ctx}: no such column; the table has {:?}", actual.keys())
                });
                if want == ColumnType::Text {
                    assert!(
                        !nullable,
                        "{ctx}: text columns are NOT NULL ('' when empty)"
                    );
                }
                if b == Backend::Postgres {
                    assert!(
                        want.postgres().contains(&ty.as_str()),
                        "{ctx}: type {ty}, expected one of {:?}",
                        want.postgres()
                    );
                }
            }
            // A sort orders by a real column, and pages past blanks if the column has any.
            for f in def.fields.iter().filter(|f| f.sortable) {
                let ctx = format!("{b:?} {}.{} (sortable)", def.table, f.name);
                let by = values::sort_column(f)
                    .unwrap_or_else(|| panic!("{ctx}: a {:?} has no sort column", f.kind));
                let (_, nullable) = actual
                    .get(&by.column)
                    .unwrap_or_else(|| panic!("{ctx}: sorts by {}, no column", by.column));
                assert!(
                    by.nullable || !nullable,
                    "{ctx}: {} takes NULL, but the sort takes it for never blank",
                    by.column
                );
            }
        }
    }
}
