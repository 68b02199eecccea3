//! Integration tests: the real app over HTTP on SQLite, and on PostgreSQL when configured.

// Test code, helpers included, fails the test on anything unexpected.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

mod access;
mod activities;
mod activity_form;
mod aggregate;
mod api_records;
mod backup_restore;
mod bad_input;
mod board;
mod browser;
mod calendar;
mod concurrency;
mod conformance;
mod custom_fields;
mod dedupe;
mod divisions;
mod error_codes;
mod exports;
mod generic_code;
mod home;
mod identity_api;
mod import_labels;
mod import_round_trip;
mod imports_ui;
mod insights;
mod list_filters;
mod mail;
mod money_format;
mod moveall;
mod notifications;
mod opportunities;
mod record_sections;
mod reference_scope;
mod reminders;
mod security;
mod smoke;
mod time_zones;
mod totals;
