//! A Telegram Bot API double: `POST /bot{token}/{method}` with Telegram's `{ok, result}` /
//! `{ok: false, error_code, description}` envelope. Updates wait until a `getUpdates` with a
//! higher `offset` confirms them, as on Telegram; `getUpdates` long-polls for `timeout`
//! seconds. A wrong token gets 401. `editMessageText` changes a message the bot sent (recorded
//! in [`FakeTelegram::edits`]). Webhook mode: `setWebhook` records the URL and secret
//! (then `getUpdates` is refused with 409, as on Telegram) and [`FakeTelegram::deliver`] POSTs
//! an update as Telegram would. Faults: polls that hang, sends that are held unanswered.
//! Files both ways are in [`files`].

mod files;

pub use files::SentFile;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The bot's user id and username on the fake.
pub const BOT_ID: i64 = 999_000;
pub const BOT_USERNAME: &str = "GoclawBot";
/// Telegram's limit on one message's text.
pub const MAX_TEXT: usize = 4096;

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat_id: String,
    pub text: String,
    pub parse_mode: Option<String>,
    pub reply_to: Option<i64>,
    pub thread_id: Option<i64>,
    /// Inline buttons, `(text, callback_data)`.
    pub buttons: Vec<(String, String)>,
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    next_message_id: i64,
    /// Updates not yet confirmed by an offset.
    queue: VecDeque<Value>,
    sent: Vec<SentMessage>,
    chat_actions: u64,
    /// The webhook `setWebhook` registered: its URL and secret.
    webhook: Option<(String, Option<String>)>,
    /// `answerCallbackQuery` calls: the press id and the text shown.
    press_answers: Vec<(String, String)>,
    /// `editMessageText` calls that changed a message: its id and the new text.
    edits: Vec<(i64, String)>,
    /// Files users can send, by `file_id`.
    files: HashMap<String, files::StoredFile>,
    /// Files the bot sent.
    sent_files: Vec<SentFile>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    arrived: Notify,
    sent_changed: Notify,
    hang_polls: AtomicBool,
    hold_sends: AtomicBool,
    released: Notify,
    polls: AtomicU64,
    hung_polls: AtomicU64,
    held_sends: AtomicU64,
    /// Bumped when held sends are dropped unrecorded.
    send_generation: AtomicU64,
    /// File downloads served.
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
pub struct FakeTelegram {
    addr: SocketAddr,
    state: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTelegram {
    /// Starts the fake for a bot whose token is `token`.
    pub async fn start(token: &str) -> io::Result<Self> {
        let state = Arc::new(Shared {
            token: token.to_owned(),
            inner: Mutex::new(Inner {
                next_update_id: 100_000,
                next_message_id: 1,
                ..Inner::default()
            }),
            arrived: Notify::new(),
            sent_changed: Notify::new(),
            hang_polls: AtomicBool::new(false),
            hold_sends: AtomicBool::new(false),
            released: Notify::new(),
            polls: AtomicU64::new(0),
            hung_polls: AtomicU64::new(0),
            held_sends: AtomicU64::new(0),
            send_generation: AtomicU64::new(0),
            downloads: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(call))
            .route("/file/{bot}/{*path}", get(files::download))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// What `channels.telegram.api_server` should be.
    pub fn api_server(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A user writes to the bot directly; returns the update id.
    pub fn direct_message(&self, user_id: i64, text: &str) -> i64 {
        self.push_message(json!({
            "from": user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": format!("User {user_id}")},
            "text": text,
        }))
    }

    /// A user writes in a group; every `@GoclawBot` in `text` is marked as a mention.
    pub fn group_message(&self, chat_id: i64, user_id: i64, text: &str) -> i64 {
        self.push_message(json!({
            "from": user(user_id),
            "chat": {"id": chat_id, "type": "supergroup", "title": "Group"},
            "text": text,
            "entities": mentions(text),
        }))
    }

    /// `user_id` presses the button with `data` under the bot's message `message_id` in
    /// `chat_id` (a private chat when it equals `user_id`); returns the press id.
    pub fn press(&self, chat_id: i64, user_id: i64, message_id: i64, data: &str) -> String {
        let id = {
            let mut inner = self.state.inner();
            let update_id = inner.next_update_id;
            inner.next_update_id += 1;
            let id = format!("press-{update_id}");
            let kind = if chat_id == user_id {
                "private"
            } else {
                "supergroup"
            };
            inner.queue.push_back(json!({"update_id": update_id, "callback_query": {
                "id": id,
                "from": user(user_id),
                "message": {
                    "message_id": message_id,
                    "date": 1_700_000_000,
                    "from": {"id": BOT_ID, "is_bot": true, "first_name": "Goclaw", "username": BOT_USERNAME},
                    "chat": {"id": chat_id, "type": kind},
                    "text": "…",
                },
                "chat_instance": "1",
                "data": data,
            }}));
            id
        };
        self.state.arrived.notify_waiters();
        id
    }

    /// The answers to button presses (`answerCallbackQuery`): press id and text.
    pub fn press_answers(&self) -> Vec<(String, String)> {
        self.state.inner().press_answers.clone()
    }

    /// The edits of the bot's messages (`editMessageText`), in order: message id and new text.
    pub fn edits(&self) -> Vec<(i64, String)> {
        self.state.inner().edits.clone()
    }

    /// The webhook the bot registered (`setWebhook`): its URL and secret.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        self.state.inner().webhook.clone()
    }

    /// An update of a user writing to the bot directly, with a new update id, not queued: for
    /// delivering by webhook.
    pub fn direct_update(&self, user_id: i64, text: &str) -> Value {
        let mut inner = self.state.inner();
        let update_id = inner.next_update_id;
        inner.next_update_id += 1;
        json!({"update_id": update_id, "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "from": user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": format!("User {user_id}")},
            "text": text,
        }})
    }

    /// Delivers `update` as Telegram does in webhook mode: a POST to `endpoint` carrying
    /// `secret` in `X-Telegram-Bot-Api-Secret-Token`; returns the answer's status.
    pub async fn deliver(&self, endpoint: &str, secret: Option<&str>, update: &Value) -> u16 {
        let mut request = reqwest::Client::new().post(endpoint).json(update);
        if let Some(secret) = secret {
            request = request.header("x-telegram-bot-api-secret-token", secret);
        }
        request.send().await.map_or(0, |r| r.status().as_u16())
    }

    /// Queues an update carrying `message` (given a message id and date); returns its id.
    pub fn push_message(&self, mut message: Value) -> i64 {
        let update_id = {
            let mut inner = self.state.inner();
            let update_id = inner.next_update_id;
            inner.next_update_id += 1;
            message["message_id"] = json!(update_id);
            message["date"] = json!(1_700_000_000);
            inner
                .queue
                .push_back(json!({"update_id": update_id, "message": message}));
            update_id
        };
        self.state.arrived.notify_waiters();
        update_id
    }

    /// Everything the bot sent, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.state.inner().sent.clone()
    }

