//! Routing sandboxed tools: which agents are sandboxed (`sandbox.mode`), which sandbox a call
//! belongs to (`sandbox.scope`), and the file tools run through the sandbox.
//!
//! `exec` and the file tools (`read_file`, `write_file`, `edit`, `list_files`) are the
//! sandboxed tools, and stdio MCP servers follow the same routes ([`SandboxRouter::agent_route`],
//! by the agent alone). For a sandboxed agent they run inside the sandbox; when no backend can
//! run, they are refused with the reason — never run on the host instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_config::{SandboxConfig, SandboxMode, SandboxScope};
use goclaw_core::{
    SANDBOX_WORKDIR, Sandbox, SandboxExec, SandboxOutput, Tool, ToolContext, ToolDefinition,
    ToolOutput, Trust,
};
use serde_json::Value;
use tokio::sync::watch;

use crate::files::{self, ListArgs, ReadArgs, WriteArgs};
use crate::workspace::{Access, DENIED_DIRS, WorkspaceGuard};

/// Agents `non-main` leaves on the host.
pub const MAIN_AGENT_KEYS: &[&str] = &["main", "default"];

/// Why a user's call is refused when no sandbox can run it.
pub const USERS_NEED_A_SANDBOX: &str = "exec and file tools run on the host only for the owner \
    and admins; other users' calls need a sandbox and none is available (an operator may allow \
    the host with tools.host_exec_for_users, see docs/security.md)";

/// Time a file operation in the sandbox may take.
const FILE_OP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where one tool call runs.
#[derive(Debug, Clone)]
pub enum Route {
    /// On the host, as without a sandbox.
    Host,
    /// In the sandbox named by the scope key.
    Sandbox {
        sandbox: Arc<dyn Sandbox>,
        key: String,
    },
    /// Nowhere: the agent is sandboxed but no backend can run.
    Refused(String),
}

/// The backend a router hands sandboxed calls to, or why there is none.
#[derive(Debug, Clone)]
struct Backend {
    sandbox: Option<Arc<dyn Sandbox>>,
    unavailable: String,
}

/// Decides the [`Route`] of every sandboxed tool call.
#[derive(Debug, Clone)]
pub struct SandboxRouter {
    /// `None` until the backend has been chosen (see [`SandboxRouter::pending`]).
    backend: watch::Receiver<Option<Backend>>,
    mode: SandboxMode,
    agent_modes: BTreeMap<String, SandboxMode>,
    scope: SandboxScope,
    timeout: Duration,
    /// Whether runs of users who are neither the owner nor an admin may use tools on the host
    /// (`tools.host_exec_for_users`); when not, their calls always go to the sandbox.
    host_for_users: bool,
}

/// Hands a [`SandboxRouter::pending`] router its backend once it has been chosen.
#[derive(Debug)]
pub struct BackendChosen(watch::Sender<Option<Backend>>);

impl BackendChosen {
    /// The backend in use; when `None`, `unavailable` says why sandboxed calls are refused.
    pub fn set(self, sandbox: Option<Arc<dyn Sandbox>>, unavailable: impl Into<String>) {
        let backend = Backend {
            sandbox,
            unavailable: unavailable.into(),
        };
        self.0.send_replace(Some(backend));
    }
}

impl SandboxRouter {
    /// A router for `config` (the defaults) and per-agent overrides of `mode`. `sandbox` is the
    /// backend in use; when `None`, `unavailable` says why sandboxed calls are refused.
    pub fn new(
        config: &SandboxConfig,
        agent_overrides: BTreeMap<String, SandboxMode>,
        sandbox: Option<Arc<dyn Sandbox>>,
        unavailable: impl Into<String>,
    ) -> Self {
        let (router, chosen) = Self::pending(config, agent_overrides);
        chosen.set(sandbox, unavailable);
        router
    }

    /// A router whose backend is still being chosen (probing one takes tens of milliseconds,
    /// which start-up does not wait for): sandboxed calls wait until [`BackendChosen::set`].
    pub fn pending(
        config: &SandboxConfig,
        agent_overrides: BTreeMap<String, SandboxMode>,
    ) -> (Self, BackendChosen) {
        let (sender, backend) = watch::channel(None);
        let router = Self {
            backend,
            mode: config.mode,
            agent_modes: agent_overrides,
            scope: config.scope,
            timeout: Duration::from_secs(config.timeout_sec.max(1)),
            host_for_users: false,
        };
        (router, BackendChosen(sender))
    }

