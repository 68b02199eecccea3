//! `guanxi`: the one binary. Every subcommand calls the same core services the server uses.

mod analytics_cmd;
mod config;
mod export_cmd;
mod import_cmd;
mod insights_cmd;
mod jobs_cmd;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use guanxi_core::db::backup::{self, Existing};
use guanxi_core::identity::{NewPassword, NewUser, UserPatch, auth, teams, users};
use guanxi_core::jobs::runner::Runner;
use guanxi_core::{Core, CoreError, Db, IfMissing};
use guanxi_web::i18n::I18n;

use config::Config;

/// A list page builds and drops thousands of small values (a JSON map per record, a string per
/// field); glibc's allocator spent about a sixth of the server's CPU on them, mimalloc much less.
/// With the workspace's `override` feature it also serves SQLite's own allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "guanxi",
    version,
    about = "Guanxi 关系 — customer relationship management"
)]
struct Cli {
    /// Config file (TOML). Default: guanxi.toml in the working directory, if present.
    #[arg(long, global = true, env = "GUANXI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub(crate) struct DbArg {
    /// A file path, sqlite://FILE or postgres://USER@HOST/DB. Default: guanxi.db (or the config).
    #[arg(long)]
    pub(crate) database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server on an existing database (migrations run first).
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Start with demo data: creates (or reuses) guanxi-demo.db, fills it, serves, prints the login.
    Demo {
        #[arg(long, default_value = "guanxi-demo.db")]
        database: String,
        #[arg(long, default_value = config::DEFAULT_LISTEN)]
        listen: String,
    },
    /// Run database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill a database with generated benchmark data (accounts, contacts, opportunities,
    /// activities).
    BenchData {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 1_000_000)]
        accounts: usize,
        #[arg(long, default_value_t = 3_000_000)]
        contacts: usize,
        /// Opportunities in two pipelines of seven stages, on the accounts of this load.
        #[arg(long, default_value_t = 0)]
        opportunities: usize,
        /// Activities (tasks, calls, meetings, visits, notes) regarding the accounts,
        /// contacts and opportunities of this load.
        #[arg(long, default_value_t = 0)]
        activities: usize,
        /// Users who own the records, in teams of five (a manager and four reps). More users
        /// spread the same records thinner: a rep's week holds fewer activities.
        #[arg(long, default_value_t = guanxi_seed::bulk::DEFAULT_USERS)]
        users: usize,
    },
    /// Export records as CSV, as one user: their read scope decides which records appear.
    Export(export_cmd::ExportArgs),
    /// Import a CSV or XLSX file's rows as records, matching what is already stored.
    Import(import_cmd::ImportArgs),
    /// Check the configuration and print what is in effect.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Customer analytics on a transactions CSV file (RFM, CLV, lifecycle, churn, rules, …).
    #[command(subcommand)]
    Analytics(analytics_cmd::AnalyticsCommand),
    /// Background jobs: run them in a process of their own, list them, retry or drop failed ones.
    #[command(subcommand)]
    Jobs(jobs_cmd::JobsCommand),
    /// Customer insights from the sales history and payments, written onto every account.
    #[command(subcommand)]
    Insights(insights_cmd::InsightsCommand),
    /// Write a consistent backup of an SQLite database to FILE, also while the server runs and
    /// writes (PostgreSQL: use pg_dump, see the README).
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// The backup file to write.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into a new, empty SQLite database (--database, or the configured one).
    Restore {
        #[command(flatten)]
        db: DbArg,
        /// The backup file to restore from.
        file: PathBuf,
    },
    /// Write every table of the database (SQLite or PostgreSQL) into DIR, to move it to the
    /// other backend with import-all: one consistent snapshot, also while the server runs.
    ExportAll {
        #[command(flatten)]
        db: DbArg,
        /// A new or empty directory to write into.
        dir: PathBuf,
    },
    /// Load a directory written by export-all into a new, empty database (SQLite or
    /// PostgreSQL, --database or the configured one); the search index is built again.
    ImportAll {
        #[command(flatten)]
        db: DbArg,
        /// The directory export-all wrote.
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the config file and environment and print the effective settings.
    Check,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from a prompt, or from stdin with --password-stdin.
    Add {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, sales, marketing, service or read_only.
        #[arg(long)]
        role: String,
        /// Team name; created if it does not exist.
        #[arg(long)]
        team: Option<String>,
        /// zh-CN or en.
        #[arg(long, default_value = "zh-CN")]
        locale: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Set a user's password (ends their sessions and revokes their API tokens).
    Passwd {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
        /// Keep the user's API tokens working.
        #[arg(long)]
        keep_tokens: bool,
    },
    /// Disable a user (ends their sessions; their records keep them as owner).
    Disable {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        email: String,
    },
}

impl UserCommand {
    /// The database the command works on.
    fn db(&self) -> &DbArg {
        match self {
            UserCommand::Add { db, .. }
            | UserCommand::List { db }
            | UserCommand::Passwd { db, .. }
            | UserCommand::Disable { db, .. } => db,
        }
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (alone on stdout).
    Create {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GUANXI_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Command::Analytics(cmd) = cli.command {
        return analytics_cmd::run(cmd);
    }
    let cfg = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(run(cli.command, cfg))
}

/// Opens (and migrates) the database a command works on. Only commands that set a database up
/// may create a missing SQLite file; the rest refuse and name the file.
async fn open(cfg: &Config, db: &DbArg, if_missing: IfMissing) -> Result<Core> {
    open_mapped(cfg, db, if_missing, None).await
}

/// Closes the database a command opened, then gives its outcome. Closing copies SQLite's log into
/// the file and removes it: without, every command left its log beside the file, and a copy of
/// the file alone missed what the command wrote (a user added, a file imported).
async fn closing<T>(core: Core, out: Result<T>) -> Result<T> {
    if let Err(e) = core.db.clone().close().await {
        tracing::warn!(error = %e, "the database did not close cleanly");
    }
    out
}

/// How much of an SQLite file `guanxi import` maps into memory, in MiB. An import reads the
/// parts of the database its rows touch, and mapped pages count in its resident size: with the
/// whole file mappable, 100,000 rows into 100,000 contacts peaked at 663 MB resident (562 MB of
/// it the file), with none 120 MB, at the same CPU a row (bench/README §27).
const IMPORT_MAP_MB: u64 = 0;

/// [`open`], mapping at most `map_mb` MiB of an SQLite file (`GUANXI_SQLITE_MMAP_MB` decides
/// over it).
async fn open_mapped(
    cfg: &Config,
    db: &DbArg,
    if_missing: IfMissing,
    map_mb: Option<u64>,
) -> Result<Core> {
    let url = db.database.clone().unwrap_or_else(|| cfg.database.clone());
    let db = Db::open_mapped(&url, if_missing, map_mb)
        .await
        .map_err(|e| match e {
            e @ CoreError::DatabaseMissing(_) => anyhow!("{e}"),
            e => anyhow!("opening {url}: {e}"),
        })?;
    Ok(Core::new(db, cfg.settings.clone()))
}

fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to prompt for a password: pass --password-stdin and pipe it in");
    }
    let pw = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Again: ")?;
    if pw != again {
        bail!("the passwords differ");
    }
    Ok(pw)
}

/// Turns a domain error into a message a person at a terminal can act on, worded in English by
/// the same translations the web interface uses.
fn explain(e: CoreError) -> anyhow::Error {
    explain_in(e, "en")
}

/// [`explain`] in the language of `locale` (`zh-CN` or `en`).
pub(crate) fn explain_in(e: CoreError, locale: &str) -> anyhow::Error {
    let words = I18n::new(locale);
    match e {
        CoreError::Validation(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("  {k}: {}", words.field_error(v)))
                .collect();
            anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        CoreError::Forbidden { code, params } => anyhow!("{}", words.error(code, &params)),
        CoreError::BadRequest {
            code,
            message,
            params,
        } => anyhow!("{}", words.try_error(code, &params).unwrap_or(message)),
        other => anyhow!("{other}"),
    }
}

pub(crate) async fn find_user(core: &Core, email: &str) -> Result<guanxi_core::identity::User> {
    users::find_by_email(&core.db, email)
        .await
        .map_err(explain)?
        .ok_or_else(|| anyhow!("no user with e-mail {email}"))
}

/// `user` as the actor a command acts as (their rights apply), in `locale` when given, else
/// their own language; a disabled user is refused, naming what they cannot `do`.
pub(crate) async fn acting_as(
    core: &Core,
    user: &guanxi_core::identity::User,
    locale: Option<&str>,
    what: &str,
) -> Result<guanxi_core::authz::Actor> {
    if user.disabled {
        bail!("{} is disabled and cannot {what}", user.email);
    }
    let mut actor = users::actor_for(core, user)
        .await
        .map_err(|e| explain_in(e, &user.locale))?;
    if let Some(l) = locale {
        // Titles of referenced records and messages are in the actor's language.
        actor.locale = l.to_string();
    }
    Ok(actor)
}

/// The jobs this process runs: every standard one, and the scheduled backup when a directory is
/// configured (SQLite only: PostgreSQL is backed up with `pg_dump`).
pub(crate) fn job_handlers(core: &Core, cfg: &Config) -> guanxi_core::jobs::Handlers {
    let handlers = guanxi_web::jobs(core.db.backend());
    match (&cfg.backups, core.db.backend()) {
        (Some(schedule), guanxi_core::db::Backend::Sqlite) => schedule.clone().register(handlers),
        (Some(schedule), guanxi_core::db::Backend::Postgres) => {
            tracing::warn!(
                dir = %schedule.dir.display(),
                "backup_dir is ignored on PostgreSQL: back it up with pg_dump (see the README)"
            );
            handlers
        }
        (None, _) => handlers,
    }
}

async fn serve(core: Core, listen: &str, cfg: &Config, banner: Option<String>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let app = guanxi_web::app(
        core.clone(),
        guanxi_web::WebOptions {
            secure_cookies: cfg.secure_cookies,
            trusted_proxies: cfg.trusted_proxies.clone(),
        },
    );
    // The background jobs run beside the server, and stop with it.
    let handlers = job_handlers(&core, cfg);
    let db = core.db.clone();
    let jobs = tokio::spawn(Runner::new(core, handlers).run_until(guanxi_web::stop_requested()));
    println!("Guanxi is running at http://{addr}");
    if let Some(b) = banner {
        println!("{b}");
    }
    std::io::stdout().flush().ok();
    let served = guanxi_web::serve(listener, app).await.context("serving");
    // The runner heard the same signal; a job it is running gets a moment to finish, and one
    // cut off is taken again by the next process once its claim runs out.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), jobs).await;
    // Closing copies SQLite's write-ahead log into the file and removes it. It waits for
    // connections still in use, so a job cut off above cannot hold the stop up for long.
    match tokio::time::timeout(std::time::Duration::from_secs(10), db.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the database did not close cleanly"),
        Err(_) => {
            tracing::warn!("the database was still in use after 10 s; stopping without closing it")
        }
    }
    served
}

async fn run(cmd: Command, cfg: Config) -> Result<()> {
    match cmd {
        Command::Serve { db, listen } => {
            let core = open(&cfg, &db, IfMissing::Create).await?;
            guanxi_core::setup::install_defaults(&core)
                .await
                .map_err(explain)?;
            let listen = listen.unwrap_or_else(|| cfg.listen.clone());
            serve(core, &listen, &cfg, None).await
        }
        Command::Demo { database, listen } => {
            let core = open(
                &cfg,
                &DbArg {
                    database: Some(database.clone()),
                },
                IfMissing::Create,
            )
            .await?;
            let summary = guanxi_seed::demo::seed_demo(&core).await.map_err(explain)?;
            let banner = demo_banner(&summary, &database);
            serve(core, &listen, &cfg, Some(banner)).await
        }
        Command::Migrate { db } => {
            let core = open(&cfg, &db, IfMissing::Create).await?;
            let out = async {
                for m in core.db.applied_migrations().await.map_err(explain)? {
                    println!("applied {m}");
                }
                Ok(())
            }
            .await;
            closing(core, out).await
        }
        Command::User(u) => user_command(&cfg, u).await,
        Command::Token(TokenCommand::Create { db, user, name }) => {
            let core = open(&cfg, &db, IfMissing::Refuse).await?;
            let out = async {
                let u = find_user(&core, &user).await?;
                let (secret, _) = auth::create_token(&core.db, None, u.id, &name)
                    .await
                    .map_err(explain)?;
                println!("{secret}");
                Ok(())
            }
            .await;
            closing(core, out).await
        }
        Command::BenchData {
            db,
            accounts,
            contacts,
            opportunities,
            activities,
            users,
        } => {
            let core = open(&cfg, &db, IfMissing::Create).await?;
            let sizes = guanxi_seed::bulk::Sizes {
                accounts,
                contacts,
                opportunities,
                activities,
                users,
            };
            let out = bench_data(&core, sizes).await;
            closing(core, out).await
        }
        Command::Config(ConfigCommand::Check) => {
            println!("database        = {}", cfg.database);
            println!("listen          = {}", cfg.listen);
            println!("secure_cookies  = {}", cfg.secure_cookies);
            println!("default_region  = {}", cfg.settings.default_region);
            println!("default_currency= {}", cfg.settings.default_currency);
            println!("default_time_zone = {}", cfg.settings.default_time_zone);
            println!("session_hours   = {}", cfg.settings.session_hours);
            println!("max_login_failures = {}", cfg.settings.max_login_failures);
            println!(
                "throttle_window_minutes = {}",
                cfg.settings.throttle_window_minutes
            );
            println!(
                "trusted_proxies = [{}]",
                cfg.trusted_proxies.entries().join(", ")
            );
            match &cfg.backups {
                None => println!("backup_dir      = (none: no scheduled backups)"),
                Some(b) => {
                    println!("backup_dir      = {}", b.dir.display());
                    println!("backup_every_hours = {}", b.every_hours);
                    println!("backup_keep     = {}", b.keep);
                }
            }
            println!("configuration OK");
            Ok(())
        }
        Command::Export(args) => {
            let core = open(&cfg, &args.db, IfMissing::Refuse).await?;
            let out = export_cmd::run(&core, args).await;
            closing(core, out).await
        }
        Command::Import(args) => {
            let core = open_mapped(&cfg, args.db(), IfMissing::Refuse, Some(IMPORT_MAP_MB)).await?;
            let out = import_cmd::run(&core, args).await;
            closing(core, out).await
        }
        Command::Jobs(cmd) => {
            let core = open(&cfg, cmd.db(), IfMissing::Refuse).await?;
            jobs_cmd::run(core, &cfg, cmd).await
        }
        Command::Insights(cmd) => {
            let core = open(&cfg, cmd.db(), IfMissing::Refuse).await?;
            let out = insights_cmd::run(&core, cmd).await;
            closing(core, out).await
        }
        Command::Backup { db, file, force } => {
            let url = db.database.unwrap_or_else(|| cfg.database.clone());
            let existing = if force {
                Existing::Replace
            } else {
                Existing::Refuse
            };
            let report = backup::backup_url(&url, &file, existing)
                .await
                .map_err(explain)?;
            println!(
                "backup written to {}: {} in {:.1} s",
                report.file.display(),
                size(report.bytes),
                report.took.as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { db, file } => {
            let url = db.database.unwrap_or_else(|| cfg.database.clone());
            let started = std::time::Instant::now();
            let report = backup::restore(&file, &url).await.map_err(explain)?;
            println!(
                "restored {} into {}: {} in {:.1} s",
                file.display(),
                report.file.display(),
                size(report.bytes),
                started.elapsed().as_secs_f64()
            );
            for m in report.migrated {
                println!("applied {m}");
            }
            Ok(())
        }
        Command::ExportAll { db, dir } => {
            let url = db.database.unwrap_or_else(|| cfg.database.clone());
            let report = guanxi_core::moveall::export_all(&url, &dir, &|line| println!("{line}"))
                .await
                .map_err(explain)?;
            println!(
                "exported {} rows of {} tables into {} in {:.1} s ({:.0} rows/s)",
                report.rows,
                report.tables,
                dir.display(),
                report.took.as_secs_f64(),
                report.rows_per_second()
            );
            Ok(())
        }
        Command::ImportAll { db, dir } => {
            let url = db.database.unwrap_or_else(|| cfg.database.clone());
            let report = guanxi_core::moveall::import_all(&dir, &url, &|line| println!("{line}"))
                .await
                .map_err(explain)?;
            for m in &report.migrated {
                println!("applied {m}");
            }
            println!(
                "imported {} rows of {} tables from {} in {:.1} s ({:.0} rows/s); {} records indexed for search",
                report.rows,
                report.tables,
                dir.display(),
                report.took.as_secs_f64(),
                report.rows_per_second(),
                report.indexed
            );
            Ok(())
        }
        Command::Analytics(_) => Ok(()),
    }
}

async fn user_command(cfg: &Config, cmd: UserCommand) -> Result<()> {
    let core = open(cfg, cmd.db(), IfMissing::Refuse).await?;
    let out = user_command_on(&core, cmd).await;
    closing(core, out).await
}

async fn user_command_on(core: &Core, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            db: _,
            email,
            name,
            role,
            team,
            locale,
            password_stdin,
        } => {
            let team_id = match team {
                None => None,
                Some(t) => Some(
                    match teams::find_by_name(&core.db, &t).await.map_err(explain)? {
                        Some(existing) => existing.id,
                        None => teams::create(&core.db, None, &t).await.map_err(explain)?.id,
                    },
                ),
            };
            let password = read_password(password_stdin)?;
            let u = users::create(
                &core.db,
                None,
                NewUser {
                    email,
                    name,
                    role,
                    team_id,
                    password,
                    locale: Some(locale),
                },
            )
            .await
            .map_err(explain)?;
            println!("added {} ({}) {}", u.email, u.role, u.id);
            // The first administrator gets the setup lists a new installation needs.
            guanxi_core::setup::install_defaults(core)
                .await
                .map_err(explain)?;
            Ok(())
        }
        UserCommand::List { db: _ } => {
            let teams: std::collections::HashMap<_, _> = teams::list(&core.db)
                .await
                .map_err(explain)?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect();
            println!(
                "{:<36}  {:<32}  {:<10}  {:<16}  {:<6}  name",
                "id", "email", "role", "team", "locale"
            );
            for u in users::list(&core.db).await.map_err(explain)?.iter() {
                let team = u
                    .team_id
                    .and_then(|t| teams.get(&t).cloned())
                    .unwrap_or_default();
                let name = if u.disabled {
                    format!("{} (disabled)", u.name)
                } else {
                    u.name.clone()
                };
                println!(
                    "{:<36}  {:<32}  {:<10}  {:<16}  {:<6}  {}",
                    u.id, u.email, u.role, team, u.locale, name
                );
            }
            Ok(())
        }
        UserCommand::Passwd {
            db: _,
            email,
            password_stdin,
            keep_tokens,
        } => {
            let u = find_user(core, &email).await?;
            let pw = read_password(password_stdin)?;
            auth::set_password(
                &core.db,
                &core.settings,
                None,
                u.id,
                NewPassword {
                    password: &pw,
                    current: None,
                    keep_tokens,
                },
            )
            .await
            .map_err(explain)?;
            println!("password changed for {}", u.email);
            Ok(())
        }
        UserCommand::Disable { db: _, email } => {
            let u = find_user(core, &email).await?;
            users::update(
                &core.db,
                None,
                u.id,
                UserPatch {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(explain)?;
            println!("disabled {}", u.email);
            Ok(())
        }
    }
}

/// A file size for people: `812 KB`, `12.3 MB`, `1.20 GB`.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

fn demo_banner(summary: &guanxi_seed::demo::DemoSummary, database: &str) -> String {
    let mut lines = vec![
        format!(
            "Database: {database} ({} accounts, {} contacts, {} opportunities{})",
            summary.accounts,
            summary.contacts,
            summary.opportunities,
            if summary.created {
                ", demo data just added"
            } else {
                ""
            }
        ),
        format!(
            "Log in as {} with password {}",
            summary.admin_email, summary.password
        ),
    ];
    if !summary.users.is_empty() {
        lines.push("Other demo users (same password):".into());
        for u in &summary.users {
            lines.push(format!("  {:<36} {}", u.email, u.role));
        }
    }
    lines.join("\n")
}

async fn bench_data(core: &Core, sizes: guanxi_seed::bulk::Sizes) -> Result<()> {
    let total = sizes.accounts + sizes.contacts + sizes.opportunities + sizes.activities;
    let bar = indicatif::ProgressBar::new(total as u64);
    let terminal = std::io::stderr().is_terminal();
    if !terminal {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    // Without a terminal (a log file), a line every tenth of the way.
    let mut tenth = 0;
    guanxi_seed::bulk::generate(core, sizes, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        let now = (done * 10).checked_div(total).unwrap_or(10);
        if !terminal && now > tenth {
            tenth = now;
            eprintln!(
                "{done} of {total} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .map_err(explain)?;
    bar.finish_and_clear();
    println!(
        "generated {} accounts, {} contacts, {} opportunities and {} activities in {:.1} s",
        sizes.accounts,
        sizes.contacts,
        sizes.opportunities,
        sizes.activities,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
