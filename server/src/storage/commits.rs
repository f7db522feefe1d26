//! What a commit changed: its data files, for the change feed and for `startingVersion` reads.

use serde_json::Value;

use super::delta::{Commit, FileAction};

impl Commit {
    /// The `protocol` action of this commit, if it changed the table's protocol.
    pub fn protocol(&self) -> Option<&serde_json::Value> {
        self.actions.iter().find_map(|a| a.get("protocol"))
    }

    /// The data-changing files of one commit. For the change feed, a commit that wrote change
    /// files (`cdc`) is described by those alone; otherwise its adds are inserts and its removes deletes.
    pub fn data_changes(&self, change_feed: bool) -> Vec<(&'static str, FileAction)> {
        let has_cdc = change_feed && self.actions.iter().any(|a| a.get("cdc").is_some());
        let mut out = Vec::new();
        for action in &self.actions {
            let (kind, body) = if has_cdc {
                match action.get("cdc") {
                    Some(b) => ("cdf", b),
                    None => continue,
                }
            } else if let Some(b) = action.get("add") {
                ("add", b)
            } else if let Some(b) = action.get("remove") {
                ("remove", b)
            } else {
                continue;
            };
            if kind != "cdf" && body.get("dataChange").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            if let Some(file) = file_action(body) {
                out.push((kind, file));
            }
        }
        out
    }
}

fn file_action(body: &Value) -> Option<FileAction> {
    let raw_path = body.get("path")?.as_str()?;
    let path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy().into_owned();
    let partition_values = body
        .get("partitionValues")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map(String::from))).collect())
        .unwrap_or_default();
    Some(FileAction {
        path,
        size: body.get("size").and_then(Value::as_i64).unwrap_or(0),
        partition_values,
        stats: body.get("stats").and_then(Value::as_str).map(String::from),
        deleted_rows: body["deletionVector"]["cardinality"].as_i64().unwrap_or(0),
        raw: body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn commit(actions: Vec<Value>) -> Commit {
        Commit { version: 3, timestamp: 1000, actions }
    }

    #[test]
    fn cdc_files_describe_their_commit() {
        let c = commit(vec![
            json!({"commitInfo": {}}),
            json!({"add": {"path": "p=1/a.parquet", "size": 5, "partitionValues": {"p": "1"}, "dataChange": true}}),
            json!({"cdc": {"path": "_change_data/p=1/c.parquet", "size": 7, "partitionValues": {"p": "1"}, "dataChange": false}}),
        ]);
        let feed = c.data_changes(true);
        assert_eq!(feed.len(), 1);
        assert_eq!((feed[0].0, feed[0].1.size), ("cdf", 7));
        let stream = c.data_changes(false);
        assert_eq!(stream.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["add"]);
    }

    #[test]
    fn plain_commits_are_inserts_and_deletes_and_paths_decode() {
        let c = commit(vec![
            json!({"add": {"path": "p=a%20b/x.parquet", "size": 1, "partitionValues": {"p": "a b"}, "dataChange": true}}),
            json!({"remove": {"path": "old.parquet", "size": 2, "dataChange": true}}),
            json!({"add": {"path": "compacted.parquet", "size": 3, "dataChange": false}}),
        ]);
        let feed = c.data_changes(true);
        assert_eq!(
            feed.iter().map(|(k, f)| (*k, f.path.as_str())).collect::<Vec<_>>(),
            [("add", "p=a b/x.parquet"), ("remove", "old.parquet")]
        );
    }
}
