//! Tools for files that leave or enter the conversation, and for pausing:
//! - `send_file {path, caption?, attachments?[{path, caption?}]}` sends workspace files with
//!   the run's answer (they join it as `MEDIA:` lines, so channels attach them and clients get
//!   signed links);
//! - `read_document {path, max_pages?}` gives the text of a PDF (extracted locally, at most
//!   `tools.document_parser.max_pages` pages within `timeout_sec`) or of a text file;
//! - `wait {timeMs, reason?}` pauses the run up to five minutes (an abort ends it at once).
//!
//! Every path goes through the workspace guard, as the file tools' do.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_config::DocumentParserConfig;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::workspace::{Access, WorkspaceGuard};

/// Longest `wait`, in milliseconds (GoClaw's bound).
pub const MAX_WAIT_MS: u64 = 300_000;
/// Largest file `send_file` sends.
pub const MAX_SEND_BYTES: u64 = 50 * 1024 * 1024;
/// Most files one `send_file` call sends.
const MAX_SEND_FILES: usize = 10;
/// Largest document `read_document` opens.
const MAX_DOCUMENT_BYTES: u64 = 50 * 1024 * 1024;
/// Most characters of document text returned.
const MAX_DOCUMENT_CHARS: usize = 100_000;

/// The tools of this module.
pub fn media_tools(parser: &DocumentParserConfig) -> Vec<std::sync::Arc<dyn Tool>> {
    vec![
        std::sync::Arc::new(SendFileTool),
        std::sync::Arc::new(ReadDocumentTool {
            parser: parser.clone(),
        }),
        std::sync::Arc::new(WaitTool),
    ]
}

fn parse<T: for<'de> Deserialize<'de>>(arguments: Value) -> Result<T, ToolOutput> {
    serde_json::from_value(arguments)
        .map_err(|error| ToolOutput::error(format!("invalid arguments: {error}")))
}

/// Resolves `path` for reading on the blocking pool; a regular file of at most `limit` bytes.
async fn readable(ctx: &ToolContext, path: String, limit: u64) -> Result<PathBuf, String> {
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || {
        let guard = WorkspaceGuard::new(&ctx).map_err(|e| e.to_string())?;
        let real = guard
            .resolve(&path, Access::Read)
            .map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&real).map_err(|_| format!("{path}: no such file"))?;
        if !meta.is_file() {
            return Err(format!("{path} is not a file"));
        }
        if meta.len() > limit {
            return Err(format!(
                "{path} is too large ({} bytes, at most {limit})",
                meta.len()
            ));
        }
        Ok(real)
    })
    .await
    .map_err(|e| format!("tool failed: {e}"))?
}

/// Sends workspace files with the answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendFileTool;

#[derive(Deserialize)]
struct SendArgs {
    path: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct Attachment {
    path: String,
    #[serde(default)]
    caption: Option<String>,
}

#[async_trait]
impl Tool for SendFileTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "send_file".to_owned(),
            description: "Send files of your workspace to the user with your answer (images \
                          show as pictures, other files as attachments)."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File to send (relative to the workspace)"},
                    "caption": {"type": "string", "description": "Text to go with it"},
                    "attachments": {
                        "type": "array",
                        "description": "More files to send",
                        "items": {
                            "type": "object",
                            "properties": {
                                "path": {"type": "string"},
                                "caption": {"type": "string"}
                            },
                            "required": ["path"]
                        }
                    }
                }
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: SendArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        let files: Vec<(String, Option<String>)> = args
            .path
            .map(|path| (path, args.caption))
            .into_iter()
            .chain(args.attachments.into_iter().map(|a| (a.path, a.caption)))
            .filter(|(path, _)| !path.trim().is_empty())
            .collect();
        if files.is_empty() {
            return ToolOutput::error("path is required");
        }
        if files.len() > MAX_SEND_FILES {
            return ToolOutput::error(format!("at most {MAX_SEND_FILES} files per call"));
        }
        let mut media = Vec::with_capacity(files.len());
        let mut lines = Vec::with_capacity(files.len());
        for (path, caption) in files {
            let real = match readable(ctx, path.clone(), MAX_SEND_BYTES).await {
                Ok(real) => real,
                Err(error) => return ToolOutput::error(error),
            };
            media.push(real.to_string_lossy().into_owned());
            match caption.filter(|c| !c.trim().is_empty()) {
                Some(caption) => {
                    lines.push(format!("- {path} (caption for your answer: {caption})"))
                }
                None => lines.push(format!("- {path}")),
            }
        }
        let content = format!(
            "{} file(s) will be sent with your answer:\n{}",
            media.len(),
            lines.join("\n")
        );
        ToolOutput::with_media(content, media)
    }
}

