//! Scheduled backups: a recurring job that writes a dated backup of an SQLite database into a
//! configured directory and keeps the newest few. Off unless a directory is configured (the
//! command line registers the job then; see `guanxi config check`). A backup that fails tells
//! every administrator through the bell and the log, and leaves the backups already there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::db::backup::Existing;
use crate::identity::users;
use crate::jobs::{Handlers, JobError, JobHandler, Schedule};
use crate::notifications::{self, Notice};
use crate::{Core, CoreResult, Role};

/// The kind of the scheduled backup job.
pub const KIND: &str = "backup";

/// The notice administrators get when a scheduled backup fails.
pub const FAILED_NOTICE: &str = "backup_failed";

/// Backups kept unless configured otherwise.
pub const DEFAULT_KEEP: usize = 14;

/// Hours between backups unless configured otherwise: daily.
pub const DEFAULT_EVERY_HOURS: u64 = 24;

/// Where and how often scheduled backups are written, and how many are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSchedule {
    pub dir: PathBuf,
    pub every_hours: u64,
    pub keep: usize,
}

impl BackupSchedule {
    /// When the job runs: every `every_hours`, the daily run at 02:00 Beijing time (18:00 UTC),
    /// when few people work; shorter periods fall on the same grid.
    pub fn schedule(&self) -> Schedule {
        let every = Duration::from_secs(self.every_hours.max(1) * 3600);
        Schedule {
            every,
            offset: Duration::from_secs(18 * 3600)
                .as_secs()
                .checked_rem(every.as_secs())
                .map_or(Duration::ZERO, Duration::from_secs),
        }
    }

    /// Adds the job to `handlers`.
    pub fn register(self, handlers: Handlers) -> Handlers {
        let schedule = self.schedule();
        handlers.register_on(KIND, schedule, ScheduledBackup(self))
    }
}

/// Runs the jobs of [`KIND`].
pub struct ScheduledBackup(pub BackupSchedule);

/// The name of a scheduled backup written at `at`: sorting the names sorts them by time.
pub fn file_name(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("guanxi-{}.db", at.format("%Y%m%d-%H%M%S"))
}

/// Whether `name` is one [`file_name`] gives: the only files retention ever removes.
fn is_scheduled_name(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix("guanxi-")
        .and_then(|n| n.strip_suffix(".db"))
    else {
        return false;
    };
    let bytes = stamp.as_bytes();
    bytes.len() == 15
        && bytes[8] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 8 || b.is_ascii_digit())
}

/// Whether `name` is the temporary file of a scheduled backup (`.guanxi-….db.partial-…`).
fn is_scheduled_partial(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.split_once(".partial-"))
        .is_some_and(|(finished, _)| is_scheduled_name(finished))
}

/// Removes all but the newest `keep` scheduled backups in `dir`, and the temporary files of
/// scheduled backups cut off more than a day ago (a process stopped mid-copy); returns the
/// names removed. Other files in the directory are never touched.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<String>> {
    let day_ago = std::time::SystemTime::now()
        .checked_sub(Duration::from_secs(86_400))
        .unwrap_or(std::time::UNIX_EPOCH);
    let mut names = Vec::new();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)?.filter_map(|e| e.ok()) {
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if is_scheduled_name(&name) {
            names.push(name);
        } else if is_scheduled_partial(&name) && meta.modified().is_ok_and(|m| m < day_ago) {
            std::fs::remove_file(dir.join(&name))?;
            removed.push(name);
        }
    }
    names.sort_unstable_by(|a, b| b.cmp(a));
    for old in names.into_iter().skip(keep.max(1)) {
        std::fs::remove_file(dir.join(&old))?;
        removed.push(old);
    }
    Ok(removed)
}

/// Why a scheduled backup failed, in terms an administrator can act on: `reason` is `directory`
/// (the directory cannot be made or written), `space` (the disk is full), `prune` (written, but
/// older backups could not be removed) or `other`, which the notice words in the reader's
/// language; `detail` is the system's own short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: &'static str,
    pub detail: String,
    /// Everything known, for the log and the failed job.
    pub full: String,
}

impl Failure {
    fn io(what: &str, e: &std::io::Error) -> Failure {
        use std::io::ErrorKind as K;
        let reason = match e.kind() {
            K::StorageFull | K::QuotaExceeded => "space",
            K::NotFound
            | K::PermissionDenied
            | K::NotADirectory
            | K::ReadOnlyFilesystem
            | K::AlreadyExists => "directory",
            _ => "other",
        };
        Failure {
            reason,
            detail: e.to_string(),
            full: format!("{what}: {e}"),
        }
    }

    fn backup(e: &crate::CoreError) -> Failure {
        let full = e.to_string();
        let lower = full.to_lowercase();
        let reason = if lower.contains("disk is full") || lower.contains("no space") {
            "space"
        } else if [
            "unable to open database file",
            "permission denied",
            "read-only file system",
            "not a directory",
        ]
        .iter()
        .any(|m| lower.contains(m))
        {
            "directory"
        } else {
            "other"
        };
        // The last clause is the system's own words; the rest names files already named.
        let detail = full
            .rsplit(": ")
            .next()
            .unwrap_or(&full)
            // SQLite's "(code: 13) database or disk is full" leaves "13) …" after the split.
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches(')')
            .trim()
            .to_string();
        Failure {
            reason,
            detail,
            full,
        }
    }
}

