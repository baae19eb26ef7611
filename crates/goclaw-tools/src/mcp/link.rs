//! One MCP server's connection: opened on demand, reopened after it was lost, with a
//! backoff between failed attempts (1 s doubling to 30 s) so a server that will not start is
//! not respawned in a tight loop. A call is bounded by the server's `timeout_sec`, connecting
//! included; a connection that broke during a call is dropped (a stdio server's process is
//! killed) and the next call opens a new one, as does the next call after a connection
//! ended between calls (a stdio server exited, an SSE stream closed).
//!
//! stdio servers run with a minimal environment and their stderr goes to the log at debug
//! level. A link is placed when it is made: on the host, where the process gets `PATH`, `HOME`,
//! `LANG` and the configured `env`, nothing of the gateway's own; or in a sandbox
//! ([`sandboxed`](super::sandboxed)), where it gets the sandbox's clean environment and the
//! configured `env`. The transport and the backoff are the same either way.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use goclaw_config::{McpServerConfig, McpTransport};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool as McpToolInfo};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::sandboxed::{self, SandboxSeat};
use super::sse::SseClientTransport;

/// The first wait after a failed connection attempt; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Variables of the gateway's environment a stdio server inherits; everything else it gets
/// comes from its `env` setting.
pub const INHERITED_ENV: &[&str] = &["PATH", "HOME", "LANG"];

/// Longest stderr line of a server kept in the log.
pub(crate) const MAX_STDERR_LINE: usize = 512;

type Session = RunningService<RoleClient, ()>;

/// Why a call did not produce a result. The messages name the server, never its command
/// line, URL, headers or environment.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The server did not answer within `timeout_sec`.
    #[error("MCP server \"{server}\" did not answer within {seconds} s")]
    Timeout { server: String, seconds: u64 },
    /// The connection broke (the process exited, the HTTP session or the SSE stream ended).
    #[error("MCP server \"{server}\" connection lost during the call; the next call reconnects")]
    Lost { server: String },
    /// No connection and the last attempt failed recently.
    #[error("MCP server \"{server}\" is unavailable; the next attempt is in {seconds} s")]
    Unavailable { server: String, seconds: u64 },
    /// Connecting failed.
    #[error("MCP server \"{server}\" could not be reached")]
    Connect { server: String },
    /// The server answered the request with a protocol error.
    #[error("MCP server \"{server}\" refused the call: {message}")]
    Refused { server: String, message: String },
}

struct LinkState {
    session: Option<Arc<Session>>,
    failures: u32,
    retry_at: Option<Instant>,
}

/// One configured server and its (re)connection.
pub struct McpLink {
    name: String,
    config: McpServerConfig,
    /// Where a stdio server's process runs: `None` on the host.
    seat: Option<SandboxSeat>,
    state: Mutex<LinkState>,
}

impl McpLink {
    /// A link to the server `name`, whose stdio process runs on the host; nothing is opened
    /// yet.
    pub fn new(name: &str, config: &McpServerConfig) -> Self {
        Self {
            name: name.to_owned(),
            config: config.clone(),
            seat: None,
            state: Mutex::new(LinkState {
                session: None,
                failures: 0,
                retry_at: None,
            }),
        }
    }

    /// A link to the stdio server `name` whose process runs in the sandbox `seat`.
    pub fn in_sandbox(name: &str, config: &McpServerConfig, seat: SandboxSeat) -> Self {
        Self {
            seat: Some(seat),
            ..Self::new(name, config)
        }
    }

