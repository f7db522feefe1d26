//! Filter values read by the column's type: a bad value is a 400 naming the column and what it
//! expects, never a comparison of text with numbers.

use app::contract::grammar::TypeClass;
use chrono::{NaiveDate, NaiveDateTime};
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::scalar::ScalarValue;

use super::Column;
use crate::error::{PortalError, Result};

/// The value `text` as a scalar of `column`'s type.
pub fn scalar(column: &Column, text: &str) -> Result<ScalarValue> {
    let t = text.trim();
    let bad = || {
        PortalError::bad_query(
            &column.name,
            format!("`{}` is a {} column: expected {}, got `{text}`", column.name, column.type_name, column.class.expected()),
        )
    };
    let value = match column.class {
        TypeClass::Text => ScalarValue::Utf8(Some(text.to_string())),
        TypeClass::Integer => ScalarValue::Int64(Some(t.parse::<i64>().map_err(|_| bad())?)),
        TypeClass::Float => ScalarValue::Float64(Some(t.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(bad)?)),
        TypeClass::Decimal => {
            t.parse::<f64>().map_err(|_| bad())?;
            // More digits than the column keeps would be rounded away: 12.345 is not 12.35.
            let digits = t.split_once('.').map_or(0, |(_, f)| f.trim_end_matches('0').len());
            if let DataType::Decimal128(_, scale) | DataType::Decimal256(_, scale) = column.data_type {
                if digits > scale.max(0) as usize {
                    return Err(PortalError::bad_query(
                        &column.name,
                        format!("`{}` is a {} column: it keeps {scale} decimal places, `{text}` has more", column.name, column.type_name),
                    ));
                }
            }
            ScalarValue::Utf8(Some(t.to_string()))
        }
        TypeClass::Boolean => ScalarValue::Boolean(Some(match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad()),
        })),
        TypeClass::Date => ScalarValue::Date32(Some(days(parse_date(t).ok_or_else(bad)?))),
        TypeClass::Timestamp => {
            let micros = parse_timestamp(t).ok_or_else(bad)?;
            ScalarValue::TimestampMicrosecond(Some(micros), zone(&column.data_type))
        }
        TypeClass::Binary | TypeClass::Nested => {
            return Err(PortalError::bad_query(
                &column.name,
                format!("`{}` ({}) cannot be filtered by value", column.name, column.type_name),
            ))
        }
    };
    // Exactly the column's type (an int column, a decimal's scale…); out of range is a bad value.
    value.cast_to(&column.data_type).ok().filter(|v| !v.is_null()).ok_or_else(bad)
}

/// `2026-01-31`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Microseconds since the epoch, UTC: RFC 3339 (`2026-01-31T14:30:00Z`, any offset), or a
/// zone-less `2026-01-31 14:30[:00]` / `2026-01-31T14:30:00` / `2026-01-31`, read as UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc().timestamp_micros())
}

pub fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// The zone of a timestamp type (`Some("UTC")`), `None` for `timestamp_ntz`.
pub fn zone(data_type: &DataType) -> Option<std::sync::Arc<str>> {
    match data_type {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::datatypes::TimeUnit;

    fn column(class: TypeClass, type_name: &str, data_type: DataType) -> Column {
        Column { name: "c".into(), type_name: type_name.into(), class, data_type }
    }

    #[test]
    fn values_take_the_column_type() {
        let int = column(TypeClass::Integer, "integer", DataType::Int32);
        assert_eq!(scalar(&int, " 42 ").unwrap(), ScalarValue::Int32(Some(42)));
        for bad in ["4.5", "x", "", "99999999999"] {
            let err = scalar(&int, bad).unwrap_err();
            assert!(err.to_string().contains("expected a whole number"), "{bad}: {err}");
            assert!(matches!(err, PortalError::BadQuery { column: Some(ref c), .. } if c == "c"));
        }
        let dec = column(TypeClass::Decimal, "decimal(10,2)", DataType::Decimal128(10, 2));
        assert_eq!(scalar(&dec, "12.5").unwrap(), ScalarValue::Decimal128(Some(1250), 10, 2));
        assert!(scalar(&dec, "abc").is_err());
        assert_eq!(scalar(&dec, "12.500").unwrap(), ScalarValue::Decimal128(Some(1250), 10, 2));
        assert!(scalar(&dec, "12.345").unwrap_err().to_string().contains("2 decimal places"));
        let float = column(TypeClass::Float, "double", DataType::Float64);
        assert_eq!(scalar(&float, "1e3").unwrap(), ScalarValue::Float64(Some(1000.0)));
        assert!(scalar(&float, "NaN").is_err());
        let b = column(TypeClass::Boolean, "boolean", DataType::Boolean);
        assert_eq!(scalar(&b, "Yes").unwrap(), ScalarValue::Boolean(Some(true)));
        assert!(scalar(&b, "maybe").is_err());
        let d = column(TypeClass::Date, "date", DataType::Date32);
        assert_eq!(scalar(&d, "1970-01-02").unwrap(), ScalarValue::Date32(Some(1)));
        for bad in ["2026-02-30", "31/01/2026", "2026-1-1x"] {
            assert!(scalar(&d, bad).is_err(), "{bad}");
        }
        let ts = column(TypeClass::Timestamp, "timestamp", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())));
        let want = ScalarValue::TimestampMicrosecond(Some(86_400_000_000), Some("UTC".into()));
        for ok in ["1970-01-02T00:00:00Z", "1970-01-02T01:00:00+01:00", "1970-01-02 00:00", "1970-01-02"] {
            assert_eq!(scalar(&ts, ok).unwrap(), want, "{ok}");
        }
        assert!(scalar(&ts, "yesterday").is_err());
        let text = column(TypeClass::Text, "string", DataType::Utf8);
        assert_eq!(scalar(&text, " a ").unwrap(), ScalarValue::Utf8(Some(" a ".into())));
        let nested = column(TypeClass::Nested, "struct", DataType::Null);
        assert!(scalar(&nested, "x").unwrap_err().to_string().contains("cannot be filtered"));
    }
}
