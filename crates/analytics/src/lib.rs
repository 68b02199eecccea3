//! Customer analytics: pure computation on plain data (DESIGN.md section 7).
//!
//! No database, no async, no file system: callers hand in readers and plain structs and get plain
//! structs back. Every model documents its source and explains its outputs in a sales manager's
//! words.

// Transaction input and per-customer summaries shared by every model.
pub mod transactions;
// Side files keyed by customer: complaints, payments, surveys, contract terms.
pub mod customer_file;
// Every insight of a refresh in one call (the CLI and the product's refresh job).
pub mod customer_insights;
// Model settings as JSON over their defaults (the CLI's --settings, the product's stored ones).
pub mod settings;

// Repeat-purchase and value models.
pub mod bgnbd;
pub mod clv;
pub mod gamma_gamma;
pub mod numeric;
pub mod pareto_nbd;

// Relationship state.
pub mod lifecycle;
pub mod timing;

// Value segmentation.
pub mod pareto;
pub mod portfolio;
pub mod relationship;
pub mod rfm;
pub mod tiers;

// Behaviour and attitude.
pub mod churn;
pub mod cross_sell;
pub mod gbm;
pub mod loyalty;
pub mod switching_cost;
pub mod value_focus;
