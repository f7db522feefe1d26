//! The ndjson lines of the streaming endpoints, in parquet or delta format. One compact JSON
//! object per line, every line ending in `\n` (Tableau's connector drops the last split).

use md5::Md5;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::capabilities::Format;
use crate::storage::{FileAction, UrlSigner};

/// How file ids are derived (`fileidhash` header; default per format, as the reference server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileIdHash {
    Md5,
    Sha256,
}

impl FileIdHash {
    pub fn for_format(format: Format) -> Self {
        match format {
            Format::Parquet => Self::Md5,
            Format::Delta => Self::Sha256,
        }
    }

    fn id(self, path: &str) -> String {
        match self {
            Self::Md5 => hex::encode(Md5::digest(path.as_bytes())),
            Self::Sha256 => hex::encode(Sha256::digest(path.as_bytes())),
        }
    }
}

/// Accumulates a response body; counts what it hands out for the audit log.
pub struct Lines<'a> {
    pub format: Format,
    pub id_hash: FileIdHash,
    signer: &'a UrlSigner,
    table_id: &'a str,
    body: String,
    pub files: i64,
    pub bytes: i64,
    pub min_expiry: Option<i64>,
}

impl<'a> Lines<'a> {
    pub fn new(format: Format, id_hash: FileIdHash, signer: &'a UrlSigner, table_id: &'a str) -> Self {
        Self { format, id_hash, signer, table_id, body: String::new(), files: 0, bytes: 0, min_expiry: None }
    }

    fn push(&mut self, v: Value) {
        self.body.push_str(&v.to_string());
        self.body.push('\n');
    }

    pub fn protocol(&mut self, protocol: &Value) {
        match self.format {
            Format::Parquet => self.push(json!({"protocol": {"minReaderVersion": 1}})),
            Format::Delta => self.push(json!({"protocol": {"deltaProtocol": protocol}})),
        }
    }

    /// `metadata` is the Delta `metaData` action as in the log.
    pub fn metadata(&mut self, metadata: &Value, version: Option<i64>) {
        match self.format {
            Format::Parquet => {
                let mut m = Map::new();
                for key in ["id", "name", "description"] {
                    if let Some(v) = metadata.get(key).filter(|v| !v.is_null()) {
                        m.insert(key.into(), v.clone());
                    }
                }
                m.insert("format".into(), json!({"provider": "parquet"}));
                m.insert("schemaString".into(), metadata["schemaString"].clone());
                m.insert("partitionColumns".into(), metadata.get("partitionColumns").cloned().unwrap_or(json!([])));
                if let Some(c) = metadata.get("configuration").filter(|c| c.as_object().is_some_and(|o| !o.is_empty())) {
                    m.insert("configuration".into(), c.clone());
                }
                if let Some(v) = version {
                    m.insert("version".into(), v.into());
                }
                self.push(json!({ "metaData": m }));
            }
            Format::Delta => {
                let mut m = Map::new();
                if let Some(v) = version {
                    m.insert("version".into(), v.into());
                }
                m.insert("deltaMetadata".into(), metadata.clone());
                self.push(json!({ "metaData": m }));
            }
        }
    }

    /// A data file. `kind` is `file` for snapshots, `add`/`cdf`/`remove` for changes;
    /// `commit` is (version, timestamp) for lines that come from a commit.
    pub fn file(&mut self, kind: &str, f: &FileAction, commit: Option<(i64, i64)>) {
        let signed = self.signer.sign(self.table_id, &f.path);
        self.files += 1;
        self.bytes += f.size;
        self.min_expiry = Some(self.min_expiry.map_or(signed.expires_at, |m| m.min(signed.expires_at)));
        let id = self.id_hash.id(&f.path);
        let mut m = Map::new();
        match self.format {
            Format::Parquet => {
                m.insert("url".into(), signed.url.into());
                m.insert("id".into(), id.into());
                m.insert("partitionValues".into(), json!(f.partition_values));
                m.insert("size".into(), f.size.into());
                if kind != "cdf" {
                    if let Some(stats) = &f.stats {
                        m.insert("stats".into(), stats.clone().into());
                    }
                }
                m.insert("expirationTimestamp".into(), signed.expires_at.into());
                if let Some((version, timestamp)) = commit {
                    m.insert("version".into(), version.into());
                    m.insert("timestamp".into(), timestamp.into());
                }
                self.push(json!({ kind: m }));
            }
            Format::Delta => {
                let action = match kind {
                    "cdf" => "cdc",
                    "remove" => "remove",
                    _ => "add",
                };
                let mut raw = f.raw.clone();
                raw["path"] = signed.url.into();
                m.insert("id".into(), id.into());
                m.insert("expirationTimestamp".into(), signed.expires_at.into());
                if let Some((version, timestamp)) = commit {
                    m.insert("version".into(), version.into());
                    m.insert("timestamp".into(), timestamp.into());
                }
                m.insert("deltaSingleAction".into(), json!({ action: raw }));
                self.push(json!({ "file": m }));
            }
        }
    }

    pub fn end_stream(&mut self, next_page_token: Option<String>, refresh_token: Option<String>) {
        let mut m = Map::new();
        if let Some(t) = next_page_token {
            m.insert("nextPageToken".into(), t.into());
        }
        if let Some(t) = refresh_token {
            m.insert("refreshToken".into(), t.into());
        }
        if let Some(e) = self.min_expiry {
            m.insert("minUrlExpirationTimestamp".into(), e.into());
        }
        self.push(json!({ "endStreamAction": m }));
    }

    pub fn finish(self) -> String {
        self.body
    }
}
