//! The create and edit forms of every entity, and what a refused save shows.

use askama::Template;
use axum::extract::{Form, Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::identity::users;
use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_core::records::{JsonMap, Registry};
use guanxi_core::refs::{self, RefView};
use guanxi_core::{CoreError, EntityDef, codes};
use serde_json::Value;
use uuid::Uuid;

use super::choices::{self, Choices};
use super::display::{self, field_label};
use super::options::Opt;
use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

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
    /// The control's id, which its label names: the name, unless several forms of the page
    /// ask for the same field.
    pub id: String,
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
    /// The group of fields this one opens, for those that belong to some records only.
    pub group: Option<GroupHead>,
    /// It is the last of its group.
    pub group_end: bool,
}

/// The heading of a group of fields that belong to some values of a choice field only
/// ([`FieldGroup`](guanxi_core::records::FieldGroup)), and what the page's script needs to show
/// it only while the choice holds one of them.
pub struct GroupHead {
    pub name: &'static str,
    pub legend: String,
    /// The values it belongs to, as people read them (shown without the script); empty for a
    /// section, which every record has.
    pub shown_for: String,
    /// The form name of the choice field; empty for a section.
    pub by: String,
    /// The codes it belongs to, separated by spaces.
    pub values: String,
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
    pub(super) page: PageCtx,
    pub(super) heading: String,
    pub(super) action: String,
    pub(super) cancel: String,
    pub(super) fields: Vec<FormField>,
    pub(super) version: Option<i64>,
    pub(super) has_errors: bool,
    /// Where the form asks, while it is typed, which records it may duplicate (查重).
    pub(super) dedupe_url: Option<String>,
    /// The record being edited, which is not its own duplicate.
    pub(super) record_id: Option<String>,
    /// The possible duplicates that stopped the save.
    pub(super) dups: Option<super::duplicates::Notice>,
}

pub(super) fn vstr(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn blank_field(name: String, label: String, kind: &'static str) -> FormField {
    FormField {
        id: name.clone(),
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
        group: None,
        group_end: false,
    }
}

/// What a form needs to offer values: the options of fields picked from a list, the users,
/// the titles of referenced records, the entities a "regarding" value may be about.
pub(super) struct FormContext<'a> {
    pub(super) titles: &'a refs::Titles,
    pub(super) choices: &'a Choices,
    pub(super) users: &'a [(String, String)],
    pub(super) registry: &'a Registry,
    pub(super) i18n: &'a I18n,
}

/// The input for one value of a field of `kind`, standard or custom: the kind decides the
/// control. `picked` are the options of a field picked from a list of records.
pub(super) fn input_for(
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
            // The input has no zone: it shows, and the form reads, the user's wall-clock time.
            let zone = i18n.zone.unwrap_or(guanxi_core::time_zone::Tz::UTC);
            ff.value = v
                .and_then(Value::as_str)
                .map(|t| crate::forms::local_input(t, zone))
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
    grouped(def, out, i18n)
}

/// The form's fields with those of each [`FieldGroup`](guanxi_core::records::FieldGroup)
/// together, where the first of them would be, the first opening the group and the last
/// closing it.
fn grouped(def: &EntityDef, fields: Vec<FormField>, i18n: &I18n) -> Vec<FormField> {
    let group_of = |ff: &FormField| {
        ff.name
            .strip_prefix("f.")
            .and_then(|name| def.group_of(name))
    };
    let mut rest: Vec<Option<FormField>> = fields.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(rest.len());
    // Sections (其他信息) come after everything else.
    let mut sections = Vec::new();
    for i in 0..rest.len() {
        let Some(ff) = rest[i].take() else { continue };
        let Some(group) = group_of(&ff) else {
            out.push(ff);
            continue;
        };
        let mut members = vec![ff];
        for later in rest.iter_mut().skip(i + 1) {
            if later
                .as_ref()
                .and_then(group_of)
                .is_some_and(|g| g.name == group.name)
            {
                members.extend(later.take());
            }
        }
        let shown_for = match def.field(group.field).map(|f| &f.kind) {
            _ if group.always() => String::new(),
            Some(FieldKind::Choice(options)) => group
                .values
                .iter()
                .map(|v| display::choice_label(options, v, i18n))
                .collect::<Vec<_>>()
                .join(if i18n.is_zh() { "、" } else { ", " }),
            _ => String::new(),
        };
        if let Some(first) = members.first_mut() {
            first.group = Some(GroupHead {
                name: group.name,
                legend: i18n.t(&format!("group-{}-{}", def.name, group.name)),
                shown_for: if group.always() {
                    String::new()
                } else {
                    i18n.t1("form-group-for", "values", &shown_for)
                },
                by: if group.always() {
                    String::new()
                } else {
                    format!("f.{}", group.field)
                },
                values: group.values.join(" "),
            });
        }
        if let Some(last) = members.last_mut() {
            last.group_end = true;
        }
        if group.always() {
            sections.extend(members);
        } else {
            out.extend(members);
        }
    }
    out.extend(sections);
    out
}

