//! Files that come with a chat message (`chat.send`'s `media`, images of
//! `/v1/chat/completions`) are copied into the run's workspace under `media/` — where the
//! agent's file tools find them and `/v1/files` serves them — and become GoClaw's
//! `media_refs` on the stored message plus one line of its text naming the file, as a
//! channel's attachments do.

use std::path::Path;

use goclaw_core::MediaRef;
use uuid::Uuid;

/// The directory inside a workspace that received files go to.
pub const MEDIA_DIR: &str = "media";
/// Most files one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// A file arriving with a message.
#[derive(Debug)]
pub struct Incoming {
    /// The name it was sent with (used for its type and shown to the agent, never as a path).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// `incoming` kept in `workspace/media/`: its media ref and the line for the message text.
pub async fn keep(workspace: &Path, incoming: Incoming) -> std::io::Result<(MediaRef, String)> {
    let mime_type = goclaw_core::image_type_of(&incoming.bytes)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            mime_guess::from_path(&incoming.name)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        });
    let id = Uuid::now_v7();
    let extension = mime_guess::get_mime_extensions_str(&mime_type)
        .and_then(|e| e.first())
        .copied()
        .or_else(|| incoming.name.rsplit_once('.').map(|(_, e)| e))
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin")
        .to_ascii_lowercase();
    let file = format!("{}.{extension}", id.simple());
    let dir = workspace.join(MEDIA_DIR);
    tokio::fs::create_dir_all(&dir).await?;
    let path = dir.join(&file);
    let partial = dir.join(format!(".{file}.part"));
    tokio::fs::write(&partial, &incoming.bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    let kind = MediaRef::kind_of(&mime_type);
    let line = format!(
        "[{kind}: {MEDIA_DIR}/{file} ({mime_type}, {} bytes)]",
        incoming.bytes.len()
    );
    let shown = shown_name(&incoming.name);
    let media = MediaRef {
        id: id.to_string(),
        mime_type,
        kind: kind.to_owned(),
        path: path.to_string_lossy().into_owned(),
        filename: (!shown.is_empty()).then_some(shown),
    };
    Ok((media, line))
}

/// One item of `chat.send`'s `media`: `{path, filename?}` or, as GoClaw also takes, a bare
/// path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum MediaItem {
    Path(String),
    Named {
        path: String,
        #[serde(default)]
        filename: Option<String>,
    },
}

/// Why a message's files were refused (said to the sender as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("at most {MAX_ATTACHMENTS} media files per message")]
    TooMany,
    #[error("media file not found: {0}")]
    NotFound(String),
    #[error("permission denied: media file {0} is not yours")]
    Forbidden(String),
    #[error("media file {0} is larger than 50 MiB")]
    TooLarge(String),
    #[error("cannot keep media file {0}")]
    Io(String),
}

/// The files `items` name — each one `principal` may read (their uploads, their own workspace
/// files; see [`super::FileAccess::readable`]) — kept in `workspace`.
pub async fn from_paths(
    files: &super::FileAccess,
    principal: &crate::auth::Principal,
    workspace: &Path,
    items: &[MediaItem],
) -> Result<(Vec<MediaRef>, Vec<String>), AttachError> {
    if items.len() > MAX_ATTACHMENTS {
        return Err(AttachError::TooMany);
    }
    let mut refs = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let (given, filename) = match item {
            MediaItem::Path(path) => (path.as_str(), None),
            MediaItem::Named { path, filename } => (path.as_str(), filename.as_deref()),
        };
        let real = match files.readable(principal, Path::new(given.trim())) {
            Ok(real) => real,
            Err(super::Refusal::NotFound) => return Err(AttachError::NotFound(given.to_owned())),
            Err(super::Refusal::Forbidden) => {
                tracing::warn!(user_id = %principal.user_id, "security.files_forbidden: chat media");
                return Err(AttachError::Forbidden(given.to_owned()));
            }
        };
        let size = tokio::fs::metadata(&real)
            .await
            .map_err(|_| AttachError::NotFound(given.to_owned()))?
            .len();
        if size > crate::files::MAX_ATTACHMENT_BYTES {
            return Err(AttachError::TooLarge(given.to_owned()));
        }
        let bytes = tokio::fs::read(&real)
            .await
            .map_err(|_| AttachError::NotFound(given.to_owned()))?;
        let name = filename
            .map(str::to_owned)
            .or_else(|| real.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let (media, line) = keep(workspace, Incoming { name, bytes })
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "a message's file could not be kept");
                AttachError::Io(given.to_owned())
            })?;
        refs.push(media);
        lines.push(line);
    }
    Ok((refs, lines))
}

/// An answer as a client is shown it: the text without its `MEDIA:` lines, and GoClaw's
/// media items (`{path, content_type, size}`, `path` a signed `/v1/files` link) for the files
/// those lines name that lie within the served roots; other lines are dropped.
pub fn answer_media(files: &super::FileAccess, content: &str) -> (String, Vec<serde_json::Value>) {
    let (text, paths) = goclaw_core::media::split_answer(content);
    if paths.is_empty() {
        return (content.to_owned(), Vec::new());
    }
    let media = paths
        .iter()
        .filter_map(|path| files.resolve(Path::new(path)))
        .map(|real| {
            let size = std::fs::metadata(&real).map(|m| m.len()).unwrap_or(0);
            let content_type = mime_guess::from_path(&real).first_or_octet_stream();
            serde_json::json!({
                "path": files.signed_file_url(&real),
                "content_type": content_type.essence_str(),
                "size": size,
            })
        })
        .collect();
    (text, media)
}

/// `message` followed by the lines of its files.
pub fn with_lines(message: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        return message.to_owned();
    }
    let mut text = message.trim_end().to_owned();
    for line in lines {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
    text
}

/// A sent name's last component, without control characters, at most 255 bytes.
fn shown_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let mut end = clean.len().min(255);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kept_file_is_named_by_its_id_and_typed_by_its_bytes() {
        let dir = tempfile::tempdir().expect("dir");
        let incoming = Incoming {
            name: "../evil/Photo.JPG".into(),
            bytes: b"\x89PNG\r\n\x1a\nxx".to_vec(),
        };
        let (media, line) = keep(dir.path(), incoming).await.expect("kept");
        assert_eq!(
            media.mime_type, "image/png",
            "the bytes decide, not the name"
        );
        assert_eq!(media.kind, "image");
        assert_eq!(media.filename.as_deref(), Some("Photo.JPG"));
        let path = Path::new(&media.path);
        assert!(path.starts_with(dir.path().join("media")));
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some("png"));
        assert_eq!(std::fs::read(path).expect("read"), b"\x89PNG\r\n\x1a\nxx");
        let file = path.file_name().and_then(|f| f.to_str()).expect("name");
        assert_eq!(line, format!("[image: media/{file} (image/png, 10 bytes)]"));
        assert_eq!(
            with_lines("look", std::slice::from_ref(&line)),
            format!("look\n{line}")
        );
        assert_eq!(with_lines("", std::slice::from_ref(&line)), line);
    }
}
