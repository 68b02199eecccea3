//! The demo data set behind `guanxi demo`: teams, one user per role, two custom fields and a few
//! hundred bilingual accounts and contacts, created through the record service so audit rows,
//! search entries and contact points are exactly what real use produces.
//!
//! Deterministic: the same seed gives the same companies, people and numbers on every machine
//! (only ids and timestamps differ). Idempotent: when the demo administrator already exists,
//! nothing is written.

mod activities;
mod calendar;
mod ledgers;
mod sales;
pub(crate) mod vocab;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::authz::{Actor, Role};
use guanxi_core::custom_fields::{self, CustomFieldInput};
use guanxi_core::db::{self, col, get_i64};
use guanxi_core::error::{CoreError, CoreResult};
use guanxi_core::identity::{NewUser, teams, users};
use guanxi_core::{Core, EntityDef};
use vocab::{AccountInfo, FOREIGN_CITIES, Gen, Person, Place, Region};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "guanxi-demo";
/// The demo administrator's login.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.guanxi.local";
/// Seed of the demo data's random source.
const SEED: u64 = 0x6775_616e_7869_0001;
/// Seed of the random source for when things happened: a source of its own, so that the
/// companies, people and numbers stay what they were before the demo had a past.
const SEED_OF_TIMES: u64 = 0x6775_616e_7869_0002;

const TEAM_EAST: &str = "华东销售部";
const TEAM_NORTH: &str = "华北销售部";
const TEAM_INTL: &str = "International Sales";

/// (email local part, name, role, team, locale)
const USERS: &[(&str, &str, Role, Option<&str>, &str)] = &[
    ("admin", "周婷", Role::Admin, None, "zh-CN"),
    ("manager", "李建国", Role::Manager, Some(TEAM_EAST), "zh-CN"),
    ("sales1", "陈晓明", Role::Sales, Some(TEAM_EAST), "zh-CN"),
    ("sales2", "刘洋", Role::Sales, Some(TEAM_NORTH), "zh-CN"),
    ("sales3", "Emily Carter", Role::Sales, Some(TEAM_INTL), "en"),
    ("marketing", "赵敏", Role::Marketing, None, "zh-CN"),
    ("service", "孙丽", Role::Service, None, "zh-CN"),
    ("readonly", "David Miller", Role::ReadOnly, None, "en"),
];

/// Accounts and contacts the demo creates (at least).
const TARGET_ACCOUNTS: usize = 230;
const TARGET_CONTACTS: usize = 690;
const UNLINKED_CONTACTS: usize = 40;

#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team: Option<String>,
    pub locale: String,
}

/// What `seed_demo` did, and how to log in.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// False when the demo data was already there and nothing was written.
    pub created: bool,
    pub admin_email: String,
    /// The password of every demo user (unless someone changed it since).
    pub password: String,
    pub users: Vec<DemoUser>,
    pub teams: Vec<String>,
    /// Live accounts, contacts and opportunities in the database afterwards.
    pub accounts: u64,
    pub contacts: u64,
    pub opportunities: u64,
}

fn email_of(local: &str) -> String {
    format!("{local}@demo.guanxi.local")
}

