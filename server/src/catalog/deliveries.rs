//! Scheduled deliveries: one per saved view, owned by the view's recipient.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog};
use crate::error::{PortalError, Result};

/// When a delivery runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Schedule {
    /// Every day at `hour` (UTC).
    Daily { hour: u32 },
    /// Every week on `weekday` (0 Monday … 6 Sunday) at `hour` (UTC).
    Weekly { weekday: u32, hour: u32 },
    /// Whenever the table has a version the last delivery did not hold.
    OnNewVersion,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub id: String,
    pub saved_view_id: String,
    pub recipient_id: String,
    pub schedule: Schedule,
    /// The rows changed since the last delivery, instead of the whole view.
    pub changes: bool,
    /// `csv` or `xlsx`.
    pub format: String,
    /// The CSV dialect; empty for Excel.
    pub dialect: String,
    /// When a daily or weekly delivery runs next.
    pub next_at: Option<i64>,
    /// The table version the last run started at.
    pub last_version: Option<i64>,
    /// The table version the last delivered file held (changes start after it).
    pub delivered_version: Option<i64>,
    pub last_run_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, saved_view_id, recipient_id, schedule, weekday, hour, content, format, dialect, next_at, last_version, delivered_version, last_run_at, created_at";

impl Catalog {
    /// Sets the delivery of a saved view: a new one, or the one it had changed in place (same id,
    /// so a run in progress still finds it; where the last run was is kept).
    pub async fn set_delivery(&self, d: &Delivery) -> Result<Delivery> {
        let (schedule, weekday, hour) = match d.schedule {
            Schedule::Daily { hour } => ("daily", None, hour),
            Schedule::Weekly { weekday, hour } => ("weekly", Some(i64::from(weekday)), hour),
            Schedule::OnNewVersion => ("version", None, 0),
        };
        let content = if d.changes { "changes" } else { "full" };
        // One statement: a second save of the same view (another tab, another replica) updates
        // the delivery in place and keeps its id, its last run and the version it delivered.
        sqlx::query(
            "INSERT INTO deliveries (id, saved_view_id, recipient_id, schedule, weekday, hour, content, format, dialect, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (saved_view_id) DO UPDATE SET schedule = excluded.schedule, weekday = excluded.weekday, hour = excluded.hour, \
             content = excluded.content, format = excluded.format, dialect = excluded.dialect, next_at = excluded.next_at",
        )
        .bind(new_id())
        .bind(&d.saved_view_id)
        .bind(&d.recipient_id)
        .bind(schedule)
        .bind(weekday)
        .bind(i64::from(hour))
        .bind(content)
        .bind(&d.format)
        .bind(&d.dialect)
        .bind(d.next_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE saved_view_id = $1");
        let row = sqlx::query(&sql).bind(&d.saved_view_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(delivery_from_row).transpose()?.ok_or_else(|| PortalError::Internal("a delivery just set is missing".into()))
    }

    pub async fn delivery(&self, id: &str) -> Result<Option<Delivery>> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(delivery_from_row).transpose()
    }

    pub async fn deliveries_of(&self, recipient_id: &str) -> Result<Vec<Delivery>> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE recipient_id = $1 ORDER BY created_at");
        sqlx::query(&sql).bind(recipient_id).fetch_all(&self.pool).await?.iter().map(delivery_from_row).collect()
    }

    /// Whether the saved view had a delivery.
    pub async fn remove_delivery(&self, recipient_id: &str, saved_view_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM deliveries WHERE saved_view_id = $1 AND recipient_id = $2")
            .bind(saved_view_id)
            .bind(recipient_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deliveries that may be due at `now`: timed ones past their hour, and every on-new-version
    /// one (the scheduler compares versions).
    pub async fn deliveries_due(&self, now: i64) -> Result<Vec<Delivery>> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE schedule = 'version' OR next_at <= $1 ORDER BY created_at");
        sqlx::query(&sql).bind(now).fetch_all(&self.pool).await?.iter().map(delivery_from_row).collect()
    }

    /// Claims a run of `d`: records when it ran, its next time and the version it starts at,
    /// unless another scheduler ran it since `d` was read (then false, and nothing starts).
    pub async fn delivery_ran(&self, d: &Delivery, at: i64, next_at: Option<i64>, version: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET last_run_at = $2, next_at = $3, last_version = $4 WHERE id = $1 AND COALESCE(last_run_at, -1) = $5",
        )
        .bind(&d.id)
        .bind(at)
        .bind(next_at)
        .bind(version)
        .bind(d.last_run_at.unwrap_or(-1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A delivered file held `version`: the next changes start after it.
    pub async fn delivery_delivered(&self, id: &str, version: i64) -> Result<()> {
        sqlx::query("UPDATE deliveries SET delivered_version = $2 WHERE id = $1 AND COALESCE(delivered_version, -1) < $2")
            .bind(id)
            .bind(version)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn delivery_from_row(r: &AnyRow) -> Result<Delivery> {
    let schedule: String = r.try_get("schedule")?;
    let hour = r.try_get::<i64, _>("hour")?.clamp(0, 23) as u32;
    let schedule = match schedule.as_str() {
        "daily" => Schedule::Daily { hour },
        "weekly" => Schedule::Weekly { weekday: r.try_get::<Option<i64>, _>("weekday")?.unwrap_or(0).clamp(0, 6) as u32, hour },
        _ => Schedule::OnNewVersion,
    };
    Ok(Delivery {
        id: r.try_get("id")?,
        saved_view_id: r.try_get("saved_view_id")?,
        recipient_id: r.try_get("recipient_id")?,
        schedule,
        changes: r.try_get::<String, _>("content")? == "changes",
        format: r.try_get("format")?,
        dialect: r.try_get("dialect")?,
        next_at: r.try_get("next_at")?,
        last_version: r.try_get("last_version")?,
        delivered_version: r.try_get("delivered_version")?,
        last_run_at: r.try_get("last_run_at")?,
        created_at: r.try_get("created_at")?,
    })
}
