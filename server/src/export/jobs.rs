//! Background exports: a large view written to a file under `<data_dir>/exports` while the
//! partner watches its progress (rows written / total), may cancel it, and downloads it once
//! done. Files expire after `export_ttl_hours`. Memory stays flat: the same streaming writers as
//! the direct downloads, into a file instead of a response.
//!
//! A file is written as `<id>.<ext>.part` and renamed only when complete, so a download never
//! sees half a file; a job cut off by a restart is marked failed and its part file removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use super::csv::Dialect;
use crate::catalog::{now_ms, Catalog, ExportJob, JobStatus, NewExportJob, Recipient};
use crate::config::Settings;
use crate::error::{PortalError, Result};
use crate::query::{self, Extract};
use crate::Services;

/// How often a running job's progress is written to the catalog.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Jobs a partner sees in their list.
const LISTED: i64 = 50;
const RESTARTED: &str = "interrupted by a portal restart; start it again";
/// Unfinished jobs one recipient may have at once.
const UNFINISHED_PER_RECIPIENT: usize = 5;

/// The file a job writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Xlsx,
    Csv(Dialect),
}

impl FileFormat {
    /// From the request's `_format` (`xlsx` or `csv`) and `_dialect` (CSV only).
    pub fn parse(format: Option<&str>, dialect: Option<&str>) -> Result<Self> {
        match format {
            Some("xlsx") => Ok(Self::Xlsx),
            Some("csv") => Ok(Self::Csv(Dialect::parse(dialect)?)),
            other => Err(PortalError::InvalidParameter(format!("`_format` must be xlsx or csv; got `{}`", other.unwrap_or_default()))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv(_) => "csv",
        }
    }

    fn dialect_name(self) -> &'static str {
        match self {
            Self::Xlsx => "",
            Self::Csv(d) => d.name(),
        }
    }
}

pub struct ExportJobs {
    catalog: Catalog,
    dir: PathBuf,
    ttl_ms: i64,
    slots: Arc<Semaphore>,
    /// Cancel flags of the jobs this process runs.
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl ExportJobs {
    pub fn new(catalog: Catalog, settings: &Settings) -> Self {
        Self {
            catalog,
            dir: settings.data_dir.join("exports"),
            ttl_ms: i64::from(settings.export_ttl_hours) * 3_600_000,
            slots: Arc::new(Semaphore::new(settings.export_workers as usize)),
            cancels: Mutex::default(),
        }
    }

    fn file(&self, id: &str, extension: &str) -> PathBuf {
        self.dir.join(format!("{id}.{extension}"))
    }

    /// At start-up: jobs a previous process left unfinished fail with a clear message, and
    /// their part files go.
    pub async fn recover(&self) -> Result<()> {
        tokio::fs::create_dir_all(&self.dir).await?;
        for status in [JobStatus::Queued, JobStatus::Running] {
            for (id, _) in self.catalog.export_jobs_in(status, None).await? {
                self.catalog.move_export_job(&id, &[status], JobStatus::Failed, Some(RESTARTED)).await?;
            }
        }
        // Only finished files of jobs still `done` stay: part files, and files whose job is gone
        // or ended otherwise (a crash between rename and bookkeeping), are removed.
        let keep: Vec<String> = self.catalog.export_jobs_in(JobStatus::Done, None).await?.into_iter().map(|(id, ext)| format!("{id}.{ext}")).collect();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if !keep.contains(&entry.file_name().to_string_lossy().to_string()) {
                remove(&entry.path()).await;
            }
        }
        Ok(())
    }

