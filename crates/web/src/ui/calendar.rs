//! An entity's calendar (`/{plural}/calendar`): month, week and day; the reader's own, a
//! colleague's or their team's; entries placed in the reader's time zone. Built from the
//! registry: an entity that declares a [`CalendarDef`] gets one. Clicking an empty slot opens
//! the new-record form prefilled; dragging an entry (our script) posts
//! `/{plural}/{id}/reschedule`, which goes through the record service like any edit.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, NaiveDateTime, Timelike, Utc};
use guanxi_core::identity::users;
use guanxi_core::records::calendar::{Entries, default_length, span};
use guanxi_core::records::{Access, CalendarDef, EntityDef, Record};
use guanxi_core::time_zone::{self, Tz};
use guanxi_core::{CoreError, Scope};
use serde_json::Value;
use uuid::Uuid;

use super::cells::{Reading, cell, lookups};
use super::display::field_label;
use super::options::Opt;
use super::posted::Posted;
use super::url::enc;
use super::{Flash, PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;
use crate::redirect::local_target;

/// Hours the week and day views show at least; earlier and later ones when entries fall there.
const FIRST_HOUR: u32 = 7;
const LAST_HOUR: u32 = 21;
/// Entries a month's day shows before "n more".
const MONTH_SHOWN: usize = 3;
/// Colours for the people of a team's calendar, in turn (`.c0` … `.c7` in the style sheet).
const COLOURS: usize = 8;
/// Entries side by side at most (`.lane-<i>-<n>` in the style sheet); more share the last.
const MAX_LANES: usize = 4;
/// Minutes of a grid row (`.r<n>` and `.s<n>` in the style sheet place entries by row).
const ROW_MINUTES: i64 = 15;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.calendar.is_none() || def.access != Access::Records {
        return Router::new();
    }
    super::view_routes(def, "calendar", page, "reschedule", reschedule)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Month,
    Week,
    Day,
}

impl View {
    fn code(self) -> &'static str {
        match self {
            View::Month => "month",
            View::Week => "week",
            View::Day => "day",
        }
    }
}

/// Whose calendar: the reader's, a colleague's, or the reader's team's.
#[derive(Clone, PartialEq, Eq)]
enum Whose {
    Me,
    Team,
    User(Uuid),
}

impl Whose {
    fn code(&self) -> String {
        match self {
            Whose::Me => "me".into(),
            Whose::Team => "team".into(),
            Whose::User(u) => u.to_string(),
        }
    }
}

/// What the address asks for.
struct Ask {
    view: View,
    date: NaiveDate,
    whose: Whose,
}

fn ask(raw: Option<&str>, zone: Tz) -> Ask {
    let pairs = query_pairs(raw);
    let get = |k: &str| form_get(&pairs, k).unwrap_or("");
    let view = match get("view") {
        "month" => View::Month,
        "day" => View::Day,
        _ => View::Week,
    };
    let today = time_zone::to_local(Utc::now(), zone).date();
    let date = NaiveDate::parse_from_str(get("date"), "%Y-%m-%d").unwrap_or(today);
    let whose = match get("who") {
        "team" => Whose::Team,
        "" | "me" => Whose::Me,
        s => Uuid::parse_str(s).map(Whose::User).unwrap_or(Whose::Me),
    };
    Ask { view, date, whose }
}

