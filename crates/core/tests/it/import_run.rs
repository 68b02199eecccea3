//! Importing rows on both backends: an imported record is the one the API creates, each match
//! policy, the same file twice, a run cut short and run again, a dry run, and a GBK file from
//! Chinese Excel whose contacts are linked to their accounts by company name.

use std::io::Cursor;

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::db::{self, Backend};
use guanxi_core::import::mapping::{Mapping, Targets, suggest};
use guanxi_core::import::run::{self, Policy, Report, RowError, RunOptions};
use guanxi_core::import::{ReadOptions, Source};
use guanxi_core::records::Record;
use guanxi_core::{Actor, Core, EntityDef, codes};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

/// Imports `bytes` as `def`, with the suggested mapping, as file `name`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn import_as(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    bytes: &[u8],
    name: &str,
    policy: Policy,
    dry_run: bool,
    stop_after: Option<u64>,
) -> (Report, Vec<RowError>) {
    let mut source = Source::open(Cursor::new(bytes.to_vec()), &ReadOptions::default()).unwrap();
    let targets = Targets::of(def, &[]);
    let mapping: Mapping = suggest(&targets, source.headers(), &()).mapping();
    let plan = mapping.resolve(&targets, source.headers()).unwrap();
    let options = RunOptions {
        policy,
        dry_run,
        file_name: name.to_string(),
        fingerprint: run::fingerprint(bytes).unwrap(),
        mapping: mapping.to_toml(),
        stop_after,
        run_id: None,
        create_missing: false,
    };
    let mut errors = Vec::new();
    let report = run::run(core, actor, def, &mut source, &plan, &options, &mut errors)
        .await
        .unwrap();
    (report, errors)
}

pub(crate) async fn import(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    text: &str,
    policy: Policy,
) -> (Report, Vec<RowError>) {
    import_as(
        core,
        actor,
        def,
        text.as_bytes(),
        "t.csv",
        policy,
        false,
        None,
    )
    .await
}

