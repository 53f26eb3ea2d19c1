//! Fuzzes what a user's file meets first: layout detection, decoding (gzip, encodings,
//! workbooks) and every importer, through the entry a dry run uses (`check_import`), and the
//! import wizard's preview. The case format is in `fuzz/case.rs`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../case.rs"]
mod case;

/// A folder of this process's own for the case's files.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("strata-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    case::run(data, scratch()).expect("the scratch folder is writable");
});
