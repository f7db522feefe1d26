//! Who is calling and what they may see.
//!
//! `access` is the single authorization point: the sharing protocol, the portal pages and the
//! JSON API all ask it for shares and tables (and their row scope) instead of asking the catalog.

pub mod access;
pub mod claims;
pub mod credentials;
pub mod federation;
pub mod forms;
pub mod keys;
pub mod network;
pub mod oauth_clients;
pub mod oidc;
pub mod reveals;
pub mod scoped;
pub mod self_service;
pub mod sessions;
pub mod throttle;
pub mod time_travel;

pub use access::{Access, AuthorizedTable, RowScope};
pub use credentials::TokenPolicy;
pub use credentials::{Caller, Credentials, Via};
pub use reveals::Reveals;
pub use scoped::ScopedTable;
pub use sessions::Sessions;
