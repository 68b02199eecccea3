//! What a new installation needs before people can work: the setup lists each area ships with,
//! filled as the first administrator once there is one. Above both the areas and identity, so
//! neither needs the other.

use crate::records::Work;

/// Fills the setup lists a new installation needs to be usable (a sales pipeline, lost
/// reasons, sources, industries) where nobody has kept one yet, as the first active
/// administrator. Returns whether there was an administrator to do it; run again once there is
/// one.
pub async fn install_defaults(core: &crate::Core) -> crate::CoreResult<bool> {
    let users = crate::identity::users::list(&core.db).await?;
    let Some(admin) = users
        .iter()
        .find(|u| u.role == crate::Role::Admin && !u.disabled)
    else {
        return Ok(false);
    };
    let actor = crate::identity::users::actor_for(core, admin).await?;
    // One transaction for every list, serialized between instances: each list is filled once,
    // whole or not at all, however many servers start together.
    let mut work = Work::begin(core, &actor, None).await?;
    crate::areas::lists::lock_defaults(&work).await?;
    crate::areas::customers::install_defaults(&mut work).await?;
    crate::areas::sales::install_defaults(&mut work).await?;
    work.commit().await?;
    Ok(true)
}
