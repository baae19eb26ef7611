//! Files that travel with messages, whatever the platform: what an adapter reports of an
//! attachment it received ([`Media`]: a reference the platform resolves later, never the
//! bytes), what the outbox sends ([`OutgoingMedia`]: a file inside the run's workspace), and
//! the rules both directions share — names that are safe as file names, the byte cap
//! (`media_max_bytes`) applied while reading, and the hosts a download may reach.
//!
//! [`inbound`] turns a stored message's attachments into files in the agent's workspace and
//! lines of its prompt; [`outbound`] turns an answer's `MEDIA:<path>` lines into attachments.

pub mod fetch;
pub mod inbound;
pub mod outbound;

use serde::{Deserialize, Serialize};

pub use fetch::{Chunks, FileHosts, HostAllowlist, copy_capped};

/// What kind of file an attachment is, as the platform tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Voice,
    Document,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Voice => "voice",
            MediaKind::Document => "document",
        }
    }

    /// The kind a MIME type suggests, for platforms that only give the type.
    pub fn of_mime(mime: Option<&str>) -> Self {
        match mime.and_then(|m| m.split('/').next()) {
            Some("image") => MediaKind::Image,
            Some("audio") => MediaKind::Audio,
            Some("video") => MediaKind::Video,
            _ => MediaKind::Document,
        }
    }
}

/// One attachment of a received message, as its platform described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub kind: MediaKind,
    /// What the platform resolves to the bytes: Telegram's `file_id`, Discord's attachment
    /// URL, Slack's `url_private`.
    pub reference: String,
    /// The name the sender's file had (never used as a path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The size the platform declared, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A file to send: inside the run's workspace when the answer was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMedia {
    /// The resolved, absolute path.
    pub path: String,
    /// The name the recipient sees.
    pub file_name: String,
    pub mime_type: String,
}

impl OutgoingMedia {
    /// Whether platforms show the file as a picture.
    pub fn is_image(&self) -> bool {
        matches!(
            self.mime_type.as_str(),
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        )
    }
}

/// Why an attachment was not downloaded or a file not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// Bigger than the channel's `media_max_bytes`; `size` is what was declared or, when the
    /// declaration was missing or wrong, `None` (more than `limit` arrived).
    #[error("{} is over this channel's limit of {limit}", match size { Some(size) => format!("{size} bytes"), None => "the file".to_owned() })]
    TooLarge { size: Option<u64>, limit: u64 },
    /// The platform will not give the file (gone, refused, not a host we fetch from).
    #[error("{0}")]
    Refused(String),
    /// Worth trying again later (network, the platform's 5xx or rate limit, a local write).
    #[error("{0}")]
    Unavailable(String),
}

/// The file name an attachment is stored under in `media/`: `{prefix}-{index}-{name}`, where
/// `name` keeps only `[A-Za-z0-9._-]` of the last segment of the sender's name (no separators,
/// no leading dots, no control characters; at most 64 characters), or `file` with the
/// extension the MIME type suggests. The same inputs give the same name, so a retry after a
/// crash finds the copy it already made.
pub fn stored_file_name(prefix: &str, index: usize, media: &Media) -> String {
    let given = media.file_name.as_deref().unwrap_or_default();
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_owned();
    if name.chars().all(|c| c == '_' || c == '.') {
        name = format!("file{}", extension_of(media.mime_type.as_deref()));
    }
    // Keep the extension when cutting a long name.
    if name.len() > 64 {
        let extension = name
            .rfind('.')
            .map(|dot| name[dot..].to_owned())
            .filter(|e| e.len() <= 10)
            .unwrap_or_default();
        name = format!("{}{extension}", &name[..64 - extension.len()]);
    }
    let prefix: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(32)
        .collect();
    format!("{prefix}-{index}-{name}")
}

/// A name from a platform as it may appear inside the agent's prompt: no control characters,
/// no double quotes, at most 100 characters.
pub fn shown_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' { '\'' } else { c })
        .take(100)
        .collect()
}

/// `.ext` for a MIME type, empty when unknown.
fn extension_of(mime: Option<&str>) -> &'static str {
    match mime.unwrap_or_default() {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "video/mp4" => ".mp4",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        _ => "",
    }
}

pub use goclaw_core::mime_of_name;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(given: Option<&str>, mime: Option<&str>, expected: &str) {
        let media = Media {
            kind: MediaKind::Document,
            reference: "ref".to_owned(),
            file_name: given.map(str::to_owned),
            mime_type: mime.map(str::to_owned),
            size: None,
        };
        assert_eq!(stored_file_name("ab12", 3, &media), expected, "{given:?}");
    }

    #[test]
    fn stored_names_are_safe_file_names() {
        check(Some("report.pdf"), None, "ab12-3-report.pdf");
        check(Some("../../etc/passwd"), None, "ab12-3-passwd");
        check(Some("..\\..\\boot.ini"), None, "ab12-3-boot.ini");
        check(Some(".."), Some("image/png"), "ab12-3-file.png");
        check(Some("."), None, "ab12-3-file");
        check(Some(".bashrc"), None, "ab12-3-bashrc");
        check(Some("a\u{0}b\nc\u{7f}.txt"), None, "ab12-3-abc.txt");
        check(Some("my photo (1).JPG"), None, "ab12-3-my_photo__1_.JPG");
        check(Some("résumé.pdf"), None, "ab12-3-r_sum_.pdf");
        check(Some("dir/"), Some("image/jpeg"), "ab12-3-file.jpg");
        check(None, Some("audio/ogg"), "ab12-3-file.ogg");
        check(None, None, "ab12-3-file");
        let long = format!("{}.tar.gz", "x".repeat(200));
        let media = Media {
            kind: MediaKind::Document,
            reference: String::new(),
            file_name: Some(long),
            mime_type: None,
            size: None,
        };
        let name = stored_file_name("p", 0, &media);
        assert!(name.ends_with("x.gz") && name.len() <= 70, "{name}");
        assert_eq!(
            stored_file_name("../a/b", 0, &media).split('-').next(),
            Some("ab")
        );
    }

    #[test]
    fn shown_names_cannot_break_the_line() {
        assert_eq!(shown_name("a\"b\nc]"), "a'bc]");
        assert_eq!(shown_name(&"y".repeat(300)).len(), 100);
    }

    #[test]
    fn mime_types_come_from_extensions() {
        assert_eq!(mime_of_name("report.txt"), "text/plain");
        assert_eq!(mime_of_name("photo.JPEG"), "image/jpeg");
        assert_eq!(mime_of_name("noext"), "application/octet-stream");
        assert_eq!(MediaKind::of_mime(Some("image/png")), MediaKind::Image);
        assert_eq!(MediaKind::of_mime(None), MediaKind::Document);
    }
}
