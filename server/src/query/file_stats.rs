//! The log's per-file statistics as DataFusion pruning statistics: which files a view's filters
//! can skip without opening them. Partition columns count as columns whose minimum and maximum
//! are the file's partition value.
//!
//! Only bounds that are safe are given: a maximum the writer may have truncated (a string of 32
//! characters or more) is unknown, and a timestamp's maximum, which the log keeps to the
//! millisecond, is raised to the end of its millisecond.

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray, UInt64Array};
use deltalake::arrow::compute::{cast_with_options, CastOptions};
use deltalake::arrow::datatypes::{DataType, TimeUnit};
use deltalake::datafusion::common::pruning::PruningStatistics;
use deltalake::datafusion::common::{Column, ScalarValue};
use serde_json::Value;

use crate::storage::partitions::PartitionValues;

/// Strings the writer may have cut short: Spark's Delta writer keeps 32 characters of each.
const TRUNCATED_AT: usize = 32;

/// Statistics of the files of one scan, in its order.
pub struct FileStats<'a> {
    partition_values: Vec<&'a PartitionValues>,
    /// Each file's statistics, parsed (`Null` when unknown).
    stats: Vec<Value>,
    partition_columns: &'a [String],
    /// The table's columns and their types.
    types: &'a dyn Fn(&str) -> Option<DataType>,
}

impl<'a> FileStats<'a> {
    /// Each file's partition values and, when read, the log's statistics text.
    pub fn new(
        files: impl Iterator<Item = (&'a PartitionValues, Option<&'a str>)>,
        partition_columns: &'a [String],
        types: &'a dyn Fn(&str) -> Option<DataType>,
    ) -> Self {
        let (partition_values, stats) =
            files.map(|(values, stats)| (values, stats.and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null))).unzip();
        Self { partition_values, stats, partition_columns, types }
    }

    fn is_partition(&self, name: &str) -> bool {
        self.partition_columns.iter().any(|p| p == name)
    }

    /// One bound of `column` in every file, typed as the column; `max` bounds are made safe.
    fn bound(&self, column: &Column, key: &str, max: bool) -> Option<ArrayRef> {
        let data_type = (self.types)(&column.name)?;
        if data_type.is_nested() || matches!(data_type, DataType::Binary | DataType::LargeBinary | DataType::BinaryView) {
            return None;
        }
        let texts: StringArray = if self.is_partition(&column.name) {
            self.partition_values.iter().map(|values| values.get(&column.name).cloned().flatten()).collect()
        } else {
            self.stats.iter().map(|s| text(&s[key][&column.name], max)).collect()
        };
        let typed = cast_with_options(&texts, &data_type, &CastOptions { safe: true, ..Default::default() }).ok()?;
        if max && !self.is_partition(&column.name) {
            if let DataType::Timestamp(unit, _) = &data_type {
                return end_of_millisecond(&typed, unit, &data_type);
            }
        }
        Some(typed)
    }
}

