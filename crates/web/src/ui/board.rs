//! An entity's board (`BoardDef`): its records as cards in a column per line of the record they
//! sit within (opportunities by the stages of their pipeline), each column with its count and
//! sum of what the reader may read; the list's filter bar applies. A card moves by its stage
//! select and button (no script needed) or by dragging it (the script posts the same form); the
//! move is the record service's, with every rule of the update or action it is.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::CoreError;
use guanxi_core::records::board::Board;
use guanxi_core::records::def::FieldKind;
use guanxi_core::records::{EntityDef, ListQuery, Record};
use serde_json::Value;
use uuid::Uuid;

use super::cells::{Cell, Reading, cell, lookups};
use super::display::{self, field_label};
use super::filter_bar;
use super::options::Opt;
use super::posted::Posted;
use super::record_form::vstr;
use super::record_list::{FilterBar, ListState, field_choices};
use super::records::enc;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

/// The most records a board offers to sit within (pipelines).
const MAX_WITHIN: u64 = 100;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.board.is_none() {
        return Router::new();
    }
    Router::new()
        .route(
            &format!("/{}/board", def.plural),
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| page(def, s, u, q)),
        )
        .route(
            &format!("/{}/{{id}}/board-move", def.plural),
            post(move |s: AxState<State>, i: Path<String>, p: Posted| move_card(def, s, i, p)),
        )
}

/// One fact under a card's title.
pub struct Fact {
    pub label: String,
    /// The field the column sums (the amount): shown stronger.
    pub lead: bool,
    pub cell: Cell,
}

pub struct Card {
    pub id: String,
    pub title: String,
    pub href: String,
    pub version: String,
    pub facts: Vec<Fact>,
    /// Every column, the card's own chosen: where it can move.
    pub moves: Vec<Opt>,
}

pub struct BoardColumn {
    pub id: String,
    pub name: String,
    /// `open`, `won`, `lost`: the state a card in the column is in.
    pub state: String,
    pub open: bool,
    pub count: String,
    pub count_n: u64,
    /// The sum, one amount per currency.
    pub sum: String,
    /// The same for machines: `1200.00 CNY`, several joined by ` + `.
    pub sum_raw: String,
    pub cards: Vec<Card>,
    /// The list of every card of the column, when it has more than it shows.
    pub more: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "records/board.html")]
struct BoardPage {
    page: PageCtx,
    plural: &'static str,
    entity_label: String,
    /// The chooser of the record the board is within (a pipeline).
    within_label: String,
    within: Vec<Opt>,
    columns: Vec<BoardColumn>,
    bar: FilterBar,
    list_href: String,
    /// What stopped the last move, or a filter the board could not read.
    problem: Option<String>,
    /// "Won and lost: this quarter (1 Oct – 31 Dec)".
    period_note: String,
    /// The board's address, where a move comes back to.
    here: String,
    move_label: String,
    sum_label: String,
    /// The reader may write records of the entity.
    can_write: bool,
}

/// The query of a board: its conditions, then the record it is within.
fn board_query(state: &ListState, within: &str) -> String {
    let mut parts: Vec<String> = state
        .filters
        .iter()
        .map(|(f, o, v)| format!("ff={}&fo={}&fv={}", enc(f), enc(o), enc(v)))
        .collect();
    if let Some(a) = &state.advanced {
        parts.push(format!("fj={}", enc(&a.to_json().to_string())));
    }
    if !within.is_empty() {
        parts.push(format!("p={}", enc(within)));
    }
    parts.join("&")
}

/// The list page's query of the same conditions.
pub(super) fn list_query(state: &ListState) -> String {
    board_query(state, "")
}

async fn page(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    board_page(def, &st, &user, &pairs, None).await
}

/// The board as `pairs` ask for it, saying `problem` (what stopped a move) on top.
async fn board_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    pairs: &[(String, String)],
    problem: Option<String>,
) -> Response {
    match build(def, st, user, pairs, problem).await {
        Ok(p) => render(&p),
        Err(e) => error_page(user, e),
    }
}

