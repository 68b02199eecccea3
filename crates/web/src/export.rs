//! Exports over HTTP (CSV and XLSX): streamed with bounded memory, with a cap on how many run at
//! once. The rows come from core's [`Export`] (codes, under the reader's scope), are worded by a
//! formatter of [`crate::export_format`] and written by core's [`CsvWriter`] or [`XlsxWriter`];
//! this module only decides when pages are built and sent.
//!
//! An export used to be built whole in memory before its first byte went out: 100,000 rows took
//! tens of seconds and hundreds of megabytes, and eight at once starved every other request. Now
//! the header and the first page are built before the response starts, so a bad filter or a
//! missing permission is still an ordinary error response with its status. A task then builds
//! one page at a time (keyset cursor, as the API lists) and hands it to the response body through
//! a channel that holds one page. Whatever the row count, an export holds about three pages: the
//! one being written to the socket, the one in the channel and the one being built. A client that
//! stops reading stalls the task; one that goes away ends it.
//!
//! Each export keeps a database reader and a share of the CPU busy for as long as its client
//! reads, so [`Limiter`] caps them per user and in total. One over a cap is refused at once with
//! 429 `too_many_exports` and a `Retry-After`, not queued: a queued download looks like a hung
//! one, and a queue would hold a connection per waiting client.
//!
//! Building a page (decoding 500 rows, writing them as CSV) is several milliseconds of CPU that
//! cannot be interrupted, and a request that lands behind it waits that long. So the running
//! exports take turns: they build at most as many pages at once as the machine has cores less
//! one (but at least one; one on two cores), which keeps a core for every other request. On the
//! 2-core benchmark machine this took get-by-id p99 during eight exports from 49 ms (exports
//! only yielding between pages) to 6 ms (bench/README.md, section 3).
//!
//! An XLSX file is a zip whose parts can only be written once every row is known, so its pages
//! are written as they are built into the sheet's temporary file (rust_xlsxwriter's
//! constant-memory mode: a row in memory, not the sheet), and when the last is in, the workbook is
//! packed, during a turn and off the async threads, into a temporary file that the body then
//! streams. The response head still goes out after the first page, so errors found by then are
//! ordinary error responses; memory stays flat, and the disk holds about twice the sheet.

use std::collections::HashMap;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanxi_core::records::ListQuery;
use guanxi_core::records::export::{CsvWriter, EXPORT_MAX_ROWS, Export, XlsxWriter};
use guanxi_core::{Actor, CoreError, CoreResult, EntityDef};
use tokio::io::AsyncReadExt;
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::export_format::{FileType, Format};

/// Exports running at once across all users: each keeps a database reader and part of a core
/// busy while its client downloads.
pub const MAX_EXPORTS_TOTAL: usize = 4;
/// Exports one user may run at once, so one user cannot take every slot.
pub const MAX_EXPORTS_PER_USER: usize = 2;
/// What a refused client is told to wait. A 100,000-row export alone takes about 6 s on the
/// 2-core benchmark machine, and most are far smaller.
pub const RETRY_AFTER_SECS: i64 = 5;

/// An export refused because too many are running. Code `too_many_exports`, status 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooManyExports {
    #[error("you already have {0} exports running; wait for one to finish")]
    User(usize),
    #[error("the server is already running {0} exports; try again shortly")]
    Server(usize),
}

impl TooManyExports {
    pub const CODE: &'static str = "too_many_exports";
}

impl From<TooManyExports> for ApiError {
    fn from(e: TooManyExports) -> Self {
        ApiError::try_again_in(
            StatusCode::TOO_MANY_REQUESTS,
            TooManyExports::CODE,
            RETRY_AFTER_SECS,
            e.to_string(),
        )
    }
}

/// Counts running exports per user and in total, and makes them take turns building pages.
pub struct Limiter {
    total: usize,
    per_user: usize,
    running: Arc<Mutex<Running>>,
    builders: Arc<Semaphore>,
}

