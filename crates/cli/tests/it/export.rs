//! `guanxi export` on a small database: the user's scope, child lines in a column of their own,
//! codes and labels, an output file written whole, and clear refusals of bad input.

use std::path::PathBuf;

use guanxi_core::identity::{NewUser, teams, users};
use guanxi_core::{Core, Db, Settings};
use serde_json::{Value, json};

use crate::support::{fails, guanxi, ok};

/// A database in a fresh temp directory, removed (with its WAL files) on drop.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        let dir = std::env::temp_dir().join(format!(
            "guanxi-export-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the test made: the ids to look for.
struct Made {
    account: String,
    contact: String,
    opportunity: String,
}

/// An admin (王芳) with an account, a contact and an opportunity naming the contact as decision
/// maker, and a sales rep of another team who may read none of them.
async fn fill(db: &str) -> Made {
    let core = Core::new(Db::open(db).await.unwrap(), Settings::default());
    let user = |email: &str, name: &str, role: &str, team_id| NewUser {
        email: email.into(),
        name: name.into(),
        role: role.into(),
        team_id,
        password: "correct horse battery".into(),
        locale: Some("zh-CN".into()),
    };
    let admin = users::create(
        &core.db,
        None,
        user("boss@example.com", "王芳", "admin", None),
    )
    .await
    .unwrap();
    let team = teams::create(&core.db, None, "East").await.unwrap();
    users::create(
        &core.db,
        None,
        user("rep@example.com", "李雷", "sales", Some(team.id)),
    )
    .await
    .unwrap();
    guanxi_core::setup::install_defaults(&core).await.unwrap();
    let actor = users::actor_for(&core, &admin).await.unwrap();
    let create = |plural: &str, body: Value| {
        let def = core.registry.by_plural(plural).unwrap();
        let core = core.clone();
        let actor = actor.clone();
        async move {
            core.records(def).create(&actor, &body).await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let account = create(
        "accounts",
        json!({"kind": "company", "name": "北京中太数据科技有限公司", "rating": "hot"}),
    )
    .await;
    let contact = create(
        "contacts",
        json!({"family_name": "张", "given_name": "三", "account_id": account}),
    )
    .await;
    let pipelines = core
        .records(core.registry.by_plural("pipelines").unwrap())
        .list(
            &actor,
            &guanxi_core::records::ListQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pipeline = pipelines.items[0]["id"].as_str().unwrap().to_string();
    let opportunity = create(
        "opportunities",
        json!({"name": "数据平台二期", "account_id": account, "pipeline_id": pipeline,
               "amount": {"amount": "120000.00", "currency": "CNY"},
               "contact_roles": [{"contact_id": contact, "role": "decision_maker", "primary": true}]}),
    )
    .await;
    core.db.close().await.unwrap();
    Made {
        account,
        contact,
        opportunity,
    }
}

fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn exports_codes_and_labels_with_child_lines_under_the_users_scope() {
    let dir = Dir::new();
    let db = dir.path("crm.db");
    let made = tokio::runtime::Runtime::new().unwrap().block_on(fill(&db));

    // Codes: the lines as the API's JSON, money in two columns, ids and choice codes.
    let out = ok(&[
        "export",
        "opportunities",
        "--database",
        &db,
        "--as",
        "boss@example.com",
        "--codes",
    ]);
    let (header, rows) = parse(&out);
    assert_eq!(rows.len(), 1, "{out}");
    let row = &rows[0];
    assert_eq!(row[col(&header, "id")], made.opportunity);
    assert_eq!(row[col(&header, "account_id")], made.account);
    assert_eq!(row[col(&header, "amount.amount")], "120000.00");
    assert_eq!(row[col(&header, "amount.currency")], "CNY");
    assert_eq!(row[col(&header, "status")], "open");
    let lines: Value = serde_json::from_str(&row[col(&header, "contact_roles")]).unwrap();
    assert_eq!(lines.as_array().map(Vec::len), Some(1), "{lines}");
    assert_eq!(lines[0]["contact_id"], made.contact.as_str());
    assert_eq!(lines[0]["role"], "decision_maker");
    assert_eq!(lines[0]["primary"], true);
    // The stage history is a collection too, kept by the entity: exported, not dropped.
    let history: Value = serde_json::from_str(&row[col(&header, "stage_history")]).unwrap();
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");

    // Labels in Chinese (the user's language): headers, the owner's name, titles, choice labels.
    let out = ok(&[
        "export",
        "opportunities",
        "--database",
        &db,
        "--as",
        "boss@example.com",
    ]);
    let (header, rows) = parse(&out);
    let row = &rows[0];
    assert_eq!(row[col(&header, "负责人")], "王芳");
    assert_eq!(row[col(&header, "客户")], "北京中太数据科技有限公司");
    let roles = &row[col(&header, "联系人角色")];
    assert!(
        roles.contains("张三") && roles.contains("决策人"),
        "{roles}"
    );
    // And in English when asked.
    let out = ok(&[
        "export",
        "accounts",
        "--database",
        &db,
        "--as",
        "boss@example.com",
        "--locale",
        "en",
    ]);
    assert!(out.starts_with("ID,"), "{out}");
    assert!(out.contains("Hot"), "{out}");

    // Another team's rep reads none of the admin's records.
    let out = guanxi(&[
        "export",
        "accounts",
        "--database",
        &db,
        "--as",
        "rep@example.com",
        "--codes",
    ]);
    assert!(out.status.success());
    let (_, rows) = parse(&String::from_utf8(out.stdout).unwrap());
    assert!(rows.is_empty(), "{rows:?}");

    // --output: the file holds the export, stdout nothing.
    let file = dir.path("accounts.csv");
    let printed = ok(&[
        "export",
        "accounts",
        "--database",
        &db,
        "--as",
        "boss@example.com",
        "--codes",
        "--output",
        &file,
    ]);
    assert!(printed.is_empty(), "{printed}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains(&made.account), "{written}");
}

#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    let dir = Dir::new();
    let db = dir.path("crm.db");
    tokio::runtime::Runtime::new().unwrap().block_on(fill(&db));
    let file = dir.path("out.csv");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["export", "--database", &db, "--output", &file]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str], expected: &[&str]| {
        let args = base(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, expected);
        assert!(
            !std::path::Path::new(&file).exists(),
            "{extra:?} left a file"
        );
    };
    // An unknown entity names the known ones.
    run(
        &["widgets", "--as", "boss@example.com"],
        &["widgets", "accounts", "opportunities"],
    );
    run(
        &["accounts", "--as", "nobody@example.com"],
        &["nobody@example.com"],
    );
    run(
        &[
            "accounts",
            "--as",
            "boss@example.com",
            "--filter",
            "{not json",
        ],
        &["--filter", "JSON"],
    );
    run(
        &[
            "accounts",
            "--as",
            "boss@example.com",
            "--filter",
            r#"{"field": "colour", "op": "eq", "value": "red"}"#,
        ],
        &["colour"],
    );
    run(
        &["accounts", "--as", "boss@example.com", "--sort", "nonsense"],
        &["nonsense"],
    );
    // --as is required: no export runs as anyone by default.
    fails(&["export", "accounts", "--database", &db], &["--as"]);
    // A database file that does not exist is not created.
    let missing = dir.path("missing.db");
    fails(
        &[
            "export",
            "accounts",
            "--database",
            &missing,
            "--as",
            "boss@example.com",
        ],
        &["does not exist"],
    );
    assert!(!std::path::Path::new(&missing).exists());
}

#[test]
fn an_export_of_many_pages_writes_every_record_once_in_order() {
    let dir = Dir::new();
    let db = dir.path("crm.db");
    tokio::runtime::Runtime::new().unwrap().block_on(fill(&db));
    // Five pages and a part: the export reads pages ahead of the one it writes, on tasks of
    // their own, and must still write each record once, in the sort asked for.
    let n = 2_345;
    let mut csv = String::from("姓名,手机\n");
    for i in 0..n {
        csv.push_str(&format!("测试{i:04},1390000{i:04}\n"));
    }
    let file = dir.path("contacts.csv");
    std::fs::write(&file, csv).unwrap();
    let imported = ok(&["import", "contacts", &file, "--database", &db]);
    assert!(imported.contains(&format!("{n} created")), "{imported}");
    let expected = n + 1; // and the contact `fill` made
    for form in [&["--codes"][..], &[][..]] {
        let mut args = vec![
            "export",
            "contacts",
            "--database",
            &db,
            "--as",
            "boss@example.com",
            "--sort",
            "created_at",
        ];
        args.extend(form);
        let out = ok(&args);
        let (header, rows) = parse(out.trim_start_matches('\u{feff}'));
        assert_eq!(rows.len(), expected, "{form:?}");
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids.len(), expected, "{form:?}: every record once");
        if form.is_empty() {
            continue;
        }
        let (at, id) = (col(&header, "created_at"), col(&header, "id"));
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[at].as_str(), r[id].as_str()))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "{form:?}: in the order asked for"
        );
    }
}
