//! The ndjson lines of the streaming endpoints, in parquet or delta format. One compact JSON
//! object per line, every line ending in `\n` (Tableau's connector drops the last split).

use md5::Md5;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::capabilities::Format;
use std::collections::HashMap;

use crate::error::{PortalError, Result};
use crate::storage::signing::SignedUrl;
use crate::storage::{Commit, FileAction, FileUrls};

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

    /// The value echoed in the `fileidhash` response header.
    pub fn echo(self) -> &'static str {
        match self {
            Self::Md5 => "parquet",
            Self::Sha256 => "delta",
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
    urls: FileUrls<'a>,
    /// URLs handed out in this answer, by path: a file named twice (an add and the remove
    /// of the same commit) must carry the same URL, or readers cannot pair them. `None` for a
    /// snapshot, which names each file once (a million paths are not kept).
    signed: Option<HashMap<String, SignedUrl>>,
    body: String,
    pub files: i64,
    pub bytes: i64,
    pub min_expiry: Option<i64>,
}

impl<'a> Lines<'a> {
    pub fn new(format: Format, id_hash: FileIdHash, urls: FileUrls<'a>) -> Self {
        Self { format, id_hash, urls, signed: Some(HashMap::new()), body: String::new(), files: 0, bytes: 0, min_expiry: None }
    }

    /// Lines of a snapshot's files, each named once: URLs are not remembered.
    pub fn for_snapshot(format: Format, id_hash: FileIdHash, urls: FileUrls<'a>) -> Self {
        Self { signed: None, ..Self::new(format, id_hash, urls) }
    }

    /// The lines written since the last take, once they fill at least `at_least` bytes.
    pub fn take(&mut self, at_least: usize) -> Option<String> {
        (self.body.len() >= at_least && !self.body.is_empty()).then(|| std::mem::take(&mut self.body))
    }

    fn push(&mut self, v: Value) {
        self.body.push_str(&v.to_string());
        self.body.push('\n');
    }

    pub fn protocol(&mut self, protocol: &Value) {
        self.protocol_at(protocol, None);
    }

    /// A protocol line; with `includeHistoricalProtocol` every delta-format one names the log
    /// version it comes from (parquet readers get the fixed line and nothing historical).
    pub fn protocol_at(&mut self, protocol: &Value, version: Option<i64>) {
        match (self.format, version) {
            (Format::Parquet, _) => self.push(json!({"protocol": {"minReaderVersion": 1}})),
            (Format::Delta, None) => self.push(json!({"protocol": {"deltaProtocol": protocol}})),
            (Format::Delta, Some(v)) => self.push(json!({"protocol": {"version": v, "deltaProtocol": protocol}})),
        }
    }

