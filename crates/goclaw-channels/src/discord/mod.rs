//! Discord through its gateway and REST API, with a client of our own rather than a
//! framework, because the channel layer decides when an event counts as received: a
//! `MESSAGE_CREATE` (or a button's `INTERACTION_CREATE`) moves the gateway session's sequence
//! only once the gateway stored it, and a lost or zombie connection is resumed from there, so
//! Discord replays what was not stored. Replies go as Markdown (Discord renders it) in parts
//! of at most 2,000 characters, replying to the message they answer, with buttons as one
//! action row; an answer streamed in place edits the bot's message. Files go both ways
//! ([`media`]).

pub mod api;
pub mod format;
pub mod gateway;
pub mod media;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::channel::{BotIdentity, Channel, ChannelError, InboundSink, PlatformLimits, SendError};
use crate::chunk::split_markdown;
use crate::media::{FileHosts, Media, MediaError};
use crate::message::{Button, ButtonPress, ChatKind, IncomingMessage, OutgoingMessage};
use api::{ApiError, RestApi};

/// Discord's limit on one message's content.
pub const TEXT_CHUNK: usize = 2000;
/// Discord shows at most five buttons in an action row and five rows under a message.
const BUTTONS_PER_ROW: usize = 5;
const MAX_ROWS: usize = 5;

/// One Discord bot.
pub struct DiscordChannel {
    api: RestApi,
    /// Sent only in the gateway's Identify and Resume; never shown.
    token: String,
    /// `media_max_bytes`.
    media_max_bytes: u64,
    /// Where attachments are downloaded from.
    files: FileHosts,
}

/// GoClaw's default `channels.discord.media_max_bytes`.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 25 * 1024 * 1024;

impl std::fmt::Debug for DiscordChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordChannel")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

/// The Discord bot `channels.discord` describes, if it is enabled and has a token.
pub fn from_config(
    config: &goclaw_config::DiscordConfig,
    http: reqwest::Client,
) -> Option<Arc<dyn Channel>> {
    if !config.enabled {
        return None;
    }
    let token = config
        .token
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
        DiscordChannel::new(http, api_server, token).with_media_max_bytes(config.media_max_bytes),
    ))
}

impl DiscordChannel {
    /// A bot with `token` on `api_server` (Discord's own REST API, or a proxy or double).
    pub fn new(http: reqwest::Client, api_server: &str, token: &str) -> Self {
        let files = FileHosts::new("discord", media::file_hosts(api_server));
        Self {
            api: RestApi::new(http, api_server, token),
            token: token.to_owned(),
            media_max_bytes: DEFAULT_MEDIA_MAX_BYTES,
            files,
        }
    }

    /// The same bot taking and sending files of at most `bytes`.
    pub fn with_media_max_bytes(mut self, bytes: u64) -> Self {
        self.media_max_bytes = bytes;
        self
    }
}

