//! The command line (a contract: automation and the acceptance tests call it exactly so).
//! Every command reads the same settings as the server and works while it runs.
//! Failures print one line on stderr and exit non-zero.

mod credentials;
mod governance;
mod operations;
mod recipients;
mod shares;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::admin::{self, Admin};
use crate::auth::credentials::DEFAULT_ACTIVATION_TTL_HOURS;
use crate::catalog::now_ms;
use crate::config::Settings;
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;
use crate::Services;
use credentials::{ClientCommand, TokenCommand};
use governance::{AdminCommand, LocationCommand, TeamCommand};
use operations::{DeliveriesCommand, KeysCommand, RemindersCommand};
use recipients::RecipientCommand;
use shares::{ShareCommand, TableCommand};

#[derive(Parser)]
#[command(name = "portal", version, about = "Partner Data Portal: Delta Sharing server, partner portal and admin CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal and the Delta Sharing API.
    Serve,
    /// Write the demo tables, shares and recipients (idempotent) and print activation links.
    Demo,
    /// Shares: named groups of tables.
    Share {
        #[command(subcommand)]
        command: ShareCommand,
    },
    /// Tables in shares.
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
    /// Recipients: partners who read shares.
    Recipient {
        #[command(subcommand)]
        command: RecipientCommand,
    },
    /// Let a recipient read a share.
    Grant { share: String, recipient: String },
    /// Stop a recipient reading a share.
    Revoke { share: String, recipient: String },
    /// Bearer tokens of a recipient.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// OAuth clients of a recipient's pipelines (client credentials at POST /oauth/token).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Print a one-time link from which the recipient downloads its credential file.
    ActivationLink {
        recipient: String,
        #[arg(long, default_value_t = DEFAULT_ACTIVATION_TTL_HOURS)]
        ttl_hours: u32,
    },
    /// Print the newest audit events, one JSON object per line.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Provider teams: each governs its own shares and recipients.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// External locations: URL prefixes that teams may add tables under.
    Location {
        #[command(subcommand)]
        command: LocationCommand,
    },
    /// Admin console access.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent copy of the SQLite catalog to FILE (a new file), while the portal serves.
    Backup { file: PathBuf },
    /// Replace the SQLite catalog with the backup FILE, after checking it. Stop every replica first.
    Restore { file: PathBuf },
    /// E-mail reminders (the server queues them by itself every minute).
    Reminders {
        #[command(subcommand)]
        command: RemindersCommand,
    },
    /// Scheduled deliveries of saved views (the server runs them by itself).
    Deliveries {
        #[command(subcommand)]
        command: DeliveriesCommand,
    },
    /// The portal's signing keys (file URLs, cursors, form tokens), when not set by PORTAL_SECRET_KEY.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("error: invalid arguments");
            eprintln!("{line} (see `portal --help`)");
            return ExitCode::from(2);
        }
    };
    init_tracing(matches!(cli.command, Command::Serve));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(serving: bool) {
    use tracing_subscriber::EnvFilter;
    // The kernel logs an ERROR when it probes a directory that is not a table yet (demo, table add);
    // those cases surface as our own one-line errors instead.
    let default = if serving { "info,sqlx=warn,buoyant_kernel=warn" } else { "warn,buoyant_kernel=off" };
    let filter = EnvFilter::try_from_env("PORTAL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    if std::env::var("PORTAL_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command) -> Result<()> {
    let settings = Settings::load()?;
    // A restore swaps the catalog file, so it runs before anything opens (and migrates) it.
    if let Command::Restore { file } = &command {
        crate::catalog::restore(&settings.database_url, file).await?;
        println!("restored the catalog from {}; start the portal again", file.display());
        return Ok(());
    }
    let services = Arc::new(Services::open(settings).await?);
    let s = services.as_ref();
    match command {
        Command::Serve => crate::web::serve(services).await,
        Command::Demo => crate::demo::run(s).await,
        Command::Share { command } => shares::share(s, command).await,
        Command::Table { command } => shares::table(s, command).await,
        Command::Grant { share, recipient } => shares::grant(s, &share, &recipient, true).await,
        Command::Revoke { share, recipient } => shares::grant(s, &share, &recipient, false).await,
        Command::Recipient { command } => recipients::recipient(s, command).await,
        Command::ActivationLink { recipient, ttl_hours } => recipients::activation_link(s, &recipient, ttl_hours).await,
        Command::Token { command } => credentials::token(s, command).await,
        Command::Client { command } => credentials::client(s, command).await,
        Command::Team { command } => governance::team(s, command).await,
        Command::Location { command } => governance::location(s, command).await,
        Command::Admin { command } => governance::admin(s, command).await,
        Command::Reminders { command } => operations::reminders(s, command).await,
        Command::Deliveries { command } => operations::deliveries(s, command).await,
        Command::Keys { command } => operations::keys(s, command).await,
        Command::Backup { file } => operations::backup(s, &file).await,
        // Done above, before the catalog opened.
        Command::Restore { .. } => Ok(()),
        Command::Audit { limit } => operations::events(s, limit).await,
    }
}

/// An optional instant, or `-`.
fn when(ms: Option<i64>) -> String {
    ms.map(rfc3339_ms).unwrap_or_else(|| "-".into())
}

/// A field error, as one CLI line (the message already names what is wrong).
fn one_line(e: PortalError) -> PortalError {
    match e {
        PortalError::Field { message, .. } => PortalError::InvalidParameter(message),
        e => e,
    }
}

/// `--at`: an RFC 3339 instant, or now.
fn instant(text: Option<&str>) -> Result<i64> {
    match text {
        Some(text) => Ok(chrono::DateTime::parse_from_rfc3339(text.trim())
            .map_err(|_| PortalError::InvalidParameter(format!("--at `{text}` is not an RFC 3339 time like 2026-12-07T06:00:00Z")))?
            .timestamp_millis()),
        None => Ok(now_ms()),
    }
}

/// Admin actions from the CLI that have no console service go to the same audit log, as
/// `admin.<action>` like the console's.
async fn audit(s: &Services, action: &str, object: &str) {
    admin::record(s, &Admin::cli(), admin::Change::new(action, object), 200).await;
}
