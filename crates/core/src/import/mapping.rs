//! Which field each column of an imported file feeds: suggested from the header texts, saved
//! and edited as a [`Mapping`] (TOML for the command line's `--mapping M.toml`), and checked
//! against the entity's declaration into a [`Plan`] the import follows row by row.
//!
//! # What a column can feed ([`Targets`])
//!
//! Every field of the entity that is not computed (`phones`, `account_id`, `custom.<key>` for an
//! administrator's fields), each part of an address (`billing_address.city`; the whole
//! `billing_address` takes an address in one text), the owner (`owner_id`, by the user's name),
//! and a computed field that declares [`FieldDef::splits_into`] (a contact's `name`: one
//! 姓名 column split by [`super::names::split`]). List fields (phones, e-mails, multiple
//! choices) take any number of columns, whose values are merged; every other field takes one.
//!
//! # Suggestions ([`suggest`])
//!
//! A header is compared with each target's field name, its labels in both languages (through
//! [`Labels`], which the caller backs with its translations) and its declared
//! [`FieldDef::synonyms`], after [`normalize_header`] (case, full-width characters, spaces,
//! marks such as "*" and "（选填）"). An equal text is a sure match; a header that contains a
//! longer name (客户手机号码 ⊃ 手机号码, 手机1 ⊃ 手机) a likely one. Each column gets at most one
//! field and each single field at most one column, the surest pairs first.
//!
//! # The saved format
//!
//! ```toml
//! entity = "contact"          # optional: refused for another entity
//!
//! [[column]]
//! header = "姓名"             # the header's text in the file
//! field = "name"              # the field's name, as the API names it
//!
//! [[column]]
//! header = "生日"
//! field = "birthday"
//! date_format = "%Y/%m/%d"    # chrono's strftime, for date and date-time fields
//!
//! [[column]]
//! header = "手机"
//! field = "phones"
//! label = "mobile"            # the label its phones or e-mails get
//!
//! [[column]]
//! header = "备注2"
//! ignore = true               # read, never imported (as is a column the mapping leaves out)
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::ReadError;
use crate::custom_fields::CustomFieldDef;
use crate::records::def::{ADDRESS_PARTS, Access, EntityDef, FieldDef, FieldKind};

/// The owner's field, which every business record has (not the setup lists').
pub const OWNER: &str = "owner_id";

/// Other names of the owner's column.
pub const OWNER_SYNONYMS: &[&str] = &[
    "负责人",
    "所有人",
    "归属人",
    "跟进人",
    "客户经理",
    "销售负责人",
    "销售代表",
    "业务员",
    "Owner",
    "Account owner",
    "Contact owner",
    "Assigned to",
    "Sales rep",
];

/// Other names of each address part, matched for the entity's first address field.
pub const ADDRESS_PART_SYNONYMS: &[(&str, &[&str])] = &[
    (
        "country",
        &["国家", "国家/地区", "国别", "Country", "Country/Region"],
    ),
    (
        "province",
        &[
            "省",
            "省份",
            "所在省份",
            "省/直辖市",
            "所在地区",
            "Province",
            "State",
            "State/Province",
            "Region",
        ],
    ),
    ("city", &["市", "城市", "所在城市", "City", "Town"]),
    (
        "district",
        &["区", "区县", "县区", "区/县", "District", "County"],
    ),
    (
        "street",
        &[
            "街道",
            "详细地址",
            "街道地址",
            "门牌地址",
            "Street",
            "Street address",
            "Address line 1",
        ],
    ),
    (
        "postal_code",
        &[
            "邮编",
            "邮政编码",
            "Postal code",
            "Postcode",
            "Zip",
            "Zip code",
        ],
    ),
];

/// Label texts by translation key, in every language the caller speaks: `field-<entity>-<name>`,
/// `field-<name>` (for fields every entity shares), `addr-<part>` (an address part).
pub trait Labels {
    fn texts(&self, key: &str) -> Vec<String>;
}

impl Labels for HashMap<String, Vec<String>> {
    fn texts(&self, key: &str) -> Vec<String> {
        self.get(key).cloned().unwrap_or_default()
    }
}

/// No labels: matches by field names and synonyms only.
impl Labels for () {
    fn texts(&self, _key: &str) -> Vec<String> {
        Vec::new()
    }
}

