//! What a download is: its format (`_format`) and, for CSV, its dialect (`_dialect`), parsed
//! once where a request arrives.

use crate::error::{PortalError, Result};

/// The CSV dialects (see `csv`).
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

    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Excel => "excel",
            Self::ExcelEu => "excel-eu",
        }
    }

    pub fn delimiter(self) -> u8 {
        if self == Self::ExcelEu {
            b';'
        } else {
            b','
        }
    }

    pub fn for_excel(self) -> bool {
        self != Self::Plain
    }
}

/// A download's file: a workbook, or CSV in a dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Xlsx,
    Csv(Dialect),
}

impl FileFormat {
    /// From the request's `_format` (`xlsx` or `csv`) and `_dialect` (CSV only).
    pub fn parse(format: Option<&str>, dialect: Option<&str>) -> Result<Self> {
        match format {
            Some("xlsx") => Ok(Self::Xlsx),
            Some("csv") => Ok(Self::Csv(Dialect::parse(dialect)?)),
            other => Err(PortalError::InvalidParameter(format!("`_format` must be xlsx or csv; got `{}`", other.unwrap_or_default()))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv(_) => "csv",
        }
    }

    pub fn dialect_name(self) -> &'static str {
        match self {
            Self::Xlsx => "",
            Self::Csv(d) => d.name(),
        }
    }
}

impl FileFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv(_) => "text/csv; charset=utf-8",
        }
    }
}
