//! Describing an entity: its table, its fields, its child collections, its states and actions,
//! and the behaviour that differs per entity.

use super::JsonMap;
use super::behaviour::Behaviour;
use crate::dedupe::Rule;

#[derive(Debug, Clone)]
pub enum FieldKind {
    /// Single-line text up to `max` characters.
    Text {
        max: usize,
    },
    /// Multi-line text up to `max` characters.
    LongText {
        max: usize,
    },
    /// One of the options (a declared set's codes, or a custom field's own list).
    Choice(Options),
    /// Any number of the options, in the order given, without repeats.
    MultiChoice(Options),
    Int {
        min: i64,
        max: i64,
    },
    /// An exact number with at most `scale` decimals (a quantity, a rate), stored as an integer
    /// of 10^-scale units and shown as a JSON number.
    Decimal {
        scale: u32,
    },
    /// Amount and ISO currency, stored as `<column>_amount` (minor units) and `<column>_currency`.
    Money,
    Date,
    /// An instant, shown in the reader's time zone; RFC 3339 in the API.
    DateTime,
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
    /// The id of a user (an attendee, the person a task is assigned to): any active user, since
    /// people work with colleagues outside their own scope.
    User,
    /// Any record the reader may read, of any entity with business records: `{"entity":
    /// "account", "id": "…"}`, stored as `<column>_entity` and `<column>_id`. What an activity
    /// or a note is about.
    Regarding,
    /// A length of time in whole seconds (time in a stage, a call's length).
    Duration,
    /// A percentage such as 12.5, stored in hundredths of a percent (1250).
    Percent,
    /// A text per locale (`{"en": "Won", "zh-CN": "赢单"}`): the names in admin-edited lists,
    /// which people of either language read in their own.
    Labels {
        max: usize,
    },
    /// The id of a line in a child collection of the record that field `via` refers to: a
    /// stage of the opportunity's pipeline. A line of any other record is refused.
    LineRef {
        via: &'static str,
        child: &'static ChildDef,
    },
}

/// Where a choice field's options come from.
#[derive(Debug, Clone)]
pub enum Options {
    /// A declared set: codes in the code, labels in the translations.
    Set(&'static OptionSet),
    /// An administrator's own list (a custom field's options): each option is its own label.
    Listed(Vec<String>),
}

impl Options {
    pub fn contains(&self, code: &str) -> bool {
        match self {
            Options::Set(set) => set.contains(code),
            Options::Listed(list) => list.iter().any(|o| o == code),
        }
    }

    /// The codes, in the order people pick from.
    pub fn codes(&self) -> Vec<&str> {
        match self {
            Options::Set(set) => set.codes.to_vec(),
            Options::Listed(list) => list.iter().map(String::as_str).collect(),
        }
    }

    /// What an error or a label names an option by: a declared option's translation key, a
    /// listed option itself.
    pub fn label_key(&self, code: &str) -> String {
        match self {
            Options::Set(set) => set.label_key(code),
            Options::Listed(_) => code.to_string(),
        }
    }
}

impl FieldKind {
    /// A choice from a declared set, as declarations write it.
    pub const fn choice(set: &'static OptionSet) -> FieldKind {
        FieldKind::Choice(Options::Set(set))
    }

    /// The kind's code, as the API names it (custom field definitions, metadata).
    pub fn code(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::LongText { .. } => "long_text",
            FieldKind::Choice(_) => "choice",
            FieldKind::MultiChoice(_) => "multi_choice",
            FieldKind::Int { .. } => "int",
            FieldKind::Decimal { .. } => "decimal",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::DateTime => "date_time",
            FieldKind::Bool => "bool",
            FieldKind::Url => "url",
            FieldKind::TaxId => "tax_id",
            FieldKind::Phones => "phones",
            FieldKind::Emails => "emails",
            FieldKind::StringList { .. } => "string_list",
            FieldKind::Address => "address",
            FieldKind::Ref { .. } => "ref",
            FieldKind::User => "user",
            FieldKind::Regarding => "regarding",
            FieldKind::Duration => "duration",
            FieldKind::Percent => "percent",
            FieldKind::Labels { .. } => "labels",
            FieldKind::LineRef { .. } => "line_ref",
        }
    }
}

