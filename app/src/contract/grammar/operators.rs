//! [`OPERATORS`], the one operator table: each operator's URL key, its words in the filter
//! builder and in the sentence above the grid, how many values it takes and which column types
//! it fits. The server turns each [`Op`] into a DataFusion expression with an exhaustive `match`.

use serde::{Deserialize, Serialize};

/// Families of Delta column types; they decide which operators fit and how values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeClass {
    Text,
    Integer,
    Decimal,
    Float,
    Boolean,
    Date,
    Timestamp,
    Binary,
    Nested,
}

impl TypeClass {
    /// From a Delta schema type name (`string`, `long`, `decimal(10,2)`, `timestamp_ntz`…).
    pub fn of_delta(type_name: &str) -> Self {
        match type_name {
            "string" => Self::Text,
            "long" | "integer" | "short" | "byte" => Self::Integer,
            "float" | "double" => Self::Float,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "timestamp" | "timestamp_ntz" => Self::Timestamp,
            "binary" => Self::Binary,
            t if t.starts_with("decimal") => Self::Decimal,
            _ => Self::Nested,
        }
    }

    /// What a filter value must look like, for error messages and input hints.
    pub fn expected(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Integer => "a whole number like 42",
            Self::Decimal | Self::Float => "a number like 12.5",
            Self::Boolean => "true or false",
            Self::Date => "a date like 2026-01-31",
            Self::Timestamp => "a timestamp like 2026-01-31T14:30:00Z",
            Self::Binary => "binary data",
            Self::Nested => "a nested value",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Decimal | Self::Float)
    }

    /// Types with a natural order (sortable, comparable with `gt`…).
    pub fn is_orderable(self) -> bool {
        matches!(self, Self::Text | Self::Integer | Self::Decimal | Self::Float | Self::Date | Self::Timestamp | Self::Boolean)
    }
}

/// A filter operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Exact,
    Not,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    IsNull,
    NotNull,
    IsBlank,
    NotBlank,
    Date,
}

/// What an operator takes as its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// No value (`?col__isnull=1`).
    None,
    One,
    /// A comma list or a JSON array.
    List,
}

/// One row of the operator table.
pub struct OpInfo {
    pub op: Op,
    /// The URL suffix: `col__<key>=value`.
    pub key: &'static str,
    /// The filter builder's option text.
    pub label: &'static str,
    /// How the sentence above the grid says it: `where units > 3`.
    pub words: &'static str,
    pub arity: Arity,
    fits: fn(TypeClass) -> bool,
}

fn any(_: TypeClass) -> bool {
    true
}
fn comparable(t: TypeClass) -> bool {
    !matches!(t, TypeClass::Nested | TypeClass::Binary)
}
fn text(t: TypeClass) -> bool {
    t == TypeClass::Text
}
fn ordered(t: TypeClass) -> bool {
    t.is_orderable() && t != TypeClass::Boolean
}
fn dated(t: TypeClass) -> bool {
    matches!(t, TypeClass::Date | TypeClass::Timestamp)
}

pub const OPERATORS: &[OpInfo] = &[
    OpInfo { op: Op::Exact, key: "exact", label: "=", words: "=", arity: Arity::One, fits: comparable },
    OpInfo { op: Op::Not, key: "not", label: "≠", words: "≠", arity: Arity::One, fits: comparable },
    OpInfo { op: Op::Contains, key: "contains", label: "contains", words: "contains", arity: Arity::One, fits: text },
    OpInfo { op: Op::NotContains, key: "notcontains", label: "does not contain", words: "does not contain", arity: Arity::One, fits: text },
    OpInfo { op: Op::StartsWith, key: "startswith", label: "starts with", words: "starts with", arity: Arity::One, fits: text },
    OpInfo { op: Op::EndsWith, key: "endswith", label: "ends with", words: "ends with", arity: Arity::One, fits: text },
    OpInfo { op: Op::Gt, key: "gt", label: ">", words: ">", arity: Arity::One, fits: ordered },
    OpInfo { op: Op::Gte, key: "gte", label: "≥", words: "≥", arity: Arity::One, fits: ordered },
    OpInfo { op: Op::Lt, key: "lt", label: "<", words: "<", arity: Arity::One, fits: ordered },
    OpInfo { op: Op::Lte, key: "lte", label: "≤", words: "≤", arity: Arity::One, fits: ordered },
    OpInfo { op: Op::In, key: "in", label: "in", words: "is one of", arity: Arity::List, fits: comparable },
    OpInfo { op: Op::NotIn, key: "notin", label: "not in", words: "is none of", arity: Arity::List, fits: comparable },
    OpInfo { op: Op::IsNull, key: "isnull", label: "is null", words: "is null", arity: Arity::None, fits: any },
    OpInfo { op: Op::NotNull, key: "notnull", label: "is not null", words: "is not null", arity: Arity::None, fits: any },
    OpInfo { op: Op::IsBlank, key: "isblank", label: "is blank", words: "is blank", arity: Arity::None, fits: any },
    OpInfo { op: Op::NotBlank, key: "notblank", label: "is not blank", words: "is not blank", arity: Arity::None, fits: any },
    OpInfo { op: Op::Date, key: "date", label: "date is", words: "is on", arity: Arity::One, fits: dated },
];

impl Op {
    pub fn info(self) -> &'static OpInfo {
        OPERATORS.iter().find(|i| i.op == self).expect("every Op has a row in OPERATORS")
    }

    pub fn from_key(key: &str) -> Option<Self> {
        OPERATORS.iter().find(|i| i.key == key).map(|i| i.op)
    }

    pub fn fits(self, t: TypeClass) -> bool {
        (self.info().fits)(t)
    }
}
