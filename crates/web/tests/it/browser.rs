//! Browser tests: the UI in real Chromium through chromedriver (DESIGN.md section 9), on
//! SQLite. They run when `GUANXI_TEST_CHROMEDRIVER` is set, are skipped with a note otherwise,
//! and fail under `CI=true` without it.
//!
//! Each test is a user's story told through clicks and typing, checking what the pages show.

// Test helpers fail the test on anything unexpected, like the tests themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod activity_form;
mod backup_notice;
mod board;
mod calendar;
mod driver;
mod home;
mod import_wizard;
mod insights;
mod shell;
mod timeline;

use driver::{Browser, driver_url, run};

use crate::support::{Backend, PASSWORD, spawn};

const NAME: &str = "杭州星辰智能科技有限公司";
const SCRIPT: &str = "<script>alert(1)</script>";

/// The label of a link in the navigation column.
async fn nav(b: &Browser, href: &str) -> String {
    b.text(&format!("#sidebar a[href=\"{href}\"]")).await
}

/// Logs in through the form, expects to land on the home page, and opens the accounts list,
/// where the stories start.
async fn login(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click_to_page("#login-submit").await;
    assert_eq!(b.path().await, "/", "after logging in");
    assert!(b.exists("#home-greeting").await, "the home page");
    b.click_to_page("#sidebar a[href=\"/accounts\"]").await;
}

/// Picks `name` in the `nth` choice (0 province, 1 city, 2 district) of the billing address,
/// once the list it waits on has loaded, as a person picks from the dropdown.
async fn choose_division(b: &Browser, nth: usize, name: &str) {
    let script = format!(
        "var s = document.querySelectorAll('[data-field=\"f.billing_address\"] select.division')[{nth}];\
         if (!s) {{ return false; }}\
         var o = Array.from(s.options).find(o => o.textContent === {name:?});\
         if (!o) {{ return false; }}\
         s.value = o.value; s.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    );
    b.until(&format!("{name} to be offered"), || async {
        (b.js(&script).await == serde_json::Value::Bool(true)).then_some(())
    })
    .await;
}

/// The record id at the end of a detail page's path.
async fn record_id(b: &Browser, plural: &str) -> String {
    let path = b.path().await;
    let path = path.split('?').next().unwrap_or_default().to_string();
    let id = path
        .strip_prefix(&format!("/{plural}/"))
        .unwrap_or_else(|| panic!("expected a {plural} detail page, at {path}"));
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "not a record page: {path}"
    );
    id.to_string()
}

#[tokio::test]
async fn login_and_language_switch_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let user = app.user("sales", Some("East")).await;
    let email = user.email.clone();

    // A browser that prefers Chinese; the user's own setting is English.
    run(
        &driver,
        &app.base,
        "login-language",
        "zh-CN",
        |b| async move {
            // Not logged in: sent to the login page, which follows Accept-Language.
            b.goto("/accounts").await;
            assert!(
                b.path().await.starts_with("/login?next="),
                "{}",
                b.path().await
            );
            assert_eq!(b.js("return document.documentElement.lang;").await, "zh-CN");
            assert_eq!(b.text("h2").await, "登录");
            assert_eq!(b.text("#login-submit").await, "登录");
            b.shot("login-zh").await;

            // A wrong password shows the error (in the login page's language) and keeps the e-mail.
            b.fill("#email", &email).await;
            b.fill("#password", "not the password").await;
            b.click_to_page("#login-submit").await;
            assert_eq!(b.text("#login-error").await, "邮箱或密码错误。");
            assert_eq!(b.value("#email").await, email);
            assert!(
                !b.exists("header.top").await,
                "no navigation before logging in"
            );
            b.shot("login-failed-zh").await;

            // The right one goes on to the page asked for, in the user's stored language.
            b.fill("#password", PASSWORD).await;
            b.click_to_page("#login-submit").await;
            assert_eq!(b.path().await, "/accounts");
            assert_eq!(nav(&b, "/accounts").await, "Accounts");
            assert_eq!(b.text("main h1").await, "Accounts 0 records");
            b.shot("accounts-en").await;

            // Switching to Chinese keeps the page and translates it.
            b.goto("/contacts").await;
            b.click_to_page("#lang-zh").await;
            assert!(
                b.path().await.starts_with("/contacts"),
                "{}",
                b.path().await
            );
            assert_eq!(nav(&b, "/accounts").await, "客户");
            assert_eq!(nav(&b, "/contacts").await, "联系人");
            assert_eq!(b.js("return document.documentElement.lang;").await, "zh-CN");
            let placeholder = b.find("#global-search").await.attr("placeholder").await;
            assert_eq!(
                placeholder.unwrap().as_deref(),
                Some("搜索名称、拼音、电话、邮箱…")
            );
            b.shot("contacts-zh").await;

            // It is stored: it survives a reload, other pages, and logging out and in again.
            b.reload().await;
            assert_eq!(nav(&b, "/accounts").await, "客户");
            b.click_to_page("#sidebar a[href=\"/accounts\"]").await;
            assert_eq!(nav(&b, "/recycle-bin").await, "回收站");
            b.click_to_page("#logout").await;
            assert!(b.path().await.starts_with("/login"), "{}", b.path().await);
            login(&b, &email).await;
            assert_eq!(nav(&b, "/accounts").await, "客户");
            b.shot("accounts-zh").await;

            // And back to English.
            b.click_to_page("#lang-en").await;
            assert!(
                b.path().await.starts_with("/accounts"),
                "{}",
                b.path().await
            );
            assert_eq!(nav(&b, "/accounts").await, "Accounts");
            assert_eq!(
                b.js("return document.getElementById('menu-settings').textContent;")
                    .await,
                "Settings"
            );
            b.click_to_page("#logout").await;
        },
    )
    .await;

    // A browser that prefers English gets the login page in English.
    let email = user.email.clone();
    run(&driver, &app.base, "login-en", "en", |b| async move {
        b.goto("/login").await;
        assert_eq!(b.js("return document.documentElement.lang;").await, "en");
        assert_eq!(b.text("h2").await, "Log in");
        b.fill("#email", &email).await;
        b.fill("#password", "wrong").await;
        b.click_to_page("#login-submit").await;
        assert_eq!(b.text("#login-error").await, "Wrong e-mail or password.");
        b.shot("login-failed-en").await;
    })
    .await;
}

