//! `guanxi analytics switching-cost`: how costly it would be for each account to leave us
//! (0–100), the components, and the lever with the most points still to gain.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use guanxi_analytics::customer_file::{Layout, OneRowPerCustomer, Others, Record, SideFileError};
use guanxi_analytics::switching_cost::{
    self, Level, SwitchingCostConfig, SwitchingCostInput, SwitchingCostScore, TransactionFacts,
};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, load_side_file, num, parse_date, safe_text,
    write_csv, write_json, write_table,
};
use super::settings_file::SettingsArgs;

/// Arguments of `guanxi analytics switching-cost`.
#[derive(Args, Debug)]
pub struct SwitchingCostArgs {
    /// One row per account: customer_id and any of remaining_contract_days or contract_end
    /// (date), integration_level (0 none … 3 embedded in their processes), loyalty_balance,
    /// categories_held, tenure_days. Blank contract, integration or balance means none.
    /// categories_held and tenure_days are required unless --transactions is given.
    #[arg(long, value_name = "FILE", required_unless_present = "print_settings")]
    pub customers: Option<PathBuf>,
    /// Transactions CSV (customer_id,date,amount, optional product): categories held are the
    /// distinct products bought and tenure runs from the first purchase, where the customers
    /// file leaves them blank.
    #[arg(long, value_name = "FILE")]
    pub transactions: Option<PathBuf>,
    /// Date the contract terms and tenure are measured at (default: the last transaction date,
    /// or today without transactions).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
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

/// With transactions, breadth and tenure can come from the purchases.
const WITH_TRANSACTIONS: Layout = Layout {
    required: &[],
    optional: &[
        "remaining_contract_days",
        "contract_end",
        "integration_level",
        "loyalty_balance",
        "categories_held",
        "tenure_days",
    ],
    others: Others::Reject,
};

/// Without transactions nothing else can supply breadth and tenure, and scoring them as zero
/// would understate every account.
const WITHOUT_TRANSACTIONS: Layout = Layout {
    required: &["categories_held", "tenure_days"],
    optional: &[
        "remaining_contract_days",
        "contract_end",
        "integration_level",
        "loyalty_balance",
    ],
    others: Others::Reject,
};

fn non_negative(r: &Record<'_>, column: &str) -> Result<Option<f64>, String> {
    match r.number(column)? {
        Some(v) if v < 0.0 => Err(format!("{column} {v} is negative")),
        other => Ok(other),
    }
}

fn whole(r: &Record<'_>, column: &str) -> Result<Option<u32>, String> {
    match non_negative(r, column)? {
        Some(v) if v.fract() != 0.0 || v > f64::from(u32::MAX) => {
            Err(format!("{column} {v} is not a whole number"))
        }
        // in range and whole, checked above
        Some(v) => Ok(Some(v as u32)),
        None => Ok(None),
    }
}

/// What the transactions know, by customer.
struct Purchases<'a> {
    by_id: HashMap<&'a str, &'a TransactionFacts>,
    /// Whether the transactions name products; without them breadth cannot be derived.
    has_products: bool,
}

/// Reads the customers file into scoring inputs, filling breadth and tenure from `facts` where
/// the file leaves them blank.
fn read_customers(
    path: &Path,
    facts: Option<&Purchases<'_>>,
    as_of: NaiveDate,
    config: &SwitchingCostConfig,
    skip_bad_rows: bool,
) -> anyhow::Result<Vec<SwitchingCostInput>> {
    let layout = if facts.is_some() {
        &WITH_TRANSACTIONS
    } else {
        &WITHOUT_TRANSACTIONS
    };
    let mut rows = Vec::new();
    let mut once = OneRowPerCustomer::default();
    let result = load_side_file(path, layout, skip_bad_rows, |r| {
        let id = r.customer_id()?;
        let remaining = non_negative(r, "remaining_contract_days")?;
        let end = r.date("contract_end")?;
        let remaining_contract_days = match (remaining, end) {
            (Some(_), Some(_)) => {
                return Err("give remaining_contract_days or contract_end, not both".into());
            }
            (Some(d), None) => d,
            (None, Some(end)) => ((end - as_of).num_days().max(0)) as f64,
            (None, None) => 0.0,
        };
        let integration_level = whole(r, "integration_level")?.unwrap_or(0);
        if integration_level > config.max_integration_level {
            return Err(format!(
                "integration_level {integration_level} is above the highest level {} (set \
                 max_integration_level in --settings)",
                config.max_integration_level
            ));
        }
        let loyalty_balance = non_negative(r, "loyalty_balance")?.unwrap_or(0.0);
        // Some(None): known to the transactions as not having bought by the report date
        let from_tx = facts.map(|f| f.by_id.get(id).copied());
        let categories_held = match (whole(r, "categories_held")?, facts) {
            (Some(c), _) => c,
            (None, None) => {
                return Err(
                    "categories_held is empty (give --transactions to count products bought)"
                        .into(),
                );
            }
            (None, Some(f)) if !f.has_products => {
                return Err(
                    "categories_held is empty and the transactions have no product column".into(),
                );
            }
            (None, Some(_)) => from_tx
                .flatten()
                .and_then(|f| f.categories_held)
                .unwrap_or(0),
        };
        let tenure_days = match (non_negative(r, "tenure_days")?, from_tx) {
            (Some(t), _) => t,
            (None, None) => {
                return Err(
                    "tenure_days is empty (give --transactions to measure it from purchases)"
                        .into(),
                );
            }
            // no purchase by the report date: a new account
            (None, Some(f)) => f.map_or(0.0, |f| f.tenure_days),
        };
        once.check(r)?;
        rows.push(SwitchingCostInput {
            customer_id: id.to_string(),
            categories_held,
            remaining_contract_days,
            integration_level,
            loyalty_balance,
            tenure_days,
        });
        Ok(())
    });
    match result {
        Err(e) if facts.is_none() && is_missing_column(&e) => Err(e.context(
            "without --transactions the customers file must give categories_held and tenure_days",
        )),
        other => other,
    }?;
    Ok(rows)
}