    /// At shutdown: every running job stops at its next batch (the process can then exit; the
    /// next start marks them failed).
    pub fn stop_all(&self) {
        for flag in self.cancels.lock().unwrap_or_else(|e| e.into_inner()).values() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Deletes finished files past their expiry; returns how many.
    pub async fn sweep(&self) -> Result<usize> {
        let due = self.catalog.export_jobs_in(JobStatus::Done, Some(now_ms())).await?;
        for (id, extension) in &due {
            if self.catalog.move_export_job(id, &[JobStatus::Done], JobStatus::Expired, None).await? {
                remove(&self.file(id, extension)).await;
            }
        }
        Ok(due.len())
    }

    /// Checks the view (access, grammar, types) now, so a bad request fails at once, then queues
    /// the job and starts it when a slot is free.
    pub async fn submit(s: &Arc<Services>, recipient: &Recipient, share: &str, schema: &str, table: &str, view: &str, format: FileFormat) -> Result<ExportJob> {
        let unfinished = s.jobs.list(recipient).await?.iter().filter(|j| j.status.is_unfinished()).count();
        if unfinished >= UNFINISHED_PER_RECIPIENT {
            return Err(PortalError::InvalidParameter(format!(
                "you already have {unfinished} exports waiting or running; wait for one to finish or cancel one"
            )));
        }
        let checked = query::extract(s, recipient, share, schema, table, view, false).await?;
        let meta = &checked.meta;
        let job = s
            .catalog
            .insert_export_job(&NewExportJob {
                recipient_id: &recipient.id,
                share: &meta.share,
                schema: &meta.schema,
                table: &meta.name,
                format: format.extension(),
                dialect: format.dialect_name(),
                view: &checked.query.to_query_string(false),
                description: &checked.description,
            })
            .await?;
        drop(checked);
        let cancel = Arc::new(AtomicBool::new(false));
        s.jobs.cancels.lock().unwrap_or_else(|e| e.into_inner()).insert(job.id.clone(), cancel.clone());
        tokio::spawn(run(s.clone(), job.clone(), recipient.clone(), format, cancel));
        Ok(job)
    }

    pub async fn get(&self, recipient: &Recipient, id: &str) -> Result<ExportJob> {
        self.catalog.export_job(&recipient.id, id).await
    }

    pub async fn list(&self, recipient: &Recipient) -> Result<Vec<ExportJob>> {
        self.catalog.export_jobs(&recipient.id, LISTED).await
    }

    /// Stops a queued or running job (its partial file is removed), or deletes a finished
    /// job's file now. Failed and cancelled jobs stay as they are.
    pub async fn cancel(&self, recipient: &Recipient, id: &str) -> Result<ExportJob> {
        let job = self.get(recipient, id).await?;
        match job.status {
            JobStatus::Queued | JobStatus::Running => {
                let stopped = self.catalog.move_export_job(id, &[JobStatus::Queued, JobStatus::Running], JobStatus::Cancelled, Some("cancelled")).await?;
                if let Some(flag) = self.cancels.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
                    flag.store(true, Ordering::Relaxed);
                }
                // It finished in the meantime: delete its file as for a finished job.
                if !stopped {
                    self.delete_file(&job).await?;
                }
            }
            JobStatus::Done => self.delete_file(&job).await?,
            JobStatus::Failed | JobStatus::Cancelled | JobStatus::Expired => {}
        }
        self.get(recipient, id).await
    }

    async fn delete_file(&self, job: &ExportJob) -> Result<()> {
        if self.catalog.move_export_job(&job.id, &[JobStatus::Done], JobStatus::Expired, None).await? {
            remove(&self.file(&job.id, &job.format)).await;
        }
        Ok(())
    }

    /// A finished job's file; 409 while it is being written, 410 once it is gone.
    pub async fn download(&self, recipient: &Recipient, id: &str) -> Result<(ExportJob, PathBuf)> {
        let job = self.get(recipient, id).await?;
        match job.status {
            JobStatus::Done if job.expires_at.is_some_and(|t| t > now_ms()) => {
                let path = self.file(id, &job.format);
                Ok((job, path))
            }
            JobStatus::Done | JobStatus::Expired => Err(PortalError::Gone("this export has expired; start it again from the table page".into())),
            JobStatus::Queued | JobStatus::Running => Err(PortalError::NotReady("this export is not finished yet".into())),
            JobStatus::Failed | JobStatus::Cancelled => {
                Err(PortalError::Gone(format!("this export did not finish: {}", job.error.as_deref().unwrap_or("cancelled"))))
            }
        }
    }
}

/// Runs one job to its end, whatever happens: done, failed with a readable reason, or
/// cancelled (then nothing is left on disk).
async fn run(s: Arc<Services>, job: ExportJob, recipient: Recipient, format: FileFormat, cancel: Arc<AtomicBool>) {
    let jobs = &s.jobs;
    let Ok(_slot) = jobs.slots.clone().acquire_owned().await else { return };
    let started = jobs.catalog.move_export_job(&job.id, &[JobStatus::Queued], JobStatus::Running, None).await;
    if matches!(started, Ok(true)) {
        let final_path = jobs.file(&job.id, format.extension());
        let part = final_path.with_extension(format!("{}.part", format.extension()));
        let outcome = write(&s, &job, &recipient, format, &cancel, &part).await;
        let finished = match outcome {
            Ok(_) if cancel.load(Ordering::Relaxed) => Ok(()),
            Ok((rows, name)) => publish(jobs, &job.id, &part, &final_path, rows, &name).await,
            Err(e) => Err(e),
        };
        remove(&part).await;
        if let Err(e) = finished {
            if !cancel.load(Ordering::Relaxed) {
                let reason = if e.status().is_client_error() { e.to_string() } else { "the export failed on our side; please try again".into() };
                if e.status().is_server_error() {
                    tracing::error!(job = %job.id, error = %e, "export job failed");
                }
                let _ = jobs.catalog.move_export_job(&job.id, &[JobStatus::Running], JobStatus::Failed, Some(&reason)).await;
            }
        }
    }
    jobs.cancels.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
}