    /// What the bot sent to `chat_id`, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        let chat = chat_id.to_string();
        self.sent()
            .into_iter()
            .filter(|m| m.chat_id == chat)
            .collect()
    }

    /// Waits until `done` holds for what was sent; returns it, or `Err` with it at `timeout`.
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

    /// Makes `getUpdates` calls hang (never answered while set).
    pub fn hang_polls(&self, hang: bool) {
        self.state.hang_polls.store(hang, Ordering::SeqCst);
        if !hang {
            self.state.released.notify_waiters();
        }
    }

    /// Holds `sendMessage` calls unanswered and unrecorded while set; released calls are
    /// then handled (if their client still waits).
    pub fn hold_sends(&self, hold: bool) {
        self.state.hold_sends.store(hold, Ordering::SeqCst);
        if !hold {
            self.state.released.notify_waiters();
        }
    }

    /// Stops holding sends. With `record`, the held ones are handled (if their client still
    /// waits); without, they are dropped unrecorded — as Telegram never handles a request
    /// whose sender died before it arrived.
    pub fn release_sends(&self, record: bool) {
        if !record {
            self.state.send_generation.fetch_add(1, Ordering::SeqCst);
        }
        self.hold_sends(false);
    }

    /// `getUpdates` calls received.
    pub fn polls(&self) -> u64 {
        self.state.polls.load(Ordering::SeqCst)
    }

    /// `getUpdates` calls that hung.
    pub fn hung_polls(&self) -> u64 {
        self.state.hung_polls.load(Ordering::SeqCst)
    }

    /// `sendMessage` calls held by [`Self::hold_sends`].
    pub fn held_sends(&self) -> u64 {
        self.state.held_sends.load(Ordering::SeqCst)
    }

    /// Updates not yet confirmed by the bot.
    pub fn unconfirmed(&self) -> usize {
        self.state.inner().queue.len()
    }

    /// `sendChatAction` calls received.
    pub fn chat_actions(&self) -> u64 {
        self.state.inner().chat_actions
    }
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("User {id}"), "username": format!("user{id}")})
}