/// `?` placeholders made the backend's.
pub(crate) fn sql(backend: Backend, text: &str) -> String {
    match backend {
        Backend::Sqlite => text.to_string(),
        Backend::Postgres => {
            let mut out = String::new();
            let mut n = 0;
            for c in text.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// The rows of a query, each as its columns' text.
pub(crate) async fn rows(core: &Core, text: &str, values: Vec<sea_orm::Value>) -> Vec<Vec<String>> {
    let backend = core.db.backend();
    let result = db::raw_query(core.db.reader(), &sql(backend, text), values)
        .await
        .unwrap();
    result
        .iter()
        .map(|r| {
            (0..)
                .map_while(|i| {
                    r.try_get_by_index::<Option<String>>(i)
                        .ok()
                        .map(Option::unwrap_or_default)
                })
                .collect()
        })
        .collect()
}

pub(crate) async fn count(core: &Core, table: &str) -> i64 {
    let backend = core.db.backend();
    let q = sql(
        backend,
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL"),
    );
    let r = db::raw_query(core.db.reader(), &q, vec![]).await.unwrap();
    r[0].try_get::<i64>("", "n").unwrap()
}

async fn count_all(core: &Core, table: &str) -> i64 {
    let q = format!("SELECT COUNT(*) AS n FROM {table}");
    let r = db::raw_query(core.db.reader(), &q, vec![]).await.unwrap();
    r[0].try_get::<i64>("", "n").unwrap()
}

/// The live contact with e-mail `address`.
pub(crate) async fn contact_by_email(core: &Core, actor: &Actor, address: &str) -> Record {
    let q = sql(
        core.db.backend(),
        "SELECT record_id FROM contact_points WHERE entity = 'contact' AND kind = 'email' AND value = ?",
    );
    let found = db::raw_query(core.db.reader(), &q, vec![address.into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{address}");
    let id: Uuid = found[0].try_get("", "record_id").unwrap();
    core.records(&CONTACTS).get(actor, id).await.unwrap()
}

pub(crate) fn id_of(rec: &Record) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap()
}

/// What the engine stores of a record beside its row, without ids and times: its contact
/// points, its search entry, its matching keys and its audit rows.
async fn stored_beside(core: &Core, id: Uuid) -> Vec<Vec<Vec<String>>> {
    let doc = match core.db.backend() {
        Backend::Sqlite => "doc",
        Backend::Postgres => "CAST(doc AS TEXT)",
    };
    vec![
        rows(
            core,
            "SELECT kind, value FROM contact_points WHERE record_id = ? ORDER BY kind, value",
            vec![id.into()],
        )
        .await,
        rows(
            core,
            &format!("SELECT entity, title, {doc} FROM search_entries WHERE record_id = ?"),
            vec![id.into()],
        )
        .await,
        rows(
            core,
            "SELECT rule, key FROM dedupe_keys WHERE record_id = ? ORDER BY rule, key",
            vec![id.into()],
        )
        .await,
        rows(
            core,
            "SELECT entity, action, CAST(changes AS TEXT) FROM audit_log WHERE record_id = ?",
            vec![id.into()],
        )
        .await,
    ]
}

fn without_ids_and_times(mut rec: Record) -> Record {
    for k in ["id", "created_at", "updated_at"] {
        rec.remove(k);
    }
    rec
}

#[tokio::test]
async fn an_imported_row_is_what_the_api_creates() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let file = "姓,名,职位,部门,手机,办公电话,电子邮箱,生日,备注\n\
                    欧阳,修,总经理,销售部,138 1234 5678,010-6234 5678,OuYang@Example.com,1990/05/04,老客户\n";
        let (report, errors) = import(&core, &boss, &CONTACTS, file, Policy::Create).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        assert_eq!(report.counts.created, 1);
        let imported = contact_by_email(&core, &boss, "ouyang@example.com").await;
        let by_api = core
            .records(&CONTACTS)
            .create(
                &boss,
                &json!({
                    "family_name": "欧阳", "given_name": "修", "title": "总经理",
                    "department": "销售部",
                    "phones": [{"number": "138 1234 5678"}, {"number": "010-6234 5678"}],
                    "emails": [{"address": "OuYang@Example.com"}],
                    "birthday": "1990-05-04", "description": "老客户",
                    "allow_duplicate": true,
                }),
            )
            .await
            .unwrap();
        assert_eq!(
            without_ids_and_times(imported.clone()),
            without_ids_and_times(by_api.clone()),
            "{backend:?}"
        );
        let (a, b) = (
            stored_beside(&core, id_of(&imported)).await,
            stored_beside(&core, id_of(&by_api)).await,
        );
        assert_eq!(a, b, "{backend:?}");
        // Every part is there: two phones, one e-mail and its domain, a search entry, an
        // audit row.
        assert_eq!(a[0].len(), 4, "{backend:?}: {a:?}");
        assert_eq!(a[1].len(), 1);
        assert_eq!(a[3].len(), 1);
        assert_eq!(a[3][0][1], "create");
        fresh.cleanup(core).await;
    }
}

/// A batch's rows are held and written several records at a time, each table's rows of them in
/// one statement (`WriteTxn::write_record`): each record is still exactly what the API creates
/// from the same input, whatever number of phones and e-mails it has, and the accounts made for
/// company names in the middle of the batch are written before the contacts that name them. A
/// company name whose key (without its region) belongs to an account made earlier in the same
/// batch names that account, as a name looked up alone would.
#[tokio::test]
async fn rows_written_together_are_each_what_the_api_creates() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let stored = core
            .records(&ACCOUNTS)
            .create(
                &boss,
                &json!({"kind": "company", "name": "北京中太数据科技有限公司"}),
            )
            .await
            .unwrap();
        let mut file = String::from("姓名,手机,电子邮箱,公司名称,职位\n");
        let companies = [
            "北京中太数据科技有限公司",
            "重庆天成环保有限公司",
            "",
            "上海宏图化工有限公司",
        ];
        for n in 0..48 {
            let phones = match n % 3 {
                0 => String::new(),
                1 => format!("1380000{n:04}"),
                _ => format!("1390000{n:04};010-6234{n:04}"),
            };
            let emails = if n % 4 == 0 {
                format!("p{n}@example.com;p{n}@example.org")
            } else {
                format!("p{n}@example.com")
            };
            let company = if n == 40 {
                "长沙天成环保有限公司"
            } else {
                companies[n % 4]
            };
            file.push_str(&format!("王{n}号,{phones},{emails},{company},经理\n"));
        }
        let (report, errors) = import(&core, &boss, &CONTACTS, &file, Policy::Fill).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        assert_eq!(report.counts.created, 48, "{backend:?}");
        assert_eq!(
            report.counts.linked_created, 2,
            "{backend:?}: 天成 and 宏图"
        );
        let tiancheng =
            contact_by_email(&core, &boss, "p1@example.com").await["account_id"].clone();
        let changsha = contact_by_email(&core, &boss, "p40@example.com").await;
        assert_eq!(changsha["account_id"], tiancheng, "{backend:?}");
        let zhongtai = contact_by_email(&core, &boss, "p4@example.com").await;
        assert_eq!(zhongtai["account_id"], stored["id"], "{backend:?}");
        for n in 0..48 {
            let imported = contact_by_email(&core, &boss, &format!("p{n}@example.com")).await;
            let mut input = serde_json::Map::new();
            for field in [
                "family_name",
                "given_name",
                "phones",
                "emails",
                "account_id",
                "title",
            ] {
                input.insert(field.to_string(), imported[field].clone());
            }
            input.insert("allow_duplicate".into(), Value::Bool(true));
            let by_api = core
                .records(&CONTACTS)
                .create(&boss, &Value::Object(input))
                .await
                .unwrap();
            assert_eq!(
                without_ids_and_times(imported.clone()),
                without_ids_and_times(by_api.clone()),
                "{backend:?}: row {n}"
            );
            assert_eq!(
                stored_beside(&core, id_of(&imported)).await,
                stored_beside(&core, id_of(&by_api)).await,
                "{backend:?}: row {n}"
            );
        }
        fresh.cleanup(core).await;
    }
}

