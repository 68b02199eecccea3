//! An SMTP server on loopback for tests.
//!
//! [`SmtpSink::start`] binds `127.0.0.1:0`, spawns its accept loop on the current tokio runtime
//! and keeps every message it accepts, so that a test can send mail through the product's real
//! SMTP client and then check what arrived, and how many times:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let sink = guanxi_smtp_sink::SmtpSink::start().await?;
//! // … point the product's SMTP transport at sink.host() / sink.port(), plain SMTP, no TLS …
//! let got = sink.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(got.len(), 1);
//! assert_eq!(got[0].header("Subject").as_deref(), Some("欢迎"));
//! # Ok(()) }
//! ```
//!
//! The server speaks a subset of RFC 5321: `EHLO`/`HELO`, `MAIL FROM` (with parameters),
//! `RCPT TO`, `DATA` (with dot-unstuffing), `RSET`, `NOOP`, `QUIT`, and `AUTH PLAIN`/`AUTH LOGIN`
//! (RFC 4954). It has no `STARTTLS`: clients must use plain SMTP. How it answers can be changed
//! at run time with [`SmtpSink::set_behaviour`], to test the product's handling of refusals,
//! temporary failures, authentication and timeouts.
//!
//! With lettre, the client is
//! `AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host()).port(sink.port())`
//! (plain SMTP, no TLS). Its `timeout` bounds only the TCP connect of the async transport, so
//! against [`Behaviour::Stall`] an async `send` waits for ever unless wrapped in
//! `tokio::time::timeout`; the blocking `SmtpTransport` applies it to reads too (and, since the
//! server runs on the test's runtime, must be called from `spawn_blocking`).
//!
//! The server stops when the last clone of its [`SmtpSink`] is dropped, or at
//! [`SmtpSink::shutdown`]; open connections are closed then too.

mod base64;
mod mime;
mod session;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

/// How the server answers; see [`SmtpSink::set_behaviour`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Accept every message (authentication is optional, and any credentials are accepted).
    #[default]
    Accept,
    /// Answer every `RCPT TO` with `550`.
    RefuseRecipients,
    /// Receive the message, then refuse it with `554` at the end of `DATA` (it is not kept).
    RefuseData,
    /// Answer `MAIL FROM` with `451`, a temporary failure.
    TempFail,
    /// Accept new TCP connections and send nothing on them, not even the greeting, to test the
    /// client's timeouts. Connections already open go on as before.
    Stall,
    /// Require `AUTH` with these credentials: `MAIL FROM` before it gets `530`, wrong
    /// credentials get `535`.
    AuthRequired {
        /// The user name expected.
        user: String,
        /// The password expected.
        pass: String,
    },
}

/// Settings for [`SmtpSink::start_with`].
#[derive(Clone, Debug)]
pub struct Options {
    /// How the server answers at first.
    pub behaviour: Behaviour,
    /// The largest message accepted, in bytes after dot-unstuffing (advertised as `SIZE`);
    /// larger ones get `552`.
    pub max_message_bytes: usize,
    /// The longest command line accepted, in bytes with its CRLF; longer ones get `500`.
    pub max_line_bytes: usize,
    /// The most recipients of one message; more get `452`.
    pub max_recipients: usize,
    /// The name the server gives itself in its greeting and `EHLO` reply.
    pub hostname: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            behaviour: Behaviour::Accept,
            max_message_bytes: 10 * 1024 * 1024,
            max_line_bytes: 16 * 1024,
            max_recipients: 1000,
            hostname: "smtp-sink.localhost".to_owned(),
        }
    }
}

/// One message the server accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The reverse path of `MAIL FROM`, without its angle brackets (empty for `<>`).
    pub from: String,
    /// The forward paths of the `RCPT TO` commands, in order, without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, without the final `.` line: headers,
    /// blank line and body, with the line endings the client sent (CRLF for a conforming
    /// client), the last line's included. Bytes that are not UTF-8 are replaced by U+FFFD.
    pub data: String,
    /// The user name the client authenticated as on this connection, if it did.
    pub auth_user: Option<String>,
}

/// What the accept loop and the connections share with the handles.
struct Shared {
    options: Options,
    behaviour: Mutex<Behaviour>,
    messages: Mutex<Vec<Received>>,
    /// The number of messages kept, for [`SmtpSink::wait_for`].
    count: watch::Sender<usize>,
    connections: Mutex<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: go on with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn behaviour(&self) -> Behaviour {
        lock(&self.behaviour).clone()
    }

    fn keep(&self, message: Received) {
        let mut messages = lock(&self.messages);
        messages.push(message);
        let n = messages.len();
        self.count.send_replace(n);
    }
}

/// Stops the accept loop, and with it every connection, when the last handle goes.
struct ServerTask(AbortHandle);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running SMTP server on loopback; clones are handles to the same server.
#[derive(Clone)]
pub struct SmtpSink {
    shared: Arc<Shared>,
    task: Arc<ServerTask>,
    addr: SocketAddr,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .field("behaviour", &self.shared.behaviour())
            .field("messages", &lock(&self.shared.messages).len())
            .finish()
    }
}

impl SmtpSink {
    /// Starts a server with the default [`Options`] on `127.0.0.1` and a free port.
    ///
    /// Must be called within a tokio runtime, which runs the server.
    pub async fn start() -> std::io::Result<SmtpSink> {
        SmtpSink::start_with(Options::default()).await
    }

    /// Starts a server with these options on `127.0.0.1` and a free port.
    pub async fn start_with(options: Options) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(options.behaviour.clone()),
            options,
            messages: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
            connections: Mutex::new(0),
        });
        let handle = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(SmtpSink {
            shared,
            task: Arc::new(ServerTask(handle.abort_handle())),
            addr,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host to give an SMTP client: `127.0.0.1`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message accepted so far, in the order they were accepted.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.shared.messages).clone()
    }

    /// Forgets the messages accepted so far.
    pub fn clear(&self) {
        let mut messages = lock(&self.shared.messages);
        messages.clear();
        self.shared.count.send_replace(0);
    }

    /// The number of TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        *lock(&self.shared.connections)
    }

    /// Waits until at least `n` messages have been accepted, or `timeout` has passed, and
    /// returns every message accepted by then (which may be more than `n`, or fewer).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let mut count = self.shared.count.subscribe();
        // Whether it timed out shows in the number of messages returned.
        let _ = tokio::time::timeout(timeout, count.wait_for(|&have| have >= n)).await;
        self.messages()
    }

    /// Changes how the server answers from now on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *lock(&self.shared.behaviour) = behaviour;
    }

    /// How the server answers now.
    pub fn behaviour(&self) -> Behaviour {
        self.shared.behaviour()
    }

    /// Stops the server now and closes its connections, whatever other handles remain.
    pub fn shutdown(&self) {
        self.task.0.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // The connections belong to this task: aborting it drops the set, which aborts them.
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Mostly too many open files; wait for some to close rather than spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        *lock(&shared.connections) += 1;
        let _ = stream.set_nodelay(true);
        connections.spawn(session::run(stream, Arc::clone(&shared)));
    }
}
