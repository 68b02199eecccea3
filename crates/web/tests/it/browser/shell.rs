//! The frame every page shares and the everyday list, in both languages, on a wide screen and a
//! phone: navigation by area, the user menu, the command palette, search as you type, the pager,
//! records as cards on a phone, messages after actions, and the error page for unknown paths.

use serde_json::json;

use super::driver::{Browser, driver_url, run};
use crate::support::{Backend, PASSWORD, spawn};

/// Fails on any control without a label and any text below AA contrast.
pub async fn assert_accessible(b: &Browser, what: &str) {
    let problems = b.accessibility_problems().await;
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

/// Fails when the page scrolls sideways (what a phone must never do).
pub async fn assert_no_sideways_scroll(b: &Browser, what: &str) {
    let (scroll, client) = (
        b.js("return document.documentElement.scrollWidth;").await,
        b.js("return document.documentElement.clientWidth;").await,
    );
    assert!(
        scroll.as_u64() <= client.as_u64(),
        "{what}: the page is {scroll} px wide in a {client} px window"
    );
}

#[tokio::test]
async fn shell_lists_and_messages_on_wide_and_phone_screens_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let zh = app.user_in("sales", Some("East"), "zh-CN").await;
    let en = app.user_in("sales", Some("East"), "en").await;
    // 120 accounts: three pages of 50, with two 张三 contacts at different companies.
    for i in 0..120 {
        zh.create(
            "accounts",
            json!({"kind": "company", "name": format!("测试客户{i:03}有限公司"), "type": "customer",
                   "phones": [{"number": format!("010 6{i:03} 1000"), "label": "work"}]}),
        )
        .await;
    }
    let first = zh
        .create(
            "accounts",
            json!({"kind": "company", "name": "北京中太数据科技有限公司"}),
        )
        .await;
    let second = zh
        .create(
            "accounts",
            json!({"kind": "company", "name": "上海星河贸易有限公司"}),
        )
        .await;
    for (acc, phone) in [(&first, "138 0013 8000"), (&second, "139 0013 9000")] {
        zh.create(
            "contacts",
            // Two people of one name at two companies: the duplicate check warns, and they are
            // saved anyway on purpose.
            json!({"family_name": "张", "given_name": "三", "account_id": acc["id"],
                   "phones": [{"number": phone, "label": "mobile"}], "allow_duplicate": true}),
        )
        .await;
    }

    let own = en
        .create(
            "accounts",
            json!({"kind": "company", "name": "Harbour Lights Trading Ltd."}),
        )
        .await;
    let pages = [
        format!("/accounts/{}", first["id"].as_str().expect("id")),
        format!("/accounts/{}", own["id"].as_str().expect("id")),
    ];
    for ((who, lang), account_page) in [(zh.email.clone(), "zh"), (en.email.clone(), "en")]
        .into_iter()
        .zip(pages)
    {
        for width in [1400u32, 390] {
            let test = format!("shell-{lang}-{width}");
            run(&driver, &app.base, &test, lang, |b| {
                let who = who.clone();
                let account_page = account_page.clone();
                async move {
                    b.window(width, 900).await;
                    // The login page has a language switch of its own, and a skip link.
                    b.goto("/login").await;
                    let other = if lang == "zh" { "#lang-en" } else { "#lang-zh" };
                    b.click_to_page(other).await;
                    let want = if lang == "zh" { "en" } else { "zh-CN" };
                    assert_eq!(b.js("return document.documentElement.lang;").await, want);
                    assert!(b.exists("a.skip[href=\"#main\"]").await);
                    assert_no_sideways_scroll(&b, "login").await;
                    assert_accessible(&b, "login").await;
                    b.fill("#email", &who).await;
                    b.fill("#password", PASSWORD).await;
                    b.click_to_page("#login-submit").await;

                    // The everyday pages: no sideways scroll, every control labelled, text
                    // readable.
                    for path in [
                        "/accounts",
                        "/accounts?add=type",
                        "/accounts?add=owner_id",
                        "/accounts/new",
                        account_page.as_str(),
                        "/contacts",
                        "/opportunities",
                        "/opportunities/new",
                        "/notifications",
                        "/recycle-bin",
                        "/search?q=%E5%BC%A0%E4%B8%89",
                        "/settings",
                        "/activities",
                        "/activities/new",
                    ] {
                        b.goto(path).await;
                        assert_no_sideways_scroll(&b, path).await;
                        assert_accessible(&b, path).await;
                    }
                    b.goto(&account_page).await;
                    b.shot("account").await;

                    // A call logged from the account's timeline: said, and on the timeline.
                    b.goto(&format!("{account_page}?tab=timeline")).await;
                    assert_no_sideways_scroll(&b, "timeline").await;
                    assert_accessible(&b, "timeline").await;
                    let subject = format!("{lang}-{width} 回访：确认报价");
                    b.fill("#quick-subject", &subject).await;
                    if width == 390 {
                        // On a phone the notes are behind "More details".
                        b.find("#quick-more").await.click().await.expect("more details");
                    }
                    b.fill("#quick-detail", "客户希望下周三前收到合同草稿").await;
                    b.click_to_page("#quick-log-save").await;
                    assert!(b.path().await.contains("done=logged"), "{}", b.path().await);
                    assert!(b.exists("#notice").await);
                    let entries = b.texts("#timeline-past li.entry").await;
                    assert!(
                        entries.iter().any(|e| e.contains(&subject)),
                        "{entries:?}"
                    );
                    assert_no_sideways_scroll(&b, "timeline with an entry").await;
                    b.shot("account-timeline").await;
                    // Filtered to notes, the call is not there; to calls, it is.
                    b.click_to_page("#timeline-kind-note").await;
                    assert!(!b.text("#timeline").await.contains(&subject));
                    b.click_to_page("#timeline-kind-call").await;
                    assert!(b.text("#timeline").await.contains(&subject));
                    // Nothing typed is refused on the page, in the user's language.
                    b.click_to_page("#quick-log-save").await;
                    let refusal = b.text("#problems").await;
                    let want = if lang == "zh" { "主题" } else { "Subject" };
                    assert!(refusal.contains(want), "{refusal}");
                    b.goto(&account_page).await;

                    // One field edited in place: saved alone, said, and shown.
                    let note = format!("{lang}-{width} 的备注");
                    b.js("document.querySelector('dd[data-edit=\"description\"] .edit-in-place').click(); return true;").await;
                    b.until("the field's box", || async {
                        b.exists("dd[data-edit=\"description\"] form.edit-here textarea").await.then_some(())
                    })
                    .await;
                    b.fill("dd[data-edit=\"description\"] form.edit-here textarea", &note).await;
                    b.click_to_page("dd[data-edit=\"description\"] form.edit-here button.primary").await;
                    assert!(b.path().await.ends_with("?done=update"), "{}", b.path().await);
                    assert_eq!(b.text("dd[data-edit=\"description\"] .value").await, note);
                    assert!(b.exists("#notice").await);
                    // A wrong value is refused beside the field, in the user's language.
                    b.js("document.querySelector('dd[data-edit=\"employees\"] .edit-in-place').click(); return true;").await;
                    b.until("the field's box", || async {
                        b.exists("dd[data-edit=\"employees\"] form.edit-here input").await.then_some(())
                    })
                    .await;
                    b.fill("dd[data-edit=\"employees\"] form.edit-here input", "-5").await;
                    b.js("document.querySelector('dd[data-edit=\"employees\"] form.edit-here button.primary').click(); return true;").await;
                    let refusal = b
                        .until("the refusal", || async {
                            let t = b.text("dd[data-edit=\"employees\"] .field-error").await;
                            (!t.is_empty()).then_some(t)
                        })
                        .await;
                    let want = if lang == "zh" { "员工人数" } else { "Employees" };
                    assert!(refusal.contains(want), "{refusal}");

                    // The list: its range, three pages of 50 with the current one marked.
                    b.goto("/accounts").await;
                    let range = b.text("#page-range").await;
                    let want = if lang == "zh" {
                        "第 1–50 条，共 123 条"
                    } else {
                        "1–50 of 123"
                    };
                    assert_eq!(range, want);
                    assert_eq!(b.text(".pager .num.on").await, "1");
                    assert_no_sideways_scroll(&b, "accounts list").await;
                    b.shot("accounts").await;
                    b.click_to_page(".pager a.num").await;
                    let want = if lang == "zh" {
                        "第 51–100 条，共 123 条"
                    } else {
                        "51–100 of 123"
                    };
                    assert_eq!(b.text("#page-range").await, want);
                    b.click_to_page("#next-page").await;
                    let want = if lang == "zh" {
                        "第 101–123 条，共 123 条"
                    } else {
                        "101–123 of 123"
                    };
                    assert_eq!(b.text("#page-range").await, want);
                    assert!(!b.exists("#next-page").await, "the last page has no next");
                    b.click_to_page("#prev-page").await;
                    assert_eq!(b.text(".pager .num.on").await, "2");
                    b.click_to_page("#first-page").await;
                    assert_eq!(b.text(".pager .num.on").await, "1");
                    // 20 a page.
                    b.click_to_page(".pager .sizes a[href$=\"size=20\"]").await;
                    assert_eq!(b.all("#records tbody tr").await.len(), 20);

                    if width == 390 {
                        // A phone shows records as cards: no header row, each cell labelled.
                        assert_eq!(
                            b.js("return getComputedStyle(document.querySelector('#records thead')).display;").await,
                            "none"
                        );
                        // The drawer opens from the menu button and takes the reader to a list.
                        b.click_to_page("#sidebar a[href=\"/contacts\"]").await;
                        assert_eq!(b.path().await, "/contacts");
                    }

                    // Search as you type tells the two 张三 apart by company and phone.
                    b.goto("/accounts").await;
                    b.fill("#global-search", "张三").await;
                    let hints = b
                        .until("two suggestions with their companies", || async {
                            let t = b.texts("#search-suggest a .sub").await;
                            (t.len() == 2).then_some(t)
                        })
                        .await;
                    assert!(hints.iter().any(|h| h.contains("北京中太数据科技有限公司") && h.contains("138 0013 8000")), "{hints:?}");
                    assert!(hints.iter().any(|h| h.contains("上海星河贸易有限公司")), "{hints:?}");
                    b.shot("suggest").await;

                    // The palette: Ctrl-K, type, Enter.
                    b.goto("/accounts").await;
                    b.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'k', ctrlKey: true})); return true;").await;
                    assert_eq!(b.js("return document.getElementById('palette').open;").await, true);
                    let new_word = if lang == "zh" { "新建联系人" } else { "New Contact" };
                    b.fill("#palette-input", new_word).await;
                    b.until("the palette to offer it", || async {
                        b.text("#palette-list a.active").await.contains(new_word).then_some(())
                    })
                    .await;
                    b.mark_page().await;
                    b.js("document.getElementById('palette-input').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'})); return true;").await;
                    b.wait_new_page().await;
                    assert_eq!(b.path().await, "/contacts/new");

                    // An unknown address is a page in the user's language, not JSON.
                    b.goto("/no/such/page").await;
                    let want = if lang == "zh" { "没有这个页面" } else { "There is no such page" };
                    assert!(b.text("#error-message").await.starts_with(want));
                    assert!(b.exists("#sidebar").await, "framed as every page");
                    assert_no_sideways_scroll(&b, "error page").await;

                    // The user menu holds settings, the language and logging out.
                    b.goto("/accounts").await;
                    b.click_to_page("#menu-settings").await;
                    assert_eq!(b.path().await, "/settings");
                    assert_no_sideways_scroll(&b, "settings").await;
                    b.click_to_page("#logout").await;
                    assert!(b.path().await.starts_with("/login"));
                }
            })
            .await;
        }
    }
}

