//! The server over real TCP: driven by a small hand-written client, and by lettre, the client
//! the product sends with.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod raw_client;
mod with_lettre;
