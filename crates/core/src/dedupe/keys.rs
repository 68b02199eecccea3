//! The keys each record holds for the duplicate check, and where they are kept.
//!
//! The phone, e-mail and domain rules compare the normalized values the contact points already
//! hold (`search::points`: one row per phone, e-mail and company domain, indexed by kind and
//! value). A second copy of them would be one more row per phone and address to write and keep
//! in step, for the same look-up, so those rules read `contact_points`. Contact points stay with
//! a record in the recycle bin; the check joins the entity's table and takes live records only.
//!
//! The other rules' keys — the tax id, the company name key, its pinyin and the person name key
//! — are computed here and kept in `dedupe_keys` (entity, rule, key, record_id), for live records
//! only. Every write of a record writes its keys in the same transaction, wherever records are
//! written: a create in its row image (`records::row`, which bulk loaders write too), an update,
//! an action and a restore through [`replace`], a move to the recycle bin and a purge through
//! [`remove`]. An owner change changes no key.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Order, Query};
use serde_json::Value;
use uuid::Uuid;

use super::{RegionSet, Rule, company_name_key, person_name_key, pinyin_key};
use crate::db::{self, col, get_uuid};
use crate::error::CoreResult;
use crate::normalize;
use crate::records::def::{DedupeDef, EntityDef, FieldDef, FieldKind};
use crate::records::row::TableRow;
use crate::records::{JsonMap, values};

/// Every province and prefecture name, full and short, that a company name may start with or
/// hold in brackets.
pub static REGIONS: LazyLock<RegionSet> =
    LazyLock::new(|| RegionSet::new(crate::address::region_names()));

/// The table of the keys that the contact points do not hold.
pub const TABLE: &str = "dedupe_keys";

/// Where the keys of stored records are found for a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// In `contact_points`, as values of this kind.
    Points(&'static str),
    /// In [`TABLE`].
    Keys,
}

impl Store {
    pub fn of(rule: Rule) -> Store {
        match rule {
            Rule::Phone => Store::Points("phone"),
            Rule::Email => Store::Points("email"),
            Rule::Domain => Store::Points("domain"),
            Rule::TaxId | Rule::Name | Rule::NamePinyin | Rule::PersonName | Rule::ExternalId => {
                Store::Keys
            }
        }
    }
}

/// The texts of a field as keys read them: each phone number, each e-mail address, each item of
/// a list, or the text itself.
fn texts(kind: Option<&FieldKind>, v: Option<&Value>) -> Vec<String> {
    let inner = match kind {
        Some(FieldKind::Phones) => Some("number"),
        Some(FieldKind::Emails) => Some("address"),
        _ => None,
    };
    let one = |v: &Value| -> Option<String> {
        match (v, inner) {
            (Value::String(s), _) => Some(s.clone()),
            (Value::Object(o), Some(k)) => o.get(k).and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    };
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => vec![],
    }
}

/// The keys of one rule of a record: `rec` holds canonical values (as validated or as stored).
/// Never an empty key: a record without the fields has none.
pub fn of(def: &EntityDef, d: &DedupeDef, rec: &JsonMap) -> BTreeSet<String> {
    let field_texts = |name: &str| texts(def.field(name).map(|f| &f.kind), rec.get(name));
    let all = || d.fields.iter().flat_map(|f| field_texts(f));
    let mut out: BTreeSet<String> = match d.rule {
        Rule::PersonName => {
            let mut parts = d.fields.iter().map(|f| field_texts(f).join(" "));
            let family = parts.next().unwrap_or_default();
            let given: Vec<String> = parts.collect();
            [person_name_key(&family, &given.join(" "))].into()
        }
        Rule::TaxId => all().filter_map(|v| normalize::tax_id(&v).ok()).collect(),
        Rule::Domain => all()
            .filter_map(|v| normalize::domain_of_website(&v).ok())
            .collect(),
        // Phones are stored in E.164, as validation leaves them.
        Rule::Phone => all().map(|v| v.trim().to_string()).collect(),
        Rule::Email => all().filter_map(|v| normalize::email(&v).ok()).collect(),
        Rule::ExternalId => all().map(|v| v.trim().to_string()).collect(),
        Rule::Name => all().map(|v| company_name_key(&v, &REGIONS)).collect(),
        Rule::NamePinyin => all()
            .filter_map(|v| pinyin_key(&company_name_key(&v, &REGIONS)))
            .collect(),
    };
    out.retain(|k| !k.is_empty());
    out
}

/// Whether any of the entity's rules keeps its keys in [`TABLE`].
fn keeps_keys(def: &EntityDef) -> bool {
    def.dedupe.iter().any(|d| Store::of(d.rule) == Store::Keys)
}

