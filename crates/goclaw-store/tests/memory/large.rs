//! Searches over more chunks than a search examines in full: full text leaves out the words
//! found in too many chunks (or, when all are, asks for the two rarest together), and SQLite's
//! vector search picks candidates by binary signature before ranking them exactly; both still
//! find what they should.

use goclaw_core::{MASTER_TENANT_ID, MemoryScope};
use goclaw_store::database_test;

use super::*;

/// More chunks than a full-text search may score for one query (1,000 on SQLite, 500 on
/// PostgreSQL: the store's `text_match_budget`).
const MANY: usize = 2_100;

database_test!(
    text_search_leaves_out_words_in_too_many_chunks,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let memory = store.memory();
        let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
        let routine: Vec<String> = (0..MANY).map(|n| format!("routine note {n}")).collect();
        let mut lines: Vec<&str> = routine.iter().map(String::as_str).collect();
        lines.push("routine failover drill");
        lines.push("failover runbook");
        // Short chunks of one common word each, which any-word matching would rank first.
        lines.extend(["routine"; 3]);
        lines.extend(["note"; 6]);
        memory
            .put_document(document(&owner, "memory/log.md", &lines))
            .await
            .expect("put");
        // PostgreSQL counts words from the planner's statistics.
        db.execute("ANALYZE memory_chunks").await;

        let found = memory
            .search_text(&owner, "routine failover", 10)
            .await
            .expect("search");
        let mut texts: Vec<&str> = found.iter().map(|f| f.chunk.text.as_str()).collect();
        texts.sort_unstable();
        assert_eq!(
            texts,
            ["failover runbook", "routine failover drill"],
            "the rare word decides; the word of every chunk is left out"
        );
        // A query of common words alone still finds their chunks: those holding both.
        let found = memory
            .search_text(&owner, "routine note", 10)
            .await
            .expect("search");
        assert_eq!(found.len(), 10, "{found:?}");
        assert!(
            found
                .iter()
                .all(|f| f.chunk.text.starts_with("routine note ")),
            "{found:?}"
        );

        // One common word: only the newest of its chunks are scored (the budget's number), so
        // among equally relevant chunks the newest are found, never the oldest.
        let found = memory
            .search_text(&owner, "note", 20)
            .await
            .expect("search");
        assert_eq!(found.len(), 20, "{found:?}");
        for f in &found {
            let number = f.chunk.text.strip_prefix("routine note ");
            let number: Option<usize> = number.and_then(|n| n.parse().ok());
            assert!(
                number.is_none_or(|n| n >= MANY - 1_000),
                "an old chunk was scored: {found:?}"
            );
        }
        let found = memory
            .search_text(&owner, "runbook", 10)
            .await
            .expect("search");
        assert_eq!(found.len(), 1);
    }
);

/// A deterministic pseudo-random vector with values in -1..1.
fn noise(seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..EMBEDDING_DIMENSIONS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

database_test!(
    vector_search_ranks_its_candidates_exactly,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let memory = store.memory();
        let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
        let names: Vec<String> = (0..400).map(|n| format!("chunk {n}")).collect();
        let lines: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut new = document(&owner, "memory/vectors.md", &lines);
        for (n, chunk) in new.chunks.iter_mut().enumerate() {
            chunk.embedding = Some(noise(n as u64 + 1));
        }
        memory.put_document(new).await.expect("put");
        // Near chunk 7: its vector plus a little of another.
        let probe: Vec<f32> = noise(8)
            .iter()
            .zip(noise(1_000))
            .map(|(a, b)| a + 0.3 * b)
            .collect();
        let found = memory
            .search_vector(&owner, &probe, 3)
            .await
            .expect("search");
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].chunk.text, "chunk 7");
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let target = noise(8);
        let cosine = probe.iter().zip(&target).map(|(a, b)| a * b).sum::<f32>()
            / (norm(&probe) * norm(&target));
        assert!(
            (found[0].score - f64::from(cosine)).abs() < 1e-4,
            "the score is the exact cosine similarity: {} vs {cosine}",
            found[0].score
        );
        assert!(found[1].score < found[0].score);
    }
);
