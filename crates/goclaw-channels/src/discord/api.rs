//! A small typed client of Discord's REST API (`{api_server}/...`, `Authorization: Bot
//! {token}`): the calls the channel makes, the payloads it reads (users, messages, button
//! interactions), and errors that carry Discord's `{code, message}` and `retry_after` but
//! never the token or a URL (an interaction's URL holds its token).

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Discord's own REST API, version 10.
pub const DEFAULT_API_SERVER: &str = "https://discord.com/api/v10";

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Discord answered with an error status.
    #[error("discord {status}: {message}")]
    Refused {
        status: u16,
        /// Discord's JSON error code (`50035` invalid form body, `10003` unknown channel, ...).
        code: Option<i64>,
        message: String,
        /// How long the rate limit lasts, from the body's `retry_after` or `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// No answer within the call's deadline.
    #[error("discord did not answer in time")]
    TimedOut,
    /// No usable answer: connection, a body that is not JSON.
    #[error("discord unreachable: {0}")]
    Transport(String),
}

impl ApiError {
    /// Whether the token was refused.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Refused { status: 401, .. })
    }
}

/// A Discord user (the bot itself, an author, a presser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: String,
    /// The display name the user chose, if any.
    #[serde(default)]
    pub global_name: Option<String>,
    #[serde(default)]
    pub bot: bool,
}

/// A guild member's guild-specific part (its user is the message's author).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    #[serde(default)]
    pub nick: Option<String>,
    /// Set in interactions, where the member stands for the presser.
    #[serde(default)]
    pub user: Option<User>,
}

/// Which message a reply answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageReference {
    #[serde(default)]
    pub message_id: Option<String>,
}

/// A message (`MESSAGE_CREATE`'s payload, or what `POST /channels/{id}/messages` and
/// `PATCH /channels/{id}/messages/{id}` return).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
    /// Present for messages in a guild; absent in direct messages.
    #[serde(default)]
    pub guild_id: Option<String>,
    pub author: User,
    #[serde(default)]
    pub member: Option<Member>,
    #[serde(default)]
    pub content: String,
    /// `0` default, `19` reply; the others are system messages (joins, pins, ...).
    #[serde(default, rename = "type")]
    pub kind: u8,
    /// Set when a webhook (not a user) posted the message.
    #[serde(default)]
    pub webhook_id: Option<String>,
    #[serde(default)]
    pub mentions: Vec<User>,
    #[serde(default)]
    pub message_reference: Option<MessageReference>,
    /// The message this one replies to, when Discord still has it.
    #[serde(default)]
    pub referenced_message: Option<Box<Message>>,
    /// Files sent with the message.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub content_type: Option<String>,
    /// In bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Where the file is served (Discord's CDN).
    pub url: String,
    /// Set on voice messages.
    #[serde(default)]
    pub duration_secs: Option<f64>,
}

/// What a component interaction carries: the pressed button's `custom_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionData {
    #[serde(default)]
    pub custom_id: Option<String>,
    /// `2` for a button.
    #[serde(default)]
    pub component_type: Option<u8>,
}

/// The message a pressed button was under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionMessage {
    pub id: String,
}

/// An interaction (`INTERACTION_CREATE`): a slash command, a press of a component, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    /// Answers the interaction (valid 15 minutes).
    pub token: String,
    /// The bot's application, whose webhook carries follow-up messages.
    #[serde(default)]
    pub application_id: Option<String>,
    /// `3` for a message component.
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub channel_id: Option<String>,
    #[serde(default)]
    pub guild_id: Option<String>,
    /// The presser, in a guild.
    #[serde(default)]
    pub member: Option<Member>,
    /// The presser, in a direct message.
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub data: Option<InteractionData>,
    #[serde(default)]
    pub message: Option<InteractionMessage>,
}

/// The client of one bot.
#[derive(Clone)]
pub struct RestApi {
    http: reqwest::Client,
    base: String,
    /// `Bot {token}`, marked sensitive so it is never shown.
    authorization: HeaderValue,
}

