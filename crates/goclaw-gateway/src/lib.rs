//! The gateway's network face: binding the listener, the HTTP routes, and graceful shutdown.
//!
//! Only this crate knows the HTTP/WebSocket wire format. It reaches storage through the
//! `goclaw_core::Store` trait and never touches SQL; it knows nothing about configuration files
//! either — the binary hands it a ready `GatewaySettings`.
#![forbid(unsafe_code)]

mod bind;
mod routes;
mod server;

pub use bind::{BindError, check_bind_security, is_loopback_host};
pub use routes::{AppState, router};
pub use server::{Gateway, GatewayError, GatewaySettings};
