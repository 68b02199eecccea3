//! An entity's list page: filters, sort, columns, pages, saved views, the count, bulk owner
//! change and export.

use askama::Template;
use axum::extract::{RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_core::records::filter::FilterOp;
use guanxi_core::records::{Count, Filter, JsonMap, ListQuery, Total};
use guanxi_core::{CoreError, EntityDef, FieldError, codes, saved_views};
use serde_json::Value;
use uuid::Uuid;

use super::bulk_redirect::{failed_code, safe_back, with_done};
use super::cells::Cell;
use super::choices::Choices;
use super::display::{self, field_label};
use super::filter_bar;
use super::posted::Posted;
use super::record_form::{owner_options, vstr};
use super::url::enc;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::export_format::{FileType, Format};
use crate::i18n::I18n;

use super::cells::{Lookups, Reading, cell, lookups};

pub struct Row {
    pub id: String,
    /// The record's name, for the labels of its controls.
    pub title: String,
    pub cells: Vec<Cell>,
}

pub struct Column {
    pub key: String,
    pub label: String,
    pub sort_href: Option<String>,
    pub arrow: &'static str,
}

use super::options::Opt;

pub struct ViewLink {
    pub id: String,
    pub name: String,
    pub href: String,
    /// A teammate's shared view: whose.
    pub shared_by: Option<String>,
    /// Shared with the team (the user's own, or a teammate's).
    pub shared: bool,
    /// The user may delete it (their own; a shared one as an administrator).
    pub deletable: bool,
}

#[derive(Template)]
#[template(path = "records/list.html")]
pub(super) struct ListPage {
    pub(super) page: PageCtx,
    pub(super) plural: &'static str,
    pub(super) entity_label: String,
    pub(super) columns: Vec<Column>,
    pub(super) rows: Vec<Row>,
    /// The filter chips and the add-filter form.
    pub(super) bar: FilterBar,
    /// The board of the same records, for an entity that has one (the list/board switch).
    pub(super) board_href: Option<String>,
    /// The same without the columns, for the column chooser.
    pub(super) column_carry: Vec<(String, String)>,
    pub(super) all_columns: Vec<Opt>,
    pub(super) count_text: String,
    /// When the count stopped at the cap: the link that counts every record.
    pub(super) count_exact_href: Option<String>,
    pub(super) pager: Pager,
    pub(super) sizes: Vec<Opt>,
    /// The list's query without the page size, for the page-size form.
    pub(super) size_query: String,
    /// The id of the saved view the list was opened from.
    pub(super) active_view: Option<String>,
    /// The user has a team to share views with.
    pub(super) can_share: bool,
    pub(super) views: Vec<ViewLink>,
    pub(super) view_query: String,
    pub(super) export_href: String,
    pub(super) export_xlsx_href: String,
    pub(super) owners: Vec<Opt>,
    pub(super) error: Option<String>,
    /// The reader may create records of this entity.
    pub(super) can_write: bool,
    /// Records have owners to hand over (not so for setup lists).
    pub(super) owned: bool,
    /// The reader may plan follow-up tasks for the ticked records' owners.
    pub(super) can_plan: bool,
    /// The entity's charts over what the list shows; on its first page only.
    pub(super) charts: Vec<super::list_charts::ListChart>,
    /// Why the charts are not drawn (too many records to read for them).
    pub(super) charts_note: Option<String>,
}

/// The UI's list state, kept in the URL so it can be bookmarked and saved as a view.
pub(super) struct ListState {
    pub(super) filters: Vec<(String, String, String)>,
    /// A filter the chips cannot show (`or`, `not`, nesting), from a view saved through the API,
    /// in its JSON form (`fj`).
    pub(super) advanced: Option<Filter>,
    pub(super) sort: Option<String>,
    pub(super) cursor: Option<String>,
    pub(super) cols: Vec<String>,
    /// Rows per page: one of [`PAGE_SIZES`].
    pub(super) size: u64,
    /// How many rows come before this page (0 on the first), to say "51–100 of 230".
    pub(super) at: u64,
    /// The saved view this list was opened from.
    pub(super) view: Option<String>,
}

/// The page sizes a list offers.
const PAGE_SIZES: [u64; 4] = [20, 50, 100, 200];
const DEFAULT_PAGE_SIZE: u64 = 50;

impl ListState {
    pub(super) fn parse(pairs: &[(String, String)], def: &EntityDef) -> ListState {
        let all = |k: &str| {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let (ff, fo, fv) = (all("ff"), all("fo"), all("fv"));
        let mut filters = Vec::new();
        for (i, f) in ff.iter().enumerate() {
            let op = fo.get(i).cloned().unwrap_or_else(|| "eq".into());
            let v = fv.get(i).cloned().unwrap_or_default();
            let valueless = op == "empty" || op == "not_empty";
            if !f.is_empty() && (valueless || !v.trim().is_empty()) {
                filters.push((f.clone(), op, v));
            }
        }
        let mut cols: Vec<String> = all("col");
        if cols.is_empty() {
            cols = form_get(pairs, "cols")
                .map(|c| {
                    c.split(',')
                        .map(str::to_string)
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
        }
        if cols.is_empty() {
            cols = def.default_columns.iter().map(|s| s.to_string()).collect();
        }
        ListState {
            filters,
            advanced: form_get(pairs, "fj")
                .and_then(|j| serde_json::from_str::<Value>(j).ok())
                .and_then(|v| Filter::from_json(&v).ok())
                .filter(|f| !f.is_everything()),
            sort: form_get(pairs, "sort")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            cursor: form_get(pairs, "cursor")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            cols,
            size: form_get(pairs, "size")
                .and_then(|s| s.parse().ok())
                .filter(|n| PAGE_SIZES.contains(n))
                .unwrap_or(DEFAULT_PAGE_SIZE),
            at: form_get(pairs, "at")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            view: form_get(pairs, "v")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        }
    }

    /// The same list on its first page.
    pub(super) fn clone_without_cursor(&self) -> ListState {
        ListState {
            filters: self.filters.clone(),
            advanced: self.advanced.clone(),
            sort: self.sort.clone(),
            cursor: None,
            cols: self.cols.clone(),
            size: self.size,
            at: 0,
            view: self.view.clone(),
        }
    }

    /// Moves column `key` one place towards the front.
    fn move_up(&mut self, key: &str) {
        if let Some(i) = self.cols.iter().position(|c| c == key)
            && i > 0
        {
            self.cols.swap(i - 1, i);
        }
    }

    /// Choice labels typed (or picked from an export) as values, turned into their codes.
    pub(super) fn with_codes(
        mut self,
        def: &'static EntityDef,
        custom: &[CustomFieldDef],
        i18n: &I18n,
    ) -> ListState {
        let cx = filter_bar::Context {
            def,
            custom,
            users: &[],
            choices: &Choices::default(),
            i18n,
        };
        for (f, _, v) in &mut self.filters {
            *v = filter_bar::to_codes(&cx, f, v);
        }
        self
    }

    /// The query string without the cursor (what a saved view stores).
    fn query(&self, sort: Option<&str>) -> String {
        let mut parts = Vec::new();
        let conditions = list_query(self);
        if !conditions.is_empty() {
            parts.push(conditions);
        }
        if let Some(s) = sort.or(self.sort.as_deref()) {
            parts.push(format!("sort={}", enc(s)));
        }
        parts.push(format!("cols={}", enc(&self.cols.join(","))));
        parts.join("&")
    }

    /// The query of a page of this list: the view's query plus the page size when it is not
    /// the default and the saved view it came from, for the pager's and the columns' links.
    fn page_query(&self, sort: Option<&str>) -> String {
        let mut q = self.query(sort);
        if self.size != DEFAULT_PAGE_SIZE {
            q.push_str(&format!("&size={}", self.size));
        }
        if let Some(v) = &self.view {
            q.push_str(&format!("&v={}", enc(v)));
        }
        q
    }

    pub(super) fn filter(&self) -> Filter {
        Filter::And(
            self.filters
                .iter()
                .map(|(f, o, v)| {
                    let op = FilterOp::parse(o).unwrap_or(FilterOp::Eq);
                    let value = if op == FilterOp::In {
                        Value::Array(
                            v.split(',')
                                .map(|x| Value::String(x.trim().to_string()))
                                .collect(),
                        )
                    } else {
                        Value::String(v.clone())
                    };
                    Filter::Cond {
                        field: f.clone(),
                        op,
                        value,
                    }
                })
                .chain(self.advanced.clone())
                .collect(),
        )
    }

    /// The list a saved view shows: its conditions as chips where they are plain conditions,
    /// the rest as one advanced filter, its sort and its columns (the entity's own when it has
    /// none).
    fn of_view(v: &saved_views::SavedView, def: &EntityDef) -> ListState {
        let mut filters = Vec::new();
        let mut rest = Vec::new();
        let parts = match Filter::from_json(&v.filter) {
            Ok(Filter::And(parts)) => parts,
            Ok(other) => vec![other],
            Err(_) => Vec::new(),
        };
        for p in parts {
            match p {
                Filter::Cond { field, op, value } => {
                    let v = match &value {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    filters.push((field, op.as_str().to_string(), v));
                }
                other => rest.push(other),
            }
        }
        ListState {
            filters,
            advanced: (!rest.is_empty()).then_some(Filter::And(rest)),
            sort: v.sort.clone(),
            cursor: None,
            cols: if v.columns.is_empty() {
                def.default_columns.iter().map(|s| s.to_string()).collect()
            } else {
                v.columns.clone()
            },
            size: DEFAULT_PAGE_SIZE,
            at: 0,
            view: Some(v.id.to_string()),
        }
    }
}

/// Field names a list can filter on and show, with their labels.
pub(super) fn field_choices(
    def: &EntityDef,
    custom: &[CustomFieldDef],
    i18n: &I18n,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in def.fields {
        match f.kind {
            FieldKind::Address => {
                for p in ADDRESS_PARTS {
                    let k = format!("{}.{p}", f.name);
                    out.push((k.clone(), field_label(def.name, &k, i18n)));
                }
            }
            _ => out.push((f.name.to_string(), field_label(def.name, f.name, i18n))),
        }
    }
    for k in ["owner_id", "created_at", "updated_at"] {
        out.push((k.to_string(), field_label(def.name, k, i18n)));
    }
    for d in custom {
        out.push((format!("custom.{}", d.key), d.label(i18n.code).to_string()));
    }
    out
}

impl Row {
    /// A record as a table row: one cell per column key.
    pub(super) fn of<K: AsRef<str>>(
        def: &EntityDef,
        rec: &JsonMap,
        columns: &[K],
        lk: &Lookups,
        i18n: &I18n,
    ) -> Row {
        Row {
            id: vstr(rec.get("id")),
            title: (def.title)(rec, i18n.code),
            cells: columns
                .iter()
                .map(|k| cell(def, rec, k.as_ref(), lk, i18n))
                .collect(),
        }
    }
}

pub(super) async fn list(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    if let Some(view) = form_get(&pairs, "view") {
        let views = match saved_views::list(&st.core.db, &user.actor, def.name).await {
            Ok(v) => v,
            Err(e) => return error_page(&user, e.into()),
        };
        if let Some(v) = views.into_iter().find(|v| v.id.to_string() == view) {
            // The view's list, marked as the view (`v`) so its name shows as chosen, and
            // carrying what was just done (its saving) to the page.
            let done = form_get(&pairs, "done")
                .map(|d| format!("&done={}", enc(d)))
                .unwrap_or_default();
            let state = ListState::of_view(&v, def);
            return Redirect::to(&format!("/{}?{}{done}", def.plural, state.page_query(None)))
                .into_response();
        }
    }
    let mut state = ListState::parse(&pairs, def);
    // "Move this column up" in the column chooser: the same list, its columns reordered, at an
    // address without the request.
    if let Some(up) = form_get(&pairs, "up") {
        state.move_up(up);
        return Redirect::to(&format!("/{}?{}", def.plural, state.page_query(None)))
            .into_response();
    }
    let i18n = I18n::for_actor(&user.actor);
    let svc = st.core.records(def);
    let custom = match svc.custom_defs().await {
        Ok(c) => c,
        Err(e) => return error_page(&user, e.into()),
    };
    let state = state.with_codes(def, &custom, &i18n);
    let q = ListQuery {
        filter: Some(state.filter()),
        sort: state.sort.clone(),
        cursor: state.cursor.clone(),
        limit: state.size,
        // The exact figure beyond the cap only when asked for (the "count all" link).
        count: if form_get(&pairs, "count") == Some("exact") {
            Count::Exact
        } else {
            Count::Capped
        },
        deleted: false,
        fields: None,
    };
    let (page, error) = match svc.list(&user.actor, &q).await {
        Ok(p) => (p, None),
        Err(CoreError::BadRequest { code, params, .. }) => {
            let empty = guanxi_core::records::Page {
                items: vec![],
                next_cursor: None,
                total: None,
            };
            // A limit is worded with its figures; the other faults of a filter, sort or page are
            // diagnostics for developers, so a person is told what to do about them instead.
            let message = i18n
                .try_error(code, &params)
                .unwrap_or_else(|| i18n.t("list-invalid-query"));
            (empty, Some(message))
        }
        Err(e) => return error_page(&user, e.into()),
    };
    let lk = match lookups(
        &st,
        &user.actor,
        def,
        &page.items,
        Reading::Everything,
        |_| vec![],
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return error_page(&user, e),
    };
    // Charts read every record the list matches: drawn on the first page, for up to the count's
    // cap, beyond it only those the running totals answer (read in one pass, a million records
    // take seconds).
    let too_many = page.total.is_some_and(|t| t.more);
    let charts = match (&q.filter, &error) {
        (Some(filter), None) if state.cursor.is_none() => {
            super::list_charts::charts(&st, &user, def, filter, too_many, &i18n).await
        }
        _ => Vec::new(),
    };
    let charts_note = (too_many && charts.len() < def.charts.len() && state.cursor.is_none())
        .then(|| i18n.t("list-charts-too-many"));
    let choices = field_choices(def, &lk.custom, &i18n);
    let sort_now = svc
        .sort_spec(state.sort.as_deref(), false)
        .map(|s| s.key)
        .unwrap_or_default();
    let columns = state
        .cols
        .iter()
        .map(|k| {
            let sort_key = match k.as_str() {
                "name" => Some(def.title_sort.to_string()),
                k => svc.sort_spec(Some(k), false).ok().map(|s| s.field),
            };
            let (href, arrow) = match sort_key {
                Some(sk) => {
                    let (next, arrow) = if sort_now == sk {
                        (format!("-{sk}"), "▲")
                    } else if sort_now == format!("-{sk}") {
                        (sk.clone(), "▼")
                    } else {
                        (sk.clone(), "")
                    };
                    (
                        Some(format!("/{}?{}", def.plural, state.page_query(Some(&next)))),
                        arrow,
                    )
                }
                None => (None, ""),
            };
            let label = if k == "name" {
                field_label(def.name, "name", &i18n)
            } else {
                choices
                    .iter()
                    .find(|(c, _)| c == k)
                    .map(|(_, l)| l.clone())
                    .or_else(|| super::insight_columns::label_of(def, k, &i18n))
                    .unwrap_or_else(|| field_label(def.name, k, &i18n))
            };
            Column {
                key: k.clone(),
                label,
                sort_href: href,
                arrow,
            }
        })
        .collect();
    let mut rows: Vec<Row> = page
        .items
        .iter()
        .map(|rec| Row::of(def, rec, &state.cols, &lk, &i18n))
        .collect();
    // Insight columns come from the insights, not the records: filled in one read.
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| Uuid::parse_str(&r.id).ok())
        .collect();
    match super::insight_columns::cells(&st, def, &ids, &state.cols, &i18n).await {
        Ok(found) => {
            for row in &mut rows {
                let Some(mine) = Uuid::parse_str(&row.id).ok().and_then(|id| found.get(&id)) else {
                    continue;
                };
                for (cell, key) in row.cells.iter_mut().zip(&state.cols) {
                    if let Some(c) = mine.get(key) {
                        *cell = c.clone();
                    }
                }
            }
        }
        Err(e) => return error_page(&user, e),
    }
    let setup = match super::choices::load(&st.core, &user.actor, def.fields, &[]).await {
        Ok(c) => c,
        Err(e) => return error_page(&user, e),
    };
    let mut people: Vec<(String, String)> = lk
        .users
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let cx = filter_bar::Context {
        def,
        custom: &lk.custom,
        users: &people,
        choices: &setup,
        i18n: &i18n,
    };
    // The add-filter form carries the list as it is; the new condition comes last.
    let mut keep: Vec<(String, String)> = Vec::new();
    if let Some(s) = &state.sort {
        keep.push(("sort".into(), s.clone()));
    }
    keep.push(("cols".into(), state.cols.join(",")));
    if state.size != DEFAULT_PAGE_SIZE {
        keep.push(("size".into(), state.size.to_string()));
    }
    let bar = FilterBar::new(
        &cx,
        &state,
        &choices,
        &pairs,
        format!("/{}", def.plural),
        keep,
        |s| format!("/{}?{}", def.plural, s.page_query(None)),
    );
    // The column chooser carries the filters and sort but not the columns it chooses.
    let column_carry: Vec<(String, String)> = bar
        .carry
        .iter()
        .filter(|(k, _)| k != "cols")
        .cloned()
        .collect();
    // The chosen columns first, in their order, then the others; each offered once.
    let mut all_columns: Vec<Opt> = state
        .cols
        .iter()
        .map(|k| Opt {
            value: k.clone(),
            label: if k == "name" {
                field_label(def.name, "name", &i18n)
            } else {
                choices
                    .iter()
                    .find(|(c, _)| c == k)
                    .map(|(_, l)| l.clone())
                    .or_else(|| super::insight_columns::label_of(def, k, &i18n))
                    .unwrap_or_else(|| field_label(def.name, k, &i18n))
            },
            selected: true,
        })
        .collect();
    let mut offer = vec![("name".to_string(), field_label(def.name, "name", &i18n))];
    offer.extend(choices.iter().filter(|(k, _)| k != "name").cloned());
    offer.extend(super::insight_columns::offered(def, &i18n));
    for (k, l) in offer {
        if !state.cols.contains(&k) {
            all_columns.push(Opt {
                value: k,
                label: l,
                selected: false,
            });
        }
    }
    let views = match saved_views::list(&st.core.db, &user.actor, def.name).await {
        Ok(v) => v
            .into_iter()
            .map(|v| ViewLink {
                href: format!("/{}?view={}", def.plural, v.id),
                id: v.id.to_string(),
                name: v.name,
                shared_by: (!v.mine).then_some(v.owner_name),
                shared: v.shared,
                deletable: v.mine || (v.shared && user.actor.is_admin()),
            })
            .collect(),
        Err(e) => return error_page(&user, e.into()),
    };
    let owners = match owner_options(&st, &user.actor, def).await {
        Ok(us) => us
            .into_iter()
            .map(|(value, label)| Opt {
                value,
                label,
                selected: false,
            })
            .collect(),
        Err(e) => return error_page(&user, e),
    };
    let base = state.page_query(None);
    let total = page.total.unwrap_or(Total {
        count: 0,
        more: false,
    });
    let entity_label = i18n.t(&format!("entity-{}", def.plural));
    let mut pg = PageCtx::new(&user, entity_label.clone(), def.plural);
    pg.here = format!("/{}?{base}", def.plural);
    let pager = Pager::new(
        &i18n,
        &format!("/{}?{base}", def.plural),
        &sort_now,
        &state,
        page.items.len() as u64,
        total,
        page.next_cursor.as_deref(),
    );
    let size_query = state.query(None)
        + &state
            .view
            .as_ref()
            .map(|v| format!("&v={}", enc(v)))
            .unwrap_or_default();
    render(&ListPage {
        can_share: user.actor.team_id.is_some(),
        charts,
        charts_note,
        can_write: user.actor.grant(def.name).write != guanxi_core::Scope::None,
        owned: def.access == guanxi_core::records::Access::Records,
        can_plan: super::follow_ups::offered(&st, def, &user.actor),
        count_text: if total.more {
            i18n.t1(
                "list-count-more",
                "count",
                display::group(&total.count.to_string()),
            )
        } else {
            i18n.count("list-count", total.count)
        },
        count_exact_href: total
            .more
            .then(|| format!("/{}?{base}&count=exact", def.plural)),
        page: pg,
        plural: def.plural,
        entity_label,
        columns,
        rows,
        board_href: board_href(def, &state),
        bar,
        column_carry,
        all_columns,
        pager,
        sizes: PAGE_SIZES
            .iter()
            .map(|n| Opt {
                value: n.to_string(),
                label: i18n.t1("list-page-size-n", "count", n),
                selected: *n == state.size,
            })
            .collect(),
        size_query,
        active_view: state.view.clone(),
        views,
        export_href: format!("/{}/export.csv?{}", def.plural, state.query(None)),
        export_xlsx_href: format!("/{}/export.xlsx?{}", def.plural, state.query(None)),
        view_query: state.query(None),
        owners,
        error,
    })
}

/// One link of the pager: a page number, or an arrow.
pub struct PageLink {
    pub label: String,
    /// `None` for the current page and for a gap ("…").
    pub href: Option<String>,
    pub current: bool,
}

/// Where a list is and the ways to move through it: "51–100 of 230", the first, previous and
/// next pages, and page numbers while the total is exact (beyond the count's cap only "next",
/// which follows the keyset cursor and costs the same on any page).
pub struct Pager {
    pub range: String,
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub numbers: Vec<PageLink>,
}

impl Pager {
    fn new(
        i18n: &I18n,
        base: &str,
        sort: &str,
        state: &ListState,
        shown: u64,
        total: Total,
        next_cursor: Option<&str>,
    ) -> Pager {
        let size = state.size;
        // A page reached by a stale link can claim an `at` past the end; the rows say better.
        let at = if state.cursor.is_none() { 0 } else { state.at };
        let at_page = |rows: u64| {
            if rows == 0 {
                base.to_string()
            } else {
                let c = guanxi_core::records::cursor::Cursor::at_offset(sort, rows).encode();
                format!("{base}&cursor={}&at={rows}", enc(&c))
            }
        };
        let range = if shown == 0 {
            String::new()
        } else {
            let count = if total.more {
                format!("{}+", display::group(&total.count.to_string()))
            } else {
                display::group(&total.count.to_string())
            };
            i18n.t_with(
                "list-range",
                &[
                    ("from", display::group(&(at + 1).to_string())),
                    ("to", display::group(&(at + shown).to_string())),
                    ("total", count),
                ],
            )
        };
        let exact = !total.more;
        let pages = total.count.div_ceil(size).max(1);
        let current = at / size;
        let mut numbers = Vec::new();
        if exact && pages > 1 {
            // The first, the last, and two either side of the current one, gaps as "…".
            let mut last_shown: Option<u64> = None;
            for p in 0..pages {
                let near = p + 2 >= current && p <= current + 2;
                if !(p == 0 || p + 1 == pages || near) {
                    continue;
                }
                if last_shown.is_some_and(|l| p > l + 1) {
                    numbers.push(PageLink {
                        label: "…".into(),
                        href: None,
                        current: false,
                    });
                }
                numbers.push(PageLink {
                    label: display::group(&(p + 1).to_string()),
                    href: (p != current).then(|| at_page(p * size)),
                    current: p == current,
                });
                last_shown = Some(p);
            }
        }
        Pager {
            range,
            first: (at > 0).then(|| base.to_string()),
            prev: (at > 0 && exact).then(|| at_page(at.saturating_sub(size))),
            next: next_cursor.map(|c| format!("{base}&cursor={}&at={}", enc(c), at + shown)),
            numbers,
        }
    }
}

pub(super) async fn export(
    def: &'static EntityDef,
    file: FileType,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    // Reading press the button: labels in their language unless the link asks for codes.
    let mut format = match crate::export::download_param(&pairs, Format::Labels, file) {
        Ok(f) => f,
        Err(e) => return error_page(&user, e),
    };
    // The list's columns in its order: what the labels form exports (codes: every column).
    format.cols = crate::export::cols_param(&pairs);
    let custom = match st.core.records(def).custom_defs().await {
        Ok(c) => c,
        Err(e) => return error_page(&user, e.into()),
    };
    let i18n = I18n::for_actor(&user.actor);
    // The same records the list shows, labels typed into its filters included.
    let state = ListState::parse(&pairs, def).with_codes(def, &custom, &i18n);
    let q = ListQuery {
        filter: Some(state.filter()),
        sort: state.sort.clone(),
        cursor: None,
        limit: 500,
        count: Count::No,
        deleted: false,
        fields: None,
    };
    match crate::export::export_response(&st, def, &user.actor, q, format).await {
        Ok(res) => res,
        Err(e) => error_page(&user, e),
    }
}

pub(super) async fn bulk_owner(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Posted { user, form: f }: Posted,
) -> Response {
    let ids: Vec<Uuid> = f
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| Uuid::parse_str(v).ok())
        .collect();
    let back = safe_back(form_get(&f, "back"), def);
    if ids.is_empty() {
        return Redirect::to(&with_done(&back, "failed=no_records_chosen")).into_response();
    }
    let Some(owner) = form_get(&f, "owner_id").and_then(|s| Uuid::parse_str(s).ok()) else {
        return Redirect::to(&with_done(&back, "failed=no_owner_chosen")).into_response();
    };
    match st
        .core
        .records(def)
        .change_owner(&user.actor, &ids, owner)
        .await
    {
        Ok(n) => Redirect::to(&with_done(&back, &format!("done=bulk_owner&n={n}"))).into_response(),
        // Back to the list, saying why (a choice outside the user's reach, a record another
        // user changed): the list stays as it was, nothing half-changed.
        Err(e) => {
            Redirect::to(&with_done(&back, &format!("failed={}", failed_code(e)))).into_response()
        }
    }
}

pub(super) fn choose_an_owner() -> CoreError {
    CoreError::field("owner_id", FieldError::new(codes::REQUIRED))
}

pub(super) async fn save_view(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Posted { user, form: f }: Posted,
) -> Response {
    // The list as it is now, from the address the form carries.
    let state = ListState::parse(&query_pairs(form_get(&f, "query")), def);
    let input = saved_views::ViewInput {
        name: form_get(&f, "name").unwrap_or("").to_string(),
        filter: Some(state.filter().to_json()),
        sort: state.sort.clone(),
        columns: state.cols.clone(),
        shared: form_get(&f, "shared").is_some(),
    };
    match saved_views::save(&st.core.db, st.core.registry, &user.actor, def.name, &input).await {
        Ok(v) => {
            Redirect::to(&format!("/{}?view={}&done=view_saved", def.plural, v.id)).into_response()
        }
        Err(e) => error_page(&user, e.into()),
    }
}

pub(super) async fn delete_view(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Posted { user, form: f }: Posted,
) -> Response {
    let Some(id) = form_get(&f, "id").and_then(|s| Uuid::parse_str(s).ok()) else {
        return error_page(&user, ApiError::not_found());
    };
    match saved_views::delete(&st.core.db, &user.actor, id).await {
        Ok(()) => Redirect::to(&format!("/{}?done=view_deleted", def.plural)).into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}

// ---------- detail ----------

/// The filter bar of a page over an entity's records (its list, its board): the conditions as
/// chips that one click removes, and the add-filter form in its two steps.
pub struct FilterBar {
    pub chips: Vec<filter_bar::Chip>,
    /// The second step of adding a filter, once its field is chosen.
    pub picker: Option<filter_bar::Picker>,
    /// The fields a filter can be added on.
    pub filter_fields: Vec<Opt>,
    /// The page's state as hidden inputs of the add-filter form.
    pub carry: Vec<(String, String)>,
    /// Where the add-filter form goes (the page itself).
    pub action: String,
    /// The page with the add-filter form back at its first step.
    pub change_field_href: String,
    /// The page without any condition, when it has some.
    pub clear_href: Option<String>,
}

impl FilterBar {
    /// The bar of the page at `action` in `state`; `keep` is the rest of the page's state the
    /// add-filter form carries, `href(state)` the page's address in another state.
    pub(super) fn new(
        cx: &filter_bar::Context,
        state: &ListState,
        choices: &[(String, String)],
        pairs: &[(String, String)],
        action: String,
        keep: Vec<(String, String)>,
        href: impl Fn(&ListState) -> String,
    ) -> FilterBar {
        // Conditions on insights (from a home page link, a saved view, the API) read by their
        // insight's name, not their key.
        let mut labels = choices.to_vec();
        labels.extend(super::insight_columns::filter_labels(cx.def, cx.i18n));
        let fields: Vec<&str> = state.filters.iter().map(|(f, _, _)| f.as_str()).collect();
        labels.extend(super::insight_columns::then_labels(
            cx.def, &fields, cx.i18n,
        ));
        let chips = filter_bar::chips(cx, &state.filters, &labels, |i| {
            let mut without = state.clone_without_cursor();
            without.filters.remove(i);
            href(&without)
        });
        let picker = form_get(pairs, "add")
            .filter(|f| !f.is_empty())
            .and_then(|f| filter_bar::picker(cx, f, choices));
        let mut carry: Vec<(String, String)> = Vec::new();
        for (f, o, v) in &state.filters {
            carry.push(("ff".into(), f.clone()));
            carry.push(("fo".into(), o.clone()));
            carry.push(("fv".into(), v.clone()));
        }
        carry.extend(keep);
        let filter_fields = choices
            .iter()
            .map(|(k, l)| Opt {
                value: k.clone(),
                label: l.clone(),
                selected: false,
            })
            .collect();
        let here = href(state);
        let sep = if here.contains('?') { '&' } else { '?' };
        let mut cleared = state.clone_without_cursor();
        cleared.filters.clear();
        cleared.advanced = None;
        FilterBar {
            clear_href: (!chips.is_empty()).then(|| href(&cleared)),
            chips,
            picker,
            filter_fields,
            carry,
            action,
            change_field_href: format!("{here}{sep}add="),
        }
    }
}

/// The list page's query of a list's conditions (its filters, simple and advanced): what the
/// board of the same records and links between the two carry.
pub(super) fn list_query(state: &ListState) -> String {
    let mut parts: Vec<String> = state
        .filters
        .iter()
        .map(|(f, o, v)| format!("ff={}&fo={}&fv={}", enc(f), enc(o), enc(v)))
        .collect();
    if let Some(a) = &state.advanced {
        parts.push(format!("fj={}", enc(&a.to_json().to_string())));
    }
    parts.join("&")
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
