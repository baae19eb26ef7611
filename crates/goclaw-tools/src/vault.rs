//! The vault tools, with GoClaw's parameters: `vault_search` (`query`, `scope`, `types`,
//! `maxResults` 10) is GoClaw's search of every knowledge source at once — the vault
//! documents the calling agent sees (its own and the tenant's shared ones) and, where episodic
//! memory runs, the caller's episodes and knowledge-graph entities — each result naming the id
//! its follow-up tool takes (`doc_id` for `vault_read`, `episodic_id` for `memory_expand`,
//! `entity_id` for `knowledge_graph_search`); `vault_read` (`doc_id`, `max_bytes` 500,000, at
//! most 1 MiB) reads one document from disk with a footer of its links. What a caller sees
//! comes from the tool context, never from arguments; for an `open` agent, whose users each
//! have their own workspace, the agent's documents outside the caller's own workspace are not
//! shown.
//!
//! `VaultFileTool` registers what `write_file` and `edit` write, as GoClaw does at write time;
//! the file watcher would find it too, a moment later.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{
    Agent, EpisodicScope, GraphScope, Store, Tool, ToolContext, ToolDefinition, ToolOutput,
    VaultDocument, VaultScope, VaultView,
};
use goclaw_memory::episodic::EpisodicRecall;
use goclaw_memory::vault::{Found, Searcher, UnifiedHit, UnifiedRequest, UnifiedSearch, Vault};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::workspace::{Access, WorkspaceGuard};

/// Most results one search returns.
const MAX_RESULTS: u64 = 50;
/// `max_bytes` when none is given, and its ceiling.
const DEFAULT_READ_BYTES: u64 = 500_000;
const MAX_READ_BYTES: u64 = 1_048_576;
/// Bytes checked for UTF-8 before a file is shown as text.
const SNIFF_BYTES: usize = 8192;
/// Links listed under a read document.
const MAX_LINKS: usize = 20;
/// Extensions `vault_read` refuses: not text.
const BINARY_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "ico", "heic", "tiff", "mp3", "wav", "ogg",
    "flac", "m4a", "aac", "opus", "mp4", "mov", "avi", "mkv", "webm", "m4v", "zip", "tar", "gz",
    "bz2", "xz", "7z", "rar", "pdf", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "exe", "dll",
    "so", "dylib", "bin",
];

/// `vault_search` and `vault_read` over `vault` alone.
pub fn vault_tools(store: Arc<dyn Store>, vault: Vault) -> Vec<Arc<dyn Tool>> {
    vault_tools_with_episodes(store, vault, None)
}

/// `vault_search` and `vault_read` over `vault`, `vault_search` with `episodes` also searching
/// the caller's episodes and knowledge graph.
pub fn vault_tools_with_episodes(
    store: Arc<dyn Store>,
    vault: Vault,
    episodes: Option<EpisodicRecall>,
) -> Vec<Arc<dyn Tool>> {
    let search = UnifiedSearch::new(vault.clone(), episodes);
    let seen = Arc::new(CallerView { store, vault });
    vec![
        Arc::new(VaultSearch {
            seen: seen.clone(),
            search,
        }),
        Arc::new(VaultRead { seen }),
    ]
}

/// What the calling agent's user sees of the vault.
struct CallerView {
    store: Arc<dyn Store>,
    vault: Vault,
}

impl CallerView {
    async fn agent(&self, ctx: &ToolContext) -> Result<Agent, String> {
        crate::sessions::caller_agent(self.store.as_ref(), ctx).await
    }

    /// Whether the caller may see `document`: in the agent's view and, for an `open` agent's
    /// own document, inside the caller's workspace.
    fn sees(&self, ctx: &ToolContext, agent: &Agent, document: &VaultDocument) -> bool {
        if !VaultView::agent(ctx.tenant_id, agent.id).sees(document) {
            return false;
        }
        if document.scope != VaultScope::Personal || agent.agent_type != "open" {
            return true;
        }
        match self.vault.locate(&ctx.workspace) {
            Some((tenant, own)) => {
                tenant == ctx.tenant_id && document.path.starts_with(&format!("{own}/"))
            }
            None => false,
        }
    }
}

fn text_arg<'a>(arguments: &'a Value, name: &str) -> Option<&'a str> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

struct VaultSearch {
    seen: Arc<CallerView>,
    search: UnifiedSearch,
}

