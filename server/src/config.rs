//! Settings, in one place: `portal.toml` (optional) overridden by `PORTAL_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::PortalError;

/// The token endpoint's access tokens live an hour unless configured otherwise; the Python client
/// fetches a new one before every request when fewer than 600 seconds are left, so the floor is
/// above that.
pub const DEFAULT_ACCESS_TOKEN_SECS: u32 = 3600;
pub const MIN_ACCESS_TOKEN_SECS: u32 = 900;
pub const MAX_ACCESS_TOKEN_SECS: u32 = 86_400;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the SQLite catalog, the signing key and the demo tables live.
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    /// The address partners use; the profile endpoint is `<public_url>/delta-sharing`.
    pub public_url: String,
    pub database_url: String,
    /// How long a signed file URL stays valid (the Python client cannot refresh URLs).
    pub url_ttl_secs: u64,
    /// Where cargo-leptos put the compiled site (CSS, wasm, JS).
    pub site_root: PathBuf,
    /// How long a partner's browser session lasts.
    pub session_ttl_hours: u32,
    /// The longest a table preview (rows, count, facets) may run before it gives up.
    pub query_timeout_secs: u64,
    /// The most rows an Excel download may hold (over several sheets); more is refused up front.
    pub xlsx_max_rows: u64,
    /// The longest a partner's self-service token may live (a recipient's own policy may differ).
    pub token_max_days: u32,
    /// The most active tokens a recipient may hold (a recipient's own policy may differ).
    pub token_max_active: u32,
    /// How long the access tokens of `POST /oauth/token` live (above the 600 seconds under which
    /// the Python client fetches a new token before every request).
    pub oauth_token_secs: u32,
    /// Views with more rows than this export as background jobs from the table page.
    pub export_job_rows: u64,
    /// How long a finished export file stays downloadable.
    pub export_ttl_hours: u32,
    /// Export jobs that run at once; the others wait.
    pub export_workers: u32,
    /// Single sign-on with an OpenID Connect provider (admins, and partners bound to it).
    pub oidc: Option<OidcSettings>,
    /// Partners' own identity providers (`[[partner_idp]]` in portal.toml): their employees sign
    /// in there, and a recipient bound to that issuer lets them in.
    pub partner_idps: Vec<OidcSettings>,
    /// Credentials for object-store tables by URL prefix (`[[storage]]`); the stores' own
    /// environment variables apply where no entry matches.
    pub storage: Vec<crate::storage::StorageEntry>,
    /// The portal's HMAC key (file URLs, cursors, page and form tokens). Unset: a key generated
    /// once and kept in the catalog, which every replica on that catalog shares.
    pub secret_key: Option<Secret>,
    /// Keys that still verify but no longer sign (the overlap of a rotation).
    pub previous_secret_keys: Vec<Secret>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` is believed (nobody else's is).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Which header the trusted proxies write the client's address into.
    pub forwarded_header: crate::auth::network::ForwardedHeader,
    /// Bearer token that `/metrics` requires (unset: `/metrics` is served only on `metrics_addr`).
    pub metrics_token: Option<Secret>,
    /// A separate listener for `/metrics` (and the health checks), e.g. 127.0.0.1:9100.
    pub metrics_addr: Option<SocketAddr>,
    /// Where export jobs write their files: a directory every replica shares, or an object-store
    /// prefix (`s3://bucket/exports`); default `<data_dir>/exports`.
    pub export_location: String,
    /// How long a stopping server lets requests in flight finish.
    pub shutdown_grace_secs: u64,
    /// Failed authentications a client address may have in a minute before it gets 429.
    pub auth_failures_per_minute: u32,
    /// The largest request body accepted (JSON, forms, uploads); more is 413.
    pub max_body_bytes: usize,
    /// How long audit events are kept; older ones are swept.
    pub audit_retention_days: u32,
    /// Memory for loaded Delta snapshots kept between requests (0: every request reads the log).
    pub snapshot_cache_mb: usize,
    /// How long an async query and its answer can be polled after it was submitted.
    pub async_query_ttl_secs: u64,
    /// The mail server notifications go out through; unset, no e-mail is queued or sent.
    pub smtp: Option<SmtpSettings>,
    /// Lets partners' webhooks point at private, loopback and link-local addresses, over plain
    /// http too (in-house receivers, tests); off, only https to public addresses.
    pub webhook_allow_private: bool,
}

