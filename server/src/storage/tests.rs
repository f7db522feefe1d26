//! The snapshot cache and the ways a table is opened, on real tables written with deltalake:
//! loaded and kept, brought forward, evicted, replaced, and read as a stream when too large.

use std::path::Path;
use std::sync::Arc;

use deltalake::arrow::array::{Int64Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::protocol::SaveMode;
use deltalake::DeltaTable;

use super::snapshots::{estimated_bytes, SNAPSHOT_BASE_BYTES};
use super::{At, Reads, Stores, TableState};

async fn append(dir: &Path, first: i64) {
    std::fs::create_dir_all(dir).unwrap();
    let url = url::Url::from_directory_path(dir.canonicalize().unwrap()).unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![first, first + 1]))]).unwrap();
    let table = DeltaTable::try_from_url(url).await.unwrap();
    table.write(vec![batch]).with_save_mode(SaveMode::Append).await.unwrap();
}

fn location(dir: &Path) -> String {
    dir.canonicalize().unwrap().to_string_lossy().to_string()
}

#[tokio::test]
async fn latest_is_loaded_once_then_brought_forward_by_new_commits() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t");
    append(&table, 0).await;
    let stores = Stores::new(vec![]).unwrap();
    let at = location(&table);

    assert_eq!(TableState::open(&stores, &at, At::Latest).await.unwrap().version(), 0);
    assert_eq!(TableState::open(&stores, &at, At::Latest).await.unwrap().version(), 0);
    let stats = stores.snapshots().stats();
    assert_eq!((stats.loads, stats.hits, stats.updates, stats.entries), (1, 1, 0, 1));

    // A commit written by someone else is seen by the very next open, without a reload.
    append(&table, 2).await;
    let state = TableState::open(&stores, &at, At::Latest).await.unwrap();
    assert_eq!(state.version(), 1);
    assert_eq!(state.candidates(Reads::default()).unwrap().count(), 2);
    let stats = stores.snapshots().stats();
    assert_eq!((stats.loads, stats.hits, stats.updates), (1, 2, 1));

    // Past versions are kept by version; the latest one serves its own version too.
    assert_eq!(TableState::open(&stores, &at, At::Version(0)).await.unwrap().candidates(Reads::default()).unwrap().count(), 1);
    assert_eq!(TableState::open(&stores, &at, At::Version(0)).await.unwrap().version(), 0);
    assert_eq!(TableState::open(&stores, &at, At::Version(1)).await.unwrap().version(), 1);
    let stats = stores.snapshots().stats();
    assert_eq!((stats.loads, stats.hits, stats.entries), (2, 4, 2));
}

#[tokio::test]
async fn renderings_are_kept_with_their_snapshot_and_counted_in_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t");
    append(&table, 0).await;
    let stores = Stores::new(vec![]).unwrap();
    let at = location(&table);
    let renders = std::cell::Cell::new(0);
    let paths = |f: &crate::storage::FileAction, out: &mut Vec<u8>| {
        renders.set(renders.get() + 1);
        out.extend_from_slice(f.path.as_bytes());
    };

    let state = TableState::open(&stores, &at, At::Latest).await.unwrap();
    assert!(state.rendering("paths").is_none(), "nothing is rendered until asked");
    let snapshot_bytes = stores.snapshots().stats().bytes;
    let texts = state.render(&stores, "paths", paths).unwrap().expect("a cached snapshot is rendered");
    assert_eq!((texts.len(), renders.get()), (1, 1));
    let (path, fragment) = texts.get(0).unwrap();
    assert_eq!(path.as_bytes(), fragment);
    assert_eq!(stores.snapshots().stats().bytes, snapshot_bytes + texts.bytes() as u64);

    // The next request (no new commit) finds the same rendering; rendering again does nothing.
    let next = TableState::open(&stores, &at, At::Latest).await.unwrap();
    assert!(Arc::ptr_eq(&texts, &next.rendering("paths").unwrap()));
    assert!(Arc::ptr_eq(&texts, &next.render(&stores, "paths", paths).unwrap().unwrap()));
    assert_eq!(renders.get(), 1);

    // A new commit makes a new snapshot, rendered anew.
    append(&table, 2).await;
    let newer = TableState::open(&stores, &at, At::Latest).await.unwrap();
    assert!(newer.rendering("paths").is_none());
    assert_eq!((newer.render(&stores, "paths", paths).unwrap().unwrap().len(), renders.get()), (2, 3));

    // A snapshot the cache does not hold is not rendered.
    let uncached = Stores::new(vec![]).unwrap().with_snapshot_cache(0);
    let state = TableState::open(&uncached, &at, At::Latest).await.unwrap();
    assert!(state.render(&uncached, "paths", paths).unwrap().is_none());
    assert_eq!(renders.get(), 3);
}

#[tokio::test]
async fn a_table_replaced_at_its_location_is_read_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t");
    for first in [0, 2, 4] {
        append(&table, first).await;
    }
    let stores = Stores::new(vec![]).unwrap();
    let at = location(&table);
    assert_eq!(TableState::open(&stores, &at, At::Latest).await.unwrap().version(), 2);

    // Deleted and written again from version 0: the cached version 2 is not in the new log.
    std::fs::remove_dir_all(&table).unwrap();
    append(&table, 10).await;
    let state = TableState::open(&stores, &at, At::Latest).await.unwrap();
    assert_eq!((state.version(), state.candidates(Reads::default()).unwrap().count()), (0, 1));
    assert_eq!(stores.snapshots().stats().loads, 2);

    std::fs::remove_dir_all(&table).unwrap();
    assert!(TableState::open(&stores, &at, At::Latest).await.is_err(), "a removed table is not served from memory");
}

