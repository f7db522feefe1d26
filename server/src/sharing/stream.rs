//! The files of a snapshot query, sent while they are written: one thread reads them from the
//! snapshot, a task signs their URLs and writes their lines in chunks. The first bytes leave
//! after the first files, and memory stays flat whatever the number of files.

use std::sync::Arc;

use axum::body::Body;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::capabilities::Format;
use super::lines::{parquet_file_fragment, FileIdHash, Lines};
use crate::auth::ScopedTable;
use crate::error::{PortalError, Result};
use crate::storage::{FileAction, FileTexts, FileUrls};
use crate::Services;

/// Lines are sent in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;
/// Files handed from the reader to the writer at a time (one wake-up per batch, not per file).
const BATCH: usize = 256;
/// Batches read ahead of the writer.
const READ_AHEAD: usize = 4;
/// Answers of at least this many files use the snapshot's rendered file lines, or have them
/// rendered for the next request; smaller ones are cheap to write from the snapshot directly.
const RENDER_FROM: usize = 1_000;

/// What the body lists after its head.
pub struct SnapshotFiles {
    pub state: Arc<ScopedTable>,
    /// Ascending positions in the snapshot (`selection::select`).
    pub positions: Vec<u32>,
    pub format: Format,
    pub id_hash: FileIdHash,
    /// The end-of-stream line (next page token, refresh token), when the answer ends with one.
    pub end_stream: Option<(Option<String>, Option<String>)>,
}

/// The body: `head` (the protocol and metadata lines), then the files' lines. An error before
/// the first chunk is returned, so the client gets its HTTP status; one after it cuts the
/// connection, so a client never takes part of an answer for all of it.
pub async fn body(s: Arc<Services>, mut head: Vec<u8>, files: SnapshotFiles) -> Result<Body> {
    let (tx, mut rx) = mpsc::channel::<Result<Vec<u8>>>(4);
    tokio::spawn(write(s, files, tx));
    let first = rx.recv().await.unwrap_or_else(|| Err(PortalError::Internal("the file listing stopped".into())))?;
    head.extend_from_slice(&first);
    let rest = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let chunks = futures::stream::once(async move { Ok(head) }).chain(rest).map(|chunk| {
        chunk.map(axum::body::Bytes::from).map_err(|e| {
            tracing::warn!(error = %e, "a file listing failed after it started; the connection is cut");
            std::io::Error::other(e.to_string())
        })
    });
    Ok(Body::from_stream(chunks))
}

/// Signs and writes the files, sending chunks to `tx` until done or the client leaves.
async fn write(s: Arc<Services>, mut f: SnapshotFiles, tx: mpsc::Sender<Result<Vec<u8>>>) {
    if let Err(e) = write_lines(&s, &mut f, &tx).await {
        // Nobody to tell once the client has left.
        let _ = tx.send(Err(e)).await;
    }
}

async fn write_lines(s: &Arc<Services>, f: &mut SnapshotFiles, tx: &mpsc::Sender<Result<Vec<u8>>>) -> Result<()> {
    let state = f.state.clone();
    let mut lines = Lines::for_snapshot(f.format, f.id_hash, FileUrls::of(&s.signer, &state.table().id, &state));
    let renderable = f.format == Format::Parquet && f.positions.len() >= RENDER_FROM;
    let rendering = renderable.then(|| state.rendering(f.id_hash.rendering())).flatten();
    let finished = match &rendering {
        Some(texts) => write_rendered(&mut lines, texts, &f.positions, tx).await?,
        None => write_from_snapshot(&mut lines, state.clone(), std::mem::take(&mut f.positions), f.format, tx).await?,
    };
    if finished {
        if let Some((next, refresh)) = f.end_stream.clone() {
            lines.end_stream(next, refresh);
        }
        let last = lines.take(0).unwrap_or_default();
        // The first chunk is always sent, even empty: the handler waits for it.
        if lines.files == 0 || !last.is_empty() {
            let _ = tx.send(Ok(last)).await;
        }
    }
    if renderable && rendering.is_none() {
        render_later(s.clone(), state, f.id_hash);
    }
    Ok(())
}

/// Renders the snapshot's parquet file lines for the requests after this one, once this one
/// is answered (so the first request is no slower than without them).
fn render_later(s: Arc<Services>, state: Arc<ScopedTable>, id_hash: FileIdHash) {
    tokio::task::spawn_blocking(move || {
        let fragment =
            |file: &FileAction, out: &mut Vec<u8>| parquet_file_fragment(out, &id_hash.id(&file.path), file, file.stats.as_deref());
        if let Err(e) = state.render(&s.stores, id_hash.rendering(), fragment) {
            tracing::warn!(table = %state.table().qualified_name(), error = %e, "could not render the snapshot's file lines");
        }
    });
}

/// Writes the files from their rendered lines: per file, one signed URL. `false` if the client left.
async fn write_rendered(lines: &mut Lines<'_>, texts: &FileTexts, positions: &[u32], tx: &mpsc::Sender<Result<Vec<u8>>>) -> Result<bool> {
    for &position in positions {
        let (path, fragment) =
            texts.get(position).ok_or_else(|| PortalError::Internal(format!("file {position} is not in its snapshot's rendering")))?;
        lines.rendered_file(path, fragment).await?;
        if let Some(chunk) = lines.take(CHUNK_BYTES) {
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Reads the files from the snapshot on a thread of their own and writes them as they come.
/// `false` if the client left.
async fn write_from_snapshot(
    lines: &mut Lines<'_>,
    state: Arc<ScopedTable>,
    positions: Vec<u32>,
    format: Format,
    tx: &mpsc::Sender<Result<Vec<u8>>>,
) -> Result<bool> {
    let (file_tx, mut file_rx) = mpsc::channel::<Vec<FileAction>>(READ_AHEAD);
    let reader = {
        let with_log_actions = format == Format::Delta;
        tokio::task::spawn_blocking(move || -> Result<()> {
            let mut batch = Vec::with_capacity(BATCH);
            for file in state.files_at(&positions, with_log_actions)? {
                batch.push(file);
                if batch.len() == BATCH && file_tx.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                    return Ok(()); // the writer stopped
                }
            }
            if !batch.is_empty() {
                let _ = file_tx.blocking_send(batch);
            }
            Ok(())
        })
    };
    while let Some(batch) = file_rx.recv().await {
        for file in &batch {
            lines.file("file", file, None).await?;
        }
        if let Some(chunk) = lines.take(CHUNK_BYTES) {
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(false);
            }
        }
    }
    reader.await.map_err(|e| PortalError::fault("reading the snapshot's files", e))??;
    Ok(true)
}
