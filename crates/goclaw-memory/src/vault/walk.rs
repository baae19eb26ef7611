//! A bounded walk of a workspace: the files the vault registers, at most 5,000 of them and
//! 500 MB together, none over 50 MB, never following a symbolic link (a linked file or
//! directory is skipped, not read), and never entering an excluded directory. A walk that hits
//! a limit stops and says so (`truncated`).

use std::path::{Path, PathBuf};

use super::classify;

/// The limits of one walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLimits {
    pub max_files: usize,
    pub max_total_bytes: u64,
    pub max_file_bytes: u64,
}

impl Default for WalkLimits {
    /// GoClaw's: 5,000 files, 500 MB in all, 50 MB per file.
    fn default() -> Self {
        Self {
            max_files: 5000,
            max_total_bytes: 500 * 1024 * 1024,
            max_file_bytes: 50 * 1024 * 1024,
        }
    }
}

/// A file the walk found eligible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkEntry {
    /// Relative to the walked root, `/`-separated.
    pub path: String,
    pub absolute: PathBuf,
    pub size: u64,
}

/// What a walk saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    pub eligible: usize,
    pub skipped_symlinks: usize,
    pub skipped_excluded: usize,
    pub skipped_too_large: usize,
    pub truncated: bool,
}

/// Walks `root`, below `prefix` (a relative directory, `""` for all of it), leaving out the
/// top-level directories named in `skip_top` (the master tenant's root holds the other
/// tenants' roots under `tenants/`). Paths in the result are relative to `root`.
pub fn walk(
    root: &Path,
    prefix: &str,
    skip_top: &[&str],
    limits: WalkLimits,
) -> (Vec<WalkEntry>, WalkStats) {
    let mut entries = Vec::new();
    let mut stats = WalkStats::default();
    let mut total = 0u64;
    let mut pending = vec![prefix.trim_matches('/').to_owned()];
    while let Some(dir) = pending.pop() {
        let absolute_dir = if dir.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&dir)
        };
        let Ok(listing) = std::fs::read_dir(&absolute_dir) else {
            continue;
        };
        let mut children: Vec<_> = listing.filter_map(Result::ok).collect();
        children.sort_by_key(std::fs::DirEntry::file_name);
        for child in children {
            let Some(name) = child.file_name().to_str().map(str::to_owned) else {
                stats.skipped_excluded += 1;
                continue;
            };
            let path = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            // The entry itself, never what a link points at.
            let Ok(meta) = std::fs::symlink_metadata(child.path()) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                stats.skipped_symlinks += 1;
                continue;
            }
            if meta.is_dir() {
                let skipped = classify::is_excluded_dir(&name)
                    || (dir.is_empty() && skip_top.contains(&name.as_str()));
                if skipped {
                    stats.skipped_excluded += 1;
                } else {
                    pending.push(path);
                }
                continue;
            }
            if !meta.is_file() || !classify::is_registered(&path) {
                stats.skipped_excluded += 1;
                continue;
            }
            if meta.len() > limits.max_file_bytes {
                stats.skipped_too_large += 1;
                continue;
            }
            if entries.len() >= limits.max_files || total + meta.len() > limits.max_total_bytes {
                stats.truncated = true;
                return (entries, stats);
            }
            total += meta.len();
            stats.eligible += 1;
            entries.push(WalkEntry {
                path,
                absolute: child.path(),
                size: meta.len(),
            });
        }
    }
    (entries, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, bytes: usize) {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        std::fs::write(file, vec![b'x'; bytes]).expect("file");
    }

    fn paths(entries: &[WalkEntry]) -> Vec<&str> {
        let mut paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        paths
    }

    #[test]
    fn walks_eligible_files_only() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        write(root, "keeper/notes/a.md", 3);
        write(root, "keeper/memory/m.md", 3);
        write(root, "keeper/.git/x.md", 3);
        write(root, "keeper/tool.exe", 3);
        write(root, "tenants/other/b.md", 3);
        write(root, "handbook.md", 3);
        write(root, "big.md", 40);
        std::os::unix::fs::symlink(root.join("handbook.md"), root.join("keeper/link.md"))
            .expect("file link");
        std::os::unix::fs::symlink("/etc", root.join("keeper/etc")).expect("dir link");
        let limits = WalkLimits {
            max_file_bytes: 20,
            ..WalkLimits::default()
        };
        let (entries, stats) = walk(root, "", &["tenants"], limits);
        assert_eq!(paths(&entries), ["handbook.md", "keeper/notes/a.md"]);
        assert_eq!(stats.skipped_symlinks, 2);
        assert_eq!(stats.skipped_too_large, 1);
        assert!(!stats.truncated);
        let (entries, _) = walk(root, "keeper", &[], limits);
        assert_eq!(paths(&entries), ["keeper/notes/a.md"]);
    }

    #[test]
    fn stops_at_the_limits() {
        let dir = tempfile::tempdir().expect("dir");
        for i in 0..5 {
            write(dir.path(), &format!("n{i}.md"), 10);
        }
        let by_count = WalkLimits {
            max_files: 3,
            ..WalkLimits::default()
        };
        let (entries, stats) = walk(dir.path(), "", &[], by_count);
        assert_eq!((entries.len(), stats.truncated), (3, true));
        let by_size = WalkLimits {
            max_total_bytes: 25,
            ..WalkLimits::default()
        };
        let (entries, stats) = walk(dir.path(), "", &[], by_size);
        assert_eq!((entries.len(), stats.truncated), (2, true));
    }
}
