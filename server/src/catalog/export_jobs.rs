//! Background exports: one row per job, always read through its owner (another recipient's
//! job is `NotFound`, worded like a missing one). The table is also the queue that every
//! replica's workers claim jobs from, holding each by a lease they renew.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog, ExportJob, JobStatus};
use crate::error::{PortalError, Result};
use crate::primitives::time::{minutes_utc, DAY_MS};

const COLUMNS: &str = "id, recipient_id, share_name, schema_name, table_name, format, dialect, view_query, description, status, \
     rows_written, rows_total, bytes, file_name, error, created_at, finished_at, expires_at, delivery_id";

/// What a new job exports.
pub struct NewExportJob<'a> {
    pub recipient_id: &'a str,
    pub share: &'a str,
    pub schema: &'a str,
    pub table: &'a str,
    pub format: &'a str,
    pub dialect: &'a str,
    pub view: &'a str,
    pub description: &'a str,
    /// The scheduled delivery starting it.
    pub delivery_id: Option<&'a str>,
}

impl Catalog {
    /// Queues a job unless the recipient already has `max_unfinished` queued or running, or
    /// started `per_day` in the last 24 hours: the counts and the insert happen under the
    /// recipient's lock, so concurrent requests on any replicas cannot pass a limit together.
    pub async fn insert_export_job(&self, job: &NewExportJob<'_>, max_unfinished: i64, per_day: Option<u32>) -> Result<ExportJob> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, job.recipient_id).await?;
        if let Some(max) = per_day {
            if max == 0 {
                return Err(PortalError::Forbidden(
                    "your organisation may not start export jobs; download smaller views directly from the table page".into(),
                ));
            }
            let (started, oldest) = Self::jobs_started_in_a_day(&mut tx, job.recipient_id).await?;
            if started >= i64::from(max) {
                let free_at = oldest.unwrap_or_else(now_ms) + DAY_MS;
                let message = format!(
                    "your organisation may start {max} export job{} in 24 hours, and has; the next can start at {}",
                    if max == 1 { "" } else { "s" },
                    minutes_utc(free_at)
                );
                let retry_after_secs = ((free_at - now_ms()).max(1000) / 1000) as u64;
                return Err(PortalError::QuotaReached { message, retry_after_secs });
            }
        }
        let unfinished: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM export_jobs WHERE recipient_id = $1 AND status IN ($2, $3)")
            .bind(job.recipient_id)
            .bind(JobStatus::Queued.as_str())
            .bind(JobStatus::Running.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if unfinished >= max_unfinished {
            return Err(PortalError::InvalidParameter(format!(
                "you already have {unfinished} exports waiting or running; wait for one to finish or cancel one"
            )));
        }
        sqlx::query(
            "INSERT INTO export_jobs (id, recipient_id, share_name, schema_name, table_name, format, dialect, view_query, description, status, created_at, delivery_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(job.recipient_id)
        .bind(job.share)
        .bind(job.schema)
        .bind(job.table)
        .bind(job.format)
        .bind(job.dialect)
        .bind(job.view)
        .bind(job.description)
        .bind(JobStatus::Queued.as_str())
        .bind(now_ms())
        .bind(job.delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.export_job(job.recipient_id, &id).await
    }

    /// Export jobs the recipient started in the last 24 hours.
    pub async fn export_jobs_started_today(&self, recipient_id: &str) -> Result<u32> {
        let mut conn = self.pool.acquire().await?;
        let (started, _) = Self::jobs_started_in_a_day(&mut conn, recipient_id).await?;
        Ok(started.clamp(0, i64::from(u32::MAX)) as u32)
    }

    /// How many jobs the recipient started in the last 24 hours, and when the first of them.
    async fn jobs_started_in_a_day(conn: &mut sqlx::AnyConnection, recipient_id: &str) -> Result<(i64, Option<i64>)> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM export_jobs WHERE recipient_id = $1 AND created_at > $2")
                .bind(recipient_id)
                .bind(now_ms() - DAY_MS)
                .fetch_one(conn)
                .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    pub async fn export_job(&self, recipient_id: &str, id: &str) -> Result<ExportJob> {
        let sql = format!("SELECT {COLUMNS} FROM export_jobs WHERE id = $1 AND recipient_id = $2");
        let row = sqlx::query(&sql).bind(id).bind(recipient_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_from_row).transpose()?.ok_or_else(|| PortalError::NotFound(format!("there is no export {id}")))
    }

    /// The recipient's most recent jobs, newest first.
    pub async fn export_jobs(&self, recipient_id: &str, limit: i64) -> Result<Vec<ExportJob>> {
        let sql = format!("SELECT {COLUMNS} FROM export_jobs WHERE recipient_id = $1 ORDER BY created_at DESC, id LIMIT $2");
        sqlx::query(&sql).bind(recipient_id).bind(limit).fetch_all(&self.pool).await?.iter().map(job_from_row).collect()
    }

    /// Moves a job from one status to another; false when it was no longer in `from` (e.g. a
    /// job cancelled while it waited).
    pub async fn move_export_job(&self, id: &str, from: &[JobStatus], to: JobStatus, error: Option<&str>) -> Result<bool> {
        let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let finished = (!to.is_unfinished()).then(now_ms);
        // The statuses are this module's constants, never user input.
        let sql = format!(
            "UPDATE export_jobs SET status = $1, error = COALESCE($2, error), finished_at = COALESCE(finished_at, $3) WHERE id = $4 AND status IN ('{}')",
            from.join("','")
        );
        let done = sqlx::query(&sql).bind(to.as_str()).bind(error).bind(finished).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The heartbeat of a running job: its progress, and its lease renewed until `lease_until`.
    /// False when the job is no longer this worker's to run (cancelled, or taken over after the
    /// lease lapsed): the worker then stops.
    pub async fn renew_export_job(
        &self,
        id: &str,
        worker: &str,
        rows_written: i64,
        rows_total: Option<i64>,
        lease_until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE export_jobs SET rows_written = $1, rows_total = COALESCE($2, rows_total), lease_until = $3 \
             WHERE id = $4 AND lease_owner = $5 AND status = $6",
        )
        .bind(rows_written)
        .bind(rows_total)
        .bind(lease_until)
        .bind(id)
        .bind(worker)
        .bind(JobStatus::Running.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the oldest queued job, or a running one whose lease lapsed (its replica died), for
    /// `worker` until `lease_until`. Concurrent workers never take the same job: on Postgres the
    /// row is locked and skipped by the others, on SQLite writes are serial.
    pub async fn claim_export_job(&self, worker: &str, lease_until: i64, max_attempts: i64) -> Result<Option<ExportJob>> {
        let now = now_ms();
        let skip_locked = if self.postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE export_jobs SET status = $1, lease_owner = $2, lease_until = $3, attempts = attempts + 1, rows_written = 0 \
             WHERE id = (SELECT id FROM export_jobs WHERE status = $4 OR (status = $1 AND lease_until < $5 AND attempts < $6) \
             ORDER BY created_at, id LIMIT 1 {skip_locked}) \
             AND (status = $4 OR (status = $1 AND lease_until < $5 AND attempts < $6)) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(JobStatus::Running.as_str())
            .bind(worker)
            .bind(lease_until)
            .bind(JobStatus::Queued.as_str())
            .bind(now)
            .bind(max_attempts)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Running jobs whose lease lapsed after `max_attempts` tries fail with `reason` (a job that
    /// keeps killing its replica must not take the next one down too).
    /// Returns the jobs failed, whose part files may be left behind.
    pub async fn fail_lapsed_export_jobs(&self, max_attempts: i64, reason: &str) -> Result<Vec<ExportJob>> {
        let now = now_ms();
        let sql = format!(
            "UPDATE export_jobs SET status = $1, error = $2, finished_at = $3 WHERE status = $4 AND lease_until < $3 AND attempts >= $5 RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(JobStatus::Failed.as_str())
            .bind(reason)
            .bind(now)
            .bind(JobStatus::Running.as_str())
            .bind(max_attempts)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// At shutdown: the worker's running jobs go back to the queue for another replica, as if
    /// they had never been tried.
    pub async fn release_export_jobs(&self, worker: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE export_jobs SET status = $1, lease_owner = NULL, lease_until = NULL, attempts = attempts - 1, rows_written = 0 \
             WHERE lease_owner = $2 AND status = $3",
        )
        .bind(JobStatus::Queued.as_str())
        .bind(worker)
        .bind(JobStatus::Running.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// True when `holder` may do the chore `name` now (nobody else holds it); it holds it
    /// until `until` (renewed by doing it again in time).
    pub async fn claim_chore(&self, name: &str, holder: &str, until: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE chores SET holder = $1, until = $2 WHERE name = $3 AND (until < $4 OR holder = $1)")
            .bind(holder)
            .bind(until)
            .bind(name)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Finished jobs of deliveries whose partner was not told yet.
    pub async fn unnotified_delivery_jobs(&self) -> Result<Vec<ExportJob>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM export_jobs WHERE delivery_id IS NOT NULL AND notified_at IS NULL AND status IN ($1, $2, $3) ORDER BY created_at"
        );
        let rows = sqlx::query(&sql)
            .bind(JobStatus::Done.as_str())
            .bind(JobStatus::Failed.as_str())
            .bind(JobStatus::Cancelled.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Marks a delivery's job as told; false when another replica did first.
    pub async fn mark_job_notified(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE export_jobs SET notified_at = $2 WHERE id = $1 AND notified_at IS NULL")
            .bind(id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A running job's file is complete: it can be downloaded until `expires_at`.
    pub async fn finish_export_job(&self, id: &str, worker: &str, rows: i64, bytes: i64, file_name: &str, expires_at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE export_jobs SET status = $1, rows_written = $2, rows_total = $2, bytes = $3, file_name = $4, finished_at = $5, expires_at = $6, \
             lease_owner = NULL, lease_until = NULL WHERE id = $7 AND status = $8 AND lease_owner = $9",
        )
        .bind(JobStatus::Done.as_str())
        .bind(rows)
        .bind(bytes)
        .bind(file_name)
        .bind(now_ms())
        .bind(expires_at)
        .bind(id)
        .bind(JobStatus::Running.as_str())
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A running job of `worker` failed (the reason is for the partner to read).
    pub async fn fail_export_job(&self, id: &str, worker: &str, reason: &str) -> Result<()> {
        sqlx::query("UPDATE export_jobs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $4 AND status = $5 AND lease_owner = $6")
            .bind(JobStatus::Failed.as_str())
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .bind(JobStatus::Running.as_str())
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many jobs are in each state (the metrics).
    pub async fn export_job_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM export_jobs GROUP BY status ORDER BY status").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
    }

    /// Jobs in `status`, and only finished files past their expiry when `expired_before` is given.
    pub async fn export_jobs_in(&self, status: JobStatus, expired_before: Option<i64>) -> Result<Vec<ExportJob>> {
        let sql = format!("SELECT {COLUMNS} FROM export_jobs WHERE status = $1 AND ($2 IS NULL OR expires_at <= $2)");
        sqlx::query(&sql).bind(status.as_str()).bind(expired_before).fetch_all(&self.pool).await?.iter().map(job_from_row).collect()
    }
}

fn job_from_row(r: &AnyRow) -> Result<ExportJob> {
    let status: String = r.try_get("status")?;
    Ok(ExportJob {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        share: r.try_get("share_name")?,
        schema: r.try_get("schema_name")?,
        table: r.try_get("table_name")?,
        format: r.try_get("format")?,
        dialect: r.try_get("dialect")?,
        view: r.try_get("view_query")?,
        description: r.try_get("description")?,
        status: JobStatus::parse(&status).ok_or_else(|| PortalError::Internal(format!("unknown export status `{status}`")))?,
        rows_written: r.try_get("rows_written")?,
        rows_total: r.try_get("rows_total")?,
        bytes: r.try_get("bytes")?,
        file_name: r.try_get("file_name")?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
        expires_at: r.try_get("expires_at")?,
        delivery_id: r.try_get("delivery_id")?,
    })
}
