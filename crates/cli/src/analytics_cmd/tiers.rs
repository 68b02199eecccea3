//! `guanxi analytics tiers`: gold / silver / bronze / do-not-serve and the profitability score.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use guanxi_analytics::tiers::{self, TierAssignment, TierConfig, TierSummary};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, num, parse_date, read_invoices, safe_text,
    write_csv, write_json, write_table,
};
use super::settings_file::SettingsArgs;

/// Arguments of `guanxi analytics tiers`.
#[derive(Args, Debug)]
pub struct TiersArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Only transactions on or after this date.
    #[arg(long, value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Only transactions on or before this date.
    #[arg(long, value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// Payments (回款) CSV, one row per invoice: customer_id,invoice_date and optionally
    /// paid_date (empty = open), amount, written_off (yes/no), invoice_id, due_date. Gives each
    /// customer's days to pay (amount-weighted; open invoices count with their age) and bad
    /// debts, over invoices issued in --from..--to.
    #[arg(long, value_name = "FILE")]
    pub payments: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report<'a> {
    customers: usize,
    config: &'a TierConfig,
    tiers: &'a [TierSummary],
    per_customer: &'a [TierAssignment],
}

impl Tabular for TierAssignment {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "value",
            "value_top_share",
            "margin_rate",
            "days_to_pay",
            "margin_points",
            "payment_points",
            "profitability_score",
            "tier",
            "tier_zh",
            "tier_en",
            "reason_en",
            "reason_zh",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(&self.customer_id),
            num(Some(self.value), 2),
            num(Some(self.value_top_share), 4),
            num(Some(self.margin_rate), 4),
            num(self.days_to_pay, 1),
            num(Some(self.margin_points), 1),
            num(Some(self.payment_points), 1),
            num(Some(self.profitability_score), 1),
            self.tier.code().to_string(),
            self.tier_zh.clone(),
            self.tier_en.clone(),
            safe_text(&self.reason_en),
            safe_text(&self.reason_zh),
        ]
    }
}

/// Runs the command.
pub fn run(args: TiersArgs) -> anyhow::Result<()> {
    let config: TierConfig = args.settings.load("tier")?;
    config.validate().context("invalid tier settings")?;
    if args.settings.print_settings {
        return write_json(&config);
    }
    let tx = load(&args.input)?;
    anyhow::ensure!(
        tx.has_cost(),
        "tiers need margin rates: the transactions file has no `cost` column"
    );
    let mut inputs = tiers::inputs_from_transactions(&tx, args.from, args.to)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no transactions in the chosen date range"
    );
    if let Some(path) = &args.payments {
        let invoices = read_invoices(path, args.input.skip_bad_rows)?;
        // open invoices are aged to the end of the window, or to the last purchase in the file
        let as_of = as_of_or_last(args.to, &tx)?;
        let behaviour = tiers::payment_behaviour(&invoices, as_of, args.from, args.to);
        let unmatched = tiers::apply_payments(&mut inputs, &behaviour);
        if unmatched > 0 {
            eprintln!(
                "{}: {unmatched} customer(s) with invoices but no purchases in the window are not tiered",
                path.display()
            );
        }
    }
    let report = tiers::assign(&inputs, &config).context("tiering")?;
    match args.input.format {
        Format::Json => write_json(&Report {
            customers: report.customers.len(),
            config: &config,
            tiers: &report.tiers,
            per_customer: &report.customers,
        }),
        Format::Csv => write_csv(&report.customers),
        Format::Table => {
            let mut pre = vec![("customers".to_string(), report.customers.len().to_string())];
            for t in &report.tiers {
                pre.push((
                    format!("{} / {}", t.name_zh, t.name_en),
                    format!(
                        "{} customers, value {:.2}, mean profitability score {:.1}/40",
                        t.customers, t.value, t.mean_profitability_score
                    ),
                ));
            }
            write_table(&pre, &report.customers)
        }
    }
}
