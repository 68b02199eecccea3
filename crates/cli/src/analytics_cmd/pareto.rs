//! `guanxi analytics pareto`: the 80/20 curve of revenue and gross margin and the decile table.

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use guanxi_analytics::pareto::{self, DecileRow, ParetoConfig, ParetoPoint, RankBy, TopShare};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, load, num, parse_date, write_csv, write_json, write_table,
};

/// What customers are ranked by.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankChoice {
    /// Revenue (sum of `amount`).
    Revenue,
    /// Gross margin (sum of `amount − cost`; needs a `cost` column).
    Margin,
}

/// Arguments of `guanxi analytics pareto`.
#[derive(Args, Debug)]
pub struct ParetoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Rank customers by revenue or by gross margin.
    #[arg(long, value_enum, default_value_t = RankChoice::Revenue)]
    pub rank_by: RankChoice,
    /// The "top" share of customers to report (0.2 = the top 20%).
    #[arg(long, default_value_t = 0.2)]
    pub top: f64,
    /// Only transactions on or after this date.
    #[arg(long, value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Only transactions on or before this date.
    #[arg(long, value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// Leave the per-customer cumulative curve out of the JSON report.
    #[arg(long)]
    pub no_curve: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    rank_by: &'static str,
    customers: usize,
    total_revenue: f64,
    total_margin: Option<f64>,
    top: &'a TopShare,
    customers_for_80_percent: usize,
    customer_share_for_80_percent: f64,
    gini_revenue: Option<f64>,
    deciles: &'a [DecileRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    curve: Option<&'a [ParetoPoint]>,
}

impl Tabular for DecileRow {
    fn headers() -> Vec<&'static str> {
        vec![
            "decile",
            "customers",
            "revenue",
            "revenue_share",
            "cumulative_revenue_share",
            "gross_margin",
            "margin_share",
            "average_revenue",
            "min_revenue",
            "max_revenue",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.decile.to_string(),
            self.customers.to_string(),
            num(Some(self.revenue), 2),
            num(Some(self.revenue_share), 4),
            num(Some(self.cumulative_revenue_share), 4),
            num(self.gross_margin, 2),
            num(self.margin_share, 4),
            num(Some(self.average_revenue), 2),
            num(self.min_revenue, 2),
            num(self.max_revenue, 2),
        ]
    }
}

/// Runs the command.
pub fn run(args: ParetoArgs) -> anyhow::Result<()> {
    let tx = load(&args.input)?;
    if args.rank_by == RankChoice::Margin {
        anyhow::ensure!(
            tx.has_cost(),
            "--rank-by margin needs a `cost` column in the transactions file"
        );
    }
    let values = pareto::values_from_transactions(&tx, args.from, args.to);
    anyhow::ensure!(
        !values.is_empty(),
        "no transactions in the chosen date range"
    );
    let config = ParetoConfig {
        rank_by: match args.rank_by {
            RankChoice::Revenue => RankBy::Revenue,
            RankChoice::Margin => RankBy::Margin,
        },
        top_share: args.top,
    };
    let report = pareto::analyze(&values, &config).context("Pareto analysis")?;
    let rank_by = match args.rank_by {
        RankChoice::Revenue => "revenue",
        RankChoice::Margin => "margin",
    };
    match args.input.format {
        Format::Json => write_json(&Report {
            rank_by,
            customers: report.customers,
            total_revenue: report.total_revenue,
            total_margin: report.total_margin,
            top: &report.top,
            customers_for_80_percent: report.customers_for_80_percent,
            customer_share_for_80_percent: report.customer_share_for_80_percent,
            gini_revenue: report.gini_revenue,
            deciles: &report.deciles,
            curve: (!args.no_curve).then_some(report.curve.as_slice()),
        }),
        Format::Csv => write_csv(&report.deciles),
        Format::Table => {
            let top = &report.top;
            let mut pre = vec![
                ("ranked by".to_string(), rank_by.to_string()),
                ("customers".to_string(), report.customers.to_string()),
                (
                    "total revenue".to_string(),
                    format!("{:.2}", report.total_revenue),
                ),
            ];
            if let Some(m) = report.total_margin {
                pre.push(("total gross margin".to_string(), format!("{m:.2}")));
            }
            let mut top_line = format!(
                "{} customers bring {:.1}% of revenue",
                top.customers,
                100.0 * top.revenue_share
            );
            if let Some(m) = top.margin_share {
                top_line.push_str(&format!(" and {:.1}% of gross margin", 100.0 * m));
            }
            pre.push((
                format!(
                    "top {:.0}% / 前{:.0}%客户",
                    100.0 * top.customer_share,
                    100.0 * top.customer_share
                ),
                top_line,
            ));
            pre.push((
                "customers for 80% of revenue".to_string(),
                format!(
                    "{} ({:.1}%)",
                    report.customers_for_80_percent,
                    100.0 * report.customer_share_for_80_percent
                ),
            ));
            if let Some(g) = report.gini_revenue {
                pre.push(("Gini (revenue)".to_string(), format!("{g:.3}")));
            }
            write_table(&pre, &report.deciles)
        }
    }
}
