//! The pages every entity gets: list (filters, sort, columns, saved views, count, bulk owner
//! change, export), detail (fields, related records, history), create and edit forms, recycle
//! bin actions and global search. Driven by the entity definition, like the API.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::identity::users;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldDef, FieldKind};
use guanxi_core::records::filter::FilterOp;
use guanxi_core::records::{Count, Filter, JsonMap, ListQuery, Reference, Registry, Total};
use guanxi_core::refs::{self, RefView};
use guanxi_core::{CoreError, EntityDef, FieldError, codes, saved_views, search};
use serde_json::Value;
use uuid::Uuid;

use super::choices::{self, Choices};
use super::display::{self, field_label};
use super::filter_bar;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::export_format::{FileType, Format};
use crate::i18n::I18n;

pub fn router(def: &'static EntityDef) -> Router<State> {
    let p = format!("/{}", def.plural);
    Router::new()
        .route(
            &p,
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| list(def, s, u, q)).post(
                move |s: AxState<State>, u: UiUser, f: Form<Vec<(String, String)>>| {
                    create(def, s, u, f)
                },
            ),
        )
        .route(
            &format!("{p}/new"),
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| new_form(def, s, u, q)),
        )
        .route(
            &format!("{p}/export.csv"),
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| {
                export(def, FileType::Csv, s, u, q)
            }),
        )
        .route(
            &format!("{p}/export.xlsx"),
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| {
                export(def, FileType::Xlsx, s, u, q)
            }),
        )
        .route(
            &format!("{p}/bulk-owner"),
            post(
                move |s: AxState<State>, u: UiUser, f: Form<Vec<(String, String)>>| {
                    bulk_owner(def, s, u, f)
                },
            ),
        )
        .route(
            &format!("{p}/views"),
            post(
                move |s: AxState<State>, u: UiUser, f: Form<Vec<(String, String)>>| {
                    save_view(def, s, u, f)
                },
            ),
        )
        .route(
            &format!("{p}/views/delete"),
            post(
                move |s: AxState<State>, u: UiUser, f: Form<Vec<(String, String)>>| {
                    delete_view(def, s, u, f)
                },
            ),
        )
        .route(
            &format!("{p}/{{id}}"),
            get(
                move |s: AxState<State>, u: UiUser, i: Path<String>, q: RawQuery| {
                    detail(def, s, u, i, q)
                },
            )
            .post(
                move |s: AxState<State>,
                      u: UiUser,
                      i: Path<String>,
                      f: Form<Vec<(String, String)>>| update(def, s, u, i, f),
            ),
        )
        .route(
            &format!("{p}/{{id}}/edit"),
            get(move |s: AxState<State>, u: UiUser, i: Path<String>| edit_form(def, s, u, i)),
        )
        .route(
            &format!("{p}/{{id}}/{{action}}"),
            post(
                move |s: AxState<State>,
                      u: UiUser,
                      i: Path<(String, String)>,
                      f: Form<Vec<(String, String)>>| action(def, s, u, i, f),
            ),
        )
}

