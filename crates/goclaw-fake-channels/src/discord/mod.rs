//! A Discord double: the REST routes a bot uses under `/api/v10` (`Authorization: Bot
//! {token}`, Discord's `{code, message}` errors) and the gateway WebSocket at `/gateway`
//! (Hello, heartbeats and their ACKs, Identify → READY, Resume → replay → RESUMED, close 4004
//! for a refused token).
//!
//! The event model: every event a test creates (a message, a press) joins one global list,
//! and the log of the current gateway session if there is one; dispatch `s` is the position
//! in that log (READY is 1). A connection sends the session's log from where it stands, so
//! events created while no client is connected wait there and a Resume from `seq` replays
//! everything after it. A fresh Identify starts a new session whose log holds READY and every
//! event never yet written to any connection. Faults: [`FakeDiscord::drop_connection`] cuts
//! the socket without a close frame; [`FakeDiscord::stop_heartbeat_acks`] makes connections
//! zombies (no ACKs, no dispatches) until cleared, when the late ACK and the held events go;
//! [`FakeDiscord::request_reconnect`] sends op 7 and [`FakeDiscord::invalidate_session`] op 9.
//! Attachments both ways are in `files`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

mod files;
mod gateway;
pub use files::SentAttachment;
use gateway::gateway;

/// The bot's user id and username on the fake.
pub const BOT_ID: &str = "900000000000000001";
pub const BOT_USERNAME: &str = "goclaw";
/// The guild every guild message is in.
pub const GUILD_ID: &str = "800000000000000001";
/// Discord's limit on one message's content.
pub const MAX_CONTENT: usize = 2000;

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub id: String,
    pub channel_id: String,
    pub content: String,
    /// The message replied to (`message_reference.message_id`).
    pub reply_to: Option<String>,
    /// Buttons of all action rows, `(label, custom_id)`.
    pub buttons: Vec<(String, String)>,
    /// Files sent with the message.
    pub files: Vec<SentAttachment>,
}

/// An answer to an interaction (`POST /interactions/{id}/{token}/callback`), or a follow-up
/// message to one already answered (`POST /webhooks/{application}/{token}`).
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionResponse {
    pub interaction_id: String,
    /// The callback type (4: a message, 6: deferred, shows nothing); 0 for a follow-up.
    pub kind: u64,
    /// A follow-up message rather than the answer itself.
    pub followup: bool,
    pub content: String,
    /// 64: only the presser sees it.
    pub flags: u64,
}

/// An event tests created.
struct Event {
    kind: &'static str,
    data: Value,
    /// Written to some connection at least once.
    dispatched: bool,
}

/// The current gateway session: its id and its dispatch log (entry `n` has `s = n + 1`),
/// each entry with the index of its event in the global list (none for READY).
struct Session {
    id: String,
    log: Vec<(Option<usize>, &'static str, Value)>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    events: Vec<Event>,
    session: Option<Session>,
    sent: Vec<SentMessage>,
    /// Edits of sent messages, `(message id, content after the edit)`.
    edits: Vec<(String, String)>,
    typing: u64,
    /// Interactions created: id → token, and whether answered.
    interactions: HashMap<String, (String, bool)>,
    responses: Vec<InteractionResponse>,
    /// Sends still to refuse with 429, and the `retry_after` given.
    rate_limited_sends: (usize, f64),
    /// Gateway payloads the next connection to look sends (op 7, op 9).
    control: Vec<Value>,
    /// Attachment bytes by `{id}/{file name}`.
    attachments: HashMap<String, Vec<u8>>,
    /// The `resume_gateway_url` READY names instead of the fake's own gateway.
    resume_url: Option<String>,
}

impl Inner {
    fn snowflake(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }
}

struct Shared {
    token: String,
    addr: SocketAddr,
    inner: Mutex<Inner>,
    /// Wakes connections: new events, a fault set or cleared.
    changed: Notify,
    /// Wakes `wait_for_sent`: a message sent or edited.
    sent_changed: Notify,
    acks_stopped: AtomicBool,
    refuse_identify: AtomicBool,
    /// Bumped by `drop_connection`; a connection from an older generation ends.
    generation: AtomicU64,
    heartbeat_ms: AtomicU64,
    identifies: AtomicU64,
    resumes: AtomicU64,
    heartbeats: AtomicU64,
    /// Attachment downloads served.
    downloads: AtomicU64,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }
}