#[async_trait]
impl Channel for DiscordChannel {
    fn kind(&self) -> &'static str {
        "discord"
    }

    fn limits(&self) -> PlatformLimits {
        PlatformLimits {
            text_chunk: TEXT_CHUNK,
            media_max_bytes: self.media_max_bytes,
        }
    }

    async fn identify(&self) -> Result<BotIdentity, ChannelError> {
        match self.api.current_user().await {
            Ok(me) => Ok(BotIdentity {
                id: me.id,
                username: Some(me.username).filter(|u| !u.is_empty()),
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
        gateway::run(&self.api, &self.token, bot, sink, &stop).await
    }

    async fn acknowledge(&self, press: &ButtonPress, text: &str) {
        let Some(id) = PressId::parse(&press.id) else {
            tracing::debug!(
                channel = "discord",
                "a press id without its interaction token"
            );
            return;
        };
        // Flag 64 shows the answer to the presser only. The press was deferred when it was
        // stored, so the answer is a follow-up; a press never deferred (or stored without its
        // application) is answered directly with a message (type 4).
        if let Some(application) = &id.application {
            let body = json!({"content": text, "flags": 64});
            match self
                .api
                .interaction_followup(application, &id.token, &body)
                .await
            {
                Ok(()) => return,
                Err(error) => {
                    tracing::debug!(channel = "discord", error = %error, "a follow-up to a button press failed; answering it directly");
                }
            }
        }
        let body = json!({"type": 4, "data": {"content": text, "flags": 64}});
        if let Err(error) = self
            .api
            .interaction_callback(&id.interaction, &id.token, &body)
            .await
        {
            tracing::debug!(channel = "discord", error = %error, "answering a button press failed");
        }
    }

    async fn direct_chat(&self, user_id: &str) -> Result<String, SendError> {
        self.api
            .open_direct_channel(user_id)
            .await
            .map_err(send_error)
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendError> {
        if let Some(media) = &message.media {
            return self.send_media(message, media).await;
        }
        self.api
            .create_message(&message.chat_id, &message_body(message))
            .await
            .map(|sent| sent.id)
            .map_err(send_error)
    }

    async fn edit(&self, message_id: &str, message: &OutgoingMessage) -> Result<(), SendError> {
        if message_id.trim().is_empty() {
            return Err(SendError::Permanent("no message id to edit".to_owned()));
        }
        self.api
            .edit_message(&message.chat_id, message_id, &edit_body(message))
            .await
            .map(|_| ())
            .map_err(send_error)
    }

    async fn fetch_media(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        self.fetch(media, limit, sink).await
    }

    async fn typing(&self, chat_id: &str) {
        if let Err(error) = self.api.trigger_typing(chat_id).await {
            tracing::debug!(channel = "discord", error = %error, "typing indicator not sent");
        }
    }

    fn render(&self, markdown: &str) -> Vec<String> {
        split_markdown(&format::to_discord_markdown(markdown), TEXT_CHUNK)
    }
}

/// The body of `POST /channels/{id}/messages` for `message`. The content is Markdown either
/// way (`markup` changes nothing on Discord); a thread is a channel of its own, so
/// `thread_id` is not used.
pub fn message_body(message: &OutgoingMessage) -> Value {
    let mut body = content_body(message);
    if let Some(reply_to) = message.reply_to.as_deref().filter(|r| !r.is_empty()) {
        // The answer still goes when the question was deleted meanwhile.
        body["message_reference"] = json!({"message_id": reply_to, "fail_if_not_exists": false});
    }
    if !message.buttons.is_empty() {
        body["components"] = action_rows(&message.buttons);
    }
    body
}

/// The body of `PATCH /channels/{id}/messages/{id}` making a message `message`: its content
/// and its buttons, `components` always present so that buttons no longer wanted go (an
/// edit cannot change what a message replies to, so `reply_to` is not used).
pub fn edit_body(message: &OutgoingMessage) -> Value {
    let mut body = content_body(message);
    body["components"] = action_rows(&message.buttons);
    body
}

/// The content of a message body, and whom it may ping.
fn content_body(message: &OutgoingMessage) -> Value {
    json!({
        "content": message.text,
        // An answer quoting `@everyone` or a role must not ping a whole guild; users (and
        // the person replied to) may be.
        "allowed_mentions": {"parse": ["users"], "replied_user": true},
    })
}

/// `buttons` as action rows of at most five, at most five rows (none for no buttons).
fn action_rows(buttons: &[Button]) -> Value {
    let rows: Vec<Value> = buttons
        .chunks(BUTTONS_PER_ROW)
        .take(MAX_ROWS)
        .map(|row| {
            let buttons: Vec<Value> = row.iter().map(button).collect();
            json!({"type": 1, "components": buttons})
        })
        .collect();
    Value::Array(rows)
}

/// A button component. Approval buttons are coloured by what they do: allowing (`ap:o:`,
/// `ap:a:`) green, denying (`ap:d:`) red; any other button grey, so colour never suggests a
/// choice the bot does not know the meaning of.
fn button(button: &Button) -> Value {
    let style = if button.data.starts_with("ap:d:") {
        4
    } else if button.data.starts_with("ap:o:") || button.data.starts_with("ap:a:") {
        3
    } else {
        2
    };
    json!({"type": 2, "style": style, "label": button.text, "custom_id": button.data})
}

/// A failed REST call as a send error: rate limits, Discord's 5xx and the network are worth
/// another try; any other refusal is final.
pub fn send_error(error: ApiError) -> SendError {
    match error {
        ApiError::Refused {
            status,
            retry_after,
            ..
        } if status == 429 || status >= 500 => SendError::Retryable {
            reason: error.to_string(),
            retry_after,
        },
        ApiError::Refused { .. } => SendError::Permanent(error.to_string()),
        ApiError::TimedOut | ApiError::Transport(_) => SendError::Retryable {
            reason: error.to_string(),
            retry_after: None,
        },
    }
}

/// A `MESSAGE_CREATE` as the channel layer's message; `None` for what the bot does not
/// answer (bots, webhooks, system messages, messages without text).
pub fn normalize_message(message: api::Message, bot: &BotIdentity) -> Option<IncomingMessage> {
    let author = &message.author;
    if author.bot || author.id == bot.id || message.webhook_id.is_some() {
        return None;
    }
    // 0 is an ordinary message and 19 a reply; the rest are joins, pins, boosts, ...
    let media = media::attachments(&message.attachments);
    // A file without text is still a message.
    if !matches!(message.kind, 0 | 19) || (message.content.trim().is_empty() && media.is_empty()) {
        return None;
    }
    let chat_kind = if message.guild_id.is_some() {
        ChatKind::Group
    } else {
        ChatKind::Direct
    };
    let replied_to_bot = message
        .referenced_message
        .as_ref()
        .is_some_and(|replied| replied.author.id == bot.id);
    let mentioned = chat_kind == ChatKind::Direct
        || message.mentions.iter().any(|user| user.id == bot.id)
        || replied_to_bot;
    // A guild nickname, else the chosen display name, else the username (GoClaw's order).
    let sender_name = message
        .member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .or_else(|| author.global_name.clone())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| author.username.clone());
    Some(IncomingMessage {
        platform_id: message.id.clone(),
        message_id: message.id,
        chat_id: message.channel_id,
        chat_kind,
        thread_id: None,
        sender_id: author.id.clone(),
        sender_username: Some(author.username.clone()).filter(|u| !u.is_empty()),
        sender_name,
        text: strip_mentions(&message.content, &bot.id),
        mentioned,
        press: None,
        media,
    })
}

/// What a press's id holds: the interaction's id and token, and the bot's application (to
/// answer it later), as `{interaction}:{token}[:{application}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressId {
    pub interaction: String,
    pub token: String,
    pub application: Option<String>,
}

impl PressId {
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, ':');
        let interaction = parts.next().filter(|p| !p.is_empty())?.to_owned();
        let token = parts.next().filter(|p| !p.is_empty())?.to_owned();
        let application = parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
        Some(Self {
            interaction,
            token,
            application,
        })
    }
}