/// The pages that span every entity.
pub fn cross_entity_router() -> Router<State> {
    Router::new()
        .route("/search", get(search_page))
        .route("/recycle-bin", get(recycle_bin))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------- list ----------

pub use super::cells::Cell;
use super::cells::{Lookups, cell, date_time, kind_at, lookups, value_cell};

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

pub use super::options::Opt;

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
struct ListPage {
    page: PageCtx,
    plural: &'static str,
    entity_label: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    chips: Vec<filter_bar::Chip>,
    /// The second step of adding a filter, once its field is chosen.
    picker: Option<filter_bar::Picker>,
    /// The fields a filter can be added on.
    filter_fields: Vec<Opt>,
    /// The list's state as hidden inputs of the add-filter form.
    carry: Vec<(String, String)>,
    /// The same without the columns, for the column chooser.
    column_carry: Vec<(String, String)>,
    all_columns: Vec<Opt>,
    count_text: String,
    /// When the count stopped at the cap: the link that counts every record.
    count_exact_href: Option<String>,
    pager: Pager,
    sizes: Vec<Opt>,
    /// The list's query without the page size, for the page-size form.
    size_query: String,
    /// The id of the saved view the list was opened from.
    active_view: Option<String>,
    /// The user has a team to share views with.
    can_share: bool,
    views: Vec<ViewLink>,
    view_query: String,
    export_href: String,
    export_xlsx_href: String,
    owners: Vec<Opt>,
    error: Option<String>,
    /// The reader may create records of this entity.
    can_write: bool,
    /// Records have owners to hand over (not so for setup lists).
    owned: bool,
    /// The entity's charts over what the list shows; on its first page only.
    charts: Vec<super::list_charts::ListChart>,
    /// Why the charts are not drawn (too many records to read for them).
    charts_note: Option<String>,
}

/// The UI's list state, kept in the URL so it can be bookmarked and saved as a view.
struct ListState {
    filters: Vec<(String, String, String)>,
    /// A filter the chips cannot show (`or`, `not`, nesting), from a view saved through the API,
    /// in its JSON form (`fj`).
    advanced: Option<Filter>,
    sort: Option<String>,
    cursor: Option<String>,
    cols: Vec<String>,
    /// Rows per page: one of [`PAGE_SIZES`].
    size: u64,
    /// How many rows come before this page (0 on the first), to say "51–100 of 230".
    at: u64,
    /// The saved view this list was opened from.
    view: Option<String>,
}

/// The page sizes a list offers.
const PAGE_SIZES: [u64; 4] = [20, 50, 100, 200];
const DEFAULT_PAGE_SIZE: u64 = 50;

impl ListState {
    fn parse(pairs: &[(String, String)], def: &EntityDef) -> ListState {
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
    fn clone_without_cursor(&self) -> ListState {
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
    fn with_codes(mut self, cx: &filter_bar::Context) -> ListState {
        for (f, _, v) in &mut self.filters {
            *v = filter_bar::to_codes(cx, f, v);
        }
        self
    }

    /// The query string without the cursor (what a saved view stores).
    fn query(&self, sort: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (f, o, v) in &self.filters {
            parts.push(format!("ff={}&fo={}&fv={}", enc(f), enc(o), enc(v)));
        }
        if let Some(a) = &self.advanced {
            parts.push(format!("fj={}", enc(&a.to_json().to_string())));
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

    fn filter(&self) -> Filter {
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
fn field_choices(def: &EntityDef, custom: &[CustomFieldDef], i18n: &I18n) -> Vec<(String, String)> {
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
    fn of<K: AsRef<str>>(
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

async fn list(
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
    let state = state.with_codes(&filter_bar::Context {
        def,
        custom: &custom,
        users: &[],
        choices: &Choices::default(),
        i18n: &i18n,
    });
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
    let lk = match lookups(&st, &user.actor, def, &page.items, |_| vec![]).await {
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
    let rows = page
        .items
        .iter()
        .map(|rec| Row::of(def, rec, &state.cols, &lk, &i18n))
        .collect();
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
    let chips = filter_bar::chips(&cx, &state.filters, &choices, |i| {
        let mut without = state.clone_without_cursor();
        without.filters.remove(i);
        format!("/{}?{}", def.plural, without.page_query(None))
    });
    let picker = form_get(&pairs, "add")
        .filter(|f| !f.is_empty())
        .and_then(|f| filter_bar::picker(&cx, f, &choices));
    // The add-filter form carries the list as it is; the new condition comes last.
    let mut carry: Vec<(String, String)> = Vec::new();
    for (f, o, v) in &state.filters {
        carry.push(("ff".into(), f.clone()));
        carry.push(("fo".into(), o.clone()));
        carry.push(("fv".into(), v.clone()));
    }
    let mut keep = |k: &str, v: String| carry.push((k.to_string(), v));
    if let Some(s) = &state.sort {
        keep("sort", s.clone());
    }
    keep("cols", state.cols.join(","));
    if state.size != DEFAULT_PAGE_SIZE {
        keep("size", state.size.to_string());
    }
    // The column chooser carries the filters and sort but not the columns it chooses.
    let column_carry: Vec<(String, String)> =
        carry.iter().filter(|(k, _)| k != "cols").cloned().collect();
    let filter_fields: Vec<Opt> = choices
        .iter()
        .map(|(k, l)| Opt {
            value: k.clone(),
            label: l.clone(),
            selected: false,
        })
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
                    .unwrap_or_else(|| field_label(def.name, k, &i18n))
            },
            selected: true,
        })
        .collect();
    let mut offer = vec![("name".to_string(), field_label(def.name, "name", &i18n))];
    offer.extend(choices.iter().filter(|(k, _)| k != "name").cloned());
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
        chips,
        picker,
        filter_fields,
        carry,
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

async fn export(
    def: &'static EntityDef,
    file: FileType,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    // People press the button: labels in their language unless the link asks for codes.
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
    let state = ListState::parse(&pairs, def).with_codes(&filter_bar::Context {
        def,
        custom: &custom,
        users: &[],
        choices: &Choices::default(),
        i18n: &i18n,
    });
    let q = ListQuery {
        filter: Some(state.filter()),
        sort: state.sort.clone(),
        cursor: None,
        limit: 500,
        count: Count::No,
        deleted: false,
    };
    match crate::export::export_response(&st, def, &user.actor, q, format).await {
        Ok(res) => res,
        Err(e) => error_page(&user, e),
    }
}

async fn bulk_owner(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
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
            let e: ApiError = e.into();
            let code = e
                .fields
                .as_ref()
                .and_then(|f| f.iter().next().map(|(_, fe)| fe.code))
                .or(e.reason)
                .unwrap_or(e.code);
            Redirect::to(&with_done(&back, &format!("failed={code}"))).into_response()
        }
    }
}

/// `back` with what was done added to its query string (replacing an earlier `done`).
fn with_done(back: &str, done: &str) -> String {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !["done", "n", "undo", "failed"].contains(&p.split('=').next().unwrap_or(""))
        })
        .collect();
    if kept.is_empty() {
        format!("{path}?{done}")
    } else {
        format!("{path}?{}&{done}", kept.join("&"))
    }
}

fn choose_an_owner() -> CoreError {
    CoreError::field("owner_id", FieldError::new(codes::REQUIRED))
}

fn safe_back(back: Option<&str>, def: &EntityDef) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") => b.to_string(),
        _ => format!("/{}", def.plural),
    }
}

async fn save_view(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
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

async fn delete_view(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let Some(id) = form_get(&f, "id").and_then(|s| Uuid::parse_str(s).ok()) else {
        return error_page(&user, ApiError::not_found());
    };
    match saved_views::delete(&st.core.db, &user.actor, id).await {
        Ok(()) => Redirect::to(&format!("/{}?done=view_deleted", def.plural)).into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}

// ---------- detail ----------

pub struct FieldLine {
    pub label: String,
    pub cell: Cell,
    /// The field's name when it can be edited in place on the record page (the page's script
    /// offers it; a computed field cannot be).
    pub edit: Option<String>,
}

pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

pub struct HistoryLine {
    /// When, in UTC until the page's script shows it in the reader's time (`at_iso`).
    pub at: String,
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "records/detail.html")]
struct DetailPage {
    page: PageCtx,
    plural: &'static str,
    id: String,
    title: String,
    entity_label: String,
    lines: Vec<FieldLine>,
    meta: Vec<FieldLine>,
    tab: String,
    related: Vec<RelatedList>,
    history: Vec<HistoryLine>,
    can_write: bool,
    deleted: bool,
    is_admin: bool,
    owners: Vec<Opt>,
    version: i64,
    children: Vec<ChildTable>,
    actions: Vec<ActionForm>,
    /// The record's key facts, under its name.
    facts: Vec<super::facts::Fact>,
    problems: Vec<String>,
    owned: bool,
    /// Reminders not yet shown, and whether the reader may set one (the owner, or whoever may
    /// change the record).
    reminders: Vec<ReminderLine>,
    can_remind: bool,
    /// What was typed into the reminder form, shown again when it was refused.
    draft: ReminderDraft,
    owner_name: String,
}

/// A child collection's lines on the record page.
pub struct ChildTable {
    pub key: &'static str,
    pub label: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A declared action the reader may take now, with the inputs it asks for.
pub struct ActionForm {
    pub name: &'static str,
    pub label: String,
    pub fields: Vec<FormField>,
}

fn child_tables(def: &EntityDef, rec: &JsonMap, lk: &Lookups, i18n: &I18n) -> Vec<ChildTable> {
    def.children
        .iter()
        .map(|child| ChildTable {
            key: child.name,
            label: field_label(def.name, child.name, i18n),
            columns: child
                .fields
                .iter()
                .map(|f| field_label(child.name, f.name, i18n))
                .collect(),
            rows: rec
                .get(child.name)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|line| {
                    child
                        .fields
                        .iter()
                        .map(|f| {
                            value_cell(&f.kind, line.get(f.name).unwrap_or(&Value::Null), lk, i18n)
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
}

/// The actions whose precondition the record's state meets.
fn action_forms(def: &EntityDef, rec: &JsonMap, cx: &FormContext) -> Vec<ActionForm> {
    let i18n = cx.i18n;
    let state = def
        .states
        .and_then(|s| rec.get(s.field))
        .and_then(Value::as_str)
        .unwrap_or("");
    def.actions
        .iter()
        .filter(|a| a.from.is_empty() || a.from.contains(&state))
        .map(|a| ActionForm {
            name: a.name,
            label: i18n.t(&format!("action-{}-{}", def.name, a.name)),
            fields: a
                .input
                .iter()
                .map(|f| {
                    let mut ff = input_for(
                        format!("a.{}", f.name),
                        field_label(def.name, f.name, i18n),
                        &f.kind,
                        cx.choices.of(f.name),
                        None,
                        cx,
                    );
                    ff.required = f.required;
                    ff
                })
                .collect(),
        })
        .collect()
}

/// Records of another entity that refer to the one on the page, with a button to add one.
pub struct RelatedList {
    /// `<entity plural>-<field>`, unique on the page (the table's id).
    pub key: String,
    pub label: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub new_href: String,
}

/// The related list for one reference to the record `id`, or `None` when the reader's role may
/// not read that entity at all.
async fn related_list(
    st: &State,
    user: &UiUser,
    reference: Reference,
    id: Uuid,
    i18n: &I18n,
) -> Result<Option<RelatedList>, ApiError> {
    let from = reference.from;
    let q = ListQuery {
        filter: Some(Filter::Cond {
            field: reference.field.name.into(),
            op: FilterOp::Eq,
            value: Value::String(id.to_string()),
        }),
        limit: 200,
        ..Default::default()
    };
    let page = match st.core.records(from).list(&user.actor, &q).await {
        Ok(p) => p,
        Err(CoreError::Forbidden { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let lk = lookups(st, &user.actor, from, &page.items, |_| vec![]).await?;
    let rows = page
        .items
        .iter()
        .map(|r| Row::of(from, r, from.related_columns, &lk, i18n))
        .collect();
    // A heading of its own when the reference has one ("subsidiaries" for an account's
    // children), else the entity's name.
    let label = i18n
        .maybe(&format!("related-{}-{}", from.name, reference.field.name))
        .unwrap_or_else(|| i18n.t(&format!("nav-{}", from.plural)));
    Ok(Some(RelatedList {
        key: format!("{}-{}", from.plural, reference.field.name),
        label,
        columns: from
            .related_columns
            .iter()
            .map(|k| field_label(from.name, k, i18n))
            .collect(),
        rows,
        new_href: format!("/{}/new?{}={id}", from.plural, reference.field.name),
    }))
}

/// A value in the history, by the kind of the field it was.
fn value_text(def: &EntityDef, field: &str, v: &Value, lk: &Lookups, i18n: &I18n) -> String {
    match kind_at(def, &lk.custom, field) {
        Some(k) => value_cell(k, v, lk, i18n).text,
        None => match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

async fn detail(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let pairs = query_pairs(raw.as_deref());
    let tab = form_get(&pairs, "tab").unwrap_or("details").to_string();
    detail_page(
        def,
        &st,
        &user,
        id,
        tab,
        Vec::new(),
        ReminderDraft::default(),
    )
    .await
}

/// The record page, with the problems that stopped what was just tried (what succeeded is the
/// frame's message, from the query string).
pub(super) async fn detail_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: Uuid,
    tab: String,
    problems: Vec<String>,
    draft: ReminderDraft,
) -> Response {
    let svc = st.core.records(def);
    let (rec, can_write, deleted) = match svc.get_with_access(&user.actor, id).await {
        Ok((r, w)) => (r, w, false),
        Err(CoreError::NotFound) => match svc.get_deleted(&user.actor, id).await {
            Ok(r) => (r, false, true),
            Err(e) => return error_page(user, e.into()),
        },
        Err(e) => return error_page(user, e.into()),
    };
    let i18n = I18n::for_actor(&user.actor);
    let entries = if tab == "history" {
        match svc.history(&user.actor, id).await {
            Ok(entries) => entries,
            Err(e) => return error_page(user, e.into()),
        }
    } else {
        Vec::new()
    };
    // References in the record and in its history (an account it was once linked to) are titled
    // in one go, each as the reader may see it today.
    let registry = st.core.registry;
    let in_history = |custom: &[CustomFieldDef]| {
        let mut targets = Vec::new();
        for e in &entries {
            for c in &e.changes {
                if let Some(k) = kind_at(def, custom, &c.field) {
                    targets.extend(refs::target_of(registry, k, &c.from));
                    targets.extend(refs::target_of(registry, k, &c.to));
                }
            }
        }
        targets
    };
    let lk = match lookups(st, &user.actor, def, [&rec], in_history).await {
        Ok(l) => l,
        Err(e) => return error_page(user, e),
    };
    // Every field, empty ones included (shown muted), so people see what is not known yet.
    let mut lines = Vec::new();
    for f in def.fields {
        let mut c = cell(def, &rec, f.name, &lk, &i18n);
        if f.name == "name" {
            c.href = None;
        }
        lines.push(FieldLine {
            label: field_label(def.name, f.name, &i18n),
            cell: c,
            edit: (!f.computed && super::inline_edit::in_place(&f.kind))
                .then(|| f.name.to_string()),
        });
    }
    for d in &lk.custom {
        let c = cell(def, &rec, &format!("custom.{}", d.key), &lk, &i18n);
        lines.push(FieldLine {
            label: d.label(i18n.code).to_string(),
            cell: c,
            edit: super::inline_edit::in_place(&d.kind).then(|| format!("custom.{}", d.key)),
        });
    }
    let meta = [
        "owner_id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    .iter()
    .map(|k| FieldLine {
        label: field_label(def.name, k, &i18n),
        cell: cell(def, &rec, k, &lk, &i18n),
        edit: None,
    })
    .collect();
    // Related lists: the records of any entity whose reference fields point at this one.
    let mut related = Vec::new();
    if !deleted {
        // Other entities' records first (an account's contacts), then its own kind's (its
        // subsidiaries).
        let mut references = st.core.registry.references_to(def.name);
        references.sort_by_key(|r| r.from.name == def.name);
        for reference in references {
            match related_list(st, user, reference, id, &i18n).await {
                Ok(Some(list)) => related.push(list),
                Ok(None) => {}
                Err(e) => return error_page(user, e),
            }
        }
    }
    let mut history = Vec::new();
    for e in entries {
        let at_iso = guanxi_core::records::service::ts_string(e.at);
        history.push(HistoryLine {
            at: format!("{} UTC", date_time(&at_iso)),
            at_iso,
            actor: e.actor_name.unwrap_or_default(),
            action: i18n.t(&format!("history-{}", e.action)),
            changes: {
                let order = |f: &str| {
                    def.fields
                        .iter()
                        .position(|d| Some(d.name) == f.split('.').next())
                        .unwrap_or(usize::MAX)
                };
                let mut cs = e.changes.clone();
                cs.sort_by_key(|c| order(&c.field));
                cs
            }
            .iter()
            .map(|c| Change {
                field: c
                    .field
                    .strip_prefix("custom.")
                    .and_then(|k| lk.custom.iter().find(|d| d.key == k))
                    .map(|d| d.label(i18n.code).to_string())
                    .unwrap_or_else(|| field_label(def.name, &c.field, &i18n)),
                from: value_text(def, &c.field, &c.from, &lk, &i18n),
                to: value_text(def, &c.field, &c.to, &lk, &i18n),
            })
            .collect(),
        });
    }
    // Whom an action may name (any active colleague), and to whom the record may be handed
    // (those within the reader's write scope, and whoever owns it now).
    let people: Vec<(String, String)> = match users::list(&st.core.db).await {
        Ok(us) => us
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.to_string(), u.name))
            .collect(),
        Err(e) => return error_page(user, e.into()),
    };
    let current_owner = rec.get("owner_id").and_then(Value::as_str).unwrap_or("");
    let mut owners: Vec<Opt> = match owner_options(st, &user.actor, def).await {
        Ok(us) => us
            .into_iter()
            .map(|(value, label)| Opt {
                selected: value == current_owner,
                value,
                label,
            })
            .collect(),
        Err(e) => return error_page(user, e),
    };
    if !owners.iter().any(|o| o.selected)
        && let Some((value, label)) = people.iter().find(|(v, _)| v == current_owner)
    {
        owners.insert(
            0,
            Opt {
                value: value.clone(),
                label: label.clone(),
                selected: true,
            },
        );
    }
    let action_inputs: Vec<&'static FieldDef> =
        def.actions.iter().flat_map(|a| a.input.iter()).collect();
    let choices = if can_write && !def.actions.is_empty() {
        match choices::load(&st.core, &user.actor, def.fields, &action_inputs).await {
            Ok(c) => c,
            Err(e) => return error_page(user, e),
        }
    } else {
        Choices::default()
    };
    let actions = if can_write {
        let users = people;
        let cx = FormContext {
            titles: &lk.titles,
            choices: &choices,
            users: &users,
            registry: st.core.registry,
            i18n: &i18n,
        };
        action_forms(def, &rec, &cx)
    } else {
        Vec::new()
    };
    let children = child_tables(def, &rec, &lk, &i18n);
    let owned = def.access == guanxi_core::records::Access::Records;
    let owner = rec.get("owner_id").and_then(Value::as_str).unwrap_or("");
    let owner_name = lk.users.get(owner).cloned().unwrap_or_default();
    let can_remind = owned && !deleted && (can_write || owner == user.actor.user_id.to_string());
    let reminders = if owned && !deleted {
        match reminder_lines(st, user, def, id, &lk.users).await {
            Ok(lines) => lines,
            Err(e) => return error_page(user, e.into()),
        }
    } else {
        Vec::new()
    };
    let title = (def.title)(&rec, i18n.code);
    let has_problems = !problems.is_empty();
    let facts = super::facts::key_facts(def, &rec, &lk, &i18n);
    let mut res = render(&DetailPage {
        facts,
        owned,
        reminders,
        can_remind,
        draft,
        owner_name,
        problems,
        children,
        actions,
        page: PageCtx::new(user, title.clone(), def.plural),
        plural: def.plural,
        id: id.to_string(),
        title,
        entity_label: i18n.t(&format!("entity-{}", def.name)),
        lines,
        meta,
        tab,
        related,
        history,
        can_write,
        deleted,
        is_admin: user.actor.is_admin(),
        owners,
        version: rec.get("version").and_then(Value::as_i64).unwrap_or(0),
    });
    if has_problems {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn action(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let svc = st.core.records(def);
    let version = form_get(&f, "version").and_then(|v| v.parse::<i64>().ok());
    let result = match action.as_str() {
        "delete" => svc
            .delete(&user.actor, id, version)
            .await
            .map(|_| format!("/{0}?done=delete&undo={0}:{id}", def.plural)),
        "restore" => svc
            .restore(&user.actor, id)
            .await
            .map(|_| format!("/{}/{id}?done=restore", def.plural)),
        "purge" => svc
            .purge(&user.actor, id)
            .await
            .map(|_| "/recycle-bin?done=purge".to_string()),
        "owner" => match form_get(&f, "owner_id").and_then(|s| Uuid::parse_str(s).ok()) {
            Some(o) => svc
                .change_owner(&user.actor, &[id], o)
                .await
                .map(|_| format!("/{}/{id}?done=owner", def.plural)),
            None => Err(choose_an_owner()),
        },
        name => match def.action(name) {
            Some(a) => {
                let mut input = JsonMap::new();
                for field in a.input {
                    if let Some(v) = form_get(&f, &format!("a.{}", field.name)) {
                        input.insert(field.name.into(), Value::String(v.to_string()));
                    }
                }
                match svc
                    .act(&user.actor, id, a.name, version, &Value::Object(input))
                    .await
                {
                    Ok(_) => Ok(format!("/{}/{id}?done={}", def.plural, a.name)),
                    // The page again, saying what stopped the action, field by field.
                    Err(CoreError::Validation(fields)) => {
                        let i18n = I18n::for_actor(&user.actor);
                        let problems = fields
                            .iter()
                            .map(|(k, m)| {
                                i18n.named_field_error(&field_label(def.name, k, &i18n), m)
                            })
                            .collect();
                        return detail_page(
                            def,
                            &st,
                            &user,
                            id,
                            "details".into(),
                            problems,
                            ReminderDraft::default(),
                        )
                        .await;
                    }
                    Err(e) => Err(e),
                }
            }
            None => return error_page(&user, ApiError::not_found()),
        },
    };
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}

/// A pending reminder as the record page lists it.
/// The reminder form as it was filled in: the local time typed and the note.
#[derive(Default)]
pub struct ReminderDraft {
    pub at: String,
    pub note: String,
}

pub struct ReminderLine {
    pub id: String,
    pub at: String,
    /// The same instant in RFC 3339, which the page's script shows in the reader's own time.
    pub at_utc: String,
    pub note: String,
    pub for_name: String,
}

/// The record's pending reminders, worded for its page.
async fn reminder_lines(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    id: Uuid,
    names: &std::collections::HashMap<String, String>,
) -> Result<Vec<ReminderLine>, CoreError> {
    Ok(
        guanxi_core::reminders::pending(&st.core, &user.actor, def, id)
            .await?
            .into_iter()
            .map(|r| ReminderLine {
                id: r.id.to_string(),
                at: r.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                at_utc: r.at.to_rfc3339(),
                note: r.note,
                for_name: names
                    .get(&r.user_id.to_string())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

// ---------- forms ----------

pub struct Part {
    pub name: String,
    pub label: String,
    pub value: String,
    /// Which part of a compound value it is (`province`), for the page's script.
    pub part: &'static str,
}

pub struct Item {
    pub value: String,
    pub label: String,
}

pub struct FormField {
    /// A child collection's lines, one row of inputs each (kind "children").
    pub rows: Vec<FormRow>,
    pub columns: Vec<String>,
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Opt>,
    pub parts: Vec<Part>,
    pub items: Vec<Item>,
    pub item_key: &'static str,
    pub error: Option<String>,
    pub required: bool,
    pub ref_title: String,
    /// The field holds a reference the reader may not read: the picker says so instead of
    /// naming it, and the id stays so that saving the form keeps the link.
    pub ref_unreadable: bool,
    pub ref_entity: &'static str,
    /// Its options are people: its select searches them as you type however few they are.
    pub people: bool,
}

impl FormField {
    /// Whether its select searches its options as you type: people, or a list too long to
    /// scan.
    pub fn searchable(&self) -> bool {
        self.people || self.options.len() > super::options::MANY
    }
}

pub struct FormRow {
    /// The line's id, kept so the line keeps its identity; empty for a new line.
    pub id: String,
    pub cells: Vec<FormField>,
}

#[derive(Template)]
#[template(path = "records/form.html")]
struct FormPage {
    page: PageCtx,
    heading: String,
    action: String,
    cancel: String,
    fields: Vec<FormField>,
    version: Option<i64>,
    has_errors: bool,
    /// Where the form asks, while it is typed, which records it may duplicate (查重).
    dedupe_url: Option<String>,
    /// The record being edited, which is not its own duplicate.
    record_id: Option<String>,
    /// The possible duplicates that stopped the save.
    dups: Option<super::duplicates::Notice>,
}

fn vstr(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn blank_field(name: String, label: String, kind: &'static str) -> FormField {
    FormField {
        name,
        label,
        kind,
        value: String::new(),
        options: vec![],
        parts: vec![],
        items: vec![],
        item_key: "",
        error: None,
        required: false,
        ref_title: String::new(),
        ref_unreadable: false,
        ref_entity: "",
        rows: vec![],
        columns: vec![],
        people: false,
    }
}

/// What a form needs to offer values: the options of fields picked from a list, the users,
/// the titles of referenced records, the entities a "regarding" value may be about.
struct FormContext<'a> {
    titles: &'a refs::Titles,
    choices: &'a Choices,
    users: &'a [(String, String)],
    registry: &'a Registry,
    i18n: &'a I18n,
}

/// The input for one value of a field of `kind`, standard or custom: the kind decides the
/// control. `picked` are the options of a field picked from a list of records.
fn input_for(
    name: String,
    label: String,
    kind: &FieldKind,
    picked: Option<&[(String, String)]>,
    v: Option<&Value>,
    cx: &FormContext,
) -> FormField {
    let i18n = cx.i18n;
    let mut ff = blank_field(name, label, "text");
    let select = |ff: &mut FormField, options: &mut dyn Iterator<Item = (String, String)>| {
        ff.kind = "select";
        let cur = vstr(v);
        ff.options.push(Opt {
            value: String::new(),
            label: "—".into(),
            selected: cur.is_empty(),
        });
        ff.options.extend(options.map(|(value, label)| Opt {
            selected: value == cur,
            value,
            label,
        }));
    };
    if let Some(options) = picked {
        select(&mut ff, &mut options.iter().cloned());
        return ff;
    }
    match kind {
        FieldKind::Text { .. } | FieldKind::TaxId => ff.value = vstr(v),
        FieldKind::Url => {
            ff.kind = "url";
            ff.value = vstr(v);
        }
        FieldKind::LongText { .. } => {
            ff.kind = "textarea";
            ff.value = vstr(v);
        }
        FieldKind::Int { .. } => {
            ff.kind = "number";
            ff.value = vstr(v);
        }
        FieldKind::Date => {
            ff.kind = "date";
            ff.value = vstr(v);
        }
        FieldKind::DateTime => {
            ff.kind = "datetime";
            // The input shows UTC until people have time zones of their own; the page's script
            // sends the browser's offset with what is typed.
            ff.value = v
                .and_then(Value::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default();
        }
        FieldKind::Bool => {
            ff.kind = "checkbox";
            ff.value = if v.and_then(Value::as_bool).unwrap_or(false) {
                "on".into()
            } else {
                String::new()
            };
        }
        FieldKind::Choice(options) => select(
            &mut ff,
            &mut options
                .codes()
                .into_iter()
                .map(|o| (o.to_string(), display::choice_label(options, o, i18n))),
        ),
        FieldKind::MultiChoice(options) => {
            ff.kind = "multi";
            let cur: Vec<String> = v
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|x| vstr(Some(x))).collect())
                .unwrap_or_default();
            ff.options = options
                .codes()
                .into_iter()
                .map(|o| Opt {
                    value: o.to_string(),
                    label: display::choice_label(options, o, i18n),
                    selected: cur.iter().any(|c| c == o),
                })
                .collect();
        }
        FieldKind::User => {
            ff.people = true;
            select(&mut ff, &mut cx.users.iter().cloned())
        }
        FieldKind::Money => {
            ff.kind = "money";
            let m = v.cloned().unwrap_or(Value::Null);
            ff.parts.push(Part {
                name: format!("{}.amount", ff.name),
                label: i18n.t("money-amount"),
                value: vstr(m.get("amount")),
                part: "",
            });
            let cur = vstr(m.get("currency"));
            let cur = if cur.is_empty() {
                "CNY".to_string()
            } else {
                cur
            };
            ff.options = ["CNY", "USD", "EUR", "GBP", "JPY", "HKD", "SGD"]
                .iter()
                .map(|c| Opt {
                    value: c.to_string(),
                    label: c.to_string(),
                    selected: *c == cur,
                })
                .collect();
            if !ff.options.iter().any(|o| o.selected) {
                ff.options.push(Opt {
                    value: cur.clone(),
                    label: cur,
                    selected: true,
                });
            }
        }
        FieldKind::Address => {
            ff.kind = "address";
            let a = v.cloned().unwrap_or(Value::Null);
            ff.parts = ADDRESS_PARTS
                .iter()
                .map(|p| Part {
                    name: format!("{}.{p}", ff.name),
                    label: i18n.t(&format!("addr-{p}")),
                    value: vstr(a.get(*p)),
                    part: p,
                })
                .collect();
        }
        FieldKind::Phones | FieldKind::Emails => {
            ff.kind = "list";
            ff.item_key = if matches!(kind, FieldKind::Phones) {
                "number"
            } else {
                "address"
            };
            let items = v.and_then(Value::as_array).cloned().unwrap_or_default();
            ff.items = items
                .iter()
                .map(|i| Item {
                    value: vstr(i.get(ff.item_key)),
                    label: vstr(i.get("label")),
                })
                .collect();
            while ff.items.len() < items.len().max(1) + 1 {
                ff.items.push(Item {
                    value: String::new(),
                    label: String::new(),
                });
            }
            // Errors on list entries are reported on the field as a whole.
        }
        FieldKind::StringList { .. } => {
            ff.kind = "lines";
            ff.value = v
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|x| vstr(Some(x)))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
        }
        FieldKind::Percent | FieldKind::Decimal { .. } => {
            ff.kind = "decimal";
            ff.value = vstr(v);
        }
        FieldKind::Duration => {
            ff.kind = "duration";
            let seconds = v.and_then(Value::as_i64);
            ff.parts = [
                ("hours", seconds.map(|s| s / 3600)),
                ("minutes", seconds.map(|s| s % 3600 / 60)),
            ]
            .into_iter()
            .map(|(unit, n)| Part {
                name: format!("{}.{unit}", ff.name),
                label: i18n.t(&format!("duration-unit-{unit}")),
                value: n.map(|n| n.to_string()).unwrap_or_default(),
                part: "",
            })
            .collect();
        }
        FieldKind::LineRef { .. } => ff.value = vstr(v),
        FieldKind::Labels { .. } => {
            ff.kind = "address";
            let labels = v.cloned().unwrap_or(Value::Null);
            ff.parts = guanxi_core::records::values::LABEL_LOCALES
                .iter()
                .map(|l| Part {
                    name: format!("{}.{l}", ff.name),
                    label: i18n.t(&format!("label-in-{l}")),
                    value: vstr(labels.get(*l)),
                    part: "",
                })
                .collect();
        }
        FieldKind::Ref { table, .. } => {
            ff.kind = "ref";
            ff.ref_entity = table;
            ff.value = vstr(v);
            ref_title(&mut ff, kind, v, cx);
        }
        FieldKind::Regarding => {
            ff.kind = "regarding";
            let entity = v.and_then(|v| v.get("entity")).and_then(Value::as_str);
            ff.options = cx
                .registry
                .all()
                .iter()
                .filter(|e| e.access == guanxi_core::records::Access::Records)
                .map(|e| Opt {
                    value: e.name.to_string(),
                    label: i18n.t(&format!("entity-{}", e.name)),
                    selected: Some(e.name) == entity,
                })
                .collect();
            ff.value = vstr(v.and_then(|v| v.get("id")));
            ref_title(&mut ff, kind, v, cx);
        }
    }
    ff
}

/// What a reference picker shows for the record it holds: its title, or that the reader may
/// not read it.
fn ref_title(ff: &mut FormField, kind: &FieldKind, v: Option<&Value>, cx: &FormContext) {
    match v
        .and_then(|v| refs::target_of(cx.registry, kind, v))
        .map(|t| cx.titles.view(t))
    {
        Some(RefView::Readable(title)) => ff.ref_title = title.to_string(),
        Some(RefView::Unreadable) => ff.ref_unreadable = true,
        None => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn form_fields(
    def: &EntityDef,
    custom: &[CustomFieldDef],
    rec: &JsonMap,
    errors: &guanxi_core::FieldErrors,
    titles: &refs::Titles,
    choices: &Choices,
    owners: &[(String, String)],
    registry: &Registry,
    i18n: &I18n,
) -> Vec<FormField> {
    let cx = FormContext {
        titles,
        choices,
        users: owners,
        registry,
        i18n,
    };
    let mut out = Vec::new();
    for f in def.fields {
        if f.computed {
            continue;
        }
        let mut ff = input_for(
            format!("f.{}", f.name),
            field_label(def.name, f.name, i18n),
            &f.kind,
            choices.of(f.name),
            rec.get(f.name),
            &cx,
        );
        ff.required = f.required;
        ff.error = errors
            .iter()
            .find(|(k, _)| *k == f.name)
            .map(|(_, m)| i18n.field_error(m));
        out.push(ff);
    }
    for child in def.children.iter().filter(|c| !c.computed) {
        let mut ff = blank_field(
            format!("f.{}", child.name),
            field_label(def.name, child.name, i18n),
            "children",
        );
        ff.columns = child
            .fields
            .iter()
            .map(|f| field_label(child.name, f.name, i18n))
            .collect();
        let lines = rec
            .get(child.name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Two empty rows to add lines without JavaScript; the script adds more.
        let rows = (lines.len() + 2).min(child.max);
        for i in 0..rows {
            let line = lines.get(i);
            let cells = child
                .fields
                .iter()
                .map(|f| {
                    let mut cell = input_for(
                        format!("f.{}.{i}.{}", child.name, f.name),
                        field_label(child.name, f.name, i18n),
                        &f.kind,
                        choices.of(f.name),
                        line.and_then(|l| l.get(f.name)),
                        &cx,
                    );
                    cell.required = f.required;
                    cell.error = errors
                        .get(&format!("{}[{i}].{}", child.name, f.name))
                        .map(|m| i18n.field_error(m));
                    cell
                })
                .collect();
            ff.rows.push(FormRow {
                id: vstr(line.and_then(|l| l.get("id"))),
                cells,
            });
        }
        ff.error = errors.get(child.name).map(|m| i18n.field_error(m));
        out.push(ff);
    }
    let owner_now = vstr(rec.get("owner_id"));
    let mut owner = blank_field(
        "f.owner_id".into(),
        field_label(def.name, "owner_id", i18n),
        "select",
    );
    owner.options = owners
        .iter()
        .map(|(id, name)| Opt {
            value: id.clone(),
            label: name.clone(),
            selected: *id == owner_now,
        })
        .collect();
    owner.people = true;
    owner.error = errors.get("owner_id").map(|e| i18n.field_error(e));
    // Setup lists belong to nobody in particular: their owner is not asked for.
    if def.access == guanxi_core::records::Access::Records {
        out.push(owner);
    }
    let cv = rec.get("custom").cloned().unwrap_or(Value::Null);
    for d in custom {
        let mut ff = input_for(
            format!("f.{}", d.path()),
            d.label(i18n.code).to_string(),
            &d.kind,
            None,
            cv.get(&d.key),
            &cx,
        );
        ff.required = d.required;
        ff.error = errors.get(&d.path()).map(|e| i18n.field_error(e));
        out.push(ff);
    }
    // Errors for fields the form does not show (e.g. list entries) still need to be seen.
    for (k, e) in errors {
        let shown = out.iter().any(|f| f.name == format!("f.{k}"));
        if !shown
            && let Some(f) = out
                .iter_mut()
                .find(|f| f.name == format!("f.{}", k.split('.').next().unwrap_or(k)))
        {
            f.error = Some(i18n.field_error(e));
        }
    }
    out
}

/// The users the actor may hand a record of `def` to: enabled, and within their write scope
/// (a sales rep who writes only their own records is offered only themself), so a form or a
/// bulk action offers nothing the service would refuse.
async fn owner_options(
    st: &State,
    actor: &guanxi_core::Actor,
    def: &EntityDef,
) -> Result<Vec<(String, String)>, ApiError> {
    let write = actor.grant(def.name).write;
    Ok(users::list(&st.core.db)
        .await?
        .into_iter()
        .filter(|u| !u.disabled && actor.reaches(write, u.id, u.team_id))
        .map(|u| (u.id.to_string(), u.name))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn show_form(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    rec: &JsonMap,
    errors: &guanxi_core::FieldErrors,
    id: Option<Uuid>,
    version: Option<i64>,
    dups: Option<super::duplicates::Notice>,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let custom = match st.core.records(def).custom_defs().await {
        Ok(c) => c,
        Err(e) => return error_page(user, e.into()),
    };
    let owners = match owner_options(st, &user.actor, def).await {
        Ok(o) => o,
        Err(e) => return error_page(user, e),
    };
    // The references come from the stored record, the submitted form or (for a new record) the
    // address, e.g. `/contacts/new?account_id=…`: any id can be typed there, so each is titled
    // only if the user may read it.
    let targets = refs::targets(st.core.registry, def, &custom, [rec]);
    let titles = match refs::titles(&st.core, &user.actor, &targets).await {
        Ok(t) => t,
        Err(e) => return error_page(user, e.into()),
    };
    let entity = i18n.t(&format!("entity-{}", def.name));
    let (heading, action, cancel) = match id {
        Some(id) => (
            i18n.t1("form-edit-title", "entity", &entity),
            format!("/{}/{id}", def.plural),
            format!("/{}/{id}", def.plural),
        ),
        None => (
            i18n.t1("form-new-title", "entity", &entity),
            format!("/{}", def.plural),
            format!("/{}", def.plural),
        ),
    };
    let choices = match choices::load(&st.core, &user.actor, def.fields, &[]).await {
        Ok(c) => c,
        Err(e) => return error_page(user, e),
    };
    let fields = form_fields(
        def,
        &custom,
        rec,
        errors,
        &titles,
        &choices,
        &owners,
        st.core.registry,
        &i18n,
    );
    let refused = !errors.is_empty() || dups.is_some();
    let mut res = render(&FormPage {
        page: PageCtx::new(user, heading.clone(), def.plural),
        heading,
        action,
        cancel,
        fields,
        version,
        has_errors: !errors.is_empty(),
        dedupe_url: (!def.dedupe.is_empty()).then(|| format!("/{}/duplicates", def.plural)),
        record_id: id.map(|i| i.to_string()),
        dups,
    });
    if refused {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn new_form(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut rec = JsonMap::new();
    rec.insert(
        "owner_id".into(),
        Value::String(user.actor.user_id.to_string()),
    );
    for f in def.fields {
        if let Some(v) = f.initial {
            rec.insert(f.name.into(), Value::String(v.into()));
        }
    }
    for (k, v) in query_pairs(raw.as_deref()) {
        if def
            .field(&k)
            .is_some_and(|f| matches!(f.kind, FieldKind::Ref { .. }))
        {
            rec.insert(k, Value::String(v));
        }
    }
    show_form(&st, &user, def, &rec, &Default::default(), None, None, None).await
}

async fn edit_form(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    match st.core.records(def).get_with_access(&user.actor, id).await {
        Ok((rec, true)) => {
            let version = rec.get("version").and_then(Value::as_i64);
            show_form(
                &st,
                &user,
                def,
                &rec,
                &Default::default(),
                Some(id),
                version,
                None,
            )
            .await
        }
        Ok((_, false)) => error_page(
            &user,
            CoreError::forbidden_for(codes::RECORD_OUT_OF_REACH, def.name).into(),
        ),
        Err(e) => error_page(&user, e.into()),
    }
}

async fn create(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let input = form_input(&st, def, &f).await;
    match st.core.records(def).create(&user.actor, &input).await {
        Ok(rec) => Redirect::to(&format!(
            "/{}/{}?done=create",
            def.plural,
            vstr(rec.get("id"))
        ))
        .into_response(),
        Err(e) => refused_form(&st, &user, def, &input, None, None, e).await,
    }
}

async fn update(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let input = form_input(&st, def, &f).await;
    let version = form_get(&f, "version").and_then(|v| v.parse::<i64>().ok());
    match st
        .core
        .records(def)
        .update(&user.actor, id, version, &input)
        .await
    {
        Ok(_) => Redirect::to(&format!("/{}/{id}?done=update", def.plural)).into_response(),
        Err(e) => refused_form(&st, &user, def, &input, Some(id), version, e).await,
    }
}

/// A record form's input, with the user's "save anyway" for possible duplicates.
async fn form_input(st: &State, def: &'static EntityDef, f: &[(String, String)]) -> Value {
    let custom = st.core.records(def).custom_defs().await.unwrap_or_default();
    let mut input = crate::forms::record_from_form(def, &custom, f);
    if form_get(f, "allow_duplicate").is_some()
        && let Some(o) = input.as_object_mut()
    {
        o.insert(
            guanxi_core::records::service::ALLOW_DUPLICATE.into(),
            Value::Bool(true),
        );
    }
    input
}

/// The form again after a refused save, as it was filled in: with each field's error, or with
/// the records it may duplicate (and, where only warned of, the choice to save anyway).
async fn refused_form(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    input: &Value,
    id: Option<Uuid>,
    version: Option<i64>,
    e: CoreError,
) -> Response {
    let rec = input.as_object().cloned().unwrap_or_default();
    match e {
        CoreError::Validation(errors) => {
            show_form(st, user, def, &rec, &errors, id, version, None).await
        }
        CoreError::Conflict { code, params, .. } if code == codes::DUPLICATE => {
            let i18n = I18n::for_actor(&user.actor);
            let matches = params
                .get("matches")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let notice = super::duplicates::notice(def, &matches, &i18n);
            show_form(
                st,
                user,
                def,
                &rec,
                &Default::default(),
                id,
                version,
                notice,
            )
            .await
        }
        e => error_page(user, e.into()),
    }
}

// ---------- search and recycle bin ----------

pub struct Hit {
    pub entity: String,
    pub title: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "search/results.html")]
struct SearchPage {
    page: PageCtx,
    q: String,
    hits: Vec<Hit>,
}

async fn search_page(
    AxState(st): AxState<State>,
    user: UiUser,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let q: String = form_get(&pairs, "q")
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let i18n = I18n::for_actor(&user.actor);
    let registry = st.core.registry;
    let hits = match search::search(&st.core.db, &user.actor, &q, registry.all(), 50).await {
        Ok(h) => h,
        Err(e) => return error_page(&user, e.into()),
    };
    let hits = hits
        .into_iter()
        .filter_map(|h| {
            let plural = registry.by_name(&h.entity)?.plural;
            Some(Hit {
                entity: i18n.t(&format!("entity-{}", h.entity)),
                title: h.title,
                href: format!("/{plural}/{}", h.id),
            })
        })
        .collect();
    let mut page = PageCtx::new(&user, i18n.t("search-title"), "search");
    page.q = q.clone();
    render(&SearchPage { page, q, hits })
}

pub struct BinLine {
    pub entity: String,
    pub plural: &'static str,
    pub id: String,
    pub title: String,
    pub deleted_at: String,
    pub deleted_by: String,
}

#[derive(Template)]
#[template(path = "search/recycle_bin.html")]
struct BinPage {
    page: PageCtx,
    lines: Vec<BinLine>,
    is_admin: bool,
}

async fn recycle_bin(AxState(st): AxState<State>, user: UiUser) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let names: HashMap<String, String> = match users::list(&st.core.db).await {
        Ok(us) => us.into_iter().map(|u| (u.id.to_string(), u.name)).collect(),
        Err(e) => return error_page(&user, e.into()),
    };
    let mut lines = Vec::new();
    for def in st.core.registry.all() {
        let q = ListQuery {
            limit: 200,
            deleted: true,
            ..Default::default()
        };
        match st.core.records(def).list(&user.actor, &q).await {
            Ok(p) => {
                for rec in p.items {
                    lines.push(BinLine {
                        entity: i18n.t(&format!("entity-{}", def.name)),
                        plural: def.plural,
                        id: vstr(rec.get("id")),
                        title: (def.title)(&rec, i18n.code),
                        deleted_at: date_time(&vstr(rec.get("deleted_at"))),
                        deleted_by: names
                            .get(&vstr(rec.get("deleted_by")))
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
            Err(CoreError::Forbidden { .. }) => {}
            Err(e) => return error_page(&user, e.into()),
        }
    }
    lines.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at));
    render(&BinPage {
        page: PageCtx::new(&user, i18n.t("bin-title"), "bin"),
        lines,
        is_admin: user.actor.is_admin(),
    })
}
