//! The `exec` tool (GoClaw aliases `bash`, `Bash`): screens a command line (NUL, normalization,
//! parsing, deny groups), applies the approval policy — possibly waiting for an operator through
//! the [`ApprovalBroker`] — and runs it on the host inside the agent's workspace, or, for
//! sandboxed agents, inside their sandbox (see [`crate::sandbox`]).

pub mod approval;
pub mod deny;
mod deny_env;
mod deny_shell;
mod expand;
pub mod guard;
pub mod parse;
pub mod paths;
pub mod policy;
mod resolve;
pub mod run;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{AgentKey, SandboxExec, Store, Tool, ToolContext, ToolDefinition, ToolOutput};

use crate::sandbox::{Route, SandboxRouter, sandbox_path};
use serde_json::{Value, json};

pub use approval::{ApprovalBroker, ApprovalDecision, ApprovalEvent, ApprovalRequest};
pub use deny::DenyGroups;
pub use guard::{Refusal, Screened, screen};
pub use policy::{Decision, ExecAsk, ExecPolicy, ExecSecurity};

/// The other names GoClaw registers the exec tool under.
pub const EXEC_TOOL_ALIASES: &[&str] = &["bash", "Bash"];

/// How the exec tool behaves.
#[derive(Debug, Clone)]
pub struct ExecSettings {
    /// Timeout when the call names none.
    pub default_timeout: Duration,
    /// The most a call may ask for.
    pub max_timeout: Duration,
    /// Bytes of combined stdout and stderr kept.
    pub max_output: usize,
    pub policy: ExecPolicy,
    /// `tools.shellDenyGroups`.
    pub deny_groups: BTreeMap<String, bool>,
}

impl Default for ExecSettings {
    fn default() -> Self {
        Self {
            default_timeout: Duration::from_secs(60),
            max_timeout: Duration::from_secs(3600),
            max_output: 100_000,
            policy: ExecPolicy::default(),
            deny_groups: BTreeMap::new(),
        }
    }
}

/// Runs shell commands for agents.
#[derive(Clone)]
pub struct ExecTool {
    name: String,
    settings: Arc<ExecSettings>,
    store: Option<Arc<dyn Store>>,
    broker: Option<ApprovalBroker>,
    sandbox: Option<Arc<SandboxRouter>>,
}

