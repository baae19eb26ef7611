//! Files that travel with messages: GoClaw's `media_refs` (`{id, mime_type, kind, path}`)
//! kept in a user message's metadata, what makes a file a picture a model may be shown — its
//! first bytes, never only its name — and the `MEDIA:<path>` lines by which an answer names
//! the files it sends.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest picture shown to a model, in bytes (Anthropic's limit per image; OpenAI's is larger).
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// One file of a message, as GoClaw records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// A unique id (a UUID).
    pub id: String,
    /// e.g. `image/jpeg`, `application/pdf`.
    pub mime_type: String,
    /// `image`, `video`, `audio` or `document`.
    pub kind: String,
    /// The file on the gateway's host (inside a workspace), for `/v1/files/` links.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The name the sender's file had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl MediaRef {
    /// The kind GoClaw gives a file of `mime_type`.
    pub fn kind_of(mime_type: &str) -> &'static str {
        match mime_type.split('/').next() {
            Some("image") => "image",
            Some("video") => "video",
            Some("audio") => "audio",
            _ => "document",
        }
    }

    pub fn is_image(&self) -> bool {
        self.kind == "image"
    }
}

/// The `media_refs` of a message's metadata (none when absent or malformed).
pub fn media_refs(metadata: &Value) -> Vec<MediaRef> {
    metadata
        .get("media_refs")
        .cloned()
        .and_then(|refs| serde_json::from_value(refs).ok())
        .unwrap_or_default()
}

/// The picture type `bytes` start with: PNG, JPEG, GIF or WebP — the types every provider
/// with vision takes. `None` for anything else, whatever its name says.
pub fn image_type_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The text of `content` without its `MEDIA:` lines, and the paths they name, in order. A
/// line inside a fenced code block is text (an agent showing the convention sends nothing).
pub fn split_answer(content: &str) -> (String, Vec<String>) {
    let mut kept = Vec::new();
    let mut paths = Vec::new();
    let mut found = false;
    let mut fenced = false;
    for line in content.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            kept.push(line);
            continue;
        }
        let media = if fenced {
            None
        } else {
            line.trim().strip_prefix("MEDIA:")
        };
        match media {
            Some(path) => {
                found = true;
                let path = path.trim();
                if !path.is_empty() {
                    paths.push(path.to_owned());
                }
            }
            None => kept.push(line),
        }
    }
    if !found {
        return (content.to_owned(), paths);
    }
    (kept.join("\n").trim().to_owned(), paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pictures_are_known_by_their_first_bytes() {
        assert_eq!(image_type_of(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type_of(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type_of(b"GIF89a..."), Some("image/gif"));
        assert_eq!(image_type_of(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type_of(b"<svg xmlns="), None);
        assert_eq!(image_type_of(b"%PDF-1.7"), None);
        assert_eq!(image_type_of(b""), None);
    }

    #[test]
    fn media_refs_read_goclaw_shape() {
        let metadata = json!({"media_refs": [
            {"id": "a", "mime_type": "image/png", "kind": "image", "path": "/w/media/a.png"},
            {"id": "b", "mime_type": "application/pdf", "kind": "document"}
        ]});
        let refs = media_refs(&metadata);
        assert_eq!(refs.len(), 2);
        assert!(refs[0].is_image());
        assert_eq!(refs[1].path, "");
        assert!(media_refs(&json!({"media_refs": "nope"})).is_empty());
        assert_eq!(MediaRef::kind_of("audio/ogg"), "audio");
        assert_eq!(MediaRef::kind_of("application/pdf"), "document");
    }
}
