//! An entity's board (`BoardDef`): its records as cards in a column per line of the record they
//! sit within (opportunities by the stages of their pipeline), each column with its count and
//! sum of what the reader may read; the list's filter bar applies. A card moves by its stage
//! select and button (no script needed) or by dragging it (the script posts the same form); the
//! move is the record service's, with every rule of the update or action it is. A move refused
//! for fields the reader fills in on the record's form (what the stage requires) or for the
//! action's inputs asks for them in place, and the confirmed move sets them in the same write.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use guanxi_core::identity::users;
use guanxi_core::records::board::Board;
use guanxi_core::records::def::{ActionDef, FieldDef, FieldKind};
use guanxi_core::records::{EntityDef, JsonMap, ListQuery, Record};
use guanxi_core::{CoreError, FieldErrors};
use serde_json::Value;
use uuid::Uuid;

use super::cells::{Cell, Reading, cell, lookups};
use super::display::{self, field_label};
use super::filter_bar;
use super::options::Opt;
use super::posted::Posted;
use super::record_detail::{action_fields, action_input};
use super::record_form::{FormContext, FormField, input_for, vstr};
use super::record_list::{FilterBar, ListState, field_choices, list_query};
use super::url::enc;
use super::{Flash, PageCtx, error_page, form_get, render};
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
    super::view_routes(def, "board", page, "board-move", move_card).route(
        &format!("/{}/{{id}}/board-move", def.plural),
        get(
            move |s: AxState<State>, i: Path<String>, u: UiUser, q: RawQuery| {
                move_page(def, s, i, u, q)
            },
        ),
    )
}

