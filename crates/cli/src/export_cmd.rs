//! `guanxi export`: the records a user may read as CSV or XLSX (by `--output`'s extension),
//! through the same core export, the same formatting layer and the same writers as the server's
//! downloads.
//!
//! There is no default user. An export reads as someone, and that person's read scope decides
//! which records appear; defaulting to an administrator would hand every record to whoever can
//! run the binary, in a file that outlives the command, without anyone having chosen that. So
//! `--as` is required, and an administrator's e-mail gives everything when that is the intent.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use guanxi_core::records::export::{CsvWriter, Export, XlsxWriter};
use guanxi_core::records::{Filter, ListQuery};
use guanxi_core::{Core, EntityDef};
use guanxi_web::export_format::{FileType, Format};

use crate::{DbArg, acting_as, explain_in, find_user};

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// What to export, by its plural code: accounts, contacts, opportunities, …
    pub entity: String,
    /// The e-mail of the user to export as; only records they may read are exported.
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: String,
    /// A filter in the API's JSON form, e.g. '{"field": "industry", "op": "eq", "value": "制造业"}'
    /// (and/or/not nest).
    #[arg(long, value_name = "JSON")]
    pub filter: Option<String>,
    /// Sort as lists do: a field, `-field` for descending. Default: the entity's list order.
    #[arg(long)]
    pub sort: Option<String>,
    /// Language of headers, labels and messages. Default: the user's.
    #[arg(long, value_parser = ["zh-CN", "en"])]
    pub locale: Option<String>,
    /// Column codes and values as codes (ids, choice codes, ISO dates), for programs.
    #[arg(long)]
    pub codes: bool,
    /// Only these columns, in this order, comma-separated, as a list's `cols` names them:
    /// name,type,owner_id,billing_address.city,custom.level. Not with --codes, which always
    /// exports every column.
    #[arg(
        long,
        value_name = "CODES",
        value_delimiter = ',',
        conflicts_with = "codes"
    )]
    pub cols: Vec<String>,
    /// Write to FILE (replaced only once the export is complete) instead of stdout: an Excel
    /// workbook when FILE ends in .xlsx, else CSV (starting with a UTF-8 byte order mark in the
    /// labels form, so that Excel reads Chinese text right).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn entity(core: &Core, name: &str) -> Result<&'static EntityDef> {
    core.registry.find(name).ok_or_else(|| {
        let known: Vec<&str> = core.registry.all().iter().map(|d| d.plural).collect();
        anyhow!(
            "no entity called '{name}'; known ones are {}",
            known.join(", ")
        )
    })
}

/// How many pages the export reads ahead of the file being written: one is being worded while
/// the next is read; a second evens out pages that take longer.
const PAGES_AHEAD: usize = 2;

