//! `guanxi analytics loyalty`: the 0–100 loyalty index and the Dick & Basu loyalty type per
//! customer, from purchase behaviour and (optionally) survey answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use guanxi_analytics::customer_file::{Layout, OneRowPerCustomer, Others};
use guanxi_analytics::loyalty::{self, LoyaltyConfig, LoyaltyInput, LoyaltyScore, LoyaltyType};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, load_side_file, num, parse_date, safe_text,
    write_csv, write_json, write_table,
};
use super::settings_file::SettingsArgs;

/// Arguments of `guanxi analytics loyalty`.
#[derive(Args, Debug)]
pub struct LoyaltyArgs {
    /// Transactions CSV with a header containing customer_id,date,amount (dates YYYY-MM-DD or
    /// YYYYMMDD).
    #[arg(long, value_name = "FILE", required_unless_present = "print_settings")]
    pub transactions: Option<PathBuf>,
    /// Survey answers, one row per customer: customer_id and any of satisfaction,
    /// recommendation (on the configured scales, default 1–5 and 0–10) and share_of_wallet
    /// (0–1). Customers found only here have bought nothing and are scored as such.
    #[arg(long, value_name = "FILE")]
    pub attitudes: Option<PathBuf>,
    /// Date the behaviour is measured at (default: the last transaction date in the file);
    /// later purchases are ignored.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Length in calendar months of the periods the repeat rate counts (3 for customers who
    /// buy quarterly).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub repeat_period_months: u32,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Accept negative amounts as returns, netted against the purchases of their day (as
    /// `guanxi insights export-ledger` writes them).
    #[arg(long)]
    pub returns: bool,
    /// Skip malformed rows (reported on stderr) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

const ATTITUDES: Layout = Layout {
    required: &[],
    optional: &["satisfaction", "recommendation", "share_of_wallet"],
    others: Others::Reject,
};

/// A survey answer outside its scale usually means the scale is configured wrong (a 1–7 survey
/// read as 1–5), which clamping would hide.
fn in_scale(v: Option<f64>, (lo, hi): (f64, f64), column: &str) -> Result<Option<f64>, String> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(format!(
            "{column} {x} is outside the scale {lo}–{hi} (set {column}_scale in --settings)"
        )),
        other => Ok(other),
    }
}

struct Attitude {
    customer_id: String,
    satisfaction: Option<f64>,
    recommendation: Option<f64>,
    share_of_wallet: Option<f64>,
}

/// Reads the attitudes file in file order; a customer on two rows is an error naming both lines,
/// since two survey answers cannot be told apart as newer or older.
fn read_attitudes(
    path: &Path,
    config: &LoyaltyConfig,
    skip_bad_rows: bool,
) -> anyhow::Result<Vec<Attitude>> {
    let mut rows = Vec::new();
    let mut once = OneRowPerCustomer::default();
    load_side_file(path, &ATTITUDES, skip_bad_rows, |r| {
        let id = r.customer_id()?;
        let satisfaction = in_scale(
            r.number("satisfaction")?,
            config.satisfaction_scale,
            "satisfaction",
        )?;
        let recommendation = in_scale(
            r.number("recommendation")?,
            config.recommendation_scale,
            "recommendation",
        )?;
        let share_of_wallet = r.number("share_of_wallet")?;
        if let Some(s) = share_of_wallet.filter(|s| !(0.0..=1.0).contains(s)) {
            return Err(format!(
                "share_of_wallet {s} must be between 0 and 1 (write 0.8 for 80%)"
            ));
        }
        once.check(r)?;
        rows.push(Attitude {
            customer_id: id.to_string(),
            satisfaction,
            recommendation,
            share_of_wallet,
        });
        Ok(())
    })?;
    Ok(rows)
}

/// The machine name of a type, as in JSON.
fn type_code(t: LoyaltyType) -> &'static str {
    match t {
        LoyaltyType::True => "true",
        LoyaltyType::Latent => "latent",
        LoyaltyType::Spurious => "spurious",
        LoyaltyType::None => "none",
    }
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    score: LoyaltyScore,
    /// False for customers known only from the attitudes file.
    has_purchases: bool,
    #[serde(skip)]
    input: LoyaltyInput,
}

impl Row {
    fn points(&self, name: &str) -> Option<f64> {
        self.score
            .components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.points)
    }
}

