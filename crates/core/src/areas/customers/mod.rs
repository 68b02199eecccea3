//! Customers (客户管理): the accounts a business deals with and the people at them, and the
//! lists administrators keep to describe them (where they came from, their industry).

pub mod accounts;
pub mod contacts;
pub mod customer_facts;
pub mod industries;
pub mod sources;

use crate::CoreResult;
use crate::areas::lists;
use crate::records::{EntityDef, Work};

pub use accounts::ACCOUNTS;
pub use contacts::CONTACTS;
pub use customer_facts::CUSTOMER_FACTS;
pub use industries::INDUSTRIES;
pub use sources::SOURCES;

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 5] =
    [&ACCOUNTS, &CONTACTS, &CUSTOMER_FACTS, &SOURCES, &INDUSTRIES];

/// (English, Chinese): the channels most companies track.
pub const SOURCE_NAMES: [(&str, &str); 9] = [
    ("Website", "网站"),
    ("Referral", "转介绍"),
    ("Trade show", "展会"),
    ("Advertising", "广告"),
    ("Cold call", "电话陌拜"),
    ("Partner", "合作伙伴"),
    ("Social media", "社交媒体"),
    ("Existing customer", "老客户"),
    ("Other", "其他"),
];

/// (English, Chinese): broad industries that fit most customer bases; admins add their own.
pub const INDUSTRY_NAMES: [(&str, &str); 11] = [
    ("Manufacturing", "制造业"),
    ("Information technology", "信息技术"),
    ("Finance", "金融"),
    ("Retail", "零售"),
    ("Education", "教育"),
    ("Healthcare", "医疗健康"),
    ("Real estate", "房地产"),
    ("Logistics", "物流"),
    ("Energy", "能源"),
    ("Government", "政府"),
    ("Other", "其他"),
];

/// The sources and industries a company starts with; each list only where it was never kept.
pub(crate) async fn install_defaults(work: &mut Work<'_>) -> CoreResult<()> {
    lists::install(work, &SOURCES, &SOURCE_NAMES).await?;
    lists::install(work, &INDUSTRIES, &INDUSTRY_NAMES).await
}
