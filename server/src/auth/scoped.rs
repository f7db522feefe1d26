//! A granted table opened at one snapshot, with the caller's row scope bound to it. Sharing,
//! query and export read a shared table only through this handle, which only
//! [`AuthorizedTable::open`] makes: the files it lists and the changes it reports are already cut
//! to the scope, and its [`scope`](ScopedTable::scope) is what a query frame filters on first.
//! (Admins validating a location open it with `TableState::open`, unscoped, by design.)

use std::ops::Deref;

use super::access::{AuthorizedTable, RowScope};
use crate::catalog::SharedTable;
use crate::error::Result;
use crate::storage::{At, Candidate, Commit, FileAction, Reads, Stores, TableState};

pub struct ScopedTable {
    state: TableState,
    scope: RowScope,
    table: SharedTable,
}

impl AuthorizedTable {
    /// The table at `at`, as this caller may read it.
    pub async fn open(&self, stores: &Stores, at: At) -> Result<ScopedTable> {
        self.open_as(stores, at, false).await
    }

    /// The table at `at` for listing its files (the sharing protocol): one too large to keep
    /// loaded is read as a stream (see `TableState::open_for_listing`).
    pub async fn open_for_listing(&self, stores: &Stores, at: At) -> Result<ScopedTable> {
        self.open_as(stores, at, true).await
    }

    async fn open_as(&self, stores: &Stores, at: At, for_listing: bool) -> Result<ScopedTable> {
        let state = TableState::open_shared(stores, &self.table, at, for_listing).await?;
        Ok(ScopedTable { state, scope: self.scope.clone(), table: self.table.clone() })
    }
}

impl ScopedTable {
    pub fn table(&self) -> &SharedTable {
        &self.table
    }

    /// The rows the caller may read; a query frame filters on it before anything else.
    pub fn scope(&self) -> &RowScope {
        &self.scope
    }

    /// The snapshot's files the caller may read, one at a time (see
    /// `TableState::candidates`); partition values are read whenever the scope needs them.
    pub fn candidates(&self, mut reads: Reads) -> Result<impl Iterator<Item = Result<Candidate>> + '_> {
        reads.partition_values |= !matches!(self.scope, RowScope::All);
        Ok(self.state.candidates(reads)?.filter(|f| f.as_ref().map_or(true, |f| self.scope.allows(&f.partition_values))))
    }

    /// The data-changing files of `commit` the caller may read, with logical partition names.
    pub fn changes(&self, commit: &Commit, change_feed: bool) -> Vec<(&'static str, FileAction)> {
        commit
            .data_changes(change_feed)
            .into_iter()
            .map(|(kind, mut file)| {
                file.partition_values = self.state.logical(file.partition_values);
                (kind, file)
            })
            .filter(|(_, file)| self.scope.allows(&file.partition_values))
            .collect()
    }

    /// The scoped rows' count and bytes from the log's statistics: `None` if a file lacks them.
    pub fn stats(&self) -> Result<Option<(u64, u64)>> {
        let (mut rows, mut bytes) = (0u64, 0u64);
        for file in self.candidates(Reads { rows: true, ..Reads::default() })? {
            let file = file?;
            let Some(records) = file.rows else { return Ok(None) };
            rows += (records - file.deleted_rows).max(0) as u64;
            bytes += file.size.max(0) as u64;
        }
        Ok(Some((rows, bytes)))
    }
}

/// The snapshot's description (schema, version, protocol, history) is not scoped.
impl Deref for ScopedTable {
    type Target = TableState;

    fn deref(&self) -> &TableState {
        &self.state
    }
}
