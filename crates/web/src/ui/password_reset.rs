//! "Forgot your password?": ask for a link by e-mail, then choose a new password through it.
//!
//! Asking answers the same whether or not the address has an account. The link's page shows
//! whether it still works before the form is filled in, and the new password is set once.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use guanxi_core::CoreError;
use guanxi_core::identity::reset;
use serde::Deserialize;

use super::{PageCtx, render};
use crate::State;
use crate::i18n::I18n;
use crate::letters;

pub fn router() -> Router<State> {
    Router::new()
        .route("/password-reset", get(ask_form).post(ask))
        .route("/password-reset/{secret}", get(choose_form).post(choose))
}

fn i18n_of(headers: &HeaderMap) -> I18n {
    I18n::for_visitor(headers)
}

#[derive(Template)]
#[template(path = "identity/reset_ask.html")]
struct AskPage {
    page: PageCtx,
    /// Whether e-mail can be sent at all; without it, people are told whom to ask.
    mail_on: bool,
    /// Set once asked: the address, for the answer that names it.
    sent_to: Option<String>,
}

async fn ask_form(AxState(st): AxState<State>, headers: HeaderMap) -> Response {
    let i18n = i18n_of(&headers);
    let title = i18n.t("reset-title");
    render(&AskPage {
        page: PageCtx::anonymous(i18n, title),
        mail_on: st.core.mailer.is_some(),
        sent_to: None,
    })
}

#[derive(Deserialize)]
struct AskForm {
    email: String,
}

async fn ask(AxState(st): AxState<State>, headers: HeaderMap, Form(f): Form<AskForm>) -> Response {
    let i18n = i18n_of(&headers);
    let core = &st.core;
    if let Err(e) = reset::request(core, &f.email, |user, secret| {
        letters::password_reset(core, user, secret)
    })
    .await
    {
        // Said only in the log: the answer must not differ for any address.
        tracing::error!(error = %e, "password reset request failed");
    }
    let title = i18n.t("reset-title");
    render(&AskPage {
        page: PageCtx::anonymous(i18n, title),
        mail_on: core.mailer.is_some(),
        sent_to: Some(f.email.trim().to_owned()),
    })
}

#[derive(Template)]
#[template(path = "identity/reset_choose.html")]
struct ChoosePage {
    page: PageCtx,
    secret: String,
    /// Who the link is for; none when it no longer works.
    email: Option<String>,
    error: Option<String>,
}

fn choose_page(
    i18n: I18n,
    secret: String,
    email: Option<String>,
    error: Option<String>,
) -> Response {
    let title = i18n.t("reset-choose-title");
    let gone = email.is_none();
    let mut res = render(&ChoosePage {
        page: PageCtx::anonymous(i18n, title),
        secret,
        email,
        error,
    });
    if gone {
        *res.status_mut() = StatusCode::GONE;
    }
    res
}

async fn choose_form(
    AxState(st): AxState<State>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Response {
    let i18n = i18n_of(&headers);
    match reset::holder(&st.core, &secret).await {
        Ok(user) => choose_page(i18n, secret, Some(user.email), None),
        Err(CoreError::BadRequest { .. } | CoreError::NotFound) => {
            choose_page(i18n, String::new(), None, None)
        }
        Err(e) => failed(&i18n, e),
    }
}

#[derive(Deserialize)]
struct ChooseForm {
    password: String,
    confirm: String,
}

async fn choose(
    AxState(st): AxState<State>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    Form(f): Form<ChooseForm>,
) -> Response {
    let i18n = i18n_of(&headers);
    let holder = match reset::holder(&st.core, &secret).await {
        Ok(user) => user,
        Err(CoreError::BadRequest { .. } | CoreError::NotFound) => {
            return choose_page(i18n, String::new(), None, None);
        }
        Err(e) => return failed(&i18n, e),
    };
    if f.password != f.confirm {
        let error = i18n.t("reset-mismatch");
        let mut res = choose_page(i18n, secret, Some(holder.email), Some(error));
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return res;
    }
    match reset::complete(&st.core, &secret, &f.password).await {
        Ok(_) => Redirect::to("/login?reset=done").into_response(),
        Err(CoreError::Validation(fields)) => {
            let reason = fields
                .values()
                .next()
                .map(|e| i18n.field_error(e))
                .unwrap_or_default();
            let error = i18n.t1("settings-new-password-invalid", "reason", reason);
            let mut res = choose_page(i18n, secret, Some(holder.email), Some(error));
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Err(CoreError::BadRequest { .. }) => choose_page(i18n, String::new(), None, None),
        Err(e) => failed(&i18n, e),
    }
}

fn failed(i18n: &I18n, e: CoreError) -> Response {
    tracing::error!(error = %e, "password reset failed");
    (StatusCode::SERVICE_UNAVAILABLE, i18n.t("reset-unavailable")).into_response()
}
