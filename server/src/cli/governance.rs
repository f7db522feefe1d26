//! Who governs what: `portal team`, `portal location`, `portal admin` (console sign-in links and
//! admin API tokens).

use clap::Subcommand;

use super::{audit, one_line};
use crate::admin::{self, Admin};
use crate::error::Result;
use crate::Services;

#[derive(Subcommand)]
pub(super) enum TeamCommand {
    Create { name: String },
}

#[derive(Subcommand)]
pub(super) enum LocationCommand {
    /// Name a local directory or an object-store prefix (`s3://bucket/path`) as a location.
    Create {
        name: String,
        url: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Let TEAM's admins add tables under the location.
    Grant { name: String, team: String },
    /// Take the location back from TEAM (its tables stay shared).
    Revoke { name: String, team: String },
    /// Print the locations: name, teams, tables under it, URL.
    List,
    /// Delete the location and its grants (its tables stay shared).
    Delete { name: String },
}

#[derive(Subcommand)]
pub(super) enum AdminCommand {
    /// Print a one-time, short-lived link that signs a browser in to the admin console.
    LoginLink {
        /// Sign in as an admin of this team only (default: platform admin).
        #[arg(long)]
        team: Option<String>,
        #[arg(long, default_value_t = 15)]
        ttl_minutes: u32,
    },
    /// Admin API tokens for automation.
    Token {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
}

#[derive(Subcommand)]
pub(super) enum AdminTokenCommand {
    /// Create a token; prints it (once) as the last line.
    Create {
        #[arg(long)]
        name: String,
        /// Scope the token to this team (default: platform).
        #[arg(long)]
        team: Option<String>,
    },
}

pub(super) async fn team(s: &Services, command: TeamCommand) -> Result<()> {
    match command {
        TeamCommand::Create { name } => {
            let team = admin::teams::create(s, &Admin::cli(), admin::teams::NewTeam { name }).await.map_err(one_line)?;
            println!("created team {}", team.name);
        }
    }
    Ok(())
}

pub(super) async fn location(s: &Services, command: LocationCommand) -> Result<()> {
    use admin::locations;
    let cli = Admin::cli();
    match command {
        LocationCommand::Create { name, url, comment } => {
            let l = locations::create(s, &cli, locations::NewLocation { name, url, comment }).await.map_err(one_line)?;
            println!("created location {} at {}", l.name, l.url);
        }
        LocationCommand::Grant { name, team } => {
            let l = locations::set_grant(s, &cli, &name, &team, true).await.map_err(one_line)?;
            println!("granted location {} to {team}", l.name);
        }
        LocationCommand::Revoke { name, team } => {
            let l = locations::set_grant(s, &cli, &name, &team, false).await.map_err(one_line)?;
            println!("revoked location {} from {team}", l.name);
        }
        LocationCommand::List => {
            println!("{:<24}  {:<24}  {:>6}  URL", "NAME", "TEAMS", "TABLES");
            for l in locations::list(s, &cli).await? {
                let teams = if l.teams.is_empty() { "-".to_string() } else { l.teams.join(",") };
                println!("{:<24}  {:<24}  {:>6}  {}", l.name, teams, l.tables, l.url);
            }
        }
        LocationCommand::Delete { name } => {
            locations::delete(s, &cli, &name).await.map_err(one_line)?;
            println!("deleted location {name}");
        }
    }
    Ok(())
}

pub(super) async fn admin(s: &Services, command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::LoginLink { team, ttl_minutes } => {
            let link = admin::identity::create_login_link(s, team.as_deref(), ttl_minutes).await?;
            audit(s, "createLoginLink", team.as_deref().unwrap_or("platform")).await;
            println!("{link}");
        }
        AdminCommand::Token { command: AdminTokenCommand::Create { name, team } } => {
            let issued = admin::teams::create_token(s, &Admin::cli(), admin::teams::NewApiToken { name, team }).await.map_err(one_line)?;
            println!("{}", issued.token);
        }
    }
    Ok(())
}
