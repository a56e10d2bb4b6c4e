//! Tables as files: CSV and XLSX with real types (dates as dates, numbers as numbers). Every
//! report and list export goes through [`Table`], so formula neutralising happens in one
//! place: a text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab,
//! carriage return first) is written with a leading apostrophe (OWASP "CSV injection").

use crate::{Result, ServiceError};
use recert_domain::Date;
use std::borrow::Cow;
use tokio::sync::mpsc;

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A number with a fraction (hours); empty when `None`.
    Number(Option<f64>),
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
    /// JSON lines: one object per row, keyed by the column headings.
    Jsonl,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some("jsonl" | "ndjson") => Ok(Self::Jsonl),
            Some(_) => Err(ServiceError::field(
                "format",
                "Choose a format: json, csv, xlsx or jsonl",
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Jsonl => "application/x-ndjson",
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
            Format::Jsonl => {
                let mut out = Vec::new();
                for row in &self.rows {
                    json_line(&self.headers, row, &mut out)?;
                }
                Ok(out)
            }
            Format::Json => Err(ServiceError::internal("a table has no JSON form")),
        }
    }

    /// CSV with a header row; percentages as numbers 0–100 with one decimal.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = CsvRows::new(&self.headers)?;
        for row in &self.rows {
            w.row(row)?;
        }
        w.take()
    }

    /// An XLSX workbook of one sheet: dates as dates, counts as numbers, percentages as
    /// fractions formatted `0.0%`; the header row bold and frozen.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        let mut x = XlsxRows::new(&self.title, &self.headers, false)?;
        for row in &self.rows {
            x.row(row)?;
        }
        x.book.save_to_buffer().map_err(xlsx_error)
    }
}

/// Rows written as CSV into a buffer the caller empties as it goes.
struct CsvRows {
    w: csv::Writer<Vec<u8>>,
}

impl CsvRows {
    fn new(headers: &[&'static str]) -> Result<Self> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(headers).map_err(ServiceError::internal)?;
        Ok(Self { w })
    }

    fn row(&mut self, row: &[Cell]) -> Result<()> {
        let fields: Vec<Cow<'_, str>> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => neutralise(s),
                Cell::Int(n) => Cow::Owned(n.to_string()),
                Cell::Number(Some(f)) => Cow::Owned(f.to_string()),
                Cell::Percent(Some(f)) => Cow::Owned(format!("{:.1}", f * 100.0)),
                Cell::Percent(None) | Cell::Date(None) | Cell::Number(None) => Cow::Borrowed(""),
                Cell::Date(Some(d)) => Cow::Owned(d.to_string()),
            })
            .collect();
        self.w
            .write_record(fields.iter().map(|f| f.as_bytes()))
            .map_err(ServiceError::internal)
    }

    /// Bytes written but not yet taken (the writer keeps a small buffer of its own).
    fn pending(&self) -> usize {
        self.w.get_ref().len()
    }

    /// Everything written so far (the writer starts again on an empty buffer).
    fn take(&mut self) -> Result<Vec<u8>> {
        let w = std::mem::replace(&mut self.w, csv::Writer::from_writer(Vec::new()));
        w.into_inner()
            .map_err(|e| ServiceError::internal(e.error().to_string()))
    }
}

