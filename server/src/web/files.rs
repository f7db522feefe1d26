//! `GET|HEAD /files/{table_id}/{path}?sp=r&exp=&sig=`: data files of local tables behind signed URLs.
//! Range requests answer 206 with `Content-Range`; `Content-Length` is exact (tower-http's ServeFile).

use std::collections::HashMap;
use std::path::{Component, Path as FsPath};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
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
    // Large reads: fewer system calls and wake-ups per gigabyte than the default 64 KiB.
    let resp =
        ServeFile::new(file).with_buf_chunk_size(1 << 20).oneshot(req).await.map_err(|e| PortalError::store("serving a table file", e))?;
    Ok(resp.map(Body::new).into_response())
}
