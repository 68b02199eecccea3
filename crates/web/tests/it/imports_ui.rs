//! Importing in the browser, over HTTP, on each backend: a GBK file with Chinese headers
//! uploaded by a sales rep, its suggested mapping changed, previewed, imported by the job
//! runner, its counts, records, error file (in Chinese for a zh-CN user) and notice; a saved
//! mapping applied to a second file; an upload over the limit; a user who may not create; and
//! the history each user sees.

use guanxi_core::Settings;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

const BOUNDARY: &str = "----guanxi-test-boundary-7d3a";

/// A multipart body as a browser sends the upload form.
fn multipart(csrf: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(
    app: &TestApp,
    cookie: &str,
    plural: &str,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, Option<String>, String) {
    let csrf = csrf_of(app, cookie).await;
    let res = browser()
        .post(format!("{}/{plural}/import", app.base))
        .header("Cookie", format!("guanxi_session={cookie}"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&csrf, file_name, bytes))
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let location = res
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, location, res.text().await.unwrap_or_default())
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    page_as(app, Some(cookie), "zh-CN", path).await
}

const FILE: &str = "姓名,手机,电子邮箱,职位,备注\r\n\
张伟,13800138000,zhang.wei@example.com,销售经理,老客户\r\n\
王芳,13900139000,wang.fang@example.com,采购总监,\r\n\
李娜,12,li.na@example.com,工程师,电话有误\r\n\
欧阳娜娜,13700137000,ouyang.nana@example.com,,新客户\r\n";

