//! 查重 on the record form: the records a new or edited one may duplicate, shown while it is
//! typed (the page's script asks [`check`]) and again when a save is refused, with a link to
//! each match the user may read and only its owner's name for one they may not ("已存在：负责人
//! 张三"), and, where every rule that matched only warns, the choice to save anyway.

use axum::Router;
use axum::extract::{Form, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use guanxi_core::dedupe::{self, Action};
use guanxi_core::records::EntityDef;
use serde_json::{Value, json};
use uuid::Uuid;

use super::form_get;
use crate::State;
use crate::auth::{UiUser, check_csrf};
use crate::i18n::I18n;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.dedupe.is_empty() {
        return Router::new();
    }
    Router::new().route(
        &format!("/{}/duplicates", def.plural),
        post(
            move |s: AxState<State>, u: UiUser, f: Form<Vec<(String, String)>>| check(def, s, u, f),
        ),
    )
}

/// One match as the form lists it.
pub struct Line {
    pub text: String,
    /// The record's page, when the user may read it.
    pub href: Option<String>,
}

/// What the form says about possible duplicates.
pub struct Notice {
    pub heading: String,
    pub lines: Vec<Line>,
    /// Every match only warns: the form offers "save anyway".
    pub can_override: bool,
}

/// A match, from the check or from the params of a refused save (the same fields, as JSON).
struct Seen<'a> {
    rule: &'a str,
    action: &'a str,
    title: Option<&'a str>,
    record_id: Option<&'a str>,
    owner: &'a str,
}

fn seen(v: &Value) -> Option<Seen<'_>> {
    Some(Seen {
        rule: v.get("rule")?.as_str()?,
        action: v.get("action")?.as_str()?,
        title: v
            .get("title")
            .and_then(Value::as_str)
            .filter(|_| v.get("readable").and_then(Value::as_bool) == Some(true)),
        record_id: v.get("record_id").and_then(Value::as_str),
        owner: v.get("owner_name").and_then(Value::as_str).unwrap_or(""),
    })
}

/// The notice for matches given as JSON (a check's, or a refused save's `matches` param);
/// `None` when there are none.
pub fn notice(def: &EntityDef, matches: &[Value], i18n: &I18n) -> Option<Notice> {
    let seen: Vec<Seen> = matches.iter().filter_map(seen).collect();
    if seen.is_empty() {
        return None;
    }
    let blocks = seen.iter().any(|m| m.action == Action::Block.as_str());
    let lines = seen
        .iter()
        .map(|m| {
            let rule = i18n.t(&format!("dup-rule-{}", m.rule));
            match m.title {
                Some(title) => Line {
                    text: i18n.t_with(
                        "dup-readable",
                        &[
                            ("title", title.to_string()),
                            ("rule", rule),
                            ("owner", m.owner.to_string()),
                        ],
                    ),
                    href: m
                        .record_id
                        .filter(|id| Uuid::parse_str(id).is_ok())
                        .map(|id| format!("/{}/{id}", def.plural)),
                },
                None => Line {
                    text: i18n.t_with(
                        "dup-unreadable",
                        &[("rule", rule), ("owner", m.owner.to_string())],
                    ),
                    href: None,
                },
            }
        })
        .collect();
    Some(Notice {
        heading: i18n.t(if blocks {
            "dup-heading-block"
        } else {
            "dup-heading-warn"
        }),
        lines,
        can_override: !blocks,
    })
}

/// The matches of what the form holds now, as the script shows them: `{heading, lines: [{text,
/// href}], can_override}`, or `{lines: []}` when there are none. The record being edited (`id`)
/// is not its own duplicate.
async fn check(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if check_csrf(&user, form_get(&f, "_csrf")).is_err() {
        return axum::Json(json!({ "lines": [] })).into_response();
    }
    let i18n = I18n::for_actor(&user.actor);
    let custom = st.core.records(def).custom_defs().await.unwrap_or_default();
    // A time the form could not read does not bear on duplicates.
    let input = crate::forms::record_from_form(def, &custom, &f, user.actor.time_zone).value;
    let exclude = form_get(&f, "id").and_then(|s| Uuid::parse_str(s).ok());
    let empty = serde_json::Map::new();
    let matches = dedupe::check::find(
        &st.core,
        &user.actor,
        def,
        input.as_object().unwrap_or(&empty),
        exclude,
    )
    .await
    .ok()
    .and_then(|m| serde_json::to_value(m).ok())
    .and_then(|v| v.as_array().cloned())
    .unwrap_or_default();
    let body = match notice(def, &matches, &i18n) {
        Some(n) => json!({
            "heading": n.heading,
            "can_override": n.can_override,
            "lines": n.lines.iter().map(|l| json!({"text": l.text, "href": l.href})).collect::<Vec<_>>(),
        }),
        None => json!({ "lines": [] }),
    };
    axum::Json(body).into_response()
}