#[async_trait]
impl Tool for VaultSearch {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "vault_search".to_owned(),
            description: "Search every knowledge source at once: the vault (the files of \
                          your workspace and the shared ones, by title, path and summary, and \
                          by meaning when embeddings are on), your episodic memory of earlier \
                          conversations and the knowledge graph. Each result names its id for \
                          its follow-up tool: doc_id → vault_read, episodic_id → \
                          memory_expand(id), entity_id → knowledge_graph_search(entity_id). \
                          Narrow with types=\"note,context\" or types=\"kg\"."
                .to_owned(),
            parameters: json!({"type": "object", "required": ["query"], "properties": {
                "query": {"type": "string", "description": "Natural language search query"},
                "scope": {"type": "string",
                          "description": "Scope filter: personal, team, or shared (default: all)"},
                "types": {"type": "string",
                          "description": "Comma-separated types: context, memory, note, skill, \
                                          media, document (vault documents), episodic, kg \
                                          (default: all sources)"},
                "maxResults": {"type": "number", "minimum": 1, "maximum": MAX_RESULTS,
                               "description": "Maximum results (default: 10)"}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        match self.search(ctx, &arguments).await {
            Ok(text) => ToolOutput::ok(text),
            Err(error) => ToolOutput::error(error),
        }
    }
}

impl VaultSearch {
    async fn search(&self, ctx: &ToolContext, arguments: &Value) -> Result<String, String> {
        let query = text_arg(arguments, "query").ok_or("query parameter is required")?;
        let scope = text_arg(arguments, "scope")
            .map(VaultScope::parse)
            .transpose()
            .map_err(|e| e.to_string())?;
        let doc_types = text_arg(arguments, "types")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let wanted = arguments
            .get("maxResults")
            .and_then(Value::as_f64)
            .filter(|n| *n >= 1.0)
            .map_or(10, |n| n.min(MAX_RESULTS as f64) as usize);
        let agent = self.seen.agent(ctx).await?;
        let searcher = Searcher {
            view: VaultView::agent(ctx.tenant_id, agent.id),
            episodes: EpisodicScope::new(ctx.tenant_id, agent.id, ctx.user_id.as_str()),
            graph: GraphScope::new(ctx.tenant_id, agent.id, ctx.user_id.as_str()),
        };
        let request = UnifiedRequest {
            scope,
            types: doc_types,
            max_results: wanted,
            ..UnifiedRequest::new(query)
        };
        let hits = self
            .search
            .search(&searcher, &request, |d| self.seen.sees(ctx, &agent, d))
            .await
            .map_err(|e| format!("vault search failed: {e}"))?;
        if hits.is_empty() {
            return Ok(
                "No results found. Try memory_search for memory-specific queries or \
                       knowledge_graph_search for relationship traversal."
                    .to_owned(),
            );
        }
        let mut out = format!("Found {} results:\n\n", hits.len());
        for (i, hit) in hits.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", i + 1, result_line(hit)));
        }
        Ok(out)
    }
}

/// One result as GoClaw words it: `[source] title (path) — score — <id field>: id → follow-up`,
/// and its snippet on the next line.
fn result_line(hit: &UnifiedHit) -> String {
    let (title, path, snippet, field, follow_up) = match &hit.found {
        Found::Vault(d) => (
            d.title.as_str(),
            d.path.as_str(),
            d.summary.as_str(),
            "doc_id",
            "vault_read(doc_id)",
        ),
        Found::Episode(e) => (
            e.session_key.as_str(),
            "",
            e.l0_abstract.as_str(),
            "episodic_id",
            "memory_expand(id=episodic_id) — NOT vault_read",
        ),
        Found::Entity(e) => (
            e.name.as_str(),
            "",
            e.description.as_str(),
            "entity_id",
            "knowledge_graph_search(entity_id) — NOT vault_read",
        ),
    };
    let mut line = format!("[{}] {title}", hit.source());
    if !path.is_empty() {
        line.push_str(&format!(" ({path})"));
    }
    line.push_str(&format!(
        " — score: {:.2} — {field}: {} → {follow_up}",
        hit.score,
        hit.id()
    ));
    if !snippet.is_empty() {
        line.push_str(&format!("\n   {snippet}"));
    }
    line
}

struct VaultRead {
    seen: Arc<CallerView>,
}

#[async_trait]
impl Tool for VaultRead {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "vault_read".to_owned(),
            description: "Read the full content of a vault document by doc_id (from \
                          vault_search). Text only."
                .to_owned(),
            parameters: json!({"type": "object", "required": ["doc_id"], "properties": {
                "doc_id": {"type": "string",
                           "description": "Vault document UUID (from vault_search result)."},
                "max_bytes": {"type": "number",
                              "description": "Optional byte cap (default 500000, hard max 1048576)."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        match self.read(ctx, &arguments).await {
            Ok(text) => ToolOutput::ok(text),
            Err(error) => ToolOutput::error(error),
        }
    }
}

impl VaultRead {
    async fn read(&self, ctx: &ToolContext, arguments: &Value) -> Result<String, String> {
        let raw = text_arg(arguments, "doc_id").ok_or("doc_id parameter is required")?;
        let id = Uuid::parse_str(raw).map_err(|e| format!("invalid doc_id: {e}"))?;
        let agent = self.seen.agent(ctx).await?;
        let vault = self.seen.store.vault();
        let document = vault
            .get_document(ctx.tenant_id, id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("document not found")?;
        if !self.seen.sees(ctx, &agent, &document) {
            return Err("document not accessible in current scope".to_owned());
        }
        let extension = Path::new(&document.path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if document.doc_type == "media" || BINARY_EXTENSIONS.contains(&extension.as_str()) {
            return Err(format!(
                "vault_read does not support {} files: it reads text only",
                if extension.is_empty() {
                    "these"
                } else {
                    &extension
                }
            ));
        }
        let cap = arguments
            .get("max_bytes")
            .and_then(Value::as_f64)
            .filter(|n| *n >= 1.0)
            .map_or(DEFAULT_READ_BYTES, |n| (n as u64).min(MAX_READ_BYTES));
        let (content, truncated) = self.read_capped(ctx, &document, cap).await?;
        let sniff = &content[..content.len().min(SNIFF_BYTES)];
        if std::str::from_utf8(sniff).is_err_and(|e| e.error_len().is_some()) {
            return Err("file content is not valid UTF-8 text".to_owned());
        }
        let mut out = format!(
            "# {} ({})\n\n{}",
            document.title,
            document.path,
            String::from_utf8_lossy(&content)
        );
        if truncated {
            out.push_str(&format!("\n\n…[truncated, content exceeds {cap} bytes]"));
        }
        out.push_str(&self.links_footer(ctx, &agent, &document).await);
        Ok(out)
    }

    /// Up to `cap` bytes of the document's file, and whether there was more. The file must be
    /// a regular file (not a link) inside the tenant's workspace root.
    async fn read_capped(
        &self,
        ctx: &ToolContext,
        document: &VaultDocument,
        cap: u64,
    ) -> Result<(Vec<u8>, bool), String> {
        let vault = &self.seen.vault;
        let path = vault.absolute(ctx.tenant_id, &document.path);
        let root = vault.tenant_root(ctx.tenant_id);
        let real = tokio::fs::canonicalize(&path)
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        let real_root = tokio::fs::canonicalize(&root)
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        let is_file = tokio::fs::symlink_metadata(&path)
            .await
            .is_ok_and(|m| m.is_file());
        if real != path || !real.starts_with(&real_root) || !is_file {
            return Err("access denied: document path is not a file inside the workspace".into());
        }
        let file = tokio::fs::File::open(&real)
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        let mut content = Vec::new();
        file.take(cap + 1)
            .read_to_end(&mut content)
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        let truncated = content.len() as u64 > cap;
        content.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        Ok((content, truncated))
    }

    /// `## Links`: the documents this one links to that the caller sees, at most 20.
    async fn links_footer(
        &self,
        ctx: &ToolContext,
        agent: &Agent,
        document: &VaultDocument,
    ) -> String {
        let vault = self.seen.store.vault();
        let Ok(links) = vault.out_links(ctx.tenant_id, document.id).await else {
            return String::new();
        };
        let mut lines = Vec::new();
        for link in links
            .iter()
            .filter(|l| l.link_type == "wikilink" || l.link_type == "reference")
        {
            let Ok(Some(target)) = vault.get_document(ctx.tenant_id, link.to_doc_id).await else {
                continue;
            };
            if target.id == document.id || !self.seen.sees(ctx, agent, &target) {
                continue;
            }
            if lines.len() == MAX_LINKS {
                break;
            }
            lines.push(format!(
                "- {} — id: {} ({})",
                target.title, target.id, link.link_type
            ));
        }
        if lines.is_empty() {
            return String::new();
        }
        format!("\n\n## Links\n{}\n", lines.join("\n"))
    }
}

/// The tools whose successful calls write files.
pub const WRITING_TOOLS: [&str; 2] = ["write_file", "edit"];

/// `tool` (one of [`WRITING_TOOLS`]), registering the files it writes in the vault.
pub struct VaultFileTool {
    inner: Arc<dyn Tool>,
    vault: Vault,
}

impl VaultFileTool {
    /// Wraps `inner` when it is a tool that writes files; `None` otherwise.
    pub fn wrap(inner: Arc<dyn Tool>, vault: Vault) -> Option<Self> {
        WRITING_TOOLS
            .contains(&inner.definition().name.as_str())
            .then_some(Self { inner, vault })
    }

    async fn register(&self, ctx: &ToolContext, requested: &str) -> Result<(), String> {
        let guard = WorkspaceGuard::new(ctx).map_err(|e| e.to_string())?;
        let path = guard
            .resolve(requested, Access::Read)
            .map_err(|e| e.to_string())?;
        // Files outside the workspace base (an agent's own workspace elsewhere) are not kept.
        let Some((tenant, relative)) = self.vault.locate(&path) else {
            return Ok(());
        };
        if tenant != ctx.tenant_id {
            return Ok(());
        }
        self.vault
            .register(tenant, &relative)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[async_trait]
impl Tool for VaultFileTool {
    fn definition(&self) -> ToolDefinition {
        self.inner.definition()
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let requested = text_arg(&arguments, "path").map(str::to_owned);
        let output = self.inner.call(ctx, arguments).await;
        if output.is_error {
            return output;
        }
        if let Some(requested) = requested
            && let Err(error) = self.register(ctx, &requested).await
        {
            tracing::warn!(path = %requested, %error, "file written but not registered in the vault");
        }
        output
    }
}
