//! The duplicate check (查重) on both backends: what it finds, what a save refuses, what a rep
//! learns of another team's customer, and what administrators may change.

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::db::migrations::Migrator;
use guanxi_core::db::{self, Backend, col};
use guanxi_core::dedupe::{self, Action, Match, Rule, check::MAX_MATCHES, rules};
use guanxi_core::records::{JsonMap, Record};
use guanxi_core::{Actor, Core, CoreError, EntityDef, codes};
use sea_orm::sea_query::Query;
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

fn map(v: Value) -> JsonMap {
    v.as_object().cloned().unwrap_or_default()
}

fn id_of(rec: &Record) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap()
}

async fn create(core: &Core, who: &Actor, def: &'static EntityDef, v: Value) -> Record {
    core.records(def).create(who, &v).await.unwrap()
}

async fn find(core: &Core, who: &Actor, def: &'static EntityDef, v: Value) -> Vec<Match> {
    dedupe::find(core, who, def, &map(v), None).await.unwrap()
}

/// The refusal's params, when a save is refused as a duplicate.
fn duplicate(r: Result<Record, CoreError>) -> serde_json::Map<String, Value> {
    match r {
        Err(CoreError::Conflict { code, params, .. }) if code == codes::DUPLICATE => params
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[tokio::test]
async fn a_company_written_another_way_is_found_and_warned_about() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let first = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "中太数据科技（北京）有限公司", "phones": [{"number": "010 6234 5678"}]}),
        )
        .await;
        let found = find(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"name": "北京中太数据科技有限公司"}),
        )
        .await;
        assert_eq!(found.len(), 1, "{backend:?}: {found:?}");
        let m = &found[0];
        assert_eq!(m.rule, Rule::Name);
        assert_eq!(m.rules, [Rule::Name, Rule::NamePinyin]);
        assert_eq!(m.action, Action::Warn);
        assert!(m.readable);
        assert_eq!(m.record_id, Some(id_of(&first)));
        assert_eq!(m.title.as_deref(), Some("中太数据科技（北京）有限公司"));
        assert_eq!(m.owner_name, "Test Admin");
        let fields = m.fields.as_ref().unwrap();
        assert_eq!(fields["name"], first["name"]);
        assert_eq!(fields["phones"], first["phones"]);
        // A homophone meets by the pinyin only; a phone typed another way by the phone.
        let found = find(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"name": "中泰数据科技有限公司"}),
        )
        .await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rules, [Rule::NamePinyin]);
        let found = find(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"phones": [{"number": "+86 10 6234 5678"}]}),
        )
        .await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::Phone);
        // Nothing that does not validate gives a key; nothing else matches.
        assert!(
            find(
                &core,
                &boss,
                &ACCOUNTS,
                json!({"name": "中泰物流", "phones": [{"number": "12"}], "tax_id": 5})
            )
            .await
            .is_empty()
        );

        // Saving the second spelling is refused until the user says it is another company.
        let second = json!({"kind": "company", "name": "北京中太数据科技有限公司"});
        let params = duplicate(core.records(&ACCOUNTS).create(&boss, &second).await);
        assert_eq!(params["rule"], "name");
        assert_eq!(params["action"], "warn");
        assert_eq!(params["entity"], "account");
        assert_eq!(params["owner"], "Test Admin");
        assert_eq!(params["record_id"], json!(id_of(&first).to_string()));
        assert_eq!(params["matches"].as_array().map(Vec::len), Some(1));
        let mut allowed = second.clone();
        allowed["allow_duplicate"] = json!(true);
        let made = create(&core, &boss, &ACCOUNTS, allowed).await;
        assert!(made.get("allow_duplicate").is_none());
        // `allow_duplicate` is no field: never an unknown one, but it must be true or false.
        let r = core
            .records(&ACCOUNTS)
            .create(
                &boss,
                &json!({"kind": "company", "name": "别的公司", "allow_duplicate": "yes"}),
            )
            .await;
        match r {
            Err(CoreError::Validation(f)) => {
                assert_eq!(f["allow_duplicate"].code, codes::NOT_A_BOOLEAN)
            }
            other => panic!("{other:?}"),
        }
        // Both are found now, oldest first.
        let found = find(&core, &boss, &ACCOUNTS, json!({"name": "中太数据科技"})).await;
        let ids: Vec<Option<Uuid>> = found.iter().map(|m| m.record_id).collect();
        assert_eq!(ids, [Some(id_of(&first)), Some(id_of(&made))]);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn the_same_tax_id_blocks_even_when_duplicates_are_allowed() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "福州甲公司", "tax_id": "91350100M000100Y43"}),
        )
        .await;
        for allow in [false, true] {
            let r = core
                .records(&ACCOUNTS)
                .create(
                    &boss,
                    &json!({"kind": "company", "name": "完全不同的名字", "tax_id": "91350100m000100y43", "allow_duplicate": allow}),
                )
                .await;
            let params = duplicate(r);
            assert_eq!(params["rule"], "tax_id", "{backend:?}");
            assert_eq!(params["action"], "block");
        }
        // An update that gives another account the tax id is refused too.
        let other = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "乙公司"}),
        )
        .await;
        let r = core
            .records(&ACCOUNTS)
            .update(
                &boss,
                id_of(&other),
                None,
                &json!({"tax_id": "91350100M000100Y43", "allow_duplicate": true}),
            )
            .await;
        assert_eq!(duplicate(r)["rule"], "tax_id");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_contact_with_the_same_phone_is_saved_only_when_allowed() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let first = create(
            &core,
            &boss,
            &CONTACTS,
            json!({"family_name": "张", "given_name": "三", "phones": [{"number": "138 1234 5678"}]}),
        )
        .await;
        let twin = json!({"family_name": "李", "given_name": "四", "phones": [{"number": "+86 138-1234-5678"}]});
        let params = duplicate(core.records(&CONTACTS).create(&boss, &twin).await);
        assert_eq!(params["rule"], "phone", "{backend:?}");
        assert_eq!(params["action"], "warn");
        assert_eq!(params["entity"], "contact");
        let mut allowed = twin.clone();
        allowed["allow_duplicate"] = json!(true);
        create(&core, &boss, &CONTACTS, allowed).await;
        // The same person written the other way round is found by name.
        let found = find(
            &core,
            &boss,
            &CONTACTS,
            json!({"family_name": "", "given_name": "张三"}),
        )
        .await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::PersonName);
        assert_eq!(found[0].record_id, Some(id_of(&first)));
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn another_teams_customer_is_reported_by_its_owner_only() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let rep = actor(&core, "rep@example.com").await;
        let mate = actor(&core, "mate@example.com").await;
        let other = actor(&core, "other@example.com").await;
        let secret = "深圳秘密客户科技有限公司";
        create(
            &core,
            &rep,
            &ACCOUNTS,
            json!({"kind": "company", "name": secret, "phones": [{"number": "0755 8888 6666"}], "description": "机密"}),
        )
        .await;
        let probe = json!({"name": "秘密客户科技（深圳）有限公司"});
        // A teammate reads it.
        let found = find(&core, &mate, &ACCOUNTS, probe.clone()).await;
        assert!(found[0].readable, "{backend:?}");
        assert_eq!(found[0].title.as_deref(), Some(secret));
        // Another team learns who owns it, and nothing else.
        let found = find(&core, &other, &ACCOUNTS, probe.clone()).await;
        assert_eq!(found.len(), 1);
        let m = &found[0];
        assert!(!m.readable);
        assert_eq!(m.owner_name, "rep@example.com");
        assert_eq!((m.record_id, &m.title, &m.fields), (None, &None, &None));
        let shown = serde_json::to_string(&found).unwrap();
        assert!(
            !shown.contains("秘密") && !shown.contains("机密"),
            "{shown}"
        );
        // Their save is refused the same way: the owner is named, the record is not.
        let mut input = probe.clone();
        input["kind"] = json!("company");
        let params = duplicate(core.records(&ACCOUNTS).create(&other, &input).await);
        assert_eq!(params["owner"], "rep@example.com");
        assert!(params.get("record_id").is_none());
        let shown = serde_json::to_string(&params).unwrap();
        assert!(
            !shown.contains("秘密") && !shown.contains("机密"),
            "{shown}"
        );
        let m = &params["matches"][0];
        assert_eq!(m["readable"], false);
        assert_eq!(m["record_id"], Value::Null);
        assert_eq!(m["title"], Value::Null);
        assert_eq!(m["fields"], Value::Null);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn records_in_the_recycle_bin_do_not_count() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let gone = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "杭州旧客户有限公司", "phones": [{"number": "0571 8888 6666"}], "tax_id": "91110000100000000R"}),
        )
        .await;
        let svc = core.records(&ACCOUNTS);
        let probe = json!({"name": "旧客户", "phones": [{"number": "0571 8888 6666"}], "tax_id": "91110000100000000R"});
        assert_eq!(find(&core, &boss, &ACCOUNTS, probe.clone()).await.len(), 1);
        svc.delete(&boss, id_of(&gone), None).await.unwrap();
        assert!(
            find(&core, &boss, &ACCOUNTS, probe.clone())
                .await
                .is_empty(),
            "{backend:?}"
        );
        // Restored, it counts again, by every rule.
        svc.restore(&boss, id_of(&gone)).await.unwrap();
        let found = find(&core, &boss, &ACCOUNTS, probe.clone()).await;
        assert_eq!(
            found[0].rules,
            [Rule::TaxId, Rule::Phone, Rule::Name, Rule::NamePinyin]
        );
        // Purged, its keys are gone.
        svc.delete(&boss, id_of(&gone), None).await.unwrap();
        svc.purge(&boss, id_of(&gone)).await.unwrap();
        assert!(
            find(&core, &boss, &ACCOUNTS, probe.clone())
                .await
                .is_empty()
        );
        let mut input = probe.clone();
        input["kind"] = json!("company");
        create(&core, &boss, &ACCOUNTS, input).await;
        assert_eq!(keys_of(&core, id_of(&gone)).await, 0);
        fresh.cleanup(core).await;
    }
}

