//! Integration tests of guanxi-seed: the demo data set and bench data on every backend.

// Test code, helpers included, fails the test on anything unexpected.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod demo;
// The same test database helpers as guanxi-core's tests, one file for both.
#[path = "../../../core/tests/it/support.rs"]
mod support;
