//! CSV exports people open in spreadsheets: UTF-8 (optionally with a BOM, which Excel needs to
//! read UTF-8), quotes and newlines escaped by the csv crate, and text cells that a spreadsheet
//! would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed
//! with `'` (OWASP's advice against CSV injection). Numbers are written as numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

mod project;

pub use project::{
    ProjectExportError, RECOMMENDATION_HEADER, write_item_layers, write_layer_list,
    write_recommendations,
};

/// One cell of an export row.
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
}

/// Why an export failed, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ExportError {
    pub path: PathBuf,
    pub reason: String,
}

impl crate::pipeline::JobError for ExportError {}

/// The text as it goes into a cell: formula-like text gets a leading `'`.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// Writes `header` and `rows` to `path` (replaced whole: written to a temporary file next to
/// it, then renamed, so a failed export never leaves half a file).
pub fn write_csv<'a>(
    path: &Path,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell<'a>>>,
    bom: bool,
) -> Result<u64, ExportError> {
    let err = |reason: String| ExportError {
        path: path.to_path_buf(),
        reason,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| err(e.to_string()))?;
    if bom {
        temp.write_all(b"\xEF\xBB\xBF")
            .map_err(|e| err(e.to_string()))?;
    }
    let mut count = 0;
    {
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(temp.as_file_mut()));
        writer
            .write_record(header)
            .map_err(|e| err(e.to_string()))?;
        for row in rows {
            let fields: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Cell::Text(t) => neutralise(t).into_owned(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Float(f) => format!("{f}"),
                })
                .collect();
            writer
                .write_record(&fields)
                .map_err(|e| err(e.to_string()))?;
            count += 1;
        }
        writer.flush().map_err(|e| err(e.to_string()))?;
    }
    temp.persist(path).map_err(|e| err(e.error.to_string()))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_text_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let rows = vec![
            vec![Cell::Text("=HYPERLINK(\"x\")"), Cell::Float(-0.5)],
            vec![Cell::Text("say \"hi\",\nthen 圣诞"), Cell::Int(-3)],
            vec![Cell::Text("-10% off"), Cell::Int(7)],
        ];
        assert_eq!(write_csv(&path, &["text", "n"], rows, true).unwrap(), 3);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFtext,n"));
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(&records[0][0], "'=HYPERLINK(\"x\")");
        assert_eq!(&records[0][1], "-0.5");
        assert_eq!(&records[1][0], "say \"hi\",\nthen 圣诞");
        assert_eq!(&records[2][0], "'-10% off");
    }
}
