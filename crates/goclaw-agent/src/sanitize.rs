//! Clean-up of a model's final answer before it is stored and delivered: reasoning blocks
//! some models print as text (`<think>`, `<thinking>`, `<thought>`, `<antThinking>`), `<final>`
//! wrappers, paragraphs repeated back to back, and leading blank lines; and recognition of the
//! `NO_REPLY` token that asks for a silent completion.

/// The answer a model gives when it decides not to reply at all.
pub const SILENT_REPLY: &str = "NO_REPLY";

/// Tags whose whole block is reasoning, not answer (matched case-insensitively).
const REASONING_TAGS: [&str; 5] = [
    "think",
    "thinking",
    "thought",
    "antthinking",
    "redacted_thinking",
];

/// The user-facing text of a model's answer.
pub fn sanitize_output(text: &str) -> String {
    let mut out = text.to_owned();
    for tag in REASONING_TAGS {
        out = strip_tag_blocks(&out, tag);
    }
    out = unwrap_final(&out);
    out = collapse_duplicate_paragraphs(&out);
    out.trim().to_owned()
}

/// Whether the (sanitized) answer is exactly the silent-reply token.
pub fn is_silent(text: &str) -> bool {
    text.trim() == SILENT_REPLY
}

/// Removes every `<tag ...>…</tag>` block. An opening tag that is never closed removes the
/// rest of the text (the answer was all reasoning); a closing tag without an opening one
/// removes everything before it (the opening tag was part of the prompt template).
fn strip_tag_blocks(text: &str, tag: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !lower.contains(&format!("<{tag}")) && !lower.contains(&format!("</{tag}")) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some((start, end)) = find_open(&lower, tag, pos) {
        out.push_str(&text[pos..start]);
        pos = match find_close(&lower, tag, end) {
            Some((_, close_end)) => close_end,
            None => text.len(),
        };
    }
    out.push_str(&text[pos..]);
    let lower_out = out.to_ascii_lowercase();
    let mut last_close = None;
    let mut from = 0;
    while let Some((_, close_end)) = find_close(&lower_out, tag, from) {
        last_close = Some(close_end);
        from = close_end;
    }
    match last_close {
        Some(cut) => out[cut..].to_owned(),
        None => out,
    }
}

/// Finds `<tag>` or `<tag attrs...>` at or after `from`; returns its byte range.
fn find_open(lower: &str, tag: &str, from: usize) -> Option<(usize, usize)> {
    let pattern = format!("<{tag}");
    let mut i = from;
    while let Some(found) = lower[i..].find(&pattern) {
        let start = i + found;
        let after = start + pattern.len();
        match lower.as_bytes().get(after) {
            Some(b'>') => return Some((start, after + 1)),
            Some(c) if c.is_ascii_whitespace() => {
                let gt = lower[after..].find('>')?;
                return Some((start, after + gt + 1));
            }
            _ => i = after,
        }
    }
    None
}

/// Finds `</tag>` (spaces allowed before `>`) at or after `from`; returns its byte range.
fn find_close(lower: &str, tag: &str, from: usize) -> Option<(usize, usize)> {
    let pattern = format!("</{tag}");
    let mut i = from;
    while let Some(found) = lower[i..].find(&pattern) {
        let start = i + found;
        let rest = &lower[start + pattern.len()..];
        let trimmed = rest.trim_start();
        if trimmed.starts_with('>') {
            let end = start + pattern.len() + (rest.len() - trimmed.len()) + 1;
            return Some((start, end));
        }
        i = start + pattern.len();
    }
    None
}

/// Removes `<final>` / `</final>` tags (spaces allowed inside), keeping what they wrap.
fn unwrap_final(text: &str) -> String {
    if !text.to_ascii_lowercase().contains("final") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        match final_tag_len(&rest[lt..]) {
            Some(len) => rest = &rest[lt + len..],
            None => {
                out.push('<');
                rest = &rest[lt + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of a `<final>`-style tag at the start of `s`, if there is one.
fn final_tag_len(s: &str) -> Option<usize> {
    let inner = s.strip_prefix('<')?;
    let after_ws = inner.trim_start();
    let after_slash = after_ws.strip_prefix('/').unwrap_or(after_ws).trim_start();
    let name = after_slash.get(..5)?;
    if !name.eq_ignore_ascii_case("final") {
        return None;
    }
    let after_name = after_slash[5..].trim_start();
    let after_gt = after_name.strip_prefix('>')?;
    Some(s.len() - after_gt.len())
}

/// Drops empty paragraphs and a paragraph identical (ignoring surrounding space) to the one
/// before it, as models sometimes repeat themselves verbatim.
fn collapse_duplicate_paragraphs(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for block in text.split("\n\n") {
        let trimmed = block.trim();
        if trimmed.is_empty() {
            continue;
        }
        if kept.last().is_some_and(|prev| prev.trim() == trimmed) {
            continue;
        }
        kept.push(block);
    }
    kept.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(sanitize_output(input), expected, "input {input:?}");
    }

    #[test]
    fn sanitization() {
        check("Hello", "Hello");
        check("<think>plan</think>Answer", "Answer");
        check("<THINK>plan</THINK>\n\nAnswer", "Answer");
        check("<thinking>a\nb</thinking>Answer", "Answer");
        check("<thought>x</thought>Answer", "Answer");
        check("<antThinking>x</antThinking>Answer", "Answer");
        check("<think type=\"r\">x</think >Answer", "Answer");
        check("A<think>x</think>B<think>y</think>C", "ABC");
        check("Answer<think>cut off", "Answer");
        check("reasoning only</think>Answer", "Answer");
        check("<thinking>x</thinking><think>y</think>Answer", "Answer");
        check("<thinker> stays", "<thinker> stays");
        check("<final>The answer</final>", "The answer");
        check("< final >X</ final >", "X");
        check("a < b and finally", "a < b and finally");
        check("<ééé final", "<ééé final");
        check("<fi", "<fi");
        check("Para one\n\nPara one\n\nPara two", "Para one\n\nPara two");
        check("Same\n\n  Same  \n\nSame", "Same");
        check("A\n\nB\n\nA", "A\n\nB\n\nA");
        check("\n\n  \nText", "Text");
        check("   ", "");
        check("<think>only reasoning</think>", "");
    }

    #[test]
    fn silent_replies() {
        assert!(is_silent("NO_REPLY"));
        assert!(is_silent("  NO_REPLY\n"));
        assert!(!is_silent("NO_REPLY, but"));
        assert!(!is_silent("no_reply"));
        assert!(!is_silent(""));
    }
}
