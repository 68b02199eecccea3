//! `guanxi jobs`: a process of its own runs the standard jobs, and the operator lists, retries
//! and drops them from the console.

use crate::support::{FreshDb, fails, ok};

#[test]
fn a_jobs_process_runs_the_standard_jobs_and_lists_them() {
    let db = FreshDb::new("guanxi.db");
    // Nothing to run on a database that does not exist: it is not created by accident.
    fails(
        &["jobs", "run", "--once", "--database", db.path()],
        &["does not exist"],
    );
    ok(&["migrate", "--database", db.path()]);
    assert_eq!(
        ok(&["jobs", "list", "--database", db.path()]).trim(),
        "no jobs"
    );

    // On SQLite the standard jobs include the search index upkeep, the daily tidy-up and the
    // nightly insights refresh, each due once a period.
    let ran = ok(&["jobs", "run", "--once", "--database", db.path()]);
    assert!(ran.starts_with("done 3, to retry 0, failed 0"), "{ran}");
    let listed = ok(&["jobs", "list", "--database", db.path()]);
    assert!(
        listed.contains("search_upkeep")
            && listed.contains("tidy")
            && listed.contains("insights_refresh")
            && listed.contains("done"),
        "{listed}"
    );
    assert_eq!(
        ok(&["jobs", "list", "--state", "failed", "--database", db.path()]).trim(),
        "no jobs"
    );
    let again = ok(&["jobs", "run", "--once", "--database", db.path()]);
    assert!(again.starts_with("done 0,"), "{again}");

    // Only failed jobs are retried or dropped; a malformed id is named.
    let id = listed.split_whitespace().next().unwrap();
    fails(
        &["jobs", "retry", id, "--database", db.path()],
        &["no failed job", id],
    );
    fails(
        &["jobs", "drop", id, "--database", db.path()],
        &["no failed job", id],
    );
    fails(
        &["jobs", "retry", "not-an-id", "--database", db.path()],
        &["\"not-an-id\" is not a job id"],
    );
    fails(
        &["jobs", "list", "--state", "lost", "--database", db.path()],
        &["lost"],
    );
}