/// Rows are written ahead of their answers within a batch (`BulkWrite::send_writes_ahead`): a
/// row the database itself refuses in the middle of a batch is found out by a later row, and
/// the batch is written again row by row, so that row fails alone, with its line, and every
/// other row is imported once. Here a trigger refuses one contact's insert.
#[tokio::test]
async fn a_row_the_database_refuses_mid_batch_fails_alone() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let refuse: &[&str] = match backend {
            Backend::Sqlite => &["CREATE TRIGGER refuse_probe BEFORE INSERT ON contacts \
                 WHEN NEW.given_name = '拒绝' BEGIN SELECT RAISE(ABORT, 'refused by the probe'); END"],
            Backend::Postgres => &[
                "CREATE FUNCTION refuse_probe() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.given_name = '拒绝' THEN RAISE EXCEPTION 'refused by the probe'; \
                 END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_probe BEFORE INSERT ON contacts \
                 FOR EACH ROW EXECUTE FUNCTION refuse_probe()",
            ],
        };
        let txn = core.db.begin().await.unwrap();
        for statement in refuse {
            db::raw_execute(&txn, statement, vec![]).await.unwrap();
        }
        txn.commit().await.unwrap();
        let mut file = String::from("姓,名,电子邮箱\n");
        for n in 0..60 {
            let given = if n == 30 {
                "拒绝".to_string()
            } else {
                format!("{n}号")
            };
            file.push_str(&format!("王,{given},row{n}@example.com\n"));
        }
        let (report, errors) = import(&core, &boss, &CONTACTS, &file, Policy::Create).await;
        assert_eq!(report.counts.created, 59, "{backend:?}: {errors:?}");
        assert_eq!(report.counts.failed, 1, "{backend:?}");
        assert_eq!(errors.len(), 1, "{backend:?}: {errors:?}");
        assert_eq!(errors[0].line, 32, "{backend:?}: the header is line 1");
        assert_eq!(errors[0].code, codes::IMPORT_ROW_FAILED, "{backend:?}");
        assert_eq!(count(&core, "contacts").await, 59, "{backend:?}");
        // Nothing of the refused row was left: no e-mail, search entry or history of it.
        let q = sql(
            backend,
            "SELECT COUNT(*) AS n FROM contact_points WHERE value = ?",
        );
        let left = db::raw_query(core.db.reader(), &q, vec!["row30@example.com".into()])
            .await
            .unwrap();
        assert_eq!(left[0].try_get::<i64>("", "n").unwrap(), 0, "{backend:?}");
        assert_eq!(
            count_all(&core, "audit_log").await,
            count_all(&core, "search_entries").await,
            "{backend:?}: one history row and one search entry a record"
        );
        let again = contact_by_email(&core, &boss, "row31@example.com").await;
        assert_eq!(again["given_name"], "31号", "{backend:?}");
        fresh.cleanup(core).await;
    }
}

