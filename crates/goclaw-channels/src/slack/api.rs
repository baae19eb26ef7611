//! A small typed client of the Slack Web API (`POST {api_server}/{method}` with a bearer
//! token and a JSON body): the methods the channel uses, Slack's `{ok, error}` answer (HTTP 200
//! even when refused), HTTP 429 with `Retry-After` when rate limited, and errors that never
//! carry a token or a URL (a Socket Mode URL holds a connection ticket).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

/// Slack's own Web API.
pub const DEFAULT_API_SERVER: &str = "https://slack.com/api";

/// The `error` codes that mean the token itself is refused.
const UNAUTHORIZED: [&str; 5] = [
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
];

/// The `error` codes of a call Slack may well take when tried again.
const TRANSIENT: [&str; 5] = [
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Slack answered `ok: false` with this `error` code.
    #[error("slack {method}: {error}")]
    Refused { method: String, error: String },
    /// HTTP 429: too many calls, again after `retry_after` seconds when Slack said.
    #[error("slack {method}: rate limited")]
    RateLimited {
        method: String,
        retry_after: Option<u64>,
    },
    /// An HTTP status without Slack's answer in the body (a proxy, an outage).
    #[error("slack {method}: HTTP {status}")]
    Status { method: String, status: u16 },
    /// No answer within the call's deadline.
    #[error("slack did not answer in time")]
    TimedOut,
    /// No usable answer: connection, a body that is not Slack's.
    #[error("slack unreachable: {0}")]
    Transport(String),
}

impl ApiError {
    /// Whether the token was refused.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Refused { error, .. } if UNAUTHORIZED.contains(&error.as_str()))
    }

    /// Whether trying the same call again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Refused { error, .. } => TRANSIENT.contains(&error.as_str()),
            ApiError::Status { status, .. } => *status >= 500 || *status == 408,
            ApiError::RateLimited { .. } | ApiError::TimedOut | ApiError::Transport(_) => true,
        }
    }

    /// How long Slack asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } => retry_after.map(Duration::from_secs),
            _ => None,
        }
    }
}

/// `auth.test`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthTest {
    /// The bot's user id (`U…`), the one mentions name (`<@U…>`).
    pub user_id: String,
    /// The bot user's name.
    #[serde(default)]
    pub user: Option<String>,
    /// The bot's own id (`B…`), which its messages carry as `bot_id`.
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
}

/// The client of one Slack app: its bot token for the Web API, its app-level token for
/// Socket Mode.
#[derive(Clone)]
pub struct WebApi {
    http: reqwest::Client,
    base: String,
    /// `xoxb-…`; never shown.
    bot_token: String,
    /// `xapp-…`; never shown.
    app_token: String,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Which of the app's tokens a call is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Bot,
    App,
}

impl WebApi {
    pub fn new(http: reqwest::Client, api_server: &str, bot_token: &str, app_token: &str) -> Self {
        Self {
            http,
            base: api_server.trim_end_matches('/').to_owned(),
            bot_token: bot_token.to_owned(),
            app_token: app_token.to_owned(),
        }
    }

