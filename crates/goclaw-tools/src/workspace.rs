//! The workspace guard: where a path a tool was given really points, and whether the agent may
//! touch it. With `restrict_to_workspace` every path is resolved through its symlinks (a path
//! that does not exist yet through its deepest existing ancestor, a dangling symlink through its
//! target) and must land inside the workspace or an `allowed_paths` root; hard-linked files and
//! writes through symlinks are refused. Also the directory layout of workspaces.

use std::fs;
use std::path::{Component, Path, PathBuf};

use goclaw_core::ToolContext;

/// How many symlinks one resolution may follow before it is treated as a loop.
const MAX_SYMLINK_HOPS: usize = 40;
/// Directories inside the workspace that tools never touch.
pub const DENIED_DIRS: &[&str] = &[".goclaw"];

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("access denied: path outside workspace")]
    OutsideWorkspace,
    #[error("access denied: {0}")]
    Denied(String),
    #[error("invalid path: {0}")]
    Invalid(String),
    #[error("cannot prepare the workspace {path}: {error}")]
    Workspace { path: String, error: String },
}

/// What a tool is about to do with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Resolves and checks the paths one tool call uses.
#[derive(Debug, Clone)]
pub struct WorkspaceGuard {
    workspace: PathBuf,
    restricted: bool,
    /// Workspace first, then `allowed_paths`, each as given and canonical.
    roots: Vec<(PathBuf, PathBuf)>,
}

impl WorkspaceGuard {
    /// The guard of a tool call; creates the workspace directory when it is missing.
    pub fn new(ctx: &ToolContext) -> Result<Self, PathError> {
        Self::with_roots(
            &ctx.workspace,
            ctx.restrict_to_workspace,
            &ctx.allowed_paths,
        )
    }

    /// A guard over `workspace` and the extra `allowed` roots.
    pub fn with_roots(
        workspace: &Path,
        restricted: bool,
        allowed: &[PathBuf],
    ) -> Result<Self, PathError> {
        fs::create_dir_all(workspace).map_err(|error| PathError::Workspace {
            path: workspace.display().to_string(),
            error: error.to_string(),
        })?;
        let canonical = fs::canonicalize(workspace).map_err(|error| PathError::Workspace {
            path: workspace.display().to_string(),
            error: error.to_string(),
        })?;
        let mut roots = vec![(normalize(workspace), canonical.clone())];
        for root in allowed {
            // A root that does not exist cannot contain anything yet; skip it.
            if let Ok(real) = fs::canonicalize(root) {
                roots.push((normalize(root), real));
            }
        }
        Ok(Self {
            workspace: canonical,
            restricted,
            roots,
        })
    }

