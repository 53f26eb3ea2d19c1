//! Excel and OpenDocument workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), read with
//! calamine: one sheet becomes the same text table a CSV file does, so every importer reads
//! both. A line number is the sheet's row number; dates stored as Excel serial numbers are
//! written as `YYYY-MM-DD HH:MM:SS`; whole numbers lose spreadsheets' `.0`.

use std::path::Path;

use calamine::{Data, Reader};

use super::ImportError;

mod ods;

/// The file extensions read as workbooks (for file dialogs).
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether a file's first bytes are a workbook's: a zip archive (`.xlsx`, `.ods`) or an
/// OLE compound document (`.xls`).
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&OLE)
}

/// Most non-empty cells an `.xlsx` or `.xlsb` sheet may hold (they are held in memory whole,
/// about 40 bytes each); these are read cell by cell, so empty cells cost nothing.
const MAX_CELLS: u64 = 50_000_000;
/// Most cells of the rectangle an `.ods` or `.xls` sheet is read as, empty ones included:
/// calamine holds each as a value and a formula (about 56 bytes), so this is about 560 MB.
const MAX_RECTANGLE_CELLS: u64 = 10_000_000;
/// Most bytes a workbook's parts may unpack to (a zip bomb renamed `.xlsx` unpacks to terabytes).
const MAX_UNPACKED_BYTES: u64 = 2 << 30;

/// The text of one sheet (`sheet`, else the first) of the workbook `bytes` read from `path`,
/// as CSV, one line per sheet row.
pub fn sheet_as_csv(
    path: &Path,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<String, ImportError> {
    let format_err = |reason: String| ImportError::Format {
        path: path.to_path_buf(),
        line: None,
        reason,
    };
    // Workbook formats are intricate and a damaged file can reach a reader's corner that
    // panics: that is one more unreadable workbook, not the end of the import's thread.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheet(bytes, sheet, &format_err)
    }))
    .unwrap_or_else(|_| {
        Err(format_err(
            "the workbook is damaged (its reader stopped on it): open it in Excel or LibreOffice and save it again, or save it as CSV UTF-8".into(),
        ))
    })
}

fn read_sheet(
    bytes: Vec<u8>,
    sheet: Option<&str>,
    format_err: &dyn Fn(String) -> ImportError,
) -> Result<String, ImportError> {
    if is_encrypted_ooxml(&bytes) {
        return Err(format_err(PASSWORD_ADVICE.into()));
    }
    check_unpacked_size(&bytes).map_err(format_err)?;
    check_compound_file(&bytes).map_err(format_err)?;
    // An .ods writes repeated rows and cells once with a count, which calamine expands into
    // rectangles, every sheet's as it opens the file: they are sized before that is paid for.
    let ods_spans = ods::sheet_spans(&bytes);
    if let Some((name, _)) = ods_spans
        .iter()
        .find(|(_, cells)| *cells > MAX_RECTANGLE_CELLS)
    {
        return Err(format_err(too_many_cells(name, MAX_RECTANGLE_CELLS)));
    }
    if ods_spans.iter().map(|(_, cells)| cells).sum::<u64>() > MAX_RECTANGLE_CELLS {
        return Err(format_err(format!(
            "the workbook's sheets span more than {MAX_RECTANGLE_CELLS} cells together, more than Strata reads at once (an .ods is read whole as it opens); save the sheet you want as CSV"
        )));
    }
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format_err(describe(&e)))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted || n.eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or_else(|| {
                format_err(format!(
                    "the workbook has no sheet '{wanted}' (its sheets: {})",
                    names.join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| format_err("the workbook has no sheets".into()))?,
    };
    match &mut workbook {
        // An xlsx or xlsb is read cell by cell: a cell at the far corner of an empty sheet
        // costs one cell, not the billions a whole rectangle would.
        calamine::Sheets::Xlsx(xlsx) => {
            let sheet_err = |e: calamine::XlsxError| {
                format_err(format!(
                    "sheet '{name}': {}",
                    describe(&calamine::Error::Xlsx(e))
                ))
            };
            let mut reader = xlsx.worksheet_cells_reader(&name).map_err(sheet_err)?;
            let cells = collect_cells(
                || reader.next_cell().map_err(sheet_err),
                || format_err(too_many_cells(&name, MAX_CELLS)),
            )?;
            Ok(cells_as_csv(cells))
        }
        calamine::Sheets::Xlsb(xlsb) => {
            let sheet_err = |e: calamine::XlsbError| {
                format_err(format!(
                    "sheet '{name}': {}",
                    describe(&calamine::Error::Xlsb(e))
                ))
            };
            let mut reader = xlsb.worksheet_cells_reader(&name).map_err(sheet_err)?;
            let cells = collect_cells(
                || reader.next_cell().map_err(sheet_err),
                || format_err(too_many_cells(&name, MAX_CELLS)),
            )?;
            Ok(cells_as_csv(cells))
        }
        other => {
            let range = other
                .worksheet_range(&name)
                .map_err(|e| format_err(format!("sheet '{name}': {}", describe(&e))))?;
            let (height, width) = range.get_size();
            if height as u64 * width as u64 > MAX_RECTANGLE_CELLS {
                return Err(format_err(too_many_cells(&name, MAX_RECTANGLE_CELLS)));
            }
            let first_row = range.start().map_or(0, |(row, _)| row as usize);
            let cells = range
                .cells()
                .filter(|(_, _, cell)| !matches!(cell, Data::Empty))
                .map(|(row, column, cell)| ((first_row + row) as u32, column as u32, cell.clone()))
                .collect();
            Ok(cells_as_csv(cells))
        }
    }
}

/// The non-empty cells a cell reader yields, refused (`too_many`) past [`MAX_CELLS`].
fn collect_cells<'a>(
    mut next_cell: impl FnMut() -> Result<Option<calamine::Cell<calamine::DataRef<'a>>>, ImportError>,
    too_many: impl FnOnce() -> ImportError,
) -> Result<Vec<(u32, u32, Data)>, ImportError> {
    let mut cells = Vec::new();
    while let Some(cell) = next_cell()? {
        let (row, column) = cell.get_position();
        let value = Data::from(cell.get_value().clone());
        if matches!(value, Data::Empty) {
            continue;
        }
        if cells.len() as u64 >= MAX_CELLS {
            return Err(too_many());
        }
        cells.push((row, column, value));
    }
    Ok(cells)
}

