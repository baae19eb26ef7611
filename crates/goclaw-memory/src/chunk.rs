//! Cutting a memory document into overlapping chunks for retrieval.
