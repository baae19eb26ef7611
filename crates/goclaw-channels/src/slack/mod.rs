//! Slack through Socket Mode and the Web API: a WebSocket asked of `apps.connections.open`
//! with the app-level token carries the events, and each envelope is acknowledged only once
//! the gateway stored what it carries (so Slack sends it again otherwise); replies go by
//! `chat.postMessage` with the bot token, as mrkdwn in parts of at most 4,000 characters, in
//! the thread of the message they answer. A message the bot sent is edited in place by
//! `chat.update` (answers streamed as they grow).
//!
//! Threads follow GoClaw: in a channel the answer starts (or continues) a thread under the
//! message that asked — the dispatcher's `reply_to` becomes `thread_ts` — while in a direct
//! conversation it stays at the top level unless the user wrote in a thread. Files go both
//! ways ([`media`]).

pub mod api;
pub mod events;
pub mod format;
pub mod media;
mod socket;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::channel::{BotIdentity, Channel, ChannelError, InboundSink, PlatformLimits, SendError};
use crate::chunk::split_markdown;
use crate::media::{FileHosts, Media, MediaError};
use crate::message::{Button, ButtonPress, OutgoingMessage};
use api::{ApiError, WebApi};
use socket::SessionEnd;

/// Slack accepts far longer texts but shows long ones poorly; GoClaw cuts at 4,000.
pub const TEXT_CHUNK: usize = 4000;
/// The longest text of one Block Kit `section`.
const SECTION_TEXT: usize = 3000;
/// The longest label of a button.
const BUTTON_TEXT: usize = 75;
/// Waits between failed connections, growing up to the last.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(15),
];

/// How a Socket Mode connection is kept honest: a ping every `ping_every`, and a connection
/// from which nothing (not even a pong) was heard for `silence_limit` is abandoned for a new
/// one — a half-open socket would otherwise wait forever while Slack queues the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub ping_every: Duration,
    pub silence_limit: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(30),
            silence_limit: Duration::from_secs(45),
        }
    }
}

/// One Slack app.
#[derive(Debug)]
pub struct SlackChannel {
    api: WebApi,
    keepalive: Keepalive,
    /// `media_max_bytes`.
    media_max_bytes: u64,
    /// Where files are downloaded from and uploaded to.
    files: FileHosts,
}

/// GoClaw's default `channels.slack.media_max_bytes`.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The Slack app `config` describes, if it is enabled and has both its bot and app tokens.
pub fn from_config(
    config: &goclaw_config::SlackConfig,
    http: reqwest::Client,
) -> Option<Arc<dyn Channel>> {
    if !config.enabled {
        return None;
    }
    let bot_token = config
        .bot_token
        .as_ref()
        .map(|t| t.expose().trim())
        .filter(|t| !t.is_empty())?;
    let app_token = config
        .app_token
        .as_ref()
        .map(|t| t.expose().trim())
        .filter(|t| !t.is_empty())?;
    let api_server = config
        .api_server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(api::DEFAULT_API_SERVER);
    Some(Arc::new(
        SlackChannel::new(http, api_server, bot_token, app_token)
            .with_media_max_bytes(config.media_max_bytes),
    ))
}

impl SlackChannel {
    /// An app on `api_server` (Slack's own, or a proxy or double of it).
    pub fn new(http: reqwest::Client, api_server: &str, bot_token: &str, app_token: &str) -> Self {
        let files = FileHosts::new("slack", media::file_hosts(api_server));
        Self {
            api: WebApi::new(http, api_server, bot_token, app_token),
            keepalive: Keepalive::default(),
            media_max_bytes: DEFAULT_MEDIA_MAX_BYTES,
            files,
        }
    }

    /// The same app taking and sending files of at most `bytes`.
    pub fn with_media_max_bytes(mut self, bytes: u64) -> Self {
        self.media_max_bytes = bytes;
        self
    }