/// `mention` entities for each `@GoclawBot` in `text`, in UTF-16 offsets as Telegram counts.
fn mentions(text: &str) -> Value {
    let handle = format!("@{BOT_USERNAME}");
    let mut entities = Vec::new();
    for (at, _) in text.match_indices(&handle) {
        let offset = text[..at].encode_utf16().count();
        entities.push(json!({"type": "mention", "offset": offset, "length": handle.len()}));
    }
    Value::Array(entities)
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn refuse(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({"ok": false, "error_code": code, "description": description})),
    )
        .into_response()
}

async fn call(
    State(state): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if bot.strip_prefix("bot") != Some(state.token.as_str()) {
        return refuse(401, "Unauthorized");
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let Ok(form) = Multipart::from_request(request, &()).await else {
            return refuse(400, "Bad Request: unreadable form");
        };
        return match method.as_str() {
            "sendPhoto" | "sendDocument" => files::send_file(&state, &method, form).await,
            _ => refuse(400, "Bad Request: unexpected multipart"),
        };
    }
    let body = match axum::body::to_bytes(request.into_body(), 1 << 20).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    match method.as_str() {
        "getFile" => files::get_file(&state, &body),
        "getMe" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Goclaw", "username": BOT_USERNAME,
        })),
        "getUpdates" if state.inner().webhook.is_some() => refuse(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ),
        "getUpdates" => get_updates(&state, &body).await,
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_owned();
            let secret = body["secret_token"].as_str().map(str::to_owned);
            state.inner().webhook = (!url.is_empty()).then_some((url, secret));
            ok(json!(true))
        }
        "answerCallbackQuery" => {
            let id = body["callback_query_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            state.inner().press_answers.push((id, text));
            ok(json!(true))
        }
        "deleteWebhook" => {
            state.inner().webhook = None;
            ok(json!(true))
        }
        "sendMessage" => send_message(&state, &body).await,
        "editMessageText" => edit_message(&state, &body),
        "sendChatAction" => {
            state.inner().chat_actions += 1;
            ok(json!(true))
        }
        _ => refuse(404, "Not Found: method not found"),
    }
}

async fn wait_while(state: &Shared, flag: &AtomicBool) {
    loop {
        let released = state.released.notified();
        if !flag.load(Ordering::SeqCst) {
            return;
        }
        released.await;
    }
}

async fn get_updates(state: &Shared, body: &Value) -> Response {
    state.polls.fetch_add(1, Ordering::SeqCst);
    if state.hang_polls.load(Ordering::SeqCst) {
        state.hung_polls.fetch_add(1, Ordering::SeqCst);
        wait_while(state, &state.hang_polls).await;
    }
    if let Some(offset) = body["offset"].as_i64() {
        state
            .inner()
            .queue
            .retain(|u| u["update_id"].as_i64().is_some_and(|id| id >= offset));
    }
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(50));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let arrived = state.arrived.notified();
        let updates: Vec<Value> = state.inner().queue.iter().take(100).cloned().collect();
        if !updates.is_empty() {
            return ok(Value::Array(updates));
        }
        if tokio::time::timeout_at(deadline, arrived).await.is_err() {
            return ok(json!([]));
        }
    }
}

