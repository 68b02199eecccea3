//! The e-mails Guanxi writes, each in its recipient's language with an HTML and a plain-text
//! part, and the job that e-mails a notice when it shows. The core carries and sends letters;
//! their wording is presentation, kept here beside the pages'.

use askama::Template;
use guanxi_core::identity::User;
use guanxi_core::jobs::{JobError, JobHandler};
use guanxi_core::mail::{self, Letter};
use guanxi_core::notifications::{self, Notification};
use guanxi_core::{Core, identity::users};
use serde_json::Value;
use uuid::Uuid;

use crate::i18n::I18n;

/// A button in a letter, with the address it opens.
pub struct Action {
    pub label: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct LetterHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    greeting: &'a str,
    lines: &'a [String],
    action: Option<&'a Action>,
    link_hint: String,
    footer: &'a str,
}

/// Who a letter goes to.
pub struct Recipient<'a> {
    pub email: &'a str,
    pub name: &'a str,
}

impl<'a> From<&'a User> for Recipient<'a> {
    fn from(user: &'a User) -> Self {
        Recipient {
            email: &user.email,
            name: &user.name,
        }
    }
}

/// A letter to `to` in `i18n`'s language: a greeting, `lines`, an optional button, a footer.
fn write(
    i18n: &I18n,
    to: Recipient<'_>,
    subject: String,
    lines: Vec<String>,
    action: Option<Action>,
    footer: String,
) -> Letter {
    let greeting = i18n.t1("mail-greeting", "name", to.name);
    let html = LetterHtml {
        lang: i18n.code,
        subject: &subject,
        greeting: &greeting,
        lines: &lines,
        action: action.as_ref(),
        link_hint: i18n.t("mail-link-hint"),
        footer: &footer,
    }
    .render()
    .unwrap_or_else(|e| {
        // The template is compiled in; a failure here is a bug, and the plain part still reads.
        tracing::error!(error = %e, "letter template failed");
        String::new()
    });
    let mut text = format!("{greeting}\n\n");
    for line in &lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    if let Some(a) = &action {
        text.push_str(&format!("{}: {}\n\n", a.label, a.url));
    }
    text.push_str(&format!("-- \n{footer}\n"));
    Letter {
        to: to.email.to_owned(),
        to_name: to.name.to_owned(),
        subject,
        text,
        html,
    }
}

/// The letter that carries a password reset link.
pub fn password_reset(core: &Core, user: &User, secret: &str) -> Letter {
    let i18n = I18n::new(&user.locale);
    let minutes = guanxi_core::identity::reset::LIFETIME.num_minutes();
    write(
        &i18n,
        user.into(),
        i18n.t("mail-reset-subject"),
        vec![
            i18n.t("mail-reset-body"),
            i18n.t1("mail-reset-expires", "minutes", minutes),
        ],
        Some(Action {
            label: i18n.t("mail-reset-action"),
            url: format!("{}/password-reset/{secret}", core.settings.public_url),
        }),
        i18n.t("mail-reset-footer"),
    )
}

/// The administrator's test message, in their language.
pub fn test_message(core: &Core, i18n: &I18n, to: Recipient<'_>) -> Letter {
    write(
        i18n,
        to,
        i18n.t("mail-test-subject"),
        vec![i18n.t("mail-test-body")],
        Some(Action {
            label: i18n.t("mail-open-guanxi"),
            url: core.settings.public_url.clone(),
        }),
        i18n.t("mail-test-footer"),
    )
}

/// The letter that tells `user` of notice `n`.
pub fn notice(core: &Core, user: &User, n: &Notification) -> Letter {
    let i18n = I18n::new(&user.locale);
    let text = i18n.notice(&n.kind, &n.params);
    let base = &core.settings.public_url;
    let url = match n
        .record_id
        .and_then(|id| Some((core.registry.by_name(&n.entity)?.plural, id)))
    {
        Some((plural, id)) => format!("{base}/{plural}/{id}"),
        None => format!("{base}/notifications"),
    };
    write(
        &i18n,
        user.into(),
        text.clone(),
        vec![text],
        Some(Action {
            label: i18n.t("mail-notice-action"),
            url,
        }),
        i18n.t("mail-notice-footer"),
    )
}

/// Runs the jobs that e-mail a notice as it shows ([`notifications::EMAIL_JOB`]).
pub struct NoticeEmail;

#[async_trait::async_trait]
impl JobHandler for NoticeEmail {
    async fn run(&self, core: &Core, payload: &Value) -> Result<Value, JobError> {
        let id = payload
            .get("notification")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| JobError::Fatal(format!("not a notice e-mail's payload: {payload}")))?;
        let found = notifications::for_email(core, id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        // A notice gone (its user removed) or a user disabled since: nothing to send, and
        // nothing that trying again would change.
        let Some((user_id, n)) = found else {
            return Ok(serde_json::json!({ "skipped": "the notice no longer exists" }));
        };
        let user = users::get(core.db.reader(), user_id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        if user.disabled {
            return Ok(serde_json::json!({ "skipped": "the recipient is disabled" }));
        }
        if user.email.trim().is_empty() {
            return Err(JobError::Fatal(format!(
                "user {} has no e-mail address to send the notice to",
                user.name
            )));
        }
        mail::deliver(core, &notice(core, &user, &n)).await
    }
}

/// Adds the jobs whose work is worded here to `handlers`.
pub(crate) fn register_jobs(handlers: guanxi_core::jobs::Handlers) -> guanxi_core::jobs::Handlers {
    handlers.register(notifications::EMAIL_JOB, NoticeEmail)
}
