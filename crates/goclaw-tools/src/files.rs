//! The file tools: `read_file`, `write_file`, `edit` and `list_files`, every path checked by the
//! [`WorkspaceGuard`]. File system work runs on the blocking pool.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::workspace::{Access, DENIED_DIRS, WorkspaceGuard};

/// Most characters `read_file` returns.
pub const READ_MAX_CHARS: usize = 50_000;
/// How much of a file is searched for a NUL byte to call it binary.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;
/// Largest file `read_file` and `edit` load.
const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// Claude-Code-style and legacy names the file tools also answer to, as GoClaw registers them.
pub const FILE_TOOL_ALIASES: &[(&str, &str)] = &[
    ("Read", "read_file"),
    ("Write", "write_file"),
    ("Edit", "edit"),
    ("edit_file", "edit"),
];

/// Runs `work` on the blocking pool with the call's guard.
async fn guarded<F>(ctx: &ToolContext, work: F) -> ToolOutput
where
    F: FnOnce(&WorkspaceGuard) -> Result<String, String> + Send + 'static,
{
    let ctx = ctx.clone();
    let result = tokio::task::spawn_blocking(move || {
        let guard = WorkspaceGuard::new(&ctx).map_err(|e| e.to_string())?;
        work(&guard)
    })
    .await;
    match result {
        Ok(Ok(content)) => ToolOutput::ok(content),
        Ok(Err(message)) => ToolOutput::error(message),
        Err(error) => ToolOutput::error(format!("tool failed: {error}")),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(arguments: Value) -> Result<T, ToolOutput> {
    serde_json::from_value(arguments)
        .map_err(|error| ToolOutput::error(format!("invalid arguments: {error}")))
}

fn definition(name: &str, description: &str, parameters: Value) -> ToolDefinition {
    ToolDefinition {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    }
}

/// Reads a text file of the workspace.
pub struct ReadFileTool;

#[derive(Deserialize)]
pub(crate) struct ReadArgs {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) offset: Option<u64>,
    #[serde(default)]
    pub(crate) limit: Option<u64>,
}

#[async_trait]
impl Tool for ReadFileTool {
    fn definition(&self) -> ToolDefinition {
        definition(
            "read_file",
            "Read a text file from the workspace. Use offset (0-based line) and limit (lines) to \
             read part of a large file.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path, relative to the workspace"},
                    "offset": {"type": "integer", "minimum": 0, "description": "First line to read (0-based)"},
                    "limit": {"type": "integer", "minimum": 1, "description": "Number of lines to read"}
                },
                "required": ["path"]
            }),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: ReadArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        guarded(ctx, move |guard| {
            let path = guard
                .resolve(&args.path, Access::Read)
                .map_err(|e| e.to_string())?;
            read_text(&path, &args)
        })
        .await
    }
}

fn read_text(path: &Path, args: &ReadArgs) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{} is a directory; use list_files", path.display()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("file too large ({} bytes)", meta.len()));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text_of(&bytes, &path.display().to_string(), args)
}

/// The text `read_file` returns for a file's bytes: refused when binary, the lines asked for,
/// capped at [`READ_MAX_CHARS`].
pub(crate) fn text_of(bytes: &[u8], shown: &str, args: &ReadArgs) -> Result<String, String> {
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return Err(format!(
            "{shown} looks like a binary file; read_file only reads text"
        ));
    }
    let text = String::from_utf8_lossy(bytes);
    let offset = usize::try_from(args.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let selected = if args.offset.is_some() || args.limit.is_some() {
        let limit = args
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(usize::MAX);
        let lines: Vec<&str> = text
            .split_inclusive('\n')
            .skip(offset)
            .take(limit)
            .collect();
        lines.concat()
    } else {
        text.into_owned()
    };
    Ok(cap_chars(selected, READ_MAX_CHARS))
}

/// `text` cut to `max` characters, with a note saying so.
fn cap_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => format!(
            "{}\n\n[output truncated at {max} characters; use offset and limit to read the rest]",
            &text[..cut]
        ),
    }
}

/// Writes (or appends to) a file of the workspace.
pub struct WriteFileTool;

#[derive(Deserialize)]
pub(crate) struct WriteArgs {
    pub(crate) path: String,
    pub(crate) content: String,
    #[serde(default)]
    pub(crate) append: bool,
}