/// The [`TABLE`] rows of a record.
pub fn rows(def: &EntityDef, id: Uuid, rec: &JsonMap) -> Vec<TableRow> {
    let mut keys = BTreeSet::new();
    for d in def
        .dedupe
        .iter()
        .filter(|d| Store::of(d.rule) == Store::Keys)
    {
        for k in of(def, d, rec) {
            keys.insert((d.rule.as_str(), k));
        }
    }
    keys.into_iter()
        .map(|(rule, key)| {
            TableRow::new(
                TABLE,
                vec![
                    ("entity".into(), def.name.into()),
                    ("rule".into(), rule.into()),
                    ("key".into(), key.into()),
                    ("record_id".into(), id.into()),
                ],
            )
        })
        .collect()
}

/// Writes the keys of a live record, replacing those it had.
pub async fn replace<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    id: Uuid,
    rec: &JsonMap,
) -> CoreResult<()> {
    if !keeps_keys(def) {
        return Ok(());
    }
    remove(conn, def, id).await?;
    TableRow::write_all(conn, &rows(def, id, rec)).await?;
    Ok(())
}

/// Removes a record's keys: it moved to the recycle bin or is gone.
pub async fn remove<C: ConnectionTrait>(conn: &C, def: &EntityDef, id: Uuid) -> CoreResult<()> {
    if !keeps_keys(def) {
        return Ok(());
    }
    let mut q = Query::delete();
    q.from_table(col(TABLE))
        .and_where(Expr::col(col("record_id")).eq(id));
    db::delete(conn, &q).await?;
    Ok(())
}

/// The columns [`fill`] reads of a field: those of its value. Text may keep more beside it (a
/// collation key), which is written with the value but never read, and which a later migration
/// than the one filling keys may add.
fn value_columns(f: &FieldDef) -> Vec<String> {
    match f.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Choice(_)
        | FieldKind::Url
        | FieldKind::TaxId => vec![f.column.to_string()],
        _ => values::columns(f),
    }
}

/// Records read and keyed per round of [`fill`], so memory stays flat on large tables.
const FILL_BATCH: u64 = 2000;

