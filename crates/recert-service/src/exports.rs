//! Tables as files: CSV and XLSX with real types (dates as dates, numbers as numbers). Every
//! report and list export goes through [`Table`], so formula neutralising happens in one
//! place: a text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab,
//! carriage return first) is written with a leading apostrophe (OWASP "CSV injection").

use crate::{Result, ServiceError};
use recert_domain::Date;
use std::borrow::Cow;

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A fraction 0–1 shown as a percentage; `None` when there is nothing to divide.
    Percent(Option<f64>),
    Date(Option<Date>),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

/// What a caller asked an answer as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(_) => Err(ServiceError::field(
                "format",
                "Choose a format: json, csv or xlsx",
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// A sheet: a title (the XLSX sheet name), column headings and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// Text a spreadsheet will not evaluate.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

impl Table {
    pub fn new(title: impl Into<String>, headers: Vec<&'static str>) -> Self {
        Self {
            title: title.into(),
            headers,
            rows: Vec::new(),
        }
    }

    /// The table in the format asked (JSON is the caller's own shape, not a table).
    pub fn encode(&self, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Csv => self.to_csv(),
            Format::Xlsx => self.to_xlsx(),
            Format::Json => Err(ServiceError::internal("a table has no JSON form")),
        }
    }

    /// CSV with a header row; percentages as numbers 0–100 with one decimal.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.headers)
            .map_err(ServiceError::internal)?;
        for row in &self.rows {
            let fields: Vec<Cow<'_, str>> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => neutralise(s),
                    Cell::Int(n) => Cow::Owned(n.to_string()),
                    Cell::Percent(Some(f)) => Cow::Owned(format!("{:.1}", f * 100.0)),
                    Cell::Percent(None) | Cell::Date(None) => Cow::Borrowed(""),
                    Cell::Date(Some(d)) => Cow::Owned(d.to_string()),
                })
                .collect();
            w.write_record(fields.iter().map(|f| f.as_bytes()))
                .map_err(ServiceError::internal)?;
        }
        w.into_inner().map_err(ServiceError::internal)
    }

    /// An XLSX workbook of one sheet: dates as dates, counts as numbers, percentages as
    /// fractions formatted `0.0%`; the header row bold and frozen.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format as X, Workbook};
        let e = |e: rust_xlsxwriter::XlsxError| ServiceError::internal(e);
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        // Sheet names: at most 31 characters, none of []:*?/\ .
        let name: String = self
            .title
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet
            .set_name(if name.is_empty() { "Sheet1" } else { &name })
            .map_err(e)?;
        let bold = X::new().set_bold();
        let date = X::new().set_num_format("yyyy-mm-dd");
        let pct = X::new().set_num_format("0.0%");
        for (c, h) in self.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col(c)?, *h, &bold)
                .map_err(e)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(ServiceError::internal)?;
            for (c, cell) in row.iter().enumerate() {
                let c = col(c)?;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, neutralise(s)).map_err(e)?;
                    }
                    Cell::Int(n) => {
                        // Counts are far below 2^53: exact as a spreadsheet number.
                        sheet.write_number(r, c, *n as f64).map_err(e)?;
                    }
                    Cell::Percent(Some(f)) => {
                        sheet.write_number_with_format(r, c, *f, &pct).map_err(e)?;
                    }
                    Cell::Date(Some(d)) => {
                        sheet
                            .write_datetime_with_format(r, c, d, &date)
                            .map_err(e)?;
                    }
                    Cell::Percent(None) | Cell::Date(None) => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(e)?;
        for (c, h) in self.headers.iter().enumerate() {
            sheet
                .set_column_width(col(c)?, (h.len() as f64 + 4.0).max(12.0))
                .map_err(e)?;
        }
        book.save_to_buffer().map_err(e)
    }
}

fn col(c: usize) -> Result<u16> {
    u16::try_from(c).map_err(ServiceError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
        assert_eq!(neutralise("Ana"), "Ana");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn csv_keeps_types_readable() {
        let mut t = Table::new("t", vec!["name", "n", "pct", "day"]);
        t.rows.push(vec![
            "=cmd".into(),
            Cell::Int(3),
            Cell::Percent(Some(0.8421)),
            Cell::Date(Some(jiff::civil::date(2027, 3, 1))),
        ]);
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert_eq!(csv, "name,n,pct,day\n'=cmd,3,84.2,2027-03-01\n");
    }

    #[test]
    fn xlsx_is_a_zip() {
        let mut t = Table::new("Compliance: all", vec!["a"]);
        t.rows
            .push(vec![Cell::Date(Some(jiff::civil::date(2027, 3, 1)))]);
        let bytes = t.to_xlsx().unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
