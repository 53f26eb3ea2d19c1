//! A seeded synthetic shop for the scale benchmark and its CI test (issue 15).
//!
//! 400 product families (fewer for small catalogues), each named by a made-up word (so LSA has
//! something to find) and sized by a Zipf law; an item's title is its family word with two of
//! 300 shared modifier words and a size. A customer has one to three favourite families (chosen
//! by family size) and buys in baskets of 1–4 items on distinct days: 80% from a favourite
//! family, item by popularity within it, 20% from anywhere. Everything comes from one ChaCha8
//! seed; `items.csv` (item_id, title) and `purchases.csv` (user_id, item_id, timestamp) are
//! written into the folder given.

use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};

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
pub fn write_shop(dir: &Path, items: usize, users: usize, purchases: usize) {
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
