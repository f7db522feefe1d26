//! Arrow values → typed cells for the grid and the JSON API.

use app::contract::Cell;
use chrono::{DateTime, NaiveDate};
use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{PortalError, Result};

/// Rows of `batches`, each a vector of cells in column order.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Cell>>> {
    let mut out = Vec::new();
    for batch in batches {
        let columns = batch.columns().iter().map(column).collect::<Result<Vec<_>>>()?;
        for i in 0..batch.num_rows() {
            out.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    Ok(out)
}

/// One column's cells.
pub fn column(array: &ArrayRef) -> Result<Vec<Cell>> {
    let each = |f: &dyn Fn(usize) -> Cell| (0..array.len()).map(|i| if array.is_null(i) { Cell::Null } else { f(i) }).collect();
    Ok(match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => {
            let a = to(array, &DataType::Int64)?;
            let a = a.as_primitive::<Int64Type>();
            each(&|i| Cell::Int(a.value(i)))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let a = to(array, &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            each(&|i| Cell::Float(a.value(i)))
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            each(&|i| Cell::Bool(a.value(i)))
        }
        DataType::Date32 | DataType::Date64 => {
            let a = to(array, &DataType::Date32)?;
            let a = a.as_primitive::<Date32Type>();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
            each(&|i| {
                epoch.checked_add_signed(chrono::Duration::days(i64::from(a.value(i)))).map_or(Cell::Null, |d| Cell::Date(d.to_string()))
            })
        }
        DataType::Timestamp(_, zone) => {
            let a = to(array, &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))?;
            let a = a.as_primitive::<TimestampMicrosecondType>();
            let zoned = zone.is_some();
            each(&|i| match DateTime::from_timestamp_micros(a.value(i)) {
                Some(t) if zoned => Cell::Timestamp(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                Some(t) => Cell::Timestamp(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
                None => Cell::Null,
            })
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) if is_text(array.data_type()) => {
            let a = to(array, &DataType::Utf8)?;
            let a = a.as_string::<i32>();
            each(&|i| Cell::Text(a.value(i).to_string()))
        }
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) | DataType::UInt64 => {
            let texts = formatted(array)?;
            each(&|i| {
                if matches!(array.data_type(), DataType::UInt64) {
                    texts[i].parse().map(Cell::Int).unwrap_or_else(|_| Cell::Decimal(texts[i].clone()))
                } else {
                    Cell::Decimal(texts[i].clone())
                }
            })
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let texts = formatted(array)?;
            each(&|i| Cell::Binary(texts[i].clone()))
        }
        _ => {
            let texts = formatted(array)?;
            each(&|i| Cell::Json(texts[i].clone()))
        }
    })
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, value) => is_text(value),
        t => matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
    }
}

fn to(array: &ArrayRef, data_type: &DataType) -> Result<ArrayRef> {
    cast(array, data_type).map_err(|e| PortalError::fault(format!("cannot read {} as {data_type}", array.data_type()), e))
}

/// Arrow's own display of each value (decimals with their scale, nested values, hex binary).
fn formatted(array: &ArrayRef) -> Result<Vec<String>> {
    let formatter =
        ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()).map_err(|e| PortalError::fault("cell formatter", e))?;
    Ok((0..array.len()).map(|i| formatter.value(i).to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{BooleanArray, Date32Array, Decimal128Array, Int32Array, StringArray, TimestampMicrosecondArray};
    use std::sync::Arc;

    #[test]
    fn cells_keep_their_types() {
        let cases: Vec<(ArrayRef, Vec<Cell>)> = vec![
            (Arc::new(Int32Array::from(vec![Some(7), None])), vec![Cell::Int(7), Cell::Null]),
            (Arc::new(StringArray::from(vec![Some(""), None])), vec![Cell::Text(String::new()), Cell::Null]),
            (Arc::new(BooleanArray::from(vec![true])), vec![Cell::Bool(true)]),
            (Arc::new(Date32Array::from(vec![1])), vec![Cell::Date("1970-01-02".into())]),
            (
                Arc::new(TimestampMicrosecondArray::from(vec![1_500_000]).with_timezone("UTC")),
                vec![Cell::Timestamp("1970-01-01T00:00:01.500Z".into())],
            ),
            (Arc::new(TimestampMicrosecondArray::from(vec![0])), vec![Cell::Timestamp("1970-01-01T00:00:00".into())]),
            (Arc::new(Decimal128Array::from(vec![1250]).with_precision_and_scale(10, 2).unwrap()), vec![Cell::Decimal("12.50".into())]),
        ];
        for (array, want) in cases {
            assert_eq!(column(&array).unwrap(), want, "{}", array.data_type());
        }
    }
}
