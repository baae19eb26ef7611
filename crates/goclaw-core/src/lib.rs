//! Domain types and service traits shared by every goclaw crate.
//!
//! This crate owns the vocabulary of the gateway — tenants, agents, sessions, messages — and
//! the traits behind which storage lives (`Store` and its sub-stores). It knows nothing about
//! SQL, HTTP, WebSocket frames or any particular async IO: other crates implement these traits
//! and the gateway talks to them only through these traits.
#![forbid(unsafe_code)]

pub mod domain;
pub mod store;

pub use domain::{
    Agent, AgentId, AgentKey, MASTER_TENANT_ID, MASTER_TENANT_SLUG, Message, MessageId, NewAgent,
    NewMessage, ParseError, Role, Session, SessionId, SessionKey, Tenant, TenantId,
};
pub use store::{
    AgentStore, MessageStore, SessionStore, Store, StoreBackend, StoreError, TenantStore,
};

/// The WebSocket/HTTP protocol version this gateway speaks.
pub const PROTOCOL_VERSION: u32 = 3;
