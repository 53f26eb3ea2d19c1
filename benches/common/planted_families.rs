//! Generated catalogues of planted product families (issue 16): the automatic k is judged by
//! how well the layers recover them. Shared by `tests/layers.rs` and `benches/planted.rs`.

/// A seeded catalogue of `families` product families (30–60 titles each, drawn from each
/// family's own modifiers and products, a quarter of them with a shared word such as "new" or
/// "gift set"): the titles and each one's family.
pub fn planted_families(seed: u64, families: usize) -> (Vec<String>, Vec<usize>) {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    const FAMILIES: [(&[&str], &[&str]); 8] = [
        (
            &[
                "espresso",
                "pour-over",
                "drip",
                "cold brew",
                "french press",
                "arabica",
                "ceramic",
            ],
            &[
                "coffee grinder",
                "coffee beans",
                "coffee filter",
                "coffee mug",
                "milk frother",
                "coffee kettle",
                "coffee scale",
                "espresso cup",
            ],
        ),
        (
            &[
                "leather",
                "training",
                "match",
                "junior",
                "pro",
                "goalkeeper",
                "indoor",
            ],
            &[
                "football",
                "football boots",
                "shin guards",
                "goalkeeper gloves",
                "football jersey",
                "training cones",
                "football socks",
                "goal net",
            ],
        ),
        (
            &[
                "beginner",
                "advanced",
                "practical",
                "data science",
                "web",
                "automation",
                "async",
            ],
            &[
                "python book",
                "python course",
                "python cookbook",
                "python workbook",
                "python reference",
                "python exercises",
            ],
        ),
        (
            &[
                "newborn",
                "organic cotton",
                "soft",
                "toddler",
                "infant",
                "hypoallergenic",
            ],
            &[
                "baby bottle",
                "baby blanket",
                "baby bib",
                "baby rattle",
                "baby onesie",
                "pacifier",
                "nappy bag",
                "baby wipes",
            ],
        ),
        (
            &[
                "stainless",
                "heavy duty",
                "ergonomic",
                "compact",
                "outdoor",
                "raised bed",
            ],
            &[
                "garden trowel",
                "pruning shears",
                "garden hose",
                "watering can",
                "flower pots",
                "garden gloves",
                "seed trays",
                "compost bin",
            ],
        ),
        (
            &[
                "non-slip",
                "eco",
                "travel",
                "cork",
                "extra thick",
                "beginner",
            ],
            &[
                "yoga mat",
                "yoga block",
                "yoga strap",
                "meditation cushion",
                "yoga towel",
                "yoga leggings",
                "yoga wheel",
            ],
        ),
        (
            &[
                "lightweight",
                "waterproof",
                "four season",
                "ultralight",
                "family",
                "solar",
            ],
            &[
                "camping tent",
                "sleeping bag",
                "camping stove",
                "headlamp",
                "camping lantern",
                "trekking poles",
                "camping chair",
                "water filter",
            ],
        ),
        (
            &[
                "merino",
                "chunky",
                "pastel",
                "bamboo",
                "hand-dyed",
                "alpaca",
            ],
            &[
                "knitting yarn",
                "knitting needles",
                "crochet hook",
                "knitting pattern",
                "stitch markers",
                "yarn bowl",
                "knitting kit",
            ],
        ),
    ];
    const SHARED_BEFORE: [&str; 3] = ["new", "classic", "premium"];
    const SHARED_AFTER: [&str; 2] = ["set of 2", "gift set"];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..FAMILIES.len()).collect();
    order.shuffle(&mut rng);
    let mut titles = Vec::new();
    let mut truth = Vec::new();
    for (family, &f) in order[..families].iter().enumerate() {
        let (modifiers, products) = FAMILIES[f];
        let size = rng.gen_range(30..=60);
        let mut seen = std::collections::HashSet::new();
        while seen.len() < size {
            let mut words = Vec::new();
            if rng.gen_bool(0.25) {
                words.push(*SHARED_BEFORE.choose(&mut rng).expect("a family has words"));
            }
            words.push(*modifiers.choose(&mut rng).expect("a family has words"));
            words.push(*products.choose(&mut rng).expect("a family has words"));
            if rng.gen_bool(0.25) {
                words.push(*SHARED_AFTER.choose(&mut rng).expect("a family has words"));
            }
            let title = words.join(" ");
            if seen.insert(title.clone()) {
                titles.push(title);
                truth.push(family);
            }
        }
    }
    (titles, truth)
}
