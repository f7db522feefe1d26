//! `portal token` and `portal client`: a recipient's bearer tokens and its pipelines' OAuth clients.

use std::path::PathBuf;

use clap::Subcommand;

use super::{audit, one_line, when};
use crate::admin::{self, Admin};
use crate::catalog::now_ms;
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;
use crate::Services;

#[derive(Subcommand)]
pub(super) enum TokenCommand {
    /// Create a token; prints (or writes to --profile) the `.share` profile, then the token id.
    Create {
        recipient: String,
        #[arg(long)]
        ttl_days: Option<u32>,
        /// What the token is for ("Power BI refresh"), shown to the partner on /connect.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    List {
        recipient: String,
    },
    Revoke {
        recipient: String,
        token_id: String,
    },
}

#[derive(Subcommand)]
pub(super) enum ClientCommand {
    /// Create a client; prints the version-2 profile, then `client_id=…` and `client_secret=…`
    /// as the last two lines (the secret is shown this once).
    Create {
        recipient: String,
        /// The pipeline it is for ("nightly orders load"), shown to the partner on /connect.
        #[arg(long, default_value = "pipeline")]
        name: String,
    },
    List {
        recipient: String,
    },
    /// Revoke a client (by its client id or id); its access tokens stop at once.
    Revoke {
        recipient: String,
        client: String,
    },
}

pub(super) async fn token(s: &Services, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { recipient, ttl_days, name, profile } => {
            if ttl_days == Some(0) {
                return Err(PortalError::InvalidParameter("--ttl-days must be at least 1".into()));
            }
            let write = |path: &PathBuf, text: &str| {
                crate::primitives::secrets::write_secret_file(path, text, true)
                    .map_err(|e| PortalError::InvalidParameter(format!("cannot write {}: {e}", path.display())))
            };
            // A profile that cannot be written is found out before a token exists without one
            // (opened to append: an existing file is not touched yet).
            let fresh = profile.as_ref().is_some_and(|p| !p.exists());
            if let Some(path) = &profile {
                std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|e| PortalError::InvalidParameter(format!("cannot write {}: {e}", path.display())))?;
            }
            let issued = match s.credentials.create_token(&recipient, name.as_deref(), ttl_days).await {
                Ok(issued) => issued,
                Err(e) => {
                    if let Some(path) = profile.as_ref().filter(|_| fresh) {
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(e);
                }
            };
            let text = serde_json::to_string_pretty(&s.credentials.profile(&issued)).unwrap_or_default();
            match profile {
                Some(path) => {
                    write(&path, &(text + "\n"))?;
                    println!("wrote profile {}", path.display());
                }
                None => println!("{text}"),
            }
            audit(s, "createToken", &recipient).await;
            println!("{}", issued.record.id);
        }
        TokenCommand::List { recipient } => {
            let now = now_ms();
            println!("{:<16}  {:<8}  {:<24}  {:<24}  {:<24}", "ID", "STATUS", "CREATED", "EXPIRES", "LAST USED");
            for t in s.catalog.tokens_of(&recipient).await? {
                println!(
                    "{:<16}  {:<8}  {:<24}  {:<24}  {:<24}",
                    t.id,
                    t.status(now),
                    rfc3339_ms(t.created_at),
                    when(t.expires_at),
                    when(t.last_used_at)
                );
            }
        }
        TokenCommand::Revoke { recipient, token_id } => {
            admin::recipients::revoke_token(s, &Admin::cli(), &recipient, &token_id).await.map_err(one_line)?;
            println!("revoked token {token_id}");
        }
    }
    Ok(())
}

pub(super) async fn client(s: &Services, command: ClientCommand) -> Result<()> {
    use admin::machine_access;
    match command {
        ClientCommand::Create { recipient, name } => {
            let issued = machine_access::create_client(s, &Admin::cli(), &recipient, &name).await.map_err(one_line)?;
            let issued = machine_access::issued_view(s, &issued);
            println!("{}", issued.profile);
            println!("client_id={}", issued.client.client_id);
            println!("client_secret={}", issued.client_secret);
        }
        ClientCommand::List { recipient } => {
            let detail = admin::recipients::detail(s, &Admin::cli(), &recipient).await.map_err(one_line)?;
            println!("{:<36}  {:<8}  {:<24}  {:<24}  NAME", "CLIENT ID", "STATUS", "CREATED", "LAST USED");
            for c in detail.oauth_clients {
                println!(
                    "{:<36}  {:<8}  {:<24}  {:<24}  {}",
                    c.client_id,
                    c.status,
                    c.created_at,
                    c.last_used_at.as_deref().unwrap_or("-"),
                    c.name
                );
            }
        }
        ClientCommand::Revoke { recipient, client } => {
            machine_access::revoke_client(s, &Admin::cli(), &recipient, &client).await.map_err(one_line)?;
            println!("revoked OAuth client {client}");
        }
    }
    Ok(())
}