/// A row refused before it wrote anything (here: it matches two stored people, one by e-mail
/// and one by phone) fails alone without taking its batch back: the batch is written once, not
/// again row by row.
#[tokio::test]
async fn a_row_refused_before_its_write_leaves_its_batch_standing() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        for person in [
            json!({"family_name": "张", "given_name": "一", "emails": [{"address": "one@example.com"}]}),
            json!({"family_name": "张", "given_name": "二", "phones": [{"number": "13912345678"}]}),
        ] {
            contacts.create(&boss, &person).await.unwrap();
        }
        let mut file = String::from("姓,名,电子邮箱,手机\n");
        for n in 0..60 {
            if n == 30 {
                file.push_str("张,三,one@example.com,13912345678\n");
            } else {
                file.push_str(&format!("王,{n}号,row{n}@example.com,\n"));
            }
        }
        let (report, errors) = import(&core, &boss, &CONTACTS, &file, Policy::Fill).await;
        assert_eq!(report.counts.created, 59, "{backend:?}: {errors:?}");
        assert_eq!(report.counts.failed, 1, "{backend:?}");
        assert_eq!(errors.len(), 1, "{backend:?}: {errors:?}");
        assert_eq!(errors[0].line, 32, "{backend:?}");
        assert_eq!(errors[0].code, codes::IMPORT_SEVERAL_MATCHES, "{backend:?}");
        assert_eq!(report.retried, 0, "{backend:?}: no batch was taken back");
        assert_eq!(count(&core, "contacts").await, 61, "{backend:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn each_match_policy_does_what_it_says() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        contacts
            .create(
                &boss,
                &json!({"family_name": "张", "given_name": "三", "emails": [{"address": "zhang@example.com"}]}),
            )
            .await
            .unwrap();
        contacts
            .create(
                &boss,
                &json!({"family_name": "李", "given_name": "四", "title": "经理",
                        "emails": [{"address": "li@example.com"}],
                        "phones": [{"number": "13912345678"}]}),
            )
            .await
            .unwrap();
        // 张三 by e-mail (another case), 李四 by phone (written another way).
        let file = |n: u32| {
            format!(
                "姓名,职位,手机,电子邮箱,备注\n\
                 张三,总监,13800000001,ZHANG@example.com,{n}\n\
                 李四,主任,+86 139 1234 5678,,{n}\n"
            )
        };
        let title = |r: &Record| r["title"].as_str().unwrap_or("").to_string();
        let phones = |r: &Record| {
            r["phones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["number"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };

        let (r, errors) = import(&core, &boss, &CONTACTS, &file(1), Policy::Skip).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((r.counts.created, r.counts.skipped), (0, 2), "{backend:?}");
        let zhang = contact_by_email(&core, &boss, "zhang@example.com").await;
        assert_eq!(title(&zhang), "");
        assert_eq!(zhang["version"], 1);

        let (r, errors) = import(&core, &boss, &CONTACTS, &file(2), Policy::Fill).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            (r.counts.created, r.counts.updated),
            (0, 2),
            "{backend:?}: {r:?}"
        );
        let zhang = contact_by_email(&core, &boss, "zhang@example.com").await;
        let li = contact_by_email(&core, &boss, "li@example.com").await;
        // Empty fields filled, set ones kept, phones added and never dropped.
        assert_eq!(title(&zhang), "总监");
        assert_eq!(phones(&zhang), ["+8613800000001"]);
        assert_eq!(title(&li), "经理");
        assert_eq!(li["description"], "2");
        assert_eq!(phones(&li), ["+8613912345678"]);

        let (r, errors) = import(&core, &boss, &CONTACTS, &file(3), Policy::Overwrite).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((r.counts.created, r.counts.updated), (0, 2));
        let li = contact_by_email(&core, &boss, "li@example.com").await;
        assert_eq!(title(&li), "主任");
        assert_eq!(li["description"], "3");
        // What the row does not give is kept.
        assert_eq!(li["emails"][0]["address"], "li@example.com");

        // The updates are the engine's: audited as any edit (the skip changed nothing).
        let history = core
            .records(&CONTACTS)
            .history(&boss, id_of(&li))
            .await
            .unwrap();
        assert_eq!(history.len(), 3, "{history:?}");
        assert_eq!(history[0].action, "update");

        let (r, errors) = import(&core, &boss, &CONTACTS, &file(4), Policy::Create).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.counts.created, 2);
        assert_eq!(count(&core, "contacts").await, 4);

        // A row that matches two records names them and changes neither.
        let both = "姓名,手机,电子邮箱\n某人,13800000001,li@example.com\n";
        let (r, errors) = import(&core, &boss, &CONTACTS, both, Policy::Fill).await;
        assert_eq!((r.counts.failed, r.counts.created), (1, 0));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, codes::IMPORT_SEVERAL_MATCHES);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].params["titles"].as_array().unwrap().len() >= 2);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn the_same_file_twice_creates_nothing_new_whatever_the_policy() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let file = "姓名,电子邮箱,手机\n张三,a@example.com,\n李四,,13900000002\n王五,,\n坏,bad,\n";
        let (r, _) = import(&core, &boss, &CONTACTS, file, Policy::Create).await;
        assert_eq!((r.counts.created, r.counts.failed), (3, 1), "{backend:?}");
        for policy in Policy::ALL {
            let (r, errors) = import(&core, &boss, &CONTACTS, file, policy).await;
            assert_eq!(r.counts.created, 0, "{backend:?} {policy:?}");
            assert_eq!(r.counts.already, 3);
            // The row that failed is tried again, and fails again.
            assert_eq!(r.counts.failed, 1);
            assert_eq!(errors.len(), 1);
        }
        assert_eq!(count(&core, "contacts").await, 3);
        let runs = run::runs(&core).await.unwrap();
        assert_eq!(runs.len(), 5);
        assert_eq!(runs[0].status, "finished");
        assert_eq!(runs[4].counts.created, 3);
        assert_eq!(runs[4].file_name, "t.csv");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_run_cut_short_and_run_again_imports_every_row_once() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let mut file = String::from("姓名,电子邮箱\n");
        for i in 0..1200 {
            file.push_str(&format!("联系人{i},p{i}@example.com\n"));
        }
        let (r, _) = import_as(
            &core,
            &boss,
            &CONTACTS,
            file.as_bytes(),
            "big.csv",
            Policy::Fill,
            false,
            Some(700),
        )
        .await;
        assert!(r.stopped, "{backend:?}");
        assert_eq!(r.counts.created, 700);
        assert_eq!(count(&core, "contacts").await, 700);
        assert_eq!(run::runs(&core).await.unwrap()[0].status, "stopped");
        let (r, errors) = import(&core, &boss, &CONTACTS, &file, Policy::Create).await;
        assert!(errors.is_empty());
        assert!(!r.stopped);
        assert_eq!((r.counts.created, r.counts.already), (500, 700));
        assert_eq!(count(&core, "contacts").await, 1200);
        // Each address once; each row's outcome kept with the record it made.
        let dup = rows(
            &core,
            "SELECT value FROM contact_points WHERE kind = 'email' GROUP BY value HAVING COUNT(*) > 1",
            vec![],
        )
        .await;
        assert!(dup.is_empty(), "{dup:?}");
        let kept = rows(
            &core,
            "SELECT outcome, COUNT(*) FROM import_rows GROUP BY outcome",
            vec![],
        )
        .await;
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(count_all(&core, "import_rows").await, 1200);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_dry_run_reports_everything_and_writes_nothing() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let audit_before = count_all(&core, "audit_log").await;
        let file = "姓名,手机,公司名称\n张三,13800000001,新公司有限公司\n李四,not a phone,\n,13800000003,\n";
        let (r, errors) = import_as(
            &core,
            &boss,
            &CONTACTS,
            file.as_bytes(),
            "d.csv",
            Policy::Fill,
            true,
            None,
        )
        .await;
        assert_eq!(r.run_id, None);
        assert_eq!((r.counts.created, r.counts.failed), (1, 2), "{errors:?}");
        assert_eq!(r.counts.linked_created, 1);
        let invalid = errors.iter().find(|e| e.line == 3).unwrap();
        assert_eq!(
            (invalid.column.as_str(), invalid.code),
            ("手机", "invalid_phone")
        );
        assert_eq!(invalid.values[1], "not a phone");
        let nameless = errors.iter().find(|e| e.line == 4).unwrap();
        assert_eq!(nameless.column, "姓名");
        for table in ["contacts", "accounts"] {
            assert_eq!(count(&core, table).await, 0, "{backend:?} {table}");
        }
        for table in [
            "import_runs",
            "import_rows",
            "contact_points",
            "search_entries",
        ] {
            assert_eq!(count_all(&core, table).await, 0, "{backend:?} {table}");
        }
        assert_eq!(count_all(&core, "audit_log").await, audit_before);
        // A dry run leaves the file to import for real.
        let (r, _) = import(&core, &boss, &CONTACTS, file, Policy::Fill).await;
        assert_eq!(r.counts.created, 1);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_gbk_file_from_chinese_excel_links_contacts_to_accounts_by_company_name() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let accounts = core.records(&ACCOUNTS);
        let zhongtai = accounts
            .create(
                &boss,
                &json!({"kind": "company", "name": "北京中太数据科技有限公司"}),
            )
            .await
            .unwrap();
        for name in ["华星光电有限公司", "深圳华星光电有限公司"] {
            accounts
                .create(
                    &boss,
                    &json!({"kind": "company", "name": name, "allow_duplicate": true}),
                )
                .await
                .unwrap();
        }
        let text = "姓名,手机,电子邮箱,公司名称\r\n\
                    欧阳修,13800000001,ouyang@example.com,中太数据科技（北京）有限公司\r\n\
                    司马光,13800000002,sima@example.com,杭州新来客户有限公司\r\n\
                    张三,13800000003,zhang@example.com,杭州新来客户有限公司\r\n\
                    李四,13800000004,li@example.com,华星光电\r\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let (r, errors) = import_as(
            &core,
            &boss,
            &CONTACTS,
            &bytes,
            "联系人.csv",
            Policy::Fill,
            false,
            None,
        )
        .await;
        assert_eq!(
            (r.counts.created, r.counts.failed),
            (3, 1),
            "{backend:?}: {errors:?}"
        );
        assert_eq!(r.counts.linked_created, 1);
        let ouyang = contact_by_email(&core, &boss, "ouyang@example.com").await;
        assert_eq!(
            (
                ouyang["family_name"].as_str(),
                ouyang["given_name"].as_str()
            ),
            (Some("欧阳"), Some("修"))
        );
        assert_eq!(ouyang["account_id"].as_str(), zhongtai["id"].as_str());
        let sima = contact_by_email(&core, &boss, "sima@example.com").await;
        let zhang = contact_by_email(&core, &boss, "zhang@example.com").await;
        assert_eq!(sima["family_name"], "司马");
        assert!(sima["account_id"].is_string());
        assert_eq!(sima["account_id"], zhang["account_id"]);
        let created = accounts
            .get(
                &boss,
                Uuid::parse_str(sima["account_id"].as_str().unwrap()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(created["name"], "杭州新来客户有限公司");
        assert_eq!(created["kind"], "company");
        assert_eq!(count(&core, "accounts").await, 4);
        // Two accounts go by 华星光电: the row names them rather than guessing.
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, codes::IMPORT_AMBIGUOUS_REFERENCE);
        assert_eq!(errors[0].column, "公司名称");
        assert_eq!(errors[0].line, 5);
        assert_eq!(
            errors[0].params["titles"].as_array().map(Vec::len),
            Some(2),
            "{:?}",
            errors[0].params
        );
        let _: Value = errors[0].params["value"].clone();
        fresh.cleanup(core).await;
    }
}

