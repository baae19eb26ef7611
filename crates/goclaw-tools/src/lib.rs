//! Built-in agent tools and their guards: the workspace guard and file tools, shell execution
//! with deny groups and approvals, SSRF-safe web fetching and search, tool policies, the tool
//! rate limit and credential scrubbing of tool output; the session and subagent tools; the MCP
//! client, whose servers' tools join the built-in ones.
//!
//! **Architecture Invariant:** tools reach the outside world only through clients whose base
//! URLs are configurable, and never through the gateway; nothing here knows a wire format of
//! the gateway.
#![forbid(unsafe_code)]
pub mod cron;
pub mod delegate;
pub mod exec;
pub mod files;
pub mod injection;
pub mod knowledge_graph;
pub mod known_secrets;
pub mod mcp;
pub mod media;
pub mod memory;
mod memory_expand;
pub mod memory_files;
pub mod message;
pub mod policy;
pub mod ratelimit;
pub mod registry;
pub mod sandbox;
pub mod scrub;
pub mod sessions;
pub mod skills;
pub mod subagents;
pub mod vault;
pub mod web;
pub mod workspace;
