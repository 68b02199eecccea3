//! Record values as people read them: a cell's text and link, and the lookups that give them
//! (users' names, the titles of referenced records as the reader may see them, custom fields).
//! What the record pages, the lists and the charts above them share.

use std::collections::HashMap;

use guanxi_core::Actor;
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::identity::users;
use guanxi_core::records::{EntityDef, FieldKind, Registry};
use guanxi_core::refs::{self, RefView, Target};
use serde_json::{Map, Value};

use super::display;
use crate::State;
use crate::error::ApiError;
use crate::i18n::I18n;

type JsonMap = Map<String, Value>;

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

/// Everything needed to show record values: users, referenced records (titled as the reader may
/// see them), custom definitions.
pub struct Lookups {
    pub(super) registry: &'static Registry,
    pub(super) region: String,
    pub(super) users: HashMap<String, String>,
    pub(super) titles: refs::Titles,
    pub(super) custom: Vec<CustomFieldDef>,
}

/// What a page needs to show records of `def`: users' names, its custom fields, and the titles
/// of the records they refer to — those `recs` hold, and those `more` finds (in a history).
pub(super) async fn lookups<'r>(
    st: &State,
    actor: &Actor,
    def: &'static EntityDef,
    recs: impl IntoIterator<Item = &'r JsonMap>,
    more: impl FnOnce(&[CustomFieldDef]) -> Vec<Target>,
) -> Result<Lookups, ApiError> {
    let users = users::list(&st.core.db)
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    let custom = st.core.records(def).custom_defs().await?;
    let mut targets = refs::targets(st.core.registry, def, &custom, recs);
    targets.extend(more(&custom));
    let titles = refs::titles(&st.core, actor, &targets).await?;
    Ok(Lookups {
        registry: st.core.registry,
        region: st.core.settings.default_region.clone(),
        users,
        titles,
        custom,
    })
}

/// The kind of the field a name stands for: a record's own (`owner_id` as a user), a custom
/// field's (`custom.tier`) or a field of one of its lines (`contact_roles[1].role`).
pub(super) fn kind_at<'a>(
    def: &EntityDef,
    custom: &'a [CustomFieldDef],
    field: &str,
) -> Option<&'a FieldKind> {
    if field == "owner_id" {
        Some(&FieldKind::User)
    } else if let Some(k) = field.strip_prefix("custom.") {
        custom.iter().find(|d| d.key == k).map(|d| &d.kind)
    } else if let Some((child, rest)) = field.split_once('[') {
        rest.split_once("].")
            .and_then(|(_, f)| def.child(child)?.field(f))
            .map(|f| &f.kind)
    } else {
        def.field(field).map(|f| &f.kind)
    }
}

/// A reference: the record's title linking to it when the reader may read it, otherwise a
/// neutral label with no link (neither the title nor whether the record exists is theirs to see).
fn ref_cell(kind: &FieldKind, v: &Value, lk: &Lookups, i18n: &I18n) -> Cell {
    let Some(target) = refs::target_of(lk.registry, kind, v) else {
        return Cell {
            text: String::new(),
            href: None,
        };
    };
    match lk.titles.view(target) {
        RefView::Readable(title) => Cell {
            text: title.to_string(),
            href: lk
                .registry
                .by_name(target.entity)
                .map(|d| format!("/{}/{}", d.plural, target.id)),
        },
        RefView::Unreadable => Cell {
            text: i18n.t("record-unreadable"),
            href: None,
        },
    }
}

/// One value of a field of `kind`, standard or custom, as a cell: references by their title
/// with a link (or as unreadable), users by name, web addresses as links, the rest as it reads.
pub(super) fn value_cell(kind: &FieldKind, v: &Value, lk: &Lookups, i18n: &I18n) -> Cell {
    match kind {
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => {
            ref_cell(kind, v, lk, i18n)
        }
        FieldKind::User => Cell {
            text: lk
                .users
                .get(v.as_str().unwrap_or(""))
                .cloned()
                .unwrap_or_default(),
            href: None,
        },
        FieldKind::Url => {
            let s = v.as_str().unwrap_or("").to_string();
            let href = if s.starts_with("http://") || s.starts_with("https://") {
                Some(s.clone())
            } else if s.is_empty() {
                None
            } else {
                Some(format!("https://{s}"))
            };
            Cell { text: s, href }
        }
        _ => Cell {
            text: display::human(kind, v, i18n, &lk.region),
            href: None,
        },
    }
}
