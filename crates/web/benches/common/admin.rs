//! An administrator made for a bench run: a new one each time (owning nothing), named
//! `<name>.<uuid>@example.com`, with an API token.

use guanxi_core::Core;
use guanxi_core::identity::{NewUser, auth, users};
use uuid::Uuid;

/// A new administrator, in `team` when given: their id and an API token of theirs.
pub async fn admin(core: &Core, name: &str, team: Option<Uuid>) -> (Uuid, String) {
    let user = users::create(
        &core.db,
        None,
        NewUser {
            email: format!("{name}.{}@example.com", Uuid::now_v7().simple()),
            name: name.into(),
            role: "admin".into(),
            team_id: team,
            password: "bench-password".into(),
            locale: None,
        },
    )
    .await
    .unwrap();
    let (token, _) = auth::create_token(&core.db, None, user.id, name)
        .await
        .unwrap();
    (user.id, token)
}
