//! Scale benchmark (issue 15): a seeded synthetic shop of 100,000 items, 50,000 customers and
//! 1,000,000 purchases, through the whole pipeline: import, LSA embedding, layers, fitting the
//! recommender, every customer's lists, one customer's lists, and `evaluate`. Prints each
//! step's time and the process's peak RSS, against the issue's targets.
//!
//! Run: `cargo bench --bench scale` (options: `--items N`, `--users N`, `--purchases N`,
//! `--skip-evaluate`; `--items 30000` for the one-customer target at 30k items). The memory
//! budget is the default (a quarter of physical memory) unless `STRATA_MEMORY_BUDGET` sets it.
//!
//! The shop: 400 product families, each named by a made-up word (so LSA has something to find)
//! and sized by a Zipf law; an item's title is its family word with two of 300 shared modifier
//! words and a size. A customer has one to three favourite families (chosen by family size)
//! and buys in baskets of 1–4 items on distinct days: 80% from a favourite family, item by
//! popularity within it, 20% from anywhere. Everything comes from one ChaCha8 seed.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use strata::embed::{LsaEmbedder, embed_project, item_text};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, layer_project};
use strata::pipeline::JobContext;
use strata::recommend::{ProfileParams, ProjectRecommender, evaluate_project};
use strata::store::Store;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(name: &str, default: usize) -> usize {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Peak resident set size of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A pronounceable made-up word of `syllables` syllables.
fn word(rng: &mut impl Rng, syllables: usize) -> String {
    const ONSETS: [&str; 16] = [
        "b", "k", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
    (0..syllables)
        .map(|_| {
            format!(
                "{}{}",
                ONSETS[rng.gen_range(0..ONSETS.len())],
                VOWELS[rng.gen_range(0..VOWELS.len())]
            )
        })
        .collect()
}

/// Index drawn from a Zipf-like law over `n` (weight 1 / (rank + 1)), by inverse of the
/// cumulative weights `cumulative`.
fn zipf(rng: &mut impl Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let x = rng.r#gen::<f64>() * total;
    cumulative
        .partition_point(|&c| c < x)
        .min(cumulative.len() - 1)
}

fn cumulative(n: usize) -> Vec<f64> {
    let mut sum = 0.0;
    (0..n)
        .map(|r| {
            sum += 1.0 / (r as f64 + 1.0);
            sum
        })
        .collect()
}

/// Writes the catalogue (`items.csv`) and the purchases (`purchases.csv`) into `dir`.
fn write_shop(dir: &Path, items: usize, users: usize, purchases: usize) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let families = 400.min(items.max(1));
    let family_words: Vec<String> = (0..families).map(|_| word(&mut rng, 3)).collect();
    let modifiers: Vec<String> = (0..300).map(|_| word(&mut rng, 2)).collect();
    let sizes = ["S", "M", "L", "XL", "one size"];
    // Family sizes by a Zipf law; every family has at least one item.
    let family_weight = cumulative(families);
    let mut family_items: Vec<Vec<usize>> = (0..families).map(|f| vec![f]).collect();
    for item in families..items {
        family_items[zipf(&mut rng, &family_weight)].push(item);
    }
    let mut family_of = vec![0usize; items];
    for (f, members) in family_items.iter().enumerate() {
        for &i in members {
            family_of[i] = f;
        }
    }
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(dir.join("items.csv")).expect("create items.csv"),
    );
    writeln!(out, "item_id,title").expect("write the shop");
    for (item, &family) in family_of.iter().enumerate() {
        writeln!(
            out,
            "I{item},{} {} {} {}",
            modifiers[rng.gen_range(0..modifiers.len())],
            family_words[family],
            modifiers[rng.gen_range(0..modifiers.len())],
            sizes[rng.gen_range(0..sizes.len())]
        )
        .expect("write the shop");
    }
    out.flush().expect("write the shop");
    let within: Vec<Vec<f64>> = family_items.iter().map(|m| cumulative(m.len())).collect();
    let everything = cumulative(items);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(dir.join("purchases.csv")).expect("create purchases.csv"),
    );
    writeln!(out, "user_id,item_id,timestamp").expect("write the shop");
    let per_user = purchases / users.max(1);
    let mut written = 0;
    for user in 0..users {
        let favourites: Vec<usize> = (0..rng.gen_range(1..=3))
            .map(|_| zipf(&mut rng, &family_weight))
            .collect();
        // The last customer takes what is left, so the file holds exactly `purchases`.
        let left = purchases.saturating_sub(written);
        let wanted = if user + 1 == users {
            left
        } else {
            rng.gen_range(per_user / 4..=per_user * 7 / 4)
                .max(2)
                .min(left)
        };
        let mut day = 19_000 + rng.gen_range(0..60);
        let mut bought = 0;
        while bought < wanted {
            day += rng.gen_range(1..20);
            for _ in 0..rng.gen_range(1..=4usize).min(wanted - bought) {
                let item = if rng.gen_range(0..10) < 8 {
                    let f = favourites[rng.gen_range(0..favourites.len())];
                    family_items[f][zipf(&mut rng, &within[f])]
                } else {
                    zipf(&mut rng, &everything)
                };
                writeln!(out, "U{user},I{item},{}", day * 86_400).expect("write the shop");
                bought += 1;
            }
        }
        written += bought;
    }
    out.flush().expect("write the shop");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale benchmark: run it with `cargo bench --bench scale`");
        return;
    }
    let items = number("--items", 100_000);
    let users = number("--users", 50_000);
    let purchases = number("--purchases", 1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    write_shop(dir.path(), items, users, purchases);
    println!(
        "scale: {items} items, {users} customers, {purchases} purchases (generated in {:.1} s, not timed below)",
        started.elapsed().as_secs_f64()
    );
    let silent = JobContext::silent();
    let whole = Instant::now();
    let step = |name: &str, started: Instant| {
        println!(
            "  {name:<28} {:>8.1} s   peak RSS {:>6.0} MiB",
            started.elapsed().as_secs_f64(),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    };

    let t = Instant::now();
    let mut store = Store::open(dir.path().join("shop.strata")).expect("project");
    for (kind, file) in [
        (ImportKind::Items, "items.csv"),
        (ImportKind::Interactions, "purchases.csv"),
    ] {
        run_import(
            &mut store,
            &ImportRequest::new(kind, dir.path().join(file)),
            &silent,
        )
        .expect("import");
    }
    step("import", t);

    let t = Instant::now();
    let texts: Vec<String> = store
        .items()
        .expect("items")
        .iter()
        .map(item_text)
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).expect("LSA");
    drop(refs);
    drop(texts);
    embed_project(&mut store, &lsa, 256, &silent).expect("embed");
    step("LSA embedding", t);

    let t = Instant::now();
    layer_project(&mut store, &LayerParams::default(), &silent).expect("layers");
    step("layers", t);

    let t = Instant::now();
    let recommender =
        ProjectRecommender::load(&store, ProfileParams::default(), 5).expect("recommender");
    let fit = t.elapsed().as_secs_f64();
    step("load + fit", t);
    let t = Instant::now();
    let one = recommender.lists(0);
    assert!(!one.merged.is_empty(), "no list for the first customer");
    step("one customer's lists", t);
    println!(
        "  one customer's lists, fit included: {:.1} s (target < 10 s at 30k items)",
        fit + t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let all = recommender.for_all();
    let lists = t.elapsed().as_secs_f64();
    step(&format!("all {} customers' lists", all.len()), t);
    println!("  fit + all lists: {:.1} s (target < 60 s)", fit + lists);
    drop((all, recommender));

    if !std::env::args().any(|a| a == "--skip-evaluate") {
        let t = Instant::now();
        let evaluation =
            evaluate_project(&mut store, &ProfileParams::default(), &silent).expect("evaluate");
        step("evaluate (target < 600 s)", t);
        for (method, m) in &evaluation.methods {
            println!("    {:<10} NDCG@10 {:.4}", method.name(), m.ndcg);
        }
        for note in &evaluation.notes {
            println!("    note: {note}");
        }
        let versus = &evaluation.versus_best_baseline;
        println!(
            "    strata minus {}: {:+.4} ± {:.4}; mix global {} + local {}; tuning users {:?}",
            versus.baseline,
            versus.ndcg_difference,
            versus.standard_error,
            evaluation.tuned.mix.global,
            evaluation.tuned.mix.local,
            evaluation.tuning_users
        );
    }
    println!(
        "whole pipeline {:.1} s (target < 900 s); peak RSS {:.0} MiB (target < 2048 MiB)",
        whole.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}