#[tokio::test]
async fn the_budget_evicts_the_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let tables: Vec<_> = (0..3).map(|i| dir.path().join(format!("t{i}"))).collect();
    for t in &tables {
        append(t, 0).await;
    }
    let probe = Stores::new(vec![]).unwrap();
    let one = estimated_bytes(TableState::open(&probe, &location(&tables[0]), At::Latest).await.unwrap().delta().unwrap());
    assert!(one >= SNAPSHOT_BASE_BYTES);

    // Room for two snapshots: opening a third drops the one used longest ago.
    let stores = Stores::new(vec![]).unwrap().with_snapshot_cache(2 * one + one / 2);
    for t in [&tables[0], &tables[1], &tables[0], &tables[2]] {
        TableState::open(&stores, &location(t), At::Latest).await.unwrap();
    }
    let stats = stores.snapshots().stats();
    assert_eq!((stats.entries, stats.evictions, stats.loads), (2, 1, 3));
    assert!(stats.bytes <= (2 * one + one / 2) as u64);
    TableState::open(&stores, &location(&tables[0]), At::Latest).await.unwrap();
    assert_eq!(stores.snapshots().stats().loads, 3, "t0 was used more recently than t1 and stayed");
    TableState::open(&stores, &location(&tables[1]), At::Latest).await.unwrap();
    assert_eq!(stores.snapshots().stats().loads, 4, "t1 was evicted and is read again");

    // A budget of 0 keeps nothing: every open reads the log.
    let uncached = Stores::new(vec![]).unwrap().with_snapshot_cache(0);
    for _ in 0..2 {
        TableState::open(&uncached, &location(&tables[0]), At::Latest).await.unwrap();
    }
    let stats = uncached.snapshots().stats();
    assert_eq!((stats.entries, stats.loads, stats.hits), (0, 2, 0));
}

/// Every file of a listing: path, size, stats, partition values (run on a thread of its own).
async fn listing(state: TableState) -> Vec<(String, i64, Option<String>, usize)> {
    tokio::task::spawn_blocking(move || {
        let reads = Reads { partition_values: true, stats: true, rows: true };
        let positions: Vec<u32> = state.candidates(reads).unwrap().map(|c| c.unwrap().position).collect();
        let files = state.files_at(&positions, false).unwrap().map(Result::unwrap);
        files.map(|f| (f.path, f.size, f.stats, f.partition_values.len())).collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_too_large_to_keep_is_listed_as_a_stream_with_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t");
    for first in [0, 2, 4] {
        append(&table, first).await;
    }
    let at = location(&table);
    let loaded = TableState::open(&Stores::new(vec![]).unwrap(), &at, At::Latest).await.unwrap();
    let expected = listing(loaded).await;
    assert_eq!(expected.len(), 3);
    assert!(expected.iter().all(|(_, size, stats, _)| *size > 0 && stats.as_deref().is_some_and(|s| s.contains("numRecords"))));

    // No checkpoint yet: the first open loads the table, finds it over a tiny budget, and
    // the opens after it read the log as a stream.
    let small = Stores::new(vec![]).unwrap().with_snapshot_cache(1024);
    let first = TableState::open_for_listing(&small, &at, At::Latest).await.unwrap();
    assert!(first.delta().is_ok(), "loaded, then found over the budget");
    let streamed = TableState::open_for_listing(&small, &at, At::Latest).await.unwrap();
    assert!(streamed.delta().is_err(), "read as a stream, no loaded snapshot");
    assert_eq!((streamed.version(), small.snapshots().stats().streamed, small.snapshots().stats().entries), (2, 1, 0));
    assert_eq!(streamed.partition_columns().unwrap(), Vec::<String>::new());
    assert_eq!(listing(streamed).await, expected);
    let past = TableState::open_for_listing(&small, &at, At::Version(1)).await.unwrap();
    assert_eq!((past.version(), listing(past).await.len()), (1, 2));

    // A checkpoint of more actions than the budget keeps: streamed from the first open.
    let loaded = TableState::open(&Stores::new(vec![]).unwrap(), &at, At::Latest).await.unwrap();
    deltalake::checkpoints::create_checkpoint(loaded.delta().unwrap(), None).await.unwrap();
    let fresh = Stores::new(vec![]).unwrap().with_snapshot_cache(1024);
    let state = TableState::open_for_listing(&fresh, &at, At::Latest).await.unwrap();
    assert!(state.delta().is_err());
    assert_eq!((fresh.snapshots().stats().streamed, fresh.snapshots().stats().loads), (1, 0));
    assert_eq!(listing(state).await, expected);

    // Scans always load: DataFusion needs the snapshot's files in memory.
    assert!(TableState::open(&fresh, &at, At::Latest).await.unwrap().delta().is_ok());
    // With room in the budget, the same checkpoint is loaded and kept.
    let roomy = Stores::new(vec![]).unwrap();
    assert!(TableState::open_for_listing(&roomy, &at, At::Latest).await.unwrap().delta().is_ok());
    assert_eq!((roomy.snapshots().stats().streamed, roomy.snapshots().stats().entries), (0, 1));
}
