//! Moving a whole database between SQLite and PostgreSQL: `guanxi export-all DIR` writes every
//! table to a directory, `guanxi import-all DIR` loads such a directory into an empty database
//! on either backend.
//!
//! **What is written.** The tables are read from the schema itself (`sqlite_master`,
//! `information_schema`), not from a list kept here, so a table a later migration adds is
//! exported without an edit. Left out are only what the target makes again by itself
//! ([`derived`]): the migration bookkeeping (the manifest lists the migrations instead), the
//! search index (its document is FTS5 text on SQLite and a `tsvector` on PostgreSQL, with keys
//! SQLite allocates: it is built again from the records, see [`rebuild_search`]), the totals that
//! triggers keep as records load (`records::rollup`, `records::calendar::span_ddl`), and SQLite's own tables (`sqlite_*`, the
//! full-text index's virtual and shadow tables).
//!
//! **Format.** One JSON Lines file per table (`tables/<table>.jsonl`), one row per line as a JSON
//! array in the manifest's column order, rows in primary-key order (byte order for text), and a
//! `manifest.json` written last: format version, Guanxi version, the source's migrations, and per
//! table its columns with their kinds, its row count and the SHA-256 of its file. JSON rather than
//! CSV because it tells NULL from empty text, carries numbers as numbers and any text (line
//! breaks, commas, quotes, Chinese) without quoting rules of its own; a JSON document is written
//! as the text of its canonical form (keys in byte order), so that its `null` is not SQL's NULL; the kinds in the manifest say how each value
//! is read back (uuid and instants as text, instants in UTC with the precision stored). Every
//! value is written in one canonical form whichever backend held it, so two exports of the same
//! data are equal byte for byte.
//!
//! **Consistency.** The export reads in one transaction: on SQLite one read transaction, on
//! PostgreSQL one `REPEATABLE READ READ ONLY` transaction, so it is the database of one instant
//! while others go on writing. Rows are streamed to the files, never held whole.
//!
//! **Import.** Nothing is written before every file has matched its checksum and row count, the
//! migrations are known, and the target holds no data. The target is migrated to the export's
//! schema, then the tables load in foreign-key order (derived from the schema; a reference to
//! the own table, or a cycle, is loaded empty and filled in once every row is there) in batched
//! inserts, all in **one transaction** together with the search index built again: a failure
//! anywhere rolls it all back and leaves the target as empty as it was. (The target is empty and
//! nobody works in it yet, so one long transaction holds nobody up.) An export from an older
//! schema is loaded at its schema and then migrated; its search index is built after the
//! migrations, in a second transaction. No table has a serial column, so there are no sequences
//! to reset; should one appear on PostgreSQL, [`reset_sequences`] sets it past the loaded rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use futures::TryStreamExt;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row, ValueRef};
use uuid::Uuid;

use crate::db::{Backend, Db, IfMissing, migrations, normalize_url};
use crate::error::{CoreError, CoreResult, Params, codes};
use crate::{Core, Settings};

/// What the manifest's `format` says.
pub const FORMAT: &str = "guanxi-export-all";
/// The version of the directory's layout; an import refuses a newer one.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// Values bound per insert statement: far below both databases' limits.
const PARAMS_PER_INSERT: usize = 8_000;
/// Rows per insert statement at most.
const ROWS_PER_INSERT: usize = 500;
/// Records whose search entries are written per step of the rebuild.
const INDEX_PAGE: u64 = 500;

/// How a column's values are written and read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Uuid,
    /// An instant, written in UTC (RFC 3339, `Z`) with the fraction of a second it has.
    Instant,
    Date,
    Int,
    /// A floating-point number (a model's score), written as JSON writes it: read back to the
    /// same bits.
    Real,
    Bool,
    Json,
    Text,
    /// Bytes, written as standard base64.
    Bytes,
}

impl Kind {
    /// The kind of a column declared `declared` on `backend`; `None` for a type no export
    /// carries.
    fn of(backend: Backend, declared: &str) -> Option<Kind> {
        let t = declared.to_ascii_lowercase();
        match backend {
            // SeaORM's declared types on SQLite: uuid_text, timestamp_with_timezone_text,
            // date_text, jsonb_text, boolean, bigint, varchar, text, blob.
            Backend::Sqlite => Some(if t.contains("uuid") {
                Kind::Uuid
            } else if t.contains("timestamp") || t.contains("datetime") {
                Kind::Instant
            } else if t.starts_with("date") {
                Kind::Date
            } else if t.contains("json") {
                Kind::Json
            } else if t.contains("bool") {
                Kind::Bool
            } else if t.contains("int") {
                Kind::Int
            } else if t.contains("real") || t.contains("double") || t.contains("float") {
                Kind::Real
            } else if t.contains("blob") || t.is_empty() {
                Kind::Bytes
            } else if t.contains("char") || t.contains("text") || t.contains("clob") {
                Kind::Text
            } else {
                return None;
            }),
            Backend::Postgres => match t.as_str() {
                "uuid" => Some(Kind::Uuid),
                "timestamp with time zone" => Some(Kind::Instant),
                "date" => Some(Kind::Date),
                "bigint" | "integer" | "smallint" => Some(Kind::Int),
                "double precision" | "real" => Some(Kind::Real),
                "boolean" => Some(Kind::Bool),
                "json" | "jsonb" => Some(Kind::Json),
                "text" | "character varying" | "character" => Some(Kind::Text),
                "bytea" => Some(Kind::Bytes),
                _ => None,
            },
        }
    }
}

