//! Each user's calendar feed: `GET /calendar/<secret>.ics`, no session, read as the secret's
//! user (their scope, their language), and the settings that make, replace and end it.

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use guanxi_core::CoreError;
use guanxi_core::identity::calendar_feed;
use guanxi_core::records::calendar::{Entries, default_length, instant, span};
use guanxi_core::records::{Access, EntityDef};
use serde_json::Value;

use super::cells::{Reading, cell, lookups};
use super::error_page;
use super::posted::Posted;
use crate::State;
use crate::i18n::I18n;
use crate::ical;

/// How far back and ahead the feed reaches.
const BACK_DAYS: i64 = 92;
const AHEAD_DAYS: i64 = 366;

pub fn router() -> Router<State> {
    Router::new()
        .route("/calendar/{file}", get(feed))
        .route("/settings/calendar-feed", post(make))
        .route("/settings/calendar-feed/revoke", post(revoke))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The entities whose records make calendars.
fn sources(st: &State) -> impl Iterator<Item = &'static EntityDef> + '_ {
    st.core
        .registry
        .all()
        .iter()
        .copied()
        .filter(|d| d.calendar.is_some() && d.access == Access::Records)
}

async fn feed(AxState(st): AxState<State>, Path(file): Path<String>) -> Response {
    let Some(secret) = file.strip_suffix(".ics").filter(|s| !s.is_empty()) else {
        return not_found();
    };
    let actor = match calendar_feed::holder(&st.core, secret).await {
        Ok(a) => a,
        Err(CoreError::NotFound) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let i18n = I18n::for_actor(&actor);
    let now = Utc::now();
    let (from, to) = (
        now - Duration::days(BACK_DAYS),
        now + Duration::days(AHEAD_DAYS),
    );
    let base = st
        .core
        .settings
        .public_url
        .trim_end_matches('/')
        .to_string();
    let mut events = Vec::new();
    for def in sources(&st) {
        let Some(cal) = def.calendar else { continue };
        let records = match st
            .core
            .records(def)
            .calendar_entries(
                &actor,
                from,
                to,
                &[actor.user_id],
                Entries {
                    shown: &[cal.location, cal.detail],
                    ..Entries::default()
                },
            )
            .await
        {
            Ok(r) => r,
            Err(CoreError::Forbidden { .. }) => continue,
            Err(e) => {
                tracing::error!(error = %e, "calendar feed failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let lk = match lookups(&st, &actor, def, &records, Reading::Only(&[]), |_| vec![]).await {
            Ok(l) => l,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        for rec in &records {
            let timed = rec.get(cal.start).is_some_and(|v| !v.is_null());
            let done = rec.get(cal.done).and_then(Value::as_bool) == Some(true);
            // Timed entries, and tasks still to do at their due time.
            if !timed && done {
                continue;
            }
            let Some((start, end)) = span(cal, rec) else {
                continue;
            };
            let text = |f: &str| rec.get(f).and_then(Value::as_str).unwrap_or("").to_string();
            let id = text("id");
            events.push(ical::Event {
                uid: format!("{id}@guanxi"),
                stamp: instant(rec, "updated_at").unwrap_or(now),
                start,
                end: end.unwrap_or(start + default_length()),
                summary: (def.title)(rec, i18n.code),
                location: text(cal.location),
                description: text(cal.detail),
                url: format!("{base}/{}/{id}", def.plural),
                categories: cell(def, rec, cal.kind, &lk, &i18n).text,
                done,
            });
        }
    }
    let name = format!("{} · {}", i18n.t("app-name"), actor.name);
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        ical::calendar(&name, &events),
    )
        .into_response()
}

/// Makes (or replaces) the user's feed address and shows it once on the settings page.
async fn make(AxState(st): AxState<State>, Posted { user, .. }: Posted) -> Response {
    match calendar_feed::make(&st.core, &user.actor).await {
        Ok(secret) => {
            let url = format!(
                "{}/calendar/{secret}.ics",
                st.core.settings.public_url.trim_end_matches('/')
            );
            super::session::settings_with_feed(&st, &user, url).await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

async fn revoke(AxState(st): AxState<State>, Posted { user, .. }: Posted) -> Response {
    match calendar_feed::revoke(&st.core, &user.actor).await {
        Ok(()) => Redirect::to("/settings?done=calendar_feed_off#calendar-feed").into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
