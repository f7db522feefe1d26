//! Error types, and their one mapping to HTTP (`{"errorCode","message"}`, the protocol's shape).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The cause of a server fault, kept for the log.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Settings the portal cannot run with: the CLI's one line at startup; a 500 with no text
    /// if a request meets one.
    #[error("{0}")]
    Config(String),
    /// No credentials, or a session that ended.
    #[error("{0}")]
    Unauthenticated(String),
    /// Credentials presented and refused (unknown, expired or revoked): a failed authentication,
    /// counted against the client's address (`auth::throttle`).
    #[error("{0}")]
    BadCredentials(String),
    /// A recipient's token presented after it was revoked or expired: refused as
    /// `BadCredentials` are, and the audit line names the recipient whose token it was.
    #[error("{message}")]
    StaleToken { recipient: String, message: String },
    /// The client's address failed to authenticate too often; it may try again after this long.
    #[error("too many failed sign-in attempts from your address; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// A limit of so many per day, reached; room again after this long.
    #[error("{message}")]
    QuotaReached { message: String, retry_after_secs: u64 },
    /// A request body over the portal's limit.
    #[error("{0}")]
    TooLarge(String),
    /// A request address (path and query) over the portal's limit.
    #[error("{0}")]
    UriTooLong(String),
    /// Unknown, or not visible to the caller: the two are deliberately indistinguishable.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Forbidden(String),
    /// A one-time thing already spent, or expired.
    #[error("{0}")]
    Gone(String),
    /// A name that is already taken.
    #[error("{0}")]
    Conflict(String),
    /// A service the portal depends on (the identity provider) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A location that holds no readable Delta table (admin-facing: names the location).
    #[error("{0}")]
    NotATable(String),
    /// A shared table whose data cannot be read (partner-facing: never names the location).
    #[error("{0}")]
    TableUnavailable(String),
    /// A table view the grammar or the table's types cannot answer; `column` places the message.
    #[error("{message}")]
    BadQuery { column: Option<String>, message: String },
    /// A form or API field the request got wrong; `field` names it so the message can sit beside it.
    #[error("{message}")]
    Field { field: &'static str, message: String },
    /// Something asked for before it exists (an export still being written).
    #[error("{0}")]
    NotReady(String),
    /// A preview that ran past its time limit.
    #[error("{0}")]
    QueryTimeout(String),
    #[error("catalog: {0}")]
    Catalog(#[from] sqlx::Error),
    #[error("catalog migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("delta table: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
    #[error("query engine: {0}")]
    Engine(#[from] deltalake::datafusion::error::DataFusionError),
    #[error("storage: {0}")]
    Storage(String),
    /// An object store, with what the portal was doing when it failed.
    #[error("storage: {context}: {source}")]
    Store { context: String, source: Source },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
    /// A fault inside the portal, with what it was doing and the cause.
    #[error("{context}: {source}")]
    Fault { context: String, source: Source },
}

impl From<app::contract::grammar::GrammarError> for PortalError {
    fn from(e: app::contract::grammar::GrammarError) -> Self {
        Self::BadQuery { column: None, message: e.0 }
    }
}

pub type Result<T, E = PortalError> = std::result::Result<T, E>;

impl PortalError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) | Self::BadCredentials(_) | Self::StaleToken { .. } => StatusCode::UNAUTHORIZED,
            Self::Throttled { .. } | Self::QuotaReached { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::InvalidParameter(_)
            | Self::Malformed(_)
            | Self::Unsupported(_)
            | Self::NotATable(_)
            | Self::TableUnavailable(_)
            | Self::BadQuery { .. }
            | Self::Field { .. }
            | Self::QueryTimeout(_) => StatusCode::BAD_REQUEST,
            Self::NotReady(_) => StatusCode::CONFLICT,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Gone(_) => StatusCode::GONE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            e if e.is_unstorable_text() => StatusCode::BAD_REQUEST,
            Self::Config(_)
            | Self::Catalog(_)
            | Self::Migration(_)
            | Self::Delta(_)
            | Self::Engine(_)
            | Self::Storage(_)
            | Self::Store { .. }
            | Self::Io(_)
            | Self::Internal(_)
            | Self::Fault { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The protocol's error codes (those the reference server uses, so clients recognise them).
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) | Self::BadCredentials(_) | Self::StaleToken { .. } => "UNAUTHENTICATED",
            Self::Throttled { .. } | Self::QuotaReached { .. } => "RESOURCE_EXHAUSTED",
            Self::TooLarge(_) | Self::UriTooLong(_) => "REQUEST_TOO_LARGE",
            // As the reference server answers for missing table files.
            Self::NotFound(_) | Self::TableUnavailable(_) => "RESOURCE_DOES_NOT_EXIST",
            Self::InvalidParameter(_) | Self::NotATable(_) | Self::BadQuery { .. } | Self::Field { .. } => "INVALID_PARAMETER_VALUE",
            e if e.is_unstorable_text() => "INVALID_PARAMETER_VALUE",
            Self::NotReady(_) => "RESOURCE_NOT_READY",
            Self::QueryTimeout(_) => "QUERY_TIMEOUT",
            Self::Malformed(_) => "MALFORMED_REQUEST",
            Self::Unsupported(_) => "UNSUPPORTED_OPERATION",
            Self::Forbidden(_) => "PERMISSION_DENIED",
            Self::Gone(_) => "RESOURCE_EXPIRED",
            Self::Conflict(_) => "RESOURCE_ALREADY_EXISTS",
            Self::Unavailable(_) => "TEMPORARILY_UNAVAILABLE",
            _ => "INTERNAL_ERROR",
        }
    }

    /// The message a client sees; server faults are logged, not shown.
    pub fn public_message(&self) -> String {
        if self.is_unstorable_text() {
            "text may not contain NUL or other characters the catalog cannot store".into()
        } else if self.status().is_server_error() {
            String::new()
        } else {
            self.to_string()
        }
    }
}