impl std::fmt::Display for PressId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.interaction, self.token)?;
        match &self.application {
            Some(application) => write!(f, ":{application}"),
            None => Ok(()),
        }
    }
}

/// Acknowledges a stored press at once (Discord wants an answer within three seconds): a
/// deferred update, which shows nothing; what the press did follows later (see `acknowledge`).
pub(crate) async fn defer_press(api: &RestApi, press: &ButtonPress) {
    let Some(id) = PressId::parse(&press.id) else {
        return;
    };
    const DEFERRED_UPDATE_MESSAGE: u8 = 6;
    let body = json!({ "type": DEFERRED_UPDATE_MESSAGE });
    if let Err(error) = api
        .interaction_callback(&id.interaction, &id.token, &body)
        .await
    {
        tracing::debug!(channel = "discord", error = %error, "deferring a button press failed");
    }
}

/// A press of one of the bot's buttons (`INTERACTION_CREATE` of type 3) as a message carrying
/// the press, whose id holds what answering it takes ([`PressId`]).
pub fn normalize_interaction(interaction: api::Interaction) -> Option<IncomingMessage> {
    const MESSAGE_COMPONENT: u8 = 3;
    const BUTTON: u8 = 2;
    if interaction.kind != MESSAGE_COMPONENT {
        return None;
    }
    let data = interaction.data?;
    if data.component_type.is_some_and(|kind| kind != BUTTON) {
        return None;
    }
    let custom_id = data.custom_id?;
    let user = interaction
        .member
        .and_then(|member| member.user)
        .or(interaction.user)?;
    if user.bot {
        return None;
    }
    let chat_kind = if interaction.guild_id.is_some() {
        ChatKind::Group
    } else {
        ChatKind::Direct
    };
    let sender_name = user
        .global_name
        .clone()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| user.username.clone());
    Some(IncomingMessage {
        platform_id: format!("press:{}", interaction.id),
        message_id: interaction
            .message
            .map_or_else(|| interaction.id.clone(), |m| m.id),
        chat_id: interaction.channel_id?,
        chat_kind,
        thread_id: None,
        sender_id: user.id,
        sender_username: Some(user.username).filter(|u| !u.is_empty()),
        sender_name,
        text: String::new(),
        mentioned: true,
        press: Some(ButtonPress {
            id: PressId {
                interaction: interaction.id,
                token: interaction.token,
                application: interaction.application_id,
            }
            .to_string(),
            data: custom_id,
        }),
        media: Vec::new(),
    })
}

/// `content` without the bot's mentions (`<@id>` and the older nickname form `<@!id>`),
/// trimmed.
fn strip_mentions(content: &str, bot_id: &str) -> String {
    content
        .replace(&format!("<@{bot_id}>"), "")
        .replace(&format!("<@!{bot_id}>"), "")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests;
