//! Bulk loading of benchmark data (`guanxi bench-data`): millions of accounts and contacts in
//! minutes, on SQLite or PostgreSQL.
//!
//! The loader writes the rows the record service writes for the same records, taken from the
//! engine's one row image of a new record ([`RowImage`]): the entity row with every system
//! column, its child lines, its `contact_points`, its `search_entries` row (on SQLite the FTS
//! triggers index it) and its "create" audit entry with the field-level changes, made by the
//! record's owner at its creation instant. The audit rows are written because benchmarks are
//! to run on data with a history, as real data has (DESIGN §10), and a record without its
//! "create" entry would be one the service could never have written. A test compares the stored
//! bytes with what the service stores for the same input.
//!
//! How it is fast:
//! - records are generated on a blocking thread while earlier batches are written;
//! - each batch is one multi-row `INSERT` per table with the row image's values rendered as SQL
//!   literals, encoded as the driver would bind them (binding tens of millions of values cost
//!   three times as much, in copies between sea-query, sea-orm, sqlx and the database);
//! - a load that at least doubles the tables drops their secondary indexes and rebuilds them at
//!   the end. PostgreSQL loads in one transaction, so a failure rolls back everything, the dropped
//!   indexes included. SQLite commits every 100,000 records (one transaction of
//!   gigabytes would pass through the WAL); each load first restores any index a killed load
//!   left missing, from the migrations' own definitions;
//! - phones are produced in E.164 directly (validating seven million numbers with libphonenumber
//!   would take minutes); every other field goes through the service's own normalization.
//!
//! The random source is seeded: the same database state and sizes give the same data.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, Query, Value as SqlValue};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::demo::vocab::{AccountInfo, Gen, Person, Place, Region};
use crate::lists::{self, ListIds};
use guanxi_core::Core;
use guanxi_core::areas::activities::ACTIVITIES;
use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::areas::sales::OPPORTUNITIES;
use guanxi_core::db::{self, Backend, Db, WriteTxn, col, get_i64};
use guanxi_core::error::{CoreError, CoreResult};
use guanxi_core::identity::{NewUser, teams, users};
use guanxi_core::records::def::FieldKind;
use guanxi_core::records::{EntityDef, JsonMap, RowImage, Stamp, TableRow, children, values};
use guanxi_core::search;
use guanxi_core::settings::Settings;

mod day;

/// The password of every benchmark user.
pub const BENCH_PASSWORD: &str = "guanxi-bench";
/// Benchmark users are `bench01@bench.guanxi.local` … `bench50@bench.guanxi.local` (and on,
/// `bench51`…, when a load asks for more users).
pub const BENCH_EMAIL_DOMAIN: &str = "bench.guanxi.local";

const SEED: u64 = 0x6265_6e63_6800_0001;
/// Mixed into the seed for the random part of audit entries' ids.
const AUDIT_SEED: u64 = 0x6175_6469_7400_0001;
/// Teams and the sales region each works; `None` is the overseas team.
const TEAMS: [(&str, Option<Region>); 10] = [
    ("华东一区", Some(Region::East)),
    ("华东二区", Some(Region::East)),
    ("华北区", Some(Region::North)),
    ("华南一区", Some(Region::South)),
    ("华南二区", Some(Region::South)),
    ("华中区", Some(Region::Central)),
    ("西南区", Some(Region::Southwest)),
    ("西北区", Some(Region::Northwest)),
    ("东北区", Some(Region::Northeast)),
    ("海外区", None),
];
/// A manager and four sales reps per team.
const USERS_PER_TEAM: usize = 5;
/// Records generated per batch handed to the writer.
const CHUNK: usize = 5_000;
/// Batches the generator may run ahead of the writer (it keeps working while SQLite
/// checkpoints).
const QUEUE: usize = 12;
/// Records written per transaction.
const COMMIT_EVERY: usize = 100_000;

/// Loads of at least this many records rebuild indexes instead of updating them.
const REBUILD_MIN: u64 = 5_000;
/// The SQLite writer's page cache during a load, in KiB (negative, as `PRAGMA cache_size` takes it).
const LOAD_CACHE_KIB: i64 = -1_048_576;
/// The tables a load fills in bulk, whose secondary indexes a large load drops and rebuilds.
const LOADED_TABLES: [&str; 9] = [
    "accounts",
    "contacts",
    "contact_points",
    "search_entries",
    "audit_log",
    "opportunities",
    "opportunity_stage_history",
    "activities",
    "activity_attendee_users",
];
/// Records spread over this many days before now.
const HISTORY_DAYS: i64 = 3 * 365;

/// The share of contacts given a rare Latin name (below), about 15,000 of 3,000,000: the demo
/// vocabulary's Latin names are few (a few hundred full names), so each recurs hundreds of times,
/// and a `contains` filter for a name that matches only a handful of records could not be measured.
const RARE_LATIN_SHARE: f64 = 1.0 / 200.0;
/// Given and family names for the rare Latin names: 30 × 60 full names per gender, so at the share
/// above each full name occurs about four times in 3,000,000 contacts. No given name ends another
/// and no family name starts another or one of the demo vocabulary's, so a full name
/// ("given family") is never part of a different one (tested).
pub const RARE_LATIN_GIVEN_FEMALE: [&str; 30] = [
    "Adelheid",
    "Berenike",
    "Clementine",
    "Dagny",
    "Elowen",
    "Fenella",
    "Gwendolyn",
    "Henrike",
    "Isolde",
    "Jolanthe",
    "Kerensa",
    "Linnea",
    "Marisol",
    "Nerys",
    "Oriane",
    "Perpetua",
    "Quilla",
    "Rosalind",
    "Solveig",
    "Tamsin",
    "Ulrike",
    "Veronika",
    "Wilhelmina",
    "Xanthe",
    "Yolande",
    "Zinnia",
    "Aurelie",
    "Briony",
    "Cordelia",
    "Delphine",
];
pub const RARE_LATIN_GIVEN_MALE: [&str; 30] = [
    "Alaric",
    "Bartholomew",
    "Casimir",
    "Desmond",
    "Evander",
    "Fitzroy",
    "Gideon",
    "Hadrian",
    "Ignatius",
    "Jasper",
    "Leopold",
    "Lysander",
    "Mortimer",
    "Nikodemus",
    "Octavian",
    "Percival",
    "Quentin",
    "Rupert",
    "Severin",
    "Thaddeus",
    "Ulysses",
    "Valentin",
    "Wendelin",
    "Xavier",
    "Yannick",
    "Zebulon",
    "Ambrose",
    "Barnaby",
    "Cornelius",
    "Dorian",
];
pub const RARE_LATIN_FAMILY: [&str; 60] = [
    "Abernethy",
    "Ashcombe",
    "Blackwood",
    "Brightmore",
    "Castellane",
    "Carrow",
    "Dunmore",
    "Delacourt",
    "Eastwick",
    "Ellingham",
    "Fairweather",
    "Farquhar",
    "Gallowglass",
    "Greystoke",
    "Hawthorne",
    "Holloway",
    "Ingleby",
    "Ironside",
    "Jessop",
    "Kilbride",
    "Kingsley",
    "Lockhart",
    "Langridge",
    "Mallory",
    "Marchbanks",
    "Northcote",
    "Nightingale",
    "Oakenfold",
    "Ormsby",
    "Pemberton",
    "Penhaligon",
    "Quarrie",
    "Ravenscroft",
    "Rookwood",
    "Stourton",
    "Thistlewood",
    "Trevelyan",
    "Underhill",
    "Vandermeer",
    "Vexley",
    "Wetherby",
    "Winterbourne",
    "Yardley",
    "Zabriskie",
    "Ashdown",
    "Bellweather",
    "Coldridge",
    "Daventry",
    "Eversleigh",
    "Fenwick",
    "Gisborne",
    "Harrowgate",
    "Kettleborough",
    "Larkspur",
    "Mountjoy",
    "Netherby",
    "Oldcastle",
    "Pickering",
    "Radcliffe",
    "Saltonstall",
];

/// A benchmark user who owns records.
#[derive(Clone, Copy)]
struct Owner {
    id: Uuid,
    region: Option<Region>,
}

/// What a contact needs to know about an account generated earlier.
struct Slim {
    id: Uuid,
    owner: u16,
    place: Place,
    domain: Option<Box<str>>,
    company: bool,
}

/// A batch of ready-to-run statements and how many records they hold.
struct Batch {
    statements: Vec<String>,
    records: usize,
}

