//! Sizing an OpenDocument sheet before it is read. An `.ods` writes a run of equal rows or
//! cells once, with a count (`table:number-rows-repeated`, `table:number-columns-repeated`),
//! and calamine expands the runs between the first and the last non-empty row into a
//! rectangle of cells in memory: a few hundred bytes can ask for billions. This scan reads
//! `content.xml` as a stream and measures that rectangle, so a sheet too big to hold is
//! refused before the expansion is paid for. Trailing runs of empty rows and cells, which
//! LibreOffice writes in every file, cost nothing here as they cost nothing in calamine.

use std::io::{BufReader, Cursor};

use quick_xml::events::{BytesStart, Event};

/// Rows and columns an OpenDocument sheet may have (as calamine caps them).
const MAX_ROWS: u64 = 1 << 20;
const MAX_COLUMNS: u64 = 1 << 14;

/// Each sheet's name and the cells of the rectangle calamine would build for it, for the
/// zip archive `bytes` when it holds an OpenDocument `content.xml`; empty for other files.
/// A sheet the scan cannot read to its end is measured as far as it got (calamine then
/// reports the fault itself).
pub fn sheet_spans(bytes: &[u8]) -> Vec<(String, u64)> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    let Ok(content) = archive.by_name("content.xml") else {
        return Vec::new();
    };
    scan(BufReader::new(content))
}

/// Where the non-empty cells of a sheet lie, in expanded rows and columns.
#[derive(Default)]
struct Sheet {
    name: String,
    rows: u64,
    first_row: Option<u64>,
    rows_end: u64,
    first_column: u64,
    columns_end: u64,
}

impl Sheet {
    fn span(&self) -> u64 {
        let Some(first_row) = self.first_row else {
            return 0;
        };
        (self.rows_end - first_row)
            .saturating_mul(self.columns_end.saturating_sub(self.first_column))
    }
}

/// The row being read: its repeat count and where its non-empty cells lie.
struct Row {
    repeats: u64,
    column: u64,
    first_column: Option<u64>,
    columns_end: u64,
}

/// The cell being read: its repeat count, whether it holds anything, and how deep inside it
/// the reader is.
struct Cell {
    repeats: u64,
    filled: bool,
    depth: usize,
}

fn scan(content: impl std::io::BufRead) -> Vec<(String, u64)> {
    let mut reader = quick_xml::Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut spans = Vec::new();
    let mut sheet: Option<Sheet> = None;
    let mut row: Option<Row> = None;
    let mut cell: Option<Cell> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        if let Some(open) = cell.as_mut() {
            match &event {
                Event::Start(_) => {
                    open.depth += 1;
                    open.filled = true;
                }
                Event::Empty(_) => open.filled = true,
                Event::Text(text) if !text.trim().is_empty() => {
                    open.filled = true;
                }
                Event::End(_) if open.depth > 0 => open.depth -= 1,
                Event::End(_) => {
                    if let (Some(row), Some(done)) = (row.as_mut(), cell.take()) {
                        row.add(done);
                    }
                }
                _ => {}
            }
            buf.clear();
            continue;
        }
        match event {
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                sheet = Some(Sheet {
                    name: attribute(&e, "table:name").unwrap_or_default(),
                    ..Sheet::default()
                });
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                if let Some(done) = sheet.take() {
                    spans.push((done.name.clone(), done.span()));
                }
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                row = Some(Row {
                    repeats: repeats(&e, "table:number-rows-repeated"),
                    column: 0,
                    first_column: None,
                    columns_end: 0,
                });
            }
            Event::Empty(e) if e.name().as_ref() == "table:table-row" => {
                if let Some(sheet) = sheet.as_mut() {
                    sheet.rows =
                        (sheet.rows + repeats(&e, "table:number-rows-repeated")).min(MAX_ROWS);
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if let (Some(sheet), Some(done)) = (sheet.as_mut(), row.take()) {
                    sheet.add(done);
                }
            }
            Event::Start(e) if is_cell(&e) => {
                cell = Some(Cell {
                    repeats: repeats(&e, "table:number-columns-repeated"),
                    filled: has_value(&e),
                    depth: 0,
                });
            }
            Event::Empty(e) if is_cell(&e) => {
                if let Some(row) = row.as_mut() {
                    row.add(Cell {
                        repeats: repeats(&e, "table:number-columns-repeated"),
                        filled: has_value(&e),
                        depth: 0,
                    });
                }
            }
            _ => {}
        }
        buf.clear();
    }
    spans
}

