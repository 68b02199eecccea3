//! The pages every entity gets, routed from its definition like the API: its list
//! (`record_list`), a record's page (`record_detail`), the create and edit forms (`record_form`),
//! and the pages that span entities, search and the recycle bin (`search_pages`).

use axum::Router;
use axum::extract::{Form, Path, RawQuery, State as AxState};
use axum::routing::{get, post};
use guanxi_core::EntityDef;

use super::posted::Posted;
use crate::State;
use crate::auth::UiUser;
use crate::export_format::FileType;

pub fn router(def: &'static EntityDef) -> Router<State> {
    let p = format!("/{}", def.plural);
    Router::new()
        .route(
            &p,
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| list(def, s, u, q))
                .post(move |s: AxState<State>, p: Posted| create(def, s, p)),
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
            post(move |s: AxState<State>, p: Posted| bulk_owner(def, s, p)),
        )
        .route(
            &format!("{p}/bulk-tasks"),
            post(move |s: AxState<State>, p: Posted| super::follow_ups::plan(def, s, p)),
        )
        .route(
            &format!("{p}/views"),
            post(move |s: AxState<State>, p: Posted| save_view(def, s, p)),
        )
        .route(
            &format!("{p}/views/delete"),
            post(move |s: AxState<State>, p: Posted| delete_view(def, s, p)),
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

// ---------- list ----------

use super::record_detail::{action, detail};
use super::record_form::{create, edit_form, new_form, update};
use super::record_list::{bulk_owner, delete_view, export, list, save_view};
use super::search_pages::{recycle_bin, search_page};