#[tokio::test]
async fn account_story_in_chinese_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let user = app.user("sales", Some("East")).await;
    let email = user.email.clone();
    let admin = app.user("admin", None).await;
    for (en, zh) in [
        ("Software", "软件"),
        ("Artificial intelligence", "人工智能"),
    ] {
        admin
            .create(
                "industries",
                serde_json::json!({"name": {"en": en, "zh-CN": zh}}),
            )
            .await;
    }

    run(
        &driver,
        &app.base,
        "account-story",
        "zh-CN",
        |b| async move {
            login(&b, &email).await;
            b.click_to_page("#lang-zh").await;
            assert_eq!(nav(&b, "/accounts").await, "客户");

            // A new account: the form opens with the company kind preset.
            b.click_to_page("#new-record").await;
            assert_eq!(b.path().await, "/accounts/new");
            assert_eq!(b.text("main h1").await, "新建客户");
            assert_eq!(b.value("[name=\"f.kind\"]").await, "company");

            // Name left empty and a phone that is not one: inline errors in Chinese, input kept.
            b.field("phones.0.number", "12").await;
            // China's address: province, then city, each picked from the national list.
            choose_division(&b, 0, "浙江省").await;
            choose_division(&b, 1, "杭州市").await;
            pick(&b, "industry_id", "软件").await;
            b.click_to_page("#save-record").await;
            assert_eq!(b.text("#form-errors").await, "请更正下面标出的字段。");
            assert_eq!(b.field_error("name").await.as_deref(), Some("必填"));
            let phone_err = b
                .field_error("phones")
                .await
                .expect("an error on the phones");
            assert_eq!(phone_err, "第 1 项：电话号码“12”无效");
            assert_eq!(b.field_error("industry_id").await, None);
            assert_eq!(b.value("[name=\"f.phones.0.number\"]").await, "12");
            assert_eq!(picked(&b, "industry_id").await, "软件");
            assert_eq!(
                b.value("[name=\"f.billing_address.province\"]").await,
                "浙江省"
            );
            b.shot("account-form-errors-zh").await;

            // Fixed: saved, and the detail page shows it.
            b.field("name", NAME).await;
            b.field("phones.0.number", "0571-8888 6666").await;
            b.click_to_page("#save-record").await;
            let id = record_id(&b, "accounts").await;
            assert_eq!(b.text("#record-title").await, NAME);
            assert_eq!(
                b.text("#notice").await,
                "✓ 已创建",
                "feedback after creating"
            );
            let fields = b.text("#fields").await;
            for want in ["浙江省", "杭州市", "软件", "8888"] {
                assert!(
                    fields.contains(want),
                    "{want} missing from the fields: {fields}"
                );
            }
            b.shot("account-detail-zh").await;

            // It is in the list.
            b.click_to_page("#sidebar a[href=\"/accounts\"]").await;
            assert!(b.text("#records").await.contains(NAME));
            b.shot("accounts-list-zh").await;

            // The global search box finds it by pinyin, initials, a Chinese substring and phone.
            for q in ["xingchen", "hzxc", "星辰", "88886666"] {
                b.search(q).await;
                let hits = b.text("#search-results").await;
                assert!(hits.contains(NAME), "search {q}: {hits}");
                assert!(
                    b.exists(&format!("#search-results a[href=\"/accounts/{id}\"]"))
                        .await,
                    "search {q} links to the account"
                );
                assert_eq!(b.value("#global-search").await, q);
                if q == "xingchen" {
                    b.shot("search-pinyin-zh").await;
                }
            }
            b.search("meiyouzhegekehu").await;
            assert!(b.exists("#search-empty").await);

            // Open it from the results and edit the industry.
            b.search("xingchen").await;
            b.click_to_page(&format!("#search-results a[href=\"/accounts/{id}\"]"))
                .await;
            assert_eq!(b.text("#record-title").await, NAME);
            b.click_to_page("#edit-record").await;
            assert_eq!(b.text("main h1").await, "编辑客户");
            assert_eq!(b.value("[name=\"f.name\"]").await, NAME);
            assert_eq!(picked(&b, "industry_id").await, "软件");
            pick(&b, "industry_id", "人工智能").await;
            b.shot("account-edit-zh").await;
            b.click_to_page("#save-record").await;
            assert_eq!(b.path().await, format!("/accounts/{id}?done=update"));
            assert_eq!(b.text("#notice").await, "✓ 已保存", "feedback after saving");
            assert!(b.text("#fields").await.contains("人工智能"));

            // The history tab shows who changed which field from what to what.
            b.click_to_page("#tab-history").await;
            let entries = b.texts("#history .history-entry header").await;
            assert_eq!(entries.len(), 2, "{entries:?}");
            assert!(entries[0].starts_with("修改 · sales user"), "{entries:?}");
            assert!(entries[1].starts_with("创建 · sales user"), "{entries:?}");
            let change = b
                .texts("#history .history-entry:first-child .changes tbody td")
                .await;
            assert_eq!(change, ["行业", "软件", "人工智能"]);
            b.shot("account-history-zh").await;

            // Delete: cancelling the confirm keeps it, accepting moves it to the recycle bin.
            b.click_to_page("#tab-details").await;
            let asked = b.click_confirm("#delete-record", false).await;
            assert_eq!(asked, "移到回收站？");
            assert_eq!(b.path().await, format!("/accounts/{id}"));
            assert!(
                b.exists("#delete-record").await,
                "still there after cancelling"
            );
            b.click_confirm("#delete-record", true).await;
            assert!(b.path().await.starts_with("/accounts?done=delete"));
            // Said, with an undo that brings it back; undone and deleted again here.
            assert_eq!(b.text("#notice span").await, "✓ 已移到回收站。");
            b.click_to_page("#undo").await;
            assert_eq!(b.path().await, format!("/accounts/{id}?done=restore"));
            assert_eq!(b.text("#notice span").await, "✓ 已恢复。");
            b.click_confirm("#delete-record", true).await;
            assert!(!b.text("main").await.contains(NAME), "gone from the list");
            assert!(b.exists("p.empty").await);
            b.search("xingchen").await;
            assert!(
                b.exists("#search-empty").await,
                "deleted records are not found"
            );

            b.click_to_page("#sidebar a[href=\"/recycle-bin\"]").await;
            assert_eq!(b.text("main h1").await, "回收站");
            let row = b.text("#bin tbody tr").await;
            assert!(row.contains(NAME) && row.contains("客户"), "{row}");
            assert!(row.contains("sales user"), "deleted by: {row}");
            b.shot("recycle-bin-zh").await;

            // Restore: back on its page, in the list and out of the bin.
            b.click_to_page(&format!("form[action=\"/accounts/{id}/restore\"] button"))
                .await;
            assert_eq!(b.path().await, format!("/accounts/{id}?done=restore"));
            assert_eq!(b.text("#record-title").await, NAME);
            assert!(!b.exists("#deleted-notice").await);
            b.click_to_page("#sidebar a[href=\"/accounts\"]").await;
            assert!(b.text("#records").await.contains(NAME), "back in the list");
            b.goto("/recycle-bin").await;
            assert_eq!(b.text("main p").await, "回收站是空的。");

            // A contact created from the account's page has the account preset and shows on it.
            b.goto(&format!("/accounts/{id}")).await;
            b.click_to_page("#related-contacts-account_id h2 a.button")
                .await;
            assert_eq!(b.path().await, format!("/contacts/new?account_id={id}"));
            assert_eq!(b.value("[name=\"f.account_id\"]").await, id);
            assert_eq!(b.value(".ref .ref-search").await, NAME);
            b.field("family_name", "王").await;
            b.field("given_name", "芳").await;
            b.field("title", "采购经理").await;
            b.field("phones.0.number", "138 1234 5678").await;
            b.shot("contact-form-zh").await;
            b.click_to_page("#save-record").await;
            record_id(&b, "contacts").await;
            assert_eq!(b.text("#record-title").await, "王芳");
            b.click_to_page(&format!("#fields a[href=\"/accounts/{id}\"]"))
                .await;
            let related = b.text("#related-contacts-account_id").await;
            assert!(
                related.contains("王芳") && related.contains("采购经理"),
                "{related}"
            );
            b.shot_at("#related-contacts-account_id", "account-with-contact-zh")
                .await;
        },
    )
    .await;
}

