//! Words of item texts, for the LSA fallback embedder and for naming layers.
//!
//! Latin-script text splits on anything that is not a letter or digit; runs of Chinese
//! characters have no spaces, so they go through jieba's word segmentation. Words are
//! lower-cased, and stop words, single Latin letters and bare numbers are dropped: they say
//! nothing about what an item is.

use std::sync::OnceLock;

use jieba_rs::Jieba;

/// English and Chinese function words, plus catalogue filler ("set", "pack", "of").
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "de", "did", "do", "does", "each", "for", "from", "had", "has", "have",
    "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "la", "le", "more",
    "most", "my", "no", "not", "of", "on", "or", "our", "out", "over", "set", "she", "so", "some",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "up",
    "us", "was", "we", "were", "what", "when", "which", "who", "will", "with", "you", "your", "的",
    "了", "和", "是", "在", "与", "及", "或", "等", "把", "被", "对", "为", "也", "都", "就", "而",
    "之", "其", "这", "那", "个", "中", "上", "下", "我", "你", "他", "她", "它", "们", "有", "不",
    "一", "很", "让", "从", "到", "以",
];

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF)
}

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// Keeps `word` if it carries meaning.
fn keep(word: &str, out: &mut Vec<String>) {
    let word = word.trim();
    let latin_letter = word.chars().count() == 1 && word.is_ascii();
    let number = word.chars().all(|c| c.is_numeric());
    if !word.is_empty() && !latin_letter && !number && !is_stop_word(word) {
        out.push(word.to_owned());
    }
}

/// The meaningful words of `text`, in order, lower-cased.
pub fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut run = String::new();
    let mut run_is_han = false;
    let flush = |run: &mut String, han: bool, out: &mut Vec<String>| {
        if han {
            for token in jieba().cut(run, true) {
                keep(token.word, out);
            }
        } else {
            keep(run, out);
        }
        run.clear();
    };
    for c in lower.chars() {
        let han = is_han(c);
        let word_char = han || c.is_alphanumeric();
        if !word_char || (han != run_is_han && !run.is_empty()) {
            flush(&mut run, run_is_han, &mut out);
        }
        if word_char {
            run.push(c);
            run_is_han = han;
        }
    }
    flush(&mut run, run_is_han, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_splits_lowercases_and_drops_stop_words() {
        assert_eq!(
            words("SET OF 3 Cake Tins, PANTRY design!"),
            ["cake", "tins", "pantry", "design"]
        );
        assert_eq!(
            words("Toy Story (1995). Adventure|Animation"),
            ["toy", "story", "adventure", "animation"]
        );
        assert!(words("").is_empty());
        assert!(words("the of and 12 x").is_empty());
    }

    #[test]
    fn chinese_is_segmented_into_words() {
        let got = words("男款透气运动鞋");
        assert!(got.contains(&"运动鞋".to_owned()), "{got:?}");
        assert!(got.contains(&"透气".to_owned()), "{got:?}");
        // Mixed scripts split where the script changes; stop words go.
        let mixed = words("Nike的运动鞋2024款");
        assert!(mixed.contains(&"nike".to_owned()) && !mixed.contains(&"的".to_owned()));
    }
}
