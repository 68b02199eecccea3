//! Sales (销售管理): pipelines with their stages, the reasons deals are lost, and the
//! opportunities (商机) that move through them.

pub mod lost_reasons;
pub mod opportunities;
pub mod pipelines;

use serde_json::json;

use crate::records::EntityDef;
use crate::{Actor, Core, CoreResult};

pub use lost_reasons::LOST_REASONS;
pub use opportunities::OPPORTUNITIES;
pub use pipelines::PIPELINES;

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
