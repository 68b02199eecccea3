//! `contains` and `starts_with` on names read only the records whose search documents hold the
//! pieces of what was typed, and answer exactly what reading every row answers: the expected
//! records are worked out here from the stored names, on both backends.

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::authz::Actor;
use guanxi_core::db;
use guanxi_core::records::{Count, Filter, ListQuery};
use guanxi_core::{Core, EntityDef};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

const CONTACT_NAMES: [(&str, &str); 9] = [
    ("张", "伟"),
    ("王", "芳"),
    ("王", "芳芳"),
    ("欧阳", "娜娜"),
    ("Smith", "John"),
    ("O'Neil-Smith", "Mary"),
    ("李", "小100%"),
    ("Under_score", "Al"),
    ("", "Madonna"),
];

const ACCOUNT_NAMES: [&str; 5] = [
    "北京中太数据科技有限公司",
    "上海中太物流有限公司",
    "Acme 100% Widgets",
    "a_b c",
    "SMITH & SONS",
];

const TYPED: [&str; 22] = [
    "张伟",
    "王芳",
    "王",
    "欧阳娜",
    "阳娜娜",
    "smith",
    "SMITH",
    "neil-s",
    "100%",
    "0%",
    "_sc",
    "e_s",
    "中太",
    "有限公司",
    "中太物流有",
    "不存在",
    " 王芳 ",
    "j",
    "John Smith",
    "n S",
    "a_b",
    "%",
];

async fn list(core: &Core, actor: &Actor, def: &'static EntityDef, filter: Value) -> Vec<String> {
    let page = core
        .records(def)
        .list(
            actor,
            &ListQuery {
                filter: Some(Filter::from_json(&filter).unwrap()),
                limit: 100,
                count: Count::Exact,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut names: Vec<String> = page
        .items
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        page.total.map(|t| t.count),
        Some(names.len() as u64),
        "{filter}"
    );
    names.sort();
    names
}

fn expected(names: &[String], typed: &str, prefix: bool) -> Vec<String> {
    let t = typed.trim().to_lowercase();
    let mut want: Vec<String> = names
        .iter()
        .filter(|n| {
            let n = n.to_lowercase();
            if prefix {
                n.starts_with(&t)
            } else {
                n.contains(&t)
            }
        })
        .cloned()
        .collect();
    want.sort();
    want
}

#[tokio::test]
async fn names_found_by_their_pieces_are_exactly_the_names_that_contain_the_text() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "boss@example.com").await;

        let mut contact_names = Vec::new();
        let mut contact_ids = Vec::new();
        for (family, given) in CONTACT_NAMES {
            let rec = core
                .records(&CONTACTS)
                .create(&actor, &json!({"family_name": family, "given_name": given}))
                .await
                .unwrap();
            contact_names.push(rec["name"].as_str().unwrap().to_string());
            contact_ids.push(Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap());
        }
        // The whole name reads as people write it.
        assert_eq!(contact_names[0], "张伟");
        assert_eq!(contact_names[3], "欧阳娜娜");
        assert_eq!(contact_names[4], "John Smith");
        assert_eq!(contact_names[8], "Madonna");
        let mut account_names = Vec::new();
        for name in ACCOUNT_NAMES {
            core.records(&ACCOUNTS)
                .create(&actor, &json!({"kind": "company", "name": name}))
                .await
                .unwrap();
            account_names.push(name.to_string());
        }

        for typed in TYPED {
            for (op, prefix) in [("contains", false), ("starts_with", true)] {
                let f = json!({"field": "name", "op": op, "value": typed});
                assert_eq!(
                    list(&core, &actor, &CONTACTS, f.clone()).await,
                    expected(&contact_names, typed, prefix),
                    "{backend:?} contacts {op} {typed:?}"
                );
                assert_eq!(
                    list(&core, &actor, &ACCOUNTS, f).await,
                    expected(&account_names, typed, prefix),
                    "{backend:?} accounts {op} {typed:?}"
                );
            }
            // Inside `not` and `or` the narrowed condition means what it meant.
            let not = json!({"not": {"field": "name", "op": "contains", "value": typed}});
            let mut rest: Vec<String> = contact_names
                .iter()
                .filter(|n| !expected(&contact_names, typed, false).contains(n))
                .cloned()
                .collect();
            rest.sort();
            assert_eq!(list(&core, &actor, &CONTACTS, not).await, rest, "{typed:?}");
        }

        // A renamed contact is found by its new name only.
        let renamed = contact_ids[1];
        let current = core.records(&CONTACTS).get(&actor, renamed).await.unwrap();
        core.records(&CONTACTS)
            .update(
                &actor,
                renamed,
                current["version"].as_i64(),
                &json!({"given_name": "丽丽"}),
            )
            .await
            .unwrap();
        let f = |v: &str| json!({"field": "name", "op": "contains", "value": v});
        assert_eq!(
            list(&core, &actor, &CONTACTS, f("王丽")).await,
            vec!["王丽丽"]
        );
        assert_eq!(
            list(&core, &actor, &CONTACTS, f("王芳")).await,
            vec!["王芳芳"]
        );

        // The pieces are what a two-character text is looked up by: a record whose document
        // lost them is not found by one, while a one-character text (which reads every row)
        // still finds it. So this test fails if the lists stop using the pieces.
        let sql = match backend {
            db::Backend::Sqlite => "DELETE FROM search_entries WHERE record_id = ?",
            db::Backend::Postgres => "DELETE FROM search_entries WHERE record_id = $1",
        };
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, sql, vec![contact_ids[0].into()])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert!(list(&core, &actor, &CONTACTS, f("张伟")).await.is_empty());
        assert_eq!(list(&core, &actor, &CONTACTS, f("张")).await, vec!["张伟"]);

        fresh.cleanup(core).await;
    }
}

