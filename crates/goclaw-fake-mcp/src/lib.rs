//! A small MCP server for tests, built on rmcp's server side. Its tools exercise what an MCP
//! client must cope with: `echo {text}` and `add {a, b}` answer at once, `slow {ms}` sleeps,
//! `crash` ends the whole process in the middle of the call, `env {name}` reports one
//! variable of the server's environment, `fail {message}` answers with `isError`, `picture`
//! answers an image beside its text, and `whereabouts {path}` says where the server runs (host
//! name, working directory, whether `path` is visible), which tells a sandbox from the host.
//!
//! It speaks stdio ([`serve_stdio`]), streamable HTTP ([`serve_http`]) or the older HTTP+SSE
//! transport ([`serve_sse`], module [`sse`]); over HTTP it may insist on one request header, as
//! a server behind an API key does.
#![forbid(unsafe_code)]

pub mod sse;

pub use sse::serve_sse;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// `echo` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EchoArgs {
    /// The text to answer.
    pub text: String,
}

/// `add` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    /// The left-hand number.
    pub a: i64,
    /// The right-hand number.
    pub b: i64,
}

/// `slow` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SlowArgs {
    /// How long to sleep, in milliseconds.
    pub ms: u64,
}

/// `env` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EnvArgs {
    /// The variable to look up.
    pub name: String,
}

/// `fail` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FailArgs {
    /// The error text.
    pub message: String,
}

/// `whereabouts` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WhereaboutsArgs {
    /// A path whose visibility to report.
    pub path: String,
}

/// The test server and its tools.
#[derive(Debug, Clone)]
pub struct FakeMcp {
    #[allow(dead_code)]
    tool_router: ToolRouter<Self>,
}

impl Default for FakeMcp {
    fn default() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }
}

#[tool_router]
impl FakeMcp {
    #[tool(description = "Echo the given text back unchanged")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }

    #[tool(description = "Add two integers and answer their sum")]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        a.saturating_add(b).to_string()
    }

    #[tool(description = "Sleep for the given milliseconds, then answer")]
    async fn slow(&self, Parameters(SlowArgs { ms }): Parameters<SlowArgs>) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("slept {ms} ms")
    }

    #[tool(description = "Exit the server process in the middle of the call")]
    fn crash(&self) -> String {
        std::process::exit(3)
    }

    #[tool(description = "Answer the value of an environment variable of the server")]
    fn env(&self, Parameters(EnvArgs { name }): Parameters<EnvArgs>) -> String {
        match std::env::var(&name) {
            Ok(value) => format!("{name}={value}"),
            Err(_) => format!("{name} is unset"),
        }
    }

    #[tool(description = "Answer an error result with the given message")]
    fn fail(&self, Parameters(FailArgs { message }): Parameters<FailArgs>) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(message)])
    }

    #[tool(
        description = "Answer where the server runs: its host name, its working directory and whether a path is visible"
    )]
    fn whereabouts(
        &self,
        Parameters(WhereaboutsArgs { path }): Parameters<WhereaboutsArgs>,
    ) -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        let cwd = std::env::current_dir()
            .map(|dir| dir.display().to_string())
            .unwrap_or_else(|_| "unknown".to_owned());
        let seen = if std::path::Path::new(&path).exists() {
            "visible"
        } else {
            "hidden"
        };
        format!("host={host} cwd={cwd} path={seen}")
    }

    #[tool(description = "Answer a caption and a one-pixel PNG image")]
    fn picture(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("a red dot"),
            ContentBlock::image(ONE_PIXEL_PNG, "image/png"),
        ])
    }
}

/// A 1×1 PNG, base64.
const ONE_PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[tool_handler]
impl ServerHandler for FakeMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions("A test server")
    }
}

/// Serves one client on standard input and output until it goes away.
pub async fn serve_stdio() -> std::io::Result<()> {
    let running = FakeMcp::default()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// A header every HTTP request must carry, or it is refused with 401.
#[derive(Debug, Clone)]
pub struct RequiredHeader {
    /// Header name.
    pub name: String,
    /// Its expected value.
    pub value: String,
}

/// Binds `addr` and returns the bound address and the server, which serves MCP at `/mcp`
/// until the process ends.
pub async fn serve_http(
    addr: SocketAddr,
    required: Option<RequiredHeader>,
) -> std::io::Result<(SocketAddr, impl Future<Output = std::io::Result<()>>)> {
    let service: StreamableHttpService<FakeMcp, LocalSessionManager> = StreamableHttpService::new(
        || Ok(FakeMcp::default()),
        Arc::default(),
        StreamableHttpServerConfig::default(),
    );
    let router = require_header(axum::Router::new().nest_service("/mcp", service), required);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, async move { axum::serve(listener, router).await }))
}

/// `router` refusing with 401 every request without the `required` header.
pub(crate) fn require_header(
    router: axum::Router,
    required: Option<RequiredHeader>,
) -> axum::Router {
    let required = Arc::new(required);
    router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let required = required.clone();
            async move {
                if let Some(header) = required.as_ref() {
                    let sent = request
                        .headers()
                        .get(header.name.as_str())
                        .and_then(|v| v.to_str().ok());
                    if sent != Some(header.value.as_str()) {
                        return axum::http::StatusCode::UNAUTHORIZED.into_response();
                    }
                }
                next.run(request).await
            }
        },
    ))
}
