//! `guanxi import` on SQLite: the suggested mapping printed and used, the error file in the
//! user's language, a dry run, and a run killed half-way (SIGKILL) and run again, which ends
//! with every row imported once.

use std::time::{Duration, Instant};

use guanxi_core::Db;

use crate::support::{FreshDb, fails, guanxi, ok, with_admin};

/// How many of `table`'s rows there are now (the file is read while another process writes).
async fn count(db: &str, table: &str) -> i64 {
    let d = Db::connect(db).await.unwrap();
    let rows = guanxi_core::db::raw_query(
        d.reader(),
        &format!("SELECT COUNT(*) AS n FROM {table}"),
        vec![],
    )
    .await
    .unwrap();
    let n = rows[0].try_get::<i64>("", "n").unwrap();
    d.close().await.unwrap();
    n
}

fn gbk_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, encoding_rs::GBK.encode(text).0).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn imports_with_the_printed_mapping_and_writes_errors_in_the_users_language() {
    let db = FreshDb::new("crm.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(with_admin(db.path()));
    let dir = db.0.parent().unwrap().to_path_buf();
    let file = gbk_file(
        &dir,
        "联系人.csv",
        "姓名,手机,电子邮箱,公司名称\r\n\
         欧阳修,13800000001,ouyang@example.com,北京中太数据科技有限公司\r\n\
         李四,not a phone,li@example.com,\r\n",
    );
    let dry = ok(&[
        "import",
        "contacts",
        &file,
        "--database",
        db.path(),
        "--dry-run",
    ]);
    assert!(dry.contains("dry run, nothing written"), "{dry}");
    assert!(dry.contains("1 created"), "{dry}");
    assert_eq!(rt.block_on(count(db.path(), "contacts")), 0);

    let out = ok(&[
        "import",
        "contacts",
        &file,
        "--database",
        db.path(),
        "--match",
        "fill",
    ]);
    // The suggestion, as TOML that reads back as a mapping.
    let toml_part: String = out
        .lines()
        .take_while(|l| !l.contains("rows read"))
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mapping = guanxi_core::import::mapping::Mapping::from_toml(&toml_part).unwrap();
    assert_eq!(mapping.columns[0].field.as_deref(), Some("name"));
    assert_eq!(mapping.columns[3].field.as_deref(), Some("account_id"));
    assert!(out.contains("1 created"), "{out}");
    assert!(out.contains("1 failed"), "{out}");
    assert_eq!(rt.block_on(count(db.path(), "contacts")), 1);
    assert_eq!(rt.block_on(count(db.path(), "accounts")), 1);
    let errors = std::fs::read(dir.join("联系人.errors.csv")).unwrap();
    assert!(errors.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(errors[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("行号,列,错误原因,错误代码,姓名,手机,电子邮箱,公司名称")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("3,手机,"), "{row}");
    assert!(row.contains("电话号码“not a phone”无效"), "{row}");
    assert!(
        row.ends_with(",invalid_phone,李四,not a phone,li@example.com,"),
        "{row}"
    );

    // The same file again: nothing new.
    let again = ok(&[
        "import",
        "contacts",
        &file,
        "--database",
        db.path(),
        "--match",
        "create",
    ]);
    assert!(again.contains("0 created"), "{again}");
    assert!(
        again.contains("1 rows were imported by an earlier run"),
        "{again}"
    );
    // Its rows a second are of the rows it worked on, not of those it passed over.
    assert!(
        again.contains("rows/s, those passed over left out)"),
        "{again}"
    );
    assert_eq!(rt.block_on(count(db.path(), "contacts")), 1);
}

/// `guanxi import` of a few thousand rows into `db` (a SQLite path or a PostgreSQL URL) killed
/// with SIGKILL once some batches are in, then run again: every row ends imported once, and
/// each committed batch had its rows and their outcomes together.
fn killed_half_way_and_run_again(rt: &tokio::runtime::Runtime, db: &str, dir: &std::path::Path) {
    rt.block_on(with_admin(db));
    let rows = 5000;
    let mut text = String::from("姓名,手机,电子邮箱\r\n");
    for i in 0..rows {
        text.push_str(&format!("张{i},1380{i:07},z{i}@example.com\r\n"));
    }
    let file = gbk_file(dir, "big.csv", &text);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args([
            "import",
            "contacts",
            &file,
            "--database",
            db,
            "--match",
            "fill",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches are in, well before the end.
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let n = rt.block_on(count(db, "import_rows"));
        if n >= 50 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    // `Child::kill` sends SIGKILL: no clean-up of any kind runs in the child.
    child.kill().unwrap();
    child.wait().unwrap();
    let before = rt.block_on(count(db, "contacts"));
    assert!(before > 0 && before < rows, "{before}");
    // Whatever was committed, rows and their outcomes went together.
    assert_eq!(rt.block_on(count(db, "import_rows")), before);

    let out = guanxi(&[
        "import",
        "contacts",
        &file,
        "--database",
        db,
        "--match",
        "fill",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{before} rows were imported by an earlier run")),
        "{stdout}"
    );
    assert_eq!(rt.block_on(count(db, "contacts")), rows);
    assert_eq!(rt.block_on(count(db, "import_rows")), rows);
    let d = rt.block_on(Db::connect(db)).unwrap();
    for sql in [
        "SELECT value FROM contact_points WHERE kind = 'email' GROUP BY value HAVING COUNT(*) > 1",
        "SELECT line FROM import_rows GROUP BY line HAVING COUNT(*) > 1",
        "SELECT line FROM import_rows WHERE outcome <> 'created'",
    ] {
        let found = rt
            .block_on(guanxi_core::db::raw_query(d.reader(), sql, vec![]))
            .unwrap();
        assert!(found.is_empty(), "{sql}: {} rows", found.len());
    }
    rt.block_on(d.close()).unwrap();
}

#[test]
fn imports_are_listed_and_undone() {
    let db = FreshDb::new("crm.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(with_admin(db.path()));
    let dir = db.0.parent().unwrap().to_path_buf();
    let file = gbk_file(
        &dir,
        "客户.csv",
        "姓名,手机,电子邮箱,公司名称\r\n\
         欧阳修,13800000001,ouyang@example.com,北京中太数据科技有限公司\r\n\
         司马光,13800000002,sima@example.com,\r\n",
    );
    let out = ok(&["import", "contacts", &file, "--database", db.path()]);
    assert!(out.contains("2 created"), "{out}");
    let runs = ok(&["import", "runs", "--database", db.path()]);
    let line = runs.lines().nth(1).unwrap();
    assert!(line.contains("王芳"), "{runs}");
    assert!(line.contains("客户.csv"), "{runs}");
    assert!(line.contains("已完成"), "{runs}");
    assert!(line.contains("2 created"), "{runs}");
    let id = line.split_whitespace().next().unwrap().to_string();
    // A finished import cannot be stopped.
    fails(
        &["import", "stop", &id, "--database", db.path()],
        &["本次导入已结束，无需停止"],
    );

    // A second file with a longer Chinese name: the columns still line up, as a terminal
    // shows them (a Chinese character two columns wide).
    let second = gbk_file(
        &dir,
        "华东区客户名单.csv",
        "姓名,电子邮箱\r\n王安石,wang@example.com\r\n",
    );
    ok(&["import", "contacts", &second, "--database", db.path()]);
    let runs = ok(&["import", "runs", "--database", db.path()]);
    let lines: Vec<&str> = runs.lines().collect();
    let column = |line: &str, cell: &str| {
        use unicode_width::UnicodeWidthStr;
        line[..line
            .find(cell)
            .unwrap_or_else(|| panic!("{cell} in {runs}"))]
            .width()
    };
    assert_eq!(
        column(lines[0], "file"),
        column(lines[1], "华东区"),
        "{runs}"
    );
    assert_eq!(
        column(lines[1], "华东区"),
        column(lines[2], "客户.csv"),
        "{runs}"
    );
    assert_eq!(
        column(lines[0], "status"),
        column(lines[1], "已完成"),
        "{runs}"
    );
    assert_eq!(
        column(lines[1], "已完成"),
        column(lines[2], "已完成"),
        "{runs}"
    );

    let undone = ok(&["import", "undo", &id, "--database", db.path()]);
    assert!(undone.contains("3 records removed"), "{undone}");
    assert_eq!(rt.block_on(count(db.path(), "contacts")), 3); // 2 in the recycle bin, 王安石
    let runs = ok(&["import", "runs", "--database", db.path()]);
    assert!(runs.contains("已撤销"), "{runs}");
    assert!(runs.contains("undo: 3 removed"), "{runs}");
    fails(
        &["import", "undo", &id, "--database", db.path()],
        &["已由王芳撤销"],
    );
    fails(
        &["import", "undo", "not-an-id", "--database", db.path()],
        &["no import's id"],
    );
    // The same file again imports its rows again.
    let again = ok(&["import", "contacts", &file, "--database", db.path()]);
    assert!(again.contains("2 created"), "{again}");
}

#[test]
fn a_run_killed_half_way_and_run_again_imports_every_row_once() {
    let db = FreshDb::new("crm.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = db.0.parent().unwrap().to_path_buf();
    killed_half_way_and_run_again(&rt, db.path(), &dir);
}

#[test]
fn a_run_killed_half_way_and_run_again_imports_every_row_once_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(pg) = rt.block_on(crate::job_burst::FreshPg::new()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs this test on PostgreSQL"
        );
        return;
    };
    // The file's place: a fresh temp directory.
    let files = FreshDb::new("unused.db");
    let dir = files.0.parent().unwrap().to_path_buf();
    killed_half_way_and_run_again(&rt, &pg.url, &dir);
    rt.block_on(pg.drop_it());
}