/// One column of an exported table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One exported table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// The file, relative to the directory.
    pub file: String,
    pub columns: Vec<Column>,
    /// The primary key's columns.
    pub key: Vec<String>,
    pub rows: u64,
    /// SHA-256 of the file, in hex.
    pub sha256: String,
}

/// A table the export leaves out, and why: the target makes it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    pub name: String,
    pub reason: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub guanxi_version: String,
    pub exported_at: String,
    /// `sqlite` or `postgres`.
    pub source: String,
    /// The migrations the source had applied, oldest first.
    pub migrations: Vec<String>,
    pub tables: Vec<TableEntry>,
    pub rebuilt: Vec<Derived>,
}

/// What an export or an import did.
#[derive(Clone, Debug)]
pub struct MoveReport {
    pub tables: usize,
    pub rows: u64,
    pub took: Duration,
    /// Search entries written (import only).
    pub indexed: u64,
    /// Migrations applied after the load (an import of an older export).
    pub migrated: Vec<String>,
}

impl MoveReport {
    /// Rows moved per second.
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.took.as_secs_f64().max(0.001)
    }
}

fn refused(code: &'static str, message: String, params: &[(&'static str, Value)]) -> CoreError {
    CoreError::BadRequest {
        code,
        message,
        params: params.iter().cloned().collect::<Params>(),
    }
}

fn text(s: impl std::fmt::Display) -> Value {
    Value::String(s.to_string())
}

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("{what} {}: {e}", path.display()))
}

fn db_err(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("database: {e}"))
}

/// Quotes an identifier for either backend.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables the export leaves out because the target makes them again, with the reason;
/// SQLite's own tables are left out besides ([`is_internal`]).
pub fn derived() -> Vec<Derived> {
    let mut out = vec![Derived {
        name: "seaql_migrations".into(),
        reason: "migration bookkeeping: the manifest lists the migrations, the target runs them"
            .into(),
    }];
    for name in crate::search::DERIVED_TABLES {
        out.push(Derived {
            name: (*name).into(),
            reason: "search index: built again from the records (its form differs per backend)"
                .into(),
        });
    }
    out.push(Derived {
        name: crate::records::calendar::SPANS.into(),
        reason: "how long calendar entries last, kept by triggers as the entries load".into(),
    });
    out.push(Derived {
        name: crate::identity::users::STAMPS.into(),
        reason: "the people's stamp, raised by triggers as the users load".into(),
    });
    out.push(Derived {
        name: crate::records::calendar::LONG.into(),
        reason: "calendar entries longer than a month, listed by triggers as the entries load"
            .into(),
    });
    for def in crate::areas::registry().all() {
        for l in crate::records::rollup::layouts(def) {
            out.push(Derived {
                name: l.table.clone(),
                reason: format!(
                    "running totals kept by triggers as the {} rows load",
                    def.table
                ),
            });
        }
    }
    out
}

/// Whether `name` is one of SQLite's own tables, or a virtual table's or its shadow tables.
fn is_internal(name: &str, virtuals: &[String]) -> bool {
    name.starts_with("sqlite_")
        || virtuals.iter().any(|v| {
            name == v
                || name
                    .strip_prefix(v.as_str())
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|s| ["data", "idx", "content", "docsize", "config"].contains(&s))
        })
}

/// A table as the schema declares it.
#[derive(Clone, Debug)]
struct TableSchema {
    name: String,
    columns: Vec<Column>,
    key: Vec<String>,
    /// Columns referring to other tables: (column, referenced table).
    refs: Vec<(String, String)>,
}

/// A connection of its own to either backend, for reading and introspecting.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

