//! Ranking search hits from full-text and vector retrieval together: the one ranking both
//! storage engines share.
//!
//! Each source's raw scores are first put on a 0..=1 scale ([`Normalization`]), then weighted
//! (vector 0.7 / text 0.3 by default; a source that is the only one with hits gets weight 1.0)
//! and summed per place. By default ([`Fusion::default`]) full-text scores are divided by the
//! best full-text score of the query — BM25 and `ts_rank` have no scale of their own, their size
//! depends on the query and the corpus — while cosine similarity is taken as it is: it already
//! has an absolute scale (1 the same direction, 0 unrelated), and dividing it by the best one
//! would lift the nearest neighbours of a query that nothing is similar to (an IP address, an
//! unknown identifier) to full marks. So the final score is on 0..=1: 0.3 × (text score / best
//! text score) + 0.7 × cosine similarity; one source alone is its normalized score (the best
//! full-text hit 1.0, a vector hit its cosine), and `min_score` compares against that.
//!
//! A chunk the caller owns personally weighs 1.2 times a shared one. Hits of the same place —
//! same path and first line — are merged by summing, the personal copy's text winning; what
//! scores below `min_score` is dropped, and at most `max_results` are kept, best first.
//! docs/benchmarks.md ("Retrieval quality on the labelled corpus") has the measurements behind
//! the default and the alternatives kept here for measuring.

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

/// How one source's raw scores are put on a 0..=1 scale before weighting. A hit scoring 0 or
/// less, or not a finite number, counts as not found (0) under every rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalization {
    /// The score divided by the source's best score: the best hit counts 1.0.
    BestScore,
    /// The score as it is, capped at 1.0: for scores that already have an absolute scale,
    /// such as cosine similarity.
    AsIs,
    /// The source's range mapped onto 0..=1: (score − lowest) / (best − lowest).
    MinMax,
    /// Distribution-based (as Qdrant's DBSF): (score − (mean − 3σ)) / 6σ over the source's
    /// hits, clamped to 0..=1, then divided by the best hit's value.
    Distribution,
    /// Reciprocal rank (Cormack, Clarke and Büttcher, SIGIR 2009): only the order of the
    /// source's hits counts, as (k + 1) / (k + rank), so the first hit counts 1.0.
    ReciprocalRank { k: f64 },
}

impl Normalization {
    /// Reciprocal rank with the constant of its paper, k = 60.
    pub const RECIPROCAL_RANK: Self = Self::ReciprocalRank { k: 60.0 };
}

/// How the sources' scores are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    /// How full-text scores are normalized.
    pub text: Normalization,
    /// How vector (cosine similarity) scores are normalized.
    pub vector: Normalization,
    /// CombMNZ (Fox and Shaw, TREC-2 1994): a place's summed score is multiplied by the number
    /// of sources that found it.
    pub reward_agreement: bool,
}

impl Fusion {
    /// Every source divided by its best score: the ranking before cosine similarity was taken
    /// as it is, still used where no labelled corpus has measured the difference.
    pub const BEST_SCORE: Self = Self {
        text: Normalization::BestScore,
        vector: Normalization::BestScore,
        reward_agreement: false,
    };

    fn of(&self, source: Source) -> Normalization {
        match source {
            Source::Text => self.text,
            Source::Vector => self.vector,
        }
    }
}

impl Default for Fusion {
    /// Full text divided by its best score, cosine similarity as it is (see the module
    /// documentation).
    fn default() -> Self {
        Self {
            text: Normalization::BestScore,
            vector: Normalization::AsIs,
            reward_agreement: false,
        }
    }
}