impl std::fmt::Debug for ExecTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecTool")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ExecTool {
    /// An `exec` tool; `store` supplies per-agent deny-group overrides, `broker` approvals.
    pub fn new(
        settings: ExecSettings,
        store: Option<Arc<dyn Store>>,
        broker: Option<ApprovalBroker>,
    ) -> Self {
        Self {
            name: "exec".to_owned(),
            settings: Arc::new(settings),
            store,
            broker,
            sandbox: None,
        }
    }

    /// The same tool, running commands of sandboxed agents in their sandbox.
    pub fn with_sandbox(self, router: Arc<SandboxRouter>) -> Self {
        Self {
            sandbox: Some(router),
            ..self
        }
    }

    /// The same tool under another name (e.g. one of [`EXEC_TOOL_ALIASES`]).
    pub fn named(self, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..self
        }
    }

    async fn agent_groups(&self, ctx: &ToolContext) -> BTreeMap<String, bool> {
        let (Some(store), Ok(key)) = (&self.store, AgentKey::parse(&ctx.agent_key)) else {
            return BTreeMap::new();
        };
        let Ok(agent) = store.agents().get_by_key(ctx.tenant_id, &key).await else {
            return BTreeMap::new();
        };
        agent
            .other_config
            .get("shell_deny_groups")
            .and_then(Value::as_object)
            .map(|groups| {
                groups
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_bool()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn approve(&self, ctx: &ToolContext, screened: &Screened) -> Result<(), String> {
        let binaries = screened.binaries();
        let mut remembered = Vec::new();
        if let Some(broker) = &self.broker {
            for binary in &binaries {
                if broker
                    .is_allowed(ctx.tenant_id, &ctx.agent_key, binary)
                    .await
                {
                    remembered.push(binary.clone());
                }
            }
        }
        let allowed = |b: &str| remembered.iter().any(|r| r == b);
        match self
            .settings
            .policy
            .decide(&screened.command, &binaries, &allowed)
        {
            Decision::Run => Ok(()),
            Decision::Deny(reason) => Err(reason),
            Decision::Ask => {
                let Some(broker) = &self.broker else {
                    return Err("command needs approval, and no operator can approve it".into());
                };
                let request = ApprovalRequest {
                    id: format!("exec-{}", uuid::Uuid::now_v7()),
                    tenant_id: ctx.tenant_id,
                    agent_key: ctx.agent_key.clone(),
                    session_key: ctx.session_key.to_string(),
                    run_id: ctx.run_id.clone(),
                    user_id: ctx.user_id.clone(),
                    command: screened.command.clone(),
                    binaries,
                    created_at_ms: chrono::Utc::now().timestamp_millis(),
                };
                match broker.request(request).await {
                    d if d.allows() => Ok(()),
                    _ => Err("command denied by the operator (or not approved in time)".into()),
                }
            }
        }
    }
}

#[async_trait]
impl Tool for ExecTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: self.name.clone(),
            description: "Run a shell command in the workspace and return its output \
                          (stdout and stderr combined). Dangerous commands are refused."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "Shell command line"},
                    "working_dir": {"type": "string", "description": "Directory inside the workspace (default: the workspace)"},
                    "timeout": {"type": "integer", "description": "Seconds before the command is killed (default 60)"}
                },
                "required": ["command"],
                "additionalProperties": false
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(command) = arguments.get("command").and_then(Value::as_str) else {
            return ToolOutput::error("command is required and must be a string");
        };
        let global = &self.settings.deny_groups;
        let groups = DenyGroups::resolve(global, &self.agent_groups(ctx).await);
        let screened = match screen(command, &groups) {
            Ok(screened) => screened,
            Err(refusal) => {
                tracing::warn!(
                    agent = %ctx.agent_key,
                    session_key = %ctx.session_key,
                    group = refusal.group().unwrap_or("parse"),
                    "security.exec_denied"
                );
                return ToolOutput::error(refusal.to_string());
            }
        };
        if let Err(reason) = self.approve(ctx, &screened).await {
            tracing::warn!(agent = %ctx.agent_key, session_key = %ctx.session_key, %reason, "security.exec_denied");
            return ToolOutput::error(reason);
        }
        let dir = arguments
            .get("working_dir")
            .or_else(|| arguments.get("cwd"))
            .and_then(Value::as_str);
        let cwd = match working_dir(ctx, dir) {
            Ok(cwd) => cwd,
            Err(message) => return ToolOutput::error(message),
        };
        let route = match &self.sandbox {
            Some(router) => router.route(ctx).await,
            None => Route::Host,
        };
        let default_timeout = match (&route, &self.sandbox) {
            (Route::Sandbox { .. }, Some(router)) => router.default_timeout(),
            _ => self.settings.default_timeout,
        };
        let timeout = arguments
            .get("timeout")
            .and_then(Value::as_u64)
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
            .unwrap_or(default_timeout)
            .min(self.settings.max_timeout);
        let outcome = match route {
            Route::Refused(reason) => return ToolOutput::error(reason),
            Route::Host => run::run(
                &screened.command,
                &cwd,
                &ctx.workspace,
                timeout,
                self.settings.max_output,
            )
            .await
            .map_err(|error| format!("cannot start the command: {error}")),
            Route::Sandbox { sandbox, key } => {
                in_sandbox(sandbox.as_ref(), key, ctx, &cwd, &screened.command, timeout).await
            }
        };
        match outcome {
            Ok(outcome) if outcome.timed_out => ToolOutput::error(format!(
                "command timed out after {} s and was killed\n{}",
                timeout.as_secs(),
                outcome.output
            )),
            Ok(outcome) => match outcome.code {
                Some(0) => ToolOutput::ok(outcome.output),
                code => ToolOutput::error(format!(
                    "{}\n[exit code {}]",
                    outcome.output,
                    code.map_or("signal".to_owned(), |c| c.to_string())
                )),
            },
            Err(message) => ToolOutput::error(message),
        }
    }
}

/// Runs a screened command line in the sandbox, in the sandbox path of `cwd`.
async fn in_sandbox(
    sandbox: &dyn goclaw_core::Sandbox,
    key: String,
    ctx: &ToolContext,
    cwd: &std::path::Path,
    command: &str,
    timeout: Duration,
) -> Result<run::Outcome, String> {
    let workspace = ctx
        .workspace
        .canonicalize()
        .map_err(|e| format!("cannot resolve the workspace: {e}"))?;
    let mut request = SandboxExec::shell(key, ctx.workspace.clone(), command);
    request.workdir = Some(sandbox_path(&workspace, cwd)?);
    request.timeout = timeout;
    let output = sandbox
        .exec(request)
        .await
        .map_err(|error| error.to_string())?;
    let mut text = output.combined();
    if output.truncated {
        text.push_str("\n[output truncated]");
    }
    Ok(run::Outcome {
        output: text,
        code: output.exit_code,
        timed_out: output.timed_out,
        truncated: output.truncated,
    })
}

/// The directory to run in: the workspace, or `dir` inside it when restricted.
fn working_dir(ctx: &ToolContext, dir: Option<&str>) -> Result<PathBuf, String> {
    let workspace = &ctx.workspace;
    std::fs::create_dir_all(workspace).map_err(|e| format!("cannot create the workspace: {e}"))?;
    let Some(dir) = dir.filter(|d| !d.trim().is_empty()) else {
        return Ok(workspace.clone());
    };
    let joined = workspace.join(dir);
    let resolved = joined
        .canonicalize()
        .map_err(|_| format!("working_dir {dir} does not exist"))?;
    if !ctx.restrict_to_workspace {
        return Ok(resolved);
    }
    let root = workspace
        .canonicalize()
        .map_err(|e| format!("cannot resolve the workspace: {e}"))?;
    let inside = resolved.starts_with(&root)
        || ctx
            .allowed_paths
            .iter()
            .filter_map(|p| p.canonicalize().ok())
            .any(|p| resolved.starts_with(p));
    if inside {
        return Ok(resolved);
    }
    Err("access denied: working_dir outside workspace".to_owned())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
