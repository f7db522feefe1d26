//! The files of a snapshot query, sent while they are written: one thread reads them from the
//! snapshot, a task signs their URLs and writes their lines in chunks. The first bytes leave
//! after the first files, and memory stays flat whatever the number of files.

use std::sync::Arc;

use axum::body::Body;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::capabilities::Format;
use super::lines::{FileIdHash, Lines};
use crate::auth::ScopedTable;
use crate::error::{PortalError, Result};
use crate::storage::{FileAction, FileUrls};
use crate::Services;

/// Lines are sent in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;
/// Files handed from the reader to the writer at a time (one wake-up per batch, not per file).
const BATCH: usize = 256;
/// Batches read ahead of the writer.
const READ_AHEAD: usize = 4;

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
pub async fn body(s: Arc<Services>, head: String, files: SnapshotFiles) -> Result<Body> {
    let (tx, mut rx) = mpsc::channel::<Result<String>>(4);
    tokio::spawn(write(s, files, tx));
    let first = rx.recv().await.unwrap_or_else(|| Err(PortalError::Internal("the file listing stopped".into())))?;
    let rest = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let chunks = futures::stream::once(async move { Ok(head + &first) }).chain(rest).map(|chunk| {
        chunk.map(axum::body::Bytes::from).map_err(|e| {
            tracing::warn!(error = %e, "a file listing failed after it started; the connection is cut");
            std::io::Error::other(e.to_string())
        })
    });
    Ok(Body::from_stream(chunks))
}

/// Signs and writes the files, sending chunks to `tx` until done or the client leaves.
async fn write(s: Arc<Services>, mut f: SnapshotFiles, tx: mpsc::Sender<Result<String>>) {
    if let Err(e) = write_lines(&s, &mut f, &tx).await {
        // Nobody to tell once the client has left.
        let _ = tx.send(Err(e)).await;
    }
}

async fn write_lines(s: &Services, f: &mut SnapshotFiles, tx: &mpsc::Sender<Result<String>>) -> Result<()> {
    let (file_tx, mut file_rx) = mpsc::channel::<Vec<FileAction>>(READ_AHEAD);
    let reader = {
        let (state, positions, with_log_actions) = (f.state.clone(), std::mem::take(&mut f.positions), f.format == Format::Delta);
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
    let mut lines = Lines::for_snapshot(f.format, f.id_hash, FileUrls::of(&s.signer, &f.state.table().id, &f.state));
    while let Some(batch) = file_rx.recv().await {
        for file in &batch {
            lines.file("file", file, None).await?;
        }
        if let Some(chunk) = lines.take(CHUNK_BYTES) {
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(()); // the client left
            }
        }
    }
    reader.await.map_err(|e| PortalError::fault("reading the snapshot's files", e))??;
    if let Some((next, refresh)) = f.end_stream.clone() {
        lines.end_stream(next, refresh);
    }
    let last = lines.take(0).unwrap_or_default();
    // The first chunk is always sent, even empty: the handler waits for it.
    if lines.files == 0 || !last.is_empty() {
        let _ = tx.send(Ok(last)).await;
    }
    Ok(())
}
