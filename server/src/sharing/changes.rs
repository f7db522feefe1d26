//! `GET …/changes`: the change data feed, as add/cdf/remove lines per commit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::Value;

use super::lines::{FileIdHash, Lines};
use super::respond::{ndjson, AuditNote, Stream};
use super::table::{capabilities, TablePath};
use crate::auth::time_travel::{check_range, parse_timestamp, require_history};
use crate::auth::{Access, Caller};
use crate::error::{PortalError, Result};
use crate::storage::delta::{resolve_timestamp, Direction};
use crate::storage::{At, Commit, FileAction, FileUrls};
use crate::Services;

pub async fn changes(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path((share, schema, table)): TablePath,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response> {
    let t = Access::new(&s.catalog, &caller.recipient).table(&share, &schema, &table).await?;
    let qualified = t.table.qualified_name();
    require_history(&t)?;
    let state = super::table::open(&s, &t, At::Latest).await?;
    if !state.cdf_enabled()? {
        return Err(PortalError::InvalidParameter(format!("cdf is not enabled on table {qualified}")));
    }
    let history = state.history().await?;
    let number = |name: &str| -> Result<Option<i64>> {
        params.get(name).map(|v| v.parse::<i64>().map_err(|_| PortalError::InvalidParameter(format!("{name} `{v}` is not a version number")))).transpose()
    };
    let start = match (number("startingVersion")?, params.get("startingTimestamp")) {
        (Some(_), Some(_)) => return Err(PortalError::InvalidParameter("Please only provide one of: startingVersion, startingTimestamp".into())),
        (Some(v), None) => v,
        (None, Some(ts)) => resolve_timestamp(&history, parse_timestamp(ts, "startingTimestamp")?, Direction::AtOrAfter)?,
        (None, None) => return Err(PortalError::InvalidParameter("startingVersion or startingTimestamp is required".into())),
    };
    let end = match (number("endingVersion")?, params.get("endingTimestamp")) {
        (Some(_), Some(_)) => return Err(PortalError::InvalidParameter("Please only provide one of: endingVersion, endingTimestamp".into())),
        (Some(v), None) => Some(v),
        (None, Some(ts)) => Some(resolve_timestamp(&history, parse_timestamp(ts, "endingTimestamp")?, Direction::AtOrBefore)?),
        (None, None) => None,
    };
    let latest = state.version();
    check_range(start, end, latest)?;
    if let Some(first) = history.first() {
        if start < first.0 {
            return Err(PortalError::InvalidParameter(format!("startingVersion {start} is before the earliest available version {}", first.0)));
        }
    }
    let end = end.unwrap_or(latest).min(latest);

    let format = capabilities(&headers).choose(&qualified, &state.advanced_features()?)?;
    let mut lines = Lines::new(format, FileIdHash::for_format(format), FileUrls::of(&s.signer, &t.table.id, &state));
    lines.protocol(&state.protocol()?);
    // Readers rebuild a log that starts at `start`: its metadata must carry that version.
    lines.metadata(&state.metadata()?, Some(start).filter(|_| format == super::capabilities::Format::Delta));
    for commit in state.commits(&history, start, end).await? {
        for (kind, mut file) in data_changes(&commit, true) {
            file.partition_values = state.logical(file.partition_values);
            if t.scope.allows(&file.partition_values) {
                lines.file(kind, &file, Some((commit.version, commit.timestamp))).await?;
            }
        }
    }
    let note = AuditNote {
        files: Some(lines.files),
        bytes: Some(lines.bytes),
        detail: Some(format!("versions {start}..={end}")),
        ..AuditNote::new("queryTableChanges", qualified)
    };
    let stream = Stream { version: start, format, end_stream: false, body: lines.finish() };
    Ok(ndjson(stream, None, note))
}

/// The data-changing files of one commit. For the change feed, a commit that wrote change
/// files (`cdc`) is described by those alone; otherwise its adds are inserts and its removes deletes.
pub fn data_changes(commit: &Commit, change_feed: bool) -> Vec<(&'static str, FileAction)> {
    let has_cdc = change_feed && commit.actions.iter().any(|a| a.get("cdc").is_some());
    let mut out = Vec::new();
    for action in &commit.actions {
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
        let feed = data_changes(&c, true);
        assert_eq!(feed.len(), 1);
        assert_eq!((feed[0].0, feed[0].1.size), ("cdf", 7));
        let stream = data_changes(&c, false);
        assert_eq!(stream.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["add"]);
    }

    #[test]
    fn plain_commits_are_inserts_and_deletes_and_paths_decode() {
        let c = commit(vec![
            json!({"add": {"path": "p=a%20b/x.parquet", "size": 1, "partitionValues": {"p": "a b"}, "dataChange": true}}),
            json!({"remove": {"path": "old.parquet", "size": 2, "dataChange": true}}),
            json!({"add": {"path": "compacted.parquet", "size": 3, "dataChange": false}}),
        ]);
        let feed = data_changes(&c, true);
        assert_eq!(feed.iter().map(|(k, f)| (*k, f.path.as_str())).collect::<Vec<_>>(), [("add", "p=a b/x.parquet"), ("remove", "old.parquet")]);
    }
}
