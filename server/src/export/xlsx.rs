//! Excel workbooks (rust_xlsxwriter, constant-memory sheets: rows go to a temp file as they are
//! written, so memory stays flat however many rows there are).
//!
//! Typed cells: numbers as numbers, decimals with their scale as the number format, dates and
//! timestamps as Excel dates (timestamps in UTC, named in the header), booleans as booleans,
//! text always as text (a string cell is never read as a formula), nested values as compact
//! JSON. Bold, frozen header with an autofilter; widths from the first rows. Past Excel's
//! 1,048,576 rows the data continues on "Data (2)", "Data (3)"… An "About" sheet says what the
//! file holds.

use std::io::Write;

use bytes::Bytes;
use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use futures::StreamExt;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::error::{PortalError, Result};
use crate::query::{cells, Extract};

/// Data rows per sheet: Excel's 1,048,576 rows less the header.
pub const ROWS_PER_SHEET: u64 = 1_048_575;
/// Excel's longest cell text.
const MAX_CELL_CHARS: usize = 32_767;
/// Record batches decoded ahead of the writer.
const BATCHES_AHEAD: usize = 2;
/// Rows sampled for column widths.
const WIDTH_SAMPLE: usize = 200;
/// Days from Excel's epoch (1899-12-30) to 1970-01-01, and Excel's date range as serials.
const EXCEL_UNIX_EPOCH: f64 = 25_569.0;
const EXCEL_FIRST_SERIAL: f64 = 61.0; // 1900-03-01: earlier serials hit Excel's 1900 leap-year bug
const EXCEL_LAST_SERIAL: f64 = 2_958_466.0; // 10000-01-01

/// What the About sheet says besides the table's own description.
pub struct About {
    pub share: String,
    pub schema: String,
    pub table: String,
    pub version: i64,
    pub filters: String,
    /// The commits a file of changes holds.
    pub changes: Option<crate::query::changes::ChangeRange>,
    pub exported_at: String,
    /// Column, type, comment.
    pub dictionary: Vec<(String, String, String)>,
}

/// How a column's values are written.
#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Float,
    Decimal(i8),
    Boolean,
    Date,
    Timestamp,
    Text,
    /// `_change_type`, written in words.
    ChangeType,
    Json,
}

fn kind_of(name: &str, data_type: &DataType) -> Kind {
    let kind = kind_of_type(data_type);
    if name == CHANGE_TYPE && matches!(kind, Kind::Text) {
        Kind::ChangeType
    } else {
        kind
    }
}

fn kind_of_type(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Kind::Integer,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Kind::Float,
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => Kind::Decimal(*s),
        DataType::Boolean => Kind::Boolean,
        DataType::Date32 | DataType::Date64 => Kind::Date,
        DataType::Timestamp(_, _) => Kind::Timestamp,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => Kind::Text,
        _ => Kind::Json,
    }
}

/// One batch's column, cast once to the type its kind reads.
enum Values {
    Integer(ArrayRef),
    Float(ArrayRef),
    Boolean(ArrayRef),
    Date(ArrayRef),
    Timestamp(ArrayRef),
    Text(ArrayRef),
    Cells(Vec<app::contract::Cell>),
}

fn values(array: &ArrayRef, kind: Kind) -> Result<Values> {
    let to = |t: DataType| cast(array, &t).map_err(|e| PortalError::fault("xlsx cast", e));
    Ok(match kind {
        Kind::Integer => Values::Integer(to(DataType::Int64)?),
        Kind::Float | Kind::Decimal(_) => Values::Float(to(DataType::Float64)?),
        Kind::Boolean => Values::Boolean(array.clone()),
        Kind::Date => Values::Date(to(DataType::Date32)?),
        Kind::Timestamp => Values::Timestamp(to(DataType::Timestamp(TimeUnit::Microsecond, None))?),
        Kind::Text | Kind::ChangeType => Values::Text(to(DataType::Utf8)?),
        Kind::Json => Values::Cells(cells::column(array)?),
    })
}

