//! Layer names by class-based TF-IDF (c-TF-IDF, as in BERTopic): all items of a cluster form
//! one document, and a word scores by its frequency in that cluster times how rare it is
//! across the whole catalogue. The top words name the cluster.

use std::collections::HashMap;

use crate::text::words;

/// Words per name.
pub const NAME_WORDS: usize = 4;

/// The top `NAME_WORDS` words of each of `k` clusters, given each item's text and cluster.
pub fn cluster_names(texts: &[&str], labels: &[usize], k: usize) -> Vec<Vec<String>> {
    let mut counts: Vec<HashMap<String, f64>> = vec![HashMap::new(); k];
    let mut totals = vec![0f64; k];
    let mut overall: HashMap<String, f64> = HashMap::new();
    for (text, &label) in texts.iter().zip(labels) {
        // A word counts once per item: a title repeating a word says no more about the layer.
        let mut item_words = words(text);
        item_words.sort_unstable();
        item_words.dedup();
        for word in item_words {
            *counts[label].entry(word.clone()).or_default() += 1.0;
            *overall.entry(word).or_default() += 1.0;
            totals[label] += 1.0;
        }
    }
    let average = totals.iter().sum::<f64>() / k.max(1) as f64;
    counts
        .iter()
        .zip(&totals)
        .map(|(cluster, &total)| {
            let mut scored: Vec<(f64, &String)> = cluster
                .iter()
                .map(|(word, &count)| {
                    let tf = count / total.max(1.0);
                    let idf = (1.0 + average / overall[word]).ln();
                    (tf * idf, word)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            scored
                .into_iter()
                .take(NAME_WORDS)
                .map(|(_, w)| w.clone())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_words_that_set_a_cluster_apart() {
        let texts = [
            "christmas tree bauble",
            "christmas lights red",
            "red christmas star",
            "tea cup red",
            "tea pot",
            "ceramic tea cup",
        ];
        let names = cluster_names(&texts, &[0, 0, 0, 1, 1, 1], 2);
        assert_eq!(names[0][0], "christmas");
        assert_eq!(names[1][0], "tea");
        assert!(!names[1].contains(&"christmas".to_owned()));
        let zh = cluster_names(
            &["运动鞋 男款", "运动鞋 女款", "紫砂 茶壶", "茶壶 茶杯"],
            &[0, 0, 1, 1],
            2,
        );
        assert_eq!(zh[0][0], "运动鞋");
        assert_eq!(zh[1][0], "茶壶");
    }
}