/// How results are ranked and cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankOptions {
    pub weights: Weights,
    /// How the sources' scores are normalized and combined.
    pub fusion: Fusion,
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
            fusion: Fusion::default(),
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
        let normalized = normalize(hits, options.fusion.of(*source));
        for (hit, normalized) in hits.iter().zip(normalized) {
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
    if options.fusion.reward_agreement {
        for place in &mut merged {
            place.score *= place.sources.len() as f64;
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

/// Each hit's score on 0..=1 by `rule` (0 for a hit that counts as not found).
fn normalize(hits: &[Hit], rule: Normalization) -> Vec<f64> {
    let found = |h: &Hit| h.score.is_finite() && h.score > 0.0;
    let scores: Vec<f64> = hits.iter().filter(|h| found(h)).map(|h| h.score).collect();
    let Some(best) = scores.iter().copied().reduce(f64::max) else {
        return vec![0.0; hits.len()];
    };
    let lowest = scores.iter().copied().fold(best, f64::min);
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let sd = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
    let value = |score: f64| -> f64 {
        match rule {
            Normalization::BestScore => score / best,
            Normalization::AsIs => score,
            Normalization::MinMax if best > lowest => (score - lowest) / (best - lowest),
            Normalization::Distribution if sd > 0.0 => {
                let of = |s: f64| ((s - (mean - 3.0 * sd)) / (6.0 * sd)).clamp(0.0, 1.0);
                of(score) / of(best)
            }
            Normalization::MinMax | Normalization::Distribution => 1.0,
            Normalization::ReciprocalRank { k } => {
                let rank = 1 + scores.iter().filter(|s| **s > score).count();
                (k + 1.0) / (k + rank as f64)
            }
        }
    };
    hits.iter()
        .map(|h| {
            if found(h) {
                value(h.score).clamp(0.0, 1.0)
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
    fn text_is_normalized_by_its_best_score_and_cosine_taken_as_it_is() {
        // BM25-like text scores in the tens, cosine similarities below 1: raw sums would let
        // the text source decide everything.
        let text = vec![hit("a.md", 1, 40.0), hit("b.md", 1, 20.0)];
        let vector = vec![hit("b.md", 1, 0.9), hit("c.md", 1, 0.45)];
        let ranked = rank(
            &[
                (Source::Text, text.clone()),
                (Source::Vector, vector.clone()),
            ],
            &RankOptions::default(),
        );
        assert_eq!(places(&ranked), [("b.md", 1), ("c.md", 1), ("a.md", 1)]);
        assert!(close(ranked[0].score, 0.3 * 0.5 + 0.7 * 0.9));
        assert!(close(ranked[1].score, 0.7 * 0.45));
        assert!(close(ranked[2].score, 0.3 * 1.0));
        assert_eq!(ranked[0].sources, [Source::Text, Source::Vector]);

        let options = RankOptions {
            fusion: Fusion::BEST_SCORE,
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Text, text), (Source::Vector, vector)], &options);
        assert!(close(ranked[0].score, 0.3 * 0.5 + 0.7 * 1.0));
        assert!(close(ranked[1].score, 0.7 * 0.5), "0.45 / 0.9");
    }

    #[test]
    fn weak_nearest_neighbours_do_not_bury_the_one_word_match() {
        // A query nothing is similar to in meaning (an IP address): the vector source still
        // returns its nearest chunks, all with low cosines; full text finds the one that holds
        // it. Divided by their best, the cosines would all count about 1.0 and outrank it.
        let text = vec![hit("bastion.md", 1, 22.5)];
        let vector: Vec<Hit> = (1..=10)
            .map(|n| hit(&format!("noise-{n}.md"), 1, 0.2 - f64::from(n) * 0.005))
            .collect();
        let sources = [(Source::Text, text), (Source::Vector, vector)];
        let ranked = rank(&sources, &RankOptions::default());
        assert_eq!(ranked[0].path, "bastion.md");
        let options = RankOptions {
            fusion: Fusion::BEST_SCORE,
            max_results: 20,
            ..RankOptions::default()
        };
        let ranked = rank(&sources, &options);
        assert_eq!(ranked.last().map(|r| r.path.as_str()), Some("bastion.md"));
    }

    #[test]
    fn a_single_source_counts_fully() {
        let vector = vec![hit("a.md", 1, 0.8), hit("b.md", 1, 0.4)];
        let ranked = rank(
            &[(Source::Text, Vec::new()), (Source::Vector, vector)],
            &RankOptions::default(),
        );
        assert!(close(ranked[0].score, 0.8), "a cosine alone is the score");
        assert!(close(ranked[1].score, 0.4));
        let text = vec![hit("a.md", 1, 12.0), hit("b.md", 1, 3.0)];
        let ranked = rank(
            &[(Source::Text, text), (Source::Vector, Vec::new())],
            &RankOptions::default(),
        );
        assert!(close(ranked[0].score, 1.0));
        assert!(close(ranked[1].score, 0.25));
    }

    fn check(rule: Normalization, scores: &[f64], expected: &[f64]) {
        let hits: Vec<Hit> = (1..)
            .zip(scores)
            .map(|(line, score)| hit("a.md", line, *score))
            .collect();
        let got = normalize(&hits, rule);
        assert!(
            got.len() == expected.len() && got.iter().zip(expected).all(|(g, e)| close(*g, *e)),
            "{rule:?} of {scores:?}: {got:?}, expected {expected:?}"
        );
    }

    #[test]
    fn each_normalization_maps_a_source_onto_zero_to_one() {
        use Normalization::*;
        check(BestScore, &[8.0, 4.0, 2.0], &[1.0, 0.5, 0.25]);
        check(AsIs, &[0.6, 0.3, -0.1], &[0.6, 0.3, 0.0]);
        check(AsIs, &[1.000_001], &[1.0]);
        check(MinMax, &[8.0, 4.0, 2.0], &[1.0, 1.0 / 3.0, 0.0]);
        check(MinMax, &[5.0, 5.0], &[1.0, 1.0]);
        // mean 2, σ 1: (s − (2 − 3)) / 6, divided by the best's 4/6.
        check(Distribution, &[3.0, 1.0, 3.0, 1.0], &[1.0, 0.5, 1.0, 0.5]);
        check(Distribution, &[5.0, 5.0], &[1.0, 1.0]);
        // Ties share the better rank: (60 + 1) / (60 + rank).
        check(
            Normalization::RECIPROCAL_RANK,
            &[0.9, 0.5, 0.5, 0.1],
            &[1.0, 61.0 / 62.0, 61.0 / 62.0, 61.0 / 64.0],
        );
        for rule in [
            BestScore,
            AsIs,
            MinMax,
            Distribution,
            Normalization::RECIPROCAL_RANK,
        ] {
            check(rule, &[f64::NAN, 0.0, -1.0], &[0.0, 0.0, 0.0]);
        }
    }

    #[test]
    fn reward_agreement_multiplies_by_the_sources_that_found_a_place() {
        let text = vec![hit("both.md", 1, 2.0), hit("text.md", 1, 4.0)];
        let vector = vec![hit("both.md", 1, 0.5), hit("vector.md", 1, 0.9)];
        let sources = [(Source::Text, text), (Source::Vector, vector)];
        let plain = rank(&sources, &RankOptions::default());
        assert_eq!(plain[0].path, "vector.md", "0.63 against 0.15 + 0.35");
        let options = RankOptions {
            fusion: Fusion {
                reward_agreement: true,
                ..Fusion::default()
            },
            ..RankOptions::default()
        };
        let ranked = rank(&sources, &options);
        assert_eq!(ranked[0].path, "both.md");
        assert!(close(ranked[0].score, 2.0 * (0.3 * 0.5 + 0.7 * 0.5)));
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
        let text: Vec<Hit> = (1..=10)
            .map(|n| hit("a.md", n, f64::from(n as u32)))
            .collect();
        let options = RankOptions {
            min_score: 0.35,
            max_results: 3,
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Text, text.clone())], &options);
        assert_eq!(places(&ranked), [("a.md", 10), ("a.md", 9), ("a.md", 8)]);
        let options = RankOptions {
            min_score: 0.75,
            max_results: 6,
            ..RankOptions::default()
        };
        let ranked = rank(&[(Source::Text, text)], &options);
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
