//! `guanxi insights refresh`: every account's customer insights from the ledgers, now or as of a
//! past date (for back-testing: only ledger rows up to that date are read), with a progress bar
//! on a terminal. The nightly job and the admin's button call the same refresh.

use std::io::IsTerminal;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use guanxi_analytics::customer_insights::churn::{ChurnOptions, Refusal};
use guanxi_core::Core;
use guanxi_core::insights::read;
use guanxi_core::insights::refresh::{self, Progress, Train, Trained};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{DbArg, explain_in};

#[derive(Subcommand)]
pub enum InsightsCommand {
    /// Recompute every account's insights (tier, RFM, value, lifecycle, next purchase) from the
    /// sales history and payments.
    Refresh {
        #[command(flatten)]
        db: DbArg,
        /// Compute as of this date (YYYY-MM-DD): ledger rows dated after it are not read.
        /// Default: today.
        #[arg(long, value_parser = crate::analytics_cmd::parse_date)]
        as_of: Option<NaiveDate>,
        /// Train the churn model even if one was trained in the last week (it is refused, and
        /// the last accepted one kept, when its out-of-time AUC is below the floor).
        #[arg(long, conflicts_with = "no_train")]
        train: bool,
        /// Do not train: score churn with the last accepted model.
        #[arg(long)]
        no_train: bool,
    },
    /// Write the ledgers as a refresh reads them into DIR, in the CSV formats of `guanxi
    /// analytics` (transactions.csv, payments.csv; returns negative, on their order's date: read
    /// them with --returns; and the customer facts as attitudes.csv, switching.csv and
    /// survey.csv), to run the models by hand on what the product saw.
    ExportLedger {
        #[command(flatten)]
        db: DbArg,
        /// An existing directory to write into.
        dir: std::path::PathBuf,
        /// Only ledger rows dated up to this day (YYYY-MM-DD). Default: today.
        #[arg(long, value_parser = crate::analytics_cmd::parse_date)]
        as_of: Option<NaiveDate>,
    },
}

impl InsightsCommand {
    pub fn db(&self) -> &DbArg {
        match self {
            InsightsCommand::Refresh { db, .. } | InsightsCommand::ExportLedger { db, .. } => db,
        }
    }
}

pub async fn run(core: &Core, cmd: InsightsCommand) -> Result<()> {
    match cmd {
        InsightsCommand::ExportLedger { dir, as_of, .. } => {
            anyhow::ensure!(dir.is_dir(), "{} is not a directory", dir.display());
            let as_of = as_of.unwrap_or_else(|| refresh::today(core, guanxi_core::now()));
            let ledger = read::ledger(
                core.db.reader(),
                core.db.backend(),
                as_of,
                &core.settings.default_currency,
                None,
            )
            .await
            .map_err(|e| explain_in(e, "en"))?;
            let (rows, invoices) =
                read::write_csv(&ledger, &dir).map_err(|e| explain_in(e, "en"))?;
            println!(
                "ledger as of {as_of}: {rows} sales rows to {}, {invoices} invoices to {}, \
                 customer facts to attitudes.csv, switching.csv and survey.csv",
                dir.join("transactions.csv").display(),
                dir.join("payments.csv").display()
            );
            Ok(())
        }
        InsightsCommand::Refresh {
            as_of,
            train,
            no_train,
            ..
        } => {
            let train = match (train, no_train) {
                (true, _) => Train::Always,
                (_, true) => Train::Never,
                _ => Train::IfStale,
            };
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
            let show = |p: Progress| {
                let Some(bar) = &bar else { return };
                match p {
                    Progress::Reading => bar.set_message("reading the ledgers"),
                    Progress::Computing => bar.set_message("fitting and scoring"),
                    Progress::Training => bar.set_message("training the churn model"),
                    Progress::Writing { done, of } => {
                        bar.set_message("writing insights");
                        bar.set_length(of);
                        bar.set_position(done);
                    }
                }
            };
            let done = refresh::refresh(core, as_of, train, &show)
                .await
                .map_err(|e| explain_in(e, "en"))?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            println!(
                "insights as of {}: {} accounts from {} sales rows; {} accounts without purchases cleared",
                done.as_of, done.accounts, done.rows, done.forgotten
            );
            if let Some(t) = &done.trained {
                println!("{}", trained_line(t));
            }
            if done.churn_model.is_none() {
                println!("churn risk: no accepted churn model yet, so no account has one");
            }
            Ok(())
        }
    }
}

/// "churn model trained as of …: out-of-time AUC 0.87, top-decile lift 4.1; accepted".
fn trained_line(t: &Trained) -> String {
    let quality = match &t.test {
        Some(e) => format!(
            "out-of-time AUC {}, top-decile lift {:.2}, {} of {} customers churned",
            e.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
            e.top_decile.lift,
            e.churned,
            e.customers
        ),
        None => "not evaluated".into(),
    };
    let verdict = match t.refusal {
        None => "accepted, now scoring".to_string(),
        Some(Refusal::TooLittleHistory) => format!(
            "refused: the ledger does not reach back two windows ({} days)",
            2 * ChurnOptions::default().window_days
        ),
        Some(Refusal::OneClass) => {
            "refused: everyone or no one churned in a window, nothing to learn".to_string()
        }
        Some(Refusal::BelowFloor { auc, floor }) => format!(
            "refused: AUC {auc:.3} is below the floor {floor:.2}; the last accepted model stays"
        ),
    };
    format!("churn model: {quality}; {verdict}")
}
