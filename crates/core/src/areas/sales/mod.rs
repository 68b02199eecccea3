//! Sales (销售管理): pipelines with their stages, the reasons deals are lost, and the
//! opportunities (商机) that move through them.

pub mod lost_reasons;
pub mod opportunities;
pub mod pipelines;

use serde_json::{Value, json};

use crate::records::def::{FieldDef, FieldKind};
use crate::records::values::{LABEL_LOCALES, label_in};
use crate::records::{EntityDef, JsonMap};
use crate::{Actor, Core, CoreResult};

pub use lost_reasons::LOST_REASONS;
pub use opportunities::OPPORTUNITIES;
pub use pipelines::PIPELINES;

/// The fields of a list administrators keep: a name per language, an order, a description.
const LIST_FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldKind::Labels { max: 100 }).required(),
    FieldDef::new(
        "position",
        FieldKind::Int {
            min: 0,
            max: 10_000,
        },
    )
    .sortable(),
    FieldDef::new("description", FieldKind::LongText { max: 2_000 }),
];

/// A listed item's name in the reader's language.
fn list_title(rec: &JsonMap, locale: &str) -> String {
    label_in(rec.get("name").unwrap_or(&Value::Null), locale)
}

/// A listed item's names in every language, for search.
fn list_names(rec: &JsonMap) -> Vec<String> {
    let name = rec.get("name").unwrap_or(&Value::Null);
    LABEL_LOCALES.iter().map(|l| label_in(name, l)).collect()
}

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 3] = [&OPPORTUNITIES, &PIPELINES, &LOST_REASONS];

const LOST_REASON_NAMES: [(&str, &str); 5] = [
    ("Price too high", "价格太高"),
    ("Chose a competitor", "选择了竞争对手"),
    ("Budget cancelled", "预算取消"),
    ("Needs changed", "需求变化"),
    ("No response", "客户无响应"),
];

/// The pipeline and lost reasons a company starts with; each list only where it was never kept.
pub async fn install_defaults(core: &Core, admin: &Actor) -> CoreResult<()> {
    let pipelines = core.records(&PIPELINES);
    if pipelines.never_used().await? {
        pipelines
            .create(
                admin,
                &json!({"name": {"en": "New business", "zh-CN": "新客户销售"}, "position": 1,
                        "stages": pipelines::standard_stages()}),
            )
            .await?;
    }
    let reasons = core.records(&LOST_REASONS);
    if reasons.never_used().await? {
        for (i, (en, zh)) in LOST_REASON_NAMES.iter().enumerate() {
            reasons
                .create(
                    admin,
                    &json!({"name": {"en": en, "zh-CN": zh}, "position": i + 1}),
                )
                .await?;
        }
    }
    Ok(())
}