/// What a column's values are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// A field of the entity, an address in one text included.
    Field,
    /// One part of an address field.
    AddressPart {
        field: &'static str,
        part: &'static str,
    },
    /// An administrator's field: `custom.<key>`.
    Custom,
    /// A whole person's name, to split into these fields.
    WholeName {
        family: &'static str,
        given: &'static str,
    },
    /// The record's owner, by the user's name.
    Owner,
    /// The currency of every amount on the row (an ERP export's 币种 column), for an entity
    /// with money fields: an amount and its cost are in the same currency.
    Currency,
}

/// The path of the row's currency ([`TargetKind::Currency`]).
pub const CURRENCY: &str = "currency";

/// Other names of a row's currency column.
const CURRENCY_SYNONYMS: &[&str] = &["币种", "币别", "货币", "币种名称", "Currency code"];

/// One thing a column can feed.
#[derive(Debug, Clone)]
pub struct Target {
    /// As a mapping names it: `phones`, `billing_address.city`, `custom.budget`, `owner_id`.
    pub path: String,
    pub kind: TargetKind,
    /// Takes values from any number of columns (phones, e-mails, multiple choices).
    pub many: bool,
    /// Holds dates or date-times, so a column may say how its dates are written.
    pub dates: bool,
    /// The declaration's field, when it is one.
    pub field: Option<&'static FieldDef>,
    /// Custom field labels (English, Chinese).
    custom_labels: Vec<String>,
}

/// Everything an entity's columns can feed.
#[derive(Clone)]
pub struct Targets {
    pub def: &'static EntityDef,
    pub list: Vec<Target>,
}

fn takes_many(kind: &FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Phones
            | FieldKind::Emails
            | FieldKind::StringList { .. }
            | FieldKind::MultiChoice(_)
    )
}

fn holds_dates(kind: &FieldKind) -> bool {
    matches!(kind, FieldKind::Date | FieldKind::DateTime)
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Targets")
            .field("entity", &self.def.name)
            .field("list", &self.list)
            .finish()
    }
}

