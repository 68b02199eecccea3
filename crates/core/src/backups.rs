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

/// Removes all but the newest `keep` scheduled backups in `dir`; returns the names removed.
/// Other files in the directory are never touched.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_scheduled_name(n))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut removed = Vec::new();
    for old in names.into_iter().skip(keep.max(1)) {
        std::fs::remove_file(dir.join(&old))?;
        removed.push(old);
    }
    Ok(removed)
}

/// Writes one dated backup into the schedule's directory and prunes the old ones.
pub async fn back_up(core: &Core, schedule: &BackupSchedule) -> CoreResult<Value> {
    std::fs::create_dir_all(&schedule.dir).map_err(|e| {
        crate::CoreError::Internal(format!(
            "cannot create the backup directory {}: {e}",
            schedule.dir.display()
        ))
    })?;
    let file = schedule.dir.join(file_name(chrono::Utc::now()));
    // A run repeated after a stop mid-way writes the same period's name again.
    let report = core.db.backup_to(&file, Existing::Replace).await?;
    let removed = prune(&schedule.dir, schedule.keep).map_err(|e| {
        crate::CoreError::Internal(format!(
            "cannot remove old backups in {}: {e}",
            schedule.dir.display()
        ))
    })?;
    Ok(json!({
        "file": report.file.display().to_string(),
        "bytes": report.bytes,
        "millis": u64::try_from(report.took.as_millis()).unwrap_or(u64::MAX),
        "removed": removed,
    }))
}

/// Tells every active administrator that a scheduled backup failed.
async fn tell_admins(core: &Core, schedule: &BackupSchedule, error: &str) -> CoreResult<()> {
    let admins: Vec<_> = users::list(&core.db)
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
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
                    "error": crate::error::shown(error),
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
            Err(e) => {
                let error = e.to_string();
                tracing::error!(dir = %self.0.dir.display(), %error, "scheduled backup failed");
                if let Err(told) = tell_admins(core, &self.0, &error).await {
                    tracing::error!(error = %told, "administrators were not told of the failed backup");
                }
                // Trying again within minutes seldom helps a full disk or a missing directory;
                // the next period's backup tries afresh, and `guanxi jobs retry` runs this one.
                Err(JobError::Fatal(error))
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
