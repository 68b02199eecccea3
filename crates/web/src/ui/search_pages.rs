//! The pages that span every entity: search results and the recycle bin.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;
use guanxi_core::identity::users;
use guanxi_core::records::ListQuery;
use guanxi_core::{CoreError, search};

use super::cells::Cell;
use super::record_form::vstr;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::i18n::I18n;

pub struct Hit {
    pub entity: String,
    pub title: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "search/results.html")]
struct SearchPage {
    pub(super) page: PageCtx,
    pub(super) q: String,
    pub(super) hits: Vec<Hit>,
}

pub(super) async fn search_page(
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
    /// When, as the reader reads it; `deleted_iso` for machines and the order.
    pub deleted_at: String,
    pub deleted_iso: String,
    pub deleted_by: String,
}

#[derive(Template)]
#[template(path = "search/recycle_bin.html")]
struct BinPage {
    pub(super) page: PageCtx,
    pub(super) lines: Vec<BinLine>,
    pub(super) is_admin: bool,
}

pub(super) async fn recycle_bin(AxState(st): AxState<State>, user: UiUser) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let names: HashMap<String, String> = match users::list(&st.core.db).await {
        Ok(us) => us
            .iter()
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
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
                        deleted_at: Cell::instant(&vstr(rec.get("deleted_at")), &i18n).text,
                        deleted_iso: vstr(rec.get("deleted_at")),
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
    lines.sort_by(|a, b| b.deleted_iso.cmp(&a.deleted_iso));
    render(&BinPage {
        page: PageCtx::new(&user, i18n.t("bin-title"), "bin"),
        lines,
        is_admin: user.actor.is_admin(),
    })
}
