//! Exports read back by the import, on both backends: an export "for people" (labels, names,
//! titles; in Chinese and in English) imported into an empty company gives the records it was
//! made from, an owner's name two users share is a row error, and an export "for re-import"
//! (codes) imported over the records it was made from matches each and changes nothing.

use std::io::Cursor;

use guanxi_core::identity::{NewUser, auth, users};
use guanxi_core::import::mapping::{Targets, suggest};
use guanxi_core::import::run::{self, Policy, Report, RowError, RunOptions};
use guanxi_core::import::{ReadOptions, Source};
use guanxi_core::{Actor, Core, EntityDef};
use guanxi_web::i18n::EveryLanguage;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, TestUser, backends, spawn};

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

async fn actor_of(app: &TestApp, u: &TestUser) -> Actor {
    let user = users::find_by_email(&app.core.db, &u.email)
        .await
        .expect("user")
        .expect("found");
    users::actor_for(&app.core, &user).await.expect("actor")
}

/// `GET /api/v1/<plural>/export.csv?format=…` as `u`: the file's bytes.
async fn export(u: &TestUser, plural: &str, format: &str) -> Vec<u8> {
    let res = u
        .req(
            Method::GET,
            &format!("/api/v1/{plural}/export.csv?format={format}"),
        )
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.expect("body").to_vec()
}

/// Imports `bytes` as `def` with the suggested mapping, reading labels back, as the CLI does.
async fn import(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    bytes: &[u8],
    policy: Policy,
) -> (Report, Vec<RowError>) {
    let mut source =
        Source::open(Cursor::new(bytes.to_vec()), &ReadOptions::default()).expect("open");
    let custom = core.records(def).custom_defs().await.expect("custom");
    let targets = Targets::of(def, &custom);
    let labels = EveryLanguage::default();
    let mapping = suggest(&targets, source.headers(), &labels).mapping();
    let plan = mapping
        .resolve(&targets, source.headers())
        .expect("mapping")
        .reading_labels(def, &custom, &labels);
    let options = RunOptions {
        policy,
        dry_run: false,
        file_name: format!("{}.csv", def.plural),
        fingerprint: run::fingerprint(bytes).expect("fingerprint"),
        mapping: mapping.to_toml(),
        stop_after: None,
        run_id: None,
        create_missing: false,
    };
    let mut errors = Vec::new();
    let report = run::run(core, actor, def, &mut source, &plan, &options, &mut errors)
        .await
        .expect("run");
    (report, errors)
}