    /// The Web API base, to tell Slack's own URLs from others.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Calls `method` with a JSON body; `timeout` bounds the whole call.
    async fn call(
        &self,
        method: &str,
        token: Token,
        body: &Value,
        timeout: Duration,
    ) -> Result<Value, ApiError> {
        let token = match token {
            Token::Bot => &self.bot_token,
            Token::App => &self.app_token,
        };
        let request = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token)
            .json(body)
            .timeout(timeout);
        answer(method, request).await
    }

    /// Calls `method` with the bot token and a form body (the file upload methods take no
    /// JSON).
    async fn call_form(
        &self,
        method: &str,
        fields: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Value, ApiError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(&self.bot_token)
            .form(fields)
            .timeout(timeout);
        answer(method, request).await
    }

    /// `files.getUploadURLExternal`: where to upload a file of `length` bytes named
    /// `file_name`, and the id it will have.
    pub async fn upload_url(
        &self,
        file_name: &str,
        length: usize,
    ) -> Result<(String, String), ApiError> {
        let method = "files.getUploadURLExternal";
        let fields = [
            ("filename", file_name.to_owned()),
            ("length", length.to_string()),
        ];
        let answer = self
            .call_form(method, &fields, Duration::from_secs(30))
            .await?;
        match (answer["upload_url"].as_str(), answer["file_id"].as_str()) {
            (Some(url), Some(id)) => Ok((url.to_owned(), id.to_owned())),
            _ => Err(ApiError::Transport(format!(
                "slack {method}: no upload_url or file_id"
            ))),
        }
    }

    /// Uploads a file's bytes to the URL `files.getUploadURLExternal` gave (it authorizes
    /// the upload itself: no token is sent), as `multipart/form-data` with the file as `file`.
    pub async fn upload(
        &self,
        client: &reqwest::Client,
        upload_url: &str,
        file_name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ApiError> {
        let method = "file upload";
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime_type)
            .map_err(|_| ApiError::Transport("not a MIME type".to_owned()))?;
        let response = client
            .post(upload_url)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(transport_error)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            429 => Err(ApiError::RateLimited {
                method: method.to_owned(),
                retry_after: None,
            }),
            status => Err(ApiError::Status {
                method: method.to_owned(),
                status,
            }),
        }
    }

    /// `files.completeUploadExternal`: shares the uploaded file `file_id` in `channel_id`
    /// (in the thread `thread_ts`), with `comment` as its message; returns the file's id.
    pub async fn complete_upload(
        &self,
        file_id: &str,
        title: &str,
        channel_id: &str,
        thread_ts: Option<&str>,
        comment: Option<&str>,
    ) -> Result<String, ApiError> {
        let mut fields = vec![
            (
                "files",
                json!([{"id": file_id, "title": title}]).to_string(),
            ),
            ("channel_id", channel_id.to_owned()),
        ];
        if let Some(ts) = thread_ts {
            fields.push(("thread_ts", ts.to_owned()));
        }
        if let Some(comment) = comment {
            fields.push(("initial_comment", comment.to_owned()));
        }
        self.call_form(
            "files.completeUploadExternal",
            &fields,
            Duration::from_secs(30),
        )
        .await?;
        Ok(file_id.to_owned())
    }

    /// The bot token, for downloads of the workspace's private files (never shown).
    pub(crate) fn bot_token(&self) -> &str {
        &self.bot_token
    }
    /// `auth.test` with the bot token.
    pub async fn auth_test(&self) -> Result<AuthTest, ApiError> {
        let answer = self
            .call("auth.test", Token::Bot, &json!({}), Duration::from_secs(15))
            .await?;
        serde_json::from_value(answer)
            .map_err(|e| ApiError::Transport(format!("slack auth.test: {e}")))
    }

    /// `apps.connections.open` with the app-level token: the URL of a new Socket Mode
    /// connection (it holds a one-time ticket: never logged).
    pub async fn open_connection(&self) -> Result<String, ApiError> {
        let answer = self
            .call(
                "apps.connections.open",
                Token::App,
                &json!({}),
                Duration::from_secs(15),
            )
            .await?;
        answer["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Transport("slack apps.connections.open: no url".to_owned()))
    }

    /// `chat.postMessage`; returns the message's `ts`.
    pub async fn post_message(&self, body: &Value) -> Result<String, ApiError> {
        let answer = self
            .call(
                "chat.postMessage",
                Token::Bot,
                body,
                Duration::from_secs(30),
            )
            .await?;
        answer["ts"].as_str().map(str::to_owned).ok_or_else(|| {
            ApiError::Transport("slack chat.postMessage: answer without ts".to_owned())
        })
    }

    /// `chat.update`: replaces the text and blocks of the bot's message `body.ts`.
    pub async fn update_message(&self, body: &Value) -> Result<(), ApiError> {
        self.call("chat.update", Token::Bot, body, Duration::from_secs(30))
            .await
            .map(drop)
    }

    /// POSTs `body` to an interaction's `response_url` (no token: the URL authorizes).
    pub async fn respond(&self, response_url: &str, body: &Value) -> Result<(), ApiError> {
        let response = self
            .http
            .post(response_url)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        if status == 200 {
            Ok(())
        } else {
            Err(ApiError::Status {
                method: "response_url".to_owned(),
                status,
            })
        }
    }
}

/// Sends `request` for `method` and reads Slack's answer: the body when `ok`, else the error.
async fn answer(method: &str, request: reqwest::RequestBuilder) -> Result<Value, ApiError> {
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    if status == 429 {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        return Err(ApiError::RateLimited {
            method: method.to_owned(),
            retry_after,
        });
    }
    let answer: Value = match response.json().await {
        Ok(answer) => answer,
        Err(_) if status != 200 => {
            return Err(ApiError::Status {
                method: method.to_owned(),
                status,
            });
        }
        Err(error) => {
            return Err(ApiError::Transport(format!(
                "slack {method}: {}",
                error.without_url()
            )));
        }
    };
    if answer["ok"].as_bool() == Some(true) {
        return Ok(answer);
    }
    match answer["error"].as_str() {
        Some(error) => Err(ApiError::Refused {
            method: method.to_owned(),
            error: error.to_owned(),
        }),
        None => Err(ApiError::Status {
            method: method.to_owned(),
            status,
        }),
    }
}

/// A failed request as an error without its URL.
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
