//! `guanxi import`: a CSV or XLSX file's rows as records of any entity, through the core's
//! import run (the record engine's batch path, matching on natural keys, re-runs keyed on the
//! file's fingerprint).
//!
//! Without `--mapping` the suggested mapping is printed as TOML, to save and edit, and used.
//! Rows that cannot be imported go to an error file (`--errors`, by default beside the input:
//! `FILE.errors.csv`) in the importing user's language, UTF-8 with a byte order mark so that
//! Excel opens it right, with the row's own values after the reason, to correct and import
//! again.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use guanxi_core::Core;
use guanxi_core::identity::users;
use guanxi_core::import::mapping::{Mapping, Targets, suggest};
use guanxi_core::import::run::{self, Counts, Policy, RowError, RunOptions, Sink};
use guanxi_core::import::{FileKind, ReadError, ReadOptions, Source};
use guanxi_core::import::{ledger, undo};
use guanxi_web::i18n::{EveryLanguage, I18n};
use guanxi_web::import_errors::ErrorCsv;

use crate::{DbArg, acting_as, explain_in, find_user};

#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    subcommand_value_name = "ENTITY",
    override_usage = "guanxi import <ENTITY> <FILE> [OPTIONS]\n       guanxi import runs [OPTIONS]\n       guanxi import undo <RUN> [OPTIONS]"
)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub command: Option<ImportCommand>,
    #[command(flatten)]
    pub db: DbArg,
    /// What to import, by its code: accounts, contacts, opportunities, … (singular works too).
    #[arg(required = true)]
    pub entity: Option<String>,
    /// The file: CSV (UTF-8, GBK/GB18030; comma, semicolon or tab) or XLSX.
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// A mapping file (TOML) saying which field each column feeds. Default: the suggestion
    /// from the headers, printed so it can be saved and edited.
    #[arg(long, value_name = "M.toml")]
    pub mapping: Option<PathBuf>,
    /// What a row that matches a stored record (same e-mail, phone, domain, tax id or company
    /// name) does: skip it, fill its empty fields, overwrite the mapped fields, or create a new
    /// record anyway.
    #[arg(long = "match", value_name = "POLICY", default_value = "skip",
          value_parser = ["skip", "fill", "overwrite", "create"])]
    pub policy: String,
    /// Check every row and report, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Create the customers a ledger's rows name that none holds (by default such a row is
    /// refused, so a misspelt name does not become a new customer).
    #[arg(long)]
    pub create_missing: bool,
    /// The e-mail of the user importing: they own the new records and their rights apply.
    /// Default: the only administrator, when there is one.
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: Option<String>,
    /// Where rows that cannot be imported are written. Default: FILE.errors.csv beside FILE.
    #[arg(long, value_name = "OUT.csv")]
    pub errors: Option<PathBuf>,
    /// Language of the error file and messages. Default: the user's.
    #[arg(long, value_parser = ["zh-CN", "en"])]
    pub locale: Option<String>,
    /// The worksheet of a workbook to read. Default: the first visible one.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Stop after this many rows (the rest is imported by running the same file again).
    #[arg(long, value_name = "N")]
    pub stop_after: Option<u64>,
}

/// What else `guanxi import` does besides importing a file.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// List the imports: when, who, which file, what was imported, the counts and the status.
    Runs {
        #[command(flatten)]
        db: DbArg,
        /// List as this user (administrators see every import, others their own). Default: the
        /// only administrator.
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: Option<String>,
        /// How many, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Undo an import: records it created go to the recycle bin, fields it changed get their
    /// earlier values back; records someone changed since are kept and listed.
    Undo {
        #[command(flatten)]
        db: DbArg,
        /// The import's id, as `guanxi import runs` lists it.
        run: String,
        /// Who undoes it: the user who imported, or an administrator. Default: the only
        /// administrator.
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: Option<String>,
        /// Language of the messages. Default: the user's.
        #[arg(long, value_parser = ["zh-CN", "en"])]
        locale: Option<String>,
    },
    /// Stop an import that runs (started in the browser, on any instance): it stops after the
    /// batch it is writing; what it imported stays, and can be undone.
    Stop {
        #[command(flatten)]
        db: DbArg,
        /// The import's id, as `guanxi import runs` lists it.
        run: String,
        /// Who stops it: the user who imported, or an administrator. Default: the only
        /// administrator.
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: Option<String>,
        /// Language of the messages. Default: the user's.
        #[arg(long, value_parser = ["zh-CN", "en"])]
        locale: Option<String>,
    },
}

impl ImportArgs {
    /// The database the command works on.
    pub fn db(&self) -> &DbArg {
        match &self.command {
            Some(
                ImportCommand::Runs { db, .. }
                | ImportCommand::Undo { db, .. }
                | ImportCommand::Stop { db, .. },
            ) => db,
            None => &self.db,
        }
    }
}

