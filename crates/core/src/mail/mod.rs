//! Outbound e-mail (DESIGN.md §5): a [`Letter`] is queued as a job in the transaction of the
//! event that causes it and sent by the job runner through the configured SMTP server, so a
//! server that is down or refuses for a while delays a message rather than losing it.
//!
//! The wording is the presentation layer's: it writes each letter, in the recipient's language,
//! with an HTML and a plain-text part. This module only carries and sends it.

mod transport;

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jobs::{self, JobError, JobHandler, NewJob};
use crate::{Core, CoreResult};

pub use transport::{MailError, MailSettings, Mailer, Secret, TlsMode};

/// A message to one recipient, ready to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub to: String,
    /// The recipient's name, shown beside the address.
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The kind of job that sends one [`Letter`].
pub const KIND: &str = "email";

/// How many times a letter is tried: with the runner's back-off, about eight hours in all, long
/// enough to outlast a mail server's maintenance window.
pub const ATTEMPTS: i64 = 10;

/// Queues `letter` in `conn`, the transaction of what causes it. A `key` makes it go once
/// however often the cause repeats.
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    letter: &Letter,
    key: Option<String>,
) -> CoreResult<()> {
    let payload = serde_json::to_value(letter)
        .map_err(|e| crate::CoreError::Internal(format!("a letter as JSON: {e}")))?;
    let mut job = NewJob::new(KIND, payload).attempts(ATTEMPTS);
    if let Some(key) = key {
        job = job.key(key);
    }
    jobs::enqueue(conn, job).await?;
    Ok(())
}

/// Runs the jobs of [`KIND`].
pub struct SendEmail;

#[async_trait::async_trait]
impl JobHandler for SendEmail {
    async fn run(&self, core: &Core, payload: &Value) -> Result<Value, JobError> {
        let letter: Letter = serde_json::from_value(payload.clone())
            .map_err(|e| JobError::Fatal(format!("the letter no longer reads: {e}")))?;
        deliver(core, &letter).await
    }

    /// A delivered letter is the recipient's: its text (a reset link among them) is not kept.
    fn keeps_payload(&self) -> bool {
        false
    }
}

/// Sends `letter` from a job: a server that may take it later makes the job try again, a
/// lasting refusal fails it at once (no retry storm against a server that said no).
pub async fn deliver(core: &Core, letter: &Letter) -> Result<Value, JobError> {
    send(core, letter).await.map_err(|e| {
        if e.is_transient() {
            JobError::Retry(e.to_string())
        } else {
            JobError::Fatal(e.to_string())
        }
    })?;
    Ok(serde_json::json!({ "sent_to": letter.to }))
}

/// Sends `letter` now, without a job: for the administrator's test message, whose outcome they
/// wait for.
pub async fn send(core: &Core, letter: &Letter) -> Result<(), MailError> {
    match &core.mailer {
        Some(mailer) => mailer.send(letter).await,
        None => Err(MailError::Settings(NOT_CONFIGURED.into())),
    }
}

/// Why nothing can be sent when no SMTP server is configured.
pub const NOT_CONFIGURED: &str =
    "no SMTP server is configured (set smtp_host in guanxi.toml or GUANXI_SMTP_HOST)";