impl Raw {
    async fn connect(url: &str, read_only: bool) -> CoreResult<Raw> {
        let url = normalize_url(url);
        if url.starts_with("postgres") {
            let conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| CoreError::Internal(format!("cannot connect to PostgreSQL: {e}")))?;
            Ok(Raw::Pg(conn))
        } else {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .map_err(|e| CoreError::Internal(format!("bad SQLite URL {url}: {e}")))?
                .read_only(read_only)
                .busy_timeout(Duration::from_secs(30));
            let file = opts.get_filename().to_path_buf();
            if !file.exists() {
                return Err(CoreError::DatabaseMissing(file.display().to_string()));
            }
            let conn = sqlx::SqliteConnection::connect_with(&opts)
                .await
                .map_err(|e| io("opening", &file, e))?;
            Ok(Raw::Sqlite(conn))
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Raw::Sqlite(_) => Backend::Sqlite,
            Raw::Pg(_) => Backend::Postgres,
        }
    }

    async fn execute(&mut self, sql: &str) -> CoreResult<()> {
        match self {
            Raw::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Raw::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
        }
        .map_err(db_err)
    }

    /// Rows of text columns (NULL as empty), for the catalogue queries.
    async fn strings(&mut self, sql: &str) -> CoreResult<Vec<Vec<String>>> {
        Ok(match self {
            Raw::Sqlite(c) => sqlx::query(sql)
                .fetch_all(c)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            r.try_get::<Option<String>, _>(i)
                                .ok()
                                .flatten()
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .collect(),
            Raw::Pg(c) => sqlx::query(sql)
                .fetch_all(c)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            r.try_get::<Option<String>, _>(i)
                                .ok()
                                .flatten()
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .collect(),
        })
    }

    async fn close(self) {
        let _ = match self {
            Raw::Sqlite(c) => c.close().await,
            Raw::Pg(c) => c.close().await,
        };
    }

    /// Whether the migrations' bookkeeping table exists.
    async fn has_migrations(&mut self) -> CoreResult<bool> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
            }
        };
        Ok(!self.strings(sql).await?.is_empty())
    }

    async fn migrations(&mut self) -> CoreResult<Vec<String>> {
        if !self.has_migrations().await? {
            return Ok(Vec::new());
        }
        Ok(self
            .strings("SELECT version FROM seaql_migrations ORDER BY version")
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect())
    }

    /// Every table of the schema but SQLite's own, in name order.
    async fn all_tables(&mut self) -> CoreResult<Vec<String>> {
        match self.backend() {
            Backend::Sqlite => {
                let rows = self
                    .strings(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    )
                    .await?;
                let virtuals: Vec<String> = rows
                    .iter()
                    .filter(|r| {
                        r[1].to_ascii_uppercase()
                            .starts_with("CREATE VIRTUAL TABLE")
                    })
                    .map(|r| r[0].clone())
                    .collect();
                Ok(rows
                    .into_iter()
                    .map(|r| r[0].clone())
                    .filter(|n| !is_internal(n, &virtuals))
                    .collect())
            }
            Backend::Postgres => Ok(self
                .strings(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                     ORDER BY table_name",
                )
                .await?
                .into_iter()
                .filter_map(|r| r.into_iter().next())
                .collect()),
        }
    }

    /// The tables that hold the company's data: every table but the derived ones.
    async fn data_tables(&mut self) -> CoreResult<Vec<String>> {
        let skip: BTreeSet<String> = derived().into_iter().map(|d| d.name).collect();
        Ok(self
            .all_tables()
            .await?
            .into_iter()
            .filter(|t| !skip.contains(t))
            .collect())
    }

    async fn schema(&mut self, table: &str) -> CoreResult<TableSchema> {
        let backend = self.backend();
        let lit = table.replace('\'', "''");
        let (cols, keys, refs) = match backend {
            Backend::Sqlite => {
                let cols = self
                    .strings(&format!(
                        "SELECT name, type, CAST(pk AS TEXT) FROM pragma_table_info('{lit}') ORDER BY cid"
                    ))
                    .await?;
                let mut keyed: Vec<(i64, String)> = cols
                    .iter()
                    .filter_map(|c| {
                        c[2].parse::<i64>()
                            .ok()
                            .filter(|k| *k > 0)
                            .map(|k| (k, c[0].clone()))
                    })
                    .collect();
                keyed.sort();
                let refs = self
                    .strings(&format!(
                        "SELECT \"from\", \"table\" FROM pragma_foreign_key_list('{lit}')"
                    ))
                    .await?;
                (
                    cols.into_iter()
                        .map(|c| (c[0].clone(), c[1].clone()))
                        .collect::<Vec<_>>(),
                    keyed.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
                    refs,
                )
            }
            Backend::Postgres => {
                let cols = self
                    .strings(&format!(
                        "SELECT column_name::text, data_type::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = '{lit}' \
                         ORDER BY ordinal_position"
                    ))
                    .await?;
                let keys = self
                    .strings(&format!(
                        "SELECT a.attname::text FROM pg_index i \
                         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true \
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                         WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident('{lit}'))::regclass \
                         AND i.indisprimary ORDER BY k.n"
                    ))
                    .await?;
                let refs = self
                    .strings(&format!(
                        "SELECT a.attname::text, c.confrelid::regclass::text FROM pg_constraint c \
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) \
                         WHERE c.contype = 'f' \
                         AND c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident('{lit}'))::regclass"
                    ))
                    .await?;
                (
                    cols.into_iter()
                        .map(|c| (c[0].clone(), c[1].clone()))
                        .collect(),
                    keys.into_iter().map(|k| k[0].clone()).collect(),
                    refs,
                )
            }
        };
        let mut columns = Vec::with_capacity(cols.len());
        for (name, ty) in cols {
            let kind = Kind::of(backend, &ty).ok_or_else(|| {
                refused(
                    codes::MOVE_UNSUPPORTED_TYPE,
                    format!("column {name} of {table} has type {ty}"),
                    &[
                        ("table", text(table)),
                        ("column", text(&name)),
                        ("type", text(&ty)),
                    ],
                )
            })?;
            columns.push(Column { name, kind });
        }
        Ok(TableSchema {
            name: table.into(),
            columns,
            key: keys,
            refs: refs
                .into_iter()
                .map(|r| (r[0].clone(), r[1].trim_matches('"').to_string()))
                .collect(),
        })
    }
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A JSON value with its objects' keys in byte order, whatever order the database kept.
fn canonical_json(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, canonical_json(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical_json).collect()),
        other => other,
    }
}

/// A JSON document as the text of its canonical form: a string, so that the document `null`
/// stays apart from SQL's NULL.
fn json_text(v: Value) -> Value {
    Value::String(canonical_json(v).to_string())
}

fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An instant as SQLite holds it (RFC 3339 text as written through sqlx, or a bare
/// `YYYY-MM-DD HH:MM:SS[.f]` in UTC).
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
                .map(|t| t.with_timezone(&Utc))
                .ok()
        })
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc())
                .ok()
        })
}

