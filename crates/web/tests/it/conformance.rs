//! The conformance suite (DESIGN.md section 10): every entity in the registry, on every backend,
//! through the public API. Nothing here names an entity or one of its fields: the tests learn
//! them from `registry()`, so an entity is tested by being declared. What a field accepts, how a
//! filter operator applies and who may do what are derived from the declarations, `filter.rs`
//! and `default_grant`, not written out per entity; child lines from their fields, states and
//! actions from the state machine and the action declarations, and what kinds alone cannot make
//! valid from the entity's `example`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use guanxi_core::authz::{Actor, Role, Scope, default_grant};
use guanxi_core::identity::users;
use guanxi_core::records::def::{
    ADDRESS_PARTS, Access, ActionDef, ChildDef, EntityDef, FieldDef, FieldKind, SYSTEM_FIELDS,
    StateMachine,
};
use guanxi_core::records::{FilterOp, JsonMap, ListQuery, money, values};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Backend, Resp, TestApp, TestUser, backends, spawn};

pub(crate) fn entities() -> &'static [&'static EntityDef] {
    guanxi_core::areas::registry().all()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn id_of(v: &Value) -> String {
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
pub(crate) struct Sample {
    pub(crate) input: Value,
    pub(crate) canonical: Value,
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
        FieldKind::Choice(set) => {
            let codes = set.codes();
            same(json!(codes[seed as usize % codes.len()]))
        }
        // Two options, the first repeated: repeats are dropped, the order kept.
        FieldKind::MultiChoice(set) => {
            let codes = set.codes();
            let a = codes[seed as usize % codes.len()];
            let b = codes[(seed as usize + 1) % codes.len()];
            Some(Sample {
                input: json!([a, b, a]),
                canonical: if a == b { json!([a]) } else { json!([a, b]) },
            })
        }
        // Custom fields of these kinds are checked in `custom_fields.rs`; the first entity to
        // declare one brings its checks here.
        // A decimal typed as text with padding and trailing zeros reads back as its number.
        FieldKind::Decimal { .. } => {
            let units = 1_000 + i64::from(seed) * 7;
            let text = format!("{}.{:02}", units / 100, units % 100);
            let normal = text.trim_end_matches('0').trim_end_matches('.');
            Some(Sample {
                input: json!(format!(" {text}0 ")),
                canonical: serde_json::from_str(normal).expect("a number"),
            })
        }
        FieldKind::User => {
            panic!("{}: add conformance samples for its kind", field.name)
        }
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
        // A line of the record another field refers to: the entity picks it. A record
        // referred to is made by the suite (`Suite::value`).
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => None,
    }
}

/// What a field holds when it was never set or was cleared.
fn blank_of(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Bool => json!(false),
        FieldKind::Phones
        | FieldKind::Emails
        | FieldKind::StringList { .. }
        | FieldKind::MultiChoice(_) => json!([]),
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

/// Samples of some fields.
type FieldSamples = Vec<(&'static FieldDef, Sample)>;

/// A valid body for an entity, in three parts: values from the field kinds, lines of the child
/// collections made from their fields' samples, and what the entity's `example` gives (values
/// that kinds alone cannot make valid). The example is sent as it is and takes precedence: a
/// field or collection it names is neither sampled nor generated.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    fields: FieldSamples,
    /// Generated lines per child collection, each line its fields' samples.
    lines: Vec<(&'static ChildDef, Vec<FieldSamples>)>,
    example: JsonMap,
}

impl Samples {
    fn body(&self) -> Value {
        let mut out = JsonMap::new();
        for (f, s) in &self.fields {
            out.insert(f.name.to_string(), s.input.clone());
        }
        for (child, lines) in &self.lines {
            out.insert(child.name.to_string(), lines_input(lines));
        }
        for (k, v) in &self.example {
            out.insert(k.clone(), v.clone());
        }
        // The suite makes records alike on purpose (a seed twice, one sample per field): a match
        // that a duplicate-check rule warns about is saved anyway.
        out.insert("allow_duplicate".into(), json!(true));
        Value::Object(out)
    }

    fn field(&self, name: &str) -> Option<&Sample> {
        self.fields
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, s)| s)
    }

    fn lines_of(&self, child: &str) -> Option<&Vec<FieldSamples>> {
        self.lines
            .iter()
            .find(|(c, _)| c.name == child)
            .map(|(_, l)| l)
    }

    /// What the body sends for a field or a child collection.
    fn input(&self, name: &str) -> Option<Value> {
        self.example
            .get(name)
            .cloned()
            .or_else(|| self.field(name).map(|s| s.input.clone()))
            .or_else(|| self.lines_of(name).map(|l| lines_input(l)))
    }
}

fn lines_input(lines: &[FieldSamples]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|line| {
                Value::Object(
                    line.iter()
                        .map(|(f, s)| (f.name.to_string(), s.input.clone()))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The ids of a record's lines, in order.
fn line_ids(lines: &Value) -> Vec<String> {
    lines
        .as_array()
        .unwrap_or_else(|| panic!("a list of lines, got {lines}"))
        .iter()
        .map(|l| {
            let id = l["id"].as_str().unwrap_or_else(|| panic!("a line id: {l}"));
            assert!(
                uuid::Uuid::parse_str(id).is_ok(),
                "a line id is a UUID: {l}"
            );
            id.to_string()
        })
        .collect()
}

/// Lines as the API gives them back for generated ones: in the order sent, each with an id of
/// its own, each sampled field in its canonical form.
#[track_caller]
fn assert_lines(ctx: &str, got: &Value, want: &[FieldSamples]) {
    let ids = line_ids(got);
    assert_eq!(ids.len(), want.len(), "{ctx}: as many lines as sent: {got}");
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ctx}: line ids are distinct");
    for (i, w) in want.iter().enumerate() {
        for (f, s) in w {
            assert_eq!(
                got[i][f.name], s.canonical,
                "{ctx}[{i}].{}: sent {}",
                f.name, s.input
            );
        }
    }
}

/// What the entity's example gives for this seed (nothing when it has none).
fn example_of(def: &EntityDef, seed: u32) -> JsonMap {
    def.example.map(|e| e(seed)).unwrap_or_default()
}

/// A line reference the entity fills in itself when it is not required.
fn left_to_entity(f: &FieldDef) -> bool {
    matches!(f.kind, FieldKind::LineRef { .. }) && !f.required
}

/// Lets the suite's records be alike (a seed twice, a referenced record per role, one sample per
/// field): every duplicate-check rule only warns, and every body says `allow_duplicate`.
async fn duplicates_only_warn(admin: &TestUser) {
    for def in entities() {
        for d in def.dedupe {
            let path = format!("/api/v1/{}/dedupe-rules/{}", def.plural, d.rule);
            let r = admin.put_r(&path, &json!({"action": "warn"})).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        }
    }
}

/// Builds valid records, creating the records that references point to on first use (one per
/// referenced entity, shared by every record that refers to it). Records of an entity that the
/// user's role may not write (a setup list) are made by an administrator: `writer` says who,
/// and every test acts on an entity as its writer. Reference targets an administrator makes are
/// given to the user, so the user may refer to them.
pub(crate) struct Gen<'a> {
    user: &'a TestUser,
    role: Role,
    admin: &'a TestUser,
    currency: String,
    targets: HashMap<&'static str, String>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(
        app: &TestApp,
        user: &'a TestUser,
        role: Role,
        admin: &'a TestUser,
    ) -> Gen<'a> {
        Gen {
            user,
            role,
            admin,
            currency: app.core.settings.default_currency.clone(),
            targets: HashMap::new(),
        }
    }

    /// Who makes and changes the suite's records of `def`.
    pub(crate) fn writer(&self, def: &EntityDef) -> &'a TestUser {
        if default_grant(self.role, def.access).write == Scope::None {
            self.admin
        } else {
            self.user
        }
    }

    /// A value for every field that can be set, and two lines for every child collection that
    /// can be written. Records made only to be referred to leave out references that are not
    /// required (so a self-reference, a parent of the same entity, ends) and have no generated
    /// lines; the entity's example is merged into every body.
    fn samples<'s>(
        &'s mut self,
        def: &'static EntityDef,
        seed: u32,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Samples> + 's>> {
        Box::pin(async move {
            let mut out = Samples {
                example: example_of(def, seed),
                ..Samples::default()
            };
            // Line references last: they need the record their `via` field refers to.
            let (plain, line_refs): (Vec<&'static FieldDef>, Vec<&'static FieldDef>) = def
                .fields
                .iter()
                .filter(|f| !out.example.contains_key(f.name))
                .partition(|f| !matches!(f.kind, FieldKind::LineRef { .. }));
            for f in plain.into_iter().chain(line_refs) {
                let context = out.body();
                if let Some(s) = self.value(def, f, seed, depth, &context).await {
                    out.fields.push((f, s));
                }
            }
            if depth == 0 {
                for child in def.children {
                    if child.computed || out.example.contains_key(child.name) {
                        continue;
                    }
                    let context = out.body();
                    let mut lines = Vec::new();
                    for i in 0..2 {
                        let mut line = Vec::new();
                        for f in child.fields {
                            if let Some(s) = self.value(def, f, seed * 2 + i, depth, &context).await
                            {
                                line.push((f, s));
                            }
                        }
                        lines.push(line);
                    }
                    out.lines.push((child, lines));
                }
            }
            out
        })
    }

    /// A valid value of a field of `def` (or of one of its lines, or of one of its actions'
    /// inputs), or `None` where the suite leaves it out: computed fields, references a record
    /// made only to be referred to does not need, and line references the entity picks itself.
    /// `context` holds the record's values so far, which a line reference goes through.
    async fn value(
        &mut self,
        def: &'static EntityDef,
        f: &'static FieldDef,
        seed: u32,
        depth: usize,
        context: &Value,
    ) -> Option<Sample> {
        if f.computed {
            return None;
        }
        match f.kind {
            FieldKind::Ref { entity, .. } => {
                if depth > 0 && !f.required {
                    return None;
                }
                let id = json!(self.target(entity, depth).await);
                Some(Sample {
                    input: id.clone(),
                    canonical: id,
                })
            }
            // The suite's user, who is active.
            FieldKind::User => {
                let id = json!(self.user.id);
                Some(Sample {
                    input: id.clone(),
                    canonical: id,
                })
            }
            // A record of the first other entity of business records.
            FieldKind::Regarding => {
                if depth > 0 && !f.required {
                    return None;
                }
                let other = guanxi_core::areas::registry()
                    .all()
                    .iter()
                    .find(|e| e.access == Access::Records && e.name != def.name)
                    .expect("another entity of business records");
                let v = json!({"entity": other.name, "id": self.target(other.name, depth).await});
                Some(Sample {
                    input: v.clone(),
                    canonical: v,
                })
            }
            FieldKind::LineRef { via, child } => {
                if !f.required {
                    return None;
                }
                let id = json!(self.line_of(def, via, child, context).await);
                Some(Sample {
                    input: id.clone(),
                    canonical: id,
                })
            }
            _ => sample(f, seed, &self.currency),
        }
    }

    /// The first line of `child` in the record that field `via` of `context` refers to.
    async fn line_of(
        &self,
        def: &EntityDef,
        via: &str,
        child: &ChildDef,
        context: &Value,
    ) -> String {
        let Some(FieldKind::Ref { entity, .. }) = def.field(via).map(|f| &f.kind) else {
            panic!(
                "{}: a line reference goes through reference field {via}",
                def.plural
            );
        };
        let target = context[via]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no {via} to pick a line of", def.plural));
        let plural = guanxi_core::areas::registry()
            .by_name(entity)
            .unwrap_or_else(|| panic!("entity {entity} is declared"))
            .plural;
        let r = get_ok(self.admin, &format!("/api/v1/{plural}/{target}")).await;
        r.body[child.name][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{plural}/{target} has a line of {}", child.name))
            .to_string()
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
        let writer = self.writer(def);
        let mut body = samples.body();
        if writer.id != self.user.id {
            body["owner_id"] = json!(self.user.id);
        }
        let id = id_of(&writer.create(def.plural, body).await);
        self.targets.insert(entity, id.clone());
        id
    }

    /// Creates a full record (every settable field, generated lines) as the entity's writer and
    /// returns it with its samples.
    pub(crate) async fn full(&mut self, def: &'static EntityDef, seed: u32) -> (Value, Samples) {
        let samples = self.samples(def, seed, 0).await;
        let rec = self.writer(def).create(def.plural, samples.body()).await;
        (rec, samples)
    }

    /// The smallest valid body: the required fields and the entity's example, plus whichever
    /// fields or collections the entity's own rules ask for (named in a 422), taken from a full
    /// sample. Creates the record as the entity's writer.
    async fn sparse(&mut self, def: &'static EntityDef, seed: u32) -> (Value, Value) {
        let all = self.samples(def, seed, 0).await;
        let mut body: JsonMap = all
            .fields
            .iter()
            .filter(|(f, _)| f.required)
            .map(|(f, s)| (f.name.to_string(), s.input.clone()))
            .collect();
        body.extend(all.example.clone());
        body.insert("allow_duplicate".into(), json!(true));
        let writer = self.writer(def);
        for _ in 0..=def.fields.len() + def.children.len() {
            let r = writer
                .post_r(
                    &format!("/api/v1/{}", def.plural),
                    &Value::Object(body.clone()),
                )
                .await;
            if r.status == StatusCode::CREATED {
                return (Value::Object(body), r.body);
            }
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
            let before = body.len();
            for named in r.body["error"]["fields"]
                .as_object()
                .expect("fields")
                .keys()
            {
                // `lines[1].quantity` is about the collection `lines`.
                let base = named.split(['[', '.']).next().unwrap_or(named);
                if !body.contains_key(base)
                    && let Some(v) = all.input(base)
                {
                    body.insert(base.to_string(), v);
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

    /// A valid input for an action on `rec`: a value for every input field the suite can make.
    async fn action_input(
        &mut self,
        def: &'static EntityDef,
        action: &'static ActionDef,
        rec: &Value,
        seed: u32,
    ) -> Value {
        let mut out = JsonMap::new();
        for f in action.input {
            if let Some(s) = self.value(def, f, seed, 0, rec).await {
                out.insert(f.name.to_string(), s.input);
            }
        }
        Value::Object(out)
    }
}

/// A change to one plain field (not a reference, not derived, not given by the entity's
/// example) to a value it does not hold now.
pub(crate) fn changing_patch(
    def: &EntityDef,
    current: &Value,
    seed: u32,
    currency: &str,
) -> (&'static str, Sample) {
    let example = example_of(def, seed);
    for f in def.fields {
        if matches!(
            f.kind,
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding
        ) || example.contains_key(f.name)
        {
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

pub(crate) async fn get_ok(u: &TestUser, path: &str) -> Resp {
    let r = u.get_r(path).await;
    assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
    r
}

/// The suite's usual cast: a sales rep, who writes business records, and an administrator, who
/// writes the setup lists.
pub(crate) async fn cast(app: &TestApp) -> (TestUser, TestUser) {
    (
        app.user("sales", Some("Conformance")).await,
        app.user("admin", None).await,
    )
}

// ---------------------------------------------------------------------------------------------
// 1. Valid records per field kind
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_field_kind_round_trips() {
    for b in backends() {
        let app = spawn(b).await;
        let (sales, admin) = cast(&app).await;
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            let samples = g.samples(def, 0, 0).await;
            for f in def.fields.iter().filter(|f| !f.computed) {
                assert!(
                    samples.field(f.name).is_some()
                        || samples.example.contains_key(f.name)
                        || left_to_entity(f),
                    "{p}: a sample for settable field {}",
                    f.name
                );
            }

            let r = user.post_r(&format!("/api/v1/{p}"), &samples.body()).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?} {p}: {}", r.text);
            let id = id_of(&r.body);
            assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{b:?} {p}");
            assert_eq!(
                r.header("location"),
                Some(format!("/api/v1/{p}/{id}")),
                "{b:?} {p}"
            );
            let created = r.body;
            let got = get_ok(user, &format!("/api/v1/{p}/{id}")).await;
            assert_eq!(
                got.body, created,
                "{b:?} {p}: GET equals what create returned"
            );
            let rec = &got.body;
            for (f, s) in &samples.fields {
                assert_eq!(
                    rec[f.name], s.canonical,
                    "{b:?} {p}.{}: sent {}",
                    f.name, s.input
                );
            }
            assert_listed_as_read(&app, user, def, &got.body).await;
            // A reference reads only the title's declared fields to name the record.
            let whole = rec.as_object().cloned().unwrap_or_default();
            let named: JsonMap = whole
                .iter()
                .filter(|(k, _)| def.title_fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for locale in ["en", "zh-CN"] {
                assert_eq!(
                    (def.title)(&named, locale),
                    (def.title)(&whole, locale),
                    "{b:?} {p}: the title reads only {:?}",
                    def.title_fields
                );
                assert!(
                    !(def.title)(&whole, locale).is_empty(),
                    "{b:?} {p}: a title"
                );
            }
            for (child, lines) in &samples.lines {
                assert_lines(
                    &format!("{b:?} {p}.{}", child.name),
                    &rec[child.name],
                    lines,
                );
            }
            for f in def.fields {
                assert!(
                    rec.get(f.name).is_some(),
                    "{b:?} {p}: {} is in the record",
                    f.name
                );
            }
            // Every collection is in the record as a list of lines with ids, and one the
            // example filled has as many lines as it gave.
            for child in def.children {
                let ids = line_ids(&rec[child.name]);
                if let Some(Value::Array(sent)) = samples.example.get(child.name) {
                    assert_eq!(ids.len(), sent.len(), "{b:?} {p}.{}", child.name);
                }
            }
            for s in SYSTEM_FIELDS {
                assert!(rec.get(*s).is_some(), "{b:?} {p}: system field {s}");
            }
            assert_eq!(rec["owner_id"], user.id.to_string(), "{b:?} {p}");
            assert_eq!(rec["created_by"], user.id.to_string(), "{b:?} {p}");
            assert_eq!(rec["version"], 1, "{b:?} {p}");
            assert_eq!(rec["deleted_at"], Value::Null, "{b:?} {p}");

            // Every value changed at once goes through the update path the same way; the
            // lines sent without ids replace the old ones.
            let next = g.samples(def, 1, 0).await;
            let r = user
                .patch_if_match(&format!("/api/v1/{p}/{id}"), 1, &next.body())
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?} {p}: {}", r.text);
            assert_eq!(r.body["version"], 2, "{b:?} {p}");
            for (f, s) in &next.fields {
                assert_eq!(
                    r.body[f.name], s.canonical,
                    "{b:?} {p}.{} after PATCH",
                    f.name
                );
            }
            for (child, lines) in &next.lines {
                let ctx = format!("{b:?} {p}.{} after PATCH", child.name);
                assert_lines(&ctx, &r.body[child.name], lines);
                let old: BTreeSet<String> = line_ids(&rec[child.name]).into_iter().collect();
                assert!(
                    line_ids(&r.body[child.name])
                        .iter()
                        .all(|id| !old.contains(id)),
                    "{ctx}: lines sent without ids are new lines"
                );
            }

            // Clearing every optional field gives each kind's blank (the entity's own rules may
            // keep some: those named in a 422 are left as they are; a line reference is the
            // entity's to fill).
            let mut clear: serde_json::Map<String, Value> = def
                .fields
                .iter()
                .filter(|f| !f.required && !f.computed && !left_to_entity(f))
                .filter(|f| !next.example.contains_key(f.name))
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

            // Computed fields and computed collections: sending one is refused, naming it.
            let computed = def
                .fields
                .iter()
                .filter(|f| f.computed)
                .map(|f| (f.name, json!("set-by-hand.example.com")))
                .chain(
                    def.children
                        .iter()
                        .filter(|c| c.computed)
                        .map(|c| (c.name, json!([]))),
                );
            for (name, value) in computed {
                let mut body = samples.body();
                body[name] = value.clone();
                let r = user.post_r(&format!("/api/v1/{p}"), &body).await;
                r.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(name),
                );
                let r = user
                    .patch_r(&format!("/api/v1/{p}/{id}"), &json!({name: value}))
                    .await;
                r.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(name),
                );
                // Sent back as the API gave it, it is refused all the same.
                let now = get_ok(user, &format!("/api/v1/{p}/{id}")).await.body;
                let r = user
                    .patch_r(&format!("/api/v1/{p}/{id}"), &json!({name: now[name]}))
                    .await;
                r.assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some(name),
                );
            }
        }
    }
}

/// A list shows a record as a GET does, without its child collections, and writes it from its
/// row exactly as the record that row decodes to serializes (`list_rows` against `list`).
async fn assert_listed_as_read(
    app: &TestApp,
    user: &TestUser,
    def: &'static EntityDef,
    got: &Value,
) {
    let b = app.backend;
    let p = def.plural;
    let id = id_of(got);
    let page = get_ok(user, &format!("/api/v1/{p}?id={id}")).await;
    let mut want = got.clone();
    for child in def.children {
        want.as_object_mut().expect("record").remove(child.name);
    }
    assert_eq!(
        page.body["data"],
        json!([want]),
        "{b:?} {p}: listed as read"
    );

    let u = users::find_by_email(&app.core.db, &user.email)
        .await
        .expect("user")
        .expect("user exists");
    let actor = users::actor_for(&app.core, &u).await.expect("actor");
    let q = ListQuery {
        limit: 50,
        ..Default::default()
    };
    let svc = app.core.records(def);
    let records = svc.list(&actor, &q).await.expect("list");
    let rows = svc.list_rows(&actor, &q).await.expect("list rows");
    assert!(!records.items.is_empty(), "{b:?} {p}");
    assert_eq!(
        serde_json::to_string(&rows.items()).expect("rows"),
        serde_json::to_string(&records.items).expect("records"),
        "{b:?} {p}: rows write the records they hold"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Lifecycle: create, get, patch, If-Match, delete, restore, purge, history
// ---------------------------------------------------------------------------------------------

/// An audit entry's changes: field → (from, to).
fn changes(entry: &Value) -> BTreeMap<String, (Value, Value)> {
    entry["changes"]
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
}

/// The newest entry of a record's history.
async fn newest_entry(u: &TestUser, path: &str) -> Value {
    get_ok(u, &format!("{path}/history")).await.body["data"][0].clone()
}

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
        let (sales, admin) = cast(&app).await;
        let currency = app.core.settings.default_currency.clone();
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            let ctx = format!("{b:?} {p}");
            let (created, samples) = g.full(def, 0).await;
            let id = id_of(&created);
            let path = format!("/api/v1/{p}/{id}");

            let r = get_ok(user, &path).await;
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
            let r = get_ok(user, &path).await;
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
            let r = get_ok(user, &bin).await;
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
            let r = get_ok(user, &path).await;
            assert_eq!(
                r.header("etag"),
                Some(format!("\"{restored_version}\"")),
                "{ctx}"
            );
            assert_eq!(r.body[field], change.canonical, "{ctx}: restored as it was");
            assert!(!bin_ids(&get_ok(user, &bin).await).contains(&id), "{ctx}");

            let r = user.delete_r(&path).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);
            let r = user
                .post_r(
                    &format!("/api/v1/recycle-bin/{}/{id}/restore", def.name),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
            get_ok(user, &path).await;
            let r = user.delete_r(&path).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{ctx}: {}", r.text);

            // History, oldest first, with field-level changes.
            let h = get_ok(user, &format!("{path}/history")).await;
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
            let create = changes(&entries[0]);
            for (f, s) in &samples.fields {
                if !is_blank(&s.canonical) {
                    assert_eq!(
                        create.get(f.name),
                        Some(&(Value::Null, s.canonical.clone())),
                        "{ctx}: create records {}",
                        f.name
                    );
                }
            }
            // A new record's lines are recorded whole, each at its index.
            for child in def.children.iter().filter(|c| !c.computed) {
                for i in 0..line_ids(&created[child.name]).len() {
                    let key = format!("{}[{i}]", child.name);
                    let (from, to) = create
                        .get(&key)
                        .unwrap_or_else(|| panic!("{ctx}: create records {key}"));
                    assert_eq!(from, &Value::Null, "{ctx}: {key}");
                    assert!(
                        to.is_object() && to.get("id").is_none(),
                        "{ctx}: {key} = {to}"
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
            sales
                .delete_r(&purge)
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
    /// A decimal of two places or more: a step of 0.01 is a value of its own.
    Decimal,
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
            // `regarding` filters by the id it regards (`regarding.entity` by the entity).
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => {
                Filtered::Id
            }
            FieldKind::Percent => Filtered::Ordered(Ordered::Percent),
            FieldKind::Decimal { .. } => Filtered::Ordered(Ordered::Decimal),
            FieldKind::DateTime => Filtered::Ordered(Ordered::Instant),
            FieldKind::Labels { .. } => Filtered::Unfilterable,
            FieldKind::Phones => Filtered::Points { phone: true },
            FieldKind::Emails => Filtered::Points { phone: false },
            FieldKind::StringList { .. } => Filtered::List,
            FieldKind::Address => Filtered::WholeAddress,
            FieldKind::MultiChoice(_) | FieldKind::User => {
                panic!("add conformance filters for {kind:?}")
            }
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
        Ordered::Percent | Ordered::Decimal => {
            let n = v.as_f64().expect("percentage or decimal");
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
            let x = v.as_str().or_else(|| v["id"].as_str()).expect("id");
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
        let (sales, admin) = cast(&app).await;
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            let (full, _) = g.full(def, 0).await;
            let (_, sparse) = g.sparse(def, 1).await;
            // A record after each action, for fields only an action fills (a reason a deal was
            // lost).
            let mut acted = Vec::new();
            for action in def.actions {
                let (rec, _) = g.full(def, 2).await;
                let Some(rec) = bring_to(&mut g, def, rec, action.from).await else {
                    continue;
                };
                let input = g.action_input(def, action, &rec, 2).await;
                let url = format!("/api/v1/{p}/{}/{}", id_of(&rec), action.name);
                let r = user.post_r(&url, &input).await;
                assert_eq!(r.status, StatusCode::OK, "{b:?} POST {url}: {}", r.text);
                acted.push(r.body);
            }
            let sparse_id = id_of(&sparse);
            for (name, kind, field, part) in filterable(def) {
                let value_in = |rec: &Value| match part {
                    Some(pt) => rec[&field][pt].clone(),
                    None => rec[&field].clone(),
                };
                let ctx = format!("{b:?} {p}: {name}");
                // Bools and the system fields always hold a value.
                let blank = |v: &Value| kind != Filtered::Bool && is_blank(v);
                // The value conditions are tried on the full record, or on the first record an
                // action gave a value when the full record has none.
                let full = std::iter::once(&full)
                    .chain(&acted)
                    .find(|r| !blank(&value_in(r)))
                    .unwrap_or(&full);
                let full_id = id_of(full);
                let (v_full, v_sparse) = (value_in(full), value_in(&sparse));
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
                        let r = filtered_ids(user, p, &cond).await.expect_err(&ctx);
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
                    let ids = match filtered_ids(user, p, &cond).await {
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
                filtered_ids(user, p, &cond)
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
            k @ (FieldKind::MultiChoice(_)
            | FieldKind::Decimal { .. }
            | FieldKind::User
            | FieldKind::Regarding),
        ) => panic!("add conformance sorts for {k:?}"),
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
    // Collected rather than failed one by one, so one run shows every sort that is wrong.
    let mut failures: Vec<String> = Vec::new();
    for b in backends() {
        let app = spawn(b).await;
        let (sales, admin) = cast(&app).await;
        duplicates_only_warn(&admin).await;
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            // Two records alike (seed 1) check the id tiebreak; a sparse one, blank sorting.
            let mut ids = Vec::new();
            for seed in [3, 1, 4, 1, 5] {
                ids.push(id_of(&g.full(def, seed).await.0));
            }
            ids.push(id_of(&g.sparse(def, 9).await.1));
            let only_these = enc(&json!({"field": "id", "op": "in", "value": ids}).to_string());
            let all = get_ok(user, &format!("/api/v1/{p}?limit=500&filter={only_these}")).await;
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
                    let mut error = None;
                    for _ in 0..=ids.len() {
                        let mut url = format!(
                            "/api/v1/{p}?sort={}&limit=2&filter={only_these}",
                            enc(&sort)
                        );
                        if let Some(c) = &cursor {
                            url.push_str(&format!("&cursor={}", enc(c)));
                        }
                        let r = user.get_r(&url).await;
                        if r.status != StatusCode::OK {
                            let page = if cursor.is_some() {
                                "a next page"
                            } else {
                                "page 1"
                            };
                            error = Some(format!("{page}: {} {}", r.status, r.text));
                            break;
                        }
                        let page = r.ids();
                        assert!(page.len() <= 2, "{ctx}: page size");
                        got.extend(page);
                        cursor = r.body["next_cursor"].as_str().map(str::to_string);
                        if cursor.is_none() {
                            break;
                        }
                    }
                    if let Some(e) = error {
                        failures.push(format!("{ctx}: {e}"));
                    } else if cursor.is_some() {
                        failures.push(format!("{ctx}: the cursors do not end"));
                    } else if got != want {
                        failures.push(format!(
                            "{ctx}: every record once, in order: got {got:?}, want {want:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} sorts failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
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
        let (sales, admin) = cast(&app).await;
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            let ctx = format!("{b:?} {p}");
            let (rec, _) = g.full(def, 0).await;
            let id = id_of(&rec);
            let r = get_ok(user, &format!("/api/v1/{p}/export.csv")).await;
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
                    // Amount and currency in columns of their own.
                    FieldKind::Money => {
                        for part in ["amount", "currency"] {
                            let name = format!("{}.{part}", f.name);
                            let want = v[part].as_str().unwrap_or("");
                            assert_eq!(cell(&name), want, "{ctx}: {name}");
                        }
                    }
                    // A text per language: each one is in the cell.
                    FieldKind::Labels { .. } => {
                        let c = cell(f.name);
                        for text in v.as_object().expect("labels").values() {
                            let text = text.as_str().expect("label");
                            assert!(c.contains(text), "{ctx}: {} = {c} lacks {text}", f.name);
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
            // Collections: in the record with their lines' fields; in the input unless
            // computed.
            for child in def.children {
                let c = child.name;
                let schema = &record["properties"][c];
                assert!(schema.is_object(), "{b:?} {p}: the record schema has {c}");
                assert_eq!(
                    input["properties"][c].is_object(),
                    !child.computed,
                    "{b:?} {p}: the input schema and {c}"
                );
                let line = &schema["items"]["properties"];
                for f in std::iter::once("id").chain(child.fields.iter().map(|f| f.name)) {
                    assert!(line[f].is_object(), "{b:?} {p}: a line of {c} has {f}");
                }
            }
            // One POST per declared action, with its input fields.
            for action in def.actions {
                let path = format!("/api/v1/{p}/{{id}}/{}", action.name);
                let op = &paths[&path]["post"];
                assert!(op.is_object(), "{b:?}: POST {path} is documented");
                let body = resolve(
                    &doc,
                    &op["requestBody"]["content"]["application/json"]["schema"],
                );
                let documented: BTreeSet<&str> = body["properties"]
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let declared: BTreeSet<&str> = action.input.iter().map(|f| f.name).collect();
                assert_eq!(documented, declared, "{b:?}: the input of POST {path}");
                let required: BTreeSet<&str> = body["required"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let declared: BTreeSet<&str> = action
                    .input
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| f.name)
                    .collect();
                assert_eq!(
                    required, declared,
                    "{b:?}: the required input of POST {path}"
                );
                for code in ["409", "412", "422"] {
                    assert!(
                        op["responses"][code].is_object(),
                        "{b:?}: POST {path} documents {code}"
                    );
                }
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

/// Asks for the labels of a choice's options and an address's parts, wherever the field is.
fn choices(need: &mut impl FnMut(String, Vec<String>), f: &FieldDef) {
    match &f.kind {
        FieldKind::Choice(set) | FieldKind::MultiChoice(set) => {
            for o in set.codes() {
                let key = set.label_key(o);
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

/// A group of fields that belong to some values of a choice names real fields or collections,
/// each in one group only, and real codes of a choice field; a section names no choice.
#[test]
fn every_field_group_names_fields_and_codes_of_its_entity() {
    for def in entities() {
        let mut seen = Vec::new();
        for g in def.field_groups {
            // A section (其他信息) is decided by no choice.
            if g.always() {
                assert!(
                    g.values.is_empty(),
                    "{}: section {} has values",
                    def.name,
                    g.name
                );
            } else {
                let Some(FieldKind::Choice(options)) = def.field(g.field).map(|f| &f.kind) else {
                    panic!(
                        "{}: group {} is decided by {}, not a choice",
                        def.name, g.name, g.field
                    );
                };
                for v in g.values {
                    assert!(options.contains(v), "{}: {} is no {}", def.name, v, g.field);
                }
            }
            for f in g.fields {
                assert!(
                    def.field(f).is_some() || def.child(f).is_some(),
                    "{}: group {} names {f}, no field of it",
                    def.name,
                    g.name
                );
                assert!(!seen.contains(f), "{}: {f} in two groups", def.name);
                assert_ne!(*f, g.field, "{}: {f} decides its own group", def.name);
                seen.push(*f);
            }
        }
    }
}

#[test]
fn every_entity_field_choice_collection_and_action_has_labels_in_both_locales() {
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
                format!("area-{}", def.area),
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
                choices(&mut need, f);
            }
            // Collections (named like a field of the entity), their lines' fields (named after
            // the collection) and those fields' choices.
            for child in def.children {
                need(
                    format!("{}.{}", def.name, child.name),
                    field_keys(child.name),
                );
                for f in child.fields {
                    need(
                        format!("{}.{}.{}", def.name, child.name, f.name),
                        vec![
                            format!("field-{}-{}", child.name, f.name),
                            format!("field-{}", f.name),
                        ],
                    );
                    choices(&mut need, f);
                }
            }
            // The headings of the form's groups of fields that belong to some records only.
            for g in def.field_groups {
                let key = format!("group-{}-{}", def.name, g.name);
                need(key.clone(), vec![key]);
            }
            // Actions: the button, the history entry, the input fields (labelled like the
            // entity's fields) and their choices.
            for action in def.actions {
                let key = format!("action-{}-{}", def.name, action.name);
                need(key.clone(), vec![key]);
                let key = format!("history-{}", action.name);
                need(key.clone(), vec![key]);
                for f in action.input {
                    need(
                        format!("{} {} input {}", def.name, action.name, f.name),
                        field_keys(f.name),
                    );
                    choices(&mut need, f);
                }
            }
            // The columns lists show by default, which may name system fields or the title.
            for c in def
                .default_columns
                .iter()
                .chain(def.related_columns)
                .chain(def.key_facts)
            {
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
        ("choice", json!("option-stage_kinds-open")),
        ("from_state", json!("option-stage_kinds-open")),
        ("to_state", json!("option-stage_kinds-won")),
        ("actions", json!(["opportunity-close_won"])),
        ("stage", json!({"en": "Won", "zh-CN": "赢单"})),
        ("count", json!(2)),
        ("field", json!("name")),
        ("rule", json!("name")),
        ("action", json!("warn")),
        ("owner", json!("王芳")),
        ("zone", json!("America/New_York")),
        ("line", json!(12)),
        ("columns", json!(5)),
        ("expected", json!(4)),
        ("column", json!("手机")),
        ("sheet", json!("Sheet1")),
        ("file", json!("backup.db")),
        ("target", json!("guanxi.db")),
        ("problem", json!("page 3 is never used")),
        ("migration", json!("m9999_future")),
        ("titles", json!(["华为技术有限公司", "华为终端有限公司"])),
        ("message", json!("disk I/O error")),
        ("title", json!("北京中太数据科技有限公司")),
        ("by", json!("王芳")),
        ("name", json!("客户联系人模板")),
        ("dir", json!("/srv/guanxi-export")),
        ("found", json!(41)),
        ("rows", json!(1200)),
        ("table", json!("contacts")),
        ("type", json!("geometry")),
        ("example", json!("03/15/2026")),
        ("today", json!("2026-12-07")),
        ("base", json!("CNY")),
        ("order", json!("XS-2026-0412")),
        ("invoice_date", json!("2026-03-01")),
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

/// The first declared action that a record in its current state may take.
fn available_action(def: &EntityDef, rec: &Value) -> Option<&'static ActionDef> {
    let state = def.states.and_then(|s| rec[s.field].as_str()).unwrap_or("");
    def.actions
        .iter()
        .find(|a| def.states.is_none() || a.from.is_empty() || a.from.contains(&state))
}

#[tokio::test]
async fn access_matrix_follows_the_default_grants() {
    for b in backends() {
        let app = spawn(b).await;
        let (team_a, team_b) = (app.team("Conf A").await, app.team("Conf B").await);
        let admin = app.user("admin", None).await;
        duplicates_only_warn(&admin).await;
        let mate = app.user("sales", Some("Conf A")).await;
        let other = app.user("sales", Some("Conf B")).await;
        let currency = app.core.settings.default_currency.clone();
        let mut actors = Vec::new();
        for role in Role::ALL {
            actors.push((role, app.user(role.as_str(), Some("Conf A")).await));
        }
        let mut g = Gen::new(&app, &admin, Role::Admin, &admin);
        // Each role makes its own bodies, referring to records it may read.
        let mut gens: Vec<Gen> = actors
            .iter()
            .map(|(role, u)| Gen::new(&app, u, *role, &admin))
            .collect();
        for def in entities() {
            let p = def.plural;
            // The smallest valid record: what access is about is the owner.
            let (minimal, _) = g.sparse(def, 2).await;
            for ((role, u), rg) in actors.iter().zip(gens.iter_mut()) {
                let actor = Actor {
                    user_id: u.id,
                    name: String::new(),
                    email: u.email.clone(),
                    role: *role,
                    team_id: Some(team_a),
                    locale: "en".into(),
                    money_format: "grouped".into(),
                    time_zone: guanxi_core::time_zone::Tz::Asia__Shanghai,
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
                let body = if grant.write == Scope::None {
                    minimal.clone()
                } else {
                    let own = rg.samples(def, 2, 0).await.body();
                    Value::Object(
                        minimal
                            .as_object()
                            .expect("body")
                            .keys()
                            .filter_map(|k| own.get(k).map(|v| (k.clone(), v.clone())))
                            .collect(),
                    )
                };
                let r = u.post_r(&format!("/api/v1/{p}"), &body).await;
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
                    // An action is a write like any other.
                    let current = get_ok(&admin, &path).await.body;
                    if let Some(action) = available_action(def, &current) {
                        let input = rg.action_input(def, action, &current, 3).await;
                        let r = u.post_r(&format!("{path}/{}", action.name), &input).await;
                        if can_write {
                            assert_eq!(
                                r.status,
                                StatusCode::OK,
                                "{what}: {}: {}",
                                action.name,
                                r.text
                            );
                        } else {
                            refused(&r);
                            assert_eq!(
                                get_ok(&admin, &path).await.body,
                                current,
                                "{what}: unchanged by {}",
                                action.name
                            );
                        }
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

/// Columns by name, with their types.
type Columns = Vec<(String, ColumnType)>;

/// The columns a field occupies, with their types.
fn field_columns(table: &str, f: &FieldDef) -> Vec<(String, ColumnType)> {
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
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User => {
            vec![ColumnType::Uuid]
        }
        FieldKind::MultiChoice(_) => vec![ColumnType::Json],
        FieldKind::Decimal { .. } => vec![ColumnType::Int],
        FieldKind::Regarding => vec![ColumnType::Text, ColumnType::Uuid],
        FieldKind::Percent => vec![ColumnType::Int],
        FieldKind::DateTime => vec![ColumnType::Instant],
        FieldKind::Labels { .. } => vec![ColumnType::Json],
    };
    assert_eq!(
        types.len(),
        cols.len(),
        "{table}.{}: a type per column",
        f.name
    );
    cols.into_iter().zip(types).collect()
}

/// Every column the engine expects of an entity's table, with its type.
fn expected_columns(def: &EntityDef) -> Vec<(String, ColumnType)> {
    let mut out = Vec::new();
    for f in def.fields {
        out.extend(field_columns(def.table, f));
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

/// Every column the engine expects of a child collection's table: the line's id, its parent,
/// its position and its fields.
fn expected_child_columns(def: &EntityDef, child: &ChildDef) -> Vec<(String, ColumnType)> {
    let mut out = vec![
        ("id".to_string(), ColumnType::Uuid),
        (child.parent_column.to_string(), ColumnType::Uuid),
        ("position".to_string(), ColumnType::Int),
    ];
    for f in child.fields {
        out.extend(field_columns(child.table, f));
    }
    // What a line carries of its parent is laid out as the parent's field is.
    for name in child.carries {
        let f = def.field(name).unwrap_or_else(|| {
            panic!("{}: carries '{name}', no field of {}", child.name, def.name)
        });
        out.extend(field_columns(child.table, f));
    }
    out
}

/// A migrated table's columns: name → (type, nullable).
async fn table_columns(app: &TestApp, table: &str) -> HashMap<String, (String, bool)> {
    use guanxi_core::db::{get_i64, get_string, raw_query};
    let conn = app.core.db.reader();
    match app.backend {
        Backend::Sqlite => {
            let rows = raw_query(
                conn,
                &format!(
                    "SELECT name, type, \"notnull\" AS not_null FROM pragma_table_info('{table}')"
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
                vec![table.into()],
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
    }
}

#[tokio::test]
async fn every_declared_column_exists_in_the_migrated_tables() {
    for b in backends() {
        let app = spawn(b).await;
        // (table, its expected columns, the columns that must be NOT NULL, the entity whose
        // records it holds)
        let mut tables: Vec<(&str, Columns, Vec<&str>, Option<&EntityDef>)> = Vec::new();
        for def in entities() {
            tables.push((def.table, expected_columns(def), vec!["id"], Some(def)));
            for child in def.children {
                // A line always has its parent and its place.
                let keys = vec!["id", child.parent_column, "position"];
                tables.push((child.table, expected_child_columns(def, child), keys, None));
            }
        }
        // PostgreSQL's search reads each entity's own text index (`search::pg_entity_match`).
        if b == Backend::Postgres {
            for def in entities() {
                let name = guanxi_core::search::pg_entity_index(def.name);
                let found = guanxi_core::db::raw_query(
                    app.core.db.reader(),
                    "SELECT 1 AS found FROM pg_indexes WHERE tablename = 'search_entries' AND indexname = $1",
                    vec![name.clone().into()],
                )
                .await
                .expect("pg_indexes");
                assert_eq!(found.len(), 1, "{}: the text index {name}", def.name);
            }
        }
        for (table, expected, not_null, entity) in tables {
            let actual = table_columns(&app, table).await;
            assert!(!actual.is_empty(), "{b:?}: table {table} exists");
            for (col, want) in expected {
                let ctx = format!("{b:?} {table}.{col}");
                let (ty, nullable) = actual.get(&col).unwrap_or_else(|| {
                    panic!("{ctx}: no such column; the table has {:?}", actual.keys())
                });
                if want == ColumnType::Text {
                    assert!(
                        !nullable,
                        "{ctx}: text columns are NOT NULL ('' when empty)"
                    );
                }
                if not_null.contains(&col.as_str()) {
                    assert!(!nullable, "{ctx}: NOT NULL");
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
            let sortable = entity.map(|d| d.fields).unwrap_or_default();
            for f in sortable.iter().filter(|f| f.sortable) {
                let ctx = format!("{b:?} {table}.{} (sortable)", f.name);
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

// ---------------------------------------------------------------------------------------------
// 10. Child collections
// ---------------------------------------------------------------------------------------------

/// Changes the suite can make to one plain field of a line (not a reference, not computed), each
/// to a value the line does not hold now.
fn line_changes(
    child: &ChildDef,
    line: &Value,
    currency: &str,
) -> Vec<(&'static FieldDef, Sample)> {
    let mut out = Vec::new();
    for f in child.fields {
        if f.computed
            || matches!(
                f.kind,
                FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::User
            )
        {
            continue;
        }
        if let Some(s) = [7, 8]
            .into_iter()
            .filter_map(|seed| sample(f, seed, currency))
            .find(|s| line[f.name] != s.canonical)
        {
            out.push((f, s));
        }
    }
    out
}

/// The changes of an audit entry to one collection's lines.
fn line_changes_of(entry: &Value, child: &str) -> BTreeMap<String, (Value, Value)> {
    let mut c = changes(entry);
    c.retain(|k, _| k.starts_with(&format!("{child}[")));
    c
}

#[tokio::test]
async fn child_collections_keep_line_ids_replace_the_list_and_audit_each_line() {
    for b in backends() {
        let app = spawn(b).await;
        let (sales, admin) = cast(&app).await;
        let currency = app.core.settings.default_currency.clone();
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);
            if def.children.iter().all(|c| c.computed) {
                continue;
            }
            let (rec, samples) = g.full(def, 0).await;
            // Another record, whose line ids this one's lines must not take.
            let (other, _) = g.full(def, 1).await;
            let path = format!("/api/v1/{p}/{}", id_of(&rec));
            let other_path = format!("/api/v1/{p}/{}", id_of(&other));
            for child in def.children.iter().filter(|c| !c.computed) {
                let c = child.name;
                let ctx = format!("{b:?} {p}.{c}");
                let current = get_ok(user, &path).await.body;
                let ids = line_ids(&current[c]);
                assert!(!ids.is_empty(), "{ctx}: the suite made lines");
                let version = current["version"].as_i64().expect("version");

                // Sending back what was read changes nothing.
                let r = user.patch_r(&path, &json!({c: current[c]})).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                assert_eq!(
                    r.body["version"], version,
                    "{ctx}: the same lines, no new version"
                );
                assert_eq!(r.body[c], current[c], "{ctx}: the same lines");

                // A line sent back with its id keeps it; a change to one of its fields is
                // recorded as `name[index].field`, and as nothing else about the lines.
                let last = ids.len() - 1;
                let mut changed = None;
                for (f, s) in line_changes(child, &current[c][last], &currency) {
                    let mut lines = current[c].clone();
                    lines[last][f.name] = s.input.clone();
                    let r = user.patch_r(&path, &json!({c: lines})).await;
                    if r.status == StatusCode::OK {
                        changed = Some((f, s, r.body));
                        break;
                    }
                    // The entity's rules may refuse a value the kind allows: try another field.
                    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
                }
                let (f, s, after) =
                    changed.unwrap_or_else(|| panic!("{ctx}: no field of a line can be changed"));
                assert_eq!(after["version"], version + 1, "{ctx}");
                assert_eq!(
                    line_ids(&after[c]),
                    ids,
                    "{ctx}: lines sent back keep their ids"
                );
                assert_eq!(
                    after[c][last][f.name], s.canonical,
                    "{ctx}[{last}].{}",
                    f.name
                );
                let entry = newest_entry(user, &path).await;
                assert_eq!(entry["action"], "update", "{ctx}");
                assert_eq!(
                    line_changes_of(&entry, c),
                    BTreeMap::from([(
                        format!("{c}[{last}].{}", f.name),
                        (current[c][last][f.name].clone(), s.canonical.clone())
                    )]),
                    "{ctx}: the history names the line's field"
                );

                // The lines are kept in the order sent.
                let mut reversed = after[c].as_array().expect("lines").clone();
                reversed.reverse();
                let r = user.patch_r(&path, &json!({c: reversed})).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: reversed: {}", r.text);
                let mut want = ids.clone();
                want.reverse();
                assert_eq!(line_ids(&r.body[c]), want, "{ctx}: in the order sent");

                // An id that is not one of this record's lines (unknown, or another record's)
                // makes a new line: the write replaces the list.
                let theirs = line_ids(&get_ok(user, &other_path).await.body[c]);
                let foreign: Vec<String> = std::iter::once(uuid::Uuid::now_v7().to_string())
                    .chain(theirs.iter().cloned())
                    .collect();
                let mut lines = r.body[c].as_array().expect("lines").clone();
                for (i, line) in lines.iter_mut().enumerate() {
                    line["id"] = json!(foreign[i % foreign.len()]);
                }
                let r = user.patch_r(&path, &json!({c: lines})).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: foreign ids: {}", r.text);
                let now = line_ids(&r.body[c]);
                assert_eq!(now.len(), ids.len(), "{ctx}");
                for id in &now {
                    assert!(
                        !ids.contains(id) && !foreign.contains(id),
                        "{ctx}: line {id} is new"
                    );
                }
                assert_eq!(
                    line_ids(&get_ok(user, &other_path).await.body[c]),
                    theirs,
                    "{ctx}: the other record's lines are its own"
                );

                // Lines the suite generated (the entity's own rules do not constrain them) may
                // be dropped, one or all; a dropped line is recorded whole at its index.
                if let Some(generated) = samples.lines_of(c) {
                    let body = json!({c: lines_input(generated)});
                    let r = user.patch_r(&path, &body).await;
                    assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                    assert_lines(&ctx, &r.body[c], generated);
                    let first = r.body[c][0].clone();
                    let dropped = r.body[c][1].clone();
                    let r = user.patch_r(&path, &json!({c: [first]})).await;
                    assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                    assert_eq!(line_ids(&r.body[c]), line_ids(&json!([first])), "{ctx}");
                    let entry = newest_entry(user, &path).await;
                    let mut whole = dropped.as_object().expect("line").clone();
                    whole.remove("id");
                    assert_eq!(
                        line_changes_of(&entry, c),
                        BTreeMap::from([(format!("{c}[1]"), (Value::Object(whole), Value::Null))]),
                        "{ctx}: the history names the dropped line"
                    );
                    for empty in [json!([]), Value::Null] {
                        let r = user.patch_r(&path, &json!({c: empty})).await;
                        assert_eq!(r.status, StatusCode::OK, "{ctx}: {empty}: {}", r.text);
                        assert_eq!(r.body[c], json!([]), "{ctx}: {empty} empties the list");
                    }
                    let r = user.patch_r(&path, &body).await;
                    assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 11. States and actions
// ---------------------------------------------------------------------------------------------

/// The actions that lead from state `from` into one of `to` by the state machine's declared
/// moves, fewest first: (action, the state it leads to) per step; `None` when none do.
fn moves_to(
    states: &StateMachine,
    from: &str,
    to: &[&str],
) -> Option<Vec<(&'static str, &'static str)>> {
    let mut seen: BTreeSet<String> = BTreeSet::from([from.to_string()]);
    let mut queue: std::collections::VecDeque<(String, Vec<(&'static str, &'static str)>)> =
        std::collections::VecDeque::from([(from.to_string(), Vec::new())]);
    while let Some((state, path)) = queue.pop_front() {
        if to.contains(&state.as_str()) {
            return Some(path);
        }
        for t in states.transitions.iter().filter(|t| t.from == state) {
            let Some(action) = t.via else { continue };
            if seen.insert(t.to.to_string()) {
                let mut next = path.clone();
                next.push((action, t.to));
                queue.push_back((t.to.to_string(), next));
            }
        }
    }
    None
}

/// Takes a record by declared actions into one of `wanted` (any state when empty), checking
/// that each lands where the state machine says; `None` when no declared moves lead there.
async fn bring_to(
    g: &mut Gen<'_>,
    def: &'static EntityDef,
    rec: Value,
    wanted: &[&str],
) -> Option<Value> {
    let Some(states) = def.states else {
        return Some(rec);
    };
    if wanted.is_empty() {
        return Some(rec);
    }
    let state = rec[states.field].as_str().unwrap_or("").to_string();
    let path = moves_to(states, &state, wanted)?;
    let user = g.writer(def);
    let mut rec = rec;
    for (name, to) in path {
        let action = def.action(name).unwrap_or_else(|| {
            panic!("{}: a move is made by undeclared action {name}", def.plural)
        });
        let input = g.action_input(def, action, &rec, 5).await;
        let url = format!("/api/v1/{}/{}/{name}", def.plural, id_of(&rec));
        let r = user.post_r(&url, &input).await;
        assert_eq!(r.status, StatusCode::OK, "POST {url} {input}: {}", r.text);
        assert_eq!(
            r.body[states.field], to,
            "POST {url}: the state it leads to"
        );
        rec = r.body;
    }
    Some(rec)
}

#[tokio::test]
async fn every_action_and_state_follows_its_declaration() {
    for b in backends() {
        let app = spawn(b).await;
        let (sales, admin) = cast(&app).await;
        let currency = app.core.settings.default_currency.clone();
        let mut g = Gen::new(&app, &sales, Role::Sales, &admin);
        for def in entities() {
            let p = def.plural;
            let user = g.writer(def);

            // The state field holds the state machine's states, and is moved only as the
            // machine allows: a computed one never by a plain update.
            let codes: Vec<&str> = match def.states {
                None => vec![],
                Some(states) => {
                    let field = def
                        .field(states.field)
                        .unwrap_or_else(|| panic!("{p}: the state field is a field"));
                    let FieldKind::Choice(set) = &field.kind else {
                        panic!("{p}: a state machine runs over a choice field");
                    };
                    let codes = set.codes();
                    for t in states.transitions {
                        assert!(
                            codes.contains(&t.from) && codes.contains(&t.to),
                            "{p}: a move from {} to {} between states",
                            t.from,
                            t.to
                        );
                        if let Some(a) = t.via {
                            assert!(def.action(a).is_some(), "{p}: move by undeclared {a}");
                        }
                    }
                    for a in def.actions {
                        for s in a.from {
                            assert!(codes.contains(s), "{p}: {} starts from state {s}", a.name);
                        }
                    }
                    let (rec, _) = g.full(def, 0).await;
                    let path = format!("/api/v1/{p}/{}", id_of(&rec));
                    let state = rec[states.field]
                        .as_str()
                        .unwrap_or_else(|| panic!("{p}: a new record has a state: {rec}"));
                    assert!(codes.contains(&state), "{p}: {state} is a state");
                    for code in codes.iter().filter(|c| **c != state) {
                        let r = user.patch_r(&path, &json!({states.field: code})).await;
                        if !field.computed && states.allows(state, code, None) {
                            assert_eq!(r.status, StatusCode::OK, "{b:?} {p}: {}", r.text);
                        } else {
                            r.assert_error(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "validation_failed",
                                Some(states.field),
                            );
                            assert_eq!(get_ok(user, &path).await.body, rec, "{b:?} {p}");
                        }
                    }
                    codes
                }
            };

            for action in def.actions {
                let a = action.name;
                let ctx = format!("{b:?} {p} {a}");
                // A record the action may start from, changed once so that its first version
                // is stale.
                let (rec, _) = g.full(def, 0).await;
                let rec = bring_to(&mut g, def, rec, action.from)
                    .await
                    .unwrap_or_else(|| panic!("{ctx}: no declared moves reach {:?}", action.from));
                let path = format!("/api/v1/{p}/{}", id_of(&rec));
                let (field, change) = changing_patch(def, &rec, 6, &currency);
                let r = user.patch_r(&path, &json!({field: change.input})).await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {}", r.text);
                let before = r.body;
                let version = before["version"].as_i64().expect("version");
                let url = format!("{path}/{a}");
                let input = g.action_input(def, action, &before, 4).await;

                // Input the action does not declare (a record field is none either), and a
                // required input left out: 422, naming it.
                let mut bad: Vec<(Value, String)> = Vec::new();
                let mut body = input.clone();
                body["conf_no_such_input"] = json!("x");
                bad.push((body, "conf_no_such_input".into()));
                if let Some(f) = def
                    .fields
                    .iter()
                    .find(|f| action.field(f.name).is_none() && !f.computed)
                    && let Some(s) = sample(f, 3, &currency)
                {
                    let mut body = input.clone();
                    body[f.name] = s.input;
                    bad.push((body, f.name.to_string()));
                }
                for f in action.input.iter().filter(|f| f.required) {
                    let mut body = input.clone();
                    body.as_object_mut().expect("input").remove(f.name);
                    bad.push((body, f.name.to_string()));
                }
                for (body, named) in bad {
                    let r = user.post_r(&url, &body).await;
                    r.assert_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation_failed",
                        Some(&named),
                    );
                    assert_eq!(get_ok(user, &path).await.body, before, "{ctx}: {named}");
                }

                // A stale If-Match: 412, and nothing changes.
                let r = user
                    .send(
                        user.req(Method::POST, &url)
                            .header("If-Match", format!("\"{}\"", version - 1))
                            .json(&input),
                    )
                    .await;
                r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
                assert_eq!(get_ok(user, &path).await.body, before, "{ctx}: stale");

                // With the current version it is done: a new version, the move the state
                // machine declares, and one history entry named after the action.
                let r = user
                    .send(
                        user.req(Method::POST, &url)
                            .header("If-Match", format!("\"{version}\""))
                            .json(&input),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{ctx}: {input}: {}", r.text);
                assert_eq!(r.body["version"], version + 1, "{ctx}");
                assert_eq!(
                    r.header("etag"),
                    Some(format!("\"{}\"", version + 1)),
                    "{ctx}"
                );
                assert_eq!(get_ok(user, &path).await.body, r.body, "{ctx}: as stored");
                let entry = newest_entry(user, &path).await;
                assert_eq!(entry["action"], a, "{ctx}: the history names the action");
                assert_eq!(entry["actor_id"], user.id.to_string(), "{ctx}");
                if let Some(states) = def.states {
                    let from = before[states.field].as_str().expect("state");
                    let to = states
                        .transitions
                        .iter()
                        .find(|t| t.from == from && t.via == Some(a))
                        .map_or(from, |t| t.to);
                    assert_eq!(r.body[states.field], to, "{ctx}: the declared move");
                    if from != to {
                        assert_eq!(
                            changes(&entry).get(states.field),
                            Some(&(json!(from), json!(to))),
                            "{ctx}: the history records the move"
                        );
                    }
                }

                // From a state the action does not start from: 409, and nothing changes.
                if action.from.is_empty() {
                    continue;
                }
                let outside: Vec<&str> = codes
                    .iter()
                    .copied()
                    .filter(|c| !action.from.contains(c))
                    .collect();
                let mut tried = 0;
                for state in &outside {
                    let (rec, _) = g.full(def, 1).await;
                    let Some(rec) = bring_to(&mut g, def, rec, &[*state]).await else {
                        continue;
                    };
                    tried += 1;
                    let path = format!("/api/v1/{p}/{}", id_of(&rec));
                    let input = g.action_input(def, action, &rec, 4).await;
                    let r = user.post_r(&format!("{path}/{a}"), &input).await;
                    r.assert_error(StatusCode::CONFLICT, "action_not_in_state", None);
                    assert_eq!(get_ok(user, &path).await.body, rec, "{ctx} from {state}");
                }
                assert!(
                    outside.is_empty() || tried > 0,
                    "{ctx}: no state outside {:?} could be reached to try it from",
                    action.from
                );
            }
        }
    }
}
