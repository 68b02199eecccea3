//! Logging in and out, and each user's own settings: language, password, API tokens.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State as AxState};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use guanxi_core::CoreError;
use guanxi_core::identity::{NewPassword, UserPatch, auth, calendar_feed, users};
use guanxi_core::notifications::{self, prefs};
use guanxi_core::time_zone;
use serde::Deserialize;

use super::{PageCtx, error_page, render};
use crate::State;
use crate::auth::{SESSION_COOKIE, UiUser, check_csrf, session_cookie};
use crate::client_addr::ClientAddr;
use crate::i18n::I18n;
use crate::redirect::local_target;

pub fn router() -> Router<State> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/language", get(visitor_language))
        .route("/logout", post(logout))
        .route("/settings", get(settings))
        .route("/settings/locale", post(set_locale))
        .route("/settings/password", post(set_password))
        .route("/settings/tokens", post(create_token))
        .route("/settings/tokens/revoke", post(revoke_token))
        .route("/settings/notifications", post(set_email_choices))
}

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    page: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
    /// What just happened (a password set through a reset link).
    notice: Option<String>,
}

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
    reset: Option<String>,
}

async fn login_form(headers: HeaderMap, Query(p): Query<NextParam>) -> Response {
    let i18n = I18n::for_visitor(&headers);
    let title = i18n.t("login-title");
    let notice = (p.reset.as_deref() == Some("done")).then(|| i18n.t("reset-done"));
    let mut page = PageCtx::anonymous(i18n, title);
    page.here = match p.next.as_deref() {
        Some(n) => format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(local_target(Some(n)).as_bytes()).collect::<String>()
        ),
        None => "/login".into(),
    };
    render(&LoginPage {
        page,
        email: String::new(),
        next: local_target(p.next.as_deref()),
        error: None,
        notice,
    })
}

#[derive(Deserialize)]
struct LanguageParams {
    to: Option<String>,
    back: Option<String>,
}

