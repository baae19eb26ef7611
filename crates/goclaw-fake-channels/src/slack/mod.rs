//! A Slack double: the Web API (`POST /api/{method}` with a bearer token, answering
//! `{ok: true, …}` or `{ok: false, error}` with HTTP 200, and 429 with `Retry-After` when told
//! to rate limit) and Socket Mode (`apps.connections.open` hands out a one-time
//! `ws://…/link?ticket=N`; the socket says `hello`, then sends envelopes). As on Slack, an
//! envelope not acknowledged (`{"envelope_id": …}`) within the ack timeout, or whose
//! connection went away, is sent again with `retry_attempt` one higher, at most 3 times. A
//! mention in a channel arrives twice, as a `message` and an `app_mention` event. Faults:
//! `disconnect` requests, dropped and silent connections, rate limits. The bot's messages can
//! be edited (`chat.update`), which replaces their text and blocks under the same `ts`.
//! Files both ways are in `files`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

mod files;
mod socket;
pub use files::UploadedFile;
use socket::link;

/// The bot's user id (what mentions name: `<@UGOCLAWBOT>`), bot id and name on the fake.
pub const BOT_USER_ID: &str = "UGOCLAWBOT";
pub const BOT_ID: &str = "BGOCLAW01";
pub const BOT_USERNAME: &str = "goclaw";
pub const TEAM_ID: &str = "TGOCLAW01";
/// Slack's limit on a message's `text`, and on a `section` block's.
pub const MAX_TEXT: usize = 40_000;
pub const MAX_SECTION_TEXT: usize = 3000;
/// How often Slack sends an unacknowledged envelope again.
pub const MAX_RETRIES: u32 = 3;
/// How long an envelope waits for its acknowledgement by default (Slack's is a few seconds).
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// A message the bot posted (`chat.postMessage`), as last edited (`chat.update`).
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub ts: String,
    pub channel: String,
    pub text: String,
    pub thread_ts: Option<String>,
    pub mrkdwn: Option<bool>,
    /// The Block Kit blocks, `Null` when none (also after an edit to `blocks: []`).
    pub blocks: Value,
    /// The buttons of its `actions` blocks, `(text, value)`.
    pub buttons: Vec<(String, String)>,
}

/// What a user's message caused: its `ts` and the envelopes that carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessage {
    pub ts: String,
    pub envelope_ids: Vec<String>,
}

/// A press of a button: the envelope carrying it and the response URL it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    pub envelope_id: String,
    pub response_url: String,
}

/// An envelope Slack keeps sending until it is acknowledged.
struct Pending {
    envelope_id: String,
    kind: &'static str,
    payload: Value,
    /// How many times it was sent.
    attempts: u32,
    sent_on: Option<u64>,
    sent_at: Option<Instant>,
    acked: bool,
}

#[derive(Default)]
struct Inner {
    next_ts: u64,
    next_envelope: u64,
    next_ticket: u64,
    next_response: u64,
    tickets: HashSet<u64>,
    /// Connections whose socket is open.
    alive: HashSet<u64>,
    envelopes: Vec<Pending>,
    acks: Vec<String>,
    sent: Vec<SentMessage>,
    /// `chat.update` calls that succeeded: the message's `ts` and its new text.
    edits: Vec<(String, String)>,
    ephemeral: Vec<Value>,
    /// Posts to response URLs: the URL's number and the body.
    responses: Vec<(u64, Value)>,
    rate_limited_posts: u32,
    next_file: u64,
    /// Files users can share, by `{team}-{id}/{name}`.
    files: HashMap<String, Vec<u8>>,
    /// Uploads started, by file id.
    uploads: HashMap<String, files::PendingUpload>,
    uploaded: Vec<UploadedFile>,
}

impl Inner {
    fn next_ts(&mut self) -> String {
        self.next_ts += 100;
        format!(
            "{}.{:06}",
            1_700_000_000 + self.next_ts / 1_000_000,
            self.next_ts % 1_000_000
        )
    }

    fn queue(&mut self, kind: &'static str, payload: Value) -> String {
        self.next_envelope += 1;
        let envelope_id = format!("env-{:04}", self.next_envelope);
        self.envelopes.push(Pending {
            envelope_id: envelope_id.clone(),
            kind,
            payload,
            attempts: 0,
            sent_on: None,
            sent_at: None,
            acked: false,
        });
        envelope_id
    }

