//! The records API end to end: every field kind, ETags, filters, sorting, cursor pagination,
//! counts, the recycle bin, owner changes, history, saved views, CSV export and OpenAPI.

use std::collections::{BTreeSet, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Resp, TestUser, audit_rows, backends, spawn};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// Lists `path` (with a query string) and returns the ids, failing on anything but 200.
async fn list_ids(u: &TestUser, path: &str) -> Vec<String> {
    let r = u.get_r(path).await;
    assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
    r.ids()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn accounts_and_contacts_with_every_field_kind() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("East")).await;

        let admin = app.user("admin", None).await;
        let parent = sales
            .create("accounts", json!({"kind": "company", "name": "母公司集团"}))
            .await;
        let parent_id = id_of(&parent);
        let industry = list_item(&admin, "industries", "Wholesale", "批发零售").await;
        let source = list_item(&admin, "sources", "Trade show", "展会").await;
        let body = json!({
            "kind": "company",
            "name": "  上海示例贸易有限公司  ",
            "former_names": ["上海旧名贸易公司", "Old Name Trading Ltd", ""],
            "tax_id": "91350100m000100y43",
            "industry_id": industry,
            "type": "customer",
            "rating": "hot",
            "source_id": source,
            "website": "https://www.Example-Trade.com.cn/about",
            "phones": [{"number": "138 1234 5678", "label": "mobile"}, {"number": "+1 (415) 555-2671", "label": "us office"}],
            "emails": [{"address": " Sales@Example-Trade.COM.cn ", "label": "work"}],
            "billing_address": {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号", "postal_code": "200120"},
            "shipping_address": {"country": "CN", "province": "江苏省", "city": "苏州市"},
            "employees": 250,
            "annual_revenue": {"amount": "12345678.90", "currency": "cny"},
            "parent_id": parent_id,
            "description": "第一行\n第二行",
        });
        let res = sales.post("/api/v1/accounts", &body).await;
        let r = Resp::read(res).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        let acc = r.body.clone();
        let id = id_of(&acc);
        assert_eq!(
            r.header("location").as_deref(),
            Some(format!("/api/v1/accounts/{id}").as_str())
        );
        assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
        assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 7));
        assert_eq!(acc["name"], "上海示例贸易有限公司");
        assert_eq!(
            acc["former_names"],
            json!(["上海旧名贸易公司", "Old Name Trading Ltd"])
        );
        assert_eq!(acc["tax_id"], "91350100M000100Y43");
        assert_eq!(acc["type"], "customer");
        assert_eq!(acc["industry_id"], industry.as_str());
        assert_eq!(acc["source_id"], source.as_str());
        assert_eq!(acc["domain"], "example-trade.com.cn");
        assert_eq!(
            acc["phones"],
            json!([{"number": "+8613812345678", "label": "mobile"}, {"number": "+14155552671", "label": "us office"}])
        );
        assert_eq!(
            acc["emails"],
            json!([{"address": "sales@example-trade.com.cn", "label": "work"}])
        );
        assert_eq!(acc["billing_address"]["district"], "浦东新区");
        assert_eq!(acc["shipping_address"]["city"], "苏州市");
        assert_eq!(acc["shipping_address"]["street"], Value::Null);
        assert_eq!(acc["employees"], 250);
        assert_eq!(
            acc["annual_revenue"],
            json!({"amount": "12345678.90", "currency": "CNY"})
        );
        assert_eq!(acc["parent_id"], parent_id.as_str());
        assert_eq!(acc["description"], "第一行\n第二行");
        assert_eq!(acc["owner_id"], sales.id.to_string());
        assert_eq!(acc["created_by"], sales.id.to_string());
        assert_eq!(acc["version"], 1);
        assert_eq!(acc["deleted_at"], Value::Null);

        // GET returns the same record and its ETag.
        let g = sales.get_r(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(g.status, StatusCode::OK);
        assert_eq!(g.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(g.body, acc, "{b:?}: GET equals the created record");

        // PATCH is partial: untouched fields stay, nulls clear, the ETag follows the version.
        let p = sales
            .patch_if_match(
                &format!("/api/v1/accounts/{id}"),
                1,
                &json!({"rating": "warm", "employees": null, "shipping_address": null, "annual_revenue": 99.5,
                        "phones": [{"number": "021-6888 8888", "label": "总机"}], "website": ""}),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{b:?}: {}", p.text);
        assert_eq!(p.header("etag").as_deref(), Some("\"2\""));
        assert_eq!(p.body["version"], 2);
        assert_eq!(p.body["rating"], "warm");
        assert_eq!(p.body["employees"], Value::Null);
        assert_eq!(p.body["shipping_address"]["city"], Value::Null);
        assert_eq!(
            p.body["annual_revenue"],
            json!({"amount": "99.50", "currency": "CNY"})
        );
        assert_eq!(
            p.body["phones"],
            json!([{"number": "+862168888888", "label": "总机"}])
        );
        // Without a website the domain comes from the company e-mail.
        assert_eq!(p.body["domain"], "example-trade.com.cn");
        assert_eq!(p.body["name"], "上海示例贸易有限公司");
        assert_eq!(p.body["updated_by"], sales.id.to_string());
        // A PATCH that changes nothing keeps the version.
        let same = sales
            .patch_r(
                &format!("/api/v1/accounts/{id}"),
                &json!({"rating": "warm"}),
            )
            .await;
        assert_eq!(same.status, StatusCode::OK);
        assert_eq!(same.body["version"], 2);

        // A contact with its own field kinds, at the account.
        let c = sales
            .post_r(
                "/api/v1/contacts",
                &json!({
                    "family_name": "张", "given_name": "三", "salutation": "mr", "title": "采购经理",
                    "department": "采购部", "account_id": id,
                    "emails": [{"address": "Zhang.San@Example-Trade.com.cn", "label": "work"}, {"address": "zs@qq.com", "label": "personal"}],
                    "phones": [{"number": "13912345678", "label": "mobile"}],
                    "wechat_id": "zhangsan_wx", "birthday": "1985-02-28", "preferred_channel": "wechat",
                    "do_not_call": true, "do_not_email": false,
                    "address": {"province": "上海市", "city": "上海市"},
                    "description": "<b>不是HTML</b>",
                }),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{b:?}: {}", c.text);
        let cid = id_of(&c.body);
        assert_eq!(
            c.header("location").as_deref(),
            Some(format!("/api/v1/contacts/{cid}").as_str())
        );
        assert_eq!(c.body["account_id"], id.as_str());
        assert_eq!(
            c.body["emails"][0]["address"],
            "zhang.san@example-trade.com.cn"
        );
        assert_eq!(c.body["emails"][1]["label"], "personal");
        assert_eq!(c.body["phones"][0]["number"], "+8613912345678");
        assert_eq!(c.body["birthday"], "1985-02-28");
        assert_eq!(c.body["do_not_call"], true);
        assert_eq!(c.body["do_not_email"], false);
        assert_eq!(c.body["description"], "<b>不是HTML</b>");
        let cp = sales
            .patch_r(
                &format!("/api/v1/contacts/{cid}"),
                &json!({"do_not_call": false, "birthday": null, "account_id": null}),
            )
            .await;
        assert_eq!(cp.status, StatusCode::OK, "{}", cp.text);
        assert_eq!(cp.body["do_not_call"], false);
        assert_eq!(cp.body["birthday"], Value::Null);
        assert_eq!(cp.body["account_id"], Value::Null);

        // The account's contacts by filter.
        sales
            .patch_r(
                &format!("/api/v1/contacts/{cid}"),
                &json!({"account_id": id}),
            )
            .await;
        assert_eq!(
            list_ids(&sales, &format!("/api/v1/contacts?account_id={id}")).await,
            vec![cid.clone()]
        );

        // DELETE with the current ETag; then it is gone.
        let d = sales
            .send(
                sales
                    .req(Method::DELETE, &format!("/api/v1/contacts/{cid}"))
                    .header("If-Match", "\"3\""),
            )
            .await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{b:?}: {}", d.text);
        sales
            .get_r(&format!("/api/v1/contacts/{cid}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        sales
            .delete_r(&format!("/api/v1/contacts/{cid}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        // An id that is not a UUID is simply not found.
        sales
            .get_r("/api/v1/accounts/not-a-uuid")
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    }
}

/// Accounts for the filter tests, returning name → id.
async fn filter_fixture(
    admin: &TestUser,
    sales: &TestUser,
) -> std::collections::HashMap<&'static str, String> {
    let r = admin
        .post_r(
            "/api/v1/custom-fields",
            &json!({"entity": "account", "key": "tier", "label_en": "Tier", "label_zh": "等级", "kind": "single_select", "options": ["gold", "silver"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mut out = std::collections::HashMap::new();
    let software = list_item(admin, "industries", "Software", "软件").await;
    let logistics = list_item(admin, "industries", "Logistics", "物流").await;
    out.insert("软件", software.clone());
    let rows: Vec<(&'static str, &TestUser, Value)> = vec![
        (
            "北京中太数据科技有限公司",
            sales,
            json!({"type": "customer", "industry_id": software, "employees": 500,
                   "annual_revenue": {"amount": "5000000", "currency": "CNY"},
                   "billing_address": {"province": "北京市", "city": "北京市"},
                   "phones": [{"number": "010-6552 9988", "label": "work"}],
                   "emails": [{"address": "info@zhongtai.com.cn"}],
                   "former_names": ["中太软件"], "custom": {"tier": "gold"}}),
        ),
        (
            "Shanghai Harbour Logistics",
            sales,
            json!({"type": "partner", "industry_id": logistics, "employees": 80,
                   "annual_revenue": {"amount": "800000", "currency": "CNY"},
                   "billing_address": {"province": "上海市"},
                   "phones": [{"number": "13812345678"}], "custom": {"tier": "silver"}}),
        ),
        (
            "广州南方制造厂",
            admin,
            json!({"type": "prospect", "employees": 1200,
                   "billing_address": {"province": "广东省", "city": "广州市"},
                   "emails": [{"address": "buy@nanfang.cn"}], "custom": {"tier": "gold"}}),
        ),
        (
            "Acme Reseller Co",
            admin,
            json!({"type": "reseller", "industry_id": software, "rating": "cold"}),
        ),
    ];
    for (name, who, extra) in rows {
        let mut body = extra;
        body["name"] = json!(name);
        body["kind"] = json!("company");
        out.insert(name, id_of(&who.create("accounts", body).await));
    }
    out
}

#[tokio::test]
async fn list_filters_by_params_json_custom_fields_addresses_and_points() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("East")).await;
        let ids = filter_fixture(&admin, &sales).await;
        let zt = &ids["北京中太数据科技有限公司"];
        let sh = &ids["Shanghai Harbour Logistics"];
        let gz = &ids["广州南方制造厂"];
        let acme = &ids["Acme Reseller Co"];
        let soft = &ids["软件"];
        let q = |qs: &str| format!("/api/v1/accounts?{qs}");
        let cases: Vec<(String, BTreeSet<String>)> = vec![
            (q(&format!("name={}", enc("广州南方制造厂"))), set(&[gz])),
            (q(&format!("name[contains]={}", enc("中太"))), set(&[zt])),
            (q("name[contains]=harbour"), set(&[sh])),
            (q("name[starts_with]=acme"), set(&[acme])),
            (q("type[in]=customer,partner"), set(&[zt, sh])),
            (q("type[ne]=customer"), set(&[sh, gz, acme])),
            (q("employees[gte]=500"), set(&[zt, gz])),
            (q("employees[lt]=500"), set(&[sh])),
            (q("employees[empty]="), set(&[acme])),
            (q("annual_revenue[gt]=1000000"), set(&[zt])),
            (q("industry_id[not_empty]="), set(&[zt, sh, acme])),
            (q(&format!("industry_id={soft}")), set(&[zt, acme])),
            // Like every comparison, `ne` leaves out records without a value.
            (q(&format!("industry_id[ne]={soft}")), set(&[sh])),
            (q("rating=cold"), set(&[acme])),
            (
                q(&format!("billing_address.province={}", enc("北京市"))),
                set(&[zt]),
            ),
            (
                q(&format!("billing_address.city[contains]={}", enc("广州"))),
                set(&[gz]),
            ),
            (q("phones[contains]=6552"), set(&[zt])),
            (q("phones=%2B8613812345678"), set(&[sh])),
            (q("phones=138%201234%205678"), set(&[sh])),
            (q("phones[empty]="), set(&[gz, acme])),
            (q("emails=BUY%40nanfang.cn"), set(&[gz])),
            (q("emails[contains]=zhongtai"), set(&[zt])),
            (
                q(&format!("former_names[contains]={}", enc("中太软件"))),
                set(&[zt]),
            ),
            (q("custom.tier=gold"), set(&[zt, gz])),
            (q("custom.tier[in]=silver"), set(&[sh])),
            (q("owner_id=me"), set(&[gz, acme])),
            (q(&format!("owner_id={}", sales.id)), set(&[zt, sh])),
            (q(&format!("id={zt}")), set(&[zt])),
            (q("custom.tier=gold&type=prospect"), set(&[gz])),
            (
                q(&format!(
                    "filter={}",
                    enc(
                        r#"{"or": [{"field": "type", "op": "eq", "value": "partner"}, {"field": "custom.tier", "value": "gold"}]}"#
                    )
                )),
                set(&[zt, sh, gz]),
            ),
            (
                q(&format!(
                    "filter={}",
                    enc(&format!(
                        r#"{{"and": [{{"field": "industry_id", "op": "eq", "value": "{soft}"}}, {{"not": {{"field": "type", "op": "eq", "value": "reseller"}}}}]}}"#
                    ))
                )),
                set(&[zt]),
            ),
            (
                q(&format!(
                    "filter={}",
                    enc(r#"{"field": "employees", "op": "in", "value": [80, 1200]}"#)
                )),
                set(&[sh, gz]),
            ),
        ];
        for (path, want) in cases {
            let got: BTreeSet<String> = list_ids(&admin, &path).await.into_iter().collect();
            assert_eq!(got, want, "{b:?} {path}");
        }
        // `me` is the caller, combined with a JSON filter.
        for (path, want) in [
            (q("owner_id=me"), set(&[zt, sh])),
            (
                q(&format!(
                    "filter={}&owner_id=me",
                    enc(r#"{"not": {"field": "employees", "op": "lt", "value": 100}}"#)
                )),
                set(&[zt]),
            ),
        ] {
            let got: BTreeSet<String> = list_ids(&sales, &path).await.into_iter().collect();
            assert_eq!(got, want, "{b:?} {path}");
        }
        // Timestamps compare at the precision the API shows them.
        let g = admin.get_r(&format!("/api/v1/accounts/{gz}")).await;
        let t = g.body["created_at"]
            .as_str()
            .expect("created_at")
            .to_string();
        let at = |op: &str| q(&format!("created_at[{op}]={}", enc(&t)));
        let gte: BTreeSet<String> = list_ids(&admin, &at("gte")).await.into_iter().collect();
        let gt: BTreeSet<String> = list_ids(&admin, &at("gt")).await.into_iter().collect();
        let lt: BTreeSet<String> = list_ids(&admin, &at("lt")).await.into_iter().collect();
        let eq: BTreeSet<String> = list_ids(&admin, &q(&format!("created_at={}", enc(&t))))
            .await
            .into_iter()
            .collect();
        assert!(
            gte.contains(gz) && !gt.contains(gz) && !lt.contains(gz),
            "{b:?} {t}"
        );
        assert_eq!(eq, set(&[gz]), "{b:?} created_at={t}");
        assert_eq!(gte.len() + lt.len(), 4, "{b:?}");
        assert_eq!(
            list_ids(&admin, &q("created_at[gte]=2000-01-01"))
                .await
                .len(),
            4
        );
        assert!(
            list_ids(&admin, &q("updated_at[lt]=2000-01-01T00:00:00Z"))
                .await
                .is_empty()
        );
        // count=true gives the total of the filtered list.
        let r = admin.get_r(&q("custom.tier=gold&count=true&limit=1")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["total"], 2, "{b:?}");
        assert_eq!(r.ids().len(), 1);
        assert!(r.body["next_cursor"].is_string());
        // Without count=true there is no total.
        let r = admin.get_r(&q("custom.tier=gold")).await;
        assert!(r.body.get("total").is_none(), "{}", r.text);

        // Contacts: booleans, dates and the account reference.
        let c1 = sales
            .create(
                "contacts",
                json!({"family_name": "王", "given_name": "芳", "account_id": zt, "do_not_call": true, "birthday": "1980-05-01"}),
            )
            .await;
        let c2 = sales
            .create(
                "contacts",
                json!({"family_name": "Smith", "given_name": "Anna", "birthday": "1995-12-31"}),
            )
            .await;
        let (c1, c2) = (id_of(&c1), id_of(&c2));
        for (qs, want) in [
            ("do_not_call=true", set(&[&c1])),
            ("do_not_call=false", set(&[&c2])),
            ("birthday[lt]=1990-01-01", set(&[&c1])),
            ("birthday[gte]=1990-01-01", set(&[&c2])),
            (&format!("account_id={zt}") as &str, set(&[&c1])),
            ("account_id[empty]=", set(&[&c2])),
            ("family_name[contains]=smi", set(&[&c2])),
        ] {
            let got: BTreeSet<String> = list_ids(&sales, &format!("/api/v1/contacts?{qs}"))
                .await
                .into_iter()
                .collect();
            assert_eq!(got, want, "{b:?} contacts?{qs}");
        }
    }
}

const TYPES: [&str; 4] = ["prospect", "customer", "partner", "other"];
const RATINGS: [&str; 3] = ["hot", "warm", "cold"];

#[tokio::test]
async fn sorting_and_cursor_pagination_cover_every_row_once() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("East")).await;
        // 120 accounts, created a few at a time (many share a created_at instant, which the id
        // tiebreak must handle), with repeated names and some empty ratings.
        let mut created: HashSet<String> = HashSet::new();
        for chunk in 0..12 {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..10 {
                let n = chunk * 10 + i;
                let body = json!({
                    "kind": if n % 3 == 0 { "person" } else { "company" },
                    "name": format!("Pager {:03}", n % 40),
                    "type": TYPES[n % 4],
                    "rating": if n % 3 == 0 { Value::Null } else { json!(RATINGS[n % 3]) },
                    // Repeated names are duplicates on purpose.
                    "allow_duplicate": true,
                });
                let (base, token) = (sales.base.clone(), sales.token.clone());
                set.spawn(async move {
                    let res = reqwest::Client::new()
                        .post(format!("{base}/api/v1/accounts"))
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .await
                        .expect("POST");
                    assert_eq!(res.status(), StatusCode::CREATED);
                    res.json::<Value>().await.expect("json")["id"]
                        .as_str()
                        .expect("id")
                        .to_string()
                });
            }
            while let Some(id) = set.join_next().await {
                created.insert(id.expect("task"));
            }
        }
        assert_eq!(created.len(), 120);

        for sort in [
            "",
            "name",
            "-name",
            "kind",
            "type",
            "-rating",
            "-created_at",
            "updated_at",
        ] {
            let mut seen: Vec<String> = Vec::new();
            let mut rows: Vec<Value> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let mut path = format!("/api/v1/accounts?limit=50&count=true&sort={sort}");
                if let Some(c) = &cursor {
                    path.push_str(&format!("&cursor={}", enc(c)));
                }
                let r = sales.get_r(&path).await;
                assert_eq!(r.status, StatusCode::OK, "{b:?} {path}: {}", r.text);
                assert_eq!(r.body["total"], 120, "{b:?} sort {sort}");
                let data = r.body["data"].as_array().expect("data").clone();
                assert!(data.len() <= 50);
                pages += 1;
                seen.extend(r.ids());
                rows.extend(data);
                match r.body["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
                assert!(pages < 10, "{b:?} sort {sort}: pagination does not end");
            }
            assert_eq!(pages, 3, "{b:?} sort {sort}");
            let unique: HashSet<String> = seen.iter().cloned().collect();
            assert_eq!(
                seen.len(),
                120,
                "{b:?} sort {sort}: duplicates or missing rows"
            );
            assert_eq!(unique, created, "{b:?} sort {sort}");
            // The pages together are in order.
            let (key, desc) = match sort.strip_prefix('-') {
                Some(k) => (k, true),
                None if sort.is_empty() => ("created_at", true),
                None => (sort, false),
            };
            let keys: Vec<(String, String)> = rows
                .iter()
                .map(|r| {
                    (
                        r[key].as_str().unwrap_or("").to_string(),
                        r["id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            for w in keys.windows(2) {
                let ok = if desc { w[0] >= w[1] } else { w[0] <= w[1] };
                assert!(ok, "{b:?} sort {sort}: {:?} then {:?}", w[0], w[1]);
            }
        }
        // A cursor made for one sort is refused for another.
        let r = sales.get_r("/api/v1/accounts?limit=50&sort=name").await;
        let c = r.body["next_cursor"].as_str().expect("cursor").to_string();
        sales
            .get_r(&format!("/api/v1/accounts?sort=-name&cursor={}", enc(&c)))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_cursor", None);
        // limit=500 returns everything in one page.
        let r = sales.get_r("/api/v1/accounts?limit=500").await;
        assert_eq!(r.ids().len(), 120);
        assert!(r.body["next_cursor"].is_null());
    }
}

#[tokio::test]
async fn recycle_bin_delete_restore_and_purge() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let sales = app.user("sales", Some("East")).await;
        let acc = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "回收站测试公司"}),
            )
            .await;
        let id = id_of(&acc);
        let keep = sales
            .create(
                "accounts",
                json!({"kind": "company", "name": "Keep Me Ltd"}),
            )
            .await;
        let path = format!("/api/v1/accounts/{id}");
        let search = format!("/api/v1/search?q={}", enc("回收站"));
        assert_eq!(sales.get_r(&search).await.ids(), vec![id.clone()]);

        let d = sales.delete_r(&path).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
        sales
            .get_r(&path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let l = sales.get_r("/api/v1/accounts?count=true").await;
        assert_eq!(l.ids(), vec![id_of(&keep)]);
        assert_eq!(l.body["total"], 1);
        assert!(sales.get_r(&search).await.ids().is_empty(), "{b:?}");
        // A deleted record cannot be edited.
        sales
            .patch_r(&path, &json!({"description": "x"}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);

        // In the recycle bin, with who deleted it.
        for bin in [
            "/api/v1/recycle-bin",
            "/api/v1/recycle-bin?entity=account",
            "/api/v1/recycle-bin?entity=accounts",
        ] {
            let r = sales.get_r(bin).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let data = r.body["data"].as_array().expect("data");
            assert_eq!(data.len(), 1, "{b:?} {bin}: {}", r.text);
            assert_eq!(data[0]["id"], id.as_str());
            assert_eq!(data[0]["entity"], "account");
            assert_eq!(data[0]["title"], "回收站测试公司");
            assert_eq!(data[0]["deleted_by"], sales.id.to_string());
            assert!(data[0]["deleted_at"].is_string());
        }
        let r = sales.get_r("/api/v1/recycle-bin?entity=contact").await;
        assert_eq!(r.body["data"], json!([]));

        // Restore brings it back everywhere.
        let r = sales.post_r(&format!("{path}/restore"), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["deleted_at"], Value::Null);
        assert_eq!(sales.get_r(&path).await.status, StatusCode::OK);
        assert_eq!(sales.get_r(&search).await.ids(), vec![id.clone()]);
        assert_eq!(
            sales.get_r("/api/v1/accounts?count=true").await.body["total"],
            2
        );
        assert_eq!(
            sales.get_r("/api/v1/recycle-bin").await.body["data"],
            json!([])
        );
        // Restoring a live record: nothing in the bin by that id.
        sales
            .post_r(&format!("{path}/restore"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);

        // Delete again; restore through the recycle-bin route.
        assert_eq!(sales.delete_r(&path).await.status, StatusCode::NO_CONTENT);
        let r = sales
            .post_r(
                &format!("/api/v1/recycle-bin/account/{id}/restore"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        // Purge: only for records in the bin, only for administrators.
        admin
            .delete_r(&format!("/api/v1/recycle-bin/account/{id}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(sales.delete_r(&path).await.status, StatusCode::NO_CONTENT);
        sales
            .delete_r(&format!("/api/v1/recycle-bin/account/{id}"))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        let p = admin
            .delete_r(&format!("/api/v1/recycle-bin/account/{id}"))
            .await;
        assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.text);
        assert_eq!(
            admin.get_r("/api/v1/recycle-bin").await.body["data"],
            json!([])
        );
        admin
            .post_r(&format!("{path}/restore"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        // The audit trail keeps the story, purge included.
        assert_eq!(audit_rows(&app, &id, Some("purge")).await, 1);
        assert_eq!(audit_rows(&app, &id, Some("delete")).await, 3);
        assert_eq!(audit_rows(&app, &id, Some("restore")).await, 2);
        // Unknown entities in the bin routes are not found.
        admin
            .delete_r(&format!("/api/v1/recycle-bin/widgets/{id}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    }
}

#[tokio::test]
async fn change_owner_in_bulk_with_history() {
    for b in backends() {
        let app = spawn(b).await;
        let manager = app.user("manager", Some("A")).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let s3 = app.user("sales", Some("B")).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(id_of(
                &s1.create(
                    "accounts",
                    json!({"kind": "company", "name": format!("Owner Move {n}")}),
                )
                .await,
            ));
        }
        let other = id_of(
            &s3.create("accounts", json!({"kind": "company", "name": "Team B Co"}))
                .await,
        );

        // The manager hands two of them to sales2.
        let r = manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[0], ids[1]], "owner_id": s2.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["changed"], 2);
        for id in &ids[..2] {
            let g = s2.get_r(&format!("/api/v1/accounts/{id}")).await;
            assert_eq!(g.body["owner_id"], s2.id.to_string());
            assert_eq!(g.body["version"], 2);
            let h = s2.get_r(&format!("/api/v1/accounts/{id}/history")).await;
            let top = &h.body["data"][0];
            assert_eq!(top["action"], "update");
            assert_eq!(top["actor_id"], manager.id.to_string());
            assert_eq!(
                top["changes"],
                json!([{"field": "owner_id", "from": s1.id.to_string(), "to": s2.id.to_string()}])
            );
        }
        assert_eq!(list_ids(&s2, "/api/v1/accounts?owner_id=me").await.len(), 2);
        // Giving a record its current owner changes nothing.
        let r = manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[0]], "owner_id": s2.id}),
            )
            .await;
        assert_eq!(r.body["changed"], 0, "{}", r.text);

        // All or nothing: one record out of the manager's scope fails the lot.
        let r = manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[2], other], "owner_id": s2.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        let g = s1.get_r(&format!("/api/v1/accounts/{}", ids[2])).await;
        assert_eq!(g.body["owner_id"], s1.id.to_string(), "{b:?}");
        assert_eq!(g.body["version"], 1);

        // Owners outside the caller's write scope, unknown ones and bad bodies are refused.
        manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[2]], "owner_id": s3.id}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("owner_id"),
            );
        manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[2]], "owner_id": uuid::Uuid::now_v7()}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("owner_id"),
            );
        s1.post_r(
            "/api/v1/accounts/change-owner",
            &json!({"ids": [ids[2]], "owner_id": s2.id}),
        )
        .await
        .assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("owner_id"),
        );
        for bad in [
            json!({"ids": [], "owner_id": s2.id}),
            json!({"ids": ["nope"], "owner_id": s2.id}),
            json!({"ids": "x", "owner_id": s2.id}),
            json!({"owner_id": s2.id}),
        ] {
            manager
                .post_r("/api/v1/accounts/change-owner", &bad)
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some("ids"),
                );
        }
        manager
            .post_r(
                "/api/v1/accounts/change-owner",
                &json!({"ids": [ids[2]], "owner_id": "me"}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("owner_id"),
            );
        assert_eq!(
            audit_rows(&app, &ids[2], Some("update")).await,
            0,
            "{b:?}: nothing written by refused owner changes"
        );
        // Owner change through PATCH writes history too.
        let r = manager
            .patch_r(
                &format!("/api/v1/accounts/{}", ids[2]),
                &json!({"owner_id": manager.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["owner_id"], manager.id.to_string());
    }
}

#[tokio::test]
async fn history_lists_field_diffs_newest_first() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let manager = app.user("manager", Some("A")).await;
        let s1 = app.user("sales", Some("A")).await;
        let r = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "tier", "label_en": "Tier", "kind": "text"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let acc = s1
            .create(
                "accounts",
                json!({"kind": "company", "name": "历史公司", "custom": {"tier": "A"}}),
            )
            .await;
        let id = id_of(&acc);
        let p = format!("/api/v1/accounts/{id}");
        let r = s1
            .patch_r(
                &p,
                &json!({"name": "历史公司（新）", "rating": "hot", "custom": {"tier": "B"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = manager.patch_r(&p, &json!({"owner_id": manager.id})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(manager.delete_r(&p).await.status, StatusCode::NO_CONTENT);
        // History of a record in the recycle bin is still readable.
        let h = manager.get_r(&format!("{p}/history")).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text);
        assert_eq!(
            manager
                .post_r(&format!("{p}/restore"), &json!({}))
                .await
                .status,
            StatusCode::OK
        );
        let h = manager.get_r(&format!("{p}/history")).await;
        let data = h.body["data"].as_array().expect("history").clone();
        let actions: Vec<&str> = data
            .iter()
            .map(|e| e["action"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            actions,
            ["restore", "delete", "update", "update", "create"],
            "{b:?}: {}",
            h.text
        );
        let upd = &data[3];
        assert_eq!(upd["actor_id"], s1.id.to_string());
        assert_eq!(upd["actor_name"], "sales user");
        assert!(upd["at"].is_string());
        let changes = upd["changes"].as_array().expect("changes");
        let find = |f: &str| {
            changes
                .iter()
                .find(|c| c["field"] == f)
                .unwrap_or_else(|| panic!("{b:?}: no change to {f} in {}", h.text))
                .clone()
        };
        assert_eq!(find("name")["from"], "历史公司");
        assert_eq!(find("name")["to"], "历史公司（新）");
        assert_eq!(find("rating")["from"], Value::Null);
        assert_eq!(find("rating")["to"], "hot");
        assert_eq!(find("custom.tier")["from"], "A");
        assert_eq!(find("custom.tier")["to"], "B");
        assert_eq!(
            changes.len(),
            3,
            "{b:?}: only the changed fields: {}",
            h.text
        );
        assert_eq!(
            data[2]["changes"],
            json!([{"field": "owner_id", "from": s1.id.to_string(), "to": manager.id.to_string()}])
        );
        let created = data[4]["changes"].as_array().expect("create changes");
        assert!(
            created
                .iter()
                .any(|c| c["field"] == "name" && c["to"] == "历史公司"),
            "{}",
            h.text
        );
        assert!(created.iter().any(|c| c["field"] == "custom.tier"));
        // sales1 no longer owns it but still reads it (team), so sees its history.
        assert_eq!(
            s1.get_r(&format!("{p}/history")).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn saved_views_are_per_user() {
    for b in backends() {
        let app = spawn(b).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let s3 = app.user("sales", Some("B")).await;
        let filter =
            json!({"and": [{"field": "billing_address.province", "op": "eq", "value": "北京市"}]});
        let r = s1
            .post_r(
                "/api/v1/saved-views",
                &json!({"entity": "accounts", "name": "北京客户", "filter": filter, "sort": "name",
                        "columns": ["name", "type", "name", "owner_id"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.text);
        let vid = id_of(&r.body);
        assert_eq!(r.body["entity"], "account");
        let l = s1.get_r("/api/v1/saved-views?entity=accounts").await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.text);
        assert_eq!(l.ids(), vec![vid.clone()]);
        let v = &l.body["data"][0];
        assert_eq!(v["filter"], filter);
        assert_eq!(v["sort"], "name");
        // Each column once, in the order chosen.
        assert_eq!(v["columns"], json!(["name", "type", "owner_id"]));
        assert_eq!(v["shared"], false);
        assert_eq!(v["mine"], true);
        // Saving the same name replaces the view.
        let r = s1
            .post_r(
                "/api/v1/saved-views",
                &json!({"entity": "account", "name": "北京客户", "sort": "-name"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let l = s1.get_r("/api/v1/saved-views?entity=account").await;
        assert_eq!(l.ids().len(), 1, "{}", l.text);
        assert_eq!(l.body["data"][0]["sort"], "-name");
        assert_eq!(l.body["data"][0]["filter"], json!({"and": []}));
        let vid = l.ids()[0].clone();
        // Views are private unless shared, and then only within the team.
        assert_eq!(
            s2.get_r("/api/v1/saved-views?entity=accounts").await.body["data"],
            json!([])
        );
        let r = s1
            .post_r(
                "/api/v1/saved-views",
                &json!({"entity": "accounts", "name": "团队视图", "shared": true,
                        "filter": {"or": [{"field": "type", "value": "customer"}, {"field": "type", "value": "partner"}]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let shared = id_of(&r.body);
        let l = s2.get_r("/api/v1/saved-views?entity=accounts").await;
        assert_eq!(l.ids(), vec![shared.clone()], "{}", l.text);
        assert_eq!(l.body["data"][0]["mine"], false);
        assert_eq!(l.body["data"][0]["owner_name"], "sales user");
        assert!(
            s3.get_r("/api/v1/saved-views?entity=accounts")
                .await
                .ids()
                .is_empty()
        );
        // A teammate cannot delete it; its owner can.
        s2.delete_r(&format!("/api/v1/saved-views/{shared}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        assert!(
            s1.get_r("/api/v1/saved-views?entity=contacts")
                .await
                .ids()
                .is_empty()
        );
        s2.delete_r(&format!("/api/v1/saved-views/{vid}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        // Bad input names the field.
        for (body, field) in [
            (json!({"entity": "accounts", "name": ""}), "name"),
            (json!({"entity": "widgets", "name": "x"}), "entity"),
            (
                json!({"entity": "accounts", "name": "x", "columns": "name"}),
                "columns",
            ),
            (
                json!({"entity": "accounts", "name": "x", "sort": "a".repeat(200)}),
                "sort",
            ),
        ] {
            s1.post_r("/api/v1/saved-views", &body).await.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some(field),
            );
        }
        // A user without a team has nobody to share with.
        let loner = app.user("sales", None).await;
        loner
            .post_r(
                "/api/v1/saved-views",
                &json!({"entity": "accounts", "name": "x", "shared": true}),
            )
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("shared"),
            );
        // A malformed filter is a 400 naming what is wrong.
        let r = s1
            .post_r(
                "/api/v1/saved-views",
                &json!({"entity": "accounts", "name": "x", "filter": {"field": 3}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        s1.get_r("/api/v1/saved-views").await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
        let d = s1.delete_r(&format!("/api/v1/saved-views/{vid}")).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
        assert_eq!(
            s1.get_r("/api/v1/saved-views?entity=accounts").await.ids(),
            vec![shared]
        );
    }
}

fn csv_rows(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("csv row"))
        .collect()
}

#[tokio::test]
async fn csv_export_respects_scope_filters_and_neutralizes_formulas() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let s1 = app.user("sales", Some("A")).await;
        let s2 = app.user("sales", Some("A")).await;
        let s3 = app.user("sales", Some("B")).await;
        let r = admin
            .post_r(
                "/api/v1/custom-fields",
                &json!({"entity": "account", "key": "note", "label_en": "Note", "kind": "text"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let evil = "=HYPERLINK(\"http://evil.example/\",\"click\")";
        let a1 = id_of(
            &s1.create(
                "accounts",
                json!({"kind": "company", "name": evil, "description": "+1+1",
                       "billing_address": {"city": "@SUM(A1)", "street": "-2"}, "custom": {"note": "=1+2"},
                       "phones": [{"number": "13812345678"}]}),
            )
            .await,
        );
        let a2 = id_of(
            &s2.create("accounts", json!({"kind": "company", "name": "队友公司"}))
                .await,
        );
        let a3 = id_of(
            &s3.create("accounts", json!({"kind": "company", "name": "别队公司"}))
                .await,
        );

        let r = s1.get_r("/api/v1/accounts/export.csv").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/csv")),
            "{:?}",
            r.header("content-type")
        );
        assert!(
            r.header("content-disposition")
                .is_some_and(|c| c.contains("attachment"))
        );
        let mut reader = csv::Reader::from_reader(r.text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
        };
        let rows = csv_rows(&r.text);
        let ids: BTreeSet<String> = rows.iter().map(|r| r[col("id")].to_string()).collect();
        assert_eq!(ids, set(&[&a1, &a2]), "{b:?}: sales1 exports own and team");
        let row = rows.iter().find(|r| r[col("id")] == *a1).expect("a1 row");
        assert_eq!(&row[col("name")], format!("'{evil}"));
        assert_eq!(&row[col("description")], "'+1+1");
        assert_eq!(&row[col("billing_address.street")], "'-2");
        assert_eq!(&row[col("billing_address.city")], "'@SUM(A1)");
        assert_eq!(&row[col("custom.note")], "'=1+2");
        for cell in rows.iter().flat_map(|r| r.iter()) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "{b:?}: live formula cell {cell:?}"
            );
        }
        // Filters apply to the export; other teams' rows never appear.
        let r = s1
            .get_r(&format!(
                "/api/v1/accounts/export.csv?name={}",
                enc("队友公司")
            ))
            .await;
        let rows = csv_rows(&r.text);
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], a2.as_str());
        let r = s1
            .get_r(&format!("/api/v1/accounts/export.csv?id={a3}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(csv_rows(&r.text).is_empty(), "{b:?}: {}", r.text);
        assert!(!r.text.contains(&a3));
        // sales3 sees only team B; admin sees all.
        let r = s3.get_r("/api/v1/accounts/export.csv").await;
        let ids: BTreeSet<String> = csv_rows(&r.text).iter().map(|r| r[0].to_string()).collect();
        assert_eq!(ids, set(&[&a3]));
        let r = admin.get_r("/api/v1/accounts/export.csv").await;
        assert_eq!(csv_rows(&r.text).len(), 3);
        // A bad filter on an export is a 400, not a broken file.
        s1.get_r("/api/v1/accounts/export.csv?colour=red")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_filter", None);
        // Contacts export too.
        let r = s1.get_r("/api/v1/contacts/export.csv").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.starts_with("id,"), "{}", r.text);
    }
}

/// The routes that belong to no entity, as (method, OpenAPI path).
const FIXED_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/me"),
    ("patch", "/api/v1/me"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("post", "/api/v1/users/{id}/password"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{id}"),
    ("patch", "/api/v1/teams/{id}"),
    ("delete", "/api/v1/teams/{id}"),
    ("get", "/api/v1/roles"),
    ("put", "/api/v1/roles/{role}/grants/{entity}"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/custom-fields"),
    ("post", "/api/v1/custom-fields"),
    ("get", "/api/v1/custom-fields/{id}"),
    ("patch", "/api/v1/custom-fields/{id}"),
    ("delete", "/api/v1/custom-fields/{id}"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/recycle-bin"),
    ("delete", "/api/v1/recycle-bin/{entity}/{id}"),
    ("post", "/api/v1/recycle-bin/{entity}/{id}/restore"),
    ("get", "/api/v1/saved-views"),
    ("post", "/api/v1/saved-views"),
    ("delete", "/api/v1/saved-views/{id}"),
    ("get", "/api/v1/notifications"),
    ("get", "/api/v1/notifications/unread-count"),
    ("post", "/api/v1/notifications/read-all"),
    ("post", "/api/v1/notifications/{id}/read"),
    ("get", "/api/v1/divisions"),
    ("get", "/api/v1/divisions/split"),
];

/// Every route the router serves, as (method, OpenAPI path): the fixed ones, and for every
/// entity in the registry the same record routes plus one POST per declared action, the
/// reminder routes for entities whose records have owners, and the duplicate check's routes for
/// entities with duplicate-check rules.
pub fn routes() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = FIXED_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for def in guanxi_core::areas::registry().all() {
        let base = format!("/api/v1/{}", def.plural);
        let mut add = |m: &str, p: String| out.push((m.to_string(), p));
        add("get", base.clone());
        add("post", base.clone());
        add("get", format!("{base}/export.csv"));
        add("get", format!("{base}/export.xlsx"));
        add("get", format!("{base}/aggregate"));
        add("post", format!("{base}/change-owner"));
        add("get", format!("{base}/{{id}}"));
        add("patch", format!("{base}/{{id}}"));
        add("delete", format!("{base}/{{id}}"));
        add("get", format!("{base}/{{id}}/history"));
        add("post", format!("{base}/{{id}}/restore"));
        if def.access == guanxi_core::records::Access::Records {
            add("get", format!("{base}/{{id}}/reminders"));
            add("post", format!("{base}/{{id}}/reminders"));
            add("delete", format!("{base}/{{id}}/reminders/{{reminder}}"));
        }
        for action in def.actions {
            add("post", format!("{base}/{{id}}/{}", action.name));
        }
        if !def.dedupe.is_empty() {
            add("post", format!("{base}/duplicates"));
            add("get", format!("{base}/dedupe-rules"));
            add("put", format!("{base}/dedupe-rules/{{rule}}"));
        }
    }
    out
}

/// Fills an OpenAPI path template with values the router will match.
pub fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{reminder}", id)
        .replace("{entity}", "account")
        .replace("{role}", "sales")
        .replace("{rule}", "name")
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        // The document is public to API callers and parses as OpenAPI 3.1.
        let r = admin.get_r("/api/v1/openapi.json").await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.body;
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
        for (p, ops) in paths {
            for m in ["get", "post", "put", "patch", "delete"] {
                if ops.get(m).is_some() {
                    documented.insert((m.to_string(), p.clone()));
                }
            }
        }
        let served: BTreeSet<(String, String)> = routes().into_iter().collect();
        let missing: Vec<_> = served.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes missing from OpenAPI: {missing:?}"
        );
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            extra.is_empty(),
            "OpenAPI documents routes the test does not know: {extra:?}"
        );
        // Every documented operation is really routed (not the fallback, not 405), and
        // documents its responses; the error schema is there.
        let id = uuid::Uuid::now_v7().to_string();
        for (m, p) in &documented {
            let op = &paths[p.as_str()][m.as_str()];
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {p} has no responses"
            );
            let method: Method = m.to_uppercase().parse().expect("method");
            let mut rb = admin.req(method.clone(), &concrete(p, &id));
            if matches!(method, Method::POST | Method::PATCH | Method::PUT) {
                rb = rb.json(&json!({}));
            }
            let res = admin.send(rb).await;
            assert_ne!(
                res.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{m} {p}: {}",
                res.text
            );
            assert!(
                !(res.status == StatusCode::NOT_FOUND && res.text.contains("no such route")),
                "{m} {p} is documented but not routed"
            );
            assert!(res.status.as_u16() < 500, "{m} {p}: {}", res.text);
        }
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for s in [
            "Account",
            "AccountInput",
            "Contact",
            "ContactInput",
            "Error",
        ] {
            assert!(schemas.contains_key(s), "schema {s} missing");
        }
        let err = &schemas["Error"]["properties"]["error"]["properties"];
        for k in ["code", "message", "fields"] {
            assert!(err.get(k).is_some(), "the error body documents {k}");
        }
        // Fields in the document match what the API returns.
        let acc = admin
            .create("accounts", json!({"kind": "company", "name": "Doc Co"}))
            .await;
        let props = schemas["Account"]["properties"].as_object().expect("props");
        for k in acc.as_object().expect("record").keys() {
            assert!(
                props.contains_key(k),
                "field {k} missing from Account schema"
            );
        }
        // Unknown API paths get the API's 404 body.
        admin
            .get_r("/api/v1/widgets")
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    }
}

#[tokio::test]
async fn recycle_bin_pages_and_purge_keeps_dependents() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let mut deleted = HashSet::new();
        for n in 0..60 {
            let id = id_of(
                &admin
                    .create(
                        "accounts",
                        json!({"kind": "company", "name": format!("Binned {n:02}")}),
                    )
                    .await,
            );
            assert_eq!(
                admin
                    .delete_r(&format!("/api/v1/accounts/{id}"))
                    .await
                    .status,
                StatusCode::NO_CONTENT
            );
            deleted.insert(id);
        }
        // Page through the bin one entity at a time.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..5 {
            let mut path = "/api/v1/recycle-bin?entity=account&limit=25".to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", enc(c)));
            }
            let r = admin.get_r(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{b:?} {path}: {}", r.text);
            seen.extend(r.ids());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), 60, "{b:?}: duplicates or gaps in the bin");
        assert_eq!(unique, deleted);
        // Newest deletion first.
        assert!(seen.first() > seen.last() || seen.len() < 2);
        // Across entities there is no cursor.
        let c = cursor.unwrap_or_default();
        admin
            .get_r(&format!("/api/v1/recycle-bin?cursor={}", enc(&c)))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_cursor", None);

        // Purging an account that others point at leaves them intact, without the reference.
        let parent = id_of(
            &admin
                .create(
                    "accounts",
                    json!({"kind": "company", "name": "Gone Parent"}),
                )
                .await,
        );
        let child = id_of(
            &admin
                .create(
                    "accounts",
                    json!({"kind": "company", "name": "Orphan", "parent_id": parent}),
                )
                .await,
        );
        let con = id_of(
            &admin
                .create(
                    "contacts",
                    json!({"family_name": "孤", "account_id": parent}),
                )
                .await,
        );
        assert_eq!(
            admin
                .delete_r(&format!("/api/v1/accounts/{parent}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let p = admin
            .delete_r(&format!("/api/v1/recycle-bin/account/{parent}"))
            .await;
        assert_eq!(p.status, StatusCode::NO_CONTENT, "{b:?}: {}", p.text);
        let c = admin.get_r(&format!("/api/v1/accounts/{child}")).await;
        assert_eq!(c.status, StatusCode::OK);
        assert_eq!(c.body["parent_id"], Value::Null, "{b:?}");
        let k = admin.get_r(&format!("/api/v1/contacts/{con}")).await;
        assert_eq!(k.body["account_id"], Value::Null, "{b:?}");
        let r = admin
            .patch_r(
                &format!("/api/v1/contacts/{con}"),
                &json!({"title": "still editable"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// An item of an admin-edited list (`sources`, `industries`), named in both languages; its id.
async fn list_item(admin: &TestUser, plural: &str, en: &str, zh: &str) -> String {
    id_of(
        &admin
            .create(plural, json!({"name": {"en": en, "zh-CN": zh}}))
            .await,
    )
}