/// Monday of the week of `d`.
fn monday(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The days a view shows.
fn days_of(view: View, date: NaiveDate) -> Vec<NaiveDate> {
    let (first, n) = match view {
        View::Day => (date, 1),
        View::Week => (monday(date), 7),
        View::Month => {
            let first = date.with_day(1).unwrap_or(date);
            let start = monday(first);
            let next = first
                .checked_add_months(Months::new(1))
                .unwrap_or(first + Days::new(31));
            let last = next - Days::new(1);
            let end = monday(last) + Days::new(6);
            (start, (end - start).num_days() + 1)
        }
    };
    (0..n)
        .map(|i| first + Days::new(u64::try_from(i).unwrap_or(0)))
        .collect()
}

/// The instant a wall-clock time in `zone` stands for; a skipped hour counts from UTC.
fn utc_of(t: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    time_zone::to_utc(t, zone).unwrap_or_else(|_| t.and_utc())
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Whether an entry drawn on day `d` from `ls` to `le` runs through all of it: drawn in the
/// all-day strip ([`CalEntry::all_day`]), not on the hours.
fn through_day(d: NaiveDate, ls: NaiveDateTime, le: NaiveDateTime) -> bool {
    ls <= midnight(d) && le >= midnight(d + Duration::days(1))
}

/// The date the previous / next button goes to.
fn step(view: View, date: NaiveDate, forward: bool) -> NaiveDate {
    let moved = match (view, forward) {
        (View::Month, true) => date.checked_add_months(Months::new(1)),
        (View::Month, false) => date.checked_sub_months(Months::new(1)),
        (View::Week, true) => date.checked_add_days(Days::new(7)),
        (View::Week, false) => date.checked_sub_days(Days::new(7)),
        (View::Day, true) => date.checked_add_days(Days::new(1)),
        (View::Day, false) => date.checked_sub_days(Days::new(1)),
    };
    moved.unwrap_or(date)
}

/// An entry as a view draws it.
#[derive(Clone)]
pub struct CalEntry {
    pub id: String,
    pub href: String,
    pub title: String,
    /// `10:00–11:00`, or the due time of a task.
    pub time: String,
    /// The start's wall-clock time, `10:00`, which a move to another day keeps.
    pub hhmm: String,
    pub kind: String,
    pub kind_label: String,
    pub done: bool,
    pub owner: String,
    /// Its owner's colour (`c<n>`).
    pub colour: usize,
    pub version: i64,
    /// The reader may move it.
    pub movable: bool,
    /// Week and day views: its first grid row of its day's column (from 1), how many rows it
    /// spans, and its lane where entries overlap (`lane-<i>-<n>`).
    pub row: i64,
    pub span: i64,
    pub lane: String,
    /// Minutes long, for the script to keep while dragging.
    pub minutes: i64,
    /// Drawn on a day it runs into from an earlier one, not the day it starts on.
    pub continued: bool,
    /// Week and day views: it runs through the whole day (a trip's or a project's middle
    /// days), so it is drawn in the strip above the hours rather than as a column of them,
    /// which would cover the day's other entries and the empty slots one clicks to add one.
    pub all_day: bool,
}

/// A day of a view.
pub struct Day {
    pub iso: String,
    /// `Mon 7` / `周一 7日`.
    pub label: String,
    pub number: u32,
    pub today: bool,
    /// A day of the previous or next month in the month view.
    pub outside: bool,
    pub entries: Vec<CalEntry>,
    /// Week and day views: the entries that run through the whole day ([`CalEntry::all_day`]),
    /// for the strip above the hours. They are in `entries` too, for the phone's list of days.
    pub all_day: Vec<CalEntry>,
    /// Month view: entries beyond those shown.
    pub more: usize,
    pub day_href: String,
    /// `Mon` / `周一`, which the script's label of each empty half hour starts with.
    pub weekday: String,
    /// Where "new" for the day goes (its first hour), when the reader may create, and how its
    /// link is labelled.
    pub new_href: Option<String>,
    pub new_label: String,
}

/// What the script needs to draw the week and day views' empty half hours as links to a new
/// meeting at that time (`app.js`): a week has three hundred of them, which as links written
/// by the server were a fifth of the page's work. Without the script, each day's "+" link
/// opens a meeting at its first hour.
pub struct Slots {
    /// `/activities/new?kind=meeting`
    pub new: String,
    /// The parameters the form takes the start and the end from.
    pub start: &'static str,
    pub end: &'static str,
    /// "New meeting at …", with U+E000 where the day and time go.
    pub label: String,
    /// Half hours in a day's column, from its first hour.
    pub rows: u32,
}

/// An hour line of the week and day views.
pub struct HourLine {
    pub row: i64,
    pub label: String,
}

pub struct Legend {
    pub name: String,
    pub colour: usize,
}

#[derive(Template)]
#[template(path = "records/calendar.html")]
pub struct CalendarPage {
    pub page: PageCtx,
    pub heading: String,
    pub view: &'static str,
    pub views: Vec<(&'static str, String, String, bool)>,
    pub prev_href: String,
    pub next_href: String,
    pub today_href: String,
    pub plural: &'static str,
    pub who_options: Vec<Opt>,
    pub view_code: &'static str,
    pub date_iso: String,
    pub weekdays: Vec<String>,
    pub days: Vec<Day>,
    pub weeks: Vec<Vec<usize>>,
    pub hours: Vec<HourLine>,
    pub first_hour: u32,
    pub legend: Vec<Legend>,
    /// Where the page itself is, for the reschedule form to come back to.
    pub back: String,
    pub can_create: bool,
    pub empty_label: String,
    /// Whether any day of the week or day view has an entry running through it, and how the
    /// strip that holds them is labelled.
    pub has_all_day: bool,
    pub all_day_label: String,
    /// The week and day views' empty half hours, when the reader may create.
    pub slots: Option<Slots>,
}

fn weekday_label(i18n: &I18n, d: NaiveDate) -> String {
    i18n.t(&format!(
        "calendar-weekday-{}",
        d.weekday().number_from_monday()
    ))
}

fn date_label(i18n: &I18n, d: NaiveDate) -> String {
    i18n.t_with(
        "calendar-date",
        &[
            ("year", d.year().to_string()),
            ("month", i18n.t(&format!("calendar-month-{}", d.month()))),
            ("day", d.day().to_string()),
        ],
    )
}

fn heading(i18n: &I18n, view: View, date: NaiveDate, days: &[Day]) -> String {
    match view {
        View::Month => i18n.t_with(
            "calendar-heading-month",
            &[
                ("year", date.year().to_string()),
                ("month", i18n.t(&format!("calendar-month-{}", date.month()))),
            ],
        ),
        View::Week => {
            let first = days
                .first()
                .and_then(|d| NaiveDate::parse_from_str(&d.iso, "%Y-%m-%d").ok());
            let last = days
                .last()
                .and_then(|d| NaiveDate::parse_from_str(&d.iso, "%Y-%m-%d").ok());
            match (first, last) {
                (Some(f), Some(l)) => i18n.t_with(
                    "calendar-heading-week",
                    &[("from", date_label(i18n, f)), ("to", date_label(i18n, l))],
                ),
                _ => date_label(i18n, date),
            }
        }
        View::Day => format!("{} {}", date_label(i18n, date), weekday_label(i18n, date)),
    }
}

/// The people whose entries a calendar shows, with their names, in order.
async fn people(st: &State, user: &UiUser, whose: &Whose) -> Result<Vec<(Uuid, String)>, ApiError> {
    let all = users::list(&st.core.db).await?;
    let me = user.actor.user_id;
    Ok(match whose {
        Whose::Me => vec![(me, user.actor.name.clone())],
        Whose::User(id) => all
            .iter()
            .filter(|u| u.id == *id)
            .map(|u| (u.id, u.name.clone()))
            .collect(),
        Whose::Team => {
            let mut team: Vec<(Uuid, String)> = all
                .iter()
                .filter(|u| {
                    !u.disabled
                        && (u.id == me
                            || (user.actor.team_id.is_some() && u.team_id == user.actor.team_id))
                })
                .map(|u| (u.id, u.name.clone()))
                .collect();
            // The reader first, then the others as listed.
            team.sort_by_key(|(id, _)| *id != me);
            team
        }
    })
}

async fn page(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let ask = ask(raw.as_deref(), user.actor.time_zone);
    let refusal = Refusal::of_query(&user, raw.as_deref());
    match calendar_page(def, &st, &user, &ask, refusal).await {
        Ok(r) => r,
        Err(e) => error_page(&user, e),
    }
}

/// A local time to the minute as a query parameter's value: `2026-12-07T16%3A30` (the form a
/// `datetime-local` input sends, with its colon encoded).
fn minute_param(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}%3A{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn href(plural: &str, view: View, date: NaiveDate, whose: &Whose) -> String {
    let mut h = format!(
        "/{plural}/calendar?view={}&date={}",
        view.code(),
        date.format("%Y-%m-%d")
    );
    if *whose != Whose::Me {
        h.push_str(&format!("&who={}", whose.code()));
    }
    h
}

async fn calendar_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    ask: &Ask,
    refused: Option<Refusal>,
) -> Result<Response, ApiError> {
    let Some(cal) = def.calendar else {
        return Err(CoreError::NotFound.into());
    };
    let i18n = I18n::for_actor(&user.actor);
    let zone = user.actor.time_zone;
    let grant = user.actor.grant(def.name);
    let can_create = grant.write != Scope::None;
    let dates = days_of(ask.view, ask.date);
    let (Some(first), Some(last)) = (dates.first().copied(), dates.last().copied()) else {
        return Err(CoreError::NotFound.into());
    };
    let from = utc_of(midnight(first), zone);
    let to = utc_of(midnight(last + Days::new(1)), zone);
    let people = people(st, user, &ask.whose).await?;
    let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    let records = st
        .core
        .records(def)
        .calendar_entries(&user.actor, from, to, &ids, Entries::default())
        .await?;
    let lk = lookups(
        st,
        &user.actor,
        def,
        &records,
        Reading::Only(&["owner_id"]),
        |_| vec![],
    )
    .await?;
    let team_view = ask.whose == Whose::Team;
    let colour_of = |owner: &str| -> usize {
        if !team_view {
            return 0;
        }
        let i = people
            .iter()
            .position(|(id, _)| id.to_string() == owner)
            .unwrap_or(0);
        i % COLOURS
    };
    let today = time_zone::to_local(Utc::now(), zone).date();

    // Each record as an entry of the day it starts on, in the reader's zone.
    let mut placed: Vec<(NaiveDate, NaiveDateTime, NaiveDateTime, CalEntry)> = Vec::new();
    for rec in &records {
        let Some((start, end)) = span(cal, rec) else {
            continue;
        };
        let end = end.unwrap_or(start + default_length());
        let (ls, le) = (
            time_zone::to_local(start, zone),
            time_zone::to_local(end, zone),
        );
        let entry = entry(
            def,
            cal,
            rec,
            ls,
            le,
            start,
            end,
            &lk,
            &i18n,
            &colour_of,
            (grant.write, user.actor.user_id),
        );
        // An entry that runs past midnight is also drawn on each later day it covers, from that
        // day's start: a trip that began before the view is on the days it still runs.
        let last_day = (le - Duration::nanoseconds(1)).date();
        for d in dates.iter().filter(|d| **d > ls.date() && **d <= last_day) {
            let mut more = entry.clone();
            more.movable = false;
            more.continued = true;
            placed.push((
                *d,
                midnight(*d),
                le.min(midnight(*d + Duration::days(1))),
                more,
            ));
        }
        placed.push((ls.date(), ls, le, entry));
    }

    // The hours the grid shows.
    let mut first_hour = FIRST_HOUR;
    let mut last_hour = LAST_HOUR;
    for (d, ls, le, e) in &placed {
        // An entry through the whole day is drawn above the hours, and widens none.
        if dates.contains(d) && !through_day(*d, *ls, *le) {
            // A day an entry runs into from the one before starts the grid no earlier.
            if !e.continued {
                first_hour = first_hour.min(ls.hour());
            }
            let end_hour = if le.date() > *d {
                24
            } else {
                le.hour() + u32::from(le.minute() > 0)
            };
            last_hour = last_hour.max(end_hour.min(24));
        }
    }

    // Each entry moves once into its day's list (a day's entries taken out of one list one by
    // one moved the rest of the list each time: a sixth of a busy team's week).
    let mut by_day: Vec<Vec<(NaiveDateTime, NaiveDateTime, CalEntry)>> =
        dates.iter().map(|_| Vec::new()).collect();
    for (d, ls, le, e) in placed {
        if let Some(day) = dates.iter().position(|x| *x == d) {
            by_day[day].push((ls, le, e));
        }
    }
    let new_on_label = i18n.t1_each("calendar-new-on", "day");
    let mut days: Vec<Day> = Vec::new();
    for (d, mut entries) in dates.iter().zip(by_day) {
        entries.sort_by_key(|(ls, _, _)| *ls);
        for (ls, le, e) in entries.iter_mut() {
            e.all_day = ask.view != View::Month && through_day(*d, *ls, *le);
        }
        let all_day: Vec<CalEntry> = entries
            .iter()
            .filter(|(_, _, e)| e.all_day)
            .map(|(_, _, e)| e.clone())
            .collect();
        // The hours' grid lays out the others only: a whole day's entry is in the strip.
        let mut timed: Vec<(NaiveDateTime, NaiveDateTime, CalEntry)> = Vec::new();
        let mut whole: Vec<(NaiveDateTime, NaiveDateTime, CalEntry)> = Vec::new();
        for x in entries {
            if x.2.all_day {
                whole.push(x);
            } else {
                timed.push(x);
            }
        }
        lay_out(&mut timed, *d, first_hour, last_hour);
        let mut entries = whole;
        entries.extend(timed);
        // Written directly rather than through chrono's format strings, which parse their
        // pattern on every call: a week view has a link for every half hour of every day.
        let new_at = |t: NaiveDateTime| {
            let end = t + Duration::hours(1);
            format!(
                "/{}/new?{}={}&{}={}&{}={}",
                def.plural,
                cal.kind,
                cal.new_kind,
                cal.start,
                minute_param(t),
                cal.end,
                minute_param(end)
            )
        };
        let weekday = weekday_label(&i18n, *d);
        let total = entries.len();
        let mut entries: Vec<CalEntry> = entries.into_iter().map(|(_, _, e)| e).collect();
        let more = if ask.view == View::Month && total > MONTH_SHOWN {
            entries.truncate(MONTH_SHOWN);
            total - MONTH_SHOWN
        } else {
            0
        };
        days.push(Day {
            iso: d.format("%Y-%m-%d").to_string(),
            label: format!("{weekday} {}", d.day()),
            number: d.day(),
            today: *d == today,
            outside: ask.view == View::Month && d.month() != ask.date.month(),
            entries,
            all_day,
            more,
            day_href: href(def.plural, View::Day, *d, &ask.whose),
            new_label: new_on_label.with(&format!("{weekday} {}", d.day())),
            weekday,
            new_href: can_create
                .then(|| new_at(midnight(*d) + Duration::hours(i64::from(FIRST_HOUR.max(9))))),
        });
    }
    let weeks = (0..days.len())
        .collect::<Vec<_>>()
        .chunks(7)
        .map(<[usize]>::to_vec)
        .collect();

    let mut who_options = vec![Opt {
        value: "me".into(),
        label: i18n.t("calendar-mine"),
        selected: ask.whose == Whose::Me,
    }];
    if user.actor.team_id.is_some() {
        who_options.push(Opt {
            value: "team".into(),
            label: i18n.t("calendar-team"),
            selected: ask.whose == Whose::Team,
        });
    }
    for u in users::list(&st.core.db).await?.iter() {
        if u.disabled || u.id == user.actor.user_id {
            continue;
        }
        who_options.push(Opt {
            value: u.id.to_string(),
            selected: ask.whose == Whose::User(u.id),
            label: u.name.clone(),
        });
    }
    let legend = if team_view {
        people
            .iter()
            .map(|(id, name)| Legend {
                name: name.clone(),
                colour: colour_of(&id.to_string()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let title = i18n.t("calendar-title");
    let mut pagectx = PageCtx::new(user, title, "calendar");
    if let Some(refusal) = refused {
        pagectx.flash = Some(Flash {
            text: refusal.text(def, st, user, &i18n).await,
            failed: true,
            undo: None,
        });
    }
    let here = href(def.plural, ask.view, ask.date, &ask.whose);
    let views = [View::Month, View::Week, View::Day]
        .into_iter()
        .map(|v| {
            (
                v.code(),
                i18n.t(&format!("calendar-view-{}", v.code())),
                href(def.plural, v, ask.date, &ask.whose),
                v == ask.view,
            )
        })
        .collect();
    let has_all_day = days.iter().any(|d| !d.all_day.is_empty());
    let res = render(&CalendarPage {
        heading: heading(&i18n, ask.view, ask.date, &days),
        view: ask.view.code(),
        views,
        prev_href: href(
            def.plural,
            ask.view,
            step(ask.view, ask.date, false),
            &ask.whose,
        ),
        next_href: href(
            def.plural,
            ask.view,
            step(ask.view, ask.date, true),
            &ask.whose,
        ),
        today_href: href(def.plural, ask.view, today, &ask.whose),
        plural: def.plural,
        who_options,
        view_code: ask.view.code(),
        date_iso: ask.date.format("%Y-%m-%d").to_string(),
        weekdays: (0..7)
            .map(|i| weekday_label(&i18n, monday(today) + Days::new(i)))
            .collect(),
        days,
        weeks,
        hours: (first_hour..last_hour)
            .map(|h| HourLine {
                row: 1 + i64::from(h - first_hour) * 60 / ROW_MINUTES,
                label: format!("{h:02}:00"),
            })
            .collect(),
        first_hour,
        legend,
        back: here,
        can_create,
        empty_label: i18n.t("calendar-empty-day"),
        has_all_day,
        all_day_label: i18n.t("calendar-all-day"),
        slots: (can_create && ask.view != View::Month).then(|| Slots {
            new: format!("/{}/new?{}={}", def.plural, cal.kind, cal.new_kind),
            start: cal.start,
            end: cal.end,
            label: i18n
                .t1_each("calendar-new-at", "time")
                .pattern()
                .to_string(),
            rows: (last_hour - first_hour) * 2,
        }),
        page: pagectx,
    });
    Ok(res)
}

#[allow(clippy::too_many_arguments)]
fn entry(
    def: &'static EntityDef,
    cal: &CalendarDef,
    rec: &Record,
    ls: NaiveDateTime,
    le: NaiveDateTime,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    lk: &super::cells::Lookups,
    i18n: &I18n,
    colour_of: &dyn Fn(&str) -> usize,
    (write, me): (Scope, Uuid),
) -> CalEntry {
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let owner_id = rec.get("owner_id").and_then(Value::as_str).unwrap_or("");
    let timed = rec.get(cal.start).is_some_and(|v| !v.is_null());
    let time = if timed && le > ls && le.date() != ls.date() {
        format!("{}–{}", ls.format("%m-%d %H:%M"), le.format("%m-%d %H:%M"))
    } else if timed && le > ls {
        format!("{}–{}", ls.format("%H:%M"), le.format("%H:%M"))
    } else {
        ls.format("%H:%M").to_string()
    };
    // Whether the reader may move it: a hint for the page; the engine decides, and a move it
    // refuses is explained on the page.
    let movable = match write {
        Scope::None => false,
        Scope::Own => Uuid::parse_str(owner_id).ok() == Some(me),
        _ => true,
    };
    CalEntry {
        href: format!("/{}/{id}", def.plural),
        title: (def.title)(rec, i18n.code),
        time,
        hhmm: ls.format("%H:%M").to_string(),
        kind: rec
            .get(cal.kind)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        kind_label: cell(def, rec, cal.kind, lk, i18n).text,
        done: rec.get(cal.done).and_then(Value::as_bool) == Some(true),
        owner: cell(def, rec, "owner_id", lk, i18n).text,
        colour: colour_of(owner_id),
        version: rec.get("version").and_then(Value::as_i64).unwrap_or(0),
        movable,
        row: 1,
        span: 2,
        lane: "lane-0-1".into(),
        minutes: (end - start).num_minutes().max(0),
        continued: false,
        all_day: false,
        id,
    }
}

/// Places a day's entries in its column: their rows from their times, and side by side (in
/// lanes) where they overlap.
fn lay_out(
    entries: &mut [(NaiveDateTime, NaiveDateTime, CalEntry)],
    day: NaiveDate,
    first_hour: u32,
    last_hour: u32,
) {
    let grid_start = midnight(day) + Duration::hours(i64::from(first_hour));
    let rows = i64::from(last_hour - first_hour) * 60 / ROW_MINUTES;
    // Groups of entries that overlap one another, each entry in a lane of its group.
    let mut group: Vec<usize> = Vec::new();
    let mut lanes: Vec<NaiveDateTime> = Vec::new();
    let mut group_end = grid_start;
    let mut lane_of = vec![0usize; entries.len()];
    let finish = |group: &mut Vec<usize>,
                  lanes: &mut Vec<NaiveDateTime>,
                  lane_of: &[usize],
                  entries: &mut [(NaiveDateTime, NaiveDateTime, CalEntry)]| {
        let n = lanes.len().clamp(1, MAX_LANES);
        for &i in group.iter() {
            entries[i].2.lane = format!("lane-{}-{n}", lane_of[i].min(n - 1));
        }
        group.clear();
        lanes.clear();
    };
    for i in 0..entries.len() {
        let (ls, le) = (entries[i].0, entries[i].1);
        let shown_end = le.max(ls + Duration::minutes(30));
        if !group.is_empty() && ls >= group_end {
            finish(&mut group, &mut lanes, &lane_of, entries);
        }
        let lane = match lanes.iter().position(|end| *end <= ls) {
            Some(l) => {
                lanes[l] = shown_end;
                l
            }
            None => {
                lanes.push(shown_end);
                lanes.len() - 1
            }
        };
        lane_of[i] = lane;
        group.push(i);
        group_end = if group.len() == 1 {
            shown_end
        } else {
            group_end.max(shown_end)
        };
        let first = ((ls - grid_start).num_minutes() / ROW_MINUTES).clamp(0, rows - 1);
        let last = ((shown_end - grid_start).num_minutes() + ROW_MINUTES - 1) / ROW_MINUTES;
        let e = &mut entries[i].2;
        e.row = first + 1;
        e.span = (last.min(rows) - first).max(1);
    }
    if !group.is_empty() {
        finish(&mut group, &mut lanes, &lane_of, entries);
    }
}

/// Why a move was refused, as the redirect after it carries it to the calendar
/// (`&failed=<code>&entry=<id>&field=<field>`), and as the calendar words it: the entry by its
/// name, and the reason in the reader's language. Only codes with a wording say anything, so a
/// made-up link cannot put words on the page.
struct Refusal {
    code: String,
    entry: Uuid,
    field: Option<String>,
}

impl Refusal {
    fn of_query(user: &UiUser, raw: Option<&str>) -> Option<Refusal> {
        let code = user.done.as_ref()?.failed.clone()?;
        let pairs = query_pairs(raw);
        let entry = form_get(&pairs, "entry").and_then(|e| Uuid::parse_str(e).ok())?;
        let field = form_get(&pairs, "field")
            .filter(|f| !f.is_empty())
            .map(|f| f.chars().take(64).collect());
        Some(Refusal { code, entry, field })
    }

    /// The calendar the move came from, saying why the entry did not move.
    fn redirect(&self, def: &EntityDef, ask: &Ask) -> Response {
        let mut to = format!(
            "{}&failed={}&entry={}",
            href(def.plural, ask.view, ask.date, &ask.whose),
            enc(&self.code),
            self.entry
        );
        if let Some(f) = &self.field {
            to.push_str(&format!("&field={}", enc(f)));
        }
        Redirect::to(&to).into_response()
    }

    /// "“Client visit” was not moved: Start: not a date and time", in the reader's words.
    async fn text(
        &self,
        def: &'static EntityDef,
        st: &State,
        user: &UiUser,
        i18n: &I18n,
    ) -> String {
        let no_params = guanxi_core::Params::new();
        let worded = if self.code == "version_conflict" {
            Some(i18n.t("calendar-stale"))
        } else {
            i18n.try_error(&self.code, &no_params)
        };
        let reason = match (&self.field, worded) {
            (Some(f), Some(message)) if def.field(f).is_some() => Some(i18n.t_with(
                "error-field",
                &[
                    ("field", field_label(def.name, f, i18n)),
                    ("message", message),
                ],
            )),
            (_, worded) => worded,
        };
        let name = st
            .core
            .records(def)
            .get(&user.actor, self.entry)
            .await
            .ok()
            .map(|rec| (def.title)(&rec, i18n.code));
        match (name, reason) {
            (Some(name), Some(reason)) => i18n.t_with(
                "calendar-entry-not-moved",
                &[("name", name), ("reason", reason)],
            ),
            (Some(name), None) => i18n.t1("calendar-entry-not-moved-plain", "name", name),
            (None, Some(reason)) => i18n.t1("calendar-not-moved", "reason", reason),
            (None, None) => i18n.t("calendar-not-moved-plain"),
        }
    }
}

/// A drag's drop, or the edit of a start without the script: moves the entry through the
/// record service, then back to the calendar with what happened: moved, or why not (the
/// calendar it came from, read again, so a reload asks for nothing twice).
async fn reschedule(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, form }: Posted,
) -> Response {
    let back = local_target(form_get(&form, "back"));
    let back_query = back.split_once('?').map(|(_, q)| q.to_string());
    let ask = ask(back_query.as_deref(), user.actor.time_zone);
    let Some(cal) = def.calendar else {
        return error_page(&user, CoreError::NotFound.into());
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, CoreError::NotFound.into());
    };
    let refused = |code: &str, field: Option<&str>| {
        Refusal {
            code: code.to_string(),
            entry: id,
            field: field.map(str::to_string),
        }
        .redirect(def, &ask)
    };
    let version = form_get(&form, "version").and_then(|v| v.trim().parse::<i64>().ok());
    let read = |field: &'static str,
                key: &str|
     -> Result<Option<DateTime<Utc>>, (&'static str, guanxi_core::FieldError)> {
        let typed = form_get(&form, key).unwrap_or("").trim();
        if typed.is_empty() {
            return Ok(None);
        }
        crate::forms::local_instant(typed, user.actor.time_zone)
            .map(|v| {
                v.as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.to_utc())
            })
            .map_err(|e| (field, e))
    };
    let moved = match (read(cal.start, "start"), read(cal.end, "end")) {
        (Ok(Some(start)), Ok(end)) => {
            st.core
                .records(def)
                .reschedule(&user.actor, id, version, start, end)
                .await
        }
        (Ok(None), _) => Err(CoreError::field(
            cal.start,
            guanxi_core::FieldError::new(guanxi_core::codes::REQUIRED),
        )),
        (Err((field, e)), _) | (_, Err((field, e))) => return refused(e.code, Some(field)),
    };
    match moved {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{back}{sep}done=rescheduled")).into_response()
        }
        Err(CoreError::StaleVersion { .. }) => refused("version_conflict", None),
        Err(CoreError::Validation(fields)) => match fields.iter().next() {
            Some((f, fe)) => refused(fe.code, Some(f)),
            None => refused("validation_failed", None),
        },
        Err(e @ (CoreError::Database(_) | CoreError::Internal(_))) => error_page(&user, e.into()),
        Err(e) => {
            let e = ApiError::from(e);
            refused(e.reason.unwrap_or(e.code), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slots_time_is_written_as_a_datetime_input_sends_it() {
        let t = NaiveDate::from_ymd_opt(2026, 3, 7)
            .and_then(|d| d.and_hms_opt(9, 5, 0))
            .expect("a time");
        assert_eq!(minute_param(t), "2026-03-07T09%3A05");
        assert_eq!(
            minute_param(t),
            enc(&t.format("%Y-%m-%dT%H:%M").to_string())
        );
    }
}