/// The language switch of the pages before logging in: remembered in a lasting cookie (a
/// logged-in user's own setting replaces it), then back to the page it was pressed on.
async fn visitor_language(jar: CookieJar, Query(p): Query<LanguageParams>) -> Response {
    let code = I18n::new(p.to.as_deref().unwrap_or("en")).code;
    let cookie = Cookie::build((crate::i18n::VISITOR_LANG_COOKIE, code))
        .path("/")
        .same_site(SameSite::Lax)
        .permanent()
        .build();
    (
        jar.add(cookie),
        Redirect::to(&local_target(p.back.as_deref())),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    AxState(st): AxState<State>,
    headers: HeaderMap,
    jar: CookieJar,
    ClientAddr(client): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Response {
    let i18n = I18n::for_visitor(&headers);
    match auth::login(
        &st.core.db,
        &st.core.settings,
        &f.email,
        &f.password,
        &client,
    )
    .await
    {
        Ok((_user, session)) => {
            let cookie = Cookie::build((SESSION_COOKIE, session.token))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(st.opts.secure_cookies)
                .build();
            (
                jar.add(cookie),
                Redirect::to(&local_target(f.next.as_deref())),
            )
                .into_response()
        }
        Err(e) => {
            let retry_after = match e {
                CoreError::Throttled { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            };
            let (status, msg) = match e {
                CoreError::Throttled { retry_after_secs } => (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    i18n.t1("login-throttled", "seconds", retry_after_secs),
                ),
                CoreError::Unauthenticated => {
                    (axum::http::StatusCode::UNAUTHORIZED, i18n.t("login-failed"))
                }
                other => {
                    tracing::error!(error = %other, "login failed");
                    (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        i18n.t("error-title"),
                    )
                }
            };
            let title = i18n.t("login-title");
            let mut res = render(&LoginPage {
                page: PageCtx::anonymous(i18n, title),
                email: f.email,
                next: local_target(f.next.as_deref()),
                error: Some(msg),
                notice: None,
            });
            *res.status_mut() = status;
            // Tell clients when to try again, as the API's 429 does.
            if let Some(Ok(v)) =
                retry_after.map(|s| axum::http::HeaderValue::from_str(&s.to_string()))
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

async fn logout(
    AxState(st): AxState<State>,
    user: UiUser,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = check_csrf(&user, f.csrf.as_deref()) {
        return error_page(&user, e);
    }
    if let Some(token) = session_cookie(&headers)
        && let Err(e) = auth::logout(&st.core.db, &token).await
    {
        return error_page(&user, e.into());
    }
    (
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "identity/settings.html")]
struct SettingsPage {
    page: PageCtx,
    locale: String,
    /// The money formats, each with an example in the reader's choice of words, and whether
    /// it is theirs.
    money_formats: Vec<(&'static str, String, bool)>,
    /// The option for no zone of one's own, naming the instance's.
    time_zone_default: String,
    /// The instance's zone (`Asia/Shanghai`).
    time_zone_default_name: &'static str,
    /// Whether the user has not chosen a zone (the page's script may then suggest the browser's).
    time_zone_unchosen: bool,
    time_zones_common: Vec<super::options::Opt>,
    time_zones_other: Vec<super::options::Opt>,
    tokens: Vec<TokenLine>,
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
    /// Each kind of notice: its name, its label, and whether it also comes by e-mail.
    email_choices: Vec<(&'static str, String, bool)>,
    /// Whether this server sends e-mail at all.
    mail_on: bool,
    /// Whether any entity makes a calendar (and so a feed).
    has_calendar: bool,
    /// When the user's calendar feed was made, if they have one.
    feed_made: Option<String>,
    /// A feed address just made, shown this once.
    new_feed: Option<String>,
}

/// An API token as the settings page lists it.
struct TokenLine {
    id: String,
    name: String,
    prefix: String,
    created_at: super::cells::Cell,
    last_used_at: super::cells::Cell,
}

/// A zone as the settings page offers it: `Asia/Shanghai (UTC+08:00)`, with today's offset.
fn zone_option(zone: time_zone::Tz, chosen: &str) -> super::options::Opt {
    super::options::Opt {
        value: zone.name().to_string(),
        label: format!(
            "{} ({})",
            zone.name(),
            time_zone::offset_at(zone, chrono::Utc::now())
        ),
        selected: zone.name() == chosen,
    }
}

async fn settings_page(
    st: &State,
    user: &UiUser,
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    settings_page_with(st, user, new_token, message, error, None).await
}

/// The settings page showing a calendar feed address just made, its only showing.
pub(super) async fn settings_with_feed(st: &State, user: &UiUser, url: String) -> Response {
    settings_page_with(st, user, None, None, None, Some(url)).await
}

async fn settings_page_with(
    st: &State,
    user: &UiUser,
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
    new_feed: Option<String>,
) -> Response {
    let loaded = async {
        let tokens = auth::list_tokens(&st.core.db, user.actor.user_id).await?;
        let choices = prefs::email_choices(&st.core, &user.actor).await?;
        let feed = calendar_feed::made_at(&st.core, user.actor.user_id).await?;
        Ok::<_, CoreError>((tokens, choices, feed))
    }
    .await;
    let (tokens, choices, feed) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return error_page(user, e.into()),
    };
    let i18n = I18n::for_actor(&user.actor);
    // The stored choice, not the zone in effect: '' selects the instance default.
    let chosen = match users::get(st.core.db.reader(), user.actor.user_id).await {
        Ok(u) => u.time_zone,
        Err(e) => return error_page(user, e.into()),
    };
    let tokens = tokens
        .into_iter()
        .map(|t| TokenLine {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created_at: super::cells::Cell::instant(&t.created_at, &i18n),
            last_used_at: super::cells::Cell::instant(
                t.last_used_at.as_deref().unwrap_or(""),
                &i18n,
            ),
        })
        .collect();
    render(&SettingsPage {
        page: PageCtx::new(user, i18n.t("settings-title"), "settings"),
        locale: user.actor.locale.clone(),
        money_formats: users::MONEY_FORMATS
            .iter()
            .map(|f| {
                let mut reader = I18n::new(&user.actor.locale);
                reader.money_in_wan = *f == "wan";
                let example = super::display::money(
                    &serde_json::json!({"amount": "8740000", "currency": "CNY"}),
                    &reader,
                );
                (*f, example, user.actor.money_format == *f)
            })
            .collect(),
        time_zone_default: i18n.t1(
            "settings-time-zone-default",
            "zone",
            st.core.settings.default_time_zone.name(),
        ),
        time_zone_default_name: st.core.settings.default_time_zone.name(),
        time_zone_unchosen: chosen.is_empty(),
        time_zones_common: time_zone::COMMON
            .iter()
            .map(|z| zone_option(*z, &chosen))
            .collect(),
        time_zones_other: time_zone::all()
            .filter(|z| !time_zone::COMMON.contains(z))
            .map(|z| zone_option(z, &chosen))
            .collect(),
        tokens,
        new_token,
        message,
        error,
        email_choices: choices
            .into_iter()
            .map(|(kind, by_email)| (kind, i18n.t(&format!("notification-kind-{kind}")), by_email))
            .collect(),
        mail_on: st.core.mailer.is_some(),
        has_calendar: st.core.registry.all().iter().any(|d| d.calendar.is_some()),
        feed_made: feed.map(|t| i18n.instant(t)),
        new_feed,
    })
}

async fn settings(
    AxState(st): AxState<State>,
    user: UiUser,
    Query(q): Query<DoneParam>,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let message = match q.done.as_deref() {
        Some("notifications") => Some(i18n.t("settings-email-notices-saved")),
        Some("display") => Some(i18n.t("settings-display-saved")),
        Some("calendar_feed_off") => Some(i18n.t("settings-calendar-feed-revoked")),
        _ => None,
    };
    settings_page(&st, &user, None, message, None).await
}

#[derive(Deserialize)]
struct DoneParam {
    done: Option<String>,
}

/// Saves which kinds of notice come by e-mail: a ticked box (`email_<kind>`) for each that does.
async fn set_email_choices(
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, super::form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    for kind in notifications::KINDS {
        let ticked = super::form_get(&f, &format!("email_{}", kind.name)).is_some();
        if let Err(e) = prefs::set_email_choice(&st.core, &user.actor, kind.name, ticked).await {
            return error_page(&user, e.into());
        }
    }
    Redirect::to("/settings?done=notifications#email-notices").into_response()
}

#[derive(Deserialize)]
struct LocaleForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    locale: String,
    /// Sent by the settings page, not by the language switch in the user menu.
    money_format: Option<String>,
    /// Sent by the settings page: an IANA name, or '' for the instance default.
    time_zone: Option<String>,
    back: Option<String>,
}

async fn set_locale(
    AxState(st): AxState<State>,
    user: UiUser,
    headers: HeaderMap,
    Form(f): Form<LocaleForm>,
) -> Response {
    if let Err(e) = check_csrf(&user, f.csrf.as_deref()) {
        return error_page(&user, e);
    }
    let patch = UserPatch {
        locale: Some(f.locale),
        money_format: f.money_format,
        time_zone: f.time_zone,
        ..Default::default()
    };
    match users::update(&st.core.db, Some(&user.actor), user.actor.user_id, patch).await {
        Ok(_) => {
            // Back to the page the switch was pressed on: the form's hint, else the Referer's path.
            let referer = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| {
                    let after_scheme = r.split_once("://").map(|(_, rest)| rest).unwrap_or(r);
                    after_scheme
                        .find('/')
                        .map(|i| after_scheme[i..].to_string())
                });
            let back = f.back.filter(|b| !b.is_empty()).or(referer);
            Redirect::to(&local_target(back.as_deref())).into_response()
        }
        // Only a tampered form can send what the selects do not offer; it is named on the page.
        Err(CoreError::Validation(fields)) => {
            let i18n = I18n::for_actor(&user.actor);
            let msg = fields
                .iter()
                .map(|(field, e)| {
                    let label = match field.as_str() {
                        "locale" => "settings-language".to_string(),
                        f => format!("settings-{}", f.replace('_', "-")),
                    };
                    i18n.named_field_error(&i18n.t(&label), e)
                })
                .collect::<Vec<_>>()
                .join(" ");
            settings_page(&st, &user, None, None, Some(msg)).await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    current: String,
    password: String,
    /// A checkbox: present when ticked.
    keep_tokens: Option<String>,
}

async fn set_password(
    AxState(st): AxState<State>,
    user: UiUser,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(e) = check_csrf(&user, f.csrf.as_deref()) {
        return error_page(&user, e);
    }
    let i18n = I18n::for_actor(&user.actor);
    let changed = auth::set_password(
        &st.core.db,
        &st.core.settings,
        Some(&user.actor),
        user.actor.user_id,
        NewPassword {
            password: &f.password,
            current: Some(&f.current),
            keep_tokens: f.keep_tokens.is_some(),
        },
    )
    .await;
    match changed {
        Ok(()) => {
            // Changing the password ended every session, this one included: start a new one.
            match auth::create_session(&st.core.db, &st.core.settings, user.actor.user_id).await {
                Ok(s) => {
                    let cookie = Cookie::build((SESSION_COOKIE, s.token))
                        .path("/")
                        .http_only(true)
                        .same_site(SameSite::Lax)
                        .secure(st.opts.secure_cookies)
                        .build();
                    let message = if f.keep_tokens.is_some() {
                        i18n.t("settings-password-changed")
                    } else {
                        i18n.t("settings-password-changed-tokens-revoked")
                    };
                    let user = UiUser {
                        actor: user.actor.clone(),
                        csrf: s.csrf,
                        registry: user.registry,
                        here: "/settings".into(),
                        done: None,
                    };
                    let page = settings_page(&st, &user, None, Some(message), None).await;
                    (jar.add(cookie), page).into_response()
                }
                Err(e) => error_page(&user, e.into()),
            }
        }
        Err(CoreError::Validation(fields)) => {
            let msg = match fields.iter().next() {
                Some((field, _)) if field == "current_password" => {
                    i18n.t("settings-wrong-password")
                }
                Some((_, e)) => i18n.t1(
                    "settings-new-password-invalid",
                    "reason",
                    i18n.field_error(e),
                ),
                None => String::new(),
            };
            settings_page(&st, &user, None, None, Some(msg)).await
        }
        Err(CoreError::Throttled { retry_after_secs }) => {
            let msg = i18n.t1("login-throttled", "seconds", retry_after_secs);
            settings_page(&st, &user, None, None, Some(msg)).await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    name: Option<String>,
    id: Option<String>,
}

async fn create_token(
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(e) = check_csrf(&user, f.csrf.as_deref()) {
        return error_page(&user, e);
    }
    match auth::create_token(
        &st.core.db,
        Some(&user.actor),
        user.actor.user_id,
        f.name.as_deref().unwrap_or(""),
    )
    .await
    {
        Ok((secret, _)) => settings_page(&st, &user, Some(secret), None, None).await,
        Err(e) => error_page(&user, e.into()),
    }
}

async fn revoke_token(
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(e) = check_csrf(&user, f.csrf.as_deref()) {
        return error_page(&user, e);
    }
    let Some(id) = f.id.as_deref().and_then(|s| uuid::Uuid::parse_str(s).ok()) else {
        return error_page(&user, crate::error::ApiError::not_found());
    };
    match auth::revoke_token(&st.core.db, &user.actor, id).await {
        Ok(()) => Redirect::to("/settings").into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
