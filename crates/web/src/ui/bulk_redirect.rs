//! Where a bulk action on a list sends the user back: the list they came from (never another
//! site), with what was done or why nothing was, as the list's notice reads it.

use guanxi_core::{CoreError, EntityDef};

use crate::error::ApiError;

/// The code a list's bulk action reports a refusal by: the first field's, else the reason's,
/// else the error's own.
pub(super) fn failed_code(e: CoreError) -> &'static str {
    let e: ApiError = e.into();
    e.fields
        .as_ref()
        .and_then(|f| f.iter().next().map(|(_, fe)| fe.code))
        .or(e.reason)
        .unwrap_or(e.code)
}

/// `back` with what was done added to its query string (replacing an earlier `done`).
pub(super) fn with_done(back: &str, done: &str) -> String {
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

pub(super) fn safe_back(back: Option<&str>, def: &EntityDef) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") => b.to_string(),
        _ => format!("/{}", def.plural),
    }
}