/// The user a command acts as: the one named, else the only administrator.
async fn user_or_admin(core: &Core, as_user: Option<&str>) -> Result<guanxi_core::identity::User> {
    match as_user {
        Some(email) => find_user(core, email).await,
        None => {
            let admins: Vec<_> = users::list(&core.db)
                .await
                .map_err(|e| explain_in(e, "en"))?
                .iter()
                .filter(|u| !u.disabled && u.role.as_str() == "admin")
                .cloned()
                .collect();
            match <[_; 1]>::try_from(admins) {
                Ok([one]) => Ok(one),
                Err(_) => bail!("say who imports with --as EMAIL (their rights apply)"),
            }
        }
    }
}

/// `guanxi import runs`.
async fn list_runs(core: &Core, as_user: Option<&str>, limit: u64) -> Result<()> {
    let user = user_or_admin(core, as_user).await?;
    let actor = acting_as(core, &user, None, "list imports").await?;
    let words = I18n::for_actor(&actor);
    let runs = ledger::list(core, &actor, limit)
        .await
        .map_err(|e| explain_in(e, &actor.locale))?;
    if runs.is_empty() {
        println!("no imports yet");
        return Ok(());
    }
    let mut rows = vec![
        [
            "id", "started", "who", "entity", "file", "policy", "status", "counts",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in runs {
        let c = &r.counts;
        let mut counts = format!(
            "{} read, {} created, {} updated, {} skipped, {} failed",
            c.read, c.created, c.updated, c.skipped, c.failed
        );
        if c.already > 0 {
            counts.push_str(&format!(", {} imported before", c.already));
        }
        if let Some(u) = &r.undo {
            counts.push_str(&format!(
                "; undo: {} removed, {} restored, {} kept",
                u.removed, u.restored, u.skipped
            ));
        }
        rows.push(vec![
            r.id.to_string(),
            words.instant(r.started_at),
            clip(&r.created_by_name, 16),
            r.entity.clone(),
            clip(&r.file_name, 32),
            r.policy.clone(),
            words.t(&format!("import-status-{}", r.status)),
            counts,
        ]);
    }
    for line in table(&rows) {
        println!("{line}");
    }
    Ok(())
}

/// `guanxi import stop RUN`.
async fn stop_run(
    core: &Core,
    run: &str,
    as_user: Option<&str>,
    locale: Option<&str>,
) -> Result<()> {
    let run_id = uuid::Uuid::parse_str(run.trim())
        .map_err(|_| anyhow!("'{run}' is no import's id; `guanxi import runs` lists them"))?;
    let user = user_or_admin(core, as_user).await?;
    let actor = acting_as(core, &user, locale, "stop imports").await?;
    let words = I18n::new(&actor.locale);
    match ledger::request_stop(core, &actor, run_id).await {
        Ok(now) if now == ledger::status::STOPPED => println!("import {run_id} stopped"),
        Ok(_) => println!(
            "import {run_id} asked to stop: it stops after the batch it is writing; \
             `guanxi import runs` shows its counts"
        ),
        Err(guanxi_core::CoreError::NotFound) => {
            bail!("no import {run_id}; `guanxi import runs` lists them")
        }
        Err(
            guanxi_core::CoreError::Conflict { code, params, .. }
            | guanxi_core::CoreError::Forbidden { code, params },
        ) => bail!("{}", words.error(code, &params)),
        Err(e) => return Err(explain_in(e, &actor.locale)),
    }
    Ok(())
}

/// The lines of a table whose columns line up in a terminal: each cell padded to its column's
/// widest by display width (a Chinese character takes two columns), two spaces between
/// columns, the last column as it is.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i].saturating_sub(cell.width()) + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line
        })
        .collect()
}

/// `text` cut to at most `max` display columns, with "…" where it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `guanxi import undo RUN`.
async fn undo_run(
    core: &Core,
    run: &str,
    as_user: Option<&str>,
    locale: Option<&str>,
) -> Result<()> {
    let run_id = uuid::Uuid::parse_str(run.trim())
        .map_err(|_| anyhow!("'{run}' is no import's id; `guanxi import runs` lists them"))?;
    let user = user_or_admin(core, as_user).await?;
    let actor = acting_as(core, &user, locale, "undo imports").await?;
    let words = I18n::new(&actor.locale);
    let report = match undo::undo(core, &actor, run_id).await {
        Ok(r) => r,
        Err(guanxi_core::CoreError::NotFound) => {
            bail!("no import {run_id}; `guanxi import runs` lists them")
        }
        Err(guanxi_core::CoreError::Conflict { code, params, .. }) => {
            bail!("{}", words.error(code, &params))
        }
        Err(e) => return Err(explain_in(e, &actor.locale)),
    };
    println!(
        "import {run_id} undone: {} records removed (to the recycle bin), {} restored, {} kept",
        report.removed, report.restored, report.skipped_count
    );
    for s in &report.skipped {
        let mut params = guanxi_core::error::Params::new();
        let title = if s.title.is_empty() {
            words.t("record-unreadable")
        } else {
            s.title.clone()
        };
        params.insert("title", title.into());
        println!("  {}", words.error(s.reason, &params));
    }
    if report.skipped_count > report.skipped.len() as u64 {
        println!(
            "  … and {} more",
            report.skipped_count - report.skipped.len() as u64
        );
    }
    Ok(())
}

