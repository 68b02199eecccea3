//! The demo data set and the benchmark loader, on SQLite always and on PostgreSQL when
//! `GUANXI_TEST_POSTGRES_URL` is set.

use std::collections::HashSet;
use std::time::Instant;

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::authz::{Actor, Role};
use guanxi_core::db::Backend;
use guanxi_core::identity::{auth, users};
use guanxi_core::records::{ListQuery, values};
use guanxi_core::search::{self, text};
use guanxi_core::{Core, Db, EntityDef, Settings, audit};
use guanxi_seed::{bulk, demo};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

/// Every live record of an entity, through the service.
async fn all_records(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
) -> Vec<serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = core
            .records(def)
            .list(
                actor,
                &ListQuery {
                    limit: 500,
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// Each stored field is what the service's validation makes of it: nothing slipped past it.
fn assert_canonical(def: &EntityDef, rec: &serde_json::Map<String, Value>, settings: &Settings) {
    for f in def.fields {
        if f.computed {
            continue;
        }
        let v = rec.get(f.name).unwrap_or(&Value::Null);
        let c = values::canonical(&f.kind, v, settings)
            .unwrap_or_else(|e| panic!("{} {}: {v} is invalid: {e}", def.name, f.name));
        assert_eq!(&c, v, "{} {} is not in canonical form", def.name, f.name);
    }
}

fn ids(hits: &[search::Hit]) -> HashSet<String> {
    hits.iter().map(|h| h.id.to_string()).collect()
}

#[tokio::test]
async fn demo_data_is_complete_valid_searchable_and_seeded_once() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let started = Instant::now();
        let summary = demo::seed_demo(&core).await.unwrap();
        eprintln!(
            "seed_demo on {backend:?}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(summary.created);
        assert_eq!(summary.admin_email, demo::DEMO_ADMIN_EMAIL);
        assert_eq!(summary.password, demo::DEMO_PASSWORD);
        assert!(summary.accounts >= 200, "{} accounts", summary.accounts);
        assert!(summary.contacts >= 600, "{} contacts", summary.contacts);
        assert_eq!(summary.teams.len(), 3);

        let all_users = users::list(&core.db).await.unwrap();
        for role in Role::ALL {
            assert!(
                all_users.iter().any(|u| u.role == role),
                "no demo user with role {role}"
            );
        }
        let locales: HashSet<&str> = all_users.iter().map(|u| u.locale.as_str()).collect();
        assert!(locales.contains("zh-CN") && locales.contains("en"));
        auth::login(
            &core.db,
            &core.settings,
            demo::DEMO_ADMIN_EMAIL,
            demo::DEMO_PASSWORD,
            "test",
        )
        .await
        .unwrap();

        let admin = users::actor_for(
            &core,
            &users::find_by_email(&core.db, demo::DEMO_ADMIN_EMAIL)
                .await
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap();
        let accounts = all_records(&core, &admin, &ACCOUNTS).await;
        let contacts = all_records(&core, &admin, &CONTACTS).await;
        assert_eq!(accounts.len() as u64, summary.accounts);
        assert_eq!(contacts.len() as u64, summary.contacts);

        // Every demo user who sells has deals in every stage of both pipelines, won and lost
        // ones this quarter: their boards look lived in.
        let pipelines = core
            .records(&guanxi_core::areas::sales::PIPELINES)
            .list(
                &admin,
                &ListQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        assert_eq!(pipelines.len(), 2);
        let sellers: Vec<_> = all_users
            .iter()
            .filter(|u| matches!(u.role, Role::Sales | Role::Manager))
            .collect();
        assert_eq!(sellers.len(), 4);
        for u in sellers {
            let actor = users::actor_for(&core, u).await.unwrap();
            let own = guanxi_core::records::Filter::Cond {
                field: "owner_id".into(),
                op: guanxi_core::records::FilterOp::Eq,
                value: json!(u.id.to_string()),
            };
            for p in &pipelines {
                let board = core
                    .records(&guanxi_core::areas::sales::OPPORTUNITIES)
                    .board(&actor, p, Some(own.clone()))
                    .await
                    .unwrap();
                for c in &board.columns {
                    assert!(
                        c.count > 0 && !c.sums.is_empty(),
                        "{backend:?}: {} has no deal in stage {} of {}",
                        u.email,
                        c.line,
                        p["name"]
                    );
                }
            }
        }

        // Every record went through the service: valid, audited, owned by a sales user or the
        // manager, and the data has the variety the demo promises.
        let mut owners = HashSet::new();
        let mut provinces = HashSet::new();
        let mut countries = HashSet::new();
        for (def, recs) in [(&ACCOUNTS, &accounts), (&CONTACTS, &contacts)] {
            for (i, rec) in recs.iter().enumerate() {
                assert_canonical(def, rec, &core.settings);
                owners.insert(rec["owner_id"].as_str().unwrap().to_string());
                if i % 25 == 0 {
                    let id = Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap();
                    let history = audit::history(&core.db, id, 10).await.unwrap();
                    assert!(
                        history.iter().any(|e| e.action == "create"),
                        "{} {id} has no audit row",
                        def.name
                    );
                }
            }
        }
        for a in &accounts {
            let addr = &a["billing_address"];
            countries.insert(addr["country"].as_str().unwrap_or("").to_string());
            if addr["country"] == "CN" {
                provinces.insert(addr["province"].as_str().unwrap().to_string());
            }
        }
        for c in ["CN", "US", "DE", "GB", "JP", "SG"] {
            assert!(countries.contains(c), "no account in {c}");
        }
        assert!(provinces.len() >= 8, "{provinces:?}");
        assert!(owners.len() >= 4);
        assert!(
            accounts
                .iter()
                .filter(|a| !a["parent_id"].is_null())
                .count()
                >= 5
        );
        assert!(accounts.iter().any(|a| a["kind"] == "person"));
        assert!(
            accounts
                .iter()
                .any(|a| a["custom"]["customer_level"].is_string())
        );
        assert!(contacts.iter().any(|c| c["custom"]["hobby"].is_string()));
        assert!(
            contacts
                .iter()
                .filter(|c| c["account_id"].is_null())
                .count()
                >= 20
        );

        // A year of work, not one afternoon: records came in over the past year, in office
        // hours, contacts after their company, and some changed months after they came in.
        let now = chrono::Utc::now();
        let at = |r: &serde_json::Map<String, serde_json::Value>, k: &str| {
            chrono::DateTime::parse_from_rfc3339(r[k].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let ages: Vec<i64> = accounts
            .iter()
            .map(|a| (now - at(a, "created_at")).num_days())
            .collect();
        assert!(ages.iter().all(|d| (0..=366).contains(d)), "{ages:?}");
        assert!(
            ages.iter().any(|d| *d > 300) && ages.iter().any(|d| *d < 90),
            "{ages:?}"
        );
        let by_id: std::collections::HashMap<&str, &serde_json::Map<String, serde_json::Value>> =
            accounts
                .iter()
                .map(|a| (a["id"].as_str().unwrap(), a))
                .collect();
        for c in &contacts {
            if let Some(acc) = c["account_id"].as_str().and_then(|id| by_id.get(id)) {
                assert!(at(c, "created_at") > at(acc, "created_at"), "{c:?}");
            }
        }
        let changed_later = accounts
            .iter()
            .filter(|a| (at(a, "updated_at") - at(a, "created_at")).num_days() >= 7)
            .count();
        assert!(
            changed_later >= 20,
            "{changed_later} accounts changed a week or more later"
        );

        // The records the documentation mentions are found the ways it says.
        let find = |q: &'static str| {
            let core = core.clone();
            let admin = admin.clone();
            async move {
                search::search(&core.db, &admin, q, &[&ACCOUNTS, &CONTACTS], 20)
                    .await
                    .unwrap()
            }
        };
        let hits = find("中太").await;
        assert!(
            hits.iter().any(|h| h.title == "北京中太数据科技有限公司"),
            "{hits:?}"
        );
        assert!(
            find("zhongtai")
                .await
                .iter()
                .any(|h| h.title == "北京中太数据科技有限公司")
        );
        for q in ["张三", "zhangsan", "zs"] {
            assert!(
                find(q).await.iter().any(|h| h.title == "张三"),
                "{q} does not find 张三"
            );
        }
        let hits = find("王芳").await;
        assert_eq!(
            hits.first().map(|h| h.title.as_str()),
            Some("王芳"),
            "{hits:?}"
        );
        assert!(hits.iter().any(|h| h.title == "王芳芳"));
        assert!(
            find("Acme")
                .await
                .iter()
                .any(|h| h.title == "Acme Robotics GmbH")
        );
        assert!(
            find("Northwind")
                .await
                .iter()
                .any(|h| h.title == "Northwind Traders Ltd.")
        );

        // Follow-ups of every kind, and tasks both late and still to come.
        for kind in ["call", "visit", "meeting", "note", "task"] {
            let n = count(&core, &format!("activities WHERE kind = '{kind}'")).await;
            assert!(n >= 20, "{n} demo activities of kind {kind}");
        }
        let now = guanxi_core::records::service::ts_string(chrono::Utc::now());
        for (side, op) in [("late", "<"), ("coming", ">=")] {
            let n = count(
                &core,
                &format!("activities WHERE kind = 'task' AND NOT done AND due_at {op} '{now}'"),
            )
            .await;
            assert!(n >= 5, "{n} {side} tasks");
        }

        // Insights: every insight that needs only the ledgers has a number on at least 80 % of
        // the customer accounts, and the churn model passed its out-of-time test.
        let customers = count(
            &core,
            "accounts WHERE account_type = 'customer' AND deleted_at IS NULL",
        )
        .await;
        for insight in [
            "tier",
            "rfm_segment",
            "lifecycle_stage",
            "value_decile",
            "p_alive",
            "clv",
            "churn_risk",
            "churn_decile",
        ] {
            let kind = if ["tier", "rfm_segment", "lifecycle_stage"].contains(&insight) {
                format!("{insight} <> ''")
            } else {
                format!("{insight} IS NOT NULL")
            };
            let n = count(
                &core,
                &format!(
                    "account_insights i JOIN accounts a ON a.id = i.account_id \
                     WHERE a.account_type = 'customer' AND {kind}"
                ),
            )
            .await;
            assert!(
                n * 10 >= customers * 8,
                "{backend:?}: {insight} on {n} of {customers} customers"
            );
        }
        let models = guanxi_core::insights::models::recent(core.db.reader(), 5)
            .await
            .unwrap();
        let churn = models.first().expect("a churn model");
        let auc = churn
            .evaluation
            .as_ref()
            .and_then(|e| e.test.as_ref())
            .and_then(|t| t.auc)
            .unwrap();
        eprintln!("demo churn model on {backend:?}: out-of-time AUC {auc:.3}");
        assert!(churn.accepted() && auc >= 0.65, "{backend:?}: {churn:?}");

        // Idempotent.
        let again = demo::seed_demo(&core).await.unwrap();
        assert!(!again.created);
        assert_eq!(
            (again.accounts, again.contacts),
            (summary.accounts, summary.contacts)
        );
        assert_eq!(again.users.len(), summary.users.len());
        assert_eq!(users::list(&core.db).await.unwrap().len(), all_users.len());
        fresh.cleanup(core).await;
    }
}

async fn count(core: &Core, table: &str) -> i64 {
    let rows = guanxi_core::db::raw_query(
        core.db.reader(),
        &format!("SELECT COUNT(*) AS n FROM {table}"),
        vec![],
    )
    .await
    .unwrap();
    guanxi_core::db::get_i64(&rows[0], "n").unwrap()
}

/// Every index and trigger with its definition, to check that a load leaves the schema as it was.
async fn schema(core: &Core) -> Vec<(String, String)> {
    let sql = match core.db.backend() {
        Backend::Sqlite => {
            "SELECT name, COALESCE(sql, '') AS def FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
        }
    };
    let rows = guanxi_core::db::raw_query(core.db.reader(), sql, vec![])
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                guanxi_core::db::get_string(r, "name").unwrap(),
                guanxi_core::db::get_string(r, "def").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn bench_data_is_counted_owned_and_searchable() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let indexes = schema(&core).await;
        assert!(indexes.len() > 20);
        let mut calls = Vec::new();
        bulk::generate_bench_data(&core, 2_000, 6_000, &mut |done, total| {
            calls.push((done, total))
        })
        .await
        .unwrap();
        assert_eq!(calls.first(), Some(&(0, 8_000)));
        assert_eq!(calls.last(), Some(&(8_000, 8_000)));
        assert_eq!(schema(&core).await, indexes, "the load changed the indexes");
        assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));

        assert_eq!(count(&core, "accounts").await, 2_000);
        assert_eq!(count(&core, "contacts").await, 6_000);
        // The sources and industries the accounts refer to are made with them, and indexed.
        let (sources, industries) = (
            count(&core, "sources").await,
            count(&core, "industries").await,
        );
        assert_eq!((sources, industries), (9, 19));
        assert_eq!(
            count(&core, "search_entries").await,
            8_000 + sources + industries
        );
        let unlisted = guanxi_core::db::raw_query(
            core.db.reader(),
            "SELECT COUNT(*) AS n FROM accounts WHERE source_id IS NULL OR (kind = 'company' AND industry_id IS NULL)",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(guanxi_core::db::get_i64(&unlisted[0], "n").unwrap(), 0);
        assert!(count(&core, "contact_points").await >= 8_000 * 2);
        // Every record has its "create" entry, by its creator at its creation instant.
        assert_eq!(
            count(&core, "audit_log").await,
            8_000 + sources + industries
        );
        for table in ["accounts", "contacts", "sources", "industries"] {
            let created = guanxi_core::db::raw_query(
                core.db.reader(),
                &format!(
                    "SELECT COUNT(*) AS n FROM {table} r JOIN audit_log a ON a.record_id = r.id
                     AND a.action = 'create' AND a.at = r.created_at AND a.actor_id = r.created_by
                     AND a.changes <> '[]'"
                ),
                vec![],
            )
            .await
            .unwrap();
            assert_eq!(
                guanxi_core::db::get_i64(&created[0], "n").unwrap(),
                count(&core, table).await,
                "{table}"
            );
        }
        let bench_users: Vec<_> = users::list(&core.db)
            .await
            .unwrap()
            .iter()
            .filter(|u| u.email.ends_with(bulk::BENCH_EMAIL_DOMAIN))
            .cloned()
            .collect();
        assert_eq!(bench_users.len(), 50);
        let owners = guanxi_core::db::raw_query(
            core.db.reader(),
            "SELECT COUNT(DISTINCT owner_id) AS n FROM accounts",
            vec![],
        )
        .await
        .unwrap();
        assert!(guanxi_core::db::get_i64(&owners[0], "n").unwrap() >= 45);

        let admin = admin(&core, "root@example.com").await;
        let contacts = core
            .records(&CONTACTS)
            .list(
                &admin,
                &ListQuery {
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        // A two-character Chinese name (the hard case for trigram search), by characters,
        // pinyin and initials.
        let person = contacts
            .iter()
            .find(|c| {
                let name = format!(
                    "{}{}",
                    c["family_name"].as_str().unwrap_or(""),
                    c["given_name"].as_str().unwrap_or("")
                );
                name.chars().count() == 2 && name.chars().all(text::is_cjk)
            })
            .expect("a two-character Chinese name");
        let name = format!(
            "{}{}",
            person["family_name"].as_str().unwrap(),
            person["given_name"].as_str().unwrap()
        );
        let id = person["id"].as_str().unwrap().to_string();
        let py = text::pinyin_tokens(&name);
        let full = &py[py.len() - 2];
        for q in [name.as_str(), full.as_str()] {
            let hits = search::search(&core.db, &admin, q, &[&CONTACTS], 200)
                .await
                .unwrap();
            assert!(ids(&hits).contains(&id), "{q} does not find {name}");
        }
        let phone = person["phones"][0]["number"]
            .as_str()
            .unwrap()
            .trim_start_matches("+86")
            .to_string();
        let hits = search::search(&core.db, &admin, &phone, &[&CONTACTS], 20)
            .await
            .unwrap();
        assert!(
            ids(&hits).contains(&id),
            "phone {phone} does not find {name}"
        );

        // A Chinese company by a substring from the middle of its name.
        let accounts = core
            .records(&ACCOUNTS)
            .list(
                &admin,
                &ListQuery {
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        let company = accounts
            .iter()
            .find(|a| {
                a["kind"] == "company"
                    && a["name"].as_str().unwrap().ends_with("公司")
                    && !a["name"].as_str().unwrap().contains('（')
            })
            .unwrap();
        let cname = company["name"].as_str().unwrap();
        let middle: String = cname.chars().skip(2).take(4).collect();
        let hits = search::search(&core.db, &admin, &middle, &[&ACCOUNTS], 200)
            .await
            .unwrap();
        assert!(
            ids(&hits).contains(company["id"].as_str().unwrap()),
            "{middle} does not find {cname}"
        );

        // Bench records are ordinary records: the service reads and updates them.
        for rec in accounts.iter().take(20) {
            assert_canonical(&ACCOUNTS, rec, &core.settings);
        }
        for rec in contacts.iter().take(50) {
            assert_canonical(&CONTACTS, rec, &core.settings);
        }
        let cid = Uuid::parse_str(company["id"].as_str().unwrap()).unwrap();
        let updated = core
            .records(&ACCOUNTS)
            .update(
                &admin,
                cid,
                Some(1),
                &serde_json::json!({"description": "Updated through the service."}),
            )
            .await
            .unwrap();
        assert_eq!(updated["version"], 2);

        // Running it again adds more, with other data; on SQLite it also repairs indexes that an
        // interrupted load left dropped.
        if backend == Backend::Sqlite {
            let txn = core.db.begin().await.unwrap();
            guanxi_core::db::raw_execute(&txn, "DROP INDEX ix_contacts_account_id", vec![])
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
        bulk::generate_bench_data(&core, 100, 100, &mut |_, _| {})
            .await
            .unwrap();
        assert_eq!(schema(&core).await, indexes);
        assert_eq!(count(&core, "accounts").await, 2_100);
        // The lists are there already: a second load reuses them.
        assert_eq!(count(&core, "search_entries").await, 8_200 + 9 + 19);
        fresh.cleanup(core).await;
    }
}

/// The full benchmark load, timed. Run with
/// `cargo test --release -p guanxi-core --test it bench_data_full -- --ignored --nocapture`;
/// `GUANXI_BENCH_DATABASE` (a file or URL, kept afterwards), `GUANXI_BENCH_ACCOUNTS` and
/// `GUANXI_BENCH_CONTACTS` override the defaults (a temporary SQLite file, 1,000,000 and
/// 3,000,000).
#[tokio::test]
#[ignore]
async fn bench_data_full() {
    let env_n = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let accounts = env_n("GUANXI_BENCH_ACCOUNTS", 1_000_000);
    let contacts = env_n("GUANXI_BENCH_CONTACTS", 3_000_000);
    let (url, temp) = match std::env::var("GUANXI_BENCH_DATABASE") {
        Ok(u) => (u, None),
        Err(_) => {
            let f = Fresh::new(Backend::Sqlite).await;
            (f.url.clone(), Some(f))
        }
    };
    let core = Core::new(Db::open(&url).await.unwrap(), Settings::default());
    let start = Instant::now();
    let mut last = 0;
    bulk::generate_bench_data(&core, accounts, contacts, &mut |done, total| {
        if done - last >= 250_000 || done == total {
            last = done;
            eprintln!("{:>8.1} s  {done}/{total}", start.elapsed().as_secs_f64());
        }
    })
    .await
    .unwrap();
    eprintln!(
        "{accounts} accounts and {contacts} contacts in {:.1} s on {url}",
        start.elapsed().as_secs_f64()
    );
    core.db.close().await.unwrap();
    drop(temp);
}