/// The lines of the form's duplicate notice, read at one moment (the script redraws them).
async fn dup_lines(b: &Browser) -> Vec<String> {
    let v = b
        .js("return Array.from(document.querySelectorAll('#duplicates li')).map(li => li.textContent);")
        .await;
    serde_json::from_value(v).unwrap_or_default()
}

/// 查重 on the account form, as a rep types: a match they may read is linked, one owned by
/// another team shows only its owner; saving is refused once, then "save anyway" saves.
#[tokio::test]
async fn duplicate_check_on_the_form_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let zh = app.user_in("sales", Some("East"), "zh-CN").await;
    let en = app.user_in("sales", Some("East"), "en").await;
    let west = app.user_in("sales", Some("West"), "zh-CN").await;
    zh.create(
        "accounts",
        json!({"kind": "company", "name": "北京中太数据科技有限公司"}),
    )
    .await;
    west.create(
        "accounts",
        json!({"kind": "company", "name": "深圳星河云计算有限公司"}),
    )
    .await;
    for (who, lang, width) in [
        (zh.email.clone(), "zh", 1400u32),
        (en.email.clone(), "en", 390),
    ] {
        run(&driver, &app.base, &format!("dedupe-{lang}-{width}"), lang, |b| async move {
            b.window(width, 900).await;
            b.goto("/login").await;
            b.fill("#email", &who).await;
            b.fill("#password", PASSWORD).await;
            b.click_to_page("#login-submit").await;

            b.goto("/accounts/new").await;
            b.field("name", "中太数据科技（北京）有限公司").await;
            let line = b
                .until("the possible duplicate", || async {
                    let t = dup_lines(&b).await;
                    (!t.is_empty()).then_some(t)
                })
                .await;
            assert_eq!(line.len(), 1, "{line:?}");
            assert!(line[0].starts_with("北京中太数据科技有限公司"), "{line:?}");
            assert!(b.exists("#duplicates li a[href^=\"/accounts/\"]").await);
            assert_no_sideways_scroll(&b, "form with duplicates").await;
            assert_accessible(&b, "form with duplicates").await;
            b.shot("dedupe-typed").await;

            // Another team's customer: only its owner is told, with no link and no name.
            b.field("name", "星河云计算（深圳）有限公司").await;
            let unreadable = if lang == "zh" { "已存在：负责人 sales user" } else { "Already here: owner sales user" };
            b.until("the other team's match", || async {
                dup_lines(&b).await.iter().any(|l| l.starts_with(unreadable)).then_some(())
            })
            .await;
            let bare = b
                .js("return Array.from(document.querySelectorAll('#duplicates li')).filter(li => !li.querySelector('a')).map(li => li.textContent);")
                .await;
            let bare: Vec<String> = serde_json::from_value(bare).unwrap_or_default();
            assert_eq!(bare.len(), 1, "{bare:?}");
            assert!(!bare[0].contains("星河"), "nothing but the owner: {bare:?}");

            // Saving is refused once, with the matches and the choice to save anyway.
            b.click_to_page("#save-record").await;
            assert!(b.exists("#duplicates:not([hidden]) li").await);
            assert!(b.exists("#allow-duplicate").await);
            if lang == "zh" {
                let tick = "document.getElementById('allow-duplicate').click(); return true;";
                b.js(tick).await;
                b.click_to_page("#save-record").await;
                assert!(b.path().await.ends_with("?done=create"), "{}", b.path().await);
                assert_eq!(b.text("#record-title").await, "星河云计算（深圳）有限公司");
            }
        })
        .await;
    }
}

