//! Import benchmark (issue #2): the whole Online Retail orders export into a
//! fresh project, side by side with the pandas peer (`read_csv` + `to_sql`)
//! in the same run, alternating, on the same file.
//!
//! Run: `cargo bench --bench import` (needs python3 with pandas for the peer:
//! `pip install pandas`). Options: `--rounds N`, `--orders FILE`, `--peer FILE`.
//! Prints each round, the medians, the ratio and Strata's peak RSS.
//!
//! Then the platform layouts (issue 14), against their targets: a 500,000-line Shopify orders
//! export (under 2 s) and a 100,000-row xlsx catalogue (under 5 s), both generated here from a
//! seed (`--lines N`, `--xlsx-rows N`; `--only layouts` skips the pandas comparison).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rand::{Rng, SeedableRng};
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
    if arg("--only").as_deref() != Some("layouts") {
        compare_with_pandas(&orders, &peer, rounds, dir.path());
    }
    layouts(rounds, dir.path());
}

fn compare_with_pandas(orders: &Path, peer: &Path, rounds: usize, dir: &Path) {
    println!(
        "import benchmark: {} ({} rounds, alternating)",
        orders.display(),
        rounds
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let s = run_strata(orders, dir, round);
        let p = if peer.is_file() {
            run_peer(peer, orders, dir, round)
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

/// Times Strata on generated platform exports: a Shopify orders export and an xlsx catalogue.
fn layouts(rounds: usize, dir: &Path) {
    let lines: usize = arg("--lines")
        .and_then(|r| r.parse().ok())
        .unwrap_or(500_000);
    let rows: usize = arg("--xlsx-rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    let shopify = dir.join("shopify_orders.csv");
    let bytes = write_shopify_orders(&shopify, lines);
    let workbook = dir.join("catalogue.xlsx");
    write_xlsx_catalogue(&workbook, rows);
    println!(
        "layouts: {lines} Shopify order lines ({:.0} MB), {rows}-row xlsx catalogue",
        bytes as f64 / 1e6
    );
    let time = |kind: ImportKind, path: &Path, round: usize| {
        let project = dir.join(format!("layout-{}-{round}.strata", kind.name()));
        let started = Instant::now();
        let mut store = Store::open(&project).expect("open project");
        let report = run_import(
            &mut store,
            &ImportRequest::new(kind, path),
            &JobContext::silent(),
        )
        .expect("import");
        (started.elapsed().as_secs_f64(), report)
    };
    let (mut orders, mut sheets) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (o, report) = time(ImportKind::Auto, &shopify, round);
        let (x, sheet) = time(ImportKind::Items, &workbook, round);
        println!(
            "  round {round}: shopify {o:.3} s ({} events, {} skipped)   xlsx {x:.3} s ({} items)",
            report.interactions_imported,
            report.skipped_total(),
            sheet.items_imported
        );
        orders.push(o);
        sheets.push(x);
    }
    println!("shopify median {:.3} s (target < 2 s)", median(orders));
    println!("xlsx    median {:.3} s (target < 5 s)", median(sheets));
}

/// A Shopify orders export of `lines` line items (orders of 1–4 lines; order-level fields on
/// each order's first row only; 3% cancelled, 2% refunded), seeded. Returns its size in bytes.
fn write_shopify_orders(path: &Path, lines: usize) -> u64 {
    const HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References";
    let columns: Vec<&str> = HEADER.split(',').collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .expect("a Shopify column")
    };
    let (
        name_c,
        email_c,
        status_c,
        paid_c,
        created_c,
        qty_c,
        line_c,
        price_c,
        sku_c,
        cancelled_c,
        billing_c,
        pay_c,
    ) = (
        at("Name"),
        at("Email"),
        at("Financial Status"),
        at("Paid at"),
        at("Created at"),
        at("Lineitem quantity"),
        at("Lineitem name"),
        at("Lineitem price"),
        at("Lineitem sku"),
        at("Cancelled at"),
        at("Billing Name"),
        at("Payment Method"),
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let mut out = String::with_capacity(lines * 200);
    out.push_str(HEADER);
    out.push('\n');
    let (mut written, mut order) = (0usize, 1000usize);
    let sizes = ["S", "M", "L", "XL"];
    let mut row = vec![String::new(); columns.len()];
    while written < lines {
        order += 1;
        let customer = rng.gen_range(0..40_000);
        let refunded = rng.gen_range(0..100) < 2;
        let cancelled = rng.gen_range(0..100) < 3;
        let created = format!(
            "2024-03-{:02} {:02}:{:02}:00 -0500",
            rng.gen_range(1..=28),
            rng.gen_range(0..24),
            rng.gen_range(0..60)
        );
        for line in 0..rng.gen_range(1..=4usize).min(lines - written) {
            row.iter_mut().for_each(String::clear);
            let product = rng.gen_range(0..5_000);
            let size = sizes[rng.gen_range(0..sizes.len())];
            row[name_c] = format!("#{order}");
            row[qty_c] = rng.gen_range(1..=3).to_string();
            row[line_c] = format!("Product {product} - {size}");
            row[price_c] = "20.00".into();
            row[sku_c] = format!("P{product}-{size}");
            if line == 0 {
                row[email_c] = format!("c{customer}@example.com");
                row[status_c] = if refunded { "refunded" } else { "paid" }.into();
                row[paid_c] = created.clone();
                row[created_c] = created.clone();
                row[billing_c] = format!("Buyer {customer}");
                row[pay_c] = "Shopify Payments".into();
                if cancelled {
                    row[cancelled_c] = created.clone();
                }
            }
            out.push_str(&row.join(","));
            out.push('\n');
            written += 1;
        }
    }
    std::fs::write(path, &out).expect("write the Shopify file");
    out.len() as u64
}

/// A one-sheet xlsx catalogue (id, title, description, category; inline strings), written with
/// the zip crate: the layout Excel itself writes, without a spreadsheet library.
fn write_xlsx_catalogue(path: &Path, rows: usize) {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("create the workbook");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    let mut part = |name: &str, text: &str| {
        zip.start_file(name, options).expect("zip part");
        zip.write_all(text.as_bytes()).expect("zip write");
    };
    part(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Catalogue" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
    );
    let mut sheet = String::with_capacity(rows * 300);
    sheet.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    let cell = |sheet: &mut String, text: &str| {
        sheet.push_str(r#"<c t="inlineStr"><is><t>"#);
        sheet.push_str(text);
        sheet.push_str("</t></is></c>");
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    for row in 0..=rows {
        sheet.push_str("<row>");
        if row == 0 {
            for h in ["item_id", "title", "description", "category"] {
                cell(&mut sheet, h);
            }
        } else {
            sheet.push_str(&format!("<c><v>{}</v></c>", 100_000 + row));
            cell(&mut sheet, &format!("Product {row}"));
            cell(
                &mut sheet,
                &format!(
                    "A sturdy thing, model {}, in {} colours",
                    rng.gen_range(0..999),
                    rng.gen_range(1..9)
                ),
            );
            cell(
                &mut sheet,
                ["Kitchen", "Garden", "Toys", "Books"][rng.gen_range(0..4)],
            );
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    part("xl/worksheets/sheet1.xml", &sheet);
    zip.finish().expect("finish the workbook");
}
