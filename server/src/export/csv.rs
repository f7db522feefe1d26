//! CSV in three dialects (RFC 4180, UTF-8, header row):
//! - `plain`: byte-faithful for machines (ISO dates, RFC 3339 timestamps, `.` decimals);
//! - `excel`: a UTF-8 BOM so Excel reads the encoding, timestamps Excel recognises, and text
//!   that starts like a formula neutralised (OWASP CSV injection);
//! - `excel-eu`: as `excel`, with `;` between fields and decimal commas (German/EU Excel).

use bytes::Bytes;
use deltalake::arrow::array::RecordBatch;
use futures::{Stream, StreamExt};

use super::csv_fields::{self, Field, Formats};
use super::format::Dialect;
use crate::error::{PortalError, Result};
use crate::query::Extract;

/// Batches formatted at once (one per core here).
const FORMATTED_AHEAD: usize = 2;

/// The body: BOM (Excel dialects) and header first, then one chunk per record batch. A failure
/// mid-way ends the stream with an error, so the client sees a broken download, never a short
/// file that looks complete.
pub fn body(extract: Extract, dialect: Dialect) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send {
    let header: Vec<String> = extract.columns.iter().map(|c| c.name.clone()).collect();
    let first = encode(dialect, std::iter::once(header), dialect.for_excel());
    // Batches are formatted on blocking threads, two at a time and in order: formatting, not
    // reading, is most of a CSV export's work.
    let rows = extract
        .batches
        .map(move |batch| async move {
            let batch = batch.map_err(|e| std::io::Error::other(e.to_string()))?;
            let formatted = tokio::task::spawn_blocking(move || batch_bytes(&batch, dialect)).await.map_err(std::io::Error::other)?;
            formatted.map_err(|e| std::io::Error::other(e.to_string()))
        })
        .buffered(FORMATTED_AHEAD);
    futures::stream::once(async move { first.map_err(|e| std::io::Error::other(e.to_string())) }).chain(rows)
}

fn batch_bytes(batch: &RecordBatch, dialect: Dialect) -> Result<Bytes> {
    let prepared = batch.columns().iter().map(csv_fields::prepare).collect::<Result<Vec<_>>>()?;
    let fields = prepared.iter().map(Field::new).collect::<Result<Vec<_>>>()?;
    let formats = Formats::default();
    let mut out = Vec::with_capacity(batch.num_rows() * (8 * fields.len() + 2));
    {
        let mut writer = writer(dialect, &mut out);
        let mut text = String::new();
        for i in 0..batch.num_rows() {
            for field in &fields {
                field.write(i, dialect, &formats, &mut text);
                writer.write_field(text.as_bytes()).map_err(csv_error)?;
            }
            // An empty record ends the row.
            writer.write_record(None::<&[u8]>).map_err(csv_error)?;
        }
        writer.flush()?;
    }
    Ok(Bytes::from(out))
}

fn writer(dialect: Dialect, out: &mut Vec<u8>) -> ::csv::Writer<&mut Vec<u8>> {
    ::csv::WriterBuilder::new().delimiter(dialect.delimiter()).terminator(::csv::Terminator::CRLF).from_writer(out)
}

fn csv_error(e: ::csv::Error) -> PortalError {
    PortalError::fault("csv", e)
}

fn encode(dialect: Dialect, records: impl Iterator<Item = Vec<String>>, bom: bool) -> Result<Bytes> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    {
        let mut writer = writer(dialect, &mut out);
        for record in records {
            writer.write_record(&record).map_err(csv_error)?;
        }
        writer.flush()?;
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_the_bom() {
        let bytes = encode(Dialect::ExcelEu, [vec!["a;b".to_string(), "say \"hi\"".to_string()]].into_iter(), true).unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), "\u{feff}\"a;b\";\"say \"\"hi\"\"\"\r\n");
        assert!(Dialect::parse(Some("tsv")).is_err());
    }

    #[test]
    fn batches_become_rows() {
        use deltalake::arrow::array::{ArrayRef, Float64Array, StringArray};
        use std::sync::Arc;
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("=1+2"), None, Some("a;b")]));
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), Some(2.0), None]));
        let batch = RecordBatch::try_from_iter([("t", text), ("f", floats)]).unwrap();
        let eu = batch_bytes(&batch, Dialect::ExcelEu).unwrap();
        assert_eq!(std::str::from_utf8(&eu).unwrap(), "'=1+2;1,5\r\n;2\r\n\"a;b\";\r\n");
        let plain = batch_bytes(&batch, Dialect::Plain).unwrap();
        assert_eq!(std::str::from_utf8(&plain).unwrap(), "=1+2,1.5\r\n,2\r\na;b,\r\n");
    }
}