#[tokio::test]
async fn a_rep_imports_a_gbk_file_through_the_wizard() {
    for b in backends() {
        let settings = Settings {
            import_max_bytes: 64 * 1024,
            ..Settings::default()
        };
        let app = spawn_with(b, settings).await;
        let rep = app.user_in("sales", Some("A"), "zh-CN").await;
        let other = app.user_in("sales", Some("A"), "zh-CN").await;
        let admin = app.user_in("admin", None, "en").await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (other_cookie, _) = login_cookie(&app, &other.email, PASSWORD).await;
        let (admin_cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        rep.create(
            "contacts",
            json!({"family_name": "王", "given_name": "芳",
                   "emails": [{"address": "wang.fang@example.com"}]}),
        )
        .await;

        // The list offers the import; the upload page states its limits.
        let (s, list) = get(&app, &cookie, "/contacts").await;
        assert_eq!(s, StatusCode::OK);
        assert!(list.contains("href=\"/contacts/import\""), "{b:?}");
        let (s, page) = get(&app, &cookie, "/contacts/import").await;
        assert_eq!(s, StatusCode::OK, "{b:?}");
        assert!(
            page.contains("不超过 0 MB") || page.contains("MB"),
            "{page}"
        );

        // Upload: the mapping page.
        let (s, to, body) = upload(&app, &cookie, "contacts", "联系人.csv", &gbk(FILE)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{b:?}: {body}");
        let to = to.expect("redirect to the mapping page");
        assert!(to.starts_with("/contacts/import/"), "{to}");
        let id = to.trim_start_matches("/contacts/import/").to_string();
        let (s, page) = get(&app, &cookie, &to).await;
        assert_eq!(s, StatusCode::OK, "{b:?}: {page}");
        assert!(page.contains("GBK（中文版 Excel）"), "{page}");
        assert!(page.contains("逗号"), "{page}");
        // 职位 is suggested as the title, 手机 as phones.
        assert!(page.contains("<option value=\"title\" selected>"), "{page}");
        assert!(
            page.contains("<option value=\"phones\" selected>"),
            "{page}"
        );
        assert!(page.contains("将新建"), "{page}");

        // Save the mapping as suggested, then change one column: 职位 not imported.
        let csrf = csrf_of(&app, &cookie).await;
        let mut form: Vec<(&str, &str)> = vec![
            ("_csrf", csrf.as_str()),
            ("map.0", "name"),
            ("map.1", "phones"),
            ("map.2", "emails"),
            ("map.3", "title"),
            ("map.4", ""),
            ("policy", "fill"),
            ("save_name", "客户联系人模板"),
            ("op", "save"),
        ];
        let (s, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("字段映射“客户联系人模板”已保存"), "{page}");
        // The same name again is refused.
        let (_, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert!(page.contains("已有同名的字段映射"), "{page}");
        form[4] = ("map.3", "");
        form[8] = ("op", "preview");
        let (s, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("将更新：王芳"), "{b:?}: {page}");
        assert!(page.contains("错误："), "{page}");
        assert_eq!(page.matches("将新建").count(), 2, "{page}");
        // A preview writes nothing.
        let (_, all) = json(rep.get("/api/v1/contacts").await).await;
        assert_eq!(all["data"].as_array().unwrap().len(), 1, "{b:?}");

        // Start: the run's page, then the job.
        form[8] = ("op", "start");
        let (s, run_to, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        let run_to = run_to.unwrap();
        assert!(run_to.starts_with(&format!("/imports/{id}")), "{run_to}");
        let (s, page) = get(&app, &cookie, &run_to).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("等待开始"), "{page}");
        assert!(page.contains("导入已开始"), "{page}");
        assert!(page.contains("id=\"import-stop-button\""), "{page}");
        assert!(page.contains("http-equiv=\"refresh\""), "{page}");
        // The preview read the file from this instance's copy; the run's end takes the copy
        // away (the file stays in the database for a later run).
        let copy = std::env::temp_dir().join(format!("guanxi-import-{}", id.replace('-', "")));
        assert!(copy.exists(), "{b:?}: {}", copy.display());
        let pass = run_jobs(&app).await;
        assert!(pass.done >= 1 && pass.failed == 0, "{b:?}: {pass:?}");
        assert!(!copy.exists(), "{b:?}: {}", copy.display());
        let (s, p) = json(
            browser()
                .get(format!("{}/imports/{id}/progress.json", app.base))
                .header("Cookie", format!("guanxi_session={cookie}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(p["status"], "finished", "{p}");
        assert_eq!(
            (
                p["created"].as_u64(),
                p["updated"].as_u64(),
                p["failed"].as_u64()
            ),
            (Some(2), Some(1), Some(1)),
            "{b:?}: {p}"
        );
        assert_eq!(p["percent"], 100);
        assert_eq!(
            p["notice"], "导入完成：新建 2，更新 1，跳过 0，失败 1。",
            "{b:?}: {p}"
        );
        let (_, all) = json(rep.get("/api/v1/contacts").await).await;
        let names: Vec<String> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    c["family_name"].as_str().unwrap(),
                    c["given_name"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"欧阳娜娜".to_string()), "{names:?}");
        let zhang = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["given_name"] == "伟")
            .unwrap();
        assert!(
            zhang["title"].as_str().unwrap_or("").is_empty(),
            "the title column was not imported"
        );

        // The finished page links the records and the error file, and says how the import
        // ended, not that it started (even reached by the link that started it).
        let (_, page) = get(&app, &cookie, &run_to).await;
        assert!(!page.contains("导入已开始"), "{page}");
        assert!(
            page.contains("导入完成：新建 2，更新 1，跳过 0，失败 1。"),
            "{page}"
        );
        assert!(!page.contains("id=\"import-stop-button\""), "{page}");
        let (_, page) = get(&app, &cookie, &format!("/imports/{id}")).await;
        assert!(page.contains("已完成"), "{page}");
        assert!(page.contains("href=\"/contacts\""), "{page}");
        assert!(
            page.contains(&format!("/imports/{id}/errors.csv")),
            "{page}"
        );
        assert!(!page.contains("http-equiv=\"refresh\""));
        let res = browser()
            .get(format!("{}/imports/{id}/errors.csv", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte order mark");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("行号,列,错误原因,错误代码,姓名,手机"),
            "{text}"
        );
        assert!(lines[1].starts_with("4,手机,"), "{text}");
        assert!(lines[1].contains("李娜"), "{text}");
        assert!(
            lines[1]
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{text}"
        );
        // The notice.
        let (_, page) = get(&app, &cookie, "/notifications").await;
        assert!(
            page.contains("导入完成（联系人.csv）：新建 2，更新 1，失败 1"),
            "{page}"
        );

        // History: the rep's own runs, the administrator's all; another rep sees none.
        let (_, page) = get(&app, &cookie, "/imports").await;
        assert!(page.contains("联系人.csv"), "{page}");
        let (_, page) = get(&app, &other_cookie, "/imports").await;
        assert!(!page.contains("联系人.csv"), "{page}");
        let (s, _) = get(&app, &other_cookie, &format!("/imports/{id}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = get(&app, &other_cookie, &format!("/imports/{id}/errors.csv")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, page) = page_as(&app, Some(&admin_cookie), "en", "/imports").await;
        assert!(page.contains("联系人.csv"), "{page}");

        // Undo: not by another rep; by the importer, once, from the run's page.
        let page_before = get(&app, &cookie, &format!("/imports/{id}")).await.1;
        assert!(
            page_before.contains("id=\"import-undo-button\""),
            "{page_before}"
        );
        let other_csrf = csrf_of(&app, &other_cookie).await;
        let undo_to = format!("/imports/{id}/undo");
        let (s, _, _) = form_as(
            &app,
            Some(&other_cookie),
            "zh-CN",
            &undo_to,
            &[("_csrf", other_csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b:?}");
        let undo_csrf = csrf_of(&app, &cookie).await;
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &undo_to,
            &[("_csrf", undo_csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b:?}: {page}");
        assert!(
            page.contains("已撤销导入：2 条移入回收站，1 条已恢复，0 条保持不变。"),
            "{b:?}: {page}"
        );
        assert!(!page.contains("id=\"import-undo-button\""), "{page}");
        let (_, left) = json(rep.get("/api/v1/contacts").await).await;
        assert_eq!(
            left["data"].as_array().map(Vec::len),
            Some(1),
            "{b:?}: only the contact there before: {left}"
        );
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &undo_to,
            &[("_csrf", undo_csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b:?}: {page}");

        // A second file without the 职位 column: the saved mapping applied says so.
        let second = "姓名,手机,电子邮箱,备注\r\n赵敏,13600136000,zhao.min@example.com,\r\n";
        let (s, to2, body) = upload(&app, &cookie, "contacts", "第二批.csv", &gbk(second)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let to2 = to2.unwrap();
        let (_, page) = get(&app, &cookie, &to2).await;
        let marker = "id=\"import-saved\">";
        let at = page.find(marker).expect("the saved mappings") + marker.len();
        let saved_id = page[at..]
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let csrf = csrf_of(&app, &cookie).await;
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &to2,
            &[
                ("_csrf", csrf.as_str()),
                ("saved", saved_id.as_str()),
                ("op", "apply"),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("文件中没有字段映射“客户联系人模板”中的列：职位"),
            "{page}"
        );
        assert!(
            page.contains("<option value=\"emails\" selected>"),
            "{page}"
        );
        // Cancel: the file goes.
        let (s, back, _) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &to2,
            &[("_csrf", csrf.as_str()), ("op", "cancel")],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(back.as_deref(), Some("/contacts?done=import_cancelled"));
        let (s, _) = get(&app, &cookie, &to2).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(count_rows(&app, "import_files").await, 1, "{b:?}");
    }
}

#[tokio::test]
async fn bad_uploads_get_a_clear_message() {
    for b in backends() {
        let settings = Settings {
            import_max_bytes: 64 * 1024,
            ..Settings::default()
        };
        let app = spawn_with(b, settings).await;
        let rep = app.user_in("sales", Some("A"), "zh-CN").await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        // Over the limit.
        let mut big = String::from("姓名,手机\r\n");
        while big.len() < 100 * 1024 {
            big.push_str("张三,13800138000\r\n");
        }
        let (s, _, page) = upload(&app, &cookie, "contacts", "big.csv", big.as_bytes()).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b:?}");
        assert!(
            page.contains("文件超过 0 MB") || page.contains("文件超过"),
            "{page}"
        );
        // Not a spreadsheet.
        let (s, _, page) = upload(
            &app,
            &cookie,
            "contacts",
            "客户.xlsx",
            b"name,phone\r\na,b\r\n",
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        assert!(page.contains("不是有效的表格文件"), "{page}");
        // No file.
        let (s, _, page) = upload(&app, &cookie, "contacts", "", b"").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        assert!(page.contains("请选择要导入的文件"), "{page}");
        assert_eq!(count_rows(&app, "import_files").await, 0, "{b:?}");
        assert_eq!(count_rows(&app, "import_file_chunks").await, 0, "{b:?}");

        // A user who may not create contacts: no button, 403 page.
        let viewer = app.user_in("read_only", None, "zh-CN").await;
        let (vcookie, _) = login_cookie(&app, &viewer.email, PASSWORD).await;
        let (_, list) = page_as(&app, Some(&vcookie), "zh-CN", "/contacts").await;
        assert!(!list.contains("href=\"/contacts/import\""), "{b:?}");
        let (s, _) = page_as(&app, Some(&vcookie), "zh-CN", "/contacts/import").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b:?}");
        let (s, _, _) = upload(&app, &vcookie, "contacts", "x.csv", b"a,b\r\n1,2\r\n").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b:?}");
    }
}

#[tokio::test]
async fn an_import_is_stopped_from_its_page() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", Some("A"), "zh-CN").await;
        let other = app.user_in("sales", Some("A"), "zh-CN").await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (other_cookie, _) = login_cookie(&app, &other.email, PASSWORD).await;
        let (s, to, body) = upload(&app, &cookie, "contacts", "联系人.csv", &gbk(FILE)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{b:?}: {body}");
        let to = to.unwrap();
        let id = to.trim_start_matches("/contacts/import/").to_string();
        let csrf = csrf_of(&app, &cookie).await;
        let (s, run_to, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &to,
            &[
                ("_csrf", csrf.as_str()),
                ("map.0", "name"),
                ("map.1", "phones"),
                ("map.2", "emails"),
                ("policy", "skip"),
                ("op", "start"),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        let (_, page) = get(&app, &cookie, &run_to.unwrap()).await;
        assert!(page.contains("停止导入"), "{page}");
        assert!(
            page.contains("data-confirm=\"确定停止本次导入吗？"),
            "{page}"
        );
        let stop_to = format!("/imports/{id}/stop");

        // Another rep may not stop it; the page says so in their language.
        let other_csrf = csrf_of(&app, &other_cookie).await;
        let (s, _, page) = form_as(
            &app,
            Some(&other_cookie),
            "zh-CN",
            &stop_to,
            &[("_csrf", other_csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b:?}");
        assert!(
            page.contains("只有发起本次导入的人或管理员可以停止导入"),
            "{page}"
        );
        // Without the form's token: refused.
        let (s, _, _) = form_as(&app, Some(&cookie), "zh-CN", &stop_to, &[]).await;
        assert_ne!(s, StatusCode::SEE_OTHER, "{b:?}");

        // The importer stops it: the page says it is stopping, then, once the job noticed,
        // that it stopped, with the counts.
        let (s, back, _) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &stop_to,
            &[("_csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{b:?}");
        let back = back.unwrap();
        assert_eq!(back, format!("/imports/{id}?done=import_stop_requested"));
        let (_, page) = get(&app, &cookie, &back).await;
        assert!(page.contains("正在停止导入"), "{page}");
        assert!(!page.contains("id=\"import-stop-button\""), "{page}");
        let pass = run_jobs(&app).await;
        assert!(pass.failed == 0, "{b:?}: {pass:?}");
        let (_, page) = get(&app, &cookie, &back).await;
        assert!(
            page.contains("已停止：新建 0，更新 0，失败 0。"),
            "{b:?}: {page}"
        );
        assert!(page.contains("class=\"badge status-stopped\""), "{page}");
        // Stopped before it counted the file's rows: what it read, not "of …".
        assert!(page.contains("已读取 0 行"), "{b:?}: {page}");
        assert!(!page.contains("/ … 行"), "{b:?}: {page}");
        assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
        let (_, all) = json(rep.get("/api/v1/contacts").await).await;
        assert_eq!(all["data"].as_array().map(Vec::len), Some(0), "{b:?}");
        let (_, page) = get(&app, &cookie, "/notifications").await;
        assert!(
            page.contains("导入已停止（联系人.csv）：新建 0，更新 0，失败 0"),
            "{page}"
        );
        // The file is kept a week, as after any run.
        assert_eq!(count_rows(&app, "import_files").await, 1, "{b:?}");

        // Stopping it again: a clear conflict.
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &stop_to,
            &[("_csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b:?}");
        assert!(page.contains("本次导入已结束，无需停止。"), "{page}");
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/imports/not-a-run/stop",
            &[("_csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b:?}: {page}");
    }
}

#[tokio::test]
async fn a_large_error_file_is_sent_page_by_page() {
    use guanxi_core::import::run::RowError;
    use guanxi_core::import::uploads;
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", None, "en").await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (s, to, body) = upload(&app, &cookie, "contacts", "联系人.csv", &gbk(FILE)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{b:?}: {body}");
        let to = to.unwrap();
        let id = to.trim_start_matches("/contacts/import/").to_string();
        let csrf = csrf_of(&app, &cookie).await;
        let (s, _, page) = form_as(
            &app,
            Some(&cookie),
            "en",
            &to,
            &[
                ("_csrf", csrf.as_str()),
                ("map.0", "name"),
                ("map.1", "phones"),
                ("map.2", "emails"),
                ("policy", "skip"),
                ("op", "start"),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(run_jobs(&app).await.failed, 0);
        // Beside the run's one error (line 4), 2,500 more kept: three pages of the file.
        let run_id = uuid::Uuid::parse_str(&id).unwrap();
        let more: Vec<(u64, RowError)> = (10..2510)
            .map(|line| {
                let mut params = guanxi_core::Params::new();
                params.insert("value", serde_json::Value::String(format!("1{line}")));
                (
                    0,
                    RowError {
                        line,
                        column: "手机".into(),
                        code: "invalid_phone",
                        params,
                        values: vec![
                            format!("联系人{line}"),
                            format!("1{line}"),
                            String::new(),
                            String::new(),
                            String::new(),
                        ],
                    },
                )
            })
            .collect();
        uploads::store_errors(&app.core, run_id, &more)
            .await
            .unwrap();
        let res = browser()
            .get(format!("{}/imports/{id}/errors.csv", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers().get(reqwest::header::CONTENT_LENGTH).is_none(),
            "{b:?}: sent as it is read, its length not known beforehand"
        );
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte order mark");
        assert_eq!(
            bytes.windows(3).filter(|w| *w == b"\xEF\xBB\xBF").count(),
            1
        );
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 1 + 2500, "{b:?}");
        assert!(
            lines[0].starts_with("Line,Column,Reason,Code,姓名,手机"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("4,手机,"), "{}", lines[1]);
        let numbers: Vec<u64> = lines[1..]
            .iter()
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{b:?}: in the file's order"
        );
        assert!(lines[2501].starts_with("2509,手机,"), "{}", lines[2501]);
        assert!(
            lines[2501].ends_with("联系人2509,12509,,,"),
            "{}",
            lines[2501]
        );
    }
}

#[tokio::test]
async fn a_date_column_says_how_it_writes_dates() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", None, "zh-CN").await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let file = "姓名,电子邮箱,生日\r\n\
                    张伟,zhang.wei@example.com,03/15/1990\r\n\
                    王芳,wang.fang@example.com,15/03/1991\r\n";
        let (s, to, body) =
            upload(&app, &cookie, "contacts", "美国同事.csv", file.as_bytes()).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{b:?}: {body}");
        let to = to.unwrap();
        let id = to.trim_start_matches("/contacts/import/").to_string();
        // 生日 feeds the birthday, a date: the column offers its format, recognised by default.
        let (_, page) = get(&app, &cookie, &to).await;
        assert!(
            page.contains("<option value=\"birthday\" selected>"),
            "{page}"
        );
        assert!(
            page.contains("<label class=\"date-format\" for=\"date-2\">日期格式</label>"),
            "{page}"
        );
        assert!(
            page.contains("<option value=\"\" selected>自动识别</option>"),
            "{page}"
        );
        assert!(page.contains("月/日/年，美式（如 03/15/2026）"), "{page}");
        assert!(
            !page.contains("id=\"date-1\""),
            "{page}: not for an e-mail column"
        );

        // Month/day/year: the first row reads, the second is refused, naming the column and
        // the format it expects.
        let csrf = csrf_of(&app, &cookie).await;
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("map.0", "name"),
            ("map.1", "emails"),
            ("map.2", "birthday"),
            ("date.2", "%m/%d/%Y"),
            ("policy", "skip"),
            ("save_name", "美式日期"),
            ("op", "preview"),
        ];
        let (s, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(
            page.contains("<option value=\"%m/%d/%Y\" selected>"),
            "{page}"
        );
        assert_eq!(page.matches("将新建").count(), 1, "{b:?}: {page}");
        assert!(
            page.contains(
                "生日：日期“15/03/1991”与该列设定的日期格式不符，应写作 03/15/2026 这样的形式。"
            ),
            "{b:?}: {page}"
        );
        // Saved with the mapping.
        form[7] = ("op", "save");
        let (_, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert!(page.contains("字段映射“美式日期”已保存"), "{page}");
        let saved = count_sql(
            &app,
            "SELECT COUNT(*) AS n FROM import_mappings WHERE mapping LIKE '%date_format = \"%m/%d/%Y\"%'",
        )
        .await;
        assert_eq!(saved, 1, "{b:?}");

        // The run reads the dates the same way.
        form[7] = ("op", "start");
        let (s, _, page) = form_as(&app, Some(&cookie), "zh-CN", &to, &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(run_jobs(&app).await.failed, 0);
        let (_, all) = json(rep.get("/api/v1/contacts").await).await;
        let list = all["data"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{b:?}: {all}");
        assert_eq!(list[0]["birthday"], "1990-03-15", "{b:?}");
        let res = browser()
            .get(format!("{}/imports/{id}/errors.csv", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .unwrap();
        let text = String::from_utf8(res.bytes().await.unwrap()[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[1].starts_with("3,生日,日期“15/03/1991”与该列设定的日期格式不符"),
            "{text}"
        );
        assert!(lines[1].contains("import_date_not_in_format"), "{text}");

        // The saved mapping applied to another file chooses the format again.
        let (s, to2, _) = upload(
            &app,
            &cookie,
            "contacts",
            "第二批.csv",
            "姓名,电子邮箱,生日\r\n李娜,li.na@example.com,12/01/1988\r\n".as_bytes(),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to2 = to2.unwrap();
        let (_, page) = get(&app, &cookie, &to2).await;
        let marker = "id=\"import-saved\">";
        let at = page.find(marker).expect("the saved mappings") + marker.len();
        let saved_id = page[at..]
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let csrf = csrf_of(&app, &cookie).await;
        let (_, _, page) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &to2,
            &[
                ("_csrf", csrf.as_str()),
                ("saved", saved_id.as_str()),
                ("op", "apply"),
            ],
        )
        .await;
        assert!(
            page.contains("<option value=\"%m/%d/%Y\" selected>"),
            "{b:?}: {page}"
        );
        assert!(page.contains("将新建"), "{b:?}: {page}");
    }
}