/// The formats, made once.
struct Formats {
    header: Format,
    date: Format,
    timestamp: Format,
    decimals: Vec<(i8, Format)>,
}

impl Formats {
    fn new(kinds: &[Kind]) -> Self {
        let mut decimals = Vec::new();
        for k in kinds {
            if let Kind::Decimal(s) = k {
                if !decimals.iter().any(|(scale, _)| scale == s) {
                    let pattern = if *s > 0 { format!("0.{}", "0".repeat(*s as usize)) } else { "0".to_string() };
                    decimals.push((*s, Format::new().set_num_format(pattern)));
                }
            }
        }
        Self {
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            timestamp: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            decimals,
        }
    }

    fn decimal(&self, scale: i8) -> &Format {
        &self.decimals.iter().find(|(s, _)| *s == scale).expect("a format per decimal scale").1
    }
}

/// Writes the rows of `extract` into a workbook and the workbook into `out`; returns the data
/// rows written. Runs on a blocking thread; batches are pulled from the async stream.
pub fn write(handle: &tokio::runtime::Handle, extract: Extract, about: &About, out: impl Write + Send) -> Result<u64> {
    let kinds: Vec<Kind> = extract.columns.iter().map(|c| kind_of(&c.name, &c.data_type)).collect();
    let headers: Vec<String> = extract
        .columns
        .iter()
        .zip(&kinds)
        .map(|(c, k)| match (k, crate::query::zone_of(&c.data_type)) {
            (Kind::Timestamp, Some(zone)) => format!("{} ({zone})", c.name),
            _ => c.name.clone(),
        })
        .collect();
    let formats = Formats::new(&kinds);
    let mut workbook = Workbook::new();
    let mut sheets = 0usize;
    let mut written: u64 = 0;
    let mut row_in_sheet: u32 = 0;
    let mut truncated_cells: u64 = 0;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count() + 2).collect();
    let mut widths_set = false;

    // Batches are read and decoded ahead on the runtime while this thread writes cells.
    let (ahead, mut batches) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let mut stream = extract.batches;
    handle.spawn(async move {
        while let Some(batch) = stream.next().await {
            if ahead.send(batch).await.is_err() {
                break; // the writer stopped
            }
        }
    });
    while let Some(batch) = batches.blocking_recv() {
        let batch: RecordBatch = batch?;
        let columns = batch.columns().iter().zip(&kinds).map(|(a, k)| values(a, *k)).collect::<Result<Vec<_>>>()?;
        if !widths_set {
            sample_widths(&columns, batch.num_rows().min(WIDTH_SAMPLE), &mut widths);
        }
        for i in 0..batch.num_rows() {
            if sheets == 0 || u64::from(row_in_sheet) == ROWS_PER_SHEET {
                if sheets > 0 {
                    finish_sheet(workbook.worksheet_from_index(sheets - 1).map_err(xlsx)?, row_in_sheet, headers.len())?;
                }
                sheets += 1;
                let sheet = workbook.add_worksheet_with_constant_memory();
                sheet.set_name(if sheets == 1 { "Data".to_string() } else { format!("Data ({sheets})") }).map_err(xlsx)?;
                for (c, width) in widths.iter().enumerate() {
                    sheet.set_column_width(c as u16, (*width).min(60) as f64).map_err(xlsx)?;
                }
                widths_set = true;
                for (c, h) in headers.iter().enumerate() {
                    sheet.write_string_with_format(0, c as u16, h, &formats.header).map_err(xlsx)?;
                }
                row_in_sheet = 0;
            }
            let sheet = workbook.worksheet_from_index(sheets - 1).map_err(xlsx)?;
            row_in_sheet += 1;
            for (c, (values, kind)) in columns.iter().zip(&kinds).enumerate() {
                truncated_cells += write_cell(sheet, row_in_sheet, c as u16, values, *kind, i, &formats)?;
            }
            written += 1;
        }
    }
    if sheets == 0 {
        // No rows: still a data sheet with its header.
        sheets = 1;
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name("Data").map_err(xlsx)?;
        for (c, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &formats.header).map_err(xlsx)?;
        }
    }
    finish_sheet(workbook.worksheet_from_index(sheets - 1).map_err(xlsx)?, row_in_sheet, headers.len())?;
    write_about(workbook.add_worksheet(), about, written, sheets, truncated_cells, &formats.header)?;
    workbook.save_to_writer(out).map_err(xlsx)?;
    Ok(written)
}