/// A statistic as text to cast; a string maximum that may be truncated is unknown.
fn text(value: &Value, max: bool) -> Option<String> {
    match value {
        Value::String(s) if max && s.chars().count() >= TRUNCATED_AT => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Timestamps' maxima raised to the last instant of their millisecond.
fn end_of_millisecond(typed: &ArrayRef, unit: &TimeUnit, data_type: &DataType) -> Option<ArrayRef> {
    let per_ms = match unit {
        TimeUnit::Second | TimeUnit::Millisecond => return Some(typed.clone()),
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1_000_000,
    };
    let raw = cast_with_options(typed, &DataType::Int64, &CastOptions::default()).ok()?;
    let raw = raw.as_any().downcast_ref::<Int64Array>()?;
    let raised: Int64Array = raw.iter().map(|v| v.map(|v| v.saturating_add(per_ms - 1))).collect();
    cast_with_options(&raised, data_type, &CastOptions::default()).ok()
}

impl PruningStatistics for FileStats<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bound(column, "minValues", false)
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bound(column, "maxValues", true)
    }

    fn num_containers(&self) -> usize {
        self.partition_values.len()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        (self.types)(&column.name)?;
        let counts: UInt64Array = if self.is_partition(&column.name) {
            self.partition_values
                .iter()
                .zip(&self.stats)
                .map(|(values, s)| match values.get(&column.name).cloned().flatten() {
                    Some(_) => Some(0),
                    None => s["numRecords"].as_u64(),
                })
                .collect()
        } else {
            self.stats.iter().map(|s| s["nullCount"][&column.name].as_u64()).collect()
        };
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(self.stats.iter().map(|s| s["numRecords"].as_u64()).collect::<UInt64Array>()))
    }

    fn contained(&self, _column: &Column, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::FileAction;
    use std::collections::HashMap;

    fn file(stats: &str, part: Option<&str>) -> FileAction {
        FileAction {
            path: "f.parquet".into(),
            size: 1,
            partition_values: HashMap::from([("day".to_string(), part.map(String::from))]),
            stats: Some(stats.into()),
            deleted_rows: 0,
            raw: Value::Null,
        }
    }

    #[test]
    fn bounds_are_typed_and_only_safe_ones_are_given() {
        let long = "x".repeat(40);
        let files = [
            file(
                r#"{"numRecords":3,"minValues":{"n":1,"s":"a","t":"2024-01-01T00:00:00.123Z"},"maxValues":{"n":9,"s":"b","t":"2024-01-01T00:00:00.123Z"},"nullCount":{"n":0}}"#,
                Some("2024-01-01"),
            ),
            file(&format!(r#"{{"numRecords":2,"minValues":{{"s":"{long}"}},"maxValues":{{"s":"{long}"}}}}"#), None),
        ];
        let parts = vec!["day".to_string()];
        let types = |name: &str| match name {
            "n" => Some(DataType::Int64),
            "s" => Some(DataType::Utf8),
            "t" => Some(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))),
            "day" => Some(DataType::Date32),
            _ => None,
        };
        let stats = FileStats::new(files.iter().map(|f| (&f.partition_values, f.stats.as_deref())), &parts, &types);
        let col = |n: &str| Column::from_name(n);
        let max_n = stats.max_values(&col("n")).unwrap();
        assert_eq!(max_n.as_any().downcast_ref::<Int64Array>().unwrap().iter().collect::<Vec<_>>(), vec![Some(9), None]);
        // A 40-character maximum may be a cut-off prefix: unknown. Its minimum is still safe.
        let max_s = stats.max_values(&col("s")).unwrap();
        assert!(max_s.is_valid(0) && max_s.is_null(1));
        assert!(stats.min_values(&col("s")).unwrap().is_valid(1));
        // The millisecond maximum covers the microseconds after it.
        let max_t = cast_with_options(&stats.max_values(&col("t")).unwrap(), &DataType::Int64, &CastOptions::default()).unwrap();
        let min_t = cast_with_options(&stats.min_values(&col("t")).unwrap(), &DataType::Int64, &CastOptions::default()).unwrap();
        let (max_t, min_t) = (max_t.as_any().downcast_ref::<Int64Array>().unwrap(), min_t.as_any().downcast_ref::<Int64Array>().unwrap());
        assert_eq!(max_t.value(0) - min_t.value(0), 999);
        // Partition values are both bounds; a null partition is all nulls.
        let day = stats.min_values(&col("day")).unwrap();
        assert!(day.is_valid(0) && day.is_null(1));
        let nulls = stats.null_counts(&col("day")).unwrap();
        assert_eq!(nulls.as_any().downcast_ref::<UInt64Array>().unwrap().iter().collect::<Vec<_>>(), vec![Some(0), Some(2)]);
        assert!(stats.min_values(&col("nope")).is_none());
    }
}
