//! Loaded Delta snapshots, kept between requests.
//!
//! Opening a table reads its log from the last checkpoint on: for a 50,000-file table that is
//! most of a `/query`. The latest snapshot of each location is kept and brought up to date
//! incrementally (deltalake reads only the commits after the cached version, and adopts a newer
//! checkpoint when there is one); snapshots of past versions never change and are kept by
//! version. Memory is bounded by a budget over each snapshot's estimated size, least recently
//! used first out. Only Delta state is cached: which tables exist, who may read them and where
//! they live is still read from the catalog on every request. A cached snapshot also keeps what
//! was rendered from its files ([`super::file_texts`]), counted in the same budget.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use deltalake::DeltaTable;

use super::file_texts::{FileTexts, Renderings};
use super::partitions::PartitionIndex;
use crate::error::Result;

/// The cache's budget unless `snapshot_cache_mb` says otherwise.
pub const DEFAULT_SNAPSHOT_CACHE_BYTES: usize = 256 << 20;

/// A cached snapshot: the latest one of a location, or a location at a fixed version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotKey {
    pub location: String,
    /// `None`: the latest version, refreshed on every use.
    pub version: Option<i64>,
}

/// A snapshot as the cache hands it out: the table, and what was rendered from its files.
pub struct Cached {
    pub table: DeltaTable,
    key: SnapshotKey,
    renderings: Renderings,
    /// Its files' partition values, read on first need (counted in [`estimated_bytes`]).
    partitions: OnceLock<Arc<PartitionIndex>>,
    /// Its files' sizes in the log's order, read on first need (counted in [`estimated_bytes`]).
    sizes: OnceLock<Arc<[i64]>>,
    /// Whether the cache holds it: one over the budget is read, used once and dropped.
    kept: AtomicBool,
    /// Declared last, so dropped after the table.
    size: Estimated,
}

/// A snapshot's estimated size ([`estimated_bytes`]). Once a large one is dropped, its memory
/// is handed back to the system, so the next one does not come on top of it.
struct Estimated(usize);

/// Snapshots from this size on hand their memory back when dropped.
const HAND_BACK_FROM: usize = 64 << 20;

impl Drop for Estimated {
    fn drop(&mut self) {
        if self.0 >= HAND_BACK_FROM {
            crate::primitives::memory::hand_back_freed();
        }
    }
}

impl Cached {
    fn new(key: SnapshotKey, table: DeltaTable) -> Arc<Self> {
        Arc::new(Self {
            size: Estimated(estimated_bytes(&table)),
            table,
            key,
            renderings: Renderings::default(),
            partitions: OnceLock::new(),
            sizes: OnceLock::new(),
            kept: AtomicBool::new(false),
        })
    }

    /// What was rendered from its files as `kind`, if that is done (see [`Snapshots::render`]).
    pub fn rendering(&self, kind: &'static str) -> Option<Arc<FileTexts>> {
        self.renderings.of(kind).texts.get().cloned()
    }

    /// Its files' partition values: `build`'s the first time, the same ones afterwards.
    pub fn partitions(&self, build: impl FnOnce() -> Result<PartitionIndex>) -> Result<Arc<PartitionIndex>> {
        made_once(&self.partitions, || build().map(Arc::new))
    }

    /// Its files' sizes: `read`'s the first time, the same ones afterwards.
    pub fn sizes(&self, read: impl FnOnce() -> Result<Vec<i64>>) -> Result<Arc<[i64]>> {
        made_once(&self.sizes, || read().map(Into::into))
    }
}

/// What `cell` holds, made by `make` if it holds nothing yet. Two first requests at once may
/// both make it; either result is the same.
fn made_once<T: ?Sized>(cell: &OnceLock<Arc<T>>, make: impl FnOnce() -> Result<Arc<T>>) -> Result<Arc<T>> {
    if let Some(made) = cell.get() {
        return Ok(made.clone());
    }
    let made = make()?;
    Ok(cell.get_or_init(|| made).clone())
}

enum Loaded {
    Cached(Arc<Cached>),
    Fresh(Arc<Cached>),
}

struct Entry {
    cached: Arc<Cached>,
    /// The snapshot's estimated size plus its renderings.
    bytes: usize,
    last_used: u64,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<SnapshotKey, Entry>,
    bytes: usize,
    clock: u64,
}

/// What the cache did since the server started, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapshotStats {
    /// Requests answered from a cached snapshot (after checking the log for newer commits).
    pub hits: u64,
    /// Snapshots read from the log from scratch.
    pub loads: u64,
    /// Cached snapshots brought forward by newer commits.
    pub updates: u64,
    pub evictions: u64,
    /// Opens of a table too large to keep, read as a stream ([`super::lean`]).
    pub streamed: u64,
    pub entries: u64,
    pub bytes: u64,
}