impl PortalError {
    /// Text the catalog cannot store (a NUL in a JSON string, on Postgres): the client's error.
    fn is_unstorable_text(&self) -> bool {
        matches!(self, Self::Catalog(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c == "22021" || c == "22P05"))
    }

    /// Credentials presented and refused: a failed authentication.
    pub fn is_bad_credentials(&self) -> bool {
        matches!(self, Self::BadCredentials(_) | Self::StaleToken { .. })
    }

    /// The recipient whose credentials were refused, when they name one.
    pub fn refused_recipient(&self) -> Option<&str> {
        match self {
            Self::StaleToken { recipient, .. } => Some(recipient),
            _ => None,
        }
    }

    pub fn bad_query(column: &str, message: impl Into<String>) -> Self {
        Self::BadQuery { column: Some(column.to_string()), message: message.into() }
    }

    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Field { field, message: message.into() }
    }

    /// An error answered again from what was kept of it (its code and public message): an async
    /// query that failed on one replica is reported on the poll of any.
    pub fn from_code(code: &str, message: String) -> Self {
        match code {
            "RESOURCE_DOES_NOT_EXIST" => Self::TableUnavailable(message),
            "INVALID_PARAMETER_VALUE" => Self::InvalidParameter(message),
            "MALFORMED_REQUEST" => Self::Malformed(message),
            "UNSUPPORTED_OPERATION" => Self::Unsupported(message),
            "QUERY_TIMEOUT" => Self::QueryTimeout(message),
            "PERMISSION_DENIED" => Self::Forbidden(message),
            "RESOURCE_EXPIRED" => Self::Gone(message),
            "TEMPORARILY_UNAVAILABLE" => Self::Unavailable(message),
            _ => Self::Internal(message),
        }
    }

    /// A fault inside the portal: `context` says what it was doing; the cause is kept.
    pub fn fault(context: impl Into<String>, source: impl Into<Source>) -> Self {
        Self::Fault { context: context.into(), source: source.into() }
    }

    /// An object store failed while the portal was doing `context`; the cause is kept.
    pub fn store(context: impl Into<String>, source: impl Into<Source>) -> Self {
        Self::Store { context: context.into(), source: source.into() }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({ "errorCode": self.error_code(), "message": self.public_message() });
        // Where the message belongs: a form or API field, or the column of a table view.
        match &self {
            Self::Field { field, .. } => body["field"] = serde_json::Value::from(*field),
            Self::BadQuery { column: Some(column), .. } => body["column"] = serde_json::Value::from(column.as_str()),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(recipient) = self.refused_recipient() {
            response.extensions_mut().insert(RefusedRecipient(recipient.to_string()));
        }
        match self {
            Self::BadCredentials(_) | Self::StaleToken { .. } => FailedAuthentication::mark(&mut response),
            Self::Throttled { retry_after_secs } | Self::QuotaReached { retry_after_secs, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// The recipient whose revoked or expired token a refused response answered: the audit line
/// names it, so its admins see the failures.
#[derive(Clone, Debug)]
pub struct RefusedRecipient(pub String);

impl RefusedRecipient {
    /// The recipient a refused response names, for its audit line.
    pub fn of(response: &Response) -> Option<String> {
        response.extensions().get::<Self>().map(|r| r.0.clone())
    }
}

/// Marks a response as answering a failed authentication, whatever its shape (a 401, a sign-in
/// form's redirect, an activation page): the throttle counts it against the client's address.
#[derive(Clone, Copy, Debug)]
pub struct FailedAuthentication;

impl FailedAuthentication {
    pub fn mark(response: &mut Response) {
        response.extensions_mut().insert(Self);
    }

    pub fn marked(response: &Response) -> bool {
        response.extensions().get::<Self>().is_some()
    }
}
