//! The `spawn` tool: an agent hands a task to a subagent — a run of the same agent in a
//! session of its own — and either goes on at once (`mode: "async"`, the default; the result
//! is announced back to its session when the subagent ends) or waits for the result
//! (`mode: "sync"`). The other actions manage the subagents the current session spawned:
//! `list`, `cancel` (`all`, `last` or a task id), `steer` (cancel one and start it again with a
//! new message) and `wait` (for one or all of them, at most [`MAX_WAIT_SECS`]).
//!
//! The tool only parses arguments and formats answers; the runtime side (limits, sessions,
//! lanes, persistence, announcements) sits behind [`SubagentSpawner`], which the agent runtime
//! implements.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde::Serialize;
use serde_json::{Value, json};

/// Longest `wait`, and its default, in seconds.
pub const MAX_WAIT_SECS: u64 = 300;
/// Longest label, in characters; a label taken from the task is cut to this.
pub const MAX_LABEL_CHARS: usize = 50;

/// A subagent task as the tool reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubagentInfo {
    pub id: String,
    pub label: String,
    /// `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// 1 for a subagent of a top-level run.
    pub depth: i32,
    pub session_key: String,
    /// The answer (completed), the error (failed) or the partial answer (cancelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl SubagentInfo {
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// What to spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnRequest {
    pub task: String,
    /// A short name; the start of the task when `None`.
    pub label: Option<String>,
    /// Whether the result is announced to the spawning session when the subagent ends
    /// (async mode); a sync caller takes it itself.
    pub announce: bool,
}

/// Which of the session's subagents an action is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskSelector {
    /// Every subagent of the session still running.
    All,
    /// The most recently spawned one.
    Last,
    /// The one with this task id.
    Id(String),
}

impl TaskSelector {
    /// `all`, `last`, or a task id.
    pub fn parse(raw: &str) -> Self {
        match raw.trim() {
            "all" | "*" => TaskSelector::All,
            "last" => TaskSelector::Last,
            id => TaskSelector::Id(id.to_owned()),
        }
    }
}

/// Spawns and manages subagents on behalf of the run in `ctx`; errors are shown to the model
/// as they are (the limits answer with GoClaw's texts, e.g. `max concurrent subagents reached
/// (20/20)`).
#[async_trait]
pub trait SubagentSpawner: Send + Sync {
    /// Starts a subagent; returns once it is recorded and its first message is queued.
    async fn spawn(&self, ctx: &ToolContext, request: SpawnRequest)
    -> Result<SubagentInfo, String>;

    /// The subagents the current session spawned, oldest first.
    async fn list(&self, ctx: &ToolContext) -> Result<Vec<SubagentInfo>, String>;

    /// Cancels the selected running subagents; returns them as they ended.
    async fn cancel(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
    ) -> Result<Vec<SubagentInfo>, String>;

    /// Cancels the selected subagent and starts it again in its session with `message`.
    async fn steer(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
        message: &str,
    ) -> Result<SubagentInfo, String>;

    /// Waits until the selected subagents have ended, or `timeout` (none: no limit) passes;
    /// returns them as they are then. Results handed over here are not announced again.
    async fn wait(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
        timeout: Option<Duration>,
    ) -> Result<Vec<SubagentInfo>, String>;
}

/// The `spawn` tool over `spawner`.
pub fn spawn_tool(spawner: Arc<dyn SubagentSpawner>) -> Arc<dyn Tool> {
    Arc::new(SpawnTool(spawner))
}

/// The label a task gets when none is given: its first line, at most [`MAX_LABEL_CHARS`].
pub fn label_for(task: &str, label: Option<&str>) -> String {
    let chosen = label
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| task.lines().next().unwrap_or_default().trim());
    chosen.chars().take(MAX_LABEL_CHARS).collect()
}

struct SpawnTool(Arc<dyn SubagentSpawner>);

