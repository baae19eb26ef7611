//! Searching the vault: full text over title, path and summary, and — with an embedder and an
//! agent's view — the documents nearest the query's meaning, each source asked for twice the
//! results wanted, narrowed by scope and type, and ranked together by the one shared ranking
//! ([`crate::rank`] with [`Fusion::BEST_SCORE`]: each source normalized by its best score,
//! then weighted; no labelled corpus of vault documents has measured another rule).

use std::collections::HashMap;

use goclaw_core::{ScoredVaultDocument, VaultDocument, VaultScope, VaultView};

use super::{Vault, VaultError};
use crate::rank::{Fusion, Hit, RankOptions, Source, rank};

/// GoClaw's default number of vault results.
pub const DEFAULT_MAX_RESULTS: usize = 10;

/// A search of the vault.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub query: String,
    /// Only documents of this scope.
    pub scope: Option<VaultScope>,
    /// Only documents of these types; empty for all.
    pub doc_types: Vec<String>,
    pub max_results: usize,
}

impl SearchRequest {
    /// A search for `query` with GoClaw's defaults.
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            scope: None,
            doc_types: Vec::new(),
            max_results: DEFAULT_MAX_RESULTS,
        }
    }
}

/// A document found, with its combined score.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultHit {
    pub document: VaultDocument,
    pub score: f64,
}

impl Vault {
    /// The documents of `view` that match `request`, best first.
    pub async fn search(
        &self,
        view: &VaultView,
        request: &SearchRequest,
    ) -> Result<Vec<VaultHit>, VaultError> {
        let wanted = request.max_results.max(1);
        let limit = u32::try_from(wanted.saturating_mul(2)).unwrap_or(u32::MAX);
        let vault = self.store.vault();
        let text = vault.search_text(view, &request.query, limit).await?;
        let vector = match (view.agent, self.embedding(&request.query).await) {
            (Some(agent), Ok(Some(query))) => {
                vault
                    .search_vector(view.tenant, agent, &query, limit)
                    .await?
            }
            (_, Ok(_)) => Vec::new(),
            (_, Err(error)) => {
                tracing::warn!(%error, "vault: query not embedded; searching its words only");
                Vec::new()
            }
        };
        let mut documents = HashMap::new();
        let mut hits = |found: Vec<ScoredVaultDocument>| -> Vec<Hit> {
            found
                .into_iter()
                .filter(|f| request.scope.is_none_or(|s| f.document.scope == s))
                .filter(|f| {
                    request.doc_types.is_empty() || request.doc_types.contains(&f.document.doc_type)
                })
                .map(|f| {
                    let key = f.document.id.to_string();
                    let hit = Hit {
                        path: key.clone(),
                        start_line: 0,
                        end_line: 0,
                        text: String::new(),
                        score: f.score,
                        personal: false,
                    };
                    documents.insert(key, f.document);
                    hit
                })
                .collect()
        };
        let sources = [(Source::Text, hits(text)), (Source::Vector, hits(vector))];
        let options = RankOptions {
            max_results: wanted,
            personal_boost: 1.0,
            fusion: Fusion::BEST_SCORE,
            ..RankOptions::default()
        };
        Ok(rank(&sources, &options)
            .into_iter()
            .filter_map(|ranked| {
                documents.remove(&ranked.path).map(|document| VaultHit {
                    document,
                    score: ranked.score,
                })
            })
            .collect())
    }
}
