//! The plain parquet scan reads exactly what deltalake's scan reads: typed partition values
//! (with a null partition and one that needs escaping), a column added by a later commit,
//! timestamps finer than the log's millisecond statistics, and files the statistics skip.

use std::collections::BTreeMap;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use deltalake::arrow::util::pretty::pretty_format_batches;
use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::protocol::SaveMode;
use deltalake::DeltaTable;

use super::parquet_table::ParquetTable;
use crate::auth::{Access, ScopedTable};
use crate::catalog::shares::NewTable;
use crate::config::Settings;
use crate::storage::At;
use crate::Services;

fn utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `rows` rows from `first`: ids, a timestamp with microseconds, two partition columns.
fn rows(first: i64, rows: i64, extra: bool) -> RecordBatch {
    let ids: Vec<i64> = (first..first + rows).collect();
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("at", utc(), true),
        Field::new("note", DataType::Utf8, true),
        Field::new("day", DataType::Date32, true),
        Field::new("region", DataType::Utf8, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        // One microsecond apart, from 2026-01-01: the log keeps milliseconds.
        Arc::new(
            TimestampMicrosecondArray::from(ids.iter().map(|i| 1_767_225_600_000_000 + i * 7).collect::<Vec<_>>()).with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(ids.iter().map(|i| format!("n{i}")).collect::<Vec<_>>())),
        Arc::new(Date32Array::from(ids.iter().map(|i| 20_454 + (*i % 3) as i32).collect::<Vec<_>>())),
        Arc::new(StringArray::from(ids.iter().map(|i| [Some("EU"), Some("a b:c/d%"), None][(*i % 3) as usize]).collect::<Vec<_>>())),
    ];
    if extra {
        fields.push(Field::new("extra", DataType::Int64, true));
        columns.push(Arc::new(Int64Array::from(ids.iter().map(|i| i * 10).collect::<Vec<_>>())));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

async fn append(dir: &std::path::Path, batch: RecordBatch) {
    std::fs::create_dir_all(dir).unwrap();
    let table = DeltaTable::try_from_url(url::Url::from_directory_path(dir.canonicalize().unwrap()).unwrap()).await.unwrap();
    table
        .write(vec![batch])
        .with_save_mode(SaveMode::Append)
        .with_partition_columns(["day", "region"])
        .with_schema_mode(deltalake::operations::write::SchemaMode::Merge)
        .await
        .unwrap();
}

async fn rows_of(provider: Arc<dyn TableProvider>, filter: &str) -> (String, usize) {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ctx.register_table("t", provider).unwrap();
    let batches = ctx
        .sql(&format!("SELECT id, at, note, day, region, extra FROM t WHERE {filter} ORDER BY id"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let n = batches.iter().map(|b| b.num_rows()).sum();
    (pretty_format_batches(&batches).unwrap().to_string(), n)
}

#[tokio::test]
async fn the_plain_parquet_scan_reads_what_deltalakes_scan_reads() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("events");
    for first in [0, 300] {
        append(&location, rows(first, 300, false)).await;
    }
    append(&location, rows(600, 300, true)).await; // `extra` appears only in the last files
    let (_s, state) = opened(dir.path(), &[("events", &location)]).await.remove(0);
    let state = Arc::new(state);
    let delta: Arc<dyn TableProvider> = state.delta().unwrap().table_provider().await.unwrap();
    let plain: Arc<dyn TableProvider> = Arc::new(ParquetTable::of(&state, &delta.schema()).unwrap().expect("a plain table"));

    // 2026-01-01T00:00:00.004200Z is row 600's instant: inside a millisecond the log rounds down.
    for filter in [
        "true",
        "at > TIMESTAMP '2026-01-01T00:00:00.004200Z'",
        "at >= TIMESTAMP '2026-01-01T00:00:00.006293Z'",
        "day = DATE '2026-01-02'",
        "region IS NULL",
        "region = 'a b:c/d%'",
        "extra IS NULL",
        "extra > 8000",
        "note LIKE 'n1%'",
        "id >= 250 AND id < 260",
        "id > 100000",
    ] {
        let (expected, n) = rows_of(delta.clone(), filter).await;
        let (got, _) = rows_of(plain.clone(), filter).await;
        assert_eq!(got, expected, "{filter}");
        assert!(n > 0 || filter.starts_with("id >"), "{filter} keeps rows");
    }

    // Files the log rules out are not read: one day of three, and ids past the last file's.
    let all = ParquetTable::of(&state, &delta.schema()).unwrap().unwrap();
    let ctx = SessionContext::new();
    let kept = |sql: &'static str| {
        let ctx = &ctx;
        let all = &all;
        async move {
            let schema = deltalake::datafusion::common::DFSchema::try_from(all.schema()).unwrap();
            let expr = ctx.parse_sql_expr(sql, &schema).unwrap();
            all.pruned(&ctx.state(), &[expr]).unwrap().len()
        }
    };
    let total = kept("true").await;
    assert_eq!(total, 9, "three commits of three partitions each");
    assert_eq!(kept("day = DATE '2026-01-02'").await, 3);
    assert_eq!(kept("region IS NULL").await, 3);
    assert_eq!(kept("id >= 600").await, 3);
    // Files from before the column state nothing about it and are read; the newer ones are not.
    assert_eq!(kept("extra > 9000").await, 6);
}

#[tokio::test]
async fn tables_with_deletion_vectors_or_column_mapping_keep_deltalakes_scan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/testdata/delta");
    let dir = tempfile::tempdir().unwrap();
    let tables = ["table-with-dv-small", "table_with_column_mapping"].map(|name| (name, root.join(name)));
    let tables: Vec<(&str, &std::path::Path)> = tables.iter().map(|(n, p)| (*n, p.as_path())).collect();
    for ((name, _), (_s, state)) in tables.iter().zip(opened(dir.path(), &tables).await) {
        let delta = state.delta().unwrap().table_provider().await.unwrap();
        assert!(ParquetTable::of(&Arc::new(state), &delta.schema()).unwrap().is_none(), "{name}");
    }
}

/// Each table shared with one unscoped recipient and opened at its latest version as they see it.
async fn opened(data: &std::path::Path, tables: &[(&str, &std::path::Path)]) -> Vec<(Arc<Services>, ScopedTable)> {
    let s = Arc::new(Services::open(Settings::for_tests(data)).await.unwrap());
    s.catalog.create_share("s", None).await.unwrap();
    for (name, location) in tables {
        let location = location.to_string_lossy();
        let table = NewTable { share: "s", schema: "x", name, location: &location, comment: None, history_shared: false, scope: None };
        s.catalog.add_table(table).await.unwrap();
    }
    let r = s.catalog.create_recipient("r", None, BTreeMap::new()).await.unwrap();
    s.catalog.grant("s", "r").await.unwrap();
    let mut out = Vec::new();
    for (name, _) in tables {
        let t = Access::new(&s.catalog, &r).table("s", "x", name).await.unwrap();
        out.push((s.clone(), t.open(&s.stores, At::Latest).await.unwrap()));
    }
    out
}
