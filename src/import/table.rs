//! A decoded CSV file read record by record with line numbers, checked for the
//! structural faults that must stop an import: empty file, header only, a
//! wrong number of fields, an unbalanced quote, a field too large to be real.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use csv::StringRecord;

use super::ImportError;
use super::columns::{ColumnMap, ColumnOverride, Role};
use super::dates;
use super::source::{self, DecodedText};
use super::workbook;
use crate::pipeline::JobContext;
use std::ops::ControlFlow;

/// A field larger than this means a broken file (a runaway quote, a pasted blob).
pub const MAX_FIELD_BYTES: usize = 1 << 20;
/// Most columns a file may have (Excel's own limit).
pub const MAX_COLUMNS: usize = 16_384;

const RECORDS_PER_PROGRESS: u64 = 25_000;
/// Records handed from the tokenising thread to the importer at a time.
const RECORDS_PER_BATCH: usize = 2_048;

pub struct Table {
    pub path: PathBuf,
    pub headers: Vec<String>,
    pub encoding: &'static str,
    text: String,
    /// Field separator, sniffed from the header line.
    delimiter: u8,
}

impl Table {
    /// Reads, decodes and checks the header of `path` (a workbook's first sheet).
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        Self::open_with(path, None)
    }

    pub fn from_text(
        path: &Path,
        mut text: String,
        encoding: &'static str,
    ) -> Result<Self, ImportError> {
        // Classic Mac line ends (a lone CR): lines are counted by LF, so make them LFs.
        if text.contains('\r') && !text.contains('\n') {
            text = text.replace('\r', "\n");
        }
        let format_err = |line: Option<u64>, reason: String| ImportError::Format {
            path: path.to_path_buf(),
            line,
            reason,
        };
        if text.trim().is_empty() {
            return Err(format_err(None, "the file is empty".into()));
        }
        let first_line = text.lines().next().unwrap_or_default();
        let delimiter = sniff_delimiter(first_line);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header = StringRecord::new();
        let has_header = reader
            .read_record(&mut header)
            .map_err(|e| format_err(Some(1), csv_reason(&e)))?;
        if !has_header {
            return Err(format_err(None, "the file is empty".into()));
        }
        let headers: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(format_err(
                Some(1),
                "the first line must name the columns, but it is blank".into(),
            ));
        }
        if headers.len() > MAX_COLUMNS {
            return Err(format_err(
                Some(1),
                format!(
                    "the header has {} columns, over the {MAX_COLUMNS} a spreadsheet can hold; is the separator right?",
                    headers.len()
                ),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            headers,
            encoding,
            text,
            delimiter,
        })
    }

    /// Reads, decodes and checks the header of `path`; a workbook's sheet (`sheet`, else the
    /// first) is read as its table.
    pub fn open_with(path: &Path, sheet: Option<&str>) -> Result<Self, ImportError> {
        let bytes = source::read_bytes(path)?;
        if workbook::is_workbook(&bytes) {
            let text = workbook::sheet_as_csv(path, bytes, sheet)?;
            return Self::from_text(path, text, "workbook");
        }
        let DecodedText { text, encoding } = source::decode(path, bytes)?;
        Self::from_text(path, text, encoding)
    }

    /// Calls `visit` with the values of one column, trimmed, consecutive repeats once, until
    /// it breaks: for decisions that need the file before any row is read (the day/month
    /// order). Structural faults end the scan quietly; the import itself reports them.
    pub fn scan_column(&self, column: usize, mut visit: impl FnMut(&str) -> ControlFlow<()>) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(self.text.as_bytes());
        let mut record = StringRecord::new();
        let mut last = String::new();
        while let Ok(true) = reader.read_record(&mut record) {
            let value = record.get(column).unwrap_or("").trim();
            if value == last {
                continue;
            }
            if visit(value).is_break() {
                return;
            }
            last.clear();
            last.push_str(value);
        }
    }

    /// The day/month order of one column's dates, decided from the file (see
    /// [`dates::DateOrderScan`]).
    pub fn date_order(&self, column: Option<usize>) -> dates::DateOrderFinding {
        let mut scan = dates::DateOrderScan::default();
        if let Some(column) = column {
            self.scan_column(column, |value| scan.see(value));
        }
        scan.finish()
    }

    /// The first `n` data records as text, for a preview. Stops early at a malformed record:
    /// the import itself reports it.
    pub fn head(&self, n: usize) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(self.text.as_bytes())
            .records()
            .take(n)
            .map_while(Result::ok)
            .map(|record| record.iter().map(str::to_owned).collect())
            .collect()
    }

    /// Calls `row` with (line number, record) for every data record, reporting progress
    /// by bytes. Stops at the first structural fault, or when `row` fails or the job is cancelled.
    ///
    /// Tokenising (and its checks) runs on a scoped thread, `strata-csv`, handing over batches
    /// of records; `row` runs on the calling thread. On two cores that overlaps the parse
    /// with the importer's own work per row.
    pub fn for_each_record(
        &self,
        job: &JobContext,
        mut row: impl FnMut(u64, &StringRecord) -> Result<(), ImportError>,
    ) -> Result<u64, ImportError> {
        let total_bytes = self.text.len() as u64;
        let (batches_tx, batches) = sync_channel::<Result<Vec<StringRecord>, ImportError>>(4);
        let (recycle, recycled) = channel::<Vec<StringRecord>>();
        std::thread::scope(|scope| {
            let producer = std::thread::Builder::new()
                .name("strata-csv".into())
                .spawn_scoped(scope, move || self.tokenise(&batches_tx, &recycled));
            if let Err(e) = producer {
                return Err(self.format_err(None, format!("could not start a reader thread: {e}")));
            }
            let mut count = 0u64;
            let mut lines = LineCounter::default();
            // The producer stops when this receiver is dropped (an error or a cancel here).
            for batch in batches {
                let batch = batch?;
                for record in &batch {
                    let line = lines.line_at(&self.text, record.position().map_or(0, |p| p.byte()));
                    row(line, record)?;
                    count += 1;
                    if count.is_multiple_of(RECORDS_PER_PROGRESS) {
                        job.check()?;
                        let done = record.position().map_or(0, |p| p.byte());
                        job.progress("reading", done, total_bytes);
                    }
                }
                // The producer may be gone already; then the buffer is simply dropped.
                let _ = recycle.send(batch);
            }
            job.progress("reading", total_bytes, total_bytes);
            Ok(count)
        })
    }

    /// The producer side of [`Self::for_each_record`]: reads and checks records, sends them
    /// in batches, and ends with an error if the file has a structural fault.
    fn tokenise(
        &self,
        out: &SyncSender<Result<Vec<StringRecord>, ImportError>>,
        recycled: &Receiver<Vec<StringRecord>>,
    ) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(self.text.as_bytes());
        let expected = self.headers.len();
        let mut count = 0u64;
        // Start (byte) of the last record if it spans lines: a quote left open runs to EOF.
        let mut last_multiline = None;
        let mut batch: Vec<StringRecord> = Vec::with_capacity(RECORDS_PER_BATCH);
        let mut filled = 0usize;
        let fault = loop {
            if filled == batch.len() {
                batch.push(StringRecord::new());
            }
            let record = &mut batch[filled];
            match reader.read_record(record) {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => {
                    let line = e.position().map(|p| self.line_of(p.byte()));
                    break Some(self.format_err(line, csv_reason(&e)));
                }
            }
            if let Some(fault) = self.check_record(record, expected) {
                break Some(fault);
            }
            if record.iter().any(|f| f.contains('\n')) {
                last_multiline = Some(record.position().map_or(0, |p| p.byte()));
            } else {
                last_multiline = None;
            }
            count += 1;
            filled += 1;
            if filled == RECORDS_PER_BATCH {
                batch.truncate(filled);
                let next = recycled
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(RECORDS_PER_BATCH));
                if out.send(Ok(std::mem::replace(&mut batch, next))).is_err() {
                    return;
                }
                filled = 0;
            }
        };
        batch.truncate(filled);
        let fault = fault.or_else(|| {
            if count == 0 {
                return Some(self.format_err(None, "the file has a header but no rows".into()));
            }
            let byte = last_multiline?;
            let line = self.line_of(byte);
            // A closed quoted field has an even number of quotes; ending inside one leaves it odd.
            let rest = self.text.get(byte as usize..).unwrap_or_default();
            (rest.matches('"').count() % 2 == 1).then(|| {
                let lines = rest.trim_end().matches('\n').count() + 1;
                self.format_err(
                    Some(line),
                    format!("a quoted field opened on this line never closes (unbalanced \"); the record runs on for {lines} lines to the end of the file"),
                )
            })
        });
        // A fault ends the import: rows before it are not worth handing over.
        let last = match fault {
            Some(fault) => Err(fault),
            None => Ok(batch),
        };
        let _ = out.send(last);
    }

    /// A field too large to be real, or the wrong number of fields.
    fn check_record(&self, record: &StringRecord, expected: usize) -> Option<ImportError> {
        let line = || self.line_of(record.position().map_or(0, |p| p.byte()));
        if let Some((column, field)) = record
            .iter()
            .enumerate()
            .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
        {
            return Some(self.format_err(
                Some(line()),
                format!(
                    "field {} ({}) is {:.1} MB, over the {} MiB limit; is a quote unbalanced?",
                    column + 1,
                    self.headers.get(column).map_or("unnamed", String::as_str),
                    field.len() as f64 / 1e6,
                    MAX_FIELD_BYTES >> 20
                ),
            ));
        }
        if record.len() != expected {
            let reason = if record.iter().any(|f| f.contains('\n')) {
                unbalanced_quote(record)
            } else {
                format!(
                    "expected {expected} fields like the header, found {}",
                    record.len()
                )
            };
            return Some(self.format_err(Some(line()), reason));
        }
        None
    }

    /// The file's own line number at byte `byte` of its text. The CSV reader's own count
    /// passes over blank lines, so lines are counted here, from the text.
    fn line_of(&self, byte: u64) -> u64 {
        LineCounter::default().line_at(&self.text, byte)
    }

    pub fn format_err(&self, line: Option<u64>, reason: String) -> ImportError {
        ImportError::Format {
            path: self.path.clone(),
            line,
            reason,
        }
    }
}