pub async fn run(core: &Core, args: ExportArgs) -> Result<()> {
    let def = entity(core, &args.entity)?;
    let user = find_user(core, &args.as_user).await?;
    let actor = acting_as(core, &user, args.locale.as_deref(), "export").await?;
    let locale = actor.locale.clone();
    let explain = |e| explain_in(e, &locale);
    let filter = match &args.filter {
        None => None,
        Some(text) => {
            let v: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| anyhow!("--filter is not valid JSON: {e}"))?;
            Some(Filter::from_json(&v).map_err(|e| anyhow!("--filter: {}", explain(e)))?)
        }
    };
    let query = ListQuery {
        filter,
        sort: args.sort.clone(),
        ..ListQuery::default()
    };
    let format = if args.codes {
        Format::Codes
    } else {
        Format::Labels
    };
    let mut export = Export::start(core, &actor, def, query)
        .await
        .map_err(explain)?;
    if !args.cols.is_empty() {
        let known: Vec<String> = export.columns().iter().map(|c| c.code.clone()).collect();
        let unknown = export.choose(&args.cols);
        if !unknown.is_empty() {
            bail!(
                "--cols: {} {} no column of {}; the columns are {}",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                def.plural,
                known.join(", ")
            );
        }
    }
    let formatter = format.formatter(def, &locale, &core.settings.default_region);
    let file_type = args
        .output
        .as_deref()
        .and_then(FileType::of_file_name)
        .unwrap_or(FileType::Csv);
    let export = match file_type {
        FileType::Csv => {
            let mut csv = CsvWriter::new(export.columns(), formatter).map_err(explain)?;
            // The byte order mark is for a file someone opens in Excel; on stdout, which goes to
            // a terminal or another program, it would only be a stray character before the first
            // header.
            if format.bom() && args.output.is_some() {
                csv = csv.with_bom();
            }
            let mut export = export.with_names(csv.wants_names()).read_ahead(PAGES_AHEAD);
            // The first page before any output: a bad filter or sort, or no permission, leaves
            // no file.
            let first = export.next_page().await.map_err(explain)?;
            let mut out = Output::open(args.output.as_deref())?;
            match first {
                Some(page) => out.write(&csv.page(&page).map_err(explain)?)?,
                None => out.write(&csv.finish())?,
            }
            while let Some(page) = export.next_page().await.map_err(explain)? {
                out.write(&csv.page(&page).map_err(explain)?)?;
            }
            out.commit()?;
            export.finish().await.map_err(explain)?
        }
        FileType::Xlsx => {
            let sheet = formatter.sheet_name(def);
            let mut xlsx = XlsxWriter::new(export.columns(), formatter, &sheet).map_err(explain)?;
            let mut export = export
                .with_names(xlsx.wants_names())
                .read_ahead(PAGES_AHEAD);
            let first = export.next_page().await.map_err(explain)?;
            let mut out = Output::open(args.output.as_deref())?;
            if let Some(page) = first {
                xlsx.page(&page).map_err(explain)?;
            }
            // Rows go to the sheet's temporary file as they come; the workbook is packed into
            // the output at the end.
            while let Some(page) = export.next_page().await.map_err(explain)? {
                xlsx.page(&page).map_err(explain)?;
            }
            out.write_xlsx(xlsx).map_err(explain)?;
            out.commit()?;
            export.finish().await.map_err(explain)?
        }
    };
    // Every matching record: the row limit is the server's downloads'.
    eprintln!("exported {} {}", export.rows(), def.plural);
    Ok(())
}

/// Where the CSV goes. A file is written beside its final name and renamed when complete, so a
/// failed export never leaves a file that looks whole (or clobbers a good one).
enum Output {
    Stdout(std::io::StdoutLock<'static>),
    File {
        tmp: PathBuf,
        dest: PathBuf,
        file: std::io::BufWriter<std::fs::File>,
        /// Renamed to `dest`: nothing to clean up.
        done: bool,
    },
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Output> {
        let Some(dest) = path else {
            return Ok(Output::Stdout(std::io::stdout().lock()));
        };
        let mut name = dest
            .file_name()
            .ok_or_else(|| anyhow!("--output {} is not a file name", dest.display()))?
            .to_os_string();
        name.push(".partial");
        let tmp = dest.with_file_name(name);
        let file =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Output::File {
            tmp,
            dest: dest.to_path_buf(),
            file: std::io::BufWriter::new(file),
            done: false,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Stdout(s) => s.write_all(bytes).context("writing to stdout"),
            Output::File { tmp, file, .. } => file
                .write_all(bytes)
                .with_context(|| format!("writing {}", tmp.display())),
        }
    }

    /// Packs `xlsx` into the output.
    fn write_xlsx(&mut self, xlsx: XlsxWriter) -> guanxi_core::CoreResult<usize> {
        match self {
            Output::File { file, .. } => xlsx.finish(file),
            Output::Stdout(s) => {
                // The lock on stdout cannot move to the packing thread; the workbook can.
                let mut bytes = Vec::new();
                let rows = xlsx.finish(&mut bytes)?;
                s.write_all(&bytes).map_err(|e| {
                    guanxi_core::CoreError::Internal(format!("writing to stdout: {e}"))
                })?;
                Ok(rows)
            }
        }
    }

    fn commit(&mut self) -> Result<()> {
        match self {
            Output::Stdout(s) => s.flush().context("writing to stdout"),
            Output::File {
                tmp,
                dest,
                file,
                done,
            } => {
                file.flush()
                    .and_then(|()| file.get_ref().sync_all())
                    .with_context(|| format!("writing {}", tmp.display()))?;
                std::fs::rename(&*tmp, &*dest)
                    .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
                *done = true;
                Ok(())
            }
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // An output dropped before it was committed leaves no partial file behind.
        if let Output::File {
            tmp, done: false, ..
        } = self
        {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
