//! Where table data lives and how partners reach it: Delta snapshots and commits (via
//! `deltalake`), and signed, expiring file URLs.

pub mod delta;
pub mod location;
pub mod signing;

pub use delta::{At, Commit, DeltaColumn, FileAction, TableState};
pub use signing::UrlSigner;
