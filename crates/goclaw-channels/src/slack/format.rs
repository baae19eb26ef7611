//! Markdown as Slack's mrkdwn: `*bold*`, `_italic_`, `~strike~`, `<url|label>` links, headings
//! as bold lines, code spans and fenced blocks kept as they are (Slack renders the same
//! backticks). Slack reads `&`, `<` and `>` as control characters everywhere — in code too —
//! so they are escaped in all text; only the links this module writes and a quote's leading
//! `>` are left as markup, so no input can ping `<!channel>` or forge a link.

use crate::markdown::{Emphasis, collect, emphasis, find, link};

/// `markdown` as Slack mrkdwn.
pub fn to_mrkdwn(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            // Slack shows a fence's language as code: it is dropped.
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                code.push(inner);
            }
            out.push_str("```\n");
            out.push_str(&escape(&code.join("\n")));
            out.push_str("\n```");
        } else if let Some(heading) = heading_text(line) {
            out.push('*');
            out.push_str(&inline(&strip_bold(heading)));
            out.push('*');
        } else if let Some(quoted) = line.strip_prefix('>') {
            out.push('>');
            out.push_str(&inline(quoted));
        } else {
            out.push_str(&inline(line));
        }
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    out
}

/// Escapes Slack's control characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// The text of a `#` heading line.
fn heading_text(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    (1..=6)
        .contains(&hashes)
        .then(|| trimmed[hashes..].strip_prefix(' '))
        .flatten()
        .map(str::trim)
}

/// A heading is bold already: bold inside it would close the heading's own `*`.
fn strip_bold(text: &str) -> String {
    text.replace("**", "").replace("__", "")
}

/// Inline markup of one line.
fn inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest[0] == '`' {
            if let Some(end) = find(&chars, i + 1, &['`']) {
                out.push('`');
                out.push_str(&escape(&collect(&chars[i + 1..end])));
                out.push('`');
                i = end + 1;
                continue;
            }
        }
        if let Some((kind, marker)) = emphasis(rest) {
            let mark = match kind {
                Emphasis::Bold => '*',
                Emphasis::Struck => '~',
                Emphasis::Italic => '_',
            };
            let start = i + marker.len();
            if let Some(end) = find(&chars, start, marker).filter(|&end| end > start) {
                out.push(mark);
                out.push_str(&inline(&collect(&chars[start..end])));
                out.push(mark);
                i = end + marker.len();
                continue;
            }
        }
        if rest[0] == '[' {
            // Only web and mail links, and none holding a character that would end Slack's
            // `<url|label>` early.
            let schemes = ["http://", "https://", "mailto:"];
            let clean = |url: &str| {
                !url.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '|'))
            };
            if let Some((label, url, next)) = link(&chars, i, &schemes, clean) {
                out.push('<');
                out.push_str(&url);
                out.push('|');
                out.push_str(&inline(&label));
                out.push('>');
                i = next;
                continue;
            }
        }
        out.push_str(&escape(&rest[0].to_string()));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_mrkdwn;

    #[track_caller]
    fn check(markdown: &str, expected: &str) {
        assert_eq!(to_mrkdwn(markdown), expected, "for {markdown:?}");
    }

    #[test]
    fn markdown_becomes_mrkdwn() {
        check("**bold** and __bold__", "*bold* and *bold*");
        check("*it* and _it_", "_it_ and _it_");
        check("~~gone~~", "~gone~");
        check("**bold _and it_**", "*bold _and it_*");
        check(
            "see [docs](https://example.com/a?b=1&c=2)",
            "see <https://example.com/a?b=1&c=2|docs>",
        );
        check("[**x**](https://e.com)", "<https://e.com|*x*>");
        check("# Title", "*Title*");
        check("## A **bold** title", "*A bold title*");
        check("> quoted & kept", "> quoted &amp; kept");
        check("- item one\n- item two", "- item one\n- item two");
    }

    #[test]
    fn code_keeps_its_markers_and_escapes_control_characters() {
        check("`**x** < y`", "`**x** &lt; y`");
        check(
            "```rust\nif a < b && c { **x** }\n```\nafter",
            "```\nif a &lt; b &amp;&amp; c { **x** }\n```\nafter",
        );
    }

    #[test]
    fn stray_markers_and_control_characters_stay_text() {
        check("2 * 3 = 6", "2 * 3 = 6");
        check("unclosed **bold", "unclosed **bold");
        check("<!channel> hi", "&lt;!channel&gt; hi");
        check("a <@U123> b", "a &lt;@U123&gt; b");
        check("[x](javascript:alert(1))", "[x](javascript:alert(1))");
        check("[x](https://e.com/a|b)", "[x](https://e.com/a|b)");
        check("snake_case_name", "snake_case_name");
    }
}
