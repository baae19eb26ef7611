//! Ranking search hits from several retrieval sources together.
