//! Ranking search hits from full-text and vector retrieval together: the one ranking both
//! storage engines share.
//!
//! Each source's scores are first normalized by that source's best score (so the best hit of
//! each counts 1.0 whatever scale its engine scores on — `ts_rank`, BM25 or cosine similarity),
//! then weighted (vector 0.7 / text 0.3 by default; a source that is the only one with hits gets
//! weight 1.0). A chunk the caller owns personally weighs 1.2 times a shared one. Hits of the
//! same place — same path and first line — are merged by summing, the personal copy's text
//! winning; what scores below `min_score` is dropped, and at most `max_results` are kept, best
//! first.

use std::collections::HashMap;

/// Where a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Text,
    Vector,
}

/// One retrieved chunk, with its source's raw score (higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub path: String,
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
    pub score: f64,
    /// The caller's own chunk rather than a shared one.
    pub personal: bool,
}

/// How much each source counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub vector: f64,
    pub text: f64,
}

impl Default for Weights {
    /// GoClaw's: vector 0.7, text 0.3.
    fn default() -> Self {
        Self {
            vector: 0.7,
            text: 0.3,
        }
    }
}

/// How results are ranked and cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankOptions {
    pub weights: Weights,
    /// Results scoring below this are dropped.
    pub min_score: f64,
    /// At most this many results.
    pub max_results: usize,
    /// The factor a personal chunk's score is multiplied by.
    pub personal_boost: f64,
}

impl Default for RankOptions {
    /// GoClaw's `memory_search` defaults: 6 results, no minimum, personal chunks ×1.2.
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            min_score: 0.0,
            max_results: 6,
            personal_boost: 1.2,
        }
    }
}

/// A ranked result: a place in a document, its text and how it scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub path: String,
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
    pub score: f64,
    /// The sources that found it, in the order they were given.
    pub sources: Vec<Source>,
    pub personal: bool,
}

/// Ranks the hits of every source together (see the module documentation).
pub fn rank(sources: &[(Source, Vec<Hit>)], options: &RankOptions) -> Vec<Ranked> {
    let with_hits = sources.iter().filter(|(_, hits)| !hits.is_empty()).count();
    let mut merged: Vec<Ranked> = Vec::new();
    let mut index: HashMap<(String, usize), usize> = HashMap::new();
    for (source, hits) in sources {
        let weight = if with_hits == 1 {
            1.0
        } else {
            match source {
                Source::Vector => options.weights.vector,
                Source::Text => options.weights.text,
            }
        };
        for (hit, normalized) in hits.iter().zip(normalize(hits)) {
            let boost = if hit.personal {
                options.personal_boost
            } else {
                1.0
            };
            let score = weight * normalized * boost;
            let key = (hit.path.clone(), hit.start_line);
            match index.get(&key) {
                Some(&at) => {
                    let place = &mut merged[at];
                    place.score += score;
                    if !place.sources.contains(source) {
                        place.sources.push(*source);
                    }
                    if hit.personal && !place.personal {
                        place.text.clone_from(&hit.text);
                        place.end_line = hit.end_line;
                        place.personal = true;
                    }
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push(Ranked {
                        path: hit.path.clone(),
                        start_line: hit.start_line,
                        end_line: hit.end_line,
                        text: hit.text.clone(),
                        score,
                        sources: vec![*source],
                        personal: hit.personal,
                    });
                }
            }
        }
    }
    merged.retain(|r| r.score >= options.min_score && r.score > 0.0);
    merged.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.start_line.cmp(&b.start_line))
    });
    merged.truncate(options.max_results);
    merged
}