async fn keys_of(core: &Core, id: Uuid) -> usize {
    let mut q = Query::select();
    q.column(col("key"))
        .from(col("dedupe_keys"))
        .and_where(sea_orm::sea_query::Expr::col(col("record_id")).eq(id));
    db::fetch_all(core.db.reader(), &q).await.unwrap().len()
}

#[tokio::test]
async fn an_edit_does_not_match_the_record_itself() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let svc = core.records(&ACCOUNTS);
        let a = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "上海甲乙丙贸易有限公司", "tax_id": "91310000MA1FL0000N"}),
        )
        .await;
        // Renamed to another spelling of itself, with its own tax id: no duplicate.
        let renamed = svc
            .update(
                &boss,
                id_of(&a),
                None,
                &json!({"name": "甲乙丙贸易（上海）有限公司", "rating": "hot", "tax_id": "91310000MA1FL0000N"}),
            )
            .await
            .unwrap();
        assert_eq!(renamed["name"], "甲乙丙贸易（上海）有限公司", "{backend:?}");
        let found = dedupe::find(
            &core,
            &boss,
            &ACCOUNTS,
            &map(json!({"name": "甲乙丙贸易"})),
            Some(id_of(&a)),
        )
        .await
        .unwrap();
        assert!(found.is_empty());
        // A twin kept on purpose is edited without saying so again; a new key is checked.
        let b = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "甲乙丙贸易", "allow_duplicate": true}),
        )
        .await;
        svc.update(&boss, id_of(&b), None, &json!({"rating": "cold"}))
            .await
            .unwrap();
        let c = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "丁戊己物流"}),
        )
        .await;
        let r = svc
            .update(&boss, id_of(&c), None, &json!({"name": "甲乙丙贸易集团"}))
            .await;
        assert_eq!(duplicate(r)["rule"], "name");
        svc.update(
            &boss,
            id_of(&c),
            None,
            &json!({"name": "甲乙丙贸易集团", "allow_duplicate": true}),
        )
        .await
        .unwrap();
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn administrators_choose_what_a_rule_does() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let rep = actor(&core, "rep@example.com").await;
        let listed = rules::list(&core.db, &ACCOUNTS).await.unwrap();
        let listed: Vec<(Rule, Action)> = listed.iter().map(|s| (s.rule, s.action)).collect();
        assert_eq!(
            listed,
            [
                (Rule::TaxId, Action::Block),
                (Rule::Domain, Action::Warn),
                (Rule::Phone, Action::Warn),
                (Rule::Email, Action::Warn),
                (Rule::Name, Action::Warn),
                (Rule::NamePinyin, Action::Warn),
                (Rule::ExternalId, Action::Block),
            ],
            "{backend:?}"
        );
        // A sales rep may not change them.
        match rules::set(&core.db, &rep, &ACCOUNTS, Rule::Name, Action::Block).await {
            Err(CoreError::Forbidden { code, .. }) => assert_eq!(code, codes::ADMIN_ONLY),
            other => panic!("{other:?}"),
        }
        // A rule the entity does not declare is no setting.
        match rules::set(&core.db, &boss, &CONTACTS, Rule::TaxId, Action::Warn).await {
            Err(CoreError::Validation(f)) => assert_eq!(f["rule"].code, codes::NOT_ONE_OF),
            other => panic!("{other:?}"),
        }
        create(
            &core,
            &rep,
            &ACCOUNTS,
            json!({"kind": "company", "name": "南京同名实业有限公司"}),
        )
        .await;
        let set = rules::set(&core.db, &boss, &ACCOUNTS, Rule::Name, Action::Block)
            .await
            .unwrap();
        assert_eq!(
            (set.action, set.default_action),
            (Action::Block, Action::Warn)
        );
        assert_eq!(set.fields, ["name"]);
        let listed = rules::list(&core.db, &ACCOUNTS).await.unwrap();
        assert!(listed.contains(&set));
        // Now a name match refuses the save, allowed or not, and the check says it blocks.
        let r = core
            .records(&ACCOUNTS)
            .create(
                &rep,
                &json!({"kind": "company", "name": "同名实业（南京）有限公司", "allow_duplicate": true}),
            )
            .await;
        let params = duplicate(r);
        assert_eq!(
            (params["rule"].clone(), params["action"].clone()),
            (json!("name"), json!("block"))
        );
        let found = find(&core, &rep, &ACCOUNTS, json!({"name": "同名实业"})).await;
        assert_eq!(found[0].action, Action::Block);
        // Back to a warning, and the save goes through when allowed.
        rules::set(&core.db, &boss, &ACCOUNTS, Rule::Name, Action::Warn)
            .await
            .unwrap();
        create(
            &core,
            &rep,
            &ACCOUNTS,
            json!({"kind": "company", "name": "同名实业（南京）有限公司", "allow_duplicate": true}),
        )
        .await;
        // Other entities keep their own settings.
        let contacts = rules::list(&core.db, &CONTACTS).await.unwrap();
        assert!(
            contacts
                .iter()
                .all(|s| s.action == Action::Warn || s.rule == Rule::ExternalId)
        );
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn matches_are_bounded() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        for i in 0..MAX_MATCHES + 5 {
            create(
                &core,
                &boss,
                &CONTACTS,
                json!({"family_name": "总机", "given_name": format!("{i}"), "phones": [{"number": "400 800 8888"}], "allow_duplicate": true}),
            )
            .await;
        }
        let found = find(
            &core,
            &boss,
            &CONTACTS,
            json!({"phones": [{"number": "4008008888"}]}),
        )
        .await;
        assert_eq!(found.len(), MAX_MATCHES, "{backend:?}");
        fresh.cleanup(core).await;
    }
}