#[async_trait]
impl Tool for SpawnTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "spawn".to_owned(),
            description: "Hand a task to a subagent (a copy of you working in its own session). \
                 mode=async (default) returns at once and the result is announced to you when \
                 it is done; mode=sync waits for the result. Other actions: list, cancel \
                 (id: all|last|<task id>), steer (cancel and restart one with a new message), \
                 wait (for one or all, up to 300 s)."
                .to_owned(),
            parameters: json!({"type": "object", "properties": {
                "action": {"type": "string", "enum": ["spawn", "list", "cancel", "steer", "wait"],
                           "description": "What to do; spawn by default."},
                "task": {"type": "string", "description": "The task for the subagent (spawn)."},
                "label": {"type": "string", "description": "A short name for the task."},
                "mode": {"type": "string", "enum": ["async", "sync"],
                         "description": "async (default): return at once; sync: wait for the result."},
                "id": {"type": "string",
                       "description": "Which subagent: all, last or a task id (cancel, steer, wait)."},
                "message": {"type": "string", "description": "The new instructions (steer)."},
                "timeout": {"type": "integer", "minimum": 1, "maximum": MAX_WAIT_SECS,
                            "description": "Seconds to wait at most (wait); 300 by default."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let text = |name: &str| {
            arguments
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let selector = |default: TaskSelector| text("id").map_or(default, TaskSelector::parse);
        let action = text("action").unwrap_or("spawn");
        let result = match action {
            "spawn" => self.spawn(ctx, &arguments).await,
            "list" => self.0.list(ctx).await.map(|tasks| listing(&tasks)),
            "cancel" => match text("id") {
                Some(raw) => self
                    .0
                    .cancel(ctx, TaskSelector::parse(raw))
                    .await
                    .map(|tasks| listing(&tasks)),
                None => Err("give `id`: all, last or a task id".to_owned()),
            },
            "steer" => match text("message") {
                Some(message) => self
                    .0
                    .steer(ctx, selector(TaskSelector::Last), message)
                    .await
                    .map(|task| spawned(&task, message)),
                None => Err("missing required argument `message`".to_owned()),
            },
            "wait" => {
                let secs = arguments
                    .get("timeout")
                    .and_then(Value::as_u64)
                    .unwrap_or(MAX_WAIT_SECS)
                    .clamp(1, MAX_WAIT_SECS);
                self.0
                    .wait(
                        ctx,
                        selector(TaskSelector::All),
                        Some(Duration::from_secs(secs)),
                    )
                    .await
                    .map(|tasks| listing(&tasks))
            }
            other => Err(format!(
                "unknown action {other:?}: use spawn, list, cancel, steer or wait"
            )),
        };
        match result {
            Ok(text) => ToolOutput::ok(text),
            Err(error) => ToolOutput::error(error),
        }
    }
}

impl SpawnTool {
    async fn spawn(&self, ctx: &ToolContext, arguments: &Value) -> Result<String, String> {
        let task = arguments
            .get("task")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("task parameter is required")?;
        let sync = match arguments.get("mode").and_then(Value::as_str) {
            None | Some("async") => false,
            Some("sync") => true,
            Some(other) => return Err(format!("unknown mode {other:?}: use async or sync")),
        };
        let request = SpawnRequest {
            task: task.to_owned(),
            label: arguments
                .get("label")
                .and_then(Value::as_str)
                .map(str::to_owned),
            announce: !sync,
        };
        let started = self.0.spawn(ctx, request).await?;
        if !sync {
            return Ok(spawned(&started, task));
        }
        let ended = self
            .0
            .wait(ctx, TaskSelector::Id(started.id.clone()), None)
            .await?;
        let Some(ended) = ended.into_iter().next() else {
            return Err(format!("subagent {} is gone", started.id));
        };
        let result = ended.result.unwrap_or_default();
        match ended.status.as_str() {
            "completed" => Ok(result),
            "cancelled" => Err(format!("subagent cancelled: {result}")),
            _ => Err(format!("subagent failed: {result}")),
        }
    }
}

/// What an async spawn answers: GoClaw's wording, so prompts written for it still fit.
fn spawned(task: &SubagentInfo, text: &str) -> String {
    let short: String = text.chars().take(100).collect();
    format!(
        "Spawned subagent '{}' (id={}, depth={}) for task: {short}",
        task.label, task.id, task.depth
    )
}

fn listing(tasks: &[SubagentInfo]) -> String {
    let running = tasks.iter().filter(|t| t.is_running()).count();
    serde_json::to_string_pretty(&json!({
        "subagents": tasks,
        "running": running,
        "total": tasks.len(),
    }))
    .unwrap_or_default()
}

#[cfg(test)]
#[path = "subagents_tests.rs"]
mod tests;
