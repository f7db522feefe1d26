//! Background exports: a large view written to a file while the partner watches its progress
//! (rows written / total), may cancel it, and downloads it once done. Files expire after
//! `export_ttl_hours`. Memory stays flat: the same streaming writers as the direct downloads,
//! into a file instead of a response.
//!
//! The catalog is the queue: every replica runs `export_workers` workers that claim queued jobs
//! and hold each by a lease renewed with every progress report. A job whose replica died (its
//! lease lapsed) is taken over by another, at most [`MAX_ATTEMPTS`] times in all; a stopping
//! replica hands its running jobs back to the queue. Files go to `export_location`, which every
//! replica shares (see `outputs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::contract::grammar::TableQuery;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::format::{Dialect, FileFormat};
use super::limits::RowCap;
use super::outputs::{Download, ExportFiles};
use crate::catalog::{Catalog, ExportJob, JobStatus, NewExportJob, Recipient};
use crate::config::Settings;
use crate::error::{PortalError, Result};
use crate::primitives::time::now_ms;
use crate::query::{self, Extract};
use crate::Services;

/// How often a running job's progress is written to the catalog (its heartbeat).
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// A job whose worker has not reported for this long is another replica's to take over.
const LEASE: Duration = Duration::from_secs(15);
/// How often an idle worker looks at the queue (a job submitted here wakes it at once).
const POLL: Duration = Duration::from_secs(2);
/// How often one replica sweeps expired files and lapsed jobs.
const SWEEP_EVERY: Duration = Duration::from_secs(15);
/// Tries of one job, the first and the takeovers.
pub const MAX_ATTEMPTS: i64 = 2;
const LAPSED: &str = "the portal server writing this export stopped before it finished, twice; start it again";
/// Jobs a partner sees in their list.
const LISTED: i64 = 50;
/// Unfinished jobs one recipient may have at once.
const UNFINISHED_PER_RECIPIENT: i64 = 5;

pub struct ExportJobs {
    catalog: Catalog,
    files: ExportFiles,
    ttl_ms: i64,
    workers: u32,
    /// This process's name in leases and chores.
    worker: String,
    /// Wakes an idle worker when this replica queues a job.
    wake: Notify,
    /// Stop flags of the jobs this process runs.
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    stopping: AtomicBool,
}