#[derive(Default)]
struct Running {
    total: usize,
    per_user: HashMap<Uuid, usize>,
}

/// One running export's slot, given back when dropped: when the streaming task ends, because
/// the body is complete, the client went away or the database failed.
pub struct Permit {
    running: Arc<Mutex<Running>>,
    user: Uuid,
    builders: Arc<Semaphore>,
}

impl Permit {
    /// A turn at building a page, held while it is fetched and written. (`None` cannot happen:
    /// the semaphore is never closed.)
    async fn page_turn(&self) -> Option<SemaphorePermit<'_>> {
        self.builders.acquire().await.ok()
    }
}

/// Pages built at once by all exports together: every core but one.
fn page_builders() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// The counts are changed only by statements that cannot panic, so a lock poisoned by a panic
/// elsewhere still guards consistent counts; refusing every export after one would be worse.
fn lock(m: &Mutex<Running>) -> MutexGuard<'_, Running> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(MAX_EXPORTS_TOTAL, MAX_EXPORTS_PER_USER)
    }
}

impl Limiter {
    pub fn new(total: usize, per_user: usize) -> Limiter {
        Limiter {
            total,
            per_user,
            running: Arc::default(),
            builders: Arc::new(Semaphore::new(page_builders())),
        }
    }

    /// A slot for one more export by `user`, or why not. Both counts are checked and taken under
    /// one lock, so parallel requests cannot overshoot either cap.
    pub fn try_acquire(&self, user: Uuid) -> Result<Permit, TooManyExports> {
        let mut r = lock(&self.running);
        let mine = r.per_user.get(&user).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(TooManyExports::User(mine));
        }
        if r.total >= self.total {
            return Err(TooManyExports::Server(r.total));
        }
        r.total += 1;
        *r.per_user.entry(user).or_insert(0) += 1;
        Ok(Permit {
            running: self.running.clone(),
            user,
            builders: self.builders.clone(),
        })
    }

    #[cfg(test)]
    fn running(&self) -> usize {
        lock(&self.running).total
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut r = lock(&self.running);
        r.total = r.total.saturating_sub(1);
        if let Some(n) = r.per_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // Keeps the map as small as the set of users exporting right now.
                r.per_user.remove(&self.user);
            }
        }
    }
}

/// Why a download stopped part-way. The client sees only a broken transfer (no final chunk),
/// never a file that ends cleanly after some of its rows; the cause goes to the log.
#[derive(Debug, thiserror::Error)]
#[error("the export of {entity} stopped after {rows} rows")]
pub struct ExportInterrupted {
    entity: &'static str,
    rows: usize,
}

/// What a download asks for: the form, the kind of file and, for the labels form, the columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub format: Format,
    pub file: FileType,
    /// The columns a person chose, in order ([`cols_param`]); empty for every column. Only the
    /// labels form heeds them: the code form is for loading back, and always has every column.
    pub cols: Vec<String>,
}

/// Reads the `format` parameter of an export: a form (`codes` or `labels`), a kind of file (`csv`
/// or `xlsx`), or both, comma-separated (`labels,xlsx`). What it leaves out is `default_format`
/// and `file` (the one the address names: `export.csv`, `export.xlsx`).
pub fn download_param(
    pairs: &[(String, String)],
    default_format: Format,
    file: FileType,
) -> ApiResult<Download> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
    let mut given = pairs.iter().filter(|(k, _)| k == "format");
    let value = match (given.next(), given.next()) {
        (None, _) => None,
        (Some((_, v)), None) => Some(v),
        (Some(_), Some(_)) => return Err(bad("format is given more than once".into())),
    };
    let mut download = Download {
        format: default_format,
        file,
        cols: Vec::new(),
    };
    let Some(value) = value else {
        return Ok(download);
    };
    let (mut form_given, mut file_given) = (None, None);
    for word in value.split(',').map(str::trim) {
        let taken = match (Format::parse(word), FileType::parse(word)) {
            (Some(f), _) => form_given.replace(f).is_some(),
            (_, Some(t)) => file_given.replace(t).is_some(),
            _ => {
                return Err(bad(format!(
                    "format must be codes or labels, optionally with csv or xlsx \
                     (e.g. labels,xlsx), not '{value}'"
                )));
            }
        };
        if taken {
            return Err(bad(format!(
                "format names a form or a kind of file twice: '{value}'"
            )));
        }
    }
    download.format = form_given.unwrap_or(default_format);
    download.file = file_given.unwrap_or(file);
    Ok(download)
}

