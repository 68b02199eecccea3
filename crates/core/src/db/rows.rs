//! Reading typed values out of result rows, with errors that name the column.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::QueryResult;
use sea_orm::sea_query::Alias;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

pub fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, name: &str) -> CoreResult<T> {
    row.try_get::<T>("", name)
        .map_err(|e| CoreError::Internal(format!("reading column {name}: {e}")))
}

/// The value at position `at` of a row whose columns are known in order; `name` only words the
/// error. A page decodes thousands of values, and finding each by name hashed it first.
pub fn get_at<T: sea_orm::TryGetable>(row: &QueryResult, at: usize, name: &str) -> CoreResult<T> {
    row.try_get_by_index::<T>(at)
        .map_err(|e| CoreError::Internal(format!("reading column {name} (#{at}): {e}")))
}

pub fn get_uuid(row: &QueryResult, name: &str) -> CoreResult<Uuid> {
    get(row, name)
}
pub fn get_opt_uuid(row: &QueryResult, name: &str) -> CoreResult<Option<Uuid>> {
    get(row, name)
}
pub fn get_string(row: &QueryResult, name: &str) -> CoreResult<String> {
    get(row, name)
}
pub fn get_opt_string(row: &QueryResult, name: &str) -> CoreResult<Option<String>> {
    get(row, name)
}
pub fn get_i64(row: &QueryResult, name: &str) -> CoreResult<i64> {
    get(row, name)
}
pub fn get_opt_i64(row: &QueryResult, name: &str) -> CoreResult<Option<i64>> {
    get(row, name)
}
pub fn get_bool(row: &QueryResult, name: &str) -> CoreResult<bool> {
    get(row, name)
}
pub fn get_opt_bool(row: &QueryResult, name: &str) -> CoreResult<Option<bool>> {
    get(row, name)
}
pub fn get_ts(row: &QueryResult, name: &str) -> CoreResult<DateTime<Utc>> {
    get(row, name)
}
pub fn get_opt_ts(row: &QueryResult, name: &str) -> CoreResult<Option<DateTime<Utc>>> {
    get(row, name)
}
pub fn get_opt_date(row: &QueryResult, name: &str) -> CoreResult<Option<NaiveDate>> {
    get(row, name)
}
pub fn get_json(row: &QueryResult, name: &str) -> CoreResult<serde_json::Value> {
    get(row, name)
}
pub fn get_opt_f64(row: &QueryResult, name: &str) -> CoreResult<Option<f64>> {
    get(row, name)
}
