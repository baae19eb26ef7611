//! `POST /v1/chat/completions`: OpenAI-compatible chat with an agent, streamed token by token
//! over SSE (ending with `data: [DONE]`) or answered whole.
//!
//! The agent comes from `model: "goclaw:<agent>"` (or `agent:<agent>`), else the
//! `X-GoClaw-Agent-Id` header, else `default`. The session comes from `X-GoClaw-Session-Key`,
//! else `user` (one session per user and agent), else a fresh session per call. Only the last
//! user message of `messages` is sent: the gateway keeps the history itself.
//!
//! An `Idempotency-Key` header makes a retry safe: the same key from the same caller returns
//! the first request's run (streamed or whole) and starts nothing. A streamed answer never
//! ends with `finish_reason: "stop"` after losing a chunk: a stream that falls behind ends
//! with an error object instead.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::stream::{self, Stream, StreamExt};
use goclaw_agent::{AgentEventKind, ChatInput, Detail, RunEvents, StreamError};
use goclaw_core::{AgentKey, SessionKey, Usage};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::auth::{Caller, header_user_id};
use super::error::ApiError;
use super::json::ApiJson;
use super::schemas::{ChatCompletion, ChatCompletionEvent, ChatCompletionRequest, ErrorResponse};
use crate::files::attach::{Incoming, MAX_ATTACHMENTS, keep, with_lines};
use crate::ratelimit::{RATE_LIMITED_MESSAGE, http_key};
use crate::routes::AppState;
use crate::turns::{self, Admission, Refusal};

/// The response header naming the run that answers.
const RUN_ID_HEADER: &str = "x-goclaw-run-id";

/// Largest request body: a conversation with a 5 MiB picture inline (base64 makes it 6.7 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Longest `user`: its session key (`agent:<agent>:http:<user>`) stays within 500 bytes.
const MAX_USER_CHARS: usize = 100;

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    #[serde(default)]
    model: String,
    messages: Vec<RequestMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Debug, Deserialize)]
struct RequestMessage {
    role: String,
    #[serde(default)]
    content: Value,
}

impl RequestMessage {
    /// Text of a message whose content is a string or an array of text parts.
    fn text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }

    /// The pictures of a message's `image_url` parts; only inline `data:` URLs are taken
    /// (a remote one would have the gateway fetch whatever URL a caller names).
    fn images(&self) -> Result<Vec<Incoming>, ApiError> {
        let Value::Array(parts) = &self.content else {
            return Ok(Vec::new());
        };
        let mut images = Vec::new();
        for part in parts {
            if part.get("type").and_then(Value::as_str) != Some("image_url") {
                continue;
            }
            let image = part.get("image_url");
            let url = image
                .and_then(|i| i.get("url"))
                .or(image)
                .and_then(Value::as_str)
                .unwrap_or_default();
            images.push(decode_image(url)?);
        }
        if images.len() > MAX_ATTACHMENTS {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_ATTACHMENTS} images per message"
            )));
        }
        Ok(images)
    }
}

