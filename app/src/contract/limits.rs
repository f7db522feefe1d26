//! What a recipient may download, as its admin set it: the admin API's `limits`, the console's
//! form, and what the partner's pages say before a download is refused.

use serde::{Deserialize, Serialize};

/// A recipient's download limits. `None`: no limit beyond the portal's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadLimits {
    /// CSV, Excel, export jobs and Power Query; browsing and the rows API stay open.
    #[serde(default = "allowed")]
    pub downloads_allowed: bool,
    #[serde(default)]
    pub max_rows_per_download: Option<u64>,
    /// Export jobs started in any 24 hours; 0 allows direct downloads only.
    #[serde(default)]
    pub max_export_jobs_per_day: Option<u32>,
}

fn allowed() -> bool {
    true
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self { downloads_allowed: true, max_rows_per_download: None, max_export_jobs_per_day: None }
    }
}

/// The limits as the partner's pages apply them now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerLimits {
    pub limits: DownloadLimits,
    /// Export jobs the partner may still start in the coming 24 hours, where a daily limit is set.
    pub jobs_left: Option<u32>,
}

impl PartnerLimits {
    /// Why a view of `rows` rows (`exact` or at least) cannot be downloaded, if it cannot.
    pub fn refusal(&self, rows: Option<u64>, exact: bool) -> Option<String> {
        if !self.limits.downloads_allowed {
            return Some(
                "Downloads are turned off for your organisation. You can still browse and filter the data here; ask your contact at the data provider to turn them on."
                    .into(),
            );
        }
        match (self.limits.max_rows_per_download, rows) {
            (Some(max), Some(n)) if n > max => Some(format!(
                "This view has {}{} rows; your organisation may download at most {} rows at a time. Add filters to narrow it.",
                if exact { "" } else { "more than " },
                crate::components::thousands(n),
                crate::components::thousands(max)
            )),
            _ => None,
        }
    }
}
