//! Files on the Discord double: attachments a test makes are served at
//! `GET /attachments/{id}/{name}` on the fake's own host (no token, as Discord's signed CDN
//! URLs), and a message may carry them; `POST /channels/{id}/messages` also takes
//! `multipart/form-data` as Discord does — the message as `payload_json`, files as
//! `files[n]` — and records the files with the message.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeDiscord, Shared, refuse};

/// A file the bot sent with a message.
#[derive(Debug, Clone, PartialEq)]
pub struct SentAttachment {
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl FakeDiscord {
    /// An attachment served by the fake: Discord's attachment object, whose `url` is on the
    /// fake's host (a test may change its declared `size`).
    pub fn add_attachment(&self, file_name: &str, content_type: &str, bytes: &[u8]) -> Value {
        let mut inner = self.state.inner();
        let id = inner.snowflake();
        inner
            .attachments
            .insert(format!("{id}/{file_name}"), bytes.to_vec());
        json!({
            "id": id,
            "filename": file_name,
            "content_type": content_type,
            "size": bytes.len(),
            "url": format!("http://{}/attachments/{id}/{file_name}", self.addr),
            "proxy_url": format!("http://{}/attachments/{id}/{file_name}", self.addr),
        })
    }

    /// User `user_id` writes to the bot directly with `attachments`; returns the message id.
    pub fn direct_message_with_attachments(
        &self,
        user_id: &str,
        text: &str,
        attachments: Vec<Value>,
    ) -> String {
        self.push_message(&format!("dm-{user_id}"), user_id, text, None, attachments)
    }

    /// Attachment downloads served.
    pub fn attachment_downloads(&self) -> u64 {
        self.state.downloads.load(Ordering::SeqCst)
    }
}

/// `GET /attachments/{id}/{name}`.
pub(super) async fn serve_attachment(
    State(state): State<Arc<Shared>>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let found = state
        .inner()
        .attachments
        .get(&format!("{id}/{name}"))
        .cloned();
    match found {
        Some(bytes) => {
            state.downloads.fetch_add(1, Ordering::SeqCst);
            bytes.into_response()
        }
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// The body of a message create: JSON, or `multipart/form-data` with `payload_json` and
/// `files[n]` (each named in `payload_json.attachments`).
pub(super) async fn message_request(
    request: Request,
) -> Result<(Value, Vec<SentAttachment>), Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .map_err(|_| refuse(400, 50035, "Invalid Form Body"))?;
        return Ok((
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Vec::new(),
        ));
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| refuse(400, 50035, "Invalid Form Body"))?;
    let mut body = Value::Null;
    let mut files = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| refuse(400, 50035, "Invalid Form Body"))?;
        if name == "payload_json" {
            body = serde_json::from_slice(&bytes)
                .map_err(|_| refuse(400, 50109, "The request body contains invalid JSON."))?;
        } else if name.starts_with("files[") {
            files.push(SentAttachment {
                file_name: file_name.unwrap_or_default(),
                content_type,
                bytes: bytes.to_vec(),
            });
        }
    }
    let named = body["attachments"].as_array().map_or(0, Vec::len);
    if named != files.len() {
        return Err(refuse(400, 50035, "Invalid Form Body"));
    }
    Ok((body, files))
}