/// How many migrations come before the duplicate check.
fn before_dedupe() -> u32 {
    Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0016_dedupe")
        .expect("the dedupe migration") as u32
}

/// A row of an earlier version's table, with the record columns and the given ones.
async fn insert_row(
    conn: &sea_orm::DatabaseConnection,
    table: &str,
    values: Vec<(&str, sea_orm::sea_query::SimpleExpr)>,
) {
    let mut q = Query::insert();
    q.into_table(col(table))
        .columns(values.iter().map(|(c, _)| col(c)))
        .values_panic(values.into_iter().map(|(_, v)| v));
    db::insert(conn, &q).await.unwrap();
}

#[tokio::test]
async fn the_migration_gives_live_records_their_keys() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", fresh.url),
            Backend::Postgres => fresh.url.clone(),
        };
        let conn = sea_orm::Database::connect(url).await.unwrap();
        Migrator::up(&conn, Some(before_dedupe())).await.unwrap();
        let now = guanxi_core::now();
        let boss = Uuid::now_v7();
        insert_row(
            &conn,
            "users",
            vec![
                ("id", boss.into()),
                ("email", "boss@example.com".into()),
                ("name", "Boss".into()),
                ("role", "admin".into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
        let mut ids = Vec::new();
        for (table, deleted, fields) in [
            (
                "accounts",
                false,
                vec![
                    ("kind", "company".into()),
                    ("name", "中太数据科技（北京）有限公司".into()),
                    ("tax_id", "91350100M000100Y43".into()),
                ],
            ),
            (
                "accounts",
                true,
                vec![
                    ("kind", "company".into()),
                    ("name", "已删除科技有限公司".into()),
                ],
            ),
            (
                "contacts",
                false,
                vec![("family_name", "王".into()), ("given_name", "芳".into())],
            ),
        ] {
            let id = Uuid::now_v7();
            let mut values: Vec<(&str, sea_orm::sea_query::SimpleExpr)> = vec![
                ("id", id.into()),
                ("owner_id", boss.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ];
            if deleted {
                values.push(("deleted_at", now.into()));
            }
            values.extend(fields);
            insert_row(&conn, table, values).await;
            ids.push(id);
        }
        Migrator::up(&conn, None).await.unwrap();
        conn.close().await.unwrap();

        let core = fresh.core().await;
        let admin = admin(&core, "boss@example.com").await;
        let found = find(
            &core,
            &admin,
            &ACCOUNTS,
            json!({"name": "北京中太数据科技有限公司", "tax_id": "91350100M000100Y43"}),
        )
        .await;
        assert_eq!(found.len(), 1, "{backend:?}: {found:?}");
        assert_eq!(found[0].rules, [Rule::TaxId, Rule::Name, Rule::NamePinyin]);
        assert_eq!(found[0].owner_name, "Boss");
        assert_eq!(keys_of(&core, ids[1]).await, 0, "a deleted record has none");
        let found = find(&core, &admin, &CONTACTS, json!({"given_name": "王芳"})).await;
        assert_eq!(found[0].record_id, Some(ids[2]));
        fresh.cleanup(core).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saves_racing_with_one_tax_id_save_it_once() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        for (round, tax_id) in TAX_IDS.iter().take(5).enumerate() {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..4 {
                let (core, boss) = (core.clone(), boss.clone());
                set.spawn(async move {
                    let body = json!({"kind": "company", "name": format!("竞争{round}号{i}"),
                        "tax_id": tax_id, "allow_duplicate": true});
                    core.records(&ACCOUNTS).create(&boss, &body).await
                });
            }
            let mut saved = 0;
            while let Some(r) = set.join_next().await {
                match r.unwrap() {
                    Ok(_) => saved += 1,
                    Err(e) => assert_eq!(duplicate(Err(e))["rule"], "tax_id"),
                }
            }
            assert_eq!(saved, 1, "{backend:?} round {round}");
        }
        fresh.cleanup(core).await;
    }
}

/// Valid unified social credit codes, one per round.
const TAX_IDS: [&str; 5] = [
    "91350100M000100Y43",
    "91110000100000000R",
    "91310000MA1FL0000N",
    "91110108MA01ABCD2H",
    "91330100MA0000042N",
];