/// How the portal sends e-mail (`PORTAL_SMTP_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `Partner Data Portal <data@retailer.example>`.
    pub from: String,
    pub tls: SmtpTls,
}

/// `starttls` (port 587), `tls` (implicit, port 465) or `none` (a relay on a trusted network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

/// A configured secret; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A partner's identity provider as portal.toml lists it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerIdp {
    /// Shown on the sign-in page: "Sign in with <name>".
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// What the sign-in page calls it.
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back: `<public_url>/auth/oidc/callback` by default.
    pub redirect_url: String,
    pub scopes: Vec<String>,
    /// The ID-token claim that carries admin rights (a string or a list, e.g. `groups`).
    pub admin_claim: String,
    /// The claim value that makes a platform admin.
    pub platform_admins: String,
    /// `<prefix><team>` in the claim makes a team admin of `<team>`.
    pub team_prefix: String,
}

/// The file form: every key optional, same names as the env vars without `PORTAL_`, lower-case.
#[derive(Clone, Debug, Default, Deserialize)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    addr: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    url_ttl_secs: Option<u64>,
    site_root: Option<PathBuf>,
    session_ttl_hours: Option<u32>,
    query_timeout_secs: Option<u64>,
    xlsx_max_rows: Option<u64>,
    token_max_days: Option<u32>,
    token_max_active: Option<u32>,
    oauth_token_secs: Option<u32>,
    export_job_rows: Option<u64>,
    export_ttl_hours: Option<u32>,
    export_workers: Option<u32>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_redirect_url: Option<String>,
    oidc_scopes: Option<String>,
    oidc_admin_claim: Option<String>,
    oidc_platform_admins: Option<String>,
    oidc_team_prefix: Option<String>,
    #[serde(default)]
    partner_idp: Vec<PartnerIdp>,
    #[serde(default)]
    storage: Vec<crate::storage::StorageEntry>,
    secret_key: Option<String>,
    #[serde(default)]
    previous_secret_keys: Vec<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    forwarded_header: Option<String>,
    metrics_token: Option<String>,
    metrics_addr: Option<String>,
    export_location: Option<String>,
    shutdown_grace_secs: Option<u64>,
    auth_failures_per_minute: Option<u32>,
    max_body_bytes: Option<usize>,
    audit_retention_days: Option<u32>,
    snapshot_cache_mb: Option<usize>,
    async_query_ttl_secs: Option<u64>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    smtp_from: Option<String>,
    smtp_tls: Option<String>,
    webhook_allow_private: Option<bool>,
}

impl Settings {
    /// Reads `PORTAL_CONFIG` (default `./portal.toml`, skipped if absent), then the env vars.
    pub fn load() -> Result<Self, PortalError> {
        let path = std::env::var("PORTAL_CONFIG").unwrap_or_else(|_| "portal.toml".into());
        let file = read_file(Path::new(&path))?;
        Self::resolve(file, |k| std::env::var(k).ok())
    }

