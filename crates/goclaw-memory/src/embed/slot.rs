//! [`EmbedderSlot`]: the embedder memory uses now, shared by everything that embeds and
//! replaced as a whole when the operator chooses another provider or model.

use std::sync::{Arc, PoisonError, RwLock};

use super::Embedder;

/// A shared, replaceable `Option<Arc<dyn Embedder>>`; clones share the slot.
#[derive(Clone, Default)]
pub struct EmbedderSlot(Arc<RwLock<Option<Arc<dyn Embedder>>>>);

impl EmbedderSlot {
    /// A slot holding `embedder`.
    pub fn new(embedder: Option<Arc<dyn Embedder>>) -> Self {
        Self(Arc::new(RwLock::new(embedder)))
    }

    /// The embedder in the slot now, if any.
    pub fn current(&self) -> Option<Arc<dyn Embedder>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `embedder` in the slot for every later write and search.
    pub fn replace(&self, embedder: Option<Arc<dyn Embedder>>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = embedder;
    }
}

impl std::fmt::Debug for EmbedderSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current();
        let described = current.as_ref().map(|e| (e.provider(), e.model()));
        f.debug_tuple("EmbedderSlot").field(&described).finish()
    }
}
