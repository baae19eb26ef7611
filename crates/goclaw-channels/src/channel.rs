//! What every channel adapter is: something that receives a platform's updates, hands each to
//! the gateway to be stored before it acknowledges them, and sends replies (files included),
//! and downloads the files a message carried, within a byte cap.

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::media::{Media, MediaError};
use crate::message::{IncomingMessage, OutgoingMessage};

/// Where a received update goes: stored durably before the adapter tells the platform it
/// arrived. An error means "not stored": the adapter must not acknowledge the update.
#[async_trait]
pub trait InboundSink: Send + Sync {
    async fn accept(&self, message: IncomingMessage) -> Result<(), SinkError>;
}

/// The update could not be stored; the platform will deliver it again.
#[derive(Debug, thiserror::Error)]
#[error("the update could not be stored: {0}")]
pub struct SinkError(pub String);

/// Why sending failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (network, 5xx, rate limits), after `retry_after` when the platform
    /// said so.
    #[error("{reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The platform refused the message for good (chat gone, bot blocked, bad request).
    #[error("{0}")]
    Permanent(String),
}

/// Why a channel cannot run or answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ChannelError {
    /// The platform refused the credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The platform could not be reached or answered with an error.
    #[error("{0}")]
    Unavailable(String),
}

/// Why a platform's webhook delivery was not taken.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// The channel does not receive by webhook.
    #[error("this channel does not receive webhooks")]
    NotEnabled,
    /// The delivery does not carry the channel's secret.
    #[error("the webhook secret does not match")]
    Unauthorized,
    /// The body is not an update of the platform.
    #[error("not an update: {0}")]
    Invalid(String),
    /// Not stored (or the channel is not ready): the platform should deliver it again.
    #[error("{0}")]
    NotStored(String),
}

/// Who the bot is on its platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub id: String,
    /// `@name` without the `@`, where the platform has one.
    pub username: Option<String>,
}

/// A platform's limits on what one message may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformLimits {
    /// Longest text of one message, in characters.
    pub text_chunk: usize,
    /// Largest file taken or sent, in bytes (the channel's `media_max_bytes`).
    pub media_max_bytes: u64,
}

/// One channel instance.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The platform (`telegram`, `discord`, `slack`).
    fn kind(&self) -> &'static str;
    fn limits(&self) -> PlatformLimits;
    /// Who the bot is; checks the credentials.
    async fn identify(&self) -> Result<BotIdentity, ChannelError>;
    /// Receives updates until `stop`, handing each to `sink` before acknowledging it.
    /// Returns only when stopped or when the credentials are refused.
    async fn receive(
        &self,
        bot: &BotIdentity,
        sink: &dyn InboundSink,
        stop: CancellationToken,
    ) -> Result<(), ChannelError>;
    /// Takes one update the platform POSTed to the gateway (`/channels/{name}/webhook`), with
    /// the request's headers (names lowercase), handing it to `sink`; `Ok` only once stored.
    async fn webhook(
        &self,
        _bot: &BotIdentity,
        _headers: &[(String, String)],
        _body: &[u8],
        _sink: &dyn InboundSink,
    ) -> Result<(), WebhookError> {
        Err(WebhookError::NotEnabled)
    }
    /// Tells the platform a button press was handled, with a short `text` for the presser.
    async fn acknowledge(&self, _press: &crate::message::ButtonPress, _text: &str) {}
    /// The chat in which the bot writes to `user_id` directly (a session's peer). On platforms
    /// where a direct chat has an id of its own (Discord), the adapter opens or finds it.
    async fn direct_chat(&self, user_id: &str) -> Result<String, SendError> {
        Ok(user_id.to_owned())
    }
    /// Sends one message; returns the platform's id of it.
    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendError>;
    /// Replaces the text (and buttons) of the bot's message `message_id` in `message.chat_id`
    /// with `message`'s, for answers streamed in place. An edit that changes nothing is `Ok`.
    /// Platforms without edits refuse it for good.
    async fn edit(&self, _message_id: &str, _message: &OutgoingMessage) -> Result<(), SendError> {
        Err(SendError::Permanent(
            "this platform does not edit messages".to_owned(),
        ))
    }
    /// Downloads one attachment of a received message into `sink`, at most `limit` bytes:
    /// refused before downloading when its declared size is over, and abandoned once more
    /// than `limit` bytes arrived. Returns the bytes written.
    async fn fetch_media(
        &self,
        _media: &Media,
        _limit: u64,
        _sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        Err(MediaError::Refused(
            "this platform's files are not downloaded".to_owned(),
        ))
    }
    /// Shows that the bot is typing in `chat` (best effort).
    async fn typing(&self, chat_id: &str);
    /// The agent's Markdown answer in the platform's own markup, cut into messages within
    /// its limit.
    fn render(&self, markdown: &str) -> Vec<String>;
}
