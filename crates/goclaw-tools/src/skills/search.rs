//! BM25 over skills: each skill is one document of its name (counted three times), its
//! description (twice) and its instructions, as words of letters and digits, lower-cased.
//! Skills are few, so the index is built for each search.

use std::collections::HashMap;

use super::catalog::SkillEntry;

const K1: f64 = 1.2;
const B: f64 = 0.75;

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn document(entry: &SkillEntry) -> Vec<String> {
    let mut terms = Vec::new();
    for _ in 0..3 {
        terms.extend(words(&entry.name));
        terms.extend(words(&entry.slug));
    }
    for _ in 0..2 {
        terms.extend(words(&entry.description));
    }
    terms.extend(words(&entry.instructions()));
    terms
}

/// The indexes of `entries` matching `query`, best first, with their BM25 scores; at most
/// `limit`. Ties keep the entries' order.
pub fn rank(entries: &[SkillEntry], query: &str, limit: usize) -> Vec<(usize, f64)> {
    let mut query_terms: Vec<String> = words(query).collect();
    query_terms.sort();
    query_terms.dedup();
    if query_terms.is_empty() || entries.is_empty() {
        return Vec::new();
    }
    let docs: Vec<HashMap<String, usize>> = entries
        .iter()
        .map(|entry| {
            let mut counts = HashMap::new();
            for term in document(entry) {
                *counts.entry(term).or_insert(0) += 1;
            }
            counts
        })
        .collect();
    let lengths: Vec<f64> = docs
        .iter()
        .map(|d| d.values().sum::<usize>() as f64)
        .collect();
    let average = lengths.iter().sum::<f64>() / lengths.len() as f64;
    let n = docs.len() as f64;
    let mut scored: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, counts)| {
            let score = query_terms
                .iter()
                .filter_map(|term| {
                    let tf = *counts.get(term)? as f64;
                    let df = docs.iter().filter(|d| d.contains_key(term)).count() as f64;
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    let norm = K1 * (1.0 - B + B * lengths[i] / average.max(1.0));
                    Some(idf * tf * (K1 + 1.0) / (tf + norm))
                })
                .sum::<f64>();
            (i, score)
        })
        .filter(|(_, score)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(limit);
    scored
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn entry(slug: &str, description: &str, body: &str) -> SkillEntry {
        SkillEntry {
            id: None,
            slug: slug.to_owned(),
            name: slug.replace('-', " "),
            description: description.to_owned(),
            source: "global",
            location: PathBuf::from(slug),
            version: 1,
            tags: Vec::new(),
            content: format!("---\nname: {slug}\n---\n{body}"),
        }
    }

    fn check(query: &str, expected: &[&str]) {
        let entries = [
            entry("pdf-tools", "Read and fill PDF forms", "Use pdftotext."),
            entry("haiku", "Write short poems", "Five, seven, five syllables."),
            entry(
                "git-review",
                "Review a diff",
                "Read the patch; comment on style.",
            ),
        ];
        let ranked: Vec<&str> = rank(&entries, query, 5)
            .into_iter()
            .map(|(i, _)| entries[i].slug.as_str())
            .collect();
        assert_eq!(ranked, expected, "{query}");
    }

    #[test]
    fn names_descriptions_and_bodies_are_searched() {
        check("pdf", &["pdf-tools"]);
        check("poems", &["haiku"]);
        check("syllables", &["haiku"]);
        check("read", &["pdf-tools", "git-review"]);
        check("review the patch", &["git-review"]);
        check("nothing matches", &[]);
        check("", &[]);
    }
}
