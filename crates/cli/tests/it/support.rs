//! What the CLI tests share: running the binary, temporary files, and the checks for success and
//! for failure.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// Runs the built `guanxi` binary (without backtraces, so stderr is what a user sees).
pub fn guanxi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .unwrap()
}

/// A temp file that is removed on drop. Tests run in parallel in one process, so each file gets
/// its own number as well as the given name (which error messages are checked for).
pub struct TempFile(pub PathBuf);

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TempFile {
    pub fn new(name: &str, contents: &str) -> TempFile {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut p = std::env::temp_dir();
        p.push(format!("guanxi-it-{}-{n}-{name}", std::process::id()));
        std::fs::write(&p, contents).unwrap();
        TempFile(p)
    }
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A database path in a fresh temp directory, removed (with its WAL files) on drop.
pub struct FreshDb(pub PathBuf);

impl FreshDb {
    pub fn new(name: &str) -> FreshDb {
        let dir = std::env::temp_dir().join(format!(
            "guanxi-install-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        FreshDb(dir.join(name))
    }
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Runs a command that must succeed and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = guanxi(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must succeed and parses its JSON report.
pub fn ok_json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// Runs a command that must fail: non-zero exit, nothing on stdout, and every `expected` piece
/// in the message on stderr.
pub fn fails(args: &[&str], expected: &[&str]) {
    let out = guanxi(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} must fail");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: `{e}` not in {err}");
    }
}

/// Adds the administrator boss@example.com to the database at `db`, as `guanxi user add` would.
pub async fn with_admin(db: &str) {
    use guanxi_core::identity::{NewUser, users};
    use guanxi_core::{Core, Db, Settings};
    let core = Core::new(Db::open(db).await.unwrap(), Settings::default());
    users::create(
        &core.db,
        None,
        NewUser {
            email: "boss@example.com".into(),
            name: "王芳".into(),
            role: "admin".into(),
            team_id: None,
            password: "correct horse battery".into(),
            locale: Some("zh-CN".into()),
        },
    )
    .await
    .unwrap();
    core.db.close().await.unwrap();
}