/// One fact under a card's title.
pub struct Fact {
    /// Shared by every card: a board has a thousand facts and four labels.
    pub label: Arc<str>,
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
    /// The label of the card's move link: "Move “Deal” to…".
    pub move_to: String,
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

/// A move that asks for more than the column: the inputs of the action it is (a lost reason),
/// or fields of the record the stage requires (an amount, a close date) — what was asked and
/// answered so far, and what stopped it.
pub struct Ask {
    pub id: Uuid,
    pub to: String,
    pub version: String,
    /// The action the move is, when it is one.
    pub action: Option<&'static ActionDef>,
    /// What the form sent for the action's inputs.
    pub values: JsonMap,
    /// The record's own fields asked for, in the order of its form.
    pub fields: Vec<&'static FieldDef>,
    /// What the form sent for them, as the record holds values.
    pub field_values: JsonMap,
    /// Why the confirmed move was refused, field by field.
    pub errors: FieldErrors,
}

/// The form a board shows, where it says what stopped a move, for a move that asks for more
/// (closing a deal as lost asks why, a stage requires a close date): the record and the column
/// named, the fields asked for, Confirm (the same move with them) and Cancel.
pub struct CloseForm {
    pub id: String,
    pub heading: String,
    pub hint: String,
    pub to: String,
    pub version: String,
    pub fields: Vec<FormField>,
    /// The record's fields asked for (`ask=<field>`), so the confirmed move reads them again.
    pub asked: Vec<&'static str>,
    /// Reasons that are about no field of the form.
    pub problems: Vec<String>,
}

/// Where a card can move, asked without the script (the card's move link): its record, and
/// every column with the card's own chosen. With the script the link opens a menu of the
/// columns on the page instead, and a drag does the same; each posts the same move.
pub struct MoveForm {
    pub id: String,
    pub heading: String,
    pub version: String,
    pub options: Vec<Opt>,
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
    /// What the last move asks for before it can be made.
    close: Option<CloseForm>,
    /// The columns a card can move to, asked by its move link without the script.
    moving: Option<MoveForm>,
    /// The board's query (`?p=…`), which a card's move link carries back.
    query: String,
    /// "Won and lost: this quarter (1 Oct – 31 Dec)".
    period_note: String,
    /// The board's address, where a move comes back to.
    here: String,
    move_label: String,
    /// The drag handle's hint, the same on every card.
    drag_label: String,
    sum_label: String,
    /// The reader may write records of the entity.
    can_write: bool,
}

/// What a board asks for above its columns.
enum Asking {
    Nothing,
    /// What a move needs before it can be made (a lost reason, a close date).
    Close(Ask),
    /// Where to move this record (its move link, without the script).
    Move(Uuid),
}

/// The query of a board: its conditions, then the record it is within.
fn board_query(state: &ListState, within: &str) -> String {
    let conditions = list_query(state);
    match (conditions.is_empty(), within.is_empty()) {
        (_, true) => conditions,
        (true, false) => format!("p={}", enc(within)),
        (false, false) => format!("{conditions}&p={}", enc(within)),
    }
}

async fn page(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    board_page(def, &st, &user, &pairs, None, Asking::Nothing).await
}

/// A card's move link without the script: the board, asking where the card goes.
async fn move_page(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let pairs = query_pairs(raw.as_deref());
    board_page(def, &st, &user, &pairs, None, Asking::Move(id)).await
}

/// The board as `pairs` ask for it, saying `problem` (what stopped a move) on top.
async fn board_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    pairs: &[(String, String)],
    problem: Option<String>,
    asking: Asking,
) -> Response {
    match build(def, st, user, pairs, problem, asking).await {
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
    asking: Asking,
) -> Result<BoardPage, ApiError> {
    let i18n = I18n::for_actor(&user.actor);
    let svc = st.core.records(def);
    let board_def = def.board.ok_or_else(ApiError::not_found)?;
    let within_def = svc.board_within()?;
    // The filter bar's pickers read the setup lists first: the pipelines among them, with
    // their stages, are the board's own, not read a second time.
    let setup = super::choices::load(&st.core, &user.actor, def.fields, &[]).await?;
    let listed;
    let withins: &[Record] = match setup.records(within_def.name) {
        Some(read) => read,
        None => {
            listed = st
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
            &listed
        }
    };
    let asked = form_get(pairs, "p").unwrap_or("");
    let chosen = withins
        .iter()
        .map(|w| vstr(w.get("id")))
        .find(|id| id == asked)
        .or_else(|| withins.first().map(|w| vstr(w.get("id"))))
        .unwrap_or_default();
    let custom = svc.custom_defs().await?;
    let state = ListState::parse(pairs, def).with_codes(def, &custom, &i18n);
    let board = match withins.iter().find(|w| vstr(w.get("id")) == chosen) {
        Some(within) => {
            match svc.board(&user.actor, within, Some(state.filter())).await {
                Ok(b) => Some(b),
                // A filter the board cannot read: said, and the board shown without it.
                Err(CoreError::BadRequest { code, params, .. }) => {
                    problem.get_or_insert_with(|| {
                        i18n.try_error(code, &params)
                            .unwrap_or_else(|| i18n.t("list-invalid-query"))
                    });
                    Some(svc.board(&user.actor, within, None).await?)
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
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
        Reading::AllUsersAnd(board_def.card),
        |_| vec![],
    )
    .await?;
    let here = format!("/{}/board?{}", def.plural, board_query(&state, &chosen));
    let columns = match &board {
        Some(b) => columns(def, b, &state, &lk, &i18n),
        None => Vec::new(),
    };

    // The filter bar, as the list's.
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
    // A move just made is said by the record's name and the column it went to.
    if let Some(flash) = pg.flash.as_mut().filter(|f| !f.failed)
        && form_get(pairs, "done") == Some("board_move")
        && let Some(moved) = form_get(pairs, "moved").and_then(|m| Uuid::parse_str(m).ok())
        && let Ok(rec) = svc.get(&user.actor, moved).await
    {
        let line = vstr(rec.get(board_def.column));
        let (name, stage) = names(def, st, user, &rec, &line, &i18n).await;
        *flash = Flash {
            text: i18n.t_with("board-moved", &[("name", name), ("stage", stage)]),
            failed: false,
            undo: None,
        };
    }
    let (close, moving) = match asking {
        Asking::Close(ask) => (Some(close_form(def, st, user, ask, &i18n).await?), None),
        Asking::Move(id) => (
            None,
            Some(move_form(def, st, user, id, &columns, &i18n).await?),
        ),
        Asking::Nothing => (None, None),
    };
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
        close,
        moving,
        query: match board_query(&state, &chosen) {
            q if q.is_empty() => q,
            q => format!("?{q}"),
        },
        period_note,
        here,
        move_label: i18n.t("board-move"),
        drag_label: i18n.t("board-drag"),
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
    // Each card shows the same facts: their labels are looked up once, not per card.
    let labels: Vec<Arc<str>> = board
        .def
        .card
        .iter()
        .map(|k| field_label(def.name, k, i18n).into())
        .collect();
    let move_to = i18n.t1_each("board-move-to", "name");
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
                    let title = (def.title)(rec, i18n.code);
                    Card {
                        move_to: move_to.with(&title),
                        title,
                        href: format!("/{}/{id}", def.plural),
                        version: vstr(rec.get("version")),
                        facts: board
                            .def
                            .card
                            .iter()
                            .zip(&labels)
                            .map(|(k, label)| Fact {
                                lead: *k == board.def.sum,
                                label: label.clone(),
                                cell: cell(def, rec, k, lk, i18n),
                            })
                            .filter(|f| !f.cell.text.is_empty())
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
/// what stopped it (someone else's change, a rule no field of the form satisfies), or asking
/// for what the move needs — the action's inputs (a lost reason) and the record's fields the
/// stage requires (a close date) — the same move, confirmed with them (`a.<input>`,
/// `ask=<field>` with `f.<field>` as the record form names it, `confirm`), makes it.
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
    let version = form_get(&form, "version").unwrap_or("").to_string();
    let expected = version.parse::<i64>().ok();
    let to = form_get(&form, "to").unwrap_or("").to_string();
    let confirmed = form_get(&form, "confirm").is_some();
    let svc = st.core.records(def);
    let back_query = back.split_once('?').map(|(_, q)| q).unwrap_or("");
    let pairs: Vec<(String, String)> = query_pairs(Some(back_query))
        .into_iter()
        .filter(|(k, _)| !["done", "failed", "n", "undo", "add", "moved"].contains(&k.as_str()))
        .collect();
    let refused = |e: CoreError| {
        let (st, user, pairs, to) = (&st, &user, &pairs, &to);
        async move {
            let i18n = I18n::for_actor(&user.actor);
            let e = ApiError::from(e);
            let status = e.status;
            let message = refusal(def, st, user, id, to, e, &i18n).await;
            let mut res = board_page(def, st, user, pairs, Some(message), Asking::Nothing).await;
            if res.status() == StatusCode::OK {
                *res.status_mut() = status;
            }
            res
        }
    };
    if to.is_empty() {
        return refused(CoreError::field(
            def.board.map_or("", |b| b.column),
            guanxi_core::FieldError::new(guanxi_core::codes::REQUIRED),
        ))
        .await;
    }
    // What the move is, and what it asks for beyond the column.
    let action = match svc.board_move_action(&user.actor, id, &to).await {
        Ok(a) => a,
        Err(e) => return refused(e).await,
    };
    let asks: Vec<&'static FieldDef> = action.map(|a| svc.board_move_inputs(a)).unwrap_or_default();
    let input = action_input(asks.iter().copied(), &form);
    let is_input = |k: &str| asks.iter().any(|f| f.name == k);
    // The record's own fields a form of this move asked for (what the stage requires), as
    // typed: they go with the move, in the same write.
    let mut fields: Vec<&'static FieldDef> = Vec::new();
    for name in form.iter().filter(|(k, _)| k == "ask").map(|(_, v)| v) {
        if let Some(f) = svc.board_move_field(name)
            && !is_input(f.name)
            && !fields.iter().any(|g| g.name == f.name)
        {
            fields.push(f);
        }
    }
    let read = crate::forms::record_from_form(def, &[], &form, user.actor.time_zone);
    let field_values: JsonMap = fields
        .iter()
        .filter_map(|f| Some((f.name.to_string(), read.value.get(f.name)?.clone())))
        .collect();
    let ask = |fields: Vec<&'static FieldDef>, errors: FieldErrors| Ask {
        id,
        to: to.clone(),
        version: version.clone(),
        action,
        values: input.clone(),
        fields,
        field_values: field_values.clone(),
        errors,
    };
    let asked_again = |res: Response| {
        let mut res = res;
        if res.status() == StatusCode::OK {
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        res
    };
    // What only the form can tell is wrong with a field (a time that is none): asked again.
    let unread: FieldErrors = read
        .errors
        .into_iter()
        .filter(|(k, _)| fields.iter().any(|f| f.name == k))
        .collect();
    if !unread.is_empty() {
        let res = board_page(
            def,
            &st,
            &user,
            &pairs,
            None,
            Asking::Close(ask(fields, unread)),
        )
        .await;
        return asked_again(res);
    }
    // A first drop on a column whose action needs something not given: asked, nothing tried.
    let missing = asks.iter().any(|f| {
        f.required
            && input
                .get(f.name)
                .is_none_or(guanxi_core::records::values::blank)
    });
    if !confirmed && missing {
        return board_page(
            def,
            &st,
            &user,
            &pairs,
            None,
            Asking::Close(ask(fields, FieldErrors::new())),
        )
        .await;
    }
    match svc
        .move_on_board(&user.actor, id, expected, &to, &input, &field_values)
        .await
    {
        Ok(_) => {
            let q = board_query_of(&pairs);
            let sep = if q.is_empty() { "" } else { "&" };
            Redirect::to(&format!("{prefix}?{q}{sep}done=board_move&moved={id}")).into_response()
        }
        // What the move's fields are refused for (the rules want a reason, the stage a close
        // date): asked for, each beside its field — the action's inputs, and the fields of the
        // record the reader fills in on its form.
        Err(CoreError::Validation(errors))
            if errors
                .keys()
                .any(|k| is_input(k) || svc.board_move_field(k).is_some()) =>
        {
            for k in errors.keys() {
                if !is_input(k)
                    && let Some(f) = svc.board_move_field(k)
                    && !fields.iter().any(|g| g.name == f.name)
                {
                    fields.push(f);
                }
            }
            // In the order of the record's form.
            fields.sort_by_key(|f| def.fields.iter().position(|g| g.name == f.name));
            // A first drop asks for the action's inputs without faulting them yet.
            let errors: FieldErrors = errors
                .into_iter()
                .filter(|(k, _)| confirmed || !is_input(k))
                .collect();
            let res = board_page(
                def,
                &st,
                &user,
                &pairs,
                None,
                Asking::Close(ask(fields, errors)),
            )
            .await;
            if confirmed { asked_again(res) } else { res }
        }
        Err(e) => refused(e).await,
    }
}

/// Where record `id` can move: every column of the board, its own chosen.
async fn move_form(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: Uuid,
    columns: &[BoardColumn],
    i18n: &I18n,
) -> Result<MoveForm, ApiError> {
    let rec = st.core.records(def).get(&user.actor, id).await?;
    let at = def
        .board
        .map(|b| vstr(rec.get(b.column)))
        .unwrap_or_default();
    let title = (def.title)(&rec, i18n.code);
    Ok(MoveForm {
        id: id.to_string(),
        heading: i18n.t1("board-move-to", "name", title.as_str()),
        version: vstr(rec.get("version")),
        options: columns
            .iter()
            .map(|c| Opt {
                selected: c.id == at,
                value: c.id.clone(),
                label: c.name.clone(),
            })
            .collect(),
    })
}

/// The form asking what `ask`'s move needs, in the reader's words.
async fn close_form(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    ask: Ask,
    i18n: &I18n,
) -> Result<CloseForm, ApiError> {
    let svc = st.core.records(def);
    let rec = svc.get(&user.actor, ask.id).await?;
    let (name, stage) = names(def, st, user, &rec, &ask.to, i18n).await;
    let inputs = ask
        .action
        .map(|a| svc.board_move_inputs(a))
        .unwrap_or_default();
    let choices = super::choices::load(&st.core, &user.actor, def.fields, &inputs).await?;
    let people: Vec<(String, String)> = users::list(&st.core.db)
        .await?
        .iter()
        .filter(|u| !u.disabled)
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    let titles = guanxi_core::refs::Titles::default();
    let cx = FormContext {
        titles: &titles,
        choices: &choices,
        users: &people,
        registry: st.core.registry,
        i18n,
    };
    let mut fields = action_fields(def, inputs.iter().copied(), &ask.values, &cx);
    // The record's fields, with the control its form has for them, holding what was typed or
    // else what the record holds.
    for f in &ask.fields {
        let mut ff = input_for(
            format!("f.{}", f.name),
            field_label(def.name, f.name, i18n),
            &f.kind,
            choices.of(f.name),
            ask.field_values.get(f.name).or_else(|| rec.get(f.name)),
            &cx,
        );
        // Asked for because the move needs it.
        ff.required = true;
        fields.push(ff);
    }
    let mut problems = Vec::new();
    for (k, e) in &ask.errors {
        match fields
            .iter_mut()
            .find(|f| f.name == format!("a.{k}") || f.name == format!("f.{k}"))
        {
            Some(f) => f.error = Some(i18n.field_error(e)),
            None => problems.push(i18n.named_field_error(&field_label(def.name, k, i18n), e)),
        }
    }
    let hint = match ask.action {
        Some(action) => i18n.t1(
            "board-close-hint",
            "action",
            i18n.t(&format!("action-{}-{}", def.name, action.name)),
        ),
        None => i18n.t1("board-fields-hint", "stage", stage.clone()),
    };
    Ok(CloseForm {
        id: ask.id.to_string(),
        heading: i18n.t_with("board-close-heading", &[("name", name), ("stage", stage)]),
        hint,
        to: ask.to,
        version: ask.version,
        fields,
        asked: ask.fields.iter().map(|f| f.name).collect(),
        problems,
    })
}

/// A board's query from its pairs, as they came.
fn board_query_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Record `rec`'s name and the name of the board's column `line` (a stage of its pipeline),
/// as the reader reads them.
async fn names(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    rec: &Record,
    line: &str,
    i18n: &I18n,
) -> (String, String) {
    let title = (def.title)(rec, i18n.code);
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
                                    .find(|l| l.get("id").and_then(Value::as_str) == Some(line))
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
    (title, stage)
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
    let (name, stage) = names(def, st, user, &rec, to, i18n).await;
    i18n.t_with(
        "board-move-refused",
        &[("name", name), ("stage", stage), ("reasons", reasons)],
    )
}
