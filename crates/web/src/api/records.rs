//! The same routes for every entity: list, aggregate, create, get, update, delete, restore,
//! history, owner changes and CSV export.

use axum::Router;
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guanxi_core::records::aggregate::{AggregateQuery, Grouping, Measure};
use guanxi_core::records::{Count, Filter, ListQuery};
use guanxi_core::{CoreError, EntityDef, FieldError, codes};
use serde_json::{Value, json};

use super::{ApiPath, JsonBody, PageBody, if_match, parse_id, query_pairs, with_etag};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::export_format::{FileType, Format};

/// Parameters a list takes besides filters. (`q` is not one: lists do not search, and a `q` that
/// was silently ignored returned every record; it is refused as an unknown field instead.)
pub const RESERVED: [&str; 5] = ["sort", "cursor", "limit", "count", "filter"];

/// Builds a list query from query-string pairs: reserved names, a JSON `filter`, and every
/// other pair as a field condition.
pub fn list_query(pairs: &[(String, String)], deleted: bool) -> Result<ListQuery, ApiError> {
    // A parameter given twice has no one meaning: say so rather than pick one.
    for name in RESERVED {
        if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("{name} is given more than once"),
            ));
        }
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let limit = match get("limit") {
        None => 50,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    "limit must be a whole number from 1 to 500",
                )
            })?,
    };
    let mut parts = Vec::new();
    if let Some(f) = get("filter") {
        let v: Value = serde_json::from_str(f).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_filter",
                format!("filter is not valid JSON: {e}"),
            )
        })?;
        parts.push(Filter::from_json(&v)?);
    }
    let field_pairs = pairs
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()));
    parts.push(Filter::from_pairs(field_pairs)?);
    Ok(ListQuery {
        filter: Some(Filter::And(parts)),
        sort: get("sort").map(str::to_string),
        cursor: get("cursor").filter(|c| !c.is_empty()).map(str::to_string),
        limit,
        count: match get("count") {
            None | Some("false" | "0" | "") => Count::No,
            Some("true" | "1") => Count::Capped,
            Some("exact") => Count::Exact,
            Some(other) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_count",
                    format!("count must be true (exact up to 10,000) or exact, not '{other}'"),
                ));
            }
        },
        deleted,
        fields: None,
    })
}

pub fn router(def: &'static EntityDef) -> Router<State> {
    let base = format!("/api/v1/{}", def.plural);
    let mut router = Router::new();
    for action in def.actions {
        router = router.route(
            &format!("{base}/{{id}}/{}", action.name),
            post(
                move |s: AxState<State>,
                      c: ApiCaller,
                      p: ApiPath<String>,
                      h: HeaderMap,
                      b: JsonBody| act(def, action.name, s, c, p, h, b),
            ),
        );
    }
    router
        .route(
            &base,
            get(move |s: AxState<State>, c: ApiCaller, q: RawQuery| list(def, s, c, q))
                .post(move |s: AxState<State>, c: ApiCaller, b: JsonBody| create(def, s, c, b)),
        )
        .route(
            &format!("{base}/aggregate"),
            get(move |s: AxState<State>, c: ApiCaller, q: RawQuery| aggregate(def, s, c, q)),
        )
        .route(
            &format!("{base}/export.csv"),
            get(move |s: AxState<State>, c: ApiCaller, q: RawQuery| {
                export(def, FileType::Csv, s, c, q)
            }),
        )
        .route(
            &format!("{base}/export.xlsx"),
            get(move |s: AxState<State>, c: ApiCaller, q: RawQuery| {
                export(def, FileType::Xlsx, s, c, q)
            }),
        )
        .route(
            &format!("{base}/change-owner"),
            post(move |s: AxState<State>, c: ApiCaller, b: JsonBody| change_owner(def, s, c, b)),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>| fetch(def, s, c, p))
                .patch(
                    move |s: AxState<State>,
                          c: ApiCaller,
                          p: ApiPath<String>,
                          h: HeaderMap,
                          b: JsonBody| update(def, s, c, p, h, b),
                )
                .delete(
                    move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>, h: HeaderMap| {
                        remove(def, s, c, p, h)
                    },
                ),
        )
        .route(
            &format!("{base}/{{id}}/history"),
            get(move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>| history(def, s, c, p)),
        )
        .route(
            &format!("{base}/{{id}}/restore"),
            post(move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>| restore(def, s, c, p)),
        )
}

async fn list(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = list_query(&query_pairs(raw.as_deref()), false)?;
    let page = st.core.records(def).list_rows(&actor, &q).await?;
    Ok(PageBody {
        data: page.items(),
        len: page.len(),
        next_cursor: page.next_cursor.as_deref(),
        total: page.total.map(|t| t.count),
        total_more: page.total.map(|t| t.more),
    }
    .into_response())
}

/// `GET /api/v1/{plural}/aggregate?group=owner_id,close_date:month&measure=count,sum:amount`
/// and the list's filter parameters.
async fn aggregate(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = query_pairs(raw.as_deref());
    let q = aggregate_query(&pairs)?;
    let result = st.core.records(def).aggregate(&actor, &q).await?;
    Ok(axum::Json(result).into_response())
}