/// Writes one dated backup into the schedule's directory and prunes the old ones.
pub async fn back_up(core: &Core, schedule: &BackupSchedule) -> Result<Value, Failure> {
    let dir = &schedule.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::io(&format!("creating {}", dir.display()), &e))?;
    let file = dir.join(file_name(chrono::Utc::now()));
    // A run repeated after a stop mid-way writes the same period's name again.
    let report = core
        .db
        .backup_to(&file, Existing::Replace)
        .await
        .map_err(|e| Failure::backup(&e))?;
    let removed = prune(dir, schedule.keep).map_err(|e| Failure {
        reason: "prune",
        detail: e.to_string(),
        full: format!("removing old backups in {}: {e}", dir.display()),
    })?;
    Ok(json!({
        "file": report.file.display().to_string(),
        "bytes": report.bytes,
        "millis": u64::try_from(report.took.as_millis()).unwrap_or(u64::MAX),
        "removed": removed,
    }))
}

/// Tells every active administrator that a scheduled backup failed.
async fn tell_admins(core: &Core, schedule: &BackupSchedule, failure: &Failure) -> CoreResult<()> {
    let admins: Vec<_> = users::list(&core.db)
        .await?
        .iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .cloned()
        .collect();
    let txn = core.db.begin().await?;
    for admin in admins {
        notifications::notify(
            core,
            &txn,
            Notice {
                user_id: admin.id,
                kind: FAILED_NOTICE,
                params: json!({
                    "dir": schedule.dir.display().to_string(),
                    "reason": failure.reason,
                    "detail": crate::error::shown(&failure.detail),
                }),
                about: None,
                visible_at: crate::now(),
            },
        )
        .await?;
    }
    txn.commit().await
}

#[async_trait::async_trait]
impl JobHandler for ScheduledBackup {
    async fn run(&self, core: &Core, _payload: &Value) -> Result<Value, JobError> {
        match back_up(core, &self.0).await {
            Ok(done) => {
                tracing::info!(backup = %done, "scheduled backup written");
                Ok(done)
            }
            Err(failure) => {
                tracing::error!(dir = %self.0.dir.display(), error = %failure.full, "scheduled backup failed");
                if let Err(told) = tell_admins(core, &self.0, &failure).await {
                    tracing::error!(error = %told, "administrators were not told of the failed backup");
                }
                // Trying again within minutes seldom helps a full disk or a missing directory;
                // the next period's backup tries afresh, and `guanxi jobs retry` runs this one.
                Err(JobError::Fatal(failure.full))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dated_names_count_as_scheduled_backups() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T18:00:07Z")
            .unwrap()
            .to_utc();
        assert_eq!(file_name(at), "guanxi-20261205-180007.db");
        assert!(is_scheduled_name(&file_name(at)));
        assert!(is_scheduled_partial(
            ".guanxi-20261205-180007.db.partial-0193f1"
        ));
        assert!(!is_scheduled_partial(".mine.db.partial-0193f1"));
        for other in [
            "guanxi.db",
            "guanxi-20261205.db",
            "guanxi-20261205-18000x.db",
            "guanxi-20261205-180007.db-wal",
            ".guanxi-20261205-180007.db.partial-1",
            "mine-20261205-180007.db",
        ] {
            assert!(!is_scheduled_name(other), "{other}");
        }
    }

    #[test]
    fn failures_are_sorted_into_reasons_an_administrator_can_act_on() {
        use std::io::{Error, ErrorKind};
        let io = |k| Failure::io("creating /b", &Error::from(k)).reason;
        assert_eq!(io(ErrorKind::NotADirectory), "directory");
        assert_eq!(io(ErrorKind::PermissionDenied), "directory");
        assert_eq!(io(ErrorKind::StorageFull), "space");
        assert_eq!(io(ErrorKind::Interrupted), "other");
        let full = Failure::backup(&crate::CoreError::Internal(
            "writing the backup to /b/.guanxi.db.partial-1: error returned from database: \
             (code: 13) database or disk is full"
                .into(),
        ));
        assert_eq!(full.reason, "space");
        assert_eq!(full.detail, "database or disk is full");
        let locked = Failure::backup(&crate::CoreError::Internal(
            "writing the backup to /b/x: unable to open database file".into(),
        ));
        assert_eq!(locked.reason, "directory");
    }

    #[test]
    fn a_daily_backup_runs_at_two_in_the_night_in_beijing() {
        let daily = BackupSchedule {
            dir: "b".into(),
            every_hours: 24,
            keep: 14,
        }
        .schedule();
        assert_eq!(daily, Schedule::daily_at(18, 0));
        let six_hourly = BackupSchedule {
            dir: "b".into(),
            every_hours: 6,
            keep: 14,
        }
        .schedule();
        assert_eq!(six_hourly.offset, Duration::ZERO);
    }
}
