//! Record values as people read them: a cell's text and link, and the lookups that give them
//! (users' names, the titles of referenced records as the reader may see them, custom fields).
//! What the record pages, the lists and the charts above them share.

use foldhash::HashMap;

use guanxi_core::Actor;
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::identity::users;
use guanxi_core::records::{EntityDef, FieldKind, Registry};
use guanxi_core::refs::{self, RefView, Target};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::display;
use crate::State;
use crate::error::ApiError;
use crate::i18n::I18n;

type JsonMap = Map<String, Value>;

#[derive(Clone, Debug)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    /// For values of several parts that each open something (phones call, e-mails write):
    /// each part's text and link, shown instead of `text`.
    pub links: Vec<(String, String)>,
    /// For an instant: its RFC 3339 form, for machines (`<time datetime>`); `text` is the
    /// reader's wall-clock time.
    pub instant: Option<String>,
}

/// How a cell reads on a page: its links, its one link, or its text.
#[derive(askama::Template)]
#[template(
    source = "{% if !cell.links.is_empty() %}{% for (t, h) in cell.links %}<a href=\"{{ h }}\">{{ t }}</a>{% if !loop.last %}, {% endif %}{% endfor %}{% else if let Some(h) = cell.href %}<a href=\"{{ h }}\">{{ cell.text }}</a>{% else if let Some(t) = cell.instant %}<time datetime=\"{{ t }}\">{{ cell.text }}</time>{% else %}{{ cell.text }}{% endif %}",
    ext = "html"
)]
pub struct CellHtml<'a> {
    cell: &'a Cell,
}

impl Cell {
    pub fn text(text: String) -> Cell {
        Cell {
            text,
            href: None,
            links: Vec::new(),
            instant: None,
        }
    }

    pub fn link(text: String, href: Option<String>) -> Cell {
        Cell {
            href,
            ..Cell::text(text)
        }
    }

    /// An instant given in RFC 3339, in the reader's time zone; nothing for what is not one.
    pub fn instant(rfc3339: &str, i18n: &I18n) -> Cell {
        match chrono::DateTime::parse_from_rfc3339(rfc3339) {
            Ok(t) => Cell {
                instant: Some(rfc3339.to_string()),
                ..Cell::text(i18n.instant(t.to_utc()))
            },
            Err(_) => Cell::text(String::new()),
        }
    }

    /// The cell as HTML, escaped; for templates (`{{ c.html()|safe }}`), written straight into
    /// the page (the template's `Display`) rather than into a string of its own first: a board
    /// has a thousand cells.
    pub fn html(&self) -> CellHtml<'_> {
        CellHtml { cell: self }
    }
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

/// What of the records a page shows, and so which names and titles [`lookups`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Any field: every user (a page that offers them, as a list's owner filter does, or may
    /// show any of them, as a record's history does) and every reference the records hold.
    Everything,
    /// Only these fields (`owner_id`, `account_id`, `billing_address.city`): the users and
    /// references they hold. The key facts of search answers, read on every keystroke.
    Only(&'static [&'static str]),
    /// Every user (a page that offers them all, as a board's filter bar does) but only the
    /// references these fields hold: a board's cards show four fields, and titling every
    /// reference its records hold was a tenth of its CPU.
    AllUsersAnd(&'static [&'static str]),
}

impl Reading {
    /// Whether a field (an address by its own name, not a part's) is shown.
    fn shows(self, field: &str) -> bool {
        match self {
            Reading::Everything => true,
            Reading::Only(fields) | Reading::AllUsersAnd(fields) => fields
                .iter()
                .any(|f| f.split('.').next() == Some(field) || *f == field),
        }
    }
}

