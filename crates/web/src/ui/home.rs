//! The home page: what a person has to do today and where their deals stand — their tasks late
//! and due today, today's meetings, their open deals by stage with the amounts, the deals
//! expected to close this month, their customers at risk of leaving, and the records they opened
//! lately. Someone who runs other
//! people's records (a manager) sees the same for the team, or for one person of it.
//!
//! Built from the registry: the entity with a calendar gives the tasks and meetings, the one
//! with a board the deals. Every figure is read through the record service in the reader's scope,
//! and days and months are the reader's, in their time zone.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use guanxi_core::identity::users;
use guanxi_core::records::aggregate::{AggregateQuery, Grouping, Measure};
use guanxi_core::records::calendar::Entries;
use guanxi_core::records::{
    BoardDef, CalendarDef, EntityDef, FieldKind, Filter, FilterOp, ListQuery, Record,
};
use guanxi_core::{CoreError, Scope, recent, time_zone};
use serde_json::{Value, json};
use uuid::Uuid;

use super::cells::{Reading, cell, lookups};
use super::{PageCtx, error_page, form_get, render, url};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new().route("/", get(page))
}

/// Lines per list: the page is a glance, each list links to the whole.
const LINES: u64 = 8;
/// At-risk accounts read to rank by risk: more than a person has at once.
const AT_RISK_READ: u64 = 500;
/// Recently viewed records shown.
const RECENT: usize = 8;

/// Whose day the page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Whose {
    Mine,
    /// Everyone the reader runs records of: their team, or everyone.
    Team,
    One(Uuid),
}

/// One choice of the "whose" switch.
pub struct WhoChoice {
    pub value: String,
    pub label: String,
    pub on: bool,
}

/// A line of a list: a task, a meeting, a deal.
pub struct Line {
    pub title: String,
    pub href: String,
    pub when: String,
    pub when_iso: String,
    /// Past due.
    pub late: bool,
    /// Its other facts as people read them (the account, the amount, the owner).
    pub facts: Vec<String>,
}

/// A stage with the reader's open deals in it.
pub struct StageSum {
    pub label: String,
    pub count: u64,
    pub amount: String,
    pub href: String,
    /// Its share of the largest stage's count, in percent, for the bar.
    pub width: u64,
}

/// The open deals of one pipeline, by stage.
pub struct PipelineSums {
    pub name: String,
    pub stages: Vec<StageSum>,
}

/// The lists the entries entity (activities) gives.
pub struct Agenda {
    pub late: Vec<Line>,
    pub today: Vec<Line>,
    pub meetings: Vec<Line>,
    /// Where the whole lists are.
    pub tasks_href: String,
    pub new_href: Option<String>,
}

/// The lists the board entity (opportunities) gives.
pub struct Deals {
    pub pipelines: Vec<PipelineSums>,
    pub open_total: String,
    pub open_count: u64,
    pub closing: Vec<Line>,
    pub closing_href: String,
    pub board_href: String,
}

pub struct RecentLine {
    pub title: String,
    pub href: String,
    pub entity: String,
}

/// The reader's customers whose churn risk is above the alert threshold, riskiest first.
pub struct AtRisk {
    pub lines: Vec<Line>,
    pub href: String,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    page: PageCtx,
    greeting: String,
    today: String,
    whose: Vec<WhoChoice>,
    agenda: Option<Agenda>,
    deals: Option<Deals>,
    at_risk: Option<AtRisk>,
    recent: Vec<RecentLine>,
}

/// The entity whose records fill calendars, and how.
fn entries(st: &State) -> Option<(&'static EntityDef, &'static CalendarDef)> {
    st.core
        .registry
        .all()
        .iter()
        .find_map(|d| d.calendar.map(|c| (*d, c)))
}

/// The entity whose records make a board, and how.
fn board(st: &State) -> Option<(&'static EntityDef, &'static BoardDef)> {
    st.core
        .registry
        .all()
        .iter()
        .find_map(|d| d.board.map(|b| (*d, b)))
}

