//! Users, teams, role grants, passwords, sessions, API tokens and login throttling.

pub mod auth;
pub mod calendar_feed;
pub mod reset;
mod revoke;
pub mod teams;
mod throttle;
pub mod users;

pub use auth::{ApiToken, NewPassword, SessionInfo};
pub use teams::Team;
pub use users::{NewUser, User, UserPatch};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh secret: 32 random bytes, URL-safe text.
pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Secrets are stored only as their SHA-256: a leaked table gives no working token. (Tokens are
/// 256-bit random, so a fast hash is enough; passwords get argon2id.)
pub(crate) fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
