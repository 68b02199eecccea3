//! `guanxi analytics rules`: association rules from order baskets (FP-growth) and the next best
//! products per customer.

use anyhow::Context;
use clap::{Args, ValueEnum};
use guanxi_analytics::cross_sell::{self, CrossSellConfig, Itemset, Recommendation, Rule};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, load, num, safe_text, write_csv, write_json, write_table,
};

/// Which list the CSV/table output shows.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListChoice {
    /// The association rules.
    Rules,
    /// The next best products per customer.
    Recommendations,
}

/// Arguments of `guanxi analytics rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Minimum support of an itemset (share of baskets, in (0, 1]).
    #[arg(long, default_value_t = CrossSellConfig::default().min_support)]
    pub min_support: f64,
    /// Minimum confidence of a rule (0–1).
    #[arg(long, default_value_t = CrossSellConfig::default().min_confidence)]
    pub min_confidence: f64,
    /// Longest itemset to mine.
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Minimum lift for a rule to drive a recommendation.
    #[arg(long, default_value_t = CrossSellConfig::default().min_recommendation_lift)]
    pub min_lift: f64,
    /// Next best products per customer.
    #[arg(long, default_value_t = CrossSellConfig::default().top_n)]
    pub top: usize,
    /// What CSV/table output lists (default: rules for a table, recommendations for CSV).
    #[arg(long, value_enum)]
    pub list: Option<ListChoice>,
}

#[derive(Serialize)]
struct Report<'a> {
    baskets: usize,
    products: usize,
    min_support: f64,
    min_confidence: f64,
    itemsets: &'a [Itemset],
    rules: &'a [Rule],
    customers: usize,
    recommendations: &'a [Recommendation],
}

impl Tabular for Rule {
    fn headers() -> Vec<&'static str> {
        vec![
            "antecedent",
            "consequent",
            "support",
            "confidence",
            "lift",
            "leverage",
            "conviction",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(&self.antecedent.join(" + ")),
            safe_text(&self.consequent.join(" + ")),
            num(Some(self.support), 4),
            num(Some(self.confidence), 4),
            num(Some(self.lift), 3),
            num(Some(self.leverage), 4),
            num(self.conviction, 3),
        ]
    }
}

impl Tabular for Recommendation {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "rank",
            "product",
            "confidence",
            "lift",
            "support",
            "because",
            "reason_en",
            "reason_zh",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(&self.customer_id),
            self.rank.to_string(),
            safe_text(&self.product),
            num(Some(self.confidence), 4),
            num(Some(self.lift), 3),
            num(Some(self.support), 4),
            safe_text(&self.because.join(" + ")),
            safe_text(&self.reason_en),
            safe_text(&self.reason_zh),
        ]
    }
}

/// Runs the command.
pub fn run(args: RulesArgs) -> anyhow::Result<()> {
    let tx = load(&args.input)?;
    anyhow::ensure!(
        tx.product_keys().is_some(),
        "rules need a `product` column in the transactions file (and `order_id` for orders; \
         without it a customer's purchases on one day form one basket)"
    );
    let baskets = cross_sell::baskets_from_transactions(&tx);
    anyhow::ensure!(!baskets.is_empty(), "no row names a product");
    let config = CrossSellConfig {
        min_support: args.min_support,
        min_confidence: args.min_confidence,
        max_len: args.max_len,
        min_recommendation_lift: args.min_lift,
        top_n: args.top,
    };
    let report = cross_sell::analyze(&baskets, &config).context("association rules")?;
    let customers = {
        let mut ids: Vec<&str> = report
            .recommendations
            .iter()
            .map(|r| r.customer_id.as_str())
            .collect();
        ids.dedup();
        ids.len()
    };
    let list = args.list.unwrap_or(match args.input.format {
        Format::Csv => ListChoice::Recommendations,
        _ => ListChoice::Rules,
    });
    match args.input.format {
        Format::Json => write_json(&Report {
            baskets: report.baskets,
            products: tx.num_products(),
            min_support: config.min_support,
            min_confidence: config.min_confidence,
            itemsets: &report.itemsets,
            rules: &report.rules,
            customers,
            recommendations: &report.recommendations,
        }),
        Format::Csv => match list {
            ListChoice::Rules => write_csv(&report.rules),
            ListChoice::Recommendations => write_csv(&report.recommendations),
        },
        Format::Table => {
            let pre = vec![
                ("baskets".to_string(), report.baskets.to_string()),
                ("products".to_string(), tx.num_products().to_string()),
                (
                    "frequent itemsets".to_string(),
                    report.itemsets.len().to_string(),
                ),
                ("rules".to_string(), report.rules.len().to_string()),
                (
                    "customers with recommendations".to_string(),
                    customers.to_string(),
                ),
            ];
            match list {
                ListChoice::Rules => write_table(&pre, &report.rules),
                ListChoice::Recommendations => write_table(&pre, &report.recommendations),
            }
        }
    }
}