/// The picture of a `data:image/…;base64,…` URL.
fn decode_image(url: &str) -> Result<Incoming, ApiError> {
    use base64::Engine;
    let refused = || {
        ApiError::bad_request(
            "image_url must be a data:image/…;base64,… URL of a PNG, JPEG, GIF or WebP picture",
        )
    };
    let (header, data) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(refused)?;
    if !header.ends_with(";base64") {
        return Err(refused());
    }
    if data.len() as u64 > goclaw_core::MAX_IMAGE_BYTES / 3 * 4 + 4 {
        return Err(ApiError::bad_request("an image is larger than 5 MiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| refused())?;
    let mime = goclaw_core::image_type_of(&bytes).ok_or_else(refused)?;
    let extension = mime.trim_start_matches("image/");
    Ok(Incoming {
        name: format!("image.{extension}"),
        bytes,
    })
}

/// Which agent a request is for.
fn agent_for(model: &str, headers: &HeaderMap) -> Result<AgentKey, ApiError> {
    let from_model = model
        .strip_prefix("goclaw:")
        .or_else(|| model.strip_prefix("agent:"))
        .filter(|k| !k.is_empty());
    let from_header = headers
        .get("x-goclaw-agent-id")
        .or_else(|| headers.get("x-goclaw-agent"))
        .map(|v| v.to_str())
        .transpose()
        .map_err(|_| ApiError::bad_request("X-GoClaw-Agent-Id must be an agent key"))?
        .filter(|k| !k.is_empty());
    // A malformed header is refused even when `model` names the agent, so it never goes unnoticed.
    let parse = |raw: &str| AgentKey::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()));
    let header_agent = from_header.map(parse).transpose()?;
    match (from_model, header_agent) {
        (Some(raw), _) => parse(raw),
        (None, Some(agent)) => Ok(agent),
        (None, None) => parse("default"),
    }
}

fn session_for(
    agent: &AgentKey,
    user: &str,
    explicit_user: bool,
    headers: &HeaderMap,
) -> Result<SessionKey, ApiError> {
    let raw = match headers
        .get("x-goclaw-session-key")
        .and_then(|v| v.to_str().ok())
    {
        Some(key) if !key.is_empty() => key.to_owned(),
        _ if explicit_user => format!("agent:{agent}:http:{user}"),
        _ => format!(
            "agent:{agent}:http-{user}-{}",
            &Uuid::new_v4().simple().to_string()[..8]
        ),
    };
    SessionKey::parse(&raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Chats with an agent, OpenAI-style: the whole answer as JSON, or with `"stream": true` as
/// server-sent events (`chat.completion.chunk` objects, then `data: [DONE]`).
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    tag = "chat",
    params(
        ("X-GoClaw-Agent-Id" = Option<String>, Header, description = "The agent, when `model` does not name one (empty: none)", pattern = r"^([a-z0-9][a-z0-9_-]{0,63})?$"),
        ("X-GoClaw-User-Id" = Option<String>, Header, description = "The user the caller acts for (gateway token only); ignored when longer than 255 bytes or holding control characters"),
        ("X-GoClaw-Session-Key" = Option<String>, Header, description = "The session to continue; it must be the caller's own (admins: any in the tenant)", pattern = r"^[^\x00-\x1f\x7f]{0,500}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key from the same user returns the first request's run instead of starting another (1 to 255 visible ASCII bytes; empty: none)", pattern = r"^[\x20-\x7e]{0,255}$"),
    ),
    request_body(content = ChatCompletionRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The answer: JSON, or an SSE stream when `stream` is true",
            content(
                (ChatCompletion = "application/json"),
                (ChatCompletionEvent = "text/event-stream"),
            ),
            headers(("X-GoClaw-Run-Id" = String, description = "The run that answers (the first request's run for a retried `Idempotency-Key`)"))),
        (status = 400, description = "Invalid input (no user message with text, a bad agent key or idempotency key, a blocked prompt injection)", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent does not exist", body = ErrorResponse),
        (status = 409, description = "The run was cancelled", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 429, description = "Over the user's `gateway.rate_limit_rpm` budget, or dropped from a full session queue",
            body = ErrorResponse,
            headers(("Retry-After" = Option<u64>, description = "Seconds to wait (rate limit only)"))),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 502, description = "The LLM provider failed", body = ErrorResponse),
        (status = 503, description = "The gateway is shutting down or cannot take the run", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    let last_user = request.messages.iter().rev().find(|m| m.role == "user");
    let images = last_user
        .map(RequestMessage::images)
        .transpose()?
        .unwrap_or_default();
    let message = last_user
        .map(RequestMessage::text)
        .filter(|t| !t.trim().is_empty() || !images.is_empty())
        .ok_or_else(|| ApiError::bad_request("messages must contain a user message"))?;
    let agent = agent_for(&request.model, &headers)?;
    let explicit_user = request.user.as_deref().filter(|u| !u.is_empty());
    if explicit_user.is_some_and(|u| u.chars().count() > MAX_USER_CHARS) {
        return Err(ApiError::bad_request(format!(
            "user must be at most {MAX_USER_CHARS} characters"
        )));
    }
    // Refused whether or not it names the session's user (a header or the key may decide
    // that): the document promises it, and a user id never holds control characters.
    if explicit_user.is_some_and(|u| u.chars().any(char::is_control)) {
        return Err(ApiError::bad_request(
            "user must not contain control characters",
        ));
    }
    // An API key's user was settled when it authenticated: a key bound to an owner acts as it.
    let user_id = match caller.0.scopes {
        Some(_) => caller.0.user_id.clone(),
        None => header_user_id(&headers)
            .or_else(|| explicit_user.map(str::to_owned))
            .unwrap_or_else(|| caller.0.user_id.clone()),
    };
    let session_key = session_for(&agent, &user_id, explicit_user.is_some(), &headers)?;
    let model_name = if request.model.is_empty() {
        format!("goclaw:{agent}")
    } else {
        request.model.clone()
    };

    let remote = connect.map(|Extension(ConnectInfo(addr))| addr);
    let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(key)) => turns::idempotency_key(Some(key)),
        Some(Err(_)) => {
            return Err(ApiError::bad_request(
                "Idempotency-Key must be visible ASCII",
            ));
        }
        None => None,
    };
    let admission = Admission {
        rate_key: http_key(caller.0.tenant_id, Some(&user_id), &headers, remote),
        user_id: &user_id,
        remote: remote.map(|a| a.to_string()).unwrap_or_default(),
        endpoint: "/v1/chat/completions",
    };
    let (media, message) = keep_images(&state, &caller, &agent, &user_id, images, message).await?;
    let input = ChatInput {
        media,
        tenant_id: caller.0.tenant_id,
        agent_key: agent,
        session_key,
        user_id: user_id.clone(),
        trust: caller.0.trust(),
        channel: "http".to_owned(),
        message,
        idempotency_key,
        from_channel: false,
        overrides: Default::default(),
    };
    let detail = if request.stream {
        Detail::All
    } else {
        Detail::Outcome
    };
    let turn = turns::start(&state, admission, input, detail)
        .await
        .map_err(refusal)?;
    let completion_id = format!("chatcmpl-{}", &Uuid::new_v4().simple().to_string()[..12]);

    let run_id = HeaderValue::from_str(&turn.run_id.to_string()).map_err(ApiError::internal)?;
    if request.stream {
        let include_usage = request.stream_options.is_some_and(|o| o.include_usage);
        let frames = stream_frames(turn.events, completion_id, model_name, include_usage);
        return Ok(([(RUN_ID_HEADER, run_id)], Sse::new(frames)).into_response());
    }
    let answer = turns::answer(turn.events.outcome().await).map_err(refusal)?;
    let body = Json(json!({
        "id": completion_id,
        "object": "chat.completion",
        "created": now_secs(),
        "model": model_name,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": answer.content },
            "finish_reason": "stop",
        }],
        "usage": openai_usage(&answer.usage),
    }));
    Ok(([(RUN_ID_HEADER, run_id)], body).into_response())
}