    /// The protocol a commit after the starting version changed to, inlined before its files
    /// (`includeHistoricalProtocol`, delta format only).
    pub fn historical_protocol(&mut self, commit: &Commit, start: i64) {
        if self.format == Format::Delta && commit.version > start {
            if let Some(protocol) = commit.protocol() {
                self.protocol_at(protocol, Some(commit.version));
            }
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
    pub async fn file(&mut self, kind: &str, f: &FileAction, commit: Option<(i64, i64)>) -> Result<()> {
        let signed = self.sign(&f.path).await?;
        self.files += 1;
        self.bytes += f.size;
        let id = self.id_hash.id(&f.path);
        match self.format {
            Format::Parquet => {
                let stats = f.stats.as_deref().filter(|_| kind != "cdf");
                parquet_file_line(&mut self.body, kind, &signed, &id, f, stats, commit);
            }
            Format::Delta => {
                let action = match kind {
                    "cdf" => "cdc",
                    "remove" => "remove",
                    _ => "add",
                };
                let mut raw = f.raw.clone();
                raw["path"] = signed.url.into();
                let mut expires_at = signed.expires_at;
                if let Some(dv) = raw.get_mut("deletionVector").filter(|dv| dv.is_object()) {
                    if let Some(dv_expiry) = self.share_deletion_vector(dv).await? {
                        expires_at = expires_at.min(dv_expiry);
                    }
                }
                let mut m = Map::new();
                m.insert("id".into(), id.into());
                m.insert("expirationTimestamp".into(), expires_at.into());
                if let Some((version, timestamp)) = commit {
                    m.insert("version".into(), version.into());
                    m.insert("timestamp".into(), timestamp.into());
                }
                m.insert("deltaSingleAction".into(), json!({ action: raw }));
                self.push(json!({ "file": m }));
            }
        }
        Ok(())
    }

    /// The URL of `path` in this answer, signed on first use.
    async fn sign(&mut self, path: &str) -> Result<SignedUrl> {
        if let Some(signed) = self.signed.as_ref().and_then(|known| known.get(path)) {
            return Ok(signed.clone());
        }
        let signed = self.urls.sign(path).await?;
        self.min_expiry = Some(self.min_expiry.map_or(signed.expires_at, |m| m.min(signed.expires_at)));
        if let Some(known) = self.signed.as_mut() {
            known.insert(path.to_string(), signed.clone());
        }
        Ok(signed)
    }

    /// A deletion vector kept in a file of the table (`storageType` `u`) becomes an absolute,
    /// signed one (`p`), as the protocol's readers fetch it; `offset`, `sizeInBytes` and
    /// `cardinality` stay, since the URL serves the whole file. Inline vectors (`i`) need
    /// nothing. Returns the expiry of the URL it signed.
    async fn share_deletion_vector(&mut self, dv: &mut Value) -> Result<Option<i64>> {
        match dv["storageType"].as_str() {
            Some("u") => {
                let encoded = dv["pathOrInlineDv"].as_str().unwrap_or_default();
                let path = deletion_vector_path(encoded)
                    .ok_or_else(|| PortalError::Storage(format!("deletion vector `{encoded}` is not a valid UUID-relative descriptor")))?;
                let signed = self.sign(&path).await?;
                dv["storageType"] = "p".into();
                dv["pathOrInlineDv"] = signed.url.into();
                if let Some(o) = dv.as_object_mut() {
                    o.remove("maxRowIndex");
                }
                Ok(Some(signed.expires_at))
            }
            Some("i") => Ok(None),
            // An absolute path may lie anywhere, even outside what the table's credentials reach.
            _ => Err(PortalError::Unsupported(
                "this table keeps deletion vectors by absolute path, which cannot be shared; please contact your data provider".into(),
            )),
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

/// Appends a file line of the parquet format. Written by hand, not through a JSON tree: it is
/// the hot path of a query of many files. Keys in the order of the protocol's examples,
/// partition values by name (the same file, the same line).
fn parquet_file_line(
    out: &mut String,
    kind: &str,
    signed: &SignedUrl,
    id: &str,
    f: &FileAction,
    stats: Option<&str>,
    commit: Option<(i64, i64)>,
) {
    let mut number = itoa::Buffer::new();
    out.push_str("{\"");
    out.push_str(kind);
    out.push_str("\":{\"url\":");
    json_string(out, &signed.url);
    out.push_str(",\"id\":");
    json_string(out, id);
    out.push_str(",\"partitionValues\":{");
    let mut values: Vec<_> = f.partition_values.iter().collect();
    values.sort_unstable_by_key(|(k, _)| k.as_str());
    for (i, (name, value)) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, name);
        out.push(':');
        match value {
            Some(v) => json_string(out, v),
            None => out.push_str("null"),
        }
    }
    out.push_str("},\"size\":");
    out.push_str(number.format(f.size));
    if let Some(stats) = stats {
        out.push_str(",\"stats\":");
        json_string(out, stats);
    }
    out.push_str(",\"expirationTimestamp\":");
    out.push_str(number.format(signed.expires_at));
    if let Some((version, timestamp)) = commit {
        out.push_str(",\"version\":");
        out.push_str(number.format(version));
        out.push_str(",\"timestamp\":");
        out.push_str(number.format(timestamp));
    }
    out.push_str("}}\n");
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The file of a UUID-relative deletion vector: an optional folder prefix, then 20 characters of
/// Z85 that encode the UUID of `deletion_vector_<uuid>.bin` (Delta protocol, "Deletion Vector Descriptor").
pub fn deletion_vector_path(encoded: &str) -> Option<String> {
    let split = encoded.len().checked_sub(20)?;
    let (prefix, z85) = (encoded.get(..split)?, encoded.get(split..)?);
    let uuid = uuid::Uuid::from_slice(&z85_decode(z85)?).ok()?;
    let name = format!("deletion_vector_{uuid}.bin");
    Some(if prefix.is_empty() { name } else { format!("{prefix}/{name}") })
}

fn z85_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 85] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if !text.len().is_multiple_of(5) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for chunk in text.as_bytes().chunks(5) {
        let mut value: u64 = 0;
        for c in chunk {
            value = value * 85 + ALPHABET.iter().position(|a| a == c)? as u64;
        }
        out.extend_from_slice(&u32::try_from(value).ok()?.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in ["", "plain", "q\"uote", "back\\slash", "{\"numRecords\":3}", "\n\r\t\u{8}\u{c}\u{1}\u{1f}", "ünï 😀 /", "\u{7f}"] {
            let mut out = String::new();
            json_string(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn parquet_file_lines_are_the_protocols_json() {
        let f = FileAction {
            path: "p=1/a.parquet".into(),
            size: 42,
            partition_values: HashMap::from([("z".into(), Some("x\"y".into())), ("a".into(), None)]),
            stats: Some("{\"numRecords\":3}".into()),
            deleted_rows: 0,
            raw: Value::Null,
        };
        let signed = SignedUrl { url: "http://h/files/t/p%3D1/a.parquet?sp=r&exp=9&sig=s".into(), expires_at: 9 };
        let mut out = String::new();
        parquet_file_line(&mut out, "add", &signed, "abc", &f, f.stats.as_deref(), Some((3, 1000)));
        assert!(out.ends_with('\n'));
        let expected = r#"{"add":{"url":"http://h/files/t/p%3D1/a.parquet?sp=r&exp=9&sig=s","id":"abc","partitionValues":{"a":null,"z":"x\"y"},"size":42,"stats":"{\"numRecords\":3}","expirationTimestamp":9,"version":3,"timestamp":1000}}"#;
        assert_eq!(out.trim_end(), expected);
        let mut without = String::new();
        parquet_file_line(&mut without, "file", &signed, "abc", &f, None, None);
        let v: Value = serde_json::from_str(&without).unwrap();
        assert_eq!(v["file"]["expirationTimestamp"], 9);
        assert!(v["file"].get("stats").is_none() && v["file"].get("version").is_none());
    }

    #[test]
    fn uuid_relative_deletion_vectors_name_their_file() {
        // Spark wrote this descriptor next to deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin (shared test data).
        assert_eq!(
            deletion_vector_path("vBn[lx{q8@P<9BNH/isA").as_deref(),
            Some("deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin")
        );
        assert_eq!(
            deletion_vector_path("abvBn[lx{q8@P<9BNH/isA").as_deref(),
            Some("ab/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin")
        );
        assert_eq!(deletion_vector_path("short"), None);
        assert_eq!(deletion_vector_path("~~~~~~~~~~~~~~~~~~~~"), None);
    }
}