/// A name typed in pinyin finds the Chinese names that read so (`records::pinyin_match`), where
/// its syllables start words, with the readings places are known by, on both backends, in
/// newest-first pages (the order that reads by pieces on SQLite) and counted.
#[tokio::test]
async fn names_typed_in_pinyin_find_the_chinese_names() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "pinyin@example.com").await;
        let mut account_ids = Vec::new();
        for name in [
            "北京中太数据科技有限公司",
            "上海中太物流有限公司",
            "长沙银行",
            "重庆长安汽车股份有限公司",
            "Zhongtai Trading",
            "Smith & Sons",
        ] {
            let rec = core
                .records(&ACCOUNTS)
                .create(
                    &actor,
                    &json!({"kind": "company", "name": name, "allow_duplicate": true}),
                )
                .await
                .unwrap();
            account_ids.push(Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap());
        }
        for (family, given) in [("张", "三"), ("章", "三"), ("张", "伟"), ("欧阳", "娜娜")]
        {
            core.records(&CONTACTS)
                .create(&actor, &json!({"family_name": family, "given_name": given}))
                .await
                .unwrap();
        }
        let accounts = |op: &'static str, v: &'static str| {
            let core = &core;
            let actor = &actor;
            async move {
                let f = json!({"field": "name", "op": op, "value": v});
                list(core, actor, &ACCOUNTS, f).await
            }
        };
        let both_zhongtai = vec![
            "Zhongtai Trading".to_string(),
            "上海中太物流有限公司".into(),
            "北京中太数据科技有限公司".into(),
        ];
        assert_eq!(
            accounts("contains", "zhongtai").await,
            both_zhongtai,
            "{backend:?}"
        );
        // Syllables apart, in capitals, the last one unfinished.
        assert_eq!(
            accounts("contains", "Zhong Tai").await,
            vec!["上海中太物流有限公司", "北京中太数据科技有限公司"],
            "{backend:?}"
        );
        assert_eq!(
            accounts("contains", "zhongt").await,
            both_zhongtai,
            "{backend:?}"
        );
        assert_eq!(
            accounts("starts_with", "beijing").await,
            vec!["北京中太数据科技有限公司"],
            "{backend:?}"
        );
        assert_eq!(
            accounts("starts_with", "zhongtaishu").await,
            Vec::<String>::new(),
            "{backend:?}"
        );
        // Syllables start words: `ai-zhong` is not inside `shang-hai-zhong`.
        assert!(
            accounts("contains", "aizhong").await.is_empty(),
            "{backend:?}"
        );
        assert_eq!(
            accounts("contains", "haizhong").await,
            vec!["上海中太物流有限公司"],
            "{backend:?}"
        );
        // Places as they read: 长沙 cháng, 银行 háng, 重庆 chóng.
        assert_eq!(
            accounts("contains", "changsha").await,
            vec!["长沙银行"],
            "{backend:?}"
        );
        assert_eq!(
            accounts("contains", "yinhang").await,
            vec!["长沙银行"],
            "{backend:?}"
        );
        assert_eq!(
            accounts("contains", "chongqingchangan").await,
            vec!["重庆长安汽车股份有限公司"],
            "{backend:?}"
        );
        // Latin text that is not pinyin matches as typed only.
        assert_eq!(
            accounts("contains", "smith").await,
            vec!["Smith & Sons"],
            "{backend:?}"
        );

        let contacts = |v: &'static str| {
            let core = &core;
            let actor = &actor;
            async move {
                let f = json!({"field": "name", "op": "contains", "value": v});
                list(core, actor, &CONTACTS, f).await
            }
        };
        assert_eq!(
            contacts("zhangsan").await,
            vec!["张三", "章三"],
            "{backend:?}"
        );
        assert_eq!(contacts("ouyang").await, vec!["欧阳娜娜"], "{backend:?}");
        assert_eq!(
            contacts("zhang").await,
            vec!["张三", "张伟", "章三"],
            "{backend:?}"
        );

        // Newest first, a page at a time, as the list shows them.
        let f = json!({"field": "name", "op": "contains", "value": "zhongtai"});
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = core
                .records(&ACCOUNTS)
                .list(
                    &actor,
                    &ListQuery {
                        filter: Some(Filter::from_json(&f).unwrap()),
                        sort: Some("-created_at".into()),
                        cursor: cursor.take(),
                        limit: 1,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            seen.extend(
                page.items
                    .iter()
                    .map(|r| r["name"].as_str().unwrap().to_string()),
            );
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            seen,
            vec![
                "Zhongtai Trading",
                "上海中太物流有限公司",
                "北京中太数据科技有限公司"
            ],
            "{backend:?}"
        );

        // The whole syllables are looked up in the search documents: a record whose document
        // lost them is not found by its pinyin, so this fails if the lookup stops narrowing.
        let sql = match backend {
            db::Backend::Sqlite => "DELETE FROM search_entries WHERE record_id = ?",
            db::Backend::Postgres => "DELETE FROM search_entries WHERE record_id = $1",
        };
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, sql, vec![account_ids[0].into()])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            accounts("contains", "zhongtai").await,
            vec!["Zhongtai Trading", "上海中太物流有限公司"],
            "{backend:?}"
        );
        fresh.cleanup(core).await;
    }
}