/// A running fake; stops when dropped.
pub struct FakeDiscord {
    addr: SocketAddr,
    state: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDiscord {
    /// Starts the fake for a bot whose token is `token`; heartbeats every second.
    pub async fn start(token: &str) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Shared {
            token: token.to_owned(),
            addr,
            inner: Mutex::new(Inner {
                next_id: 1_200_000_000_000_000_000,
                ..Inner::default()
            }),
            changed: Notify::new(),
            sent_changed: Notify::new(),
            acks_stopped: AtomicBool::new(false),
            refuse_identify: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            heartbeat_ms: AtomicU64::new(1000),
            identifies: AtomicU64::new(0),
            resumes: AtomicU64::new(0),
            heartbeats: AtomicU64::new(0),
            downloads: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/api/v10/users/@me", get(current_user))
            .route("/api/v10/users/@me/channels", post(open_direct_channel))
            .route("/api/v10/gateway/bot", get(gateway_bot))
            .route("/api/v10/channels/{id}/messages", post(create_message))
            .route(
                "/api/v10/channels/{id}/messages/{message_id}",
                patch(edit_message),
            )
            .route("/api/v10/channels/{id}/typing", post(trigger_typing))
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(interaction_callback),
            )
            .route(
                "/api/v10/webhooks/{application}/{token}",
                post(interaction_followup),
            )
            .route("/attachments/{id}/{name}", get(files::serve_attachment))
            .route("/gateway", any(gateway))
            .route("/gateway/", any(gateway))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// What `channels.discord.api_server` should be.
    pub fn api_server(&self) -> String {
        format!("http://{}/api/v10", self.addr)
    }

    /// The heartbeat interval the next Hello announces.
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.state.heartbeat_ms.store(ms.max(1), Ordering::SeqCst);
    }

    /// User `user_id` writes to the bot directly (channel `dm-{user_id}`); returns the
    /// message id.
    pub fn direct_message(&self, user_id: &str, text: &str) -> String {
        self.push_message(&format!("dm-{user_id}"), user_id, text, None, Vec::new())
    }

    /// User `user_id` writes in guild channel `channel_id`; every `<@BOT_ID>` (or `<@!BOT_ID>`)
    /// in `text` lists the bot in `mentions`. Returns the message id.
    pub fn guild_message(&self, channel_id: &str, user_id: &str, text: &str) -> String {
        self.push_message(channel_id, user_id, text, Some(GUILD_ID), Vec::new())
    }

    fn push_message(
        &self,
        channel_id: &str,
        user_id: &str,
        text: &str,
        guild_id: Option<&str>,
        attachments: Vec<Value>,
    ) -> String {
        let mentioned =
            text.contains(&format!("<@{BOT_ID}>")) || text.contains(&format!("<@!{BOT_ID}>"));
        let mentions = if mentioned {
            vec![bot_user()]
        } else {
            Vec::new()
        };
        let mut inner = self.state.inner();
        let id = inner.snowflake();
        let mut message = json!({
            "id": id,
            "channel_id": channel_id,
            "author": user(user_id),
            "content": text,
            "timestamp": "2024-01-01T00:00:00.000000+00:00",
            "tts": false,
            "mention_everyone": false,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": attachments,
            "embeds": [],
            "pinned": false,
            "type": 0,
        });
        if let Some(guild_id) = guild_id {
            message["guild_id"] = json!(guild_id);
            message["member"] = json!({"roles": [], "nick": null});
        }
        push_event(&mut inner, "MESSAGE_CREATE", message);
        drop(inner);
        self.state.changed.notify_waiters();
        id
    }

