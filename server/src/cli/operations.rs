//! Running the portal: `portal keys`, `backup`, `audit`, and the scheduled work a server does by
//! itself (`reminders run`, `deliveries run`) at an instant given on the command line.

use std::path::Path;

use clap::Subcommand;

use super::{audit, instant, when};
use crate::catalog::now_ms;
use crate::error::Result;
use crate::primitives::time::rfc3339_ms;
use crate::Services;

#[derive(Subcommand)]
pub(super) enum RemindersCommand {
    /// Queue the expiry reminders due at --at (default: now); each goes once.
    Run {
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
pub(super) enum DeliveriesCommand {
    /// Start the deliveries due at --at (default: now), e.g. to catch up after an outage; the
    /// server's export workers write the files and its sender e-mails them.
    Run {
        /// RFC 3339, e.g. 2026-12-07T06:00:00Z.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
pub(super) enum KeysCommand {
    /// Print the keys in use: id, created, signs from, verifies until (never the key itself).
    List,
    /// Add a new key; it signs a minute later, on every replica. Links signed before stay valid
    /// for --overlap-hours, then the old keys stop verifying.
    Rotate {
        #[arg(long, default_value_t = 24)]
        overlap_hours: u32,
    },
}

pub(super) async fn reminders(s: &Services, command: RemindersCommand) -> Result<()> {
    match command {
        RemindersCommand::Run { at } => {
            let at = instant(at.as_deref())?;
            let queued = crate::notify::reminders::remind(s, at).await?;
            println!("queued {queued} reminders due at {}", rfc3339_ms(at));
        }
    }
    Ok(())
}

pub(super) async fn deliveries(s: &Services, command: DeliveriesCommand) -> Result<()> {
    match command {
        DeliveriesCommand::Run { at } => {
            let at = instant(at.as_deref())?;
            let started = crate::deliveries::run_due(s, at).await?;
            let told = crate::deliveries::notify_finished(s).await?;
            println!("started {started} deliveries due at {}; {told} e-mails about finished ones queued", rfc3339_ms(at));
        }
    }
    Ok(())
}

pub(super) async fn keys(s: &Services, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::List => {
            if s.settings.secret_key.is_some() {
                println!("the key is set by PORTAL_SECRET_KEY ({} previous keys verify)", s.settings.previous_secret_keys.len());
            }
            for k in s.catalog.signing_keys(now_ms()).await? {
                println!(
                    "{:<14}  created {}  signs from {}  verifies until {}",
                    k.id,
                    rfc3339_ms(k.created_at),
                    rfc3339_ms(k.active_from),
                    when(k.retired_at)
                );
            }
        }
        KeysCommand::Rotate { overlap_hours } => {
            let key = crate::auth::keys::rotate(&s.settings, &s.catalog, overlap_hours).await?;
            audit(s, "rotateSigningKey", &format!("{} overlap_hours={overlap_hours}", key.id)).await;
            println!(
                "new key {} signs from {}; older keys verify until {}",
                key.id,
                rfc3339_ms(key.active_from),
                rfc3339_ms(key.active_from + i64::from(overlap_hours) * 3_600_000)
            );
        }
    }
    Ok(())
}

/// Writes a consistent copy of the SQLite catalog to `file`.
pub(super) async fn backup(s: &Services, file: &Path) -> Result<()> {
    s.catalog.backup_into(file).await?;
    audit(s, "backupCatalog", &file.display().to_string()).await;
    println!("backed up the catalog to {}", file.display());
    Ok(())
}

/// Prints the newest `limit` audit events, one JSON object a line.
pub(super) async fn events(s: &Services, limit: i64) -> Result<()> {
    for e in s.catalog.recent_events(limit).await? {
        println!("{}", serde_json::to_string(&e).unwrap_or_default());
    }
    Ok(())
}