    /// The frames due on `connection` now: new envelopes, and unacknowledged ones whose time
    /// ran out or whose connection is gone (marked sent).
    fn due(&mut self, connection: u64, ack_timeout: Duration) -> Vec<String> {
        let alive = self.alive.clone();
        let mut frames = Vec::new();
        for pending in &mut self.envelopes {
            if pending.acked || pending.attempts > MAX_RETRIES {
                continue;
            }
            let due = match (pending.sent_on, pending.sent_at) {
                (Some(on), Some(at)) => !alive.contains(&on) || at.elapsed() >= ack_timeout,
                _ => true,
            };
            if !due {
                continue;
            }
            let mut frame = json!({
                "envelope_id": pending.envelope_id,
                "type": pending.kind,
                "payload": pending.payload,
                "accepts_response_payload": pending.kind != "events_api",
            });
            if pending.kind == "events_api" {
                frame["retry_attempt"] = json!(pending.attempts);
                frame["retry_reason"] = json!(if pending.attempts == 0 { "" } else { "timeout" });
            }
            pending.attempts += 1;
            pending.sent_on = Some(connection);
            pending.sent_at = Some(Instant::now());
            frames.push(frame.to_string());
        }
        frames
    }
}

#[derive(Debug, Clone, Copy)]
enum Control {
    Disconnect,
    Drop,
    Silence,
}

struct Shared {
    addr: SocketAddr,
    bot_token: String,
    app_token: String,
    ack_timeout: Duration,
    inner: Mutex<Inner>,
    sent_changed: Notify,
    control: broadcast::Sender<Control>,
    closed: watch::Sender<bool>,
    connections_opened: AtomicU64,
    /// Downloads of `url_private` served.
    downloads: AtomicU64,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running fake; stops when dropped.
pub struct FakeSlack {
    state: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        let _ = self.state.closed.send(true);
        self.task.abort();
    }
}

impl FakeSlack {
    /// Starts the fake for an app whose bot token is `bot_token` and app-level token is
    /// `app_token`, with the default ack timeout.
    pub async fn start(bot_token: &str, app_token: &str) -> io::Result<Self> {
        Self::start_with_ack_timeout(bot_token, app_token, DEFAULT_ACK_TIMEOUT).await
    }

