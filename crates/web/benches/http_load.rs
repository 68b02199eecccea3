//! HTTP latency under load: p50 / p99 of account and contact lists (first page, with its total,
//! deep cursor, filtered, `contains` on names), get-by-id, search (Chinese substring, pinyin,
//! phone), aggregations of opportunities and create, at 16 concurrent clients, each as an admin and as a sales rep, with the
//! server's CPU time per request and the load average beside every figure (DESIGN §10).
//!
//! Fill a database first, then point the benchmark at it:
//!
//! ```sh
//! cargo run --release -- bench-data --database bench.db --accounts 1000000 --contacts 3000000
//! GUANXI_BENCH_DATABASE=bench.db cargo bench -p guanxi-web --bench http_load
//! ```
//!
//! - `GUANXI_BENCH_REQUESTS` (default 200): requests per client per scenario.
//! - `GUANXI_BENCH_ONLY="create,first page"`: only the scenarios whose names (caller included,
//!   e.g. "get by id — sales rep") contain one of the comma-separated parts.
//! - `GUANXI_BENCH_CALLERS` (default `admin,rep`): `admin`, `rep`, or both.
//! - `GUANXI_BENCH_JOBS=1000`: that many jobs fall due at once as each create run starts, and a
//!   job runner works through them beside the server (`http_load/jobs.rs`).
//! - `GUANXI_BENCH_CLIENTS` (default 16): concurrent clients (1 gives a page's own server time).
//! - `GUANXI_BENCH_IMPORT=FILE`: a contacts import of FILE runs beside the first measured create
//!   run, which repeats until the import ends (`http_load/import.rs`).
//!
//! Besides the API scenarios: search as you type (`limit=12`, with each hit's key facts, over a
//! fixed mix of one- and two-character, pinyin-prefix and phone-prefix queries), the same
//! queries through a route only this bench adds (`/bench/search-without-hints`: the same search,
//! no key facts), and UI pages (HTML) requested with a session cookie, as a browser does:
//! among them a rep's day ("UI day: …", issue 11): the pipeline board, the team's calendar
//! week, an account's timeline and the home page. The admin joins the rep's team, so that
//! "the team" names the same people for both.
//!
//! The server runs in this process on 127.0.0.1 (port 0), so client and server share the
//! machine, as they would on a laptop install. It runs on a runtime of its own whose threads are
//! named `guanxi-srv`, so its CPU time can be told apart from the clients' in `/proc`. Without
//! `GUANXI_BENCH_DATABASE` it explains itself and exits, so `cargo bench` over the workspace does
//! not fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/admin.rs"]
mod admin;
#[path = "http_load/import.rs"]
mod import;
#[path = "http_load/jobs.rs"]
mod jobs;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use guanxi_core::db::Backend;
use guanxi_core::identity::{auth, users};
use guanxi_core::records::cursor::Cursor;
use guanxi_core::search::text::{is_cjk, pinyin_tokens};
use guanxi_core::{Core, Db, Settings, db};
use guanxi_seed::bulk::{BENCH_EMAIL_DOMAIN, RARE_LATIN_FAMILY};
use rand::seq::IndexedRandom;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// The allocator the `guanxi` binary runs with, so the server here costs what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLIENTS_DEFAULT: usize = 16;
/// The UI's session cookie (`guanxi_web::auth::SESSION_COOKIE`, private to the crate).
const SESSION_COOKIE: &str = "guanxi_session";