#[tokio::test]
async fn script_names_render_as_text_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let user = app.user("sales", Some("East")).await;
    let email = user.email.clone();

    run(&driver, &app.base, "script-name", "en", |b| async move {
        login(&b, &email).await;
        assert_eq!(nav(&b, "/accounts").await, "Accounts");

        b.click_to_page("#new-record").await;
        b.field("name", SCRIPT).await;
        b.click_to_page("#save-record").await;
        let id = record_id(&b, "accounts").await;
        assert!(!b.alert_open().await, "a name ran as a script");
        assert_eq!(b.text("#record-title").await, SCRIPT);
        assert!(b.c.title().await.unwrap().starts_with(SCRIPT));
        let inline = b
            .js("return Array.from(document.scripts).filter(s => !s.src).length;")
            .await;
        assert_eq!(inline, 0, "no inline script on the page");
        b.shot("script-name-detail").await;

        for path in ["/accounts".to_string(), "/search?q=script".to_string()] {
            b.goto(&path).await;
            assert!(!b.alert_open().await, "{path} ran the name");
            let link = b.text(&format!("main a[href=\"/accounts/{id}\"]")).await;
            assert_eq!(link, SCRIPT, "{path}");
        }
        b.shot("script-name-search").await;

        // A contact form in English: its inline validation speaks English, and the account
        // picker finds the account by typing.
        b.goto("/contacts/new").await;
        assert_eq!(b.text("main h1").await, "New Contact");
        b.click_to_page("#save-record").await;
        assert_eq!(
            b.text("#form-errors").await,
            "Please correct the fields marked below."
        );
        let errors = b.texts(".field-error").await;
        assert!(
            errors
                .iter()
                .any(|e| e == "Give a family name or a given name"),
            "{errors:?}"
        );
        b.shot("contact-form-errors-en").await;
        b.field("family_name", "Smith").await;
        b.field("given_name", "Anna").await;
        b.fill(".ref .ref-search", "scrip").await;
        let pick = ".ref .ref-results button";
        b.wait_text(pick, SCRIPT).await;
        assert!(!b.alert_open().await);
        b.find(pick).await.click().await.expect("pick the account");
        assert_eq!(b.value("[name=\"f.account_id\"]").await, id);
        b.click_to_page("#save-record").await;
        record_id(&b, "contacts").await;
        assert_eq!(b.text("#record-title").await, "Anna Smith");
        assert_eq!(
            b.text(&format!("#fields a[href=\"/accounts/{id}\"]")).await,
            SCRIPT
        );
        b.click_to_page(&format!("#fields a[href=\"/accounts/{id}\"]"))
            .await;
        assert!(
            b.text("#related-contacts-account_id")
                .await
                .contains("Anna Smith")
        );
        assert!(!b.alert_open().await);
        b.shot_at("#related-contacts-account_id", "script-name-with-contact")
            .await;
    })
    .await;
}