pub struct Snapshots {
    budget: usize,
    lru: Mutex<Lru>,
    /// One load per key at a time: concurrent cold requests for a table wait for the first one's
    /// load instead of each reading the whole log.
    loading: Mutex<HashMap<SnapshotKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Locations whose latest snapshot was loaded and found over the budget: read as a stream
    /// from then on.
    over_budget: Mutex<HashSet<String>>,
    hits: AtomicU64,
    streamed: AtomicU64,
    loads: AtomicU64,
    updates: AtomicU64,
    evictions: AtomicU64,
}

impl Default for Snapshots {
    fn default() -> Self {
        Self::new(DEFAULT_SNAPSHOT_CACHE_BYTES)
    }
}

impl Snapshots {
    /// A cache holding at most `budget_bytes` of estimated snapshot size (0 turns it off).
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget: budget_bytes,
            lru: Mutex::default(),
            loading: Mutex::default(),
            over_budget: Mutex::default(),
            hits: AtomicU64::new(0),
            streamed: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            updates: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The latest snapshot of a location: the cached one brought up to date (`refresh` checks
    /// that its version is still in the log and reads the commits after it), or `load`'s.
    pub async fn latest<L, LF, R, RF>(&self, location: &str, load: L, refresh: R) -> Result<Arc<Cached>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<DeltaTable>>,
        R: FnOnce(DeltaTable) -> RF,
        RF: Future<Output = Result<DeltaTable>>,
    {
        let key = SnapshotKey { location: location.to_string(), version: None };
        if let Some(cached) = self.get(&key) {
            let before = version_of(&cached.table);
            match refresh(cached.table.clone()).await {
                Ok(table) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    if version_of(&table) == before {
                        return Ok(cached);
                    }
                    self.updates.fetch_add(1, Ordering::Relaxed);
                    let newer = Cached::new(key, table);
                    self.put_if_newer(&newer);
                    return Ok(newer);
                }
                // Its log no longer has the cached version (replaced, cleaned up, gone): start over.
                Err(e) => {
                    tracing::info!(%location, error = %e, "cached snapshot no longer matches the log; reading it afresh");
                    self.remove(&key);
                }
            }
        }
        // A snapshot another request loaded while this one waited is as fresh as a new one.
        match self.load_once(&key, load).await? {
            Loaded::Cached(cached) | Loaded::Fresh(cached) => Ok(cached),
        }
    }

