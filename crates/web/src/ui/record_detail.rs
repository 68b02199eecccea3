//! A record's page: its fields, lines, related records, actions, reminders and history.

use askama::Template;
use axum::extract::{Form, Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::identity::users;
use guanxi_core::records::def::FieldDef;
use guanxi_core::records::filter::FilterOp;
use guanxi_core::records::{Filter, JsonMap, ListQuery, Reference};
use guanxi_core::refs::{self};
use guanxi_core::{CoreError, EntityDef};
use serde_json::Value;
use uuid::Uuid;

use super::cells::{Cell, Lookups, Reading, cell, kind_at, lookups, value_cell};
use super::choices::{self, Choices};
use super::display::field_label;
use super::options::Opt;
use super::record_form::{FormContext, FormField, input_for, owner_options};
use super::record_list::{Row, choose_an_owner};
use super::timeline::{Read, Referring};
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

pub use super::history::{Change, HistoryLine};

pub struct FieldLine {
    pub label: String,
    pub cell: Cell,
    /// The field's name when it can be edited in place on the record page (the page's script
    /// offers it; a computed field cannot be).
    pub edit: Option<String>,
    /// The heading of the section ([`FieldGroup::section`](guanxi_core::records::FieldGroup))
    /// this line opens.
    pub section: Option<String>,
}

#[derive(Template)]
#[template(path = "records/detail.html")]
struct DetailPage {
    pub(super) page: PageCtx,
    pub(super) plural: &'static str,
    pub(super) id: String,
    pub(super) title: String,
    pub(super) entity_label: String,
    pub(super) lines: Vec<FieldLine>,
    pub(super) meta: Vec<FieldLine>,
    pub(super) tab: String,
    pub(super) related: Vec<RelatedList>,
    pub(super) history: Vec<HistoryLine>,
    pub(super) can_write: bool,
    pub(super) deleted: bool,
    pub(super) is_admin: bool,
    pub(super) owners: Vec<Opt>,
    pub(super) version: i64,
    pub(super) children: Vec<ChildTable>,
    pub(super) actions: Vec<ActionForm>,
    /// The record's key facts, under its name.
    pub(super) facts: Vec<super::facts::Fact>,
    pub(super) problems: Vec<String>,
    pub(super) owned: bool,
    /// Reminders not yet shown, and whether the reader may set one (the owner, or whoever may
    /// change the record).
    pub(super) reminders: Vec<ReminderLine>,
    pub(super) can_remind: bool,
    /// What was typed into the reminder form, shown again when it was refused.
    pub(super) draft: ReminderDraft,
    pub(super) owner_name: String,
    /// Whether the record has a timeline tab, and the timeline when it is open.
    pub(super) has_timeline: bool,
    pub(super) timeline: Option<super::timeline::Timeline>,
    /// The customer's insights, on the details tab of the entity insights are about; whether
    /// that entity's page shows the panel (empty until the first refresh reaches the record).
    pub(super) insights: Option<super::insights_panel::Panel>,
    pub(super) has_insights: bool,
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

/// Whether a field (or child collection) belongs to records of another kind only
/// ([`FieldGroup`](guanxi_core::records::FieldGroup)) and this record holds nothing in it:
/// its page leaves it out. A value it does hold is shown, as nothing stored is hidden.
pub(super) fn other_kinds_blank(def: &EntityDef, rec: &JsonMap, name: &str) -> bool {
    !def.belongs(name, rec)
        && rec
            .get(name)
            .is_none_or(|v| *v == Value::Bool(false) || guanxi_core::records::values::blank(v))
}

fn child_tables(def: &EntityDef, rec: &JsonMap, lk: &Lookups, i18n: &I18n) -> Vec<ChildTable> {
    def.children
        .iter()
        .filter(|child| !other_kinds_blank(def, rec, child.name))
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
            fields: action_fields(def, a.input.iter(), &JsonMap::new(), cx)
                .into_iter()
                // Two actions may ask for the same field: each control its own id.
                .map(|mut f| {
                    f.id = format!("{}-{}", a.name, f.name);
                    f
                })
                .collect(),
        })
        .collect()
}

/// An action's input fields as a form shows them (`records/action_field.html`): named
/// `a.<field>`, holding `values` (what was posted), required as declared. The record page's
/// action panels and the board's closing form both ask this way.
pub(super) fn action_fields<'f>(
    def: &EntityDef,
    fields: impl IntoIterator<Item = &'f FieldDef>,
    values: &JsonMap,
    cx: &FormContext,
) -> Vec<FormField> {
    fields
        .into_iter()
        .map(|f| {
            let mut ff = input_for(
                format!("a.{}", f.name),
                field_label(def.name, f.name, cx.i18n),
                &f.kind,
                cx.choices.of(f.name),
                values.get(f.name),
                cx,
            );
            ff.required = f.required;
            ff
        })
        .collect()
}

