//! Administration pages: users, teams, role scopes and custom fields.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::custom_fields::{self, CUSTOM_KINDS, CustomFieldInput};
use guanxi_core::identity::{NewPassword, NewUser, UserPatch, teams, users};
use guanxi_core::{CoreError, FieldErrors, Grant, Role, Scope, codes};

use super::options::Opt;
use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/{section}", get(show))
        .route("/admin/users/add", post(add_user))
        .route("/admin/users/update", post(update_user))
        .route("/admin/teams/add", post(add_team))
        .route("/admin/teams/delete", post(delete_team))
        .route("/admin/roles/set", post(set_grant))
        .route("/admin/custom-fields/add", post(add_custom))
        .route("/admin/custom-fields/delete", post(delete_custom))
}

pub struct UserLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Opt>,
    pub teams: Vec<Opt>,
    pub disabled: bool,
}

pub struct GrantLine {
    pub role: String,
    pub role_label: String,
    pub entity: String,
    pub entity_label: String,
    pub read: Vec<Opt>,
    pub write: Vec<Opt>,
    pub fixed: bool,
}

pub struct CustomLine {
    pub id: String,
    pub entity: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub options: String,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminPage {
    page: PageCtx,
    section: String,
    users: Vec<UserLine>,
    teams: Vec<Opt>,
    role_opts: Vec<Opt>,
    grants: Vec<GrantLine>,
    custom: Vec<CustomLine>,
    entity_opts: Vec<Opt>,
    /// Entities a reference field may point at.
    record_opts: Vec<Opt>,
    kind_opts: Vec<Opt>,
    errors: Vec<String>,
}

fn require_admin(user: &UiUser) -> Result<(), ApiError> {
    if user.actor.is_admin() {
        Ok(())
    } else {
        Err(CoreError::forbidden(codes::ADMIN_ONLY).into())
    }
}

async fn page(st: &State, user: &UiUser, section: &str, errors: Vec<String>) -> Response {
    if let Err(e) = require_admin(user) {
        return error_page(user, e);
    }
    let i18n = I18n::for_actor(&user.actor);
    let result: Result<AdminPage, ApiError> = async {
        let all_teams = teams::list(&st.core.db).await?;
        let role_opts = |cur: Option<Role>| -> Vec<Opt> {
            Role::ALL
                .iter()
                .map(|r| Opt {
                    value: r.as_str().into(),
                    label: i18n.t(&format!("role-{}", r.as_str())),
                    selected: Some(*r) == cur,
                })
                .collect()
        };
        let team_opts = |cur: Option<uuid::Uuid>| -> Vec<Opt> {
            std::iter::once(Opt {
                value: String::new(),
                label: "—".into(),
                selected: cur.is_none(),
            })
            .chain(all_teams.iter().map(|t| Opt {
                value: t.id.to_string(),
                label: t.name.clone(),
                selected: Some(t.id) == cur,
            }))
            .collect()
        };
        let users = users::list(&st.core.db)
            .await?
            .iter()
            .map(|u| UserLine {
                id: u.id.to_string(),
                roles: role_opts(Some(u.role)),
                teams: team_opts(u.team_id),
                name: u.name.clone(),
                email: u.email.clone(),
                disabled: u.disabled,
            })
            .collect();
        let scope_opts = |cur: Scope| -> Vec<Opt> {
            Scope::ALL
                .iter()
                .map(|s| Opt {
                    value: s.as_str().into(),
                    label: i18n.t(&format!("scope-{}", s.as_str())),
                    selected: *s == cur,
                })
                .collect()
        };
        let mut grants = Vec::new();
        for role in Role::ALL {
            let g = users::role_grants(&st.core.db, st.core.registry, role).await?;
            for e in st.core.registry.all() {
                let grant = g.get(e.name).copied().unwrap_or(Grant {
                    read: Scope::None,
                    write: Scope::None,
                });
                grants.push(GrantLine {
                    role: role.as_str().into(),
                    role_label: i18n.t(&format!("role-{}", role.as_str())),
                    entity: e.name.into(),
                    entity_label: i18n.t(&format!("entity-{}", e.plural)),
                    read: scope_opts(grant.read),
                    write: scope_opts(grant.write),
                    fixed: role == Role::Admin,
                });
            }
        }
        let custom = custom_fields::list(st.core.db.reader(), st.core.registry, None)
            .await?
            .into_iter()
            .map(|d| CustomLine {
                id: d.id.to_string(),
                entity: i18n.t(&format!("entity-{}", d.entity)),
                key: d.key.clone(),
                label: d.label(i18n.code).to_string(),
                kind: i18n.t(&format!("kind-{}", d.kind.code())),
                required: d.required,
                // A reference's "options" are the records of the entity it points at.
                options: match d.refers_to() {
                    Some(e) => i18n.t(&format!("entity-{e}")),
                    None => d.options().join(", "),
                },
            })
            .collect();
        Ok(AdminPage {
            page: PageCtx::new(user, i18n.t("nav-admin"), "admin"),
            section: section.to_string(),
            users,
            teams: all_teams
                .iter()
                .map(|t| Opt {
                    value: t.id.to_string(),
                    label: t.name.clone(),
                    selected: false,
                })
                .collect(),
            role_opts: role_opts(Some(Role::Sales)),
            grants,
            custom,
            entity_opts: st
                .core
                .registry
                .all()
                .iter()
                .map(|e| Opt {
                    value: e.name.into(),
                    label: i18n.t(&format!("entity-{}", e.name)),
                    selected: false,
                })
                .collect(),
            record_opts: st
                .core
                .registry
                .all()
                .iter()
                .filter(|e| e.access == guanxi_core::records::Access::Records)
                .map(|e| Opt {
                    value: e.name.into(),
                    label: i18n.t(&format!("entity-{}", e.name)),
                    selected: false,
                })
                .collect(),
            kind_opts: CUSTOM_KINDS
                .iter()
                .map(|k| Opt {
                    value: k.to_string(),
                    label: i18n.t(&format!("kind-{k}")),
                    selected: false,
                })
                .collect(),
            errors,
        })
    }
    .await;
    match result {
        Ok(p) => {
            let status = if p.errors.is_empty() {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut res = render(&p);
            *res.status_mut() = status;
            res
        }
        Err(e) => error_page(user, e),
    }
}

async fn show(AxState(st): AxState<State>, user: UiUser, Path(section): Path<String>) -> Response {
    if !["users", "teams", "roles", "custom-fields"].contains(&section.as_str()) {
        return error_page(&user, ApiError::not_found());
    }
    page(&st, &user, &section, vec![]).await
}

/// After a change: back to the section, or the section with the errors in the user's language.
async fn finish(st: &State, user: &UiUser, section: &str, r: Result<(), CoreError>) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    match r {
        Ok(()) => Redirect::to(&format!("/admin/{section}")).into_response(),
        Err(CoreError::Validation(fields)) => {
            page(st, user, section, messages(&fields, &i18n)).await
        }
        Err(e) => error_page(user, e.into()),
    }
}

fn messages(fields: &FieldErrors, i18n: &I18n) -> Vec<String> {
    fields
        .iter()
        .map(|(k, e)| {
            let label = label_key(k).map_or_else(|| k.clone(), |key| i18n.t(key));
            i18n.named_field_error(&label, e)
        })
        .collect()
}

/// The label the administration forms give a field the services name.
fn label_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "email" => "login-email",
        "password" => "login-password",
        "name" => "field-name",
        "role" => "admin-role",
        "team_id" => "admin-team",
        "locale" => "settings-language",
        "read" => "admin-read",
        "write" => "admin-write",
        "entity" => "bin-entity",
        "key" => "cf-key",
        "label_en" => "cf-label-en",
        "label_zh" => "cf-label-zh",
        "kind" => "cf-kind",
        "options" => "cf-options",
        _ => return None,
    })
}

