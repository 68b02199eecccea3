//! `guanxi analytics …`: file-in, report-out front ends to `guanxi-analytics`.
//!
//! Most commands read a transactions CSV (`--transactions FILE`); some add per-customer side files
//! (complaints, satisfaction, payments, attitudes), and `switching-cost` and `value-focus` work
//! from a customers file or a survey. Every command prints one report on stdout in
//! `--format json|csv|table` and fails without printing anything when a row is malformed, unless
//! `--skip-bad-rows` is given. A progress bar is drawn on stderr when it is a terminal.

mod churn;
mod clv;
mod generate;
mod input;
pub(crate) use input::parse_date;
mod lifecycle;
mod loyalty;
mod pareto;
mod portfolio;
mod rfm;
mod rules;
mod settings_file;
mod switching_cost;
mod tiers;
mod timing;
mod value_focus;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum AnalyticsCommand {
    /// Customer lifetime value: BG/NBD or Pareto/NBD + Gamma-Gamma, probability alive, expected
    /// purchases and discounted value per customer.
    Clv(clv::ClvArgs),
    /// Relationship lifecycle stage (考察期 / 形成期 / 稳定期 / 退化期 / 流失) with reasons, and when
    /// each customer's next purchase is due.
    Lifecycle(lifecycle::LifecycleArgs),
    /// RFM: recency, frequency, monetary quintile scores and the eight segments (重要价值客户 …
    /// 一般挽留客户), split at the mean or median.
    Rfm(rfm::RfmArgs),
    /// Pareto (80/20): cumulative share of revenue and margin, top-share headline, decile table.
    Pareto(pareto::ParetoArgs),
    /// Tiers (金牌 / 银牌 / 铜牌 / 不服务) and the profitability score (needs a cost column).
    Tiers(tiers::TiersArgs),
    /// Churn propensity: `churn train` (logistic regression, out-of-time evaluation) and
    /// `churn score`.
    #[command(subcommand)]
    Churn(churn::ChurnCommand),
    /// Cross-sell: association rules from baskets (FP-growth) and next best products.
    Rules(rules::RulesArgs),
    /// Customer portfolio matrix: star / cash cow / question mark / dog by value and growth.
    Portfolio(portfolio::PortfolioArgs),
    /// Contact timing: usual purchase interval and the window in which the next purchase is due.
    Timing(timing::TimingArgs),
    /// Loyalty index 0–100 from behaviour and attitude, and the Dick & Basu type (真正忠诚 /
    /// 潜在忠诚 / 虚假忠诚 / 不忠诚); survey answers from an optional attitudes file.
    Loyalty(loyalty::LoyaltyArgs),
    /// Switching cost 0–100 per account from a customers file (contract, integration, loyalty
    /// balance, breadth, tenure) and the lever to raise it.
    SwitchingCost(switching_cost::SwitchingCostArgs),
    /// Perceived-value focus: importance-performance analysis of a survey, the dimension to fix
    /// first overall, per segment and per customer.
    ValueFocus(value_focus::ValueFocusArgs),
    /// Writes a synthetic transactions CSV (for benchmarks).
    #[command(hide = true)]
    GenerateTransactions(generate::GenerateArgs),
}

pub fn run(cmd: AnalyticsCommand) -> anyhow::Result<()> {
    let result = match cmd {
        AnalyticsCommand::Clv(a) => clv::run(a),
        AnalyticsCommand::Lifecycle(a) => lifecycle::run(a),
        AnalyticsCommand::Rfm(a) => rfm::run(a),
        AnalyticsCommand::Pareto(a) => pareto::run(a),
        AnalyticsCommand::Tiers(a) => tiers::run(a),
        AnalyticsCommand::Churn(c) => churn::run(c),
        AnalyticsCommand::Rules(a) => rules::run(a),
        AnalyticsCommand::Portfolio(a) => portfolio::run(a),
        AnalyticsCommand::Timing(a) => timing::run(a),
        AnalyticsCommand::Loyalty(a) => loyalty::run(a),
        AnalyticsCommand::SwitchingCost(a) => switching_cost::run(a),
        AnalyticsCommand::ValueFocus(a) => value_focus::run(a),
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
