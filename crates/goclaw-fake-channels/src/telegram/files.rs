//! Files on the Telegram double: files a test registers are found by `getFile` (`file_id`,
//! `file_size`, `file_path`) and served at `GET /file/bot{token}/{file_path}`; users send
//! photos and documents that name them; `sendPhoto` and `sendDocument` take
//! `multipart/form-data` as Telegram does (`chat_id`, `caption`, `parse_mode`, the file in
//! `photo` or `document`) and record the bytes, name and caption received.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{BOT_ID, BOT_USERNAME, FakeTelegram, Shared, ok, refuse, user};

/// A file the bot sent with `sendPhoto` or `sendDocument`.
#[derive(Debug, Clone, PartialEq)]
pub struct SentFile {
    pub message_id: i64,
    /// `sendPhoto` or `sendDocument`.
    pub method: String,
    pub chat_id: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_to: Option<i64>,
}

/// A file users can send: its path on the server and its bytes.
#[derive(Debug, Clone)]
pub(super) struct StoredFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl FakeTelegram {
    /// Registers a file Telegram holds; returns its `file_id`.
    pub fn add_file(&self, name: &str, bytes: &[u8]) -> String {
        let mut inner = self.state.inner();
        let id = format!("file-{}", inner.files.len() + 1);
        let folder = if name.ends_with(".jpg") {
            "photos"
        } else {
            "documents"
        };
        let path = format!("{folder}/{id}-{name}");
        inner.files.insert(
            id.clone(),
            StoredFile {
                path,
                bytes: bytes.to_vec(),
            },
        );
        id
    }

    /// A user sends the bot a photo directly (its sizes all naming `file_id`, the largest
    /// declaring `size`), with an optional caption; returns the update id.
    pub fn direct_photo(
        &self,
        user_id: i64,
        file_id: &str,
        size: u64,
        caption: Option<&str>,
    ) -> i64 {
        let mut message = json!({
            "from": user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": format!("User {user_id}")},
            "photo": [
                {"file_id": format!("{file_id}-thumb"), "file_unique_id": "t", "width": 90, "height": 90, "file_size": 100},
                {"file_id": file_id, "file_unique_id": "u", "width": 1280, "height": 960, "file_size": size},
            ],
        });
        if let Some(caption) = caption {
            message["caption"] = json!(caption);
        }
        self.push_message(message)
    }

    /// A user sends the bot a document directly, declaring `size`; returns the update id.
    pub fn direct_document(
        &self,
        user_id: i64,
        file_id: &str,
        file_name: &str,
        mime_type: &str,
        size: u64,
    ) -> i64 {
        self.push_message(json!({
            "from": user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": format!("User {user_id}")},
            "document": {
                "file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                "file_name": file_name, "mime_type": mime_type, "file_size": size,
            },
        }))
    }

    /// Files the bot sent, in order.
    pub fn sent_files(&self) -> Vec<SentFile> {
        self.state.inner().sent_files.clone()
    }

    /// Waits until `done` holds for the files sent; returns them, or `Err` at `timeout`.
    pub async fn wait_for_files(
        &self,
        timeout: Duration,
        done: impl Fn(&[SentFile]) -> bool,
    ) -> Result<Vec<SentFile>, Vec<SentFile>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.state.sent_changed.notified();
            let sent = self.sent_files();
            if done(&sent) {
                return Ok(sent);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(self.sent_files());
            }
        }
    }

    /// Downloads served from `/file/bot{token}/…`.
    pub fn file_downloads(&self) -> u64 {
        self.state.downloads.load(Ordering::SeqCst)
    }
}

/// `getFile`.
pub(super) fn get_file(state: &Shared, body: &Value) -> Response {
    let id = body["file_id"].as_str().unwrap_or_default();
    match state.inner().files.get(id) {
        Some(file) => ok(json!({
            "file_id": id, "file_unique_id": format!("u-{id}"),
            "file_size": file.bytes.len(), "file_path": file.path,
        })),
        None => refuse(400, "Bad Request: invalid file_id"),
    }
}

/// `GET /file/bot{token}/{path}`.
pub(super) async fn download(
    State(state): State<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if bot.strip_prefix("bot") != Some(state.token.as_str()) {
        return refuse(401, "Unauthorized");
    }
    let found = state
        .inner()
        .files
        .values()
        .find(|f| f.path == path)
        .map(|f| f.bytes.clone());
    match found {
        Some(bytes) => {
            state.downloads.fetch_add(1, Ordering::SeqCst);
            bytes.into_response()
        }
        None => refuse(404, "Not Found"),
    }
}

/// `sendPhoto` and `sendDocument` as `multipart/form-data`.
pub(super) async fn send_file(state: &Shared, method: &str, mut form: Multipart) -> Response {
    let field_name = if method == "sendPhoto" {
        "photo"
    } else {
        "document"
    };
    let mut fields = serde_json::Map::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else {
            return refuse(400, "Bad Request: unreadable form");
        };
        if name == field_name {
            file = Some((file_name.unwrap_or_default(), bytes.to_vec()));
        } else {
            fields.insert(name, json!(String::from_utf8_lossy(&bytes)));
        }
    }
    let Some((file_name, bytes)) = file else {
        return refuse(
            400,
            &format!("Bad Request: there is no {field_name} in the request"),
        );
    };
    let Some(chat_id) = fields
        .get("chat_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return refuse(400, "Bad Request: chat_id is empty");
    };
    let caption = fields
        .get("caption")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if caption.as_ref().is_some_and(|c| c.chars().count() > 1024) {
        return refuse(400, "Bad Request: message caption is too long");
    }
    let reply_to = fields
        .get("reply_parameters")
        .and_then(Value::as_str)
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|r| r["message_id"].as_i64());
    let message_id = {
        let mut inner = state.inner();
        let message_id = inner.next_message_id;
        inner.next_message_id += 1;
        inner.sent_files.push(SentFile {
            message_id,
            method: method.to_owned(),
            chat_id: chat_id.clone(),
            file_name: file_name.clone(),
            bytes: bytes.clone(),
            caption: caption.clone(),
            parse_mode: fields
                .get("parse_mode")
                .and_then(Value::as_str)
                .map(str::to_owned),
            reply_to,
        });
        message_id
    };
    state.sent_changed.notify_waiters();
    let mut message = json!({
        "message_id": message_id,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Goclaw", "username": BOT_USERNAME},
        "chat": {"id": chat_id.parse::<i64>().unwrap_or_default(), "type": "private"},
        "date": 1_700_000_000,
    });
    if let Some(caption) = caption {
        message["caption"] = json!(caption);
    }
    let id = format!("sent-{message_id}");
    if method == "sendPhoto" {
        message["photo"] = json!([{"file_id": id, "file_unique_id": id, "width": 1, "height": 1, "file_size": bytes.len()}]);
    } else {
        message["document"] = json!({"file_id": id, "file_unique_id": id, "file_name": file_name, "file_size": bytes.len()});
    }
    ok(message)
}
