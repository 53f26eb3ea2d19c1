//! Text hygiene for descriptions written as HTML (Shopify's `Body (HTML)`, WooCommerce's
//! descriptions, Moodle's summaries): the plain text is what is embedded and what names
//! layers; the original HTML is kept with the item.

/// Whether `text` looks like HTML: a tag (`<p>`, `</b>`, `<br/>`) or an entity (`&amp;`).
pub fn looks_like_html(text: &str) -> bool {
    let tag = text.match_indices('<').any(|(at, _)| {
        text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
    });
    tag || (text.contains('&') && text.contains(';') && nanohtml2text::html2text(text) != text)
}

/// The plain text of an HTML fragment: tags dropped, entities decoded, blank runs collapsed.
/// Text that is not HTML is returned as it is.
pub fn to_plain_text(text: &str) -> String {
    if !looks_like_html(text) {
        return text.to_owned();
    }
    let plain = nanohtml2text::html2text(text);
    let mut out = String::with_capacity(plain.len());
    for line in plain.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut last_space = false;
        for c in line.chars() {
            let space = c.is_whitespace();
            if !(space && last_space) {
                out.push(if space { ' ' } else { c });
            }
            last_space = space;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text_issue_14() {
        assert_eq!(
            to_plain_text(
                "<p>Soft <b>cotton</b> tee &amp; more</p><ul><li>Fair&nbsp;trade</li></ul>"
            ),
            "Soft cotton tee & more\nFair trade"
        );
        assert_eq!(to_plain_text("<p>手冲&nbsp;咖啡壶</p>"), "手冲 咖啡壶");
        // Not HTML: kept exactly, a lone < or & included.
        assert_eq!(to_plain_text("3 < 4 & 5 > 2"), "3 < 4 & 5 > 2");
        assert_eq!(to_plain_text("Tea, green"), "Tea, green");
        assert!(looks_like_html("Fish &amp; chips"));
        assert!(!looks_like_html("Fish & chips; vinegar"));
    }
}
