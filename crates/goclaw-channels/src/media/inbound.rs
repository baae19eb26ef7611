//! A received message's attachments become files in the agent's workspace — under `media/`,
//! with names made by [`super::stored_file_name`] from the inbox row, so a retry finds the copy
//! an earlier attempt finished instead of writing a second one — and one line each in the text
//! the agent gets: where the file is, or why it is not there.
//!
//! A file is written as `.{name}.part` and renamed when complete, so a crash never leaves a
//! partial file under the final name.

use std::path::{Path, PathBuf};

use tokio::fs;

use super::{Media, MediaError, mime_of_name, shown_name, stored_file_name};
use crate::channel::Channel;

/// The directory inside a workspace that received files go to.
pub const MEDIA_DIR: &str = "media";

/// Downloads each of `media` into `workspace/media/` and returns one line per attachment for
/// the agent's text. `Err` only for a failure worth trying again (the whole message is then
/// tried again later), unless `last_try`, when it becomes a line too.
pub async fn receive(
    channel: &dyn Channel,
    workspace: &Path,
    prefix: &str,
    media: &[Media],
    last_try: bool,
) -> Result<Vec<String>, MediaError> {
    let limit = channel.limits().media_max_bytes;
    let mut lines = Vec::with_capacity(media.len());
    for (index, item) in media.iter().enumerate() {
        let outcome = receive_one(channel, workspace, prefix, index, item, limit).await;
        let line = match outcome {
            Ok((file, bytes)) => {
                let mime = item
                    .mime_type
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .map_or_else(|| mime_of_name(&file).to_owned(), |m| shown_name(&m));
                format!(
                    "[{}: {MEDIA_DIR}/{file} ({mime}, {bytes} bytes)]",
                    item.kind.as_str()
                )
            }
            Err(error @ MediaError::TooLarge { .. }) => {
                format!("[{} not received: {error}]", label(item))
            }
            Err(MediaError::Unavailable(reason)) if !last_try => {
                return Err(MediaError::Unavailable(reason));
            }
            Err(MediaError::Refused(reason) | MediaError::Unavailable(reason)) => {
                format!("[{} could not be downloaded: {reason}]", label(item))
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

/// `kind "name"`, or the kind alone for a file without a name.
fn label(media: &Media) -> String {
    match media.file_name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{} \"{}\"", media.kind.as_str(), shown_name(name)),
        None => media.kind.as_str().to_owned(),
    }
}

/// Downloads one attachment (or finds an earlier attempt's copy); its file name and size.
async fn receive_one(
    channel: &dyn Channel,
    workspace: &Path,
    prefix: &str,
    index: usize,
    media: &Media,
    limit: u64,
) -> Result<(String, u64), MediaError> {
    if let Some(size) = media.size.filter(|size| *size > limit) {
        return Err(MediaError::TooLarge {
            size: Some(size),
            limit,
        });
    }
    let directory = media_directory(workspace).await?;
    let name = stored_file_name(prefix, index, media);
    let target = directory.join(&name);
    if let Ok(existing) = fs::symlink_metadata(&target).await {
        if existing.is_file() {
            return Ok((name, existing.len()));
        }
        return Err(MediaError::Refused(format!(
            "{MEDIA_DIR}/{name} exists and is not a file"
        )));
    }
    let partial = directory.join(format!(".{name}.part"));
    // A crash may have left one; it is never a finished file.
    let _ = fs::remove_file(&partial).await;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .await
        .map_err(|e| MediaError::Unavailable(format!("creating the file failed: {e}")))?;
    let written = channel.fetch_media(media, limit, &mut file).await;
    drop(file);
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(error) => {
            let _ = fs::remove_file(&partial).await;
            return Err(error);
        }
    };
    fs::rename(&partial, &target)
        .await
        .map_err(|e| MediaError::Unavailable(format!("storing the file failed: {e}")))?;
    Ok((name, bytes))
}

/// `workspace/media`, created if needed, refused when it leads outside the workspace (a
/// symlink the agent made).
async fn media_directory(workspace: &Path) -> Result<PathBuf, MediaError> {
    let unusable = |e: std::io::Error| MediaError::Unavailable(format!("the workspace: {e}"));
    let directory = workspace.join(MEDIA_DIR);
    fs::create_dir_all(&directory).await.map_err(unusable)?;
    let root = fs::canonicalize(workspace).await.map_err(unusable)?;
    let real = fs::canonicalize(&directory).await.map_err(unusable)?;
    if real != root.join(MEDIA_DIR) {
        return Err(MediaError::Refused(format!(
            "the workspace's {MEDIA_DIR} directory leads outside it"
        )));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use tokio::io::{AsyncWrite, AsyncWriteExt};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::channel::{BotIdentity, ChannelError, InboundSink, PlatformLimits, SendError};
    use crate::media::MediaKind;
    use crate::message::OutgoingMessage;

    /// A channel whose files are `reference` repeated `size` times, or an error by reference.
    struct Files {
        fetched: Mutex<usize>,
    }

    #[async_trait]
    impl Channel for Files {
        fn kind(&self) -> &'static str {
            "test"
        }
        fn limits(&self) -> PlatformLimits {
            PlatformLimits {
                text_chunk: 100,
                media_max_bytes: 10,
            }
        }
        async fn identify(&self) -> Result<BotIdentity, ChannelError> {
            Err(ChannelError::Unavailable("test".to_owned()))
        }
        async fn receive(
            &self,
            _: &BotIdentity,
            _: &dyn InboundSink,
            _: CancellationToken,
        ) -> Result<(), ChannelError> {
            Ok(())
        }
        async fn send(&self, _: &OutgoingMessage) -> Result<String, SendError> {
            Ok(String::new())
        }
        async fn typing(&self, _: &str) {}
        fn render(&self, markdown: &str) -> Vec<String> {
            vec![markdown.to_owned()]
        }
        async fn fetch_media(
            &self,
            media: &Media,
            limit: u64,
            sink: &mut (dyn AsyncWrite + Unpin + Send),
        ) -> Result<u64, MediaError> {
            *self.fetched.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            match media.reference.as_str() {
                "gone" => Err(MediaError::Refused("telegram 400: file is gone".to_owned())),
                "down" => Err(MediaError::Unavailable("telegram 502".to_owned())),
                "big" => Err(MediaError::TooLarge { size: None, limit }),
                bytes => {
                    sink.write_all(bytes.as_bytes())
                        .await
                        .map_err(|e| MediaError::Unavailable(e.to_string()))?;
                    Ok(bytes.len() as u64)
                }
            }
        }
    }

    fn media(reference: &str, name: Option<&str>, size: Option<u64>) -> Media {
        Media {
            kind: MediaKind::Document,
            reference: reference.to_owned(),
            file_name: name.map(str::to_owned),
            mime_type: None,
            size,
        }
    }

    #[tokio::test]
    async fn attachments_become_files_and_lines() {
        let workspace = std::env::temp_dir().join(format!("goclaw-media-{}", uuid::Uuid::new_v4()));
        let channel = Files {
            fetched: Mutex::new(0),
        };
        let items = [
            media("hello", Some("../../notes.txt"), Some(5)),
            media("x", Some("huge.bin"), Some(30_000_000)),
            media("big", None, None),
            media("gone", Some("old.pdf"), None),
        ];
        let lines = receive(&channel, &workspace, "id1", &items, false)
            .await
            .expect("lines");
        assert_eq!(
            lines,
            [
                "[document: media/id1-0-notes.txt (text/plain, 5 bytes)]",
                "[document \"huge.bin\" not received: 30000000 bytes is over this channel's limit of 10]",
                "[document not received: the file is over this channel's limit of 10]",
                "[document \"old.pdf\" could not be downloaded: telegram 400: file is gone]",
            ]
        );
        let stored = std::fs::read(workspace.join("media/id1-0-notes.txt")).expect("the file");
        assert_eq!(stored, b"hello");
        let names: Vec<_> = std::fs::read_dir(workspace.join("media"))
            .expect("media/")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names.len(), 1, "nothing else written: {names:?}");
        // Again (a retry): the copy is found, not fetched or written twice.
        let fetched = *channel.fetched.lock().unwrap_or_else(|e| e.into_inner());
        let again = receive(&channel, &workspace, "id1", &items[..1], false)
            .await
            .expect("lines");
        assert_eq!(again[0], lines[0]);
        assert_eq!(
            *channel.fetched.lock().unwrap_or_else(|e| e.into_inner()),
            fetched
        );
        // A failure worth retrying fails the whole message, unless it is the last try.
        let down = [media("down", Some("a.txt"), None)];
        assert!(
            receive(&channel, &workspace, "id2", &down, false)
                .await
                .is_err()
        );
        let last = receive(&channel, &workspace, "id2", &down, true)
            .await
            .expect("a line");
        assert_eq!(
            last,
            ["[document \"a.txt\" could not be downloaded: telegram 502]"]
        );
        let _ = std::fs::remove_dir_all(&workspace);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_media_symlink_out_of_the_workspace_is_refused() {
        let base = std::env::temp_dir().join(format!("goclaw-media-{}", uuid::Uuid::new_v4()));
        let workspace = base.join("ws");
        let outside = base.join("outside");
        std::fs::create_dir_all(&workspace).expect("ws");
        std::fs::create_dir_all(&outside).expect("outside");
        std::os::unix::fs::symlink(&outside, workspace.join("media")).expect("symlink");
        let channel = Files {
            fetched: Mutex::new(0),
        };
        let lines = receive(
            &channel,
            &workspace,
            "id",
            &[media("hi", None, None)],
            false,
        )
        .await
        .expect("a line");
        assert!(lines[0].contains("leads outside"), "{lines:?}");
        assert_eq!(std::fs::read_dir(&outside).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&base);
    }
}