    fn resolve(file: FileSettings, env: impl Fn(&str) -> Option<String>) -> Result<Self, PortalError> {
        let sso_file = file.clone();
        let data_dir = env("PORTAL_DATA_DIR").map(PathBuf::from).or(file.data_dir).unwrap_or_else(|| "data".into());
        let addr_text = env("PORTAL_ADDR").or(file.addr).unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr: SocketAddr = addr_text
            .parse()
            .map_err(|_| PortalError::Config(format!("PORTAL_ADDR `{addr_text}` is not an address like 127.0.0.1:3000")))?;
        let public_url = env("PORTAL_PUBLIC_URL").or(file.public_url).unwrap_or_else(|| format!("http://{addr}"));
        let public_url = public_url.trim_end_matches('/').to_string();
        url::Url::parse(&public_url).map_err(|e| PortalError::Config(format!("PORTAL_PUBLIC_URL `{public_url}` is not a URL: {e}")))?;
        let oidc = oidc(&env, &sso_file, &public_url)?;
        let partner_idps = partner_idps(&sso_file.partner_idp, &public_url)?;
        let database_url = env("PORTAL_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("catalog.db").display()));
        let url_ttl_secs = positive(&env, "PORTAL_URL_TTL_SECS", "seconds", file.url_ttl_secs, 3600)?;
        let session_ttl_hours = positive(&env, "PORTAL_SESSION_TTL_HOURS", "hours", file.session_ttl_hours, 12)?;
        let query_timeout_secs = positive(&env, "PORTAL_QUERY_TIMEOUT_SECS", "seconds", file.query_timeout_secs, 30)?;
        let xlsx_max_rows = positive(&env, "PORTAL_XLSX_MAX_ROWS", "rows", file.xlsx_max_rows, 5_000_000)?;
        let token_max_days = positive(&env, "PORTAL_TOKEN_MAX_DAYS", "days", file.token_max_days, 365)?;
        let token_max_active = positive(&env, "PORTAL_TOKEN_MAX_ACTIVE", "tokens", file.token_max_active, 5)?;
        let oauth_token_secs = positive(&env, "PORTAL_OAUTH_TOKEN_SECS", "seconds", file.oauth_token_secs, DEFAULT_ACCESS_TOKEN_SECS)?;
        if !(MIN_ACCESS_TOKEN_SECS..=MAX_ACCESS_TOKEN_SECS).contains(&oauth_token_secs) {
            return Err(PortalError::Config(format!(
                "PORTAL_OAUTH_TOKEN_SECS must be between {MIN_ACCESS_TOKEN_SECS} and {MAX_ACCESS_TOKEN_SECS} (below 600 the Python client fetches a token before every request)"
            )));
        }
        let export_job_rows = positive(&env, "PORTAL_EXPORT_JOB_ROWS", "rows", file.export_job_rows, 100_000)?;
        let export_ttl_hours = positive(&env, "PORTAL_EXPORT_TTL_HOURS", "hours", file.export_ttl_hours, 24)?;
        let export_workers = positive(&env, "PORTAL_EXPORT_WORKERS", "jobs", file.export_workers, 2)?;
        let site_root = env("PORTAL_SITE_ROOT").map(PathBuf::from).or(file.site_root).unwrap_or_else(|| "target/site".into());
        let secret_key = env("PORTAL_SECRET_KEY").or(file.secret_key.clone()).map(|k| checked_key("PORTAL_SECRET_KEY", k)).transpose()?;
        let previous_secret_keys = match env("PORTAL_PREVIOUS_SECRET_KEYS") {
            Some(list) => list_of(&list),
            None => file.previous_secret_keys.clone(),
        }
        .into_iter()
        .map(|k| checked_key("PORTAL_PREVIOUS_SECRET_KEYS", k))
        .collect::<Result<Vec<_>, _>>()?;
        if secret_key.is_none() && !previous_secret_keys.is_empty() {
            return Err(PortalError::Config("PORTAL_PREVIOUS_SECRET_KEYS needs PORTAL_SECRET_KEY (the key that signs now)".into()));
        }
        let trusted_proxies = match env("PORTAL_TRUSTED_PROXIES") {
            Some(list) => list_of(&list),
            None => file.trusted_proxies.clone(),
        };
        let trusted_proxies = crate::auth::network::parse_networks(&trusted_proxies)
            .map_err(|e| PortalError::Config(format!("PORTAL_TRUSTED_PROXIES: {e}")))?;
        let forwarded_header = env("PORTAL_FORWARDED_HEADER")
            .or(file.forwarded_header.clone())
            .map(|h| crate::auth::network::ForwardedHeader::parse(&h))
            .transpose()?
            .unwrap_or_default();
        let metrics_token =
            env("PORTAL_METRICS_TOKEN").or(file.metrics_token.clone()).filter(|t| !t.trim().is_empty()).map(|t| Secret(t.trim().into()));
        let metrics_addr = env("PORTAL_METRICS_ADDR")
            .or(file.metrics_addr.clone())
            .map(|a| a.parse().map_err(|_| PortalError::Config(format!("PORTAL_METRICS_ADDR `{a}` is not an address like 127.0.0.1:9100"))))
            .transpose()?;
        let export_location = env("PORTAL_EXPORT_LOCATION")
            .or(file.export_location.clone())
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| data_dir.join("exports").to_string_lossy().to_string());
        let shutdown_grace_secs = positive(&env, "PORTAL_SHUTDOWN_GRACE_SECS", "seconds", file.shutdown_grace_secs, 30)?;
        let auth_failures_per_minute = positive(&env, "PORTAL_AUTH_FAILURES_PER_MINUTE", "failures", file.auth_failures_per_minute, 30)?;
        let max_body_bytes = positive(&env, "PORTAL_MAX_BODY_BYTES", "bytes", file.max_body_bytes, 1 << 20)?;
        let audit_retention_days = positive(&env, "PORTAL_AUDIT_RETENTION_DAYS", "days", file.audit_retention_days, 365)?;
        let snapshot_cache_mb = match env("PORTAL_SNAPSHOT_CACHE_MB") {
            Some(v) => {
                v.trim().parse().map_err(|_| PortalError::Config(format!("PORTAL_SNAPSHOT_CACHE_MB `{v}` is not a number of megabytes")))?
            }
            None => file.snapshot_cache_mb.unwrap_or(crate::storage::snapshots::DEFAULT_SNAPSHOT_CACHE_BYTES >> 20),
        };
        let async_query_ttl_secs = positive(&env, "PORTAL_ASYNC_QUERY_TTL_SECS", "seconds", file.async_query_ttl_secs, 3600)?;
        let smtp = smtp(&env, &sso_file)?;
        let webhook_allow_private = match env("PORTAL_WEBHOOK_ALLOW_PRIVATE") {
            Some(v) => matches!(v.trim(), "1" | "true" | "yes" | "on"),
            None => file.webhook_allow_private.unwrap_or(false),
        };
        Ok(Self {
            data_dir,
            addr,
            public_url,
            database_url,
            url_ttl_secs,
            site_root,
            session_ttl_hours,
            query_timeout_secs,
            xlsx_max_rows,
            token_max_days,
            token_max_active,
            oauth_token_secs,
            export_job_rows,
            export_ttl_hours,
            export_workers,
            oidc,
            partner_idps,
            storage: sso_file.storage,
            secret_key,
            previous_secret_keys,
            trusted_proxies,
            forwarded_header,
            metrics_token,
            metrics_addr,
            export_location,
            shutdown_grace_secs,
            auth_failures_per_minute,
            max_body_bytes,
            audit_retention_days,
            snapshot_cache_mb,
            async_query_ttl_secs,
            smtp,
            webhook_allow_private,
        })
    }

