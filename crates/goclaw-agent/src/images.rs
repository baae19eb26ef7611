//! Pictures of the messages a run answers, shown to the model: each image `media_ref` of those
//! user messages is read from its file, checked to be a PNG, JPEG, GIF or WebP picture of at
//! most [`MAX_IMAGE_BYTES`], and added as an image part to the conversation's last user
//! message (where those messages are). Older messages keep only their text: a picture is
//! paid for once, in the run that received it. A file that is gone, too large or not a
//! picture becomes a short note instead, never a failed run.

use base64::Engine;
use goclaw_core::{ChatMessage, ChatRole, ContentPart, MAX_IMAGE_BYTES, MediaRef, Message};

/// Adds the pictures of the user messages `seqs` (in `stored`) to the last user message of
/// `messages`.
pub(crate) async fn attach(stored: &[Message], seqs: &[i64], messages: &mut [ChatMessage]) {
    let refs: Vec<MediaRef> = stored
        .iter()
        .filter(|m| seqs.contains(&m.seq))
        .flat_map(|m| goclaw_core::media_refs(&m.metadata))
        .filter(|r| r.is_image() && !r.path.is_empty())
        .collect();
    if refs.is_empty() {
        return;
    }
    let Some(last) = messages.iter_mut().rev().find(|m| m.role == ChatRole::User) else {
        return;
    };
    for media in refs {
        let part = match load(&media).await {
            Ok(part) => part,
            Err(reason) => {
                tracing::warn!(media_id = %media.id, reason, "an image is not shown to the model");
                ContentPart::Text {
                    text: format!("[image {} not shown: {reason}]", shown(&media)),
                }
            }
        };
        last.parts.push(part);
    }
}

/// The picture `media` names, as an image part.
async fn load(media: &MediaRef) -> Result<ContentPart, &'static str> {
    let meta = tokio::fs::metadata(&media.path)
        .await
        .map_err(|_| "the file is gone")?;
    if !meta.is_file() {
        return Err("not a file");
    }
    if meta.len() > MAX_IMAGE_BYTES {
        return Err("larger than 5 MiB");
    }
    let bytes = tokio::fs::read(&media.path)
        .await
        .map_err(|_| "the file cannot be read")?;
    let mime_type = goclaw_core::image_type_of(&bytes).ok_or("not a PNG, JPEG, GIF or WebP")?;
    Ok(ContentPart::Image {
        mime_type: mime_type.to_owned(),
        data: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

fn shown(media: &MediaRef) -> String {
    media.filename.clone().unwrap_or_else(|| media.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use goclaw_core::{MessageId, Role, SessionId};
    use serde_json::json;

    fn user(seq: i64, metadata: serde_json::Value) -> Message {
        Message {
            id: MessageId::generate(),
            session_id: SessionId::generate(),
            seq,
            role: Role::User,
            content: "look".into(),
            tool_calls: serde_json::Value::Null,
            tool_call_id: None,
            metadata,
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn pictures_of_the_current_run_only_reach_the_last_user_message() {
        let dir = tempfile::tempdir().expect("dir");
        let png = dir.path().join("a.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nbytes").expect("write");
        let fake = dir.path().join("b.png");
        std::fs::write(&fake, b"<svg/>").expect("write");
        let refs = |path: &std::path::Path| {
            json!({"media_refs": [{"id": "m", "mime_type": "image/png", "kind": "image",
                "path": path.to_str(), "filename": "a.png"}]})
        };
        let stored = vec![
            user(1, refs(&png)),
            user(2, refs(&png)),
            user(3, refs(&fake)),
        ];
        let mut messages = vec![ChatMessage::user("old"), ChatMessage::user("new")];
        attach(&stored, &[2, 3], &mut messages).await;
        assert_eq!(
            messages[0].parts.len(),
            1,
            "an older message keeps its text only"
        );
        let parts = &messages[1].parts;
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[1], ContentPart::Image { mime_type, data }
            if mime_type == "image/png" && data == "iVBORw0KGgpieXRlcw=="));
        assert!(matches!(&parts[2], ContentPart::Text { text }
            if text == "[image a.png not shown: not a PNG, JPEG, GIF or WebP]"));
    }
}
