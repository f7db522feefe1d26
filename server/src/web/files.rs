//! `GET|HEAD /files/{table_id}/{path}?sp=r&exp=&sig=`: data files of local tables behind signed URLs.
//! Range requests answer 206 with `Content-Range`; `Content-Length` is exact. tower-http's ServeFile
//! answers the headers, `read_range` sends the bytes.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_RANGE};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::{PortalError, Result};
use crate::storage::location::{local_dir, table_url};
use crate::Services;

pub async fn download(
    State(s): State<Arc<Services>>,
    Path((table_id, path)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    req: Request<Body>,
) -> Result<Response> {
    let exp = params.get("exp").and_then(|e| e.parse::<i64>().ok());
    let (Some(exp), Some(sig), Some(permission)) = (exp, params.get("sig"), params.get("sp")) else {
        return Err(PortalError::Forbidden("this file link is not valid".into()));
    };
    s.signer.verify(&table_id, &path, permission, exp, sig)?;
    // The signature covers the path, but never let it climb out of the table directory anyway.
    if FsPath::new(&path).components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(PortalError::Forbidden("this file link is not valid".into()));
    }
    let gone = || PortalError::NotFound("this file no longer exists".into());
    let location = s.catalog.table_location(&table_id).await?.ok_or_else(gone)?;
    // Whatever is wrong with the location stays in the server log, not in the answer.
    let url = table_url(&location).map_err(|e| {
        tracing::warn!(table_id = %table_id, error = %e, "signed file of an unreadable table");
        gone()
    })?;
    let root = local_dir(&url).ok_or_else(gone)?;
    let file = root.join(&path);
    if !file.is_file() {
        return Err(PortalError::NotFound("this file no longer exists".into()));
    }
    // ServeFile answers the headers (ranges, conditionals, HEAD, 416); the bytes come from
    // `read_range`, which reads each chunk straight into the buffer that is sent.
    let head = req.method() == Method::HEAD;
    let resp = ServeFile::new(&file).oneshot(req).await.map_err(|e| PortalError::store("serving a table file", e))?;
    let range = match resp.status() {
        StatusCode::OK if !head => resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()).map(|len| (0, len)),
        StatusCode::PARTIAL_CONTENT if !head => resp.headers().get(CONTENT_RANGE).and_then(|v| single_range(v.to_str().ok()?)),
        _ => None,
    };
    Ok(match range {
        Some((start, len)) => resp.map(|_| read_range(file, start, len)).into_response(),
        None => resp.map(Body::new).into_response(),
    })
}

/// Bytes sent per chunk: fewer system calls and wake-ups per gigabyte than small reads.
const CHUNK: u64 = 1 << 20;

/// `len` bytes of `file` from `start`, read on a blocking thread into each chunk's own buffer
/// (one copy from the page cache, where an async file reads into its buffer and copies again).
/// A file that ends early cuts the connection rather than sending a short body.
fn read_range(file: PathBuf, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    tokio::task::spawn_blocking(move || {
        let read = || -> std::io::Result<()> {
            let mut f = std::fs::File::open(&file)?;
            f.seek(SeekFrom::Start(start))?;
            let mut left = len;
            while left > 0 {
                let n = left.min(CHUNK);
                let mut chunk = Vec::with_capacity(n as usize);
                (&mut f).take(n).read_to_end(&mut chunk)?;
                if chunk.is_empty() {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file is shorter than it was"));
                }
                left -= chunk.len() as u64;
                if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                    return Ok(()); // the client left
                }
            }
            Ok(())
        };
        if let Err(e) = read() {
            tracing::warn!(file = %file.display(), error = %e, "reading a table file failed mid-way; the connection is cut");
            let _ = tx.blocking_send(Err(e));
        }
    });
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) }))
}

/// `(start, length)` of a `Content-Range: bytes a-b/total`.
fn single_range(value: &str) -> Option<(u64, u64)> {
    let (first, last) = value.strip_prefix("bytes ")?.split_once('/')?.0.split_once('-')?;
    let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
    (last >= first).then(|| (first, last - first + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_sent_is_the_one_content_range_names() {
        assert_eq!(single_range("bytes 100-199/1000"), Some((100, 100)));
        assert_eq!(single_range("bytes 0-0/1"), Some((0, 1)));
        assert_eq!(single_range("bytes */1000"), None);
        assert_eq!(single_range("bytes 5-4/10"), None);
        assert_eq!(single_range("items 0-1/2"), None);
    }
}