impl Targets {
    /// The targets of an entity and its custom fields.
    pub fn of(def: &'static EntityDef, custom: &[CustomFieldDef]) -> Targets {
        let mut list = Vec::new();
        for f in def.fields {
            let base = Target {
                path: f.name.to_string(),
                kind: TargetKind::Field,
                many: takes_many(&f.kind),
                dates: holds_dates(&f.kind),
                field: Some(f),
                custom_labels: Vec::new(),
            };
            if f.computed {
                if let Some((family, given)) = f.splits_into {
                    list.push(Target {
                        kind: TargetKind::WholeName { family, given },
                        ..base
                    });
                }
                continue;
            }
            let address = matches!(f.kind, FieldKind::Address);
            list.push(base);
            if address {
                for part in ADDRESS_PARTS {
                    list.push(Target {
                        path: format!("{}.{part}", f.name),
                        kind: TargetKind::AddressPart {
                            field: f.name,
                            part,
                        },
                        many: false,
                        dates: false,
                        field: Some(f),
                        custom_labels: Vec::new(),
                    });
                }
            }
        }
        for c in custom.iter().filter(|c| c.entity == def.name) {
            list.push(Target {
                path: c.path(),
                kind: TargetKind::Custom,
                many: takes_many(&c.kind),
                dates: holds_dates(&c.kind),
                field: None,
                custom_labels: [&c.label_en, &c.label_zh]
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .collect(),
            });
        }
        let money = def
            .fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Money));
        if money && def.field(CURRENCY).is_none() {
            list.push(Target {
                path: CURRENCY.to_string(),
                kind: TargetKind::Currency,
                many: false,
                dates: false,
                field: None,
                custom_labels: Vec::new(),
            });
        }
        if def.access == Access::Records {
            list.push(Target {
                path: OWNER.to_string(),
                kind: TargetKind::Owner,
                many: false,
                dates: false,
                field: None,
                custom_labels: Vec::new(),
            });
        }
        Targets { def, list }
    }

    pub fn get(&self, path: &str) -> Option<&Target> {
        self.list.iter().find(|t| t.path == path)
    }

    /// The names a target goes by, normalized, each with how much an equal header says.
    fn names(&self, t: &Target, labels: &dyn Labels) -> Vec<(String, u32)> {
        let entity = self.def.name;
        let field_labels = |name: &str| {
            let own = labels.texts(&format!("field-{entity}-{name}"));
            if own.iter().any(|l| !l.is_empty()) {
                own
            } else {
                labels.texts(&format!("field-{name}"))
            }
        };
        let mut out: Vec<(String, u32)> = Vec::new();
        let mut add = |text: &str, weight: u32| {
            let n = normalize_header(text);
            if !n.is_empty() {
                out.push((n, weight));
            }
        };
        match &t.kind {
            TargetKind::Field | TargetKind::WholeName { .. } => {
                add(&t.path, 30);
                add(&t.path.replace('_', " "), 30);
                for l in field_labels(&t.path) {
                    add(&l, 40);
                }
                for s in t.field.map_or(&[][..], |f| f.synonyms) {
                    add(s, 35);
                }
            }
            TargetKind::AddressPart { field, part } => {
                let first_address = self
                    .def
                    .fields
                    .iter()
                    .find(|f| matches!(f.kind, FieldKind::Address))
                    .is_some_and(|f| f.name == *field);
                let part_labels = labels.texts(&format!("addr-{part}"));
                if first_address {
                    for l in &part_labels {
                        add(l, 20);
                    }
                    for (p, synonyms) in ADDRESS_PART_SYNONYMS {
                        if p == part {
                            for s in *synonyms {
                                add(s, 20);
                            }
                        }
                    }
                }
                // "Shipping address city", "Shipping city", "收货地址城市", "收货城市": the
                // field's name (with or without its "address") and the part's.
                let mut wholes: Vec<String> = field_labels(field)
                    .iter()
                    .map(|w| normalize_header(w))
                    .collect();
                wholes.extend(
                    t.field
                        .map_or(&[][..], |f| f.synonyms)
                        .iter()
                        .map(|s| normalize_header(s)),
                );
                let stems: Vec<String> = wholes
                    .iter()
                    .filter_map(|w| {
                        w.strip_suffix("address")
                            .or_else(|| w.strip_suffix("地址"))
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                    })
                    .collect();
                wholes.extend(stems);
                let mut parts: Vec<String> = part_labels.clone();
                for (p, synonyms) in ADDRESS_PART_SYNONYMS {
                    if p == part {
                        parts.extend(synonyms.iter().map(|s| s.to_string()));
                    }
                }
                for w in &wholes {
                    for p in &parts {
                        add(&format!("{w}{p}"), 40);
                    }
                }
                add(&t.path, 30);
            }
            TargetKind::Custom => {
                add(&t.path, 30);
                add(t.path.trim_start_matches("custom."), 30);
                for l in &t.custom_labels {
                    add(l, 40);
                }
            }
            TargetKind::Currency => {
                add(CURRENCY, 30);
                for s in CURRENCY_SYNONYMS {
                    add(s, 35);
                }
            }
            TargetKind::Owner => {
                add(OWNER, 30);
                for l in labels.texts("field-owner_id") {
                    add(&l, 40);
                }
                for s in OWNER_SYNONYMS {
                    add(s, 35);
                }
            }
        }
        out
    }
}

/// A header's text as it is compared: full-width forms made half-width, lower case, without
/// what is in brackets ("（选填）", "(required)", "【必填】"), without spaces, marks and
/// punctuation ("*", "：", "/", "-"): `电子邮箱（选填）` → `电子邮箱`, `E-mail *` → `email`.
pub fn normalize_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        let c = half_width(c);
        match c {
            '(' | '[' | '【' | '〔' | '<' | '《' | '{' => depth += 1,
            ')' | ']' | '】' | '〕' | '>' | '》' | '}' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The half-width form of a full-width ASCII character or space.
fn half_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// How sure a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sureness {
    /// The header contains one of the field's names.
    Likely,
    /// The header is one of the field's names.
    Sure,
}

/// What [`suggest`] proposes for one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedColumn {
    pub header: String,
    /// The target's path, if any fits.
    pub field: Option<String>,
    pub sureness: Option<Sureness>,
}

/// A suggestion for every column of a file, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub entity: &'static str,
    pub columns: Vec<SuggestedColumn>,
}

impl Suggestion {
    /// The suggestion as a mapping to save or edit: columns without a field are ignored.
    pub fn mapping(&self) -> Mapping {
        Mapping {
            entity: Some(self.entity.to_string()),
            columns: self
                .columns
                .iter()
                .map(|c| ColumnMapping {
                    header: c.header.clone(),
                    field: c.field.clone(),
                    ignore: c.field.is_none(),
                    ..ColumnMapping::default()
                })
                .collect(),
        }
    }
}

