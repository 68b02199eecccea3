//! CSV exports, streamed with bounded memory and a cap on how many run at once.
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

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_core::records::service::MAX_LIMIT;
use guanxi_core::records::{Count, ListQuery, Record};
use guanxi_core::{Actor, Core, CoreError, CoreResult, EntityDef};
use serde_json::Value;
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::ui::display;

/// The most rows one export writes. Memory no longer grows with it; it bounds how long one
/// export keeps its permit.
pub const EXPORT_MAX_ROWS: usize = 100_000;
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

/// The response to an export request: every matching record the actor may read as CSV, one
/// column per field (addresses split into parts), custom fields last, formula cells neutralized.
/// Errors found before the first byte (too many exports, bad filter, no permission) are returned
/// as errors; later ones break the download. The slot is taken first, so no database work is done
/// for a request over the limit (which is therefore refused even if its filter is bad).
pub async fn csv_response(
    st: &AppState,
    def: &'static EntityDef,
    actor: &Actor,
    mut q: ListQuery,
) -> ApiResult<Response> {
    let permit = st.exports.try_acquire(actor.user_id)?;
    let svc = st.core.records(def);
    q.limit = MAX_LIMIT;
    q.count = Count::No;
    let turn = permit.page_turn().await;
    let mut csv = CsvPages::new(def, svc.custom_defs().await?)?;
    let first = svc.list(actor, &q).await?;
    let chunk = csv.page(&first.items)?;
    drop(turn);
    let producer = Producer {
        core: st.core.clone(),
        def,
        actor: actor.clone(),
        q,
        next: first.next_cursor,
        rows: first.items.len(),
        csv,
        permit,
    };
    // One page in the channel: the task builds the next while the body writes this one, and
    // then waits, so a slow reader costs a fixed amount of memory.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(producer.run(chunk, tx));
    let body = Body::from_stream(Chunks(rx));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.csv\"", def.plural),
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

/// The task behind one download; it holds the export's permit until it ends.
struct Producer {
    core: Core,
    def: &'static EntityDef,
    actor: Actor,
    q: ListQuery,
    next: Option<String>,
    rows: usize,
    csv: CsvPages,
    permit: Permit,
}

impl Producer {
    async fn run(mut self, first: Bytes, tx: mpsc::Sender<Result<Bytes, ExportInterrupted>>) {
        let mut chunk = first;
        loop {
            // Fails only when the body is gone: the client disconnected.
            if tx.send(Ok(chunk)).await.is_err() {
                tracing::debug!(
                    entity = self.def.plural,
                    rows = self.rows,
                    "export abandoned by the client"
                );
                return;
            }
            let Some(cursor) = self.next.take() else {
                tracing::debug!(entity = self.def.plural, rows = self.rows, "export done");
                return;
            };
            if self.rows >= EXPORT_MAX_ROWS {
                tracing::info!(
                    entity = self.def.plural,
                    rows = self.rows,
                    "export stopped at the row limit"
                );
                return;
            }
            // Let requests queued on this thread run before the next page's CPU-bound stretch.
            tokio::task::yield_now().await;
            chunk = match self.next_page(cursor).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(
                        entity = self.def.plural,
                        rows = self.rows,
                        error = %e,
                        "export failed part-way; the download is broken off"
                    );
                    let _ = tx
                        .send(Err(ExportInterrupted {
                            entity: self.def.plural,
                            rows: self.rows,
                        }))
                        .await;
                    return;
                }
            };
        }
    }

    async fn next_page(&mut self, cursor: String) -> CoreResult<Bytes> {
        let _turn = self.permit.page_turn().await;
        self.q.cursor = Some(cursor);
        let page = self
            .core
            .records(self.def)
            .list(&self.actor, &self.q)
            .await?;
        self.rows += page.items.len();
        self.next = page.next_cursor;
        self.csv.page(&page.items)
    }
}

/// Writes CSV a page at a time. The columns are fixed by the header: a custom field defined
/// while an export runs does not shift later rows.
struct CsvPages {
    def: &'static EntityDef,
    custom: Vec<CustomFieldDef>,
    /// Written but not yet handed out (the header, until the first page takes it).
    pending: Vec<u8>,
}

fn csv_failed(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("writing CSV: {e}"))
}

impl CsvPages {
    /// Starts with the header row.
    fn new(def: &'static EntityDef, custom: Vec<CustomFieldDef>) -> CoreResult<CsvPages> {
        let mut header: Vec<String> = vec!["id".into()];
        for f in def.fields {
            match f.kind {
                FieldKind::Address => {
                    header.extend(ADDRESS_PARTS.iter().map(|p| format!("{}.{p}", f.name)))
                }
                _ => header.push(f.name.into()),
            }
        }
        header.extend(["owner_id", "created_at", "updated_at", "version"].map(String::from));
        header.extend(custom.iter().map(|d| format!("custom.{}", d.key)));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&header).map_err(csv_failed)?;
        let pending = w.into_inner().map_err(csv_failed)?;
        Ok(CsvPages {
            def,
            custom,
            pending,
        })
    }

    /// The rows of one page, with whatever came before them that was not yet taken.
    fn page(&mut self, items: &[Record]) -> CoreResult<Bytes> {
        let mut w = csv::Writer::from_writer(std::mem::take(&mut self.pending));
        for rec in items {
            let mut cells: Vec<String> = vec![str_of(rec.get("id"))];
            for f in self.def.fields {
                let v = rec.get(f.name).unwrap_or(&Value::Null);
                match f.kind {
                    FieldKind::Address => {
                        cells.extend(ADDRESS_PARTS.iter().map(|p| str_of(v.get(*p))))
                    }
                    _ => cells.push(display::plain(&f.kind, v)),
                }
            }
            for k in ["owner_id", "created_at", "updated_at", "version"] {
                cells.push(str_of(rec.get(k)));
            }
            let cv = rec.get("custom").unwrap_or(&Value::Null);
            for d in &self.custom {
                cells.push(display::plain(
                    &d.kind,
                    cv.get(&d.key).unwrap_or(&Value::Null),
                ));
            }
            w.write_record(cells.into_iter().map(neutralize))
                .map_err(csv_failed)?;
        }
        Ok(Bytes::from(w.into_inner().map_err(csv_failed)?))
    }
}

/// Spreadsheets run cells starting with these as formulas; a leading apostrophe keeps them text.
fn neutralize(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn str_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized() {
        assert_eq!(neutralize("=1+1".into()), "'=1+1");
        assert_eq!(neutralize("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(neutralize("北京".into()), "北京");
    }

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

    #[test]
    fn too_many_exports_is_a_429_with_retry_after() {
        let e = ApiError::from(TooManyExports::User(2));
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "too_many_exports");
        assert_eq!(e.retry_after(), Some(RETRY_AFTER_SECS));
    }
}
