//! Markdown as Telegram's HTML (`parse_mode: "HTML"`): fenced code as `<pre><code>`, inline
//! code, bold, italic, strikethrough, links and headings (bold); everything else is text with
//! `&`, `<` and `>` escaped, so no input can produce a tag Telegram would refuse.

use crate::markdown::{Emphasis, collect, emphasis, find, link};

/// `markdown` as Telegram HTML.
pub fn to_telegram_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            let language = info.trim();
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                code.push(inner);
            }
            if language.is_empty() {
                out.push_str("<pre><code>");
            } else {
                out.push_str("<pre><code class=\"language-");
                out.push_str(&escape(language));
                out.push_str("\">");
            }
            out.push_str(&escape(&code.join("\n")));
            out.push_str("</code></pre>");
        } else if let Some(heading) = heading_text(line) {
            out.push_str("<b>");
            out.push_str(&inline(heading));
            out.push_str("</b>");
        } else {
            out.push_str(&inline(line));
        }
        if lines.peek().is_some() {
            out.push('\n');
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

/// Escapes text for Telegram HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
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
                out.push_str("<code>");
                out.push_str(&escape(&collect(&chars[i + 1..end])));
                out.push_str("</code>");
                i = end + 1;
                continue;
            }
        }
        if let Some((kind, marker)) = emphasis(rest) {
            let tag = match kind {
                Emphasis::Bold => "b",
                Emphasis::Struck => "s",
                Emphasis::Italic => "i",
            };
            let start = i + marker.len();
            if let Some(end) = find(&chars, start, marker).filter(|&end| end > start) {
                out.push_str(&format!("<{tag}>"));
                out.push_str(&inline(&collect(&chars[start..end])));
                out.push_str(&format!("</{tag}>"));
                i = end + marker.len();
                continue;
            }
        }
        if rest[0] == '[' {
            // Only web, mail and Telegram links: no `javascript:` or other scheme reaches a
            // chat.
            let schemes = ["http://", "https://", "mailto:", "tg://"];
            let no_space = |url: &str| !url.contains(char::is_whitespace);
            if let Some((label, url, next)) = link(&chars, i, &schemes, no_space) {
                out.push_str("<a href=\"");
                out.push_str(&escape(&url));
                out.push_str("\">");
                out.push_str(&inline(&label));
                out.push_str("</a>");
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
    use super::*;

    #[test]
    fn markup_becomes_telegram_tags() {
        assert_eq!(
            to_telegram_html("**bold** and *it* and `a<b` and ~~gone~~"),
            "<b>bold</b> and <i>it</i> and <code>a&lt;b</code> and <s>gone</s>"
        );
        assert_eq!(
            to_telegram_html("# Title\nsee [docs](https://example.com/a?b=1&c=2)"),
            "<b>Title</b>\nsee <a href=\"https://example.com/a?b=1&amp;c=2\">docs</a>"
        );
    }

    #[test]
    fn code_blocks_keep_their_text_escaped() {
        assert_eq!(
            to_telegram_html("```rust\nif a < b && c > d { **x** }\n```\nafter"),
            "<pre><code class=\"language-rust\">if a &lt; b &amp;&amp; c &gt; d { **x** }\
             </code></pre>\nafter"
        );
    }

    #[test]
    fn stray_markers_and_tags_stay_text() {
        assert_eq!(to_telegram_html("2 * 3 = 6"), "2 * 3 = 6");
        assert_eq!(
            to_telegram_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            to_telegram_html("[x](javascript:alert(1))"),
            "[x](javascript:alert(1))"
        );
        assert_eq!(to_telegram_html("unclosed **bold"), "unclosed **bold");
    }
}
