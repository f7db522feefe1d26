//! Where table data lives and how partners reach it: Delta snapshots and commits (via
//! `deltalake`), local directories or object stores with their credentials, and signed,
//! expiring file URLs.

mod azure_sas;
mod commits;
pub mod delta;
pub mod file_texts;
mod lean;
pub mod location;
pub mod partitions;
pub mod signing;
pub mod snapshots;
pub mod stores;
#[cfg(test)]
mod tests;
pub mod versions;

pub use delta::{At, Candidate, Commit, DeltaColumn, FileAction, Reads, TableState};
pub use file_texts::FileTexts;
pub use signing::{FileUrls, UrlSigner};
pub use stores::{StorageEntry, Stores};
