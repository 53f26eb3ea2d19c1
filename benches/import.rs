//! Import benchmark (issue #2): the whole Online Retail orders export into a
//! fresh project, side by side with the pandas peer (`read_csv` + `to_sql`)
//! in the same run, alternating, on the same file.
//!
//! Run: `cargo bench --bench import` (needs python3 with pandas for the peer:
//! `pip install pandas`). Options: `--rounds N`, `--orders FILE`, `--peer FILE`.
//! Prints each round, the medians, the ratio and Strata's peak RSS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use strata::import::{ImportKind, ImportRequest, run_import};
use strata::pipeline::JobContext;
use strata::store::Store;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Peak resident set size of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run_strata(orders: &Path, dir: &Path, round: usize) -> f64 {
    let project = dir.join(format!("strata-{round}.strata"));
    let request = ImportRequest {
        kind: ImportKind::Orders,
        path: orders.to_path_buf(),
        overrides: vec![],
        also: Vec::new(),
        options: Default::default(),
    };
    let started = Instant::now();
    let mut store = Store::open(&project).expect("open project");
    let report = run_import(&mut store, &request, &JobContext::silent()).expect("import");
    drop(store);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.rows_read, 541_909, "unexpected input");
    seconds
}

fn run_peer(peer: &Path, orders: &Path, dir: &Path, round: usize) -> Option<f64> {
    let out = Command::new("python3")
        .arg(peer)
        .arg("--orders")
        .arg(orders)
        .arg("--db")
        .arg(dir.join(format!("peer-{round}.sqlite")))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json["seconds"].as_f64()
}

fn main() {
    // `cargo test --all-targets` builds and runs this too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("import benchmark: run it with `cargo bench --bench import`");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let orders = arg("--orders").map_or_else(
        || root.join("tests/data/online_retail.csv.gz"),
        PathBuf::from,
    );
    let peer = arg("--peer").map_or_else(
        || root.join("../shared/peers/import_peer.py"),
        PathBuf::from,
    );
    let rounds: usize = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "import benchmark: {} ({} rounds, alternating)",
        orders.display(),
        rounds
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let s = run_strata(&orders, dir.path(), round);
        let p = if peer.is_file() {
            run_peer(&peer, &orders, dir.path(), round)
        } else {
            None
        };
        println!(
            "  round {round}: strata {s:.3} s   pandas {}",
            p.map_or("n/a".to_owned(), |p| format!("{p:.3} s"))
        );
        ours.push(s);
        theirs.extend(p);
    }
    let s = median(ours);
    println!("strata  median {s:.3} s  ({:.0} rows/s)", 541_909.0 / s);
    if theirs.is_empty() {
        println!(
            "pandas  not run: needs {} and python3 with pandas (pip install pandas)",
            peer.display()
        );
    } else {
        let p = median(theirs);
        println!("pandas  median {p:.3} s  ({:.0} rows/s)", 541_909.0 / p);
        println!(
            "ratio   strata is {:.2}x faster than pandas (target >= 2x)",
            p / s
        );
    }
    match peak_rss_mib() {
        Some(rss) => println!("strata  peak RSS {rss:.0} MiB (target < 500 MiB)"),
        None => println!("strata  peak RSS unavailable on this OS"),
    }
}