    /// Starts the fake sending unacknowledged envelopes again after `ack_timeout`.
    pub async fn start_with_ack_timeout(
        bot_token: &str,
        app_token: &str,
        ack_timeout: Duration,
    ) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Shared {
            addr,
            bot_token: bot_token.to_owned(),
            app_token: app_token.to_owned(),
            ack_timeout,
            inner: Mutex::new(Inner::default()),
            sent_changed: Notify::new(),
            control: broadcast::channel(16).0,
            closed: watch::channel(false).0,
            connections_opened: AtomicU64::new(0),
            downloads: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/api/{method}", post(web_api))
            .route("/link", any(link))
            .route("/response/{n}", post(respond))
            .route("/files-pri/{id}/{name}", get(files::serve_file))
            .route("/upload/{id}", post(files::receive_upload))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { state, task })
    }

    /// What `channels.slack.api_server` should be.
    pub fn api_server(&self) -> String {
        format!("http://{}/api", self.state.addr)
    }

    /// A user writes to the bot in their direct conversation `D{user_id}`.
    pub fn direct_message(&self, user_id: &str, text: &str) -> UserMessage {
        self.user_message(&format!("D{user_id}"), user_id, None, text)
    }

    /// A user writes in a channel; a mention of the bot also sends an `app_mention` event
    /// for the same message, as Slack does.
    pub fn channel_message(&self, channel_id: &str, user_id: &str, text: &str) -> UserMessage {
        self.user_message(channel_id, user_id, None, text)
    }

    /// A user replies in the thread `thread_ts` of a channel (or a direct conversation).
    pub fn thread_message(
        &self,
        channel_id: &str,
        user_id: &str,
        thread_ts: &str,
        text: &str,
    ) -> UserMessage {
        self.user_message(channel_id, user_id, Some(thread_ts), text)
    }

    fn user_message(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> UserMessage {
        let mut inner = self.state.inner();
        let ts = inner.next_ts();
        let channel_type = if channel.starts_with('D') {
            "im"
        } else {
            "channel"
        };
        let mut event = json!({
            "type": "message",
            "channel": channel,
            "channel_type": channel_type,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "client_msg_id": format!("msg-{ts}"),
            "team": TEAM_ID,
            "user_profile": {"name": format!("user.{}", user.to_lowercase()), "display_name": "", "real_name": format!("User {user}")},
        });
        if let Some(thread) = thread_ts {
            event["thread_ts"] = json!(thread);
        }
        let mut envelope_ids = vec![inner.queue("events_api", event_callback(event.clone()))];
        if channel_type == "channel" && text.contains(&format!("<@{BOT_USER_ID}>")) {
            let mut mention = json!({
                "type": "app_mention", "channel": channel, "user": user, "text": text,
                "ts": ts, "event_ts": ts, "team": TEAM_ID,
            });
            if let Some(thread) = thread_ts {
                mention["thread_ts"] = json!(thread);
            }
            envelope_ids.push(inner.queue("events_api", event_callback(mention)));
        }
        UserMessage { ts, envelope_ids }
    }

    /// Sends any event (the `event` of an `event_callback`); returns its envelope id.
    pub fn push_event(&self, event: Value) -> String {
        self.state
            .inner()
            .queue("events_api", event_callback(event))
    }

    /// `user_id` presses the button with `value` under the bot's last message in
    /// `channel_id`; the interaction's response URL points at the fake.
    pub fn press(&self, channel_id: &str, user_id: &str, value: &str) -> Press {
        let mut inner = self.state.inner();
        inner.next_response += 1;
        let response_url = format!(
            "http://{}/response/{}",
            self.state.addr, inner.next_response
        );
        let message = inner
            .sent
            .iter()
            .rev()
            .find(|m| m.channel == channel_id)
            .map(|m| json!({"ts": m.ts, "thread_ts": m.thread_ts, "text": m.text}))
            .unwrap_or_else(|| json!({"ts": "1700000000.000001", "text": ""}));
        let action_ts = inner.next_ts();
        let payload = json!({
            "type": "block_actions",
            "user": {"id": user_id, "username": format!("user.{}", user_id.to_lowercase()), "name": format!("user.{}", user_id.to_lowercase()), "team_id": TEAM_ID},
            "api_app_id": "AGOCLAW01",
            "trigger_id": format!("{}.{}.trigger", inner.next_response, action_ts),
            "team": {"id": TEAM_ID, "domain": "goclaw"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel_id, "is_ephemeral": false},
            "channel": {"id": channel_id, "name": if channel_id.starts_with('D') { "directmessage" } else { "general" }},
            "message": message,
            "response_url": response_url,
            "actions": [{
                "type": "button", "action_id": "goclaw_0", "block_id": "actions",
                "text": {"type": "plain_text", "text": "…"}, "value": value, "action_ts": action_ts,
            }],
        });
        let envelope_id = inner.queue("interactive", payload);
        Press {
            envelope_id,
            response_url,
        }
    }

    /// Everything the bot posted, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.state.inner().sent.clone()
    }

    /// What the bot posted in `channel`, in order.
    pub fn sent_to(&self, channel: &str) -> Vec<SentMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.channel == channel)
            .collect()
    }

    /// The edits of the bot's messages (`chat.update`), in order: the message's `ts` and its
    /// new text.
    pub fn edits(&self) -> Vec<(String, String)> {
        self.state.inner().edits.clone()
    }

    /// Waits until `done` holds for what was posted (checked again after every post and
    /// edit); returns it, or `Err` with it at `timeout`.
    pub async fn wait_for_sent(
        &self,
        timeout: Duration,
        done: impl Fn(&[SentMessage]) -> bool,
    ) -> Result<Vec<SentMessage>, Vec<SentMessage>> {
        let deadline = Instant::now() + timeout;
        loop {
            let changed = self.state.sent_changed.notified();
            let sent = self.sent();
            if done(&sent) {
                return Ok(sent);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(self.sent());
            }
        }
    }

    /// Waits (polling, so posts and edits are seen too) until `done` holds for the fake; whether it did within `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// `chat.postEphemeral` bodies, in order.
    pub fn ephemeral(&self) -> Vec<Value> {
        self.state.inner().ephemeral.clone()
    }

    /// The envelope ids acknowledged, in order (again when acknowledged twice).
    pub fn acks(&self) -> Vec<String> {
        self.state.inner().acks.clone()
    }

    /// The envelopes not acknowledged yet.
    pub fn unacked(&self) -> Vec<String> {
        self.state
            .inner()
            .envelopes
            .iter()
            .filter(|p| !p.acked)
            .map(|p| p.envelope_id.clone())
            .collect()
    }

    /// How many times the envelope was sent.
    pub fn attempts(&self, envelope_id: &str) -> u32 {
        self.state
            .inner()
            .envelopes
            .iter()
            .find(|p| p.envelope_id == envelope_id)
            .map_or(0, |p| p.attempts)
    }

    /// Posts to response URLs: the URL's number (as [`Self::press`] made it) and the body.
    pub fn responses(&self) -> Vec<(u64, Value)> {
        self.state.inner().responses.clone()
    }

    /// Socket Mode connections opened (WebSockets accepted).
    pub fn connections_opened(&self) -> u64 {
        self.state.connections_opened.load(Ordering::SeqCst)
    }

    /// Connections whose socket is open now.
    pub fn connections_alive(&self) -> usize {
        self.state.inner().alive.len()
    }

    /// Sends `{"type": "disconnect", "reason": "refresh_requested"}` on every open connection.
    pub fn send_disconnect(&self) {
        let _ = self.state.control.send(Control::Disconnect);
    }

    /// Drops every open connection without a close frame.
    pub fn drop_connection(&self) {
        let _ = self.state.control.send(Control::Drop);
    }

    /// Makes every open connection fall silent: it sends nothing more and reads nothing (so
    /// pings go unanswered), while the socket stays open.
    pub fn silence_connections(&self) {
        let _ = self.state.control.send(Control::Silence);
    }

    /// The next `count` `chat.postMessage` calls get HTTP 429 with `Retry-After: 1`.
    pub fn rate_limit_posts(&self, count: u32) {
        self.state.inner().rate_limited_posts = count;
    }
}

