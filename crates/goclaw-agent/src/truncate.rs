//! Size limits on text that enters a prompt: inbound user messages (`max_message_chars`,
//! never rejected, cut and annotated) and context files (per-file and total budgets, keeping
//! the head and the tail of a long file).

/// Share of a file's budget, in tenths, kept from its start when it is cut.
const HEAD_TENTHS: usize = 7;
/// Share of a file's budget, in tenths, kept from its end when it is cut.
const TAIL_TENTHS: usize = 2;
/// A context file is skipped when less than this many characters of the total budget remain.
pub const MIN_FILE_BUDGET: usize = 64;

/// An inbound message after the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruncatedMessage {
    pub text: String,
    /// The original length in bytes when the message was cut.
    pub original_len: Option<usize>,
}

/// Cuts `message` to at most `max_bytes` bytes (at a character boundary) and appends a note
/// telling the model it was cut, as GoClaw does; a message within the limit is unchanged.
/// `max_bytes == 0` disables the limit.
pub fn truncate_message(message: &str, max_bytes: usize) -> TruncatedMessage {
    if max_bytes == 0 || message.len() <= max_bytes {
        return TruncatedMessage {
            text: message.to_owned(),
            original_len: None,
        };
    }
    let cut = floor_char_boundary(message, max_bytes);
    let mut text = String::with_capacity(cut + 200);
    text.push_str(&message[..cut]);
    text.push_str(&format!(
        "\n\n[System: Message was truncated from {} to {} characters due to size limit. \
         Please ask the user to send shorter messages or use the read_file tool for large \
         content.]",
        message.len(),
        max_bytes
    ));
    TruncatedMessage {
        text,
        original_len: Some(message.len()),
    }
}

/// The largest index `<= index` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    let mut cut = index;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// `content` limited to `max_chars` characters: when longer, its first 70% and last 20% of
/// the budget are kept around a marker naming the file.
pub fn truncate_file(name: &str, content: &str, max_chars: usize) -> String {
    let total = content.chars().count();
    if total <= max_chars {
        return content.to_owned();
    }
    let head = max_chars * HEAD_TENTHS / 10;
    let tail = max_chars * TAIL_TENTHS / 10;
    let head_end = content
        .char_indices()
        .nth(head)
        .map_or(content.len(), |(i, _)| i);
    let tail_start = content
        .char_indices()
        .nth(total - tail)
        .map_or(content.len(), |(i, _)| i);
    format!(
        "{}\n\n[... {name} truncated: {total} characters, showing the first {head} and the last \
         {tail} ...]\n\n{}",
        &content[..head_end],
        &content[tail_start..]
    )
}

/// Applies the per-file and total budgets to files in load order: each file gets at most
/// `per_file` characters and what is left of `total`; once less than [`MIN_FILE_BUDGET`]
/// remains, the remaining files are left out. Empty files are skipped.
pub fn budget_files(
    files: &[(String, String)],
    per_file: usize,
    total: usize,
) -> Vec<(String, String)> {
    let mut remaining = total;
    let mut out = Vec::new();
    for (name, content) in files {
        if content.trim().is_empty() {
            continue;
        }
        if remaining < MIN_FILE_BUDGET {
            tracing::debug!(file = %name, "context file skipped: total budget used up");
            continue;
        }
        let budget = per_file.min(remaining);
        let kept = truncate_file(name, content, budget);
        if kept.len() != content.len() {
            tracing::debug!(file = %name, budget, "context file truncated");
        }
        remaining = remaining.saturating_sub(content.chars().count().min(budget));
        out.push((name.clone(), kept));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_message(input: &str, max: usize, kept: &str, original: Option<usize>) {
        let out = truncate_message(input, max);
        assert!(out.text.starts_with(kept), "{input:?} -> {:?}", out.text);
        assert_eq!(out.original_len, original, "{input:?}");
        if let Some(n) = original {
            assert_eq!(
                &out.text[kept.len()..],
                format!(
                    "\n\n[System: Message was truncated from {n} to {max} characters due to size \
                     limit. Please ask the user to send shorter messages or use the read_file \
                     tool for large content.]"
                )
            );
        } else {
            assert_eq!(out.text, input);
        }
    }

    #[test]
    fn messages() {
        check_message("hello", 10, "hello", None);
        check_message("hello", 5, "hello", None);
        check_message("hello world", 5, "hello", Some(11));
        check_message("hello", 0, "hello", None);
        // "é" is two bytes: a cut inside it moves back to the boundary.
        check_message("aéb", 2, "a", Some(4));
        check_message("ééé", 4, "éé", Some(6));
        check_message("🦀🦀", 5, "🦀", Some(8));
        check_message("🦀🦀", 3, "", Some(8));
    }

    fn check_file(content: &str, max: usize, expected: &str) {
        assert_eq!(
            truncate_file("F.md", content, max),
            expected,
            "{content:?}/{max}"
        );
    }

    #[test]
    fn files() {
        check_file("short", 10, "short");
        check_file(
            "0123456789",
            5,
            "012\n\n[... F.md truncated: 10 characters, showing the first 3 and the last 1 ...]\n\n9",
        );
        let long = "a".repeat(70) + &"b".repeat(20) + &"c".repeat(20);
        let out = truncate_file("F.md", &long, 100);
        assert!(out.starts_with(&"a".repeat(70)));
        assert!(out.ends_with(&"c".repeat(20)));
        assert!(!out.contains('b'));
    }

    fn file(name: &str, len: usize) -> (String, String) {
        (name.to_owned(), "x".repeat(len))
    }

    fn kept(files: &[(String, String)], per_file: usize, total: usize) -> Vec<(String, usize)> {
        budget_files(files, per_file, total)
            .into_iter()
            .map(|(name, content)| (name, content.chars().filter(|c| *c == 'x').count()))
            .collect()
    }

    #[test]
    fn budgets() {
        let within = [file("A", 10), file("B", 10)];
        assert_eq!(
            kept(&within, 100, 100),
            [("A".into(), 10), ("B".into(), 10)]
        );
        // B gets only what A left of the total: 160 - 60 = 100 → 70% + 20% of 100.
        let big = [file("A", 60), file("B", 200)];
        assert_eq!(kept(&big, 150, 160), [("A".into(), 60), ("B".into(), 90)]);
        // Less than 64 left: the later file is skipped.
        let skip = [file("A", 50), file("B", 100)];
        assert_eq!(kept(&skip, 100, 100), [("A".into(), 50)]);
        // The per-file limit applies before the total.
        let per = [file("A", 1000)];
        assert_eq!(kept(&per, 200, 24_000), [("A".into(), 180)]);
        // Empty files take no budget and do not appear.
        let empty = [file("A", 0), file("B", 5)];
        assert_eq!(kept(&empty, 100, 100), [("B".into(), 5)]);
    }
}
