//! SQLite's nearest-neighbour index over memory chunks, held in the process: each agent's
//! chunk signatures ([`crate::signature`]) in memory, compared with a probe's by Hamming
//! distance to pick the candidates a search then ranks by exact cosine distance in SQL
//! (`crate::sql`'s `SEARCH_VECTOR`).
//!
//! The database stays the record. `memory_chunks_vec` holds every embedded chunk's signature
//! numbered by `seq` in commit order (SQLite has one writer at a time, so a reader that has
//! seen `seq` n has seen every row below it), and `memory_chunks_vec_removed` logs the `seq` of
//! each signature that goes; triggers fill both. Before each search the agent's signatures
//! catch up with the rows past the last `seq` read from each table, so writes of any
//! connection or process are seen by the next search. An agent is loaded at its first search;
//! when the removal log has been pruned past what an agent last read (it keeps its newest
//! 100,000 rows), or moved backwards (another database file), the agent is loaded again.
//! A removal missed for a moment only costs a candidate: the ranking statement joins
//! `memory_chunks`, where the chunk is gone.
//!
//! Memory: about 268 bytes a chunk. Past [`RESIDENT_LIMIT`] bytes over all agents, the least
//! recently searched agents are dropped (and loaded again at their next search).

mod signatures;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use goclaw_core::{AgentId, StoreError};

use crate::error::store_error;
use crate::signature::signature;
use crate::sql::{Pool, SIGNATURE_REMOVALS_SPAN, SIGNATURES_ADDED, SIGNATURES_REMOVED};
use signatures::{Signatures, Words, words};

/// Signature bytes kept in memory over all agents: about 1,000,000 chunks.
const RESIDENT_LIMIT: usize = 256 << 20;

/// Signatures read per statement while catching up.
const PAGE: i64 = 4096;

/// The index of one store: the signatures of the agents searched so far.
#[derive(Default)]
pub(crate) struct SignatureIndex {
    agents: Mutex<HashMap<AgentId, Arc<Agent>>>,
}

/// One agent's signatures and how far they have read the two tables.
#[derive(Default)]
struct Agent {
    /// Held while catching up, so one search reads the new rows and the others wait for it.
    catching_up: tokio::sync::Mutex<()>,
    state: RwLock<State>,
    last_search: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    /// The last `seq` read from `memory_chunks_vec` and from `memory_chunks_vec_removed`.
    last_added: i64,
    last_removed: i64,
    signatures: Signatures,
}

impl SignatureIndex {
    /// The `seq` of at most `candidates` of the agent's chunks (shared, or `user`'s) whose
    /// signatures are nearest `embedding`'s, nearest first.
    pub(crate) async fn nearest(
        &self,
        pool: &Pool,
        agent: AgentId,
        user: Option<&str>,
        embedding: &[f32],
        candidates: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let entry = {
            let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(agents.entry(agent).or_default())
        };
        *entry
            .last_search
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        entry.catch_up(pool, agent).await?;
        let probe = words(&signature(embedding)).unwrap_or_default();
        let nearest = entry
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .signatures
            .nearest(user, &probe, candidates);
        self.evict(agent);
        Ok(nearest)
    }

    /// Drops the least recently searched agents (never `keep`) while the signatures held
    /// exceed [`RESIDENT_LIMIT`].
    fn evict(&self, keep: AgentId) {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let mut held: Vec<(Option<Instant>, AgentId, usize)> = agents
            .iter()
            .map(|(id, agent)| (agent.last_search(), *id, agent.bytes()))
            .collect();
        let mut total: usize = held.iter().map(|(_, _, bytes)| bytes).sum();
        if total <= RESIDENT_LIMIT {
            return;
        }
        held.sort_unstable_by_key(|(last, _, _)| *last);
        for (_, id, bytes) in held {
            if total <= RESIDENT_LIMIT {
                break;
            }
            if id != keep {
                agents.remove(&id);
                total -= bytes;
            }
        }
    }
}

impl Agent {
    fn last_search(&self) -> Option<Instant> {
        *self
            .last_search
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn bytes(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .signatures
            .bytes()
    }

    fn read_marks(&self) -> (bool, i64, i64) {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        (state.loaded, state.last_added, state.last_removed)
    }

    /// Reads the removals and then the additions past what this agent has read. Removals go
    /// first: a signature added and removed in between is then either not read at all or
    /// read and removed at the next search, never kept.
    async fn catch_up(&self, pool: &Pool, agent: AgentId) -> Result<(), StoreError> {
        let _one = self.catching_up.lock().await;
        let db_error = |e| store_error(e, "memory chunk");
        let (loaded, _, last_removed) = self.read_marks();
        let span = pool
            .fetch_one(&SIGNATURE_REMOVALS_SPAN, &[])
            .await
            .map_err(db_error)?;
        let span = span.read("memory chunk signature");
        let (oldest, newest) = (span.int("oldest")?, span.int("newest")?);
        let pruned_past_us = oldest > last_removed + 1;
        if !loaded || pruned_past_us || newest < last_removed {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            *state = State {
                loaded: true,
                last_removed: newest,
                ..State::default()
            };
        } else if newest > last_removed {
            let removed = pool
                .fetch_all(
                    &SIGNATURES_REMOVED,
                    &[agent.into(), last_removed.into(), newest.into()],
                )
                .await
                .map_err(db_error)?
                .map("memory chunk signature", |row| row.int("vec_seq"))?;
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            for seq in removed {
                state.signatures.remove(seq);
            }
            state.last_removed = newest;
        }
        loop {
            let (_, last_added, _) = self.read_marks();
            let added = pool
                .fetch_all(
                    &SIGNATURES_ADDED,
                    &[agent.into(), last_added.into(), PAGE.into()],
                )
                .await
                .map_err(db_error)?
                .map("memory chunk signature", |row| {
                    let blob = row.blob("signature")?;
                    let signature: Words = words(&blob).ok_or_else(|| {
                        row.corrupt(format!("a signature of {} bytes", blob.len()))
                    })?;
                    Ok((row.int("seq")?, row.text("user_scope")?, signature))
                })?;
            let page_full = added.len() as i64 >= PAGE;
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            for (seq, owner, signature) in added {
                state.signatures.add(seq, &owner, signature);
                state.last_added = seq;
            }
            if !page_full {
                return Ok(());
            }
        }
    }
}