/// A named list of codes that choice fields pick from. Its labels are `option-<name>-<code>` in
/// each language, so fields that share a set (where an account or a deal came from) share its
/// labels, and a field's labels never depend on what the field is called.
#[derive(Debug)]
pub struct OptionSet {
    pub name: &'static str,
    pub codes: &'static [&'static str],
}

impl OptionSet {
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(&code)
    }

    /// The translation key of one option's label.
    pub fn label_key(&self, code: &str) -> String {
        format!("option-{}-{code}", self.name)
    }
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
    /// Text whose two- and three-character pieces the search document holds, so `contains`
    /// on it reads only the records that hold the pieces (`search::grams`). For names people
    /// filter large tables by. Flagging a field of a table that already has rows needs a
    /// migration that adds the pieces to their documents.
    pub grams: bool,
    /// Other names a column holding this field goes by in files people import (手机, 手机号码,
    /// 移动电话 and Mobile for phones), beyond the field's name and its labels in every language.
    /// Compared after [`crate::import::mapping::normalize_header`], so case, width, spaces and
    /// marks such as "（选填）" or "*" need not be listed.
    pub synonyms: &'static [&'static str],
    /// A whole person's name (姓名, "John Smith") that an imported column may give in one piece,
    /// split into these family and given name fields (`import::names`). Set on the computed
    /// field that holds the whole name.
    pub splits_into: Option<(&'static str, &'static str)>,
    /// For a reference: whether an import may create the record it names when none holds the
    /// name (a contact's company). `false` for a reference that must name a record that exists
    /// (a ledger row's customer, where a typo would make a customer): such a row is refused,
    /// unless the import is asked to create missing records.
    pub creates_missing: bool,
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
            grams: false,
            synonyms: &[],
            splits_into: None,
            creates_missing: true,
        }
    }
    pub const fn existing_only(mut self) -> FieldDef {
        self.creates_missing = false;
        self
    }
    pub const fn synonyms(mut self, synonyms: &'static [&'static str]) -> FieldDef {
        self.synonyms = synonyms;
        self
    }
    pub const fn splits_into(mut self, family: &'static str, given: &'static str) -> FieldDef {
        self.splits_into = Some((family, given));
        self
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
    pub const fn grams(mut self) -> FieldDef {
        self.grams = true;
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

/// A collection of lines saved, validated and audited with their parent, in a table of its own
/// (`parent_column` → the parent's id, `position` → the order). Lines travel inside the parent's
/// record as a list of objects, each with its `id`; a write replaces the whole list.
#[derive(Debug)]
pub struct ChildDef {
    /// The parent's field that holds the list: `contact_roles`.
    pub name: &'static str,
    pub table: &'static str,
    pub parent_column: &'static str,
    pub fields: &'static [FieldDef],
    /// At most this many lines.
    pub max: usize,
    /// Kept by the entity's behaviour (a stage history), never from input; left out of the
    /// audit trail, which records the change that caused it.
    pub computed: bool,
    /// The line's name as people say it, in the given locale.
    pub title: fn(&JsonMap, &str) -> String,
    /// Fields of the parent copied onto each line, in columns of the same layout, and kept
    /// equal to it by the engine: a filter on the lines can then say when as well as who
    /// (`attendee_users.user_id` and `attendee_users.starts_at` in one read of an index by
    /// person and start), where through the parent it read every line the person ever had.
    /// Never part of a line as the API shows it.
    pub carries: &'static [&'static str],
}

impl ChildDef {
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A state machine over one choice field (`status`): which moves a plain update may make and
/// which only a named action may. The engine checks it on every write, `PATCH` included, after
/// the entity's behaviour has filled the field.
#[derive(Debug)]
pub struct StateMachine {
    pub field: &'static str,
    pub transitions: &'static [Transition],
}

#[derive(Debug)]
pub struct Transition {
    pub from: &'static str,
    pub to: &'static str,
    /// The action that makes this move; `None` for a plain update.
    pub via: Option<&'static str>,
}

impl StateMachine {
    /// Whether a write made by `via` (an action, or `None` for an update) may move the state
    /// from `from` to `to`. Staying in a state is always allowed.
    pub fn allows(&self, from: &str, to: &str, via: Option<&str>) -> bool {
        from == to
            || self
                .transitions
                .iter()
                .any(|t| t.from == from && t.to == to && t.via == via)
    }

    /// The actions that lead from `from` to `to`, to name in a refusal.
    pub fn actions_between(&self, from: &str, to: &str) -> Vec<&'static str> {
        self.transitions
            .iter()
            .filter(|t| t.from == from && t.to == to)
            .filter_map(|t| t.via)
            .collect()
    }
}

/// A named operation on one record (`close_won`, `reopen`), run through `act`: If-Match,
/// authorization, its own input fields, a precondition on the state, the entity's behaviour,
/// the state machine and one audit row named after the action.
#[derive(Debug)]
pub struct ActionDef {
    pub name: &'static str,
    /// What the action asks for; validated like record fields.
    pub input: &'static [FieldDef],
    /// The states it may start from; empty for any.
    pub from: &'static [&'static str],
}