/// The users the actor may hand a record of `def` to: enabled, and within their write scope
/// (a sales rep who writes only their own records is offered only themself), so a form or a
/// bulk action offers nothing the service would refuse.
pub(super) async fn owner_options(
    st: &State,
    actor: &guanxi_core::Actor,
    def: &EntityDef,
) -> Result<Vec<(String, String)>, ApiError> {
    let write = actor.grant(def.name).write;
    Ok(users::list(&st.core.db)
        .await?
        .iter()
        .filter(|u| !u.disabled && actor.reaches(write, u.id, u.team_id))
        .map(|u| (u.id.to_string(), u.name.clone()))
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
    let targets = refs::targets(st.core.registry, def, &custom, [rec], |_| true);
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

pub(super) async fn new_form(
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
        match def.field(&k).map(|f| &f.kind) {
            Some(FieldKind::Ref { .. }) => {
                rec.insert(k, Value::String(v));
            }
            // A choice by its code (a calendar's new meeting), if it is one.
            Some(FieldKind::Choice(options)) if options.codes().contains(&v.as_str()) => {
                rec.insert(k, Value::String(v));
            }
            // A wall-clock time in the user's zone (the slot clicked on a calendar).
            Some(FieldKind::DateTime) => {
                if let Ok(t) = crate::forms::local_instant(&v, user.actor.time_zone) {
                    rec.insert(k, t);
                }
            }
            _ => {}
        }
    }
    show_form(&st, &user, def, &rec, &Default::default(), None, None, None).await
}

pub(super) async fn edit_form(
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

pub(super) async fn create(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Posted { user, form: f }: Posted,
) -> Response {
    let (input, errors) = form_input(&st, &user, def, &f).await;
    if !errors.is_empty() {
        let refused = CoreError::Validation(errors);
        return refused_form(&st, &user, def, &input, None, None, refused).await;
    }
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

pub(super) async fn update(
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
    let (input, errors) = form_input(&st, &user, def, &f).await;
    let version = form_get(&f, "version").and_then(|v| v.parse::<i64>().ok());
    if !errors.is_empty() {
        let refused = CoreError::Validation(errors);
        return refused_form(&st, &user, def, &input, Some(id), version, refused).await;
    }
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

/// A record form's input, with the user's "save anyway" for possible duplicates, and what the
/// form itself tells is wrong with it (`forms::FormInput`).
async fn form_input(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    f: &[(String, String)],
) -> (Value, guanxi_core::FieldErrors) {
    let custom = st.core.records(def).custom_defs().await.unwrap_or_default();
    let crate::forms::FormInput {
        value: mut input,
        errors,
    } = crate::forms::record_from_form(def, &custom, f, user.actor.time_zone);
    if form_get(f, "allow_duplicate").is_some()
        && let Some(o) = input.as_object_mut()
    {
        o.insert(
            guanxi_core::records::service::ALLOW_DUPLICATE.into(),
            Value::Bool(true),
        );
    }
    (input, errors)
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