/// An aggregation from query-string pairs: `group` and `measure` (each comma-separated, once),
/// and the rest as a list's filter.
pub fn aggregate_query(pairs: &[(String, String)]) -> Result<AggregateQuery, ApiError> {
    let once = |name: &str| -> Result<Option<&str>, ApiError> {
        let mut given = pairs.iter().filter(|(n, _)| n == name);
        match (given.next(), given.next()) {
            (_, Some(_)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("{name} is given more than once"),
            )),
            (first, None) => Ok(first.map(|(_, v)| v.as_str())),
        }
    };
    let split = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect()
    };
    let group = once("group")?.map(split).unwrap_or_default();
    let measures = once("measure")?.map_or_else(|| vec!["count".to_string()], split);
    let group = group
        .iter()
        .map(|g| Grouping::parse(g))
        .collect::<Result<Vec<_>, _>>()?;
    let measures = measures
        .iter()
        .map(|m| {
            Measure::parse(m).ok_or_else(|| {
                ApiError::from(
                    CoreError::bad_request(
                        codes::NOT_MEASURABLE,
                        format!("'{m}' is not a measure: count, sum:<field>, avg:<field>, min:<field> or max:<field>"),
                    )
                    .with_param("field", serde_json::json!(m)),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rest: Vec<(String, String)> = pairs
        .iter()
        .filter(|(n, _)| n != "group" && n != "measure")
        .cloned()
        .collect();
    for name in ["sort", "cursor", "limit", "count"] {
        if rest.iter().any(|(n, _)| n == name) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("an aggregation takes no {name}"),
            ));
        }
    }
    let list = list_query(&rest, false)?;
    Ok(AggregateQuery {
        group,
        measures,
        filter: list.filter,
    })
}

async fn create(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let rec = st.core.records(def).create(&actor, &body).await?;
    let mut res = with_etag(StatusCode::CREATED, &rec);
    if let Some(id) = rec.get("id").and_then(Value::as_str)
        && let Ok(v) = format!("/api/v1/{}/{id}", def.plural).parse()
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

async fn fetch(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let rec = st.core.records(def).get(&actor, parse_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &rec))
}

async fn update(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let rec = st
        .core
        .records(def)
        .update(&actor, parse_id(&id)?, expected, &body)
        .await
        .map_err(|e| ApiError::from(e).with_precondition(expected.is_some()))?;
    Ok(with_etag(StatusCode::OK, &rec))
}

/// A declared action: `POST /{plural}/{id}/{action}` with its input as the body.
async fn act(
    def: &'static EntityDef,
    action: &'static str,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let rec = st
        .core
        .records(def)
        .act(&actor, parse_id(&id)?, action, expected, &body)
        .await
        .map_err(|e| ApiError::from(e).with_precondition(expected.is_some()))?;
    Ok(with_etag(StatusCode::OK, &rec))
}

async fn remove(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    st.core
        .records(def)
        .delete(&actor, parse_id(&id)?, expected)
        .await
        .map_err(|e| ApiError::from(e).with_precondition(expected.is_some()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn restore(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let rec = st.core.records(def).restore(&actor, parse_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &rec))
}

async fn history(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let entries = st.core.records(def).history(&actor, parse_id(&id)?).await?;
    Ok(axum::Json(json!({"data": entries})).into_response())
}

async fn change_owner(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    if !body.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        ));
    }
    let ids = match body.get("ids") {
        Some(Value::Array(ids)) => ids,
        None | Some(Value::Null) => {
            return Err(CoreError::field("ids", FieldError::new(codes::REQUIRED)).into());
        }
        Some(_) => return Err(CoreError::field("ids", FieldError::new(codes::NOT_A_LIST)).into()),
    };
    let ids = ids
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .ok_or_else(|| {
                    let e = FieldError::not_parsed(codes::NOT_AN_ID, v).in_entry(i + 1);
                    ApiError::from(CoreError::field("ids", e))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let owner_id = body.get("owner_id").unwrap_or(&Value::Null);
    let owner = owner_id
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or_else(|| {
            let e = if owner_id.is_null() {
                FieldError::new(codes::REQUIRED)
            } else {
                FieldError::not_parsed(codes::NOT_AN_ID, owner_id)
            };
            ApiError::from(CoreError::field("owner_id", e))
        })?;
    let changed = st
        .core
        .records(def)
        .change_owner(&actor, &ids, owner)
        .await?;
    Ok(axum::Json(json!({"changed": changed})).into_response())
}

/// CSV or an Excel workbook of every matching record the caller may read (up to 100,000 rows),
/// streamed, with cells that a spreadsheet would run as formulas neutralized; `format=labels`
/// words it for people in the caller's language, in the columns `cols` names, in that order.
/// 429 when the caller or the server already runs as many exports as allowed.
async fn export(
    def: &'static EntityDef,
    file: FileType,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let mut pairs = query_pairs(raw.as_deref());
    // Programs call the API: codes unless they ask for labels.
    let mut format = crate::export::download_param(&pairs, Format::Codes, file)?;
    format.cols = crate::export::cols_param(&pairs);
    pairs.retain(|(k, _)| !matches!(k.as_str(), "format" | "cols" | "col"));
    let q = list_query(&pairs, false)?;
    crate::export::export_response(&st, def, &actor, q, format).await
}