    /// The server's name in `tools.mcp_servers`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_sec.max(1))
    }

    /// Whether a live connection is open now.
    pub async fn is_connected(&self) -> bool {
        let state = self.state.lock().await;
        state.session.as_ref().is_some_and(|s| is_live(s))
    }

    /// Connects (within the timeout) and lists the server's tools.
    pub async fn list_tools(&self) -> Result<Vec<McpToolInfo>, LinkError> {
        let deadline = Instant::now() + self.timeout();
        let session = self.session(deadline).await?;
        let listing = tokio::time::timeout_at(deadline, session.peer().list_all_tools()).await;
        match listing {
            Err(_) => Err(self.timed_out()),
            Ok(Ok(tools)) => Ok(tools),
            Ok(Err(error)) => Err(self.failed(&session, error).await),
        }
    }

    /// Calls the server's tool `tool` with `arguments`, connecting first when needed.
    pub async fn call(
        &self,
        tool: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, LinkError> {
        let deadline = Instant::now() + self.timeout();
        let session = self.session(deadline).await?;
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        let answer = tokio::time::timeout_at(deadline, session.peer().call_tool(params)).await;
        match answer {
            // A slow server is not a dead one: the connection stays.
            Err(_) => Err(self.timed_out()),
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(self.failed(&session, error).await),
        }
    }

    /// Closes the connection, ending a stdio server's process.
    pub async fn close(&self) {
        let session = self.state.lock().await.session.take();
        if let Some(session) = session.and_then(|s| Arc::try_unwrap(s).ok()) {
            let _ = session.cancel().await;
        }
    }

    fn timed_out(&self) -> LinkError {
        LinkError::Timeout {
            server: self.name.clone(),
            seconds: self.timeout().as_secs(),
        }
    }

    /// Classifies a failed request; a broken connection is dropped so the next call reopens it.
    async fn failed(&self, session: &Arc<Session>, error: ServiceError) -> LinkError {
        if let ServiceError::McpError(data) = error {
            return LinkError::Refused {
                server: self.name.clone(),
                message: data.message.into_owned(),
            };
        }
        tracing::warn!(server = %self.name, error = %error, "mcp.server.connection_lost");
        let mut state = self.state.lock().await;
        if state
            .session
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, session))
        {
            state.session = None;
        }
        LinkError::Lost {
            server: self.name.clone(),
        }
    }

    /// The open session, or a new one when there is none (or it has ended) and the backoff
    /// allows an attempt.
    async fn session(&self, deadline: Instant) -> Result<Arc<Session>, LinkError> {
        let mut state = tokio::time::timeout_at(deadline, self.state.lock())
            .await
            .map_err(|_| self.timed_out())?;
        if let Some(session) = &state.session {
            if is_live(session) {
                return Ok(session.clone());
            }
            tracing::info!(server = %self.name, "mcp.server.disconnected");
            state.session = None;
        }
        if let Some(retry_at) = state.retry_at {
            let now = Instant::now();
            if retry_at > now {
                return Err(LinkError::Unavailable {
                    server: self.name.clone(),
                    seconds: (retry_at - now).as_secs().max(1),
                });
            }
        }
        match tokio::time::timeout_at(deadline, self.open()).await {
            Ok(Ok(session)) => {
                let session = Arc::new(session);
                state.session = Some(session.clone());
                state.failures = 0;
                state.retry_at = None;
                tracing::info!(server = %self.name, "mcp.server.connected");
                Ok(session)
            }
            outcome => {
                state.failures = state.failures.saturating_add(1);
                let wait = backoff(state.failures);
                state.retry_at = Some(Instant::now() + wait);
                match outcome {
                    Ok(Err(error)) => {
                        tracing::warn!(
                            server = %self.name,
                            error = %error,
                            retry_in_secs = wait.as_secs(),
                            "mcp.server.connect_failed"
                        );
                        Err(error)
                    }
                    _ => {
                        tracing::warn!(
                            server = %self.name,
                            retry_in_secs = wait.as_secs(),
                            "mcp.server.connect_timeout"
                        );
                        Err(self.timed_out())
                    }
                }
            }
        }
    }

    /// Starts the transport and the MCP handshake.
    async fn open(&self) -> Result<Session, LinkError> {
        let connect = || LinkError::Connect {
            server: self.name.clone(),
        };
        match (self.config.transport, &self.seat) {
            (McpTransport::Stdio, Some(seat)) => {
                let transport = sandboxed::start(&self.name, &self.config, seat)
                    .await
                    .map_err(|error| {
                        tracing::warn!(
                            server = %self.name,
                            sandbox = %seat.key,
                            error = %error,
                            "mcp.server.spawn_failed"
                        );
                        connect()
                    })?;
                ().serve(transport).await.map_err(|error| {
                    tracing::warn!(server = %self.name, error = %error, "mcp.server.initialize_failed");
                    connect()
                })
            }
            (McpTransport::Stdio, None) => {
                let mut command = self.command().ok_or_else(connect)?;
                command.stdin(Stdio::piped()).stdout(Stdio::piped());
                let (process, stderr) = TokioChildProcess::builder(command)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|error| {
                        tracing::warn!(server = %self.name, error = %error, "mcp.server.spawn_failed");
                        connect()
                    })?;
                if let Some(stderr) = stderr {
                    tokio::spawn(forward_stderr(self.name.clone(), stderr));
                }
                ().serve(process).await.map_err(|error| {
                    tracing::warn!(server = %self.name, error = %error, "mcp.server.initialize_failed");
                    connect()
                })
            }
            (McpTransport::StreamableHttp, _) => {
                let url = self.config.url.as_deref().ok_or_else(connect)?;
                install_crypto_provider();
                let config = StreamableHttpClientTransportConfig::with_uri(url)
                    .custom_headers(self.headers());
                let transport = StreamableHttpClientTransport::from_config(config);
                ().serve(transport).await.map_err(|error| {
                    tracing::warn!(server = %self.name, error = %error, "mcp.server.initialize_failed");
                    connect()
                })
            }
            (McpTransport::Sse, _) => {
                let url = self.config.url.as_deref().ok_or_else(connect)?;
                install_crypto_provider();
                let headers = self.headers().into_iter().collect();
                let transport = SseClientTransport::connect(url, headers, self.timeout())
                    .await
                    .map_err(|error| {
                        tracing::warn!(server = %self.name, error = %error, "mcp.server.stream_failed");
                        connect()
                    })?;
                ().serve(transport).await.map_err(|error| {
                    tracing::warn!(server = %self.name, error = %error, "mcp.server.initialize_failed");
                    connect()
                })
            }
        }
    }

    /// The stdio server's command with its minimal environment.
    fn command(&self) -> Option<tokio::process::Command> {
        let program = self.config.command.as_deref()?;
        let mut command = tokio::process::Command::new(program);
        command.args(&self.config.args).env_clear();
        for name in INHERITED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.envs(self.config.env.iter());
        Some(command)
    }

    /// The configured headers, marked sensitive so no debug output shows them; a header
    /// that is not valid HTTP is left out with a warning naming only the header.
    fn headers(&self) -> HashMap<http::HeaderName, http::HeaderValue> {
        let mut headers = HashMap::new();
        for (name, value) in self.config.headers.iter() {
            let parsed = (
                http::HeaderName::try_from(name.as_str()),
                http::HeaderValue::try_from(value.as_str()),
            );
            match parsed {
                (Ok(name), Ok(mut value)) => {
                    value.set_sensitive(true);
                    headers.insert(name, value);
                }
                _ => {
                    tracing::warn!(server = %self.name, header = %name, "mcp.server.invalid_header")
                }
            }
        }
        headers
    }
}

/// Whether `session` can still carry a request: not closed by us, and its transport has not
/// ended (a stdio server's output closed, an SSE stream ended) since.
fn is_live(session: &Session) -> bool {
    !session.is_closed() && !session.peer().is_transport_closed()
}

/// The wait after `failures` failed attempts in a row.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1u32 << doublings)
        .min(MAX_BACKOFF)
}

/// The HTTP client of the streamable-HTTP transport builds its TLS settings from the
/// process's default rustls provider; ring is the one the workspace builds.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

async fn forward_stderr(server: String, stderr: tokio::process::ChildStderr) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line: String = line.chars().take(MAX_STDERR_LINE).collect();
        tracing::debug!(server = %server, line = %line, "mcp.server.stderr");
    }
}
