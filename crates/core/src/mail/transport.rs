//! The SMTP connection: settings, and one [`Mailer`] per process that sends a [`Letter`].

use std::fmt;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Letter;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text: only for a relay on the same host or a private network.
    None,
    /// Plain at first, then upgraded with STARTTLS (usually port 587); refuses a server that
    /// cannot upgrade rather than sending the password in the clear.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" | "off" => Some(TlsMode::None),
            "starttls" => Some(TlsMode::StartTls),
            "tls" | "ssl" | "smtps" => Some(TlsMode::Tls),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        }
    }

    /// The port this mode usually uses.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// A value kept out of logs: `Debug` shows that it is set, never what it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// Where and how outbound e-mail is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Empty when the server takes mail without logging in.
    pub user: String,
    pub password: Secret,
    /// The sender every message shows, as `Name <address>` or an address.
    pub from: String,
    /// How long one send may take, connecting included.
    pub timeout: Duration,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings cannot work (a sender that is no address, a host TLS cannot name).
    #[error("the e-mail settings are not valid: {0}")]
    Settings(String),
    /// The recipient's address cannot be written into a message.
    #[error("{0} is not an e-mail address a message can be sent to")]
    Recipient(String),
    /// The server answered with a lasting refusal (5xx): sending again will not help.
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    /// The server could not be reached, timed out, or asked to try later (4xx).
    #[error("the mail server could not take the message now: {0}")]
    Unavailable(String),
}

impl MailError {
    /// Whether trying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

/// Sends messages through the configured SMTP server, reusing its connections.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: MailSettings,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("settings", &self.settings)
            .finish()
    }
}

impl MailSettings {
    /// Checks the settings without connecting (and without a runtime, so a command can refuse
    /// them before it starts one); returns the sender.
    pub fn check(&self) -> Result<Mailbox, MailError> {
        let from: Mailbox = self.from.trim().parse().map_err(|_| {
            MailError::Settings(format!(
                "the sender '{}' is not an e-mail address (write it as name@example.com or \
                 Name <name@example.com>)",
                self.from
            ))
        })?;
        if self.host.trim().is_empty() {
            return Err(MailError::Settings("the SMTP host is empty".into()));
        }
        Ok(from)
    }
}

impl Mailer {
    /// A mailer for `settings`, checked without connecting. Its connection pool lives on the
    /// Tokio runtime, so it is made on one.
    pub fn new(settings: &MailSettings) -> Result<Mailer, MailError> {
        let from = settings.check()?;
        let host = settings.host.trim();
        let tls_error = |e: lettre::transport::smtp::Error| {
            MailError::Settings(format!("TLS cannot be set up for host '{host}': {e}"))
        };
        let builder = match settings.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            TlsMode::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
            }
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if !settings.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.user.clone(),
                settings.password.expose().to_owned(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            settings: settings.clone(),
        })
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// Sends `letter` as a message with a plain-text and an HTML part.
    pub async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        let to = Mailbox::new(
            Some(letter.to_name.clone()).filter(|n| !n.trim().is_empty()),
            letter
                .to
                .trim()
                .parse()
                .map_err(|_| MailError::Recipient(letter.to.clone()))?,
        );
        // A Message-ID of lettre's making: mail without one is often filed as spam.
        let message = Message::builder()
            .message_id(None)
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                letter.text.clone(),
                letter.html.clone(),
            ))
            .map_err(|e| MailError::Recipient(format!("{}: {e}", letter.to)))?;
        // The async transport's own timeout bounds only connecting; this one bounds the whole
        // exchange, so a server that stops answering cannot hold a job.
        let sent = tokio::time::timeout(
            self.settings.timeout.saturating_mul(2),
            self.transport.send(message),
        )
        .await;
        match sent {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(MailError::Refused(e.to_string())),
            Ok(Err(e)) => Err(MailError::Unavailable(e.to_string())),
            Err(_) => Err(MailError::Unavailable(format!(
                "no answer within {} s",
                self.settings.timeout.saturating_mul(2).as_secs()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            host: "smtp.example.com".into(),
            port: 587,
            tls: TlsMode::StartTls,
            user: "crm".into(),
            password: Secret::new("hunter2-very-secret"),
            from: "关系 CRM <crm@example.com>".into(),
            timeout: Duration::from_secs(10),
        }
    }

    #[tokio::test]
    async fn the_password_never_shows_in_debug_output() {
        let s = settings();
        let shown = format!("{s:?} {:?}", Mailer::new(&s).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
        assert!(shown.contains("smtp.example.com"));
    }

    #[test]
    fn a_sender_that_is_no_address_is_refused_with_a_reason() {
        // Checked without a runtime, as the command line checks its settings.
        let s = MailSettings {
            from: "not an address".into(),
            ..settings()
        };
        let e = s.check().unwrap_err();
        assert!(matches!(e, MailError::Settings(_)));
        assert!(e.to_string().contains("not an address"), "{e}");
        let s = MailSettings {
            host: " ".into(),
            ..settings()
        };
        assert!(matches!(s.check(), Err(MailError::Settings(_))));
    }

    #[test]
    fn tls_modes_read_back_from_their_names() {
        for mode in [TlsMode::None, TlsMode::StartTls, TlsMode::Tls] {
            assert_eq!(TlsMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(TlsMode::parse("SSL"), Some(TlsMode::Tls));
        assert_eq!(TlsMode::parse("maybe"), None);
        assert_eq!(TlsMode::Tls.default_port(), 465);
    }
}
