//! `guanxi jobs`: run the background jobs in a process of their own, and see and handle the
//! failed ones, as the operator at the console.
//!
//! `guanxi serve` runs the same jobs; any number of processes may run them against one
//! database, and each job still runs once.

use std::str::FromStr;

use anyhow::{Result, anyhow};
use clap::Subcommand;
use guanxi_core::Core;
use guanxi_core::jobs::runner::Runner;
use guanxi_core::jobs::{self, JobState};
use uuid::Uuid;

use crate::{DbArg, explain_in};

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Run due jobs as they fall due, until interrupted (Ctrl-C); with --once, run what is due
    /// now and exit.
    Run {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        once: bool,
    },
    /// List jobs, the most recently changed first.
    List {
        #[command(flatten)]
        db: DbArg,
        /// queued, running, done or failed.
        #[arg(long, value_parser = ["queued", "running", "done", "failed"])]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Queue a failed job again, with all its attempts.
    Retry {
        #[command(flatten)]
        db: DbArg,
        id: String,
    },
    /// Delete a failed job.
    Drop {
        #[command(flatten)]
        db: DbArg,
        id: String,
    },
}

impl JobsCommand {
    pub fn db(&self) -> &DbArg {
        match self {
            JobsCommand::Run { db, .. }
            | JobsCommand::List { db, .. }
            | JobsCommand::Retry { db, .. }
            | JobsCommand::Drop { db, .. } => db,
        }
    }
}

fn job_id(id: &str) -> Result<Uuid> {
    Uuid::from_str(id).map_err(|_| anyhow!("{id:?} is not a job id (see `guanxi jobs list`)"))
}

pub async fn run(core: Core, cfg: &crate::config::Config, cmd: JobsCommand) -> Result<()> {
    let explain = |e| explain_in(e, "en");
    match cmd {
        JobsCommand::Run { once: true, .. } => {
            let handlers = crate::job_handlers(&core, cfg);
            let pass = Runner::new(core, handlers)
                .run_due()
                .await
                .map_err(explain)?;
            println!(
                "done {}, to retry {}, failed {}, taken back from stopped processes {}",
                pass.done, pass.retrying, pass.failed, pass.reclaimed
            );
            Ok(())
        }
        JobsCommand::Run { once: false, .. } => {
            let handlers = crate::job_handlers(&core, cfg);
            println!(
                "running jobs ({}); Ctrl-C stops",
                handlers.kinds().join(", ")
            );
            let db = core.db.clone();
            Runner::new(core, handlers)
                .run_until(guanxi_web::stop_requested())
                .await;
            db.close().await.map_err(explain)?;
            Ok(())
        }
        JobsCommand::List { state, limit, .. } => {
            let state = state.as_deref().and_then(JobState::parse);
            let rows = jobs::list(&core, None, state, limit)
                .await
                .map_err(explain)?;
            if rows.is_empty() {
                println!("no jobs");
            }
            for j in rows {
                println!(
                    "{}  {:<16} {:<8} due {}  attempts {}/{}{}",
                    j.id,
                    j.kind,
                    j.state,
                    j.due_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    j.attempts,
                    j.max_attempts,
                    if j.last_error.is_empty() {
                        String::new()
                    } else {
                        format!("  error: {}", j.last_error)
                    }
                );
            }
            Ok(())
        }
        JobsCommand::Retry { id, .. } => {
            jobs::retry(&core, None, job_id(&id)?)
                .await
                .map_err(|e| match e {
                    guanxi_core::CoreError::NotFound => anyhow!("no failed job {id}"),
                    e => explain(e),
                })?;
            println!("queued again: {id}");
            Ok(())
        }
        JobsCommand::Drop { id, .. } => {
            jobs::drop_failed(&core, None, job_id(&id)?)
                .await
                .map_err(|e| match e {
                    guanxi_core::CoreError::NotFound => anyhow!("no failed job {id}"),
                    e => explain(e),
                })?;
            println!("dropped: {id}");
            Ok(())
        }
    }
}
