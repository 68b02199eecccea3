//! A record's timeline: the activities that regard it or the records that refer to it (an
//! account's own calls, and those with its contacts and about its deals), and the changes made to
//! it, newest first, with what is still to do on top; filterable by kind; with a quick box to log
//! a call, a note or a task. Built from the registry: an entity that declares a timeline
//! ([`TimelineDef`]) feeds the timelines of every entity of business records.

use chrono::{DateTime, Utc};
use guanxi_core::CoreError;
use guanxi_core::records::{
    Access, EntityDef, Filter, FilterOp, ListQuery, Record, Reference, TimelineDef,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::cells::{Lookups, Reading, cell, lookups};
use super::display::field_label;
use super::history::HistoryLine;
use crate::State;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

/// Entries read for one timeline: the newest by creation, then ordered by when they happen.
const MAX_ENTRIES: u64 = 200;
/// Records referring to the page's record whose entries join its timeline, per reference.
const MAX_RELATED: u64 = 500;

/// One line of a timeline: an activity, or a change to the record.
pub struct Entry {
    /// RFC 3339, for machines and for ordering.
    pub at_iso: String,
    pub at: String,
    /// The kind's code (`call`), or `change`.
    pub kind: String,
    pub kind_label: String,
    pub title: String,
    pub href: Option<String>,
    /// The record it regards when that is not the page's (a contact of the account): its
    /// entity's name and its title.
    pub about: Option<String>,
    pub who: String,
    pub detail: String,
    /// What it holds of its kind's own fields (a call's outcome), as "label: value".
    pub facts: Vec<String>,
    pub done: bool,
    /// The history line of a change.
    pub change: Option<HistoryLine>,
}

/// A kind people can filter the timeline by.
pub struct KindChip {
    pub code: String,
    pub label: String,
    pub on: bool,
}

/// The quick box as it was filled in, so that a refused entry loses nothing typed.
#[derive(Clone, Debug, Default)]
pub struct QuickDraft {
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub due: String,
}

/// The quick box: where it posts and which kinds it offers.
pub struct QuickBox {
    /// What was typed into it, when a refusal shows it again.
    pub typed: QuickDraft,
    pub action: String,
    pub kinds: Vec<(String, String)>,
    /// For each of the box's inputs (`subject`, `detail`, `due`), the kinds it is essential to,
    /// space-separated: on a phone only those show until "More details" is pressed.
    pub essential: Vec<(&'static str, String)>,
}

impl QuickBox {
    /// The kinds the box's input `input` is essential to, space-separated.
    pub fn essential_for(&self, input: &str) -> &str {
        self.essential
            .iter()
            .find(|(name, _)| *name == input)
            .map_or("", |(_, kinds)| kinds.as_str())
    }

    /// Whether kind `code` (the `first` offered or not) is the one chosen: the one typed, or
    /// without one the first.
    pub fn checked(&self, code: &str, first: bool) -> bool {
        if self.kinds.iter().any(|(k, _)| *k == self.typed.kind) {
            code == self.typed.kind
        } else {
            first
        }
    }
}

/// Whether the entries' field `field` is essential to an entry of kind `kind` in the quick box,
/// as the declaration says: a field every entry needs (required: its subject), or one that
/// belongs to some kinds only, this among them (a task's due time). What every kind may have
/// but none needs (the notes) is a detail.
fn essential(def: &EntityDef, view: &TimelineDef, field: &str, kind: &str, kinds: usize) -> bool {
    let Some(f) = def.field(field) else {
        return false;
    };
    f.required
        || def.group_of(field).is_some_and(|g| {
            g.field == view.kind && g.values.contains(&kind) && g.values.len() < kinds
        })
}

pub struct Timeline {
    pub chips: Vec<KindChip>,
    /// No kind chosen: every entry shown.
    pub all: bool,
    /// Not done and due or starting from now on, soonest first.
    pub upcoming: Vec<Entry>,
    /// Everything else, newest first.
    pub past: Vec<Entry>,
    pub quick: Option<QuickBox>,
}

/// The entity whose records make timelines, and how, if any is declared.
pub(super) fn source(st: &State) -> Option<(&'static EntityDef, &'static TimelineDef)> {
    st.core
        .registry
        .all()
        .iter()
        .find_map(|d| d.timeline.map(|t| (*d, t)))
}

/// Whether records of `def` have a timeline: business records that are not themselves entries.
pub(super) fn has_timeline(st: &State, def: &EntityDef) -> bool {
    def.access == Access::Records && def.timeline.is_none() && source(st).is_some()
}

fn instant(rec: &Record, field: &str) -> Option<DateTime<Utc>> {
    rec.get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Every record referring to a page's record through one reference, by id and title, as its
/// reader may read them: read for the page's related list, and used again here.
pub struct Referring {
    pub reference: Reference,
    pub records: Vec<(Uuid, String)>,
}

/// The records referring to `id` through a reference field of another entity of business
/// records (an account's contacts and deals) that the reader may read, by id; those `known`
/// holds whole are not read again.
async fn referring(
    st: &State,
    user: &UiUser,
    def: &EntityDef,
    id: Uuid,
    entries: &EntityDef,
    known: &[Referring],
) -> Result<Vec<(Uuid, &'static EntityDef, String)>, ApiError> {
    let i18n = I18n::for_actor(&user.actor);
    let mut out = Vec::new();
    for reference in st.core.registry.references_to(def.name) {
        let from = reference.from;
        if from.access != Access::Records || from.name == entries.name || from.name == def.name {
            continue;
        }
        if let Some(k) = known.iter().find(|k| {
            k.reference.from.name == from.name && k.reference.field.name == reference.field.name
        }) {
            out.extend(k.records.iter().map(|(rid, t)| (*rid, from, t.clone())));
            continue;
        }
        let q = ListQuery {
            filter: Some(Filter::Cond {
                field: reference.field.name.into(),
                op: FilterOp::Eq,
                value: Value::String(id.to_string()),
            }),
            limit: MAX_RELATED,
            // Named only: an account's contacts and deals, read whole, were most of what its
            // timeline cost.
            fields: Some(from.showing(&[])),
            ..Default::default()
        };
        let page = match st.core.records(from).list(&user.actor, &q).await {
            Ok(p) => p,
            Err(CoreError::Forbidden { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        for rec in &page.items {
            if let Some(rid) = rec
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                out.push((rid, from, (from.title)(rec, i18n.code)));
            }
        }
    }
    Ok(out)
}

/// What the record's page has read already, which its timeline is made of too.
pub(super) struct Read<'a> {
    /// The record's history lines, newest first.
    pub changes: Vec<HistoryLine>,
    /// The records referring to it that its related lists hold whole.
    pub referring: &'a [Referring],
}

/// The timeline of record `id` of `def` for the reader, filtered to `kind` (a kind's code or
/// `change`) when given.
pub(super) async fn timeline(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    id: Uuid,
    kind: Option<&str>,
    read: Read<'_>,
    typed: QuickDraft,
) -> Result<Option<Timeline>, ApiError> {
    let Read {
        changes,
        referring: known,
    } = read;
    let Some((entries_def, view)) = source(st).filter(|_| has_timeline(st, def)) else {
        return Ok(None);
    };
    let i18n = I18n::for_actor(&user.actor);
    let kind_field = entries_def.field(view.kind);
    let codes: Vec<String> = match kind_field.map(|f| &f.kind) {
        Some(guanxi_core::records::FieldKind::Choice(options)) => {
            options.codes().into_iter().map(str::to_string).collect()
        }
        _ => Vec::new(),
    };
    let option_label = |code: &str| match kind_field.map(|f| &f.kind) {
        Some(guanxi_core::records::FieldKind::Choice(options)) => i18n.t(&options.label_key(code)),
        _ => code.to_string(),
    };
    let wanted = kind.filter(|k| *k == "change" || codes.iter().any(|c| c == k));
    let mut chips: Vec<KindChip> = codes
        .iter()
        .map(|c| KindChip {
            code: c.clone(),
            label: option_label(c),
            on: wanted == Some(c.as_str()),
        })
        .collect();
    chips.push(KindChip {
        code: "change".into(),
        label: i18n.t("timeline-changes"),
        on: wanted == Some("change"),
    });

    let mut upcoming = Vec::new();
    let mut past = Vec::new();
    if wanted != Some("change") {
        let related = referring(st, user, def, id, entries_def, known).await?;
        let mut ids: Vec<Value> = vec![Value::String(id.to_string())];
        ids.extend(related.iter().map(|(r, _, _)| Value::String(r.to_string())));
        let mut conds = vec![Filter::Cond {
            field: view.regarding.into(),
            op: FilterOp::In,
            value: Value::Array(ids),
        }];
        if let Some(k) = wanted {
            conds.push(Filter::Cond {
                field: view.kind.into(),
                op: FilterOp::Eq,
                value: json!(k),
            });
        }
        let q = ListQuery {
            filter: Some(Filter::And(conds)),
            sort: Some("-created_at".into()),
            limit: MAX_ENTRIES,
            fields: Some(
                entries_def.showing(
                    &[
                        &[
                            view.regarding,
                            view.kind,
                            view.done,
                            view.subject,
                            view.detail,
                            // When an entry without a time of its own happened.
                            "created_at",
                        ],
                        view.when,
                        view.facts,
                    ]
                    .concat(),
                ),
            ),
            ..Default::default()
        };
        let page = match st.core.records(entries_def).list(&user.actor, &q).await {
            Ok(p) => p,
            Err(CoreError::Forbidden { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let lk = lookups(
            st,
            &user.actor,
            entries_def,
            &page.items,
            Reading::Only(&["owner_id"]),
            |_| vec![],
        )
        .await?;
        let now = Utc::now();
        for rec in &page.items {
            let entry = entry(entries_def, view, rec, id, &related, &lk, &i18n);
            let done = entry.done;
            let when = view
                .when
                .iter()
                .find_map(|f| instant(rec, f))
                .or_else(|| instant(rec, "created_at"));
            if !done && when.is_some_and(|w| w >= now) {
                upcoming.push((when, entry));
            } else {
                past.push(entry);
            }
        }
        upcoming.sort_by_key(|(w, _)| *w);
    }
    if wanted.is_none() || wanted == Some("change") {
        for c in changes {
            past.push(Entry {
                at_iso: c.at_iso.clone(),
                at: c.at.clone(),
                kind: "change".into(),
                kind_label: i18n.t("timeline-change"),
                title: c.action.clone(),
                href: None,
                about: None,
                who: c.actor.clone(),
                detail: String::new(),
                facts: Vec::new(),
                done: true,
                change: Some(c),
            });
        }
    }
    past.sort_by(|a, b| b.at_iso.cmp(&a.at_iso));
    let writable = user.actor.grant(entries_def.name).write != guanxi_core::authz::Scope::None;
    let quick = writable.then(|| QuickBox {
        typed,
        action: format!("/{}/{id}/timeline", def.plural),
        kinds: view
            .quick_kinds
            .iter()
            .map(|k| (k.to_string(), option_label(k)))
            .collect(),
        essential: [
            ("subject", view.subject),
            ("detail", view.detail),
            ("due", view.quick_due),
        ]
        .into_iter()
        .map(|(input, field)| {
            let kinds = view
                .quick_kinds
                .iter()
                .filter(|k| essential(entries_def, view, field, k, codes.len()))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            (input, kinds)
        })
        .collect(),
    });
    Ok(Some(Timeline {
        chips,
        all: wanted.is_none(),
        upcoming: upcoming.into_iter().map(|(_, e)| e).collect(),
        past,
        quick,
    }))
}

/// One activity as its line on the timeline of record `page_id`.
fn entry(
    def: &'static EntityDef,
    view: &TimelineDef,
    rec: &Record,
    page_id: Uuid,
    related: &[(Uuid, &'static EntityDef, String)],
    lk: &Lookups,
    i18n: &I18n,
) -> Entry {
    let when = view
        .when
        .iter()
        .map(|f| rec.get(*f).and_then(Value::as_str).unwrap_or(""))
        .find(|s| !s.is_empty())
        .or_else(|| rec.get("created_at").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let regarded = rec
        .get(view.regarding)
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    let about = regarded
        .filter(|r| *r != page_id)
        .and_then(|r| related.iter().find(|(id, _, _)| *id == r))
        .map(|(_, d, title)| {
            let entity = i18n.t(&format!("entity-{}", d.name));
            let colon = if i18n.code.starts_with("zh") {
                "："
            } else {
                ": "
            };
            format!("{entity}{colon}{title}")
        });
    let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
    let kind = rec
        .get(view.kind)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let detail: String = rec
        .get(view.detail)
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    Entry {
        at: DateTime::parse_from_rfc3339(&when)
            .map(|t| i18n.instant(t.to_utc()))
            .unwrap_or_default(),
        at_iso: when,
        kind_label: cell(def, rec, view.kind, lk, i18n).text,
        kind,
        title: (def.title)(rec, i18n.code),
        href: Some(format!("/{}/{id}", def.plural)),
        about,
        who: cell(def, rec, "owner_id", lk, i18n).text,
        detail,
        facts: facts(def, view, rec, lk, i18n),
        done: rec.get(view.done).and_then(Value::as_bool) == Some(true),
        change: None,
    }
}

/// The entry's facts ([`TimelineDef::facts`]) that hold a value other than a new record's and
/// belong to its kind, as "label: value".
fn facts(
    def: &'static EntityDef,
    view: &TimelineDef,
    rec: &Record,
    lk: &Lookups,
    i18n: &I18n,
) -> Vec<String> {
    let colon = if i18n.is_zh() { "：" } else { ": " };
    view.facts
        .iter()
        .filter_map(|name| def.field(name))
        .filter(|f| def.belongs(f.name, rec))
        .filter(|f| {
            let v = rec.get(f.name).and_then(Value::as_str);
            f.initial.is_none_or(|initial| v != Some(initial))
        })
        .filter_map(|f| {
            let text = cell(def, rec, f.name, lk, i18n).text;
            (!text.is_empty())
                .then(|| format!("{}{colon}{text}", field_label(def.name, f.name, i18n)))
        })
        .collect()
}
