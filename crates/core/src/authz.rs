//! Who may see and change which records: roles, per-entity scopes, and the actor every service
//! call is made as. Record access is enforced here and in the record service, never only in a
//! handler.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::records::Access;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Sales,
    Marketing,
    Service,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Manager,
        Role::Sales,
        Role::Marketing,
        Role::Service,
        Role::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Sales => "sales",
            Role::Marketing => "marketing",
            Role::Service => "service",
            Role::ReadOnly => "read_only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role '{s}' (admin, manager, sales, marketing, service, read_only)")
            })
    }
}

/// How far a permission reaches. Ordered: a wider scope includes the narrower ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    None,
    Own,
    Team,
    All,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::None, Scope::Own, Scope::Team, Scope::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::Own => "own",
            Scope::Team => "team",
            Scope::All => "all",
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown scope '{s}' (none, own, team, all)"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub read: Scope,
    pub write: Scope,
}

/// The defaults a sales CRM ships with: sales reps work their own records and see their team's,
/// managers run their team, back-office roles read everything and write their own. Setup lists
/// (pipelines, lost reasons) are read by everyone and written by administrators.
pub fn default_grant(role: Role, access: Access) -> Grant {
    use Scope::*;
    if access == Access::Setup {
        return Grant {
            read: All,
            write: if role == Role::Admin { All } else { None },
        };
    }
    match role {
        Role::Admin => Grant {
            read: All,
            write: All,
        },
        Role::Manager => Grant {
            read: Team,
            write: Team,
        },
        Role::Sales => Grant {
            read: Team,
            write: Own,
        },
        Role::Marketing => Grant {
            read: All,
            write: Own,
        },
        Role::Service => Grant {
            read: All,
            write: Own,
        },
        Role::ReadOnly => Grant {
            read: All,
            write: None,
        },
    }
}

/// The user a service call is made for, with the grants of their role loaded.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub locale: String,
    /// How amounts read to them (`identity::users::MONEY_FORMATS`).
    pub money_format: String,
    /// The zone they read and type times in: their choice, else the instance default.
    pub time_zone: crate::time_zone::Tz,
    pub grants: HashMap<String, Grant>,
}

impl Actor {
    pub fn grant(&self, entity: &str) -> Grant {
        self.grants
            .get(entity)
            .copied()
            .unwrap_or_else(|| default_grant(self.role, Access::Records))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether a record owned by `owner` (whose team is `owner_team`) falls within `scope`.
    pub fn reaches(&self, scope: Scope, owner: Uuid, owner_team: Option<Uuid>) -> bool {
        match scope {
            Scope::None => false,
            Scope::Own => owner == self.user_id,
            Scope::Team => {
                owner == self.user_id || (self.team_id.is_some() && owner_team == self.team_id)
            }
            Scope::All => true,
        }
    }
}