    /// The defaults, with everything kept under `dir` (unit tests).
    #[cfg(test)]
    pub fn for_tests(dir: &Path) -> Self {
        let data_dir = dir.to_string_lossy().to_string();
        Self::resolve(FileSettings::default(), |k| (k == "PORTAL_DATA_DIR").then(|| data_dir.clone())).expect("default settings")
    }

    /// Whether the portal is served over https (cookies are then marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The Delta Sharing endpoint written into profile files.
    pub fn sharing_endpoint(&self) -> String {
        format!("{}/delta-sharing", self.public_url)
    }
}

fn read_file(path: &Path) -> Result<FileSettings, PortalError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| PortalError::Config(format!("{}: {}", path.display(), e.message()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSettings::default()),
        Err(e) => Err(PortalError::Config(format!("{}: {e}", path.display()))),
    }
}

/// Single sign-on is on when an issuer is set; it then needs a client id and secret.
fn oidc(env: &impl Fn(&str) -> Option<String>, file: &FileSettings, public_url: &str) -> Result<Option<OidcSettings>, PortalError> {
    let get = |name: &str, from_file: &Option<String>| {
        env(name).or_else(|| from_file.clone()).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    };
    let Some(issuer) = get("PORTAL_OIDC_ISSUER", &file.oidc_issuer) else {
        return Ok(None);
    };
    url::Url::parse(&issuer).map_err(|e| PortalError::Config(format!("PORTAL_OIDC_ISSUER `{issuer}` is not a URL: {e}")))?;
    let required = |name: &str, from_file: &Option<String>| {
        get(name, from_file).ok_or_else(|| PortalError::Config(format!("{name} is required when PORTAL_OIDC_ISSUER is set")))
    };
    Ok(Some(OidcSettings {
        name: "your company account".into(),
        issuer: issuer.trim_end_matches('/').to_string(),
        client_id: required("PORTAL_OIDC_CLIENT_ID", &file.oidc_client_id)?,
        client_secret: required("PORTAL_OIDC_CLIENT_SECRET", &file.oidc_client_secret)?,
        redirect_url: get("PORTAL_OIDC_REDIRECT_URL", &file.oidc_redirect_url)
            .unwrap_or_else(|| format!("{public_url}/auth/oidc/callback")),
        scopes: get("PORTAL_OIDC_SCOPES", &file.oidc_scopes)
            .unwrap_or_else(|| "openid email profile".into())
            .split_whitespace()
            .map(String::from)
            .collect(),
        admin_claim: get("PORTAL_OIDC_ADMIN_CLAIM", &file.oidc_admin_claim).unwrap_or_else(|| "groups".into()),
        platform_admins: get("PORTAL_OIDC_PLATFORM_ADMINS", &file.oidc_platform_admins).unwrap_or_else(|| "portal-admins".into()),
        team_prefix: get("PORTAL_OIDC_TEAM_PREFIX", &file.oidc_team_prefix).unwrap_or_else(|| "portal-team-".into()),
    }))
}

