//! Scheduled deliveries of saved views: daily or weekly at an hour (UTC), or on every new table
//! version; the whole view, or the rows changed since the last delivery; as CSV or Excel. Each
//! run is an export job of the view's recipient (its access, scope and limits as for any job);
//! when the job ends, the recipient's contacts get an e-mail with a signed link to the file.
//!
//! One replica at a time runs the scheduler (the `deliveries` chore); `run_due` takes the
//! instant to run at, so a missed run can be caught up (`portal deliveries run --at`).

pub mod schedule;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use app::contract::grammar::{AsOf, Since, TableQuery};
use app::contract::{DeliveryView, SavedViewRow, WEEKDAYS};

use crate::auth::Access;
use crate::catalog::{Delivery, ExportJob, JobStatus, Recipient, SavedView, Schedule};
use crate::error::{PortalError, Result};
use crate::export::format::FileFormat;
use crate::export::jobs::ExportJobs;
use crate::notify::{self, Kind, Note};
use crate::primitives::time::{minutes_utc, now_ms, rfc3339_ms};
use crate::saved_views::SavedViews;
use crate::storage::At;
use crate::Services;

const EVERY: Duration = Duration::from_secs(10);

/// The delivery as the pages and the API show it.
pub fn view(d: &Delivery) -> DeliveryView {
    let (schedule, weekday, hour) = match d.schedule {
        Schedule::Daily { hour } => ("daily", None, hour),
        Schedule::Weekly { weekday, hour } => ("weekly", WEEKDAYS.get(weekday as usize).map(|d| d.to_string()), hour),
        Schedule::OnNewVersion => ("version", None, 0),
    };
    DeliveryView {
        schedule: schedule.into(),
        weekday,
        hour,
        content: if d.changes { "changes" } else { "full" }.into(),
        format: d.format.clone(),
        dialect: (!d.dialect.is_empty()).then(|| d.dialect.clone()),
        next_at: d.next_at.map(rfc3339_ms),
        last_run_at: d.last_run_at.map(rfc3339_ms),
    }
}

/// What a partner asked for, checked: a field error names what is wrong.
fn parse(v: &DeliveryView) -> Result<(Schedule, bool, FileFormat)> {
    if v.hour > 23 {
        return Err(PortalError::field("hour", "the hour is 0 to 23 (UTC)"));
    }
    let schedule = match v.schedule.as_str() {
        "daily" => Schedule::Daily { hour: v.hour },
        "weekly" => {
            let day = v.weekday.as_deref().unwrap_or("monday").to_ascii_lowercase();
            let weekday = WEEKDAYS
                .iter()
                .position(|d| *d == day)
                .ok_or_else(|| PortalError::field("weekday", format!("`{day}` is not a day of the week (monday … sunday)")))?;
            Schedule::Weekly { weekday: weekday as u32, hour: v.hour }
        }
        "version" => Schedule::OnNewVersion,
        other => return Err(PortalError::field("schedule", format!("`{other}` is not a schedule: daily, weekly or version"))),
    };
    let changes = match v.content.as_str() {
        "full" => false,
        "changes" => true,
        other => return Err(PortalError::field("content", format!("`{other}` is not full or changes"))),
    };
    let format = FileFormat::parse(Some(&v.format), v.dialect.as_deref().filter(|d| !d.is_empty()))
        .map_err(|e| PortalError::field("format", e.to_string()))?;
    Ok((schedule, changes, format))
}

/// Sets (or replaces) the delivery of the caller's saved view `id`.
pub async fn set(s: &Services, recipient: &Recipient, id: &str, wanted: &DeliveryView) -> Result<SavedViewRow> {
    let saved = SavedViews::new(&s.catalog, recipient).get(id).await?;
    let (schedule, changes, format) = parse(wanted)?;
    let now = now_ms();
    let delivery = Delivery {
        id: String::new(),
        saved_view_id: saved.id.clone(),
        recipient_id: recipient.id.clone(),
        schedule,
        changes,
        format: format.extension().into(),
        dialect: format.dialect_name().into(),
        next_at: schedule::next_run(schedule, now),
        last_version: None,
        delivered_version: None,
        last_run_at: None,
        created_at: now,
    };
    s.catalog.set_delivery(&delivery).await?;
    row(s, saved).await
}

/// Ends the delivery of the caller's saved view `id`.
pub async fn remove(s: &Services, recipient: &Recipient, id: &str) -> Result<SavedViewRow> {
    let saved = SavedViews::new(&s.catalog, recipient).get(id).await?;
    s.catalog.remove_delivery(&recipient.id, &saved.id).await?;
    row(s, saved).await
}

