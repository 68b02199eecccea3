//! Integration tests of guanxi-core: one test binary (DESIGN.md section 9).

// Test code, helpers included, fails the test on anything unexpected.
#![allow(clippy::expect_used, clippy::unwrap_used)]

// The allocator the `guanxi` binary runs on, so that the import's speed measured here
// (`import_run::import_speed`) is the product's: glibc's was a quarter of its CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod aggregate;
mod backups;
mod batch_refs;
mod checkpoints;
mod contains;
mod dated_writes;
mod dedupe;
mod directory;
mod export;
mod fact_insights;
mod import;
mod import_run;
mod import_stop;
mod import_undo;
mod insight_alerts;
mod insights;
mod jobs;
mod kinds;
mod ledgers;
mod mail;
mod migrations;
mod notifications;
mod paging;
mod pinyin_sort;
mod reminders;
mod rescore;
mod rows;
mod scope_lists;
mod search_bounds;
mod shared_commits;
mod support;
mod tidy;
mod user_days;
