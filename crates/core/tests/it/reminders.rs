//! Reminders on records, on both backends: set for the record's owner by whoever may, shown in
//! their bell at the time set, listed while pending, cancelled with their e-mail, refused with
//! a reason for a time past, a note too long, or a reader who may not change the record.

use chrono::Duration;
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::db;
use guanxi_core::notifications;
use guanxi_core::{CoreError, codes, reminders};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, mailing, two_teams};

fn field_code(e: &CoreError, field: &str) -> Option<String> {
    match e {
        CoreError::Validation(f) => f.get(field).map(|e| e.code.to_string()),
        _ => None,
    }
}

#[tokio::test]
async fn a_reminder_shows_to_the_records_owner_at_its_time_and_can_be_cancelled() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        // E-mail on (nothing listens: no job runs here), so a reminder queues its e-mail.
        let core = fresh.core_with(mailing("127.0.0.1".into(), 9)).await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, _, _] = two_teams(&core, &boss).await;
        let rep_actor = actor(&core, "rep@example.com").await;
        let mate = actor(&core, "mate@example.com").await;
        let other = actor(&core, "other@example.com").await;
        let account = core
            .records(&ACCOUNTS)
            .create(&rep_actor, &json!({"kind": "company", "name": "华为技术"}))
            .await
            .unwrap();
        let id = Uuid::parse_str(account["id"].as_str().unwrap()).unwrap();
        let soon = guanxi_core::now() + Duration::minutes(90);

        // The owner sets one; the manager sets one for the owner too.
        let own = reminders::set(&core, &rep_actor, &ACCOUNTS, id, soon, " 跟进报价 ")
            .await
            .unwrap();
        assert_eq!((own.user_id, own.note.as_str()), (rep, "跟进报价"));
        let by_boss = reminders::set(&core, &boss, &ACCOUNTS, id, soon + Duration::hours(1), "")
            .await
            .unwrap();
        assert_eq!(by_boss.user_id, rep, "a reminder is for the record's owner");

        // A teammate may read the account but not change it: no reminders in its owner's bell.
        // Another team's rep does not see it at all.
        let refused = reminders::set(&core, &mate, &ACCOUNTS, id, soon, "").await;
        assert!(
            matches!(refused, Err(CoreError::Forbidden { code, .. }) if code == codes::RECORD_OUT_OF_REACH),
            "{refused:?}"
        );
        let unseen = reminders::set(&core, &other, &ACCOUNTS, id, soon, "").await;
        assert!(matches!(unseen, Err(CoreError::NotFound)), "{unseen:?}");

        // A time past, a time too far, a note too long: each named.
        let past = reminders::set(
            &core,
            &rep_actor,
            &ACCOUNTS,
            id,
            guanxi_core::now() - Duration::minutes(1),
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(
            field_code(&past, "at").as_deref(),
            Some(codes::REMINDER_IN_PAST)
        );
        let far = reminders::set(
            &core,
            &rep_actor,
            &ACCOUNTS,
            id,
            guanxi_core::now() + Duration::days(3650),
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(field_code(&far, "at").as_deref(), Some(codes::OUT_OF_RANGE));
        let long = reminders::set(&core, &rep_actor, &ACCOUNTS, id, soon, &"长".repeat(201))
            .await
            .unwrap_err();
        assert_eq!(field_code(&long, "note").as_deref(), Some(codes::TOO_LONG));

        // Pending, soonest first, for every reader of the record; not yet in the bell.
        let pending = reminders::pending(&core, &mate, &ACCOUNTS, id)
            .await
            .unwrap();
        assert_eq!(
            pending.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![own.id, by_boss.id]
        );
        assert_eq!(pending[0].at, own.at);
        assert_eq!(
            notifications::unread_count(&core, &rep_actor)
                .await
                .unwrap(),
            0
        );
        let emails = |core: &guanxi_core::Core| {
            let core = core.clone();
            async move {
                db::raw_query(
                    core.db.reader(),
                    "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'notice-email'",
                    vec![],
                )
                .await
                .map(|r| db::get_i64(&r[0], "n").unwrap())
                .unwrap()
            }
        };
        assert_eq!(emails(&core).await, 2);

        // The teammate may not cancel it; the boss may, and its e-mail goes with it.
        let refused = reminders::cancel(&core, &mate, &ACCOUNTS, id, by_boss.id).await;
        assert!(
            matches!(refused, Err(CoreError::Forbidden { .. })),
            "{refused:?}"
        );
        reminders::cancel(&core, &boss, &ACCOUNTS, id, by_boss.id)
            .await
            .unwrap();
        assert_eq!(emails(&core).await, 1);
        let again = reminders::cancel(&core, &boss, &ACCOUNTS, id, by_boss.id).await;
        assert!(matches!(again, Err(CoreError::NotFound)));
        assert_eq!(
            reminders::pending(&core, &rep_actor, &ACCOUNTS, id)
                .await
                .unwrap()
                .len(),
            1
        );

        // Its time comes: in the bell, worded from the note, about the account; no longer pending.
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(
            &txn,
            "UPDATE notifications SET visible_at = created_at",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let bell = notifications::list(&core, &rep_actor, true, 10, None)
            .await
            .unwrap();
        assert_eq!(bell.len(), 1);
        assert_eq!(bell[0].kind, "reminder");
        assert_eq!(bell[0].params["title"], "跟进报价");
        assert_eq!(
            (bell[0].entity.as_str(), bell[0].record_id),
            ("account", Some(id))
        );
        assert!(
            reminders::pending(&core, &rep_actor, &ACCOUNTS, id)
                .await
                .unwrap()
                .is_empty()
        );

        // The record's history tells who set and cancelled what.
        let history = core.records(&ACCOUNTS).history(&boss, id).await.unwrap();
        let reminds: Vec<_> = history.iter().filter(|e| e.action == "remind").collect();
        assert_eq!(reminds.len(), 3);
        fresh.cleanup(core).await;
    }
}