/// Generates `accounts` accounts and `contacts` contacts owned by ~50 benchmark users in 10
/// teams (created when missing, password [`BENCH_PASSWORD`]). `progress(done, total)` is called
/// after each batch. Running it again adds more records (with different data).
pub async fn generate_bench_data(
    core: &Core,
    accounts: usize,
    contacts: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> CoreResult<()> {
    let sizes = Sizes {
        accounts,
        contacts,
        ..Sizes::default()
    };
    generate(core, sizes, progress).await
}

/// How many records of each kind a load generates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sizes {
    pub accounts: usize,
    pub contacts: usize,
    /// Opportunities, each on one of the accounts of the same load (none without accounts).
    pub opportunities: usize,
    /// Activities regarding the accounts, contacts and opportunities of the same load.
    pub activities: usize,
    /// Benchmark users who own all of it, in teams of five (a manager and four reps); at
    /// least (and by default) [`DEFAULT_USERS`]. How much each person owns decides how full a
    /// person's or a team's calendar week is.
    pub users: usize,
}

/// The benchmark users a load makes when it asks for no number.
pub const DEFAULT_USERS: usize = TEAMS.len() * USERS_PER_TEAM;

/// As [`generate_bench_data`], with opportunities in two pipelines of seven stages and
/// activities of every kind (see `day.rs`).
pub async fn generate(
    core: &Core,
    sizes: Sizes,
    progress: &mut dyn FnMut(u64, u64),
) -> CoreResult<()> {
    let Sizes {
        accounts,
        contacts,
        opportunities,
        activities,
        users,
    } = sizes;
    if accounts == 0 && opportunities + activities > 0 {
        return Err(CoreError::Internal(
            "opportunities and activities are generated on the accounts of the same load: \
             ask for accounts too"
                .into(),
        ));
    }
    let owners = ensure_users(core, users.max(DEFAULT_USERS)).await?;
    let lists = ensure_lists(core, &owners).await?;
    let sales = if opportunities + activities > 0 {
        day::ensure_sales(core, &owners).await?
    } else {
        day::Sales::default()
    };
    let backend = core.db.backend();
    let before = count_rows(core, ACCOUNTS.table).await? + count_rows(core, CONTACTS.table).await?;
    let seed = SEED ^ before.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let settings = core.settings.clone();
    let total = (accounts + contacts + opportunities + activities) as u64;
    progress(0, total);

    // A load that at least doubles the tables is faster without their secondary indexes, which
    // are rebuilt afterwards by sorting rather than by millions of random inserts.
    let rebuild = total >= REBUILD_MIN && total >= before;
    let sqlite = backend == Backend::Sqlite;
    let wanted = match backend {
        Backend::Sqlite => migrated_sqlite_indexes().await?,
        Backend::Postgres => secondary_indexes(core.db.reader()).await?,
    };
    // On SQLite: a large page cache, and a helper thread for sorting index keys.
    let pragmas = set_pragmas(
        core,
        &[("cache_size".into(), LOAD_CACHE_KIB), ("threads".into(), 2)],
    )
    .await?;
    let mut txn = core.db.begin().await?;
    let existing = secondary_indexes(&txn).await?;
    if rebuild {
        drop_indexes(&txn, &existing).await?;
    } else {
        let missing: Vec<_> = wanted
            .iter()
            .filter(|w| !existing.iter().any(|e| e.0 == w.0))
            .cloned()
            .collect();
        create_indexes(&txn, &missing).await?;
    }
    let dropped = if rebuild { wanted } else { vec![] };
    if sqlite {
        // SQLite commits as it goes (a transaction of gigabytes would pass through the WAL);
        // an interrupted load leaves indexes missing, which the next load repairs. PostgreSQL
        // loads in one transaction, so a failure rolls back everything, the dropped indexes too.
        txn.commit().await?;
        txn = core.db.begin().await?;
    }

    let started = Instant::now();
    let keys = match backend {
        Backend::Sqlite => Keys::after_stored(core, Keys::RECORDS).await?,
        Backend::Postgres => Keys::new(Keys::RECORDS),
    };
    let (tx, mut rx) = mpsc::channel::<Batch>(QUEUE);
    let producer = tokio::task::spawn_blocking(move || {
        Producer::new(seed, owners, lists, settings, backend, accounts, contacts)
            .with_day(sales, opportunities, activities)
            .with_keys(keys)
            .run(&tx)
    });
    let written = write_batches(core, txn, &mut rx, total, progress).await;
    tracing::info!(took = ?started.elapsed(), "bench data loaded");
    // Stop the producer if writing failed, then collect its result.
    drop(rx);
    let produced = match producer.await {
        Ok(r) => r,
        Err(e) => Err(CoreError::Internal(format!(
            "the data generator stopped: {e}"
        ))),
    };
    let outcome = match (written, produced) {
        (Ok(txn), Ok(())) => {
            let t = Instant::now();
            let built = async {
                create_indexes(&txn, &dropped).await?;
                txn.commit().await?;
                Ok::<(), CoreError>(())
            }
            .await;
            tracing::info!(indexes = dropped.len(), took = ?t.elapsed(), "indexes rebuilt");
            built
        }
        (written, produced) => {
            // The open transaction, if any, rolls back as it is dropped here.
            let error = match (written.err(), produced.err()) {
                (Some(e), _) | (None, Some(e)) => e,
                (None, None) => CoreError::Internal("the load failed".into()),
            };
            if sqlite {
                // Put the indexes back over what was committed.
                let txn = core.db.begin().await?;
                create_indexes(&txn, &dropped).await?;
                txn.commit().await?;
            }
            Err(error)
        }
    };
    set_pragmas(core, &pragmas).await?;
    outcome?;
    finish(core).await
}

/// Secondary indexes (not those behind primary keys and unique constraints) of the tables the
/// loader fills, as (name, the statement that creates it).
async fn secondary_indexes<C: ConnectionTrait>(conn: &C) -> CoreResult<Vec<(String, String)>> {
    let tables = LOADED_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = match db::backend_of(conn) {
        Backend::Sqlite => format!(
            "SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
             AND tbl_name IN ({tables}) ORDER BY name"
        ),
        Backend::Postgres => format!(
            "SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
             WHERE i.schemaname = current_schema()
             AND i.tablename IN ({tables})
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
             ORDER BY i.indexname"
        ),
    };
    db::raw_query(conn, &sql, vec![])
        .await?
        .iter()
        .map(|r| Ok((db::get_string(r, "name")?, db::get_string(r, "def")?)))
        .collect()
}

/// The secondary indexes the migrations give the loaded tables, read from a scratch in-memory
/// database migrated by this binary: the list to rebuild after a load, and to repair a database
/// whose indexes an interrupted load left dropped.
async fn migrated_sqlite_indexes() -> CoreResult<Vec<(String, String)>> {
    let scratch = Db::open("sqlite::memory:").await?;
    // In-memory databases are per connection: read through the one that was migrated.
    let txn = scratch.begin().await?;
    let out = secondary_indexes(&txn).await?;
    txn.commit().await?;
    scratch.close().await?;
    Ok(out)
}

async fn drop_indexes<C: ConnectionTrait>(
    conn: &C,
    indexes: &[(String, String)],
) -> CoreResult<()> {
    for (name, _) in indexes {
        let sql = format!("DROP INDEX \"{}\"", name.replace('"', "\"\""));
        db::raw_execute(conn, &sql, vec![]).await?;
    }
    Ok(())
}

async fn create_indexes<C: ConnectionTrait>(
    conn: &C,
    indexes: &[(String, String)],
) -> CoreResult<()> {
    if db::backend_of(conn) == Backend::Postgres && !indexes.is_empty() {
        db::raw_execute(conn, "SET LOCAL maintenance_work_mem = '1GB'", vec![]).await?;
    }
    for (name, def) in indexes {
        let t = Instant::now();
        db::raw_execute(conn, def, vec![]).await?;
        tracing::debug!(index = %name, took = ?t.elapsed(), "index built");
    }
    Ok(())
}

/// On SQLite, sets pragmas of the writer connection and returns their values before; does
/// nothing on PostgreSQL.
async fn set_pragmas(core: &Core, pragmas: &[(String, i64)]) -> CoreResult<Vec<(String, i64)>> {
    if core.db.backend() != Backend::Sqlite || pragmas.is_empty() {
        return Ok(vec![]);
    }
    let txn = core.db.begin().await?;
    let mut before = Vec::new();
    for (name, value) in pragmas {
        let rows = db::raw_query(&txn, &format!("PRAGMA {name}"), vec![]).await?;
        if let Some(r) = rows.first() {
            before.push((name.clone(), get_i64(r, name)?));
        }
        db::raw_execute(&txn, &format!("PRAGMA {name} = {value}"), vec![]).await?;
    }
    txn.commit().await?;
    Ok(before)
}