/// One row as a JSON object on a line of its own: text as strings, numbers as numbers,
/// dates as `YYYY-MM-DD`, percentages as fractions, empty cells as null. Not neutralised:
/// JSON is not read by a spreadsheet.
fn json_line(headers: &[&'static str], row: &[Cell], out: &mut Vec<u8>) -> Result<()> {
    let mut obj = serde_json::Map::with_capacity(headers.len());
    for (h, c) in headers.iter().zip(row) {
        let v = match c {
            Cell::Text(s) => serde_json::Value::from(s.as_str()),
            Cell::Int(n) => serde_json::Value::from(*n),
            Cell::Number(Some(f)) | Cell::Percent(Some(f)) => serde_json::Value::from(*f),
            Cell::Date(Some(d)) => serde_json::Value::from(d.to_string()),
            Cell::Number(None) | Cell::Percent(None) | Cell::Date(None) => serde_json::Value::Null,
        };
        obj.insert((*h).to_owned(), v);
    }
    serde_json::to_writer(&mut *out, &obj).map_err(ServiceError::internal)?;
    out.push(b'\n');
    Ok(())
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ServiceError {
    ServiceError::internal(e)
}

/// Rows written into a one-sheet workbook. With `constant_memory` each row goes to a
/// temporary file as it is written, so a sheet of any length takes the same memory.
struct XlsxRows {
    book: rust_xlsxwriter::Workbook,
    next: u32,
    date: rust_xlsxwriter::Format,
    pct: rust_xlsxwriter::Format,
}

impl XlsxRows {
    fn new(title: &str, headers: &[&'static str], constant_memory: bool) -> Result<Self> {
        use rust_xlsxwriter::{Format as X, Workbook};
        let mut book = Workbook::new();
        let sheet = if constant_memory {
            book.add_worksheet_with_constant_memory()
                .map_err(xlsx_error)?
        } else {
            book.add_worksheet()
        };
        // Sheet names: at most 31 characters, none of []:*?/\ .
        let name: String = title
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet
            .set_name(if name.is_empty() { "Sheet1" } else { &name })
            .map_err(xlsx_error)?;
        let bold = X::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col(c)?, *h, &bold)
                .map_err(xlsx_error)?;
            sheet
                .set_column_width(col(c)?, (h.len() as f64 + 4.0).max(12.0))
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(Self {
            book,
            next: 1,
            date: X::new().set_num_format("yyyy-mm-dd"),
            pct: X::new().set_num_format("0.0%"),
        })
    }

    fn row(&mut self, row: &[Cell]) -> Result<()> {
        let e = xlsx_error;
        let r = self.next;
        let sheet = self.book.worksheet_from_index(0).map_err(e)?;
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
                Cell::Number(Some(f)) => {
                    sheet.write_number(r, c, *f).map_err(e)?;
                }
                Cell::Percent(Some(f)) => {
                    sheet
                        .write_number_with_format(r, c, *f, &self.pct)
                        .map_err(e)?;
                }
                Cell::Date(Some(d)) => {
                    sheet
                        .write_datetime_with_format(r, c, d, &self.date)
                        .map_err(e)?;
                }
                Cell::Percent(None) | Cell::Date(None) | Cell::Number(None) => {}
            }
        }
        self.next = r.checked_add(1).ok_or_else(|| {
            ServiceError::field("format", "Too many rows for one XLSX sheet: export CSV")
        })?;
        Ok(())
    }
}

/// The most rows an XLSX sheet holds (the format's limit, header row included).
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// An export on its way: the file's bytes in order, as a task writes them. Dropping it
/// stops the task.
pub struct Download {
    pub format: Format,
    /// The file name without its extension.
    pub stem: String,
    chunks: mpsc::Receiver<Result<Vec<u8>>>,
}

impl Download {
    /// The next part of the file; `None` once it is complete. An error means the file is
    /// not complete and must not be kept.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>>> {
        self.chunks.recv().await
    }

    /// The whole file (the command line and tests).
    pub async fn bytes(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            out.extend(chunk?);
        }
        Ok(out)
    }

    /// `stem.csv` or `stem.xlsx`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.stem, self.format.extension())
    }
}

/// Where a download's producer puts its rows.
pub struct RowSink {
    enc: Encoder,
    tx: mpsc::Sender<Result<Vec<u8>>>,
}

enum Encoder {
    Csv(Box<CsvRows>),
    Xlsx(Box<XlsxRows>),
    Jsonl {
        headers: Vec<&'static str>,
        buf: Vec<u8>,
    },
}

/// How much CSV is gathered before it is sent on.
const CHUNK: usize = 64 * 1024;

