//! Notifications on both backends: written with the event's transaction, shown from their
//! time, each user's own, read one by one or all at once, paged newest first.

use guanxi_core::CoreError;
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::db::{self, Backend};
use guanxi_core::notifications::{self, Notice};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

fn notice(user: Uuid, n: i64) -> Notice {
    Notice {
        user_id: user,
        kind: "reminder",
        params: json!({"n": n}),
        about: Some((ACCOUNTS.name, Uuid::now_v7())),
        visible_at: guanxi_core::now(),
    }
}

#[tokio::test]
async fn a_users_notices_show_from_their_time_and_are_read_by_them_alone() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, mate, _] = two_teams(&core, &boss).await;
        let rep_actor = actor(&core, "rep@example.com").await;
        let mate_actor = actor(&core, "mate@example.com").await;

        // Rolled back with its event, it never was.
        let txn = core.db.begin().await.unwrap();
        notifications::notify(&core, &txn, notice(rep, 0))
            .await
            .unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            0
        );

        // Five for the rep, one for the mate, and a reminder for the rep due in an hour.
        let txn = core.db.begin().await.unwrap();
        let mut ids = Vec::new();
        for n in 1..=5 {
            ids.push(
                notifications::notify(&core, &txn, notice(rep, n))
                    .await
                    .unwrap(),
            );
        }
        let mates = notifications::notify(&core, &txn, notice(mate, 9))
            .await
            .unwrap();
        let later = Notice {
            visible_at: guanxi_core::now() + chrono::Duration::hours(1),
            ..notice(rep, 6)
        };
        let later = notifications::notify(&core, &txn, later).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            5,
            "{backend:?}"
        );
        assert_eq!(
            notifications::unread_count(&core, &mate_actor)
                .await
                .unwrap(),
            1
        );

        // Newest first, by pages of two.
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = notifications::list(&core, &rep_actor, false, 2, before)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 2);
            before = page.last().map(|n| n.id);
            seen.extend(page.into_iter().map(|n| n.params["n"].as_i64().unwrap()));
        }
        assert_eq!(seen, [5, 4, 3, 2, 1], "{backend:?}");

        // Another user's notice, or one not yet due, is not found.
        for id in [mates, later] {
            assert!(matches!(
                notifications::mark_read(&core, &rep_actor, id).await,
                Err(CoreError::NotFound)
            ));
        }
        assert!(matches!(
            notifications::list(&core, &rep_actor, false, 2, Some(mates)).await,
            Err(CoreError::NotFound)
        ));

        // Read one, then all; reading again changes nothing.
        notifications::mark_read(&core, &rep_actor, ids[0])
            .await
            .unwrap();
        notifications::mark_read(&core, &rep_actor, ids[0])
            .await
            .unwrap();
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            4
        );
        let unread = notifications::list(&core, &rep_actor, true, 50, None)
            .await
            .unwrap();
        assert_eq!(unread.len(), 4);
        assert_eq!(
            notifications::mark_all_read(&core, &rep_actor)
                .await
                .unwrap(),
            4
        );
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            notifications::unread_count(&core, &mate_actor)
                .await
                .unwrap(),
            1
        );
        let all = notifications::list(&core, &rep_actor, false, 50, None)
            .await
            .unwrap();
        assert!(all.iter().all(|n| n.read_at.is_some()), "{backend:?}");
        assert_eq!(all[0].entity, ACCOUNTS.name);

        // The reminder's time comes: it shows, unread, without anything else happening.
        let sql = match backend {
            Backend::Sqlite => "UPDATE notifications SET visible_at = ? WHERE id = ?",
            Backend::Postgres => "UPDATE notifications SET visible_at = $1 WHERE id = $2",
        };
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(&txn, sql, vec![guanxi_core::now().into(), later.into()])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            1
        );
        let top = notifications::list(&core, &rep_actor, false, 1, None)
            .await
            .unwrap();
        assert_eq!(top[0].id, later, "{backend:?}");
        fresh.cleanup(core).await;
    }
}