async fn row(s: &Services, saved: SavedView) -> Result<SavedViewRow> {
    let recipient = s.catalog.recipient_by_id(&saved.recipient_id).await?;
    Ok(rows(s, &recipient, vec![saved]).await?.remove(0))
}

/// Saved views as the pages list them, each with its delivery.
pub async fn rows(s: &Services, recipient: &Recipient, views: Vec<SavedView>) -> Result<Vec<SavedViewRow>> {
    let deliveries = s.catalog.deliveries_of(&recipient.id).await?;
    Ok(views
        .into_iter()
        .map(|v| {
            let delivery = deliveries.iter().find(|d| d.saved_view_id == v.id).map(view);
            SavedViewRow { delivery, ..v.into() }
        })
        .collect())
}

/// Runs the scheduler for as long as the server does (one replica at a time).
pub async fn run_forever(s: Arc<Services>, worker: String) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let held_until = now_ms() + 3 * EVERY.as_millis() as i64;
        match s.catalog.claim_chore("deliveries", &worker, held_until).await {
            Ok(true) => {
                if let Err(e) = run_due(&s, now_ms()).await {
                    tracing::warn!(error = %e, "could not run the due deliveries");
                }
                if let Err(e) = notify_finished(&s).await {
                    tracing::warn!(error = %e, "could not announce finished deliveries");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim the deliveries"),
        }
    }
}

/// Starts the deliveries due at `now` as export jobs; how many started.
pub async fn run_due(s: &Services, now: i64) -> Result<usize> {
    let mut started = 0;
    for d in s.catalog.deliveries_due(now).await? {
        match run_one(s, &d, now).await {
            Ok(true) => started += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(delivery = %d.id, error = %e, "a delivery could not run"),
        }
    }
    Ok(started)
}