#[tokio::test]
async fn opportunity_closes_and_reopens_in_chinese_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    let user = app.user("sales", Some("East")).await;
    admin
        .create(
            "pipelines",
            serde_json::json!({"name": {"en": "New business", "zh-CN": "新客户销售"},
                "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await;
    let pipeline = admin.get_r("/api/v1/pipelines").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reason = admin
        .create(
            "lost_reasons",
            serde_json::json!({"name": {"en": "Price", "zh-CN": "价格太高"}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account = user
        .create(
            "accounts",
            serde_json::json!({"kind": "company", "name": NAME}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let opp = user
        .create(
            "opportunities",
            serde_json::json!({"name": "星辰 CRM 实施", "account_id": account,
                "pipeline_id": pipeline, "amount": "80000"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let email = user.email.clone();

    run(
        &driver,
        &app.base,
        "opportunity-story",
        "zh-CN",
        |b| async move {
            login(&b, &email).await;
            b.click_to_page("#lang-zh").await;
            b.goto(&format!("/opportunities/{opp}")).await;
            let fields = b.text("#fields").await;
            assert!(fields.contains("初步接洽"), "the stage by name: {fields}");
            assert!(fields.contains("进行中"), "the status: {fields}");

            // Close lost without a reason (the browser's own check taken away): the page says
            // what is missing, in Chinese, and nothing changes.
            b.find("#action-close_lost summary").await.click().await.unwrap();
            b.js("document.querySelector('#action-close_lost select').removeAttribute('required'); return null;")
                .await;
            b.click_to_page("#do-close_lost").await;
            let problems = b.text("#problems").await;
            assert!(problems.contains("输单原因"), "names the field: {problems}");
            assert!(problems.contains("必填"), "in Chinese: {problems}");
            assert!(b.text("#fields").await.contains("进行中"));

            // With a reason: lost, and the page says so.
            b.find("#action-close_lost summary").await.click().await.unwrap();
            b.js(&format!(
                "document.querySelector('#action-close_lost select').value = '{reason}'; return null;"
            ))
            .await;
            b.shot("opportunity-close-lost-panel-zh").await;
            b.click_to_page("#do-close_lost").await;
            assert_eq!(b.text("#notice").await, "✓ 已输单");
            let fields = b.text("#fields").await;
            assert!(fields.contains("输单") && fields.contains("价格太高"), "{fields}");
            assert!(!b.exists("#action-close_won").await, "a lost deal is reopened first");

            // Reopened at the first open stage.
            b.find("#action-reopen summary").await.click().await.unwrap();
            b.click_to_page("#do-reopen").await;
            assert_eq!(b.text("#notice").await, "✓ 已重新打开");
            let fields = b.text("#fields").await;
            assert!(fields.contains("初步接洽") && fields.contains("进行中"), "{fields}");
            let history = b.text("#lines-stage_history").await;
            assert!(history.contains("输单") && history.contains("停留时长"), "{history}");
            b.shot("opportunity-reopened-zh").await;
        },
    )
    .await;
}

#[tokio::test]
async fn an_admin_edits_a_pipelines_stages_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    let pipeline = admin
        .create(
            "pipelines",
            serde_json::json!({"name": {"en": "New business", "zh-CN": "新客户销售"},
                "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let email = admin.email.clone();

    run(
        &driver,
        &app.base,
        "pipeline-edit",
        "zh-CN",
        |b| async move {
            login(&b, &email).await;
            b.click_to_page("#lang-zh").await;
            // Saved as it is: nothing is lost, names per language and required fields included.
            b.goto(&format!("/pipelines/{pipeline}/edit")).await;
            assert_eq!(
                b.value("[name=\"f.stages.2.name.zh-CN\"]").await,
                "方案报价"
            );
            b.click_to_page("#save-record").await;
            assert_eq!(b.text("#notice").await, "✓ 已保存");
            let stages = b.text("#lines-stages").await;
            for want in ["初步接洽", "方案报价", "谈判审核", "赢单", "输单", "80%"]
            {
                assert!(stages.contains(want), "{want} kept: {stages}");
            }

            // Renamed in Chinese and a stage added in an empty row.
            b.goto(&format!("/pipelines/{pipeline}/edit")).await;
            b.field("stages.1.name.zh-CN", "需求调研").await;
            b.field("stages.6.name.en", "Contract").await;
            b.field("stages.6.name.zh-CN", "合同签订").await;
            b.js(
                "document.querySelector('[name=\"f.stages.6.kind\"]').value = 'open'; return null;",
            )
            .await;
            b.field("stages.6.probability", "90").await;
            b.shot("pipeline-edit-zh").await;
            b.click_to_page("#save-record").await;
            assert_eq!(b.text("#notice").await, "✓ 已保存");
            let stages = b.text("#lines-stages").await;
            assert!(
                stages.contains("需求调研") && stages.contains("合同签订"),
                "{stages}"
            );
            assert!(!stages.contains("需求确认"), "renamed: {stages}");
        },
    )
    .await;
}

/// Chooses the option shown as `label` in the form's select for field `name`.
async fn pick(b: &Browser, name: &str, label: &str) {
    let chosen = b
        .js(&format!(
            "const s = document.querySelector('[name=\"f.{name}\"]'); \
             const o = [...s.options].find(o => o.text.trim() === {label:?}); \
             if (!o) return null; s.value = o.value; return o.value;"
        ))
        .await;
    assert!(chosen.is_string(), "no option {label} for {name}");
}

/// The label of the option chosen in the form's select for field `name`.
async fn picked(b: &Browser, name: &str) -> String {
    b.js(&format!(
        "const s = document.querySelector('[name=\"f.{name}\"]'); \
         return s.options[s.selectedIndex].text.trim();"
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// An administrator adds an industry, named in both languages, under Administration; a sales
/// rep picks it on an account and reads it in either language.
#[tokio::test]
async fn an_admin_adds_an_industry_and_a_rep_picks_it_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await.email.clone();
    let rep = app.user("sales", Some("East")).await.email.clone();

    run(
        &driver,
        &app.base,
        "industry-add",
        "zh-CN",
        |b| async move {
            login(&b, &admin).await;
            b.click_to_page("#lang-zh").await;
            b.goto("/admin").await;
            b.click_to_page("#setup-industries").await;
            assert_eq!(b.path().await, "/industries");
            b.click_to_page("#new-record").await;
            b.field("name.zh-CN", "新能源汽车").await;
            b.field("name.en", "New energy vehicles").await;
            b.click_to_page("#save-record").await;
            assert_eq!(b.text("#notice").await, "✓ 已创建");
            assert_eq!(b.text("#record-title").await, "新能源汽车");
            b.shot("industry-created-zh").await;
        },
    )
    .await;

    run(
        &driver,
        &app.base,
        "industry-pick",
        "zh-CN",
        |b| async move {
            login(&b, &rep).await;
            b.click_to_page("#lang-zh").await;
            // Reps read the list but do not edit it.
            b.goto("/industries").await;
            assert!(b.text("#records").await.contains("新能源汽车"));
            assert!(!b.exists("#new-record").await);
            b.goto("/accounts/new").await;
            b.field("name", "比亚迪示例汽车有限公司").await;
            pick(&b, "industry_id", "新能源汽车").await;
            b.click_to_page("#save-record").await;
            assert_eq!(b.text("#notice").await, "✓ 已创建");
            assert!(b.text("#fields").await.contains("新能源汽车"));
            let account = b.path().await;
            // The same account read in English names the industry in English.
            b.click_to_page("#lang-en").await;
            b.goto(&account).await;
            assert!(
                b.text("#fields").await.contains("New energy vehicles"),
                "{}",
                b.text("#fields").await
            );
            // Lists show its name too.
            b.goto("/accounts").await;
            assert!(b.text("#records").await.contains("New energy vehicles"));
        },
    )
    .await;
}

#[tokio::test]
async fn the_bell_counts_new_notices_without_a_reload_and_the_page_reads_them_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let user = app.user_in("sales", Some("East"), "zh-CN").await;
    let account = user
        .create(
            "accounts",
            serde_json::json!({"kind": "company", "name": NAME}),
        )
        .await;
    let account_id = uuid::Uuid::parse_str(account["id"].as_str().unwrap()).unwrap();
    let core = app.core.clone();
    let user_id = user.id;
    let remind = move |title: &'static str, about: bool| {
        let core = core.clone();
        async move {
            let txn = core.db.begin().await.unwrap();
            guanxi_core::notifications::notify(
                &core,
                &txn,
                guanxi_core::notifications::Notice {
                    user_id,
                    kind: "reminder",
                    params: serde_json::json!({"title": title}),
                    about: about.then_some(("account", account_id)),
                    visible_at: guanxi_core::now(),
                },
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        }
    };
    remind("回访星辰科技", true).await;
    remind("准备报价单", false).await;
    let email = user.email.clone();

    run(
        &driver,
        &app.base,
        "notifications",
        "zh-CN",
        |b| async move {
            login(&b, &email).await;
            b.wait_text("#bell-count", "2").await;
            assert_eq!(
                b.find("#bell")
                    .await
                    .attr("aria-label")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("通知")
            );

            // A notice written while the page is open shows on the bell without a reload.
            remind("跟进合同条款", false).await;
            b.wait_text("#bell-count", "3").await;
            b.shot("bell-3-zh").await;

            // The bell opens the list, newest first, worded in Chinese.
            b.click_to_page("#bell").await;
            assert_eq!(b.path().await, "/notifications");
            assert_eq!(b.text("main h1").await, "通知");
            let texts = b.texts("#notifications .notice-text").await;
            assert_eq!(texts.len(), 3, "{texts:?}");
            assert!(texts[0].starts_with("提醒：跟进合同条款"), "{texts:?}");
            assert!(texts[2].starts_with("提醒：回访星辰科技"), "{texts:?}");
            b.shot("notifications-zh-1400").await;
            b.window(390, 844).await;
            let overflow = b
                .js("return document.documentElement.scrollWidth > window.innerWidth;")
                .await;
            assert_eq!(
                overflow,
                serde_json::json!(false),
                "sideways scroll at 390 px"
            );
            b.shot("notifications-zh-390").await;
            b.window(1400, 900).await;

            // Mark one read: feedback, and the bell counts two.
            b.click_to_page("#notifications li:first-child button.small")
                .await;
            assert_eq!(b.text("#notice").await, "✓ 已标为已读。");
            b.wait_text("#bell-count", "2").await;

            // Opening the one about the account marks it read and shows the account.
            b.click_to_page("#notifications li:last-child button.link")
                .await;
            assert_eq!(b.path().await, format!("/accounts/{account_id}"));
            b.wait_text("#bell-count", "1").await;

            // All read: feedback, the button goes, the bell shows no number.
            b.goto("/notifications").await;
            b.click_to_page("#read-all").await;
            assert_eq!(b.text("#notice").await, "✓ 所有通知已标为已读。");
            assert!(!b.exists("#read-all").await);
            b.until("the bell to show no number", || async {
                (b.js("return document.getElementById('bell-count').hidden;")
                    .await
                    == serde_json::json!(true))
                .then_some(())
            })
            .await;

            // In English.
            b.click_to_page("#lang-en").await;
            assert_eq!(b.text("main h1").await, "Notifications");
            let texts = b.texts("#notifications .notice-text").await;
            assert!(texts[0].starts_with("Reminder: 跟进合同条款"), "{texts:?}");
            b.shot("notifications-en-1400").await;
            b.window(390, 844).await;
            b.shot("notifications-en-390").await;
        },
    )
    .await;
}

#[tokio::test]
async fn an_administrator_retries_and_drops_failed_jobs_in_chromium() {
    use guanxi_core::jobs::{self, NewJob};
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user_in("admin", None, "zh-CN").await;
    // Two jobs that failed for good, one of a kind this version has no name for, and one
    // waiting for its time.
    let txn = app.core.db.begin().await.unwrap();
    for kind in ["search_upkeep", "mystery"] {
        jobs::enqueue(&txn, NewJob::new(kind, serde_json::json!({})))
            .await
            .unwrap();
    }
    let later = guanxi_core::now() + chrono::Duration::hours(1);
    jobs::enqueue(
        &txn,
        NewJob::new("search_upkeep", serde_json::json!({})).due(later),
    )
    .await
    .unwrap();
    guanxi_core::db::raw_execute(
        &txn,
        "UPDATE jobs SET state = 'failed', attempts = 5, last_error = 'connection refused' \
         WHERE due_at < ?",
        vec![later.into()],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let email = admin.email.clone();

    run(&driver, &app.base, "admin-jobs", "zh-CN", |b| async move {
        login(&b, &email).await;
        b.goto("/admin/users").await;
        b.click_to_page("nav.tabs a[href=\"/admin/jobs\"]").await;
        assert_eq!(b.path().await, "/admin/jobs");
        assert_eq!(b.text("#jobs-waiting").await, "等待执行：1 · 正在执行：0");
        let kinds = b.texts("#failed-jobs tbody td:first-child").await;
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(sorted, ["后台任务（mystery）", "搜索索引整理"], "{kinds:?}");
        b.shot("admin-jobs-zh-1400").await;
        b.window(390, 844).await;
        let overflow = b
            .js("return document.documentElement.scrollWidth > window.innerWidth;")
            .await;
        b.shot("admin-jobs-zh-390").await;
        assert_eq!(
            overflow,
            serde_json::json!(false),
            "sideways scroll at 390 px"
        );
        b.window(1400, 900).await;

        // Try one again: feedback, and it waits with the other queued job.
        b.click_to_page("#failed-jobs tbody tr:first-child button.retry")
            .await;
        assert_eq!(b.text("#notice").await, "✓ 任务已重新排队，稍后执行。");
        assert_eq!(b.text("#jobs-waiting").await, "等待执行：2 · 正在执行：0");
        assert_eq!(b.all("#failed-jobs tbody tr").await.len(), 1);

        // Dropping asks first; dismissed, nothing changes; accepted, it is gone.
        let asked = b
            .click_confirm("#failed-jobs tbody tr:first-child button.drop", false)
            .await;
        assert_eq!(asked, "确定放弃这个任务吗？它将不再执行。");
        assert_eq!(b.all("#failed-jobs tbody tr").await.len(), 1);
        b.click_confirm("#failed-jobs tbody tr:first-child button.drop", true)
            .await;
        assert_eq!(b.text("#notice").await, "✓ 任务已放弃。");
        assert!(b.exists("#jobs-none-failed").await);

        b.click_to_page("#lang-en").await;
        assert_eq!(
            b.text("#jobs-waiting").await,
            "Waiting for their time: 2 · running now: 0"
        );
        b.shot("admin-jobs-en-1400").await;
    })
    .await;
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`), e.g. to give the page a
/// time zone of its own.
#[derive(Debug)]
struct Cdp(&'static str, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.0, "params": self.1});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// What inside `css` sticks out past the right edge of the viewport (what would make the page
/// scroll sideways), as `tag#id.class` of the outermost such elements; empty when nothing does.
async fn sticking_out(b: &Browser, css: &str) -> Vec<String> {
    let script = r#"
        var w = document.documentElement.clientWidth, out = [];
        var scope = document.querySelector(SCOPE);
        [scope].concat(Array.from(scope.querySelectorAll('*'))).forEach(function (e) {
          if (e.getBoundingClientRect().right <= w + 0.5) { return; }
          for (var p = e.parentElement; p && p !== document.body; p = p.parentElement) {
            var s = getComputedStyle(p).overflowX;
            if (s === 'auto' || s === 'scroll' || s === 'hidden') { return; }
            if (p.getBoundingClientRect().right > w + 0.5) { return; }
          }
          var cls = typeof e.className === 'string' && e.className.trim()
            ? '.' + e.className.trim().split(/\s+/).join('.') : '';
          out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls +
            ' ends at ' + Math.round(e.getBoundingClientRect().right) + ' of ' + w + ' px');
        });
        return out;"#;
    let found = b
        .js(&script.replace("SCOPE", &serde_json::json!(css).to_string()))
        .await;
    serde_json::from_value(found).expect("a list of elements")
}

/// A job runner for the test, as `guanxi serve` runs one beside the server, looking for due jobs
/// every half second until `stop` is sent.
fn job_runner(
    core: guanxi_core::Core,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    let handlers = guanxi_web::jobs(core.db.backend());
    tokio::spawn(
        guanxi_core::jobs::runner::Runner::new(core, handlers)
            .idle(std::time::Duration::from_millis(500))
            .run_until(async {
                let _ = stop.await;
            }),
    )
}

#[tokio::test]
async fn a_reminder_set_on_the_page_rings_the_bell_and_sends_one_letter_in_chromium() {
    use std::time::{Duration, Instant};
    let Some(driver) = driver_url() else { return };
    let sink = guanxi_smtp_sink::SmtpSink::start().await.unwrap();
    let app = crate::support::spawn_with(Backend::Sqlite, crate::support::mailing(&sink)).await;
    let admin = app.user("admin", None).await;
    let rep = app.user_in("sales", Some("East"), "en").await;
    let pipeline = admin
        .create(
            "pipelines",
            serde_json::json!({"name": {"en": "New business", "zh-CN": "新客户销售"},
                "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account = rep
        .create(
            "accounts",
            serde_json::json!({"kind": "company", "name": NAME}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let opp = rep
        .create(
            "opportunities",
            serde_json::json!({"name": "星辰 CRM 实施", "account_id": account,
                "pipeline_id": pipeline, "amount": "80000"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Tomorrow at 10:00 in Shanghai, the rep's zone (the instance's default): 02:00 UTC. The
    // browser is in London, which the server neither knows nor needs.
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let tomorrow =
        (chrono::Utc::now().with_timezone(&shanghai) + chrono::Duration::days(1)).date_naive();
    let expected_utc = tomorrow.and_hms_opt(2, 0, 0).unwrap().and_utc();
    let core = app.core.clone();
    let email = rep.email.clone();
    let token = rep.token.clone();
    let base = app.base.clone();
    let letters = sink.clone();

    run(&driver, &app.base, "reminders", "en", |b| async move {
        login(&b, &email).await;
        b.goto(&format!("/opportunities/{opp}")).await;
        b.c.issue_cmd(Cdp(
            "Emulation.setTimezoneOverride",
            serde_json::json!({"timezoneId": "Europe/London"}),
        ))
        .await
        .expect("a time zone for the page");
        b.reload().await;
        assert_eq!(
            b.js("return new Date(2030, 0, 1).getTimezoneOffset();")
                .await,
            serde_json::json!(0),
            "the page runs in London's time"
        );
        assert_eq!(b.text("#reminders h2").await, "Reminders");
        assert_eq!(b.text("#no-reminders").await, "No reminders set.");

        // Type tomorrow 10:00 into the date-time box as a person would, and a note. The box
        // takes the browser's own order, mm/dd/yyyy, hh:mm AM for Chromium in English.
        let at = b.find("#reminder-at").await;
        at.send_keys(&tomorrow.format("%m%d%Y").to_string())
            .await
            .expect("type the date");
        at.send_keys(&fantoccini::key::Key::Tab.to_string())
            .await
            .expect("to the time");
        at.send_keys("1000AM").await.expect("type the time");
        assert_eq!(
            b.value("#reminder-at").await,
            format!("{}T10:00", tomorrow.format("%Y-%m-%d")),
            "what the box holds"
        );
        b.fill("#reminder-note", "跟进合同条款").await;
        b.shot("reminder-form-en").await;
        b.click_to_page("#set-reminder").await;
        assert_eq!(b.path().await, format!("/opportunities/{opp}?done=remind"));
        assert_eq!(b.text("#notice").await, "✓ Reminder set.");
        let line = b.text("#reminders .reminder-list li").await;
        assert!(line.contains("跟进合同条款"), "{line}");
        // Shown in the reader's own zone, as typed; kept as the UTC instant.
        assert!(
            line.contains(&format!("{} 10:00", tomorrow.format("%Y-%m-%d"))),
            "shown in the rep's zone: {line}"
        );
        let kept = b
            .js("return document.querySelector('#reminders time').getAttribute('datetime');")
            .await;
        assert!(
            kept.as_str().is_some_and(|t| t.starts_with(
                &expected_utc.format("%Y-%m-%dT%H:%M").to_string()
            )),
            "read in the rep's zone, not the browser's: {kept}"
        );

        // Not having chosen a zone, the rep is offered the browser's on the settings page,
        // which is not saved until they save.
        b.goto("/settings").await;
        assert_eq!(b.value("#time-zone-select").await, "Europe/London");
        assert_eq!(
            b.js("return document.getElementById('time-zone-suggested').hidden;")
                .await,
            serde_json::json!(false),
            "the suggestion says where it comes from"
        );
        let me = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(me["user"]["time_zone"], "", "nothing saved by the page");
        b.goto(&format!("/opportunities/{opp}")).await;

        // The panel with a pending reminder, wide and on a phone, in English and Chinese.
        for (lang, switch) in [("en", None), ("zh", Some("#lang-zh"))] {
            if let Some(s) = switch {
                b.click_to_page(s).await;
            }
            b.window(1400, 900).await;
            b.shot_at("#reminders", &format!("reminders-{lang}-1400")).await;
            b.window(390, 844).await;
            let sideways = sticking_out(&b, "#reminders").await;
            b.shot_at("#reminders", &format!("reminders-{lang}-390")).await;
            assert!(
                sideways.is_empty(),
                "sideways scroll at 390 px ({lang}): {sideways:?}"
            );
        }
        b.window(1400, 900).await;
        assert_eq!(b.text("#reminders h2").await, "提醒");
        assert!(
            b.js("return document.getElementById('bell-count').hidden;")
                .await
                == serde_json::json!(true),
            "nothing in the bell yet"
        );

        // Its time comes a few seconds from now, with a job runner at work; the page stays
        // open (no reload) and its bell, polling every 20 seconds, shows it.
        b.js("window.__gxStayed = true; return null;").await;
        let soon = guanxi_core::now() + chrono::Duration::seconds(3);
        let txn = core.db.begin().await.unwrap();
        for sql in [
            "UPDATE notifications SET visible_at = ?",
            "UPDATE jobs SET due_at = ? WHERE kind = 'notice-email'",
        ] {
            guanxi_core::db::raw_execute(&txn, sql, vec![soon.into()])
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runner = job_runner(core.clone(), stopped);
        let start = Instant::now();
        loop {
            let shown = b
                .js("var c = document.getElementById('bell-count'); return c.hidden ? '' : c.textContent;")
                .await;
            if shown == serde_json::json!("1") {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the bell did not show the reminder within 60 s (shows {shown})"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(
            b.js("return window.__gxStayed === true;").await,
            serde_json::json!(true),
            "the page was not reloaded"
        );
        b.shot_at("#bell", "bell-rings-zh").await;

        // One letter, in the owner's language now (Chinese).
        let got = letters.wait_for(1, Duration::from_secs(30)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(());
        runner.await.unwrap();
        assert_eq!(letters.messages().len(), 1, "exactly one letter");
        assert_eq!(got[0].to, vec![email.clone()]);
        assert_eq!(
            got[0].header("Subject").as_deref(),
            Some("提醒：跟进合同条款")
        );
        // Shown, it is no longer pending on the record.
        let pending = reqwest::Client::new()
            .get(format!("{base}/api/v1/opportunities/{opp}/reminders"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(pending["data"], serde_json::json!([]));
        b.reload().await;
        assert!(b.exists("#no-reminders").await);
    })
    .await;
}