#[async_trait]
impl Tool for WriteFileTool {
    fn definition(&self) -> ToolDefinition {
        definition(
            "write_file",
            "Write a file in the workspace, creating parent directories. Set append to add to \
             the end instead of replacing the file.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path, relative to the workspace"},
                    "content": {"type": "string", "description": "Text to write"},
                    "append": {"type": "boolean", "description": "Append instead of overwrite"}
                },
                "required": ["path", "content"]
            }),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: WriteArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        guarded(ctx, move |guard| {
            let path = guard
                .resolve(&args.path, Access::Write)
                .map_err(|e| e.to_string())?;
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let mut file = fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(args.append)
                .truncate(!args.append)
                .open(&path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            file.write_all(args.content.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let verb = if args.append { "Appended" } else { "Wrote" };
            Ok(format!(
                "{verb} {} bytes to {}",
                args.content.len(),
                args.path
            ))
        })
        .await
    }
}

/// Replaces an exact string in a file of the workspace.
pub struct EditTool;

#[derive(Deserialize)]
pub(crate) struct EditArgs {
    pub(crate) path: String,
    pub(crate) old_string: String,
    pub(crate) new_string: String,
    #[serde(default)]
    pub(crate) replace_all: bool,
}

#[async_trait]
impl Tool for EditTool {
    fn definition(&self) -> ToolDefinition {
        definition(
            "edit",
            "Replace an exact string in a workspace file. old_string must occur exactly once \
             unless replace_all is true.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path, relative to the workspace"},
                    "old_string": {"type": "string", "description": "Exact text to replace"},
                    "new_string": {"type": "string", "description": "Replacement text"},
                    "replace_all": {"type": "boolean", "description": "Replace every occurrence"}
                },
                "required": ["path", "old_string", "new_string"]
            }),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: EditArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        guarded(ctx, move |guard| {
            let path = guard
                .resolve(&args.path, Access::Write)
                .map_err(|e| e.to_string())?;
            let meta =
                fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", args.path))?;
            if meta.len() > MAX_FILE_BYTES {
                return Err(format!("file too large ({} bytes)", meta.len()));
            }
            let text =
                fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", args.path))?;
            let (updated, count) = replace_in(&text, &args)?;
            fs::write(&path, updated).map_err(|e| format!("cannot write {}: {e}", args.path))?;
            Ok(format!("Replaced {count} occurrence(s) in {}", args.path))
        })
        .await
    }
}

/// `text` with `old_string` replaced as `edit` asks, and how many times it occurred.
pub(crate) fn replace_in(text: &str, args: &EditArgs) -> Result<(String, usize), String> {
    if args.old_string.is_empty() {
        return Err("old_string must not be empty".into());
    }
    let count = text.matches(&args.old_string).count();
    if count == 0 {
        return Err(format!("old_string not found in {}", args.path));
    }
    if count > 1 && !args.replace_all {
        return Err(format!(
            "old_string occurs {count} times in {}; make it unique or set replace_all",
            args.path
        ));
    }
    Ok((text.replace(&args.old_string, &args.new_string), count))
}

/// Lists one directory level of the workspace.
pub struct ListFilesTool;

#[derive(Deserialize)]
pub(crate) struct ListArgs {
    #[serde(default)]
    pub(crate) path: Option<String>,
}

#[async_trait]
impl Tool for ListFilesTool {
    fn definition(&self) -> ToolDefinition {
        definition(
            "list_files",
            "List the entries of a workspace directory (one level; directories end with /).",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Directory, relative to the workspace (default .)"}
                }
            }),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: ListArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        guarded(ctx, move |guard| {
            let requested = args.path.unwrap_or_else(|| ".".into());
            let path = guard
                .resolve(&requested, Access::Read)
                .map_err(|e| e.to_string())?;
            let hide_denied = path == guard.workspace();
            let entries =
                fs::read_dir(&path).map_err(|e| format!("cannot list {requested}: {e}"))?;
            let mut names = Vec::new();
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if hide_denied && DENIED_DIRS.contains(&name.as_str()) {
                    continue;
                }
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                names.push(if is_dir { format!("{name}/") } else { name });
            }
            names.sort();
            if names.is_empty() {
                return Ok(format!("{requested} is empty"));
            }
            Ok(names.join("\n"))
        })
        .await
    }
}