    /// The same app with other keepalive timings (tests use short ones).
    pub fn with_keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Whether a press's `response_url` may be POSTed to: Slack's own hooks host, or the
    /// configured Web API's host. The URL comes from a payload, so anything else (an internal
    /// address a forged payload names) is never called.
    fn trusts_response_url(&self, url: &str) -> bool {
        let Ok(url) = reqwest::Url::parse(url) else {
            return false;
        };
        if url.scheme() == "https" && url.host_str() == Some("hooks.slack.com") {
            return true;
        }
        let Ok(api) = reqwest::Url::parse(self.api.base()) else {
            return false;
        };
        url.scheme() == api.scheme()
            && url.host_str() == api.host_str()
            && url.port_or_known_default() == api.port_or_known_default()
    }
}

#[async_trait]
impl Channel for SlackChannel {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn limits(&self) -> PlatformLimits {
        PlatformLimits {
            text_chunk: TEXT_CHUNK,
            media_max_bytes: self.media_max_bytes,
        }
    }

    async fn identify(&self) -> Result<BotIdentity, ChannelError> {
        match self.api.auth_test().await {
            Ok(me) => Ok(BotIdentity {
                id: me.user_id,
                username: me.user,
            }),
            Err(error) if error.is_unauthorized() => {
                Err(ChannelError::Unauthorized(error.to_string()))
            }
            Err(error) => Err(ChannelError::Unavailable(error.to_string())),
        }
    }

