//! The import wizard in Chromium, in both languages, on a wide screen and a phone: the list's
//! Import button, the upload, the mapping table re-previewed as a column changes, the start,
//! and the run's page following the job to its end.

use super::driver::{driver_url, run};
use super::shell::assert_no_sideways_scroll;
use crate::support::{Backend, PASSWORD, spawn};

#[tokio::test]
async fn the_import_wizard_walks_from_upload_to_a_finished_run_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let mut n = 0;
    for lang in ["zh", "en"] {
        let locale = if lang == "zh" { "zh-CN" } else { "en" };
        let who = app.user_in("sales", Some("East"), locale).await.email;
        for width in [1400u32, 390] {
            n += 1;
            let csv = format!(
                "姓名,手机,电子邮箱,职位,备注,生日\r\n\
                 张伟{n},1380013800{n},zhang{n}@example.com,销售经理,老客户,03/15/1990\r\n\
                 李娜{n},12,li{n}@example.com,工程师,电话有误,\r\n\
                 欧阳娜娜{n},1370013700{n},ouyang{n}@example.com,,新客户,12/01/1988\r\n"
            );
            let path = std::env::temp_dir().join(format!(
                "客户联系人-{n}-{}.csv",
                uuid::Uuid::now_v7().simple()
            ));
            std::fs::write(&path, encoding_rs::GBK.encode(&csv).0).unwrap();
            let file = path.display().to_string();
            let core = app.core.clone();
            let who = who.clone();
            run(&driver, &app.base, &format!("import-{lang}-{width}"), lang, |b| async move {
                b.window(width, 900).await;
                b.goto("/login").await;
                b.fill("#email", &who).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                b.goto("/contacts").await;
                b.click_to_page("#import-records").await;
                assert_no_sideways_scroll(&b, "upload").await;
                b.shot("upload").await;
                b.find("#import-file").await.send_keys(&file).await.unwrap();
                b.click_to_page("#import-upload-button").await;
                assert!(b.exists("#import-columns").await);
                assert_no_sideways_scroll(&b, "mapping").await;
                b.shot("mapping").await;
                // Changing a column previews again (our script submits the form).
                b.mark_page().await;
                b.js("var s = document.getElementById('map-3'); s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true})); return 1;").await;
                b.wait_new_page().await;
                assert_eq!(b.value("#map-3").await, "");
                b.shot_at("#import-preview", "preview").await;
                assert_no_sideways_scroll(&b, "preview").await;
                // 生日 is a date column: say it writes month/day/year.
                assert_eq!(b.value("#date-5").await, "");
                b.mark_page().await;
                b.js("var s = document.getElementById('date-5'); s.value = '%m/%d/%Y'; s.dispatchEvent(new Event('change', {bubbles: true})); return 1;").await;
                b.wait_new_page().await;
                assert_eq!(b.value("#date-5").await, "%m/%d/%Y");
                b.shot_at("#date-5", "date-format").await;
                assert_no_sideways_scroll(&b, "date format").await;
                b.click_to_page("#import-start").await;
                assert!(b.exists("#import-progress").await);
                let started = if lang == "zh" { "导入已开始" } else { "Import started" };
                b.wait_text("#notice", started).await;
                assert!(b.exists("#import-stop-button").await);
                assert_no_sideways_scroll(&b, "queued").await;
                b.shot("queued").await;
                guanxi_core::jobs::runner::Runner::new(core.clone(), guanxi_web::jobs(core.db.backend()))
                    .run_due()
                    .await
                    .unwrap();
                let done = if lang == "zh" { "已完成" } else { "Done" };
                b.wait_text("#import-status", done).await;
                // The script says how it ended, then shows the ended run's page (its links),
                // which says the same, not "started".
                let ended = if lang == "zh" { "导入完成：新建 2" } else { "Import finished: 2 created" };
                b.wait_text("#notice", ended).await;
                b.until("the ended run's page", || async {
                    (!b.path().await.contains('?')).then_some(())
                })
                .await;
                b.wait_text("#notice", ended).await;
                assert!(!b.text("#notice").await.contains(started));
                assert!(!b.exists("#import-stop-button").await);
                assert!(b.exists("#import-errors-link").await);
                assert_no_sideways_scroll(&b, "run").await;
                b.shot("done").await;
                b.goto("/imports").await;
                assert_no_sideways_scroll(&b, "history").await;
                b.shot("history").await;
            })
            .await;
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Stopping an import from its page (confirmed), the page following it to "stopped" with its
/// counts; and an account's external id apart, under Other information, on its page and form.
#[tokio::test]
async fn an_import_is_stopped_and_the_external_id_sits_apart_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let mut n = 0;
    for lang in ["zh", "en"] {
        let locale = if lang == "zh" { "zh-CN" } else { "en" };
        let rep = app.user_in("sales", Some("East"), locale).await;
        for width in [1400u32, 390] {
            n += 1;
            let account = rep
                .create(
                    "accounts",
                    serde_json::json!({"name": format!("杭州云栖科技有限公司{n}"), "kind": "company",
                                       "external_id": format!("ERP-2026-{n:04}")}),
                )
                .await;
            let account_id = account["id"].as_str().unwrap().to_string();
            let csv = format!("姓名,电子邮箱\r\n周杰{n},zhou{n}@example.com\r\n");
            let path = std::env::temp_dir()
                .join(format!("停止-{n}-{}.csv", uuid::Uuid::now_v7().simple()));
            std::fs::write(&path, csv).unwrap();
            let file = path.display().to_string();
            let core = app.core.clone();
            let who = rep.email.clone();
            run(
                &driver,
                &app.base,
                &format!("import-stop-{lang}-{width}"),
                lang,
                |b| async move {
                    b.window(width, 900).await;
                    b.goto("/login").await;
                    b.fill("#email", &who).await;
                    b.fill("#password", PASSWORD).await;
                    b.click_to_page("#login-submit").await;

                    b.goto(&format!("/accounts/{account_id}")).await;
                    let other = if lang == "zh" {
                        "其他信息"
                    } else {
                        "Other information"
                    };
                    b.wait_text("#fields .field-section", other).await;
                    assert!(
                        b.text("#fields")
                            .await
                            .contains(&format!("ERP-2026-{n:04}"))
                    );
                    assert_no_sideways_scroll(&b, "account").await;
                    b.shot_at("#fields .field-section", "account-other").await;
                    b.goto(&format!("/accounts/{account_id}/edit")).await;
                    b.wait_text("#group-other legend", other).await;
                    assert_no_sideways_scroll(&b, "account form").await;
                    b.shot_at("#group-other", "account-form-other").await;

                    b.goto("/contacts/import").await;
                    b.find("#import-file").await.send_keys(&file).await.unwrap();
                    b.click_to_page("#import-upload-button").await;
                    b.click_to_page("#import-start").await;
                    let asked = b.click_confirm("#import-stop-button", true).await;
                    let confirm = if lang == "zh" {
                        "确定停止本次导入吗"
                    } else {
                        "Stop this import?"
                    };
                    assert!(asked.contains(confirm), "{asked}");
                    let stopping = if lang == "zh" {
                        "正在停止导入"
                    } else {
                        "Stopping the import"
                    };
                    b.wait_text("#notice", stopping).await;
                    assert!(!b.exists("#import-stop-button").await);
                    assert_no_sideways_scroll(&b, "stopping").await;
                    b.shot("stopping").await;
                    guanxi_core::jobs::runner::Runner::new(
                        core.clone(),
                        guanxi_web::jobs(core.db.backend()),
                    )
                    .run_due()
                    .await
                    .unwrap();
                    let stopped = if lang == "zh" {
                        "已停止：新建 0"
                    } else {
                        "Stopped: 0 created"
                    };
                    b.until("the stopped run's page", || async {
                        (!b.path().await.contains('?')).then_some(())
                    })
                    .await;
                    b.wait_text("#notice", stopped).await;
                    let status = if lang == "zh" { "已停止" } else { "Stopped" };
                    b.wait_text("#import-status", status).await;
                    assert_no_sideways_scroll(&b, "stopped").await;
                    b.shot("stopped").await;
                },
            )
            .await;
            let _ = std::fs::remove_file(&path);
        }
    }
}