/// The columns a list shows, as its address gives them: `col` once per column (the list's column
/// form), else `cols` comma-separated (`cols=name,type,owner_id,billing_address.city`). Empty when
/// there are none.
pub fn cols_param(pairs: &[(String, String)]) -> Vec<String> {
    let col: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "col" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    if !col.is_empty() {
        return col;
    }
    pairs
        .iter()
        .filter(|(k, _)| k == "cols")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The response to an export request: every matching record the actor may read as a CSV or XLSX
/// file, one column per field (addresses and money split into parts, each child collection in
/// one column), custom fields last, or in the labels form the columns asked for, in `format`,
/// formula cells neutralized. Errors found before the first byte (too many exports, bad filter,
/// no permission) are returned as errors; later ones break the download. The slot is taken
/// first, so no database work is done for a request over the limit (which is therefore refused
/// even if its filter is bad).
pub async fn export_response(
    st: &AppState,
    def: &'static EntityDef,
    actor: &Actor,
    q: ListQuery,
    download: Download,
) -> ApiResult<Response> {
    let permit = st.exports.try_acquire(actor.user_id)?;
    let turn = permit.page_turn().await;
    let mut export = Export::start(&st.core, actor, def, q)
        .await?
        .at_most(EXPORT_MAX_ROWS);
    if download.format == Format::Labels && !download.cols.is_empty() {
        let unknown = export.choose(&download.cols);
        if !unknown.is_empty() {
            // A list column the export has no column for (one of a custom field since deleted):
            // left out, as the list shows it empty.
            tracing::debug!(entity = def.plural, ?unknown, "export columns left out");
        }
    }
    let formatter = download
        .format
        .formatter(def, &actor.locale, &st.core.settings.default_region);
    let (sheet, export, chunk) = match download.file {
        FileType::Csv => {
            let mut csv = CsvWriter::new(export.columns(), formatter)?;
            if download.format.bom() {
                csv = csv.with_bom();
            }
            let mut export = export.with_names(csv.wants_names());
            let chunk = match export.next_page().await? {
                Some(page) => csv.page(&page)?,
                None => csv.finish(),
            };
            (Sheet::Csv(csv), export, Some(Bytes::from(chunk)))
        }
        FileType::Xlsx => {
            let name = formatter.sheet_name(def);
            let mut xlsx = XlsxWriter::new(export.columns(), formatter, &name)?;
            let mut export = export.with_names(xlsx.wants_names());
            if let Some(page) = export.next_page().await? {
                xlsx.page(&page)?;
            }
            (Sheet::Xlsx(Box::new(xlsx)), export, None)
        }
    };
    drop(turn);
    let producer = Producer {
        export,
        sheet,
        permit,
    };
    // One chunk in the channel: the task builds the next while the body writes this one, and
    // then waits, so a slow reader costs a fixed amount of memory.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(producer.run(chunk, tx));
    let body = Body::from_stream(Chunks(rx));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                download.file.content_type().to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.{}\"",
                    def.plural,
                    download.file.extension()
                ),
            ),
        ],
        body,
    )
        .into_response())
}

