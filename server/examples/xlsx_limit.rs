//! The ceiling of an Excel download, for `make bench`: rust_xlsxwriter alone writing typed cells
//! from memory into a constant-memory sheet, with the portal's cell types and formats.
//!
//! `xlsx_limit <out.xlsx> <text column=value> <file.parquet>...`: the parquet files are read into
//! memory first (not timed); the constant column stands for a partition column, which the files
//! do not hold. Prints `{"rows": n, "seconds": s}`.

use std::fs::File;
use std::time::Instant;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

const EXCEL_UNIX_EPOCH: f64 = 25_569.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, constant, files @ ..] = args.as_slice() else {
        return Err("usage: xlsx_limit <out.xlsx> <column=value> <file.parquet>...".into());
    };
    let (constant_name, constant_value) = constant.split_once('=').ok_or("the constant column is name=value")?;
    let mut batches: Vec<RecordBatch> = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(f)?)?.with_batch_size(8192).build()?;
        for batch in reader {
            batches.push(batch?);
        }
    }
    let start = Instant::now();
    let rows = write(out, constant_name, constant_value, &batches)?;
    println!("{{\"rows\": {rows}, \"seconds\": {}}}", start.elapsed().as_secs_f64());
    Ok(())
}

fn write(out: &str, constant_name: &str, constant_value: &str, batches: &[RecordBatch]) -> Result<u64, Box<dyn std::error::Error>> {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let timestamp = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let decimal = Format::new().set_num_format("0.00");
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    // Named as the portal names its first sheet (and as the bench looks for it).
    let sheet = workbook.add_worksheet_with_constant_memory().set_name("Data")?;
    let Some(first) = batches.first() else { return Ok(0) };
    sheet.write_string_with_format(0, 0, constant_name, &bold)?;
    for (c, field) in first.schema().fields().iter().enumerate() {
        sheet.write_string_with_format(0, c as u16 + 1, field.name(), &bold)?;
    }
    let mut row: u32 = 0;
    for batch in batches {
        // Each column cast once per batch to the type its cells are written from, as the portal does.
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|a| match a.data_type() {
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => cast(a, &DataType::Int64),
                DataType::Decimal128(..) | DataType::Float32 => cast(a, &DataType::Float64),
                DataType::Timestamp(..) => cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None)),
                DataType::Utf8View | DataType::LargeUtf8 | DataType::Dictionary(..) => cast(a, &DataType::Utf8),
                _ => Ok(a.clone()),
            })
            .collect::<Result<_, _>>()?;
        let decimals: Vec<bool> = batch.columns().iter().map(|a| matches!(a.data_type(), DataType::Decimal128(..))).collect();
        for i in 0..batch.num_rows() {
            row += 1;
            sheet.write_string(row, 0, constant_value)?;
            for (c, a) in columns.iter().enumerate() {
                let col = c as u16 + 1;
                if a.is_null(i) {
                    continue;
                }
                let _: &mut _ = match a.data_type() {
                    DataType::Int64 => sheet.write_number(row, col, a.as_primitive::<Int64Type>().value(i) as f64)?,
                    DataType::Float64 if decimals[c] => {
                        sheet.write_number_with_format(row, col, a.as_primitive::<Float64Type>().value(i), &decimal)?
                    }
                    DataType::Float64 => sheet.write_number(row, col, a.as_primitive::<Float64Type>().value(i))?,
                    DataType::Boolean => sheet.write_boolean(row, col, a.as_boolean().value(i))?,
                    DataType::Date32 => sheet.write_number_with_format(
                        row,
                        col,
                        f64::from(a.as_primitive::<Date32Type>().value(i)) + EXCEL_UNIX_EPOCH,
                        &date,
                    )?,
                    DataType::Timestamp(..) => sheet.write_number_with_format(
                        row,
                        col,
                        a.as_primitive::<TimestampMicrosecondType>().value(i) as f64 / 86_400_000_000.0 + EXCEL_UNIX_EPOCH,
                        &timestamp,
                    )?,
                    DataType::Utf8 => sheet.write_string(row, col, a.as_string::<i32>().value(i))?,
                    other => return Err(format!("no cell type for {other}").into()),
                };
            }
        }
    }
    workbook.save(out).map_err(|e: XlsxError| e.to_string())?;
    Ok(u64::from(row))
}
