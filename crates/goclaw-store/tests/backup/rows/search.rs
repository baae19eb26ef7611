//! The check that a restore rebuilt the retrieval indexes: the memory and episodes [`fill`]
//! wrote are found again by full-text and vector search.
//!
//! [`fill`]: super::fill

use goclaw_core::{AgentKey, EMBEDDING_DIMENSIONS, EpisodicScope, MASTER_TENANT_ID, MemoryScope};
use goclaw_store::testing::TestDatabase;

use super::{EPISODE_WORD, MEMORY_AXIS, MEMORY_WORD};

/// Fails unless the memory filled by [`fill`] is found again by full-text and vector search,
/// that is, unless the retrieval indexes were rebuilt with the rows.
pub async fn assert_memory_searchable(db: &TestDatabase) {
    let store = db.store();
    let alpha = store
        .agents()
        .get_by_key(
            MASTER_TENANT_ID,
            &AgentKey::parse("alpha").expect("agent key"),
        )
        .await
        .expect("alpha")
        .id;
    let scope = MemoryScope::user(MASTER_TENANT_ID, alpha, "u1");
    let memory = store.memory();
    let by_text = memory
        .search_text(&scope, MEMORY_WORD, 10)
        .await
        .expect("text");
    let mut probe = vec![0.0_f32; EMBEDDING_DIMENSIONS];
    probe[MEMORY_AXIS] = 1.0;
    let by_vector = memory
        .search_vector(&scope, &probe, 10)
        .await
        .expect("vector");
    for (how, found) in [("text", by_text), ("vector", by_vector)] {
        assert_eq!(found.len(), 2, "{how} search after a restore: {found:?}");
    }
    let episodes = EpisodicScope::new(MASTER_TENANT_ID, alpha, "u1");
    let by_text = store
        .episodic()
        .search_episodes_text(&episodes, EPISODE_WORD, 10)
        .await
        .expect("episodes by text");
    assert_eq!(by_text.len(), 2, "episodes by text after a restore");
    let by_vector = store
        .episodic()
        .search_episodes_vector(&episodes, &probe, 10)
        .await
        .expect("episodes by vector");
    let sources: Vec<&str> = by_vector
        .iter()
        .map(|e| e.episode.source_id.as_str())
        .collect();
    assert_eq!(sources, ["web:one#4"], "episodes by vector after a restore");
}
