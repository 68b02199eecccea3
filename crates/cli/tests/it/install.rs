//! The README's first real installation, run top to bottom on a fresh file, and the commands
//! that must not create a database by accident.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::support::{FreshDb, fails, guanxi, ok};

/// Runs the binary with one line on stdin.
fn with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Adds an administrator through `guanxi user add`, the password on stdin.
fn add_admin(db: &FreshDb, email: &str, name: &str) {
    let out = with_stdin(
        &[
            "user",
            "add",
            "--database",
            db.path(),
            "--email",
            email,
            "--name",
            name,
            "--role",
            "admin",
            "--password-stdin",
        ],
        "a long enough passphrase\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_installation_runs_on_a_fresh_file() {
    let db = FreshDb::new("guanxi.db");
    let migrated = ok(&["migrate", "--database", db.path()]);
    assert!(migrated.contains("applied m0001"), "{migrated}");
    // A second run finds everything applied and says so again.
    assert!(ok(&["migrate", "--database", db.path()]).contains("applied m0001"));

    add_admin(&db, "boss@example.com", "王芳");
    let token = ok(&[
        "token",
        "create",
        "--database",
        db.path(),
        "--user",
        "boss@example.com",
    ]);
    assert!(token.trim().starts_with("gx_"), "{token}");

    // serve comes up on the same file and prints where.
    let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(["serve", "--database", db.path(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        line.starts_with("Guanxi is running at http://127.0.0.1:"),
        "{line}"
    );
}

#[test]
fn invalid_input_is_worded_in_english_field_by_field() {
    let db = FreshDb::new("words.db");
    ok(&["migrate", "--database", db.path()]);
    let out = with_stdin(
        &[
            "user",
            "add",
            "--database",
            db.path(),
            "--email",
            "not-an-address",
            "--name",
            "A",
            "--role",
            "boss",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // The web interface's English translations, not the codes.
    for want in [
        "invalid input:",
        "email: “not-an-address” is not an e-mail address",
        "password: At least 8 characters",
        "role: “boss” is not one of: admin, manager, sales, marketing, service, read_only",
    ] {
        assert!(err.contains(want), "`{want}` not in {err}");
    }
    assert!(!err.contains("invalid_email"), "{err}");
}

#[test]
fn commands_that_need_data_refuse_a_missing_file() {
    let db = FreshDb::new("typo.db");
    let p = db.path();
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "token",
            "create",
            "--database",
            p,
            "--user",
            "a@example.com",
        ],
        vec!["user", "list", "--database", p],
        vec![
            "user",
            "disable",
            "--database",
            p,
            "--email",
            "a@example.com",
        ],
        vec![
            "user",
            "add",
            "--database",
            p,
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "admin",
            "--password-stdin",
        ],
        vec![
            "user",
            "passwd",
            "--database",
            p,
            "--email",
            "a@example.com",
            "--password-stdin",
        ],
    ];
    for args in &cases {
        fails(args, &["does not exist", p, "guanxi migrate"]);
        assert!(!db.0.exists(), "{args:?} created {p}",);
    }
    // The commands that set a database up still create it.
    ok(&["migrate", "--database", p]);
    assert!(db.0.exists());
    let listed = guanxi(&["user", "list", "--database", p]);
    assert!(listed.status.success());
}

#[test]
fn trusted_proxies_are_checked_and_shown() {
    let cfg = crate::support::TempFile::new(
        "proxies.toml",
        "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\n",
    );
    let out = ok(&["--config", cfg.path(), "config", "check"]);
    assert!(
        out.contains("trusted_proxies = [10.0.0.0/8, 192.0.2.7/32]"),
        "{out}"
    );
    let bad = crate::support::TempFile::new("bad.toml", "trusted_proxies = [\"proxy.lan\"]\n");
    fails(
        &["--config", bad.path(), "config", "check"],
        &["trusted_proxies", "proxy.lan"],
    );
}

/// The instance's default time zone comes from the file; a name that is no zone stops
/// `config check` with the name in the message.
#[test]
fn config_check_names_the_default_time_zone_and_refuses_an_unknown_one() {
    let good =
        crate::support::TempFile::new("guanxi.toml", "default_time_zone = \"America/New_York\"\n");
    let shown = ok(&["--config", good.path(), "config", "check"]);
    assert!(
        shown.contains("default_time_zone = America/New_York"),
        "{shown}"
    );
    let plain = crate::support::TempFile::new("guanxi.toml", "");
    let shown = ok(&["--config", plain.path(), "config", "check"]);
    assert!(
        shown.contains("default_time_zone = Asia/Shanghai"),
        "{shown}"
    );

    let bad =
        crate::support::TempFile::new("guanxi.toml", "default_time_zone = \"Mars/Olympus\"\n");
    fails(
        &["--config", bad.path(), "config", "check"],
        &["default_time_zone", "Mars/Olympus"],
    );
}

/// Scheduled backups are off until a directory is named; `config check` shows what is in effect
/// and refuses a count of backups to keep that keeps none.
#[test]
fn config_check_shows_the_backup_schedule_and_refuses_a_bad_one() {
    let plain = crate::support::TempFile::new("guanxi.toml", "");
    let shown = ok(&["--config", plain.path(), "config", "check"]);
    assert!(shown.contains("backup_dir      = (none"), "{shown}");
    let on = crate::support::TempFile::new(
        "guanxi.toml",
        "backup_dir = \"/var/backups/guanxi\"\nbackup_keep = 30\n",
    );
    let shown = ok(&["--config", on.path(), "config", "check"]);
    for want in [
        "backup_dir      = /var/backups/guanxi",
        "backup_every_hours = 24",
        "backup_keep     = 30",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    let bad = crate::support::TempFile::new(
        "guanxi.toml",
        "backup_dir = \"/var/backups/guanxi\"\nbackup_keep = 0\n",
    );
    fails(
        &["--config", bad.path(), "config", "check"],
        &["backup_keep must be between 1 and 10000"],
    );
}

/// Every command closes the database it opened, which copies SQLite's log into the file and
/// removes it: nothing is left beside the file, and a copy of the file alone holds what the
/// commands wrote.
#[test]
fn each_command_leaves_no_log_beside_the_file() {
    let db = FreshDb::new("closed.db");
    let wal = format!("{}-wal", db.path());
    let left = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    ok(&["migrate", "--database", db.path()]);
    assert_eq!(left(), 0, "after migrate");
    add_admin(&db, "closer@example.com", "赵敏");
    assert_eq!(left(), 0, "after user add");
    let csv = format!("{}.csv", db.path());
    std::fs::write(&csv, "姓名,手机\n钱多多,13800138000\n孙小美,13900139000\n").unwrap();
    ok(&[
        "import",
        "contacts",
        &csv,
        "--database",
        db.path(),
        "--as",
        "closer@example.com",
    ]);
    assert_eq!(left(), 0, "after import");

    let copy = format!("{}.copy.db", db.path());
    std::fs::copy(db.path(), &copy).unwrap();
    let users = ok(&["user", "list", "--database", &copy]);
    assert!(users.contains("closer@example.com"), "{users}");
    let exported = ok(&[
        "export",
        "contacts",
        "--database",
        &copy,
        "--as",
        "closer@example.com",
    ]);
    assert!(exported.contains("孙小美"), "{exported}");
}