/// Concurrent clients: `GUANXI_BENCH_CLIENTS`, 16 by default.
fn clients() -> usize {
    std::env::var("GUANXI_BENCH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(CLIENTS_DEFAULT)
}
/// The server runtime's threads (workers and blocking pool) carry this name.
const SERVER_THREAD: &str = "guanxi-srv";
/// The clients' runtime, named so the inventory shows what is not the server.
const CLIENT_THREAD: &str = "bench-client";
/// sqlx runs each SQLite connection on a thread of its own named `sqlx-sqlite-worker-N`; the
/// kernel keeps the first 15 bytes of a thread's name. The queries' CPU time is spent there, so
/// it is the server's. (PostgreSQL's work happens in other processes and is not counted.)
const SQLITE_WORKER: &str = "sqlx-sqlite-wor";
/// The field `contains` on contacts names: the full name, computed and stored (family + given
/// for Chinese names, "given family" otherwise).
const CONTACT_NAME_FIELD: &str = "name";
/// Distinct values a sampled scenario cycles through.
const DISTINCT: usize = 60;
/// A name or word "occurs rarely" when at most this many records contain it.
const RARE_MAX: i64 = 10;

/// Who calls: a token and the SQL condition on `owner_id` that matches the records they may
/// read, to sample values from those records only (a rep's requests for records out of scope
/// would measure refusals, not reads).
struct Caller {
    label: &'static str,
    token: String,
    /// A browser session's cookie value, for the UI pages.
    session: String,
    scope: String,
}

struct Scenario {
    name: &'static str,
    /// Request paths (GET) or bodies (POST) to cycle through.
    requests: Vec<String>,
    post: bool,
    /// Sent with the session cookie (a UI page) rather than the bearer token.
    ui: bool,
}

struct Outcome {
    scenario: &'static str,
    caller: &'static str,
    requests: usize,
    errors: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    per_second: f64,
    server_cpu_ms: Option<f64>,
    load: (f64, f64),
}

/// Where a create's body takes a number of its own (eight digits).
const SEQ: &str = "#SEQ#";

/// The next number for a create's body: from a random start, so that runs on the same database
/// do not meet each other's companies either.
fn next_seq() -> String {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU64> = std::sync::OnceLock::new();
    let n = NEXT
        .get_or_init(|| std::sync::atomic::AtomicU64::new(rand::random_range(0..50_000_000)))
        .fetch_add(1, Ordering::Relaxed);
    format!("{:08}", n % 100_000_000)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// Runs `per_client` requests on each of 16 clients. Non-2xx answers count as errors and are
/// left out of the latencies; the first error of the scenario is printed (once, through
/// `reported`), so that a scenario which fails is visible rather than fast.
async fn run(
    base: &str,
    token: &str,
    session: &str,
    s: &Scenario,
    per_client: usize,
    label: &str,
    reported: &Arc<AtomicBool>,
) -> (Vec<Duration>, usize, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients())
        .build()
        .unwrap();
    let reqs = Arc::new(s.requests.clone());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients() {
        let client = client.clone();
        let reqs = reqs.clone();
        let base = base.to_string();
        let token = token.to_string();
        let session = session.to_string();
        let post = s.post;
        let ui = s.ui;
        let reported = reported.clone();
        let label = label.to_string();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            let mut errors = 0;
            for i in 0..per_client {
                let r = &reqs[(c * per_client + i) % reqs.len()];
                let t = Instant::now();
                let res = if post {
                    client
                        .post(format!("{base}/api/v1/accounts"))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(r.replace(SEQ, &next_seq()))
                        .send()
                        .await
                } else if ui {
                    client
                        .get(format!("{base}{r}"))
                        .header("cookie", format!("{SESSION_COOKIE}={session}"))
                        .send()
                        .await
                } else {
                    client
                        .get(format!("{base}{r}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                };
                match res {
                    // A UI page that ends elsewhere (the login page, after a redirect) is an
                    // error, not a fast page.
                    Ok(res) if ui && res.url().path() != r.split('?').next().unwrap_or(r) => {
                        errors += 1;
                        if !reported.swap(true, Ordering::Relaxed) {
                            eprintln!("  {label}: first error: {r} ended at {}", res.url());
                        }
                    }
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        lat.push(t.elapsed());
                    }
                    Ok(res) => {
                        errors += 1;
                        if !reported.swap(true, Ordering::Relaxed) {
                            eprintln!(
                                "  {label}: first error: {} → {}: {}",
                                r,
                                res.status(),
                                res.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if !reported.swap(true, Ordering::Relaxed) {
                            eprintln!("  {label}: first error: {r}: {e}");
                        }
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.unwrap();
        all.extend(lat);
        errors += e;
    }
    let wall = started.elapsed();
    all.sort();
    (all, errors, wall)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Text as an SQL string literal (the same on SQLite and PostgreSQL with standard strings).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// ----- the server's CPU time, from /proc -----

/// Clock ticks per second, the unit of `utime` and `stime` in `/proc/*/stat`: `AT_CLKTCK` from
/// the auxiliary vector, which is where `sysconf(_SC_CLK_TCK)` reads it (libc is not a
/// dependency here). Falls back to 100, the value on every Linux build in practice.
fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: usize = 17;
    let w = std::mem::size_of::<usize>();
    let word = |b: &[u8]| usize::from_ne_bytes(b.try_into().unwrap());
    std::fs::read("/proc/self/auxv")
        .ok()
        .and_then(|b| {
            b.chunks_exact(2 * w)
                .find(|p| word(&p[..w]) == AT_CLKTCK)
                .map(|p| word(&p[w..]) as u64)
        })
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Every thread of this process: name and CPU time (user + system) in clock ticks, by thread id.
fn threads() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        // A thread can end between listing and reading; it is then simply not in the snapshot.
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        // The name in `stat` is in parentheses and may hold spaces or parentheses itself, so
        // the fields are counted from the last ')': state is field 3, utime 14, stime 15.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        out.insert(tid, (comm.trim_end().to_string(), tick(11) + tick(12)));
    }
    out
}

fn is_server(name: &str) -> bool {
    name.starts_with(SERVER_THREAD) || name.starts_with(SQLITE_WORKER)
}

fn is_client(name: &str) -> bool {
    name.starts_with(CLIENT_THREAD)
}

/// CPU ticks the threads `which` selects used between two snapshots (threads started in
/// between count whole), and how many of them ended in between: their time after the first
/// snapshot is lost, so a figure with ended threads is a lower bound.
fn cpu_between(
    before: &HashMap<u32, (String, u64)>,
    after: &HashMap<u32, (String, u64)>,
    which: fn(&str) -> bool,
) -> (u64, usize) {
    let used = after
        .iter()
        .filter(|(_, (name, _))| which(name))
        .map(|(tid, (_, t))| t.saturating_sub(before.get(tid).map_or(0, |b| b.1)))
        .sum();
    let ended = before
        .iter()
        .filter(|(tid, (name, _))| which(name) && !after.contains_key(tid))
        .count();
    (used, ended)
}

/// Threads by name (digits dropped, so the N workers of a pool are one line).
fn inventory() -> String {
    let mut by_name: Vec<(String, usize, &'static str)> = Vec::new();
    for (name, _) in threads().into_values() {
        let base = name
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string();
        let role = if is_server(&name) {
            "server"
        } else if is_client(&name) {
            "client"
        } else {
            "other"
        };
        match by_name.iter_mut().find(|(n, _, _)| *n == base) {
            Some(e) => e.1 += 1,
            None => by_name.push((base, 1, role)),
        }
    }
    by_name.sort();
    by_name
        .iter()
        .map(|(n, k, role)| format!("{n}* ×{k} ({role})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or(f64::NAN)
}

// ----- values to query with, sampled from the records a caller may read -----

#[derive(Default)]
struct Samples {
    ids: Vec<String>,
    owner_prov: Vec<(String, String)>,
    /// Chinese full names (family + given) of contacts.
    names: Vec<String>,
    companies: Vec<String>,
    phones: Vec<String>,
    /// Rare Latin full names ("given family") and how many contacts have each.
    latin: Vec<(String, i64)>,
    /// 4 characters from account names that few accounts contain, and how many do.
    rare_words: Vec<(String, i64)>,
    /// The cursor that starts the page after the first 500,000 (or the middle on less data),
    /// and how deep that is.
    deep: (String, i64),
    /// Accounts with at least one activity about them, for their timelines.
    with_activities: Vec<String>,
}

async fn sample(conn: &DatabaseConnection, backend: Backend, scope: &str) -> Samples {
    let q = |sql: String| async move { db::raw_query(conn, &sql, vec![]).await.unwrap() };
    let mut s = Samples::default();
    let accounts = q(format!(
        "SELECT id, owner_id, billing_province, name FROM accounts
         WHERE deleted_at IS NULL AND {scope} ORDER BY random() LIMIT 5000"
    ))
    .await;
    for r in &accounts {
        s.ids.push(db::get_uuid(r, "id").unwrap().to_string());
        let province = db::get_string(r, "billing_province").unwrap_or_default();
        if !province.is_empty() && s.owner_prov.len() < 200 {
            s.owner_prov
                .push((db::get_uuid(r, "owner_id").unwrap().to_string(), province));
        }
        s.companies.push(db::get_string(r, "name").unwrap());
    }
    s.names = q(format!(
        "SELECT family_name, given_name FROM contacts
         WHERE deleted_at IS NULL AND family_name <> '' AND {scope} ORDER BY random() LIMIT 5000"
    ))
    .await
    .iter()
    .map(|r| {
        format!(
            "{}{}",
            db::get_string(r, "family_name").unwrap(),
            db::get_string(r, "given_name").unwrap()
        )
    })
    .filter(|n| n.chars().any(is_cjk))
    .collect();
    // Phones of a random 1,000 accounts and 1,000 contacts, found through the contact points'
    // primary key (record, kind, value) rather than by sorting every contact point.
    s.phones = q(format!(
        "SELECT value FROM contact_points WHERE kind = 'phone' AND record_id IN
           (SELECT id FROM accounts WHERE {scope} ORDER BY random() LIMIT 1000)
         UNION ALL
         SELECT value FROM contact_points WHERE kind = 'phone' AND record_id IN
           (SELECT id FROM contacts WHERE {scope} ORDER BY random() LIMIT 1000)"
    ))
    .await
    .iter()
    .map(|r| db::get_string(r, "value").unwrap())
    .collect();

    // Rare Latin names: bench-data gives about 1 contact in 200 a name from its own lists
    // (`guanxi_seed::bulk`). Counted over all contacts, since the admin sees them all; kept
    // only where the caller may read at least one.
    let families = RARE_LATIN_FAMILY
        .iter()
        .map(|f| lit(f))
        .collect::<Vec<_>>()
        .join(", ");
    s.latin = q(format!(
        "SELECT given_name, family_name, COUNT(*) AS n,
                COUNT(CASE WHEN {scope} THEN 1 END) AS readable
         FROM contacts WHERE deleted_at IS NULL AND family_name IN ({families})
         GROUP BY given_name, family_name ORDER BY random()"
    ))
    .await
    .iter()
    .filter(|r| db::get_i64(r, "readable").unwrap() > 0)
    .map(|r| {
        (
            format!(
                "{} {}",
                db::get_string(r, "given_name").unwrap(),
                db::get_string(r, "family_name").unwrap()
            ),
            db::get_i64(r, "n").unwrap(),
        )
    })
    .filter(|(_, n)| *n <= RARE_MAX)
    .take(DISTINCT)
    .collect();

    // A rare word: 4 characters of a Chinese company name after its first two (city +
    // 字号 + 行业 + 组织形式 makes that the 字号 and the start of the trade, or the end of a
    // longer city and the 字号), kept when few accounts contain it. One scan counts them all.
    let mut candidates: Vec<String> = Vec::new();
    for name in &s.companies {
        let cs: Vec<char> = name.chars().collect();
        if cs.len() >= 8 && cs.iter().all(|c| is_cjk(*c)) {
            let w: String = cs[2..6].iter().collect();
            if !candidates.contains(&w) {
                candidates.push(w);
            }
        }
        if candidates.len() == 80 {
            break;
        }
    }
    if !candidates.is_empty() {
        let find = match backend {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        let counts = candidates
            .iter()
            .enumerate()
            .map(|(i, w)| {
                format!(
                    "COUNT(CASE WHEN {find}(name, {}) > 0 THEN 1 END) AS n{i}",
                    lit(w)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let row = &q(format!(
            "SELECT {counts} FROM accounts WHERE deleted_at IS NULL"
        ))
        .await[0];
        s.rare_words = candidates
            .into_iter()
            .enumerate()
            .map(|(i, w)| (w, db::get_i64(row, &format!("n{i}")).unwrap()))
            .filter(|(_, n)| *n <= RARE_MAX)
            .take(DISTINCT)
            .collect();
    }

    let visible = db::get_i64(
        &q(format!(
            "SELECT COUNT(*) AS n FROM accounts WHERE deleted_at IS NULL AND {scope}"
        ))
        .await[0],
        "n",
    )
    .unwrap();
    let offset = (visible / 2).clamp(1, 500_000) - 1;
    let rows = q(format!(
        "SELECT id, created_at FROM accounts WHERE deleted_at IS NULL AND {scope}
         ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {offset}"
    ))
    .await;
    if let Some(row) = rows.first() {
        let cursor = Cursor {
            s: "-created_at".into(),
            v: json!(guanxi_core::records::service::ts_string(
                db::get_ts(row, "created_at").unwrap()
            )),
            id: db::get_uuid(row, "id").unwrap(),
            o: None,
        }
        .encode();
        s.deep = (cursor, offset + 1);
    }
    // Accounts the caller may read with activities about them (none before bench-data's
    // `--activities`).
    s.with_activities = q(format!(
        "SELECT a.id FROM accounts a WHERE a.deleted_at IS NULL AND {scope}
         AND EXISTS (SELECT 1 FROM activities t WHERE t.regarding_entity = 'account'
                     AND t.regarding_id = a.id AND t.deleted_at IS NULL)
         ORDER BY random() LIMIT 200"
    ))
    .await
    .iter()
    .map(|r| db::get_uuid(r, "id").unwrap().to_string())
    .collect();
    s
}

/// The scenarios, in the order they run, with requests built from one caller's samples.
fn scenarios(s: &Samples) -> Vec<Scenario> {
    let mut rng = rand::rng();
    let mut pick = |v: &[String], n: usize| -> Vec<String> {
        (0..n).filter_map(|_| v.choose(&mut rng).cloned()).collect()
    };
    let get = |name: &'static str, requests: Vec<String>| Scenario {
        name,
        requests,
        post: false,
        ui: false,
    };
    let page = |name: &'static str, requests: Vec<String>| Scenario {
        name,
        requests,
        post: false,
        ui: true,
    };
    // Search as you type (issue 10): what people type first, 12 suggestions, each with its key
    // facts. The same queries through the bench's own route give the search without the facts.
    let typed = |path: &str, qs: &[&str]| -> Vec<String> {
        qs.iter()
            .map(|q| format!("{path}?q={}&limit=12", enc(q)))
            .collect()
    };
    const TYPED: [&str; 6] = ["张", "中太", "zhon", "bjzt", "138", "0571"];
    let search = |qs: Vec<String>| -> Vec<String> {
        qs.iter()
            .map(|q| format!("/api/v1/search?q={}", enc(q)))
            .collect()
    };
    let contains = |entity: &str, field: &str, values: &[String]| -> Vec<String> {
        values
            .iter()
            .map(|v| {
                let f = json!({"field": field, "op": "contains", "value": v}).to_string();
                format!("/api/v1/{entity}?limit=50&filter={}", enc(&f))
            })
            .collect()
    };
    let distinct = |v: &mut Vec<String>| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|x| seen.insert(x.clone()));
        v.truncate(DISTINCT);
    };

    let substrings: Vec<String> = s
        .companies
        .iter()
        .filter_map(|n| {
            let cs: Vec<char> = n.chars().filter(|c| is_cjk(*c)).collect();
            (cs.len() >= 4).then(|| cs[2..4].iter().collect())
        })
        .collect();
    let pinyin: Vec<String> = s
        .names
        .iter()
        .filter_map(|n| pinyin_tokens(n).into_iter().rev().nth(1))
        .collect();
    let two_char: Vec<String> = s
        .names
        .iter()
        .filter(|n| n.chars().count() == 2)
        .cloned()
        .collect();
    let mut two_char_distinct = two_char.clone();
    distinct(&mut two_char_distinct);
    let phone_suffix: Vec<String> = s
        .phones
        .iter()
        .map(|p| p[p.len().saturating_sub(8)..].to_string())
        .collect();
    let latin: Vec<String> = s.latin.iter().map(|(n, _)| n.clone()).collect();
    let rare_words: Vec<String> = s.rare_words.iter().map(|(w, _)| w.clone()).collect();

    vec![
        get(
            "list, first page (50)",
            vec!["/api/v1/accounts?limit=50".into()],
        ),
        get(
            "list, first page with its total (count=true)",
            vec!["/api/v1/accounts?limit=50&count=true".into()],
        ),
        get(
            "list, first page with the exact total (count=exact)",
            vec!["/api/v1/accounts?limit=50&count=exact".into()],
        ),
        get(
            "list, deep page (cursor)",
            if s.deep.0.is_empty() {
                vec![]
            } else {
                vec![format!("/api/v1/accounts?limit=50&cursor={}", s.deep.0)]
            },
        ),
        get(
            "list, filtered by owner and province",
            s.owner_prov
                .iter()
                .map(|(o, p)| {
                    format!(
                        "/api/v1/accounts?limit=50&owner_id={o}&billing_address.province={}",
                        enc(p)
                    )
                })
                .collect(),
        ),
        get(
            "get by id",
            pick(&s.ids, 2000)
                .into_iter()
                .map(|i| format!("/api/v1/accounts/{i}"))
                .collect(),
        ),
        // Read from the running totals: with no filter, every deal counts.
        get(
            "opportunities, aggregate by owner and month",
            vec!["/api/v1/opportunities/aggregate?group=owner_id,close_date:month&measure=count,sum:amount".into()],
        ),
        get(
            "opportunities, aggregate by stage",
            vec!["/api/v1/opportunities/aggregate?group=stage_id&measure=count,sum:amount".into()],
        ),
        get(
            "contacts, first page (50)",
            vec!["/api/v1/contacts?limit=50".into()],
        ),
        get(
            "contacts, first page with its total (count=true)",
            vec!["/api/v1/contacts?limit=50&count=true".into()],
        ),
        get(
            "contacts, name contains a rare Latin name",
            contains("contacts", CONTACT_NAME_FIELD, &latin),
        ),
        get(
            "contacts, name contains a two-character Chinese name",
            contains("contacts", CONTACT_NAME_FIELD, &two_char_distinct),
        ),
        get(
            "accounts, name contains a rare word",
            contains("accounts", "name", &rare_words),
        ),
        get(
            "search, Chinese substring (2 chars)",
            search(pick(&substrings, 500)),
        ),
        get("search, two-character name", search(pick(&two_char, 500))),
        get("search, pinyin", search(pick(&pinyin, 500))),
        get(
            "search, phone (last 8 digits)",
            search(pick(&phone_suffix, 500)),
        ),
        get(
            "search as you type (limit=12, with key facts), mix",
            typed("/api/v1/search", &TYPED),
        ),
        get(
            "search as you type, without key facts (bench route), mix",
            typed("/bench/search-without-hints", &TYPED),
        ),
        get("search as you type: 张", typed("/api/v1/search", &["张"])),
        get(
            "search as you type, without key facts: 张",
            typed("/bench/search-without-hints", &["张"]),
        ),
        get("search as you type: 中太", typed("/api/v1/search", &["中太"])),
        get("search as you type: zhon", typed("/api/v1/search", &["zhon"])),
        get("search as you type: bjzt", typed("/api/v1/search", &["bjzt"])),
        get("search as you type: 138", typed("/api/v1/search", &["138"])),
        get("search as you type: 0571", typed("/api/v1/search", &["0571"])),
        get(
            "search as you type, accounts only (entity=accounts), mix",
            typed("/api/v1/search", &TYPED)
                .into_iter()
                .map(|r| format!("{r}&entity=accounts"))
                .collect(),
        ),
        page("UI page /accounts (HTML, with its total)", vec!["/accounts".into()]),
        page("UI page /contacts", vec!["/contacts".into()]),
        page("UI page /opportunities", vec!["/opportunities".into()]),
        page(
            "UI page, an account",
            pick(&s.ids, 200)
                .into_iter()
                .map(|i| format!("/accounts/{i}"))
                .collect(),
        ),
        page("UI page /accounts/new", vec!["/accounts/new".into()]),
        // A rep's day (issue 11): the pipeline board's first page (the first pipeline, 50
        // cards per stage), the team's calendar this week, an account's timeline, the home
        // page for oneself and for the whole team.
        page(
            "UI day: board, first page (first pipeline)",
            vec!["/opportunities/board".into()],
        ),
        page(
            "UI day: calendar, team, this week",
            vec!["/activities/calendar?view=week&who=team".into()],
        ),
        page(
            "UI day: an account's timeline",
            s.with_activities
                .iter()
                .map(|i| format!("/accounts/{i}?tab=timeline"))
                .collect(),
        ),
        page("UI day: home", vec!["/".into()]),
        page("UI day: home, whole team (who=team)", vec!["/?who=team".into()]),
        page("UI page /search?q=张", vec![format!("/search?q={}", enc("张"))]),
        Scenario {
            name: "create account",
            // Each request a new company: its name and phone carry a number no other request of
            // the process sends (`SEQ`), or the duplicate check would refuse the second round.
            requests: vec![
                json!({
                    "name": format!("基准测试客户{SEQ}有限公司"),
                    "kind": "company",
                    "phones": [{"number": format!("199{SEQ}"), "label": "work"}],
                    "billing_address": {"province": "浙江省"},
                })
                .to_string(),
            ],
            post: true,
            ui: false,
        },
    ]
}

fn main() {
    let Ok(url) = std::env::var("GUANXI_BENCH_DATABASE") else {
        println!(
            "http_load: set GUANXI_BENCH_DATABASE to a database filled by `guanxi bench-data` (see bench/README.md); skipping."
        );
        return;
    };
    // Two runtimes, so that the server's threads carry a name of their own and its CPU time can
    // be read per thread: client and server share this process and the two cores. Idle
    // threads are kept for the whole run because a thread that ends takes its CPU time with it.
    let runtime = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name(name)
            .thread_keep_alive(Duration::from_secs(24 * 3600))
            .enable_all()
            .build()
            .unwrap()
    };
    let server = runtime(SERVER_THREAD);
    let clients = runtime(CLIENT_THREAD);
    clients.block_on(bench(url, server.handle().clone()));
}

async fn bench(url: String, server: tokio::runtime::Handle) {
    let per_client: usize = std::env::var("GUANXI_BENCH_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let callers_wanted: Vec<String> = std::env::var("GUANXI_BENCH_CALLERS")
        .unwrap_or_else(|_| "admin,rep".into())
        .split(',')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    for c in &callers_wanted {
        assert!(
            c == "admin" || c == "rep",
            "GUANXI_BENCH_CALLERS: '{c}' is neither admin nor rep"
        );
    }
    // The pool is opened on the server's runtime, so the tasks it spawns run there.
    let core = server
        .spawn(async move {
            Core::new(
                Db::open(&url).await.expect("open database"),
                Settings::default(),
            )
        })
        .await
        .unwrap();
    let conn = core.db.reader();
    let backend = core.db.backend();
    let count = |table: &str| {
        let q = format!("SELECT COUNT(*) AS n FROM {table}");
        async move { db::get_i64(&db::raw_query(conn, &q, vec![]).await.unwrap()[0], "n").unwrap() }
    };
    let (n_accounts, n_contacts) = (count("accounts").await, count("contacts").await);
    let (n_opportunities, n_activities) = (count("opportunities").await, count("activities").await);
    println!(
        "data: {n_accounts} accounts, {n_contacts} contacts, {n_opportunities} opportunities, \
         {n_activities} activities ({backend:?})"
    );
    // The rep's team (bench-data's first team), which the admin joins too, so that "the
    // caller's team" means the same people on the admin's calendar.
    let bench_team = db::raw_query(
        conn,
        &format!(
            "SELECT team_id FROM users WHERE role = 'sales' AND team_id IS NOT NULL
             ORDER BY CASE WHEN email LIKE {} THEN 0 ELSE 1 END, email LIMIT 1",
            lit(&format!("%@{BENCH_EMAIL_DOMAIN}"))
        ),
        vec![],
    )
    .await
    .unwrap()
    .first()
    .and_then(|r| db::get_opt_uuid(r, "team_id").ok().flatten());

    let mut callers = Vec::new();
    if callers_wanted.iter().any(|c| c == "admin") {
        // An admin sees everything, so filters do the narrowing. A new one each run (owning
        // nothing); earlier runs' admins leave the team first, or it grew with every run.
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(
            &txn,
            "UPDATE users SET team_id = NULL, version = version + 1 \
             WHERE role = 'admin' AND email LIKE 'bench.%@example.com' AND team_id IS NOT NULL",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let (admin, token) = admin::admin(&core, "bench", bench_team).await;
        let session = auth::create_session(&core.db, &core.settings, admin)
            .await
            .unwrap()
            .token;
        callers.push(Caller {
            label: "admin",
            token,
            session,
            scope: "1 = 1".into(),
        });
    }
    if callers_wanted.iter().any(|c| c == "rep") {
        // The first sales rep bench-data made (a team of a manager and four reps): reads their
        // own and their team-mates' records, writes their own.
        let rows = db::raw_query(
            conn,
            &format!(
                "SELECT email FROM users WHERE role = 'sales' AND team_id IS NOT NULL
                 ORDER BY CASE WHEN email LIKE {} THEN 0 ELSE 1 END, email LIMIT 1",
                lit(&format!("%@{BENCH_EMAIL_DOMAIN}"))
            ),
            vec![],
        )
        .await
        .unwrap();
        let email = db::get_string(
            rows.first()
                .expect("no sales rep among the bench users: fill the database with bench-data"),
            "email",
        )
        .unwrap();
        let rep = users::find_by_email(&core.db, &email)
            .await
            .unwrap()
            .unwrap();
        let (token, _) = auth::create_token(&core.db, None, rep.id, "bench")
            .await
            .unwrap();
        let session = auth::create_session(&core.db, &core.settings, rep.id)
            .await
            .unwrap()
            .token;
        println!("sales rep: {email}");
        callers.push(Caller {
            label: "sales rep",
            token,
            session,
            scope: format!(
                "owner_id IN (SELECT id FROM users WHERE team_id =
                   (SELECT team_id FROM users WHERE email = {}))",
                lit(&email)
            ),
        });
    }

    // Samples to query with, drawn from the data each caller may read.
    let mut plans: Vec<Vec<Scenario>> = Vec::new();
    for c in &callers {
        let t = Instant::now();
        let s = sample(conn, backend, &c.scope).await;
        let max = |v: &[(String, i64)]| v.iter().map(|x| x.1).max().unwrap_or(0);
        println!(
            "samples for {} ({:.1} s): {} accounts, {} Chinese names, {} phones, \
             {} rare Latin names (each in at most {} contacts), {} rare words (each in at most {} accounts), \
             deep cursor after {} accounts",
            c.label,
            t.elapsed().as_secs_f64(),
            s.ids.len(),
            s.names.len(),
            s.phones.len(),
            s.latin.len(),
            max(&s.latin),
            s.rare_words.len(),
            max(&s.rare_words),
            s.deep.1,
        );
        plans.push(scenarios(&s));
    }

    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let app_core = core.clone();
    server.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        let app = guanxi_web::app(app_core.clone(), guanxi_web::WebOptions::default())
            .merge(without_hints(app_core));
        guanxi_web::serve(listener, app).await
    });
    let base = format!("http://{}", addr_rx.await.unwrap());
    let job_load = jobs::wanted();
    let mut import_file = import::wanted();
    if job_load > 0 {
        jobs::start_runner(&server, &core).await;
    }

    // `GUANXI_BENCH_ONLY=create,first page` runs the scenarios whose names contain one of the
    // comma-separated parts, for a before-and-after of one change without the slow ones.
    let only: Vec<String> = std::env::var("GUANXI_BENCH_ONLY")
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let ticks = clock_ticks_per_second() as f64;
    println!(
        "\n{} concurrent clients, {per_client} requests each per scenario; CPU clock {ticks} ticks/s",
        clients()
    );
    println!("threads: {}\n", inventory());

    let mut results: Vec<Outcome> = Vec::new();
    let n_scenarios = plans.first().map_or(0, Vec::len);
    for i in 0..n_scenarios {
        for (c, plan) in callers.iter().zip(&plans) {
            let s = &plan[i];
            let full = format!("{} — {}", s.name, c.label);
            if !(only.is_empty() || only.iter().any(|o| full.contains(o.as_str()))) {
                continue;
            }
            if s.requests.is_empty() {
                println!("{full}: nothing to ask for in this data, skipped");
                results.push(Outcome {
                    scenario: s.name,
                    caller: c.label,
                    requests: 0,
                    errors: 0,
                    p50: Duration::ZERO,
                    p95: Duration::ZERO,
                    p99: Duration::ZERO,
                    per_second: 0.0,
                    server_cpu_ms: None,
                    load: (f64::NAN, f64::NAN),
                });
                continue;
            }
            let reported = Arc::new(AtomicBool::new(false));
            // Warm up caches the way a running server has them.
            let _ = run(&base, &c.token, &c.session, s, 5, &full, &reported).await;
            let batch = if s.post && job_load > 0 {
                Some(jobs::queue(&core, job_load).await)
            } else {
                None
            };
            let load_before = load_average();
            let before = threads();
            let importing = match import_file.take() {
                Some(file) if s.post => Some(import::start(&server, &core, file).await),
                other => {
                    import_file = other;
                    None
                }
            };
            let (mut lat, mut errors, mut wall) =
                run(&base, &c.token, &c.session, s, per_client, &full, &reported).await;
            // Beside an import, rounds follow each other until it ends.
            while importing.as_ref().is_some_and(|i| !i.finished()) {
                let (more, more_errors, more_wall) =
                    run(&base, &c.token, &c.session, s, per_client, &full, &reported).await;
                lat.extend(more);
                errors += more_errors;
                wall += more_wall;
            }
            lat.sort();
            let after = threads();
            let load_after = load_average();
            let requests = lat.len() + errors;
            let (server_ticks, ended) = cpu_between(&before, &after, is_server);
            // Everything else in the process: the clients, and the thread that drives them.
            let (rest_ticks, _) = cpu_between(&before, &after, |n| !is_server(n));
            let per_request = |t: u64| t as f64 * 1000.0 / ticks / requests as f64;
            let o = Outcome {
                scenario: s.name,
                caller: c.label,
                requests,
                errors,
                p50: percentile(&lat, 0.50),
                p95: percentile(&lat, 0.95),
                p99: percentile(&lat, 0.99),
                per_second: lat.len() as f64 / wall.as_secs_f64(),
                // Beside an import the server's time is mostly the import's.
                server_cpu_ms: importing.is_none().then(|| per_request(server_ticks)),
                load: (load_before, load_after),
            };
            println!(
                "{full}: {} requests, {} errors, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {:.0} req/s, \
                 server CPU {:.2} ms/req (rest of the process {:.2}), load {:.2} → {:.2}{}",
                o.requests,
                o.errors,
                ms(o.p50),
                ms(o.p95),
                ms(o.p99),
                o.per_second,
                per_request(server_ticks),
                per_request(rest_ticks),
                load_before,
                load_after,
                if ended > 0 {
                    format!(
                        " ({ended} server threads ended during the run: their CPU time is missing)"
                    )
                } else {
                    String::new()
                }
            );
            results.push(o);
            if let Some(importing) = importing {
                importing.report().await;
            }
            if let Some(batch) = batch {
                jobs::report(&core, batch).await;
            }
        }
    }
    println!("\nthreads: {}", inventory());

    println!(
        "\n| scenario | caller | requests | errors | p50 ms | p95 ms | p99 ms | req/s | server CPU ms/req | load before→after |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for o in &results {
        if o.requests == 0 {
            println!(
                "| {} | {} | 0 | – | – | – | – | – | – | – |",
                o.scenario, o.caller
            );
            continue;
        }
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {:.2} → {:.2} |",
            o.scenario,
            o.caller,
            o.requests,
            o.errors,
            ms(o.p50),
            ms(o.p95),
            ms(o.p99),
            o.per_second,
            o.server_cpu_ms.map_or("–".into(), |c| format!("{c:.2}")),
            o.load.0,
            o.load.1
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `/bench/search-without-hints?q=…&limit=…`: the global search as `/api/v1/search` runs it, for
/// the bearer token's user, without each hit's key facts, to tell the search's time from the
/// facts'. Only this bench serves it.
fn without_hints(core: Core) -> axum::Router {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    async fn handler(
        State(core): State<Core>,
        headers: HeaderMap,
        Query(p): Query<HashMap<String, String>>,
    ) -> Result<axum::Json<serde_json::Value>, StatusCode> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let actor = auth::token_actor(&core, token)
            .await
            .map_err(|_| StatusCode::UNAUTHORIZED)?;
        let q = p.get("q").cloned().unwrap_or_default();
        let limit = p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(20);
        let hits = guanxi_core::search::search(&core.db, &actor, &q, core.registry.all(), limit)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let data: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| json!({"entity": h.entity, "id": h.id, "title": h.title}))
            .collect();
        Ok(axum::Json(json!({ "data": data })))
    }
    axum::Router::new()
        .route("/bench/search-without-hints", axum::routing::get(handler))
        .with_state(core)
}
