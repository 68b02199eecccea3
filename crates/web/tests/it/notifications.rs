//! The notifications API on both backends: the bell's count, the list paged newest first, and
//! marking read; each user sees only their own, and bad parameters are named.

use guanxi_core::notifications::{self, Notice};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Resp, backends, spawn};

#[tokio::test]
async fn a_user_reads_their_own_notifications_through_the_api() {
    for backend in backends() {
        let app = spawn(backend).await;
        let rep = app.user("sales", Some("North")).await;
        let other = app.user("sales", Some("North")).await;
        let txn = app.core.db.begin().await.unwrap();
        for n in 1..=3 {
            notifications::notify(
                &app.core,
                &txn,
                Notice {
                    user_id: rep.id,
                    kind: "reminder",
                    params: json!({"n": n}),
                    about: None,
                    visible_at: guanxi_core::now(),
                },
            )
            .await
            .unwrap();
        }
        let others = notifications::notify(
            &app.core,
            &txn,
            Notice {
                user_id: other.id,
                kind: "reminder",
                params: json!({"n": 9}),
                about: None,
                visible_at: guanxi_core::now(),
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();

        let count = rep.get_r("/api/v1/notifications/unread-count").await;
        assert_eq!(count.body, json!({"unread": 3}), "{backend:?}");

        // Newest first, two at a time.
        let first = rep.get_r("/api/v1/notifications?limit=2").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.body["unread"], 3);
        let ns: Vec<_> = first.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["params"]["n"].clone())
            .collect();
        assert_eq!(ns, [json!(3), json!(2)]);
        let next = first.body["next_before"].as_str().unwrap().to_string();
        let rest = rep
            .get_r(&format!("/api/v1/notifications?limit=2&before={next}"))
            .await;
        assert_eq!(rest.body["data"][0]["params"]["n"], 1);
        assert!(rest.body["next_before"].is_null(), "{}", rest.text);

        // Read one; another user's is not found for this one.
        let id = first.body["data"][0]["id"].as_str().unwrap().to_string();
        let read = rep
            .post_r(&format!("/api/v1/notifications/{id}/read"), &json!({}))
            .await;
        assert_eq!(read.status, StatusCode::NO_CONTENT, "{}", read.text);
        let unread = rep.get_r("/api/v1/notifications?unread=true").await;
        assert_eq!(unread.body["data"].as_array().unwrap().len(), 2);
        rep.post_r(&format!("/api/v1/notifications/{others}/read"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);

        let all = rep
            .post_r("/api/v1/notifications/read-all", &json!({}))
            .await;
        assert_eq!(all.body, json!({"marked": 2}), "{backend:?}");
        let count = rep.get_r("/api/v1/notifications/unread-count").await;
        assert_eq!(count.body, json!({"unread": 0}));
        let count = other.get_r("/api/v1/notifications/unread-count").await;
        assert_eq!(count.body, json!({"unread": 1}));

        // Bad parameters, and no caller.
        for (path, code) in [
            ("/api/v1/notifications?limit=0", "invalid_limit"),
            ("/api/v1/notifications?limit=101", "invalid_limit"),
            ("/api/v1/notifications?unread=maybe", "invalid_query"),
        ] {
            rep.get_r(path)
                .await
                .assert_error(StatusCode::BAD_REQUEST, code, None);
        }
        rep.get_r("/api/v1/notifications?before=nonsense")
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let anon = Resp::read(
            app.anonymous()
                .get(format!("{}/api/v1/notifications/unread-count", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        anon.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    }
}
