//! Sources (来源): the admin-edited list of where accounts and deals come from (a website, a
//! referral, a trade show), so managers can see which channels bring customers.

use crate::areas::lists::admin_list;
use crate::records::def::EntityDef;

pub static SOURCES: EntityDef = admin_list("source", "sources", "customers");