async fn add_user(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let new = NewUser {
        email: form_get(&f, "email").unwrap_or("").into(),
        name: form_get(&f, "name").unwrap_or("").into(),
        role: form_get(&f, "role").unwrap_or("").into(),
        team_id: form_get(&f, "team_id").and_then(|s| uuid::Uuid::parse_str(s).ok()),
        password: form_get(&f, "password").unwrap_or("").into(),
        locale: form_get(&f, "locale").map(str::to_string),
    };
    let r = users::create(&st.core.db, Some(&user.actor), new)
        .await
        .map(|_| ());
    finish(&st, &user, "users", r).await
}

async fn update_user(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let Some(id) = form_get(&f, "id").and_then(|s| uuid::Uuid::parse_str(s).ok()) else {
        return error_page(&user, ApiError::not_found());
    };
    let patch = UserPatch {
        role: form_get(&f, "role").map(str::to_string),
        team_id: Some(form_get(&f, "team_id").and_then(|s| uuid::Uuid::parse_str(s).ok())),
        disabled: Some(form_get(&f, "disabled").is_some()),
        ..Default::default()
    };
    let mut r = users::update(&st.core.db, Some(&user.actor), id, patch)
        .await
        .map(|_| ());
    if r.is_ok()
        && let Some(pw) = form_get(&f, "password").filter(|p| !p.is_empty())
    {
        r = guanxi_core::identity::auth::set_password(
            &st.core.db,
            &st.core.settings,
            Some(&user.actor),
            id,
            NewPassword {
                password: pw,
                current: None,
                keep_tokens: false,
            },
        )
        .await;
    }
    finish(&st, &user, "users", r).await
}

