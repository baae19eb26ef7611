//! Messaging channels: the adapters that connect platforms (Telegram, Discord, ...) to the
//! agents, the access policies and pairing prompts that decide who is answered, and the durable
//! inbox and outbox through which every message is answered exactly once.
//!
//! An adapter ([`Channel`]) only speaks its platform's wire protocol: it hands each received
//! update to an [`InboundSink`] — which stores it — before it acknowledges it, and sends what
//! it is given. Everything else is shared: [`dispatch`] decides and starts the turn,
//! [`outbox`] delivers, [`manager`] runs the instances the configuration enables.
#![forbid(unsafe_code)]

pub mod approvals;
pub mod channel;
pub mod chunk;
pub mod commands;
#[cfg(feature = "discord")]
pub mod discord;
pub mod dispatch;
pub mod groups;
pub mod history;
pub mod instances;
pub mod manager;
pub mod markdown;
pub mod media;
pub mod message;
pub mod outbox;
pub mod policy;
pub mod post;
pub mod route;
#[cfg(feature = "slack")]
pub mod slack;
pub mod stream;
#[cfg(feature = "telegram")]
pub mod telegram;

pub use channel::{
    BotIdentity, Channel, ChannelError, InboundSink, PlatformLimits, SendError, WebhookError,
};
pub use manager::{ChannelManager, ChannelState, ChannelStatus, ToggleError, Toggled};
pub use message::{ChatKind, IncomingMessage, OutgoingMessage};
pub use post::Posted;
