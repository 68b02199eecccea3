//! A record's key facts (`EntityDef::key_facts`): what tells it from another of the same name —
//! its company, phone, owner — as the record page's header and the search suggestions show them.

use std::collections::HashMap;

use guanxi_core::Actor;
use guanxi_core::records::{Count, EntityDef, Filter, FilterOp, ListQuery};
use guanxi_core::search::Hit;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::cells::{Lookups, Reading, cell, lookups};
use crate::State;
use crate::i18n::I18n;

/// One key fact: its label and its value as people read it.
pub struct Fact {
    pub label: String,
    pub cell: super::cells::Cell,
}

/// The record's key facts that have a value, in the declared order.
pub(super) fn key_facts(
    def: &'static EntityDef,
    rec: &Map<String, Value>,
    lk: &Lookups,
    i18n: &I18n,
) -> Vec<Fact> {
    def.key_facts
        .iter()
        .filter_map(|k| {
            let c = cell(def, rec, k, lk, i18n);
            (!c.text.trim().is_empty()).then(|| Fact {
                label: super::display::field_label(def.name, k, i18n),
                cell: c,
            })
        })
        .collect()
}

/// A line of key facts under each search hit ("北京中太数据 · 138 0013 8000 · 李建国"), keyed by
/// the hit's id. The records are read as the reader may read them; one that cannot be read now
/// (deleted since it was indexed) gets no line.
pub async fn hints(st: &State, actor: &Actor, hits: &[Hit]) -> HashMap<Uuid, String> {
    let i18n = I18n::for_actor(actor);
    let mut out = HashMap::new();
    let mut by_entity: Vec<(&'static EntityDef, Vec<Uuid>)> = Vec::new();
    for h in hits {
        let Some(def) = st.core.registry.find(&h.entity) else {
            continue;
        };
        if def.key_facts.is_empty() {
            continue;
        }
        match by_entity.iter_mut().find(|(d, _)| d.name == def.name) {
            Some((_, ids)) => ids.push(h.id),
            None => by_entity.push((def, vec![h.id])),
        }
    }
    for (def, ids) in by_entity {
        // One read for all of an entity's hits, under the reader's scope (a read per hit cost
        // more than the search itself: bench/README §16).
        let q = ListQuery {
            filter: Some(Filter::Cond {
                field: "id".into(),
                op: FilterOp::In,
                value: Value::Array(ids.iter().map(|i| Value::String(i.to_string())).collect()),
            }),
            limit: ids.len() as u64,
            count: Count::No,
            fields: Some(def.showing(def.key_facts)),
            ..Default::default()
        };
        let Ok(page) = st.core.records(def).list(actor, &q).await else {
            continue;
        };
        let recs: Vec<(Uuid, Map<String, Value>)> = page
            .items
            .into_iter()
            .filter_map(|r| {
                let id = r
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())?;
                Some((id, r))
            })
            .collect();
        let Ok(lk) = lookups(
            st,
            actor,
            def,
            recs.iter().map(|(_, r)| r),
            Reading::Only(def.key_facts),
            |_| vec![],
        )
        .await
        else {
            continue;
        };
        for (id, rec) in &recs {
            let line = key_facts(def, rec, &lk, &i18n)
                .into_iter()
                .map(|f| f.cell.text)
                .collect::<Vec<_>>()
                .join(" · ");
            if !line.is_empty() {
                out.insert(*id, line);
            }
        }
    }
    out
}