impl ActionDef {
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.input.iter().find(|f| f.name == name)
    }
}

/// Who may read and write an entity by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Business records: each role's scope over owners (own, team, all).
    Records,
    /// Setup lists that administrators edit and everyone reads (pipelines, lost reasons).
    Setup,
}

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
    /// The fields `title` reads: all a reference to the record reads of it to name it (a test
    /// holds every entity's title to them).
    pub title_fields: &'static [&'static str],
    /// Names to index for Chinese substring and pinyin search.
    pub search_names: fn(&JsonMap) -> Vec<String>,
    /// Collections of lines saved with the record.
    pub children: &'static [ChildDef],
    /// The state machine, if the entity has states.
    pub states: Option<&'static StateMachine>,
    pub actions: &'static [ActionDef],
    pub access: Access,
    /// Values that the field kinds alone cannot make valid (lines that must follow the entity's
    /// rules, such as a pipeline's open, won and lost stages), to merge into generated records:
    /// the conformance suite and generated data use it; `None` where kinds suffice.
    pub example: Option<fn(u32) -> JsonMap>,
    /// What differs per entity: computed fields, rules that read other records, actions and
    /// side effects.
    pub behaviour: &'static dyn Behaviour,
    /// The codes of this entity's own rules (those its behaviour reports beyond the engine's),
    /// so their wording can be checked in every language.
    pub error_codes: &'static [&'static str],
    /// The charts above the entity's list, each over the records the list shows.
    pub charts: &'static [ChartDef],
    /// Running totals the database keeps as records are written, from which aggregations
    /// that ask only for them are answered without reading every record (`records::rollup`);
    /// the coarsest first, since the first that holds what is asked answers it.
    pub rollups: &'static [RollupDef],
    /// What tells one record from another of the same name at a glance (its company, phone,
    /// owner): shown under its name in the record page's header and in search suggestions.
    /// Field names as lists take them (`billing_address.city`, `owner_id`).
    pub key_facts: &'static [&'static str],
    /// The duplicate-check rules (查重) of its records and the fields that feed each: a new or
    /// changed record whose key of a rule equals a live record's is refused or warned about
    /// (`dedupe::check`). Empty for an entity without duplicates to find.
    pub dedupe: &'static [DedupeDef],
    /// A "regarding" field whose record lends its readers this one: whoever may read the record
    /// an activity is about may read the activity, whoever owns it. `None`: the owner's scope
    /// alone decides. Global search finds such records by their owner's scope only.
    pub read_through: Option<&'static str>,
    /// A child collection of colleagues and its user field (`attendee_users`, `user_id`): the
    /// people named on its lines may read the record whoever owns it, as an invited colleague
    /// reads the meeting. Writing stays with the owner's scope.
    pub shared_with: Option<(&'static str, &'static str)>,
    /// Whether this entity's records make the timelines of the records they regard (an
    /// account's calls, meetings and notes), and how.
    pub timeline: Option<&'static TimelineDef>,
    /// Whether the entity's records are shown on a board (opportunities by stage), and how.
    pub board: Option<&'static BoardDef>,
    /// Whether the entity's records are shown on a calendar (meetings and tasks), and how.
    pub calendar: Option<&'static CalendarDef>,
    /// Fields (and child collections) that belong to some values of a choice field only: a
    /// call's outcome to calls, a task's due date to tasks. Fields in no group belong to every
    /// record.
    pub field_groups: &'static [FieldGroup],
}

