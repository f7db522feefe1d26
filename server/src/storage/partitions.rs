//! Each file's partition values, read from the log once per snapshot.
//!
//! Reading a file's partition values out of deltalake's Arrow batches builds a map per file:
//! for 50,000 files that is most of a query that a partner's scope or a partition filter
//! narrows to a few hundred. A table has far fewer partitions than files, so the files of one
//! partition share one map, and a file costs four bytes here.

use std::collections::HashMap;
use std::sync::Arc;

/// Partition values keyed by logical column name (`None`: the null partition).
pub type PartitionValues = HashMap<String, Option<String>>;

#[derive(Debug, Default)]
pub struct PartitionIndex {
    distinct: Vec<Arc<PartitionValues>>,
    /// Per file, in the snapshot's order: its partition in `distinct`.
    of_file: Vec<u32>,
}

impl PartitionIndex {
    /// Interns the files' values, in the snapshot's order.
    pub fn build(files: impl Iterator<Item = PartitionValues>) -> Self {
        let mut index = Self::default();
        let mut seen: HashMap<Vec<(String, Option<String>)>, u32> = HashMap::new();
        for values in files {
            let mut key: Vec<_> = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            key.sort_unstable();
            let next = index.distinct.len() as u32;
            let id = *seen.entry(key).or_insert(next);
            if id == next {
                index.distinct.push(Arc::new(values));
            }
            index.of_file.push(id);
        }
        index
    }

    /// The values of the file at `position`; empty past the last file.
    pub fn of(&self, position: u32) -> Arc<PartitionValues> {
        self.of_file.get(position as usize).map(|&id| self.distinct[id as usize].clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(day: Option<&str>) -> PartitionValues {
        HashMap::from([("day".to_string(), day.map(str::to_string))])
    }

    #[test]
    fn files_of_one_partition_share_its_values() {
        let days = [Some("2024-01-01"), None, Some("2024-01-01"), Some("2024-01-02"), None];
        let index = PartitionIndex::build(days.iter().map(|d| values(*d)));
        assert_eq!(index.distinct.len(), 3);
        for (position, day) in days.iter().enumerate() {
            assert_eq!(*index.of(position as u32), values(*day));
        }
        assert!(Arc::ptr_eq(&index.of(0), &index.of(2)));
        assert!(index.of(5).is_empty());
    }
}
