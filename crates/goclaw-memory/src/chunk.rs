//! Cutting a memory document into overlapping chunks for retrieval, as GoClaw does: chunks of at
//! most 1000 characters that prefer to end where a paragraph ends, each starting with up to 200
//! characters of the previous chunk's last lines so a fact split across the cut is still found
//! whole. Every chunk knows the lines it came from (1-based, inclusive), which is what search
//! results point at and how hits of different sources are merged.
//!
//! Lengths are in characters, not bytes. A line longer than a chunk is cut into pieces (at a
//! whitespace when there is one in the second half of the piece); the pieces keep that line's
//! number. The overlap is clamped below half a chunk, so every chunk brings new text.

/// How documents are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Longest chunk, in characters.
    pub max_chars: usize,
    /// Characters of the previous chunk's last lines a chunk starts with.
    pub overlap_chars: usize,
}

impl Default for ChunkOptions {
    /// GoClaw's: 1000 characters, 200 of overlap.
    fn default() -> Self {
        Self {
            max_chars: 1000,
            overlap_chars: 200,
        }
    }
}

impl ChunkOptions {
    /// The longest chunk, at least one character.
    fn max(&self) -> usize {
        self.max_chars.max(1)
    }

    /// The overlap, below half a chunk.
    fn overlap(&self) -> usize {
        self.overlap_chars.min(self.max().saturating_sub(1) / 2)
    }
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The first line it covers, from 1.
    pub start_line: usize,
    /// The last line it covers (inclusive).
    pub end_line: usize,
    /// Its text: the lines joined with `\n`.
    pub text: String,
}

/// A line, or a piece of a line too long for one chunk.
#[derive(Debug, Clone)]
struct Unit<'a> {
    line: usize,
    text: &'a str,
    chars: usize,
    /// An empty (or blank) line: where paragraphs end.
    blank: bool,
}

/// The chunks of `text`; none for a document with no visible text.
pub fn chunk(text: &str, options: ChunkOptions) -> Vec<Chunk> {
    let max = options.max();
    let overlap = options.overlap();
    let units = units(text, max);
    let mut chunks = Vec::new();
    let mut current: Vec<Unit<'_>> = Vec::new();
    // How many units at the start of `current` are carried over from the previous chunk.
    let mut carried = 0;
    for unit in units {
        let fits =
            |current: &[Unit<'_>]| current.is_empty() || size(current) + 1 + unit.chars <= max;
        if !fits(&current) && current.len() > carried {
            // New text that fills the chunk: end it, preferably after a paragraph.
            let cut = paragraph_cut(&current, carried, max);
            let rest = current.split_off(cut);
            push(&mut chunks, &current);
            current = carry(&current, overlap);
            carried = current.len();
            current.extend(rest);
        }
        // Make room: carried lines go first; new text that still leaves none is a chunk too.
        while !fits(&current) {
            if carried > 0 {
                current.remove(0);
                carried -= 1;
            } else {
                push(&mut chunks, &current);
                current = carry(&current, overlap);
                carried = current.len();
            }
        }
        if current.len() == carried && unit.blank {
            continue;
        }
        current.push(unit);
    }
    if current.len() > carried {
        push(&mut chunks, &current);
    }
    chunks
}

/// Where to end the chunk in `current`: after its last blank line when that keeps at least
/// half a chunk of new text, else after everything.
fn paragraph_cut(current: &[Unit<'_>], carried: usize, max: usize) -> usize {
    let last_blank = current
        .iter()
        .enumerate()
        .skip(carried)
        .rev()
        .find(|(_, unit)| unit.blank)
        .map(|(at, _)| at);
    match last_blank {
        Some(at) if size(&current[..at]) * 2 >= max => at + 1,
        _ => current.len(),
    }
}

/// The last lines of a chunk that fit in `overlap` characters, without leading blank lines.
fn carry<'a>(chunk: &[Unit<'a>], overlap: usize) -> Vec<Unit<'a>> {
    let mut taken = 0;
    let mut used = 0;
    for unit in chunk.iter().rev() {
        let cost = unit.chars + usize::from(taken > 0);
        if used + cost > overlap || taken + 1 >= chunk.len() {
            break;
        }
        used += cost;
        taken += 1;
    }
    chunk[chunk.len() - taken..]
        .iter()
        .skip_while(|unit| unit.blank)
        .cloned()
        .collect()
}

/// Characters of the units joined by newlines.
fn size(units: &[Unit<'_>]) -> usize {
    units.iter().map(|u| u.chars).sum::<usize>() + units.len().saturating_sub(1)
}

/// Emits `units` as a chunk, blank lines at either end left out; nothing when all are blank.
fn push(chunks: &mut Vec<Chunk>, units: &[Unit<'_>]) {
    let start = units.iter().position(|u| !u.blank).unwrap_or(units.len());
    let end = units
        .iter()
        .rposition(|u| !u.blank)
        .map_or(start, |at| at + 1);
    let units = &units[start..end];
    let (Some(first), Some(last)) = (units.first(), units.last()) else {
        return;
    };
    let text = units.iter().map(|u| u.text).collect::<Vec<_>>().join("\n");
    chunks.push(Chunk {
        start_line: first.line,
        end_line: last.line,
        text,
    });
}

/// The document's lines (without their line ends), each cut into pieces of at most `max`
/// characters.
fn units(text: &str, max: usize) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim_end();
        let mut rest = line;
        loop {
            let chars = rest.chars().count();
            if chars <= max {
                units.push(Unit {
                    line: line_number,
                    text: rest,
                    chars,
                    blank: rest.trim().is_empty(),
                });
                break;
            }
            let (piece, after) = split_piece(rest, max);
            units.push(Unit {
                line: line_number,
                text: piece,
                chars: piece.chars().count(),
                blank: false,
            });
            rest = after;
        }
    }
    units
}

