//! The engine-neutral SQL layer every table module is written against: a query is written
//! once, and only the dialect differences live here.
//!
//! - [`Statement`]: SQL with `?` placeholders and a few `{tokens}` ([`dialect`] lists them),
//!   rendered once per engine and cached.
//! - [`Param`]: a bound value in domain terms (id, text, integer, boolean, JSON, time, list of
//!   text), stored natively on PostgreSQL and in the SQLite schema's text/integer encodings.
//! - [`Row`] and [`Record`]: typed getters that undo those encodings, and the mapping of a
//!   table's row onto its domain type.
//! - [`Pool`], [`Tx`], [`Conn`]: running statements on either engine, with the write
//!   transaction and row locks each engine needs ([`Pool::begin_write`], [`Tx::lock`]).
//!
//! - [`retrieval`]: full-text and nearest-neighbour search over memory chunks, vault documents
//!   and episodic summaries, the one query the engines answer with different machinery, written
//!   as a pair.
//!
//! Nothing here but [`retrieval`] knows a table; nothing in `crate::tables` names an engine's types.

mod dialect;
mod exec;
mod param;
mod retrieval;
mod row;
mod statement;
pub(crate) mod vector;

pub(crate) use dialect::Dialect;
pub(crate) use exec::{Conn, Locked, Pool, Tx};
pub(crate) use param::Param;
pub(crate) use retrieval::{
    CHUNK_COLUMNS, ENTITY_COLUMNS, EPISODE_COLUMNS, SEARCH_EPISODES_TEXT, SEARCH_EPISODES_VECTOR,
    SEARCH_TEXT, SEARCH_VECTOR, SIGNATURE_REMOVALS_SPAN, SIGNATURES_ADDED, SIGNATURES_REMOVED,
    SIMILAR_ENTITIES, VAULT_COLUMNS, VAULT_SEARCH_TEXT, VAULT_SEARCH_VECTOR,
};
pub(crate) use row::{Record, Row};
pub(crate) use statement::Statement;