/// A refused or failed turn as an HTTP error.
fn refusal(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(message) => ApiError::bad_request(message),
        Refusal::NotFound(message) => ApiError::not_found(message),
        Refusal::Forbidden(message) => ApiError::forbidden(message),
        Refusal::RateLimited(wait) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED_MESSAGE)
                .with_retry_after(wait)
        }
        Refusal::Exhausted(reason) | Refusal::QuotaExceeded(reason) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, reason)
        }
        Refusal::Cancelled => ApiError::new(StatusCode::CONFLICT, "run was cancelled"),
        Refusal::Failed(error) => ApiError::new(StatusCode::BAD_GATEWAY, error),
        Refusal::Unavailable(message) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message),
        Refusal::Internal => ApiError::internal("starting a turn failed"),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn openai_usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": { "cached_tokens": usage.cache_read_tokens },
    })
}

/// What the SSE stream does next.
enum Step {
    Open { events: RunEvents, streamed: bool },
    Done,
}

/// The SSE frames of one run: a role chunk, a chunk per text delta, the final chunk, usage when
/// asked for, then `[DONE]`. A run that failed, a dropped message and a stream that fell
/// behind end with an error object instead of the final chunk.
fn stream_frames(
    events: RunEvents,
    id: String,
    model: String,
    include_usage: bool,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let chunk = move |delta: Value, finish: Option<&str>| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": now_secs(),
            "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        })
    };
    let first = Event::default()
        .data(chunk(json!({ "role": "assistant", "content": "" }), None).to_string());
    let start = Step::Open {
        events,
        streamed: false,
    };
    let rest = stream::unfold(start, move |step| {
        let chunk = chunk.clone();
        async move {
            let Step::Open {
                mut events,
                mut streamed,
            } = step
            else {
                return None;
            };
            loop {
                let event = match events.recv().await {
                    Ok(Some(event)) => event,
                    Ok(None) => return None,
                    Err(error) => return Some((vec![stream_error(&error), done()], Step::Done)),
                };
                match &event.kind {
                    AgentEventKind::Chunk { content } => {
                        streamed = true;
                        let frame = Event::default()
                            .data(chunk(json!({ "content": content }), None).to_string());
                        return Some((vec![frame], Step::Open { events, streamed }));
                    }
                    AgentEventKind::RunCompleted { content, usage, .. } => {
                        let mut frames = Vec::new();
                        // A replayed request, or a model that did not stream: the whole answer.
                        if !streamed && !content.is_empty() {
                            frames.push(
                                Event::default()
                                    .data(chunk(json!({ "content": content }), None).to_string()),
                            );
                        }
                        frames.push(
                            Event::default().data(chunk(json!({}), Some("stop")).to_string()),
                        );
                        if include_usage {
                            let mut last = chunk(json!({}), None);
                            last["choices"] = json!([]);
                            last["usage"] = openai_usage(usage);
                            frames.push(Event::default().data(last.to_string()));
                        }
                        frames.push(done());
                        return Some((frames, Step::Done));
                    }
                    AgentEventKind::RunFailed { error } => {
                        return Some((vec![error_event(error, "INTERNAL"), done()], Step::Done));
                    }
                    AgentEventKind::RunCancelled { .. } => {
                        let frame =
                            Event::default().data(chunk(json!({}), Some("stop")).to_string());
                        return Some((vec![frame, done()], Step::Done));
                    }
                    _ => continue,
                }
            }
        }
    })
    .flat_map(stream::iter);
    stream::once(async move { first }).chain(rest).map(Ok)
}