/// The receiving end of a download's channel, as the stream the response body reads.
struct Chunks(mpsc::Receiver<Result<Bytes, ExportInterrupted>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, ExportInterrupted>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// How a download's pages become bytes.
enum Sheet {
    /// Each page is a chunk of the body.
    Csv(CsvWriter),
    /// Pages go into the sheet; the body is the packed workbook, after the last page.
    Xlsx(Box<XlsxWriter>),
    /// The workbook has been packed.
    Packed,
}

/// The task behind one download; it holds the export's permit until it ends.
struct Producer {
    export: Export,
    sheet: Sheet,
    permit: Permit,
}

/// How much of a packed workbook goes into one chunk of the body.
const FILE_CHUNK: usize = 256 << 10;

impl Producer {
    /// Builds and sends the body: `first` (CSV: the header and the first page), then a chunk per
    /// page (CSV), or, once every page is in the sheet, the packed workbook (XLSX).
    async fn run(
        mut self,
        first: Option<Bytes>,
        tx: mpsc::Sender<Result<Bytes, ExportInterrupted>>,
    ) {
        let entity = self.export.def().plural;
        let mut chunk = first;
        loop {
            if let Some(c) = chunk.take() {
                // Fails only when the body is gone: the client disconnected.
                if tx.send(Ok(c)).await.is_err() {
                    return self.abandoned();
                }
            } else if tx.is_closed() {
                return self.abandoned();
            }
            // Let requests queued on this thread run before the next page's CPU-bound stretch.
            tokio::task::yield_now().await;
            match self.next_page().await {
                Ok(Some(c)) => chunk = c,
                Ok(None) => break,
                Err(e) => return self.fail(e, &tx).await,
            }
        }
        if self.export.truncated() {
            tracing::info!(
                entity,
                rows = self.export.rows(),
                "export stopped at the row limit"
            );
        }
        if let Sheet::Xlsx(_) = self.sheet
            && let Err(e) = self.send_workbook(&tx).await
        {
            return self.fail(e, &tx).await;
        }
        if !tx.is_closed() {
            tracing::debug!(entity, rows = self.export.rows(), "export done");
        }
    }

    fn abandoned(&self) {
        tracing::debug!(
            entity = self.export.def().plural,
            rows = self.export.rows(),
            "export abandoned by the client"
        );
    }

    async fn fail(&self, e: CoreError, tx: &mpsc::Sender<Result<Bytes, ExportInterrupted>>) {
        let entity = self.export.def().plural;
        tracing::error!(
            entity,
            rows = self.export.rows(),
            error = %e,
            "export failed part-way; the download is broken off"
        );
        let _ = tx
            .send(Err(ExportInterrupted {
                entity,
                rows: self.export.rows(),
            }))
            .await;
    }

    /// Builds the next page during a turn: `Some(Some(chunk))` for CSV, `Some(None)` for XLSX
    /// (the page went into the sheet), `None` after the last.
    async fn next_page(&mut self) -> CoreResult<Option<Option<Bytes>>> {
        let _turn = self.permit.page_turn().await;
        let Some(page) = self.export.next_page().await? else {
            return Ok(None);
        };
        Ok(Some(match &mut self.sheet {
            Sheet::Csv(csv) => Some(Bytes::from(csv.page(&page)?)),
            Sheet::Xlsx(xlsx) => {
                xlsx.page(&page)?;
                None
            }
            Sheet::Packed => None,
        }))
    }

    /// Packs the workbook into a temporary file (during a turn: compressing is the most CPU an
    /// export takes at once) and streams the file to the body.
    async fn send_workbook(
        &mut self,
        tx: &mpsc::Sender<Result<Bytes, ExportInterrupted>>,
    ) -> CoreResult<()> {
        let failed = |e: std::io::Error| CoreError::Internal(format!("packing XLSX: {e}"));
        let Sheet::Xlsx(xlsx) = std::mem::replace(&mut self.sheet, Sheet::Packed) else {
            return Ok(());
        };
        let (file, _spill) = {
            let _turn = self.permit.page_turn().await;
            tokio::task::spawn_blocking(move || -> CoreResult<(std::fs::File, Spill)> {
                let (mut file, spill) = Spill::create().map_err(failed)?;
                let mut out = std::io::BufWriter::with_capacity(FILE_CHUNK, &mut file);
                xlsx.finish(&mut out)?;
                out.flush().map_err(failed)?;
                drop(out);
                file.rewind().map_err(failed)?;
                Ok((file, spill))
            })
            .await
            .map_err(|e| CoreError::Internal(format!("packing XLSX: {e}")))??
        };
        let mut file = tokio::fs::File::from_std(file);
        loop {
            let mut buf = Vec::with_capacity(FILE_CHUNK);
            let n = (&mut file)
                .take(FILE_CHUNK as u64)
                .read_to_end(&mut buf)
                .await
                .map_err(failed)?;
            if n == 0 {
                return Ok(());
            }
            if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                self.abandoned();
                return Ok(());
            }
        }
    }
}