/// Each hit's score divided by the best score of its source (0 when none is positive);
/// negative scores count as 0.
fn normalize(hits: &[Hit]) -> Vec<f64> {
    let best = hits
        .iter()
        .map(|h| h.score)
        .filter(|s| s.is_finite())
        .fold(0.0_f64, f64::max);
    hits.iter()
        .map(|h| {
            if best > 0.0 && h.score.is_finite() {
                (h.score / best).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(path: &str, line: usize, score: f64) -> Hit {
        Hit {
            path: path.to_owned(),
            start_line: line,
            end_line: line + 4,
            text: format!("{path}:{line}"),
            score,
            personal: false,
        }
    }

    fn places(ranked: &[Ranked]) -> Vec<(&str, usize)> {
        ranked
            .iter()
            .map(|r| (r.path.as_str(), r.start_line))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn scores_are_normalized_per_source_before_weighting() {
        // BM25-like text scores in the tens, cosine similarities below 1: raw sums would let
        // the text source decide everything.
        let text = vec![hit("a.md", 1, 40.0), hit("b.md", 1, 20.0)];
        let vector = vec![hit("b.md", 1, 0.9), hit("c.md", 1, 0.45)];
        let ranked = rank(
            &[(Source::Text, text), (Source::Vector, vector)],
            &RankOptions::default(),
        );
        assert_eq!(places(&ranked), [("b.md", 1), ("c.md", 1), ("a.md", 1)]);
        assert!(close(ranked[0].score, 0.3 * 0.5 + 0.7 * 1.0));
        assert!(close(ranked[1].score, 0.7 * 0.5));
        assert!(close(ranked[2].score, 0.3 * 1.0));
        assert_eq!(ranked[0].sources, [Source::Text, Source::Vector]);
    }

    #[test]
    fn a_single_source_counts_fully() {
        let vector = vec![hit("a.md", 1, 0.8), hit("b.md", 1, 0.4)];
        let ranked = rank(
            &[(Source::Text, Vec::new()), (Source::Vector, vector)],
            &RankOptions::default(),
        );
        assert!(close(ranked[0].score, 1.0));
        assert!(close(ranked[1].score, 0.5));
    }

    #[test]
    fn personal_chunks_are_boosted_and_win_the_text() {
        let mut mine = hit("MEMORY.md", 1, 0.5);
        mine.personal = true;
        mine.text = "my copy".to_owned();
        let shared = hit("MEMORY.md", 1, 0.5);
        let other = hit("notes.md", 3, 0.55);
        let ranked = rank(
            &[(Source::Vector, vec![other, shared, mine])],
            &RankOptions::default(),
        );
        assert_eq!(places(&ranked), [("MEMORY.md", 1), ("notes.md", 3)]);
        assert_eq!(ranked[0].text, "my copy");
        assert!(ranked[0].personal);
        let ranked = rank(
            &[(
                Source::Vector,
                vec![hit("x.md", 1, 1.0), {
                    let mut h = hit("y.md", 1, 0.9);
                    h.personal = true;
                    h
                }],
            )],
            &RankOptions::default(),
        );
        assert_eq!(
            places(&ranked),
            [("y.md", 1), ("x.md", 1)],
            "0.9 × 1.2 > 1.0"
        );
    }

    #[test]
    fn min_score_and_max_results_cut() {
        let vector: Vec<Hit> = (1..=10)
            .map(|n| hit("a.md", n, f64::from(n as u32)))
            .collect();
        let options = RankOptions {
            min_score: 0.35,
            max_results: 3,
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Vector, vector.clone())], &options);
        assert_eq!(places(&ranked), [("a.md", 10), ("a.md", 9), ("a.md", 8)]);
        let options = RankOptions {
            min_score: 0.75,
            max_results: 6,
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Vector, vector)], &options);
        assert_eq!(ranked.len(), 3, "0.8, 0.9 and 1.0 pass 0.75");
    }

    #[test]
    fn weights_can_be_overridden() {
        let text = vec![hit("t.md", 1, 3.0)];
        let vector = vec![hit("v.md", 1, 0.3)];
        let options = RankOptions {
            weights: Weights {
                vector: 0.2,
                text: 0.8,
            },
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Text, text), (Source::Vector, vector)], &options);
        assert_eq!(places(&ranked), [("t.md", 1), ("v.md", 1)]);
    }

    #[test]
    fn nothing_positive_ranks_nothing() {
        let ranked = rank(
            &[(
                Source::Vector,
                vec![hit("a.md", 1, -0.2), hit("b.md", 1, 0.0)],
            )],
            &RankOptions::default(),
        );
        assert!(ranked.is_empty(), "{ranked:?}");
        assert!(rank(&[], &RankOptions::default()).is_empty());
        let nan = vec![hit("a.md", 1, f64::NAN), hit("b.md", 1, 2.0)];
        assert_eq!(
            places(&rank(&[(Source::Text, nan)], &RankOptions::default())),
            [("b.md", 1)]
        );
    }
}