fn done() -> Event {
    Event::default().data("[DONE]")
}

/// The error object that ends a stream which lost its run.
fn stream_error(error: &StreamError) -> Event {
    let code = match error {
        StreamError::Lagged | StreamError::Dropped(_) => "RESOURCE_EXHAUSTED",
        StreamError::Closed => "UNAVAILABLE",
    };
    error_event(&error.to_string(), code)
}

fn error_event(message: &str, code: &str) -> Event {
    Event::default().data(
        json!({ "error": { "message": message, "type": "server_error", "code": code } })
            .to_string(),
    )
}

/// The request's pictures kept in the run's workspace, and the text with a line for each.
async fn keep_images(
    state: &AppState,
    caller: &Caller,
    agent: &AgentKey,
    user_id: &str,
    images: Vec<Incoming>,
    message: String,
) -> Result<(Vec<goclaw_core::MediaRef>, String), ApiError> {
    if images.is_empty() {
        return Ok((Vec::new(), message));
    }
    let workspace = match state
        .runtime
        .workspace_of(caller.0.tenant_id, agent, user_id)
        .await
    {
        Ok(workspace) => workspace,
        Err(goclaw_agent::RuntimeError::AgentNotFound(key)) => {
            return Err(ApiError::not_found(format!("agent not found: {key}")));
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    let mut refs = Vec::with_capacity(images.len());
    let mut lines = Vec::with_capacity(images.len());
    for image in images {
        let (media, line) = keep(&workspace, image).await.map_err(ApiError::internal)?;
        refs.push(media);
        lines.push(line);
    }
    Ok((refs, with_lines(&message, &lines)))
}
