//! Three-valued evaluation of an [`Expr`] against one file's partition values and statistics.
//!
//! `Some(b)`: every row of the file surely makes the predicate `b`; `None`: unknown. A file is
//! skipped only on `Some(false)`, so an unknown answer can never lose rows.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value as Json;

use super::{Cmp, Expr, Value, ValueType};

/// Delta truncates string statistics; a max this long may be a cut-off prefix.
const STRING_STATS_PREFIX_LEN: usize = 32;

/// What the log says about one file.
pub struct FileFacts<'a> {
    pub partition_values: &'a HashMap<String, Option<String>>,
    /// The parsed `stats` JSON (`numRecords`, `minValues`, `maxValues`, `nullCount`), if any.
    pub stats: Option<&'a Json>,
    /// Column name → Delta type name, from the table schema. A comparison is only evaluated when
    /// the column's real type is of the predicate's kind; otherwise it is unknown.
    pub column_types: &'a HashMap<String, String>,
}

type Tri = Option<bool>;

impl FileFacts<'_> {
    /// False only when no row of the file can match.
    pub fn may_match(&self, e: &Expr) -> bool {
        self.eval(e) != Some(false)
    }

    fn eval(&self, e: &Expr) -> Tri {
        match e {
            Expr::And(children) => self.combine(children, false),
            Expr::Or(children) => self.combine(children, true),
            Expr::Not(inner) => self.eval(inner).map(|b| !b),
            Expr::IsNull { column } => self.is_null(column),
            Expr::Compare { column, cmp, value, value_type } => self.compare(column, *cmp, value, *value_type),
        }
    }

    /// AND (`decisive` = false) and OR (`decisive` = true): one child surely `decisive` decides;
    /// all children surely the opposite decide the other way; anything else is unknown.
    fn combine(&self, children: &[Expr], decisive: bool) -> Tri {
        let results: Vec<Tri> = children.iter().map(|c| self.eval(c)).collect();
        if results.contains(&Some(decisive)) {
            Some(decisive)
        } else if results.iter().all(|r| *r == Some(!decisive)) {
            Some(!decisive)
        } else {
            None
        }
    }

    fn partition_value(&self, column: &str) -> Option<&Option<String>> {
        self.partition_values
            .get(column)
            .or_else(|| self.partition_values.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v))
    }

    fn stat(&self, section: &str, column: &str) -> Option<&Json> {
        let map = self.stats?.get(section)?.as_object()?;
        map.get(column).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v))
    }

    fn null_count(&self, column: &str) -> Option<i64> {
        self.stat("nullCount", column)?.as_i64()
    }

    fn is_null(&self, column: &str) -> Tri {
        if let Some(v) = self.partition_value(column) {
            return Some(v.is_none());
        }
        let nulls = self.null_count(column)?;
        let rows = self.stats?.get("numRecords")?.as_i64()?;
        match nulls {
            0 => Some(false),
            n if n == rows => Some(true),
            _ => None,
        }
    }

    fn compare(&self, column: &str, cmp: Cmp, value: &Value, t: ValueType) -> Tri {
        let column_type = self
            .column_types
            .get(column)
            .or_else(|| self.column_types.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v))
            .and_then(|name| ValueType::parse(name));
        if !column_type.is_some_and(|ct| ct.same_kind(t)) {
            return None;
        }
        let answer = self.compare_typed(column, cmp, value, t);
        // NaN sits outside min/max statistics, so "every row matches" cannot be known for floats.
        if matches!(t, ValueType::Float | ValueType::Double) && answer == Some(true) {
            return None;
        }
        answer
    }

    fn compare_typed(&self, column: &str, cmp: Cmp, value: &Value, t: ValueType) -> Tri {
        if let Some(partition) = self.partition_value(column) {
            let actual = Value::parse(t, partition.as_deref()?)?;
            return Some(cmp.holds(actual.compare(value)?));
        }
        let min = self.stat("minValues", column).and_then(|j| json_value(t, j));
        let max_json = self.stat("maxValues", column);
        let max = max_json.and_then(|j| json_value(t, j)).map(widen_max);
        let max_is_prefix = matches!(max_json, Some(Json::String(s)) if s.chars().count() >= STRING_STATS_PREFIX_LEN);
        let no_nulls = self.null_count(column) == Some(0);
        // `value` relative to the file's range.
        let below_min = min.as_ref().and_then(|m| value.compare(m)).map(|o| o == Ordering::Less);
        let at_or_below_min = min.as_ref().and_then(|m| value.compare(m)).map(|o| o != Ordering::Greater);
        let above_max = if max_is_prefix { None } else { max.as_ref().and_then(|m| value.compare(m)).map(|o| o == Ordering::Greater) };
        let at_or_above_max = if max_is_prefix { None } else { max.as_ref().and_then(|m| value.compare(m)).map(|o| o != Ordering::Less) };
        let single = matches!((&min, &max), (Some(a), Some(b)) if a.compare(b) == Some(Ordering::Equal) && a.compare(value) == Some(Ordering::Equal));
        match cmp {
            Cmp::Eq if below_min == Some(true) || above_max == Some(true) => Some(false),
            Cmp::Eq if single && no_nulls && !max_is_prefix => Some(true),
            // col < v: impossible when v <= min; certain when max < v.
            Cmp::Lt if at_or_below_min == Some(true) => Some(false),
            Cmp::Lt if above_max == Some(true) && no_nulls => Some(true),
            Cmp::Le if below_min == Some(true) => Some(false),
            Cmp::Le if at_or_above_max == Some(true) && no_nulls => Some(true),
            Cmp::Gt if at_or_above_max == Some(true) => Some(false),
            Cmp::Gt if below_min == Some(true) && no_nulls => Some(true),
            Cmp::Ge if above_max == Some(true) => Some(false),
            Cmp::Ge if at_or_below_min == Some(true) && no_nulls => Some(true),
            _ => None,
        }
    }
}

fn json_value(t: ValueType, j: &Json) -> Option<Value> {
    match j {
        Json::String(s) => Value::parse(t, s),
        Json::Number(_) | Json::Bool(_) => Value::parse(t, &j.to_string()),
        _ => None,
    }
}

/// Timestamp statistics are cut to milliseconds: the true max may be up to 999 µs later.
fn widen_max(v: Value) -> Value {
    match v {
        Value::Timestamp(us) => Value::Timestamp(us + 999),
        other => other,
    }
}
