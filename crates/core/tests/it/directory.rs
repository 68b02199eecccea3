//! The list of users is kept in memory between reads; every change to a user shows in the next
//! read, through this instance or another on the same database. On both backends.

use guanxi_core::identity::teams;
use guanxi_core::identity::users::{self, NewUser, UserPatch};

use crate::support::{Fresh, admin, backends};

#[tokio::test]
async fn every_change_to_a_user_shows_in_the_next_list() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        // A second instance: its own connections and its own kept list.
        let other = fresh.core().await;
        let boss = admin(&core, "directory@example.com").await;
        let team = teams::create(&core.db, Some(&boss), "华南一区")
            .await
            .unwrap();
        let rep = users::create(
            &core.db,
            Some(&boss),
            NewUser {
                email: "li.na@example.com".into(),
                name: "李娜".into(),
                role: "sales".into(),
                team_id: Some(team.id),
                password: "correct horse battery".into(),
                locale: None,
            },
        )
        .await
        .unwrap();
        let named = |list: std::sync::Arc<Vec<users::User>>| {
            list.iter()
                .find(|u| u.id == rep.id)
                .map(|u| (u.name.clone(), u.team_id, u.disabled))
        };
        // Read (and kept) by both.
        assert_eq!(
            named(users::list(&other.db).await.unwrap()),
            Some(("李娜".to_string(), Some(team.id), false))
        );
        assert_eq!(users::list(&core.db).await.unwrap().len(), 2);

        users::update(
            &core.db,
            Some(&boss),
            rep.id,
            UserPatch {
                name: Some("李娜娜".into()),
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for db in [&core.db, &other.db] {
            assert_eq!(
                named(users::list(db).await.unwrap()),
                Some(("李娜娜".to_string(), Some(team.id), true))
            );
        }
        // A team deleted leaves its members without one, everywhere.
        teams::delete(&core.db, Some(&boss), team.id).await.unwrap();
        for db in [&core.db, &other.db] {
            assert_eq!(
                named(users::list(db).await.unwrap()),
                Some(("李娜娜".to_string(), None, true))
            );
        }
        // A writer that goes round the service (a restore, a hand-made fix) is seen too: the
        // stamp is raised by the database's triggers.
        let txn = core.db.begin().await.unwrap();
        guanxi_core::db::raw_execute(
            &txn,
            "UPDATE users SET name = '李娜三' WHERE email = 'li.na@example.com'",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        for db in [&core.db, &other.db] {
            assert_eq!(
                named(users::list(db).await.unwrap()),
                Some(("李娜三".to_string(), None, true))
            );
        }
        fresh.cleanup(core).await;
    }
}