/// Reads the text of a PDF or text document.
#[derive(Debug, Clone)]
pub struct ReadDocumentTool {
    parser: DocumentParserConfig,
}

#[derive(Deserialize)]
struct DocumentArgs {
    path: String,
    #[serde(default)]
    max_pages: Option<u32>,
}

#[async_trait]
impl Tool for ReadDocumentTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "read_document".to_owned(),
            description: "Read the text of a document in your workspace: a PDF (text is \
                          extracted page by page) or a text file."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The document (relative to the workspace)"},
                    "max_pages": {"type": "integer", "minimum": 1, "description": "Pages to read at most"}
                },
                "required": ["path"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: DocumentArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        let real = match readable(ctx, args.path.clone(), MAX_DOCUMENT_BYTES).await {
            Ok(real) => real,
            Err(error) => return ToolOutput::error(error),
        };
        let limit = self.parser.max_pages.max(1);
        let pages = args.max_pages.map_or(limit, |p| p.clamp(1, limit)) as usize;
        let work = tokio::task::spawn_blocking(move || document_text(&real, pages));
        let timeout = Duration::from_secs(self.parser.timeout_sec.max(1));
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok(Ok(text))) => ToolOutput::ok(clip(text)),
            Ok(Ok(Err(error))) => ToolOutput::error(error),
            // A parser that panicked on a malformed file.
            Ok(Err(_)) => ToolOutput::error(format!("{}: not a readable document", args.path)),
            Err(_) => ToolOutput::error(format!(
                "{}: text extraction took longer than {} s",
                args.path,
                timeout.as_secs()
            )),
        }
    }
}

/// The text of the document at `path`: a PDF's first `pages` pages, or a text file whole.
fn document_text(path: &std::path::Path, pages: usize) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the document: {e}"))?;
    if bytes.starts_with(b"%PDF") {
        let all = pdf_extract::extract_text_from_mem_by_pages(&bytes)
            .map_err(|e| format!("cannot extract the PDF's text: {e}"))?;
        let total = all.len();
        let mut text = String::new();
        for (number, page) in all.into_iter().take(pages).enumerate() {
            text.push_str(&format!("--- page {} ---\n{}\n", number + 1, page.trim()));
        }
        if total > pages {
            text.push_str(&format!("[{} more pages not read]\n", total - pages));
        }
        if text.trim().is_empty() {
            return Err("the PDF has no extractable text (a scan?)".to_owned());
        }
        return Ok(text);
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err("not a PDF or text document".to_owned());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn clip(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_DOCUMENT_CHARS) {
        text.truncate(cut);
        text.push_str("\n[document text truncated]");
    }
    text
}

/// Pauses the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitTool;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WaitArgs {
    time_ms: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
}

#[async_trait]
impl Tool for WaitTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "wait".to_owned(),
            description: "Pause for a while before going on (at most 300000 ms), e.g. to let \
                          a background job finish."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "timeMs": {"type": "integer", "minimum": 1, "maximum": MAX_WAIT_MS, "description": "How long to wait, in milliseconds"},
                    "reason": {"type": "string", "description": "Why"}
                },
                "required": ["timeMs"]
            }),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: WaitArgs = match parse(arguments) {
            Ok(args) => args,
            Err(output) => return output,
        };
        let Some(ms) = args.time_ms.filter(|ms| (1..=MAX_WAIT_MS).contains(ms)) else {
            return ToolOutput::error(format!("timeMs must be between 1 and {MAX_WAIT_MS}"));
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
        match args.reason.filter(|r| !r.trim().is_empty()) {
            Some(reason) => ToolOutput::ok(format!("Waited {ms} ms ({reason}).")),
            None => ToolOutput::ok(format!("Waited {ms} ms.")),
        }
    }
}

#[cfg(test)]
mod tests;
