//! The operator table as DataFusion expressions. Every filter becomes a typed expression tree
//! built here; user text only ever becomes a literal value, never SQL.

use app::contract::grammar::{Filter, Op, TypeClass};
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::common::Column as ColumnRef;
use deltalake::datafusion::logical_expr::expr::Like;
use deltalake::datafusion::prelude::{cast, lit, Expr};

use super::values::{parse_date, scalar};
use super::Column;
use crate::auth::RowScope;
use crate::error::{PortalError, Result};

/// A column reference by exact name (no splitting on dots, no case folding).
pub fn column(name: &str) -> Expr {
    Expr::Column(ColumnRef::from_name(name))
}

/// One filter row as an expression; the operator must fit the column's type.
pub fn filter(f: &Filter, c: &Column) -> Result<Expr> {
    let info = f.op.info();
    if !f.op.fits(c.class) {
        return Err(PortalError::bad_query(
            &c.name,
            format!("`{}` is a {} column: the operator “{}” does not apply to it", c.name, c.type_name, info.label),
        ));
    }
    let col = column(&c.name);
    let one = || scalar(c, &f.value).map(lit);
    let blank = || col.clone().is_null().or(col.clone().eq(lit("")));
    Ok(match f.op {
        Op::Exact => col.eq(one()?),
        Op::Not => col.not_eq(one()?),
        Op::Gt => col.gt(one()?),
        Op::Gte => col.gt_eq(one()?),
        Op::Lt => col.lt(one()?),
        Op::Lte => col.lt_eq(one()?),
        Op::Contains => like(col, format!("%{}%", escape(&f.value)), false),
        Op::NotContains => like(col, format!("%{}%", escape(&f.value)), true),
        Op::StartsWith => like(col, format!("{}%", escape(&f.value)), false),
        Op::EndsWith => like(col, format!("%{}", escape(&f.value)), false),
        Op::In | Op::NotIn => {
            let items = f.list().map_err(|e| PortalError::bad_query(&c.name, e.0))?;
            let values = items.iter().map(|v| scalar(c, v).map(lit)).collect::<Result<Vec<_>>>()?;
            col.in_list(values, f.op == Op::NotIn)
        }
        Op::IsNull => col.is_null(),
        Op::NotNull => col.is_not_null(),
        Op::IsBlank if c.class == TypeClass::Text => blank(),
        Op::IsBlank => col.is_null(),
        Op::NotBlank if c.class == TypeClass::Text => !blank(),
        Op::NotBlank => col.is_not_null(),
        Op::Date => on_day(col, c, &f.value)?,
    })
}