async fn send_message(state: &Shared, body: &Value) -> Response {
    if state.hold_sends.load(Ordering::SeqCst) {
        let generation = state.send_generation.load(Ordering::SeqCst);
        state.held_sends.fetch_add(1, Ordering::SeqCst);
        wait_while(state, &state.hold_sends).await;
        if state.send_generation.load(Ordering::SeqCst) != generation {
            return refuse(502, "Bad Gateway");
        }
    }
    let chat_id = match &body["chat_id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return refuse(400, "Bad Request: chat_id is empty"),
    };
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    if text.trim().is_empty() {
        return refuse(400, "Bad Request: message text is empty");
    }
    let parse_mode = body["parse_mode"].as_str().map(str::to_owned);
    let visible = if parse_mode.as_deref() == Some("HTML") {
        visible_html(&text)
    } else {
        Some(text.clone())
    };
    let Some(visible) = visible else {
        return refuse(400, "Bad Request: can't parse entities: unsupported tag");
    };
    if visible.chars().count() > MAX_TEXT {
        return refuse(400, "Bad Request: message is too long");
    }
    let message = {
        let mut inner = state.inner();
        let message_id = inner.next_message_id;
        inner.next_message_id += 1;
        let sent = SentMessage {
            message_id,
            chat_id: chat_id.clone(),
            text: text.clone(),
            parse_mode,
            reply_to: body["reply_parameters"]["message_id"].as_i64(),
            thread_id: body["message_thread_id"].as_i64(),
            buttons: buttons_of(body),
        };
        inner.sent.push(sent);
        message_id
    };
    state.sent_changed.notify_waiters();
    ok(json!({
        "message_id": message,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Goclaw", "username": BOT_USERNAME},
        "chat": {"id": chat_id.parse::<i64>().unwrap_or_default(), "type": "private"},
        "date": 1_700_000_000,
        "text": text,
    }))
}

/// The buttons of a body's `reply_markup`, `(text, callback_data)`.
fn buttons_of(body: &Value) -> Vec<(String, String)> {
    body["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .map(|b| {
            let text = b["text"].as_str().unwrap_or_default().to_owned();
            let data = b["callback_data"].as_str().unwrap_or_default().to_owned();
            (text, data)
        })
        .collect()
}

/// `editMessageText`: the bot's message in that chat gets the new text and buttons; the same
/// text and buttons again is refused as "message is not modified", as on Telegram.
fn edit_message(state: &Shared, body: &Value) -> Response {
    let chat_id = match &body["chat_id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return refuse(400, "Bad Request: chat_id is empty"),
    };
    let Some(message_id) = body["message_id"].as_i64() else {
        return refuse(400, "Bad Request: message identifier is not specified");
    };
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let parse_mode = body["parse_mode"].as_str().map(str::to_owned);
    let visible = if parse_mode.as_deref() == Some("HTML") {
        visible_html(&text)
    } else {
        Some(text.clone())
    };
    let Some(visible) = visible else {
        return refuse(400, "Bad Request: can't parse entities: unsupported tag");
    };
    if visible.trim().is_empty() {
        return refuse(400, "Bad Request: message text is empty");
    }
    if visible.chars().count() > MAX_TEXT {
        return refuse(400, "Bad Request: MESSAGE_TOO_LONG");
    }
    let buttons = buttons_of(body);
    {
        let mut inner = state.inner();
        let Some(sent) = inner
            .sent
            .iter_mut()
            .find(|m| m.message_id == message_id && m.chat_id == chat_id)
        else {
            return refuse(400, "Bad Request: message to edit not found");
        };
        if sent.text == text && sent.buttons == buttons && sent.parse_mode == parse_mode {
            return refuse(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            );
        }
        sent.text = text.clone();
        sent.parse_mode = parse_mode;
        sent.buttons = buttons;
        inner.edits.push((message_id, text.clone()));
    }
    state.sent_changed.notify_waiters();
    ok(json!({
        "message_id": message_id,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Goclaw", "username": BOT_USERNAME},
        "chat": {"id": chat_id.parse::<i64>().unwrap_or_default(), "type": "private"},
        "date": 1_700_000_000,
        "edit_date": 1_700_000_001,
        "text": text,
    }))
}

/// The text Telegram would show for HTML `text`, or `None` when it holds a tag Telegram does
/// not support or an unbalanced one.
fn visible_html(text: &str) -> Option<String> {
    const TAGS: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "blockquote",
        "tg-spoiler",
    ];
    let mut visible = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        visible.push_str(&rest[..start]);
        let end = rest[start..].find('>')? + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop().as_deref() != Some(name) {
                return None;
            }
        } else {
            let name = tag.split_whitespace().next().unwrap_or_default();
            if !TAGS.contains(&name) {
                return None;
            }
            open.push(name.to_owned());
        }
        rest = &rest[end + 1..];
    }
    visible.push_str(rest);
    open.is_empty().then(|| {
        visible
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    })
}
