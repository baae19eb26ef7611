//! The gateway's network face: binding the listener, authentication, WebSocket protocol v3,
//! the HTTP API, and graceful shutdown.
//!
//! Only this crate knows the HTTP/WebSocket wire format. It reaches storage through the
//! `goclaw_core::Store` trait and agents through the `goclaw_agent::Runtime`, and never touches
//! SQL; it knows nothing about configuration files either — the binary hands it ready
//! settings.
//!
//! `unsafe` is denied everywhere but in `connections/memory.rs` (one allocator call).

mod agents;
mod api_keys;
pub mod auth;
mod bind;
pub mod channels;
pub mod config_admin;
mod connections;
pub mod cron;
pub mod dashboard;
pub mod files;
pub mod heartbeat;
pub mod hooks;
mod http;
/// The production audit the binary plugs into `GET /v1/system/doctor`.
pub use http::doctor as http_doctor;
mod mcp_bridge;
pub mod mcp_servers;
pub mod origins;
mod providers;
mod quotas;
pub mod ratelimit;
pub mod request_quota;
mod routes;
pub mod scopes;
mod server;
pub mod skills;
pub mod teams;
pub mod tenant_events;
pub mod tenants;
mod turns;
mod usage;
pub mod webhooks;
mod ws;

pub use auth::{AuthSettings, Principal, Role};
pub use bind::{BindError, check_bind_security, is_loopback_host};
pub use connections::{ConnectionDeadlines, ConnectionLimits};
pub use http::{metrics_router, serve_metrics};
pub use providers::{ConfiguredProvider, EmbeddingInUse, StoredProviders};
pub use routes::{AppState, router};
pub use server::{Gateway, GatewayError, GatewaySettings};
