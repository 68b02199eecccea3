//! Group commit for SQLite's one writer.
//!
//! Every write is a transaction on the one writer connection, and under load each of them pays
//! for its own commit: the WAL frames of every page it touched (the table's last leaf, each
//! index, the search document, the audit row), a new full-text segment and the merges it sets
//! off, a checkpoint now and then. Those costs are the same for one write or for twenty.
//!
//! So writes take turns in one transaction while others are waiting: the writer task opens a
//! transaction, gives the first waiting write a savepoint inside it, and when that write has
//! released its savepoint gives the next waiting one another, up to a bound, then commits them
//! all at once. Each write still commits or vanishes whole (its savepoint is released or rolled
//! back, and the audit row and search document are in it as before), and each caller hears back
//! only after the shared commit, so nothing is reported saved before it is. A write that
//! arrives with no one waiting commits alone at once, as it did before.
//!
//! A bulk write (an import's batch) takes its turn alone ([`GroupCommit::join_alone`]): it gets
//! a transaction of its own rather than a savepoint, and commits it itself. Inside a savepoint,
//! SQLite keeps a copy of every page the savepoint changes (its sub-journal) and each statement
//! that ends walks it, which costs a batch of a hundred records more the longer it gets.
//!
//! After a write that ended in an error the writer commits what it has before serving the next
//! one: some SQLite errors (a full disk, an I/O error) undo the whole transaction, and the writes
//! that came after must not run outside it.
//!
//! After each commit the checkpoint task hears of it (`checkpoints`): the writer itself never
//! copies the log into the file.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::{CoreError, CoreResult};

/// Most writes one commit carries: enough to amortize a commit, few enough that the first of
/// them does not wait long for the last.
const MOST_PER_COMMIT: usize = 32;

/// Longest a batch keeps taking more writes, so that one busy moment never holds the writer (and
/// the first caller's answer) for long.
const LONGEST_BATCH: Duration = Duration::from_millis(20);

/// The handle writes queue through; cheap to clone.
#[derive(Clone)]
pub(super) struct GroupCommit {
    turns: mpsc::UnboundedSender<Turn>,
    /// Shared writes asked for and not yet given their turn (see [`GroupCommit::waiting`]).
    waiting: Arc<AtomicUsize>,
}

/// A write waiting for its turn.
struct Turn {
    grant: oneshot::Sender<CoreResult<Slot>>,
    /// A transaction of its own, committed by the write itself.
    alone: bool,
}

/// A write's place in the shared transaction.
pub(super) struct Slot {
    pub(super) txn: DatabaseTransaction,
    pub(super) ended: oneshot::Sender<Ending>,
    /// The transaction is the write's own: it settles the search index and commits it.
    pub(super) alone: bool,
}

/// How a write left its savepoint.
pub(super) enum Ending {
    /// Released: it is part of the commit, and hears the commit's outcome here.
    Kept(oneshot::Sender<Result<(), String>>),
    /// Rolled back.
    Undone,
}

/// What became of one turn, as the writer task sees it.
enum Served {
    Kept(oneshot::Sender<Result<(), String>>),
    Undone,
}

impl GroupCommit {
    /// Starts the writer task on `conn`, on the current runtime; it ends when the last handle is
    /// dropped. After each commit it sends on `commits`, if given, unless a send is already
    /// waiting (the checkpoint task's, `checkpoints`).
    pub(super) fn start(
        conn: DatabaseConnection,
        commits: Option<mpsc::Sender<()>>,
    ) -> GroupCommit {
        let (turns, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, queue, commits));
        GroupCommit {
            turns,
            waiting: Arc::default(),
        }
    }

    /// A way to hold this writer still for a moment that does not keep it running.
    pub(super) fn quiet(&self) -> Quiet {
        Quiet(self.turns.downgrade())
    }

    /// Waits for this write's turn and returns its savepoint.
    pub(super) async fn join(&self) -> CoreResult<Slot> {
        let (grant, granted) = oneshot::channel();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let waiting = Waiting(&self.waiting);
        self.turns
            .send(Turn {
                grant,
                alone: false,
            })
            .map_err(|_| stopped())?;
        let slot = granted.await.map_err(|_| stopped())?;
        drop(waiting);
        slot
    }

    /// How many shared writes (an API request's save) are waiting for the writer now: a bulk
    /// write holding it alone ends its transaction sooner when someone is waiting.
    pub(super) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Waits for a turn alone: a transaction of its own (see the module's documentation).
    pub(super) async fn join_alone(&self) -> CoreResult<Slot> {
        let (grant, granted) = oneshot::channel();
        self.turns
            .send(Turn { grant, alone: true })
            .map_err(|_| stopped())?;
        granted.await.map_err(|_| stopped())?
    }
}