fn event_callback(event: Value) -> Value {
    let event_id = format!("Ev{}", event["ts"].as_str().unwrap_or("0").replace('.', ""));
    json!({
        "token": "verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "AGOCLAW01",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
    })
}

fn ok(mut fields: Value) -> Response {
    fields["ok"] = json!(true);
    Json(fields).into_response()
}

fn refuse(error: &str) -> Response {
    Json(json!({"ok": false, "error": error})).into_response()
}

async fn web_api(
    State(state): State<Arc<Shared>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = parse_body(&headers, &body);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| body["token"].as_str().map(str::to_owned));
    let Some(token) = token else {
        return refuse("not_authed");
    };
    let expected = if method == "apps.connections.open" {
        &state.app_token
    } else {
        &state.bot_token
    };
    if &token != expected {
        return refuse("invalid_auth");
    }
    match method.as_str() {
        "auth.test" => ok(json!({
            "url": "https://goclaw.slack.com/", "team": "GoClaw", "user": BOT_USERNAME,
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": false,
        })),
        "apps.connections.open" => {
            let ticket = {
                let mut inner = state.inner();
                inner.next_ticket += 1;
                let ticket = inner.next_ticket;
                inner.tickets.insert(ticket);
                ticket
            };
            ok(json!({"url": format!("ws://{}/link?ticket={ticket}", state.addr)}))
        }
        "chat.postMessage" => post_message(&state, &body),
        "chat.update" => update_message(&state, &body),
        "files.getUploadURLExternal" => files::upload_url(&state, &body),
        "files.completeUploadExternal" => files::complete_upload(&state, &body),
        "chat.postEphemeral" => {
            if body["channel"].as_str().is_none_or(str::is_empty) {
                return refuse("channel_not_found");
            }
            state.inner().ephemeral.push(body);
            ok(json!({"message_ts": "1700000000.000001"}))
        }
        "conversations.open" => match body["users"].as_str() {
            Some(users) if !users.is_empty() && !users.contains(',') => {
                ok(json!({"channel": {"id": format!("D{users}")}}))
            }
            _ => refuse("users_list_not_supplied"),
        },
        _ => refuse("unknown_method"),
    }
}

