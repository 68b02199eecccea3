//! One error type for the domain. The web layer maps each variant to one HTTP status; nothing here
//! knows about HTTP.

use std::collections::BTreeMap;

/// Field name → message. A `BTreeMap` so error bodies list fields in a stable order.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input parsed but broke a rule; every offending field is named.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// A request that cannot be understood: a malformed filter, cursor, sort or body.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("not found")]
    NotFound,
    /// Authenticated, but the role or record scope does not allow it.
    #[error("{0}")]
    Forbidden(String),
    #[error("authentication required")]
    Unauthenticated,
    /// The version the caller had is not the current one: someone else wrote first.
    #[error("the record was changed by someone else (current version {current})")]
    StaleVersion { current: i64 },
    /// A uniqueness or state conflict, e.g. an email already in use.
    #[error("{0}")]
    Conflict(String),
    /// Too many failed logins for this account or address.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// A command that needs existing data was pointed at an SQLite file that does not exist.
    #[error(
        "the database file {0} does not exist (create it with `guanxi migrate --database {0}`)"
    )]
    DatabaseMissing(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn field(name: impl Into<String>, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(name.into(), message.into());
        CoreError::Validation(fields)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::BadRequest {
            code,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for CoreError {
    fn from(e: sqlx::Error) -> Self {
        CoreError::Database(sea_orm::DbErr::Custom(e.to_string()))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