/// The first at most `max` characters of `line`, ended after a whitespace in their second half
/// when there is one, and the rest.
fn split_piece(line: &str, max: usize) -> (&str, &str) {
    let limit = line
        .char_indices()
        .nth(max)
        .map_or(line.len(), |(at, _)| at);
    let half = line.char_indices().nth(max / 2).map_or(limit, |(at, _)| at);
    let cut = line[half..limit]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(limit, |(at, c)| half + at + c.len_utf8());
    let cut = if cut == 0 { limit } else { cut };
    line.split_at(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(max_chars: usize, overlap_chars: usize) -> ChunkOptions {
        ChunkOptions {
            max_chars,
            overlap_chars,
        }
    }

    fn lines_of(text: &str, chunk: &Chunk) -> String {
        text.lines()
            .skip(chunk.start_line - 1)
            .take(chunk.end_line - chunk.start_line + 1)
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_short_document_is_one_chunk() {
        let text = "# Notes\n\nAlice prefers tea.\n";
        let chunks = chunk(text, ChunkOptions::default());
        assert_eq!(
            chunks,
            [Chunk {
                start_line: 1,
                end_line: 3,
                text: "# Notes\n\nAlice prefers tea.".to_owned(),
            }]
        );
    }

    #[test]
    fn empty_and_blank_documents_have_no_chunks() {
        assert!(chunk("", ChunkOptions::default()).is_empty());
        assert!(chunk("\n  \n\n", ChunkOptions::default()).is_empty());
    }

    #[test]
    fn chunks_end_at_paragraphs_and_overlap() {
        let paragraph = |n: usize| format!("paragraph {n} {}", "word ".repeat(15).trim_end());
        let text: String = (1..=12).map(|n| format!("{}\n\n", paragraph(n))).collect();
        let chunks = chunk(&text, options(300, 100));
        assert!(chunks.len() > 2, "{chunks:#?}");
        for (index, c) in chunks.iter().enumerate() {
            assert!(c.text.chars().count() <= 300, "{c:#?}");
            assert_eq!(c.text, lines_of(&text, c), "text is its lines");
            assert!(!c.text.starts_with('\n') && !c.text.ends_with('\n'));
            if let Some(next) = chunks.get(index + 1) {
                // The next starts inside this one (overlap) but after its start (progress).
                assert!(next.start_line > c.start_line, "{chunks:#?}");
                assert!(next.start_line <= c.end_line, "no overlap: {chunks:#?}");
            }
        }
        // Every paragraph is whole in some chunk.
        for n in 1..=12 {
            assert!(
                chunks.iter().any(|c| c.text.contains(&paragraph(n))),
                "paragraph {n} cut: {chunks:#?}"
            );
        }
        assert_eq!(chunks.last().map(|c| c.end_line), Some(23));
    }

    #[test]
    fn a_long_line_is_cut_at_whitespace_and_keeps_its_number() {
        let long = "alpha beta gamma delta ".repeat(100);
        let text = format!("title\n{long}\nlast line");
        let chunks = chunk(&text, options(200, 50));
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 200));
        assert!(
            chunks
                .iter()
                .filter(|c| c.start_line == 2 && c.end_line == 2)
                .count()
                > 3,
            "{chunks:#?}"
        );
        for c in chunks
            .iter()
            .filter(|c| c.start_line == 2 && c.end_line == 2)
        {
            assert!(!c.text.starts_with(' '), "cut inside a word: {c:?}");
        }
        let joined: String = chunks.iter().map(|c| c.text.as_str()).collect();
        for word in ["title", "alpha", "delta", "last line"] {
            assert!(joined.contains(word));
        }
        assert_eq!(chunks.last().map(|c| c.end_line), Some(3));
    }

    #[test]
    fn lengths_are_characters_and_cuts_respect_char_boundaries() {
        let text = "é".repeat(2500);
        let chunks = chunk(&text, options(1000, 200));
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 1000));
        let total: usize = chunks.iter().map(|c| c.text.chars().count()).sum();
        assert!(total >= 2500, "{total}");
    }

    #[test]
    fn overlap_is_clamped_below_half_a_chunk() {
        assert_eq!(options(100, 80).overlap(), 49);
        assert_eq!(options(1000, 200).overlap(), 200);
        assert_eq!(options(0, 10).max(), 1);
        // A huge overlap still makes progress and terminates.
        let text: String = (1..=50).map(|n| format!("line number {n}\n")).collect();
        let chunks = chunk(&text, options(60, 1000));
        assert!(chunks.windows(2).all(|w| w[1].start_line > w[0].start_line));
        assert_eq!(chunks.last().map(|c| c.end_line), Some(50));
    }

    #[test]
    fn every_line_is_in_some_chunk() {
        let text: String = (1..=200)
            .map(|n| {
                if n % 7 == 0 {
                    "\n".to_owned()
                } else {
                    format!("{n} {}\n", "x".repeat(n % 40))
                }
            })
            .collect();
        for (max, overlap) in [(80, 20), (120, 0), (1000, 200), (30, 14)] {
            let chunks = chunk(&text, options(max, overlap));
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let number = index + 1;
                assert!(
                    chunks
                        .iter()
                        .any(|c| c.start_line <= number && number <= c.end_line),
                    "line {number} lost with {max}/{overlap}"
                );
            }
        }
    }
}
