//! `portal recipient` and `portal activation-link`.

use std::collections::BTreeMap;

use clap::Subcommand;

use super::{audit, one_line};
use crate::admin::recipients::NewRecipient;
use crate::admin::{self, Admin};
use crate::error::{PortalError, Result};
use crate::Services;

#[derive(Subcommand)]
pub(super) enum RecipientCommand {
    Create {
        name: String,
        #[arg(long)]
        comment: Option<String>,
        /// `KEY=VALUE`, repeatable (e.g. `--property partner_id=P001`).
        #[arg(long = "property")]
        properties: Vec<String>,
        /// The team that governs the recipient (default: `default`).
        #[arg(long)]
        team: Option<String>,
        /// A network the recipient may call from (CIDR), repeatable; none = anywhere.
        #[arg(long = "ip")]
        ip_allow: Vec<String>,
    },
    /// Show or set what the recipient may download from the portal (CSV, Excel, export jobs,
    /// Power Query); flags left out keep their value.
    Limits {
        name: String,
        /// `on` or `off`.
        #[arg(long, value_parser = ["on", "off"])]
        downloads: Option<String>,
        /// The most rows one download may hold, or `none`.
        #[arg(long)]
        max_rows: Option<String>,
        /// The most export jobs the recipient may start in 24 hours, or `none`.
        #[arg(long)]
        max_jobs_per_day: Option<String>,
    },
    /// Add a contact the portal e-mails about the recipient's data.
    Contact {
        name: String,
        email: String,
        /// The person's name.
        #[arg(long = "name")]
        person: Option<String>,
    },
    /// Set the recipient's own token limits for self-service tokens on /connect (the portal's
    /// token_max_days and token_max_active apply otherwise).
    Policy {
        name: String,
        #[arg(long)]
        max_token_days: Option<u32>,
        #[arg(long)]
        max_active_tokens: Option<u32>,
    },
}

pub(super) async fn recipient(s: &Services, command: RecipientCommand) -> Result<()> {
    match command {
        RecipientCommand::Create { name, comment, properties, team, ip_allow } => {
            let properties = properties.iter().map(|p| key_value(p, "--property", "KEY=VALUE")).collect::<Result<BTreeMap<_, _>>>()?;
            let new = NewRecipient { name, comment, team, properties, ip_allow_list: ip_allow, oidc: None };
            let r = admin::recipients::create(s, &Admin::cli(), new).await.map_err(one_line)?;
            println!("created recipient {}", r.summary.name);
        }
        RecipientCommand::Limits { name, downloads, max_rows, max_jobs_per_day } => {
            let r = admin::recipient_for(s, &Admin::cli(), &name).await?;
            let mut limits = crate::export::limits::view(&r.limits);
            if downloads.is_some() || max_rows.is_some() || max_jobs_per_day.is_some() {
                if let Some(d) = downloads {
                    limits.downloads_allowed = d == "on";
                }
                if let Some(n) = max_rows {
                    limits.max_rows_per_download = limit(&n, "--max-rows")?;
                }
                if let Some(n) = max_jobs_per_day {
                    limits.max_export_jobs_per_day = limit(&n, "--max-jobs-per-day")?;
                }
                limits = admin::recipients::set_limits(s, &Admin::cli(), &name, limits).await.map_err(one_line)?.summary.limits;
            }
            let shown = |n: Option<String>| n.unwrap_or_else(|| "none".into());
            println!(
                "downloads={} max_rows={} max_jobs_per_day={}",
                if limits.downloads_allowed { "on" } else { "off" },
                shown(limits.max_rows_per_download.map(|n| n.to_string())),
                shown(limits.max_export_jobs_per_day.map(|n| n.to_string()))
            );
        }
        RecipientCommand::Contact { name, email, person } => {
            let new = admin::recipients::NewContact { email: email.clone(), name: person };
            admin::recipients::add_contact(s, &Admin::cli(), &name, new).await.map_err(one_line)?;
            println!("{email} is a contact of {name}");
        }
        RecipientCommand::Policy { name, max_token_days, max_active_tokens } => {
            if max_token_days == Some(0) || max_active_tokens == Some(0) {
                return Err(PortalError::InvalidParameter("--max-token-days and --max-active-tokens must be at least 1".into()));
            }
            s.catalog.set_token_policy(&name, max_token_days.map(i64::from), max_active_tokens.map(i64::from)).await?;
            let recipient = s.catalog.recipient(&name).await?;
            let policy = s.credentials.policy(&recipient).await?;
            if max_token_days.is_some() || max_active_tokens.is_some() {
                audit(s, "setTokenPolicy", &format!("{name} max_token_days={} max_active_tokens={}", policy.max_days, policy.max_active))
                    .await;
            }
            println!("max_token_days={} max_active_tokens={}", policy.max_days, policy.max_active);
        }
    }
    Ok(())
}

/// Prints a one-time link from which the recipient downloads its credential file.
pub(super) async fn activation_link(s: &Services, recipient: &str, ttl_hours: u32) -> Result<()> {
    let issued = admin::recipients::activation_link(s, &Admin::cli(), recipient, Some(ttl_hours)).await.map_err(one_line)?;
    println!("{}", issued.url);
    Ok(())
}

/// A limit on the command line: a whole number, or `none`.
fn limit<T: std::str::FromStr>(text: &str, flag: &str) -> Result<Option<T>> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| PortalError::InvalidParameter(format!("{flag} `{text}` is not a whole number or `none`")))
}

fn key_value(text: &str, flag: &str, shape: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(PortalError::InvalidParameter(format!("{flag} `{text}` is not of the form {shape}"))),
    }
}
