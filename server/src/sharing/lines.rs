//! The ndjson lines of the streaming endpoints, in parquet or delta format. One compact JSON
//! object per line, every line ending in `\n` (Tableau's connector drops the last split).

use md5::Md5;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::capabilities::Format;
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{PortalError, Result};
use crate::storage::signing::{PortalUrls, SignedUrl};
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

    /// Names the snapshot renderings of parquet file lines with these ids.
    pub fn rendering(self) -> &'static str {
        match self {
            Self::Md5 => "parquet file lines, md5 ids",
            Self::Sha256 => "parquet file lines, sha256 ids",
        }
    }

    /// The value echoed in the `fileidhash` response header.
    pub fn echo(self) -> &'static str {
        match self {
            Self::Md5 => "parquet",
            Self::Sha256 => "delta",
        }
    }

    pub fn id(self, path: &str) -> String {
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
    body: Vec<u8>,
    /// A URL being written, before it is escaped into the body.
    url: String,
    pub files: i64,
    pub bytes: i64,
    pub min_expiry: Option<i64>,
}

impl<'a> Lines<'a> {
    pub fn new(format: Format, id_hash: FileIdHash, urls: FileUrls<'a>) -> Self {
        Self {
            format,
            id_hash,
            urls,
            signed: Some(HashMap::new()),
            body: Vec::new(),
            url: String::new(),
            files: 0,
            bytes: 0,
            min_expiry: None,
        }
    }

    /// Lines of a snapshot's files, each named once: URLs are not remembered.
    pub fn for_snapshot(format: Format, id_hash: FileIdHash, urls: FileUrls<'a>) -> Self {
        Self { signed: None, ..Self::new(format, id_hash, urls) }
    }

    /// The lines written since the last take, once they fill at least `at_least` bytes.
    pub fn take(&mut self, at_least: usize) -> Option<Vec<u8>> {
        // The next chunk starts at its full size, not grown (and copied) from nothing.
        (self.body.len() >= at_least && !self.body.is_empty())
            .then(|| std::mem::replace(&mut self.body, Vec::with_capacity(at_least + at_least / 8)))
    }

    fn push(&mut self, v: Value) {
        // Writing JSON to memory cannot fail.
        let _ = serde_json::to_writer(&mut self.body, &v);
        self.body.push(b'\n');
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

    /// A snapshot's file from its rendered fragment ([`parquet_file_fragment`]): only the
    /// URL and its expiry are written per request.
    pub async fn rendered_file(&mut self, path: &str, fragment: &[u8]) -> Result<()> {
        let expires_at = match &self.urls {
            FileUrls::Portal(urls) => {
                portal_rendered_line(&mut self.body, &mut self.url, urls, path, fragment);
                urls.expires_at
            }
            FileUrls::Store { .. } => {
                let signed = self.urls.sign(path).await?;
                line_start(&mut self.body, "file", &signed.url);
                self.body.extend_from_slice(fragment);
                line_end(&mut self.body, signed.expires_at, None);
                signed.expires_at
            }
        };
        self.count_rendered(1, expires_at);
        Ok(())
    }

    /// Counts rendered file lines written elsewhere ([`portal_rendered_line`]) into this answer.
    pub fn count_rendered(&mut self, files: usize, expires_at: i64) {
        self.min_expiry = Some(self.min_expiry.map_or(expires_at, |m| m.min(expires_at)));
        self.files += files as i64;
    }

    /// The portal's signer of this answer's URLs, for a local table.
    pub fn portal_urls(&self) -> Option<Arc<PortalUrls>> {
        match &self.urls {
            FileUrls::Portal(urls) => Some(urls.clone()),
            FileUrls::Store { .. } => None,
        }
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

    pub fn finish(self) -> Vec<u8> {
        self.body
    }
}

/// Appends the line of a local table's file from its rendered fragment: the URL signed by
/// the portal (written through `url`, a reused buffer), the rest copied.
pub fn portal_rendered_line(out: &mut Vec<u8>, url: &mut String, urls: &PortalUrls, path: &str, fragment: &[u8]) {
    url.clear();
    urls.write(path, url);
    if urls.json_safe() {
        // Nothing in the URL needs escaping: it goes into the line as it is.
        out.extend_from_slice(b"{\"file\":{\"url\":\"");
        out.extend_from_slice(url.as_bytes());
        out.push(b'"');
    } else {
        line_start(out, "file", url);
    }
    out.extend_from_slice(fragment);
    line_end(out, urls.expires_at, None);
}

/// Appends a file line of the parquet format. Written by hand, not through a JSON tree: it is
/// the hot path of a query of many files. Keys in the order of the protocol's examples.
fn parquet_file_line(
    out: &mut Vec<u8>,
    kind: &str,
    signed: &SignedUrl,
    id: &str,
    f: &FileAction,
    stats: Option<&str>,
    commit: Option<(i64, i64)>,
) {
    line_start(out, kind, &signed.url);
    parquet_file_fragment(out, id, f, stats);
    line_end(out, signed.expires_at, commit);
}

/// The start of a parquet file line: its kind and its URL.
fn line_start(out: &mut Vec<u8>, kind: &str, url: &str) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\":{\"url\":");
    json_string(out, url);
}