/// A temporary file only this process sees: removed from its directory as soon as it is open
/// (on Unix the open file lives on until closed), or else when this is dropped.
struct Spill(PathBuf);

impl Spill {
    fn create() -> std::io::Result<(std::fs::File, Spill)> {
        let path =
            std::env::temp_dir().join(format!("guanxi-export-{}.xlsx", Uuid::now_v7().simple()));
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        let _ = std::fs::remove_file(&path);
        Ok((file, Spill(path)))
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        // Where the file could not be removed while open; gone already elsewhere.
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_per_user_and_in_total_and_permits_come_back() {
        let l = Limiter::new(3, 2);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let a1 = l.try_acquire(a).unwrap();
        let a2 = l.try_acquire(a).unwrap();
        assert_eq!(l.try_acquire(a).err(), Some(TooManyExports::User(2)));
        let b1 = l.try_acquire(b).unwrap();
        assert_eq!(l.try_acquire(b).err(), Some(TooManyExports::Server(3)));
        drop(a1);
        assert_eq!(l.running(), 2);
        let b2 = l.try_acquire(b).unwrap();
        drop((a2, b1, b2));
        assert_eq!(l.running(), 0);
        assert!(lock(&l.running).per_user.is_empty());
    }

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn format_names_the_form_the_file_or_both() {
        let d = |q: &[(&str, &str)]| {
            download_param(&pairs(q), Format::Labels, FileType::Csv)
                .map(|d| (d.format, d.file))
                .map_err(|e| e.code)
        };
        assert_eq!(d(&[]), Ok((Format::Labels, FileType::Csv)));
        assert_eq!(
            d(&[("format", "codes")]),
            Ok((Format::Codes, FileType::Csv))
        );
        assert_eq!(
            d(&[("format", "xlsx")]),
            Ok((Format::Labels, FileType::Xlsx))
        );
        assert_eq!(
            d(&[("format", "codes, XLSX")]),
            Ok((Format::Codes, FileType::Xlsx))
        );
        for bad in ["", "pdf", "codes,labels", "csv,xlsx", "labels,,xlsx"] {
            assert_eq!(d(&[("format", bad)]), Err("invalid_query"), "{bad:?}");
        }
        assert_eq!(
            d(&[("format", "codes"), ("format", "labels")]),
            Err("invalid_query")
        );
        // The address's kind of file is the default.
        let xlsx = download_param(
            &pairs(&[("format", "codes")]),
            Format::Labels,
            FileType::Xlsx,
        );
        assert_eq!(xlsx.map(|d| d.file).ok(), Some(FileType::Xlsx));
    }

    #[test]
    fn cols_come_from_the_column_form_or_the_address() {
        assert_eq!(
            cols_param(&pairs(&[
                ("cols", "name, type,,billing.city"),
                ("sort", "x")
            ])),
            ["name", "type", "billing.city"]
        );
        assert_eq!(
            cols_param(&pairs(&[
                ("cols", "name"),
                ("col", "type"),
                ("col", "owner_id")
            ])),
            ["type", "owner_id"]
        );
        assert!(cols_param(&pairs(&[("cols", "")])).is_empty());
    }

    #[test]
    fn too_many_exports_is_a_429_with_retry_after() {
        let e = ApiError::from(TooManyExports::User(2));
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "too_many_exports");
        assert_eq!(e.retry_after(), Some(RETRY_AFTER_SECS));
    }
}