impl Tabular for Row {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "index",
            "behaviour",
            "attitude",
            "loyalty_type",
            "loyalty_type_zh",
            "loyalty_type_en",
            "has_purchases",
            "repeat_rate",
            "tenure_days",
            "recency_days",
            "share_of_wallet",
            "satisfaction",
            "recommendation",
            "repeat_rate_points",
            "tenure_points",
            "recency_points",
            "share_of_wallet_points",
            "satisfaction_points",
            "recommendation_points",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let s = &self.score;
        let i = &self.input;
        vec![
            safe_text(&s.customer_id),
            num(s.index, 1),
            num(s.behaviour, 1),
            num(s.attitude, 1),
            s.loyalty_type.map(type_code).unwrap_or_default().into(),
            s.loyalty_type_zh.clone().unwrap_or_default(),
            s.loyalty_type_en.clone().unwrap_or_default(),
            self.has_purchases.to_string(),
            num(i.repeat_rate, 4),
            num(i.tenure_days, 0),
            num(i.recency_days, 0),
            num(i.share_of_wallet, 4),
            num(i.satisfaction, 2),
            num(i.recommendation, 2),
            num(self.points("repeat_rate"), 1),
            num(self.points("tenure"), 1),
            num(self.points("recency"), 1),
            num(self.points("share_of_wallet"), 1),
            num(self.points("satisfaction"), 1),
            num(self.points("recommendation"), 1),
        ]
    }
}

#[derive(Serialize)]
struct TypeCount {
    loyalty_type: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    customers: usize,
    advice_zh: &'static str,
    advice_en: &'static str,
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    repeat_period_months: u32,
    customers: usize,
    /// Customers found only in the attitudes file.
    without_purchases: usize,
    config: &'a LoyaltyConfig,
    types: Vec<TypeCount>,
    /// Customers with no attitude data, who get an index but no type.
    unclassified: usize,
    per_customer: &'a [Row],
}

/// Runs the command.
pub fn run(args: LoyaltyArgs) -> anyhow::Result<()> {
    let config: LoyaltyConfig = args.settings.load("loyalty")?;
    config.validate()?;
    if args.settings.print_settings {
        return write_json(&config);
    }
    let Some(transactions) = args.transactions.clone() else {
        anyhow::bail!("--transactions is required");
    };
    // Read the attitudes first: a bad survey file fails fast, before a long transactions read.
    let attitudes = match &args.attitudes {
        Some(p) => read_attitudes(p, &config, args.skip_bad_rows)?,
        None => Vec::new(),
    };
    let tx = load(&InputArgs {
        transactions,
        skip_bad_rows: args.skip_bad_rows,
        returns: args.returns,
        format: args.format,
    })?;
    let as_of = as_of_or_last(args.as_of, &tx)?;
    let mut inputs = loyalty::behaviour_from_transactions(&tx, as_of, args.repeat_period_months);
    let buyers = inputs.len();
    let position: HashMap<String, usize> = inputs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.customer_id.clone(), i))
        .collect();
    for a in attitudes {
        if let Some(slot) = position
            .get(&a.customer_id)
            .and_then(|&i| inputs.get_mut(i))
        {
            slot.satisfaction = a.satisfaction;
            slot.recommendation = a.recommendation;
            slot.share_of_wallet = a.share_of_wallet;
        } else {
            // Not bought (by the report date): no repeats, no tenure and no recency to measure,
            // so a good attitude reads as latent loyalty — someone to convert, not to reward.
            inputs.push(LoyaltyInput {
                customer_id: a.customer_id,
                repeat_rate: Some(0.0),
                tenure_days: Some(0.0),
                recency_days: None,
                share_of_wallet: a.share_of_wallet,
                satisfaction: a.satisfaction,
                recommendation: a.recommendation,
            });
        }
    }
    anyhow::ensure!(
        !inputs.is_empty(),
        "no customer has a purchase on or before {as_of}"
    );
    let scores = loyalty::score(&inputs, &config).context("loyalty scoring")?;
    let rows: Vec<Row> = scores
        .into_iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (score, input))| Row {
            score,
            has_purchases: i < buyers,
            input,
        })
        .collect();
    let types: Vec<TypeCount> = [
        LoyaltyType::True,
        LoyaltyType::Latent,
        LoyaltyType::Spurious,
        LoyaltyType::None,
    ]
    .into_iter()
    .map(|t| TypeCount {
        loyalty_type: type_code(t),
        name_zh: t.name_zh(),
        name_en: t.name_en(),
        customers: rows
            .iter()
            .filter(|r| r.score.loyalty_type == Some(t))
            .count(),
        advice_zh: t.advice_zh(),
        advice_en: t.advice_en(),
    })
    .collect();
    let unclassified = rows
        .iter()
        .filter(|r| r.score.loyalty_type.is_none())
        .count();
    match args.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            repeat_period_months: args.repeat_period_months,
            customers: rows.len(),
            without_purchases: rows.len() - buyers,
            config: &config,
            types,
            unclassified,
            per_customer: &rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![
                ("as of".to_string(), as_of.to_string()),
                ("customers".to_string(), rows.len().to_string()),
            ];
            for t in &types {
                pre.push((
                    format!("{} / {}", t.name_zh, t.name_en),
                    format!("{} — {}", t.customers, t.advice_en),
                ));
            }
            pre.push((
                "no attitude data (no type)".to_string(),
                unclassified.to_string(),
            ));
            write_table(&pre, &rows)
        }
    }
}
