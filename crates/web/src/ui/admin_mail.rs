//! Administration → E-mail: how outbound e-mail is configured (the password never shown), and
//! a test message whose outcome the administrator sees at once.

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::{get, post};
use guanxi_core::mail::{self, MailError};
use guanxi_core::{CoreError, codes};

use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;
use crate::letters::{self, Recipient};

pub fn router() -> Router<State> {
    Router::new()
        .route("/admin/mail", get(page))
        .route("/admin/mail/test", post(send_test))
}

/// One line of the settings as shown: a label and its value.
pub struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    page: PageCtx,
    section: String,
    /// The settings in effect; empty when no SMTP server is configured.
    facts: Vec<Fact>,
    public_url: String,
    to: String,
    notice: Option<String>,
    error: Option<String>,
}

fn facts(st: &State, i18n: &I18n) -> Vec<Fact> {
    let Some(m) = st.core.mailer.as_ref().map(|m| m.settings()) else {
        return Vec::new();
    };
    let fact = |key: &str, value: String| Fact {
        label: i18n.t(key),
        value,
    };
    vec![
        fact("admin-mail-server", format!("{}:{}", m.host, m.port)),
        fact(
            "admin-mail-tls",
            i18n.t(&format!("admin-mail-tls-{}", m.tls.as_str())),
        ),
        fact(
            "admin-mail-user",
            if m.user.is_empty() {
                i18n.t("admin-mail-no-login")
            } else {
                m.user.clone()
            },
        ),
        fact(
            "admin-mail-password",
            i18n.t(if m.password.expose().is_empty() {
                "admin-mail-password-unset"
            } else {
                "admin-mail-password-set"
            }),
        ),
        fact("admin-mail-from", m.from.clone()),
    ]
}

fn show(
    st: &State,
    user: &UiUser,
    to: String,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let facts = facts(st, &i18n);
    render(&MailPage {
        page: PageCtx::new(user, i18n.t("admin-mail"), "admin"),
        section: "mail".into(),
        facts,
        public_url: st.core.settings.public_url.clone(),
        to,
        notice,
        error,
    })
}

/// Only administrators see and test the mail settings.
fn admin_only(user: &UiUser) -> Result<(), ApiError> {
    if user.actor.is_admin() {
        Ok(())
    } else {
        Err(CoreError::forbidden(codes::ADMIN_ONLY).into())
    }
}

async fn page(AxState(st): AxState<State>, user: UiUser) -> Response {
    if let Err(e) = admin_only(&user) {
        return error_page(&user, e);
    }
    let to = user.actor.email.clone();
    show(&st, &user, to, None, None)
}

/// Sends the test message now, not through a job: the administrator waits for its outcome,
/// which names what the server said.
async fn send_test(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    if let Err(e) = admin_only(&user) {
        return error_page(&user, e);
    }
    let i18n = I18n::for_actor(&user.actor);
    let to = form_get(&f, "to").unwrap_or("").trim().to_owned();
    let to = if to.is_empty() {
        user.actor.email.clone()
    } else {
        to
    };
    let letter = letters::test_message(
        &st.core,
        &i18n,
        Recipient {
            email: &to,
            name: &user.actor.name,
        },
    );
    match mail::send(&st.core, &letter).await {
        Ok(()) => {
            let notice = i18n.t1("admin-mail-test-sent", "email", &to);
            show(&st, &user, to, Some(notice), None)
        }
        Err(e) => {
            let key = match e {
                MailError::Settings(_) => "admin-mail-test-settings",
                MailError::Recipient(_) => "admin-mail-test-recipient",
                MailError::Refused(_) => "admin-mail-test-refused",
                MailError::Unavailable(_) => "admin-mail-test-unavailable",
            };
            // The server's own words follow, for whoever configures it: they name the cause.
            let error = i18n.t_with(key, &[("email", to.clone()), ("detail", e.to_string())]);
            show(&st, &user, to, None, Some(error))
        }
    }
}
