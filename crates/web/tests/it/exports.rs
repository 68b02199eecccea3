//! CSV exports stream page by page and are capped per user and in total (the security probe:
//! 100,000-row exports built in memory, eight at once slowing every other request). Exports for
//! people open in Excel: CSV with a byte order mark, XLSX with numbers and dates as such, the
//! list's columns in its order, formulas neutralized (the tests at the end).
//!
//! To hold an export open, a test starts it over a raw TCP connection with a small, fixed
//! receive buffer, reads the response head and stops reading. The server's task can then write
//! only as far as the buffers between it and the client reach; the data sets are sized from the
//! kernel's socket limits so that the export cannot fit (see [`rows_to_outlast_buffers`]), and the
//! task stays blocked, holding its permit, until the test reads on or hangs up.

use std::collections::HashSet;
use std::io::Cursor;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::db;
use guanxi_core::identity::{NewUser, auth, users};
use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind};
use guanxi_seed::bulk;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{
    Backend, PASSWORD, Resp, TestApp, TestUser, backends, browser, login_cookie, spawn,
};

/// The server's limits (`export::MAX_EXPORTS_PER_USER`, `export::MAX_EXPORTS_TOTAL`).
const PER_USER: usize = 2;
const TOTAL: usize = 4;
/// Rows per page the export task builds (`records::service::MAX_LIMIT`).
const PAGE: usize = 500;
/// The receive buffer of a held connection. Setting it fixes it: the kernel stops growing it.
const RCVBUF: usize = 64 * 1024;
/// Length of the description every generated account gets: it makes rows large enough that a
/// data set outlasting the buffers stays small, and it starts with a formula.
const DESCRIPTION_LEN: usize = 2_000;

fn description() -> String {
    let mut d = String::from("=HYPERLINK(\"http://evil.example/\",\"click\")");
    d.push_str(&"x".repeat(DESCRIPTION_LEN - d.len()));
    d
}

/// The largest send buffer the kernel gives a socket (autotuning stops at `tcp_wmem`'s third
/// value, an explicit `SO_SNDBUF` at `wmem_max`); 16 MiB where that cannot be read.
fn max_send_buffer() -> usize {
    let read = |path: &str| -> Option<usize> {
        std::fs::read_to_string(path)
            .ok()?
            .split_whitespace()
            .last()?
            .parse()
            .ok()
    };
    match (
        read("/proc/sys/net/ipv4/tcp_wmem"),
        read("/proc/sys/net/core/wmem_max"),
    ) {
        (None, None) => 16 << 20,
        (a, b) => a.unwrap_or(0).max(b.unwrap_or(0)),
    }
}

/// Rows an export needs so that, with the client not reading, its task blocks at least two
/// pages before the end. What it can write before blocking: the server socket's send buffer and
/// the client's receive buffer (the kernel doubles `SO_RCVBUF`; counted four times over), under
/// 400 KiB plus one page queued in hyper, one page in the channel and one being built. Each row
/// is over `DESCRIPTION_LEN` bytes.
fn rows_to_outlast_buffers() -> usize {
    let in_kernel = max_send_buffer() + 4 * RCVBUF;
    let page_bytes = PAGE * DESCRIPTION_LEN;
    let pages = (in_kernel + (512 << 10)).div_ceil(page_bytes) + 3;
    (pages + 2) * PAGE
}

