//! Where export jobs put their files: `export_location`, shared by every replica.
//!
//! A directory (local disk for one replica; a shared mount for many) keeps `<id>.<ext>`, written
//! as `<id>.<ext>.part` and renamed when complete. An object-store prefix keeps
//! `<prefix>/<id>/<file name>`, uploaded only when complete (so a reader never sees half a file)
//! and downloaded straight from the store through a short-lived pre-signed URL.

use std::path::{Path, PathBuf};

use object_store::ObjectStoreExt;
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::error::{PortalError, Result};
use crate::storage::location::Place;
use crate::storage::stores::StoreRoot;
use crate::storage::{FileUrls, Stores};

/// How long a download redirect's pre-signed URL lives: the browser follows it at once.
const DOWNLOAD_URL_MS: i64 = 300_000;

pub enum ExportFiles {
    Dir(PathBuf),
    Store { root: StoreRoot, parts: PathBuf },
}

/// A finished file, as a download answers it.
pub enum Download {
    File(tokio::fs::File, u64),
    Redirect(String),
}

impl ExportFiles {
    /// From `export_location`; part files of an object-store location are written under `data_dir`.
    pub fn open(location: &str, data_dir: &Path, stores: &Stores) -> Result<Self> {
        if location.contains("://") {
            let place = Place::parse(location).map_err(|e| PortalError::Config(format!("PORTAL_EXPORT_LOCATION: {e}")))?;
            let url = Url::parse(&format!("{}/", place.to_text()))
                .map_err(|e| PortalError::Config(format!("PORTAL_EXPORT_LOCATION `{location}`: {e}")))?;
            let root = stores.root(&url).map_err(|e| PortalError::Config(format!("PORTAL_EXPORT_LOCATION: {e}")))?;
            Ok(Self::Store { root, parts: data_dir.join("export-parts") })
        } else {
            Ok(Self::Dir(PathBuf::from(location)))
        }
    }

    pub async fn prepare(&self) -> Result<()> {
        let dir = match self {
            Self::Dir(dir) => dir,
            Self::Store { parts, .. } => {
                // This replica's own scratch: what a previous run left there is of no use.
                if let Err(e) = tokio::fs::remove_dir_all(parts).await {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(dir = %parts.display(), error = %e, "could not clear old export part files");
                    }
                }
                parts
            }
        };
        tokio::fs::create_dir_all(dir).await.map_err(|e| PortalError::Config(format!("export location {}: {e}", dir.display())))
    }

    /// Where one attempt of a job writes its file while it runs: `<id>.<attempt>.<ext>.part`.
    pub fn part(&self, id: &str, extension: &str) -> PathBuf {
        let attempt = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let name = format!("{id}.{attempt}.{extension}.part");
        match self {
            Self::Dir(dir) => dir.join(name),
            Self::Store { parts, .. } => parts.join(name),
        }
    }

    /// The part files in a shared directory, by job id (an object store's live in each replica's
    /// own scratch, cleared at its start).
    pub async fn part_files(&self) -> Vec<(String, PathBuf)> {
        let Self::Dir(dir) = self else { return Vec::new() };
        let mut found = Vec::new();
        let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return found };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().to_string();
            if let (true, Some((id, _))) = (name.ends_with(".part"), name.split_once('.')) {
                found.push((id.to_string(), entry.path()));
            }
        }
        found
    }

    /// Puts the complete part file in place under the job's id; returns its size.
    pub async fn publish(&self, id: &str, extension: &str, name: &str, part: &Path) -> Result<u64> {
        let bytes = tokio::fs::metadata(part).await?.len();
        match self {
            Self::Dir(dir) => tokio::fs::rename(part, dir.join(format!("{id}.{extension}"))).await?,
            Self::Store { root, .. } => {
                let key = root.key(&format!("{id}/{name}"))?;
                let mut writer = object_store::buffered::BufWriter::new(root.bucket.store.clone(), key);
                let mut file = tokio::fs::File::open(part).await?;
                let uploaded = async {
                    tokio::io::copy(&mut file, &mut writer).await?;
                    writer.shutdown().await
                };
                if let Err(e) = uploaded.await {
                    writer.abort().await.ok();
                    return Err(PortalError::store(format!("uploading export {id}"), e));
                }
            }
        }
        Ok(bytes)
    }

    /// The finished file of a job: the open file, or a redirect to the store.
    pub async fn download(&self, id: &str, extension: &str, name: &str) -> Result<Download> {
        let gone = || PortalError::Gone("this export has expired; start it again from the table page".into());
        match self {
            Self::Dir(dir) => {
                let file = tokio::fs::File::open(dir.join(format!("{id}.{extension}"))).await.map_err(|_| gone())?;
                let length = file.metadata().await?.len();
                Ok(Download::File(file, length))
            }
            Self::Store { root, .. } => {
                let signed = FileUrls::Store { root, ttl_ms: DOWNLOAD_URL_MS }.sign(&format!("{id}/{name}")).await?;
                Ok(Download::Redirect(signed.url))
            }
        }
    }

    /// Deletes a job's finished file.
    pub async fn remove(&self, id: &str, extension: &str, name: Option<&str>) {
        match self {
            Self::Dir(dir) => remove_file(&dir.join(format!("{id}.{extension}"))).await,
            Self::Store { root, .. } => {
                if let Some(key) = name.and_then(|n| root.key(&format!("{id}/{n}")).ok()) {
                    match root.bucket.store.delete(&key).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => tracing::warn!(job = %id, error = %e, "could not delete an export file"),
                    }
                }
            }
        }
    }
}

pub async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove export file"),
    }
}
