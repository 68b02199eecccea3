//! The divisions API: the picker's province → city → district lists and one-line address
//! splitting, for token and session callers; unknown codes and lines that are no Chinese
//! address are named.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, Resp, TestUser, backends, browser, login_cookie, spawn};

async fn split(user: &TestUser, line: &str) -> Resp {
    user.send(
        user.req(Method::GET, "/api/v1/divisions/split")
            .query(&[("line", line)]),
    )
    .await
}

fn names(r: &Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a data list: {}", r.text))
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_picker_walks_from_provinces_to_districts() {
    for backend in backends() {
        let app = spawn(backend).await;
        let rep = app.user("sales", Some("North")).await;

        let top = rep.get_r("/api/v1/divisions").await;
        assert_eq!(top.status, StatusCode::OK, "{backend:?}: {}", top.text);
        let provinces = top.body["data"].as_array().unwrap();
        assert_eq!(provinces.len(), 34);
        assert_eq!(provinces[0], json!({"code": "110000", "name": "北京市"}));
        let all = names(&top);
        for p in ["广东省", "内蒙古自治区", "香港特别行政区", "台湾省"] {
            assert!(all.contains(&p.to_string()), "{p}");
        }
        // An empty parent, as a form leaves it, is the top.
        assert_eq!(rep.get_r("/api/v1/divisions?parent=").await.body, top.body);

        // A municipality has one city of its own name, then the districts.
        let city = rep.get_r("/api/v1/divisions?parent=110000").await;
        assert_eq!(
            city.body,
            json!({"data": [{"code": "110100", "name": "北京市"}]})
        );
        let districts = rep.get_r("/api/v1/divisions?parent=110100").await;
        assert!(
            districts.body["data"]
                .as_array()
                .unwrap()
                .contains(&json!({"code": "110106", "name": "丰台区"})),
            "{}",
            districts.text
        );
        let guangdong = names(&rep.get_r("/api/v1/divisions?parent=440000").await);
        assert!(guangdong.contains(&"深圳市".to_string()));
        assert!(guangdong.contains(&"东莞市".to_string()));

        // A division without children lists none; a code that is no division is a 404.
        for leaf in ["110106", "441900"] {
            let r = rep.get_r(&format!("/api/v1/divisions?parent={leaf}")).await;
            assert_eq!(r.status, StatusCode::OK, "{leaf}: {}", r.text);
            assert_eq!(r.body, json!({"data": []}), "{leaf}");
        }
        for unknown in ["999999", "11", "abc", "%E4%B8%AD"] {
            rep.get_r(&format!("/api/v1/divisions?parent={unknown}"))
                .await
                .assert_error(StatusCode::NOT_FOUND, "unknown_division", None);
        }
    }
}

#[tokio::test]
async fn a_one_line_address_splits_into_its_parts() {
    for backend in backends() {
        let app = spawn(backend).await;
        let rep = app.user_in("sales", Some("North"), "zh-CN").await;

        let r = split(&rep, "北京市丰台区科技园路382号").await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"province": "北京市", "city": "北京市", "district": "丰台区", "street": "科技园路382号"})
        );
        let r = split(&rep, " 浙江杭州 西湖区　文三路１号").await;
        assert_eq!(
            r.body,
            json!({"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路1号"})
        );
        let r = split(&rep, "深圳市南山区科技园南区").await;
        assert_eq!(r.body["province"], "广东省", "{}", r.text);

        // Not a Chinese address: the caller keeps it as free text.
        split(&rep, "1 Market St, San Francisco")
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "address_not_recognized",
                None,
            );
        // No line, or one longer than is read, names the parameter.
        rep.get_r("/api/v1/divisions/split")
            .await
            .assert_field("line", "required");
        split(&rep, "  ").await.assert_field("line", "required");
        let long = split(&rep, &"北京".repeat(300)).await;
        assert_eq!(
            long.assert_field("line", "too_long")["params"],
            json!({"max": 500})
        );
    }
}

#[tokio::test]
async fn divisions_are_for_signed_in_callers_by_token_or_session() {
    for backend in backends() {
        let app = spawn(backend).await;
        for path in [
            "/api/v1/divisions",
            "/api/v1/divisions?parent=110000",
            "/api/v1/divisions/split?line=%E5%8C%97%E4%BA%AC",
        ] {
            let r = Resp::read(
                app.anonymous()
                    .get(format!("{}{path}", app.base))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
        }

        // The address form's picker calls it with the page's session.
        let reader = app.user("read_only", None).await;
        let (cookie, _) = login_cookie(&app, &reader.email, PASSWORD).await;
        let res = browser()
            .get(format!("{}/api/v1/divisions?parent=440000", app.base))
            .header("Cookie", format!("guanxi_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{backend:?}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["data"]
                .as_array()
                .unwrap()
                .contains(&json!({"code": "440300", "name": "深圳市"}))
        );
    }
}