/// Adds `n` accounts (the benchmark generator: fast, owned by generated sales users), each with
/// [`description`].
async fn fill(app: &TestApp, n: usize) {
    bulk::generate_bench_data(&app.core, n, 0, &mut |_, _| {})
        .await
        .expect("generate accounts");
    let p = match app.backend {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    let txn = app.core.db.begin().await.expect("begin");
    db::raw_execute(
        &txn,
        &format!("UPDATE accounts SET description = {p}"),
        vec![description().into()],
    )
    .await
    .expect("set descriptions");
    txn.commit().await.expect("commit");
}

/// Runs DDL through the writer (to break and mend the database under a running export).
async fn execute(app: &TestApp, sql: &str) {
    let txn = app.core.db.begin().await.expect("begin");
    db::raw_execute(&txn, sql, vec![]).await.expect(sql);
    txn.commit().await.expect("commit");
}

/// Every account id in the order `sort=created_at` lists them, straight from the database.
async fn ids_by_created_at(app: &TestApp) -> Vec<String> {
    db::raw_query(
        app.core.db.reader(),
        "SELECT id FROM accounts WHERE deleted_at IS NULL ORDER BY created_at, id",
        vec![],
    )
    .await
    .expect("ids")
    .iter()
    .map(|r| db::get_uuid(r, "id").expect("id").to_string())
    .collect()
}

/// An admin whose interface language is Chinese, with an API token.
async fn zh_admin(app: &TestApp) -> TestUser {
    app.user_in("admin", None, "zh-CN").await
}

/// A download whose response head has been read and whose body has not.
struct Download {
    status: u16,
    head: String,
    stream: TcpStream,
    /// Body bytes that came with the head.
    rest: Vec<u8>,
}

impl Download {
    /// Sends `GET path` with `header` (`Authorization: …` or `Cookie: …`) and reads up to the
    /// end of the response head. `Connection: close`, so the body ends where the stream does.
    async fn start(app: &TestApp, header: &str, path: &str) -> Download {
        let addr: std::net::SocketAddr = app
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("address");
        let socket = TcpSocket::new_v4().expect("socket");
        // Before connecting, so the advertised window never exceeds it.
        socket
            .set_recv_buffer_size(RCVBUF as u32)
            .expect("SO_RCVBUF");
        let mut stream = socket.connect(addr).await.expect("connect");
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{header}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.expect("send");
        let mut buf = Vec::new();
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await.expect("read head");
            assert!(n > 0, "connection closed before the response head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        Download {
            status,
            head,
            stream,
            rest: buf[end..].to_vec(),
        }
    }

    async fn bearer(app: &TestApp, u: &TestUser, path: &str) -> Download {
        Download::start(app, &format!("Authorization: Bearer {}", u.token), path).await
    }

    /// Reads the rest of the body. `Err` when it ends before the chunked encoding's final
    /// chunk, i.e. the server broke the download off.
    async fn finish(mut self) -> Result<Vec<u8>, String> {
        let mut raw = std::mem::take(&mut self.rest);
        if let Err(e) = self.stream.read_to_end(&mut raw).await {
            return Err(format!("read failed after {} bytes: {e}", raw.len()));
        }
        if !self.head.contains("transfer-encoding: chunked") {
            // A body sent whole, with its length: complete if it has that many bytes.
            let len: Option<usize> = self
                .head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok());
            return match len {
                Some(n) if n == raw.len() => Ok(raw),
                _ => Err(format!("{} bytes; head: {}", raw.len(), self.head)),
            };
        }
        let mut body = Vec::with_capacity(raw.len());
        let mut at = 0;
        loop {
            let Some(eol) = raw[at..].windows(2).position(|w| w == b"\r\n") else {
                return Err(format!("cut off after {} body bytes", body.len()));
            };
            let line = String::from_utf8_lossy(&raw[at..at + eol]).to_string();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|e| format!("bad chunk size {line:?}: {e}"))?;
            at += eol + 2;
            if size == 0 {
                return Ok(body);
            }
            if raw.len() < at + size + 2 {
                return Err(format!("cut off after {} body bytes", body.len()));
            }
            body.extend_from_slice(&raw[at..at + size]);
            at += size + 2;
        }
    }
}

const EXPORT: &str = "/api/v1/accounts/export.csv";

