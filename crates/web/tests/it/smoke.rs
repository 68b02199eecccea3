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
        for i in 0..25 {
            sales
                .create(
                    "contacts",
                    json!({"family_name": "张", "given_name": "伟", "title": format!("{i}")}),
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
        for i in 0..210 {
            sales
                .create(
                    "contacts",
                    json!({"family_name": "王", "given_name": "芳芳", "title": format!("{i}")}),
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