/// Fields and child collections that belong to some values of a choice field (an activity's
/// call details, to calls), or, made with [`FieldGroup::section`], a labelled part of every
/// record (其他信息: an id in another system) that its form and page show apart, after the rest. The record's form shows them as one labelled group, which the
/// page's script hides while the choice holds another value (without the script every group
/// shows); the record's page leaves them out, when empty, for the other values. Writing is
/// unaffected: each field is stored whatever the choice holds.
#[derive(Debug)]
pub struct FieldGroup {
    /// Names the group's heading: `group-<entity>-<name>` in the translations.
    pub name: &'static str,
    /// The choice field that decides (`kind`).
    pub field: &'static str,
    /// The choice's codes the group belongs to.
    pub values: &'static [&'static str],
    /// Its fields and child collections (computed ones too, which only the record's page
    /// shows).
    pub fields: &'static [&'static str],
}

impl FieldGroup {
    /// A group every record has, decided by no choice: its fields shown apart under the group's
    /// heading, after the others, on the form and on the record's page.
    pub const fn section(name: &'static str, fields: &'static [&'static str]) -> FieldGroup {
        FieldGroup {
            name,
            field: "",
            values: &[],
            fields,
        }
    }

    /// Whether it belongs to every record ([`FieldGroup::section`]).
    pub fn always(&self) -> bool {
        self.field.is_empty()
    }
}

/// How an entity's records appear on the timeline of the records they regard: which field says
/// what they regard, which sorts them into kinds (the timeline's filter), when each happened or
/// is due, and what the quick entry box on a record's page asks for.
#[derive(Debug)]
pub struct TimelineDef {
    /// A "regarding" field.
    pub regarding: &'static str,
    /// A choice field: an entry's kind, and the timeline's filter.
    pub kind: &'static str,
    /// When an entry happened or is due: the first of these date-time fields that holds a value,
    /// else its creation.
    pub when: &'static [&'static str],
    /// A bool field: an entry that is done (a task) is not upcoming.
    pub done: &'static str,
    /// The text an entry is named by, which the quick box fills.
    pub subject: &'static str,
    /// A long text shown under the entry's title.
    pub detail: &'static str,
    /// The kinds the quick entry box offers, the first chosen.
    pub quick_kinds: &'static [&'static str],
    /// The date-time field the quick box asks for when the kind is a task (its due date).
    pub quick_due: &'static str,
    /// The kind of entry a follow-up is (a task): what a list's "plan follow-ups" creates for
    /// each chosen record's owner.
    pub follow_up: &'static str,
    /// Fields an entry shows beside its time when they hold a value and belong to its kind
    /// ([`FieldGroup`]): a call's outcome and length, a visit's place.
    pub facts: &'static [&'static str],
}

/// A board of an entity's records: a column per line of a line-reference field (an
/// opportunity's stage), the lines coming from the record a reference field picks (its
/// pipeline); cards show a few fields; each column shows its count and the sum of a field.
#[derive(Debug)]
pub struct BoardDef {
    /// The reference field whose record holds the columns (`pipeline_id`).
    pub within: &'static str,
    /// The line-reference field a card's column is (`stage_id`).
    pub column: &'static str,
    /// The money or number field each column sums (`amount`).
    pub sum: &'static str,
    /// The fields a card shows under its title.
    pub card: &'static [&'static str],
    /// The date field that places closed records (won or lost) in a period (`close_date`), and
    /// open ones in the period they are expected to close in.
    pub closed_on: &'static str,
    /// The field of a column's line that says which state (of the entity's state machine) a
    /// record in that column is in (a stage's `kind`): moving a card to a column of another
    /// state is the action the state machine names for that move.
    pub line_state: &'static str,
    /// The state whose columns show every record; the columns of the other states (won, lost)
    /// show only the records closed (`closed_on`) in the reader's current quarter.
    pub open_state: &'static str,
}