/// The shortest name that a header may contain to match: two Chinese characters, four letters.
fn long_enough(name: &str) -> bool {
    let cjk = name.chars().any(crate::search::text::is_cjk);
    name.chars().count() >= if cjk { 2 } else { 4 }
}

/// How well a normalized header matches one of a target's names.
fn score(header: &str, name: &str, weight: u32) -> Option<(u32, Sureness)> {
    let bare = header.trim_end_matches(|c: char| c.is_ascii_digit());
    if header == name {
        Some((10_000 + weight, Sureness::Sure))
    } else if !bare.is_empty() && bare == name {
        Some((9_000 + weight, Sureness::Sure))
    } else if long_enough(name) && header.contains(name) {
        Some((
            1_000 + 10 * name.chars().count() as u32 + weight,
            Sureness::Likely,
        ))
    } else {
        None
    }
}

/// Suggests a field for each header (see the module's documentation).
pub fn suggest(targets: &Targets, headers: &[String], labels: &dyn Labels) -> Suggestion {
    let names: Vec<Vec<(String, u32)>> = targets
        .list
        .iter()
        .map(|t| targets.names(t, labels))
        .collect();
    // Every (column, target) pair that matches, with its best score.
    let mut pairs: Vec<(u32, Sureness, usize, usize)> = Vec::new();
    for (col, header) in headers.iter().enumerate() {
        let h = normalize_header(header);
        if h.is_empty() {
            continue;
        }
        for (ti, tnames) in names.iter().enumerate() {
            if let Some((s, sure)) = tnames.iter().filter_map(|(n, w)| score(&h, n, *w)).max() {
                pairs.push((s, sure, col, ti));
            }
        }
    }
    // The surest pairs first; ties go to the earlier column, then the earlier target.
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3)));
    let mut chosen: Vec<Option<(usize, Sureness)>> = vec![None; headers.len()];
    let mut taken = vec![false; targets.list.len()];
    for (_, sure, col, ti) in pairs {
        if chosen[col].is_some() || taken[ti] {
            continue;
        }
        chosen[col] = Some((ti, sure));
        if !targets.list[ti].many {
            taken[ti] = true;
        }
    }
    Suggestion {
        entity: targets.def.name,
        columns: headers
            .iter()
            .zip(chosen)
            .map(|(header, c)| SuggestedColumn {
                header: header.clone(),
                field: c.map(|(ti, _)| targets.list[ti].path.clone()),
                sureness: c.map(|(_, s)| s),
            })
            .collect(),
    }
}

/// A saved mapping: which field each column feeds, by the column's header text and the field's
/// name. Columns it does not name are not imported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The entity it is for; `None` fits any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default, rename = "column")]
    pub columns: Vec<ColumnMapping>,
}

