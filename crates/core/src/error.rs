//! One error type for the domain. The web layer maps each variant to one HTTP status; nothing here
//! knows about HTTP, and nothing here words a message: errors carry stable codes and the values a
//! message needs (`params`), and the presentation layer words them in the reader's language from
//! its translation files (DESIGN.md section 6).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The values a coded message needs, by name (`max`, `value`, `entity`, …).
pub type Params = BTreeMap<&'static str, Value>;

/// What is wrong with one field: a stable snake_case code from [`codes`] (or an entity's own
/// `error_codes`) and the values its message needs. Serialized as `{"code", "params"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub code: &'static str,
    pub params: Params,
}

impl FieldError {
    pub fn new(code: &'static str) -> FieldError {
        FieldError {
            code,
            params: Params::new(),
        }
    }

    /// Adds a param.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> FieldError {
        self.params.insert(name, value.into());
        self
    }

    /// The error is about the `n`-th (from 1) item of a list value: the wording names the item.
    pub fn in_entry(self, n: usize) -> FieldError {
        self.with(codes::ENTRY, n)
    }

    /// The error is about one part of a compound value (an address's street, an entry's label):
    /// the wording names the part.
    pub fn in_part(self, part: &'static str) -> FieldError {
        self.with(codes::PART, part)
    }

    /// `value` is not among `options`.
    pub fn not_one_of<S: AsRef<str>>(value: &str, options: &[S]) -> FieldError {
        FieldError::new(codes::NOT_ONE_OF)
            .with("value", shown(value))
            .with(
                "options",
                options
                    .iter()
                    .map(|o| Value::String(o.as_ref().to_string()))
                    .collect::<Vec<_>>(),
            )
    }

    /// A value that does not parse as the kind the field holds, with what was given.
    pub fn not_parsed(code: &'static str, given: &Value) -> FieldError {
        FieldError::new(code).with("value", shown_json(given))
    }
}

/// Longest echo of a given value in params: enough to recognize it, not a copy of a huge input.
const SHOWN_CHARS: usize = 100;

/// A given text as a param, cut to [`SHOWN_CHARS`].
pub fn shown(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > SHOWN_CHARS {
        let mut cut: String = s.chars().take(SHOWN_CHARS).collect();
        cut.push('…');
        cut
    } else {
        s.to_string()
    }
}

/// A given JSON value as a param: a string as it was typed, anything else as JSON text.
pub fn shown_json(v: &Value) -> String {
    match v {
        Value::String(s) => shown(s),
        other => shown(&other.to_string()),
    }
}

/// For logs and internal errors, where no reader's language applies: `too_long {"max":200}`.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)?;
        if !self.params.is_empty() {
            write!(
                f,
                " {}",
                serde_json::to_string(&self.params).unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// Field name → what is wrong with it. A `BTreeMap` so error bodies list fields in a stable order.
pub type FieldErrors = BTreeMap<String, FieldError>;

/// Declares the engine's codes as constants and lists them in [`codes::ALL`], so the list cannot
/// miss one that is used.
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*
        /// Every code above, for tests and documents that enumerate them.
        pub const ALL: &[&str] = &[$($code),*];
    };
}

/// The codes of the engine and the services around it: field errors and the reasons of refusals
/// (`CoreError::Forbidden`). Each is worded by the translation files as `error-<code>`, with the
/// params named in its comment. Codes are a public contract: add, never rename. Rules of one
/// entity have their own codes, declared by the entity (`EntityDef::error_codes`).
///
/// Any field error may also carry [`ENTRY`] (the list item it is about, from 1) and [`PART`]
/// (the part of a compound value: an address part, `label`, `currency`); the wording names them
/// before the message.
pub mod codes {
    /// Param: the list item (from 1) an error is about.
    pub const ENTRY: &str = "entry";
    /// Param: the part of a compound value an error is about.
    pub const PART: &str = "part";

