//! Lost reasons (输单原因): the admin-edited list a lost opportunity names its reason from.

use crate::areas::lists::admin_list;
use crate::records::def::EntityDef;

pub static LOST_REASONS: EntityDef = admin_list("lost_reason", "lost_reasons", "sales");
