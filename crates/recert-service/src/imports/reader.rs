//! Reading an import file as it streams out of the database: the charset (a byte-order
//! mark, or UTF-8 when it is valid and Windows-1252 otherwise), the separator (the most
//! frequent candidate in the header line), then CSV records in batches. It runs on a
//! blocking thread; the async side feeds it the file's chunks and takes batches of rows.

use super::settings::Charset;
use std::io::{BufRead, BufReader, Read};
use tokio::sync::mpsc;

/// One cell as text, or why its bytes are not text in the file's charset.
pub(crate) type Cell = std::result::Result<String, &'static str>;

/// One data record.
#[derive(Debug)]
pub(crate) struct Row {
    /// The line the record starts on (the header is line 1).
    pub line: i64,
    pub cells: Vec<Cell>,
}

impl Row {
    /// Cell `i`; a short record reads as empty cells.
    pub fn get(&self, i: usize) -> std::result::Result<&str, &'static str> {
        match self.cells.get(i) {
            Some(Ok(s)) => Ok(s.as_str()),
            Some(Err(e)) => Err(e),
            None => Ok(""),
        }
    }
}

pub(crate) enum Msg {
    Header(Vec<String>),
    Rows(Vec<Row>),
    Failed(String),
}

pub(crate) const BATCH: usize = 2_000;

/// Reads chunks as they arrive on a channel.
struct Chunks {
    rx: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.current.len() {
            match self.rx.blocking_recv() {
                Some(next) => {
                    self.current = next;
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// UTF-16 in, UTF-8 out; malformed sequences become U+FFFD (reported per cell).
struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.raw.resize(64 * 1024, 0);
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.out.clear();
            self.out.resize(
                self.decoder
                    .max_utf8_buffer_length(n)
                    .unwrap_or(4 * n + 16)
                    .max(16),
                0,
            );
            let (_, _, written, _) =
                self.decoder
                    .decode_to_utf8(&self.raw[..n], &mut self.out, last);
            self.out.truncate(written);
            self.at = 0;
            self.done = last;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Starts reading the chunks that arrive on `chunks`; answers the header, then rows.
pub(crate) fn spawn(
    chunks: mpsc::Receiver<Vec<u8>>,
    charset: Charset,
    separator: Option<char>,
) -> mpsc::Receiver<Msg> {
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let source = Chunks {
            rx: chunks,
            current: Vec::new(),
            at: 0,
        };
        if let Err(e) = read(source, charset, separator, &tx) {
            let _ = tx.blocking_send(Msg::Failed(e));
        }
    });
    rx
}

fn read(
    source: Chunks,
    asked: Charset,
    separator: Option<char>,
    tx: &mpsc::Sender<Msg>,
) -> std::result::Result<(), String> {
    let io = |e: std::io::Error| format!("the file could not be read: {e}");
    let mut raw = BufReader::with_capacity(64 * 1024, source);
    let head = raw.fill_buf().map_err(io)?;
    let bom = match head {
        [0xEF, 0xBB, 0xBF, ..] => Some(Charset::Utf8),
        [0xFF, 0xFE, ..] => Some(Charset::Utf16le),
        [0xFE, 0xFF, ..] => Some(Charset::Utf16be),
        _ => None,
    };
    let charset = match (asked, bom) {
        (Charset::Auto, Some(b)) => b,
        (Charset::Auto, None) => match std::str::from_utf8(head) {
            Ok(_) => Charset::Utf8,
            // Cut off mid-character at the end of the buffer: still UTF-8.
            Err(e) if e.error_len().is_none() => Charset::Utf8,
            Err(_) => Charset::Windows1252,
        },
        (c, _) => c,
    };
    let mut text: Box<dyn BufRead + Send> = match charset {
        Charset::Utf16le | Charset::Utf16be => {
            let enc = if charset == Charset::Utf16le {
                encoding_rs::UTF_16LE
            } else {
                encoding_rs::UTF_16BE
            };
            Box::new(BufReader::with_capacity(
                64 * 1024,
                Utf16 {
                    inner: raw,
                    decoder: enc.new_decoder_with_bom_removal(),
                    raw: Vec::new(),
                    out: Vec::new(),
                    at: 0,
                    done: false,
                },
            ))
        }
        _ => {
            if bom == Some(Charset::Utf8) {
                raw.consume(3);
            }
            Box::new(raw)
        }
    };
    let separator = match separator {
        Some(s) => s,
        None => {
            let head = text.fill_buf().map_err(io)?;
            let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
            [b',', b';', b'\t', b'|']
                .into_iter()
                .map(|c| (line.iter().filter(|b| **b == c).count(), c))
                .max_by_key(|(n, c)| (*n, *c == b','))
                .filter(|(n, _)| *n > 0)
                .map(|(_, c)| char::from(c))
                .unwrap_or(',')
        }
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(u8::try_from(separator).unwrap_or(b','))
        .from_reader(text);
    let mut record = csv::ByteRecord::new();
    let decode = |bytes: &[u8]| -> Cell { cell(charset, bytes) };
    let mut header_sent = false;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| format!("the file is not CSV that can be read: {e}"))?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0) as i64;
        if !header_sent {
            // Headings are only compared and quoted back: any bytes do, without controls.
            let headings = record
                .iter()
                .map(|b| {
                    decode(b)
                        .unwrap_or_else(|_| String::from_utf8_lossy(b).into_owned())
                        .chars()
                        .filter(|c| !c.is_control())
                        .collect()
                })
                .collect();
            if tx.blocking_send(Msg::Header(headings)).is_err() {
                return Ok(());
            }
            header_sent = true;
            continue;
        }
        // A blank line is no record.
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        batch.push(Row {
            line,
            cells: record.iter().map(decode).collect(),
        });
        if batch.len() == BATCH
            && tx
                .blocking_send(Msg::Rows(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(BATCH),
                )))
                .is_err()
        {
            return Ok(());
        }
    }
    if !header_sent {
        return Err("the file is empty: it needs a header line and records".into());
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Msg::Rows(batch));
    }
    Ok(())
}

fn cell(charset: Charset, bytes: &[u8]) -> Cell {
    let s = match charset {
        Charset::Windows1252 => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
        Charset::Utf16le | Charset::Utf16be => {
            let s = String::from_utf8_lossy(bytes).into_owned();
            if s.contains('\u{fffd}') {
                return Err("is not valid UTF-16: choose the file's charset");
            }
            s
        }
        Charset::Utf8 | Charset::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                return Err("is not valid UTF-8: choose the file's charset (e.g. windows-1252)");
            }
        },
    };
    if s.chars().any(|c| c.is_control() && c != '\t') {
        return Err("contains a control character");
    }
    Ok(s)
}
