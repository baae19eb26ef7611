//! Files on Telegram: a message's photo (its largest size), document, audio, voice note or
//! video as attachments; downloading one (`getFile`, then `GET {api_server}/file/bot{token}/
//! {file_path}` — a URL holding the token, so it is never logged or put in an error); and
//! sending one with `sendPhoto` (pictures) or `sendDocument` as `multipart/form-data`, with
//! the text as its caption when it fits Telegram's 1,024 characters and as a message of its
//! own after the file otherwise.

use serde_json::json;
use tokio::io::AsyncWrite;

use super::TelegramChannel;
use super::api::{ApiError, Message, Upload};
use crate::channel::SendError;
use crate::media::fetch::download;
use crate::media::outbound::read_outgoing;
use crate::media::{Media, MediaError, MediaKind, OutgoingMedia};
use crate::message::OutgoingMessage;

/// Telegram's limit on a caption.
pub const CAPTION_LIMIT: usize = 1024;

/// The attachments of a message.
pub fn attachments(message: &Message) -> Vec<Media> {
    let mut media = Vec::new();
    // Telegram lists a photo's sizes smallest first; the largest is the original.
    if let Some(photo) = message
        .photo
        .iter()
        .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file_size))
    {
        media.push(Media {
            kind: MediaKind::Image,
            reference: photo.file_id.clone(),
            file_name: None,
            mime_type: Some("image/jpeg".to_owned()),
            size: photo.file_size,
        });
    }
    let files = [
        (MediaKind::Document, &message.document),
        (MediaKind::Audio, &message.audio),
        (MediaKind::Voice, &message.voice),
        (MediaKind::Video, &message.video),
    ];
    for (kind, file) in files {
        if let Some(file) = file {
            media.push(Media {
                kind,
                reference: file.file_id.clone(),
                file_name: file.file_name.clone(),
                mime_type: file.mime_type.clone(),
                size: file.file_size,
            });
        }
    }
    media
}

/// Whether a `getFile` path may be put in a URL: relative, no `..`, no query or fragment.
fn usable_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['?', '#', '\\'])
        && path
            .split('/')
            .all(|segment| segment != ".." && segment != ".")
}

/// A failed Bot API call about a file: refused for good, or worth another try.
fn media_error(error: ApiError) -> MediaError {
    match error {
        ApiError::Refused { code, .. } if code == 429 || code >= 500 => {
            MediaError::Unavailable(error.to_string())
        }
        ApiError::Refused { .. } => MediaError::Refused(error.to_string()),
        ApiError::TimedOut | ApiError::Transport(_) => MediaError::Unavailable(error.to_string()),
    }
}

impl TelegramChannel {
    pub(super) async fn fetch(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        let file = self
            .api
            .get_file(&media.reference)
            .await
            .map_err(media_error)?;
        if let Some(size) = file.file_size.filter(|size| *size > limit) {
            return Err(MediaError::TooLarge {
                size: Some(size),
                limit,
            });
        }
        let path = file
            .file_path
            .filter(|p| usable_path(p))
            .ok_or_else(|| MediaError::Refused("telegram gave no usable file path".to_owned()))?;
        let url = self.api.file_url(&path);
        if !self.files.allows_str(&url) {
            return Err(MediaError::Refused(
                "the file is not on the Bot API server".to_owned(),
            ));
        }
        download(&self.files_client, "telegram", &url, None, limit, sink).await
    }

    pub(super) async fn send_media(
        &self,
        message: &OutgoingMessage,
        media: &OutgoingMedia,
    ) -> Result<String, SendError> {
        let bytes = read_outgoing(media, self.media_max_bytes).await?;
        let text = message.text.trim();
        let caption_fits = text.chars().count() <= CAPTION_LIMIT;
        let mut fields = vec![("chat_id", message.chat_id.clone())];
        if !text.is_empty() && caption_fits {
            fields.push(("caption", text.to_owned()));
            if message.markup {
                fields.push(("parse_mode", "HTML".to_owned()));
            }
        }
        if let Some(reply_to) = message
            .reply_to
            .as_deref()
            .and_then(|r| r.parse::<i64>().ok())
        {
            let reply = json!({"message_id": reply_to, "allow_sending_without_reply": true});
            fields.push(("reply_parameters", reply.to_string()));
        }
        if let Some(thread) = message
            .thread_id
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
        {
            fields.push(("message_thread_id", thread.to_string()));
        }
        let upload = |field| Upload {
            field,
            file_name: media.file_name.clone(),
            mime_type: media.mime_type.clone(),
            bytes: bytes.clone(),
        };
        let sent = if media.is_image() {
            match self
                .api
                .send_file("sendPhoto", &fields, upload("photo"))
                .await
            {
                // A picture Telegram will not show as a photo (dimensions, format) still
                // goes, as a file.
                Err(ApiError::Refused { code: 400, .. }) => {
                    self.api
                        .send_file("sendDocument", &fields, upload("document"))
                        .await
                }
                other => other,
            }
        } else {
            self.api
                .send_file("sendDocument", &fields, upload("document"))
                .await
        };
        let sent = sent.map_err(super::send_error)?;
        if !text.is_empty() && !caption_fits {
            let mut rest = message.clone();
            rest.media = None;
            if let Err(error) = self.send_text(&rest).await {
                tracing::warn!(channel = "telegram", error = %error, "the text after a file was not sent");
            }
        }
        Ok(sent.message_id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_file_paths_are_fetched() {
        for (path, usable) in [
            ("photos/file_1.jpg", true),
            ("documents/report.pdf", true),
            ("../bot123/getMe", false),
            ("photos/../../x", false),
            ("/etc/passwd", false),
            ("photos/a.jpg?x=1", false),
            ("photos/a.jpg#x", false),
            ("photos\\a.jpg", false),
            ("./a", false),
            ("", false),
        ] {
            assert_eq!(usable_path(path), usable, "{path}");
        }
    }

    #[test]
    fn the_largest_photo_and_every_file_are_attachments() {
        let message: Message = serde_json::from_value(json!({
            "message_id": 1, "chat": {"id": 1, "type": "private"},
            "photo": [
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 900},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 90000},
                {"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 213, "file_size": 9000}
            ],
            "voice": {"file_id": "v1", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg", "file_size": 5000},
            "caption": "look"
        }))
        .expect("a message");
        let media = attachments(&message);
        assert_eq!(media.len(), 2);
        assert_eq!(media[0].reference, "large");
        assert_eq!(media[0].kind, MediaKind::Image);
        assert_eq!(media[0].size, Some(90000));
        assert_eq!(media[1].kind, MediaKind::Voice);
        assert_eq!(media[1].mime_type.as_deref(), Some("audio/ogg"));
    }
}
