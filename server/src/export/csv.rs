//! CSV in three dialects (RFC 4180, UTF-8, header row):
//! - `plain`: byte-faithful for machines (ISO dates, RFC 3339 timestamps, `.` decimals);
//! - `excel`: a UTF-8 BOM so Excel reads the encoding, timestamps Excel recognises, and text
//!   that starts like a formula neutralised (OWASP CSV injection);
//! - `excel-eu`: as `excel`, with `;` between fields and decimal commas (German/EU Excel).

use app::contract::Cell;
use bytes::Bytes;
use deltalake::arrow::array::RecordBatch;
use futures::{Stream, StreamExt};

use crate::error::{PortalError, Result};
use crate::query::cells;
use crate::query::Extract;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Plain,
    Excel,
    ExcelEu,
}

impl Dialect {
    pub fn parse(name: Option<&str>) -> Result<Self> {
        match name.unwrap_or("plain") {
            "" | "plain" => Ok(Self::Plain),
            "excel" => Ok(Self::Excel),
            "excel-eu" => Ok(Self::ExcelEu),
            other => Err(PortalError::InvalidParameter(format!("`_dialect` must be plain, excel or excel-eu; got `{other}`"))),
        }
    }

    fn delimiter(self) -> u8 {
        if self == Self::ExcelEu {
            b';'
        } else {
            b','
        }
    }

    fn for_excel(self) -> bool {
        self != Self::Plain
    }

    /// One cell as CSV text.
    fn text(self, cell: &Cell) -> String {
        match cell {
            Cell::Null => String::new(),
            Cell::Float(_) | Cell::Decimal(_) if self == Self::ExcelEu => cell.filter_text().unwrap_or_default().replace('.', ","),
            // `2026-01-31 14:30:00` is what Excel reads as a date and time.
            Cell::Timestamp(t) if self.for_excel() => t.replacen('T', " ", 1).trim_end_matches('Z').to_string(),
            Cell::Text(t) | Cell::Json(t) if self.for_excel() => neutralised(t),
            other => other.filter_text().unwrap_or_default(),
        }
    }
}

/// Text Excel would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
/// leading apostrophe, which Excel shows as text.
pub fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The body: BOM (Excel dialects) and header first, then one chunk per record batch. A failure
/// mid-way ends the stream with an error, so the client sees a broken download, never a short
/// file that looks complete.
pub fn body(extract: Extract, dialect: Dialect) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send {
    let header: Vec<String> = extract.columns.iter().map(|c| c.name.clone()).collect();
    let first = encode(dialect, std::iter::once(header), dialect.for_excel());
    let rows = extract.batches.map(move |batch| {
        let batch = batch.map_err(|e| std::io::Error::other(e.to_string()))?;
        batch_bytes(&batch, dialect).map_err(|e| std::io::Error::other(e.to_string()))
    });
    futures::stream::once(async move { first.map_err(|e| std::io::Error::other(e.to_string())) }).chain(rows)
}

fn batch_bytes(batch: &RecordBatch, dialect: Dialect) -> Result<Bytes> {
    let columns = batch.columns().iter().map(cells::column).collect::<Result<Vec<_>>>()?;
    let records = (0..batch.num_rows()).map(|i| columns.iter().map(|c| dialect.text(&c[i])).collect::<Vec<_>>());
    encode(dialect, records, false)
}

fn encode(dialect: Dialect, records: impl Iterator<Item = Vec<String>>, bom: bool) -> Result<Bytes> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    {
        let mut writer = ::csv::WriterBuilder::new().delimiter(dialect.delimiter()).terminator(::csv::Terminator::CRLF).from_writer(&mut out);
        for record in records {
            writer.write_record(&record).map_err(|e| PortalError::Internal(format!("csv: {e}")))?;
        }
        writer.flush()?;
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_write_cells_for_their_reader() {
        let cells = [Cell::Float(1.5), Cell::Decimal("12.50".into()), Cell::Int(-5), Cell::Timestamp("2026-01-31T14:30:00Z".into()), Cell::Null];
        let row = |d: Dialect| cells.iter().map(|c| d.text(c)).collect::<Vec<_>>();
        assert_eq!(row(Dialect::Plain), ["1.5", "12.50", "-5", "2026-01-31T14:30:00Z", ""]);
        assert_eq!(row(Dialect::Excel), ["1.5", "12.50", "-5", "2026-01-31 14:30:00", ""]);
        assert_eq!(row(Dialect::ExcelEu), ["1,5", "12,50", "-5", "2026-01-31 14:30:00", ""]);
        assert!(Dialect::parse(Some("tsv")).is_err());
    }

    #[test]
    fn formulas_stay_text_in_excel_dialects_only() {
        for (input, excel) in [("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b")] {
            assert_eq!(Dialect::Excel.text(&Cell::Text(input.into())), excel);
            assert_eq!(Dialect::ExcelEu.text(&Cell::Text(input.into())), excel);
            assert_eq!(Dialect::Plain.text(&Cell::Text(input.into())), input);
        }
    }

    #[test]
    fn quoting_and_the_bom() {
        let bytes = encode(Dialect::ExcelEu, [vec!["a;b".to_string(), "say \"hi\"".to_string()]].into_iter(), true).unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), "\u{feff}\"a;b\";\"say \"\"hi\"\"\"\r\n");
    }
}