/// E-mail is on when a host is set; it then needs a sender address.
fn smtp(env: &impl Fn(&str) -> Option<String>, file: &FileSettings) -> Result<Option<SmtpSettings>, PortalError> {
    let get = |name: &str, from_file: &Option<String>| {
        env(name).or_else(|| from_file.clone()).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    };
    let Some(host) = get("PORTAL_SMTP_HOST", &file.smtp_host) else {
        return Ok(None);
    };
    let tls = match get("PORTAL_SMTP_TLS", &file.smtp_tls).as_deref().unwrap_or("starttls") {
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        "none" => SmtpTls::None,
        other => return Err(PortalError::Config(format!("PORTAL_SMTP_TLS `{other}` must be starttls, tls or none"))),
    };
    let port = match env("PORTAL_SMTP_PORT") {
        Some(p) => p.trim().parse().map_err(|_| PortalError::Config(format!("PORTAL_SMTP_PORT `{p}` is not a port number")))?,
        None => file.smtp_port.unwrap_or(match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }),
    };
    let from = get("PORTAL_SMTP_FROM", &file.smtp_from)
        .ok_or_else(|| PortalError::Config("PORTAL_SMTP_FROM is required when PORTAL_SMTP_HOST is set".into()))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(PortalError::Config(format!("PORTAL_SMTP_FROM `{from}` is not an address like Data Portal <data@example.com>")));
    }
    Ok(Some(SmtpSettings {
        host,
        port,
        username: get("PORTAL_SMTP_USERNAME", &file.smtp_username),
        password: get("PORTAL_SMTP_PASSWORD", &file.smtp_password).map(Secret),
        from,
        tls,
    }))
}

/// Partner identity providers sign partners in only: no admin claim applies to them.
fn partner_idps(listed: &[PartnerIdp], public_url: &str) -> Result<Vec<OidcSettings>, PortalError> {
    listed
        .iter()
        .map(|idp| {
            url::Url::parse(&idp.issuer)
                .map_err(|e| PortalError::Config(format!("partner_idp `{}`: issuer `{}` is not a URL: {e}", idp.name, idp.issuer)))?;
            Ok(OidcSettings {
                name: idp.name.clone(),
                issuer: idp.issuer.trim_end_matches('/').to_string(),
                client_id: idp.client_id.clone(),
                client_secret: idp.client_secret.clone(),
                redirect_url: format!("{public_url}/auth/oidc/callback"),
                scopes: idp.scopes.as_deref().unwrap_or("openid email profile").split_whitespace().map(String::from).collect(),
                admin_claim: String::new(),
                platform_admins: String::new(),
                team_prefix: String::new(),
            })
        })
        .collect()
}

/// A comma- or whitespace-separated list.
fn list_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// HMAC keys are long random strings: a short one is a mistake worth stopping for.
fn checked_key(name: &str, key: String) -> Result<Secret, PortalError> {
    let key = key.trim().to_string();
    if key.len() < 32 {
        return Err(PortalError::Config(format!("{name} must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)")));
    }
    Ok(Secret(key))
}