/// A value read from SQLite, in the canonical form.
fn sqlite_value(row: &sqlx::sqlite::SqliteRow, i: usize, kind: Kind) -> Result<Value, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let string = || row.try_get::<String, _>(i).map_err(|e| e.to_string());
    Ok(match kind {
        Kind::Uuid => match row.try_get::<Uuid, _>(i) {
            Ok(u) => text(u),
            Err(_) => {
                let s = string()?;
                text(Uuid::parse_str(&s).map_err(|e| format!("{s}: {e}"))?)
            }
        },
        Kind::Instant => {
            let s = string()?;
            text(instant_text(
                parse_instant(&s).ok_or_else(|| format!("{s} is not an instant"))?,
            ))
        }
        Kind::Date => {
            let s = string()?;
            let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| format!("{s}: {e}"))?;
            text(d.format("%Y-%m-%d"))
        }
        Kind::Int => Value::from(row.try_get::<i64, _>(i).map_err(|e| e.to_string())?),
        Kind::Real => Value::from(row.try_get::<f64, _>(i).map_err(|e| e.to_string())?),
        Kind::Bool => Value::Bool(row.try_get::<bool, _>(i).map_err(|e| e.to_string())?),
        Kind::Json => {
            let s = string()?;
            json_text(serde_json::from_str(&s).map_err(|e| format!("{e}"))?)
        }
        Kind::Text => text(string()?),
        Kind::Bytes => text(
            base64::engine::general_purpose::STANDARD
                .encode(row.try_get::<Vec<u8>, _>(i).map_err(|e| e.to_string())?),
        ),
    })
}

/// A value read from PostgreSQL, in the canonical form.
fn pg_value(row: &sqlx::postgres::PgRow, i: usize, kind: Kind) -> Result<Value, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let e = |e: sqlx::Error| e.to_string();
    Ok(match kind {
        Kind::Uuid => text(row.try_get::<Uuid, _>(i).map_err(e)?),
        Kind::Instant => text(instant_text(row.try_get::<DateTime<Utc>, _>(i).map_err(e)?)),
        Kind::Date => text(
            row.try_get::<NaiveDate, _>(i)
                .map_err(e)?
                .format("%Y-%m-%d"),
        ),
        Kind::Int => Value::from(row.try_get::<i64, _>(i).map_err(e)?),
        Kind::Real => Value::from(row.try_get::<f64, _>(i).map_err(e)?),
        Kind::Bool => Value::Bool(row.try_get::<bool, _>(i).map_err(e)?),
        Kind::Json => json_text(row.try_get::<Value, _>(i).map_err(e)?),
        Kind::Text => text(row.try_get::<String, _>(i).map_err(e)?),
        Kind::Bytes => text(
            base64::engine::general_purpose::STANDARD
                .encode(row.try_get::<Vec<u8>, _>(i).map_err(e)?),
        ),
    })
}

