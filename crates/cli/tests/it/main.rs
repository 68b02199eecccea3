//! Integration tests of the `guanxi` binary (one test binary for the crate; DESIGN.md section 9).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analytics;
mod analytics_side;
mod backup;
mod export;
mod import;
mod insights;
mod install;
mod job_burst;
mod jobs;
mod support;