/// Cells (row, column, value; 0-based) as CSV text: one line per sheet row from the first, so
/// line numbers are row numbers (rows without cells are blank lines, which the CSV reader
/// passes over as in a CSV file), every row as wide as the used columns.
fn cells_as_csv(mut cells: Vec<(u32, u32, Data)>) -> String {
    cells.sort_by_key(|&(row, column, _)| (row, column));
    let first_column = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let last_column = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let width = (last_column - first_column + 1) as usize;
    let mut text = String::new();
    let mut at = 0usize;
    let mut row_now = 0u32;
    while at < cells.len() {
        let row = cells[at].0;
        for _ in row_now..row {
            text.push('\n');
        }
        let mut fields = vec![String::new(); width];
        while at < cells.len() && cells[at].0 == row {
            fields[(cells[at].1 - first_column) as usize] = cell_text(&cells[at].2);
            at += 1;
        }
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            push_field(&mut text, field);
        }
        text.push('\n');
        row_now = row + 1;
    }
    text
}

/// Appends one CSV field, quoted when it holds a comma or a quote.
fn push_field(text: &mut String, field: &str) {
    if field.contains([',', '"']) {
        text.push('"');
        text.push_str(&field.replace('"', "\"\""));
        text.push('"');
    } else {
        text.push_str(field);
    }
}

fn too_many_cells(sheet: &str, most: u64) -> String {
    format!(
        "sheet '{sheet}' holds more than {most} cells, more than Strata reads at once; save the data as CSV"
    )
}

/// A cell as text: dates as `YYYY-MM-DD HH:MM:SS`, whole numbers without `.0`, and line
/// breaks inside a cell as spaces (so each row stays one line).
fn cell_text(cell: &Data) -> String {
    let text = match cell {
        Data::Empty => return String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => dt.as_f64().to_string(),
        },
        Data::Error(_) => return String::new(),
        other => other.to_string(),
    };
    if text.contains(['\n', '\r']) {
        text.replace("\r\n", " ").replace(['\n', '\r'], " ")
    } else {
        text
    }
}

const PASSWORD_ADVICE: &str = "the workbook is protected by a password; open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and save it again";

/// The first bytes of an OLE compound document (an `.xls`, or an encrypted `.xlsx`).
const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether `bytes` are a password-protected `.xlsx`: Excel wraps the encrypted workbook in an
/// OLE compound document holding an `EncryptedPackage` stream.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.starts_with(&OLE) && bytes.windows(name.len()).any(|w| w == name.as_slice())
}

/// What went wrong opening a workbook, in words a user can act on.
fn describe(e: &calamine::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        PASSWORD_ADVICE.into()
    } else {
        format!(
            "the Excel workbook cannot be read ({text}): is it damaged? Open it in Excel or LibreOffice and save it again, or save it as CSV UTF-8"
        )
    }
}

/// Refuses an `.xls` whose compound-document structure is damaged: a chain of sectors that
/// loops back on itself would send calamine round it until memory runs out (found by
/// fuzzing). The `cfb` crate checks every chain as it opens the file.
fn check_compound_file(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(&OLE) {
        return Ok(());
    }
    match cfb::CompoundFile::open(std::io::Cursor::new(bytes)) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "the Excel workbook cannot be read (its structure is damaged: {e}): open it in Excel or LibreOffice and save it again, or save it as CSV UTF-8"
        )),
    }
}

/// Refuses a zip-based workbook whose parts would unpack to more than [`MAX_UNPACKED_BYTES`].
fn check_unpacked_size(bytes: &[u8]) -> Result<(), String> {
    // Not a zip (an .xls is a compound document): calamine reads it as it is.
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(i) else {
            continue;
        };
        total = total.saturating_add(entry.size());
        if total > MAX_UNPACKED_BYTES {
            return Err(format!(
                "the workbook unpacks to more than {} GiB (a zip bomb?); Strata does not open it",
                MAX_UNPACKED_BYTES >> 30
            ));
        }
    }
    Ok(())
}