/// Runs the generated batches in `txn`; on SQLite commits every 100,000 records and
/// continues in a new transaction. Returns the open transaction.
async fn write_batches(
    core: &Core,
    mut txn: WriteTxn,
    rx: &mut mpsc::Receiver<Batch>,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> CoreResult<WriteTxn> {
    let mut done = 0u64;
    let mut in_txn = 0usize;
    // Time spent waiting for the generator, to tell which side limits the load.
    let mut waited = Duration::ZERO;
    loop {
        let t = Instant::now();
        let Some(batch) = rx.recv().await else { break };
        waited += t.elapsed();
        for sql in &batch.statements {
            txn.execute_unprepared(sql).await?;
        }
        in_txn += batch.records;
        done += batch.records as u64;
        if in_txn >= COMMIT_EVERY && core.db.backend() == Backend::Sqlite {
            txn.commit().await?;
            txn = core.db.begin().await?;
            in_txn = 0;
        }
        progress(done, total);
    }
    tracing::info!(records = done, waited_for_generator = ?waited, "bench data written");
    Ok(txn)
}

/// Refreshes planner statistics, which a few million new rows make stale. On SQLite also empties
/// the write-ahead log into the file: a load leaves gigabytes there, which readers consult page
/// by page until a checkpoint runs (a list page measured 1.9 ms of CPU before, 1.5 after). On
/// PostgreSQL also
/// marks the new rows visible to all in the visibility map, as autovacuum does for a table in
/// use: until then a count cannot answer from an index alone (a rep's capped count read
/// 100,000 table rows, 45 ms, instead of 10,001 index entries, 2.4 ms).
async fn finish(core: &Core) -> CoreResult<()> {
    match core.db.backend() {
        Backend::Sqlite => {
            core.db.optimize().await?;
            core.db.checkpoint().await?;
        }
        Backend::Postgres => {
            // VACUUM cannot run inside a transaction; on PostgreSQL the reader is the one pool,
            // so this runs on its own, committed as it ends.
            db::raw_execute(
                core.db.reader(),
                "VACUUM (ANALYZE) accounts, contacts, contact_points, search_entries, audit_log, \
                 opportunities, opportunity_stage_history, opportunities_rollup_by_month, \
                 opportunities_rollup_by_stage, opportunities_rollup_by_stage_month, activities, \
                 activity_attendee_users",
                vec![],
            )
            .await?;
        }
    }
    Ok(())
}

async fn count_rows(core: &Core, table: &str) -> CoreResult<u64> {
    let mut q = Query::select();
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(col(table));
    let row = db::fetch_one(core.db.reader(), &q).await?;
    Ok(row
        .map(|r| get_i64(&r, "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// The benchmark's first `users` users and their teams, created when missing. Teams past the
/// ten named regions repeat them, numbered ("华东一区 2").
async fn ensure_users(core: &Core, users: usize) -> CoreResult<Vec<Owner>> {
    let mut g = Gen::new(SEED);
    let mut owners = Vec::new();
    let mut n = 0;
    for t in 0..users.div_ceil(USERS_PER_TEAM) {
        let (base, region) = TEAMS[t % TEAMS.len()];
        let team_name = match t / TEAMS.len() {
            0 => base.to_string(),
            round => format!("{base} {}", round + 1),
        };
        let team = match teams::find_by_name(&core.db, &team_name).await? {
            Some(t) => t,
            None => teams::create(&core.db, None, &team_name).await?,
        };
        for k in 0..USERS_PER_TEAM {
            n += 1;
            let email = format!("bench{n:02}@{BENCH_EMAIL_DOMAIN}");
            let person = match region {
                Some(_) => g.chinese_person(),
                None => g.foreign_person("US"),
            };
            let user = match users::find_by_email(&core.db, &email).await? {
                Some(u) => u,
                None => {
                    users::create(
                        &core.db,
                        None,
                        NewUser {
                            email,
                            name: person.display(),
                            role: if k == 0 { "manager" } else { "sales" }.to_string(),
                            team_id: Some(team.id),
                            password: BENCH_PASSWORD.to_string(),
                            locale: Some(if region.is_some() { "zh-CN" } else { "en" }.to_string()),
                        },
                    )
                    .await?
                }
            };
            owners.push(Owner {
                id: user.id,
                region,
            });
        }
    }
    Ok(owners)
}

/// The sources and industries generated accounts name, written where missing as the service
/// would write them (audit rows included, like the records), owned by and created as the first
/// benchmark user: the loader runs without an administrator to create them through the service.
async fn ensure_lists(core: &Core, owners: &[Owner]) -> CoreResult<ListIds> {
    let owner = owners
        .first()
        .ok_or_else(|| CoreError::Internal("no benchmark user".into()))?
        .id;
    let txn = core.db.begin().await?;
    let mut keys = Keys::new(Keys::LISTS);
    for (def, names) in lists::wanted() {
        let have = lists::existing(core, def).await?;
        let shape = Shape::new(def, &core.settings);
        let mut rows = Rows::new(core.db.backend());
        let mut position = have.len();
        for (en, zh) in names {
            if have.contains_key(zh) {
                continue;
            }
            position += 1;
            let rec = shape.record(
                &serde_json::json!({"name": {"en": en, "zh-CN": zh}, "position": position}),
                &core.settings,
            )?;
            let stamp = Stamp {
                id: Uuid::now_v7(),
                owner,
                at: guanxi_core::now(),
                actor: owner,
                audit_id: Uuid::now_v7(),
            };
            push(core.db.backend(), def, &mut rows, &rec, &stamp, &mut keys)?;
        }
        for sql in rows.into_statements() {
            txn.execute_unprepared(&sql).await?;
        }
    }
    txn.commit().await?;
    ListIds::read(core).await
}

/// The canonical empty record of an entity, computed once.
struct Shape {
    def: &'static EntityDef,
    /// The empty record the service starts a create from.
    template: JsonMap,
}

impl Shape {
    fn new(def: &'static EntityDef, settings: &Settings) -> Shape {
        let mut template = JsonMap::new();
        for f in def.fields {
            template.insert(
                f.name.into(),
                values::canonical(&f.kind, &Value::Null, settings).unwrap_or(Value::Null),
            );
        }
        for child in def.children {
            template.insert(child.name.into(), Value::Array(vec![]));
        }
        Shape { def, template }
    }

    /// Validates generated fields the way the service does (phones excepted: they are made in
    /// E.164) and fills derived ones.
    fn record(&self, input: &Value, settings: &Settings) -> CoreResult<JsonMap> {
        let mut rec = self.template.clone();
        let mut problems = guanxi_core::error::FieldErrors::new();
        if let Value::Object(obj) = input {
            for (k, v) in obj {
                if let Some(child) = self.def.child(k) {
                    let lines = children::canonical(child, v, None, settings, &mut problems);
                    rec.insert(k.clone(), lines);
                    continue;
                }
                let f = self
                    .def
                    .field(k)
                    .ok_or_else(|| CoreError::Internal(format!("generated unknown field {k}")))?;
                let c = match f.kind {
                    FieldKind::Phones => v.clone(),
                    _ => values::canonical(&f.kind, v, settings).map_err(|e| {
                        CoreError::Internal(format!("generated {}.{k} {v}: {e}", self.def.name))
                    })?,
                };
                rec.insert(k.clone(), c);
            }
        }
        self.def.behaviour.derive(&mut rec, &mut problems);
        if let Some((k, m)) = problems.into_iter().next() {
            return Err(CoreError::Internal(format!(
                "generated {} fails {k}: {m}",
                self.def.name
            )));
        }
        rec.insert("custom".into(), Value::Object(JsonMap::new()));
        Ok(rec)
    }
}

/// The rows of one table in a batch, rendered as one multi-row `INSERT` with literal values as
/// they are generated. The rows come from the engine's row image; this only writes them as SQL
/// text. (Binding tens of millions of values costs more in copies between sea-query, sea-orm, sqlx
/// and the database than the database spends parsing literals: a third of the time on SQLite,
/// measured.)
struct Table {
    backend: Backend,
    table: &'static str,
    /// The columns of the first row, which every other row must have too.
    columns: Vec<String>,
    sql: String,
    rows: usize,
}

impl Table {
    fn new(backend: Backend, first: &TableRow) -> Table {
        let columns: Vec<String> = first.names().map(str::to_string).collect();
        let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let mut sql = String::with_capacity(CHUNK * 512);
        sql.push_str(&format!(
            "INSERT INTO \"{}\" ({}) VALUES ",
            first.table,
            quoted.join(", ")
        ));
        Table {
            backend,
            table: first.table,
            columns,
            sql,
            rows: 0,
        }
    }

    fn add(&mut self, row: &TableRow) -> CoreResult<()> {
        if !row.names().eq(self.columns.iter().map(String::as_str)) {
            return Err(CoreError::Internal(format!(
                "a row of {} with other columns than the batch's",
                self.table
            )));
        }
        if self.rows > 0 {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        for (i, v) in row.values().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            match self.backend {
                Backend::Sqlite => sqlite_literal(&mut self.sql, v)?,
                Backend::Postgres => postgres_literal(&mut self.sql, v)?,
            }
        }
        self.sql.push(')');
        self.rows += 1;
        Ok(())
    }
}

/// The rows of one batch, a table each, in the order their first rows came (a record's own
/// table before its lines, which refer to it).
struct Rows {
    backend: Backend,
    tables: Vec<Table>,
}

impl Rows {
    fn new(backend: Backend) -> Rows {
        Rows {
            backend,
            tables: Vec::new(),
        }
    }

    fn add(&mut self, row: &TableRow) -> CoreResult<()> {
        match self.tables.iter_mut().find(|t| t.table == row.table) {
            Some(t) => t.add(row),
            None => {
                let mut t = Table::new(self.backend, row);
                t.add(row)?;
                self.tables.push(t);
                Ok(())
            }
        }
    }

    /// Every row of a record's image.
    fn add_image(&mut self, image: &RowImage) -> CoreResult<()> {
        self.add(&image.record)?;
        for row in image.lines.iter().chain(&image.points) {
            self.add(row)?;
        }
        self.add(&image.search)?;
        self.add(&image.audit)
    }

    fn into_statements(self) -> Vec<String> {
        self.tables
            .into_iter()
            .filter(|t| t.rows > 0)
            .map(|t| t.sql)
            .collect()
    }
}

struct Producer {
    g: Gen,
    /// The random part of audit entries' ids, apart from `g` so that the records generated from
    /// a seed stay the same as before the loader wrote audit rows.
    audit_ids: StdRng,
    owners: Vec<Owner>,
    lists: ListIds,
    settings: Settings,
    backend: Backend,
    accounts: usize,
    contacts: usize,
    start_ms: i64,
    span_ms: i64,
    made: Vec<Slim>,
    keys: Keys,
    /// Pipelines and lost reasons for opportunities.
    sales: day::Sales,
    opportunities: usize,
    activities: usize,
    /// Contacts and opportunities made, as activities regard them (kept only for activities).
    contacts_made: Vec<(Uuid, u16)>,
    opps_made: Vec<(Uuid, u16)>,
}

impl Producer {
    fn new(
        seed: u64,
        owners: Vec<Owner>,
        lists: ListIds,
        settings: Settings,
        backend: Backend,
        accounts: usize,
        contacts: usize,
    ) -> Producer {
        let now = guanxi_core::now().timestamp_millis();
        let span_ms = HISTORY_DAYS * 24 * 3600 * 1000;
        Producer {
            g: Gen::new(seed),
            audit_ids: StdRng::seed_from_u64(seed ^ AUDIT_SEED),
            owners,
            lists,
            settings,
            backend,
            accounts,
            contacts,
            start_ms: now - span_ms,
            span_ms,
            made: Vec::with_capacity(accounts),
            keys: Keys::new(Keys::RECORDS),
            sales: day::Sales::default(),
            opportunities: 0,
            activities: 0,
            contacts_made: Vec::new(),
            opps_made: Vec::new(),
        }
    }

    /// Opportunities and activities to generate after the accounts and contacts.
    /// The search keys it hands out: after those of earlier loads.
    fn with_keys(mut self, keys: Keys) -> Producer {
        self.keys = keys;
        self
    }

    fn with_day(mut self, sales: day::Sales, opportunities: usize, activities: usize) -> Producer {
        self.sales = sales;
        self.opportunities = opportunities;
        self.activities = activities;
        self
    }

    fn run(mut self, tx: &mpsc::Sender<Batch>) -> CoreResult<()> {
        let shapes = (
            Shape::new(&ACCOUNTS, &self.settings),
            Shape::new(&CONTACTS, &self.settings),
        );
        let mut i = 0;
        while i < self.accounts {
            let n = CHUNK.min(self.accounts - i);
            let mut rows = Rows::new(self.backend);
            for k in i..i + n {
                self.account(&shapes.0, k, &mut rows)?;
            }
            if !Producer::send(tx, rows, n) {
                return Ok(());
            }
            i += n;
        }
        let mut i = 0;
        while i < self.contacts {
            let n = CHUNK.min(self.contacts - i);
            let mut rows = Rows::new(self.backend);
            for k in i..i + n {
                self.contact(&shapes.1, k, &mut rows)?;
            }
            if !Producer::send(tx, rows, n) {
                return Ok(());
            }
            i += n;
        }
        if self.made.is_empty() {
            return Ok(());
        }
        let shapes = (
            Shape::new(&OPPORTUNITIES, &self.settings),
            Shape::new(&ACTIVITIES, &self.settings),
        );
        let mut i = 0;
        while i < self.opportunities {
            let n = CHUNK.min(self.opportunities - i);
            let mut rows = Rows::new(self.backend);
            for k in i..i + n {
                self.opportunity(&shapes.0, k, &mut rows)?;
            }
            if !Producer::send(tx, rows, n) {
                return Ok(());
            }
            i += n;
        }
        let mut i = 0;
        while i < self.activities {
            let n = CHUNK.min(self.activities - i);
            let mut rows = Rows::new(self.backend);
            for k in i..i + n {
                self.activity(&shapes.1, k, &mut rows)?;
            }
            if !Producer::send(tx, rows, n) {
                return Ok(());
            }
            i += n;
        }
        Ok(())
    }

    /// Hands a batch to the writer; false when the writer has stopped.
    fn send(tx: &mpsc::Sender<Batch>, rows: Rows, records: usize) -> bool {
        tx.blocking_send(Batch {
            statements: rows.into_statements(),
            records,
        })
        .is_ok()
    }

    /// The creation instant of the `k`-th of `n` records, its id and the id of its audit entry:
    /// spread evenly over the history, in order, so ids (UUIDv7 of the same instant) ascend with
    /// it.
    fn instant(&mut self, k: usize, n: usize) -> (DateTime<Utc>, Uuid, Uuid) {
        self.instant_within(k, n, self.span_ms)
    }

    /// As [`Producer::instant`], over the last `span_ms` before now.
    fn instant_within(&mut self, k: usize, n: usize, span_ms: i64) -> (DateTime<Utc>, Uuid, Uuid) {
        let start_ms = self.start_ms + self.span_ms - span_ms;
        let step = (span_ms / n.max(1) as i64).max(1);
        let ms = start_ms + k as i64 * step + self.g.range(0, step as u64 - 1) as i64;
        let at = DateTime::from_timestamp_micros(ms * 1000 + self.g.range(0, 999) as i64)
            .unwrap_or_default();
        let random: [u8; 10] = rand::Rng::random(&mut self.g.rng);
        let audit: [u8; 10] = rand::Rng::random(&mut self.audit_ids);
        (
            at,
            uuid::Builder::from_unix_timestamp_millis(ms as u64, &random).into_uuid(),
            uuid::Builder::from_unix_timestamp_millis(ms as u64, &audit).into_uuid(),
        )
    }

    fn owner_place(&mut self, owner: Owner) -> Place {
        match owner.region {
            Some(r) => match self.g.range(0, 19) {
                0..=13 => Place::Cn(self.g.cn_city_in(r)),
                14..=18 => Place::Cn(self.g.cn_city()),
                _ => Place::Foreign(self.g.foreign_city()),
            },
            None if self.g.chance(0.85) => Place::Foreign(self.g.foreign_city()),
            None => Place::Cn(self.g.cn_city()),
        }
    }

    fn account(&mut self, shape: &Shape, k: usize, rows: &mut Rows) -> CoreResult<()> {
        let (at, id, audit_id) = self.instant(k, self.accounts);
        let owner_ix = self.g.range(0, self.owners.len() as u64 - 1) as usize;
        let owner = self.owners[owner_ix];
        let place = self.owner_place(owner);
        let (mut v, info): (Value, AccountInfo) = if self.g.chance(0.03) {
            self.g.person_account(place)
        } else {
            self.g.company_account(place, None, None)
        };
        if k > 100 && self.g.chance(0.03) {
            let parent = &self.made[self.g.range(0, k as u64 - 1) as usize];
            v["parent_id"] = Value::String(parent.id.to_string());
        }
        if info.company
            && self.g.chance(0.02)
            && let Some(former) = self.g.former_name(&info)
        {
            v["former_names"] = serde_json::json!([former]);
        }
        self.lists.resolve(&mut v)?;
        let rec = shape.record(&v, &self.settings)?;
        self.made.push(Slim {
            id,
            owner: owner_ix as u16,
            place,
            domain: info.domain.map(String::into_boxed_str),
            company: info.company,
        });
        self.push(shape, rows, &rec, id, owner.id, at, audit_id)
    }

    fn contact(&mut self, shape: &Shape, k: usize, rows: &mut Rows) -> CoreResult<()> {
        let (at, id, audit_id) = self.instant(k, self.contacts);
        // Contacts join accounts that already existed then, so older accounts collect more.
        let account = if !self.made.is_empty() && self.g.chance(0.9) {
            let reach = ((k as u128 + 1) * self.made.len() as u128 / self.contacts.max(1) as u128)
                .max(1) as u64;
            Some(self.g.range(0, reach.min(self.made.len() as u64) - 1) as usize)
        } else {
            None
        };
        let owner_ix = match account {
            Some(a) if self.g.chance(0.85) => self.made[a].owner as usize,
            _ => self.g.range(0, self.owners.len() as u64 - 1) as usize,
        };
        let owner = self.owners[owner_ix];
        let info = account.map(|a| {
            let s = &self.made[a];
            AccountInfo {
                name: String::new(),
                place: s.place,
                domain: s.domain.as_deref().map(str::to_string),
                company: s.company,
            }
        });
        let place = match &info {
            Some(i) => i.place,
            None => self.owner_place(owner),
        };
        let mut person = self.g.person_for(place);
        if self.g.chance(RARE_LATIN_SHARE) {
            person = self.rare_latin(person.female);
        }
        let mut v = self.g.contact_with(info.as_ref(), place, &person);
        if let Some(a) = account {
            v["account_id"] = Value::String(self.made[a].id.to_string());
        }
        let rec = shape.record(&v, &self.settings)?;
        if self.activities > 0 {
            self.contacts_made.push((id, owner_ix as u16));
        }
        self.push(shape, rows, &rec, id, owner.id, at, audit_id)
    }

    /// A person with one of the rare Latin names, of the given gender.
    fn rare_latin(&mut self, female: bool) -> Person {
        let given = if female {
            self.g.pick(&RARE_LATIN_GIVEN_FEMALE)
        } else {
            self.g.pick(&RARE_LATIN_GIVEN_MALE)
        };
        Person::latin(self.g.pick(&RARE_LATIN_FAMILY), given, female)
    }

    /// Adds a record's rows, created by its owner at `at`.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        shape: &Shape,
        rows: &mut Rows,
        rec: &JsonMap,
        id: Uuid,
        owner: Uuid,
        at: DateTime<Utc>,
        audit_id: Uuid,
    ) -> CoreResult<()> {
        let stamp = Stamp {
            id,
            owner,
            at,
            actor: owner,
            audit_id,
        };
        push(self.backend, shape.def, rows, rec, &stamp, &mut self.keys)
    }
}

/// Adds every row the record service writes for a new record: the engine's row image, with
/// its search entry's key made free by `keys`.
fn push(
    backend: Backend,
    def: &EntityDef,
    rows: &mut Rows,
    rec: &JsonMap,
    stamp: &Stamp,
    keys: &mut Keys,
) -> CoreResult<()> {
    let mut image = RowImage::of_create(def, rec, stamp, backend)?;
    keys.assign(&mut image.search);
    rows.add_image(&image)
}

/// Free keys for the search entries of one load (SQLite). The service takes the next free key
/// of a record's creation millisecond with a query per entry (`search::order::ALLOCATE`), which
/// a multi-row insert cannot do row by row; the loader counts in memory instead, from the
/// middle of each millisecond's keys, where the service, counting from the start, never gets.
/// The loads of lists and of records count from different quarters, so they never meet either.
struct Keys {
    from: i64,
    next: std::collections::HashMap<i64, i64>,
}

impl Keys {
    const LISTS: i64 = 1 << (search::order::SLOT_BITS - 1);
    const RECORDS: i64 = Keys::LISTS + (1 << (search::order::SLOT_BITS - 2));

    fn new(from: i64) -> Keys {
        Keys {
            from,
            next: Default::default(),
        }
    }

    /// As [`Keys::new`], after the keys that earlier loads gave out from `from` on (a load adds
    /// to a database that holds one already, and its records fall in the same milliseconds now
    /// and then): one pass over the stored keys.
    async fn after_stored(core: &Core, from: i64) -> CoreResult<Keys> {
        let within = (1i64 << search::order::SLOT_BITS) - 1;
        let rows = db::raw_query(
            core.db.reader(),
            "SELECT rowid - (rowid & ?) AS slot, MAX(rowid & ?) AS top FROM search_entries \
             WHERE rowid >= 0 AND (rowid & ?) >= ? GROUP BY slot",
            vec![within.into(), within.into(), within.into(), from.into()],
        )
        .await?;
        let mut keys = Keys::new(from);
        for r in rows {
            keys.next
                .insert(get_i64(&r, "slot")?, get_i64(&r, "top")? + 1);
        }
        Ok(keys)
    }

    fn assign(&mut self, entry: &mut TableRow) {
        if let Some(SqlValue::BigInt(Some(slot))) = entry.get("rowid").cloned() {
            let n = self.next.entry(slot).or_insert(self.from);
            entry.set("rowid", (slot + *n).into());
            *n += 1;
        }
    }
}

/// Copies the text between quotes whole: copying it character by character topped the
/// generator's profile once audit entries (about 900 bytes of JSON each) were written too.
fn sqlite_quote(sql: &mut String, s: &str) {
    sql.push('\'');
    let mut parts = s.split('\'');
    if let Some(first) = parts.next() {
        sql.push_str(first);
    }
    for part in parts {
        sql.push_str("''");
        sql.push_str(part);
    }
    sql.push('\'');
}

/// Writes a value as a SQLite literal, encoded as sqlx binds it (UUIDs as 16-byte blobs, instants
/// as RFC 3339 text, dates as text, booleans as 0/1, JSON as text), so the stored bytes equal what
/// the record service stores.
fn sqlite_literal(sql: &mut String, v: &SqlValue) -> CoreResult<()> {
    use std::fmt::Write;
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    match v {
        SqlValue::String(Some(s)) => sqlite_quote(sql, s),
        SqlValue::BigInt(Some(i)) => {
            let _ = write!(sql, "{i}");
        }
        SqlValue::Bool(Some(b)) => sql.push(if *b { '1' } else { '0' }),
        SqlValue::Json(Some(j)) => {
            let text = serde_json::to_string(j)
                .map_err(|e| CoreError::Internal(format!("encoding JSON: {e}")))?;
            sqlite_quote(sql, &text);
        }
        SqlValue::ChronoDate(Some(d)) => {
            let _ = write!(sql, "'{}'", d.format("%F"));
        }
        SqlValue::ChronoDateTimeUtc(Some(t)) => {
            let _ = write!(
                sql,
                "'{}'",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
            );
        }
        SqlValue::Uuid(Some(u)) => {
            sql.push_str("X'");
            for b in u.as_bytes() {
                sql.push(char::from(HEX[usize::from(b >> 4)]));
                sql.push(char::from(HEX[usize::from(b & 15)]));
            }
            sql.push('\'');
        }
        SqlValue::String(None)
        | SqlValue::BigInt(None)
        | SqlValue::Bool(None)
        | SqlValue::Json(None)
        | SqlValue::ChronoDate(None)
        | SqlValue::ChronoDateTimeUtc(None)
        | SqlValue::Uuid(None) => sql.push_str("NULL"),
        other => {
            return Err(CoreError::Internal(format!(
                "the bulk loader cannot write {other:?}"
            )));
        }
    }
    Ok(())
}

/// `E'…'` strings mean the same whatever `standard_conforming_strings` says.
fn postgres_quote(sql: &mut String, s: &str) {
    sql.push_str("E'");
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            sql.push(c);
        }
        sql.push(c);
    }
    sql.push('\'');
}

/// Writes a value as a PostgreSQL literal that the `INSERT` coerces to the column's type, giving
/// the value a bound parameter gives.
fn postgres_literal(sql: &mut String, v: &SqlValue) -> CoreResult<()> {
    use std::fmt::Write;
    match v {
        SqlValue::String(Some(s)) => postgres_quote(sql, s),
        SqlValue::BigInt(Some(i)) => {
            let _ = write!(sql, "{i}");
        }
        SqlValue::Bool(Some(b)) => sql.push_str(if *b { "TRUE" } else { "FALSE" }),
        SqlValue::Json(Some(j)) => {
            let text = serde_json::to_string(j)
                .map_err(|e| CoreError::Internal(format!("encoding JSON: {e}")))?;
            postgres_quote(sql, &text);
        }
        SqlValue::ChronoDate(Some(d)) => {
            let _ = write!(sql, "'{}'", d.format("%F"));
        }
        SqlValue::ChronoDateTimeUtc(Some(t)) => {
            let _ = write!(
                sql,
                "'{}'",
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            );
        }
        SqlValue::Uuid(Some(u)) => {
            let _ = write!(sql, "'{u}'");
        }
        SqlValue::String(None)
        | SqlValue::BigInt(None)
        | SqlValue::Bool(None)
        | SqlValue::Json(None)
        | SqlValue::ChronoDate(None)
        | SqlValue::ChronoDateTimeUtc(None)
        | SqlValue::Uuid(None) => sql.push_str("NULL"),
        other => {
            return Err(CoreError::Internal(format!(
                "the bulk loader cannot write {other:?}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::vocab::CN_CITIES;
    use guanxi_core::Actor;
    use guanxi_core::areas::sales::{LOST_REASONS, PIPELINES};
    use guanxi_core::db::Db;
    use guanxi_core::identity::users;
    use guanxi_core::search;
    use sqlx::Connection;

    async fn databases() -> Vec<(String, Option<(String, String)>)> {
        let name = format!("guanxi_bulk_t_{}", Uuid::now_v7().simple());
        let path = std::env::temp_dir().join(format!("{name}.db"));
        let mut out = vec![(path.display().to_string(), None)];
        if let Ok(admin) = std::env::var("GUANXI_TEST_POSTGRES_URL")
            && !admin.is_empty()
        {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!(
                "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
            ))
            .execute(&mut conn)
            .await
            .unwrap();
            let base = admin.rsplit_once('/').unwrap().0.to_string();
            out.push((format!("{base}/{name}"), Some((admin, name))));
        }
        out
    }

    async fn entry(core: &Core, id: Uuid) -> (String, String, Vec<(String, String, String)>) {
        let (search_sql, points_sql) = match core.db.backend() {
            Backend::Sqlite => (
                "SELECT title, doc FROM search_entries WHERE record_id = ?",
                "SELECT entity, kind, value FROM contact_points WHERE record_id = ? ORDER BY kind, value",
            ),
            Backend::Postgres => (
                "SELECT title, doc::text AS doc FROM search_entries WHERE record_id = $1",
                "SELECT entity, kind, value FROM contact_points WHERE record_id = $1 ORDER BY kind, value",
            ),
        };
        let rows = db::raw_query(core.db.reader(), search_sql, vec![id.into()])
            .await
            .unwrap();
        let title = db::get_string(&rows[0], "title").unwrap();
        let doc = db::get_string(&rows[0], "doc").unwrap();
        let points = db::raw_query(core.db.reader(), points_sql, vec![id.into()])
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    db::get_string(r, "entity").unwrap(),
                    db::get_string(r, "kind").unwrap(),
                    db::get_string(r, "value").unwrap(),
                )
            })
            .collect();
        (title, doc, points)
    }

    /// Each column exactly as stored: SQLite's `quote()` shows type and bytes.
    async fn raw_row(
        core: &Core,
        table: &str,
        cols: &[String],
        id: Uuid,
    ) -> Vec<(String, Option<String>)> {
        let (exprs, sql_where): (Vec<String>, &str) = match core.db.backend() {
            Backend::Sqlite => (
                cols.iter()
                    .map(|c| format!("quote(\"{c}\") AS \"{c}\""))
                    .collect(),
                "id = ?",
            ),
            Backend::Postgres => (
                cols.iter()
                    .map(|c| format!("\"{c}\"::text AS \"{c}\""))
                    .collect(),
                "id = $1",
            ),
        };
        let sql = format!("SELECT {} FROM {table} WHERE {sql_where}", exprs.join(", "));
        let rows = db::raw_query(core.db.reader(), &sql, vec![id.into()])
            .await
            .unwrap();
        cols.iter()
            .map(|c| (c.clone(), rows[0].try_get::<Option<String>>("", c).unwrap()))
            .collect()
    }

    /// The columns of an entity's row, from the row image of an empty record.
    fn columns_of(shape: &Shape) -> Vec<String> {
        let stamp = Stamp {
            id: Uuid::now_v7(),
            owner: Uuid::now_v7(),
            at: guanxi_core::now(),
            actor: Uuid::now_v7(),
            audit_id: Uuid::now_v7(),
        };
        RowImage::of_create(shape.def, &shape.template, &stamp, Backend::Sqlite)
            .unwrap()
            .record
            .names()
            .map(str::to_string)
            .collect()
    }

    /// A record's audit entries as stored, oldest first, without their ids (which differ) and
    /// with whether each was made at the record's creation instant instead of the instant.
    async fn audit_rows(core: &Core, table: &str, id: Uuid) -> Vec<Vec<Option<String>>> {
        let cols = ["entity", "record_id", "action", "actor_id", "changes"];
        let (exprs, param): (Vec<String>, &str) = match core.db.backend() {
            Backend::Sqlite => (
                cols.iter().map(|c| format!("quote(a.\"{c}\")")).collect(),
                "?",
            ),
            Backend::Postgres => (
                cols.iter().map(|c| format!("a.\"{c}\"::text")).collect(),
                "$1",
            ),
        };
        let sql = format!(
            "SELECT {}, CASE WHEN a.at = r.created_at THEN 'at creation' ELSE 'later' END
             FROM audit_log a JOIN {table} r ON r.id = a.record_id
             WHERE a.record_id = {param} ORDER BY a.at, a.id",
            exprs.join(", ")
        );
        let rows = db::raw_query(core.db.reader(), &sql, vec![id.into()])
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (0..=cols.len())
                    .map(|i| r.try_get_by_index::<Option<String>>(i).unwrap())
                    .collect()
            })
            .collect()
    }

    /// Audit rows of `a` equal those of `b` but for the record id they name.
    fn same_audit(a: Vec<Vec<Option<String>>>, b: Vec<Vec<Option<String>>>, what: &str) {
        let strip = |rows: Vec<Vec<Option<String>>>| -> Vec<Vec<Option<String>>> {
            rows.into_iter()
                .map(|mut r| {
                    r.remove(1);
                    r
                })
                .collect()
        };
        assert_eq!(a.len(), 1, "{what}: one create entry: {a:?}");
        assert_eq!(strip(a), strip(b), "{what}");
    }

    /// A rare full name ("given family") is part of no other full name, rare or from the demo
    /// vocabulary: that holds when no given name ends another and no rare family name starts
    /// another family name, compared without case as the `contains` filter compares.
    #[test]
    fn rare_latin_names_are_not_part_of_other_names() {
        let lower = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_lowercase()).collect() };
        let mut given = lower(&RARE_LATIN_GIVEN_FEMALE);
        given.extend(lower(&RARE_LATIN_GIVEN_MALE));
        let rare_family = lower(&RARE_LATIN_FAMILY);
        let mut g = Gen::new(7);
        let mut family = rare_family.clone();
        for country in ["US", "GB", "DE", "SG", "JP"] {
            for _ in 0..2_000 {
                let p = g.foreign_person(country);
                given.push(p.given.to_lowercase());
                family.push(p.family.to_lowercase());
            }
        }
        for _ in 0..2_000 {
            family.push(g.chinese_person().family);
        }
        given.sort();
        given.dedup();
        family.sort();
        family.dedup();
        for r in lower(&RARE_LATIN_GIVEN_FEMALE)
            .iter()
            .chain(&lower(&RARE_LATIN_GIVEN_MALE))
        {
            for o in &given {
                assert!(o == r || !o.ends_with(r.as_str()), "{o} ends with {r}");
            }
        }
        for r in &rare_family {
            for o in &family {
                assert!(o == r || !o.starts_with(r.as_str()), "{o} starts with {r}");
            }
            assert_eq!(
                rare_family.iter().filter(|f| *f == r).count(),
                1,
                "{r} twice"
            );
        }
    }

    #[test]
    fn sqlite_quotes_double_apostrophes() {
        for (text, quoted) in [
            ("", "''"),
            ("'", "''''"),
            ("O'Brien's", "'O''Brien''s'"),
            ("王'", "'王'''"),
        ] {
            let mut sql = String::new();
            sqlite_quote(&mut sql, text);
            assert_eq!(sql, quoted);
        }
    }

    /// A record as read, without what differs between two records written alike: ids
    /// (lines' too), creation instants and, where `times` is false, every line's instants.
    fn comparable(mut r: JsonMap) -> JsonMap {
        for k in ["id", "created_at", "updated_at"] {
            r.remove(k);
        }
        for (_, v) in r.iter_mut() {
            if let Value::Array(lines) = v {
                for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                    line.remove("id");
                }
            }
        }
        r
    }

    /// Writes a bulk batch.
    async fn write_rows(core: &Core, rows: Rows) {
        let txn = core.db.begin().await.unwrap();
        for sql in rows.into_statements() {
            txn.execute_unprepared(&sql).await.unwrap();
        }
        txn.commit().await.unwrap();
    }

    /// Both records' stored rows, lines and audit entries are alike.
    async fn same_stored(
        core: &Core,
        actor: &Actor,
        def: &'static EntityDef,
        bulk: Uuid,
        service: Uuid,
        what: &str,
    ) {
        let a = core.records(def).get(actor, bulk).await.unwrap();
        let b = core.records(def).get(actor, service).await.unwrap();
        assert_eq!(comparable(a), comparable(b), "{what}");
        assert_eq!(
            entry(core, bulk).await,
            entry(core, service).await,
            "{what}"
        );
        let strip = |rows: Vec<Vec<Option<String>>>| -> Vec<Vec<Option<String>>> {
            rows.into_iter()
                .map(|mut r| {
                    r.remove(1);
                    r
                })
                .collect()
        };
        assert_eq!(
            strip(audit_rows(core, def.table, bulk).await),
            strip(audit_rows(core, def.table, service).await),
            "{what}"
        );
        let mut cols = columns_of(&Shape::new(def, &core.settings));
        // Lists are written at different instants; records at the service's.
        let lists = [PIPELINES.name, LOST_REASONS.name].contains(&def.name);
        cols.retain(|c| {
            c != "id" && !(lists && ["created_at", "updated_at"].contains(&c.as_str()))
        });
        assert_eq!(
            raw_row(core, def.table, &cols, bulk).await,
            raw_row(core, def.table, &cols, service).await,
            "{what}"
        );
    }

    /// Pipelines, lost reasons, opportunities (open, won, lost) and activities of every kind:
    /// the loader's rows equal the service's for the same input.
    async fn day_rows_equal(
        core: &Core,
        actor: &Actor,
        lists: &ListIds,
        made: &std::collections::HashMap<&str, Uuid>,
    ) {
        let settings = core.settings.clone();
        let colleague = users::create(
            &core.db,
            None,
            NewUser {
                email: "colleague@example.com".into(),
                name: "Colleague".into(),
                role: "sales".into(),
                team_id: None,
                password: "correct horse battery".into(),
                locale: None,
            },
        )
        .await
        .unwrap();
        let owners = vec![
            Owner {
                id: actor.user_id,
                region: None,
            },
            Owner {
                id: colleague.id,
                region: None,
            },
        ];
        let sales = day::ensure_sales(core, &owners).await.unwrap();
        assert_eq!(sales.pipelines.len(), 2);
        assert!(sales.pipelines.iter().all(|p| p.stages.len() == 7));
        // The pipeline and a lost reason as the service writes them.
        let (en, zh, open) = &day::PIPELINES_SPEC[0];
        let input = day::pipeline_input(0, en, zh, open);
        let service = core
            .records(&PIPELINES)
            .create(actor, &input)
            .await
            .unwrap();
        let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();
        same_stored(
            core,
            actor,
            &PIPELINES,
            sales.pipelines[0].id,
            id1,
            "pipeline",
        )
        .await;
        let bulk_reason = sales.lost_reasons[0];
        let reason = core
            .records(&LOST_REASONS)
            .get(actor, bulk_reason)
            .await
            .unwrap();
        let input = serde_json::json!({"name": reason["name"], "position": reason["position"]});
        let service = core
            .records(&LOST_REASONS)
            .create(actor, &input)
            .await
            .unwrap();
        let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();
        same_stored(core, actor, &LOST_REASONS, bulk_reason, id1, "lost reason").await;

        let mut producer = Producer::new(
            1,
            owners,
            lists.clone(),
            settings.clone(),
            core.db.backend(),
            0,
            0,
        )
        .with_day(sales.clone(), 0, 0);
        let opp_shape = Shape::new(&OPPORTUNITIES, &settings);
        let account = made["account"];
        let pipeline = &sales.pipelines[1];
        let mut opportunity = None;
        for (i, stage_ix) in [0usize, 3, 5, 2].into_iter().enumerate() {
            let stage = &pipeline.stages[stage_ix];
            let lost = i == 3;
            let mut v = serde_json::json!({
                "name": format!("数据中台 {i}"),
                "account_id": account.to_string(),
                "pipeline_id": pipeline.id.to_string(),
                "stage_id": stage.id.to_string(),
                "amount": {"amount": "120000", "currency": "CNY"},
                "close_date": "2026-11-30",
                "next_step": "发送报价单",
                "source": "展会",
            });
            lists.resolve(&mut v).unwrap();
            let service = core
                .records(&OPPORTUNITIES)
                // At one instant, as the loader writes a record: without it the service's
                // clock moves between the stage's entry and the row's creation.
                .as_of(guanxi_core::now())
                .create(actor, &v)
                .await
                .unwrap();
            let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();
            let at = DateTime::parse_from_rfc3339(service["created_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            let closed_at = at + chrono::Duration::hours(30);
            let reason = sales.lost_reasons[1];
            if lost {
                core.records(&OPPORTUNITIES)
                    .as_of(closed_at)
                    .act(
                        actor,
                        id1,
                        "close_lost",
                        None,
                        &serde_json::json!({"lost_reason_id": reason.to_string()}),
                    )
                    .await
                    .unwrap();
            }
            let id2 = Uuid::now_v7();
            let stamp = Stamp {
                id: id2,
                owner: actor.user_id,
                at,
                actor: actor.user_id,
                audit_id: Uuid::now_v7(),
            };
            day::created_opportunity(&mut v, stage, at);
            let rec = opp_shape.record(&v, &settings).unwrap();
            let mut rows = Rows::new(core.db.backend());
            if lost {
                let closed =
                    day::closed_lost(&rec, &pipeline.stages[6], reason, closed_at, &settings)
                        .unwrap();
                producer
                    .add_acted(
                        &opp_shape,
                        &mut rows,
                        (&rec, &closed),
                        &stamp,
                        ("close_lost", closed_at, Uuid::now_v7()),
                    )
                    .unwrap();
            } else {
                push(
                    core.db.backend(),
                    &OPPORTUNITIES,
                    &mut rows,
                    &rec,
                    &stamp,
                    &mut producer.keys,
                )
                .unwrap();
            }
            write_rows(core, rows).await;
            same_stored(
                core,
                actor,
                &OPPORTUNITIES,
                id2,
                id1,
                &format!("opportunity {i}"),
            )
            .await;
            opportunity = Some(id1);
        }

        let act_shape = Shape::new(&ACTIVITIES, &settings);
        let regarded = [
            ("account", made["account"]),
            ("contact", made["contact"]),
            ("opportunity", opportunity.unwrap()),
        ];
        let mut kinds = std::collections::HashSet::new();
        for i in 0..60 {
            let (entity, id) = regarded[i % 3];
            let now = guanxi_core::now();
            let mut v = producer.activity_input(now, entity, id, i % 2);
            if i % 4 == 1 && v["kind"] == "task" {
                v["done"] = serde_json::json!(true);
            }
            kinds.insert(v["kind"].as_str().unwrap().to_string());
            let service = core
                .records(&ACTIVITIES)
                .as_of(now)
                .create(actor, &v)
                .await
                .unwrap();
            let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();
            let at = DateTime::parse_from_rfc3339(service["created_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            day::completed_activity(&mut v, at);
            let rec = act_shape.record(&v, &settings).unwrap();
            let stamp = Stamp {
                id: Uuid::now_v7(),
                owner: actor.user_id,
                at,
                actor: actor.user_id,
                audit_id: Uuid::now_v7(),
            };
            let mut rows = Rows::new(core.db.backend());
            push(
                core.db.backend(),
                &ACTIVITIES,
                &mut rows,
                &rec,
                &stamp,
                &mut producer.keys,
            )
            .unwrap();
            write_rows(core, rows).await;
            same_stored(
                core,
                actor,
                &ACTIVITIES,
                stamp.id,
                id1,
                &format!("activity {i} {v}"),
            )
            .await;
        }
        assert_eq!(kinds.len(), 5, "{kinds:?}");
    }

    /// The loader writes byte for byte what the record service writes for the same input.
    #[tokio::test]
    async fn bulk_rows_equal_what_the_service_writes() {
        for (url, pg) in databases().await {
            let core = Core::new(Db::open(&url).await.unwrap(), Settings::default());
            let user = users::create(
                &core.db,
                None,
                NewUser {
                    email: "root@example.com".into(),
                    name: "Root".into(),
                    role: "admin".into(),
                    team_id: None,
                    password: "correct horse battery".into(),
                    locale: None,
                },
            )
            .await
            .unwrap();
            let actor = users::actor_for(&core, &user).await.unwrap();
            let settings = core.settings.clone();
            // The lists as the loader writes them, next to the same written by the service.
            let lists = ensure_lists(
                &core,
                &[Owner {
                    id: user.id,
                    region: None,
                }],
            )
            .await
            .unwrap();
            for (def, names) in lists::wanted() {
                let shape = Shape::new(def, &settings);
                let direct = lists::existing(&core, def).await.unwrap()[names[0].1].clone();
                let direct = Uuid::parse_str(&direct).unwrap();
                let made = core.records(def).get(&actor, direct).await.unwrap();
                let input = serde_json::json!({"name": made["name"], "position": made["position"]});
                let service = core.records(def).create(&actor, &input).await.unwrap();
                let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();
                let bulk = core.records(def).get(&actor, direct).await.unwrap();
                let strip = |mut r: JsonMap| {
                    for k in ["id", "created_at", "updated_at"] {
                        r.remove(k);
                    }
                    r
                };
                assert_eq!(strip(bulk), strip(service), "{}", def.name);
                assert_eq!(entry(&core, direct).await, entry(&core, id1).await);
                same_audit(
                    audit_rows(&core, def.table, direct).await,
                    audit_rows(&core, def.table, id1).await,
                    def.name,
                );
                let mut cols = columns_of(&shape);
                cols.retain(|c| !["id", "created_at", "updated_at"].contains(&c.as_str()));
                assert_eq!(
                    raw_row(&core, def.table, &cols, direct).await,
                    raw_row(&core, def.table, &cols, id1).await,
                    "{}",
                    def.name
                );
            }
            let mut producer = Producer::new(
                1,
                vec![],
                lists.clone(),
                settings.clone(),
                core.db.backend(),
                0,
                0,
            );
            let shapes = [
                Shape::new(&ACCOUNTS, &settings),
                Shape::new(&CONTACTS, &settings),
            ];
            let mut g = Gen::new(42);
            let mut account = None;
            let mut made_by_service = std::collections::HashMap::new();
            for i in 0..60 {
                let shape = &shapes[usize::from(i % 2 == 1)];
                let place = if i % 6 < 2 {
                    Place::Foreign(g.foreign_city())
                } else {
                    Place::Cn(g.cn_city())
                };
                let mut v = if shape.def.name == "account" {
                    let (v, info) = if i % 10 == 4 {
                        g.person_account(place)
                    } else {
                        g.company_account(place, None, None)
                    };
                    account = Some(info);
                    v
                } else {
                    let p = g.person_for(place);
                    g.contact_with(account.as_ref(), place, &p)
                };
                lists.resolve(&mut v).unwrap();
                if i == 0 {
                    v["former_names"] =
                        serde_json::json!([format!("{}有限公司", CN_CITIES[0].short)]);
                }
                let service = core.records(shape.def).create(&actor, &v).await.unwrap();
                let id1 = Uuid::parse_str(service["id"].as_str().unwrap()).unwrap();

                let id2 = Uuid::now_v7();
                let mut rows = Rows::new(core.db.backend());
                let rec = shape.record(&v, &settings).unwrap();
                let at = DateTime::parse_from_rfc3339(service["created_at"].as_str().unwrap())
                    .unwrap()
                    .with_timezone(&Utc);
                producer
                    .push(
                        shape,
                        &mut rows,
                        &rec,
                        id2,
                        actor.user_id,
                        at,
                        Uuid::now_v7(),
                    )
                    .unwrap();
                let txn = core.db.begin().await.unwrap();
                for sql in rows.into_statements() {
                    txn.execute_unprepared(&sql).await.unwrap();
                }
                txn.commit().await.unwrap();

                let strip = |mut r: JsonMap| {
                    for k in ["id", "created_at", "updated_at"] {
                        r.remove(k);
                    }
                    r
                };
                let bulk = core.records(shape.def).get(&actor, id2).await.unwrap();
                assert_eq!(strip(bulk), strip(service), "{} {i}", shape.def.name);
                assert_eq!(
                    entry(&core, id2).await,
                    entry(&core, id1).await,
                    "{} {i}",
                    shape.def.name
                );
                same_audit(
                    audit_rows(&core, shape.def.table, id2).await,
                    audit_rows(&core, shape.def.table, id1).await,
                    &format!("{} {i}", shape.def.name),
                );
                let mut cols = columns_of(shape);
                cols.retain(|c| c != "id");
                assert_eq!(
                    raw_row(&core, shape.def.table, &cols, id2).await,
                    raw_row(&core, shape.def.table, &cols, id1).await,
                    "{} {i}",
                    shape.def.name
                );
                let title = entry(&core, id1).await.0;
                let hits = search::search(&core.db, &actor, &title, &[shape.def], 50)
                    .await
                    .unwrap();
                assert!(
                    hits.iter().any(|h| h.id == id2) && hits.iter().any(|h| h.id == id1),
                    "{title}: {hits:?}"
                );
                made_by_service.insert(shape.def.name, id1);
            }
            day_rows_equal(&core, &actor, &lists, &made_by_service).await;
            core.db.close().await.unwrap();
            match pg {
                Some((admin, name)) => {
                    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                None => {
                    for ext in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{url}{ext}"));
                    }
                }
            }
        }
    }

    /// A load into a database that holds one already hands out search keys after the stored
    /// ones in every millisecond they share, not the same ones again (which the database
    /// refused as a duplicate key, and the load with it).
    #[tokio::test]
    async fn a_second_load_gives_search_keys_after_the_first_loads() {
        let path =
            std::env::temp_dir().join(format!("guanxi_bulk_keys_{}.db", Uuid::now_v7().simple()));
        let url = path.display().to_string();
        let core = Core::new(Db::open(&url).await.unwrap(), Settings::default());
        generate_bench_data(&core, 30, 60, &mut |_, _| {})
            .await
            .unwrap();
        let within = (1i64 << search::order::SLOT_BITS) - 1;
        let stored: Vec<i64> = db::raw_query(
            core.db.reader(),
            "SELECT rowid AS k FROM search_entries WHERE rowid >= 0 AND (rowid & ?) >= ?",
            vec![within.into(), Keys::RECORDS.into()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| get_i64(r, "k").unwrap())
        .collect();
        assert_eq!(stored.len(), 90);
        let mut keys = Keys::after_stored(&core, Keys::RECORDS).await.unwrap();
        for k in &stored {
            let mut entry = TableRow::new(
                "search_entries",
                vec![("rowid".into(), (k - (k & within)).into())],
            );
            keys.assign(&mut entry);
            let Some(SqlValue::BigInt(Some(given))) = entry.get("rowid").cloned() else {
                panic!("no key given");
            };
            assert!(
                given > *k && given - (given & within) == k - (k & within),
                "{given} after {k}"
            );
        }
        // And the load itself goes through.
        generate_bench_data(&core, 30, 60, &mut |_, _| {})
            .await
            .unwrap();
        assert_eq!(count_rows(&core, "contacts").await.unwrap(), 120);
        drop(core);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{url}{ext}"));
        }
    }
}