fn post_message(state: &Shared, body: &Value) -> Response {
    let mut inner = state.inner();
    if inner.rate_limited_posts > 0 {
        inner.rate_limited_posts -= 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response();
    }
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    if channel.is_empty() {
        return refuse("channel_not_found");
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let blocks = body.get("blocks").cloned().unwrap_or(Value::Null);
    if text.trim().is_empty() && blocks.is_null() {
        return refuse("no_text");
    }
    if text.chars().count() > MAX_TEXT {
        return refuse("msg_too_long");
    }
    let buttons = match buttons_of(&blocks) {
        Ok(buttons) => buttons,
        Err(error) => return refuse(error),
    };
    let ts = inner.next_ts();
    inner.sent.push(SentMessage {
        ts: ts.clone(),
        channel: channel.clone(),
        text: text.clone(),
        thread_ts: body["thread_ts"].as_str().map(str::to_owned),
        mrkdwn: body["mrkdwn"].as_bool(),
        blocks,
        buttons,
    });
    drop(inner);
    state.sent_changed.notify_waiters();
    ok(json!({
        "channel": channel, "ts": ts,
        "message": {"type": "message", "text": text, "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts},
    }))
}

/// `chat.update`: the bot's message `ts` in `channel` gets the new text and blocks.
fn update_message(state: &Shared, body: &Value) -> Response {
    let mut inner = state.inner();
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    let ts = body["ts"].as_str().unwrap_or_default().to_owned();
    let Some(index) = inner
        .sent
        .iter()
        .position(|m| m.ts == ts && m.channel == channel)
    else {
        return refuse("message_not_found");
    };
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let blocks = match body.get("blocks") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(blocks)) if blocks.is_empty() => Value::Null,
        Some(blocks) => blocks.clone(),
    };
    if text.trim().is_empty() && blocks.is_null() {
        return refuse("no_text");
    }
    if text.chars().count() > MAX_TEXT {
        return refuse("msg_too_long");
    }
    let buttons = match buttons_of(&blocks) {
        Ok(buttons) => buttons,
        Err(error) => return refuse(error),
    };
    let message = &mut inner.sent[index];
    message.text = text.clone();
    message.blocks = blocks;
    message.buttons = buttons;
    inner.edits.push((ts.clone(), text.clone()));
    drop(inner);
    state.sent_changed.notify_waiters();
    ok(json!({"channel": channel, "ts": ts, "text": text}))
}

/// The buttons of the `actions` blocks, `(text, value)`; `Err` with Slack's error when a
/// `section` has no text or too long a one.
fn buttons_of(blocks: &Value) -> Result<Vec<(String, String)>, &'static str> {
    let mut buttons = Vec::new();
    for block in blocks.as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("section")
                if block["text"]["text"]
                    .as_str()
                    .is_none_or(|t| t.chars().count() > MAX_SECTION_TEXT) =>
            {
                return Err("invalid_blocks");
            }
            Some("actions") => {
                for element in block["elements"].as_array().into_iter().flatten() {
                    let label = element["text"]["text"].as_str().unwrap_or_default();
                    let value = element["value"].as_str().unwrap_or_default();
                    buttons.push((label.to_owned(), value.to_owned()));
                }
            }
            _ => {}
        }
    }
    Ok(buttons)
}

async fn respond(
    State(state): State<Arc<Shared>>,
    Path(n): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = parse_body(&headers, &body);
    state.inner().responses.push((n, body));
    ok(json!({}))
}

/// A JSON or form (`application/x-www-form-urlencoded`) body as JSON.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Value {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        // Slack's form bodies carry blocks and other structures as JSON strings.
        let value = match serde_json::from_str::<Value>(&value) {
            Ok(parsed) if parsed.is_array() || parsed.is_object() => parsed,
            _ => Value::String(value),
        };
        fields.insert(percent_decode(name), value);
    }
    Value::Object(fields)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