async fn count_live(core: &Core, table: &str) -> CoreResult<u64> {
    let mut q = Query::select();
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(col(table))
        .and_where(Expr::col(col("deleted_at")).is_null());
    let row = db::fetch_one(core.db.reader(), &q).await?;
    Ok(row
        .map(|r| get_i64(&r, "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

async fn summary(core: &Core, created: bool) -> CoreResult<DemoSummary> {
    let team_names: HashMap<Uuid, String> = teams::list(&core.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut demo_users = Vec::new();
    for (local, ..) in USERS {
        if let Some(u) = users::find_by_email(&core.db, &email_of(local)).await? {
            demo_users.push(DemoUser {
                email: u.email,
                name: u.name,
                role: u.role,
                team: u.team_id.and_then(|t| team_names.get(&t).cloned()),
                locale: u.locale,
            });
        }
    }
    Ok(DemoSummary {
        created,
        admin_email: DEMO_ADMIN_EMAIL.to_string(),
        password: DEMO_PASSWORD.to_string(),
        users: demo_users,
        teams: [TEAM_EAST, TEAM_NORTH, TEAM_INTL]
            .iter()
            .filter(|n| team_names.values().any(|t| t == *n))
            .map(|s| s.to_string())
            .collect(),
        accounts: count_live(core, ACCOUNTS.table).await?,
        contacts: count_live(core, CONTACTS.table).await?,
        opportunities: count_live(core, guanxi_core::areas::sales::OPPORTUNITIES.table).await?,
    })
}

/// The people who own demo records, by job.
struct Owners {
    manager: Actor,
    east: Actor,
    north: Actor,
    intl: Actor,
}

impl Owners {
    /// Sales territories: East China to the East team, the north to the North team, abroad to
    /// International; the rest is shared out.
    fn for_place(&self, g: &mut Gen, place: Place) -> &Actor {
        match place {
            Place::Foreign(_) => &self.intl,
            Place::Cn(c) => match c.region {
                Region::East => {
                    if g.chance(0.3) {
                        &self.manager
                    } else {
                        &self.east
                    }
                }
                Region::North | Region::Northeast | Region::Northwest => &self.north,
                _ => match g.range(0, 2) {
                    0 => &self.manager,
                    1 => &self.east,
                    _ => &self.north,
                },
            },
        }
    }
}

/// An account created, with what its contacts need.
struct Created {
    id: Uuid,
    info: AccountInfo,
    owner: usize,
    /// When it was created.
    at: DateTime<Utc>,
}

/// Creates the demo data set unless it is already there. Takes a few seconds on SQLite.
pub async fn seed_demo(core: &Core) -> CoreResult<DemoSummary> {
    if users::find_by_email(&core.db, DEMO_ADMIN_EMAIL)
        .await?
        .is_some()
    {
        return summary(core, false).await;
    }
    let mut team_ids = HashMap::new();
    for name in [TEAM_EAST, TEAM_NORTH, TEAM_INTL] {
        let team = match teams::find_by_name(&core.db, name).await? {
            Some(t) => t,
            None => teams::create(&core.db, None, name).await?,
        };
        team_ids.insert(name, team.id);
    }
    // The administrator first: its presence is what marks the demo as done.
    let mut actors: HashMap<&str, Actor> = HashMap::new();
    for (local, name, role, team, locale) in USERS {
        let email = email_of(local);
        let user = match users::find_by_email(&core.db, &email).await? {
            Some(u) => u,
            None => {
                users::create(
                    &core.db,
                    None,
                    NewUser {
                        email,
                        name: name.to_string(),
                        role: role.as_str().to_string(),
                        team_id: team.and_then(|t| team_ids.get(t).copied()),
                        password: DEMO_PASSWORD.to_string(),
                        locale: Some(locale.to_string()),
                    },
                )
                .await?
            }
        };
        actors.insert(local, users::actor_for(core, &user).await?);
    }
    let actor = |k: &str| {
        actors
            .get(k)
            .cloned()
            .ok_or_else(|| CoreError::Internal(format!("demo user {k} missing")))
    };
    let admin = actor("admin")?;
    let owners = Owners {
        manager: actor("manager")?,
        east: actor("sales1")?,
        north: actor("sales2")?,
        intl: actor("sales3")?,
    };
    create_custom_fields(core, &admin).await?;
    let lists = crate::lists::ensure_through_service(core, &admin).await?;

    let mut g = Gen::new(SEED);
    let mut names = HashSet::new();
    let mut created: Vec<Created> = Vec::new();
    let year = calendar::Year::ending(guanxi_core::now());
    let mut b = Builder {
        core,
        owners: &owners,
        created: &mut created,
        names: &mut names,
        people_at: HashMap::new(),
        lists: &lists,
        year: &year,
        times: Gen::new(SEED_OF_TIMES),
    };

    // Hand-picked records the documentation and tests talk about.
    let city = |name: &str| {
        vocab::CN_CITIES
            .iter()
            .find(|c| c.city == name)
            .unwrap_or(&vocab::CN_CITIES[0])
    };
    let foreign = |name: &str| {
        FOREIGN_CITIES
            .iter()
            .find(|c| c.city == name)
            .unwrap_or(&FOREIGN_CITIES[0])
    };
    let (v, info) = g.company_account(Place::Cn(city("北京市")), Some("中太"), Some("数据科技"));
    let zhongtai = b.account(&mut g, v, info, None, Some("A")).await?;
    let (v, info) = g.cn_subsidiary("中太", "数据科技", city("成都市"));
    b.account(&mut g, v, info, Some(zhongtai), Some("B"))
        .await?;
    let (v, info) = g.company_account(Place::Cn(city("上海市")), Some("华信"), Some("精密机械"));
    let huaxin = b.account(&mut g, v, info, None, Some("A")).await?;
    for c in ["苏州市", "宁波市"] {
        let (v, info) = g.cn_subsidiary("华信", "精密机械", city(c));
        b.account(&mut g, v, info, Some(huaxin), None).await?;
    }
    let (v, info) = g.company_account(
        Place::Foreign(foreign("San Francisco")),
        Some("Acme"),
        Some("Robotics"),
    );
    let (v, info) = renamed(v, info, "Acme Robotics Inc.");
    let acme = b.account(&mut g, v, info, None, Some("A")).await?;
    let (v, info) = g.company_account(
        Place::Foreign(foreign("München")),
        Some("Acme"),
        Some("Robotics"),
    );
    let (v, info) = renamed(v, info, "Acme Robotics GmbH");
    let acme_de = b.account(&mut g, v, info, Some(acme), Some("B")).await?;
    let (v, info) = g.company_account(
        Place::Foreign(foreign("London")),
        Some("Northwind"),
        Some("Traders"),
    );
    let (v, info) = renamed(v, info, "Northwind Traders Ltd.");
    let northwind = b.account(&mut g, v, info, None, Some("B")).await?;

    // Groups with subsidiaries in other cities.
    for _ in 0..6 {
        let home = g.cn_city();
        let (v, info) = g.company_account(Place::Cn(home), None, None);
        let Some(parent) = b.try_account(&mut g, v, info, None, None).await? else {
            continue;
        };
        let (brand, trade) = brand_and_trade(&b.created[parent].info.name, home.short);
        for _ in 0..g.range(1, 3) {
            let city = g_city_other(&mut g, home);
            let (v, info) = g.cn_subsidiary(&brand, &trade, city);
            b.try_account(&mut g, v, info, Some(parent), None).await?;
        }
    }
    // Private customers, foreign companies, and Chinese companies for the rest.
    for _ in 0..12 {
        let place = Place::Cn(g.cn_city());
        let (v, info) = g.person_account(place);
        b.try_account(&mut g, v, info, None, None).await?;
    }
    for country in ["US", "US", "DE", "GB", "JP", "SG"].iter().cycle().take(40) {
        let place = Place::Foreign(g.foreign_city_in(country));
        let (v, info) = g.company_account(place, None, None);
        b.try_account(&mut g, v, info, None, None).await?;
    }
    let mut attempts = 0;
    while b.created.len() < TARGET_ACCOUNTS && attempts < 10 * TARGET_ACCOUNTS {
        attempts += 1;
        let place = Place::Cn(g.cn_city());
        let (v, info) = g.company_account(place, None, None);
        let with_former = g.chance(0.06);
        let idx = b
            .try_account(&mut g, v.clone(), info.clone(), None, None)
            .await?;
        if let (Some(i), true) = (idx, with_former)
            && let Some(former) = g.former_name(&b.created[i].info)
        {
            let renamed_at = b.year.after(&mut b.times, b.created[i].at, 120);
            core.records(&ACCOUNTS)
                .as_of(renamed_at)
                .update(
                    b.owner_actor(b.created[i].owner),
                    b.created[i].id,
                    None,
                    &json!({"former_names": [former]}),
                )
                .await?;
        }
    }

    // A year of changes: ratings that rose or cooled since the account came in.
    for i in 0..b.created.len() {
        if !b.times.chance(0.3) {
            continue;
        }
        let rating = b.times.pick(&["hot", "warm", "cold"]);
        let at = b.year.after(&mut b.times, b.created[i].at, 200);
        core.records(&ACCOUNTS)
            .as_of(at)
            .update(
                b.owner_actor(b.created[i].owner),
                b.created[i].id,
                None,
                &json!({ "rating": rating }),
            )
            .await?;
    }

    // Contacts: the people the guides and tests mention, one for every company, then the rest.
    let mut people = HashSet::new();
    let mut contacts = 0usize;
    for (account, family, given, female, title, department) in [
        (zhongtai, "张", "三", false, "采购经理", "采购部"),
        (zhongtai, "李", "四", false, "IT经理", "信息中心"),
        (huaxin, "王", "芳", true, "财务经理", "财务部"),
        (huaxin, "王", "芳芳", true, "采购专员", "采购部"),
    ] {
        let p = Person::chinese(family, given, female);
        let place = b.created[account].info.place;
        b.contact(
            &mut g,
            Some(account),
            place,
            &p,
            &mut people,
            Some((title, department)),
        )
        .await?;
        contacts += 1;
    }
    for (account, family, given, title, department) in [
        (
            acme_de,
            "Schmidt",
            "Anna",
            "Head of Procurement",
            "Procurement",
        ),
        (
            northwind,
            "Wilson",
            "James",
            "Operations Manager",
            "Operations",
        ),
        (acme, "Johnson", "Sarah", "CTO", "Technology"),
    ] {
        let mut p = g.foreign_person("US");
        p.family = family.into();
        p.given = given.into();
        p.mail_family = family.to_lowercase();
        p.mail_given = given.to_lowercase();
        p.female = given != "James";
        let place = b.created[account].info.place;
        b.contact(
            &mut g,
            Some(account),
            place,
            &p,
            &mut people,
            Some((title, department)),
        )
        .await?;
        contacts += 1;
    }
    let companies: Vec<usize> = (0..b.created.len())
        .filter(|&i| b.created[i].info.company)
        .collect();
    for &i in &companies {
        if b.random_contact(&mut g, Some(i), &mut people).await? {
            contacts += 1;
        }
    }
    for _ in 0..UNLINKED_CONTACTS {
        if b.random_contact(&mut g, None, &mut people).await? {
            contacts += 1;
        }
    }
    let mut attempts = 0;
    while contacts < TARGET_CONTACTS && attempts < 10 * TARGET_CONTACTS && !companies.is_empty() {
        attempts += 1;
        let i = companies[g.range(0, companies.len() as u64 - 1) as usize];
        if b.random_contact(&mut g, Some(i), &mut people).await? {
            contacts += 1;
        }
    }
    let mut times = std::mem::replace(&mut b.times, Gen::new(SEED_OF_TIMES));
    let no_one: Vec<Uuid> = Vec::new();
    let customers: Vec<sales::Customer> = companies
        .iter()
        .map(|&i| sales::Customer {
            id: b.created[i].id,
            name: &b.created[i].info.name,
            chinese: sales::chinese(b.created[i].info.place),
            owner: b.owner_actor(b.created[i].owner),
            contacts: b.people_at.get(&i).unwrap_or(&no_one),
            since: b.created[i].at,
        })
        .collect();
    sales::seed(
        core,
        &mut g,
        (&year, &mut times),
        &admin,
        &customers,
        &lists,
    )
    .await?;
    activities::seed(core, &mut g, (&year, &mut times), &customers).await?;
    seed_ledgers(core, &mut g, &admin, &owners).await?;
    summary(core, true).await
}

/// Three years of sales history and payments for every customer account (those that are
/// customers once the pipeline has run, its won deals included), then the first refresh of
/// their insights, so the demo opens with them.
async fn seed_ledgers(core: &Core, g: &mut Gen, admin: &Actor, owners: &Owners) -> CoreResult<()> {
    use guanxi_core::records::{Filter, FilterOp, ListQuery};
    let page = core
        .records(&ACCOUNTS)
        .list(
            admin,
            &ListQuery {
                filter: Some(Filter::Cond {
                    field: "type".into(),
                    op: FilterOp::Eq,
                    value: json!("customer"),
                }),
                sort: Some("created_at".into()),
                limit: 500,
                fields: Some(vec!["owner_id".into()]),
                ..Default::default()
            },
        )
        .await?;
    let people = [
        &owners.manager,
        &owners.east,
        &owners.north,
        &owners.intl,
        admin,
    ];
    let mut buyers = Vec::new();
    for rec in &page.items {
        let id = rec
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        let owner = rec.get("owner_id").and_then(Value::as_str);
        let actor = people
            .iter()
            .find(|a| Some(a.user_id.to_string().as_str()) == owner)
            .copied()
            .unwrap_or(admin);
        if let Some(id) = id {
            buyers.push(ledgers::Buyer { id, owner: actor });
        }
    }
    let today = guanxi_core::insights::refresh::today(core, guanxi_core::now());
    ledgers::seed(core, g, today, &buyers).await?;
    guanxi_core::insights::refresh::refresh(
        core,
        None,
        guanxi_core::insights::refresh::Train::IfStale,
        &|_| {},
    )
    .await?;
    Ok(())
}

/// Replaces a generated foreign company name with a hand-picked one.
fn renamed(mut v: Value, mut info: AccountInfo, name: &str) -> (Value, AccountInfo) {
    v["name"] = json!(name);
    info.name = name.to_string();
    (v, info)
}

/// Another city than `home`, for a subsidiary.
fn g_city_other(g: &mut Gen, home: &'static vocab::CnCity) -> &'static vocab::CnCity {
    for _ in 0..16 {
        let c = g.cn_city();
        if !std::ptr::eq(c, home) {
            return c;
        }
    }
    home
}

/// The trade name and trade of a generated Chinese company name (`北京中太数据科技有限公司`).
fn brand_and_trade(name: &str, city_short: &str) -> (String, String) {
    let rest = name.strip_prefix(city_short).unwrap_or(name);
    let brand: String = rest.chars().take(2).collect();
    let after: String = rest.chars().skip(2).collect();
    let trade = ["集团有限公司", "股份有限公司", "有限责任公司", "有限公司"]
        .iter()
        .find_map(|s| after.strip_suffix(s))
        .unwrap_or(&after)
        .to_string();
    (brand, trade)
}

async fn create_custom_fields(core: &Core, admin: &Actor) -> CoreResult<()> {
    let fields = [
        (
            "account",
            "customer_level",
            "Customer level",
            "客户等级",
            "choice",
            vec!["A", "B", "C"],
        ),
        ("contact", "hobby", "Hobby", "兴趣爱好", "text", vec![]),
    ];
    for (entity, key, en, zh, kind, options) in fields {
        let existing = custom_fields::list(core.db.reader(), core.registry, Some(entity)).await?;
        if existing.iter().any(|d| d.key == key) {
            continue;
        }
        custom_fields::create(
            core,
            admin,
            entity,
            CustomFieldInput {
                key: Some(key.into()),
                label_en: Some(en.into()),
                label_zh: Some(zh.into()),
                kind: Some(kind.into()),
                required: Some(false),
                options: Some(options.into_iter().map(String::from).collect()),
                refers_to: None,
                position: None,
            },
        )
        .await?;
    }
    Ok(())
}

const CN_HOBBIES: &[&str] = &[
    "钓鱼",
    "高尔夫",
    "羽毛球",
    "乒乓球",
    "茶道",
    "摄影",
    "跑步",
    "登山",
    "书法",
    "围棋",
    "旅游",
    "阅读",
];
const EN_HOBBIES: &[&str] = &[
    "golf",
    "tennis",
    "sailing",
    "cycling",
    "running",
    "photography",
    "hiking",
    "reading",
];

struct Builder<'a> {
    core: &'a Core,
    owners: &'a Owners,
    created: &'a mut Vec<Created>,
    names: &'a mut HashSet<String>,
    /// The contacts made at each account (by its index), for the deals' contact roles.
    people_at: HashMap<usize, Vec<Uuid>>,
    /// The sources and industries generated names stand for.
    lists: &'a crate::lists::ListIds,
    /// The demo's past year, and the random source for when in it things happened.
    year: &'a calendar::Year,
    times: Gen,
}

impl Builder<'_> {
    fn owner_actor(&self, i: usize) -> &Actor {
        match i {
            0 => &self.owners.manager,
            1 => &self.owners.east,
            2 => &self.owners.north,
            _ => &self.owners.intl,
        }
    }

    fn owner_index(&self, a: &Actor) -> usize {
        [
            &self.owners.manager,
            &self.owners.east,
            &self.owners.north,
            &self.owners.intl,
        ]
        .iter()
        .position(|o| o.user_id == a.user_id)
        .unwrap_or(0)
    }

    /// Creates an account unless one of that name exists; returns its index.
    async fn try_account(
        &mut self,
        g: &mut Gen,
        v: Value,
        info: AccountInfo,
        parent: Option<usize>,
        level: Option<&str>,
    ) -> CoreResult<Option<usize>> {
        if self.names.contains(&info.name) {
            return Ok(None);
        }
        self.account(g, v, info, parent, level).await.map(Some)
    }

    async fn account(
        &mut self,
        g: &mut Gen,
        mut v: Value,
        info: AccountInfo,
        parent: Option<usize>,
        level: Option<&str>,
    ) -> CoreResult<usize> {
        let owner = match parent {
            // Subsidiaries stay with the group's owner.
            Some(p) => self.created[p].owner,
            None => {
                let a = self.owners.for_place(g, info.place);
                self.owner_index(a)
            }
        };
        if let Some(p) = parent {
            v["parent_id"] = json!(self.created[p].id.to_string());
        }
        let level = match level {
            Some(l) => Some(l.to_string()),
            None if info.company && g.chance(0.7) => {
                Some(g.pick(&["A", "B", "B", "C", "C", "C"]).to_string())
            }
            None => None,
        };
        if let Some(l) = level {
            v["custom"] = json!({ "customer_level": l });
        }
        // Groups first, their subsidiaries after; the year fills up in the order they come.
        let at = match parent {
            Some(p) => self.year.after(&mut self.times, self.created[p].at, 60),
            None => {
                let share = self.created.len() as f64 / TARGET_ACCOUNTS as f64;
                self.year.at(&mut self.times, share * 0.97)
            }
        };
        let actor = self.owner_actor(owner);
        v["owner_id"] = json!(actor.user_id.to_string());
        self.lists.resolve(&mut v)?;
        let rec = create(self.core, &ACCOUNTS, actor, &v, at).await?;
        self.names.insert(info.name.clone());
        self.created.push(Created {
            id: rec,
            info,
            owner,
            at,
        });
        Ok(self.created.len() - 1)
    }

    /// A contact for a generated person; false when that name was taken.
    async fn random_contact(
        &mut self,
        g: &mut Gen,
        account: Option<usize>,
        people: &mut HashSet<String>,
    ) -> CoreResult<bool> {
        let place = g.contact_place(account.map(|i| &self.created[i].info));
        let p = g.person_for(place);
        if people.contains(&p.display()) {
            return Ok(false);
        }
        self.contact(g, account, place, &p, people, None).await?;
        Ok(true)
    }

    async fn contact(
        &mut self,
        g: &mut Gen,
        account: Option<usize>,
        place: Place,
        p: &Person,
        people: &mut HashSet<String>,
        job: Option<(&str, &str)>,
    ) -> CoreResult<()> {
        let info = account.map(|i| &self.created[i].info);
        let mut v = g.contact_with(info, place, p);
        if let Some((title, department)) = job {
            v["title"] = json!(title);
            v["department"] = json!(department);
        }
        let owner = match account {
            Some(i) => self.created[i].owner,
            None => g.range(0, 3) as usize,
        };
        if let Some(i) = account {
            v["account_id"] = json!(self.created[i].id.to_string());
        }
        if g.chance(0.3) {
            let hobby = if p.chinese {
                g.pick(CN_HOBBIES)
            } else {
                g.pick(EN_HOBBIES)
            };
            v["custom"] = json!({ "hobby": hobby });
        }
        // People are met once their company is a customer; others any time in the year.
        let at = match account {
            Some(i) => self.year.after(&mut self.times, self.created[i].at, 90),
            None => {
                let share = self.times.range(0, 1000) as f64 / 1000.0;
                self.year.at(&mut self.times, share)
            }
        };
        let actor = self.owner_actor(owner);
        v["owner_id"] = json!(actor.user_id.to_string());
        let contact = create(self.core, &CONTACTS, actor, &v, at).await?;
        if let Some(i) = account {
            self.people_at.entry(i).or_default().push(contact);
        }
        people.insert(p.display());
        Ok(())
    }
}

/// Creates a record through the service; a validation failure names the record, so a bad word
/// list shows up as what it is. The companies of a group share a web domain and some people
/// share a name, as they do in life: the duplicate check warns about those and the demo saves
/// them anyway, as a person who knows would (a rule that blocks still refuses).
async fn create(
    core: &Core,
    def: &'static EntityDef,
    actor: &Actor,
    v: &Value,
    at: DateTime<Utc>,
) -> CoreResult<Uuid> {
    let mut v = v.clone();
    if !def.dedupe.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.insert(
            guanxi_core::records::service::ALLOW_DUPLICATE.into(),
            Value::Bool(true),
        );
    }
    let v = &v;
    match core.records(def).as_of(at).create(actor, v).await {
        Ok(rec) => rec
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| CoreError::Internal("a created record has no id".into())),
        Err(CoreError::Validation(fields)) => Err(CoreError::Internal(format!(
            "demo {} {} failed validation: {fields:?}",
            def.name, v
        ))),
        Err(e) => Err(e),
    }
}
