//! Customer insights (DESIGN.md section 8): what the analytics say about each account — tier,
//! RFM segment, value decile, lifetime value and the probability it is still active, lifecycle
//! stage, when its next purchase is due — computed from the ledgers (sales history, payments)
//! by the analytics crate's entry point and kept on the account with what each was before.
//!
//! - [`refresh::refresh`]: a full refresh as of a date (today by default), from the CLI
//!   (`guanxi insights refresh`) or the nightly job;
//! - [`rescore`]: one account again within seconds of a change to its ledger, against what the
//!   newest refresh learnt;
//! - [`read`]: the ledgers into the analytics crate's inputs;
//! - [`store`]: the account's row of current values, and the history of changes kept for
//!   thirteen months;
//! - [`current`]: one account's insights as the UI and the API show them.

pub mod alerts;
pub mod current;
pub mod models;
pub mod read;
pub mod refresh;
pub mod rescore;
pub mod settings;
pub mod store;
pub mod summary;

use serde_json::{Value, json};

/// The insights whose changes are kept (their history, their previous value and when it
/// changed): the ones people filter and act on.
pub const TRACKED: [&str; 13] = [
    "tier",
    "rfm_segment",
    "value_decile",
    "profitability",
    "p_alive",
    "clv",
    "lifecycle_stage",
    "due_status",
    "churn_risk",
    "relationship_level",
    "loyalty_type",
    "switching_level",
    "value_focus",
];

/// An insight's value as people see it: rounded as shown, so a change people cannot see is no
/// change.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    None,
    Number(f64),
    Code(String),
}

impl Shown {
    /// A code, or none when blank.
    pub fn code(s: &str) -> Shown {
        if s.is_empty() {
            Shown::None
        } else {
            Shown::Code(s.to_string())
        }
    }

    /// A number of the insight `name`, rounded to the places it is shown with.
    pub fn number(name: &str, v: Option<f64>) -> Shown {
        let places = match name {
            "p_alive" | "churn_risk" => 2,
            _ => 0,
        };
        let k = 10f64.powi(places);
        v.filter(|v| v.is_finite())
            .map_or(Shown::None, |v| Shown::Number((v * k).round() / k))
    }

    pub fn to_json(&self) -> Value {
        match self {
            Shown::None => Value::Null,
            Shown::Number(n) => json!(n),
            Shown::Code(c) => json!(c),
        }
    }
}

/// The entity whose records insights are about: the customer, as the ledgers name it.
pub fn subject() -> &'static crate::records::EntityDef {
    crate::areas::ledger::insight_sources().subject
}

/// The table of current values, one row per account, and its key column.
pub const TABLE: &str = "account_insights";
pub const KEY: &str = "account_id";

/// What an insight's values are, for filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A code (a tier, a segment, a stage).
    Code,
    /// A whole number (a decile, days).
    Whole,
    /// A number with a fraction (a probability, a value).
    Number,
    Date,
}

/// The insights `insight.<name>` filters on (in lists, saved views, the API and exports), each
/// a column of [`TABLE`].
pub const FILTERABLE: [(&str, ValueKind); 23] = [
    ("tier", ValueKind::Code),
    ("loyalty_type", ValueKind::Code),
    ("switching_level", ValueKind::Code),
    ("value_focus", ValueKind::Code),
    ("rfm_segment", ValueKind::Code),
    ("lifecycle_stage", ValueKind::Code),
    ("due_status", ValueKind::Code),
    ("relationship_level", ValueKind::Code),
    ("value_decile", ValueKind::Whole),
    ("churn_decile", ValueKind::Whole),
    ("recency_days", ValueKind::Whole),
    ("purchases", ValueKind::Whole),
    ("tenure_days", ValueKind::Whole),
    ("profitability", ValueKind::Number),
    ("margin_rate", ValueKind::Number),
    ("p_alive", ValueKind::Number),
    ("churn_risk", ValueKind::Number),
    ("loyalty_index", ValueKind::Number),
    ("switching_cost", ValueKind::Number),
    ("clv", ValueKind::Number),
    ("expected_purchases", ValueKind::Number),
    ("revenue", ValueKind::Number),
    ("next_due_from", ValueKind::Date),
];

/// The kind of the filterable insight `name`.
pub fn filterable(name: &str) -> Option<ValueKind> {
    FILTERABLE.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}