/// The part of a parquet file line between its URL and its expiry, the same on every request
/// for the same file: id, partition values (by name: the same file, the same bytes), size, stats.
pub fn parquet_file_fragment(out: &mut Vec<u8>, id: &str, f: &FileAction, stats: Option<&str>) {
    out.extend_from_slice(b",\"id\":");
    json_string(out, id);
    out.extend_from_slice(b",\"partitionValues\":{");
    let mut values: Vec<_> = f.partition_values.iter().collect();
    values.sort_unstable_by_key(|(k, _)| k.as_str());
    for (i, (name, value)) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_string(out, name);
        out.push(b':');
        match value {
            Some(v) => json_string(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"},\"size\":");
    out.extend_from_slice(itoa::Buffer::new().format(f.size).as_bytes());
    if let Some(stats) = stats {
        out.extend_from_slice(b",\"stats\":");
        json_string(out, stats);
    }
}

/// The end of a parquet file line: its expiry, and the commit it comes from, if any.
fn line_end(out: &mut Vec<u8>, expires_at: i64, commit: Option<(i64, i64)>) {
    let mut number = itoa::Buffer::new();
    out.extend_from_slice(b",\"expirationTimestamp\":");
    out.extend_from_slice(number.format(expires_at).as_bytes());
    if let Some((version, timestamp)) = commit {
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(number.format(version).as_bytes());
        out.extend_from_slice(b",\"timestamp\":");
        out.extend_from_slice(number.format(timestamp).as_bytes());
    }
    out.extend_from_slice(b"}}\n");
}

/// Appends `s` as a JSON string (serde_json's own escaping, straight into the buffer).
fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing JSON to memory cannot fail.
    let _ = serde_json::to_writer(out, s);
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
        let mut out = Vec::new();
        parquet_file_line(&mut out, "add", &signed, "abc", &f, f.stats.as_deref(), Some((3, 1000)));
        let out = String::from_utf8(out).unwrap();
        assert!(out.ends_with('\n'));
        let expected = r#"{"add":{"url":"http://h/files/t/p%3D1/a.parquet?sp=r&exp=9&sig=s","id":"abc","partitionValues":{"a":null,"z":"x\"y"},"size":42,"stats":"{\"numRecords\":3}","expirationTimestamp":9,"version":3,"timestamp":1000}}"#;
        assert_eq!(out.trim_end(), expected);
        let mut without = Vec::new();
        parquet_file_line(&mut without, "file", &signed, "abc", &f, None, None);
        let v: Value = serde_json::from_slice(&without).unwrap();
        assert_eq!(v["file"]["expirationTimestamp"], 9);
        assert!(v["file"].get("stats").is_none() && v["file"].get("version").is_none());
    }

    #[tokio::test]
    async fn a_rendered_file_line_is_the_line_written_directly() {
        let f = FileAction {
            path: "day=2026-01-01/part 0.parquet".into(),
            size: 7,
            partition_values: HashMap::from([("day".into(), Some("2026-01-01".into()))]),
            stats: Some("{\"numRecords\":1}".into()),
            deleted_rows: 0,
            raw: Value::Null,
        };
        let signer = crate::storage::UrlSigner::with_key(b"k", "http://h", 60);
        let mut lines = Lines::for_snapshot(Format::Parquet, FileIdHash::Md5, FileUrls::Portal(Arc::new(signer.urls("t"))));
        lines.file("file", &f, None).await.unwrap();
        let direct = lines.take(0).unwrap();
        let mut fragment = Vec::new();
        parquet_file_fragment(&mut fragment, &FileIdHash::Md5.id(&f.path), &f, f.stats.as_deref());
        lines.rendered_file(&f.path, &fragment).await.unwrap();
        assert_eq!(String::from_utf8(lines.take(0).unwrap()).unwrap(), String::from_utf8(direct).unwrap());
        assert_eq!(lines.files, 2);
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
