//! The command line (a contract: automation and the acceptance tests call it exactly so).
//! Every command reads the same settings as the server and works while it runs.
//! Failures print one line on stderr and exit non-zero.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::admin::recipients::NewRecipient;
use crate::admin::shares::{NewShare, NewTableInput};
use crate::admin::{self, Admin};
use crate::auth::credentials::DEFAULT_ACTIVATION_TTL_HOURS;
use crate::catalog::names::split_qualified;
use crate::catalog::now_ms;
use crate::config::Settings;
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;
use crate::Services;

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

#[derive(Subcommand)]
enum RemindersCommand {
    /// Queue the expiry reminders due at --at (default: now); each goes once.
    Run {
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
enum DeliveriesCommand {
    /// Start the deliveries due at --at (default: now), e.g. to catch up after an outage; the
    /// server's export workers write the files and its sender e-mails them.
    Run {
        /// RFC 3339, e.g. 2026-12-07T06:00:00Z.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print the keys in use: id, created, signs from, verifies until (never the key itself).
    List,
    /// Add a new key; it signs a minute later, on every replica. Links signed before stay valid
    /// for --overlap-hours, then the old keys stop verifying.
    Rotate {
        #[arg(long, default_value_t = 24)]
        overlap_hours: u32,
    },
}

#[derive(Subcommand)]
enum TeamCommand {
    Create { name: String },
}

#[derive(Subcommand)]
enum LocationCommand {
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
enum AdminCommand {
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
enum AdminTokenCommand {
    /// Create a token; prints it (once) as the last line.
    Create {
        #[arg(long)]
        name: String,
        /// Scope the token to this team (default: platform).
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
enum ShareCommand {
    Create {
        share: String,
        #[arg(long)]
        comment: Option<String>,
        /// The team that governs the share (default: `default`).
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
enum TableCommand {
    /// Add `<share>.<schema>.<table>`, backed by the Delta table at --location.
    Add {
        qualified_name: String,
        #[arg(long)]
        location: String,
        #[arg(long)]
        comment: Option<String>,
        /// Share the table's history: time travel and the change data feed.
        #[arg(long)]
        history: bool,
        /// `COLUMN=PROPERTY`: recipients see only rows whose partition COLUMN equals their PROPERTY.
        #[arg(long)]
        scope: Option<String>,
        /// A column that identifies a row, repeatable: partners may then ask for net changes.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Declare the columns that identify a row of `<share>.<schema>.<table>` (none: clear them).
    Keys {
        qualified_name: String,
        #[arg(long = "key")]
        keys: Vec<String>,
    },
}

#[derive(Subcommand)]
enum RecipientCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
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
enum ClientCommand {
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
        Command::Serve => return crate::web::serve(services).await,
        Command::Demo => return crate::demo::run(s).await,
        Command::Share { command: ShareCommand::Create { share, comment, team } } => {
            let created = admin::shares::create(s, &Admin::cli(), NewShare { name: share, comment, team, ..Default::default() })
                .await
                .map_err(one_line)?;
            println!("created share {}", created.name);
        }
        Command::Table { command: TableCommand::Add { qualified_name, location, comment, history, scope, keys } } => {
            let table = add_table(s, &qualified_name, &location, comment.as_deref(), history, scope.as_deref()).await?;
            if !keys.is_empty() {
                set_keys(s, &table, keys).await?;
            }
            println!("added table {table}");
        }
        Command::Table { command: TableCommand::Keys { qualified_name, keys } } => {
            let keys = set_keys(s, &qualified_name, keys).await?;
            println!("{qualified_name} key columns: {}", if keys.is_empty() { "none".into() } else { keys.join(", ") });
        }
        Command::Recipient { command: RecipientCommand::Create { name, comment, properties, team, ip_allow } } => {
            let properties = properties.iter().map(|p| key_value(p, "--property", "KEY=VALUE")).collect::<Result<BTreeMap<_, _>>>()?;
            let new = NewRecipient { name, comment, team, properties, ip_allow_list: ip_allow, oidc: None };
            let r = admin::recipients::create(s, &Admin::cli(), new).await.map_err(one_line)?;
            println!("created recipient {}", r.summary.name);
        }
        Command::Recipient { command: RecipientCommand::Limits { name, downloads, max_rows, max_jobs_per_day } } => {
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
        Command::Recipient { command: RecipientCommand::Contact { name, email, person } } => {
            let new = admin::recipients::NewContact { email: email.clone(), name: person };
            admin::recipients::add_contact(s, &Admin::cli(), &name, new).await.map_err(one_line)?;
            println!("{email} is a contact of {name}");
        }
        Command::Reminders { command: RemindersCommand::Run { at } } => {
            let at = instant(at.as_deref())?;
            let queued = crate::notify::reminders::remind(s, at).await?;
            println!("queued {queued} reminders due at {}", rfc3339_ms(at));
        }
        Command::Deliveries { command: DeliveriesCommand::Run { at } } => {
            let at = instant(at.as_deref())?;
            let started = crate::deliveries::run_due(s, at).await?;
            let told = crate::deliveries::notify_finished(s).await?;
            println!("started {started} deliveries due at {}; {told} e-mails about finished ones queued", rfc3339_ms(at));
        }
        Command::Recipient { command: RecipientCommand::Policy { name, max_token_days, max_active_tokens } } => {
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
        Command::Backup { file } => {
            s.catalog.backup_into(&file).await?;
            audit(s, "backupCatalog", &file.display().to_string()).await;
            println!("backed up the catalog to {}", file.display());
        }
        // Done above, before the catalog opened.
        Command::Restore { .. } => {}
        Command::Keys { command: KeysCommand::List } => {
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
        Command::Keys { command: KeysCommand::Rotate { overlap_hours } } => {
            let key = crate::auth::keys::rotate(&s.settings, &s.catalog, overlap_hours).await?;
            audit(s, "rotateSigningKey", &format!("{} overlap_hours={overlap_hours}", key.id)).await;
            println!(
                "new key {} signs from {}; older keys verify until {}",
                key.id,
                rfc3339_ms(key.active_from),
                rfc3339_ms(key.active_from + i64::from(overlap_hours) * 3_600_000)
            );
        }
        Command::Grant { share, recipient } => {
            // Through the console's own check: share and recipient must be of one team.
            let before = s.catalog.grants_of(&s.catalog.recipient(&recipient).await?.id).await?;
            admin::shares::set_grant(s, &Admin::cli(), &share, &recipient, true).await.map_err(one_line)?;
            let changed = !before.iter().any(|g| g.eq_ignore_ascii_case(&share));
            println!("{} {share} to {recipient}", if changed { "granted" } else { "already granted" });
        }
        Command::Revoke { share, recipient } => {
            let before = s.catalog.grants_of(&s.catalog.recipient(&recipient).await?.id).await?;
            admin::shares::set_grant(s, &Admin::cli(), &share, &recipient, false).await.map_err(one_line)?;
            let changed = before.iter().any(|g| g.eq_ignore_ascii_case(&share));
            println!("{} {share} from {recipient}", if changed { "revoked" } else { "was not granted:" });
        }
        Command::Token { command } => token(s, command).await?,
        Command::Client { command } => client(s, command).await?,
        Command::ActivationLink { recipient, ttl_hours } => {
            let issued = admin::recipients::activation_link(s, &Admin::cli(), &recipient, Some(ttl_hours)).await.map_err(one_line)?;
            println!("{}", issued.url);
        }
        Command::Team { command: TeamCommand::Create { name } } => {
            let team = admin::teams::create(s, &Admin::cli(), admin::teams::NewTeam { name }).await.map_err(one_line)?;
            println!("created team {}", team.name);
        }
        Command::Location { command } => location(s, command).await?,
        Command::Admin { command: AdminCommand::LoginLink { team, ttl_minutes } } => {
            let link = admin::identity::create_login_link(s, team.as_deref(), ttl_minutes).await?;
            audit(s, "createLoginLink", team.as_deref().unwrap_or("platform")).await;
            println!("{link}");
        }
        Command::Admin { command: AdminCommand::Token { command: AdminTokenCommand::Create { name, team } } } => {
            let issued = admin::teams::create_token(s, &Admin::cli(), admin::teams::NewApiToken { name, team }).await.map_err(one_line)?;
            println!("{}", issued.token);
        }
        Command::Audit { limit } => {
            for e in s.catalog.recent_events(limit).await? {
                println!("{}", serde_json::to_string(&e).unwrap_or_default());
            }
        }
    }
    Ok(())
}

async fn location(s: &Services, command: LocationCommand) -> Result<()> {
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

async fn token(s: &Services, command: TokenCommand) -> Result<()> {
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

async fn client(s: &Services, command: ClientCommand) -> Result<()> {
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

/// An optional instant, or `-`.
fn when(ms: Option<i64>) -> String {
    ms.map(rfc3339_ms).unwrap_or_else(|| "-".into())
}

/// Adds `<share>.<schema>.<table>` through the console's own service (location validated as a
/// Delta table, scope as a partition column, audited); returns the qualified name.
async fn add_table(
    s: &Services,
    qualified: &str,
    location: &str,
    comment: Option<&str>,
    history: bool,
    scope: Option<&str>,
) -> Result<String> {
    let (share, schema, name) = split_qualified(qualified)?;
    let input = NewTableInput {
        schema: schema.into(),
        name: name.into(),
        location: location.into(),
        comment: comment.map(Into::into),
        history,
        scope: scope.map(Into::into),
    };
    let t = admin::shares::add_table(s, &Admin::cli(), share, input).await.map_err(one_line)?;
    Ok(format!("{share}.{}.{}", t.schema, t.name))
}

/// Declares the table's key columns; returns them as stored.
async fn set_keys(s: &Services, qualified: &str, keys: Vec<String>) -> Result<Vec<String>> {
    let (share, schema, name) = split_qualified(qualified)?;
    let patch = admin::shares::TablePatch { key_columns: Some(keys), ..Default::default() };
    let t = admin::shares::update_table(s, &Admin::cli(), share, &format!("{schema}.{name}"), patch).await.map_err(one_line)?;
    Ok(t.key_columns)
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

/// Admin actions from the CLI that have no console service go to the same audit log, as
/// `admin.<action>` like the console's.
async fn audit(s: &Services, action: &str, object: &str) {
    admin::record(s, &Admin::cli(), admin::Change::new(action, object), 200).await;
}