fn finish_sheet(sheet: &mut Worksheet, last_row: u32, columns: usize) -> Result<()> {
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
    if columns > 0 {
        sheet.autofilter(0, 0, last_row, (columns - 1) as u16).map_err(xlsx)?;
    }
    Ok(())
}

/// The change data feed's column of change kinds.
const CHANGE_TYPE: &str = "_change_type";

/// A change kind as a spreadsheet reader names it.
fn change_in_words(kind: &str) -> &str {
    match kind {
        "insert" => "Added",
        "update_preimage" => "Changed (before)",
        "update_postimage" => "Changed (after)",
        "delete" => "Removed",
        other => other,
    }
}

/// Writes one cell; returns 1 when its text had to be cut to Excel's limit.
fn write_cell(sheet: &mut Worksheet, row: u32, col: u16, values: &Values, kind: Kind, i: usize, f: &Formats) -> Result<u64> {
    let text = |sheet: &mut Worksheet, s: &str| -> Result<u64> {
        // Bytes bound characters from above: most text needs no count.
        if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
            let cut: String = s.chars().take(MAX_CELL_CHARS).collect();
            sheet.write_string(row, col, cut).map_err(xlsx)?;
            Ok(1)
        } else {
            sheet.write_string(row, col, s).map_err(xlsx)?;
            Ok(0)
        }
    };
    match values {
        Values::Integer(a) if !a.is_null(i) => {
            let v = a.as_primitive::<Int64Type>().value(i);
            // Beyond 2^53 a double would change the number: keep the digits as text.
            if v.unsigned_abs() <= 1 << 53 {
                sheet.write_number(row, col, v as f64).map_err(xlsx)?;
            } else {
                return text(sheet, &v.to_string());
            }
        }
        Values::Float(a) if !a.is_null(i) => {
            let v = a.as_primitive::<Float64Type>().value(i);
            match kind {
                _ if !v.is_finite() => return text(sheet, &v.to_string()),
                Kind::Decimal(scale) => sheet.write_number_with_format(row, col, v, f.decimal(scale)).map(|_| ()).map_err(xlsx)?,
                _ => sheet.write_number(row, col, v).map(|_| ()).map_err(xlsx)?,
            }
        }
        Values::Boolean(a) if !a.is_null(i) => {
            sheet.write_boolean(row, col, a.as_boolean().value(i)).map_err(xlsx)?;
        }
        Values::Date(a) if !a.is_null(i) => {
            let days = a.as_primitive::<Date32Type>().value(i);
            let serial = f64::from(days) + EXCEL_UNIX_EPOCH;
            if (EXCEL_FIRST_SERIAL..EXCEL_LAST_SERIAL).contains(&serial) {
                sheet.write_number_with_format(row, col, serial, &f.date).map_err(xlsx)?;
            } else {
                return text(sheet, &cells::column(a)?[i].filter_text().unwrap_or_default());
            }
        }
        Values::Timestamp(a) if !a.is_null(i) => {
            let micros = a.as_primitive::<TimestampMicrosecondType>().value(i);
            let serial = micros as f64 / 86_400_000_000.0 + EXCEL_UNIX_EPOCH;
            if (EXCEL_FIRST_SERIAL..EXCEL_LAST_SERIAL).contains(&serial) {
                sheet.write_number_with_format(row, col, serial, &f.timestamp).map_err(xlsx)?;
            } else {
                return text(sheet, &micros.to_string());
            }
        }
        Values::Text(a) if !a.is_null(i) => {
            let value = a.as_string::<i32>().value(i);
            return text(sheet, if matches!(kind, Kind::ChangeType) { change_in_words(value) } else { value });
        }
        Values::Cells(cells) => {
            if let Some(s) = cells[i].filter_text() {
                return text(sheet, &s);
            }
        }
        _ => {} // null: an empty cell
    }
    Ok(0)
}