/// Case-insensitive LIKE with `\` escaping the pattern's own wildcards (Datasette's `contains`
/// is SQLite's case-insensitive LIKE; partners expect "de" to find "DE").
fn like(col: Expr, pattern: String, negated: bool) -> Expr {
    Expr::Like(Like::new(negated, Box::new(col), Box::new(lit(pattern)), Some('\\'), true))
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `date` on a date column is equality; on a timestamp it is the UTC day's half-open range,
/// which keeps min/max statistics usable for skipping files.
fn on_day(col: Expr, c: &Column, value: &str) -> Result<Expr> {
    if c.class == TypeClass::Date {
        return Ok(col.eq(lit(scalar(c, value)?)));
    }
    let day = parse_date(value.trim())
        .ok_or_else(|| PortalError::bad_query(&c.name, format!("`{}__date` expects a date like 2026-01-31, got `{value}`", c.name)))?;
    let next_day = day
        .checked_add_days(chrono::Days::new(1))
        .ok_or_else(|| PortalError::bad_query(&c.name, format!("`{}__date`: `{value}` is out of range", c.name)))?;
    let start = scalar(c, &day.to_string())?;
    let end = scalar(c, &next_day.to_string())?;
    Ok(col.clone().gt_eq(lit(start)).and(col.lt(lit(end))))
}

/// The recipient's row scope as a filter on the scope's partition column. What the scope is comes
/// from [`crate::auth::Access`]; this states it for DataFusion with the same meaning as
/// [`RowScope::allows`]: the partition value, as text, equals the property exactly.
pub fn scope(scope: &RowScope, columns: &[Column]) -> Expr {
    match scope {
        RowScope::All => lit(true),
        RowScope::PartitionEquals { value: None, .. } => lit(false),
        RowScope::PartitionEquals { column: name, value: Some(v) } => match columns.iter().find(|c| &c.name == name) {
            Some(c) if c.class == TypeClass::Text => column(name).eq(lit(v.clone())),
            Some(_) => cast(column(name), DataType::Utf8).eq(lit(v.clone())),
            None => lit(false),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::contract::grammar::OPERATORS;
    use deltalake::arrow::datatypes::TimeUnit;

    fn columns() -> Vec<Column> {
        let c = |name: &str, class, type_name: &str, data_type| Column { name: name.into(), class, type_name: type_name.into(), data_type };
        vec![
            c("s", TypeClass::Text, "string", DataType::Utf8),
            c("i", TypeClass::Integer, "long", DataType::Int64),
            c("d", TypeClass::Decimal, "decimal(10,2)", DataType::Decimal128(10, 2)),
            c("f", TypeClass::Float, "double", DataType::Float64),
            c("b", TypeClass::Boolean, "boolean", DataType::Boolean),
            c("day", TypeClass::Date, "date", DataType::Date32),
            c("ts", TypeClass::Timestamp, "timestamp", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))),
            c("n", TypeClass::Nested, "struct", DataType::Null),
        ]
    }

    /// A value each type accepts, for the operators that take one.
    fn good_value(class: TypeClass) -> &'static str {
        match class {
            TypeClass::Integer => "3",
            TypeClass::Decimal | TypeClass::Float => "2.5",
            TypeClass::Boolean => "true",
            TypeClass::Date | TypeClass::Timestamp => "2026-01-31",
            _ => "x",
        }
    }

    #[test]
    fn every_operator_on_every_type_builds_or_says_why() {
        for c in columns() {
            for info in OPERATORS {
                let f = Filter { column: c.name.clone(), op: info.op, value: good_value(c.class).into() };
                match filter(&f, &c) {
                    Ok(_) => assert!(info.op.fits(c.class), "{} {} should be refused", c.name, info.key),
                    Err(e) => {
                        assert!(!info.op.fits(c.class), "{} {}: {e}", c.name, info.key);
                        assert!(e.to_string().contains(&format!("`{}`", c.name)), "{e}");
                        assert_eq!(e.status(), 400);
                    }
                }
            }
        }
    }

    #[test]
    fn bad_values_name_the_column_and_type() {
        let cols = columns();
        for (c, value) in [(&cols[1], "ten"), (&cols[2], "x"), (&cols[5], "31.01.2026"), (&cols[6], "noon")] {
            for op in [Op::Exact, Op::Gt, Op::In] {
                let err = filter(&Filter { column: c.name.clone(), op, value: value.into() }, c).unwrap_err();
                assert!(err.to_string().contains("expected"), "{err}");
            }
        }
        let err = filter(&Filter { column: "i".into(), op: Op::In, value: "[1,".into() }, &cols[1]).unwrap_err();
        assert!(err.to_string().contains("JSON array"), "{err}");
    }

    #[test]
    fn patterns_escape_wildcards() {
        let cols = columns();
        let e = filter(&Filter { column: "s".into(), op: Op::Contains, value: "50%_off".into() }, &cols[0]).unwrap();
        assert!(e.to_string().contains(r"%50\%\_off%"), "{e}");
        let far = filter(&Filter { column: "ts".into(), op: Op::Date, value: "+262142-12-31".into() }, &cols[6]);
        assert_eq!(far.unwrap_err().status(), 400);
        let d = filter(&Filter { column: "ts".into(), op: Op::Date, value: "2026-01-31".into() }, &cols[6]).unwrap();
        assert!(d.to_string().contains(">=") && d.to_string().contains("<"), "{d}");
    }

    #[test]
    fn scope_without_property_matches_nothing() {
        let cols = columns();
        assert_eq!(scope(&RowScope::PartitionEquals { column: "s".into(), value: None }, &cols), lit(false));
        // Non-text partitions compare as text, exactly as the protocol's file filter does: "07" is not 7.
        let int = scope(&RowScope::PartitionEquals { column: "i".into(), value: Some("07".into()) }, &cols);
        assert_eq!(int, cast(column("i"), DataType::Utf8).eq(lit("07")));
        assert_eq!(scope(&RowScope::PartitionEquals { column: "gone".into(), value: Some("P1".into()) }, &cols), lit(false));
        assert_eq!(scope(&RowScope::PartitionEquals { column: "s".into(), value: Some("P1".into()) }, &cols), column("s").eq(lit("P1")));
    }
}
