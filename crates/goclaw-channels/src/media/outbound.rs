//! Files an agent sends: GoClaw's convention is a line `MEDIA:<path>` (or `MEDIA: <path>`) in
//! the answer, the path within the agent's workspace. The lines are taken out of the text;
//! each path is resolved by the workspace guard (canonical, symlinks followed, never outside
//! the workspace) and must be a regular file within the channel's `media_max_bytes`. A path
//! that is refused becomes a short note in the text, never an error that holds up the answer.

use std::path::Path;

use goclaw_tools::workspace::{Access, WorkspaceGuard};
use tokio::io::AsyncReadExt;

use super::{OutgoingMedia, mime_of_name};
use crate::channel::SendError;

/// An answer made ready for a channel: its text (notes about refused files included) and the
/// files to send after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub text: String,
    pub files: Vec<OutgoingMedia>,
}

pub use goclaw_core::media::split_answer;

/// `content` with its `MEDIA:` lines resolved in `workspace` (none when the run's workspace
/// could not be found: every file is then refused).
pub fn prepare(content: &str, workspace: Option<&Path>, limit: u64) -> Prepared {
    let (mut text, paths) = split_answer(content);
    let mut files = Vec::new();
    for path in paths {
        let resolved = match workspace {
            Some(workspace) => resolve(workspace, &path, limit),
            None => Err("the workspace is not known".to_owned()),
        };
        match resolved {
            Ok(file) => files.push(file),
            Err(reason) => {
                tracing::info!(path = %path, reason = %reason, "a file the agent named was not sent");
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&format!("[file not sent: {}: {reason}]", shown(&path)));
            }
        }
    }
    Prepared { text, files }
}

/// The file `requested` names inside `workspace`, if it may be sent; else why not.
pub fn resolve(workspace: &Path, requested: &str, limit: u64) -> Result<OutgoingMedia, String> {
    let guard = WorkspaceGuard::with_roots(workspace, true, &[]).map_err(|e| e.to_string())?;
    let real = guard
        .resolve(requested, Access::Read)
        .map_err(|e| e.to_string())?;
    let metadata = std::fs::metadata(&real).map_err(|_| "no such file".to_owned())?;
    if !metadata.is_file() {
        return Err("not a file".to_owned());
    }
    if metadata.len() > limit {
        return Err(format!(
            "{} bytes is over this channel's limit of {limit}",
            metadata.len()
        ));
    }
    let file_name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned());
    Ok(OutgoingMedia {
        path: real.to_string_lossy().into_owned(),
        mime_type: mime_of_name(&file_name).to_owned(),
        file_name,
    })
}

/// The bytes of a file the outbox sends, read again at sending time: still a regular file
/// (not a symlink put in its place meanwhile) and still within `limit`. Refused for good
/// otherwise: trying again would not change it.
pub async fn read_outgoing(media: &OutgoingMedia, limit: u64) -> Result<Vec<u8>, SendError> {
    let refuse = |reason: &str| SendError::Permanent(format!("{}: {reason}", media.file_name));
    let metadata = tokio::fs::symlink_metadata(&media.path)
        .await
        .map_err(|_| refuse("the file is gone"))?;
    if !metadata.is_file() {
        return Err(refuse("not a file"));
    }
    if metadata.len() > limit {
        return Err(refuse("over this channel's limit"));
    }
    let file = tokio::fs::File::open(&media.path)
        .await
        .map_err(|_| refuse("the file cannot be read"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| refuse("the file cannot be read"))?;
    if bytes.len() as u64 > limit {
        return Err(refuse("over this channel's limit"));
    }
    Ok(bytes)
}

/// A path as it may be quoted back in a note.
fn shown(path: &str) -> String {
    path.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn workspace() -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("goclaw-out-{}", uuid::Uuid::new_v4()));
        let workspace = base.join("ws");
        std::fs::create_dir_all(workspace.join("media")).expect("workspace");
        std::fs::write(workspace.join("report.txt"), b"the report").expect("report");
        std::fs::write(workspace.join("media/photo.png"), b"png").expect("photo");
        std::fs::write(workspace.join("big.bin"), vec![0u8; 64]).expect("big");
        std::fs::write(base.join("x"), b"outside").expect("outside");
        (base, workspace)
    }

    #[test]
    fn media_lines_leave_the_text() {
        let check = |content: &str, text: &str, paths: &[&str]| {
            let (kept, found) = split_answer(content);
            assert_eq!(kept, text, "{content:?}");
            assert_eq!(found, paths, "{content:?}");
        };
        check(
            "Here it is.\nMEDIA:report.txt",
            "Here it is.",
            &["report.txt"],
        );
        check("MEDIA: a.png\nMEDIA:b.pdf", "", &["a.png", "b.pdf"]);
        check("  MEDIA:  media/c.txt  \nbye", "bye", &["media/c.txt"]);
        check(
            "No files. MEDIA:x is inline",
            "No files. MEDIA:x is inline",
            &[],
        );
        check("keep\n\n  spacing\n", "keep\n\n  spacing\n", &[]);
        check("MEDIA:\ntext", "text", &[]);
        // Shown in a code block, the convention is text; after the block, a file again.
        check(
            "Write it like this:\n```\nMEDIA:example.png\n```\nMEDIA:real.png",
            "Write it like this:\n```\nMEDIA:example.png\n```",
            &["real.png"],
        );
        check("~~~\nMEDIA:a\n~~~", "~~~\nMEDIA:a\n~~~", &[]);
    }

    #[test]
    fn files_inside_the_workspace_are_sent() {
        let (base, workspace) = workspace();
        let prepared = prepare(
            "Done.\nMEDIA:report.txt\nMEDIA: media/photo.png\nMEDIA:big.bin\nMEDIA:missing.txt",
            Some(&workspace),
            32,
        );
        let names: Vec<_> = prepared
            .files
            .iter()
            .map(|f| f.file_name.as_str())
            .collect();
        assert_eq!(names, ["report.txt", "photo.png"]);
        assert_eq!(prepared.files[0].mime_type, "text/plain");
        assert!(prepared.files[1].is_image());
        let real = std::fs::canonicalize(workspace.join("report.txt")).expect("real");
        assert_eq!(prepared.files[0].path, real.to_string_lossy());
        assert_eq!(
            prepared.text,
            "Done.\n[file not sent: big.bin: 64 bytes is over this channel's limit of 32]\n\
             [file not sent: missing.txt: no such file]"
        );
        let none = prepare("MEDIA:report.txt", None, 32);
        assert_eq!(
            none.text,
            "[file not sent: report.txt: the workspace is not known]"
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    /// Every path of the corpus (one per line, `#` comments) is refused.
    #[test]
    fn escaping_paths_are_refused() {
        let (base, workspace) = workspace();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("x"), workspace.join("link")).expect("link");
            std::os::unix::fs::symlink(&base, workspace.join("up")).expect("dir link");
            std::os::unix::fs::symlink("/etc/passwd", workspace.join("media/passwd"))
                .expect("link");
        }
        let corpus = include_str!("../../tests/corpus/media_paths.txt");
        let cases: Vec<&str> = corpus
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(cases.len() >= 10);
        for case in cases {
            let prepared = prepare(&format!("MEDIA:{case}"), Some(&workspace), 1 << 20);
            assert!(prepared.files.is_empty(), "{case} was sent: {prepared:?}");
            assert!(
                prepared.text.starts_with("[file not sent: "),
                "{case}: {}",
                prepared.text
            );
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