/// The administration pages, as an administrator sees them in both languages on a wide screen
/// and a phone: no sideways scroll, every control labelled, text readable; and a 查重 rule set
/// to block from its page.
#[tokio::test]
async fn administration_pages_read_on_wide_and_phone_screens_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let boss = app.user_in("admin", None, "zh-CN").await;
    let email = boss.email.clone();
    for (lang, width) in [("zh", 1400u32), ("en", 390)] {
        let email = email.clone();
        run(&driver, &app.base, &format!("admin-{lang}-{width}"), lang, |b| async move {
            b.window(width, 900).await;
            b.goto("/login").await;
            b.fill("#email", &email).await;
            b.fill("#password", PASSWORD).await;
            b.click_to_page("#login-submit").await;
            if lang == "en" {
                b.click_to_page("#lang-en").await;
            }
            for path in [
                "/admin/users",
                "/admin/teams",
                "/admin/roles",
                "/admin/custom-fields",
                "/admin/jobs",
                "/admin/mail",
                "/admin/dedupe",
                "/pipelines",
                "/lost_reasons",
            ] {
                b.goto(path).await;
                assert_no_sideways_scroll(&b, path).await;
                assert_accessible(&b, path).await;
            }
            if lang == "zh" {
                b.goto("/admin/dedupe").await;
                b.js("var s = document.getElementById('dedupe-account-name'); s.value = 'block'; return true;")
                    .await;
                b.click_to_page("#dedupe-account form:has(#dedupe-account-name) button")
                    .await;
                assert_eq!(b.text("#notice span").await, "✓ 查重规则已保存。");
                assert_eq!(b.value("#dedupe-account-name").await, "block");
            }
        })
        .await;
    }
}