/// Renames the complete part file into place and marks the job done.
async fn publish(jobs: &ExportJobs, id: &str, part: &Path, final_path: &Path, rows: u64, name: &str) -> Result<()> {
    let bytes = tokio::fs::metadata(part).await?.len();
    tokio::fs::rename(part, final_path).await?;
    let expires = now_ms() + jobs.ttl_ms;
    match jobs.catalog.finish_export_job(id, rows as i64, bytes as i64, name, expires).await {
        Ok(true) => Ok(()),
        // Cancelled in the last moment, or not recorded: the file goes too.
        Ok(false) => {
            remove(final_path).await;
            Ok(())
        }
        Err(e) => {
            remove(final_path).await;
            Err(e)
        }
    }
}

/// Writes the view into `part`; returns the rows written and the download's file name.
async fn write(s: &Services, job: &ExportJob, recipient: &Recipient, format: FileFormat, cancel: &Arc<AtomicBool>, part: &Path) -> Result<(u64, String)> {
    let mut extract = query::extract(s, recipient, &job.share, &job.schema, &job.table, &job.view, true).await?;
    if format == FileFormat::Xlsx {
        super::xlsx::check_rows(extract.rows, s.settings.xlsx_max_rows)?;
    }
    let total = extract.rows.map(|n| n as i64);
    s.catalog.export_progress(&job.id, 0, total).await?;
    let written = Arc::new(AtomicU64::new(0));
    // The count may have been given up on (too slow): the limit then holds while writing.
    let limit = (format == FileFormat::Xlsx).then_some(s.settings.xlsx_max_rows);
    extract.batches = watched(extract.batches, written.clone(), cancel.clone(), limit);
    let name = super::file_name(&extract.meta, !extract.query.filters.is_empty(), format.extension());
    let reporter = tokio::spawn(report_progress(s.catalog.clone(), job.id.clone(), written.clone()));
    let result = match format {
        FileFormat::Csv(dialect) => write_csv(extract, dialect, part).await,
        FileFormat::Xlsx => write_xlsx(extract, part).await,
    };
    reporter.abort();
    let written = written.load(Ordering::Relaxed);
    if let (Err(_), Some(max)) = (&result, limit.filter(|max| written > *max)) {
        return Err(PortalError::InvalidParameter(format!(
            "this view has more than {max} rows, the most an Excel file may hold. Add filters, or export CSV, which has no limit"
        )));
    }
    result?;
    Ok((written, name))
}

async fn write_csv(extract: Extract, dialect: Dialect, part: &Path) -> Result<()> {
    let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(part).await?);
    let mut body = std::pin::pin!(super::csv::body(extract, dialect));
    while let Some(chunk) = body.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    file.into_inner().sync_all().await?;
    Ok(())
}

async fn write_xlsx(extract: Extract, part: &Path) -> Result<()> {
    let about = super::about(&extract);
    let handle = tokio::runtime::Handle::current();
    let part = part.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&part)?);
        super::xlsx::write(&handle, extract, &about, &mut file)?;
        use std::io::Write;
        file.flush()?;
        file.get_ref().sync_all()?;
        Ok::<(), PortalError>(())
    })
    .await
    .map_err(|e| PortalError::Internal(format!("export thread: {e}")))?
}

/// The batches as they are, counting rows, stopping at a cancel or past `limit` rows.
fn watched(stream: SendableRecordBatchStream, written: Arc<AtomicU64>, cancel: Arc<AtomicBool>, limit: Option<u64>) -> SendableRecordBatchStream {
    let schema = stream.schema();
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |batch| {
            if cancel.load(Ordering::Relaxed) {
                return Err(DataFusionError::Execution("export cancelled".into()));
            }
            if let Ok(b) = &batch {
                let total = written.fetch_add(b.num_rows() as u64, Ordering::Relaxed) + b.num_rows() as u64;
                if limit.is_some_and(|max| total > max) {
                    return Err(DataFusionError::Execution("too many rows for Excel".into()));
                }
            }
            batch
        }),
    ))
}

async fn report_progress(catalog: Catalog, id: String, written: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = catalog.export_progress(&id, written.load(Ordering::Relaxed) as i64, None).await {
            tracing::warn!(job = %id, error = %e, "could not record export progress");
        }
    }
}

async fn remove(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove export file"),
    }
}

/// Deletes expired files once a minute, for as long as the server runs.
pub async fn sweep_forever(s: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = s.jobs.sweep().await {
            tracing::warn!(error = %e, "could not sweep expired exports");
        }
    }
}
