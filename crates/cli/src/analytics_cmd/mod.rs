//! `guanxi analytics …`: file-in, report-out front ends to `guanxi-analytics`.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum AnalyticsCommand {}

pub fn run(cmd: AnalyticsCommand) -> anyhow::Result<()> {
    match cmd {}
}