/// Asks until the export is no longer refused for being one too many (permits come back when the
/// server's task notices its client has gone, which is not instantaneous); 10 s at most.
async fn until_accepted(u: &TestUser, path: &str) -> Resp {
    for _ in 0..200 {
        let r = u.get_r(path).await;
        if r.status != StatusCode::TOO_MANY_REQUESTS {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} still refused after 200 tries");
}

/// The number of data rows in a CSV export.
fn row_count(text: &str) -> usize {
    csv::Reader::from_reader(text.as_bytes()).records().count()
}

#[track_caller]
fn assert_too_many(r: &Resp, ctx: &str) {
    // Checked first so that an export served by mistake is not printed whole.
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{ctx}: body starts {:?}",
        r.text.chars().take(300).collect::<String>()
    );
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_exports", None);
    let secs: u64 = r
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{ctx}: Retry-After missing: {:?}", r.headers));
    assert!(secs >= 1, "{ctx}: Retry-After {secs}");
}

#[tokio::test]
async fn a_large_export_streams_every_row_once_in_order_with_formulas_neutralized() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let n = rows_to_outlast_buffers();
        fill(&app, n).await;

        let dl = Download::bearer(&app, &admin, &format!("{EXPORT}?sort=created_at")).await;
        assert_eq!(dl.status, 200, "{b:?}: {}", dl.head);
        assert!(dl.head.contains("content-type: text/csv"), "{}", dl.head);
        assert!(dl.head.contains("content-disposition: attachment"));
        // The head is out and the server's task is blocked pages before the end. A record made
        // now sorts last: an export read page by page as the client downloads includes it; one
        // built whole before the first byte (which held every row in memory) cannot.
        let late = admin
            .create(
                "accounts",
                json!({"kind": "company", "name": "=cmd|' /C calc'!A0", "description": "+1",
                       "billing_address": {"city": "@SUM(A1)"}}),
            )
            .await;
        let late = late["id"].as_str().expect("id").to_string();
        let body = dl.finish().await.expect("a complete download");
        let text = String::from_utf8(body).expect("UTF-8");

        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let mut expected_header = vec!["id".to_string()];
        for f in ACCOUNTS.fields {
            if matches!(f.kind, FieldKind::Address) {
                for p in ADDRESS_PARTS {
                    expected_header.push(format!("{}.{p}", f.name));
                }
            } else if matches!(f.kind, FieldKind::Money) {
                // Amount and currency apart, so a spreadsheet can sum the amounts.
                for p in ["amount", "currency"] {
                    expected_header.push(format!("{}.{p}", f.name));
                }
            } else {
                expected_header.push(f.name.to_string());
            }
        }
        expected_header
            .extend(["owner_id", "created_at", "updated_at", "version"].map(String::from));
        assert_eq!(header, expected_header, "{b:?}: columns");
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();

        // Every row once, in the requested order (ties broken by id, as the cursor does).
        let ids: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
        let expected = ids_by_created_at(&app).await;
        assert_eq!(expected.len(), n + 1);
        assert_eq!(ids.len(), expected.len(), "{b:?}: row count");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "{b:?}: no row twice"
        );
        let first_diff = ids.iter().zip(&expected).position(|(a, e)| a != e);
        assert_eq!(first_diff, None, "{b:?}: first row out of order");
        assert_eq!(ids.last(), Some(&late), "{b:?}: the record made mid-export");

        // Formula cells are neutralized, on every page.
        let neutral = format!("'{}", description());
        for r in &rows[..n] {
            assert_eq!(&r[col("description")], neutral, "{b:?}: row {}", &r[0]);
        }
        let last = &rows[n];
        assert_eq!(&last[col("name")], "'=cmd|' /C calc'!A0");
        assert_eq!(&last[col("description")], "'+1");
        assert_eq!(&last[col("billing_address.city")], "'@SUM(A1)");
        for cell in rows.iter().flat_map(|r| r.iter()) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{b:?}: live formula cell {cell:?}"
            );
        }

        // A bad filter is still an ordinary JSON error, before any CSV.
        admin
            .get_r(&format!("{EXPORT}?colour=red"))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
    }
}