/// Line numbers of records met in file order: counts line feeds from the last record's start.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    line: u64,
}

impl LineCounter {
    /// The line of the record the reader says starts at `byte`: the reader's start includes
    /// the blank lines it passed over before the record, so those are stepped over first.
    fn line_at(&mut self, text: &str, byte: u64) -> u64 {
        let byte = (byte as usize).min(text.len());
        let byte = byte
            + text.as_bytes()[byte..]
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
        if byte < self.byte {
            *self = Self::default();
        }
        let newlines = text.as_bytes()[self.byte..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.byte = byte;
        self.line + 1
    }
}

fn unbalanced_quote(record: &StringRecord) -> String {
    let lines = record
        .iter()
        .map(|f| f.matches('\n').count())
        .sum::<usize>()
        + 1;
    format!(
        "a quoted field opened on this line never closes (unbalanced \"); the record runs on for {lines} lines"
    )
}

/// Comma unless the header has more semicolons or tabs (European Excel, TSV).
fn sniff_delimiter(header: &str) -> u8 {
    let count = |c| header.matches(c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields, found {len}")
        }
        _ => e.to_string(),
    }
}

impl Table {
    /// Maps this file's header to `roles`, honouring the user's overrides.
    pub fn columns(
        &self,
        roles: &[Role],
        overrides: &[ColumnOverride],
    ) -> Result<ColumnMap, ImportError> {
        ColumnMap::resolve(&self.headers, roles, overrides)
            .map_err(|reason| self.format_err(Some(1), reason))
    }

