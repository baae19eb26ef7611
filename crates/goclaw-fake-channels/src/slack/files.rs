//! Files on the Slack double: files a test makes are served at their `url_private`
//! (`GET /files-pri/{team}-{id}/{name}`, only with the bot token as bearer, as Slack's private
//! URLs) and users share them in messages (`subtype: file_share`, `files`); the bot uploads the
//! way Slack asks — `files.getUploadURLExternal` (`filename`, `length`) gives an `upload_url`
//! on the fake and a `file_id`, the bytes are POSTed there (raw or `multipart/form-data`), and
//! `files.completeUploadExternal` (`files`, `channel_id`, `thread_ts`, `initial_comment`)
//! shares them, which the fake records.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeSlack, Shared, TEAM_ID, UserMessage, event_callback, ok, refuse};

/// A file the bot shared (`files.completeUploadExternal`), with the bytes it uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    pub file_id: String,
    /// The `filename` given to `files.getUploadURLExternal`.
    pub file_name: String,
    pub title: Option<String>,
    pub bytes: Vec<u8>,
    pub channel_id: String,
    pub thread_ts: Option<String>,
    pub initial_comment: Option<String>,
}

/// An upload `files.getUploadURLExternal` started.
#[derive(Debug, Clone, Default)]
pub(super) struct PendingUpload {
    file_name: String,
    length: usize,
    bytes: Option<Vec<u8>>,
}

impl FakeSlack {
    /// A file in the workspace, served at its `url_private` (a test may change its declared
    /// `size`); returns Slack's file object.
    pub fn add_file(&self, name: &str, mimetype: &str, bytes: &[u8]) -> Value {
        let mut inner = self.state.inner();
        inner.next_file += 1;
        let id = format!("F{:08}", inner.next_file);
        let key = format!("{TEAM_ID}-{id}/{name}");
        inner.files.insert(key.clone(), bytes.to_vec());
        let url = format!("http://{}/files-pri/{key}", self.state.addr);
        json!({
            "id": id, "created": 1_700_000_000, "timestamp": 1_700_000_000,
            "name": name, "title": name, "mimetype": mimetype,
            "filetype": name.rsplit('.').next().unwrap_or("binary"),
            "user": "U0", "mode": "hosted", "is_external": false, "size": bytes.len(),
            "url_private": url, "url_private_download": format!("{url}?download=1"),
        })
    }

    /// A user shares `files` with the bot in their direct conversation, with `text`.
    pub fn direct_message_with_files(
        &self,
        user_id: &str,
        text: &str,
        files: Vec<Value>,
    ) -> UserMessage {
        let channel = format!("D{user_id}");
        let mut inner = self.state.inner();
        let ts = inner.next_ts();
        let event = json!({
            "type": "message", "subtype": "file_share", "channel": channel,
            "channel_type": "im", "user": user_id, "text": text, "ts": ts, "event_ts": ts,
            "files": files, "upload": false, "display_as_bot": false, "team": TEAM_ID,
            "user_profile": {"name": format!("user.{}", user_id.to_lowercase()), "display_name": "", "real_name": format!("User {user_id}")},
        });
        let envelope_id = inner.queue("events_api", event_callback(event));
        UserMessage {
            ts,
            envelope_ids: vec![envelope_id],
        }
    }

    /// Files the bot shared, in order.
    pub fn uploaded(&self) -> Vec<UploadedFile> {
        self.state.inner().uploaded.clone()
    }