    /// Connects, and connects again when Slack asks (`disconnect`), when the socket drops
    /// or when it falls silent; `Err` only when a token is refused.
    async fn receive(
        &self,
        bot: &BotIdentity,
        sink: &dyn InboundSink,
        stop: CancellationToken,
    ) -> Result<(), ChannelError> {
        let mut failures = 0usize;
        loop {
            let opened = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                opened = self.api.open_connection() => opened,
            };
            let end = match opened {
                Ok(url) => socket::run(&url, self.keepalive, bot, sink, &stop).await,
                Err(error) if error.is_unauthorized() => {
                    return Err(ChannelError::Unauthorized(error.to_string()));
                }
                Err(error) => SessionEnd::Lost {
                    reason: error.to_string(),
                    greeted: false,
                    retry_after: error.retry_after(),
                },
            };
            match end {
                SessionEnd::Stopped => return Ok(()),
                SessionEnd::Refresh(reason) => {
                    tracing::info!(channel = "slack", reason = %reason, "slack asked for a new connection");
                    failures = 0;
                }
                SessionEnd::Lost {
                    reason,
                    greeted,
                    retry_after,
                } => {
                    if greeted {
                        failures = 0;
                    }
                    let wait = BACKOFF[failures.min(BACKOFF.len() - 1)]
                        .max(retry_after.unwrap_or_default());
                    failures += 1;
                    tracing::warn!(
                        channel = "slack",
                        error = %reason,
                        wait_secs = wait.as_secs(),
                        "slack connection lost; connecting again"
                    );
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    async fn acknowledge(&self, press: &ButtonPress, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        if !self.trusts_response_url(&press.id) {
            tracing::warn!(
                channel = "slack",
                "security.slack_response_url: a press named a response URL outside Slack; not answered"
            );
            return;
        }
        let body = json!({"text": text, "response_type": "ephemeral", "replace_original": false});
        if let Err(error) = self.api.respond(&press.id, &body).await {
            tracing::debug!(channel = "slack", error = %error, "answering a button press failed");
        }
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendError> {
        if let Some(media) = &message.media {
            return self.send_media(message, media).await;
        }
        let body = post_message_body(message);
        self.api.post_message(&body).await.map_err(send_error)
    }

    /// `chat.update` of the bot's message `message_id` (its `ts`) with `message`'s text and
    /// buttons; without buttons the old ones go.
    async fn edit(&self, message_id: &str, message: &OutgoingMessage) -> Result<(), SendError> {
        let body = update_body(message_id, message);
        self.api.update_message(&body).await.map_err(send_error)
    }

    async fn fetch_media(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        self.fetch(media, limit, sink).await
    }

    /// Slack's Web API has no typing indicator for bots (GoClaw's in-progress sign is a
    /// reaction on the asking message, which this call does not name): nothing to do.
    async fn typing(&self, _chat_id: &str) {}

    fn render(&self, markdown: &str) -> Vec<String> {
        split_markdown(markdown, TEXT_CHUNK)
            .iter()
            .map(|part| format::to_mrkdwn(part))
            .collect()
    }
}

/// The `chat.postMessage` body of `message`: in the thread it names, else under the message
/// it replies to (which the dispatcher sets in channels only); buttons as Block Kit.
pub fn post_message_body(message: &OutgoingMessage) -> Value {
    let (text, buttons) = content(message);
    let mut body = json!({"channel": message.chat_id, "text": text, "mrkdwn": message.markup});
    let thread = message
        .thread_id
        .as_deref()
        .or(message.reply_to.as_deref())
        .filter(|ts| !ts.is_empty());
    if let Some(ts) = thread {
        body["thread_ts"] = json!(ts);
    }
    if let Some(blocks) = buttons {
        body["blocks"] = blocks;
    }
    body
}

/// The `chat.update` body replacing the bot's message `ts` in `message.chat_id` with
/// `message`: text and blocks as [`post_message_body`] makes them (a thread cannot change),
/// and `blocks: []` when there are no buttons, so that earlier buttons are removed.
pub fn update_body(ts: &str, message: &OutgoingMessage) -> Value {
    let (text, buttons) = content(message);
    json!({
        "channel": message.chat_id,
        "ts": ts,
        "text": text,
        "mrkdwn": message.markup,
        "blocks": buttons.unwrap_or_else(|| json!([])),
    })
}

/// The text of `message` as Slack reads it, and its blocks when it has buttons.
fn content(message: &OutgoingMessage) -> (String, Option<Value>) {
    // Slack reads `&`, `<` and `>` as markup even in plain text.
    let text = if message.markup {
        message.text.clone()
    } else {
        format::escape(&message.text)
    };
    let blocks = (!message.buttons.is_empty()).then(|| blocks(&text, &message.buttons));
    (text, blocks)
}

/// The text as `section` blocks (each within Slack's 3,000 characters) and the buttons as one
/// `actions` block.
fn blocks(text: &str, buttons: &[Button]) -> Value {
    let mut blocks: Vec<Value> = split_markdown(text, SECTION_TEXT)
        .into_iter()
        .map(|part| json!({"type": "section", "text": {"type": "mrkdwn", "text": part}}))
        .collect();
    let elements: Vec<Value> = buttons
        .iter()
        .enumerate()
        .map(|(n, button)| {
            let label: String = button.text.chars().take(BUTTON_TEXT).collect();
            let mut element = json!({
                "type": "button",
                "text": {"type": "plain_text", "text": label},
                "value": button.data,
                "action_id": format!("goclaw_{n}"),
            });
            if button.data.starts_with("ap:d:") {
                element["style"] = json!("danger");
            } else if button.data.starts_with("ap:o:") {
                element["style"] = json!("primary");
            }
            element
        })
        .collect();
    blocks.push(json!({"type": "actions", "elements": elements}));
    Value::Array(blocks)
}

/// A failed `chat.postMessage` or `chat.update` as the outbox sees it: tried again later, or
/// given up (a refusal such as `message_not_found`, `cant_update_message` or
/// `edit_window_closed` is never tried again).
pub fn send_error(error: ApiError) -> SendError {
    if error.is_transient() {
        SendError::Retryable {
            reason: error.to_string(),
            retry_after: error.retry_after(),
        }
    } else {
        SendError::Permanent(error.to_string())
    }
}

#[cfg(test)]
mod tests;
