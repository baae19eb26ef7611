//! Finding episodes again: hybrid search over one user's episodes with the shared ranking,
//! and the auto-inject section a turn's system prompt gets from the most relevant ones.
//!
//! A query is searched by its words (any of them, common English words left out) and, with an
//! embedder, by its vector; the two are ranked together by [`crate::rank`] with GoClaw's
//! episodic weights, text 0.7 / vector 0.3. Each source is normalized by its best hit, so
//! without embeddings the best match scores 1.0 and `min_score` trims the weaker ones.

use std::collections::HashMap;
use std::sync::Arc;

use goclaw_core::{Agent, Episode, EpisodicScope, ScoredEpisode, Store};

use crate::embed::{Embedder, EmbedderSlot};
use crate::index::MemoryError;
use crate::rank::{Fusion, Hit, RankOptions, Source, Weights, rank};

/// Words too common to say what a message is about.
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me",
    "my", "of", "on", "or", "our", "please", "so", "that", "the", "their", "them", "there", "this",
    "to", "us", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
    "with", "would", "you", "your",
];

/// What an episode search asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodicSearchOptions {
    pub max_results: usize,
    /// Results scoring below this are dropped.
    pub min_score: f64,
}

impl Default for EpisodicSearchOptions {
    fn default() -> Self {
        Self {
            max_results: 6,
            min_score: 0.0,
        }
    }
}

/// An episode found, with its combined score.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeHit {
    pub episode: Episode,
    pub score: f64,
}

/// GoClaw's auto-inject limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoInject {
    pub enabled: bool,
    pub max_entries: usize,
    /// Budget of the section's entries, in tokens (estimated at 4 characters each).
    pub max_tokens: usize,
    /// Least combined score of an injected entry.
    pub threshold: f64,
}

impl Default for AutoInject {
    fn default() -> Self {
        Self {
            enabled: true,
            max_entries: 5,
            max_tokens: 200,
            threshold: 0.3,
        }
    }
}

/// The agent's auto-inject settings: GoClaw's keys in `other_config`
/// (`auto_inject_enabled`, `auto_inject_threshold`, `auto_inject_max_tokens`) over the
/// defaults.
pub fn auto_inject_settings(agent: &Agent) -> AutoInject {
    let config = &agent.other_config;
    let defaults = AutoInject::default();
    AutoInject {
        enabled: config
            .get("auto_inject_enabled")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(defaults.enabled),
        max_entries: defaults.max_entries,
        max_tokens: config
            .get("auto_inject_max_tokens")
            .and_then(serde_json::Value::as_u64)
            .filter(|n| *n > 0)
            .map_or(defaults.max_tokens, |n| n.min(4000) as usize),
        threshold: config
            .get("auto_inject_threshold")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(defaults.threshold),
    }
}

/// Searches episodes; cheap to clone.
#[derive(Clone)]
pub struct EpisodicRecall {
    store: Arc<dyn Store>,
    embedder: EmbedderSlot,
}

impl std::fmt::Debug for EpisodicRecall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodicRecall")
            .field("embedder", &self.embedder)
            .finish_non_exhaustive()
    }
}

impl EpisodicRecall {
    /// Search on `store`; without an embedder by words only.
    pub fn new(store: Arc<dyn Store>, embedder: Option<Arc<dyn Embedder>>) -> Self {
        Self::switchable(store, EmbedderSlot::new(embedder))
    }

    /// Search on `store` embedding queries with whatever `slot` holds at the time.
    pub fn switchable(store: Arc<dyn Store>, slot: EmbedderSlot) -> Self {
        Self {
            store,
            embedder: slot,
        }
    }

    /// The scope's unexpired episodes relevant to `query`, best first.
    pub async fn search(
        &self,
        scope: &EpisodicScope,
        query: &str,
        options: EpisodicSearchOptions,
    ) -> Result<Vec<EpisodeHit>, MemoryError> {
        let limit = u32::try_from(options.max_results.saturating_mul(2).max(1)).unwrap_or(u32::MAX);
        let episodic = self.store.episodic();
        let words = meaningful_words(query);
        let text = episodic.search_episodes_text(scope, &words, limit).await?;
        let vector = match self.query_vector(query).await {
            Ok(Some(vector)) => {
                episodic
                    .search_episodes_vector(scope, &vector, limit)
                    .await?
            }
            Ok(None) => Vec::new(),
            Err(error) => {
                tracing::warn!(%error, "episodic memory: query not embedded; searching its words only");
                Vec::new()
            }
        };
        let mut episodes: HashMap<String, Episode> = HashMap::new();
        let mut hits = |found: Vec<ScoredEpisode>| -> Vec<Hit> {
            found
                .into_iter()
                .map(|s| {
                    let key = s.episode.id.to_string();
                    let hit = Hit {
                        path: key.clone(),
                        start_line: 0,
                        end_line: 0,
                        text: String::new(),
                        score: s.score,
                        personal: false,
                    };
                    episodes.insert(key, s.episode);
                    hit
                })
                .collect()
        };
        let sources = [(Source::Text, hits(text)), (Source::Vector, hits(vector))];
        let ranked = rank(
            &sources,
            &RankOptions {
                weights: Weights {
                    text: 0.7,
                    vector: 0.3,
                },
                min_score: options.min_score,
                max_results: options.max_results,
                personal_boost: 1.0,
                fusion: Fusion::BEST_SCORE,
            },
        );
        Ok(ranked
            .into_iter()
            .filter_map(|r| {
                episodes.remove(&r.path).map(|episode| EpisodeHit {
                    episode,
                    score: r.score,
                })
            })
            .collect())
    }

