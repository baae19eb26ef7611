//! Markdown as Discord shows it. Discord renders most of Markdown itself (bold, italics,
//! code, fenced blocks, lists, quotes, links and `#`–`###` headings), so only what it would
//! show as raw symbols changes: a table becomes a code block (its columns stay aligned in a
//! monospace font) and a `####`–`######` heading becomes a bold line.

/// `markdown` with the parts Discord does not render rewritten.
pub fn to_discord_markdown(markdown: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut table: Vec<&str> = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if !in_fence && is_table_row(trimmed) {
            table.push(line);
            continue;
        }
        flush_table(&mut table, &mut out);
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            out.push(line.to_owned());
        } else if in_fence {
            out.push(line.to_owned());
        } else {
            out.push(
                minor_heading(trimmed).map_or_else(|| line.to_owned(), |h| format!("**{h}**")),
            );
        }
    }
    flush_table(&mut table, &mut out);
    out.join("\n")
}

/// A `| a | b |` line.
fn is_table_row(line: &str) -> bool {
    let line = line.trim_end();
    line.len() > 1 && line.starts_with('|') && line.ends_with('|')
}

/// Rows that form a table (a header, then a `|---|` separator) as a code block; other rows
/// as they were.
fn flush_table(table: &mut Vec<&str>, out: &mut Vec<String>) {
    let is_separator = |row: &&str| {
        row.trim()
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' '))
    };
    if table.len() >= 2 && table.get(1).is_some_and(is_separator) {
        out.push("```".to_owned());
        out.extend(table.iter().map(|row| row.trim().to_owned()));
        out.push("```".to_owned());
    } else {
        out.extend(table.iter().map(|row| (*row).to_owned()));
    }
    table.clear();
}

/// The text of a heading deeper than Discord renders (`####` and below).
fn minor_heading(line: &str) -> Option<&str> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if !(4..=6).contains(&hashes) {
        return None;
    }
    line[hashes..]
        .strip_prefix(' ')
        .map(str::trim)
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::to_discord_markdown;

    fn check(markdown: &str, expected: &str) {
        assert_eq!(to_discord_markdown(markdown), expected, "{markdown:?}");
    }

    #[test]
    fn only_what_discord_does_not_render_changes() {
        check("**bold** _it_ `code`", "**bold** _it_ `code`");
        check("# Title\n## Sub\n### Third", "# Title\n## Sub\n### Third");
        check("#### Deep", "**Deep**");
        check("###### Deepest ", "**Deepest**");
        check("####### not a heading", "####### not a heading");
        check("#hashtag", "#hashtag");
        check(
            "| a | b |\n|---|:-:|\n| 1 | 2 |\nafter",
            "```\n| a | b |\n|---|:-:|\n| 1 | 2 |\n```\nafter",
        );
        check("| just a pipe line |", "| just a pipe line |");
        check(
            "```\n| a | b |\n|---|---|\n#### x\n```",
            "```\n| a | b |\n|---|---|\n#### x\n```",
        );
    }
}
