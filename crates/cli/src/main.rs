//! `guanxi`: the one binary. Every subcommand calls the same core services the server uses.

mod analytics_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "guanxi", version, about = "Guanxi 关系 — customer relationship management")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Customer analytics on a transactions CSV file (RFM, CLV, lifecycle, churn, rules, …).
    #[command(subcommand)]
    Analytics(analytics_cmd::AnalyticsCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Analytics(cmd) => analytics_cmd::run(cmd),
    }
}