    /// The system-prompt section of the episodes most relevant to `message`, within the
    /// limits of `settings`; `None` when disabled or nothing is relevant enough.
    pub async fn auto_inject(
        &self,
        scope: &EpisodicScope,
        message: &str,
        settings: AutoInject,
    ) -> Result<Option<String>, MemoryError> {
        if !settings.enabled || settings.max_entries == 0 {
            return Ok(None);
        }
        let options = EpisodicSearchOptions {
            max_results: settings.max_entries,
            min_score: settings.threshold,
        };
        let hits = self.search(scope, message, options).await?;
        Ok(inject_section(&hits, settings.max_tokens))
    }

    async fn query_vector(&self, query: &str) -> Result<Option<Vec<f32>>, MemoryError> {
        let Some(embedder) = self.embedder.current() else {
            return Ok(None);
        };
        let vectors = embedder.embed(&[query.to_owned()]).await?;
        Ok(vectors.into_iter().next())
    }
}

/// The words of `query` that say what it is about: common English words left out, unless
/// nothing else is left.
fn meaningful_words(query: &str) -> String {
    let words: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !STOP_WORDS.contains(&w.to_lowercase().as_str()))
        .collect();
    if kept.is_empty() {
        words.join(" ")
    } else {
        kept.join(" ")
    }
}

/// The auto-inject section: one line per episode (its id, date and abstract), best first,
/// while the entries fit `max_tokens`.
fn inject_section(hits: &[EpisodeHit], max_tokens: usize) -> Option<String> {
    let budget_chars = max_tokens.saturating_mul(4);
    let mut used = 0;
    let mut lines = Vec::new();
    for hit in hits {
        let episode = &hit.episode;
        let about = if episode.l0_abstract.trim().is_empty() {
            episode.summary.trim()
        } else {
            episode.l0_abstract.trim()
        };
        let line = format!(
            "- [{}] {}: {}",
            episode.id,
            episode.created_at.format("%Y-%m-%d"),
            about
        );
        let cost = line.chars().count();
        if used + cost > budget_chars {
            break;
        }
        used += cost;
        lines.push(line);
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "## Memory of earlier conversations\nNotes from your earlier sessions with this user, \
         most relevant first. They may be out of date. Call memory_expand with an id for the \
         full summary.\n{}\n",
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use goclaw_core::{AgentId, MASTER_TENANT_ID};
    use serde_json::{Value, json};

    use super::*;

    fn agent(other_config: Value) -> Agent {
        serde_json::from_value(json!({
            "id": "0193a5b0-7000-7000-8000-0000000000c1",
            "tenant_id": MASTER_TENANT_ID,
            "agent_key": "keeper",
            "display_name": "",
            "provider": "",
            "model": "",
            "is_default": false,
            "agent_type": "open",
            "status": "active",
            "context_window": 0,
            "max_tool_iterations": 0,
            "workspace": "",
            "restrict_to_workspace": true,
            "other_config": other_config,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .expect("an agent")
    }

    #[test]
    fn auto_inject_follows_the_agents_settings_over_goclaws_defaults() {
        let check = |config: Value, expected: AutoInject| {
            assert_eq!(
                auto_inject_settings(&agent(config.clone())),
                expected,
                "{config}"
            );
        };
        let defaults = AutoInject {
            enabled: true,
            max_entries: 5,
            max_tokens: 200,
            threshold: 0.3,
        };
        check(json!({}), defaults);
        check(
            json!({"auto_inject_enabled": false}),
            AutoInject {
                enabled: false,
                ..defaults
            },
        );
        check(
            json!({"auto_inject_threshold": 0.5, "auto_inject_max_tokens": 50}),
            AutoInject {
                threshold: 0.5,
                max_tokens: 50,
                ..defaults
            },
        );
        check(
            json!({"auto_inject_enabled": "no", "auto_inject_max_tokens": 0}),
            defaults,
        );
    }

    fn hit(n: u128, about: &str) -> EpisodeHit {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
            .single()
            .expect("time");
        EpisodeHit {
            episode: Episode {
                id: uuid::Uuid::from_u128(n),
                tenant_id: MASTER_TENANT_ID,
                agent_id: AgentId::from_uuid(uuid::Uuid::from_u128(99)),
                user_id: "alice".to_owned(),
                session_key: "s".to_owned(),
                summary: format!("{about} In full."),
                l0_abstract: about.to_owned(),
                key_topics: Vec::new(),
                source_type: "session".to_owned(),
                source_id: format!("s#{n}"),
                turn_count: 1,
                token_count: 1,
                created_at: at,
                expires_at: None,
            },
            score: 1.0,
        }
    }

    #[test]
    fn the_section_keeps_entries_within_the_token_budget() {
        let hits = [
            hit(1, "Teal is her colour."),
            hit(2, &"x".repeat(800)),
            hit(3, "Short."),
        ];
        let section = inject_section(&hits, 200).expect("a section");
        assert!(
            section.starts_with("## Memory of earlier conversations\n"),
            "{section}"
        );
        assert!(
            section.contains(
                "- [00000000-0000-0000-0000-000000000001] 2026-03-04: Teal is her colour.\n"
            ),
            "{section}"
        );
        assert!(
            !section.contains("xxx"),
            "an entry over the budget ends the list: {section}"
        );
        assert!(!section.contains("Short."), "{section}");
        assert_eq!(inject_section(&hits[..1], 5), None, "nothing fits");
        assert_eq!(inject_section(&[], 200), None);
    }

    #[test]
    fn queries_keep_their_meaningful_words() {
        let check = |query: &str, expected: &str| assert_eq!(meaningful_words(query), expected);
        check("What is my favourite colour?", "favourite colour");
        check("Where do I live", "live");
        check("what is it", "what is it");
        check("", "");
    }
}