/// What a page needs to show records of `def`: users' names, its custom fields, and the titles
/// of the records they refer to — those `recs` hold, and those `more` finds (in a history).
pub(super) async fn lookups<'r>(
    st: &State,
    actor: &Actor,
    def: &'static EntityDef,
    recs: impl IntoIterator<Item = &'r JsonMap>,
    reading: Reading,
    more: impl FnOnce(&[CustomFieldDef]) -> Vec<Target>,
) -> Result<Lookups, ApiError> {
    let recs: Vec<&JsonMap> = recs.into_iter().collect();
    let users = match reading {
        Reading::Everything | Reading::AllUsersAnd(_) => users::list(&st.core.db)
            .await?
            .iter()
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        Reading::Only(_) => users::names(&st.core.db, &named_users(def, &recs, reading))
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    };
    let custom = st.core.records(def).custom_defs().await?;
    let mut targets = refs::targets(st.core.registry, def, &custom, recs, |f| reading.shows(f));
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

/// The users `recs` name as owner, creator, updater or in a user field of `def`, in the fields
/// `reading` shows.
fn named_users(def: &EntityDef, recs: &[&JsonMap], reading: Reading) -> Vec<Uuid> {
    let fields = ["owner_id", "created_by", "updated_by"].into_iter().chain(
        def.fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::User))
            .map(|f| f.name),
    );
    let fields: Vec<&str> = fields.filter(|f| reading.shows(f)).collect();
    let mut ids: Vec<Uuid> = recs
        .iter()
        .flat_map(|rec| fields.iter().filter_map(|f| rec.get(*f)))
        .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
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
        return Cell::text(String::new());
    };
    match lk.titles.view(target) {
        RefView::Readable(title) => Cell::link(
            title.to_string(),
            lk.registry.by_name(target.entity).map(|d| {
                // Not `format!`: a uuid's `Display` cost more than the rest of the cell.
                let mut href = String::with_capacity(d.plural.len() + 38);
                href.push('/');
                href.push_str(d.plural);
                href.push('/');
                href.push_str(target.id.hyphenated().encode_lower(&mut [0; 36]));
                href
            }),
        ),
        RefView::Unreadable => Cell::text(i18n.t("record-unreadable")),
    }
}

/// One value of a field of `kind`, standard or custom, as a cell: references by their title
/// with a link (or as unreadable), users by name, web addresses as links, the rest as it reads.
pub(super) fn value_cell(kind: &FieldKind, v: &Value, lk: &Lookups, i18n: &I18n) -> Cell {
    match kind {
        FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => {
            ref_cell(kind, v, lk, i18n)
        }
        FieldKind::User => Cell::text(
            lk.users
                .get(v.as_str().unwrap_or(""))
                .cloned()
                .unwrap_or_default(),
        ),
        FieldKind::Url => {
            let s = v.as_str().unwrap_or("").to_string();
            let href = if s.starts_with("http://") || s.starts_with("https://") {
                Some(s.clone())
            } else if s.is_empty() {
                None
            } else {
                Some(format!("https://{s}"))
            };
            Cell::link(s, href)
        }
        FieldKind::Phones | FieldKind::Emails => {
            let links = display::contact_points(kind, v, &lk.region, i18n);
            let text = links
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Cell {
                links,
                ..Cell::text(text)
            }
        }
        FieldKind::DateTime => Cell::instant(v.as_str().unwrap_or(""), i18n),
        _ => Cell::text(display::human(kind, v, i18n, &lk.region)),
    }
}

/// The cell of column `key` (a field, an address part, a custom field, a system field) of a
/// record, as lists and headers show it; the name links to the record.
pub(super) fn cell(def: &EntityDef, rec: &JsonMap, key: &str, lk: &Lookups, i18n: &I18n) -> Cell {
    let text = Cell::text;
    if key == "name" {
        let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
        return Cell::link(
            (def.title)(rec, i18n.code),
            Some(format!("/{}/{id}", def.plural)),
        );
    }
    if key == "owner_id" || key == "created_by" || key == "updated_by" {
        let u = rec.get(key).and_then(Value::as_str).unwrap_or("");
        return text(lk.users.get(u).cloned().unwrap_or_default());
    }
    if key == "created_at" || key == "updated_at" {
        return Cell::instant(rec.get(key).and_then(Value::as_str).unwrap_or(""), i18n);
    }
    if let Some(ck) = key.strip_prefix("custom.") {
        let v = rec
            .get("custom")
            .and_then(|c| c.get(ck))
            .unwrap_or(&Value::Null);
        return match lk.custom.iter().find(|d| d.key == ck) {
            Some(d) => value_cell(&d.kind, v, lk, i18n),
            None => text(String::new()),
        };
    }
    let (base, part) = key
        .split_once('.')
        .map(|(b, p)| (b, Some(p)))
        .unwrap_or((key, None));
    let Some(f) = def.field(base) else {
        return text(String::new());
    };
    let v = rec.get(base).unwrap_or(&Value::Null);
    if let Some(p) = part {
        return text(v.get(p).and_then(Value::as_str).unwrap_or("").to_string());
    }
    value_cell(&f.kind, v, lk, i18n)
}
