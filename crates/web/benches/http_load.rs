//! HTTP latency under load: p50 / p99 of list, deep-cursor list, filtered list, get-by-id,
//! search (Chinese substring, pinyin, phone) and create, at 16 concurrent clients.
//!
//! Fill a database first, then point the benchmark at it:
//!
//! ```sh
//! cargo run --release -- bench-data --database bench.db --accounts 1000000 --contacts 3000000
//! GUANXI_BENCH_DATABASE=bench.db cargo bench -p guanxi-web --bench http_load
//! ```
//!
//! The server runs in this process on 127.0.0.1 (port 0), so client and server share the
//! machine, as they would on a laptop install. Without `GUANXI_BENCH_DATABASE` it explains
//! itself and exits, so `cargo bench` over the workspace does not fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use guanxi_core::identity::{NewUser, auth, users};
use guanxi_core::records::cursor::Cursor;
use guanxi_core::{Core, Db, Settings, db};
use rand::seq::IndexedRandom;
use serde_json::json;

const CLIENTS: usize = 16;

struct Scenario {
    name: &'static str,
    /// Request paths (GET) or bodies (POST) to cycle through.
    requests: Vec<String>,
    post: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn run(
    base: &str,
    token: &str,
    s: &Scenario,
    per_client: usize,
) -> (Vec<Duration>, usize, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let reqs = Arc::new(s.requests.clone());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let reqs = reqs.clone();
        let base = base.to_string();
        let token = token.to_string();
        let post = s.post;
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
                        .body(r.clone())
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
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        lat.push(t.elapsed());
                    }
                    Ok(res) => {
                        errors += 1;
                        if errors == 1 {
                            eprintln!(
                                "  {} → {}: {}",
                                r,
                                res.status(),
                                res.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        eprintln!("  {r}: {e}");
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

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("GUANXI_BENCH_DATABASE") else {
        println!(
            "http_load: set GUANXI_BENCH_DATABASE to a database filled by `guanxi bench-data` (see bench/README.md); skipping."
        );
        return;
    };
    let per_client: usize = std::env::var("GUANXI_BENCH_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let core = Core::new(
        Db::open(&url).await.expect("open database"),
        Settings::default(),
    );
    let conn = core.db.reader();
    let count = |table: &str| {
        let q = format!("SELECT COUNT(*) AS n FROM {table}");
        async move { db::get_i64(&db::raw_query(conn, &q, vec![]).await.unwrap()[0], "n").unwrap() }
    };
    let (n_accounts, n_contacts) = (count("accounts").await, count("contacts").await);
    println!(
        "data: {n_accounts} accounts, {n_contacts} contacts ({:?})",
        core.db.backend()
    );

    // A user to call as (admin: sees everything, so filters do the narrowing).
    let email = format!("bench.{}@example.com", uuid::Uuid::now_v7().simple());
    let admin = users::create(
        &core.db,
        None,
        NewUser {
            email,
            name: "bench".into(),
            role: "admin".into(),
            team_id: None,
            password: "bench-password".into(),
            locale: None,
        },
    )
    .await
    .unwrap();
    let (token, _) = auth::create_token(&core.db, None, admin.id, "bench")
        .await
        .unwrap();

    // Samples to query with, drawn from the data itself.
    let sample = |q: &'static str| async move { db::raw_query(conn, q, vec![]).await.unwrap() };
    let ids: Vec<String> = sample("SELECT id FROM accounts ORDER BY random() LIMIT 5000")
        .await
        .iter()
        .map(|r| db::get_uuid(r, "id").unwrap().to_string())
        .collect();
    let owner_prov: Vec<(String, String)> = sample(
        "SELECT owner_id, billing_province FROM accounts WHERE billing_province <> '' ORDER BY random() LIMIT 200",
    )
    .await
    .iter()
    .map(|r| {
        (
            db::get_uuid(r, "owner_id").unwrap().to_string(),
            db::get_string(r, "billing_province").unwrap(),
        )
    })
    .collect();
    let names: Vec<String> =
        sample("SELECT family_name, given_name FROM contacts WHERE family_name <> '' ORDER BY random() LIMIT 2000")
            .await
            .iter()
            .map(|r| {
                format!(
                    "{}{}",
                    db::get_string(r, "family_name").unwrap(),
                    db::get_string(r, "given_name").unwrap()
                )
            })
            .filter(|n| n.chars().any(guanxi_core::search::text::is_cjk))
            .collect();
    let companies: Vec<String> = sample("SELECT name FROM accounts ORDER BY random() LIMIT 2000")
        .await
        .iter()
        .map(|r| db::get_string(r, "name").unwrap())
        .collect();
    let phones: Vec<String> = sample(
        "SELECT value FROM contact_points WHERE kind = 'phone' ORDER BY random() LIMIT 2000",
    )
    .await
    .iter()
    .map(|r| db::get_string(r, "value").unwrap())
    .collect();

    // The cursor that starts the page after the first 500,000 (or the middle on smaller data).
    let offset = (n_accounts / 2).clamp(1, 500_000) - 1;
    let row = &db::raw_query(conn, &(format!("SELECT id, created_at FROM accounts WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {offset}")), vec![]).await.unwrap()[0];
    let deep = Cursor {
        s: "-created_at".into(),
        v: json!(guanxi_core::records::service::ts_string(
            db::get_ts(row, "created_at").unwrap()
        )),
        id: db::get_uuid(row, "id").unwrap(),
    }
    .encode();

    let mut rng = rand::rng();
    let substrings: Vec<String> = companies
        .iter()
        .filter_map(|n| {
            let cs: Vec<char> = n
                .chars()
                .filter(|c| guanxi_core::search::text::is_cjk(*c))
                .collect();
            (cs.len() >= 4).then(|| cs[2..4].iter().collect())
        })
        .collect();
    let pinyin: Vec<String> = names
        .iter()
        .filter_map(|n| {
            guanxi_core::search::text::pinyin_tokens(n)
                .into_iter()
                .rev()
                .nth(1)
        })
        .collect();
    let two_char: Vec<String> = names
        .iter()
        .filter(|n| n.chars().count() == 2)
        .cloned()
        .collect();
    let phone_suffix: Vec<String> = phones
        .iter()
        .map(|p| p[p.len().saturating_sub(8)..].to_string())
        .collect();
    let pick = |v: &Vec<String>, n: usize, rng: &mut rand::rngs::ThreadRng| -> Vec<String> {
        (0..n).filter_map(|_| v.choose(rng).cloned()).collect()
    };

    let scenarios = vec![
        Scenario { name: "list, first page (50)", requests: vec!["/api/v1/accounts?limit=50".into()], post: false },
        Scenario { name: "list, first page with its total (count=true)", requests: vec!["/api/v1/accounts?limit=50&count=true".into()], post: false },
        Scenario { name: "list, first page with the exact total (count=exact)", requests: vec!["/api/v1/accounts?limit=50&count=exact".into()], post: false },
        Scenario { name: "list, page after 500,000 (cursor)", requests: vec![format!("/api/v1/accounts?limit=50&cursor={deep}")], post: false },
        Scenario {
            name: "list, filtered by owner and province",
            requests: owner_prov.iter().map(|(o, p)| format!("/api/v1/accounts?limit=50&owner_id={o}&billing_address.province={}", enc(p))).collect(),
            post: false,
        },
        Scenario { name: "get by id", requests: pick(&ids, 2000, &mut rng).into_iter().map(|i| format!("/api/v1/accounts/{i}")).collect(), post: false },
        Scenario { name: "search, Chinese substring (2 chars)", requests: pick(&substrings, 500, &mut rng).into_iter().map(|q| format!("/api/v1/search?q={}", enc(&q))).collect(), post: false },
        Scenario { name: "search, two-character name", requests: pick(&two_char, 500, &mut rng).into_iter().map(|q| format!("/api/v1/search?q={}", enc(&q))).collect(), post: false },
        Scenario { name: "search, pinyin", requests: pick(&pinyin, 500, &mut rng).into_iter().map(|q| format!("/api/v1/search?q={}", enc(&q))).collect(), post: false },
        Scenario { name: "search, phone (last 8 digits)", requests: pick(&phone_suffix, 500, &mut rng).into_iter().map(|q| format!("/api/v1/search?q={}", enc(&q))).collect(), post: false },
        Scenario {
            name: "create account",
            requests: (0..1000).map(|i| json!({"name": format!("基准测试客户{i}有限公司"), "kind": "company", "phones": [{"number": format!("1380000{:04}", i % 10000), "label": "work"}], "billing_address": {"province": "浙江省"}}).to_string()).collect(),
            post: true,
        },
    ];

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = guanxi_web::app(core.clone(), guanxi_web::WebOptions::default());
    tokio::spawn(async move { guanxi_web::serve(listener, app).await });

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
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| s.name.contains(o.as_str())))
        .collect();
    println!("\n{CLIENTS} concurrent clients, {per_client} requests each per scenario\n");
    println!("| scenario | requests | errors | p50 ms | p99 ms | max ms | req/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for s in &scenarios {
        if s.requests.is_empty() {
            println!("| {} | 0 | – | – | – | – | – |", s.name);
            continue;
        }
        // Warm up caches the way a running server has them.
        let _ = run(
            &base,
            &token,
            &Scenario {
                name: s.name,
                requests: s.requests.clone(),
                post: s.post,
            },
            5,
        )
        .await;
        let (lat, errors, wall) = run(&base, &token, s, per_client).await;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
            s.name,
            lat.len() + errors,
            errors,
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default()),
            lat.len() as f64 / wall.as_secs_f64()
        );
    }
}
