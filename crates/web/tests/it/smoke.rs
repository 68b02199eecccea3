use reqwest::StatusCode;
use serde_json::json;

use crate::support::{backends, json, spawn};

#[tokio::test]
async fn create_read_search_and_history_round_trip() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("East")).await;
        let acc = sales
            .create(
                "accounts",
                json!({"name": "北京中太数据科技有限公司", "kind": "company", "phones": [{"number": "010-6552 9988", "label": "work"}],
                       "website": "https://www.zhongtai.com.cn", "billing_address": {"province": "北京市"}, "annual_revenue": {"amount": "1200000.50", "currency": "CNY"}}),
            )
            .await;
        let id = acc["id"].as_str().expect("id");
        assert_eq!(acc["domain"], "zhongtai.com.cn", "{b:?}");
        assert_eq!(acc["phones"][0]["number"], "+861065529988");
        assert_eq!(acc["annual_revenue"]["amount"], "1200000.50");
        let (s, got) = json(sales.get(&format!("/api/v1/accounts/{id}")).await).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(got["name"], "北京中太数据科技有限公司");
        for q in [
            "中太",
            "zhongtai",
            "bjztsjkjyxgs",
            "65529988",
            "zhongtai.com.cn",
        ] {
            let (s, hits) = json(sales.get(&format!("/api/v1/search?q={q}")).await).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(hits["data"][0]["id"], id, "{b:?} search {q}: {hits}");
        }
        let (s, upd) = json(
            sales
                .patch(
                    &format!("/api/v1/accounts/{id}"),
                    &json!({"description": "信息技术"}),
                )
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{upd}");
        assert_eq!(upd["version"], 2);
        let (_, hist) = json(sales.get(&format!("/api/v1/accounts/{id}/history")).await).await;
        assert_eq!(hist["data"][0]["action"], "update");
        assert_eq!(hist["data"][0]["changes"][0]["field"], "description");
        assert_eq!(hist["data"][0]["changes"][0]["to"], "信息技术");
    }
}

#[tokio::test]
async fn pinyin_prefers_whole_names_and_still_finds_syllables_inside_names() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("East")).await;
        // More whole-name matches than a page: the syllable phrase is not needed for them.
        // Namesakes on purpose, which the duplicate check lets through when told.
        for i in 0..25 {
            sales
                .create(
                    "contacts",
                    json!({"family_name": "张", "given_name": "伟", "title": format!("{i}"),
                           "allow_duplicate": true}),
                )
                .await;
        }
        let inside = sales
            .create(
                "contacts",
                json!({"family_name": "李", "given_name": "张伟"}),
            )
            .await;
        let (s, hits) = json(sales.get("/api/v1/search?q=zhangwei&limit=20").await).await;
        assert_eq!(s, StatusCode::OK);
        let data = hits["data"].as_array().unwrap();
        assert_eq!(data.len(), 20, "{b:?}: {hits}");
        assert!(data.iter().all(|h| h["title"] == "张伟"), "{b:?}: {hits}");
        let (_, hits) = json(sales.get("/api/v1/search?q=lizhangwei").await).await;
        assert_eq!(hits["data"][0]["id"], inside["id"], "{b:?}: {hits}");
        // Fewer whole-name matches than the page: syllables inside a longer name count too.
        let (_, hits) = json(sales.get("/api/v1/search?q=zhangwei&limit=50").await).await;
        let ids: Vec<&serde_json::Value> = hits["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| &h["id"])
            .collect();
        assert!(ids.contains(&&inside["id"]), "{b:?}: {hits}");
        assert_eq!(ids.len(), 26, "{b:?}: {hits}");
    }
}

#[tokio::test]
async fn an_exact_name_is_found_first_among_many_longer_matches() {
    for b in backends() {
        let app = spawn(b).await;
        let sales = app.user("sales", Some("East")).await;
        // More text matches than the search takes as candidates, all created before the exact one.
        // Namesakes on purpose, which the duplicate check lets through when told.
        for i in 0..210 {
            sales
                .create(
                    "contacts",
                    json!({"family_name": "王", "given_name": "芳芳", "title": format!("{i}"),
                           "allow_duplicate": true}),
                )
                .await;
        }
        let exact = sales
            .create("contacts", json!({"family_name": "王", "given_name": "芳"}))
            .await;
        let (s, hits) = json(sales.get("/api/v1/search?q=王芳").await).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hits["data"][0]["id"], exact["id"], "{b:?}: {hits}");
        assert_eq!(hits["data"][0]["title"], "王芳");
    }
}

/// An unknown address answers a browser with the error page in its language, and an API client
/// with the JSON error; search hits carry the key facts that tell records of one name apart.
#[tokio::test]
async fn unknown_paths_answer_pages_or_json_and_hits_carry_key_facts() {
    let app = spawn(crate::support::Backend::Sqlite).await;
    let anon = app.anonymous();
    let res = anon
        .get(format!("{}/no/such/page", app.base))
        .header("accept", "text/html")
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = res.text().await.expect("body");
    assert!(body.contains("没有这个页面"), "{body}");
    let res = anon
        .get(format!("{}/api/v1/no-such", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, err) = json(res).await;
    assert_eq!(err["error"]["reason"], "no_such_route", "{err}");

    let sales = app.user("sales", Some("East")).await;
    let acc = sales
        .create(
            "accounts",
            json!({"kind": "company", "name": "北京中太数据科技有限公司"}),
        )
        .await;
    sales
        .create(
            "contacts",
            json!({"family_name": "张", "given_name": "三", "account_id": acc["id"],
                   "phones": [{"number": "138 0013 8000", "label": "mobile"}]}),
        )
        .await;
    let (_, hits) = json(sales.get("/api/v1/search?q=张三").await).await;
    let hint = hits["data"][0]["hint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        hint.contains("北京中太数据科技有限公司") && hint.contains("138 0013 8000"),
        "{hits}"
    );
    // The owner by name: the key facts read the names of the users they show.
    let (_, me) = json(sales.get("/api/v1/me").await).await;
    let name = me["user"]["name"].as_str().unwrap_or_default();
    assert!(!name.is_empty() && hint.ends_with(name), "{me} {hits}");
}