    /// Lets every user's runs use the host where the agent's sandbox mode does
    /// (`tools.host_exec_for_users`). Without it only the owner's and admins' runs may.
    pub fn with_host_for_users(mut self, allowed: bool) -> Self {
        self.host_for_users = allowed;
        self
    }

    /// Whether any call can run in a sandbox under this configuration: some agent is
    /// sandboxed, or users' runs are kept off the host.
    pub fn any_sandboxed(&self) -> bool {
        !self.host_for_users
            || self.mode != SandboxMode::Off
            || self.agent_modes.values().any(|m| *m != SandboxMode::Off)
    }

    /// Whether `agent_key`'s sandboxed tools run in a sandbox.
    pub fn is_sandboxed(&self, agent_key: &str) -> bool {
        match self
            .agent_modes
            .get(agent_key)
            .copied()
            .unwrap_or(self.mode)
        {
            SandboxMode::Off => false,
            SandboxMode::All => true,
            SandboxMode::NonMain => !MAIN_AGENT_KEYS.contains(&agent_key),
        }
    }

    /// The scope key of a call: its session, its agent, or the tenant's shared sandbox.
    pub fn key(&self, ctx: &ToolContext) -> String {
        let tenant = ctx.tenant_id;
        match self.scope {
            SandboxScope::Session => format!("{tenant}/{}", ctx.session_key),
            SandboxScope::Agent => format!("{tenant}/agent:{}", ctx.agent_key),
            SandboxScope::Shared => format!("{tenant}/shared"),
        }
    }

    /// Where a call of `ctx` runs (waiting for the backend to be chosen if it must).
    pub async fn route(&self, ctx: &ToolContext) -> Route {
        let agent_sandboxed = self.is_sandboxed(&ctx.agent_key);
        let user_confined = ctx.trust == Trust::User && !self.host_for_users;
        if !agent_sandboxed && !user_confined {
            return Route::Host;
        }
        self.sandbox_route(ctx, agent_sandboxed).await
    }

    /// Where a process the operator configured (a stdio MCP server) runs for a call of `ctx`:
    /// in the agent's sandbox when the agent is sandboxed, else on the host. Unlike
    /// [`route`](Self::route), the caller's trust does not matter: the call runs the
    /// configured server, not a command of the caller's.
    pub async fn agent_route(&self, ctx: &ToolContext) -> Route {
        if !self.is_sandboxed(&ctx.agent_key) {
            return Route::Host;
        }
        self.sandbox_route(ctx, true).await
    }

    /// The sandbox of a call that must not run on the host, or why there is none.
    async fn sandbox_route(&self, ctx: &ToolContext, agent_sandboxed: bool) -> Route {
        let Some(backend) = self.chosen().await else {
            return Route::Refused("the sandbox is not available: the gateway is stopping".into());
        };
        match backend.sandbox {
            Some(sandbox) => Route::Sandbox {
                sandbox,
                key: self.key(ctx),
            },
            None if agent_sandboxed => Route::Refused(format!(
                "this agent's tools must run in a sandbox and none is available: {}",
                backend.unavailable
            )),
            None => Route::Refused(format!("{USERS_NEED_A_SANDBOX}: {}", backend.unavailable)),
        }
    }

    /// The chosen backend; `None` if it never will be (its setter was dropped).
    async fn chosen(&self) -> Option<Backend> {
        let mut backend = self.backend.clone();
        let chosen = backend.wait_for(Option::is_some).await.ok()?;
        chosen.clone()
    }

    /// Timeout of sandboxed commands that name none (`sandbox.timeout_sec`).
    pub fn default_timeout(&self) -> Duration {
        self.timeout
    }
}

/// A host path inside the workspace, as the sandbox sees it.
pub fn sandbox_path(workspace: &Path, host: &Path) -> Result<String, String> {
    let relative = host.strip_prefix(workspace).map_err(|_| {
        "access denied: only the workspace is visible inside the sandbox".to_owned()
    })?;
    let mut path = PathBuf::from(SANDBOX_WORKDIR);
    if !relative.as_os_str().is_empty() {
        path.push(relative);
    }
    path.into_os_string()
        .into_string()
        .map_err(|_| "path is not valid UTF-8".to_owned())
}

