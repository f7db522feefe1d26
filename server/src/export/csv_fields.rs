//! Arrow columns written straight into CSV fields, without building a cell per value: each
//! column is cast once per batch, and each value is formatted into one reused buffer. The text
//! is the same as the grid's cells (`query::cells`), adjusted for the dialect's reader.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate};
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::format::Dialect;
use crate::error::{PortalError, Result};

/// A batch column cast to the type its text is written from.
pub struct Prepared {
    array: ArrayRef,
    zoned: bool,
}

pub fn prepare(array: &ArrayRef) -> Result<Prepared> {
    let to = |t: DataType| cast(array, &t).map_err(|e| PortalError::fault(format!("cannot read {} as {t}", array.data_type()), e));
    let (array, zoned) = match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => {
            (to(DataType::Int64)?, false)
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => (to(DataType::Float64)?, false),
        DataType::Date32 | DataType::Date64 => (to(DataType::Date32)?, false),
        DataType::Timestamp(_, zone) => (to(DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))?, zone.is_some()),
        t if is_text(t) => (to(DataType::Utf8)?, false),
        _ => (array.clone(), false),
    };
    Ok(Prepared { array, zoned })
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, value) => is_text(value),
        t => matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
    }
}

/// How one prepared column writes its values.
pub enum Field<'a> {
    Int(&'a Int64Array),
    Float(&'a Float64Array),
    Bool(&'a BooleanArray),
    Date(&'a Date32Array),
    Timestamp(&'a TimestampMicrosecondArray, bool),
    Text(&'a StringArray),
    /// Decimals, written with their scale.
    Decimal(ArrayFormatter<'a>),
    /// Nested values: neutralised in the Excel dialects like text.
    Nested(ArrayFormatter<'a>),
    /// Binary (hex) and unsigned 64-bit integers, as Arrow shows them.
    Plain(ArrayFormatter<'a>),
}

impl<'a> Field<'a> {
    pub fn new(p: &'a Prepared) -> Result<Self> {
        let formatter =
            || ArrayFormatter::try_new(p.array.as_ref(), &FormatOptions::default()).map_err(|e| PortalError::fault("csv formatter", e));
        Ok(match p.array.data_type() {
            DataType::Int64 => Self::Int(p.array.as_primitive::<Int64Type>()),
            DataType::Float64 => Self::Float(p.array.as_primitive::<Float64Type>()),
            DataType::Boolean => Self::Bool(p.array.as_boolean()),
            DataType::Date32 => Self::Date(p.array.as_primitive::<Date32Type>()),
            DataType::Timestamp(_, _) => Self::Timestamp(p.array.as_primitive::<TimestampMicrosecondType>(), p.zoned),
            DataType::Utf8 => Self::Text(p.array.as_string::<i32>()),
            DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => Self::Decimal(formatter()?),
            DataType::UInt64 | DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
                Self::Plain(formatter()?)
            }
            _ => Self::Nested(formatter()?),
        })
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Self::Int(a) => a.is_null(i),
            Self::Float(a) => a.is_null(i),
            Self::Bool(a) => a.is_null(i),
            Self::Date(a) => a.is_null(i),
            Self::Timestamp(a, _) => a.is_null(i),
            Self::Text(a) => a.is_null(i),
            // Formatters write nulls as the empty string.
            Self::Decimal(_) | Self::Nested(_) | Self::Plain(_) => false,
        }
    }

    /// Writes value `i` into `out` (cleared first) as `dialect` reads it; nulls are empty.
    pub fn write(&self, i: usize, dialect: Dialect, formats: &Formats, out: &mut String) {
        out.clear();
        if self.is_null(i) {
            return;
        }
        let eu = dialect == Dialect::ExcelEu;
        let excel = dialect.for_excel();
        match self {
            Self::Int(a) => out.push_str(itoa::Buffer::new().format(a.value(i))),
            Self::Float(a) => {
                push_float(a.value(i), out);
                if eu {
                    decimal_comma(out);
                }
            }
            Self::Bool(a) => out.push_str(if a.value(i) { "true" } else { "false" }),
            Self::Date(a) => {
                if let Some(d) = formats.epoch.checked_add_signed(chrono::Duration::days(i64::from(a.value(i)))) {
                    if !push_date(&d, out) {
                        let _ = write!(out, "{d}");
                    }
                }
            }
            Self::Timestamp(a, zoned) => {
                if let Some(t) = DateTime::from_timestamp_micros(a.value(i)) {
                    // `2026-01-31 14:30:00` is what Excel reads as a date and time.
                    let (separator, zulu) = if excel { (' ', false) } else { ('T', *zoned) };
                    if !push_timestamp(&t.naive_utc(), separator, zulu, out) {
                        let items = match (excel, zoned) {
                            (true, _) => &formats.excel_timestamp,
                            (false, true) => &formats.utc_timestamp,
                            (false, false) => &formats.local_timestamp,
                        };
                        let _ = write!(out, "{}", t.naive_utc().format_with_items(items.iter()));
                    }
                }
            }
            Self::Text(a) => neutralise_into(a.value(i), excel, out),
            Self::Decimal(f) => {
                let _ = write!(out, "{}", f.value(i));
                if eu {
                    decimal_comma(out);
                }
            }
            Self::Nested(f) => {
                if excel {
                    let text = f.value(i).to_string();
                    neutralise_into(&text, true, out);
                } else {
                    let _ = write!(out, "{}", f.value(i));
                }
            }
            Self::Plain(f) => {
                let _ = write!(out, "{}", f.value(i));
            }
        }
    }
}

/// Timestamp layouts, parsed once.
pub struct Formats {
    epoch: NaiveDate,
    utc_timestamp: Vec<Item<'static>>,
    local_timestamp: Vec<Item<'static>>,
    excel_timestamp: Vec<Item<'static>>,
}

impl Default for Formats {
    fn default() -> Self {
        let parse = |f: &'static str| StrftimeItems::new(f).parse().unwrap_or_default();
        Self {
            epoch: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default(),
            // RFC 3339 as `query::cells` writes it: fractions only when there are some.
            utc_timestamp: parse("%Y-%m-%dT%H:%M:%S%.fZ"),
            local_timestamp: parse("%Y-%m-%dT%H:%M:%S%.f"),
            excel_timestamp: parse("%Y-%m-%d %H:%M:%S%.f"),
        }
    }
}

/// `2026-01-31`, written digit by digit (chrono's formatting is most of a date's cost); false
/// for years outside 0000–9999, which chrono writes its own way.
fn push_date(d: &NaiveDate, out: &mut String) -> bool {
    use chrono::Datelike;
    let year = d.year();
    if !(0..=9999).contains(&year) {
        return false;
    }
    let year = year as u32;
    push_digits(out, year / 100);
    push_digits(out, year % 100);
    out.push('-');
    push_digits(out, d.month());
    out.push('-');
    push_digits(out, d.day());
    true
}

/// As chrono's `%Y-%m-%d{sep}%H:%M:%S%.f` (+ `Z`): fractions of 3 or 6 digits, only when there
/// are some. False where chrono's own formatting must do it (odd years, leap seconds).
fn push_timestamp(t: &chrono::NaiveDateTime, separator: char, zulu: bool, out: &mut String) -> bool {
    use chrono::Timelike;
    let nanos = t.time().nanosecond();
    if nanos >= 1_000_000_000 || !push_date(&t.date(), out) {
        out.clear();
        return false;
    }
    out.push(separator);
    push_digits(out, t.hour());
    out.push(':');
    push_digits(out, t.minute());
    out.push(':');
    push_digits(out, t.second());
    if nanos.is_multiple_of(1_000_000) && nanos > 0 {
        out.push('.');
        push_fraction(out, nanos / 1_000_000, 3);
    } else if nanos.is_multiple_of(1_000) && nanos > 0 {
        out.push('.');
        push_fraction(out, nanos / 1_000, 6);
    } else if nanos > 0 {
        out.push('.');
        push_fraction(out, nanos, 9);
    }
    if zulu {
        out.push('Z');
    }
    true
}

/// As Rust's `Display` writes an `f64` (`2`, `1.5`, never an exponent), faster: ryu's shortest
/// form, with `.0` dropped, and `Display` itself where ryu would use an exponent.
fn push_float(v: f64, out: &mut String) {
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format(v);
    if !v.is_finite() || text.contains('e') {
        let _ = write!(out, "{v}");
    } else {
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
    }
}

/// Two digits, zero-padded.
fn push_digits(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10 % 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

fn push_fraction(out: &mut String, v: u32, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(v);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(digits);
}

fn decimal_comma(out: &mut String) {
    if let Some(dot) = out.find('.') {
        out.replace_range(dot..dot + 1, ",");
    }
}

/// What starts a formula in Excel or LibreOffice, half- and fullwidth (Excel with an East Asian
/// input method takes `＝` as `=`).
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// Whether a spreadsheet could run `text` as a formula: it starts with a tab or a line break, or
/// with a formula sign once leading whitespace is trimmed (as LibreOffice's import may, and as
/// a partner pasting the cell would).
pub(crate) fn formula_like(text: &str) -> bool {
    text.starts_with(['\t', '\r', '\n']) || text.trim_start().starts_with(FORMULA_STARTS)
}

/// Text a spreadsheet could run as a formula gets a leading apostrophe, which Excel shows as
/// text; other dialects keep it as it is.
pub(crate) fn neutralise_into(text: &str, excel: bool, out: &mut String) {
    if excel && formula_like(text) {
        out.push('\'');
    }
    out.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Decimal128Array, Int32Array, ListArray};
    use deltalake::arrow::datatypes::Int32Type;
    use std::sync::Arc;

    fn texts(array: ArrayRef, dialect: Dialect) -> Vec<String> {
        let prepared = prepare(&array).unwrap();
        let field = Field::new(&prepared).unwrap();
        let formats = Formats::default();
        let mut out = String::new();
        (0..array.len())
            .map(|i| {
                field.write(i, dialect, &formats, &mut out);
                out.clone()
            })
            .collect()
    }

    #[test]
    fn values_are_written_for_each_dialect() {
        let floats: ArrayRef =
            Arc::new(Float64Array::from(vec![Some(1.5), None, Some(2.0), Some(1e21), Some(-1e-7), Some(0.1 + 0.2), Some(f64::NAN)]));
        let display = ["1.5", "", "2", "1000000000000000000000", "-0.0000001", "0.30000000000000004", "NaN"];
        assert_eq!(texts(floats.clone(), Dialect::Plain), display);
        assert_eq!(texts(floats, Dialect::ExcelEu)[..3], ["1,5", "", "2"]);
        let decimals: ArrayRef = Arc::new(Decimal128Array::from(vec![1250]).with_precision_and_scale(10, 2).unwrap());
        assert_eq!(texts(decimals.clone(), Dialect::Plain), ["12.50"]);
        assert_eq!(texts(decimals, Dialect::ExcelEu), ["12,50"]);
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![-5]));
        assert_eq!(texts(ints, Dialect::ExcelEu), ["-5"]);
        let zoned: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_769_869_800_000_000, 1_500_000]).with_timezone("UTC"));
        assert_eq!(texts(zoned.clone(), Dialect::Plain), ["2026-01-31T14:30:00Z", "1970-01-01T00:00:01.500Z"]);
        assert_eq!(texts(zoned, Dialect::Excel), ["2026-01-31 14:30:00", "1970-01-01 00:00:01.500"]);
        let local: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![0, 1_500_123, -62_135_596_800_000_000 - 1]));
        assert_eq!(texts(local, Dialect::Plain), ["1970-01-01T00:00:00", "1970-01-01T00:00:01.500123", "0000-12-31T23:59:59.999999"]);
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![1, 2_932_897, -719_162]));
        assert_eq!(texts(dates, Dialect::Excel), ["1970-01-02", "+10000-01-01", "0001-01-01"]);
    }

    #[test]
    fn formulas_stay_text_in_excel_dialects_only() {
        let cases = [
            ("=1+2", "'=1+2"),
            ("+cmd", "'+cmd"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\n=1+2", "'\n=1+2"),
            (" =1+2", "' =1+2"),
            ("\u{3000}\u{A0} +1", "'\u{3000}\u{A0} +1"),
            ("\u{FF1D}1+2", "'\u{FF1D}1+2"),
            ("\u{FF0B}1", "'\u{FF0B}1"),
            ("\u{FF0D}1", "'\u{FF0D}1"),
            ("\u{FF20}SUM(A1)", "'\u{FF20}SUM(A1)"),
            ("a=b", "a=b"),
            (" a=b", " a=b"),
        ];
        for (input, excel) in cases {
            let array: ArrayRef = Arc::new(StringArray::from(vec![input]));
            assert_eq!(texts(array.clone(), Dialect::Excel), [excel]);
            assert_eq!(texts(array.clone(), Dialect::ExcelEu), [excel]);
            assert_eq!(texts(array, Dialect::Plain), [input]);
        }
        let nested: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(-1)])]));
        assert_eq!(texts(nested.clone(), Dialect::Plain), ["[-1]"]);
        assert_eq!(texts(nested, Dialect::Excel), ["[-1]"]);
    }
}
