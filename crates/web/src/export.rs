//! CSV exports over HTTP: streamed with bounded memory, with a cap on how many run at once. The
//! rows come from core's [`Export`] (codes, under the reader's scope) and are worded by a
//! formatter of [`crate::export_format`]; this module only decides when pages are built and
//! sent.
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
use guanxi_core::records::ListQuery;
use guanxi_core::records::export::{CsvWriter, Export};
use guanxi_core::{Actor, CoreResult, EntityDef};
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::export_format::Format;

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

/// Reads the `format` parameter of an export (`codes` or `labels`; `default` when absent).
pub fn format_param(pairs: &[(String, String)], default: Format) -> ApiResult<Format> {
    let mut given = pairs.iter().filter(|(k, _)| k == "format");
    match (given.next(), given.next()) {
        (None, _) => Ok(default),
        (Some((_, v)), None) => Format::parse(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("format must be codes or labels, not '{v}'"),
            )
        }),
        (Some(_), Some(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "format is given more than once",
        )),
    }
}

/// The response to an export request: every matching record the actor may read as CSV, one
/// column per field (addresses and money split into parts, each child collection in one
/// column), custom fields last, in `format`, formula cells neutralized. Errors found before the
/// first byte (too many exports, bad filter, no permission) are returned as errors; later ones
/// break the download. The slot is taken first, so no database work is done for a request over
/// the limit (which is therefore refused even if its filter is bad).
pub async fn csv_response(
    st: &AppState,
    def: &'static EntityDef,
    actor: &Actor,
    q: ListQuery,
    format: Format,
) -> ApiResult<Response> {
    let permit = st.exports.try_acquire(actor.user_id)?;
    let turn = permit.page_turn().await;
    let export = Export::start(&st.core, actor, def, q).await?;
    let formatter = format.formatter(def, &actor.locale, &st.core.settings.default_region);
    let mut csv = CsvWriter::new(export.columns(), formatter)?;
    let mut export = export.with_names(csv.wants_names());
    let chunk = match export.next_page().await? {
        Some(page) => csv.page(&page)?,
        None => csv.finish(),
    };
    drop(turn);
    let producer = Producer {
        export,
        csv,
        permit,
    };
    // One page in the channel: the task builds the next while the body writes this one, and
    // then waits, so a slow reader costs a fixed amount of memory.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(producer.run(Bytes::from(chunk), tx));
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
    export: Export,
    csv: CsvWriter,
    permit: Permit,
}

impl Producer {
    async fn run(mut self, first: Bytes, tx: mpsc::Sender<Result<Bytes, ExportInterrupted>>) {
        let entity = self.export.def().plural;
        let mut chunk = first;
        loop {
            // Fails only when the body is gone: the client disconnected.
            if tx.send(Ok(chunk)).await.is_err() {
                tracing::debug!(
                    entity,
                    rows = self.export.rows(),
                    "export abandoned by the client"
                );
                return;
            }
            // Let requests queued on this thread run before the next page's CPU-bound stretch.
            tokio::task::yield_now().await;
            chunk = match self.next_page().await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    if self.export.truncated() {
                        tracing::info!(
                            entity,
                            rows = self.export.rows(),
                            "export stopped at the row limit"
                        );
                    } else {
                        tracing::debug!(entity, rows = self.export.rows(), "export done");
                    }
                    return;
                }
                Err(e) => {
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
                    return;
                }
            };
        }
    }

    /// The next page's CSV, built during a turn; `None` after the last.
    async fn next_page(&mut self) -> CoreResult<Option<Bytes>> {
        let _turn = self.permit.page_turn().await;
        match self.export.next_page().await? {
            Some(page) => Ok(Some(Bytes::from(self.csv.page(&page)?))),
            None => Ok(None),
        }
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

    #[test]
    fn too_many_exports_is_a_429_with_retry_after() {
        let e = ApiError::from(TooManyExports::User(2));
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "too_many_exports");
        assert_eq!(e.retry_after(), Some(RETRY_AFTER_SECS));
    }
}