/// Which file tool a [`SandboxedFileTool`] stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOp {
    Read,
    Write,
    Edit,
    List,
}

impl FileOp {
    fn of(name: &str) -> Option<Self> {
        match name {
            "read_file" => Some(Self::Read),
            "write_file" => Some(Self::Write),
            "edit" => Some(Self::Edit),
            "list_files" => Some(Self::List),
            _ => None,
        }
    }
}

/// A file tool that runs on the host for agents that are not sandboxed and through the
/// sandbox for those that are.
pub struct SandboxedFileTool {
    host: Arc<dyn Tool>,
    op: FileOp,
    router: Arc<SandboxRouter>,
}

impl SandboxedFileTool {
    /// `host` behind the router; `None` when `host` is not one of the file tools.
    pub fn wrap(host: Arc<dyn Tool>, router: Arc<SandboxRouter>) -> Option<Self> {
        let op = FileOp::of(&host.definition().name)?;
        Some(Self { host, op, router })
    }
}

#[async_trait]
impl Tool for SandboxedFileTool {
    fn definition(&self) -> ToolDefinition {
        self.host.definition()
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let (sandbox, key) = match self.router.route(ctx).await {
            Route::Host => return self.host.call(ctx, arguments).await,
            Route::Refused(reason) => return ToolOutput::error(reason),
            Route::Sandbox { sandbox, key } => (sandbox, key),
        };
        let runner = Runner { sandbox, key, ctx };
        let result = match self.op {
            FileOp::Read => read(&runner, arguments).await,
            FileOp::Write => write(&runner, arguments).await,
            FileOp::Edit => edit(&runner, arguments).await,
            FileOp::List => list(&runner, arguments).await,
        };
        match result {
            Ok(content) => ToolOutput::ok(content),
            Err(message) => ToolOutput::error(message),
        }
    }
}

/// One file tool call's access to its sandbox.
struct Runner<'a> {
    sandbox: Arc<dyn Sandbox>,
    key: String,
    ctx: &'a ToolContext,
}

impl Runner<'_> {
    /// The sandbox path of `requested`, checked by the workspace guard on the host first.
    fn path(&self, requested: &str, access: Access) -> Result<String, String> {
        let guard = WorkspaceGuard::new(self.ctx).map_err(|e| e.to_string())?;
        let host = guard
            .resolve(requested, access)
            .map_err(|e| e.to_string())?;
        sandbox_path(guard.workspace(), &host)
    }

    async fn run(&self, argv: &[&str], stdin: Option<Vec<u8>>) -> Result<SandboxOutput, String> {
        let request = SandboxExec {
            key: self.key.clone(),
            workspace: self.ctx.workspace.clone(),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
            workdir: None,
            env: BTreeMap::new(),
            stdin,
            timeout: FILE_OP_TIMEOUT,
        };
        self.sandbox
            .exec(request)
            .await
            .map_err(|error| error.to_string())
    }

    /// The bytes of a file, read inside the sandbox.
    async fn read_bytes(&self, path: &str, shown: &str) -> Result<Vec<u8>, String> {
        let output = self.run(&["cat", "--", path], None).await?;
        if !output.success() {
            return Err(failure(&format!("cannot read {shown}"), &output));
        }
        if output.truncated {
            return Err(format!("{shown} is larger than the sandbox output limit"));
        }
        Ok(output.stdout)
    }

    /// Writes (or appends) `content` to a file inside the sandbox, creating its directory.
    async fn write_bytes(
        &self,
        path: &str,
        shown: &str,
        content: &[u8],
        append: bool,
    ) -> Result<(), String> {
        let script = "mkdir -p -- \"$(dirname -- \"$1\")\" && \
                      if [ \"$2\" = append ]; then cat >> \"$1\"; else cat > \"$1\"; fi";
        let mode = if append { "append" } else { "replace" };
        let output = self
            .run(
                &["sh", "-c", script, "sh", path, mode],
                Some(content.to_vec()),
            )
            .await?;
        if output.success() {
            Ok(())
        } else {
            Err(failure(&format!("cannot write {shown}"), &output))
        }
    }
}

fn failure(what: &str, output: &SandboxOutput) -> String {
    let detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if output.timed_out {
        format!("{what}: timed out in the sandbox")
    } else if detail.is_empty() {
        format!("{what} in the sandbox")
    } else {
        format!("{what}: {detail}")
    }
}