/// Widens columns to fit the first rows' text (capped), since constant-memory sheets cannot
/// autofit.
fn sample_widths(columns: &[Values], rows: usize, widths: &mut [usize]) {
    for (c, values) in columns.iter().enumerate() {
        for i in 0..rows {
            let len = match values {
                Values::Text(a) if !a.is_null(i) => a.as_string::<i32>().value(i).chars().count(),
                Values::Integer(_) | Values::Float(_) => 12,
                Values::Date(_) => 11,
                Values::Timestamp(_) => 20,
                Values::Cells(c) => c[i].filter_text().map_or(0, |s| s.chars().count()),
                _ => 0,
            };
            widths[c] = widths[c].max(len + 2);
        }
    }
}

fn write_about(sheet: &mut Worksheet, about: &About, rows: u64, sheets: usize, truncated: u64, bold: &Format) -> Result<()> {
    sheet.set_name("About").map_err(xlsx)?;
    sheet.set_column_width(0, 22).map_err(xlsx)?;
    sheet.set_column_width(1, 60).map_err(xlsx)?;
    sheet.set_column_width(2, 60).map_err(xlsx)?;
    let mut lines: Vec<(&str, String)> = vec![
        ("Table", format!("{}.{}.{}", about.share, about.schema, about.table)),
        ("Table version", about.version.to_string()),
        ("Exported at (UTC)", about.exported_at.clone()),
        ("Filters", if about.filters.is_empty() { "none: every row shared with you".into() } else { about.filters.clone() }),
        ("Rows", rows.to_string()),
    ];
    if let Some(range) = about.changes {
        let versions = match (range.first, range.last) {
            (first, last) if first > last => format!("none: no version after {last} yet"),
            (first, last) if first == last => format!("version {first}"),
            (first, last) => format!("versions {first} to {last}"),
        };
        lines.insert(2, ("Changes in", versions));
        lines.insert(3, ("Change", "one row per change: Added, Removed, Changed (before) and Changed (after) of an updated row".into()));
    }
    if sheets > 1 {
        lines.push(("Sheets", format!("the rows continue over {sheets} sheets: Data, Data (2)…, {ROWS_PER_SHEET} rows each")));
    }
    if truncated > 0 {
        lines.push((
            "Truncated cells",
            format!("{truncated} cells held more than Excel's {MAX_CELL_CHARS} characters and were cut; download CSV for the full text"),
        ));
    }
    lines.push(("Times", "timestamps are in UTC".into()));
    for (r, (k, v)) in lines.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, *k, bold).map_err(xlsx)?;
        sheet.write_string(r as u32, 1, v).map_err(xlsx)?;
    }
    let start = lines.len() as u32 + 1;
    for (c, h) in ["Column", "Type", "Comment"].iter().enumerate() {
        sheet.write_string_with_format(start, c as u16, *h, bold).map_err(xlsx)?;
    }
    for (r, (name, type_name, comment)) in about.dictionary.iter().enumerate() {
        let row = start + 1 + r as u32;
        sheet.write_string(row, 0, name).map_err(xlsx)?;
        sheet.write_string(row, 1, type_name).map_err(xlsx)?;
        sheet.write_string(row, 2, comment).map_err(xlsx)?;
    }
    Ok(())
}

fn xlsx(e: XlsxError) -> PortalError {
    PortalError::fault("xlsx", e)
}

/// An `io::Write` that hands the workbook's bytes to the HTTP body in 64 KiB chunks.
pub struct ChunkSender {
    tx: tokio::sync::mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChunkSender {
    const CHUNK: usize = 64 * 1024;

    pub fn new(tx: tokio::sync::mpsc::Sender<std::result::Result<Bytes, std::io::Error>>) -> Self {
        Self { tx, buffer: Vec::with_capacity(Self::CHUNK) }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(Self::CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Drop for ChunkSender {
    fn drop(&mut self) {
        let _ = self.send();
    }
}