/// A way to hold the writer still for a moment without keeping it alive: the checkpoint task's
/// (`checkpoints`), which must not keep the writer task running once the database is dropped.
pub(super) struct Quiet(mpsc::WeakUnboundedSender<Turn>);

impl Quiet {
    /// Waits for a turn alone and returns it; none once the writer has stopped. While the turn
    /// is held nothing of this process writes; dropping it ends the turn, writing nothing.
    pub(super) async fn hold(&self) -> Option<Slot> {
        let (grant, granted) = oneshot::channel();
        self.0.upgrade()?.send(Turn { grant, alone: true }).ok()?;
        granted.await.ok()?.ok()
    }
}

/// Counts a shared write as waiting until it has its turn (or gave up waiting).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The answer a write gets when the writer task is gone (the runtime is shutting down).
pub(super) fn stopped() -> CoreError {
    CoreError::Database(DbErr::Custom(
        "the database writer has stopped; the change was not saved".into(),
    ))
}

/// The outcome of a shared commit as each of its writes reports it.
pub(super) fn outcome(
    commit: Result<Result<(), String>, oneshot::error::RecvError>,
) -> CoreResult<()> {
    match commit {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(CoreError::Database(DbErr::Custom(e))),
        Err(_) => Err(stopped()),
    }
}

async fn run(
    conn: DatabaseConnection,
    mut queue: mpsc::UnboundedReceiver<Turn>,
    commits: Option<mpsc::Sender<()>>,
) {
    let committed = || {
        if let Some(c) = &commits {
            let _ = c.try_send(());
        }
    };
    // A write alone that came while others shared a commit: served once that one is done.
    let mut held: Option<Turn> = None;
    loop {
        let first = match held.take() {
            Some(turn) => turn,
            None => match queue.recv().await {
                Some(turn) => turn,
                None => return,
            },
        };
        if first.alone {
            serve_alone(&conn, first).await;
            committed();
            continue;
        }
        let outer = match conn.begin().await {
            Ok(txn) => txn,
            Err(e) => {
                let _ = first.grant.send(Err(e.into()));
                continue;
            }
        };
        let started = Instant::now();
        let mut kept = Vec::new();
        let mut served = 0;
        let mut next = Some(first);
        while let Some(turn) = next.take() {
            served += 1;
            match serve(&outer, turn).await {
                Served::Kept(reply) => kept.push(reply),
                Served::Undone => break,
            }
            if served < MOST_PER_COMMIT && started.elapsed() < LONGEST_BATCH {
                next = queue.try_recv().ok();
                if next.as_ref().is_some_and(|t| t.alone) {
                    held = next.take();
                }
            }
        }
        let outcome = settle_and_commit(outer).await.map_err(|e| e.to_string());
        committed();
        for reply in kept {
            let _ = reply.send(outcome.clone());
        }
    }
}

/// Writes the batch's full-text index changes (see `migrations::m0008`) and commits.
async fn settle_and_commit(outer: DatabaseTransaction) -> Result<(), DbErr> {
    outer.execute_unprepared(crate::search::SETTLE).await?;
    outer.commit().await
}

/// Gives a write alone its own transaction and waits until it has committed or dropped it.
async fn serve_alone(conn: &DatabaseConnection, turn: Turn) {
    let txn = match conn.begin().await {
        Ok(txn) => txn,
        Err(e) => {
            let _ = turn.grant.send(Err(e.into()));
            return;
        }
    };
    let (ended, how) = oneshot::channel();
    if turn
        .grant
        .send(Ok(Slot {
            txn,
            ended,
            alone: true,
        }))
        .is_err()
    {
        return;
    }
    // The write committed (or not) itself; it hears back at once.
    if let Ok(Ending::Kept(reply)) = how.await {
        let _ = reply.send(Ok(()));
    }
}

/// Settles the search index of a write alone before it commits.
pub(super) async fn settle(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    txn.execute_unprepared(crate::search::SETTLE)
        .await
        .map(|_| ())
}

/// Gives one write its savepoint and waits until it has released or dropped it.
async fn serve(outer: &DatabaseTransaction, turn: Turn) -> Served {
    let txn = match outer.begin().await {
        Ok(txn) => txn,
        Err(e) => {
            let _ = turn.grant.send(Err(e.into()));
            return Served::Undone;
        }
    };
    let (ended, how) = oneshot::channel();
    // A caller that gave up waiting drops the slot it was sent, which rolls its savepoint back.
    if turn
        .grant
        .send(Ok(Slot {
            txn,
            ended,
            alone: false,
        }))
        .is_err()
    {
        return Served::Undone;
    }
    match how.await {
        Ok(Ending::Kept(reply)) => Served::Kept(reply),
        Ok(Ending::Undone) | Err(_) => Served::Undone,
    }
}