/// A list saved as a view keeps its filter, sort and columns; shared, a teammate finds it
/// marked as the team's and opens the same list; deleting one asks first.
#[tokio::test]
async fn saved_and_shared_views_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let zh = app.user_in("sales", Some("East"), "zh-CN").await;
    let en = app.user_in("sales", Some("East"), "en").await;
    for (name, kind) in [
        ("甲客户有限公司", "customer"),
        ("乙客户有限公司", "prospect"),
    ] {
        zh.create(
            "accounts",
            json!({"kind": "company", "name": name, "type": kind}),
        )
        .await;
    }
    let (zh_email, en_email) = (zh.email.clone(), en.email.clone());
    run(&driver, &app.base, "views-zh", "zh", |b| async move {
        b.goto("/login").await;
        b.fill("#email", &zh_email).await;
        b.fill("#password", PASSWORD).await;
        b.click_to_page("#login-submit").await;
        b.goto("/accounts?ff=type&fo=eq&fv=customer&cols=name%2Ctype%2Cowner_id")
            .await;
        b.reveal("details.save-view input[name=name]").await;
        b.fill("details.save-view input[name=name]", "成交的").await;
        b.js("document.getElementById('share-view').click(); return true;")
            .await;
        b.click_to_page("details.save-view button.primary").await;
        assert_eq!(b.text("#notice span").await, "✓ 视图已保存。");
        assert_eq!(b.text(".view-tab.on a").await, "成交的");
        assert_eq!(
            b.text(".chip").await.trim().trim_end_matches('×').trim(),
            "客户类型 等于 成交客户"
        );
        assert_eq!(
            b.texts("#records thead th[data-col]").await,
            ["客户名称", "客户类型", "负责人"]
        );
    })
    .await;
    run(&driver, &app.base, "views-en", "en", |b| async move {
        b.goto("/login").await;
        b.fill("#email", &en_email).await;
        b.fill("#password", PASSWORD).await;
        b.click_to_page("#login-submit").await;
        b.goto("/accounts").await;
        assert_eq!(b.text(".view-tab .badge.team").await, "Team");
        assert!(
            !b.exists(".view-tab form").await,
            "a teammate's view is not theirs to delete"
        );
        b.click_to_page(".view-tab a.view").await;
        assert_eq!(b.all("#records tbody tr").await.len(), 1);
        assert_eq!(b.text("#records tbody td.lead").await, "甲客户有限公司");
    })
    .await;
}

