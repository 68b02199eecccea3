//! Generated data, kept out of the domain crate: the demo data set behind `guanxi demo` and the
//! bulk data behind `guanxi bench-data`. Both use only guanxi-core's public API.

pub mod bulk;
pub mod demo;
mod lists;