impl Row {
    fn add(&mut self, cell: Cell) {
        let end = (self.column + cell.repeats).min(MAX_COLUMNS);
        if cell.filled && end > self.column {
            self.first_column.get_or_insert(self.column);
            self.columns_end = end;
        }
        self.column = end;
    }
}

impl Sheet {
    fn add(&mut self, row: Row) {
        let end = (self.rows + row.repeats).min(MAX_ROWS);
        if let Some(first_column) = row.first_column {
            if self.first_row.is_none() {
                self.first_row = Some(self.rows);
                self.first_column = first_column;
            }
            self.first_column = self.first_column.min(first_column);
            self.columns_end = self.columns_end.max(row.columns_end);
            self.rows_end = end;
        }
        self.rows = end;
    }
}

fn is_cell(e: &BytesStart<'_>) -> bool {
    matches!(
        e.name().as_ref(),
        "table:table-cell" | "table:covered-table-cell"
    )
}

/// Whether a cell's attributes give it a value or a formula.
fn has_value(e: &BytesStart<'_>) -> bool {
    e.attributes().flatten().any(|a| {
        matches!(
            a.key.as_ref(),
            "office:value"
                | "office:string-value"
                | "office:date-value"
                | "office:time-value"
                | "office:boolean-value"
                | "table:formula"
        )
    })
}

/// A repeat count attribute (1 when absent or unreadable, as calamine reads it).
fn repeats(e: &BytesStart<'_>, name: &str) -> u64 {
    attribute(e, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
    Some(e.try_get_attribute(name).ok().flatten()?.value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(rows: &str) -> Vec<(String, u64)> {
        let xml = format!(
            r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="S">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        scan(xml.as_bytes())
    }

    const VALUE: &str =
        r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;

    #[test]
    fn plain_rows_span_their_cells() {
        let row = format!("<table:table-row>{VALUE}{VALUE}{VALUE}</table:table-row>");
        assert_eq!(spans(&row.repeat(4)), vec![("S".to_owned(), 12)]);
    }

    #[test]
    fn trailing_empty_runs_cost_nothing() {
        let rows = format!(
            r#"<table:table-row>{VALUE}<table:table-cell table:number-columns-repeated="1020"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
        );
        assert_eq!(spans(&rows), vec![("S".to_owned(), 1)]);
    }

    #[test]
    fn repeated_runs_between_values_are_counted() {
        // A run of a million empty rows, then a value 90 columns in: 1,000,002 rows × 91.
        let rows = format!(
            r#"<table:table-row>{VALUE}</table:table-row><table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="90"/>{VALUE}</table:table-row>"#
        );
        assert_eq!(spans(&rows), vec![("S".to_owned(), 1_000_002 * 91)]);
        let wide = r#"<table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16000" office:value-type="float" office:value="1"/></table:table-row>"#;
        assert_eq!(spans(wide), vec![("S".to_owned(), 6000 * 16000)]);
    }

    #[test]
    fn counts_are_capped_as_calamine_caps_them() {
        let huge = r#"<table:table-row table:number-rows-repeated="99999999999"><table:table-cell table:number-columns-repeated="99999999" office:value="1"/></table:table-row>"#;
        assert_eq!(spans(huge), vec![("S".to_owned(), MAX_ROWS * MAX_COLUMNS)]);
    }
}