fn is_missing_column(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<SideFileError>(),
            Some(SideFileError::MissingColumn { .. })
        )
    })
}

fn level_code(l: Level) -> &'static str {
    match l {
        Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "high",
    }
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    score: SwitchingCostScore,
    level_en: &'static str,
    lever_en: String,
    /// Points the lever could still add.
    lever_gain: f64,
    #[serde(skip)]
    input: SwitchingCostInput,
}

impl Row {
    fn new(score: SwitchingCostScore, input: SwitchingCostInput) -> Row {
        let lever = score.components.iter().find(|c| c.name == score.lever);
        Row {
            level_en: score.level.name_en(),
            lever_en: lever.map(|c| c.name_en.clone()).unwrap_or_default(),
            lever_gain: lever.map_or(0.0, |c| c.max_points - c.points),
            score,
            input,
        }
    }

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
            "level",
            "level_zh",
            "level_en",
            "categories_held",
            "remaining_contract_days",
            "integration_level",
            "loyalty_balance",
            "tenure_days",
            "breadth_points",
            "contract_points",
            "integration_points",
            "loyalty_balance_points",
            "tenure_points",
            "lever",
            "lever_zh",
            "lever_en",
            "lever_gain",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let s = &self.score;
        let i = &self.input;
        vec![
            safe_text(&s.customer_id),
            num(Some(s.index), 1),
            level_code(s.level).into(),
            s.level_zh.clone(),
            self.level_en.into(),
            i.categories_held.to_string(),
            num(Some(i.remaining_contract_days), 0),
            i.integration_level.to_string(),
            num(Some(i.loyalty_balance), 2),
            num(Some(i.tenure_days), 0),
            num(self.points("breadth"), 1),
            num(self.points("contract"), 1),
            num(self.points("integration"), 1),
            num(self.points("loyalty_balance"), 1),
            num(self.points("tenure"), 1),
            s.lever.clone(),
            s.lever_zh.clone(),
            self.lever_en.clone(),
            num(Some(self.lever_gain), 1),
        ]
    }
}

#[derive(Serialize)]
struct LevelCount {
    level: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    customers: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    customers: usize,
    config: &'a SwitchingCostConfig,
    levels: Vec<LevelCount>,
    per_customer: &'a [Row],
}

/// Runs the command.
pub fn run(args: SwitchingCostArgs) -> anyhow::Result<()> {
    let config: SwitchingCostConfig = args.settings.load("switching-cost")?;
    config.validate()?;
    if args.settings.print_settings {
        return write_json(&config);
    }
    let Some(customers) = &args.customers else {
        anyhow::bail!("--customers is required");
    };
    let tx = match &args.transactions {
        Some(p) => Some(load(&InputArgs {
            transactions: p.clone(),
            skip_bad_rows: args.skip_bad_rows,
            returns: args.returns,
            format: args.format,
        })?),
        None => None,
    };
    let as_of = match (args.as_of, &tx) {
        (Some(d), _) => d,
        (None, Some(tx)) => as_of_or_last(None, tx)?,
        (None, None) => chrono::Local::now().date_naive(),
    };
    let facts = tx
        .as_ref()
        .map(|tx| switching_cost::facts_from_transactions(tx, as_of));
    let purchases = facts.as_ref().zip(tx.as_ref()).map(|(f, tx)| Purchases {
        by_id: f.iter().map(|f| (f.customer_id.as_str(), f)).collect(),
        has_products: tx.product_keys().is_some(),
    });
    let inputs = read_customers(
        customers,
        purchases.as_ref(),
        as_of,
        &config,
        args.skip_bad_rows,
    )?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "{} holds no customers",
        customers.display()
    );
    if let Some(facts) = &facts {
        let listed: std::collections::HashSet<&str> =
            inputs.iter().map(|i| i.customer_id.as_str()).collect();
        let unlisted = facts
            .iter()
            .filter(|f| !listed.contains(f.customer_id.as_str()))
            .count();
        if unlisted > 0 {
            eprintln!(
                "note: {unlisted} customer(s) with purchases have no row in {} and are not scored",
                customers.display()
            );
        }
    }
    let scores = switching_cost::score(&inputs, &config).context("switching-cost scoring")?;
    let rows: Vec<Row> = scores
        .into_iter()
        .zip(inputs)
        .map(|(s, i)| Row::new(s, i))
        .collect();
    let levels: Vec<LevelCount> = [Level::High, Level::Medium, Level::Low]
        .into_iter()
        .map(|l| LevelCount {
            level: level_code(l),
            name_zh: l.name_zh(),
            name_en: l.name_en(),
            customers: rows.iter().filter(|r| r.score.level == l).count(),
        })
        .collect();
    match args.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            customers: rows.len(),
            config: &config,
            levels,
            per_customer: &rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![
                ("as of".to_string(), as_of.to_string()),
                ("customers".to_string(), rows.len().to_string()),
            ];
            for l in &levels {
                pre.push((
                    format!("{} / {}", l.name_zh, l.name_en),
                    l.customers.to_string(),
                ));
            }
            write_table(&pre, &rows)
        }
    }
}
