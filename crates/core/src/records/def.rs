//! Describing an entity: its table, its fields, and the few rules that differ per entity.

use super::JsonMap;
use crate::error::FieldError;

#[derive(Debug)]
pub enum FieldKind {
    /// Single-line text up to `max` characters.
    Text {
        max: usize,
    },
    /// Multi-line text up to `max` characters.
    LongText {
        max: usize,
    },
    /// One of a fixed list of codes (labels come from translations).
    Choice(&'static [&'static str]),
    Int {
        min: i64,
        max: i64,
    },
    /// Amount and ISO currency, stored as `<column>_amount` (minor units) and `<column>_currency`.
    Money,
    Date,
    Bool,
    /// A web address; stored as typed, its domain derived by the entity.
    Url,
    /// Unified social credit code or another tax id.
    TaxId,
    /// `[{"number", "label"}]`, normalized to E.164.
    Phones,
    /// `[{"address", "label"}]`, lower-cased.
    Emails,
    /// A list of short strings (former names).
    StringList {
        max_items: usize,
        max_len: usize,
    },
    /// Country, province/state, city, district, street, postal code in `<column>_<part>` columns.
    Address,
    /// The id of a live record in `table` (of entity `entity`).
    Ref {
        table: &'static str,
        entity: &'static str,
    },
}

#[derive(Debug)]
pub struct FieldDef {
    /// The API and filter name.
    pub name: &'static str,
    /// The column (or column prefix for money and addresses).
    pub column: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub sortable: bool,
    /// Filled by the entity from other fields (its `derive`), never from input: the API refuses
    /// it on writes and forms do not show it. Any kind may be computed.
    pub computed: bool,
    /// The value a new record's form starts with.
    pub initial: Option<&'static str>,
}

impl FieldDef {
    pub const fn new(name: &'static str, kind: FieldKind) -> FieldDef {
        FieldDef {
            name,
            column: name,
            kind,
            required: false,
            sortable: false,
            computed: false,
            initial: None,
        }
    }
    pub const fn column(mut self, column: &'static str) -> FieldDef {
        self.column = column;
        self
    }
    pub const fn required(mut self) -> FieldDef {
        self.required = true;
        self
    }
    pub const fn computed(mut self) -> FieldDef {
        self.computed = true;
        self
    }
    pub const fn sortable(mut self) -> FieldDef {
        self.sortable = true;
        self
    }
    pub const fn initial(mut self, value: &'static str) -> FieldDef {
        self.initial = Some(value);
        self
    }
}

pub const ADDRESS_PARTS: [&str; 6] = [
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
];

/// Everything the engine needs to know about one entity.
pub struct EntityDef {
    /// Singular code, used in permissions, audit and custom fields: `account`.
    pub name: &'static str,
    /// Plural code, used in URLs: `accounts`.
    pub plural: &'static str,
    /// The business area it belongs to (`customers`, `sales`, `service`), for navigation.
    pub area: &'static str,
    pub table: &'static str,
    pub fields: &'static [FieldDef],
    /// The list sort when none is asked for.
    pub default_sort: &'static str,
    /// Columns a list shows before the user chooses.
    pub default_columns: &'static [&'static str],
    /// Columns it shows as a related list on the page of a record it refers to.
    pub related_columns: &'static [&'static str],
    /// The stored field a list sorts by when sorted by the record's name (its title).
    pub title_sort: &'static str,
    /// The record's name as people say it, in the given locale.
    pub title: fn(&JsonMap, &str) -> String,
    /// Names to index for Chinese substring and pinyin search.
    pub search_names: fn(&JsonMap) -> Vec<String>,
    /// Fills derived fields and checks rules across fields. Returns field errors, whose codes are
    /// the engine's (`crate::error::codes`) or listed in `error_codes`.
    pub derive: fn(&mut JsonMap) -> Vec<(String, FieldError)>,
    /// The codes of this entity's own rules (those `derive` returns beyond the engine's), so
    /// their wording can be checked in every language.
    pub error_codes: &'static [&'static str],
}

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// System fields every record has, readable but never written directly (except `owner_id`,
/// which create and update accept). All but the deletion marks (`deleted_at`, `deleted_by`) are
/// filterable.
pub const SYSTEM_FIELDS: &[&str] = &[
    "id",
    "owner_id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted_at",
    "deleted_by",
];
