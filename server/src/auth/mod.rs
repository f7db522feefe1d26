//! Who is calling and what they may see.
//!
//! `access` is the single authorization point: the sharing protocol, and later the portal, the
//! exports and the admin API, all ask it for shares and tables instead of asking the catalog.

pub mod access;
pub mod credentials;
pub mod secrets;

pub use access::{Access, AuthorizedTable, RowScope};
pub use credentials::{Caller, Credentials};
