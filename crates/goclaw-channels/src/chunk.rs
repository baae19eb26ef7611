//! Cutting a long Markdown answer into messages a platform accepts: each part at most `limit`
//! characters, cut at a paragraph break where one is near, else a line break, else a space,
//! else anywhere; a code block cut in two is closed at the end of one part and opened again
//! (with its language) at the start of the next, so each part renders on its own.

/// Fence reopened in the next part, and the closing that ends this one.
const FENCE_CLOSE: &str = "\n```";

/// `markdown` in parts of at most `limit` characters (never an empty part; nothing for blank
/// input).
pub fn split_markdown(markdown: &str, limit: usize) -> Vec<String> {
    let text = markdown.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let limit = limit.max(32);
    let mut parts = Vec::new();
    let mut rest = text.to_owned();
    while rest.chars().count() > limit {
        // Room for a fence this part may have to close.
        let budget = limit - FENCE_CLOSE.len();
        let cut = cut_point(&rest, budget);
        let (head, tail) = rest.split_at(cut);
        let mut head = head.trim_end().to_owned();
        let mut tail = tail.trim_start_matches('\n').to_owned();
        if let Some(language) = open_fence(&head) {
            head.push_str(FENCE_CLOSE);
            tail = format!("```{language}\n{tail}");
        }
        if !head.trim().is_empty() {
            parts.push(head);
        }
        rest = tail;
    }
    if !rest.trim().is_empty() {
        parts.push(rest);
    }
    parts
}

/// The byte index to cut `text` at so that the head holds at most `budget` characters.
fn cut_point(text: &str, budget: usize) -> usize {
    let hard = text
        .char_indices()
        .nth(budget)
        .map_or(text.len(), |(index, _)| index);
    let window = &text[..hard];
    // A break in the last half of the window is good enough; earlier ones waste space.
    let floor = hard / 2;
    for separator in ["\n\n", "\n", " "] {
        if let Some(at) = window.rfind(separator).filter(|&at| at > floor) {
            return at + separator.len();
        }
    }
    hard
}

/// The language of the code block left open at the end of `text`, if one is.
fn open_fence(text: &str) -> Option<String> {
    let mut open: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            open = match open {
                Some(_) => None,
                None => Some(info.trim().to_owned()),
            };
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part_and_blank_text_none() {
        assert_eq!(split_markdown("  hello  ", 100), ["hello"]);
        assert!(split_markdown(" \n ", 100).is_empty());
    }

    #[test]
    fn every_part_is_within_the_limit_and_nothing_is_lost() {
        let paragraph = "word ".repeat(300);
        let text = format!("{paragraph}\n\n{paragraph}\n\nend ✨");
        let parts = split_markdown(&text, 400);
        assert!(parts.len() > 3, "{}", parts.len());
        for part in &parts {
            assert!(part.chars().count() <= 400, "{}", part.chars().count());
        }
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(&parts.join(" ")), words(&text));
    }

    #[test]
    fn text_without_breaks_is_cut_anywhere_on_a_character_boundary() {
        let text = "é".repeat(1000);
        let parts = split_markdown(&text, 300);
        assert!(parts.iter().all(|p| p.chars().count() <= 300));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn paragraph_breaks_are_preferred() {
        let text = format!("{}\n\n{}", "a".repeat(60), "b".repeat(60));
        assert_eq!(split_markdown(&text, 100), ["a".repeat(60), "b".repeat(60)]);
    }

    #[test]
    fn a_code_block_cut_in_two_is_closed_and_reopened() {
        let code = (0..80)
            .map(|i| format!("let x{i} = {i};"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("Here:\n```rust\n{code}\n```\nDone.");
        let parts = split_markdown(&text, 300);
        assert!(parts.len() > 2);
        for part in &parts {
            assert!(part.chars().count() <= 300, "{part}");
            assert_eq!(
                part.matches("```").count() % 2,
                0,
                "unbalanced fence: {part}"
            );
        }
        assert!(parts[1].starts_with("```rust\n"), "{}", parts[1]);
    }
}
