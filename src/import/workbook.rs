//! Excel and OpenDocument workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), read with
//! calamine: one sheet becomes the same text table a CSV file does, so every importer reads
//! both. A line number is the sheet's row number; dates stored as Excel serial numbers are
//! written as `YYYY-MM-DD HH:MM:SS`; whole numbers lose spreadsheets' `.0`.

use std::path::Path;

use calamine::{Data, Reader};

use super::ImportError;

/// The file extensions read as workbooks (for file dialogs).
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether a file's first bytes are a workbook's: a zip archive (`.xlsx`, `.ods`) or an
/// OLE compound document (`.xls`).
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// Most cells a sheet may span (its used rows × columns) before it is refused: a sheet is
/// held in memory whole, and a few cells at the far corner of an empty sheet would ask for
/// billions.
const MAX_CELLS: u64 = 50_000_000;
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
    if is_encrypted_ooxml(&bytes) {
        return Err(format_err(PASSWORD_ADVICE.into()));
    }
    check_unpacked_size(&bytes).map_err(format_err)?;
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
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| format_err(format!("sheet '{name}': {}", describe(&e))))?;
    let (height, width) = range.get_size();
    if height as u64 * width as u64 > MAX_CELLS {
        return Err(format_err(format!(
            "sheet '{name}' spans {height} rows × {width} columns, over the {MAX_CELLS} cells Strata reads at once; delete its empty rows and columns or save the data as CSV"
        )));
    }
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    // Blank lines for the rows above the used range keep line numbers equal to row numbers;
    // the CSV reader passes over blank lines as it does in a CSV file.
    let mut text = "\n".repeat(first_row);
    for row in range.rows() {
        let mut first = true;
        for cell in row {
            if !first {
                text.push(',');
            }
            first = false;
            push_field(&mut text, &cell_text(cell));
        }
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            // A row of empty cells is a blank line, not a row of empty fields.
            let start = text.rfind('\n').map_or(0, |at| at + 1);
            text.truncate(start);
        }
        text.push('\n');
    }
    Ok(text)
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

/// Whether `bytes` are a password-protected `.xlsx`: Excel wraps the encrypted workbook in an
/// OLE compound document holding an `EncryptedPackage` stream.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
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
