//! Replays the import fuzz target's findings (issue 14): every case in `tests/data/fuzz/`,
//! each a minimised input that once panicked, hung or ran out of memory, is read again
//! through the same entry the fuzz target uses (`fuzz/case.rs`) and must now end in a report
//! or an error.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/case.rs"]
mod case;

use std::path::Path;

#[test]
fn every_fuzz_finding_reads_without_a_panic() {
    let findings = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut cases: Vec<_> = std::fs::read_dir(&findings)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", findings.display());
    for path in cases {
        let dir = tempfile::tempdir().unwrap();
        let data = std::fs::read(&path).unwrap();
        eprintln!("{}", path.display());
        case::run(&data, dir.path()).unwrap();
    }
}