impl RowSink {
    pub async fn push(&mut self, row: &[Cell]) -> Result<()> {
        match &mut self.enc {
            Encoder::Csv(w) => {
                w.row(row)?;
                if w.pending() >= CHUNK {
                    let bytes = w.take()?;
                    self.send(bytes).await?;
                }
            }
            Encoder::Jsonl { headers, buf } => {
                json_line(headers, row, buf)?;
                if buf.len() >= CHUNK {
                    let bytes = std::mem::take(buf);
                    self.send(bytes).await?;
                }
            }
            Encoder::Xlsx(x) => {
                if x.next >= XLSX_MAX_ROWS {
                    return Err(ServiceError::field(
                        "format",
                        "More rows than one XLSX sheet holds (1,048,575): export CSV",
                    ));
                }
                x.row(row)?;
                // Writing a row is synchronous; let other requests run now and then.
                if x.next % 4096 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, bytes: Vec<u8>) -> Result<()> {
        self.tx
            .send(Ok(bytes))
            .await
            .map_err(|_| ServiceError::internal(ABANDONED))
    }

    async fn finish(mut self) -> Result<()> {
        match &mut self.enc {
            Encoder::Csv(w) => {
                let bytes = w.take()?;
                self.send(bytes).await
            }
            Encoder::Jsonl { buf, .. } => {
                let bytes = std::mem::take(buf);
                self.send(bytes).await
            }
            Encoder::Xlsx(_) => {
                let Encoder::Xlsx(x) = self.enc else {
                    return Ok(());
                };
                let tx = self.tx.clone();
                // Zipping the sheet and reading the file back are blocking work.
                tokio::task::spawn_blocking(move || -> Result<()> {
                    use std::io::{Read, Seek};
                    let mut x = *x;
                    let mut file = tempfile::tempfile().map_err(ServiceError::internal)?;
                    x.book.save_to_writer(&mut file).map_err(xlsx_error)?;
                    file.rewind().map_err(ServiceError::internal)?;
                    loop {
                        let mut buf = vec![0; CHUNK];
                        let n = file.read(&mut buf).map_err(ServiceError::internal)?;
                        if n == 0 {
                            return Ok(());
                        }
                        buf.truncate(n);
                        tx.blocking_send(Ok(buf))
                            .map_err(|_| ServiceError::internal(ABANDONED))?;
                    }
                })
                .await
                .map_err(ServiceError::internal)?
            }
        }
    }
}

const ABANDONED: &str = "the download was abandoned";

/// Starts a download: `produce` pushes the rows (reading them as it goes) in a task of
/// its own, and the file's bytes come out of the returned [`Download`] as they are made,
/// so neither side holds the whole file.
pub(crate) fn download<F, Fut>(
    format: Format,
    stem: impl Into<String>,
    title: &str,
    headers: &[&'static str],
    produce: F,
) -> Result<Download>
where
    F: FnOnce(RowSink) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<RowSink>> + Send + 'static,
{
    let enc = match format {
        Format::Csv => Encoder::Csv(Box::new(CsvRows::new(headers)?)),
        Format::Xlsx => Encoder::Xlsx(Box::new(XlsxRows::new(title, headers, true)?)),
        Format::Jsonl => Encoder::Jsonl {
            headers: headers.to_vec(),
            buf: Vec::new(),
        },
        Format::Json => {
            return Err(ServiceError::internal(
                "a download is CSV, XLSX or JSON lines",
            ));
        }
    };
    let (tx, rx) = mpsc::channel(4);
    let sink = RowSink {
        enc,
        tx: tx.clone(),
    };
    tokio::spawn(async move {
        let done = match produce(sink).await {
            Ok(sink) => sink.finish().await,
            Err(e) => Err(e),
        };
        if let Err(e) = done
            && !tx.is_closed()
        {
            tracing::warn!(error = %e, "export failed part way");
            let _ = tx.send(Err(e)).await;
        }
    });
    Ok(Download {
        format,
        stem: stem.into(),
        chunks: rx,
    })
}

fn col(c: usize) -> Result<u16> {
    u16::try_from(c).map_err(ServiceError::internal)
}

/// What `recert export` (and the export links) can write whole.
pub const EXPORTABLE: &[&str] = &["awards", "learners", "audit"];

impl crate::Service {
    /// Every award, learner or audit event the caller may see, in the list's default order,
    /// as a file written while it is read.
    pub async fn export_all(
        &self,
        who: &crate::Principal,
        what: &str,
        format: Format,
    ) -> Result<Download> {
        use crate::listing::{Sort, keys};
        if format == Format::Json {
            return Err(ServiceError::field(
                "format",
                "Choose a format: csv, xlsx or jsonl",
            ));
        }
        match what {
            "awards" => {
                let k = keys::awards();
                let sort = Sort::parse("", &k, k.first().copied().unwrap_or("issued"))?;
                self.awards_export(who, Default::default(), &sort, format, "Awards", "awards")
                    .await
            }
            "learners" => {
                let k = keys::learners();
                let sort = Sort::parse("", &k, k.first().copied().unwrap_or("name"))?;
                self.learners_export(who, Default::default(), &sort, format)
            }
            "audit" => {
                let k = keys::audit();
                let sort = Sort::parse("", &k, k.first().copied().unwrap_or("at"))?;
                self.audit_export(who, &Default::default(), &sort, format)
            }
            other => Err(ServiceError::field(
                "what",
                format!("cannot export {other:?}: choose awards, learners or audit"),
            )),
        }
    }
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