/// The error file, written as rows fail (created at the first).
struct ErrorFile {
    words: I18n,
    headers: Vec<String>,
    csv: Option<ErrorCsv<std::fs::File>>,
    path: PathBuf,
    rows: u64,
    failure: Option<std::io::Error>,
    bar: indicatif::ProgressBar,
    terminal: bool,
    started: std::time::Instant,
    last_line: u64,
}

impl ErrorFile {
    fn open(&mut self) -> std::io::Result<&mut ErrorCsv<std::fs::File>> {
        if self.csv.is_none() {
            let file = std::fs::File::create(&self.path)?;
            self.csv = Some(ErrorCsv::new(
                file,
                self.words.clone(),
                self.headers.clone(),
            ));
        }
        self.csv
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the error file is not open"))
    }
}

impl Sink for ErrorFile {
    fn error(&mut self, e: RowError) {
        if self.failure.is_some() {
            return;
        }
        self.rows += 1;
        if let Err(err) = self
            .open()
            .and_then(|w| w.error(e.line, &e.column, e.code, &e.params, &e.values))
        {
            self.failure = Some(err);
        }
    }

    fn progress(&mut self, c: &Counts) {
        self.bar.set_position(c.read);
        self.bar.set_message(format!(
            "{} created, {} updated, {} skipped, {} failed",
            c.created, c.updated, c.skipped, c.failed
        ));
        // Without a terminal (a log file), a line every 100,000 rows.
        if !self.terminal && c.read / 100_000 > self.last_line {
            self.last_line = c.read / 100_000;
            eprintln!(
                "{} rows in {:.1} s",
                c.read,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

fn default_errors_path(file: &Path) -> PathBuf {
    let mut name = file
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    name.push(".errors.csv");
    file.with_file_name(name)
}

pub async fn run(core: &Core, args: ImportArgs) -> Result<()> {
    match &args.command {
        Some(ImportCommand::Runs { as_user, limit, .. }) => {
            return list_runs(core, as_user.as_deref(), *limit).await;
        }
        Some(ImportCommand::Undo {
            run,
            as_user,
            locale,
            ..
        }) => return undo_run(core, run, as_user.as_deref(), locale.as_deref()).await,
        Some(ImportCommand::Stop {
            run,
            as_user,
            locale,
            ..
        }) => return stop_run(core, run, as_user.as_deref(), locale.as_deref()).await,
        None => {}
    }
    let (Some(entity), Some(input)) = (args.entity.clone(), args.file.clone()) else {
        bail!("say what to import and from which file: guanxi import ENTITY FILE");
    };
    let def = core.registry.find(&entity).ok_or_else(|| {
        let known: Vec<&str> = core.registry.all().iter().map(|d| d.plural).collect();
        anyhow!(
            "no entity called '{}'; known ones are {}",
            entity,
            known.join(", ")
        )
    })?;
    let user = user_or_admin(core, args.as_user.as_deref()).await?;
    let actor = acting_as(core, &user, args.locale.as_deref(), "import").await?;
    let locale = actor.locale.clone();
    let words = I18n::new(&locale);
    let read_error = |e: ReadError| anyhow!("{}", words.error(e.code(), &e.params()));
    let name = input.display().to_string();
    let fingerprint =
        run::fingerprint(std::fs::File::open(&input).with_context(|| format!("opening {name}"))?)
            .with_context(|| format!("reading {name}"))?;
    let options = ReadOptions {
        kind: FileKind::from_name(&name),
        sheet: args.sheet.clone(),
        ..ReadOptions::default()
    };
    let file = std::fs::File::open(&input).with_context(|| format!("opening {name}"))?;
    let mut source = Source::open(std::io::BufReader::new(file), &options).map_err(read_error)?;
    let custom = core
        .records(def)
        .custom_defs()
        .await
        .map_err(|e| explain_in(e, &locale))?;
    let targets = Targets::of(def, &custom);
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Mapping::from_toml(&text).map_err(read_error)?
        }
        None => {
            let suggested = suggest(&targets, source.headers(), &EveryLanguage::default());
            let m = suggested.mapping();
            println!("# The mapping used (save it, edit it, pass it with --mapping):");
            println!("{}", m.to_toml());
            m
        }
    };
    let plan = mapping
        .resolve(&targets, source.headers())
        .map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("  {}", words.error(e.code(), &e.params())))
                .collect();
            anyhow!("the mapping does not fit the file:\n{}", lines.join("\n"))
        })?
        // An export for people reads back as well as one of codes, in either language.
        .reading_labels(def, &custom, &EveryLanguage::default());
    let policy = Policy::parse(&args.policy).unwrap_or(Policy::Skip);
    let run_options = RunOptions {
        policy,
        dry_run: args.dry_run,
        file_name: input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone()),
        fingerprint,
        mapping: mapping.to_toml(),
        stop_after: args.stop_after,
        run_id: None,
        create_missing: args.create_missing,
    };
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::no_length();
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} rows, {per_sec} — {msg} [{elapsed_precise}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let errors_path = args
        .errors
        .clone()
        .unwrap_or_else(|| default_errors_path(&input));
    let mut sink = ErrorFile {
        words: I18n::new(&locale),
        headers: plan.headers.clone(),
        csv: None,
        path: errors_path.clone(),
        rows: 0,
        failure: None,
        bar: bar.clone(),
        terminal,
        started: std::time::Instant::now(),
        last_line: 0,
    };
    let started = std::time::Instant::now();
    let outcome = run::run(
        core,
        &actor,
        def,
        &mut source,
        &plan,
        &run_options,
        &mut sink,
    )
    .await;
    bar.finish_and_clear();
    if let Some(w) = sink.csv.as_mut() {
        w.flush()
            .with_context(|| format!("writing {}", errors_path.display()))?;
    }
    if let Some(e) = sink.failure.take() {
        bail!("writing {}: {e}", errors_path.display());
    }
    let report = outcome.map_err(|e| explain_in(e, &locale))?;
    let c = &report.counts;
    let secs = started.elapsed().as_secs_f64();
    // The rows this run worked on: those an earlier run imported are passed over at almost no
    // cost, and counting them made a resumed import look several times faster than it was.
    let rate = if secs > 0.0 {
        c.read.saturating_sub(c.already) as f64 / secs
    } else {
        0.0
    };
    println!(
        "{}{} rows read in {secs:.1} s ({rate:.0} rows/s{}): {} created, {} updated, {} skipped, {} failed",
        if args.dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
        c.read,
        if c.already > 0 {
            ", those passed over left out"
        } else {
            ""
        },
        c.created,
        c.updated,
        c.skipped,
        c.failed,
    );
    if c.already > 0 {
        println!(
            "{} rows were imported by an earlier run of this file and were passed over",
            c.already
        );
    }
    if c.linked_created > 0 {
        println!(
            "{} records the rows refer to by name were created",
            c.linked_created
        );
    }
    if sink.rows > 0 {
        println!("{} errors written to {}", sink.rows, errors_path.display());
    } else if !args.dry_run && errors_path.exists() && args.errors.is_none() {
        // An error file of an earlier run of this file would now mislead.
        let _ = std::fs::remove_file(&errors_path);
    }
    if report.stopped {
        println!("stopped early as asked; run the same command again to import the rest");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{clip, table};
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn columns_line_up_by_display_width_with_chinese_text() {
        let rows = vec![
            vec!["who".to_string(), "file".into(), "status".into()],
            vec![
                "王芳".to_string(),
                "客户名单（华东区）.csv".into(),
                "已完成".into(),
            ],
            vec!["Bob".to_string(), "a.csv".into(), "Done".into()],
        ];
        let lines = table(&rows);
        let at = |line: &str, cell: &str| line[..line.find(cell).unwrap()].width();
        assert_eq!(at(&lines[0], "file"), at(&lines[1], "客户"));
        assert_eq!(at(&lines[1], "客户"), at(&lines[2], "a.csv"));
        assert_eq!(at(&lines[0], "status"), at(&lines[1], "已完成"));
        assert_eq!(at(&lines[1], "已完成"), at(&lines[2], "Done"));
        assert!(!lines[1].ends_with(' '));
    }

    #[test]
    fn long_names_are_clipped_by_display_width() {
        assert_eq!(clip("短.csv", 10), "短.csv");
        let long = clip("华东区重点客户联系人名单二〇二六年十二月.csv", 16);
        assert!(long.width() <= 16, "{long}");
        assert!(long.ends_with('…'), "{long}");
    }
}
