//! Sales (销售管理): pipelines with their stages, the reasons deals are lost, and the
//! opportunities (商机) that move through them.

pub mod lost_reasons;
pub mod opportunities;
pub mod payment_records;
pub mod pipelines;
pub mod sales_records;

use serde_json::json;

use crate::CoreResult;
use crate::areas::lists;
use crate::records::{EntityDef, Work};

pub use lost_reasons::LOST_REASONS;
pub use opportunities::OPPORTUNITIES;
pub use payment_records::PAYMENT_RECORDS;
pub use pipelines::PIPELINES;
pub use sales_records::SALES_RECORDS;

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 5] = [
    &OPPORTUNITIES,
    &SALES_RECORDS,
    &PAYMENT_RECORDS,
    &PIPELINES,
    &LOST_REASONS,
];

pub const LOST_REASON_NAMES: [(&str, &str); 5] = [
    ("Price too high", "价格太高"),
    ("Chose a competitor", "选择了竞争对手"),
    ("Budget cancelled", "预算取消"),
    ("Needs changed", "需求变化"),
    ("No response", "客户无响应"),
];

/// The pipeline and lost reasons a company starts with; each list only where it was never kept.
pub(crate) async fn install_defaults(work: &mut Work<'_>) -> CoreResult<()> {
    if lists::never_used(work, &PIPELINES).await? {
        work.create(
            &PIPELINES,
            &json!({"name": {"en": "New business", "zh-CN": "新客户销售"}, "position": 1,
                    "stages": pipelines::standard_stages()}),
        )
        .await?;
    }
    lists::install(work, &LOST_REASONS, &LOST_REASON_NAMES).await
}