impl std::fmt::Debug for RestApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    pub fn new(http: reqwest::Client, api_server: &str, token: &str) -> Self {
        // A token with bytes a header cannot hold is refused by Discord anyway (as 401).
        let mut authorization = HeaderValue::from_str(&format!("Bot {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Bot invalid"));
        authorization.set_sensitive(true);
        Self {
            http,
            base: api_server.trim_end_matches('/').to_owned(),
            authorization,
        }
    }

    /// Calls `path` (below the API base); an empty answer (`204`) reads as `null`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.authorization.clone())
            .timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer(request).await
    }

    /// Sends `request` and reads Discord's answer; an empty one (`204`) reads as `null`.
    async fn answer<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let header_retry = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let bytes = response.bytes().await.map_err(transport_error)?;
        let parsed: Option<Value> = if bytes.is_empty() {
            Some(Value::Null)
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        if !(200..300).contains(&status) {
            let body = parsed.unwrap_or(Value::Null);
            let retry_after = body["retry_after"]
                .as_f64()
                .or(header_retry)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            return Err(ApiError::Refused {
                status,
                code: body["code"].as_i64(),
                message: body["message"]
                    .as_str()
                    .map_or_else(|| format!("HTTP {status}"), str::to_owned),
                retry_after,
            });
        }
        let value = parsed
            .ok_or_else(|| ApiError::Transport(format!("HTTP {status}: the body is not JSON")))?;
        serde_json::from_value(value)
            .map_err(|e| ApiError::Transport(format!("HTTP {status}: unexpected body: {e}")))
    }

    /// The bot's own user (`GET /users/@me`).
    pub async fn current_user(&self) -> Result<User, ApiError> {
        self.call(Method::GET, "/users/@me", None, Duration::from_secs(15))
            .await
    }

    /// The gateway's WebSocket URL (`GET /gateway/bot`).
    pub async fn gateway_url(&self) -> Result<String, ApiError> {
        let answer: Value = self
            .call(Method::GET, "/gateway/bot", None, Duration::from_secs(15))
            .await?;
        answer["url"]
            .as_str()
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Transport("GET /gateway/bot gave no url".to_owned()))
    }

    /// Posts a message to `channel_id` (`body` as Discord's message create).
    pub async fn create_message(
        &self,
        channel_id: &str,
        body: &Value,
    ) -> Result<Message, ApiError> {
        let path = format!("/channels/{}/messages", segment(channel_id));
        self.call(Method::POST, &path, Some(body), Duration::from_secs(30))
            .await
    }

    /// Posts a message with one file to `channel_id`: `multipart/form-data` with the message
    /// as `payload_json` (its `attachments` naming the file) and the file as `files[0]`.
    pub async fn create_message_with_file(
        &self,
        channel_id: &str,
        body: &Value,
        file_name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Message, ApiError> {
        let mut body = body.clone();
        body["attachments"] = json!([{"id": 0, "filename": file_name}]);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime_type)
            .map_err(|_| ApiError::Transport("not a MIME type".to_owned()))?;
        let form = reqwest::multipart::Form::new()
            .text("payload_json", body.to_string())
            .part("files[0]", part);
        let path = format!("/channels/{}/messages", segment(channel_id));
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.authorization.clone())
            .timeout(Duration::from_secs(120))
            .multipart(form);
        self.answer(request).await
    }

    /// Replaces the content and components of the bot's message `message_id` in `channel_id`
    /// (`body` as Discord's message edit: fields left out stay as they were).
    pub async fn edit_message(
        &self,
        channel_id: &str,
        message_id: &str,
        body: &Value,
    ) -> Result<Message, ApiError> {
        let path = format!(
            "/channels/{}/messages/{}",
            segment(channel_id),
            segment(message_id)
        );
        self.call(Method::PATCH, &path, Some(body), Duration::from_secs(30))
            .await
    }

    /// Shows the bot typing in `channel_id` for about ten seconds.
    pub async fn trigger_typing(&self, channel_id: &str) -> Result<(), ApiError> {
        let path = format!("/channels/{}/typing", segment(channel_id));
        let _: Value = self
            .call(Method::POST, &path, None, Duration::from_secs(10))
            .await?;
        Ok(())
    }

    /// Opens (or finds) the direct-message channel with `user_id`; returns its id.
    pub async fn open_direct_channel(&self, user_id: &str) -> Result<String, ApiError> {
        let body = json!({ "recipient_id": user_id });
        let channel: Value = self
            .call(
                Method::POST,
                "/users/@me/channels",
                Some(&body),
                Duration::from_secs(15),
            )
            .await?;
        channel["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Transport("the DM channel has no id".to_owned()))
    }

    /// Answers an interaction (`POST /interactions/{id}/{token}/callback`).
    pub async fn interaction_callback(
        &self,
        id: &str,
        token: &str,
        body: &Value,
    ) -> Result<(), ApiError> {
        let path = format!("/interactions/{}/{}/callback", segment(id), segment(token));
        let _: Value = self
            .call(Method::POST, &path, Some(body), Duration::from_secs(10))
            .await?;
        Ok(())
    }

    /// Sends a follow-up message to an acknowledged interaction
    /// (`POST /webhooks/{application}/{token}`).
    pub async fn interaction_followup(
        &self,
        application: &str,
        token: &str,
        body: &Value,
    ) -> Result<(), ApiError> {
        let path = format!("/webhooks/{}/{}", segment(application), segment(token));
        let _: Value = self
            .call(Method::POST, &path, Some(body), Duration::from_secs(10))
            .await?;
        Ok(())
    }
}

/// An id as one path segment: Discord's ids and tokens never hold `/`, `?` or `#`, but a
/// stored chat id is data, so it cannot reach another route.
fn segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// A failed request as an error without its URL (which may hold an interaction's token).
fn transport_error(error: reqwest::Error) -> ApiError {
    if error.is_timeout() {
        return ApiError::TimedOut;
    }
    let error = error.without_url();
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    ApiError::Transport(reason)
}
