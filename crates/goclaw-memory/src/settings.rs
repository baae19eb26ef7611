//! The settings memory is cut and ranked by, from where GoClaw takes them:
//!
//! - Chunking: the master tenant's system configs `embedding.max_chunk_len` and
//!   `embedding.chunk_overlap` when set (a positive number), else
//!   `agents.defaults.memory.max_chunk_len`/`chunk_overlap`. It sits in a [`ChunkingSlot`]
//!   shared by every index of the process, so a change of the system configs reaches the next
//!   write at once.
//! - Ranking: `agents.defaults.memory` (`max_results`, `vector_weight`, `text_weight`,
//!   `min_score`), then the agent's own `memory_config` (kept in its `other_config`), whose
//!   positive values win ([`agent_ranking`]), then what one search asks for.

use std::sync::{Arc, PoisonError, RwLock};

use goclaw_core::Agent;
use serde_json::Value;

use crate::chunk::ChunkOptions;
use crate::rank::RankOptions;

/// The key of an agent's `other_config` that holds its memory settings (GoClaw's
/// `memory_config`).
pub const AGENT_MEMORY_CONFIG_KEY: &str = "memory_config";

/// Most results an agent's `memory_config` may ask one search for.
const MAX_AGENT_RESULTS: f64 = 100.0;

/// The chunking every index of a process shares; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ChunkingSlot(Arc<RwLock<ChunkOptions>>);

impl ChunkingSlot {
    pub fn new(options: ChunkOptions) -> Self {
        Self(Arc::new(RwLock::new(options)))
    }

    /// The chunking in force.
    pub fn current(&self) -> ChunkOptions {
        *self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `options` in force for every index sharing the slot.
    pub fn replace(&self, options: ChunkOptions) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = options;
    }
}

/// Chunking from GoClaw's two numbers, GoClaw's default for a zero.
pub fn chunking(max_chunk_len: u32, chunk_overlap: u32) -> ChunkOptions {
    let defaults = ChunkOptions::default();
    ChunkOptions {
        max_chars: match max_chunk_len {
            0 => defaults.max_chars,
            n => usize::try_from(n).unwrap_or(defaults.max_chars),
        },
        overlap_chars: match chunk_overlap {
            0 => defaults.overlap_chars,
            n => usize::try_from(n).unwrap_or(defaults.overlap_chars),
        },
    }
}

/// `defaults` with the positive values of `agent`'s `memory_config` (`max_results`, at most
/// 100, `vector_weight`, `text_weight`, `min_score`) in their place.
pub fn agent_ranking(defaults: RankOptions, agent: &Agent) -> RankOptions {
    let Some(config) = agent.other_config.get(AGENT_MEMORY_CONFIG_KEY) else {
        return defaults;
    };
    let positive = |key: &str| {
        config
            .get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let mut ranking = defaults;
    if let Some(n) = positive("max_results") {
        ranking.max_results = n.min(MAX_AGENT_RESULTS) as usize;
    }
    if let Some(w) = positive("vector_weight") {
        ranking.weights.vector = w;
    }
    if let Some(w) = positive("text_weight") {
        ranking.weights.text = w;
    }
    if let Some(s) = positive("min_score") {
        ranking.min_score = s;
    }
    ranking
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::Weights;

    fn agent(other_config: Value) -> Agent {
        let now = chrono::Utc::now();
        Agent {
            id: goclaw_core::AgentId::generate(),
            tenant_id: goclaw_core::MASTER_TENANT_ID,
            agent_key: goclaw_core::AgentKey::parse("keeper").expect("key"),
            display_name: "Keeper".to_owned(),
            provider: String::new(),
            model: String::new(),
            is_default: false,
            agent_type: "open".to_owned(),
            status: "active".to_owned(),
            context_window: 0,
            max_tool_iterations: 0,
            workspace: String::new(),
            restrict_to_workspace: true,
            other_config,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn an_agents_positive_settings_win() {
        let defaults = RankOptions {
            weights: Weights {
                vector: 0.7,
                text: 0.3,
            },
            min_score: 0.35,
            max_results: 6,
            personal_boost: 1.2,
            ..RankOptions::default()
        };
        let check = |config: Value, expected: RankOptions| {
            assert_eq!(
                agent_ranking(defaults, &agent(config.clone())),
                expected,
                "{config}"
            );
        };
        check(serde_json::json!({}), defaults);
        check(serde_json::json!({"memory_config": "odd"}), defaults);
        check(
            serde_json::json!({"memory_config": {"max_results": 3, "vector_weight": 0.2,
                                                 "text_weight": 0.8, "min_score": 0.5}}),
            RankOptions {
                weights: Weights {
                    vector: 0.2,
                    text: 0.8,
                },
                min_score: 0.5,
                max_results: 3,
                personal_boost: 1.2,
                ..RankOptions::default()
            },
        );
        check(
            serde_json::json!({"memory_config": {"max_results": 0, "min_score": -1,
                                                 "text_weight": "high"}}),
            defaults,
        );
        check(
            serde_json::json!({"memory_config": {"max_results": 1e12}}),
            RankOptions {
                max_results: 100,
                ..defaults
            },
        );
    }

    #[test]
    fn zero_chunk_settings_mean_goclaws_defaults() {
        assert_eq!(chunking(0, 0), ChunkOptions::default());
        assert_eq!(
            chunking(400, 50),
            ChunkOptions {
                max_chars: 400,
                overlap_chars: 50
            }
        );
        let slot = ChunkingSlot::new(chunking(400, 50));
        let shared = slot.clone();
        slot.replace(chunking(0, 0));
        assert_eq!(shared.current(), ChunkOptions::default());
    }
}