/// Every page of `filter` in `sort`, followed by its cursor: the records' ids in order.
async fn all_pages(
    core: &Core,
    actor: &Actor,
    filter: Option<Value>,
    sort: &str,
    limit: u64,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = core
            .records(&CONTACTS)
            .list(
                actor,
                &ListQuery {
                    filter: filter.as_ref().map(|f| Filter::from_json(f).unwrap()),
                    sort: Some(sort.into()),
                    cursor: cursor.take(),
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.extend(
            page.items
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return ids,
        }
    }
}

/// A page in creation order narrowed by a name's pieces reads only the first records holding
/// them on SQLite (`search::order`); it must list exactly what the plain order lists, page
/// after page, newest and oldest first, with records created in the same millisecond, entries
/// in no order, a deleted record and the recycle bin.
#[tokio::test]
async fn pages_in_creation_order_are_exact_however_they_are_read() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "boss@example.com").await;
        let mut ids = Vec::new();
        let mut names = std::collections::HashMap::new();
        for i in 0..170 {
            // Most hold 王芳; every fifth does not.
            let given = if i % 5 == 4 {
                format!("丽{i}")
            } else {
                format!("芳{i}")
            };
            let rec = core
                .records(&CONTACTS)
                .create(&actor, &json!({"family_name": "王", "given_name": given}))
                .await
                .unwrap();
            ids.push(rec["id"].as_str().unwrap().to_string());
            names.insert(ids[i].clone(), rec["name"].as_str().unwrap().to_string());
        }
        if backend == db::Backend::Sqlite {
            // Three entries without an order (as before 1970, or a full millisecond).
            let txn = core.db.begin().await.unwrap();
            for (n, id) in ids.iter().take(3).enumerate() {
                db::raw_execute(
                    &txn,
                    "UPDATE search_entries SET rowid = ? WHERE record_id = ?",
                    vec![(-1 - n as i64).into(), Uuid::parse_str(id).unwrap().into()],
                )
                .await
                .unwrap();
            }
            db::raw_execute(
                &txn,
                "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
                vec![],
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        }
        let gone = Uuid::parse_str(&ids[10]).unwrap();
        core.records(&CONTACTS)
            .delete(&actor, gone, None)
            .await
            .unwrap();

        let name = |v: &str| json!({"field": "name", "op": "contains", "value": v});
        for sort in ["-created_at", "created_at"] {
            let every = all_pages(&core, &actor, None, sort, 500).await;
            assert_eq!(every.len(), 169);
            let holding: std::collections::HashSet<String> =
                all_pages(&core, &actor, Some(name("芳")), sort, 500)
                    .await
                    .into_iter()
                    .collect();
            let want: Vec<String> = every
                .iter()
                .filter(|id| holding.contains(*id))
                .cloned()
                .collect();
            assert_eq!(want.len(), 135, "{backend:?} {sort}");
            let tens: Vec<String> = every
                .iter()
                .filter(|id| names[*id].contains("王芳10"))
                .cloned()
                .collect();
            assert_eq!(tens.len(), 8, "{backend:?} {sort}");
            // 王芳 is one piece. 王芳10 is several, whose holders a page first reads forwards:
            // fewer than it asked for (pages of 7 and 50), or as many, and it reads them again
            // in order (a page of 1).
            for (text, holders) in [("王芳", &want), ("王芳10", &tens)] {
                for limit in [1, 7, 50] {
                    assert_eq!(
                        &all_pages(&core, &actor, Some(name(text)), sort, limit).await,
                        holders,
                        "{backend:?} {sort} {text} by {limit}"
                    );
                }
            }
            // Beside another condition, the same records.
            let both =
                json!({"and": [name("王芳"), {"field": "name", "op": "contains", "value": "1"}]});
            let ones: Vec<String> = all_pages(&core, &actor, Some(both), sort, 10).await;
            let mut want_ones: Vec<String> = Vec::new();
            for id in &want {
                let rec = core
                    .records(&CONTACTS)
                    .get(&actor, Uuid::parse_str(id).unwrap())
                    .await
                    .unwrap();
                if rec["name"].as_str().unwrap().contains('1') {
                    want_ones.push(id.clone());
                }
            }
            assert_eq!(ones, want_ones, "{backend:?} {sort}");
        }
        // The recycle bin is found by its names too.
        let bin = core
            .records(&CONTACTS)
            .list(
                &actor,
                &ListQuery {
                    filter: Some(Filter::from_json(&name("王芳")).unwrap()),
                    limit: 50,
                    deleted: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(bin.items.len(), 1, "{backend:?}");
        assert_eq!(bin.items[0]["id"], json!(gone.to_string()));
        fresh.cleanup(core).await;
    }
}

/// A sales rep's pages narrowed by a name read the holders' owners from a narrow copy of the
/// search entries on SQLite (`search_keys`, kept by triggers); they must list exactly the
/// records of the rep's team that the plain order lists, after records change owners, leave
/// for the recycle bin, come back and are purged, and the copy must match the entries.
#[tokio::test]
async fn a_reps_pages_by_a_name_are_exactly_the_teams_records() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [_, mate, other] = two_teams(&core, &boss).await;
        let me = actor(&core, "rep@example.com").await;
        let svc = core.records(&CONTACTS);
        let owners = [me.user_id, mate, other, boss.user_id];
        let mut ids = Vec::new();
        for i in 0..120 {
            let given = if i % 5 == 4 {
                format!("丽{i}")
            } else {
                format!("芳{i}")
            };
            let rec = svc
                .create(&boss, &json!({"family_name": "王", "given_name": given}))
                .await
                .unwrap();
            let id = Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap();
            svc.change_owner(&boss, &[id], owners[i % owners.len()])
                .await
                .unwrap();
            ids.push(id);
        }
        // Some of the rep's leave the team, some of another team's join it; one of the team's
        // goes to the recycle bin, one comes back from it, one is purged.
        svc.change_owner(&boss, &[ids[0], ids[8]], other)
            .await
            .unwrap();
        svc.change_owner(&boss, &[ids[2], ids[6]], mate)
            .await
            .unwrap();
        for id in [ids[1], ids[5], ids[9]] {
            svc.delete(&boss, id, None).await.unwrap();
        }
        svc.restore(&boss, ids[5]).await.unwrap();
        svc.purge(&boss, ids[9]).await.unwrap();

        let name = |v: &str| json!({"field": "name", "op": "contains", "value": v});
        for sort in ["-created_at", "created_at"] {
            let every = all_pages(&core, &me, None, sort, 500).await;
            // A quarter each to the rep and the mate; two leave, two join, one is in the
            // recycle bin and one purged.
            assert_eq!(every.len(), 60 - 2 + 2 - 1 - 1, "{backend:?} {sort}");
            let mut names = std::collections::HashMap::new();
            for id in &every {
                let rec = svc.get(&me, Uuid::parse_str(id).unwrap()).await.unwrap();
                names.insert(id.clone(), rec["name"].as_str().unwrap().to_string());
            }
            for text in ["王芳", "王芳1"] {
                let want: Vec<String> = every
                    .iter()
                    .filter(|id| names[*id].contains(text))
                    .cloned()
                    .collect();
                assert!(want.len() > 7, "{backend:?} {text}: {}", want.len());
                for limit in [1, 7, 50] {
                    assert_eq!(
                        all_pages(&core, &me, Some(name(text)), sort, limit).await,
                        want,
                        "{backend:?} {sort} {text} by {limit}"
                    );
                }
            }
        }
        if backend == db::Backend::Sqlite {
            let rows = db::raw_query(
                core.db.reader(),
                "SELECT (SELECT COUNT(*) FROM search_entries) AS entries, \
                 (SELECT COUNT(*) FROM search_keys) AS copies, \
                 (SELECT COUNT(*) FROM search_entries e JOIN search_keys k ON k.rowid = e.rowid \
                  AND k.owner_id = e.owner_id AND k.record_id = e.record_id) AS same",
                vec![],
            )
            .await
            .unwrap();
            let n = |c: &str| db::get_i64(&rows[0], c).unwrap();
            assert!(n("entries") >= 118, "{}", n("entries"));
            assert_eq!(n("copies"), n("entries"));
            assert_eq!(n("same"), n("entries"));
        }
        fresh.cleanup(core).await;
    }
}
