//! A recipient's download limits (`RecipientLimits`, set by its admin), enforced on every way a
//! file leaves the portal: direct CSV and Excel downloads, Power Query (CSV), export jobs. The
//! table page asks [`PartnerLimits::refusal`] first, so a partner reads the same words there.

use app::contract::{DownloadLimits, PartnerLimits};
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::format::FileFormat;
use crate::catalog::{Recipient, RecipientLimits};
use crate::error::{PortalError, Result};

/// The largest row limit an admin can set (a trillion rows: no limit in practice).
const MAX_ROWS: u64 = 1_000_000_000_000;

pub fn view(limits: &RecipientLimits) -> DownloadLimits {
    DownloadLimits {
        downloads_allowed: limits.downloads,
        max_rows_per_download: limits.max_rows,
        max_export_jobs_per_day: limits.jobs_per_day,
    }
}

/// What an admin typed, checked: nothing is stored unless all of it is good.
pub fn from_view(v: &DownloadLimits) -> Result<RecipientLimits> {
    if v.max_rows_per_download == Some(0) {
        return Err(PortalError::field("maxRowsPerDownload", "a download must be allowed at least 1 row; turn downloads off instead"));
    }
    if v.max_rows_per_download.is_some_and(|n| n > MAX_ROWS) {
        return Err(PortalError::field("maxRowsPerDownload", format!("at most {MAX_ROWS} rows can be set; leave it empty for no limit")));
    }
    if v.max_export_jobs_per_day.is_some_and(|n| n > 10_000) {
        return Err(PortalError::field("maxExportJobsPerDay", "at most 10000 export jobs a day can be set; leave it empty for no limit"));
    }
    Ok(RecipientLimits { downloads: v.downloads_allowed, max_rows: v.max_rows_per_download, jobs_per_day: v.max_export_jobs_per_day })
}

/// The partner's limits as its pages show them (`jobs_started`: in the last 24 hours).
pub fn partner(r: &Recipient, jobs_started: u32) -> PartnerLimits {
    PartnerLimits { limits: view(&r.limits), jobs_left: r.limits.jobs_per_day.map(|max| max.saturating_sub(jobs_started)) }
}

/// Refuses any file to a recipient whose downloads are off.
pub fn allow_download(r: &Recipient) -> Result<()> {
    match partner(r, 0).refusal(None, true) {
        Some(why) => Err(PortalError::Forbidden(why)),
        None => Ok(()),
    }
}

/// The most rows a file of this recipient in this format may hold, and whose limit that is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowCap {
    pub max: u64,
    /// The recipient's own limit (else the portal's Excel limit).
    pub recipient: bool,
}

impl RowCap {
    pub fn of(r: &Recipient, format: FileFormat, xlsx_max: u64) -> Option<Self> {
        let excel = (format == FileFormat::Xlsx).then_some(Self { max: xlsx_max, recipient: false });
        let own = r.limits.max_rows.map(|max| Self { max, recipient: true });
        match (own, excel) {
            (Some(a), Some(b)) => Some(if a.max <= b.max { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Refuses a counted view over the cap (an uncounted one is held by [`RowCap::hold`]).
    pub fn check(&self, rows: Option<u64>) -> Result<()> {
        match rows {
            Some(rows) if rows > self.max => Err(self.refusal(Some(rows))),
            _ => Ok(()),
        }
    }

    pub fn refusal(&self, rows: Option<u64>) -> PortalError {
        let rows = rows.map_or_else(|| format!("more than {}", self.max), |n| n.to_string());
        if self.recipient {
            PortalError::Forbidden(format!(
                "this view has {rows} rows; your organisation may download at most {} rows at a time. Add filters to narrow it",
                self.max
            ))
        } else {
            PortalError::InvalidParameter(format!(
                "this view has {rows} rows; an Excel download holds at most {}. Add filters, or download CSV, which has no limit",
                self.max
            ))
        }
    }

    /// The batches as they are, until one passes the cap: then the stream fails, so a file is
    /// never complete-looking and cut short.
    pub fn hold(self, stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
        let schema = stream.schema();
        let mut seen = 0u64;
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.map(move |batch| {
                if let Ok(b) = &batch {
                    seen += b.num_rows() as u64;
                    if seen > self.max {
                        return Err(DataFusionError::External(Box::new(self.refusal(None))));
                    }
                }
                batch
            }),
        ))
    }
}