/// What a posted action form gives for `fields`: each `a.<field>` sent, as text.
pub(super) fn action_input<'f>(
    fields: impl IntoIterator<Item = &'f FieldDef>,
    form: &[(String, String)],
) -> JsonMap {
    let mut input = JsonMap::new();
    for field in fields {
        if let Some(v) = form_get(form, &format!("a.{}", field.name)) {
            input.insert(field.name.into(), Value::String(v.to_string()));
        }
    }
    input
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
) -> Result<Option<(RelatedList, Option<Referring>)>, ApiError> {
    let from = reference.from;
    let q = ListQuery {
        filter: Some(Filter::Cond {
            field: reference.field.name.into(),
            op: FilterOp::Eq,
            value: Value::String(id.to_string()),
        }),
        limit: 200,
        fields: Some(from.showing(from.related_columns)),
        ..Default::default()
    };
    let page = match st.core.records(from).list(&user.actor, &q).await {
        Ok(p) => p,
        Err(CoreError::Forbidden { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let lk = lookups(
        st,
        &user.actor,
        from,
        &page.items,
        Reading::Everything,
        |_| vec![],
    )
    .await?;
    let rows = page
        .items
        .iter()
        .map(|r| Row::of(from, r, from.related_columns, &lk, i18n))
        .collect();
    // All of them, by title: what the timeline gathers activities from, not read again.
    let whole = page.next_cursor.is_none().then(|| Referring {
        reference,
        records: page
            .items
            .iter()
            .filter_map(|r| {
                let id = r.get("id").and_then(Value::as_str)?;
                Some((Uuid::parse_str(id).ok()?, (from.title)(r, i18n.code)))
            })
            .collect(),
    });
    // A heading of its own when the reference has one ("subsidiaries" for an account's
    // children), else the entity's name.
    let label = i18n
        .maybe(&format!("related-{}-{}", from.name, reference.field.name))
        .unwrap_or_else(|| i18n.t(&format!("nav-{}", from.plural)));
    let list = RelatedList {
        key: format!("{}-{}", from.plural, reference.field.name),
        label,
        columns: from
            .related_columns
            .iter()
            .map(|k| field_label(from.name, k, i18n))
            .collect(),
        rows,
        new_href: format!("/{}/new?{}={id}", from.plural, reference.field.name),
    };
    Ok(Some((list, whole)))
}

/// A value in the history, by the kind of the field it was.
pub(super) fn value_text(
    def: &EntityDef,
    field: &str,
    v: &Value,
    lk: &Lookups,
    i18n: &I18n,
) -> String {
    match kind_at(def, &lk.custom, field) {
        Some(k) => value_cell(k, v, lk, i18n).text,
        None => match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

pub(super) async fn detail(
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
    let kind = form_get(&pairs, "kind").map(str::to_string);
    let page = detail_page(
        def,
        &st,
        &user,
        id,
        Tab { name: tab, kind },
        Vec::new(),
        Drafts::default(),
    )
    .await;
    // A page shown is a visit the home page lists; a visit that cannot be noted costs the
    // reader nothing but that line.
    if page.status().is_success()
        && let Err(e) = guanxi_core::recent::note(&st.core, &user.actor, def, id).await
    {
        tracing::warn!(error = %e, "visit not noted");
    }
    page
}

/// Which tab of a record page is open: `details`, `history` or `timeline`, and for the
/// timeline the kind it is filtered to.
pub struct Tab {
    pub name: String,
    pub kind: Option<String>,
}

impl Tab {
    pub fn named(name: &str) -> Tab {
        Tab {
            name: name.to_string(),
            kind: None,
        }
    }
}

/// The record page, with the problems that stopped what was just tried (what succeeded is the
/// frame's message, from the query string).
pub(super) async fn detail_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: Uuid,
    tab: Tab,
    problems: Vec<String>,
    drafts: Drafts,
) -> Response {
    let Drafts {
        reminder: draft,
        quick: typed,
    } = drafts;
    let Tab { name: tab, kind } = tab;
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
    let entries = if tab == "history" || tab == "timeline" {
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
    let lk = match lookups(
        st,
        &user.actor,
        def,
        [&rec],
        Reading::Everything,
        in_history,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return error_page(user, e),
    };
    // Every field, empty ones included (shown muted), so people see what is not known yet;
    // but not the empty fields of another kind of record (a note's call outcome).
    let mut lines = Vec::new();
    let in_section = |name: &str| def.group_of(name).is_some_and(|g| g.always());
    for f in def
        .fields
        .iter()
        .filter(|f| !other_kinds_blank(def, &rec, f.name) && !in_section(f.name))
    {
        let mut c = cell(def, &rec, f.name, &lk, &i18n);
        if f.name == "name" {
            c.href = None;
        }
        lines.push(FieldLine {
            label: field_label(def.name, f.name, &i18n),
            cell: c,
            edit: (!f.computed && super::inline_edit::in_place(&f.kind))
                .then(|| f.name.to_string()),
            section: None,
        });
    }
    for d in &lk.custom {
        let c = cell(def, &rec, &format!("custom.{}", d.key), &lk, &i18n);
        lines.push(FieldLine {
            label: d.label(i18n.code).to_string(),
            cell: c,
            edit: super::inline_edit::in_place(&d.kind).then(|| format!("custom.{}", d.key)),
            section: None,
        });
    }
    // Sections (其他信息) after everything else, each under its heading.
    for g in def.field_groups.iter().filter(|g| g.always()) {
        for (i, name) in g.fields.iter().enumerate() {
            let Some(f) = def.field(name) else { continue };
            lines.push(FieldLine {
                label: field_label(def.name, f.name, &i18n),
                cell: cell(def, &rec, f.name, &lk, &i18n),
                edit: (!f.computed && super::inline_edit::in_place(&f.kind))
                    .then(|| f.name.to_string()),
                section: (i == 0).then(|| i18n.t(&format!("group-{}-{}", def.name, g.name))),
            });
        }
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
        section: None,
    })
    .collect();
    // Related lists: the records of any entity whose reference fields point at this one.
    let mut related = Vec::new();
    let mut referring = Vec::new();
    if !deleted {
        // Other entities' records first (an account's contacts), then its own kind's (its
        // subsidiaries).
        let mut references = st.core.registry.references_to(def.name);
        references.sort_by_key(|r| r.from.name == def.name);
        for reference in references {
            match related_list(st, user, reference, id, &i18n).await {
                Ok(Some((list, whole))) => {
                    related.push(list);
                    referring.extend(whole);
                }
                Ok(None) => {}
                Err(e) => return error_page(user, e),
            }
        }
    }
    let mut history = Vec::new();
    for e in entries {
        history.push(HistoryLine {
            at: i18n.instant(e.at),
            at_iso: guanxi_core::records::service::ts_string(e.at),
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
    let has_timeline = super::timeline::has_timeline(st, def) && !deleted;
    let timeline = if tab == "timeline" && has_timeline {
        let changes = std::mem::take(&mut history);
        let read = Read {
            changes,
            referring: &referring,
        };
        match super::timeline::timeline(st, user, def, id, kind.as_deref(), read, typed).await {
            Ok(t) => t,
            Err(e) => return error_page(user, e),
        }
    } else {
        None
    };
    // Whom an action may name (any active colleague), and to whom the record may be handed
    // (those within the reader's write scope, and whoever owns it now).
    let people: Vec<(String, String)> = match users::list(&st.core.db).await {
        Ok(us) => us
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.to_string(), u.name.clone()))
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
    let has_insights = def.name == guanxi_core::insights::subject().name
        && !deleted
        && tab != "history"
        && tab != "timeline";
    let insights = if has_insights {
        match guanxi_core::insights::current::of_account(st.core.db.reader(), id).await {
            Ok(found) => found.map(|ins| {
                super::insights_panel::panel(&ins, &st.core.settings.default_currency, &i18n)
            }),
            Err(e) => return error_page(user, e.into()),
        }
    } else {
        None
    };
    let title = (def.title)(&rec, i18n.code);
    let has_problems = !problems.is_empty();
    let facts = super::facts::key_facts(def, &rec, &lk, &i18n);
    let mut res = render(&DetailPage {
        insights,
        has_insights,
        facts,
        has_timeline,
        timeline,
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

pub(super) async fn action(
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
                let input = action_input(a.input, &f);
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
                            super::record_detail::Tab::named("details"),
                            problems,
                            Drafts::default(),
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

/// What a refused form on the record page had in it, to show it again.
#[derive(Default)]
pub struct Drafts {
    pub reminder: ReminderDraft,
    pub quick: super::timeline::QuickDraft,
}

/// The reminder form as it was filled in: the local time typed and the note.
#[derive(Default)]
pub struct ReminderDraft {
    pub at: String,
    pub note: String,
}

pub struct ReminderLine {
    pub id: String,
    pub at: String,
    /// The same instant in RFC 3339, for machines.
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
    names: &foldhash::HashMap<String, String>,
) -> Result<Vec<ReminderLine>, CoreError> {
    let i18n = I18n::for_actor(&user.actor);
    Ok(
        guanxi_core::reminders::pending(&st.core, &user.actor, def, id)
            .await?
            .into_iter()
            .map(|r| ReminderLine {
                id: r.id.to_string(),
                at: i18n.instant(r.at),
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
