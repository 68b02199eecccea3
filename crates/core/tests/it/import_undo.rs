//! Undoing an import on both backends: created records removed (and the accounts made for
//! company names), updated fields restored, a record edited since skipped and listed, an undo
//! twice, who may undo, the same file imported again after an undo, and a run whose process
//! died marked interrupted by the next run of its file.

use guanxi_core::areas::customers::CONTACTS;
use guanxi_core::db;
use guanxi_core::import::ledger;
use guanxi_core::import::run::Policy;
use guanxi_core::import::undo::undo;
use guanxi_core::{CoreError, codes};
use serde_json::json;
use uuid::Uuid;

use crate::import_run::{contact_by_email, count, id_of, import, import_as, sql};
use crate::support::{Fresh, actor, admin, backends, two_teams};

async fn search_entries(core: &guanxi_core::Core, id: Uuid) -> usize {
    let q = sql(
        core.db.backend(),
        "SELECT record_id FROM search_entries WHERE record_id = ?",
    );
    db::raw_query(core.db.reader(), &q, vec![id.into()])
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn undo_removes_what_was_created_and_restores_what_was_changed() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        let stored = contacts
            .create(
                &boss,
                &json!({"family_name": "李", "given_name": "四", "title": "经理",
                        "emails": [{"address": "li@example.com"}], "custom": {}}),
            )
            .await
            .unwrap();
        let file = "姓名,电子邮箱,职位,部门,公司名称\n\
                    李四,li@example.com,总监,市场部,\n\
                    王五,wang@example.com,销售,,新星科技有限公司\n\
                    赵六,zhao@example.com,,,新星科技有限公司\n";
        let (report, errors) = import(&core, &boss, &CONTACTS, file, Policy::Overwrite).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        assert_eq!(report.counts.created, 2, "{backend:?}");
        assert_eq!(report.counts.updated, 1, "{backend:?}");
        assert_eq!(report.counts.linked_created, 1, "{backend:?}");
        let wang = contact_by_email(&core, &boss, "wang@example.com").await;
        let li = contact_by_email(&core, &boss, "li@example.com").await;
        assert_eq!(li["title"], "总监");
        assert_eq!(count(&core, "accounts").await, 1);
        let run_id = report.run_id.unwrap();

        let done = undo(&core, &boss, run_id).await.unwrap();
        assert_eq!(done.removed, 3, "{backend:?}: {done:?}");
        assert_eq!(done.restored, 1, "{backend:?}: {done:?}");
        assert_eq!(done.skipped_count, 0, "{backend:?}: {done:?}");
        // The created contacts and the account made for their company are in the recycle bin,
        // out of search, with a delete in their history.
        assert_eq!(count(&core, "contacts").await, 1, "{backend:?}");
        assert_eq!(count(&core, "accounts").await, 0, "{backend:?}");
        let wang_id = id_of(&wang);
        assert!(contacts.get_deleted(&boss, wang_id).await.is_ok());
        assert_eq!(search_entries(&core, wang_id).await, 0);
        let history = contacts.history(&boss, wang_id).await.unwrap();
        assert!(history.iter().any(|e| e.action == "delete"), "{history:?}");
        // The updated contact has its values of before again, as an edit of the undoing user.
        let li = contacts.get(&boss, id_of(&stored)).await.unwrap();
        assert_eq!(li["title"], "经理", "{backend:?}");
        assert_eq!(li["department"], stored["department"], "{backend:?}");
        let history = contacts.history(&boss, id_of(&stored)).await.unwrap();
        assert_eq!(history.len(), 3, "{backend:?}: create, import, undo");

        // The run says it was undone, by whom, and what the undo did.
        let run = ledger::get(&core, &boss, run_id).await.unwrap();
        assert_eq!(run.status, "undone");
        let u = run.undo.unwrap();
        assert_eq!((u.removed, u.restored, u.skipped), (3, 1, 0));
        assert_eq!(u.by, Some(boss.user_id));

        // Twice: nothing more, and a clear refusal.
        match undo(&core, &boss, run_id).await {
            Err(CoreError::Conflict { code, params, .. }) => {
                assert_eq!(code, codes::IMPORT_ALREADY_UNDONE);
                assert_eq!(params["by"], "Test Admin");
            }
            other => panic!("{backend:?}: {other:?}"),
        }
        assert_eq!(count(&core, "contacts").await, 1);

        // The same file again imports its rows again.
        let (again, _) = import(&core, &boss, &CONTACTS, file, Policy::Overwrite).await;
        assert_eq!(again.counts.created, 2, "{backend:?}: {:?}", again.counts);
        assert_eq!(again.counts.updated, 1, "{backend:?}");
        assert_eq!(again.counts.already, 0, "{backend:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn undo_leaves_records_changed_since_and_lists_them() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        let stored = contacts
            .create(
                &boss,
                &json!({"family_name": "李", "given_name": "四", "title": "经理",
                        "emails": [{"address": "li@example.com"}]}),
            )
            .await
            .unwrap();
        let file = "姓名,电子邮箱,职位,公司名称\n\
                    李四,li@example.com,总监,\n\
                    王五,wang@example.com,销售,新星科技有限公司\n\
                    赵六,zhao@example.com,,\n\
                    钱七,qian@example.com,,远航贸易有限公司\n";
        let (report, errors) = import(&core, &boss, &CONTACTS, file, Policy::Overwrite).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        let run_id = report.run_id.unwrap();
        // After the import, people work: an edit of an updated record, an edit of a created
        // one, and a new contact at the account the import made for 王五's company.
        contacts
            .update(&boss, id_of(&stored), None, &json!({"title": "副总裁"}))
            .await
            .unwrap();
        let wang = contact_by_email(&core, &boss, "wang@example.com").await;
        contacts
            .update(
                &boss,
                id_of(&wang),
                None,
                &json!({"department": "大客户部"}),
            )
            .await
            .unwrap();
        let qian = contact_by_email(&core, &boss, "qian@example.com").await;
        contacts
            .create(
                &boss,
                &json!({"family_name": "孙", "given_name": "八",
                        "account_id": qian["account_id"].clone()}),
            )
            .await
            .unwrap();

        let done = undo(&core, &boss, run_id).await.unwrap();
        // 赵六 and 钱七 go; 李四 and 王五 were changed since; 远航贸易 has 孙八 now; 新星科技 is
        // still 王五's (kept) account.
        assert_eq!(done.removed, 2, "{backend:?}: {done:?}");
        assert_eq!(done.restored, 0, "{backend:?}: {done:?}");
        assert_eq!(done.skipped_count, 4, "{backend:?}: {done:?}");
        let mut listed: Vec<(String, &str)> = done
            .skipped
            .iter()
            .map(|s| (s.title.clone(), s.reason))
            .collect();
        listed.sort();
        let mut want = vec![
            (
                (CONTACTS.title)(&stored, &boss.locale),
                codes::IMPORT_UNDO_CHANGED_SINCE,
            ),
            (
                (CONTACTS.title)(&wang, &boss.locale),
                codes::IMPORT_UNDO_CHANGED_SINCE,
            ),
            (
                "新星科技有限公司".to_string(),
                codes::IMPORT_UNDO_STILL_REFERRED,
            ),
            (
                "远航贸易有限公司".to_string(),
                codes::IMPORT_UNDO_STILL_REFERRED,
            ),
        ];
        want.sort();
        assert_eq!(listed, want, "{backend:?}");
        assert_eq!(
            contacts.get(&boss, id_of(&stored)).await.unwrap()["title"],
            "副总裁"
        );
        assert_eq!(count(&core, "contacts").await, 3, "{backend:?}");
        assert_eq!(count(&core, "accounts").await, 2, "{backend:?}");
        let run = ledger::get(&core, &boss, run_id).await.unwrap();
        assert_eq!(run.undo.map(|u| u.skipped), Some(4));
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn only_the_importer_and_administrators_may_undo() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let rep = actor(&core, "rep@example.com").await;
        let mate = actor(&core, "mate@example.com").await;
        let file = "姓名,电子邮箱\n王五,wang@example.com\n赵六,zhao@example.com\n";
        let (report, errors) = import(&core, &rep, &CONTACTS, file, Policy::Skip).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        let run_id = report.run_id.unwrap();
        match undo(&core, &mate, run_id).await {
            Err(CoreError::Forbidden { code, .. }) => {
                assert_eq!(code, codes::IMPORT_UNDO_NOT_ALLOWED)
            }
            other => panic!("{backend:?}: {other:?}"),
        }
        assert_eq!(count(&core, "contacts").await, 2);
        // A rep sees their own runs only; an administrator every run.
        assert!(ledger::list(&core, &mate, 50).await.unwrap().is_empty());
        assert_eq!(ledger::list(&core, &rep, 50).await.unwrap().len(), 1);
        assert_eq!(ledger::list(&core, &boss, 50).await.unwrap().len(), 1);
        assert!(matches!(
            ledger::get(&core, &mate, run_id).await,
            Err(CoreError::NotFound)
        ));
        let done = undo(&core, &rep, run_id).await.unwrap();
        assert_eq!(done.removed, 2, "{backend:?}");
        assert_eq!(count(&core, "contacts").await, 0);
        // An administrator may undo anyone's.
        let (report, _) = import_as(
            &core,
            &rep,
            &CONTACTS,
            "姓名,电子邮箱\n孙八,sun@example.com\n".as_bytes(),
            "b.csv",
            Policy::Skip,
            false,
            None,
        )
        .await;
        let done = undo(&core, &boss, report.run_id.unwrap()).await.unwrap();
        assert_eq!(done.removed, 1, "{backend:?}");
        // No such run.
        assert!(matches!(
            undo(&core, &boss, Uuid::now_v7()).await,
            Err(CoreError::NotFound)
        ));
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_run_whose_process_died_is_marked_interrupted_by_the_next_run() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let file: String = std::iter::once("姓名,电子邮箱\n".to_string())
            .chain((0..30).map(|i| format!("客户{i},c{i}@example.com\n")))
            .collect();
        let (first, _) = import_as(
            &core,
            &boss,
            &CONTACTS,
            file.as_bytes(),
            "t.csv",
            Policy::Skip,
            false,
            Some(10),
        )
        .await;
        let first_id = first.run_id.unwrap();
        // As a process killed mid-way leaves it: `running`, its heartbeat ten minutes old.
        let old = chrono::Utc::now() - chrono::Duration::minutes(10);
        let q = sql(
            core.db.backend(),
            "UPDATE import_runs SET status = 'running', finished_at = NULL, heartbeat_at = ? WHERE id = ?",
        );
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, &q, vec![old.into(), first_id.into()])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let listed = ledger::get(&core, &boss, first_id).await.unwrap();
        assert_eq!(listed.status, "interrupted", "{backend:?}");
        assert_eq!(
            listed.counts.created, 10,
            "{backend:?}: counts kept per batch"
        );
        // The same file again: the run that died is marked, the rest imported.
        let (second, _) = import_as(
            &core,
            &boss,
            &CONTACTS,
            file.as_bytes(),
            "t.csv",
            Policy::Skip,
            false,
            None,
        )
        .await;
        assert_eq!(second.counts.created, 20, "{backend:?}");
        assert_eq!(second.counts.already, 10, "{backend:?}");
        let runs = ledger::list(&core, &boss, 10).await.unwrap();
        let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(statuses, ["finished", "interrupted"], "{backend:?}");
        // Stored so, not only shown so.
        let stored = crate::import_run::rows(
            &core,
            "SELECT status FROM import_runs WHERE id = ?",
            vec![first_id.into()],
        )
        .await;
        assert_eq!(stored, [["interrupted"]], "{backend:?}");
        // Each run's undo takes back its own rows.
        assert_eq!(undo(&core, &boss, first_id).await.unwrap().removed, 10);
        assert_eq!(count(&core, "contacts").await, 20, "{backend:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn an_external_id_finds_its_record_before_any_other_key() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        let first = contacts
            .create(
                &boss,
                &json!({"family_name": "张", "given_name": "三", "external_id": "ERP-001",
                        "emails": [{"address": "zhang@example.com"}]}),
            )
            .await
            .unwrap();
        contacts
            .create(
                &boss,
                &json!({"family_name": "李", "given_name": "四",
                        "emails": [{"address": "li@example.com"}]}),
            )
            .await
            .unwrap();
        // One id, one record: a second contact with it is refused.
        match contacts
            .create(
                &boss,
                &json!({"family_name": "王", "given_name": "五", "external_id": " ERP-001 "}),
            )
            .await
        {
            Err(CoreError::Conflict { code, .. }) => assert_eq!(code, codes::DUPLICATE),
            other => panic!("{backend:?}: {other:?}"),
        }
        // The row's e-mail is 李四's, its external id 张三's: the id decides.
        let file = "外部编号,姓名,电子邮箱,职位\nERP-001,张三,li@example.com,总监\n";
        let (report, errors) = import(&core, &boss, &CONTACTS, file, Policy::Fill).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        assert_eq!(report.counts.updated, 1, "{backend:?}");
        let zhang = contacts.get(&boss, id_of(&first)).await.unwrap();
        assert_eq!(zhang["title"], "总监", "{backend:?}");
        assert_eq!(zhang["emails"].as_array().map(Vec::len), Some(2));
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_large_import_is_undone_page_by_page_in_short_transactions() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        // More rows than a page of the run's record, over several companies made by name.
        let file: String = std::iter::once("姓名,电子邮箱,公司名称\n".to_string())
            .chain(
                (0..1_200).map(|i| format!("客户{i},c{i}@example.com,星辰{}科技有限公司\n", i % 7)),
            )
            .collect();
        let (report, errors) = import(&core, &boss, &CONTACTS, &file, Policy::Skip).await;
        assert!(errors.is_empty(), "{backend:?}: {errors:?}");
        assert_eq!(report.counts.created, 1_200, "{backend:?}");
        assert_eq!(report.counts.linked_created, 7, "{backend:?}");
        let done = undo(&core, &boss, report.run_id.unwrap()).await.unwrap();
        assert_eq!(done.removed, 1_207, "{backend:?}: {done:?}");
        assert_eq!(done.skipped_count, 0, "{backend:?}");
        assert_eq!(count(&core, "contacts").await, 0, "{backend:?}");
        assert_eq!(count(&core, "accounts").await, 0, "{backend:?}");
        fresh.cleanup(core).await;
    }
}