    /// User `user_id` presses the button `custom_id` under a bot message in `channel_id`, in
    /// the guild or directly; returns the interaction id (its token is `token-{id}`).
    pub fn press(&self, channel_id: &str, user_id: &str, custom_id: &str, guild: bool) -> String {
        let mut inner = self.state.inner();
        let id = inner.snowflake();
        let message_id = inner
            .sent
            .iter()
            .rev()
            .find(|m| m.channel_id == channel_id)
            .map_or_else(|| "0".to_owned(), |m| m.id.clone());
        let token = format!("token-{id}");
        let mut interaction = json!({
            "id": id,
            "application_id": BOT_ID,
            "type": 3,
            "token": token,
            "version": 1,
            "channel_id": channel_id,
            "data": {"custom_id": custom_id, "component_type": 2},
            "message": {"id": message_id, "channel_id": channel_id},
        });
        if guild {
            interaction["guild_id"] = json!(GUILD_ID);
            interaction["member"] = json!({"user": user(user_id), "roles": [], "nick": null});
        } else {
            interaction["user"] = user(user_id);
        }
        inner.interactions.insert(id.clone(), (token, false));
        push_event(&mut inner, "INTERACTION_CREATE", interaction);
        drop(inner);
        self.state.changed.notify_waiters();
        id
    }

