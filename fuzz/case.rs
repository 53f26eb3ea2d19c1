//! One fuzz case of the import target, shared by the fuzz target and by the regression test
//! that replays its findings (`tests/import_fuzz_findings.rs`).
//!
//! A case's first byte chooses the import: bits 0–2 the kind (0 recognised from the header,
//! 1 items, 2 interactions, 3 orders, 4 a MovieLens folder), bit 3 keep variants, bit 4 a
//! given year (for yearless times), bit 5 the sheet "Sheet2". The rest is the file; a
//! [`NEXT`] marker in it starts a second file imported with the first (a Taobao order report
//! with its item report, a catalogue with its histories, MovieLens' ratings.csv).

use std::path::Path;

use strata::import::{ImportKind, ImportOptions, ImportRequest, check_import, preview};
use strata::pipeline::JobContext;

/// Where one file ends and the next begins.
pub const NEXT: &[u8] = b"\x00NEXT\x00";

/// Writes the case's files into `dir` and reads them as a dry-run import and as the import
/// wizard's preview. An error is a fine answer; a panic, a hang or running out of memory is not.
pub fn run(data: &[u8], dir: &Path) -> std::io::Result<()> {
    let Some((&flags, body)) = data.split_first() else {
        return Ok(());
    };
    let (first, second) = match body.windows(NEXT.len()).position(|w| w == NEXT) {
        Some(at) => (&body[..at], Some(&body[at + NEXT.len()..])),
        None => (body, None),
    };
    let kind = match flags & 7 {
        1 => ImportKind::Items,
        2 => ImportKind::Interactions,
        3 => ImportKind::Orders,
        4 => ImportKind::MovieLens,
        _ => ImportKind::Auto,
    };
    let (path, also) = if kind == ImportKind::MovieLens {
        std::fs::write(dir.join("movies.csv"), first)?;
        std::fs::write(dir.join("ratings.csv"), second.unwrap_or_default())?;
        (dir.to_path_buf(), Vec::new())
    } else {
        let path = dir.join("first.csv");
        std::fs::write(&path, first)?;
        let mut also = Vec::new();
        if let Some(second) = second {
            let path = dir.join("second.csv");
            std::fs::write(&path, second)?;
            also.push(path);
        }
        (path, also)
    };
    let request = ImportRequest {
        kind,
        path: path.clone(),
        also,
        overrides: Vec::new(),
        options: ImportOptions {
            keep_variants: flags & 8 != 0,
            year: (flags & 16 != 0).then_some(2024),
            sheet: (flags & 32 != 0).then(|| "Sheet2".to_owned()),
        },
    };
    let _ = check_import(None, &request, &JobContext::silent());
    let _ = preview(kind, &path, &[], 20);
    Ok(())
}
