//! `guanxi analytics …`: file-in, report-out front ends to `guanxi-analytics`.
//!
//! Every command reads a transactions CSV (`--transactions FILE`), prints one report on stdout in
//! `--format json|csv|table`, and fails without printing anything when a row is malformed, unless
//! `--skip-bad-rows` is given. A progress bar is drawn on stderr when it is a terminal.

mod clv;
mod generate;
mod input;
mod lifecycle;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum AnalyticsCommand {
    /// Customer lifetime value: BG/NBD or Pareto/NBD + Gamma-Gamma, probability alive, expected
    /// purchases and discounted value per customer.
    Clv(clv::ClvArgs),
    /// Relationship lifecycle stage (考察期 / 形成期 / 稳定期 / 退化期 / 流失) with reasons, and when
    /// each customer's next purchase is due.
    Lifecycle(lifecycle::LifecycleArgs),
    /// Writes a synthetic transactions CSV (for benchmarks).
    #[command(hide = true)]
    GenerateTransactions(generate::GenerateArgs),
}

pub fn run(cmd: AnalyticsCommand) -> anyhow::Result<()> {
    let result = match cmd {
        AnalyticsCommand::Clv(a) => clv::run(a),
        AnalyticsCommand::Lifecycle(a) => lifecycle::run(a),
        AnalyticsCommand::GenerateTransactions(a) => generate::run(a),
    };
    // `guanxi analytics … | head` closes stdout early: that is not an error.
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
            || c.downcast_ref::<csv::Error>().is_some_and(
                |x| matches!(x.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
    })
}
