//! A small typed client of the Telegram Bot API (`{api_server}/bot{token}/{method}`): the
//! methods the channel uses, Telegram's `{ok, result, error_code, description, parameters}`
//! envelope, and errors that never carry the URL (which holds the token).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Telegram's own API server.
pub const DEFAULT_API_SERVER: &str = "https://api.telegram.org";

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Telegram answered `ok: false`.
    #[error("telegram {code}: {description}")]
    Refused {
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// No answer within the call's deadline.
    #[error("telegram did not answer in time")]
    TimedOut,
    /// No usable answer: connection, a body that is not Telegram's envelope.
    #[error("telegram unreachable: {0}")]
    Transport(String),
}

impl ApiError {
    /// Whether the token was refused.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            ApiError::Refused {
                code: 401 | 404,
                ..
            }
        )
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Debug, Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// A Telegram user (the bot itself, or a sender).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// A chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// A part of a message's text with a meaning (`mention`, `bot_command`, `text_mention`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEntity {
    #[serde(rename = "type")]
    pub kind: String,
    /// In UTF-16 code units, as Telegram counts.
    pub offset: usize,
    pub length: usize,
    #[serde(default)]
    pub user: Option<User>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub is_topic_message: Option<bool>,
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    /// A photo in the sizes Telegram made of it, smallest first.
    #[serde(default)]
    pub photo: Vec<PhotoSize>,
    #[serde(default)]
    pub document: Option<FileRef>,
    #[serde(default)]
    pub audio: Option<FileRef>,
    #[serde(default)]
    pub voice: Option<FileRef>,
    #[serde(default)]
    pub video: Option<FileRef>,
}

/// One size of a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A document, audio, voice note or video: the fields they share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    pub file_id: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// What `getFile` answers: where the file can be downloaded for the next hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub file_id: String,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub file_path: Option<String>,
}

/// A file to upload with `sendPhoto` or `sendDocument`.
#[derive(Debug, Clone)]
pub struct Upload {
    /// `photo` or `document`: the method's field the file goes in.
    pub field: &'static str,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// One update from `getUpdates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
}

/// A press of an inline button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The bot's message the button was under.
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

/// The updates the bot asks for: messages, and presses of its buttons.
const ALLOWED_UPDATES: [&str; 2] = ["message", "callback_query"];

/// The client of one bot.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    /// `{api_server}/bot{token}`; never shown.
    base: String,
    /// `{api_server}/file/bot{token}`, where files are downloaded; never shown.
    files: String,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotApi").finish_non_exhaustive()
    }
}

impl BotApi {
    pub fn new(http: reqwest::Client, api_server: &str, token: &str) -> Self {
        let server = api_server.trim_end_matches('/');
        Self {
            http,
            base: format!("{server}/bot{token}"),
            files: format!("{server}/file/bot{token}"),
        }
    }

    /// The download URL of a `getFile` path (it holds the token: never logged or shown).
    pub fn file_url(&self, file_path: &str) -> String {
        format!("{}/{}", self.files, file_path.trim_start_matches('/'))
    }

    /// `getFile`: the path a file can be downloaded from.
    pub async fn get_file(&self, file_id: &str) -> Result<File, ApiError> {
        self.call(
            "getFile",
            &json!({ "file_id": file_id }),
            Duration::from_secs(30),
        )
        .await
    }

    /// `method` (`sendPhoto`, `sendDocument`) as `multipart/form-data`: the text `fields`
    /// and the file.
    pub async fn send_file(
        &self,
        method: &str,
        fields: &[(&str, String)],
        upload: Upload,
    ) -> Result<Message, ApiError> {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.clone());
        }
        let part = reqwest::multipart::Part::bytes(upload.bytes).file_name(upload.file_name);
        let part = match part.mime_str(&upload.mime_type) {
            Ok(part) => part,
            Err(_) => return Err(ApiError::Transport("not a MIME type".to_owned())),
        };
        form = form.part(upload.field, part);
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .multipart(form)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(transport_error)?;
        envelope(response).await
    }

    /// Calls `method` with a JSON body; `timeout` bounds the whole call.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(transport_error)?;
        envelope(response).await
    }

    pub async fn get_me(&self) -> Result<User, ApiError> {
        self.call("getMe", &json!({}), Duration::from_secs(15))
            .await
    }

    /// Long polling: waits up to `wait` for updates after `offset` (which also confirms the
    /// earlier ones to Telegram). `deadline` bounds the call: past it the poll is stalled.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        wait: Duration,
        deadline: Duration,
    ) -> Result<Vec<Update>, ApiError> {
        let mut body = json!({
            "timeout": wait.as_secs(),
            "allowed_updates": ALLOWED_UPDATES,
        });
        if let Some(offset) = offset {
            body["offset"] = json!(offset);
        }
        self.call("getUpdates", &body, deadline).await
    }

    /// Has Telegram POST updates to `url`, with `secret` in `X-Telegram-Bot-Api-Secret-Token`.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<bool, ApiError> {
        let body = json!({
            "url": url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
        });
        self.call("setWebhook", &body, Duration::from_secs(15))
            .await
    }

    /// Stops webhook delivery, so `getUpdates` works; updates waiting are kept.
    pub async fn delete_webhook(&self) -> Result<bool, ApiError> {
        let body = json!({ "drop_pending_updates": false });
        self.call("deleteWebhook", &body, Duration::from_secs(15))
            .await
    }

    /// Stops the spinner of a button press, showing `text` briefly.
    pub async fn answer_callback_query(&self, id: &str, text: &str) -> Result<bool, ApiError> {
        let body = json!({ "callback_query_id": id, "text": text });
        self.call("answerCallbackQuery", &body, Duration::from_secs(10))
            .await
    }

    pub async fn send_message(&self, body: &Value) -> Result<Message, ApiError> {
        self.call("sendMessage", body, Duration::from_secs(30))
            .await
    }

    /// `editMessageText`; Telegram answers the edited message (or `true`).
    pub async fn edit_message_text(&self, body: &Value) -> Result<Value, ApiError> {
        self.call("editMessageText", body, Duration::from_secs(30))
            .await
    }

    pub async fn send_chat_action(&self, chat_id: &str, action: &str) -> Result<bool, ApiError> {
        self.call(
            "sendChatAction",
            &json!({"chat_id": chat_id, "action": action}),
            Duration::from_secs(10),
        )
        .await
    }
}

/// Telegram's envelope of an answer as its result or the error it names.
async fn envelope<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ApiError> {
    let status = response.status().as_u16();
    let envelope: Envelope<T> = response
        .json()
        .await
        .map_err(|e| ApiError::Transport(format!("HTTP {status}: {}", e.without_url())))?;
    match (envelope.ok, envelope.result) {
        (true, Some(result)) => Ok(result),
        _ => Err(ApiError::Refused {
            code: envelope.error_code.unwrap_or(status),
            description: envelope
                .description
                .unwrap_or_else(|| format!("HTTP {status}")),
            retry_after: envelope.parameters.and_then(|p| p.retry_after),
        }),
    }
}

/// A failed request as an error without its URL (which holds the token).
fn transport_error(error: reqwest::Error) -> ApiError {
    if error.is_timeout() {
        return ApiError::TimedOut;
    }
    let error = error.without_url();
    // The cause (refused, reset, DNS) is what an operator needs; reqwest's own text is generic.
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    ApiError::Transport(reason)
}
