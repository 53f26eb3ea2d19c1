//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use strata::import::{
    ColumnOverride, ImportError, ImportKind, ImportReport, ImportRequest, run_import,
};
use strata::pipeline::JobContext;
use strata::store::Store;

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn request(kind: ImportKind, path: impl Into<PathBuf>, overrides: &[&str]) -> ImportRequest {
    ImportRequest {
        kind,
        path: path.into(),
        overrides: overrides
            .iter()
            .map(|o| o.parse::<ColumnOverride>().unwrap())
            .collect(),
        also: Vec::new(),
        options: Default::default(),
    }
}

pub fn import(
    store: &mut Store,
    kind: ImportKind,
    path: impl Into<PathBuf>,
) -> Result<ImportReport, ImportError> {
    run_import(store, &request(kind, path, &[]), &JobContext::silent())
}

/// Every row of every table, in a stable order: two equal dumps mean an unchanged project.
pub fn dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for table in tables {
        // Ordered by every column: WITHOUT ROWID tables have no rowid to order by.
        let n = conn
            .prepare(&format!("SELECT * FROM {table}"))
            .unwrap()
            .column_count();
        let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT * FROM {table} ORDER BY {}",
                order.join(", ")
            ))
            .unwrap();
        let rows = stmt
            .query_map([], |row| {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                    .collect();
                Ok(cells.join("|"))
            })
            .unwrap();
        out.push_str(&table);
        out.push('\n');
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

/// Embeds `store`'s items with the LSA fallback (no model needed), fitted on them all.
pub fn lsa_embedded(store: &mut Store) {
    use strata::embed::{LsaEmbedder, embed_project, item_text};
    let texts: Vec<String> = store.items().unwrap().iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).unwrap();
    embed_project(store, &lsa, 64, &JobContext::silent()).unwrap();
}

/// Embeds `store`'s items with the LSA fallback (no model needed) and makes a layer run.
pub fn layered(store: &mut Store) {
    use strata::layers::{LayerParams, layer_project};
    lsa_embedded(store);
    layer_project(store, &LayerParams::default(), &JobContext::silent()).unwrap();
}

/// The planted-topics catalogue cut in two after its first `rows` rows: `first.csv` and
/// `second.csv` in `dir`, each with the header.
pub fn planted_topics_in_two(dir: &Path, rows: usize) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(data("planted_topics.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let all: Vec<&str> = lines.collect();
    let (first, second) = all.split_at(rows);
    let write = |name: &str, rows: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    (write("first.csv", first), write("second.csv", second))
}

/// Online Retail cut in two by invoice date: everything before `cutoff` (an ISO date, as the
/// file writes its dates) and everything from it on, each with the header.
pub fn split_online_retail(dir: &Path, cutoff: &str) -> (PathBuf, PathBuf) {
    let mut slices = online_retail_slices(dir, &[cutoff]).into_iter();
    (slices.next().unwrap(), slices.next().unwrap())
}

/// Online Retail cut by invoice date at `cutoffs` (ascending ISO dates): `slice-0.csv` holds
/// everything before the first, `slice-i.csv` everything from cutoff i−1 to cutoff i, and the
/// last everything from the last cutoff on; each with the header.
pub fn online_retail_slices(dir: &Path, cutoffs: &[&str]) -> Vec<PathBuf> {
    let file = std::fs::File::open(data("online_retail.csv.gz")).unwrap();
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let header = lines.next().unwrap().unwrap();
    let date_column = header.split(',').position(|c| c == "InvoiceDate").unwrap();
    let paths: Vec<PathBuf> = (0..=cutoffs.len())
        .map(|i| dir.join(format!("slice-{i}.csv")))
        .collect();
    let mut outs: Vec<_> = paths
        .iter()
        .map(|p| {
            let mut out = std::io::BufWriter::new(std::fs::File::create(p).unwrap());
            writeln!(out, "{header}").unwrap();
            out
        })
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(std::io::Cursor::new(Vec::new()));
    for line in lines {
        let line = line.unwrap();
        // Descriptions may hold quoted commas: read the date with a CSV reader.
        *reader.get_mut() = std::io::Cursor::new(line.clone().into_bytes());
        let record = reader.records().next().unwrap().unwrap();
        let slice = cutoffs.partition_point(|&c| c <= &record[date_column]);
        writeln!(outs[slice], "{line}").unwrap();
    }
    for out in &mut outs {
        out.flush().unwrap();
    }
    paths
}
