//! Predicate hints, evaluated per file to skip files that cannot hold a matching row.
//!
//! Both hint languages (JSON `jsonPredicateHints`, legacy SQL `predicateHints`) parse into one
//! [`Expr`] tree. Evaluation is three-valued over what a file's log entry tells: exact partition
//! values, and min/max/nullCount statistics. A file is dropped only when the predicate is surely
//! false for it. Hints are best effort: one that does not parse filters nothing.

mod eval;
pub mod json;
pub mod sql;

use std::cmp::Ordering;

pub use eval::FileFacts;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The same comparison with its operands swapped (`1 < x` is `x > 1`).
    fn flipped(self) -> Self {
        match self {
            Self::Eq => Self::Eq,
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Self::Eq => o == Ordering::Equal,
            Self::Lt => o == Ordering::Less,
            Self::Le => o != Ordering::Greater,
            Self::Gt => o == Ordering::Greater,
            Self::Ge => o != Ordering::Less,
        }
    }
}

/// Value types of the JSON predicate language (`valueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Bool,
    Int,
    Long,
    String,
    Date,
    Float,
    Double,
    Timestamp,
}

impl ValueType {
    /// Whether values of the two types compare as the same kind (int with long, float with double).
    pub fn same_kind(self, other: Self) -> bool {
        use ValueType::*;
        matches!((self, other), (Int | Long, Int | Long) | (Float | Double, Float | Double)) || self == other
    }

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "bool" | "boolean" => Self::Bool,
            "int" | "integer" | "short" | "byte" => Self::Int,
            "long" => Self::Long,
            "string" => Self::String,
            "date" => Self::Date,
            "float" => Self::Float,
            "double" => Self::Double,
            "timestamp" | "timestamp_ntz" => Self::Timestamp,
            _ => return None,
        })
    }
}

/// A typed value, comparable only with values of its own kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Days since the epoch.
    Date(i32),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
}

impl Value {
    /// Parses the text form used by literals, partition values and JSON stats.
    pub fn parse(t: ValueType, text: &str) -> Option<Self> {
        let text = text.trim();
        Some(match t {
            ValueType::Bool => Self::Bool(text.parse().ok()?),
            ValueType::Int | ValueType::Long => Self::Int(text.parse().ok()?),
            ValueType::Float | ValueType::Double => Self::Float(text.parse().ok()?),
            ValueType::String => Self::Str(text.to_string()),
            ValueType::Date => {
                let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
                Self::Date((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
            }
            ValueType::Timestamp => Self::Timestamp(parse_timestamp(text)?),
        })
    }

    fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => Some(a.cmp(b)),
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(b)),
            (Self::Float(a), Self::Float(b)) => a.partial_cmp(b),
            (Self::Int(a), Self::Float(b)) => (*a as f64).partial_cmp(b),
            (Self::Float(a), Self::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Self::Str(a), Self::Str(b)) => Some(a.cmp(b)),
            (Self::Date(a), Self::Date(b)) => Some(a.cmp(b)),
            (Self::Timestamp(a), Self::Timestamp(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// ISO-8601 (`2021-04-28T23:33:57.955Z`) or the partition form (`2021-04-28 23:33:57`).
fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_micros())
}

/// A predicate over one file's rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `column <cmp> literal`
    Compare {
        column: String,
        cmp: Cmp,
        value: Value,
        value_type: ValueType,
    },
    IsNull {
        column: String,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// Whether every column the predicate names is one of `columns` (in any case, as hints match).
    pub fn only_names(&self, columns: &[String]) -> bool {
        match self {
            Self::Compare { column, .. } | Self::IsNull { column } => columns.iter().any(|c| c.eq_ignore_ascii_case(column)),
            Self::And(children) | Self::Or(children) => children.iter().all(|c| c.only_names(columns)),
            Self::Not(child) => child.only_names(columns),
        }
    }
}