/// A whole number of at least 1: from the env var, else the file, else the default.
fn positive<T>(env: &impl Fn(&str) -> Option<String>, name: &str, unit: &str, from_file: Option<T>, default: T) -> Result<T, PortalError>
where
    T: std::str::FromStr + PartialOrd + From<u8> + Copy,
{
    let value = match env(name) {
        Some(v) => v.trim().parse().map_err(|_| PortalError::Config(format!("{name} `{v}` is not a number of {unit}")))?,
        None => from_file.unwrap_or(default),
    };
    if value < T::from(1) {
        return Err(PortalError::Config(format!("{name} must be at least 1")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_point_at_local_data() {
        let s = Settings::resolve(FileSettings::default(), env_of(&[])).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.sharing_endpoint(), "http://127.0.0.1:3000/delta-sharing");
        assert_eq!(s.database_url, "sqlite://data/catalog.db?mode=rwc");
        assert_eq!(s.url_ttl_secs, 3600);
    }

    #[test]
    fn env_overrides_file() {
        let file: FileSettings = toml::from_str("addr = \"127.0.0.1:9000\"\npublic_url = \"https://a.example/\"").unwrap();
        let s = Settings::resolve(file, env_of(&[("PORTAL_PUBLIC_URL", "https://b.example")])).unwrap();
        assert_eq!(s.addr.port(), 9000);
        assert_eq!(s.sharing_endpoint(), "https://b.example/delta-sharing");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_ADDR", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("PORTAL_ADDR"));
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_URL_TTL_SECS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("PORTAL_URL_TTL_SECS"));
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_OIDC_ISSUER", "https://id.example")])).unwrap_err();
        assert!(err.to_string().contains("PORTAL_OIDC_CLIENT_ID"), "{err}");
    }

    #[test]
    fn keys_and_proxies_are_checked_at_start() {
        let key = "k".repeat(32);
        let s = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")])).unwrap();
        assert_eq!(s.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["10.0.0.0/8", "192.0.2.1/32"]);
        assert!(s.secret_key.is_none());
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_SECRET_KEY", "short")])).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_TRUSTED_PROXIES", "proxy.example")])).unwrap_err();
        assert!(err.to_string().contains("proxy.example"), "{err}");
        let file: FileSettings = toml::from_str(&format!("secret_key = \"{key}\"\nprevious_secret_keys = [\"{key}x\"]")).unwrap();
        let s = Settings::resolve(file, env_of(&[])).unwrap();
        assert_eq!(s.previous_secret_keys.len(), 1);
        assert!(!format!("{s:?}").contains(&key));
    }

    #[test]
    fn email_is_off_until_a_host_is_set_and_then_needs_a_sender() {
        assert_eq!(Settings::resolve(FileSettings::default(), env_of(&[])).unwrap().smtp, None);
        let err = Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_SMTP_HOST", "mail.example")])).unwrap_err();
        assert!(err.to_string().contains("PORTAL_SMTP_FROM"), "{err}");
        let env = env_of(&[
            ("PORTAL_SMTP_HOST", "mail.example"),
            ("PORTAL_SMTP_FROM", "Data <data@example.com>"),
            ("PORTAL_SMTP_PASSWORD", "pw"),
        ]);
        let smtp = Settings::resolve(FileSettings::default(), env).unwrap().smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        assert!(!format!("{smtp:?}").contains("pw"));
        let err =
            Settings::resolve(FileSettings::default(), env_of(&[("PORTAL_SMTP_HOST", "m"), ("PORTAL_SMTP_FROM", "nobody")])).unwrap_err();
        assert!(err.to_string().contains("not an address"), "{err}");
        let file: FileSettings = toml::from_str("smtp_host = \"m\"\nsmtp_from = \"a@b.example\"\nsmtp_tls = \"none\"").unwrap();
        assert_eq!(Settings::resolve(file, env_of(&[])).unwrap().smtp.unwrap().port, 25);
    }

    #[test]
    fn single_sign_on_is_off_until_an_issuer_is_set() {
        assert_eq!(Settings::resolve(FileSettings::default(), env_of(&[])).unwrap().oidc, None);
        let env = env_of(&[
            ("PORTAL_OIDC_ISSUER", "https://id.example/"),
            ("PORTAL_OIDC_CLIENT_ID", "portal"),
            ("PORTAL_OIDC_CLIENT_SECRET", "s"),
        ]);
        let oidc = Settings::resolve(FileSettings::default(), env).unwrap().oidc.unwrap();
        assert_eq!(oidc.issuer, "https://id.example");
        assert_eq!(oidc.redirect_url, "http://127.0.0.1:3000/auth/oidc/callback");
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        let file: FileSettings = toml::from_str(
            "[[partner_idp]]\nname = \"ACME\"\nissuer = \"https://login.acme.example/\"\nclient_id = \"p\"\nclient_secret = \"s\"",
        )
        .unwrap();
        let idps = Settings::resolve(file, env_of(&[])).unwrap().partner_idps;
        assert_eq!((idps[0].name.as_str(), idps[0].issuer.as_str()), ("ACME", "https://login.acme.example"));
    }
}