/// One column of a [`Mapping`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The header's text in the file (compared trimmed, then normalized).
    pub header: String,
    /// The target's path: `phones`, `billing_address.city`, `custom.budget`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Not imported, whatever `field` says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore: bool,
    /// How the column writes dates (chrono's strftime: `%Y/%m/%d`, `%d.%m.%Y %H:%M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// The label the phones or e-mails of this column get (`mobile`, `work`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Mapping {
    /// Reads a mapping file.
    pub fn from_toml(text: &str) -> Result<Mapping, ReadError> {
        toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let line = text.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64
                + 1;
            ReadError::MappingUnreadable { line }
        })
    }

    /// The mapping as a file people can edit.
    pub fn to_toml(&self) -> String {
        // Plain strings, options and lists of tables always serialize.
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks the mapping against the entity and the file's headers, naming every problem: a
    /// field that does not exist or is computed, a single field fed by two columns, a header
    /// the file lacks, a date format that is none or is given for a field without dates.
    pub fn resolve(&self, targets: &Targets, headers: &[String]) -> Result<Plan, Vec<ReadError>> {
        let mut errors = Vec::new();
        let def = targets.def;
        if let Some(entity) = &self.entity
            && entity != def.name
            && entity != def.plural
        {
            errors.push(ReadError::MappingForOtherEntity {
                entity: entity.clone(),
            });
        }
        let mut columns: Vec<Option<PlannedColumn>> = vec![None; headers.len()];
        let mut uses: HashMap<String, usize> = HashMap::new();
        for m in &self.columns {
            let found = find_columns(headers, &m.header);
            if found.is_empty() {
                errors.push(ReadError::ColumnNotInFile {
                    column: m.header.clone(),
                });
                continue;
            }
            let Some(field) = m.field.as_deref().filter(|_| !m.ignore) else {
                continue;
            };
            let Some(target) = targets.get(field) else {
                let known = def.field(field).is_some()
                    || crate::records::def::SYSTEM_FIELDS.contains(&field);
                errors.push(if known {
                    ReadError::FieldNotImportable {
                        column: m.header.clone(),
                        field: field.to_string(),
                    }
                } else {
                    ReadError::UnknownMappedField {
                        column: m.header.clone(),
                        field: field.to_string(),
                    }
                });
                continue;
            };
            if let Some(f) = &m.date_format {
                if !target.dates {
                    errors.push(ReadError::DateFormatForNonDate {
                        column: m.header.clone(),
                        field: field.to_string(),
                    });
                } else if !valid_date_format(f) {
                    errors.push(ReadError::InvalidDateFormat {
                        column: m.header.clone(),
                        value: f.clone(),
                    });
                }
            }
            for i in found {
                if columns[i].is_some() {
                    continue;
                }
                *uses.entry(target.path.clone()).or_default() += 1;
                columns[i] = Some(PlannedColumn {
                    field: target.path.clone(),
                    kind: target.kind.clone(),
                    date_format: m.date_format.clone(),
                    label: m.label.clone(),
                });
            }
        }
        for t in &targets.list {
            if !t.many && uses.get(&t.path).is_some_and(|&n| n > 1) {
                errors.push(ReadError::FieldMappedTwice {
                    field: t.path.clone(),
                });
            }
        }
        if errors.is_empty() {
            Ok(Plan {
                headers: headers.to_vec(),
                columns,
                readback: None,
            })
        } else {
            Err(errors)
        }
    }
}

/// The columns whose header is `header`: equal once trimmed, else equal once normalized.
fn find_columns(headers: &[String], header: &str) -> Vec<usize> {
    let wanted = header.trim();
    let exact: Vec<usize> = (0..headers.len())
        .filter(|&i| headers[i].trim() == wanted)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let n = normalize_header(wanted);
    if n.is_empty() {
        return exact;
    }
    (0..headers.len())
        .filter(|&i| normalize_header(&headers[i]) == n)
        .collect()
}

/// Whether a strftime format parses and says at least which day.
fn valid_date_format(f: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item<'_>> = StrftimeItems::new(f).collect();
    !items.is_empty() && !items.iter().any(|i| matches!(i, Item::Error))
}

/// What the import does with one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedColumn {
    pub field: String,
    pub kind: TargetKind,
    pub date_format: Option<String>,
    pub label: Option<String>,
}

/// A mapping checked against a file: for each of its columns, what it feeds, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub headers: Vec<String>,
    pub columns: Vec<Option<PlannedColumn>>,
    /// How values worded for people read back ([`Plan::reading_labels`]); none: as written.
    pub readback: Option<std::sync::Arc<super::labels_back::Readback>>,
}

impl Plan {
    /// The plan reading the values of an export for people (choices by label, users by name,
    /// numbers grouped, …) in any language `labels` knows, as well as codes.
    pub fn reading_labels(
        mut self,
        def: &crate::records::def::EntityDef,
        custom: &[crate::custom_fields::CustomFieldDef],
        labels: &dyn Labels,
    ) -> Plan {
        self.readback = Some(std::sync::Arc::new(super::labels_back::Readback::of(
            def, custom, labels,
        )));
        self
    }

    /// A row's non-empty values, each with its column's index and what it feeds.
    pub fn values<'a>(
        &'a self,
        row: &'a super::Row,
    ) -> impl Iterator<Item = (usize, &'a PlannedColumn, &'a str)> + 'a {
        self.columns
            .iter()
            .zip(&row.fields)
            .enumerate()
            .filter_map(|(i, (c, v))| Some((i, c.as_ref()?, v.as_str())))
            .filter(|(_, _, v)| !v.is_empty())
    }

    /// The headers of the columns that feed nothing, for the import's report.
    pub fn unmapped(&self) -> Vec<&str> {
        self.headers
            .iter()
            .zip(&self.columns)
            .filter(|(_, c)| c.is_none())
            .map(|(h, _)| h.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests;
