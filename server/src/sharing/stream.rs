//! The files of a snapshot query, sent while they are written: one thread reads them from the
//! snapshot, a task signs their URLs and writes their lines in chunks. The first bytes leave
//! after the first files, and memory stays flat whatever the number of files.

use std::sync::Arc;

use axum::body::Body;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::capabilities::Format;
use super::lines::{parquet_file_fragment, portal_rendered_line, FileIdHash, Lines};
use crate::auth::ScopedTable;
use crate::error::{PortalError, Result};
use crate::storage::signing::PortalUrls;
use crate::storage::{FileAction, FileTexts, FileUrls};
use crate::Services;

/// Lines are sent in chunks of about this size.
const CHUNK_BYTES: usize = 256 * 1024;
/// Files handed from the reader to the writer at a time (one wake-up per batch, not per file).
const BATCH: usize = 256;
/// Files a worker writes at a time from a rendering (about a megabyte of lines); answers of at
/// least two blocks are written on every core.
const BLOCK: usize = 2048;
/// Batches read ahead of the writer.
const READ_AHEAD: usize = 4;
/// Answers of at least this many files have the snapshot's file lines rendered for the next
/// requests when they are not yet; smaller ones are cheap to write from the snapshot directly.
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
    // A rendering serves answers of any size once it exists; only large ones ask for one.
    let parquet = f.format == Format::Parquet;
    let renderable = parquet && f.positions.len() >= RENDER_FROM;
    let rendering = parquet.then(|| state.rendering(f.id_hash.rendering())).flatten();
    let rendered = rendering.is_some();
    let finished = match (rendering, lines.portal_urls()) {
        (Some(texts), Some(urls)) if f.positions.len() >= 2 * BLOCK => {
            let files = f.positions.len();
            let finished = write_rendered_in_parallel(urls.clone(), texts, std::mem::take(&mut f.positions), tx).await?;
            lines.count_rendered(files, urls.expires_at);
            finished
        }
        (Some(texts), _) => write_rendered(&mut lines, &texts, &f.positions, tx).await?,
        (None, _) => write_from_snapshot(&mut lines, state.clone(), std::mem::take(&mut f.positions), f.format, tx).await?,
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
    if renderable && !rendered {
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

/// Writes the lines of a local table's files from their rendering on every core, a block of
/// files per worker at a time, and sends the blocks in order. `false` if the client left.
async fn write_rendered_in_parallel(
    urls: Arc<PortalUrls>,
    texts: Arc<FileTexts>,
    positions: Vec<u32>,
    tx: &mpsc::Sender<Result<Vec<u8>>>,
) -> Result<bool> {
    let positions: Arc<[u32]> = positions.into();
    let blocks = positions.len().div_ceil(BLOCK);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, blocks.max(1));
    let line_bytes = texts.bytes() / texts.len().max(1) + 256;
    let mut written = Vec::with_capacity(workers);
    for worker in 0..workers {
        let (block_tx, block_rx) = mpsc::channel::<Result<Vec<u8>>>(2);
        let (urls, texts, positions) = (urls.clone(), texts.clone(), positions.clone());
        tokio::task::spawn_blocking(move || {
            let mut url = String::new();
            for block in (worker..blocks).step_by(workers) {
                let files = &positions[block * BLOCK..((block + 1) * BLOCK).min(positions.len())];
                let mut out = Vec::with_capacity(files.len() * line_bytes);
                for &position in files {
                    let Some((path, fragment)) = texts.get(position) else {
                        let _ = block_tx
                            .blocking_send(Err(PortalError::Internal(format!("file {position} is not in its snapshot's rendering"))));
                        return;
                    };
                    portal_rendered_line(&mut out, &mut url, &urls, path, fragment);
                }
                if block_tx.blocking_send(Ok(out)).is_err() {
                    return; // the client left
                }
            }
        });
        written.push(block_rx);
    }
    for block in 0..blocks {
        let chunk =
            written[block % workers].recv().await.ok_or_else(|| PortalError::Internal("a writer of file lines stopped".into()))??;
        if tx.send(Ok(chunk)).await.is_err() {
            return Ok(false);
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
                batch.push(file?);
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::storage::UrlSigner;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lines_written_on_every_core_come_in_the_order_one_writer_gives() {
        let files = (0..3 * BLOCK + 7).map(|i| FileAction {
            path: format!("day=2026-01-{:02}/part-{i}.parquet", i % 28 + 1),
            size: i as i64,
            partition_values: HashMap::from([("day".into(), Some(format!("2026-01-{:02}", i % 28 + 1)))]),
            stats: Some(format!("{{\"numRecords\":{i}}}")),
            deleted_rows: 0,
            raw: serde_json::Value::Null,
        });
        let id_hash = FileIdHash::Md5;
        let texts = Arc::new(FileTexts::render(files, |f, out| parquet_file_fragment(out, &id_hash.id(&f.path), f, f.stats.as_deref())));
        // Every third file, as a predicate might pick them.
        let positions: Vec<u32> = (0..texts.len() as u32).step_by(3).collect();
        let urls = Arc::new(UrlSigner::with_key(b"k", "http://h", 60).urls("t"));

        let mut one = Lines::for_snapshot(Format::Parquet, id_hash, FileUrls::Portal(urls.clone()));
        for &p in &positions {
            let (path, fragment) = texts.get(p).unwrap();
            one.rendered_file(path, fragment).await.unwrap();
        }
        let expected = one.take(0).unwrap();

        let (tx, mut rx) = mpsc::channel(4);
        let writing = tokio::spawn(async move { write_rendered_in_parallel(urls, texts, positions, &tx).await });
        let mut got = Vec::new();
        while let Some(chunk) = rx.recv().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert!(writing.await.unwrap().unwrap(), "every block was sent");
        assert_eq!(got.iter().filter(|&&b| b == b'\n').count(), (3 * BLOCK + 7).div_ceil(3));
        assert!(got == expected, "the same lines in the same order");
    }
}