async fn add_team(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let r = teams::create(
        &st.core.db,
        Some(&user.actor),
        form_get(&f, "name").unwrap_or(""),
    )
    .await
    .map(|_| ());
    finish(&st, &user, "teams", r).await
}

async fn delete_team(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let Some(id) = form_get(&f, "id").and_then(|s| uuid::Uuid::parse_str(s).ok()) else {
        return error_page(&user, ApiError::not_found());
    };
    let r = teams::delete(&st.core.db, Some(&user.actor), id).await;
    finish(&st, &user, "teams", r).await
}

async fn set_grant(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let parse = || -> Result<(Role, Grant), CoreError> {
        let field = |k: &str| form_get(&f, k).unwrap_or("");
        let role = users::parse_role(field("role")).map_err(|e| CoreError::field("role", e))?;
        let read = users::parse_scope(field("read")).map_err(|e| CoreError::field("read", e))?;
        let write = users::parse_scope(field("write")).map_err(|e| CoreError::field("write", e))?;
        Ok((role, Grant { read, write }))
    };
    let r = match parse() {
        Ok((role, grant)) => {
            users::set_grant(
                &st.core.db,
                st.core.registry,
                Some(&user.actor),
                role,
                form_get(&f, "entity").unwrap_or(""),
                grant,
            )
            .await
        }
        Err(e) => Err(e),
    };
    finish(&st, &user, "roles", r).await
}

async fn add_custom(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let input = CustomFieldInput {
        key: form_get(&f, "key").map(str::to_string),
        label_en: form_get(&f, "label_en").map(str::to_string),
        label_zh: form_get(&f, "label_zh").map(str::to_string),
        kind: form_get(&f, "kind").map(str::to_string),
        required: Some(form_get(&f, "required").is_some()),
        options: form_get(&f, "options").map(|o| {
            o.split([',', '，', '\n'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        refers_to: form_get(&f, "refers_to").map(str::to_string),
        position: None,
    };
    let r = custom_fields::create(
        &st.core,
        &user.actor,
        form_get(&f, "entity").unwrap_or(""),
        input,
    )
    .await
    .map(|_| ());
    finish(&st, &user, "custom-fields", r).await
}

async fn delete_custom(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let Some(id) = form_get(&f, "id").and_then(|s| uuid::Uuid::parse_str(s).ok()) else {
        return error_page(&user, ApiError::not_found());
    };
    let r = custom_fields::delete(&st.core, &user.actor, id).await;
    finish(&st, &user, "custom-fields", r).await
}