    /// Waits until `done` holds for the files shared (checked every 20 ms); returns them, or
    /// `Err` at `timeout`.
    pub async fn wait_for_uploads(
        &self,
        timeout: Duration,
        done: impl Fn(&[UploadedFile]) -> bool,
    ) -> Result<Vec<UploadedFile>, Vec<UploadedFile>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let uploaded = self.uploaded();
            if done(&uploaded) {
                return Ok(uploaded);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(uploaded);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Downloads of `url_private` served (with the right token).
    pub fn file_downloads(&self) -> u64 {
        self.state.downloads.load(Ordering::SeqCst)
    }
}

/// `GET /files-pri/{team}-{id}/{name}`: only with the bot token.
pub(super) async fn serve_file(
    State(state): State<Arc<Shared>>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(state.bot_token.as_str()) {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    let found = state.inner().files.get(&format!("{id}/{name}")).cloned();
    match found {
        Some(bytes) => {
            state.downloads.fetch_add(1, Ordering::SeqCst);
            bytes.into_response()
        }
        None => (StatusCode::NOT_FOUND, "file_not_found").into_response(),
    }
}

/// `files.getUploadURLExternal`.
pub(super) fn upload_url(state: &Shared, body: &Value) -> Response {
    let file_name = body["filename"].as_str().unwrap_or_default();
    let length = body["length"]
        .as_str()
        .and_then(|l| l.parse::<usize>().ok())
        .or_else(|| {
            body["length"]
                .as_u64()
                .and_then(|l| usize::try_from(l).ok())
        });
    let Some(length) = length.filter(|_| !file_name.is_empty()) else {
        return refuse("invalid_arguments");
    };
    let mut inner = state.inner();
    inner.next_file += 1;
    let id = format!("F{:08}", inner.next_file);
    inner.uploads.insert(
        id.clone(),
        PendingUpload {
            file_name: file_name.to_owned(),
            length,
            bytes: None,
        },
    );
    ok(json!({"upload_url": format!("http://{}/upload/{id}", state.addr), "file_id": id}))
}

/// `POST /upload/{file_id}`: the bytes, raw or as a form's one file.
pub(super) async fn receive_upload(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if multipart {
        let Ok(mut form) = Multipart::from_request(request, &()).await else {
            return (StatusCode::BAD_REQUEST, "bad form").into_response();
        };
        let mut file = None;
        while let Ok(Some(field)) = form.next_field().await {
            if let Ok(bytes) = field.bytes().await {
                file = Some(bytes.to_vec());
            }
        }
        file.unwrap_or_default()
    } else {
        match axum::body::to_bytes(request.into_body(), 64 << 20).await {
            Ok(bytes) => bytes.to_vec(),
            Err(_) => return (StatusCode::BAD_REQUEST, "bad body").into_response(),
        }
    };
    let mut inner = state.inner();
    let Some(upload) = inner.uploads.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, "unknown upload").into_response();
    };
    if bytes.len() != upload.length {
        return (StatusCode::BAD_REQUEST, "length mismatch").into_response();
    }
    let length = bytes.len();
    upload.bytes = Some(bytes);
    (StatusCode::OK, format!("OK - {length}")).into_response()
}

/// `files.completeUploadExternal`.
pub(super) fn complete_upload(state: &Shared, body: &Value) -> Response {
    let files = match &body["files"] {
        Value::Array(files) => files.clone(),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(files)) => files,
            _ => return refuse("invalid_arguments"),
        },
        _ => return refuse("invalid_arguments"),
    };
    let Some(channel) = body["channel_id"].as_str().filter(|c| !c.is_empty()) else {
        return refuse("invalid_arguments");
    };
    let mut inner = state.inner();
    let mut shared = Vec::new();
    for file in &files {
        let id = file["id"].as_str().unwrap_or_default();
        let Some(upload) = inner.uploads.remove(id) else {
            return refuse("file_not_found");
        };
        let Some(bytes) = upload.bytes else {
            return refuse("file_upload_not_complete");
        };
        let title = file["title"].as_str().map(str::to_owned);
        shared.push(json!({"id": id, "title": title}));
        inner.uploaded.push(UploadedFile {
            file_id: id.to_owned(),
            file_name: upload.file_name,
            title,
            bytes,
            channel_id: channel.to_owned(),
            thread_ts: body["thread_ts"].as_str().map(str::to_owned),
            initial_comment: body["initial_comment"].as_str().map(str::to_owned),
        });
    }
    drop(inner);
    state.sent_changed.notify_waiters();
    ok(json!({"files": shared}))
}