    /// The column for `role`, or an error listing the columns the file does have.
    pub fn required(&self, map: &ColumnMap, role: Role) -> Result<usize, ImportError> {
        map.get(role).ok_or_else(|| ImportError::MissingColumn {
            path: self.path.clone(),
            role,
            looked_for: role.example_names(),
            columns: self.headers.join(", "),
        })
    }

    /// Notes this file, its encoding and its column mapping in `report`.
    pub fn describe_in(&self, report: &mut super::ImportReport, map: &ColumnMap) {
        report.files.push(self.file_name());
        report.encoding = self.encoding.to_owned();
        report.columns.extend(map.describe(&self.headers));
    }

    /// The file name for reports.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table, ImportError> {
        Table::from_text(Path::new("t.csv"), text.to_owned(), "UTF-8")
    }

    fn rows(text: &str) -> Result<Vec<(u64, Vec<String>)>, String> {
        let t = table(text).map_err(|e| e.to_string())?;
        let mut out = vec![];
        t.for_each_record(&JobContext::silent(), |line, r| {
            out.push((line, r.iter().map(str::to_owned).collect()));
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn line_numbers_count_multiline_fields() {
        let got = rows("id,title\n1,\"two\nlines\"\n2,b\n").unwrap();
        assert_eq!(got[0].0, 2);
        assert_eq!(got[1].0, 4);
    }

    /// Issue 14: blank lines are the file's lines too (the CSV reader's own count skips them).
    #[test]
    fn line_numbers_count_blank_lines_issue_14() {
        let got = rows("id,title\n\n1,a\n\n\n2,\"b\nc\"\n3,d\n").unwrap();
        let lines: Vec<u64> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 6, 8]);
        let e = rows("id,title\n\n1,a\n\n2,b,c\n").unwrap_err();
        assert!(e.starts_with("t.csv:5: expected 2 fields"), "{e}");
    }

    #[test]
    fn structural_faults_name_the_line() {
        assert_eq!(rows("").unwrap_err(), "t.csv: the file is empty");
        assert_eq!(
            rows("id,title\n").unwrap_err(),
            "t.csv: the file has a header but no rows"
        );
        assert!(
            rows("id,title\n1,a\n2,b,c\n")
                .unwrap_err()
                .starts_with("t.csv:3: expected 2 fields")
        );
        let e = rows("id,title\n1,a\n2,\"b\n3,c\n4,d\n").unwrap_err();
        assert!(
            e.starts_with("t.csv:3: a quoted field opened on this line never closes"),
            "{e}"
        );
    }

    #[test]
    fn semicolons_and_tabs_are_sniffed() {
        assert_eq!(rows("id;title\n1;a\n").unwrap()[0].1, ["1", "a"]);
        assert_eq!(rows("id\ttitle\n1\ta,b\n").unwrap()[0].1, ["1", "a,b"]);
    }
}