fn parse<T: for<'de> serde::Deserialize<'de>>(arguments: Value) -> Result<T, String> {
    serde_json::from_value(arguments).map_err(|error| format!("invalid arguments: {error}"))
}

async fn read(runner: &Runner<'_>, arguments: Value) -> Result<String, String> {
    let args: ReadArgs = parse(arguments)?;
    let path = runner.path(&args.path, Access::Read)?;
    let bytes = runner.read_bytes(&path, &args.path).await?;
    files::text_of(&bytes, &args.path, &args)
}

async fn write(runner: &Runner<'_>, arguments: Value) -> Result<String, String> {
    let args: WriteArgs = parse(arguments)?;
    let path = runner.path(&args.path, Access::Write)?;
    runner
        .write_bytes(&path, &args.path, args.content.as_bytes(), args.append)
        .await?;
    let verb = if args.append { "Appended" } else { "Wrote" };
    Ok(format!(
        "{verb} {} bytes to {}",
        args.content.len(),
        args.path
    ))
}

async fn edit(runner: &Runner<'_>, arguments: Value) -> Result<String, String> {
    let args: files::EditArgs = parse(arguments)?;
    let path = runner.path(&args.path, Access::Write)?;
    let bytes = runner.read_bytes(&path, &args.path).await?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", args.path))?;
    let (updated, count) = files::replace_in(&text, &args)?;
    runner
        .write_bytes(&path, &args.path, updated.as_bytes(), false)
        .await?;
    Ok(format!("Replaced {count} occurrence(s) in {}", args.path))
}