/// The select that reads a table whole, in key order (byte order for text on both backends).
fn select_all(backend: Backend, t: &TableSchema) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| match (backend, c.kind) {
            // One Rust type per kind: every integer as bigint, JSON as jsonb.
            (Backend::Postgres, Kind::Int) => format!("{}::bigint", quote(&c.name)),
            (Backend::Postgres, Kind::Real) => format!("{}::double precision", quote(&c.name)),
            (Backend::Postgres, Kind::Json) => format!("{}::jsonb", quote(&c.name)),
            (Backend::Postgres, Kind::Text) => format!("{}::text", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let order_cols: Vec<&Column> = if t.key.is_empty() {
        t.columns.iter().filter(|c| c.kind != Kind::Json).collect()
    } else {
        t.key
            .iter()
            .filter_map(|k| t.columns.iter().find(|c| &c.name == k))
            .collect()
    };
    let order: Vec<String> = order_cols
        .iter()
        .map(|c| match (backend, c.kind) {
            (Backend::Postgres, Kind::Text) => format!("{} COLLATE \"C\"", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), quote(&t.name));
    if !order.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    sql
}

/// Writes every table of the database at `url` into `dir` (created if missing; it must be
/// empty), with the manifest last. `progress` hears a line per table.
pub async fn export_all(
    url: &str,
    dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<MoveReport> {
    let started = Instant::now();
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| io("reading", dir, e))?;
        if entries.next().is_some() {
            return Err(refused(
                codes::MOVE_DIR_NOT_EMPTY,
                format!("{} is not empty", dir.display()),
                &[("dir", text(dir.display()))],
            ));
        }
    }
    std::fs::create_dir_all(dir.join("tables")).map_err(|e| io("creating", dir, e))?;
    let mut raw = Raw::connect(url, true).await?;
    let backend = raw.backend();
    let result = async {
        match backend {
            // The first read starts the snapshot every later read of the transaction sees.
            Backend::Sqlite => raw.execute("BEGIN").await?,
            Backend::Postgres => {
                raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        }
        let migrations = raw.migrations().await?;
        let known: Vec<String> = migrations::Migrator::migrations()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        if migrations.is_empty() {
            return Err(refused(
                codes::RESTORE_NOT_GUANXI,
                format!("{url} is not a Guanxi database"),
                &[("file", text(url))],
            ));
        }
        if let Some(newer) = migrations.iter().find(|m| !known.contains(m)) {
            return Err(refused(
                codes::MOVE_NEWER_SCHEMA,
                format!("the database has migration {newer}, unknown to this program"),
                &[("migration", text(newer))],
            ));
        }
        let mut tables = Vec::new();
        let mut total = 0u64;
        for name in raw.data_tables().await? {
            let schema = raw.schema(&name).await?;
            let entry = export_table(&mut raw, &schema, dir, progress).await?;
            total += entry.rows;
            tables.push(entry);
        }
        Ok::<_, CoreError>((migrations, tables, total))
    }
    .await;
    let _ = raw.execute("ROLLBACK").await;
    raw.close().await;
    let (migrations, tables, total) = result?;
    let present: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        guanxi_version: env!("CARGO_PKG_VERSION").into(),
        exported_at: instant_text(Utc::now()),
        source: match backend {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres => "postgres".into(),
        },
        migrations,
        rebuilt: derived()
            .into_iter()
            .filter(|d| !present.contains(d.name.as_str()))
            .collect(),
        tables,
    };
    let path = dir.join(MANIFEST);
    let partial = dir.join(".manifest.json.partial");
    let body = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| CoreError::Internal(format!("manifest: {e}")))?;
    std::fs::write(&partial, body).map_err(|e| io("writing", &partial, e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("writing", &partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| io("writing", &path, e))?;
    Ok(MoveReport {
        tables: manifest.tables.len(),
        rows: total,
        took: started.elapsed(),
        indexed: 0,
        migrated: Vec::new(),
    })
}

async fn export_table(
    raw: &mut Raw,
    t: &TableSchema,
    dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<TableEntry> {
    let file = format!("tables/{}.jsonl", t.name);
    let path = dir.join(&file);
    let f = std::fs::File::create(&path).map_err(|e| io("creating", &path, e))?;
    let mut out = Hashing {
        inner: BufWriter::with_capacity(1 << 20, f),
        hash: Sha256::new(),
    };
    let sql = select_all(raw.backend(), t);
    let kinds: Vec<Kind> = t.columns.iter().map(|c| c.kind).collect();
    let mut rows = 0u64;
    let bad = |e: String| CoreError::Internal(format!("reading {}: {e}", t.name));
    let mut line = Vec::with_capacity(kinds.len());
    macro_rules! drain {
        ($conn:expr, $value:path) => {{
            let mut stream = sqlx::query(&sql).fetch($conn);
            while let Some(row) = stream.try_next().await.map_err(db_err)? {
                line.clear();
                for (i, k) in kinds.iter().enumerate() {
                    line.push($value(&row, i, *k).map_err(&bad)?);
                }
                serde_json::to_writer(&mut out, &line).map_err(|e| io("writing", &path, e))?;
                out.write_all(b"\n").map_err(|e| io("writing", &path, e))?;
                rows += 1;
                if rows % 100_000 == 0 {
                    progress(&format!("  {}: {rows} rows …", t.name));
                }
            }
        }};
    }
    match raw {
        Raw::Sqlite(c) => drain!(&mut *c, sqlite_value),
        Raw::Pg(c) => drain!(&mut *c, pg_value),
    }
    out.flush().map_err(|e| io("writing", &path, e))?;
    let Hashing { inner, hash } = out;
    inner
        .into_inner()
        .map_err(|e| io("writing", &path, e.error()))?
        .sync_all()
        .map_err(|e| io("writing", &path, e))?;
    progress(&format!("{}: {rows} rows", t.name));
    Ok(TableEntry {
        name: t.name.clone(),
        file,
        columns: t.columns.clone(),
        key: t.key.clone(),
        rows,
        sha256: hex(&hash.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and checks `dir`'s manifest: its format, and that this program knows its migrations
/// and can reach their schema. Returns it with how many known migrations it has.
pub fn read_manifest(dir: &Path) -> CoreResult<Manifest> {
    let path = dir.join(MANIFEST);
    let body = match std::fs::read(&path) {
        Ok(b) => b,
        Err(_) => {
            return Err(refused(
                codes::MOVE_NO_MANIFEST,
                format!("no {MANIFEST} in {}", dir.display()),
                &[("dir", text(dir.display()))],
            ));
        }
    };
    let bad = |problem: String| {
        refused(
            codes::MOVE_BAD_MANIFEST,
            format!("{}: {problem}", path.display()),
            &[("file", text(path.display())), ("problem", text(problem))],
        )
    };
    let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(bad(format!("format {} is not {FORMAT}", manifest.format)));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(bad(format!(
            "format version {} is newer than {FORMAT_VERSION}",
            manifest.format_version
        )));
    }
    let known: Vec<String> = migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    if let Some(newer) = manifest.migrations.iter().find(|m| !known.contains(m)) {
        return Err(refused(
            codes::MOVE_NEWER_SCHEMA,
            format!("the export has migration {newer}, unknown to this program"),
            &[("migration", text(newer))],
        ));
    }
    // Applied in order, the migrations make a schema this program passes through only if the
    // export has the first n of them.
    let mut had = manifest.migrations.clone();
    had.sort();
    if let Some(gap) = known
        .iter()
        .take(had.len())
        .zip(&had)
        .find(|(k, h)| k != h)
        .map(|(k, _)| k)
    {
        return Err(refused(
            codes::MOVE_OTHER_SCHEMA,
            format!("the export lacks migration {gap} but has later ones"),
            &[("migration", text(gap))],
        ));
    }
    for t in &manifest.tables {
        let safe = t.file == format!("tables/{}.jsonl", t.name)
            && !t.name.contains(['/', '\\', '.'])
            && !t.name.is_empty();
        if !safe {
            return Err(bad(format!("table {} has file {}", t.name, t.file)));
        }
    }
    Ok(manifest)
}

/// Checks every table file against the manifest's checksum and row count, reading each once.
pub fn verify_files(dir: &Path, manifest: &Manifest) -> CoreResult<()> {
    for t in &manifest.tables {
        let path = dir.join(&t.file);
        let shown = text(path.display());
        let f = std::fs::File::open(&path).map_err(|_| {
            refused(
                codes::MOVE_CHECKSUM_MISMATCH,
                format!("{} is missing", path.display()),
                &[("file", shown.clone())],
            )
        })?;
        let mut reader = BufReader::with_capacity(1 << 20, f);
        let mut hash = Sha256::new();
        let mut lines = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).map_err(|e| io("reading", &path, e))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        }
        if hex(&hash.finalize()) != t.sha256 {
            return Err(refused(
                codes::MOVE_CHECKSUM_MISMATCH,
                format!("{}: checksum differs from the manifest's", path.display()),
                &[("file", shown)],
            ));
        }
        if lines != t.rows {
            return Err(refused(
                codes::MOVE_ROW_COUNT_MISMATCH,
                format!("{}: {lines} rows, manifest says {}", path.display(), t.rows),
                &[
                    ("file", shown),
                    ("found", Value::from(lines)),
                    ("expected", Value::from(t.rows)),
                ],
            ));
        }
    }
    Ok(())
}

/// The order tables load in: each after the tables it refers to. A reference to the own table,
/// or one that closes a cycle, is "deferred": loaded empty and filled in at the end. Returns the
/// order and the deferred columns per table.
fn load_order(tables: &[TableSchema]) -> (Vec<String>, HashMap<String, Vec<String>>) {
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut deferred: HashMap<String, Vec<String>> = HashMap::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::new();
    let mut left: Vec<&TableSchema> = tables.iter().collect();
    while !left.is_empty() {
        let waits = |t: &TableSchema, done: &BTreeSet<String>| {
            t.refs
                .iter()
                .filter(|(_, to)| {
                    to != &t.name && names.contains(to.as_str()) && !done.contains(to)
                })
                .count()
        };
        let pick = left
            .iter()
            .position(|t| waits(t, &done) == 0)
            // A cycle: the table waiting for the fewest goes first, its waiting references
            // deferred.
            .or_else(|| (0..left.len()).min_by_key(|i| waits(left[*i], &done)))
            .unwrap_or(0);
        let t = left.remove(pick);
        for (col, to) in &t.refs {
            if to == &t.name || (names.contains(to.as_str()) && !done.contains(to)) {
                deferred
                    .entry(t.name.clone())
                    .or_default()
                    .push(col.clone());
            }
        }
        done.insert(t.name.clone());
        order.push(t.name.clone());
    }
    (order, deferred)
}

/// A canonical value as the bound parameter the target's column takes.
fn bind(kind: Kind, v: &Value) -> Result<sea_orm::Value, String> {
    use sea_orm::Value as V;
    let s = || v.as_str().ok_or_else(|| format!("{v} is not text"));
    if v.is_null() {
        return Ok(match kind {
            Kind::Uuid => V::Uuid(None),
            Kind::Instant => V::ChronoDateTimeUtc(None),
            Kind::Date => V::ChronoDate(None),
            Kind::Int => V::BigInt(None),
            Kind::Real => V::Double(None),
            Kind::Bool => V::Bool(None),
            Kind::Json => V::Json(None),
            Kind::Text => V::String(None),
            Kind::Bytes => V::Bytes(None),
        });
    }
    Ok(match kind {
        Kind::Uuid => Uuid::parse_str(s()?).map_err(|e| e.to_string())?.into(),
        Kind::Instant => DateTime::parse_from_rfc3339(s()?)
            .map_err(|e| e.to_string())?
            .with_timezone(&Utc)
            .into(),
        Kind::Date => NaiveDate::parse_from_str(s()?, "%Y-%m-%d")
            .map_err(|e| e.to_string())?
            .into(),
        Kind::Int => v
            .as_i64()
            .ok_or_else(|| format!("{v} is not an integer"))?
            .into(),
        Kind::Real => v
            .as_f64()
            .ok_or_else(|| format!("{v} is not a number"))?
            .into(),
        Kind::Bool => v
            .as_bool()
            .ok_or_else(|| format!("{v} is not true or false"))?
            .into(),
        Kind::Json => V::Json(Some(Box::new(
            serde_json::from_str(s()?).map_err(|e| e.to_string())?,
        ))),
        Kind::Text => s()?.to_string().into(),
        Kind::Bytes => base64::engine::general_purpose::STANDARD
            .decode(s()?)
            .map_err(|e| e.to_string())?
            .into(),
    })
}

/// Placeholders `?` on SQLite, `$n` on PostgreSQL, numbered from `from`.
fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".into(),
        Backend::Postgres => format!("${n}"),
    }
}

/// Loads the export in `dir` into the database at `url`, which must hold no data (an SQLite
/// file that does not exist is created). See the module's notes.
pub async fn import_all(
    dir: &Path,
    url: &str,
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<MoveReport> {
    let started = Instant::now();
    let manifest = read_manifest(dir)?;
    progress(&format!(
        "checking {} files against the manifest …",
        manifest.tables.len()
    ));
    verify_files(dir, &manifest)?;

    let db = Db::connect_with(url, IfMissing::Create).await?;
    let mut outcome = import_into(&db, &normalize_url(url), dir, &manifest, progress).await;
    if outcome.is_ok() {
        // A whole database arrived at once: the planner needs its figures before the first page.
        if let Err(e) = db.optimize().await {
            outcome = Err(e);
        }
    }
    let closed = db.close().await;
    let (rows, indexed, migrated) = outcome?;
    closed?;
    Ok(MoveReport {
        tables: manifest.tables.len(),
        rows,
        took: started.elapsed(),
        indexed,
        migrated,
    })
}

async fn import_into(
    db: &Db,
    url: &str,
    dir: &Path,
    manifest: &Manifest,
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<(u64, u64, Vec<String>)> {
    let backend = db.backend();
    check_empty(url).await?;
    // The target's schema is the export's while the rows load; later migrations follow.
    let applied = db.applied_migrations().await?;
    let want = manifest.migrations.len();
    if applied.len() < want {
        migrations::Migrator::up(db.writer(), Some((want - applied.len()) as u32)).await?;
    }
    let known = migrations::Migrator::migrations().len();
    let later = db.applied_migrations().await?.len() < known;

    let mut raw = Raw::connect(url, false).await?;
    let mut schemas = Vec::new();
    let target_tables = raw.all_tables().await?;
    for t in &manifest.tables {
        if !target_tables.contains(&t.name) {
            raw.close().await;
            return Err(refused(
                codes::MOVE_UNKNOWN_TABLE,
                format!("the target has no table {}", t.name),
                &[("table", text(&t.name)), ("column", text(""))],
            ));
        }
        let schema = raw.schema(&t.name).await?;
        if let Some(c) = t
            .columns
            .iter()
            .find(|c| !schema.columns.iter().any(|s| s.name == c.name))
        {
            raw.close().await;
            return Err(refused(
                codes::MOVE_UNKNOWN_TABLE,
                format!("the target's table {} has no column {}", t.name, c.name),
                &[("table", text(&t.name)), ("column", text(&c.name))],
            ));
        }
        schemas.push(schema);
    }
    raw.close().await;

    let (order, deferred) = load_order(&schemas);
    let by_name: HashMap<&str, (&TableEntry, &TableSchema)> = manifest
        .tables
        .iter()
        .zip(&schemas)
        .map(|(e, s)| (e.name.as_str(), (e, s)))
        .collect();

    let txn = db.writer().begin().await?;
    let mut rows = 0u64;
    for name in &order {
        let Some((entry, schema)) = by_name.get(name.as_str()) else {
            continue;
        };
        let none = Vec::new();
        let later_cols = deferred.get(name).unwrap_or(&none);
        rows += load_table(&txn, backend, dir, entry, schema, later_cols, progress).await?;
    }
    for (name, cols) in &deferred {
        if let Some((entry, schema)) = by_name.get(name.as_str()) {
            fill_deferred(&txn, backend, dir, entry, schema, cols).await?;
        }
    }
    reset_sequences(&txn, backend).await?;
    let mut indexed = 0;
    if !later {
        indexed = rebuild_search(db, &txn, progress).await?;
    }
    txn.commit().await?;
    let mut migrated = Vec::new();
    if later {
        let before = db.applied_migrations().await?;
        db.migrate().await?;
        migrated = db
            .applied_migrations()
            .await?
            .into_iter()
            .filter(|m| !before.contains(m))
            .collect();
        let txn = db.writer().begin().await?;
        indexed = rebuild_search(db, &txn, progress).await?;
        txn.commit().await?;
    }
    Ok((rows, indexed, migrated))
}

/// Refuses a target that holds anything: as `guanxi restore` refuses one, but a target may
/// already be migrated (by `guanxi migrate`, or a server started on it), so its tables must
/// then hold no rows.
async fn check_empty(url: &str) -> CoreResult<()> {
    let mut raw = Raw::connect(url, true).await?;
    let result = async {
        let migrated = raw.has_migrations().await?;
        for table in raw.data_tables().await? {
            let n = raw
                .strings(&format!(
                    "SELECT CAST(count(*) AS TEXT) FROM (SELECT 1 FROM {} LIMIT 1000) AS t",
                    quote(&table)
                ))
                .await?
                .first()
                .and_then(|r| r.first())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            // Without migrations, any table at all is someone else's.
            if n > 0 || !migrated {
                let rows = if n >= 1000 {
                    "1000+".to_string()
                } else {
                    n.to_string()
                };
                return Err(refused(
                    codes::MOVE_TARGET_NOT_EMPTY,
                    format!("the target database is not empty: {table} has {rows} rows"),
                    &[("table", text(&table)), ("rows", text(rows))],
                ));
            }
        }
        Ok(())
    }
    .await;
    raw.close().await;
    result
}

async fn load_table(
    txn: &DatabaseTransaction,
    backend: Backend,
    dir: &Path,
    entry: &TableEntry,
    schema: &TableSchema,
    later_cols: &[String],
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<u64> {
    let path = dir.join(&entry.file);
    let kinds: Vec<Kind> = entry
        .columns
        .iter()
        .map(|c| {
            schema
                .columns
                .iter()
                .find(|s| s.name == c.name)
                .map_or(c.kind, |s| s.kind)
        })
        .collect();
    let held_back: Vec<bool> = entry
        .columns
        .iter()
        .map(|c| later_cols.contains(&c.name))
        .collect();
    let per = (PARAMS_PER_INSERT / kinds.len().max(1)).clamp(1, ROWS_PER_INSERT);
    let cols: Vec<String> = entry.columns.iter().map(|c| quote(&c.name)).collect();
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote(&entry.name),
        cols.join(", ")
    );
    let f = std::fs::File::open(&path).map_err(|e| io("reading", &path, e))?;
    let reader = BufReader::with_capacity(1 << 20, f);
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(per * kinds.len());
    let mut in_batch = 0usize;
    let mut loaded = 0u64;
    let flush = |values: Vec<sea_orm::Value>, n: usize| {
        let mut sql = head.clone();
        let mut p = 0usize;
        for r in 0..n {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..kinds.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                p += 1;
                sql.push_str(&placeholder(backend, p));
            }
            sql.push(')');
        }
        Statement::from_sql_and_values(txn.get_database_backend(), sql, values)
    };
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| io("reading", &path, e))?;
        let bad = |problem: String| {
            refused(
                codes::MOVE_BAD_ROW,
                format!("{} line {}: {problem}", path.display(), i + 1),
                &[
                    ("file", text(path.display())),
                    ("line", Value::from(i + 1)),
                    ("problem", text(&problem)),
                ],
            )
        };
        let row: Vec<Value> = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        if row.len() != kinds.len() {
            return Err(bad(format!(
                "{} values for {} columns",
                row.len(),
                kinds.len()
            )));
        }
        for (c, v) in row.iter().enumerate() {
            let v = if held_back[c] { &Value::Null } else { v };
            values.push(
                bind(kinds[c], v).map_err(|p| bad(format!("{}: {p}", entry.columns[c].name)))?,
            );
        }
        in_batch += 1;
        if in_batch == per {
            let stmt = flush(std::mem::take(&mut values), in_batch);
            txn.execute(stmt).await.map_err(|e| bad(e.to_string()))?;
            loaded += in_batch as u64;
            in_batch = 0;
            if loaded % 100_000 < per as u64 {
                progress(&format!(
                    "  {}: {loaded} of {} rows …",
                    entry.name, entry.rows
                ));
            }
        }
    }
    if in_batch > 0 {
        let stmt = flush(values, in_batch);
        txn.execute(stmt).await.map_err(|e| {
            refused(
                codes::MOVE_BAD_ROW,
                format!("{}: {e}", path.display()),
                &[
                    ("file", text(path.display())),
                    ("line", Value::from(loaded + 1)),
                    ("problem", text(e)),
                ],
            )
        })?;
        loaded += in_batch as u64;
    }
    progress(&format!("{}: {loaded} rows", entry.name));
    Ok(loaded)
}

/// Fills in the references loaded empty ([`load_order`]), row by row by the table's key.
async fn fill_deferred(
    txn: &DatabaseTransaction,
    backend: Backend,
    dir: &Path,
    entry: &TableEntry,
    schema: &TableSchema,
    cols: &[String],
) -> CoreResult<()> {
    let path = dir.join(&entry.file);
    let at = |name: &str| entry.columns.iter().position(|c| c.name == name);
    let kind = |name: &str| {
        schema
            .columns
            .iter()
            .find(|c| c.name == name)
            .map_or(Kind::Text, |c| c.kind)
    };
    let set: Vec<(usize, &String)> = cols.iter().filter_map(|c| at(c).map(|i| (i, c))).collect();
    let key: Vec<(usize, &String)> = entry
        .key
        .iter()
        .filter_map(|c| at(c).map(|i| (i, c)))
        .collect();
    if set.is_empty() || key.is_empty() {
        return Ok(());
    }
    let mut p = 0;
    let mut next = || {
        p += 1;
        placeholder(backend, p)
    };
    let sets: Vec<String> = set
        .iter()
        .map(|(_, c)| format!("{} = {}", quote(c), next()))
        .collect();
    let wheres: Vec<String> = key
        .iter()
        .map(|(_, c)| format!("{} = {}", quote(c), next()))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        quote(&entry.name),
        sets.join(", "),
        wheres.join(" AND ")
    );
    let f = std::fs::File::open(&path).map_err(|e| io("reading", &path, e))?;
    for (i, line) in BufReader::with_capacity(1 << 20, f).lines().enumerate() {
        let line = line.map_err(|e| io("reading", &path, e))?;
        let bad = |problem: String| {
            refused(
                codes::MOVE_BAD_ROW,
                format!("{} line {}: {problem}", path.display(), i + 1),
                &[
                    ("file", text(path.display())),
                    ("line", Value::from(i + 1)),
                    ("problem", text(&problem)),
                ],
            )
        };
        let row: Vec<Value> = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        if set
            .iter()
            .all(|(i, _)| row.get(*i).is_none_or(Value::is_null))
        {
            continue;
        }
        let mut values = Vec::with_capacity(set.len() + key.len());
        for (i, c) in set.iter().chain(&key) {
            let v = row.get(*i).unwrap_or(&Value::Null);
            values.push(bind(kind(c), v).map_err(|p| bad(format!("{c}: {p}")))?);
        }
        txn.execute(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql.clone(),
            values,
        ))
        .await
        .map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// Sets every sequence a PostgreSQL column takes its default from past the loaded rows. The
/// schema has none today (keys are UUIDv7); this keeps a serial column added later right.
async fn reset_sequences(txn: &DatabaseTransaction, backend: Backend) -> CoreResult<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let rows = txn
        .query_all(Statement::from_string(
            txn.get_database_backend(),
            "SELECT table_name::text AS t, column_name::text AS c, \
             pg_get_serial_sequence(quote_ident(table_name), column_name)::text AS s \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL",
        ))
        .await?;
    for r in rows {
        let (t, c, s): (String, String, String) = (
            r.try_get("", "t")?,
            r.try_get("", "c")?,
            r.try_get("", "s")?,
        );
        txn.execute_unprepared(&format!(
            "SELECT setval('{}', COALESCE((SELECT max({}) FROM {}), 0) + 1, false)",
            s.replace('\'', "''"),
            quote(&c),
            quote(&t)
        ))
        .await?;
    }
    Ok(())
}

/// Writes the search entry of every live record of every entity, in `txn`, and on SQLite
/// brings the full-text index up to date with them before the commit.
async fn rebuild_search(
    db: &Db,
    txn: &DatabaseTransaction,
    progress: &(dyn Fn(&str) + Sync),
) -> CoreResult<u64> {
    let core = Core::new(db.clone(), Settings::default());
    let mut total = 0u64;
    for def in core.registry.all() {
        let service = core.records(def);
        let mut after = None;
        let mut n = 0u64;
        loop {
            let (got, last) = service.index_page(txn, after, INDEX_PAGE).await?;
            n += got as u64;
            if (got as u64) < INDEX_PAGE || last.is_none() {
                break;
            }
            after = last;
            if n % 100_000 < INDEX_PAGE {
                progress(&format!("  search index, {}: {n} …", def.table));
            }
        }
        progress(&format!("search index, {}: {n} records", def.table));
        total += n;
    }
    if db.backend() == Backend::Sqlite {
        txn.execute_unprepared(crate::search::SETTLE).await?;
    }
    Ok(total)
}