/// Every record of `plural` as `u` reads it through the API, keyed by title, with ids, times
/// and versions left out and references and owners given by title and name.
async fn records(u: &TestUser, plural: &str, names: &[(String, String)]) -> Vec<(String, Value)> {
    let res = u
        .get(&format!("/api/v1/{plural}?limit=500"))
        .await
        .json::<Value>()
        .await
        .expect("json");
    let mut out = Vec::new();
    for r in res["data"].as_array().expect("items") {
        let mut r = r.as_object().expect("object").clone();
        for k in [
            "id",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "version",
            "search_title",
        ] {
            r.remove(k);
        }
        if let Some(owner) = r.get("owner_id").and_then(Value::as_str) {
            let name = names
                .iter()
                .find(|(id, _)| id == owner)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| format!("unknown {owner}"));
            r.insert("owner_id".into(), Value::String(name));
        }
        let key = title(&Value::Object(r.clone()));
        out.push((key, Value::Object(r)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn title(r: &Value) -> String {
    match r.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => format!(
            "{}{}",
            r["family_name"].as_str().unwrap_or(""),
            r["given_name"].as_str().unwrap_or("")
        ),
    }
}

/// A contact's account, by the account's name.
async fn with_account_names(u: &TestUser, mut list: Vec<(String, Value)>) -> Vec<(String, Value)> {
    for (_, r) in &mut list {
        if let Some(id) = r
            .get("account_id")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            let acc: Value = u
                .get(&format!("/api/v1/accounts/{id}"))
                .await
                .json()
                .await
                .expect("account");
            r["account_id"] = acc["name"].clone();
        }
    }
    list
}

/// The names of `app`'s users by id.
async fn user_names(app: &TestApp) -> Vec<(String, String)> {
    users::list(&app.core.db)
        .await
        .expect("users")
        .iter()
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect()
}

/// The company the exports are made in: two accounts and three contacts with choices, phones
/// with labels, an address, an amount, dates, yes/no, references and owners.
async fn source_company(app: &TestApp) -> (TestUser, TestUser) {
    let wang = person(app, "admin", "王芳", "zh-CN").await;
    let english = person(app, "admin", "Fang Wang", "en").await;
    let li = person(app, "sales", "李雷", "zh-CN").await;
    let han = person(app, "sales", "韩梅梅", "zh-CN").await;
    let firm = wang
        .create(
            "accounts",
            json!({"kind": "company", "name": "北京中太数据科技有限公司", "type": "customer",
                   "rating": "hot", "website": "https://zt.example.cn",
                   "phones": [{"number": "010-62345678", "label": "work"}],
                   "billing_address": {"province": "北京市", "city": "北京市",
                                       "district": "海淀区", "street": "中关村大街1号"},
                   "annual_revenue": {"amount": "1234567.89", "currency": "CNY"},
                   "employees": 1200, "description": "=重要客户",
                   "owner_id": li.id}),
        )
        .await;
    wang.create(
        "accounts",
        json!({"kind": "person", "name": "张伟", "type": "prospect", "rating": "cold"}),
    )
    .await;
    wang.create(
        "contacts",
        json!({"family_name": "欧阳", "given_name": "修", "title": "总经理",
               "salutation": "mr", "account_id": firm["id"],
               "emails": [{"address": "ouyang@example.com", "label": "work"}],
               "phones": [{"number": "13812345678", "label": "mobile"},
                          {"number": "010-62345679", "label": "work"}],
               "birthday": "1990-05-04", "preferred_channel": "wechat",
               "do_not_call": true, "owner_id": li.id}),
    )
    .await;
    wang.create(
        "contacts",
        json!({"family_name": "司马", "given_name": "光", "department": "采购部",
               "emails": [{"address": "sima@example.com"}]}),
    )
    .await;
    wang.create(
        "contacts",
        json!({"family_name": "李", "given_name": "娜", "owner_id": han.id,
               "emails": [{"address": "lina@example.com"}]}),
    )
    .await;
    (wang, english)
}

/// An empty company with the same people, and a second 韩梅梅.
async fn empty_company(app: &TestApp) -> TestUser {
    let admin = person(app, "admin", "王芳", "zh-CN").await;
    person(app, "sales", "李雷", "zh-CN").await;
    person(app, "sales", "韩梅梅", "zh-CN").await;
    person(app, "sales", "韩梅梅", "en").await;
    admin
}

#[tokio::test]
async fn an_export_for_people_imports_back_as_the_records_it_was_made_from() {
    for b in backends() {
        let from = spawn(b).await;
        let (wang, english) = source_company(&from).await;
        let from_names = user_names(&from).await;
        let want_accounts = records(&wang, "accounts", &from_names).await;
        let mut want_contacts =
            with_account_names(&wang, records(&wang, "contacts", &from_names).await).await;
        // 李娜's owner is a name two people share in the other company: that row stays out.
        want_contacts.retain(|(t, _)| t != "李娜");
        for exporter in [&wang, &english] {
            let accounts = export(exporter, "accounts", "labels").await;
            let contacts = export(exporter, "contacts", "labels").await;
            let to = spawn(b).await;
            let admin = empty_company(&to).await;
            let actor = actor_of(&to, &admin).await;
            let (r, errors) = import(
                &to.core,
                &actor,
                to.core.registry.by_name("account").expect("accounts"),
                &accounts,
                Policy::Skip,
            )
            .await;
            assert!(errors.is_empty(), "{b:?}: {errors:?}");
            assert_eq!(r.counts.created, 2, "{b:?}");
            let (r, errors) = import(
                &to.core,
                &actor,
                to.core.registry.by_name("contact").expect("contacts"),
                &contacts,
                Policy::Skip,
            )
            .await;
            assert_eq!(r.counts.created, 2, "{b:?}: {errors:?}");
            assert_eq!(r.counts.linked_created, 0, "{b:?}: found by title");
            // The ambiguous owner: one row error, on the owner's column, naming the name.
            assert_eq!(errors.len(), 1, "{b:?}: {errors:?}");
            assert_eq!(errors[0].code, "import_ambiguous_user");
            assert_eq!(errors[0].params["value"], "韩梅梅");
            assert!(
                ["负责人", "Owner"].contains(&errors[0].column.as_str()),
                "{errors:?}"
            );
            let to_names = user_names(&to).await;
            assert_eq!(
                records(&admin, "accounts", &to_names).await,
                want_accounts,
                "{b:?}: accounts from the export of a {} reader",
                actor.locale
            );
            assert_eq!(
                with_account_names(&admin, records(&admin, "contacts", &to_names).await).await,
                want_contacts,
                "{b:?}: contacts"
            );
        }
    }
}

#[tokio::test]
async fn an_export_for_re_import_imports_back_unchanged() {
    for b in backends() {
        let from = spawn(b).await;
        let (wang, _) = source_company(&from).await;
        let names = user_names(&from).await;
        let accounts = export(&wang, "accounts", "codes").await;
        let contacts = export(&wang, "contacts", "codes").await;
        let actor = actor_of(&from, &wang).await;
        let before_accounts = records(&wang, "accounts", &names).await;
        let before_contacts = records(&wang, "contacts", &names).await;
        // Over its own records, whatever the policy: each row matches its record and changes
        // nothing.
        for policy in [Policy::Overwrite, Policy::Fill] {
            let (r, errors) = import(
                &from.core,
                &actor,
                from.core.registry.by_name("account").expect("accounts"),
                &accounts,
                policy,
            )
            .await;
            assert!(errors.is_empty(), "{b:?}: {errors:?}");
            assert_eq!(
                (r.counts.created, r.counts.updated),
                (0, 0),
                "{b:?}: {policy:?}"
            );
            let (r, errors) = import(
                &from.core,
                &actor,
                from.core.registry.by_name("contact").expect("contacts"),
                &contacts,
                policy,
            )
            .await;
            assert!(errors.is_empty(), "{b:?}: {errors:?}");
            assert_eq!(
                (r.counts.created, r.counts.updated),
                (0, 0),
                "{b:?}: {policy:?}"
            );
        }
        assert_eq!(records(&wang, "accounts", &names).await, before_accounts);
        assert_eq!(records(&wang, "contacts", &names).await, before_contacts);
    }
}