fn cond(field: &str, op: FilterOp, value: Value) -> Filter {
    Filter::Cond {
        field: field.into(),
        op,
        value,
    }
}

/// The reader's day in their zone: its date and the instants it starts and ends at.
fn today(user: &UiUser) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let zone = user.actor.time_zone;
    let date = time_zone::to_local(Utc::now(), zone).date();
    let at = |d: NaiveDate| {
        // Midnight is skipped in a few zones on their change days; the day then starts at the
        // first instant that exists, an hour later.
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        time_zone::to_utc(midnight, zone)
            .or_else(|_| time_zone::to_utc(midnight + chrono::Duration::hours(1), zone))
            .unwrap_or_else(|_| midnight.and_utc())
    };
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    (date, at(date), at(next))
}

/// Whom the reader may pick on the switch: the people whose records they run besides their own
/// (their team's, or everyone's), by name; empty when they run only their own.
async fn people(
    st: &State,
    user: &UiUser,
    defs: &[&EntityDef],
) -> Result<Vec<(Uuid, String)>, ApiError> {
    let reach = defs
        .iter()
        .map(|d| user.actor.grant(d.name).write)
        .max()
        .unwrap_or(Scope::None);
    if reach < Scope::Team {
        return Ok(Vec::new());
    }
    let mut out: Vec<(Uuid, String)> = users::list(&st.core.db)
        .await?
        .iter()
        .filter(|u| !u.disabled)
        .filter(|u| {
            reach == Scope::All
                || u.id == user.actor.user_id
                || (u.team_id.is_some() && u.team_id == user.actor.team_id)
        })
        .map(|u| (u.id, u.name.clone()))
        .collect();
    if out.len() < 2 {
        return Ok(Vec::new());
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The owner condition for `whose`: none for the whole team, whose records the reader's scope
/// already bounds.
fn owner_filter(whose: Whose, me: Uuid) -> Option<Filter> {
    match whose {
        Whose::Mine => Some(cond("owner_id", FilterOp::Eq, json!(me.to_string()))),
        Whose::One(id) => Some(cond("owner_id", FilterOp::Eq, json!(id.to_string()))),
        Whose::Team => None,
    }
}

/// The owner condition for `whose` as a list page's condition: none for the whole team.
fn owner_cond(whose: Whose) -> Option<(&'static str, &'static str, String)> {
    match whose {
        Whose::Mine => Some(("owner_id", "eq", "me".into())),
        Whose::One(id) => Some(("owner_id", "eq", id.to_string())),
        Whose::Team => None,
    }
}

fn and(mut conds: Vec<Filter>, owner: &Option<Filter>) -> Filter {
    if let Some(o) = owner {
        conds.push(o.clone());
    }
    Filter::And(conds)
}

/// Reads a list of records, each by its title with its `sort` field and `shown` (what its
/// line shows), or nothing when the reader may not read the entity at all.
async fn list(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    filter: Filter,
    sort: &str,
    shown: &[&str],
) -> Result<Vec<Record>, ApiError> {
    let q = ListQuery {
        filter: Some(filter),
        sort: Some(sort.into()),
        limit: LINES,
        fields: Some(def.showing(&[&[sort], shown].concat())),
        ..Default::default()
    };
    match st.core.records(def).list(&user.actor, &q).await {
        Ok(p) => Ok(p.items),
        Err(CoreError::Forbidden { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

fn str_of<'a>(rec: &'a Record, field: &str) -> &'a str {
    rec.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The lines of `recs`, placed in time by `when`, with `facts` read as people read them.
async fn lines(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    recs: &[Record],
    when: &str,
    facts: &'static [&'static str],
    now: DateTime<Utc>,
) -> Result<Vec<Line>, ApiError> {
    let i18n = I18n::for_actor(&user.actor);
    let zone = user.actor.time_zone;
    let (today, _, _) = self::today(user);
    let lk = lookups(st, &user.actor, def, recs, Reading::Only(facts), |_| vec![]).await?;
    Ok(recs
        .iter()
        .map(|rec| {
            let at = str_of(rec, when);
            let instant = DateTime::parse_from_rfc3339(at).ok().map(|t| t.to_utc());
            let date = NaiveDate::parse_from_str(at, "%Y-%m-%d").ok();
            Line {
                title: (def.title)(rec, i18n.code),
                href: format!("/{}/{}", def.plural, str_of(rec, "id")),
                when: match (instant, date) {
                    // Today's times read as times; other days with their date.
                    (Some(t), _) if time_zone::to_local(t, zone).date() == today => {
                        time_zone::to_local(t, zone).format("%H:%M").to_string()
                    }
                    (Some(t), _) => i18n.instant(t),
                    (None, Some(d)) => d.to_string(),
                    _ => String::new(),
                },
                when_iso: at.to_string(),
                late: instant.is_some_and(|t| t < now),
                // The time is shown once, as the line's.
                facts: facts
                    .iter()
                    .filter(|f| **f != when)
                    .map(|f| cell(def, rec, f, &lk, &i18n).text)
                    .filter(|t| !t.is_empty())
                    .collect(),
            }
        })
        .collect())
}

/// The customers at risk among the reader's (or the chosen person's, or the team's): churn risk
/// above the alert threshold, riskiest first, each with its risk, tier and since when.
async fn at_risk(st: &State, user: &UiUser, whose: Whose) -> Result<Option<AtRisk>, ApiError> {
    use guanxi_core::insights::{self, alerts, current};
    let def = insights::subject();
    if user.actor.grant(def.name).read == Scope::None {
        return Ok(None);
    }
    let i18n = I18n::for_actor(&user.actor);
    let owner = owner_filter(whose, user.actor.user_id);
    let risky = cond("insight.churn_risk", FilterOp::Gt, json!(alerts::AT_RISK));
    // Read more than a page shows, then rank by risk: the list sorts by the record's fields.
    let q = ListQuery {
        filter: Some(and(vec![risky], &owner)),
        limit: AT_RISK_READ,
        fields: Some(def.showing(def.title_fields)),
        ..Default::default()
    };
    let recs = match st.core.records(def).list(&user.actor, &q).await {
        Ok(p) => p.items,
        Err(CoreError::Forbidden { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let ids: Vec<Uuid> = recs
        .iter()
        .filter_map(|r| Uuid::parse_str(str_of(r, "id")).ok())
        .collect();
    let reader = st.core.db.reader();
    let found = current::of_accounts(reader, st.core.db.backend(), &ids).await?;
    let raised = alerts::raised_on(reader, st.core.db.backend(), &ids).await?;
    let mut ranked: Vec<(&Record, &current::AccountInsights)> = recs
        .iter()
        .filter_map(|r| {
            let id = Uuid::parse_str(str_of(r, "id")).ok()?;
            Some((r, found.get(&id)?))
        })
        .collect();
    ranked.sort_by(|a, b| {
        let risk = |x: &current::AccountInsights| x.values.churn_risk.unwrap_or(0.0);
        risk(b.1).total_cmp(&risk(a.1))
    });
    let lines = ranked
        .into_iter()
        .take(LINES as usize)
        .map(|(rec, ins)| {
            // Since the day the risk rose above the line, when a refresh saw it rise.
            let since = raised
                .get(&ins.values.account)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let mut facts = vec![i18n.t1(
                "home-at-risk-risk",
                "value",
                super::insights_panel::risk_pct(ins.values.churn_risk.unwrap_or(0.0)),
            )];
            if !ins.values.tier.is_empty() {
                facts.push(i18n.t(&format!("insight-tier-{}", ins.values.tier)));
            }
            Line {
                title: (def.title)(rec, i18n.code),
                href: format!("/{}/{}#insights", def.plural, str_of(rec, "id")),
                when: since.clone(),
                when_iso: since,
                late: false,
                facts,
            }
        })
        .collect();
    // With the insight columns that say why.
    let mut conds = vec![("insight.churn_risk", "gt", alerts::AT_RISK.to_string())];
    conds.extend(owner_cond(whose));
    Ok(Some(AtRisk {
        lines,
        href: url::list_link(
            def.plural,
            &conds,
            "cols=name,insight.tier,insight.churn_risk,insight.clv,insight.lifecycle_stage,owner_id",
        ),
    }))
}

async fn agenda(
    st: &State,
    user: &UiUser,
    whose: Whose,
    team: &[Uuid],
) -> Result<Option<Agenda>, ApiError> {
    let Some((def, cal)) = entries(st) else {
        return Ok(None);
    };
    if user.actor.grant(def.name).read == Scope::None {
        return Ok(None);
    }
    let owner = owner_filter(whose, user.actor.user_id);
    let now = Utc::now();
    let (_, start, end) = today(user);
    let not_done = || cond(cal.done, FilterOp::Eq, json!(false));
    let rfc = |t: DateTime<Utc>| json!(t.to_rfc3339());
    let facts: &'static [&'static str] = &["regarding", "owner_id"];
    let late = list(
        st,
        user,
        def,
        and(
            vec![not_done(), cond(cal.due, FilterOp::Lt, rfc(now))],
            &owner,
        ),
        cal.due,
        facts,
    )
    .await?;
    let today = list(
        st,
        user,
        def,
        and(
            vec![
                not_done(),
                cond(cal.due, FilterOp::Gte, rfc(now)),
                cond(cal.due, FilterOp::Lt, rfc(end)),
            ],
            &owner,
        ),
        cal.due,
        facts,
    )
    .await?;
    // Today's schedule is the calendar's day: what they own and what they attend, still to be
    // done and with a time.
    let people = match whose {
        Whose::Mine => vec![user.actor.user_id],
        Whose::One(id) => vec![id],
        Whose::Team => team.to_vec(),
    };
    let meetings = st
        .core
        .records(def)
        .calendar_entries(
            &user.actor,
            start,
            end,
            &people,
            Entries {
                shown: facts,
                next_timed: Some(LINES),
            },
        )
        .await?;
    let mut open_tasks = vec![(cal.done, "eq", "false".to_string())];
    open_tasks.extend(owner_cond(whose));
    Ok(Some(Agenda {
        late: lines(st, user, def, &late, cal.due, facts, now).await?,
        today: lines(st, user, def, &today, cal.due, facts, now).await?,
        // A meeting that has begun is not late.
        meetings: lines(st, user, def, &meetings, cal.start, facts, now)
            .await?
            .into_iter()
            .map(|l| Line { late: false, ..l })
            .collect(),
        tasks_href: url::list_link(def.plural, &open_tasks, &format!("sort={}", cal.due)),
        new_href: (user.actor.grant(def.name).write != Scope::None)
            .then(|| format!("/{}/new", def.plural)),
    }))
}

/// The stages of every pipeline in their order: the pipeline's title and its stage lines' ids
/// and names. Read from the entity the board's `within` field refers to.
async fn stages(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    b: &BoardDef,
) -> Result<Vec<(String, Vec<(String, String)>)>, ApiError> {
    let i18n = I18n::for_actor(&user.actor);
    let (Some(FieldKind::Ref { entity, .. }), Some(FieldKind::LineRef { child, .. })) = (
        def.field(b.within).map(|f| &f.kind),
        def.field(b.column).map(|f| &f.kind),
    ) else {
        return Ok(Vec::new());
    };
    let Some(within) = st.core.registry.by_name(entity) else {
        return Ok(Vec::new());
    };
    let q = ListQuery {
        limit: 100,
        ..Default::default()
    };
    let page = match st.core.records(within).list(&user.actor, &q).await {
        Ok(p) => p,
        Err(CoreError::Forbidden { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for listed in &page.items {
        // A list leaves the lines out; the record holds them.
        let Some(id) = listed
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            continue;
        };
        let p = match st.core.records(within).get(&user.actor, id).await {
            Ok(p) => p,
            Err(CoreError::NotFound | CoreError::Forbidden { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let lines = p
            .get(child.name)
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| {
                        let l = l.as_object()?;
                        let id = l.get("id")?.as_str()?.to_string();
                        Some((id, (child.title)(l, i18n.code)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(((within.title)(&p, i18n.code), lines));
    }
    Ok(out)
}

async fn deals(st: &State, user: &UiUser, whose: Whose) -> Result<Option<Deals>, ApiError> {
    let Some((def, b)) = board(st) else {
        return Ok(None);
    };
    if user.actor.grant(def.name).read == Scope::None {
        return Ok(None);
    }
    // Records still in play: in the state whose columns show them all.
    let Some(states) = def.states else {
        return Ok(None);
    };
    let i18n = I18n::for_actor(&user.actor);
    let owner = owner_filter(whose, user.actor.user_id);
    let open = || cond(states.field, FilterOp::Eq, json!(b.open_state));
    let q = AggregateQuery {
        group: vec![Grouping {
            field: b.column.into(),
            bucket: None,
        }],
        measures: vec![Measure::Count, Measure::Sum(b.sum.into())],
        filter: Some(and(vec![open()], &owner)),
    };
    let sums = st.core.records(def).aggregate(&user.actor, &q).await?;
    // The whole, grouped by what every open record shares, so amounts add up in the database.
    let whole = AggregateQuery {
        group: vec![Grouping {
            field: states.field.into(),
            bucket: None,
        }],
        ..q.clone()
    };
    let whole = st.core.records(def).aggregate(&user.actor, &whole).await?;
    let (open_count, total) = whole
        .groups
        .first()
        .map(|g| {
            (
                g.values.first().and_then(Value::as_u64).unwrap_or(0),
                g.values.get(1).cloned().unwrap_or(Value::Null),
            )
        })
        .unwrap_or((0, Value::Null));
    // The open deals (of `whose`), with `more` conditions, as a list.
    let list_href = |more: &[(&str, &str, String)], tail: &str| {
        let mut conds = vec![(states.field, "eq", b.open_state.to_string())];
        conds.extend(owner_cond(whose));
        conds.extend(more.iter().cloned());
        url::list_link(def.plural, &conds, tail)
    };
    let mut pipelines = Vec::new();
    let mut widest = 1;
    for (name, lines) in stages(st, user, def, b).await? {
        let mut out = Vec::new();
        for (id, label) in lines {
            let Some(g) = sums
                .groups
                .iter()
                .find(|g| g.keys.first().and_then(Value::as_str) == Some(id.as_str()))
            else {
                continue;
            };
            let count = g.values.first().and_then(Value::as_u64).unwrap_or(0);
            let amount = g.values.get(1).cloned().unwrap_or(Value::Null);
            widest = widest.max(count);
            out.push(StageSum {
                label,
                count,
                amount: super::display::money(&amount, &i18n),
                href: list_href(&[(b.column, "eq", id.clone())], ""),
                width: count,
            });
        }
        if !out.is_empty() {
            pipelines.push(PipelineSums { name, stages: out });
        }
    }
    for p in &mut pipelines {
        for s in &mut p.stages {
            s.width = (s.width * 100 / widest).max(2);
        }
    }
    // The deals expected to close this month, in the reader's calendar.
    let (date, _, _) = today(user);
    let first = date.with_day(1).unwrap_or(date);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let closing_filter = and(
        vec![
            open(),
            cond(b.closed_on, FilterOp::Gte, json!(first.to_string())),
            cond(b.closed_on, FilterOp::Lt, json!(next.to_string())),
        ],
        &owner,
    );
    let facts: &'static [&'static str] = b.card;
    let closing = list(st, user, def, closing_filter, b.closed_on, facts).await?;
    Ok(Some(Deals {
        pipelines,
        open_total: super::display::money(&total, &i18n),
        open_count,
        closing: lines(st, user, def, &closing, b.closed_on, facts, Utc::now())
            .await?
            .into_iter()
            .map(|l| Line { late: false, ..l })
            .collect(),
        closing_href: list_href(
            &[
                (b.closed_on, "gte", first.to_string()),
                (b.closed_on, "lt", next.to_string()),
            ],
            &format!("sort={}", b.closed_on),
        ),
        board_href: format!("/{}/board", def.plural),
    }))
}

async fn page(AxState(st): AxState<State>, user: UiUser, RawQuery(raw): RawQuery) -> Response {
    match build(&st, &user, raw.as_deref()).await {
        Ok(p) => render(&p),
        Err(e) => error_page(&user, e),
    }
}

async fn build(st: &State, user: &UiUser, raw: Option<&str>) -> Result<HomePage, ApiError> {
    let pairs = query_pairs(raw);
    let i18n = I18n::for_actor(&user.actor);
    let defs: Vec<&EntityDef> = [entries(st).map(|e| e.0), board(st).map(|b| b.0)]
        .into_iter()
        .flatten()
        .collect();
    let people = people(st, user, &defs).await?;
    let asked = form_get(&pairs, "who").unwrap_or("me");
    let whose = match asked {
        "team" if !people.is_empty() => Whose::Team,
        id => match Uuid::parse_str(id) {
            Ok(id) if id == user.actor.user_id => Whose::Mine,
            Ok(id) if people.iter().any(|(p, _)| *p == id) => Whose::One(id),
            _ => Whose::Mine,
        },
    };
    let mut whose_choices = Vec::new();
    if !people.is_empty() {
        whose_choices.push(WhoChoice {
            value: "me".into(),
            label: i18n.t("home-whose-mine"),
            on: whose == Whose::Mine,
        });
        whose_choices.push(WhoChoice {
            value: "team".into(),
            label: i18n.t("home-whose-team"),
            on: whose == Whose::Team,
        });
        for (id, name) in people.iter().filter(|(id, _)| *id != user.actor.user_id) {
            whose_choices.push(WhoChoice {
                value: id.to_string(),
                label: name.clone(),
                on: whose == Whose::One(*id),
            });
        }
    }
    let team: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    let agenda = agenda(st, user, whose, &team).await?;
    let deals = deals(st, user, whose).await?;
    let at_risk = at_risk(st, user, whose).await?;
    let recent = recent::list(&st.core, &user.actor, RECENT)
        .await?
        .into_iter()
        .map(|r| RecentLine {
            href: format!("/{}/{}", r.def.plural, r.id),
            entity: i18n.t(&format!("entity-{}", r.def.name)),
            title: r.title,
        })
        .collect();
    let (date, _, _) = today(user);
    let hour = time_zone::to_local(Utc::now(), user.actor.time_zone).format("%H");
    let part = match hour.to_string().parse::<u32>().unwrap_or(12) {
        5..=11 => "home-morning",
        12..=17 => "home-afternoon",
        _ => "home-evening",
    };
    let greeting = i18n.t1(part, "name", &user.actor.name);
    let weekday = i18n.t(&format!(
        "weekday-{}",
        date.weekday().num_days_from_monday()
    ));
    Ok(HomePage {
        page: PageCtx::new(user, i18n.t("home-title"), "home"),
        greeting,
        today: format!("{date} {weekday}"),
        whose: whose_choices,
        agenda,
        deals,
        at_risk,
        recent,
    })
}
