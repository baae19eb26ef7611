//! Telegram through the Bot API: long polling (`getUpdates`, 25 s) whose offset moves past an
//! update only once the gateway stored it, a watchdog that abandons a poll hanging past its
//! deadline and polls again from the same offset (so a stalled connection loses nothing), and
//! replies as Telegram HTML in parts of at most 4,000 characters. Or, with a webhook URL,
//! Telegram POSTs each update to the gateway, which answers 200 only once it is stored (so
//! Telegram delivers it again otherwise) and only to requests carrying the webhook's secret.
//! Files go both ways ([`media`]).

pub mod api;
pub mod format;
pub mod media;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::channel::{
    BotIdentity, Channel, ChannelError, InboundSink, PlatformLimits, SendError, WebhookError,
};
use crate::chunk::split_markdown;
use crate::media::{HostAllowlist, Media, MediaError};
use crate::message::{ButtonPress, ChatKind, IncomingMessage, OutgoingMessage};
use api::{ApiError, BotApi, Message, Update};

/// Telegram accepts 4,096 characters; GoClaw cuts at 4,000.
pub const TEXT_CHUNK: usize = 4000;
/// How long one `getUpdates` waits for updates (GoClaw's 25 s).
pub const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(25);
/// How long past its wait a poll may take before the watchdog calls it stalled.
const STALL_GRACE: Duration = Duration::from_secs(5);
/// Waits between failed polls, doubling up to the last.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(15),
];

/// How a bot receives its updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiving {
    /// Long polling (`getUpdates`) waiting this long per poll.
    Poll(Duration),
    /// Telegram POSTs each update to `url`, which reaches the gateway's
    /// `/channels/{name}/webhook`, with `secret` in `X-Telegram-Bot-Api-Secret-Token`.
    Webhook { url: String, secret: String },
}

/// One Telegram bot.
#[derive(Debug)]
pub struct TelegramChannel {
    api: BotApi,
    receiving: Receiving,
    /// `media_max_bytes`.
    media_max_bytes: u64,
    /// Where files are downloaded from: the Bot API server only.
    files: HostAllowlist,
    files_client: reqwest::Client,
}

/// GoClaw's default `channels.telegram.media_max_bytes`.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The header Telegram puts a webhook's secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

impl TelegramChannel {
    /// A bot with `token` on `api_server` (Telegram's own, or a local Bot API server).
    pub fn new(http: reqwest::Client, api_server: &str, token: &str, receiving: Receiving) -> Self {
        let files = HostAllowlist::new().origin_of(api_server);
        Self {
            api: BotApi::new(http, api_server, token),
            receiving,
            media_max_bytes: DEFAULT_MEDIA_MAX_BYTES,
            files_client: files.client(),
            files,
        }
    }

    /// The same bot taking and sending files of at most `bytes`.
    pub fn with_media_max_bytes(mut self, bytes: u64) -> Self {
        self.media_max_bytes = bytes;
        self
    }

