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
                "姓名,手机,电子邮箱,职位,备注\r\n\
                 张伟{n},1380013800{n},zhang{n}@example.com,销售经理,老客户\r\n\
                 李娜{n},12,li{n}@example.com,工程师,电话有误\r\n\
                 欧阳娜娜{n},1370013700{n},ouyang{n}@example.com,,新客户\r\n"
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
                b.click_to_page("#import-start").await;
                assert!(b.exists("#import-progress").await);
                b.shot("queued").await;
                guanxi_core::jobs::runner::Runner::new(core.clone(), guanxi_web::jobs(core.db.backend()))
                    .run_due()
                    .await
                    .unwrap();
                let done = if lang == "zh" { "已完成" } else { "Done" };
                b.wait_text("#import-status", done).await;
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