async fn list(runner: &Runner<'_>, arguments: Value) -> Result<String, String> {
    let args: ListArgs = parse(arguments)?;
    let requested = args.path.unwrap_or_else(|| ".".into());
    let path = runner.path(&requested, Access::Read)?;
    let script = "[ -d \"$1\" ] || { echo \"not a directory\" >&2; exit 1; }; \
                  for f in \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?*; do \
                  [ -e \"$f\" ] || [ -L \"$f\" ] || continue; n=\"${f##*/}\"; \
                  if [ -d \"$f\" ]; then echo \"$n/\"; else echo \"$n\"; fi; done";
    let output = runner.run(&["sh", "-c", script, "sh", &path], None).await?;
    if !output.success() {
        return Err(failure(&format!("cannot list {requested}"), &output));
    }
    let at_root = path == SANDBOX_WORKDIR;
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|name| !(at_root && DENIED_DIRS.contains(&name.trim_end_matches('/'))))
        .map(str::to_owned)
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(format!("{requested} is empty"));
    }
    Ok(names.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use goclaw_core::{MASTER_TENANT_ID, SessionKey};

    fn router(mode: SandboxMode, overrides: &[(&str, SandboxMode)]) -> SandboxRouter {
        let config = SandboxConfig {
            mode,
            ..SandboxConfig::default()
        };
        let overrides = overrides
            .iter()
            .map(|(id, mode)| ((*id).to_owned(), *mode))
            .collect();
        SandboxRouter::new(&config, overrides, None, "no backend in this test")
            .with_host_for_users(true)
    }

    #[tokio::test]
    async fn users_runs_reach_the_host_only_when_the_operator_allows_it() {
        let strict = SandboxRouter::new(
            &SandboxConfig::default(),
            BTreeMap::new(),
            None,
            "no backend in this test",
        );
        assert!(strict.any_sandboxed());
        let mut ctx = context("default");
        ctx.trust = Trust::User;
        assert!(
            matches!(strict.route(&ctx).await, Route::Refused(r) if r.starts_with(USERS_NEED_A_SANDBOX) && r.ends_with("no backend in this test"))
        );
        ctx.trust = Trust::Admin;
        assert!(matches!(strict.route(&ctx).await, Route::Host));

        let open = strict.with_host_for_users(true);
        assert!(!open.any_sandboxed());
        ctx.trust = Trust::User;
        assert!(matches!(open.route(&ctx).await, Route::Host));
    }

    #[test]
    fn mode_decides_which_agents_are_sandboxed() {
        use SandboxMode::{All, NonMain, Off};
        let cases: &[(SandboxMode, &str, bool)] = &[
            (Off, "default", false),
            (Off, "coder", false),
            (NonMain, "default", false),
            (NonMain, "main", false),
            (NonMain, "coder", true),
            (NonMain, "main-helper", true),
            (All, "default", true),
            (All, "coder", true),
        ];
        for (mode, agent, expected) in cases {
            assert_eq!(
                router(*mode, &[]).is_sandboxed(agent),
                *expected,
                "{mode:?} {agent}"
            );
        }
        let mixed = router(Off, &[("coder", All), ("default", NonMain)]);
        assert!(mixed.is_sandboxed("coder"));
        assert!(!mixed.is_sandboxed("default"));
        assert!(!mixed.is_sandboxed("writer"));
        assert!(mixed.any_sandboxed());
        assert!(!router(Off, &[]).any_sandboxed());
    }

    #[tokio::test]
    async fn calls_wait_for_the_backend_being_chosen() {
        let (router, chosen) = SandboxRouter::pending(&SandboxConfig::default(), BTreeMap::new());
        let mut ctx = context("default");
        ctx.trust = Trust::User;
        let waiting = tokio::spawn(async move { router.route(&ctx).await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "routed before a backend was chosen");
        chosen.set(None, "chosen later");
        let route = waiting.await.expect("routing task");
        assert!(matches!(route, Route::Refused(r) if r.ends_with("chosen later")));
    }

    #[tokio::test]
    async fn sandboxed_agents_without_a_backend_are_refused() {
        let ctx = context("coder");
        assert!(
            matches!(router(SandboxMode::NonMain, &[]).route(&ctx).await, Route::Refused(r) if r.contains("no backend in this test"))
        );
        assert!(matches!(
            router(SandboxMode::NonMain, &[])
                .route(&context("default"))
                .await,
            Route::Host
        ));
    }

    #[tokio::test]
    async fn configured_processes_follow_the_agent_not_the_caller() {
        let strict = SandboxRouter::new(
            &SandboxConfig {
                mode: SandboxMode::NonMain,
                ..SandboxConfig::default()
            },
            BTreeMap::new(),
            None,
            "no backend in this test",
        );
        let mut ctx = context("default");
        ctx.trust = Trust::User;
        assert!(matches!(strict.agent_route(&ctx).await, Route::Host));
        assert!(matches!(strict.route(&ctx).await, Route::Refused(_)));
        let coder = context("coder");
        assert!(
            matches!(strict.agent_route(&coder).await, Route::Refused(r) if r.contains("no backend in this test"))
        );
    }

    #[test]
    fn scope_keys_carry_the_tenant() {
        let ctx = context("coder");
        let tenant = ctx.tenant_id;
        let key = |scope| {
            let config = SandboxConfig {
                scope,
                ..SandboxConfig::default()
            };
            SandboxRouter::new(&config, BTreeMap::new(), None, "").key(&ctx)
        };
        assert_eq!(
            key(SandboxScope::Session),
            format!("{tenant}/{}", ctx.session_key)
        );
        assert_eq!(key(SandboxScope::Agent), format!("{tenant}/agent:coder"));
        assert_eq!(key(SandboxScope::Shared), format!("{tenant}/shared"));
    }

    #[test]
    fn only_workspace_paths_map_into_the_sandbox() {
        let ws = Path::new("/data/ws/coder");
        assert_eq!(sandbox_path(ws, ws).as_deref(), Ok("/workspace"));
        assert_eq!(
            sandbox_path(ws, Path::new("/data/ws/coder/a/b.txt")).as_deref(),
            Ok("/workspace/a/b.txt")
        );
        assert!(sandbox_path(ws, Path::new("/data/ws/other/x")).is_err());
        assert!(sandbox_path(ws, Path::new("/etc/passwd")).is_err());
    }

    fn context(agent: &str) -> ToolContext {
        ToolContext {
            tenant_id: MASTER_TENANT_ID,
            agent_key: agent.to_owned(),
            session_key: SessionKey::parse(&format!("agent:{agent}:ws:direct:alice"))
                .expect("valid session key"),
            user_id: "alice".to_owned(),
            trust: goclaw_core::Trust::Admin,
            run_id: "run-1".to_owned(),
            channel: "ws".to_owned(),
            workspace: PathBuf::from("/tmp/ws"),
            restrict_to_workspace: true,
            allowed_paths: Vec::new(),
        }
    }
}
