//! Customer facts (客户情况): what an account's transactions cannot tell — how satisfied it is,
//! whether it would recommend us, what share of its spending we win, when its contract ends and
//! how deeply our systems are woven into its own. Loyalty and switching cost read them; until
//! the service areas record surveys and contracts, people import them per account. The latest
//! row of an account (by `recorded_on`) is the one the insights read.

use async_trait::async_trait;
use serde_json::json;

use crate::CoreResult;
use crate::areas::ledger;
use crate::areas::str_field;
use crate::error::{FieldError, FieldErrors, codes};
use crate::records::def::{Access, EntityDef, FieldDef, FieldKind, OptionSet};
use crate::records::{Behaviour, Event, JsonMap, Work, values};

/// Integration depth, from none to embedded in the customer's own processes (the switching-cost
/// model's levels 0–3).
pub static INTEGRATION_LEVELS: OptionSet = OptionSet {
    name: "integration_levels",
    codes: &["none", "data_exchange", "system_integration", "embedded"],
};

const FIELDS: &[FieldDef] = &[
    ledger::account_field(),
    FieldDef::new("recorded_on", FieldKind::Date)
        .required()
        .sortable()
        .synonyms(&[
            "日期",
            "调查日期",
            "记录日期",
            "Date",
            "Recorded on",
            "As of",
        ]),
    FieldDef::new("satisfaction", FieldKind::Decimal { scale: 2 }).synonyms(&[
        "满意度",
        "客户满意度",
        "满意度评分",
        "Satisfaction",
        "CSAT",
    ]),
    FieldDef::new("recommendation", FieldKind::Int { min: 0, max: 10 }).synonyms(&[
        "推荐意愿",
        "推荐度",
        "净推荐值评分",
        "Recommendation",
        "Likelihood to recommend",
        "NPS score",
    ]),
    FieldDef::new("share_of_wallet", FieldKind::Percent).synonyms(&[
        "钱包份额",
        "份额",
        "采购份额",
        "Share of wallet",
        "Wallet share",
    ]),
    FieldDef::new("contract_end", FieldKind::Date)
        .sortable()
        .synonyms(&[
            "合同到期日",
            "合同截止日期",
            "合同结束日期",
            "Contract end",
            "Contract end date",
        ]),
    FieldDef::new("integration_level", FieldKind::choice(&INTEGRATION_LEVELS)).synonyms(&[
        "集成程度",
        "系统集成",
        "对接程度",
        "Integration",
        "Integration level",
    ]),
    FieldDef::new("loyalty_balance", FieldKind::Decimal { scale: 2 }).synonyms(&[
        "积分余额",
        "会员积分",
        "Loyalty points",
        "Points balance",
    ]),
    // How the customer rates each value dimension (1–5), beside its overall satisfaction: value
    // focus derives which dimensions drive satisfaction and names the one to work on.
    FieldDef::new("rating_product", FieldKind::Int { min: 1, max: 5 }).synonyms(&[
        "产品评分",
        "产品满意度",
        "产品质量评分",
        "Product rating",
    ]),
    FieldDef::new("rating_service", FieldKind::Int { min: 1, max: 5 }).synonyms(&[
        "服务评分",
        "服务满意度",
        "Service rating",
    ]),
    FieldDef::new("rating_price", FieldKind::Int { min: 1, max: 5 }).synonyms(&[
        "价格评分",
        "价格满意度",
        "Price rating",
    ]),
    FieldDef::new("rating_relationship", FieldKind::Int { min: 1, max: 5 }).synonyms(&[
        "关系评分",
        "客情关系评分",
        "Relationship rating",
    ]),
];

/// The satisfaction scale the loyalty and value-focus models read (1 very dissatisfied … 5 very
/// satisfied), as the survey ratings.
pub const SATISFACTION_SCALE: (i64, i64) = (1, 5);

fn title(rec: &JsonMap, _locale: &str) -> String {
    str_field(rec, "recorded_on").to_string()
}

struct Rules;

#[async_trait]
impl Behaviour for Rules {
    /// The account's insights are scored again within seconds.
    async fn after(&self, work: &mut Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
        ledger::changed(work, event, rec).await
    }

    async fn validate(
        &self,
        work: &mut Work<'_>,
        _event: &Event<'_>,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        ledger::no_future_dates(work, rec, &["recorded_on"], errors);
        // A 0–10 or percentage score read as 1–5 would make every loyalty index wrong.
        let (min, max) = SATISFACTION_SCALE;
        let satisfaction = rec
            .get("satisfaction")
            .filter(|v| !v.is_null())
            .and_then(|v| values::parse_decimal(v, 2).ok());
        if satisfaction.is_some_and(|s| s < min * 100 || s > max * 100) {
            errors.insert(
                "satisfaction".into(),
                FieldError::new(codes::OUT_OF_RANGE)
                    .with("min", min)
                    .with("max", max),
            );
        }
        Ok(())
    }
}

/// A fact recorded on a day, so that none lies in the future, satisfied on the scale.
fn example(_seed: u32) -> JsonMap {
    let mut out = JsonMap::new();
    out.insert("recorded_on".into(), json!("2020-01-01"));
    out.insert("satisfaction".into(), json!("4"));
    out
}

pub static CUSTOMER_FACTS: EntityDef = EntityDef {
    name: "customer_fact",
    plural: "customer_facts",
    area: "customers",
    table: "customer_facts",
    fields: FIELDS,
    default_sort: "-recorded_on",
    default_columns: &[
        "recorded_on",
        "account_id",
        "satisfaction",
        "recommendation",
        "share_of_wallet",
        "contract_end",
        "integration_level",
    ],
    related_columns: &[
        "recorded_on",
        "satisfaction",
        "recommendation",
        "share_of_wallet",
        "contract_end",
    ],
    title_sort: "recorded_on",
    title,
    title_fields: &["recorded_on"],
    search_names: ledger::no_search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: Some(example),
    behaviour: &Rules,
    error_codes: &[ledger::DATE_IN_FUTURE, codes::OUT_OF_RANGE],
    charts: &[],
    key_facts: &["account_id"],
    dedupe: &[],
    rollups: &[],
    read_through: Some("account_id"),
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    field_groups: &[],
};
