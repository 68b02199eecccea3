//! The setup lists generated records refer to: sources and industries. The generators name them
//! by their Chinese names (as the vocabulary has them); before writing, a record's names become
//! the ids of the list rows, which are made where the database lacks them.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Query};
use serde_json::{Value, json};

use crate::demo::vocab::{INDUSTRIES as INDUSTRY_NAMES, SOURCES as SOURCE_NAMES};
use guanxi_core::areas::customers::{INDUSTRIES, SOURCES};
use guanxi_core::db::{self, col, get_json, get_uuid};
use guanxi_core::error::{CoreError, CoreResult};
use guanxi_core::{Actor, Core, EntityDef};

/// Ids (as text) of list rows by their Chinese name.
#[derive(Clone, Default)]
pub(crate) struct ListIds {
    sources: HashMap<String, String>,
    industries: HashMap<String, String>,
}

/// Every list the generators use, with the names they need in it (English, Chinese).
pub(crate) fn wanted() -> [(&'static EntityDef, Vec<(&'static str, &'static str)>); 2] {
    [
        (
            &SOURCES,
            SOURCE_NAMES.iter().map(|(en, zh, _)| (*en, *zh)).collect(),
        ),
        (&INDUSTRIES, INDUSTRY_NAMES.to_vec()),
    ]
}

/// The live rows of a list by Chinese name (the first of equal names).
pub(crate) async fn existing(core: &Core, def: &EntityDef) -> CoreResult<HashMap<String, String>> {
    let mut q = Query::select();
    q.columns([col("id"), col("name")])
        .from(col(def.table))
        .and_where(Expr::col(col("deleted_at")).is_null())
        .order_by(col("position"), sea_orm::Order::Asc)
        .order_by(col("id"), sea_orm::Order::Asc);
    let mut out = HashMap::new();
    for r in db::fetch_all(core.db.reader(), &q).await? {
        let name = get_json(&r, "name")?;
        if let Some(zh) = name.get("zh-CN").and_then(Value::as_str) {
            out.entry(zh.to_string())
                .or_insert(get_uuid(&r, "id")?.to_string());
        }
    }
    Ok(out)
}

/// Installs the default lists, adds the names the generators need that they lack, as the
/// administrator, and returns the ids.
pub(crate) async fn ensure_through_service(core: &Core, admin: &Actor) -> CoreResult<ListIds> {
    guanxi_core::setup::install_defaults(core).await?;
    for (def, names) in wanted() {
        let have = existing(core, def).await?;
        let mut position = have.len();
        for (en, zh) in names {
            if !have.contains_key(zh) {
                position += 1;
                core.records(def)
                    .create(
                        admin,
                        &json!({"name": {"en": en, "zh-CN": zh}, "position": position}),
                    )
                    .await?;
            }
        }
    }
    ListIds::read(core).await
}

impl ListIds {
    /// The ids of the lists' rows as they are now; fails if one the generators need is missing.
    pub(crate) async fn read(core: &Core) -> CoreResult<ListIds> {
        let ids = ListIds {
            sources: existing(core, &SOURCES).await?,
            industries: existing(core, &INDUSTRIES).await?,
        };
        for (def, names) in wanted() {
            let have = ids.of(def);
            if let Some((_, zh)) = names.iter().find(|(_, zh)| !have.contains_key(*zh)) {
                return Err(CoreError::Internal(format!("no {} named {zh}", def.name)));
            }
        }
        Ok(ids)
    }

    fn of(&self, def: &EntityDef) -> &HashMap<String, String> {
        if def.table == SOURCES.table {
            &self.sources
        } else {
            &self.industries
        }
    }

    /// Replaces the generated `source` and `industry` names of a record with `source_id` and
    /// `industry_id`.
    pub(crate) fn resolve(&self, v: &mut Value) -> CoreResult<()> {
        let Some(obj) = v.as_object_mut() else {
            return Ok(());
        };
        for (name, field, ids) in [
            ("source", "source_id", &self.sources),
            ("industry", "industry_id", &self.industries),
        ] {
            let Some(named) = obj.remove(name) else {
                continue;
            };
            let Some(zh) = named.as_str() else {
                continue;
            };
            let id = ids
                .get(zh)
                .ok_or_else(|| CoreError::Internal(format!("no {name} named {zh}")))?;
            obj.insert(field.into(), json!(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every industry the vocabulary gives a company is one the lists will hold.
    #[test]
    fn the_vocabulary_names_listed_industries() {
        let mut g = crate::demo::vocab::Gen::new(7);
        for _ in 0..2_000 {
            let place = crate::demo::vocab::Place::Cn(g.cn_city());
            let (v, _) = g.company_account(place, None, None);
            let industry = v["industry"].as_str().unwrap();
            assert!(
                INDUSTRY_NAMES.iter().any(|(_, zh)| *zh == industry),
                "{industry}"
            );
            let source = v["source"].as_str().unwrap();
            assert!(
                SOURCE_NAMES.iter().any(|(_, zh, _)| *zh == source),
                "{source}"
            );
        }
        for country in ["US", "DE", "GB", "JP", "SG"] {
            for _ in 0..200 {
                let place = crate::demo::vocab::Place::Foreign(g.foreign_city_in(country));
                let (v, _) = g.company_account(place, None, None);
                let industry = v["industry"].as_str().unwrap();
                assert!(
                    INDUSTRY_NAMES.iter().any(|(_, zh)| *zh == industry),
                    "{industry}"
                );
            }
        }
    }
}