    /// Registers the webhook, again after a failure, then waits for `stop`: the updates
    /// arrive through [`Channel::webhook`].
    async fn serve_webhook(
        &self,
        url: &str,
        secret: &str,
        stop: &CancellationToken,
    ) -> Result<(), ChannelError> {
        let mut failures = 0usize;
        loop {
            match self.api.set_webhook(url, secret).await {
                Ok(_) => {
                    tracing::info!(channel = "telegram", "webhook registered");
                    stop.cancelled().await;
                    return Ok(());
                }
                Err(error) if error.is_unauthorized() => {
                    return Err(ChannelError::Unauthorized(error.to_string()));
                }
                Err(error) => {
                    tracing::warn!(channel = "telegram", error = %error, "registering the webhook failed");
                    let wait = BACKOFF[failures.min(BACKOFF.len() - 1)];
                    failures += 1;
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// Polls until stopped; `Err` only when the token is refused.
    async fn poll(
        &self,
        bot: &BotIdentity,
        sink: &dyn InboundSink,
        stop: &CancellationToken,
    ) -> Result<(), ChannelError> {
        let mut offset: Option<i64> = None;
        let mut failures = 0usize;
        let Receiving::Poll(poll_wait) = self.receiving else {
            return Ok(());
        };
        // A webhook left registered (an earlier webhook mode) makes `getUpdates` fail.
        if let Err(error) = self.api.delete_webhook().await {
            tracing::debug!(channel = "telegram", error = %error, "deleting a webhook failed");
        }
        let deadline = poll_wait + STALL_GRACE;
        loop {
            let polled = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                polled = self.api.get_updates(offset, poll_wait, deadline) => polled,
            };
            let updates = match polled {
                Ok(updates) => updates,
                Err(error) if error.is_unauthorized() => {
                    return Err(ChannelError::Unauthorized(error.to_string()));
                }
                Err(error) => {
                    let wait = match &error {
                        ApiError::Refused {
                            retry_after: Some(after),
                            ..
                        } => Duration::from_secs(*after),
                        ApiError::TimedOut => {
                            tracing::warn!(
                                channel = "telegram",
                                deadline_secs = deadline.as_secs(),
                                "telegram.poll_stalled: no answer from getUpdates; polling again"
                            );
                            Duration::ZERO
                        }
                        _ => BACKOFF[failures.min(BACKOFF.len() - 1)],
                    };
                    if !wait.is_zero() {
                        tracing::warn!(channel = "telegram", error = %error, "telegram poll failed");
                        failures += 1;
                    }
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
            };
            failures = 0;
            for update in updates {
                let id = update.update_id;
                if let Some(message) = normalize(update, bot) {
                    if let Err(error) = sink.accept(message).await {
                        // Not stored: the offset stays, so Telegram sends it again.
                        tracing::error!(channel = "telegram", error = %error, "update not stored");
                        tokio::select! {
                            _ = stop.cancelled() => return Ok(()),
                            _ = tokio::time::sleep(BACKOFF[0]) => {}
                        }
                        break;
                    }
                }
                offset = Some(id + 1);
            }
        }
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn limits(&self) -> PlatformLimits {
        PlatformLimits {
            text_chunk: TEXT_CHUNK,
            media_max_bytes: self.media_max_bytes,
        }
    }

    async fn identify(&self) -> Result<BotIdentity, ChannelError> {
        match self.api.get_me().await {
            Ok(me) => Ok(BotIdentity {
                id: me.id.to_string(),
                username: me.username,
            }),
            Err(error) if error.is_unauthorized() => {
                Err(ChannelError::Unauthorized(error.to_string()))
            }
            Err(error) => Err(ChannelError::Unavailable(error.to_string())),
        }
    }

    async fn receive(
        &self,
        bot: &BotIdentity,
        sink: &dyn InboundSink,
        stop: CancellationToken,
    ) -> Result<(), ChannelError> {
        match &self.receiving {
            Receiving::Poll(_) => self.poll(bot, sink, &stop).await,
            Receiving::Webhook { url, secret } => self.serve_webhook(url, secret, &stop).await,
        }
    }

    async fn webhook(
        &self,
        bot: &BotIdentity,
        headers: &[(String, String)],
        body: &[u8],
        sink: &dyn InboundSink,
    ) -> Result<(), WebhookError> {
        let Receiving::Webhook { secret, .. } = &self.receiving else {
            return Err(WebhookError::NotEnabled);
        };
        let given = headers
            .iter()
            .find(|(name, _)| name == SECRET_HEADER)
            .map(|(_, value)| value.as_bytes())
            .unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(given, secret.as_bytes())) {
            return Err(WebhookError::Unauthorized);
        }
        let update: Update =
            serde_json::from_slice(body).map_err(|e| WebhookError::Invalid(e.to_string()))?;
        match normalize(update, bot) {
            Some(message) => sink
                .accept(message)
                .await
                .map_err(|e| WebhookError::NotStored(e.to_string())),
            // Not a message the bot handles: taken, so Telegram does not send it again.
            None => Ok(()),
        }
    }

    async fn acknowledge(&self, press: &ButtonPress, text: &str) {
        if let Err(error) = self.api.answer_callback_query(&press.id, text).await {
            tracing::debug!(channel = "telegram", error = %error, "answering a button press failed");
        }
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendError> {
        match &message.media {
            Some(media) => self.send_media(message, media).await,
            None => self.send_text(message).await,
        }
    }

    async fn fetch_media(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        self.fetch(media, limit, sink).await
    }

    async fn edit(&self, message_id: &str, message: &OutgoingMessage) -> Result<(), SendError> {
        self.edit_text(message_id, message).await
    }

    async fn typing(&self, chat_id: &str) {
        if let Err(error) = self.api.send_chat_action(chat_id, "typing").await {
            tracing::debug!(channel = "telegram", error = %error, "typing indicator not sent");
        }
    }

    fn render(&self, markdown: &str) -> Vec<String> {
        split_markdown(markdown, TEXT_CHUNK)
            .iter()
            .map(|part| format::to_telegram_html(part))
            .collect()
    }
}

impl TelegramChannel {
    /// `sendMessage` of `message`'s text.
    async fn send_text(&self, message: &OutgoingMessage) -> Result<String, SendError> {
        let mut body = message_body(message);
        if let Some(reply_to) = message
            .reply_to
            .as_deref()
            .and_then(|r| r.parse::<i64>().ok())
        {
            body["reply_parameters"] =
                json!({"message_id": reply_to, "allow_sending_without_reply": true});
        }
        if let Some(thread) = message
            .thread_id
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
        {
            body["message_thread_id"] = json!(thread);
        }
        let sent = match self.api.send_message(&body).await {
            // Markup Telegram cannot parse: the text still goes, as plain text.
            Err(error) if message.markup && unparsable(&error) => {
                body.as_object_mut().map(|b| b.remove("parse_mode"));
                self.api.send_message(&body).await
            }
            other => other,
        };
        sent.map(|m| m.message_id.to_string()).map_err(send_error)
    }

    async fn edit_text(
        &self,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        let id = message_id.parse::<i64>().map_err(|_| {
            SendError::Permanent(format!("not a Telegram message id: {message_id}"))
        })?;
        let mut body = message_body(message);
        body["message_id"] = json!(id);
        if message.buttons.is_empty() {
            body["reply_markup"] = json!({ "inline_keyboard": [] });
        }
        let edited = match self.api.edit_message_text(&body).await {
            Err(error) if message.markup && unparsable(&error) => {
                body.as_object_mut().map(|b| b.remove("parse_mode"));
                self.api.edit_message_text(&body).await
            }
            other => other,
        };
        match edited {
            Ok(_) => Ok(()),
            // The text was already this: nothing to change is no failure.
            Err(ApiError::Refused {
                code: 400,
                description,
                ..
            }) if description.contains("message is not modified") => Ok(()),
            Err(error) => Err(send_error(error)),
        }
    }
}

/// The body `sendMessage` and `editMessageText` share: chat, text, markup, buttons.
fn message_body(message: &OutgoingMessage) -> serde_json::Value {
    let mut body = json!({"chat_id": message.chat_id, "text": message.text});
    if message.markup {
        body["parse_mode"] = json!("HTML");
    }
    if !message.buttons.is_empty() {
        let row: Vec<_> = message
            .buttons
            .iter()
            .map(|b| json!({"text": b.text, "callback_data": b.data}))
            .collect();
        body["reply_markup"] = json!({ "inline_keyboard": [row] });
    }
    body
}

/// Whether Telegram refused the text's markup.
fn unparsable(error: &ApiError) -> bool {
    matches!(error, ApiError::Refused { code: 400, description, .. } if description.contains("parse entities"))
}

/// A failed call as the outbox sees it: worth trying again, or refused for good.
fn send_error(error: ApiError) -> SendError {
    match error {
        ApiError::Refused {
            code,
            retry_after,
            description,
        } if code == 429 || code >= 500 => SendError::Retryable {
            reason: format!("telegram {code}: {description}"),
            retry_after: retry_after.map(Duration::from_secs),
        },
        ApiError::Refused { .. } => SendError::Permanent(error.to_string()),
        ApiError::Transport(reason) => SendError::Retryable {
            reason,
            retry_after: None,
        },
        ApiError::TimedOut => SendError::Retryable {
            reason: error.to_string(),
            retry_after: None,
        },
    }
}

/// An update as the channel layer's message; `None` for what the bot does not answer (other
/// bots, updates without text, channel posts).
pub fn normalize(update: Update, bot: &BotIdentity) -> Option<IncomingMessage> {
    if let Some(press) = update.callback_query {
        return normalize_press(press);
    }
    let message = update.message?;
    let from = message.from.clone()?;
    if from.is_bot {
        return None;
    }
    let media = media::attachments(&message);
    let raw = match message.text.clone().or_else(|| message.caption.clone()) {
        Some(raw) => raw,
        // A file without a caption is still a message.
        None if !media.is_empty() => String::new(),
        None => return None,
    };
    let chat_kind = if message.chat.kind == "private" {
        ChatKind::Direct
    } else {
        ChatKind::Group
    };
    let mentioned = chat_kind == ChatKind::Direct || addresses_bot(&message, &raw, bot);
    let text = strip_mention(&raw, bot.username.as_deref());
    let mut name = from.first_name.clone();
    if let Some(last) = &from.last_name {
        name.push(' ');
        name.push_str(last);
    }
    Some(IncomingMessage {
        platform_id: format!("{}:{}", message.chat.id, message.message_id),
        message_id: message.message_id.to_string(),
        chat_id: message.chat.id.to_string(),
        chat_kind,
        thread_id: message
            .message_thread_id
            .filter(|_| message.is_topic_message == Some(true))
            .map(|t| t.to_string()),
        sender_id: from.id.to_string(),
        sender_username: from.username.clone(),
        sender_name: name,
        text,
        mentioned,
        press: None,
        media,
    })
}

/// A press of one of the bot's buttons, as a message carrying the press.
fn normalize_press(press: api::CallbackQuery) -> Option<IncomingMessage> {
    let message = press.message?;
    let data = press.data?;
    if press.from.is_bot {
        return None;
    }
    let chat_kind = if message.chat.kind == "private" {
        ChatKind::Direct
    } else {
        ChatKind::Group
    };
    Some(IncomingMessage {
        platform_id: format!("press:{}", press.id),
        message_id: message.message_id.to_string(),
        chat_id: message.chat.id.to_string(),
        chat_kind,
        thread_id: message.message_thread_id.map(|t| t.to_string()),
        sender_id: press.from.id.to_string(),
        sender_username: press.from.username.clone(),
        sender_name: press.from.first_name.clone(),
        text: String::new(),
        mentioned: true,
        press: Some(ButtonPress { id: press.id, data }),
        media: Vec::new(),
    })
}

/// Whether a group message is meant for the bot: an `@mention` of it, a mention of its user,
/// a command addressed to it, or a reply to one of its messages.
fn addresses_bot(message: &Message, text: &str, bot: &BotIdentity) -> bool {
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let handle = bot
        .username
        .as_deref()
        .map(|u| format!("@{u}").to_lowercase());
    let entity_text = |offset: usize, length: usize| {
        utf16
            .get(offset..offset.saturating_add(length))
            .map(String::from_utf16_lossy)
            .unwrap_or_default()
            .to_lowercase()
    };
    let mentioned = message
        .entities
        .iter()
        .any(|entity| match entity.kind.as_str() {
            "mention" => handle
                .as_deref()
                .is_some_and(|h| entity_text(entity.offset, entity.length) == h),
            "text_mention" => entity
                .user
                .as_ref()
                .is_some_and(|u| u.id.to_string() == bot.id),
            "bot_command" => handle
                .as_deref()
                .is_some_and(|h| entity_text(entity.offset, entity.length).ends_with(h)),
            _ => false,
        });
    let replied_to_bot = message
        .reply_to_message
        .as_ref()
        .and_then(|m| m.from.as_ref())
        .is_some_and(|u| u.id.to_string() == bot.id);
    mentioned || replied_to_bot
}

/// `text` without `@username` (any case), trimmed.
fn strip_mention(text: &str, username: Option<&str>) -> String {
    let Some(username) = username else {
        return text.trim().to_owned();
    };
    let handle = format!("@{}", username.to_lowercase());
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII; strip only when it did not.
    if lower.len() != text.len() {
        return text.trim().to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find(&handle) {
        out.push_str(&text[at..at + found]);
        at += found + handle.len();
    }
    out.push_str(&text[at..]);
    out.trim().to_owned()
}

#[cfg(test)]
mod tests;
