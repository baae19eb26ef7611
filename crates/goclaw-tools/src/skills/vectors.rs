//! Skill search by meaning: when memory has an embedding provider, each skill's
//! `"<name>: <description>"` (GoClaw's text) is embedded once and kept in memory, keyed by the
//! provider, model and text, and every search embeds its query; the cosine similarity joins
//! the BM25 score ([`hybrid`]). Without a provider, or when embedding fails, search is BM25
//! alone. Skills are few and their texts short, so nothing is stored in the database.

use std::collections::HashMap;
use std::sync::Mutex;

use goclaw_memory::embed::{EmbedderSlot, content_hash};

use super::catalog::SkillEntry;

/// Weight of the (normalized) BM25 score in the hybrid score.
pub const TEXT_WEIGHT: f64 = 0.3;
/// Weight of the cosine similarity in the hybrid score.
pub const VECTOR_WEIGHT: f64 = 0.7;
/// Least similarity for a skill no query word matches to be a result.
pub const MIN_SIMILARITY: f64 = 0.3;
/// Most cached skill vectors; the cache starts over beyond it.
const MAX_CACHED: usize = 10_000;

/// The text of a skill that is embedded.
pub fn skill_text(entry: &SkillEntry) -> String {
    if entry.description.is_empty() {
        entry.name.clone()
    } else {
        format!("{}: {}", entry.name, entry.description)
    }
}

/// Skill vectors of the embedder memory uses now.
pub struct SkillVectors {
    slot: EmbedderSlot,
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

impl SkillVectors {
    pub fn new(slot: EmbedderSlot) -> Self {
        Self {
            slot,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The cosine similarity of `query` to each entry, in order; `None` without an embedder
    /// or when embedding fails (logged).
    pub async fn similarities(&self, entries: &[SkillEntry], query: &str) -> Option<Vec<f64>> {
        let embedder = self.slot.current()?;
        let prefix = format!("{}/{}/", embedder.provider(), embedder.model());
        let keys: Vec<String> = entries
            .iter()
            .map(|e| format!("{prefix}{}", content_hash(&skill_text(e))))
            .collect();
        let missing: Vec<usize> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            (0..entries.len())
                .filter(|&i| !cache.contains_key(&keys[i]))
                .collect()
        };
        let mut texts: Vec<String> = missing.iter().map(|&i| skill_text(&entries[i])).collect();
        texts.push(query.to_owned());
        let mut vectors = match embedder.embed(&texts).await {
            Ok(vectors) if vectors.len() == texts.len() => vectors,
            Ok(_) => {
                tracing::warn!("skill_search.embedding_mismatch");
                return None;
            }
            Err(error) => {
                tracing::warn!(error = %error, "skill_search.embedding_failed");
                return None;
            }
        };
        let query_vector = vectors.pop()?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + missing.len() > MAX_CACHED {
            cache.clear();
        }
        for (i, vector) in missing.into_iter().zip(vectors) {
            cache.insert(keys[i].clone(), vector);
        }
        Some(
            keys.iter()
                .map(|key| cache.get(key).map_or(0.0, |v| cosine(v, &query_vector)))
                .collect(),
        )
    }
}

/// The cosine similarity of two vectors (0 when either is zero or they differ in length).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

/// Joins BM25 results (`text`, indexes with scores) and similarities (one per entry):
/// `0.3 × BM25 / best BM25 + 0.7 × similarity`, over the entries a query word matches or
/// that are at least [`MIN_SIMILARITY`] similar; best first, at most `limit`.
pub fn hybrid(text: &[(usize, f64)], similarity: &[f64], limit: usize) -> Vec<(usize, f64)> {
    let best = text.iter().map(|(_, s)| *s).fold(0.0f64, f64::max);
    let mut scored: Vec<(usize, f64)> = (0..similarity.len())
        .filter_map(|i| {
            let words = text.iter().find(|(j, _)| *j == i).map(|(_, s)| *s);
            let meaning = similarity[i].max(0.0);
            if words.is_none() && meaning < MIN_SIMILARITY {
                return None;
            }
            let words = words.map_or(0.0, |s| if best > 0.0 { s / best } else { 0.0 });
            Some((i, TEXT_WEIGHT * words + VECTOR_WEIGHT * meaning))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(limit);
    scored
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use goclaw_memory::embed::{EmbedError, Embedder};

    use super::*;

    /// Texts about poems point one way, about PDFs another, anything else a third.
    struct Topics(AtomicUsize);

    #[async_trait]
    impl Embedder for Topics {
        fn provider(&self) -> &str {
            "test"
        }
        fn model(&self) -> &str {
            "topics"
        }
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts
                .iter()
                .map(|t| {
                    let t = t.to_lowercase();
                    if t.contains("poem") || t.contains("verse") {
                        vec![1.0, 0.1, 0.0]
                    } else if t.contains("pdf") || t.contains("document") {
                        vec![0.0, 1.0, 0.1]
                    } else {
                        vec![0.0, 0.0, 1.0]
                    }
                })
                .collect())
        }
    }

    fn entry(slug: &str, description: &str) -> SkillEntry {
        SkillEntry {
            id: None,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            description: description.to_owned(),
            source: "global",
            location: PathBuf::from(slug),
            version: 1,
            tags: Vec::new(),
            content: format!("---\nname: {slug}\n---\nSteps."),
        }
    }

    #[tokio::test]
    async fn meaning_finds_what_no_word_matches_and_vectors_are_kept() {
        let topics = Arc::new(Topics(AtomicUsize::new(0)));
        let vectors = SkillVectors::new(EmbedderSlot::new(Some(topics.clone())));
        let entries = [
            entry("haiku", "Writes short poems"),
            entry("pdf-tools", "Fills PDF forms"),
        ];
        let query = "compose some verse";
        let text = super::super::search::rank(&entries, query, 5);
        assert!(text.is_empty(), "no query word is in a skill");
        let similarity = vectors
            .similarities(&entries, query)
            .await
            .expect("vectors");
        let ranked = hybrid(&text, &similarity, 5);
        assert_eq!(ranked.first().map(|(i, _)| *i), Some(0), "{ranked:?}");
        assert_eq!(ranked.len(), 1, "the PDF skill is not similar: {ranked:?}");
        assert_eq!(
            topics.0.load(Ordering::SeqCst),
            3,
            "two skills and the query"
        );
        vectors.similarities(&entries, "pdf").await.expect("again");
        assert_eq!(
            topics.0.load(Ordering::SeqCst),
            4,
            "only the query is embedded again"
        );
    }

    #[tokio::test]
    async fn without_an_embedder_there_are_no_similarities() {
        let vectors = SkillVectors::new(EmbedderSlot::default());
        assert!(
            vectors
                .similarities(&[entry("a", "b")], "q")
                .await
                .is_none()
        );
    }

    #[test]
    fn words_and_meaning_are_weighed_together() {
        // Entry 1 matches the words best; entry 0 is closer in meaning.
        let ranked = hybrid(&[(1, 4.0), (0, 1.0)], &[0.9, 0.2, 0.1], 5);
        let order: Vec<usize> = ranked.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [0, 1], "{ranked:?}");
        assert!((ranked[0].1 - (0.3 * 0.25 + 0.7 * 0.9)).abs() < 1e-9);
        assert!((ranked[1].1 - (0.3 + 0.7 * 0.2)).abs() < 1e-9);
        assert!((cosine(&[1.0, 0.0], &[0.0, 1.0])).abs() < 1e-9);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
