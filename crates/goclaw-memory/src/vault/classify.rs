//! What a workspace file is to the vault, from its path alone: whether it is registered at all
//! (GoClaw's extension whitelist and excluded places), its `doc_type` and title, and who owns
//! it. Paths are relative to the tenant's workspace root and `/`-separated.
//!
//! Excluded: `memory/` (memory files have their own index), `web-fetch/` (fetched pages are
//! untrusted) and hidden directories except `.uploads`, at any depth; SQLite files; hidden
//! files and the bootstrap context files (`SOUL.md`, `AGENTS.md`, …) at the root.
//!
//! Owner: `<agent_key>/…` (or the older `agents/<agent_key>/…`) belongs to that agent when the
//! key names a live agent of the tenant; `teams/…` belongs to a team, and as this gateway has
//! no teams such files are not registered; anything else is shared by the tenant (the registry
//! keeps a deleted agent's folder out of that: see `registry.rs`).

use std::collections::HashMap;

use goclaw_core::{AgentId, VaultOwner};

/// Root-level bootstrap files, kept by the context-file machinery rather than the vault.
const CONTEXT_FILES: &[&str] = &[
    "SOUL.md",
    "IDENTITY.md",
    "USER.md",
    "BOOTSTRAP.md",
    "AGENTS.md",
    "TOOLS.md",
    "CAPABILITIES.md",
    "MEMORY.md",
    "AGENTS_CORE.md",
    "AGENTS_TASK.md",
];

/// The `doc_type` a file's extension gives it (GoClaw's whitelist); `None` for a file the
/// vault does not register.
pub fn extension_doc_type(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (_, ext) = name.rsplit_once('.')?;
    let doc_type = match ext.to_ascii_lowercase().as_str() {
        "md" | "txt" | "json" | "yaml" | "yml" | "toml" | "csv" | "go" | "js" | "ts" | "tsx"
        | "jsx" | "py" | "rs" | "java" | "sh" | "sql" | "html" | "css" => "note",
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "svg" | "bmp" | "mp4" | "webm" | "mov"
        | "avi" | "mkv" | "mp3" | "wav" | "ogg" | "flac" | "aac" | "m4a" => "media",
        "pdf" | "docx" | "xlsx" | "pptx" | "doc" | "xls" | "ppt" | "odt" | "ods" | "odp"
        | "rtf" => "document",
        _ => return None,
    };
    Some(doc_type)
}

/// Whether a directory of this name is skipped with everything under it.
pub fn is_excluded_dir(name: &str) -> bool {
    name == "memory" || name == "web-fetch" || (name.starts_with('.') && name != ".uploads")
}

/// Whether the file at `path` is kept out of the vault whatever its extension.
pub fn is_excluded(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let Some((name, dirs)) = segments.split_last() else {
        return true;
    };
    if name.is_empty() || dirs.iter().any(|d| is_excluded_dir(d) || *d == "..") {
        return true;
    }
    if [".db", ".db-wal", ".db-shm"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        return true;
    }
    dirs.is_empty() && (name.starts_with('.') || CONTEXT_FILES.contains(name))
}

/// Whether the file at `path` is registered in the vault.
pub fn is_registered(path: &str) -> bool {
    !is_excluded(path) && extension_doc_type(path).is_some()
}

/// Whether the file's links are read: markdown only.
pub fn is_markdown(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".md")
}

/// GoClaw's `doc_type` for a path: the place first (`memory/`, context files, `skills/`,
/// `episodic/`), then the extension.
pub fn doc_type(path: &str) -> &'static str {
    let lower = path.to_lowercase();
    if lower.starts_with("memory/") {
        "memory"
    } else if ["soul.md", "identity.md", "agents.md"]
        .iter()
        .any(|name| lower.contains(name))
    {
        "context"
    } else if lower.starts_with("skills/") || lower.ends_with("skill.md") {
        "skill"
    } else if lower.starts_with("episodic/") {
        "episodic"
    } else {
        extension_doc_type(path).unwrap_or("note")
    }
}

/// The title of a file: its name without the extension.
pub fn title(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => name.to_owned(),
    }
}

/// Who owns the file at `path`, given the tenant's live agents by key; `None` for a file
/// that is not registered (a team's, as there are no teams here).
pub fn owner_of(path: &str, agents: &HashMap<String, AgentId>) -> Option<VaultOwner> {
    let mut segments = path.split('/');
    let first = segments.next()?;
    let second = segments.next();
    match (first, second) {
        ("teams", Some(_)) => None,
        ("agents", Some(key)) => agents
            .get(key)
            .filter(|_| path.matches('/').count() >= 2)
            .map(|id| VaultOwner::personal(*id)),
        (key, Some(_)) => Some(
            agents
                .get(key)
                .map_or_else(VaultOwner::shared, |id| VaultOwner::personal(*id)),
        ),
        (_, None) => Some(VaultOwner::shared()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_files_follow_goclaw_rules() {
        for (path, registered) in [
            ("keeper/notes/plan.md", true),
            ("keeper/report.PDF", true),
            ("keeper/app.exe", false),
            ("keeper/README", false),
            ("keeper/memory/facts.md", false),
            ("keeper/web-fetch/page.md", false),
            ("keeper/.git/config.md", false),
            ("keeper/.uploads/scan.png", true),
            ("keeper/cache.db", false),
            ("SOUL.md", false),
            ("keeper/SOUL.md", true),
            (".hidden.md", false),
            ("handbook.md", true),
            ("a/../b.md", false),
        ] {
            assert_eq!(is_registered(path), registered, "{path}");
        }
    }

    #[test]
    fn doc_types_prefer_the_place_then_the_extension() {
        for (path, expected) in [
            ("memory/x.md", "memory"),
            ("keeper/SOUL.md", "context"),
            ("skills/web/SKILL.md", "skill"),
            ("keeper/my-skill.md", "skill"),
            ("episodic/2024.md", "episodic"),
            ("keeper/photo.JPG", "media"),
            ("keeper/deck.pptx", "document"),
            ("keeper/plan.md", "note"),
            ("keeper/odd.xyz", "note"),
        ] {
            assert_eq!(doc_type(path), expected, "{path}");
        }
    }

    #[test]
    fn titles_drop_the_extension() {
        for (path, expected) in [
            ("a/b/Plan 2.md", "Plan 2"),
            ("x.tar.gz", "x.tar"),
            ("noext", "noext"),
            (".env", ".env"),
        ] {
            assert_eq!(title(path), expected, "{path}");
        }
    }

    #[test]
    fn owners_come_from_the_first_segment() {
        let keeper = AgentId::generate();
        let agents = HashMap::from([("keeper".to_owned(), keeper)]);
        for (path, expected) in [
            ("keeper/plan.md", Some(VaultOwner::personal(keeper))),
            ("keeper/alice/plan.md", Some(VaultOwner::personal(keeper))),
            ("agents/keeper/plan.md", Some(VaultOwner::personal(keeper))),
            ("agents/ghost/plan.md", None),
            ("stranger/plan.md", Some(VaultOwner::shared())),
            ("handbook.md", Some(VaultOwner::shared())),
            ("teams/0193a5b0-7000-7000-8000-000000000001/plan.md", None),
        ] {
            assert_eq!(owner_of(path, &agents), expected, "{path}");
        }
    }
}
