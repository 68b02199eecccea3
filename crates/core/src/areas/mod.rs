//! The business areas and the entities each declares (DESIGN.md section 3). This is the one
//! place that lists them; the engine, the API and the UI learn them from the [`Registry`] built
//! here and passed through `Core`.

pub mod customers;
pub mod sales;

use std::sync::OnceLock;

use crate::records::registry::Registry;

/// Every entity of every area, in the order navigation shows them.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all = customers::ENTITIES.to_vec();
        all.extend(sales::ENTITIES);
        Registry::new(all)
    })
}

/// Fills the setup lists a new installation needs to be usable (a sales pipeline, lost
/// reasons) where nobody has kept one yet, as the first active administrator. Returns whether
/// there was an administrator to do it; run again once there is one.
pub async fn install_defaults(core: &crate::Core) -> crate::CoreResult<bool> {
    let users = crate::identity::users::list(&core.db).await?;
    let Some(admin) = users
        .iter()
        .find(|u| u.role == crate::Role::Admin && !u.disabled)
    else {
        return Ok(false);
    };
    let actor = crate::identity::users::actor_for(&core.db, admin).await?;
    sales::install_defaults(core, &actor).await?;
    Ok(true)
}

pub(crate) fn str_field<'a>(rec: &'a crate::records::JsonMap, k: &str) -> &'a str {
    rec.get(k).and_then(|v| v.as_str()).unwrap_or("")
}