    /// A location at a fixed version: cached for good (within the budget), or `load`'s.
    pub async fn at_version<L, LF>(&self, location: &str, version: i64, load: L) -> Result<Arc<Cached>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<DeltaTable>>,
    {
        let key = SnapshotKey { location: location.to_string(), version: Some(version) };
        if let Some(cached) = self.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(cached);
        }
        // The latest snapshot may be exactly this version.
        let latest = SnapshotKey { location: location.to_string(), version: None };
        if let Some(cached) = self.get(&latest).filter(|c| version_of(&c.table) == version) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(cached);
        }
        match self.load_once(&key, load).await? {
            Loaded::Cached(cached) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(cached)
            }
            Loaded::Fresh(cached) => Ok(cached),
        }
    }

    /// Loads `key` unless a concurrent request already did while this one waited for its turn.
    async fn load_once<L, LF>(&self, key: &SnapshotKey, load: L) -> Result<Loaded>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<DeltaTable>>,
    {
        let gate = self.loading.lock().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().clone();
        let _turn = gate.lock().await;
        if let Some(cached) = self.get(key) {
            return Ok(Loaded::Cached(cached));
        }
        let loaded = load().await;
        self.loading.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        let cached = Cached::new(key.clone(), loaded?);
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.insert(&cached, |_| true);
        Ok(Loaded::Fresh(cached))
    }

    /// The estimated bytes the cache keeps at most.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Whether a snapshot of `location` was loaded and found over the budget.
    pub fn was_over_budget(&self, location: &str) -> bool {
        self.over_budget.lock().unwrap_or_else(|p| p.into_inner()).contains(location)
    }

    /// Whether the cache holds a snapshot of `location` (`version` as [`SnapshotKey`]).
    pub fn holds(&self, location: &str, version: Option<i64>) -> bool {
        let lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        lru.entries.contains_key(&SnapshotKey { location: location.to_string(), version })
    }

    /// Counts an open read as a stream.
    pub fn count_streamed(&self) {
        self.streamed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> SnapshotStats {
        let lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        SnapshotStats {
            hits: self.hits.load(Ordering::Relaxed),
            loads: self.loads.load(Ordering::Relaxed),
            updates: self.updates.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            streamed: self.streamed.load(Ordering::Relaxed),
            entries: lru.entries.len() as u64,
            bytes: lru.bytes as u64,
        }
    }

    /// Renders a cached snapshot's files as `kind` (blocking: run it on a thread of its own) and
    /// keeps the result with the snapshot, within the budget. Nothing is done (`None`) for a
    /// snapshot the cache does not hold, or while another caller renders the same kind.
    pub fn render(
        &self,
        cached: &Arc<Cached>,
        kind: &'static str,
        render: impl FnOnce() -> Result<FileTexts>,
    ) -> Result<Option<Arc<FileTexts>>> {
        let rendering = cached.renderings.of(kind);
        if let Some(texts) = rendering.texts.get() {
            return Ok(Some(texts.clone()));
        }
        if !cached.kept.load(Ordering::Relaxed) || !rendering.claim() {
            return Ok(None);
        }
        let texts = match render() {
            Ok(texts) => Arc::new(texts),
            Err(e) => {
                rendering.release();
                return Err(e);
            }
        };
        let bytes = texts.bytes();
        let mut lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        let held = lru.entries.get(&cached.key).filter(|e| Arc::ptr_eq(&e.cached, cached)).map(|e| e.bytes);
        // Kept only while its snapshot is cached and both fit the budget; otherwise it was used
        // by nobody and is dropped (the claim stays: the same snapshot is not rendered again).
        if let Some(held) = held.filter(|held| held + bytes <= self.budget) {
            self.make_room(&mut lru, bytes, Some(&cached.key));
            lru.bytes += bytes;
            if let Some(entry) = lru.entries.get_mut(&cached.key) {
                entry.bytes = held + bytes;
            }
            let _ = rendering.texts.set(texts.clone());
        }
        Ok(Some(texts))
    }

    fn get(&self, key: &SnapshotKey) -> Option<Arc<Cached>> {
        let mut lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        lru.clock += 1;
        let now = lru.clock;
        let entry = lru.entries.get_mut(key)?;
        entry.last_used = now;
        Some(entry.cached.clone())
    }

    /// Concurrent refreshes may finish out of order: never replace a newer snapshot by an older one.
    fn put_if_newer(&self, cached: &Arc<Cached>) {
        let version = version_of(&cached.table);
        self.insert(cached, |old| old.is_none_or(|old| version_of(&old.cached.table) < version));
    }

    fn insert(&self, cached: &Arc<Cached>, replace: impl FnOnce(Option<&Entry>) -> bool) {
        let bytes = cached.size.0;
        let key = &cached.key;
        let mut lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        if !replace(lru.entries.get(key)) {
            return;
        }
        self.drop_entry(&mut lru, key);
        if bytes > self.budget {
            self.over_budget.lock().unwrap_or_else(|p| p.into_inner()).insert(key.location.clone());
            tracing::debug!(location = %key.location, bytes, budget = self.budget, "snapshot larger than the cache budget; not kept");
            return;
        }
        self.make_room(&mut lru, bytes, None);
        lru.clock += 1;
        let last_used = lru.clock;
        lru.bytes += bytes;
        cached.kept.store(true, Ordering::Relaxed);
        lru.entries.insert(key.clone(), Entry { cached: cached.clone(), bytes, last_used });
    }

    /// Evicts the least recently used entries (never `keep`) until `bytes` more fit the budget.
    fn make_room(&self, lru: &mut Lru, bytes: usize, keep: Option<&SnapshotKey>) {
        while lru.bytes + bytes > self.budget {
            let oldest = lru.entries.iter().filter(|(k, _)| Some(*k) != keep).min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            self.drop_entry(lru, &oldest);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn drop_entry(&self, lru: &mut Lru, key: &SnapshotKey) {
        if let Some(old) = lru.entries.remove(key) {
            lru.bytes -= old.bytes;
            old.cached.kept.store(false, Ordering::Relaxed);
        }
    }

    fn remove(&self, key: &SnapshotKey) {
        let mut lru = self.lru.lock().unwrap_or_else(|p| p.into_inner());
        self.drop_entry(&mut lru, key);
    }
}

fn version_of(table: &DeltaTable) -> i64 {
    table.version().map_or(-1, |v| v as i64)
}

/// Fixed cost of a snapshot (protocol, metadata, schema, kernel state) besides its files.
pub(super) const SNAPSHOT_BASE_BYTES: usize = 64 << 10;
/// Per file besides its path and statistics: partition values, sizes, times, Arrow offsets,
/// its place in the partition index and its size read out once.
const FILE_OVERHEAD_BYTES: usize = 172;
/// Files whose path and statistics are measured to estimate the average.
const SAMPLED_FILES: usize = 64;

/// A snapshot's memory, estimated from its file count and a sample of its files' paths and
/// statistics (the Arrow batches behind it are not reachable through deltalake's API).
pub fn estimated_bytes(table: &DeltaTable) -> usize {
    let Ok(state) = table.snapshot() else { return SNAPSHOT_BASE_BYTES };
    let Ok(files) = state.snapshot().try_log_data() else { return SNAPSHOT_BASE_BYTES };
    let count = files.num_files();
    let (sampled, sample_bytes) = files
        .iter()
        .take(SAMPLED_FILES)
        .map(|f| f.path().len() + f.stats().map_or(0, |s| s.len()))
        .fold((0usize, 0usize), |(n, b), len| (n + 1, b + len));
    let per_file = FILE_OVERHEAD_BYTES + sample_bytes.checked_div(sampled).unwrap_or(0);
    SNAPSHOT_BASE_BYTES + count * per_file
}
