//! Planning follow-ups from a list: for each ticked record, a task (the timeline's follow-up
//! kind) regarding it, for the record's owner, with one subject and due time — what a manager
//! does with a list of customers at risk. All or nothing: one task that cannot be made (an
//! owner the planner may not give work to) leaves none made.

use axum::response::{IntoResponse, Redirect, Response};
use guanxi_core::records::bulk::BulkWrite;
use guanxi_core::records::{Access, EntityDef};
use guanxi_core::{CoreError, Scope};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::bulk_redirect::{failed_code, safe_back, with_done};
use super::posted::Posted;
use super::timeline::source;
use super::{error_page, form_get};
use crate::State;

/// The most records one submission plans for (a list page's largest page).
const MOST: usize = 500;

/// Whether a list of `def` offers "plan follow-ups" to `user`: records with owners that a
/// timeline's entries regard, and a reader who may write entries.
pub(super) fn offered(st: &State, def: &EntityDef, actor: &guanxi_core::authz::Actor) -> bool {
    super::timeline::has_timeline(st, def)
        && def.access == Access::Records
        && source(st).is_some_and(|(d, _)| actor.grant(d.name).write != Scope::None)
}

pub(super) async fn plan(
    def: &'static EntityDef,
    axum::extract::State(st): axum::extract::State<State>,
    Posted { user, form: f }: Posted,
) -> Response {
    let back = safe_back(form_get(&f, "back"), def);
    let failed =
        |code: &str| Redirect::to(&with_done(&back, &format!("failed={code}"))).into_response();
    let ids: Vec<Uuid> = f
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| Uuid::parse_str(v).ok())
        .take(MOST)
        .collect();
    if ids.is_empty() {
        return failed("no_records_chosen");
    }
    let Some((entries, view)) = source(&st) else {
        return error_page(&user, CoreError::NotFound.into());
    };
    let subject = form_get(&f, "task_subject")
        .unwrap_or("")
        .trim()
        .to_string();
    if subject.is_empty() {
        return failed("no_task_subject");
    }
    let due = match form_get(&f, "task_due")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(d) => match crate::forms::local_time(d)
            .and_then(|_| crate::forms::local_instant(d, user.actor.time_zone).ok())
        {
            Some(v) => Some(v),
            None => return failed("bad_task_due"),
        },
        None => None,
    };
    // The owners, read as the planner may read the records: a record they may not see gets
    // no task from them.
    let mut owners = Vec::with_capacity(ids.len());
    for id in &ids {
        match st.core.records(def).get(&user.actor, *id).await {
            Ok(rec) => owners.push((*id, rec.get("owner_id").cloned().unwrap_or(Value::Null))),
            Err(e) => return error_page(&user, e.into()),
        }
    }
    let outcome = async {
        let mut batch = BulkWrite::begin(&st.core, &user.actor).await?;
        for (id, owner) in &owners {
            let mut body = Map::new();
            body.insert(view.kind.into(), json!(view.follow_up));
            body.insert(view.subject.into(), json!(subject));
            body.insert(
                view.regarding.into(),
                json!({"entity": def.name, "id": id.to_string()}),
            );
            if !owner.is_null() {
                body.insert("owner_id".into(), owner.clone());
            }
            if let Some(d) = &due {
                body.insert(view.quick_due.into(), d.clone());
            }
            if let Err(e) = batch.create(entries, &Value::Object(body)).await {
                batch.rollback().await?;
                return Err(e);
            }
        }
        batch.commit().await?;
        Ok::<_, CoreError>(owners.len())
    }
    .await;
    match outcome {
        Ok(n) => Redirect::to(&with_done(&back, &format!("done=follow_ups&n={n}"))).into_response(),
        Err(e) => failed(failed_code(e)),
    }
}