    /// Everything the bot sent, in order, each as last edited.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.state.inner().sent.clone()
    }

    /// What the bot sent to `channel_id`, in order.
    pub fn sent_to(&self, channel_id: &str) -> Vec<SentMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.channel_id == channel_id)
            .collect()
    }

    /// The edits of the bot's messages, `(message id, content after the edit)`, in order.
    pub fn edits(&self) -> Vec<(String, String)> {
        self.state.inner().edits.clone()
    }

    /// Waits until `done` holds for what was sent (checked again at each send and edit);
    /// returns it, or `Err` with it at `timeout`.
    pub async fn wait_for_sent(
        &self,
        timeout: Duration,
        done: impl Fn(&[SentMessage]) -> bool,
    ) -> Result<Vec<SentMessage>, Vec<SentMessage>> {
        let deadline = tokio::time::Instant::now() + timeout;
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

    /// Waits until `condition` holds of the fake (checked every 10 ms); whether it did
    /// before `timeout`.
    pub async fn wait_until(&self, timeout: Duration, condition: impl Fn(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !condition(self) {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// `POST /channels/{id}/typing` calls received.
    pub fn typing_count(&self) -> u64 {
        self.state.inner().typing
    }

    /// The answers to interactions, in order.
    pub fn interaction_responses(&self) -> Vec<InteractionResponse> {
        self.state.inner().responses.clone()
    }

    /// The `resume_gateway_url` the next sessions are given (one nothing listens on, say).
    pub fn advertise_resume_url(&self, url: &str) {
        self.state.inner().resume_url = Some(url.to_owned());
    }

    /// Cuts every open gateway connection without a close frame, as a network failure does.
    pub fn drop_connection(&self) {
        self.state.generation.fetch_add(1, Ordering::SeqCst);
        self.state.changed.notify_waiters();
    }

    /// While set, connections are zombies: heartbeats are not acknowledged and nothing is
    /// dispatched. Cleared, each connection still open sends the ACK it owes and what waits.
    pub fn stop_heartbeat_acks(&self, stop: bool) {
        self.state.acks_stopped.store(stop, Ordering::SeqCst);
        self.state.changed.notify_waiters();
    }

    /// While set, Identify and Resume are answered with close code 4004 (the token was
    /// revoked after the REST check).
    pub fn refuse_identify(&self, refuse: bool) {
        self.state.refuse_identify.store(refuse, Ordering::SeqCst);
    }

    /// Asks the connected client to reconnect and resume (op 7).
    pub fn request_reconnect(&self) {
        self.state.inner().control.push(json!({"op": 7, "d": null}));
        self.state.changed.notify_waiters();
    }

    /// Ends the current session (op 9, not resumable): the client must identify afresh.
    pub fn invalidate_session(&self) {
        {
            let mut inner = self.state.inner();
            inner.session = None;
            inner.control.push(json!({"op": 9, "d": false}));
        }
        self.state.changed.notify_waiters();
    }

    /// The next `count` message sends get 429 with `retry_after` seconds.
    pub fn rate_limit_sends(&self, count: usize, retry_after: f64) {
        self.state.inner().rate_limited_sends = (count, retry_after);
    }

    /// Identify (op 2) payloads received with the right token.
    pub fn identify_count(&self) -> u64 {
        self.state.identifies.load(Ordering::SeqCst)
    }

    /// Resume (op 6) payloads received.
    pub fn resume_count(&self) -> u64 {
        self.state.resumes.load(Ordering::SeqCst)
    }

    /// Heartbeats (op 1) received.
    pub fn heartbeat_count(&self) -> u64 {
        self.state.heartbeats.load(Ordering::SeqCst)
    }
}

/// Adds an event to the global list and to the current session's log.
fn push_event(inner: &mut Inner, kind: &'static str, data: Value) {
    inner.events.push(Event {
        kind,
        data: data.clone(),
        dispatched: false,
    });
    let index = inner.events.len() - 1;
    if let Some(session) = inner.session.as_mut() {
        session.log.push((Some(index), kind, data));
    }
}

fn user(id: &str) -> Value {
    json!({
        "id": id, "username": format!("user{id}"), "global_name": format!("User {id}"),
        "discriminator": "0", "avatar": null,
    })
}

fn bot_user() -> Value {
    json!({
        "id": BOT_ID, "username": BOT_USERNAME, "global_name": null,
        "discriminator": "0", "avatar": null, "bot": true,
    })
}

/// Discord's error body with `status`.
fn refuse(status: u16, code: u64, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Discord's 401, unless the request carries the bot's token.
fn unauthorized(state: &Shared, headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bot {}", state.token);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if given == expected => None,
        _ => Some(refuse(401, 0, "401: Unauthorized")),
    }
}

async fn current_user(State(state): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    Json(bot_user()).into_response()
}

async fn gateway_bot(State(state): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    Json(json!({
        "url": state.gateway_url(),
        "shards": 1,
        "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1,
        },
    }))
    .into_response()
}

async fn open_direct_channel(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let Some(recipient) = body["recipient_id"].as_str().filter(|r| !r.is_empty()) else {
        return refuse(400, 50035, "Invalid Form Body");
    };
    Json(json!({"id": format!("dm-{recipient}"), "type": 1, "recipients": [user(recipient)]}))
        .into_response()
}

async fn trigger_typing(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(_channel): Path<String>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    state.inner().typing += 1;
    StatusCode::NO_CONTENT.into_response()
}

async fn create_message(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(channel_id): Path<String>,
    request: Request,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    let (body, files) = match files::message_request(request).await {
        Ok(parsed) => parsed,
        Err(refused) => return refused,
    };
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    let buttons = buttons_of(&body["components"]);
    if content.trim().is_empty() && buttons.is_empty() && files.is_empty() {
        return refuse(400, 50006, "Cannot send an empty message");
    }
    if content.chars().count() > MAX_CONTENT {
        return refuse(400, 50035, "Invalid Form Body");
    }
    let reply_to = body["message_reference"]["message_id"]
        .as_str()
        .map(str::to_owned);
    let message = {
        let mut inner = state.inner();
        let (left, retry_after) = inner.rate_limited_sends;
        if left > 0 {
            inner.rate_limited_sends.0 = left - 1;
            let body = json!({
                "message": "You are being rate limited.", "retry_after": retry_after,
                "global": false,
            });
            return (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        }
        let id = inner.snowflake();
        inner.sent.push(SentMessage {
            id: id.clone(),
            channel_id: channel_id.clone(),
            content: content.clone(),
            reply_to: reply_to.clone(),
            buttons,
            files,
        });
        let mut message = json!({
            "id": id, "channel_id": channel_id, "author": bot_user(), "content": content,
            "timestamp": "2024-01-01T00:00:00.000000+00:00", "mentions": [], "type": 0,
            "components": body["components"].clone(),
        });
        if let Some(reply_to) = reply_to {
            message["type"] = json!(19);
            message["message_reference"] =
                json!({"message_id": reply_to, "channel_id": channel_id});
        }
        message
    };
    state.sent_changed.notify_waiters();
    Json(message).into_response()
}

/// `PATCH /channels/{id}/messages/{message_id}`: a field left out of the body stays as it
/// was; `components: []` takes the buttons away.
async fn edit_message(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((channel_id, message_id)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let message = {
        let mut inner = state.inner();
        let Inner { sent, edits, .. } = &mut *inner;
        // Only the bot's own messages are in `sent`: the bot cannot edit anyone else's.
        let Some(message) = sent
            .iter_mut()
            .find(|m| m.id == message_id && m.channel_id == channel_id)
        else {
            return refuse(404, 10008, "Unknown Message");
        };
        let content = match body.get("content") {
            Some(Value::Null) => String::new(),
            Some(content) => content.as_str().unwrap_or_default().to_owned(),
            None => message.content.clone(),
        };
        let buttons = match body.get("components") {
            Some(components) => buttons_of(components),
            None => message.buttons.clone(),
        };
        if content.trim().is_empty() && buttons.is_empty() {
            return refuse(400, 50006, "Cannot send an empty message");
        }
        if content.chars().count() > MAX_CONTENT {
            return refuse(400, 50035, "Invalid Form Body");
        }
        message.content = content.clone();
        message.buttons = buttons;
        edits.push((message_id.clone(), content.clone()));
        let components: Vec<Value> = if message.buttons.is_empty() {
            Vec::new()
        } else {
            let buttons: Vec<Value> = message
                .buttons
                .iter()
                .map(|(label, custom_id)| {
                    json!({"type": 2, "style": 2, "label": label, "custom_id": custom_id})
                })
                .collect();
            vec![json!({"type": 1, "components": buttons})]
        };
        let mut answer = json!({
            "id": message_id, "channel_id": channel_id, "author": bot_user(), "content": content,
            "timestamp": "2024-01-01T00:00:00.000000+00:00",
            "edited_timestamp": "2024-01-01T00:00:01.000000+00:00", "mentions": [], "type": 0,
            "components": components,
        });
        if let Some(reply_to) = &message.reply_to {
            answer["type"] = json!(19);
            answer["message_reference"] = json!({"message_id": reply_to, "channel_id": channel_id});
        }
        answer
    };
    state.sent_changed.notify_waiters();
    Json(message).into_response()
}

/// The buttons of a message's action rows, `(label, custom_id)`.
fn buttons_of(components: &Value) -> Vec<(String, String)> {
    components
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["components"].as_array())
        .flatten()
        .map(|b| {
            let label = b["label"].as_str().unwrap_or_default().to_owned();
            let custom_id = b["custom_id"].as_str().unwrap_or_default().to_owned();
            (label, custom_id)
        })
        .collect()
}

async fn interaction_callback(
    State(state): State<Arc<Shared>>,
    Path((id, token)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    // Discord authenticates a callback by the interaction's token, not the bot's.
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let mut inner = state.inner();
    match inner.interactions.get_mut(&id) {
        Some((known, answered)) if *known == token => {
            if *answered {
                return refuse(400, 40060, "Interaction has already been acknowledged.");
            }
            *answered = true;
        }
        _ => return refuse(404, 10062, "Unknown interaction"),
    }
    inner.responses.push(InteractionResponse {
        interaction_id: id,
        kind: body["type"].as_u64().unwrap_or_default(),
        followup: false,
        content: body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        flags: body["data"]["flags"].as_u64().unwrap_or_default(),
    });
    StatusCode::NO_CONTENT.into_response()
}

/// A follow-up message: Discord takes it only for an interaction already answered, on the
/// bot's own application, authenticated by the interaction's token.
async fn interaction_followup(
    State(state): State<Arc<Shared>>,
    Path((application, token)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let mut inner = state.inner();
    let answered = inner
        .interactions
        .iter()
        .find(|(_, (known, _))| *known == token)
        .map(|(id, (_, answered))| (id.clone(), *answered));
    let id = match answered {
        Some((id, true)) if application == BOT_ID => id,
        _ => return refuse(404, 10015, "Unknown Webhook"),
    };
    inner.responses.push(InteractionResponse {
        interaction_id: id,
        kind: 0,
        followup: true,
        content: body["content"].as_str().unwrap_or_default().to_owned(),
        flags: body["flags"].as_u64().unwrap_or_default(),
    });
    let message_id = inner.snowflake();
    Json(json!({ "id": message_id, "content": body["content"], "flags": body["flags"] }))
        .into_response()
}