/// Runs one delivery if it is due; a run that cannot start tells the partner why.
async fn run_one(s: &Services, d: &Delivery, now: i64) -> Result<bool> {
    let recipient = s.catalog.recipient_by_id(&d.recipient_id).await?;
    let Some(saved) = s.catalog.saved_view(&recipient.id, &d.saved_view_id).await? else { return Ok(false) };
    let next_at = schedule::next_run(d.schedule, now);
    let t = match Access::new(&s.catalog, &recipient).table(&saved.share, &saved.schema, &saved.table).await {
        Ok(t) => t,
        // The grant ended: the delivery waits (a table shared again delivers again).
        Err(e) if e.status() == 404 => {
            s.catalog.delivery_ran(d, now, next_at, d.last_version.unwrap_or(-1)).await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let version = t.open(&s.stores, At::Latest).await?.version();
    if d.schedule == Schedule::OnNewVersion {
        match d.last_version {
            Some(last) if last >= version => return Ok(false),
            // The first look only marks where the table is: the next version delivers.
            None => {
                s.catalog.delivery_ran(d, now, None, version).await?;
                s.catalog.delivery_delivered(&d.id, version).await?;
                return Ok(false);
            }
            Some(_) => {}
        }
    }
    let mut query = TableQuery::parse_query_string(&saved.query)?;
    // The file holds the version the run started at, so the next changes start right after it.
    if t.table.history_shared {
        query.as_of = AsOf::Version(version);
    }
    if d.changes {
        query.since = d.delivered_version.filter(|v| *v >= 0 && *v <= version).map(Since::Version);
    }
    let format = FileFormat::parse(Some(&d.format), (!d.dialect.is_empty()).then_some(d.dialect.as_str()))?;
    // Claimed first: a run another scheduler started, or one that stops here, never starts twice.
    if !s.catalog.delivery_ran(d, now, next_at, version).await? {
        return Ok(false);
    }
    let table = (saved.share.as_str(), saved.schema.as_str(), saved.table.as_str());
    if let Err(e) = ExportJobs::submit(s, &recipient, table, &query, format, Some(&d.id)).await {
        let reason = if e.status().is_client_error() {
            e.to_string()
        } else {
            "the portal could not start it; it tries again at the next run".into()
        };
        failed(s, &recipient, &saved, &format!("delivery-refused:{}:{now}", d.id), &reason).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Tells the partners of finished delivery jobs (once, whichever replica sees them first).
pub async fn notify_finished(s: &Services) -> Result<usize> {
    let mut told = 0;
    for job in s.catalog.unnotified_delivery_jobs().await? {
        if !s.catalog.mark_job_notified(&job.id).await? {
            continue;
        }
        let recipient = s.catalog.recipient_by_id(&job.recipient_id).await?;
        let saved = match &job.delivery_id {
            Some(id) => match s.catalog.delivery(id).await? {
                Some(d) => s.catalog.saved_view(&recipient.id, &d.saved_view_id).await?,
                None => None,
            },
            None => None,
        };
        let Some(saved) = saved else { continue };
        told += match job.status {
            JobStatus::Done => {
                // The changes of the next run start after the version this file held.
                if let (Some(id), Ok(TableQuery { as_of: AsOf::Version(v), .. })) =
                    (&job.delivery_id, TableQuery::parse_query_string(&job.view))
                {
                    s.catalog.delivery_delivered(id, v).await?;
                }
                ready(s, &recipient, &saved, &job).await?
            }
            // Someone of the partner's stopped it on /exports: nothing went wrong, nothing to tell.
            JobStatus::Cancelled => 0,
            _ => {
                let why = job.error.as_deref().unwrap_or("it did not finish");
                failed(s, &recipient, &saved, &format!("delivery-failed:{}", job.id), why).await?
            }
        };
    }
    Ok(told)
}

async fn ready(s: &Services, recipient: &Recipient, saved: &SavedView, job: &ExportJob) -> Result<usize> {
    let expires = job.expires_at.unwrap_or_else(now_ms);
    let subject = format!("Your delivery \"{}\" is ready", saved.name);
    let body = format!(
        "Your scheduled delivery \"{}\" of {}.{}.{} is ready: {} rows{}.\n\nDownload it until {}:\n{}\n\n\
         The link opens the portal's sign-in page first if you are not signed in.",
        saved.name,
        saved.share,
        saved.schema,
        saved.table,
        job.rows_written,
        job.file_name.as_deref().map(|f| format!(" in {f}")).unwrap_or_default(),
        minutes_utc(expires),
        file_link(s, &job.id, expires),
    );
    let cause = format!("delivery-ready:{}", job.id);
    let note = Note { kind: Kind::Delivery, cause: &cause, subject: &subject, body: &body };
    let mailed = notify::to_contacts(s, recipient, &note).await?;
    // Pipelines fetch the file with their own token from the export API.
    let payload = serde_json::json!({
        "savedView": { "id": saved.id, "name": saved.name, "share": saved.share, "schema": saved.schema, "table": saved.table },
        "export": {
            "id": job.id,
            "rows": job.rows_written,
            "format": job.format,
            "fileName": job.file_name,
            "fileUrl": format!("{}/api/v1/exports/{}/file", s.settings.public_url, job.id),
            "expiresAt": rfc3339_ms(expires),
        },
    });
    Ok(mailed + notify::webhooks::to_webhooks(s, recipient, "delivery.ready", &cause, &payload).await?)
}

async fn failed(s: &Services, recipient: &Recipient, saved: &SavedView, cause: &str, reason: &str) -> Result<usize> {
    let subject = format!("Your delivery \"{}\" failed", saved.name);
    let body = format!(
        "Your scheduled delivery \"{}\" of {}.{}.{} could not be prepared: {reason}.\n\nThe view: {}/views/{}",
        saved.name, saved.share, saved.schema, saved.table, s.settings.public_url, saved.id
    );
    let mailed = notify::to_contacts(s, recipient, &Note { kind: Kind::Delivery, cause, subject: &subject, body: &body }).await?;
    let payload = serde_json::json!({
        "savedView": { "id": saved.id, "name": saved.name, "share": saved.share, "schema": saved.schema, "table": saved.table },
        "error": reason,
    });
    Ok(mailed + notify::webhooks::to_webhooks(s, recipient, "delivery.failed", cause, &payload).await?)
}

/// A link to a delivered file that works until the file expires; it proves nothing alone (the
/// download still needs the recipient signed in), but cannot be made up for another job.
pub fn file_link(s: &Services, job_id: &str, expires_at: i64) -> String {
    let sig = s.signer.mac("delivery-file", &format!("{job_id}\n{expires_at}"));
    format!("{}/deliveries/{job_id}?exp={expires_at}&sig={sig}", s.settings.public_url)
}

/// Whether a delivered file's link is the portal's and still current.
pub fn file_link_valid(s: &Services, job_id: &str, expires_at: i64, sig: &str) -> bool {
    expires_at > now_ms() && s.signer.verify_mac("delivery-file", &format!("{job_id}\n{expires_at}"), sig)
}
