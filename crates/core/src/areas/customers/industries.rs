//! Industries (行业): the admin-edited list accounts are filed under (manufacturing, finance,
//! retail), so customers can be segmented and campaigns aimed by trade.

use crate::areas::lists::admin_list;
use crate::records::def::EntityDef;

pub static INDUSTRIES: EntityDef = admin_list("industry", "industries", "customers");
