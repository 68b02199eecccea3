//! A scheduled backup that fails tells administrators in their bell, in their language, and the
//! notice reads well on a wide screen and on a phone.

use super::driver::{driver_url, run};
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::support::{Backend, PASSWORD, spawn};

#[tokio::test]
async fn a_failed_scheduled_backup_shows_in_the_administrators_bell_in_chromium() {
    use guanxi_core::backups::BackupSchedule;
    use guanxi_core::jobs::{Handlers, runner::Runner};
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let zh = app.user_in("admin", None, "zh-CN").await;
    let en = app.user_in("admin", None, "en").await;
    // The configured directory sits where a file is: it cannot be made.
    let blocked =
        std::env::temp_dir().join(format!("guanxi-blocked-{}", uuid::Uuid::now_v7().simple()));
    std::fs::write(&blocked, "a file").unwrap();
    let schedule = BackupSchedule {
        dir: blocked.join("nightly"),
        every_hours: 24,
        keep: 14,
    };
    let pass = Runner::new(app.core.clone(), schedule.register(Handlers::default()))
        .run_due()
        .await
        .unwrap();
    assert_eq!(pass.failed, 1);
    let _ = std::fs::remove_file(&blocked);

    for (who, lang, want, why) in [
        (
            zh.email.clone(),
            "zh-CN",
            "定时备份到 ",
            "无法创建该目录或在其中写入文件",
        ),
        (
            en.email.clone(),
            "en",
            "Scheduled backup to ",
            "cannot be created",
        ),
    ] {
        run(
            &driver,
            &app.base,
            &format!("backup-notice-{lang}"),
            lang,
            |b| async move {
                b.goto("/login").await;
                b.fill("#email", &who).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                for width in [1400u32, 390] {
                    b.window(width, 900).await;
                    b.goto("/notifications").await;
                    let texts = b.texts("#notifications .notice-text").await;
                    assert!(texts[0].starts_with(want), "{texts:?}");
                    assert!(texts[0].contains("nightly"), "{texts:?}");
                    assert!(texts[0].contains(why), "{texts:?}");
                    assert_no_sideways_scroll(&b, "notifications").await;
                    assert_accessible(&b, "notifications").await;
                    b.shot(&format!("notifications-{lang}-{width}")).await;
                }
            },
        )
        .await;
    }
}