    /// The canonical workspace directory.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The path `requested` names, checked for `access`. Relative paths are taken under the
    /// workspace. Unrestricted guards only normalize.
    pub fn resolve(&self, requested: &str, access: Access) -> Result<PathBuf, PathError> {
        if requested.contains('\0') {
            return Err(PathError::Invalid("path contains a NUL byte".into()));
        }
        let requested = if requested.trim().is_empty() {
            "."
        } else {
            requested
        };
        let given = Path::new(requested);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.workspace.join(given)
        };
        let lexical = normalize(&joined);
        if !self.restricted {
            return Ok(lexical);
        }
        let real = real_path(&lexical, 0)?;
        if !self.roots.iter().any(|(_, root)| real.starts_with(root)) {
            return Err(PathError::OutsideWorkspace);
        }
        for denied in DENIED_DIRS {
            if real.starts_with(self.workspace.join(denied)) {
                return Err(PathError::Denied(format!("{denied} is not accessible")));
            }
        }
        if access == Access::Write && self.through_symlink(&lexical) {
            return Err(PathError::Denied("writing through a symlink".into()));
        }
        if let Ok(meta) = fs::metadata(&real)
            && meta.is_file()
            && link_count(&meta) > 1
        {
            return Err(PathError::Denied("file has more than one hard link".into()));
        }
        Ok(real)
    }

    /// Whether any existing component of `lexical` below its root is a symlink (or the path
    /// reaches a root only through one).
    fn through_symlink(&self, lexical: &Path) -> bool {
        let root = self
            .roots
            .iter()
            .flat_map(|(given, real)| [given, real])
            .filter(|root| lexical.starts_with(root))
            .max_by_key(|root| root.components().count());
        let Some(root) = root else {
            return true;
        };
        let Ok(rest) = lexical.strip_prefix(root) else {
            return true;
        };
        let mut current = root.clone();
        for part in rest.components() {
            current.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

/// `path` with `.` removed and `..` applied, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` at the root stays at the root.
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The canonical path of `path`, which need not exist: a missing tail is resolved through the
/// deepest existing ancestor, a dangling symlink through its target.
fn real_path(path: &Path, hops: usize) -> Result<PathBuf, PathError> {
    if hops > MAX_SYMLINK_HOPS {
        return Err(PathError::Denied("too many levels of symlinks".into()));
    }
    if let Ok(real) = fs::canonicalize(path) {
        return Ok(real);
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = fs::read_link(path)
                .map_err(|error| PathError::Denied(format!("unreadable symlink: {error}")))?;
            let parent = path.parent().unwrap_or_else(|| Path::new("/"));
            let next = normalize(&parent.join(target));
            real_path(&next, hops + 1)
        }
        Ok(_) => Err(PathError::Denied("path cannot be resolved".into())),
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(PathError::Denied("permission denied".into()))
        }
        Err(_) => {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(PathError::Invalid("path has no existing ancestor".into()));
            };
            Ok(real_path(parent, hops)?.join(name))
        }
    }
}

#[cfg(unix)]
fn link_count(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(not(unix))]
fn link_count(_meta: &fs::Metadata) -> u64 {
    1
}

/// The workspace of one agent (and user) in GoClaw's layout: `<base>` for the master tenant,
/// `<base>/tenants/<slug>` otherwise; then `<agent_key>`, and for `open` agents a
/// `<user_id>` subdirectory. Segments are sanitized to `[A-Za-z0-9_-]`.
pub fn workspace_for(
    base: &Path,
    tenant_slug: Option<&str>,
    agent_key: &str,
    user_id: &str,
    agent_type: &str,
) -> PathBuf {
    let mut path = base.to_path_buf();
    if let Some(slug) = tenant_slug.filter(|s| !s.is_empty() && *s != "master") {
        path.push("tenants");
        path.push(sanitize_segment(slug));
    }
    path.push(sanitize_segment(agent_key));
    if agent_type == "open" && !user_id.is_empty() {
        path.push(sanitize_segment(user_id));
    }
    path
}

/// `segment` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize_segment(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_goclaw() {
        let base = Path::new("/data");
        let check = |slug, key, user, kind, expected: &str| {
            assert_eq!(
                workspace_for(base, slug, key, user, kind),
                PathBuf::from(expected)
            );
        };
        check(None, "default", "alice", "predefined", "/data/default");
        check(Some("master"), "a", "u", "open", "/data/a/u");
        check(Some("acme"), "a", "u", "open", "/data/tenants/acme/a/u");
        check(
            Some("ac/me"),
            "a/..",
            "u:1",
            "open",
            "/data/tenants/ac_me/a___/u_1",
        );
        check(Some("acme"), "a", "", "open", "/data/tenants/acme/a");
    }

    #[test]
    fn normalize_applies_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../../x")), PathBuf::from("/x"));
    }

    #[test]
    fn unrestricted_only_normalizes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let guard = WorkspaceGuard::with_roots(&dir.path().join("ws"), false, &[]).expect("guard");
        assert_eq!(
            guard.resolve("/etc/../etc/passwd", Access::Read),
            Ok(PathBuf::from("/etc/passwd"))
        );
        assert!(dir.path().join("ws").is_dir(), "workspace created");
    }
}
