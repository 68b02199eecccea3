//! A write sent ahead: a bulk load's record is handed to the connection and the loader goes on
//! with the next record while the database writes it.
//!
//! Every statement of a transaction waits for its answer before the caller goes on, so a bulk
//! load takes turns with its database: while the connection writes a record (on SQLite its
//! worker thread, on PostgreSQL the server), the loader's thread waits, and while the loader
//! validates and lays out the next record, the connection waits. A write sent ahead is polled
//! once, which hands it to the connection, and kept; the caller's next statement on the same
//! transaction first waits for it. So the statements still run one after the other and in the
//! order they were made (a read that follows sees the write), only the caller's own work
//! overlaps the write before it.
//!
//! The price is where a failure shows: a write sent ahead that fails is reported by the
//! statement after it, or by [`Ahead::settle`]. Only a caller that takes the whole transaction
//! back on any failure may send writes ahead (an import's batch, which then writes its rows
//! again one by one, each in a savepoint of its own, and nothing ahead).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, ExecResult, Statement};

type InFlight = Pin<Box<dyn Future<Output = Result<ExecResult, DbErr>> + Send>>;

/// The write a transaction has in flight, if any, and whether it may send one.
#[derive(Default)]
pub(super) struct Ahead {
    allowed: AtomicBool,
    in_flight: Mutex<Option<InFlight>>,
}

impl Ahead {
    pub(super) fn allow(&self, on: bool) {
        self.allowed.store(on, Ordering::Relaxed);
    }

    pub(super) fn allowed(&self) -> bool {
        self.allowed.load(Ordering::Relaxed)
    }

    /// Waits until the write in flight, if any, is done: its failure if it failed.
    pub(super) async fn settle(&self) -> Result<(), DbErr> {
        let in_flight = match self.in_flight.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(write) = in_flight {
            write.await?;
        }
        Ok(())
    }

    /// Hands `stmt` to `txn`'s connection and returns without its answer (see the module's
    /// documentation); the write before it is waited for first.
    pub(super) async fn send(
        &self,
        txn: &Arc<DatabaseTransaction>,
        stmt: Statement,
    ) -> Result<(), DbErr> {
        self.settle().await?;
        let txn = Arc::clone(txn);
        let mut write: InFlight = Box::pin(async move { txn.execute(stmt).await });
        // One poll sends it: the transaction's lock is free (nothing else is in flight) and
        // the connection's queue takes it at once.
        let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(done) => done.map(|_| ()),
            Poll::Pending => {
                match self.in_flight.lock() {
                    Ok(mut slot) => *slot = Some(write),
                    Err(poisoned) => *poisoned.into_inner() = Some(write),
                }
                Ok(())
            }
        }
    }
}
