//! Background exports: one row per job, always read through its owner (another recipient's
//! job is `NotFound`, worded like a missing one).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog, ExportJob, JobStatus};
use crate::error::{PortalError, Result};

const COLUMNS: &str = "id, recipient_id, share_name, schema_name, table_name, format, dialect, view_query, description, status, \
     rows_written, rows_total, bytes, file_name, error, created_at, finished_at, expires_at";

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
}

impl Catalog {
    pub async fn insert_export_job(&self, job: &NewExportJob<'_>) -> Result<ExportJob> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO export_jobs (id, recipient_id, share_name, schema_name, table_name, format, dialect, view_query, description, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .execute(&self.pool)
        .await?;
        self.export_job(job.recipient_id, &id).await
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

    pub async fn export_progress(&self, id: &str, rows_written: i64, rows_total: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE export_jobs SET rows_written = $1, rows_total = COALESCE($2, rows_total) WHERE id = $3")
            .bind(rows_written)
            .bind(rows_total)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A running job's file is complete: it can be downloaded until `expires_at`.
    pub async fn finish_export_job(&self, id: &str, rows: i64, bytes: i64, file_name: &str, expires_at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE export_jobs SET status = $1, rows_written = $2, rows_total = $2, bytes = $3, file_name = $4, finished_at = $5, expires_at = $6 \
             WHERE id = $7 AND status = $8",
        )
        .bind(JobStatus::Done.as_str())
        .bind(rows)
        .bind(bytes)
        .bind(file_name)
        .bind(now_ms())
        .bind(expires_at)
        .bind(id)
        .bind(JobStatus::Running.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ids of jobs in `status`, and of finished files past their expiry when `status` is `Done`.
    pub async fn export_jobs_in(&self, status: JobStatus, expired_before: Option<i64>) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, format FROM export_jobs WHERE status = $1 AND ($2 IS NULL OR expires_at <= $2)")
            .bind(status.as_str())
            .bind(expired_before)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("format")?))).collect()
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
    })
}