async fn build(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    pairs: &[(String, String)],
    mut problem: Option<String>,
) -> Result<BoardPage, ApiError> {
    let i18n = I18n::for_actor(&user.actor);
    let svc = st.core.records(def);
    let board_def = def.board.ok_or_else(ApiError::not_found)?;
    let within_def = svc.board_within()?;
    let withins = st
        .core
        .records(within_def)
        .list(
            &user.actor,
            &ListQuery {
                limit: MAX_WITHIN,
                ..Default::default()
            },
        )
        .await?
        .items;
    let asked = form_get(pairs, "p").unwrap_or("");
    let chosen = withins
        .iter()
        .map(|w| vstr(w.get("id")))
        .find(|id| id == asked)
        .or_else(|| withins.first().map(|w| vstr(w.get("id"))))
        .unwrap_or_default();
    let custom = svc.custom_defs().await?;
    let state = ListState::parse(pairs, def).with_codes(def, &custom, &i18n);
    let board = match Uuid::parse_str(&chosen) {
        Ok(within_id) => {
            match svc
                .board(&user.actor, within_id, Some(state.filter()))
                .await
            {
                Ok(b) => Some(b),
                // A filter the board cannot read: said, and the board shown without it.
                Err(CoreError::BadRequest { code, params, .. }) => {
                    problem.get_or_insert_with(|| {
                        i18n.try_error(code, &params)
                            .unwrap_or_else(|| i18n.t("list-invalid-query"))
                    });
                    Some(svc.board(&user.actor, within_id, None).await?)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(_) => None,
    };
    let cards: Vec<&Record> = board
        .iter()
        .flat_map(|b| b.columns.iter().flat_map(|c| c.cards.iter()))
        .collect();
    let lk = lookups(
        st,
        &user.actor,
        def,
        cards.iter().copied(),
        Reading::Everything,
        |_| vec![],
    )
    .await?;
    let here = format!("/{}/board?{}", def.plural, board_query(&state, &chosen));
    let columns = match &board {
        Some(b) => columns(def, b, &state, &lk, &i18n),
        None => Vec::new(),
    };

    // The filter bar, as the list's.
    let setup = super::choices::load(&st.core, &user.actor, def.fields, &[]).await?;
    let mut people: Vec<(String, String)> = lk
        .users
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let choices = field_choices(def, &lk.custom, &i18n);
    let cx = filter_bar::Context {
        def,
        custom: &lk.custom,
        users: &people,
        choices: &setup,
        i18n: &i18n,
    };
    let bar = FilterBar::new(
        &cx,
        &state,
        &choices,
        pairs,
        format!("/{}/board", def.plural),
        vec![("p".into(), chosen.clone())],
        |s| format!("/{}/board?{}", def.plural, board_query(s, &chosen)),
    );
    let within_field = def
        .field(board_def.within)
        .map(|f| f.name)
        .unwrap_or(board_def.within);
    let entity_label = i18n.t(&format!("entity-{}", def.plural));
    let mut pg = PageCtx::new(
        user,
        format!("{} · {}", entity_label, i18n.t("board-title")),
        def.plural,
    );
    pg.here = here.clone();
    let period_note = board
        .as_ref()
        .map(|b| {
            use chrono::Datelike;
            i18n.t_with(
                "board-period",
                &[
                    ("year", b.period.0.year().to_string()),
                    ("quarter", (b.period.0.month0() / 3 + 1).to_string()),
                ],
            )
        })
        .unwrap_or_default();
    Ok(BoardPage {
        list_href: match list_query(&state) {
            q if q.is_empty() => format!("/{}", def.plural),
            q => format!("/{}?{q}", def.plural),
        },
        within_label: field_label(def.name, within_field, &i18n),
        within: withins
            .iter()
            .map(|w| {
                let id = vstr(w.get("id"));
                Opt {
                    selected: id == chosen,
                    value: id,
                    label: (within_def.title)(w, i18n.code),
                }
            })
            .collect(),
        columns,
        bar,
        problem,
        period_note,
        here,
        move_label: i18n.t("board-move"),
        sum_label: field_label(def.name, board_def.sum, &i18n),
        can_write: user.actor.grant(def.name).write != guanxi_core::Scope::None,
        page: pg,
        plural: def.plural,
        entity_label,
    })
}

/// The columns of `board` as the page shows them.
fn columns(
    def: &'static EntityDef,
    board: &Board,
    state: &ListState,
    lk: &super::cells::Lookups,
    i18n: &I18n,
) -> Vec<BoardColumn> {
    let line_title = |line: &Value| match def.field(board.def.column).map(|f| &f.kind) {
        Some(FieldKind::LineRef { child, .. }) => line
            .as_object()
            .map(|l| (child.title)(l, i18n.code))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let names: Vec<(String, String)> = board
        .columns
        .iter()
        .map(|c| (c.id.clone(), line_title(&c.line)))
        .collect();
    board
        .columns
        .iter()
        .map(|c| {
            let name = line_title(&c.line);
            let cards = c
                .cards
                .iter()
                .map(|rec| {
                    let id = vstr(rec.get("id"));
                    let at = vstr(rec.get(board.def.column));
                    Card {
                        title: (def.title)(rec, i18n.code),
                        href: format!("/{}/{id}", def.plural),
                        version: vstr(rec.get("version")),
                        facts: board
                            .def
                            .card
                            .iter()
                            .map(|k| Fact {
                                lead: *k == board.def.sum,
                                label: field_label(def.name, k, i18n),
                                cell: cell(def, rec, k, lk, i18n),
                            })
                            .filter(|f| !f.cell.text.is_empty())
                            .collect(),
                        moves: names
                            .iter()
                            .map(|(v, l)| Opt {
                                selected: *v == at,
                                value: v.clone(),
                                label: l.clone(),
                            })
                            .collect(),
                        id,
                    }
                })
                .collect::<Vec<_>>();
            let more = (c.count > c.cards.len() as u64).then(|| {
                let mut rest = state.clone_without_cursor();
                for (f, op, v) in &c.conditions {
                    rest.filters
                        .push((f.clone(), op.as_str().to_string(), v.clone()));
                }
                (
                    format!("/{}?{}", def.plural, list_query(&rest)),
                    i18n.t1("board-more", "count", display::group(&c.count.to_string())),
                )
            });
            BoardColumn {
                id: c.id.clone(),
                name,
                state: c.state.clone(),
                open: c.open,
                count: display::group(&c.count.to_string()),
                count_n: c.count,
                sum: c
                    .sums
                    .iter()
                    .map(|s| match s {
                        Value::Object(_) => display::money(s, i18n),
                        other => display::group(&vstr(Some(other))),
                    })
                    .collect::<Vec<_>>()
                    .join(" + "),
                sum_raw: c
                    .sums
                    .iter()
                    .map(|s| match s {
                        Value::Object(m) => {
                            format!("{} {}", vstr(m.get("amount")), vstr(m.get("currency")))
                        }
                        other => vstr(Some(other)),
                    })
                    .collect::<Vec<_>>()
                    .join(" + "),
                cards,
                more,
            }
        })
        .collect()
}

/// A card moved to another column: back to the board saying so, or the board again saying
/// what stopped it (a rule of the stage, a reason the action needs, someone else's change).
async fn move_card(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, form }: Posted,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let prefix = format!("/{}/board", def.plural);
    let back = form_get(&form, "back")
        .filter(|b| b.starts_with(&prefix) && !b.contains("//"))
        .unwrap_or(&prefix)
        .to_string();
    let version = form_get(&form, "version").and_then(|v| v.parse::<i64>().ok());
    let to = form_get(&form, "to").unwrap_or("").to_string();
    let svc = st.core.records(def);
    let result = if to.is_empty() {
        Err(CoreError::field(
            def.board.map_or("", |b| b.column),
            guanxi_core::FieldError::new(guanxi_core::codes::REQUIRED),
        ))
    } else {
        svc.move_on_board(&user.actor, id, version, &to).await
    };
    let back_query = back.split_once('?').map(|(_, q)| q).unwrap_or("");
    let pairs: Vec<(String, String)> = query_pairs(Some(back_query))
        .into_iter()
        .filter(|(k, _)| !["done", "failed", "n", "undo", "add"].contains(&k.as_str()))
        .collect();
    match result {
        Ok(_) => {
            let q = board_query_of(&pairs);
            let sep = if q.is_empty() { "" } else { "&" };
            Redirect::to(&format!("{prefix}?{q}{sep}done=board_move")).into_response()
        }
        Err(e) => {
            let i18n = I18n::for_actor(&user.actor);
            let e = ApiError::from(e);
            let status = e.status;
            let message = refusal(def, &st, &user, id, &to, e, &i18n).await;
            let mut res = board_page(def, &st, &user, &pairs, Some(message)).await;
            if res.status() == StatusCode::OK {
                *res.status_mut() = status;
            }
            res
        }
    }
}

/// A board's query from its pairs, as they came.
fn board_query_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What stopped moving record `id` to line `to`, in the reader's words: which record, where
/// to, and each reason.
async fn refusal(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: Uuid,
    to: &str,
    e: ApiError,
    i18n: &I18n,
) -> String {
    let reasons = match &e.fields {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(k, m)| i18n.named_field_error(&field_label(def.name, k, i18n), m))
            .collect::<Vec<_>>()
            .join(&i18n.t("error-separator")),
        _ => e.message_in(i18n),
    };
    let Ok(rec) = st.core.records(def).get(&user.actor, id).await else {
        return reasons;
    };
    let title = (def.title)(&rec, i18n.code);
    let column = def.board.and_then(|b| def.field(b.column));
    let stage = match column.map(|f| &f.kind) {
        Some(FieldKind::LineRef { via, child }) => {
            let within = def
                .field(via)
                .and_then(|f| match &f.kind {
                    FieldKind::Ref { entity, .. } => st.core.registry.by_name(entity),
                    _ => None,
                })
                .zip(
                    rec.get(*via)
                        .and_then(Value::as_str)
                        .and_then(|s| Uuid::parse_str(s).ok()),
                );
            match within {
                Some((wdef, wid)) => st
                    .core
                    .records(wdef)
                    .get(&user.actor, wid)
                    .await
                    .ok()
                    .and_then(|w| {
                        w.get(child.name)
                            .and_then(Value::as_array)
                            .and_then(|ls| {
                                ls.iter()
                                    .find(|l| l.get("id").and_then(Value::as_str) == Some(to))
                            })
                            .and_then(Value::as_object)
                            .map(|l| (child.title)(l, i18n.code))
                    })
                    .unwrap_or_default(),
                None => String::new(),
            }
        }
        _ => String::new(),
    };
    i18n.t_with(
        "board-move-refused",
        &[("name", title), ("stage", stage), ("reasons", reasons)],
    )
}

/// The list page's link to the board of the same records, for entities that have one.
pub(super) fn board_href(def: &EntityDef, state: &ListState) -> Option<String> {
    def.board.map(|_| {
        let q = list_query(state);
        if q.is_empty() {
            format!("/{}/board", def.plural)
        } else {
            format!("/{}/board?{q}", def.plural)
        }
    })
}