impl ExportJobs {
    pub fn new(catalog: Catalog, settings: &Settings, stores: &crate::storage::Stores) -> Result<Self> {
        let worker = format!("{}-{}-{}", hostname(), std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Ok(Self {
            catalog,
            files: ExportFiles::open(&settings.export_location, &settings.data_dir, stores)?,
            ttl_ms: i64::from(settings.export_ttl_hours) * 3_600_000,
            workers: settings.export_workers,
            worker,
            wake: Notify::new(),
            running: Mutex::default(),
            stopping: AtomicBool::new(false),
        })
    }

    /// This process's name in leases and chores.
    pub fn replica(&self) -> &str {
        &self.worker
    }

    /// Starts this replica's workers and its share of the sweeping.
    pub async fn start(s: &Arc<Services>) -> Result<()> {
        s.jobs.files.prepare().await?;
        for _ in 0..s.jobs.workers {
            tokio::spawn(work(s.clone()));
        }
        tokio::spawn(sweep_forever(s.clone()));
        Ok(())
    }

    /// At shutdown: running jobs stop at their next batch, their part files go, and they return
    /// to the queue for another replica (or this one's next start). Waits at most `grace`.
    pub async fn stop(&self, grace: Duration) {
        self.stopping.store(true, Ordering::Relaxed);
        for flag in self.flags().values() {
            flag.store(true, Ordering::Relaxed);
        }
        let deadline = tokio::time::Instant::now() + grace;
        while !self.flags().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match self.catalog.release_export_jobs(&self.worker).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "export jobs handed back to the queue"),
            Err(e) => tracing::warn!(error = %e, "could not hand export jobs back; other replicas take them over when their lease lapses"),
        }
    }

    fn flags(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes finished files past their expiry and fails jobs that lapsed too often; returns
    /// how many files went. One replica at a time does it.
    pub async fn sweep(&self) -> Result<usize> {
        let held_until = now_ms() + 3 * SWEEP_EVERY.as_millis() as i64;
        if !self.catalog.claim_chore("export-sweep", &self.worker, held_until).await? {
            return Ok(0);
        }
        self.catalog.fail_lapsed_export_jobs(MAX_ATTEMPTS, LAPSED).await?;
        // Part files in a shared directory left by replicas that died writing them: listed
        // first, so a job counted as not running cannot have started one since.
        let parts = self.files.part_files().await;
        if !parts.is_empty() {
            let running: std::collections::HashSet<String> =
                self.catalog.export_jobs_in(JobStatus::Running, None).await?.into_iter().map(|j| j.id).collect();
            for (job_id, path) in parts.iter().filter(|(id, _)| !running.contains(id)) {
                tracing::info!(job = %job_id, "removing an abandoned export part file");
                super::outputs::remove_file(path).await;
            }
        }
        let due = self.catalog.export_jobs_in(JobStatus::Done, Some(now_ms())).await?;
        for job in &due {
            if self.catalog.move_export_job(&job.id, &[JobStatus::Done], JobStatus::Expired, None).await? {
                self.files.remove(&job.id, &job.format, job.file_name.as_deref()).await;
            }
        }
        Ok(due.len())
    }

    /// Checks the view (access, grammar, types) now, so a bad request fails at once, then queues
    /// the job for the first free worker of any replica (`delivery`: the scheduled delivery
    /// starting it).
    pub async fn submit(
        s: &Services,
        recipient: &Recipient,
        (share, schema, table): (&str, &str, &str),
        view: &TableQuery,
        format: FileFormat,
        delivery: Option<&str>,
    ) -> Result<ExportJob> {
        super::limits::allow_download(recipient)?;
        let checked = query::extract(s, recipient, share, schema, table, view, false).await?;
        let meta = &checked.meta;
        let new = NewExportJob {
            recipient_id: &recipient.id,
            share: &meta.share,
            schema: &meta.schema,
            table: &meta.name,
            format: format.extension(),
            dialect: format.dialect_name(),
            view: &checked.query.to_query_string(false),
            description: &checked.description,
            delivery_id: delivery,
        };
        let job = s.catalog.insert_export_job(&new, UNFINISHED_PER_RECIPIENT, recipient.limits.jobs_per_day).await?;
        s.jobs.wake.notify_one();
        Ok(job)
    }

    pub async fn get(&self, recipient: &Recipient, id: &str) -> Result<ExportJob> {
        self.catalog.export_job(&recipient.id, id).await
    }

    pub async fn list(&self, recipient: &Recipient) -> Result<Vec<ExportJob>> {
        self.catalog.export_jobs(&recipient.id, LISTED).await
    }

    /// Stops a queued or running job (its worker, on whichever replica, stops at its next
    /// heartbeat and removes its partial file), or deletes a finished job's file now. Failed
    /// and cancelled jobs stay as they are.
    pub async fn cancel(&self, recipient: &Recipient, id: &str) -> Result<ExportJob> {
        let job = self.get(recipient, id).await?;
        match job.status {
            JobStatus::Queued | JobStatus::Running => {
                let stopped = self
                    .catalog
                    .move_export_job(id, &[JobStatus::Queued, JobStatus::Running], JobStatus::Cancelled, Some("cancelled"))
                    .await?;
                if let Some(flag) = self.flags().get(id) {
                    flag.store(true, Ordering::Relaxed);
                }
                // It finished in the meantime: delete its file as for a finished job.
                if !stopped {
                    self.delete_file(&self.get(recipient, id).await?).await?;
                }
            }
            JobStatus::Done => self.delete_file(&job).await?,
            JobStatus::Failed | JobStatus::Cancelled | JobStatus::Expired => {}
        }
        self.get(recipient, id).await
    }

    async fn delete_file(&self, job: &ExportJob) -> Result<()> {
        if self.catalog.move_export_job(&job.id, &[JobStatus::Done], JobStatus::Expired, None).await? {
            self.files.remove(&job.id, &job.format, job.file_name.as_deref()).await;
        }
        Ok(())
    }

    /// A finished job's file; 409 while it is being written, 410 once it is gone.
    pub async fn download(&self, recipient: &Recipient, id: &str) -> Result<(ExportJob, Download)> {
        let job = self.get(recipient, id).await?;
        match job.status {
            JobStatus::Done if job.expires_at.is_some_and(|t| t > now_ms()) => {
                let name = job.file_name.clone().unwrap_or_else(|| format!("export.{}", job.format));
                let file = self.files.download(id, &job.format, &name).await?;
                Ok((job, file))
            }
            JobStatus::Done | JobStatus::Expired => {
                Err(PortalError::Gone("this export has expired; start it again from the table page".into()))
            }
            JobStatus::Queued | JobStatus::Running => Err(PortalError::NotReady("this export is not finished yet".into())),
            JobStatus::Failed | JobStatus::Cancelled => {
                Err(PortalError::Gone(format!("this export did not finish: {}", job.error.as_deref().unwrap_or("cancelled"))))
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "portal".into())
}

fn lease_until() -> i64 {
    now_ms() + LEASE.as_millis() as i64
}

/// One worker: claims a job, runs it, and looks again; idle, it waits for a wake-up or the poll.
async fn work(s: Arc<Services>) {
    let jobs = &s.jobs;
    while !jobs.stopping.load(Ordering::Relaxed) {
        match jobs.catalog.claim_export_job(&jobs.worker, lease_until(), MAX_ATTEMPTS).await {
            Ok(Some(job)) => run(&s, job).await,
            Ok(None) => {
                let _ = tokio::time::timeout(POLL, jobs.wake.notified()).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not look at the export queue");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Runs one claimed job to its end: done, failed with a readable reason, or stopped (cancelled,
/// taken over, or the replica stopping); a stopped job leaves nothing behind.
async fn run(s: &Arc<Services>, job: ExportJob) {
    let jobs = &s.jobs;
    let stop = Arc::new(AtomicBool::new(false));
    jobs.flags().insert(job.id.clone(), stop.clone());
    // Claimed while the replica began to stop: `stop` already went through the flags.
    if jobs.stopping.load(Ordering::Relaxed) {
        stop.store(true, Ordering::Relaxed);
    }
    // Each attempt writes its own part file: a worker that lost its lease never shares one.
    let part = jobs.files.part(&job.id, &job.format);
    // The lease is renewed from the claim to the end, through the count and the upload too.
    let written = Arc::new(AtomicU64::new(0));
    let heartbeat = tokio::spawn(heartbeat(s.catalog.clone(), job.id.clone(), jobs.worker.clone(), written.clone(), stop.clone()));
    let outcome = async {
        let recipient = jobs.catalog.recipient_by_id(&job.recipient_id).await?;
        let format = FileFormat::parse(Some(&job.format), (!job.dialect.is_empty()).then_some(job.dialect.as_str()))?;
        write(s, &job, &recipient, format, &stop, &written, &part).await
    }
    .await;
    let finished = match outcome {
        Ok(_) if stop.load(Ordering::Relaxed) => Ok(()),
        Ok((rows, name)) => publish(jobs, &job, &part, rows, &name, &stop).await,
        Err(e) => Err(e),
    };
    heartbeat.abort();
    super::outputs::remove_file(&part).await;
    if let Err(e) = finished {
        if !stop.load(Ordering::Relaxed) {
            let reason =
                if e.status().is_client_error() { e.to_string() } else { "the export failed on our side; please try again".into() };
            if e.status().is_server_error() {
                tracing::error!(job = %job.id, error = %e, "export job failed");
            }
            if let Err(e) = jobs.catalog.fail_export_job(&job.id, &jobs.worker, &reason).await {
                tracing::warn!(job = %job.id, error = %e, "could not record a failed export");
            }
        }
    }
    jobs.flags().remove(&job.id);
}

/// Puts the complete part file in place and marks the job done, unless the job stopped being
/// this worker's (then another attempt's file, if any, is left alone).
async fn publish(jobs: &ExportJobs, job: &ExportJob, part: &Path, rows: u64, name: &str, stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::Relaxed) || !jobs.catalog.renew_export_job(&job.id, &jobs.worker, rows as i64, None, lease_until()).await? {
        return Ok(());
    }
    let bytes = jobs.files.publish(&job.id, &job.format, name, part).await?;
    let expires = now_ms() + jobs.ttl_ms;
    let recorded = jobs.catalog.finish_export_job(&job.id, &jobs.worker, rows as i64, bytes as i64, name, expires).await;
    if !matches!(recorded, Ok(true)) {
        // Cancelled in the last moment, or not recorded: the file goes, unless the job is done
        // after all (another attempt finished it).
        let now = jobs.catalog.export_job(&job.recipient_id, &job.id).await.map(|j| j.status);
        if !matches!(now, Ok(JobStatus::Done)) {
            jobs.files.remove(&job.id, &job.format, Some(name)).await;
        }
    }
    recorded.map(|_| ())
}

/// Writes the view into `part`; returns the rows written and the download's file name.
async fn write(
    s: &Services,
    job: &ExportJob,
    recipient: &Recipient,
    format: FileFormat,
    cancel: &Arc<AtomicBool>,
    written: &Arc<AtomicU64>,
    part: &Path,
) -> Result<(u64, String)> {
    // The view was stored in its canonical form when the job was queued.
    let view = TableQuery::parse_query_string(&job.view)?;
    // The limits as they are now: an admin may have tightened them since the job was queued.
    super::limits::allow_download(recipient)?;
    let cap = RowCap::of(recipient, format, s.settings.xlsx_max_rows);
    let mut extract = query::extract(s, recipient, &job.share, &job.schema, &job.table, &view, true).await?;
    if let Some(cap) = cap {
        cap.check(extract.rows)?;
    }
    let total = extract.rows.map(|n| n as i64);
    if !s.catalog.renew_export_job(&job.id, &s.jobs.worker, 0, total, lease_until()).await? {
        cancel.store(true, Ordering::Relaxed);
    }
    // The count may have been given up on (too slow): the cap then holds while writing.
    extract.batches = watched(extract.batches, written.clone(), cancel.clone());
    if let Some(cap) = cap {
        extract.batches = cap.hold(extract.batches);
    }
    let name = super::file_name(&extract, format.extension());
    let (meta, query) = (extract.meta.clone(), extract.query.clone());
    let result = match format {
        FileFormat::Csv(dialect) => write_csv(extract, dialect, part).await,
        FileFormat::Xlsx => write_xlsx(extract, part).await,
    };
    let written = written.load(Ordering::Relaxed);
    if let (Err(_), Some(cap)) = (&result, cap.filter(|cap| written > cap.max)) {
        return Err(cap.refusal(None));
    }
    result?;
    crate::saved_views::note_download(&s.catalog, recipient, &meta, &query).await;
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
    .map_err(|e| PortalError::fault("export thread", e))?
}

/// The batches as they are, counting rows, stopping at a cancel.
fn watched(stream: SendableRecordBatchStream, written: Arc<AtomicU64>, cancel: Arc<AtomicBool>) -> SendableRecordBatchStream {
    let schema = stream.schema();
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |batch| {
            if cancel.load(Ordering::Relaxed) {
                return Err(DataFusionError::Execution("export cancelled".into()));
            }
            if let Ok(b) = &batch {
                written.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            }
            batch
        }),
    ))
}

/// Reports progress and renews the lease; a job no longer ours (cancelled, taken over) stops,
/// and so does one whose lease is about to lapse because the catalog cannot be reached (another
/// replica may take it over then).
async fn heartbeat(catalog: Catalog, id: String, worker: String, written: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let mut renewed = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        match catalog.renew_export_job(&id, &worker, written.load(Ordering::Relaxed) as i64, None, lease_until()).await {
            Ok(true) => renewed = tokio::time::Instant::now(),
            Ok(false) => stop.store(true, Ordering::Relaxed),
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "could not renew an export's lease");
                if renewed.elapsed() > LEASE - PROGRESS_EVERY * 4 {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Sweeps for as long as the server runs (when this replica holds the chore).
async fn sweep_forever(s: Arc<Services>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = s.jobs.sweep().await {
            tracing::warn!(error = %e, "could not sweep expired exports");
        }
    }
}