#[tokio::test]
async fn one_user_may_run_two_exports_at_once() {
    for b in backends() {
        let app = spawn(b).await;
        let n = rows_to_outlast_buffers();
        fill(&app, n).await;
        let zh = zh_admin(&app).await;

        let mut held = Vec::new();
        for i in 0..PER_USER {
            let dl = Download::bearer(&app, &zh, EXPORT).await;
            assert_eq!(dl.status, 200, "{b:?}: export {i}: {}", dl.head);
            held.push(dl);
        }
        // A third by the same user is refused: over the API as JSON, in the UI as a page in the
        // user's language; both say when to try again.
        assert_too_many(&zh.get_r(EXPORT).await, "API");
        let (cookie, _) = login_cookie(&app, &zh.email, PASSWORD).await;
        let page = browser()
            .get(format!("{}/accounts/export.csv", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .expect("UI export");
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}: UI");
        assert!(page.headers().contains_key("retry-after"), "{b:?}: UI");
        let html = page.text().await.expect("html");
        assert!(html.contains("导出过多"), "{b:?}: {html}");
        // Other users are not held back by this one's exports.
        let other = app.user("admin", None).await;
        let dl = Download::bearer(&app, &other, EXPORT).await;
        assert_eq!(dl.status, 200, "{b:?}: another user");
        drop(dl);

        // A slot given back (here by a client that hung up) can be taken again.
        drop(held.pop());
        let r = until_accepted(&zh, EXPORT).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(row_count(&r.text), n, "{b:?}: the whole export");
    }
}

#[tokio::test]
async fn the_server_runs_at_most_four_exports_at_once() {
    for b in backends() {
        let app = spawn(b).await;
        let n = rows_to_outlast_buffers();
        fill(&app, n).await;

        let mut held = Vec::new();
        for i in 0..TOTAL {
            let u = app.user("admin", None).await;
            let dl = Download::bearer(&app, &u, EXPORT).await;
            assert_eq!(dl.status, 200, "{b:?}: export {i}: {}", dl.head);
            held.push(dl);
        }
        // A user with no export running is refused: the server is full.
        let late = app.user("admin", None).await;
        assert_too_many(&late.get_r(EXPORT).await, "API");
        let (cookie, _) = login_cookie(&app, &late.email, PASSWORD).await;
        let page = browser()
            .get(format!("{}/accounts/export.csv", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .expect("UI export");
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}: UI");
        let html = page.text().await.expect("html");
        assert!(html.contains("Too many exports"), "{b:?}: {html}");
        // Other requests are served meanwhile.
        let r = late.get_r("/api/v1/accounts?limit=5").await;
        assert_eq!(r.status, StatusCode::OK);

        // One finished download frees its slot.
        let first = held.remove(0);
        let body = first.finish().await.expect("complete download");
        assert_eq!(row_count(&String::from_utf8_lossy(&body)), n);
        let r = until_accepted(&late, EXPORT).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}");
        assert_eq!(row_count(&r.text), n, "{b:?}: the whole export");
    }
}

#[tokio::test]
async fn a_database_failure_mid_export_breaks_the_download_and_frees_the_slot() {
    for b in backends() {
        let app = spawn(b).await;
        let n = rows_to_outlast_buffers();
        fill(&app, n).await;
        let admin = app.user("admin", None).await;

        let mut held = Vec::new();
        for _ in 0..PER_USER {
            let dl = Download::bearer(&app, &admin, EXPORT).await;
            assert_eq!(dl.status, 200, "{b:?}: {}", dl.head);
            held.push(dl);
        }
        // Pages after the buffered ones now fail to load.
        execute(&app, "ALTER TABLE accounts RENAME TO accounts_gone").await;
        for dl in held {
            let got = dl.finish().await;
            assert!(
                got.is_err(),
                "{b:?}: a download that lost its database ended as if complete ({} bytes)",
                got.map(|v| v.len()).unwrap_or_default()
            );
        }
        execute(&app, "ALTER TABLE accounts_gone RENAME TO accounts").await;
        // Both slots came back.
        let r = until_accepted(&admin, EXPORT).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(row_count(&r.text), n);
        let dl = Download::bearer(&app, &admin, EXPORT).await;
        assert_eq!(dl.status, 200, "{b:?}: second slot");
    }
}

// ---- Exports people open in Excel ----

const BOM: &[u8] = b"\xEF\xBB\xBF";
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A user called `name` whose interface speaks `locale`, with an API token.
async fn person(app: &TestApp, role: &str, name: &str, locale: &str) -> TestUser {
    let email = format!("{role}.{}@example.com", uuid::Uuid::now_v7().simple());
    let u = users::create(
        &app.core.db,
        None,
        NewUser {
            email: email.clone(),
            name: name.into(),
            role: role.into(),
            team_id: None,
            password: PASSWORD.into(),
            locale: Some(locale.into()),
        },
    )
    .await
    .expect("create user");
    let (token, _) = auth::create_token(&app.core.db, None, u.id, "test")
        .await
        .expect("token");
    TestUser {
        id: u.id,
        email,
        token,
        base: app.base.clone(),
        client: reqwest::Client::new(),
    }
}

/// A response's status, headers and body bytes (a file is not text).
async fn fetch(rb: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Vec<u8>) {
    let res = rb.send().await.expect("request");
    let (status, headers) = (res.status(), res.headers().clone());
    let body = res.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// A UI download as the browser session `cookie`.
async fn ui_file(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    fetch(
        browser()
            .get(format!("{}{path}", app.base))
            .header("Cookie", format!("guanxi_session={cookie}")),
    )
    .await
}

fn header_of<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A CSV file's rows (header first) after its byte order mark, if any.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(BOM).unwrap_or(bytes)).expect("UTF-8");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect()
}

/// An XLSX file's only sheet: its name and its cells, row by row (header first).
fn sheet(bytes: &[u8]) -> (String, Vec<Vec<Data>>) {
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let names = book.sheet_names();
    assert_eq!(names.len(), 1, "{names:?}");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("a readable sheet");
    let rows = range.rows().map(<[Data]>::to_vec).collect();
    (names[0].clone(), rows)
}

/// A text cell's text ("" for an empty cell); anything else fails the test.
#[track_caller]
fn text(cell: &Data) -> &str {
    match cell {
        Data::String(s) => s,
        Data::Empty => "",
        other => panic!("a text cell, not {other:?}"),
    }
}

/// The row whose first cell is `first`.
#[track_caller]
fn row_of<'a, T: std::fmt::Debug>(
    rows: &'a [Vec<T>],
    first: &str,
    is: impl Fn(&T, &str) -> bool,
) -> &'a [T] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| is(c, first)))
        .unwrap_or_else(|| panic!("no row starting {first:?}: {rows:?}"))
}

