//! What the partner pages show: the catalog, a table's dictionary, and a page of typed rows.

use serde::{Deserialize, Serialize};

use super::grammar::{TableQuery, TypeClass};

/// The answer of a page's server function: the data, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Loaded<T> {
    Ready(T),
    /// No session (or it ended): the page sends the visitor to `/login`.
    SignedOut,
    /// Unknown or not granted; the two read the same.
    NotFound(String),
    /// The page cannot be shown; `status` is its HTTP status (4xx: the request, 5xx: ours,
    /// already logged on the server).
    Failed {
        status: u16,
        message: String,
    },
    /// The request is answered at another address (the filter form's canonical URL).
    Redirect(String),
}

/// The signed-in partner (if any) and the token every form of this browser must carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub partner: Option<String>,
    pub csrf: String,
    /// Identity providers partners may sign in with: (index, name).
    #[serde(default)]
    pub sso: Vec<(usize, String)>,
}

/// The anti-forgery token of this request, put in the request's extensions by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormToken(pub String);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub shares: Vec<ShareView>,
    /// The partner's saved views of these tables.
    pub saved: Vec<super::SavedViewRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareView {
    pub name: String,
    pub comment: Option<String>,
    pub schemas: Vec<SchemaView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaView {
    pub name: String,
    pub tables: Vec<TableSummary>,
}

/// A table on the catalog page; the figures are the caller's rows only, read from Delta stats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    pub share: String,
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub version: Option<i64>,
    /// When the latest version was written (RFC 3339; pages show it readable).
    pub updated: Option<String>,
    pub partition_columns: Vec<String>,
    /// Set when the table cannot be read right now.
    pub problem: Option<String>,
}

impl TableSummary {
    pub fn href(&self) -> String {
        table_href(&self.share, &self.schema, &self.name)
    }
}

pub fn table_href(share: &str, schema: &str, table: &str) -> String {
    use super::grammar::encode;
    format!("/shares/{}/{}/{}", encode(share), encode(schema), encode(table))
}

/// One column of the data dictionary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnView {
    pub name: String,
    /// The Delta type name (`long`, `decimal(10,2)`, `timestamp`…).
    pub type_name: String,
    pub class: TypeClass,
    pub nullable: bool,
    pub comment: Option<String>,
    pub partition: bool,
    /// The zone timestamps are shown in (`UTC`), for timestamp columns with one.
    pub zone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionView {
    pub version: i64,
    /// When it was written (RFC 3339; pages show it readable).
    pub at: String,
}

/// A table's identity and dictionary, shown even when the query is bad.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    pub share: String,
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub columns: Vec<ColumnView>,
    /// The version shown.
    pub version: i64,
    pub latest_version: i64,
    /// Versions the partner may travel to, newest first; empty unless shared with history.
    pub history: Vec<VersionView>,
    /// The partner may read the rows changed since a version (`_since`): history shared and
    /// the table's change data feed on.
    #[serde(default)]
    pub change_feed: bool,
    /// The columns that identify a row, where the data provider declared them: the partner may
    /// then ask for net changes (`_net`).
    #[serde(default)]
    pub key_columns: Vec<String>,
}

impl TableMeta {
    pub fn href(&self) -> String {
        table_href(&self.share, &self.schema, &self.name)
    }

    /// The JSON API's address of this table (`rows`, `export.csv`… follow it).
    pub fn api_href(&self) -> String {
        use super::grammar::encode;
        format!("/api/v1/shares/{}/schemas/{}/tables/{}", encode(&self.share), encode(&self.schema), encode(&self.name))
    }

    pub fn column(&self, name: &str) -> Option<&ColumnView> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn class_of(&self, name: &str) -> Option<TypeClass> {
        self.column(name).map(|c| c.class)
    }
}

/// A typed cell. Timestamps are RFC 3339 in UTC (`2026-01-31T14:30:00Z`), or without a zone
/// for `timestamp_ntz`; decimals keep their digits as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Decimal(String),
    Bool(bool),
    Date(String),
    Timestamp(String),
    /// Struct, array and map values, as compact JSON.
    Json(String),
    /// Binary values, hex.
    Binary(String),
}

impl Cell {
    /// The text that filters on this value (`col__exact=<text>`); `None` for null.
    pub fn filter_text(&self) -> Option<String> {
        Some(match self {
            Self::Null => return None,
            Self::Text(s) | Self::Decimal(s) | Self::Date(s) | Self::Timestamp(s) | Self::Json(s) | Self::Binary(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Bool(b) => b.to_string(),
        })
    }

    /// The JSON API's value: numbers stay numbers, decimals stay exact text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::Null => Value::Null,
            Self::Int(i) => Value::from(*i),
            Self::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or_else(|| Value::String(f.to_string())),
            Self::Bool(b) => Value::Bool(*b),
            Self::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
            Self::Text(s) | Self::Decimal(s) | Self::Date(s) | Self::Timestamp(s) | Self::Binary(s) => Value::String(s.clone()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: Cell,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facet {
    pub column: String,
    pub values: Vec<FacetValue>,
    /// More distinct values exist than are shown.
    pub truncated: bool,
}

/// One page of the filtered view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Shown columns, in order.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Rows of the whole filtered view; `None` when counting ran out of time.
    pub count: Option<u64>,
    /// `false` when `count` is a lower bound (the count stopped at its cap).
    pub count_exact: bool,
    /// The `_next` token of the following page.
    pub next: Option<String>,
    pub facets: Vec<Facet>,
}

/// Why a view cannot be shown: a bad filter, column or value; `column` places the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub message: String,
    pub column: Option<String>,
    /// The HTTP status the page answers with (400 for a bad view, 5xx for our faults).
    pub status: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableView {
    pub meta: TableMeta,
    pub query: TableQuery,
    /// `where country = "DE" and units > 3`, or empty.
    pub description: String,
    pub grid: Result<Grid, Problem>,
    /// The portal's public address (for the Power Query's absolute URL).
    pub public_url: String,
    /// Views with more rows than this are exported as background jobs.
    pub job_rows: u64,
    /// The partner's saved views of this table.
    pub saved: Vec<super::SavedViewRow>,
    /// What the partner may download.
    pub limits: super::PartnerLimits,
    /// The view's chart, when the URL asks for one.
    #[serde(default)]
    pub chart: Option<Result<super::charts::ChartData, Problem>>,
}
