//! Memory files kept searchable: after `write_file` or `edit` changes `MEMORY.md`, `memory.md`
//! or a file under `memory/` of the caller's workspace, the file's new content is written to the
//! caller's memory in the store ([`MemoryIndex::write`]), so `memory_search` finds it — in this
//! session and every later one. The file itself stays where the tool wrote it; a failure to
//! index is logged and never fails the tool call.
//!
//! A memory file belongs to the user whose turn wrote it, except the company knowledge a
//! predefined agent keeps for everyone it serves (as GoClaw shares it): `memory/company.md`,
//! `memory/company-research.md`, `memory/use-cases.md`, `memory/decisions.md` and anything
//! under `memory/projects/` go to the agent's shared memory, which every user's search reads.

use std::path::{Component, Path};
use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{MemoryScope, Store, Tool, ToolContext, ToolDefinition, ToolOutput};
use goclaw_memory::index::MemoryIndex;
use serde_json::Value;

use crate::workspace::{Access, WorkspaceGuard};

/// The tools whose successful calls may change a memory file.
pub const WRITING_TOOLS: [&str; 2] = ["write_file", "edit"];

/// `tool` (one of [`WRITING_TOOLS`]), indexing the memory files it changes.
pub struct MemoryFileTool {
    inner: Arc<dyn Tool>,
    store: Arc<dyn Store>,
    index: MemoryIndex,
}

impl MemoryFileTool {
    /// Wraps `inner` when it is a tool that writes files; `None` otherwise.
    pub fn wrap(inner: Arc<dyn Tool>, store: Arc<dyn Store>, index: MemoryIndex) -> Option<Self> {
        WRITING_TOOLS
            .contains(&inner.definition().name.as_str())
            .then_some(Self {
                inner,
                store,
                index,
            })
    }

    async fn index_file(&self, ctx: &ToolContext, relative: &str) -> Result<(), String> {
        let guard = WorkspaceGuard::new(ctx).map_err(|e| e.to_string())?;
        let path = guard
            .resolve(relative, Access::Read)
            .map_err(|e| e.to_string())?;
        let content = tokio::fs::read_to_string(&path)
            .await
            .map_err(|e| format!("cannot read {relative}: {e}"))?;
        let agent = crate::sessions::caller_agent(self.store.as_ref(), ctx).await?;
        let owner = if agent.agent_type == "predefined" && is_shared_memory_path(relative) {
            MemoryScope::shared(ctx.tenant_id, agent.id)
        } else {
            MemoryScope::user(ctx.tenant_id, agent.id, &ctx.user_id)
        };
        self.index
            .write(owner, relative, &content)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[async_trait]
impl Tool for MemoryFileTool {
    fn definition(&self) -> ToolDefinition {
        self.inner.definition()
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let requested = arguments
            .get("path")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let output = self.inner.call(ctx, arguments).await;
        if output.is_error {
            return output;
        }
        if let Some(relative) = requested.and_then(|p| memory_path(&ctx.workspace, &p))
            && let Err(error) = self.index_file(ctx, &relative).await
        {
            tracing::warn!(path = %relative, %error, "memory file written but not indexed");
        }
        output
    }
}

/// Whether a predefined agent's memory file at `relative` (as [`memory_path`] gives it) is
/// shared by all its users rather than kept per user.
pub fn is_shared_memory_path(relative: &str) -> bool {
    const SHARED_FILES: [&str; 4] = [
        "memory/company.md",
        "memory/company-research.md",
        "memory/use-cases.md",
        "memory/decisions.md",
    ];
    SHARED_FILES.contains(&relative)
        || relative
            .strip_prefix("memory/projects/")
            .is_some_and(|rest| !rest.is_empty())
}

/// The workspace-relative path of `requested` (`a/b.md`, no `.` or `..`) when it names a
/// memory file: `MEMORY.md`, `memory.md` or anything under `memory/`.
pub fn memory_path(workspace: &Path, requested: &str) -> Option<String> {
    let requested = Path::new(requested.trim());
    let relative = if requested.is_absolute() {
        requested.strip_prefix(workspace).ok()?
    } else {
        requested
    };
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let is_memory = matches!(
        parts.as_slice(),
        ["MEMORY.md" | "memory.md"] | ["memory", _, ..]
    );
    is_memory.then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_paths_are_recognised_and_normalized() {
        let workspace = Path::new("/data/ws/alice");
        for (requested, expected) in [
            ("MEMORY.md", Some("MEMORY.md")),
            ("./memory.md", Some("memory.md")),
            (
                "memory/projects/falcon.md",
                Some("memory/projects/falcon.md"),
            ),
            ("memory//notes.md", Some("memory/notes.md")),
            ("/data/ws/alice/MEMORY.md", Some("MEMORY.md")),
            ("/data/ws/bob/MEMORY.md", None),
            ("../bob/MEMORY.md", None),
            ("memory/../MEMORY.md", None),
            ("notes/MEMORY.md", None),
            ("memory", None),
            ("Memory.md", None),
            ("MEMORY.md.bak", None),
        ] {
            assert_eq!(
                memory_path(workspace, requested).as_deref(),
                expected,
                "{requested}"
            );
        }
    }

    #[test]
    fn only_the_company_knowledge_of_a_predefined_agent_is_shared() {
        for shared in [
            "memory/company.md",
            "memory/company-research.md",
            "memory/use-cases.md",
            "memory/decisions.md",
            "memory/projects/falcon.md",
            "memory/projects/2026/q1.md",
        ] {
            assert!(is_shared_memory_path(shared), "{shared}");
        }
        for personal in [
            "MEMORY.md",
            "memory.md",
            "memory/notes.md",
            "memory/company.md.bak",
            "memory/projects",
            "memory/projects/",
            "memory/people/company.md",
            "company.md",
        ] {
            assert!(!is_shared_memory_path(personal), "{personal}");
        }
    }
}
