//! China's administrative divisions for the address picker (province → city → district), and
//! the splitting of a one-line Chinese address into those parts. Read-only reference data, but
//! served to signed-in callers only, like the rest of the API.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use guanxi_core::address::{self, Division};
use guanxi_core::{CoreError, FieldError, codes};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiQuery;
use crate::State;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<State> {
    Router::new()
        .route("/api/v1/divisions", get(list))
        .route("/api/v1/divisions/split", get(split))
}

/// A division as the picker needs it: the code to store and the name to show.
#[derive(Serialize)]
struct Item {
    code: &'static str,
    name: &'static str,
}

impl From<&Division> for Item {
    fn from(d: &Division) -> Item {
        Item {
            code: d.code,
            name: d.name,
        }
    }
}

#[derive(Deserialize)]
struct ListParams {
    parent: Option<String>,
}

/// The provinces, or the children of `parent`; a parent that is no division is 404
/// `unknown_division`, told apart from a division without children (a district, 东莞市), which
/// lists none.
async fn list(
    ApiCaller(_caller): ApiCaller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    let items: Vec<Item> = match p.parent.as_deref().map(str::trim) {
        // Empty as a form leaves it: the top of the tree.
        None | Some("") => address::provinces().iter().map(Item::from).collect(),
        Some(code) => {
            if address::by_code(code).is_none() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_division",
                    format!("no administrative division has the code '{code}'"),
                ));
            }
            address::children(code)
                .into_iter()
                .map(Item::from)
                .collect()
        }
    };
    Ok(axum::Json(json!({ "data": items })).into_response())
}

#[derive(Deserialize)]
struct SplitParams {
    line: Option<String>,
}

/// A one-line address in its parts, or 422 `address_not_recognized` when it does not start
/// with a Chinese division (an address abroad: the caller keeps it as free text).
async fn split(
    ApiCaller(_caller): ApiCaller,
    ApiQuery(p): ApiQuery<SplitParams>,
) -> ApiResult<Response> {
    let line = p.line.unwrap_or_default();
    if line.trim().is_empty() {
        return Err(CoreError::field("line", FieldError::new(codes::REQUIRED)).into());
    }
    // Longer than the splitter reads: say so, rather than "not recognised".
    if line.chars().count() > address::MAX_LINE_CHARS {
        let e = FieldError::new(codes::TOO_LONG).with("max", address::MAX_LINE_CHARS);
        return Err(CoreError::field("line", e).into());
    }
    let parts = address::split_line(&line).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "address_not_recognized",
            "the line does not start with a Chinese province, city or district",
        )
    })?;
    Ok(axum::Json(parts).into_response())
}