/// Pickers of people search as you type, by name and by pinyin: the owner on the record form,
/// the owner filter's value, on a wide screen and a phone; a text that fits no one says so.
#[tokio::test]
async fn people_pickers_search_by_name_and_pinyin_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let boss = app.user_in("admin", None, "zh-CN").await;
    let mut ids = std::collections::HashMap::new();
    for name in ["周婷", "王芳", "Emily Carter"] {
        let u = guanxi_core::identity::users::create(
            &app.core.db,
            None,
            guanxi_core::identity::NewUser {
                email: format!("{}@example.com", uuid::Uuid::now_v7().simple()),
                name: name.into(),
                role: "sales".into(),
                team_id: None,
                password: PASSWORD.into(),
                locale: Some("zh-CN".into()),
            },
        )
        .await
        .expect("user");
        ids.insert(name, u.id.to_string());
    }
    boss.create(
        "accounts",
        json!({"kind": "company", "name": "拼音选人测试有限公司"}),
    )
    .await;
    for width in [1400u32, 390] {
        let email = boss.email.clone();
        let ids = ids.clone();
        run(&driver, &app.base, &format!("people-pickers-{width}"), "zh", |b| async move {
            b.window(width, 900).await;
            b.goto("/login").await;
            b.fill("#email", &email).await;
            b.fill("#password", PASSWORD).await;
            b.click_to_page("#login-submit").await;

            // The record form's owner: the search box picks the first who fits.
            b.goto("/accounts/new").await;
            let owner = "[id='f.owner_id']";
            let search = "[id='f.owner_id-search']";
            assert_eq!(
                b.js("return document.querySelector(\"[id='f.owner_id-search']\").placeholder;")
                    .await,
                "输入文字或拼音筛选…"
            );
            for (typed, who) in [("zt", "周婷"), ("wangf", "王芳"), ("emily", "Emily Carter"), ("芳", "王芳")] {
                b.fill(search, typed).await;
                assert_eq!(b.value(owner).await, ids[who], "{typed}");
            }
            b.fill(search, "qqqq").await;
            assert!(
                b.js("return !document.querySelector(\"[data-field='f.owner_id'] .select-none\").hidden;")
                    .await
                    .as_bool()
                    .unwrap_or(false),
                "no word that nothing fits"
            );
            assert_no_sideways_scroll(&b, "form").await;
            assert_accessible(&b, "form").await;

            // The owner filter: typed in pinyin, applied, read back as a name.
            b.goto("/accounts?add=owner_id").await;
            b.fill("#filter-value-search", "zhouting").await;
            assert_eq!(b.value("#filter-value").await, ids["周婷"]);
            assert_no_sideways_scroll(&b, "filter").await;
            assert_accessible(&b, "filter").await;
            b.click_to_page("#apply-filters").await;
            assert_eq!(
                b.text(".chip").await.trim().trim_end_matches('×').trim(),
                "负责人 等于 周婷"
            );
        })
        .await;
    }
}