/// The import's speed (issue 12's protocol, scaled by `GUANXI_IMPORT_BENCH_ROWS`, default
/// 100,000): a database holding N contacts, then a file of N contacts written as Chinese Excel
/// writes it (GBK, 姓名/手机/电子邮箱/公司名称/职位), a tenth of them repeats of stored contacts,
/// imported with the fill policy. On PostgreSQL with `GUANXI_IMPORT_BENCH_PG=1`. A figure to
/// report, never a timed assertion:
///
/// `cargo test --release -p guanxi-core --test it import_speed -- --ignored --nocapture`
/// The process's CPU time so far (user and system), from `/proc/self/stat`: a figure that two
/// busy shared cores disturb less than the time on the clock.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields; 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The process's peak and current memory from `/proc/self/status`: the heap and other
/// anonymous pages apart from the file pages mapped (SQLite's memory map of the database).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    format!(
        "peak RSS {} MB (now {} MB: anonymous {} MB, file-mapped {} MB)",
        get("VmHWM:"),
        get("VmRSS:"),
        get("RssAnon:"),
        get("RssFile:")
    )
}

/// The load average over the last minute.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

#[tokio::test]
#[ignore]
async fn import_speed() {
    let n: usize = std::env::var("GUANXI_IMPORT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let backend = if std::env::var("GUANXI_IMPORT_BENCH_PG").is_ok() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let fresh = Fresh::new(backend).await;
    let core = fresh.core().await;
    let boss = admin(&core, "boss@example.com").await;
    let head = "姓名,手机,电子邮箱,公司名称,职位\r\n";
    let surnames = [
        "王", "李", "张", "刘", "陈", "杨", "欧阳", "司马", "赵", "黄",
    ];
    let row = |i: usize, tag: &str| {
        format!(
            "{}{tag}{i},1{:010},{tag}{i}@example.cn,星辰{}科技有限公司,销售经理\r\n",
            surnames[i % surnames.len()],
            3_000_000_000u64 + i as u64 + if tag == "n" { 5_000_000_000 } else { 0 },
            i % 1000
        )
    };
    // What the database holds: N contacts (imported too, which is a first figure).
    let mut existing = String::from(head);
    // Stored without a title, which the repeats fill.
    for i in 0..n {
        existing.push_str(&row(i, "e").replace("销售经理", ""));
    }
    let (bytes, _, _) = encoding_rs::GBK.encode(&existing);
    let started = std::time::Instant::now();
    let cpu = cpu_seconds();
    let (r, errors) = import_as(
        &core,
        &boss,
        &CONTACTS,
        &bytes,
        "existing.csv",
        Policy::Create,
        false,
        None,
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    assert!(errors.is_empty(), "{:?}", errors.first());
    println!(
        "{backend:?}: {n} new contacts into an empty database: {secs:.1} s, {:.0} rows/s, {:.2} ms CPU a row, {} batches ({} retried), longest {} ms, {} accounts made; load {}",
        n as f64 / secs,
        (cpu_seconds() - cpu) * 1000.0 / n as f64,
        r.batches,
        r.retried,
        r.longest_batch.as_millis(),
        r.counts.linked_created,
        load()
    );
    // The file: a tenth repeats of stored contacts (the same e-mail and phone, with a title),
    // the rest new.
    let mut file = String::from(head);
    for i in 0..n {
        if i % 10 == 0 {
            file.push_str(&row(i, "e"));
        } else {
            file.push_str(&row(i, "n"));
        }
    }
    let (bytes, _, _) = encoding_rs::GBK.encode(&file);
    let started = std::time::Instant::now();
    let cpu = cpu_seconds();
    let (r, errors) = import_as(
        &core,
        &boss,
        &CONTACTS,
        &bytes,
        "import.csv",
        Policy::Fill,
        false,
        None,
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    assert!(errors.is_empty(), "{:?}", errors.first());
    println!(
        "{backend:?}: {n} rows (GBK, 10% repeats, fill) into {n} contacts: {secs:.1} s, {:.0} rows/s, {:.2} ms CPU a row; {} created, {} updated, {} skipped; {} batches ({} retried), longest {} ms; load {}",
        n as f64 / secs,
        (cpu_seconds() - cpu) * 1000.0 / n as f64,
        r.counts.created,
        r.counts.updated,
        r.counts.skipped,
        r.batches,
        r.retried,
        r.longest_batch.as_millis(),
        load()
    );
    println!("{backend:?}: {}", memory());
    assert_eq!(r.counts.created as usize, n - n.div_ceil(10));
    assert_eq!(r.counts.updated as usize, n.div_ceil(10));
    fresh.cleanup(core).await;
}
