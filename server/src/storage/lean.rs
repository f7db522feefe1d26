//! Snapshots too large to keep, read as a stream.
//!
//! A `deltalake` table keeps every live file's action in memory (paths, raw and parsed
//! statistics): about 460 MB for a million files, more than the snapshot cache would keep. Such a
//! table is opened lazily instead: only its protocol and metadata are read, and each listing
//! replays the log from its checkpoint on, one batch at a time, so memory stays flat whatever
//! the number of files. A table is read this way when its last checkpoint holds more actions
//! than the cache budget could keep, or once it was loaded and found over the budget.

use std::sync::Arc;

use deltalake::kernel::{LogicalFileView, Metadata, Protocol, Snapshot};
use deltalake::logstore::LogStoreRef;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::ObjectStoreExt;
use serde::Deserialize;
use tokio::runtime::Handle;

use crate::error::{PortalError, Result};

/// The least a live file costs in a loaded snapshot: its bookkeeping (see
/// `snapshots::estimated_bytes`) and a short path with few statistics. A checkpoint of more
/// actions than the budget holds at this price is surely over it.
const LEAST_BYTES_PER_ACTION: u64 = 300;

/// A snapshot whose files are read from the log on each listing.
pub struct LeanSnapshot {
    snapshot: Arc<Snapshot>,
    log_store: LogStoreRef,
    /// The runtime its log is read on; listings block on it from their own thread.
    runtime: Handle,
}

impl LeanSnapshot {
    /// The protocol and metadata at `version` (the latest when `None`); no file is read.
    pub async fn open(log_store: LogStoreRef, version: Option<u64>) -> std::result::Result<Self, deltalake::DeltaTableError> {
        let snapshot = Arc::new(Snapshot::try_new(log_store.as_ref(), version).await?);
        Ok(Self { snapshot, log_store, runtime: Handle::current() })
    }

    pub fn version(&self) -> i64 {
        self.snapshot.version() as i64
    }

    pub fn metadata(&self) -> &Metadata {
        self.snapshot.metadata()
    }

    pub fn protocol(&self) -> &Protocol {
        self.snapshot.protocol()
    }

    pub fn log_store(&self) -> &LogStoreRef {
        &self.log_store
    }

    /// The live files in the log's order, read as the iterator is. Blocking: call it from a
    /// thread of its own (`spawn_blocking`), never from a task.
    pub fn files(&self) -> Files<'_> {
        Files { stream: Some(self.snapshot.file_views(self.log_store.as_ref(), None)), runtime: &self.runtime }
    }
}

/// The files of a [`LeanSnapshot`], one at a time.
pub struct Files<'a> {
    /// Taken when the listing is dropped, so its memory is freed before it is handed back.
    stream: Option<BoxStream<'a, deltalake::DeltaResult<LogicalFileView>>>,
    runtime: &'a Handle,
}

/// A replay's batches and bookkeeping are freed when the listing ends; hand them back so the
/// next one does not come on top of them (see `primitives::memory`).
impl Drop for Files<'_> {
    fn drop(&mut self) {
        drop(self.stream.take());
        crate::primitives::memory::hand_back_freed();
    }
}

impl Iterator for Files<'_> {
    type Item = Result<LogicalFileView>;

    fn next(&mut self) -> Option<Self::Item> {
        let stream = self.stream.as_mut()?;
        self.runtime.block_on(stream.next()).map(|file| file.map_err(PortalError::Delta))
    }
}

/// `_last_checkpoint`: how many actions the newest checkpoint holds.
#[derive(Deserialize)]
struct LastCheckpoint {
    size: Option<u64>,
}

/// Whether the table's last checkpoint holds more actions than `budget_bytes` could keep loaded.
/// A table without one (or with an unreadable one) is loaded and measured instead.
pub async fn checkpoint_over_budget(log_store: &LogStoreRef, budget_bytes: usize) -> bool {
    let path = log_store.log_path().clone().join("_last_checkpoint");
    let Ok(found) = log_store.object_store(None).get(&path).await else { return false };
    let Ok(bytes) = found.bytes().await else { return false };
    let Ok(last) = serde_json::from_slice::<LastCheckpoint>(&bytes) else { return false };
    last.size.is_some_and(|actions| actions.saturating_mul(LEAST_BYTES_PER_ACTION) > budget_bytes as u64)
}