    codes! {
        // Values of any field.
        /// A value is needed.
        REQUIRED = "required";
        /// Text longer than `max` characters.
        TOO_LONG = "too_long";
        /// Text shorter than `min` characters.
        TOO_SHORT = "too_short";
        /// Control characters (other than line breaks and tabs in long text).
        CONTROL_CHARACTERS = "control_characters";
        /// Invisible direction overrides or zero-width characters.
        DECEPTIVE_CHARACTERS = "deceptive_characters";
        /// Not a JSON string.
        NOT_A_STRING = "not_a_string";
        /// Not a JSON list.
        NOT_A_LIST = "not_a_list";
        /// Not a JSON object.
        NOT_AN_OBJECT = "not_an_object";
        /// Not true or false.
        NOT_A_BOOLEAN = "not_a_boolean";
        /// `value` is not a whole number.
        NOT_A_WHOLE_NUMBER = "not_a_whole_number";
        /// `value` is not a number.
        NOT_A_NUMBER = "not_a_number";
        /// `value` is not a date (YYYY-MM-DD).
        NOT_A_DATE = "not_a_date";
        /// `value` is not an id.
        NOT_AN_ID = "not_an_id";
        /// `value` is not one of `options`.
        NOT_ONE_OF = "not_one_of";
        /// A number outside `min` to `max`.
        OUT_OF_RANGE = "out_of_range";
        /// A number too large to store.
        TOO_LARGE = "too_large";
        /// More than `max` items in a list.
        TOO_MANY_ENTRIES = "too_many_entries";
        /// An object key `key` the value does not have.
        UNKNOWN_KEY = "unknown_key";
        /// `value` is not a three-letter ISO 4217 currency code.
        NOT_A_CURRENCY = "not_a_currency";
        /// An amount in `currency` with more than `max` decimal places.
        TOO_MANY_DECIMALS = "too_many_decimals";
        /// `value` is not a phone number.
        INVALID_PHONE = "invalid_phone";
        /// `value` is not an e-mail address.
        INVALID_EMAIL = "invalid_email";
        /// `value` is not a website address.
        INVALID_WEBSITE = "invalid_website";
        /// `value` is not a unified social credit code (its check character is wrong) or another
        /// tax id.
        INVALID_TAX_ID = "invalid_tax_id";
        /// `value` is already used by another of its kind (an e-mail, a team name, a key).
        ALREADY_IN_USE = "already_in_use";

        /// `value` is not a date and time (RFC 3339).
        NOT_A_DATE_TIME = "not_a_date_time";
        /// `value` (a wall-clock time, `2026-03-08 02:30`) does not exist in `zone`: its clocks
        /// skip it when daylight saving starts.
        NONEXISTENT_LOCAL_TIME = "nonexistent_local_time";
        /// `value` is not an IANA time zone name (`Asia/Shanghai`).
        UNKNOWN_TIME_ZONE = "unknown_time_zone";
        /// A number with more than `max` decimal places.
        TOO_MANY_DECIMAL_PLACES = "too_many_decimal_places";

        // Fields of records.
        /// The entity has no such field.
        UNKNOWN_FIELD = "unknown_field";
        /// A field nobody sets (a system field, or one fixed once created).
        READ_ONLY = "read_only";
        /// A field the entity computes from others.
        COMPUTED = "computed";
        /// No live record of `entity` with this id that the user may see.
        NO_SUCH_RECORD = "no_such_record";
        /// The referenced record of `entity` is in the recycle bin.
        IN_RECYCLE_BIN = "in_recycle_bin";
        /// A record referring to itself.
        REFERS_TO_ITSELF = "refers_to_itself";
        /// A parent that is the record itself further up.
        OWN_ANCESTOR = "own_ancestor";
        /// No user with this id.
        NO_SUCH_USER = "no_such_user";
        /// The user is disabled.
        USER_DISABLED = "user_disabled";
        /// The user may not be given records: outside what the actor may write.
        OWNER_OUT_OF_REACH = "owner_out_of_reach";
        /// A line (a stage) that is not one of the lines of the chosen record of `entity` (its
        /// pipeline).
        NOT_A_LINE_OF = "not_a_line_of";
        /// The state (`field`) may go from `from_state` to `to_state` only through one of
        /// `actions`, not by a plain change.
        STATE_BY_ACTION_ONLY = "state_by_action_only";
        /// The state (`field`) may not go from `from_state` to `to_state` at all.
        STATE_CHANGE_NOT_ALLOWED = "state_change_not_allowed";
        /// `actions` (one) cannot start from the record's state `from_state` (a conflict, 409).
        ACTION_NOT_IN_STATE = "action_not_in_state";
        /// Lines removed while `count` records of `entity` still refer to them.
        LINE_IN_USE = "line_in_use";
        /// An action's input the action does not take.
        UNKNOWN_INPUT = "unknown_input";
        /// A live record of `entity`, owned by `owner`, has the same key of the duplicate-check
        /// rule `rule` (`tax_id`, `phone`, `name`, …) as the record being saved (a conflict,
        /// 409); `action` says whether the rule blocks or only warns (then `allow_duplicate:
        /// true` saves anyway). `record_id` when the user may read that record, and `matches`.
        DUPLICATE = "duplicate";

        // Identity and administration.
        /// No team with this id.
        NO_SUCH_TEAM = "no_such_team";
        /// A password equal to the user's e-mail address.
        PASSWORD_SAME_AS_EMAIL = "password_same_as_email";
        /// A password among those tried first (common, a keyboard walk, the user's name).
        PASSWORD_TOO_COMMON = "password_too_common";
        /// Not the user's current password.
        WRONG_PASSWORD = "wrong_password";
        /// Administrators may not demote or disable themselves.
        CANNOT_DEMOTE_SELF = "cannot_demote_self";
        /// The admin role's access is not configurable.
        ADMIN_HAS_FULL_ACCESS = "admin_has_full_access";
        /// A write scope wider than the read scope.
        WRITE_BEYOND_READ = "write_beyond_read";
        /// A custom field key that is not a-z, 0-9 and _ starting with a letter, at most `max`.
        INVALID_KEY = "invalid_key";
        /// A custom field needs a label in English or Chinese.
        LABEL_REQUIRED = "label_required";
        /// A password reset link that was used, ran out, or never was.
        RESET_LINK_INVALID = "reset_link_invalid";
        /// A reminder for a time that has passed.
        REMINDER_IN_PAST = "reminder_in_past";
        /// A view shared by a user who belongs to no team.
        NO_TEAM_TO_SHARE_WITH = "no_team_to_share_with";

        // Reasons of refusals (`CoreError::Forbidden`).
        /// Only administrators may do this.
        ADMIN_ONLY = "admin_only";
        /// The user's role may not see records of `entity`.
        ROLE_CANNOT_READ = "role_cannot_read";
        /// The user's role may not create or change records of `entity`.
        ROLE_CANNOT_WRITE = "role_cannot_write";
        /// This record of `entity` is outside what the user may change.
        RECORD_OUT_OF_REACH = "record_out_of_reach";

        // Bad requests a person can make through the UI, worded there.
        /// A filter larger than allowed: at most `limit` `unit`s (`conditions`, `levels` of
        /// nesting, `values`), and this one has `has`.
        FILTER_TOO_COMPLEX = "filter_too_complex";
        /// An aggregation grouping by `field`, which cannot name groups (free text, an address),
        /// or by a date without a bucket.
        NOT_GROUPABLE = "not_groupable";
        /// An aggregation summing or averaging `field`, which is not a number.
        NOT_MEASURABLE = "not_measurable";

        // Reading import files and their mappings (`import::ReadError`).
        /// A file larger than `limit` MiB.
        FILE_TOO_LARGE = "file_too_large";
        /// A text file in no encoding the import reads (UTF-8, GBK/GB18030, UTF-16 with a mark).
        UNKNOWN_ENCODING = "unknown_encoding";
        /// A file without a header row.
        EMPTY_FILE = "empty_file";
        /// A file named or made as a workbook that no worksheet can be read from.
        NOT_A_SPREADSHEET = "not_a_spreadsheet";
        /// A workbook without the worksheet `sheet`.
        NO_SUCH_SHEET = "no_such_sheet";
        /// Line `line` has values in `columns` columns; the header has `expected`.
        TOO_MANY_COLUMNS = "too_many_columns";
        /// Line `line` holds bytes that are not text in the file's encoding.
        UNREADABLE_CHARACTERS = "unreadable_characters";
        /// The file cannot be read from line `line` on (cut short, damaged).
        FILE_UNREADABLE = "file_unreadable";
        /// A mapping file that is not valid, at line `line`.
        MAPPING_UNREADABLE = "mapping_unreadable";
        /// A mapping made for records of `entity`.
        MAPPING_FOR_OTHER_ENTITY = "mapping_for_other_entity";
        /// Column `column` is mapped to `field`, which the entity does not have.
        UNKNOWN_MAPPED_FIELD = "unknown_mapped_field";
        /// Column `column` is mapped to `field`, which is computed or read-only.
        FIELD_NOT_IMPORTABLE = "field_not_importable";
        /// `field` takes one column and is mapped from several.
        FIELD_MAPPED_TWICE = "field_mapped_twice";
        /// The mapping names a column `column` the file does not have.
        COLUMN_NOT_IN_FILE = "column_not_in_file";
        /// Column `column`'s date format `value` is not one.
        INVALID_DATE_FORMAT = "invalid_date_format";
        /// Column `column` has a date format, but `field` holds no dates.
        DATE_FORMAT_FOR_NON_DATE = "date_format_for_non_date";
        // Backups and restores, worded for the operator at the console.
        /// A backup would replace the existing `file` (`--force` replaces it).
        BACKUP_EXISTS = "backup_exists";
        /// `guanxi backup` on PostgreSQL, whose backups are `pg_dump`'s.
        BACKUP_ON_POSTGRES = "backup_on_postgres";
        /// An in-memory database has no file to back up.
        BACKUP_IN_MEMORY = "backup_in_memory";
        /// No file `file` to restore from.
        RESTORE_NO_FILE = "restore_no_file";
        /// `file` is not an SQLite database.
        RESTORE_NOT_A_DATABASE = "restore_not_a_database";
        /// `file` is an SQLite database but not one of Guanxi's.
        RESTORE_NOT_GUANXI = "restore_not_guanxi";
        /// `file` failed SQLite's integrity check: `problem`.
        RESTORE_DAMAGED = "restore_damaged";
        /// `file` has a write-ahead log beside it: a database in use (or copied while in use),
        /// not a backup.
        RESTORE_LIVE_DATABASE = "restore_live_database";
        /// `file` was written by a newer Guanxi: it has migration `migration`, unknown here.
        RESTORE_NEWER_SCHEMA = "restore_newer_schema";
        /// The database `target` already holds tables or records.
        RESTORE_TARGET_NOT_EMPTY = "restore_target_not_empty";
        /// A restore into PostgreSQL, which takes `pg_restore`'s.
        RESTORE_INTO_POSTGRES = "restore_into_postgres";
        // Moving a whole database (`moveall`), worded for the operator at the console.
        /// `export-all` into `dir`, which already holds files.
        MOVE_DIR_NOT_EMPTY = "move_dir_not_empty";
        /// `dir` has no `manifest.json`: not an export, or one cut off before it finished.
        MOVE_NO_MANIFEST = "move_no_manifest";
        /// `file` is not a manifest this program reads: `problem`.
        MOVE_BAD_MANIFEST = "move_bad_manifest";
        /// The export was written by a newer Guanxi: it has migration `migration`.
        MOVE_NEWER_SCHEMA = "move_newer_schema";
        /// The export's schema is not one this program's migrations pass through (`migration`).
        MOVE_OTHER_SCHEMA = "move_other_schema";
        /// The target database holds data: table `table` has `rows` rows.
        MOVE_TARGET_NOT_EMPTY = "move_target_not_empty";
        /// `file`'s checksum differs from the manifest's: changed or damaged since the export.
        MOVE_CHECKSUM_MISMATCH = "move_checksum_mismatch";
        /// `file` holds `found` rows where the manifest says `expected`.
        MOVE_ROW_COUNT_MISMATCH = "move_row_count_mismatch";
        /// Line `line` of `file` cannot be loaded: `problem`.
        MOVE_BAD_ROW = "move_bad_row";
        /// The export has table `table` (or its column `column`), which the target lacks.
        MOVE_UNKNOWN_TABLE = "move_unknown_table";
        /// Column `column` of `table` has type `type`, which an export cannot carry.
        MOVE_UNSUPPORTED_TYPE = "move_unsupported_type";

        // Importing rows (`import::run`).
        /// The row matches several records by its natural keys (`titles`, `count` of them).
        IMPORT_SEVERAL_MATCHES = "import_several_matches";
        /// The row matches a record of `owner` that the importing user may not read.
        IMPORT_MATCH_OUT_OF_REACH = "import_match_out_of_reach";
        /// Several records of `entity` go by the name `value` (`titles`).
        IMPORT_AMBIGUOUS_REFERENCE = "import_ambiguous_reference";
        /// No record of `entity` goes by the name `value`, and none can be made of it.
        IMPORT_NO_SUCH_REFERENCE = "import_no_such_reference";
        /// No active user goes by the name or e-mail `value`.
        IMPORT_NO_SUCH_USER = "import_no_such_user";
        /// Several users go by the name `value`.
        IMPORT_AMBIGUOUS_USER = "import_ambiguous_user";
        /// The row could not be saved for a reason of the system's (`message`).
        IMPORT_ROW_FAILED = "import_row_failed";
        /// A date `value` that does not fit its column's format, which writes dates as
        /// `example` does.
        IMPORT_DATE_NOT_IN_FORMAT = "import_date_not_in_format";

        // Importing in the browser (`import::uploads`).
        /// Another saved mapping of the entity has this name.
        MAPPING_NAME_TAKEN = "mapping_name_taken";
        /// A saved mapping names columns (`columns`, `count`) the file lacks.
        MAPPING_HEADERS_MISSING = "mapping_headers_missing";
        /// The upload form was sent without a file.
        IMPORT_NO_FILE = "import_no_file";
        /// No column of the file is mapped to a field.
        IMPORT_NOTHING_MAPPED = "import_nothing_mapped";

        // Undoing an import (`import::undo`).
        /// Only the user who imported and administrators may undo an import.
        IMPORT_UNDO_NOT_ALLOWED = "import_undo_not_allowed";
        /// The import was undone before (`at`, by `by`); nothing more to do.
        IMPORT_ALREADY_UNDONE = "import_already_undone";
        /// The import (or its undo) is still running.
        IMPORT_RUN_IN_PROGRESS = "import_run_in_progress";
        /// Left as it is: `title` was changed by someone after the import.
        IMPORT_UNDO_CHANGED_SINCE = "import_undo_changed_since";
        /// Left as it is: other records still refer to `title`, made by the import.
        IMPORT_UNDO_STILL_REFERRED = "import_undo_still_referred";
        /// Left as it is: the user undoing may not change `title`.
        IMPORT_UNDO_OUT_OF_REACH = "import_undo_out_of_reach";
        /// Left as it is: `title` was deleted since the import.
        IMPORT_UNDO_GONE = "import_undo_gone";
        /// Left as it is: `title` cannot take its values of before again (`message`).
        IMPORT_UNDO_REFUSED = "import_undo_refused";

        // Stopping an import that runs (`import::ledger::request_stop`).
        /// Only the user who imported and administrators may stop an import.
        IMPORT_STOP_NOT_ALLOWED = "import_stop_not_allowed";
        /// The import is no longer running (`status`): nothing to stop.
        IMPORT_NOT_RUNNING = "import_not_running";

        // Refreshing customer insights (`insights::refresh`).
        /// A refresh as of a date after today (`today`): the ledger cannot know it yet.
        INSIGHTS_AS_OF_IN_FUTURE = "insights_as_of_in_future";
        /// The models' settings are inconsistent (`message`).
        INSIGHTS_SETTINGS_INVALID = "insights_settings_invalid";
        /// A setting the models do not have (`key`, as a dotted path).
        INSIGHTS_SETTINGS_UNKNOWN = "insights_settings_unknown";
        /// The settings are not a JSON object (`message`).
        INSIGHTS_SETTINGS_NOT_JSON = "insights_settings_not_json";
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input parsed but broke a rule; every offending field is named.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// A request that cannot be understood: a malformed filter, cursor, sort or body. `message`
    /// is an English diagnostic for the developer who wrote the request; `params` carry what a
    /// user-facing wording of `code` needs.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        params: Params,
    },
    #[error("not found")]
    NotFound,
    /// Authenticated, but the role or record scope does not allow it; `code` (from [`codes`])
    /// says why.
    #[error("forbidden: {code}")]
    Forbidden { code: &'static str, params: Params },
    #[error("authentication required")]
    Unauthenticated,
    /// The version the caller had is not the current one: someone else wrote first.
    #[error("the record was changed by someone else (current version {current})")]
    StaleVersion { current: i64 },
    /// The record's state does not allow what was asked (an action from a state it does not
    /// start from); `code` (from [`codes`]) and `params` word it.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        params: Params,
    },
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
    /// A validation error of one field.
    pub fn field(name: impl Into<String>, error: FieldError) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(name.into(), error);
        CoreError::Validation(fields)
    }

    /// The same error with one more param for its wording (a bad request's, a refusal's or a
    /// conflict's); other errors are returned as they are.
    pub fn with_param(mut self, name: &'static str, value: serde_json::Value) -> Self {
        if let CoreError::BadRequest { params, .. }
        | CoreError::Forbidden { params, .. }
        | CoreError::Conflict { params, .. } = &mut self
        {
            params.insert(name, value);
        }
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::BadRequest {
            code,
            message: message.into(),
            params: Params::new(),
        }
    }

    /// A refusal for the reason `code`.
    pub fn forbidden(code: &'static str) -> Self {
        CoreError::Forbidden {
            code,
            params: Params::new(),
        }
    }

    /// A refusal about records of `entity`.
    pub fn forbidden_for(code: &'static str, entity: &'static str) -> Self {
        let mut params = Params::new();
        params.insert("entity", Value::from(entity));
        CoreError::Forbidden { code, params }
    }
}

impl From<sqlx::Error> for CoreError {
    fn from(e: sqlx::Error) -> Self {
        CoreError::Database(sea_orm::DbErr::Custom(e.to_string()))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_serialize_as_code_and_params() {
        let e = FieldError::new(codes::TOO_LONG).with("max", 200);
        assert_eq!(
            serde_json::to_value(&e).ok(),
            Some(serde_json::json!({"code": "too_long", "params": {"max": 200}}))
        );
        assert_eq!(e.to_string(), "too_long {\"max\":200}");
        assert_eq!(FieldError::new(codes::REQUIRED).to_string(), "required");
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in codes::ALL {
            assert!(seen.insert(c), "{c} listed twice");
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
        }
    }

    #[test]
    fn long_values_are_cut_when_shown() {
        assert_eq!(shown(" abc "), "abc");
        assert_eq!(shown(&"x".repeat(500)).chars().count(), SHOWN_CHARS + 1);
        assert_eq!(shown_json(&serde_json::json!(true)), "true");
    }
}
