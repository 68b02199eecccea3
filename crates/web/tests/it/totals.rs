//! List totals: exact up to 10,000 matching records, "more than 10,000" beyond (a count that
//! stops reading there), and the exact figure when asked for.

use guanxi_seed::bulk;
use reqwest::StatusCode;

use crate::support::{PASSWORD, backends, browser, login_cookie, spawn};

#[tokio::test]
async fn totals_are_exact_up_to_the_cap_and_capped_beyond() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        bulk::generate_bench_data(&app.core, 10_001, 0, &mut |_, _| {})
            .await
            .expect("generate accounts");

        let r = admin.get_r("/api/v1/accounts?count=true&limit=1").await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(r.body["total"], 10_000, "{b:?}");
        assert_eq!(r.body["total_more"], true, "{b:?}");
        let r = admin.get_r("/api/v1/accounts?count=exact&limit=1").await;
        assert_eq!(r.body["total"], 10_001, "{b:?}");
        assert_eq!(r.body["total_more"], false, "{b:?}");
        // Under the cap the figure is exact, with or without asking.
        let r = admin
            .get_r("/api/v1/accounts?count=true&limit=1&type=partner")
            .await;
        let partners = r.body["total"].as_u64().expect("total");
        assert!(partners > 0 && partners < 10_000, "{b:?}: {partners}");
        assert_eq!(r.body["total_more"], false);
        let r = admin
            .get_r("/api/v1/accounts?count=exact&limit=1&type=partner")
            .await;
        assert_eq!(r.body["total"].as_u64(), Some(partners));
        // No count asked for, no total.
        let r = admin.get_r("/api/v1/accounts?limit=1").await;
        assert!(r.body.get("total").is_none() && r.body.get("total_more").is_none());
        admin
            .get_r("/api/v1/accounts?count=maybe")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_count", None);

        // The list page says "more than 10,000" and offers the exact count.
        let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        let page = |path: String| {
            let cookie = cookie.clone();
            async move {
                browser()
                    .get(path)
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .send()
                    .await
                    .expect("page")
                    .text()
                    .await
                    .expect("html")
            }
        };
        let html = page(format!("{}/accounts", app.base)).await;
        assert!(html.contains("more than 10,000"), "{b:?}");
        assert!(html.contains("id=\"count-exact\""), "{b:?}");
        let html = page(format!("{}/accounts?count=exact", app.base)).await;
        assert!(html.contains("10001 records"), "{b:?}");
        assert!(!html.contains("id=\"count-exact\""), "{b:?}");
    }
}
