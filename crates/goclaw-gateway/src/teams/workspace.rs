//! A team's files: `<workspace base>[/tenants/<tenant>]/teams/<team>/<chat>` (one directory per
//! chat, GoClaw's default, or the team's directory itself when `settings.workspace_scope` is
//! `shared`), listed, read, written and deleted by the `teams.workspace.*` methods, uploaded,
//! moved and downloaded through the `/v1/teams/…` routes (`http/teams.rs`, `team_files.rs`).
//!
//! A file name is a relative path of plain components: no `..`, `.`, absolute paths,
//! backslashes or NUL, and no symbolic link anywhere below the workspace base, so nothing
//! outside the team's directory is ever reached. At most [`MAX_FILE_BYTES`] per file and
//! [`MAX_FILES`] files per scope (GoClaw's limits); answers name files by their path in the
//! scope, never by their place on the host.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_core::{MASTER_TENANT_ID, Team};
use serde_json::{Value, json};

/// Largest file a team's workspace keeps.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most files in one scope.
pub const MAX_FILES: usize = 100;
/// Most characters `read` answers with.
pub const MAX_READ_CHARS: usize = 500_000;
/// Most entries `list` answers with.
const MAX_LISTED: usize = 1_000;

/// Why a workspace call was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum WorkspaceError {
    Invalid(&'static str),
    NotFound(String),
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// The scope holds [`MAX_FILES`] files already.
    Full(&'static str),
    /// A move would replace a file.
    Exists(&'static str),
    Io(String),
}

/// One file or directory as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// The path in the listing (under the chat's directory when listing every chat).
    pub name: String,
    pub size: u64,
    pub chat_id: String,
    pub is_dir: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

impl FileEntry {
    /// GoClaw's `workspaceFileEntry`; `path` is the name, not a host path.
    pub fn to_json(&self) -> Value {
        let mut entry = json!({
            "name": self.name,
            "path": self.name,
            "size": self.size,
            "chat_id": self.chat_id,
        });
        if self.is_dir {
            entry["is_dir"] = json!(true);
        }
        if let Some(at) = self.updated_at {
            entry["updated_at"] = json!(at.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        entry
    }
}

/// The files of one team.
pub struct TeamWorkspace {
    base: PathBuf,
    /// The team's directory relative to `base`.
    team_dir: PathBuf,
    shared: bool,
}

impl TeamWorkspace {
    /// `team`'s workspace under the agents' workspace `base`.
    pub fn of(base: &Path, team: &Team) -> Self {
        let mut team_dir = PathBuf::new();
        if team.tenant_id != MASTER_TENANT_ID {
            team_dir.push("tenants");
            team_dir.push(team.tenant_id.to_string());
        }
        team_dir.push("teams");
        team_dir.push(team.id.to_string());
        let shared = team.settings.get("workspace_scope").and_then(Value::as_str) == Some("shared");
        Self {
            base: base.to_path_buf(),
            team_dir,
            shared,
        }
    }

    /// Whether the team keeps one directory for every chat.
    pub fn shared(&self) -> bool {
        self.shared
    }

    /// The scope's directory relative to `base`: the team's, or the chat's in it. A chat id
    /// becomes one path segment (characters other than letters, digits, `_` and `-` as `_`).
    fn scope(&self, chat: &str) -> Result<PathBuf, WorkspaceError> {
        if self.shared {
            return Ok(self.team_dir.clone());
        }
        if chat.is_empty() {
            return Err(WorkspaceError::Invalid("chat_id is required"));
        }
        if chat.len() > 255 {
            return Err(WorkspaceError::Invalid("invalid chat_id"));
        }
        Ok(self
            .team_dir
            .join(goclaw_tools::workspace::sanitize_segment(chat)))
    }

    /// `relative` under `base`, refused when any existing component below `base` is a
    /// symbolic link.
    fn real(&self, relative: &Path) -> Result<PathBuf, WorkspaceError> {
        let mut at = self.base.clone();
        for part in relative.components() {
            at.push(part);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    tracing::warn!(path = %relative.display(), "security.workspace_path_escape");
                    return Err(WorkspaceError::Invalid("invalid file_name"));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Ok(self.base.join(relative))
    }

    /// The file `name` of the scope of `chat`, relative to `base`.
    fn file(&self, chat: &str, name: &str) -> Result<PathBuf, WorkspaceError> {
        let scope = self.scope(chat)?;
        let path = checked_name(name)?;
        Ok(scope.join(path))
    }

    /// Every file and directory of the scope of `chat`, or of every chat (each under its
    /// chat's directory) when the team keeps one per chat and `chat` is empty.
    pub fn list(&self, chat: &str) -> Result<Vec<FileEntry>, WorkspaceError> {
        let mut entries = Vec::new();
        if self.shared || !chat.is_empty() {
            let scope = self.scope(chat)?;
            let shown = if self.shared { "" } else { chat };
            walk(&self.real(&scope)?, "", shown, &mut entries);
            return Ok(entries);
        }
        let team = self.real(&self.team_dir)?;
        let Ok(chats) = fs::read_dir(&team) else {
            return Ok(entries);
        };
        let mut chats: Vec<_> = chats.flatten().filter(is_real_dir).collect();
        chats.sort_by_key(fs::DirEntry::file_name);
        for dir in chats {
            let chat = dir.file_name().to_string_lossy().into_owned();
            entries.push(FileEntry {
                name: chat.clone(),
                size: 0,
                chat_id: chat.clone(),
                is_dir: true,
                updated_at: None,
            });
            walk(&dir.path(), &chat, &chat, &mut entries);
        }
        Ok(entries)
    }

    /// The file and its text (cut at [`MAX_READ_CHARS`]).
    pub fn read(&self, chat: &str, name: &str) -> Result<(FileEntry, String), WorkspaceError> {
        let path = self.real(&self.file(chat, name)?)?;
        let data = fs::read(&path).map_err(|_| not_found(name))?;
        let mut content = String::from_utf8_lossy(&data).into_owned();
        if content.chars().count() > MAX_READ_CHARS {
            content = content.chars().take(MAX_READ_CHARS).collect();
            content.push_str("\n\n[...truncated]");
        }
        let entry = self.entry(&path, name, chat, data.len() as u64);
        Ok((entry, content))
    }

    /// The file as listed: `NotFound` unless it is a file of the scope.
    pub fn stat(&self, chat: &str, name: &str) -> Result<FileEntry, WorkspaceError> {
        let path = self.real(&self.file(chat, name)?)?;
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(self.entry(&path, name, chat, meta.len())),
            _ => Err(not_found(name)),
        }
    }

    /// The file's bytes (at most [`MAX_FILE_BYTES`]; a larger file is refused).
    pub fn bytes(&self, chat: &str, name: &str) -> Result<(FileEntry, Vec<u8>), WorkspaceError> {
        let entry = self.stat(chat, name)?;
        if entry.size > MAX_FILE_BYTES as u64 {
            return Err(WorkspaceError::TooLarge);
        }
        let path = self.real(&self.file(chat, name)?)?;
        let data = fs::read(&path).map_err(|_| not_found(name))?;
        Ok((entry, data))
    }

    /// Moves (renames) the file `from` to `to` in the same scope, creating `to`'s directories;
    /// an existing `to` is refused.
    pub fn rename(&self, chat: &str, from: &str, to: &str) -> Result<FileEntry, WorkspaceError> {
        let source = self.real(&self.file(chat, from)?)?;
        if !fs::symlink_metadata(&source).is_ok_and(|m| m.is_file()) {
            return Err(not_found(from));
        }
        let relative = self.file(chat, to)?;
        let target = self.real(&relative)?;
        if fs::symlink_metadata(&target).is_ok() {
            return Err(WorkspaceError::Exists("destination already exists"));
        }
        if let Some(parent) = target.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(parent)
                .map_err(io)?;
        }
        let target = self.real(&relative)?;
        fs::rename(&source, &target).map_err(io)?;
        let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        Ok(self.entry(&target, to, chat, size))
    }

    /// Writes `content` to the file, creating its directories.
    pub fn write(
        &self,
        chat: &str,
        name: &str,
        content: &str,
    ) -> Result<FileEntry, WorkspaceError> {
        self.write_bytes(chat, name, content.as_bytes())
    }

    /// Writes `content` (any bytes) to the file, creating its directories.
    pub fn write_bytes(
        &self,
        chat: &str,
        name: &str,
        content: &[u8],
    ) -> Result<FileEntry, WorkspaceError> {
        if content.len() > MAX_FILE_BYTES {
            return Err(WorkspaceError::TooLarge);
        }
        let relative = self.file(chat, name)?;
        let path = self.real(&relative)?;
        let scope = self.real(&self.scope(chat)?)?;
        if !path.exists() && count_files(&scope) >= MAX_FILES {
            return Err(WorkspaceError::Full("too many files in this workspace"));
        }
        if let Some(parent) = path.parent() {
            // GoClaw's mode for team directories: the gateway's group may read them.
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(parent)
                .map_err(io)?;
        }
        // Created directories could not be links; check the whole path once more.
        let path = self.real(&relative)?;
        if path.is_dir() {
            return Err(WorkspaceError::Invalid("invalid file_name"));
        }
        fs::write(&path, content).map_err(io)?;
        Ok(self.entry(&path, name, chat, content.len() as u64))
    }

    /// Deletes the file.
    pub fn delete(&self, chat: &str, name: &str) -> Result<(), WorkspaceError> {
        let path = self.real(&self.file(chat, name)?)?;
        if path.is_dir() {
            return Err(WorkspaceError::Invalid("invalid file_name"));
        }
        fs::remove_file(&path).map_err(|_| not_found(name))
    }

    fn entry(&self, path: &Path, name: &str, chat: &str, size: u64) -> FileEntry {
        FileEntry {
            name: name.to_owned(),
            size,
            chat_id: if self.shared {
                String::new()
            } else {
                chat.to_owned()
            },
            is_dir: false,
            updated_at: modified(path),
        }
    }
}

/// A file name as a path of plain components.
fn checked_name(name: &str) -> Result<PathBuf, WorkspaceError> {
    let invalid = WorkspaceError::Invalid("invalid file_name");
    if name.is_empty() {
        return Err(WorkspaceError::Invalid("file_name is required"));
    }
    if name.len() > 1024 || name.contains('\0') || name.contains('\\') {
        return Err(invalid);
    }
    let path = Path::new(name);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) || name.contains("/./") {
        return Err(invalid);
    }
    Ok(path.to_path_buf())
}

fn not_found(name: &str) -> WorkspaceError {
    WorkspaceError::NotFound(format!("file not found: {name}"))
}

fn io(error: std::io::Error) -> WorkspaceError {
    WorkspaceError::Io(error.to_string())
}

fn modified(path: &Path) -> Option<DateTime<Utc>> {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from)
}

fn is_real_dir(entry: &fs::DirEntry) -> bool {
    entry.file_type().is_ok_and(|t| t.is_dir())
}

/// Lists `dir` depth first by name into `into`, names prefixed with `prefix`; symbolic links
/// are left out.
fn walk(dir: &Path, prefix: &str, chat: &str, into: &mut Vec<FileEntry>) {
    let Ok(read) = fs::read_dir(dir) else { return };
    let mut children: Vec<_> = read.flatten().collect();
    children.sort_by_key(fs::DirEntry::file_name);
    for child in children {
        if into.len() >= MAX_LISTED {
            return;
        }
        let Ok(kind) = child.file_type() else {
            continue;
        };
        let file = child.file_name().to_string_lossy().into_owned();
        let name = if prefix.is_empty() {
            file
        } else {
            format!("{prefix}/{file}")
        };
        if kind.is_dir() {
            into.push(FileEntry {
                name: name.clone(),
                size: 0,
                chat_id: chat.to_owned(),
                is_dir: true,
                updated_at: None,
            });
            walk(&child.path(), &name, chat, into);
        } else if kind.is_file() {
            let size = child.metadata().map(|m| m.len()).unwrap_or_default();
            into.push(FileEntry {
                name,
                size,
                chat_id: chat.to_owned(),
                is_dir: false,
                updated_at: modified(&child.path()),
            });
        }
    }
}

/// Regular files under `dir`, counted up to [`MAX_FILES`].
fn count_files(dir: &Path) -> usize {
    let mut found = Vec::new();
    walk(dir, "", "", &mut found);
    found.iter().filter(|e| !e.is_dir).count()
}

#[cfg(test)]
mod tests {
    use goclaw_core::TenantId;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn team(tenant: TenantId, settings: Value) -> Team {
        Team {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            name: "crew".to_owned(),
            description: String::new(),
            lead_agent_id: goclaw_core::AgentId::generate(),
            settings,
            status: "active".to_owned(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    /// Every line: a file name, and whether it is accepted.
    #[test]
    fn file_names_stay_inside_the_scope() {
        let cases = [
            ("notes.md", true),
            ("docs/plan.md", true),
            ("a/b/c.txt", true),
            ("", false),
            ("../x", false),
            ("docs/../../x", false),
            ("/etc/passwd", false),
            ("./x", false),
            ("a/./b", false),
            ("a\\b", false),
            ("a\0b", false),
            ("..", false),
        ];
        for (name, ok) in cases {
            assert_eq!(checked_name(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn files_live_per_chat_and_links_are_refused() {
        let base = tempfile::tempdir().expect("dir");
        let crew = team(MASTER_TENANT_ID, json!({}));
        let ws = TeamWorkspace::of(base.path(), &crew);
        ws.write("chat:1", "docs/plan.md", "step one")
            .expect("write");
        ws.write("chat:2", "notes.md", "other").expect("write");
        let (entry, text) = ws.read("chat:1", "docs/plan.md").expect("read");
        assert_eq!(
            (entry.name.as_str(), text.as_str()),
            ("docs/plan.md", "step one")
        );
        assert!(matches!(
            ws.read("chat:2", "docs/plan.md"),
            Err(WorkspaceError::NotFound(_))
        ));
        assert_eq!(
            ws.read("", "notes.md").err(),
            Some(WorkspaceError::Invalid("chat_id is required"))
        );
        let names: Vec<String> = ws
            .list("")
            .expect("list")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                "chat_1",
                "chat_1/docs",
                "chat_1/docs/plan.md",
                "chat_2",
                "chat_2/notes.md"
            ]
        );
        let on_disk = base
            .path()
            .join("teams")
            .join(crew.id.to_string())
            .join("chat_1/docs/plan.md");
        assert!(on_disk.is_file());
        let team_dir = base.path().join("teams").join(crew.id.to_string());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&team_dir)
                .expect("team dir")
                .permissions(),
        );
        assert_eq!(
            mode & 0o007,
            0,
            "others may not enter a team's directory: {mode:o}"
        );

        // A link planted in the workspace leads nowhere.
        let outside = tempfile::tempdir().expect("dir");
        std::fs::write(outside.path().join("secret"), "s").expect("secret");
        let scope = base
            .path()
            .join("teams")
            .join(crew.id.to_string())
            .join("chat_1");
        std::os::unix::fs::symlink(outside.path(), scope.join("out")).expect("link");
        for name in ["out/secret", "out/new"] {
            assert_eq!(
                ws.read("chat:1", name).err(),
                Some(WorkspaceError::Invalid("invalid file_name"))
            );
            assert!(ws.write("chat:1", name, "x").is_err(), "{name}");
            assert!(ws.delete("chat:1", name).is_err(), "{name}");
        }
        assert_eq!(
            std::fs::read_to_string(outside.path().join("secret")).expect("kept"),
            "s"
        );
        ws.delete("chat:1", "docs/plan.md").expect("delete");
        assert!(matches!(
            ws.delete("chat:1", "docs/plan.md"),
            Err(WorkspaceError::NotFound(_))
        ));
    }

    #[test]
    fn files_move_within_their_scope_and_are_read_as_bytes() {
        let base = tempfile::tempdir().expect("dir");
        let ws = TeamWorkspace::of(base.path(), &team(MASTER_TENANT_ID, json!({})));
        ws.write_bytes("c1", "a.bin", &[0, 159, 255])
            .expect("write");
        ws.write("c1", "b.md", "b").expect("write");
        let moved = ws.rename("c1", "a.bin", "out/a.bin").expect("move");
        assert_eq!((moved.name.as_str(), moved.size), ("out/a.bin", 3));
        assert_eq!(ws.bytes("c1", "out/a.bin").expect("bytes").1, [0, 159, 255]);
        assert!(matches!(
            ws.stat("c1", "a.bin"),
            Err(WorkspaceError::NotFound(_))
        ));
        assert!(matches!(
            ws.rename("c1", "a.bin", "c.bin"),
            Err(WorkspaceError::NotFound(_))
        ));
        assert_eq!(
            ws.rename("c1", "b.md", "out/a.bin").err(),
            Some(WorkspaceError::Exists("destination already exists"))
        );
        for to in ["../a.bin", "/tmp/a.bin", "out\\a.bin"] {
            assert_eq!(
                ws.rename("c1", "b.md", to).err(),
                Some(WorkspaceError::Invalid("invalid file_name")),
                "{to}"
            );
        }
        assert!(matches!(
            ws.bytes("c2", "out/a.bin"),
            Err(WorkspaceError::NotFound(_))
        ));
    }

    #[test]
    fn shared_teams_keep_one_directory_and_limits_hold() {
        let base = tempfile::tempdir().expect("dir");
        let tenant = TenantId::generate();
        let crew = team(tenant, json!({ "workspace_scope": "shared" }));
        let ws = TeamWorkspace::of(base.path(), &crew);
        ws.write("ignored", "a.md", "a").expect("write");
        let dir = base
            .path()
            .join(format!("tenants/{tenant}/teams/{}", crew.id));
        assert!(dir.join("a.md").is_file());
        assert_eq!(ws.list("").expect("list")[0].chat_id, "");
        let big = "x".repeat(MAX_FILE_BYTES + 1);
        assert_eq!(
            ws.write("", "big", &big).err(),
            Some(WorkspaceError::TooLarge)
        );
        for n in 1..MAX_FILES {
            ws.write("", &format!("f{n}"), "x").expect("write");
        }
        assert!(matches!(
            ws.write("", "one-more", "x"),
            Err(WorkspaceError::Full(_))
        ));
        ws.write("", "a.md", "rewritten")
            .expect("an existing file may change");
    }
}