/// Writes the keys of every live record of `def` that has none yet: for the migration that
/// brings in the check, and for one that declares a rule on a table that already has rows.
/// Reads only the columns of the fields the kept rules read, which must exist by then.
pub async fn fill<C: ConnectionTrait>(conn: &C, def: &'static EntityDef) -> CoreResult<u64> {
    let mut fields = Vec::new();
    // The rules there were when the migration that calls this ran (m0016): the external id's
    // column came later (m0038), empty in every row, with no keys to fill.
    for d in def
        .dedupe
        .iter()
        .filter(|d| Store::of(d.rule) == Store::Keys && d.rule != Rule::ExternalId)
    {
        for name in d.fields {
            if let Some(f) = def.field(name)
                && !fields.iter().any(|g: &&FieldDef| g.name == f.name)
            {
                fields.push(f);
            }
        }
    }
    if fields.is_empty() {
        return Ok(0);
    }
    let mut written = 0;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = Query::select();
        q.column(col("id")).from(col(def.table));
        for f in &fields {
            q.columns(value_columns(f).iter().map(|c| col(c)));
        }
        q.and_where(Expr::col(col("deleted_at")).is_null())
            .order_by(col("id"), Order::Asc)
            .limit(FILL_BATCH);
        if let Some(a) = after {
            q.and_where(Expr::col(col("id")).gt(a));
        }
        let batch = db::fetch_all(conn, &q).await?;
        let mut out = Vec::new();
        for row in &batch {
            let id = get_uuid(row, "id")?;
            after = Some(id);
            let mut rec = JsonMap::new();
            let mut at = 1;
            for f in &fields {
                rec.insert(f.name.into(), values::from_row(f, row, at)?);
                at += value_columns(f).len();
            }
            out.extend(rows(def, id, &rec));
        }
        // A few hundred rows per statement keeps within every backend's parameter limit.
        for chunk in out.chunks(500) {
            if let Some(q) = TableRow::insert_all(chunk)? {
                written += db::insert(conn, &q).await?;
            }
        }
        if (batch.len() as u64) < FILL_BATCH {
            return Ok(written);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The registry's entity with a rule of `rule`: the companies for the name rule, the
    /// people for the person name rule (generic code names no entity).
    fn with_rule(rule: Rule) -> &'static EntityDef {
        crate::areas::registry()
            .all()
            .iter()
            .copied()
            .find(|d| d.dedupe.iter().any(|x| x.rule == rule))
            .unwrap_or_else(|| panic!("an entity with the {rule} rule"))
    }

    fn rec(v: Value) -> JsonMap {
        v.as_object().cloned().unwrap_or_default()
    }

    fn keys(def: &EntityDef, rule: Rule, v: Value) -> Vec<String> {
        let d = def.dedupe.iter().find(|d| d.rule == rule);
        d.map(|d| of(def, d, &rec(v)).into_iter().collect())
            .unwrap_or_default()
    }

    #[test]
    fn company_keys() {
        let companies = with_rule(Rule::Name);
        let a = json!({
            "name": "北京中太数据科技有限公司",
            "tax_id": "91110108MA01ABCD2X",
            "website": "https://www.ZhongTai.com.cn/about",
            "domain": "zhongtai.com.cn",
            "phones": [{"number": "+861062345678", "label": null}],
            "emails": [{"address": "info@zhongtai.com.cn", "label": null}],
        });
        assert_eq!(keys(companies, Rule::Name, a.clone()), ["中太数据科技"]);
        assert_eq!(
            keys(companies, Rule::NamePinyin, a.clone()),
            ["zhongtaishujukeji"]
        );
        assert_eq!(
            keys(companies, Rule::Domain, a.clone()),
            ["zhongtai.com.cn"]
        );
        assert_eq!(keys(companies, Rule::Phone, a.clone()), ["+861062345678"]);
        assert_eq!(
            keys(companies, Rule::Email, a.clone()),
            ["info@zhongtai.com.cn"]
        );
        let stored: Vec<(String, String)> = rows(companies, Uuid::nil(), &rec(a))
            .iter()
            .map(|r| {
                let s = |c: &str| match r.get(c) {
                    Some(sea_orm::Value::String(Some(s))) => s.to_string(),
                    _ => String::new(),
                };
                (s("rule"), s("key"))
            })
            .collect();
        // Only the keys the contact points do not hold.
        assert_eq!(stored.len(), 2, "{stored:?}");
        assert!(
            stored
                .iter()
                .all(|(r, _)| r == "name" || r == "name_pinyin")
        );
        // The tax id above has a wrong check character: no key, as validation refuses it.
        let ok = json!({"tax_id": "91350100M000100Y43"});
        assert_eq!(keys(companies, Rule::TaxId, ok), ["91350100M000100Y43"]);
    }

    #[test]
    fn empty_fields_have_no_keys() {
        for def in [with_rule(Rule::Name), with_rule(Rule::PersonName)] {
            assert!(rows(def, Uuid::nil(), &JsonMap::new()).is_empty());
            let blank = json!({"name": " ", "family_name": "", "given_name": null, "phones": [], "tax_id": null});
            assert!(rows(def, Uuid::nil(), &rec(blank)).is_empty());
        }
    }

    #[test]
    fn person_name_reads_family_then_given() {
        let k = |f: &str, g: &str| {
            keys(
                with_rule(Rule::PersonName),
                Rule::PersonName,
                json!({"family_name": f, "given_name": g}),
            )
        };
        assert_eq!(k("张", "三"), ["张三"]);
        assert_eq!(k("", "张三"), ["张三"]);
        assert_eq!(k("Smith", "John"), k("", "John Smith"));
    }

    /// The phone, e-mail and domain rules read what the contact points hold: every key of the
    /// declared fields is a contact point of the record, so a stored record meets itself.
    #[test]
    fn point_rules_read_what_the_points_hold() {
        let sample = json!({
            "website": "https://www.example.com.cn/x",
            "domain": "example.com.cn",
            "phones": [{"number": "+8613812345678"}],
            "emails": [{"address": "a@example.com.cn"}],
        });
        for def in crate::areas::registry().all() {
            for d in def.dedupe {
                let Store::Points(kind) = Store::of(d.rule) else {
                    continue;
                };
                let r = rec(sample.clone());
                let points = crate::search::points::of_record(&r);
                let ks = of(def, d, &r);
                assert!(!ks.is_empty(), "{} {}", def.name, d.rule);
                for k in ks {
                    assert!(
                        points.contains(&(kind, k.clone())),
                        "{} {}: {k}",
                        def.name,
                        d.rule
                    );
                }
            }
        }
    }

    #[test]
    fn declared_fields_exist() {
        for def in crate::areas::registry().all() {
            for d in def.dedupe {
                assert!(!d.fields.is_empty(), "{} {}", def.name, d.rule);
                for f in d.fields {
                    assert!(def.field(f).is_some(), "{}: no field {f}", def.name);
                }
            }
        }
    }
}