fn csv_row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    row_of(rows, first, |c, f| c == f)
}

fn xlsx_row<'a>(rows: &'a [Vec<Data>], first: &str) -> &'a [Data] {
    row_of(rows, first, |c, f| matches!(c, Data::String(s) if s == f))
}

#[tokio::test]
async fn people_get_the_lists_columns_in_excel_and_programs_get_every_code() {
    for b in backends() {
        let app = spawn(b).await;
        let wang = person(&app, "admin", "王芳", "zh-CN").await;
        let r = wang
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "level", "label_en": "Level",
                        "label_zh": "等级", "kind": "text"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        let firm = "北京中太数据科技有限公司";
        let account = wang
            .create(
                "accounts",
                json!({"kind": "company", "name": firm, "type": "customer",
                       "billing_address": {"province": "北京市", "city": "北京市"},
                       "annual_revenue": {"amount": "1234567.89", "currency": "CNY"},
                       "custom": {"level": "=1+1"}}),
            )
            .await;
        let account_id = account["id"].as_str().expect("id").to_string();
        wang.create(
            "accounts",
            json!({"kind": "company", "name": "=1+1", "type": "prospect"}),
        )
        .await;
        wang.create(
            "contacts",
            json!({"family_name": "张", "given_name": "三", "account_id": account_id}),
        )
        .await;
        let (cookie, _) = login_cookie(&app, &wang.email, PASSWORD).await;
        // As the list passes them; `billing.city` names the address part by its storage column.
        let cols = "cols=name,type,owner_id,billing.city,custom.level,annual_revenue,updated_at";
        let header = [
            "客户名称",
            "客户类型",
            "负责人",
            "开票地址 · 城市",
            "等级",
            "年营业额 · 金额",
            "年营业额 · 币种",
            "修改时间",
        ];

        // CSV for people: a byte order mark first, then the chosen columns in their order.
        let (status, headers, body) = ui_file(
            &app,
            &cookie,
            &format!("/accounts/export.csv?sort=name&{cols}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(header_of(&headers, "content-type").starts_with("text/csv"));
        assert_eq!(&body[..3], BOM, "{b:?}: the CSV starts with EF BB BF");
        let rows = csv_rows(&body);
        assert_eq!(rows[0], header, "{b:?}: the list's columns in its order");
        assert_eq!(rows.len(), 3, "{b:?}: {rows:?}");
        let row = csv_row(&rows[1..], firm);
        assert_eq!(row[1], "成交客户", "{b:?}: the choice's label");
        assert_eq!(row[2], "王芳", "{b:?}: the owner's name");
        assert_eq!(row[3], "北京市");
        assert_eq!(row[4], "'=1+1", "{b:?}: a formula neutralized");
        assert_eq!(row[5], "1234567.89");
        assert_eq!(row[6], "CNY");
        assert!(row[7].ends_with(" UTC"), "{b:?}: {}", row[7]);
        csv_row(&rows[1..], "'=1+1");

        // XLSX for people: the same columns, labels and names; numbers and dates as such.
        let (status, headers, body) = ui_file(
            &app,
            &cookie,
            &format!("/accounts/export.csv?format=xlsx&sort=name&{cols}"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{b:?}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(header_of(&headers, "content-type"), XLSX_TYPE);
        assert!(
            header_of(&headers, "content-disposition").contains("accounts.xlsx"),
            "{headers:?}"
        );
        let (name, rows) = sheet(&body);
        assert_eq!(
            name, "客户",
            "{b:?}: the sheet is named in the reader's language"
        );
        let got: Vec<&str> = rows[0].iter().map(text).collect();
        assert_eq!(
            got, header,
            "{b:?}: header labels in zh-CN, the chosen order"
        );
        assert_eq!(rows.len(), 3, "{b:?}: {rows:?}");
        let row = xlsx_row(&rows[1..], firm);
        assert_eq!(text(&row[1]), "成交客户", "{b:?}");
        assert_eq!(text(&row[2]), "王芳", "{b:?}");
        assert_eq!(text(&row[3]), "北京市", "{b:?}");
        assert_eq!(
            row[4],
            Data::String("'=1+1".into()),
            "{b:?}: written as text, with the CSV's apostrophe"
        );
        assert_eq!(
            row[5],
            Data::Float(1234567.89),
            "{b:?}: the amount is a number"
        );
        assert_eq!(text(&row[6]), "CNY");
        match &row[7] {
            Data::DateTime(t) => {
                assert!(t.is_datetime(), "{b:?}: {t:?}");
                let when = t.as_datetime().expect("a date");
                let age = chrono::Utc::now().naive_utc() - when;
                assert!(age.num_minutes().abs() < 10, "{b:?}: {when}");
            }
            other => panic!("{b:?}: the time is an Excel date, not {other:?}"),
        }
        let other = xlsx_row(&rows[1..], "'=1+1");
        assert_eq!(text(&other[1]), "潜在客户", "{b:?}");
        for cell in rows.iter().flatten() {
            if let Data::String(s) = cell {
                assert!(
                    !s.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{b:?}: live formula cell {s:?}"
                );
            }
        }

        // A list whose name column is the title: a contact's names, its account's title.
        let (status, _, body) = ui_file(
            &app,
            &cookie,
            "/contacts/export.csv?format=xlsx&cols=name,account_id,owner_id",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        let (name, rows) = sheet(&body);
        assert_eq!(name, "联系人", "{b:?}");
        assert_eq!(rows.len(), 2, "{b:?}: {rows:?}");
        let row: Vec<&str> = rows[1].iter().map(text).collect();
        assert_eq!(row, ["张三", firm, "王芳"], "{b:?}");

        // The code form, asked for from the list: every column, ids, codes and ISO times,
        // whatever the list shows.
        let (status, _, body) = ui_file(
            &app,
            &cookie,
            &format!("/accounts/export.csv?format=codes,xlsx&{cols}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        let (name, rows) = sheet(&body);
        assert_eq!(name, "accounts");
        let codes: Vec<&str> = rows[0].iter().map(text).collect();
        assert_eq!(codes[0], "id", "{b:?}");
        for code in [
            "kind",
            "name",
            "type",
            "billing_address.city",
            "annual_revenue.amount",
            "annual_revenue.currency",
            "owner_id",
            "created_at",
            "version",
            "custom.level",
        ] {
            assert!(codes.contains(&code), "{b:?}: {code} in {codes:?}");
        }
        let col = |c: &str| codes.iter().position(|x| *x == c).expect(c);
        let row = xlsx_row(&rows[1..], &account_id);
        assert_eq!(text(&row[col("type")]), "customer", "{b:?}: the code");
        assert_eq!(text(&row[col("owner_id")]), wang.id.to_string());
        assert_eq!(text(&row[col("custom.level")]), "'=1+1");
        assert_eq!(row[col("annual_revenue.amount")], Data::Float(1234567.89));
        let created = text(&row[col("created_at")]);
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{b:?}: an ISO time as text, not {:?}",
            row[col("created_at")]
        );
        assert_eq!(row[col("version")], Data::Float(1.0));

        // The API: codes unless asked, CSV unless asked; only the labels CSV has a BOM.
        let (status, _, body) = fetch(wang.req(reqwest::Method::GET, EXPORT)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with(b"id,"), "{b:?}: no BOM in the code form");
        let (status, _, body) =
            fetch(wang.req(reqwest::Method::GET, &format!("{EXPORT}?format=labels"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..3], BOM, "{b:?}");
        assert_eq!(
            csv_rows(&body)[0][0],
            "ID",
            "{b:?}: every column, the id first"
        );
        let (status, headers, body) =
            fetch(wang.req(reqwest::Method::GET, &format!("{EXPORT}?format=xlsx"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_of(&headers, "content-type"), XLSX_TYPE);
        let (_, rows) = sheet(&body);
        assert_eq!(rows[0].iter().map(text).collect::<Vec<_>>(), codes, "{b:?}");
        let (status, _, body) = fetch(wang.req(
            reqwest::Method::GET,
            &format!("{EXPORT}?format=labels,xlsx&type=customer"),
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, rows) = sheet(&body);
        assert_eq!(rows.len(), 2, "{b:?}: filtered as lists are");
        assert_eq!(text(&rows[0][0]), "ID");
        for bad in ["pdf", "labels,codes", "xlsx,csv", ""] {
            wang.get_r(&format!("{EXPORT}?format={bad}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_query", None);
        }
    }
}