/// A calendar of an entity's records: what places an entry in time, and whose it is.
#[derive(Debug)]
pub struct CalendarDef {
    /// The date-time field an entry starts at (`starts_at`).
    pub start: &'static str,
    /// The date-time field it ends at (`ends_at`).
    pub end: &'static str,
    /// The date-time field an entry without a start is placed at (a task's `due_at`).
    pub due: &'static str,
    /// A choice field: the entry's kind (meeting, call, task).
    pub kind: &'static str,
    /// A bool field: the entry is done.
    pub done: &'static str,
    /// The child collection of colleagues who attend: an entry shows on their calendars too.
    pub attendees: &'static str,
    /// The user field of an attendee line (`user_id`).
    pub attendee_user: &'static str,
    /// The kind a new entry made by clicking an empty slot gets (`meeting`).
    pub new_kind: &'static str,
    /// A text field saying where it happens, for the calendar feed (`location`).
    pub location: &'static str,
    /// A long text field describing it, for the calendar feed (`description`).
    pub detail: &'static str,
}

/// One duplicate-check rule of an entity: which of its fields give the rule's keys
/// (`dedupe::keys`). A company name rule reads a name field; a person name rule reads the family
/// name and then the given name; the phone, e-mail and domain rules read the fields that the
/// contact points hold (`search::points`): the phones, the e-mails, and the domain or the
/// website it comes from.
#[derive(Debug, Clone, Copy)]
pub struct DedupeDef {
    pub rule: Rule,
    pub fields: &'static [&'static str],
}

/// Running totals of an entity's live records, grouped by the owner, `dims` and the month of
/// each of `months`: their count, and the sum and count of each of `sums` (money grouped by its
/// currency too). Kept by database triggers, so every writer keeps them. Changing a rollup
/// needs a migration that rebuilds it (`records::rollup::ddl`).
#[derive(Debug)]
pub struct RollupDef {
    /// Names its table: `<entity table>_rollup_<name>`.
    pub name: &'static str,
    /// Fields that name groups: choices, references, users, stages.
    pub dims: &'static [&'static str],
    /// Dates (fields, or `created_at`) kept by month.
    pub months: &'static [&'static str],
    /// Numbers and amounts summed.
    pub sums: &'static [&'static str],
}

/// A chart an entity's list shows above its records: one measure grouped by one field, drawn
/// as `kind`. Named `chart-<entity>-<name>` in the translations.
#[derive(Debug, Clone, Copy)]
pub struct ChartDef {
    pub name: &'static str,
    /// A grouping as the aggregation takes it: `stage_id`, `close_date:month`.
    pub group: &'static str,
    /// A measure as the aggregation takes it: `count`, `sum:amount`.
    pub measure: &'static str,
    pub kind: ChartKind,
}

/// How a chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Horizontal bars, largest first: for names (owners, stages).
    Bar,
    /// Vertical columns in key order: for dates.
    Column,
    Line,
    Donut,
    Funnel,
}

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&'static ChildDef> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The fields a list reads to show each record by its title with `shown` beside it
    /// ([`ListQuery::fields`](super::ListQuery)): `shown` as lists name them
    /// (`billing_address.city` is read as `billing_address`), system fields among them.
    pub fn showing(&self, shown: &[&str]) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for name in self.title_fields.iter().chain(shown) {
            let base = name.split('.').next().unwrap_or(name);
            let base = if base == "custom"
                || SYSTEM_FIELDS.contains(&base)
                || self.field(base).is_some()
            {
                base
            } else {
                continue;
            };
            if !fields.iter().any(|have| have == base) {
                fields.push(base.to_string());
            }
        }
        fields
    }

    pub fn action(&self, name: &str) -> Option<&'static ActionDef> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The group a field or child collection belongs to: a choice's (it belongs to some records
    /// only) or a section ([`FieldGroup::always`]).
    pub fn group_of(&self, name: &str) -> Option<&'static FieldGroup> {
        self.field_groups.iter().find(|g| g.fields.contains(&name))
    }

    /// Whether a field or child collection belongs to a record, as its choice field decides.
    pub fn belongs(&self, name: &str, rec: &JsonMap) -> bool {
        self.group_of(name).is_none_or(|g| {
            g.always()
                || rec
                    .get(g.field)
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|v| g.values.contains(&v))
        })
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
