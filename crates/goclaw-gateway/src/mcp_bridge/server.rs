//! The MCP side of the bridge: an rmcp server whose `tools/list` and `tools/call` read the
//! runtime's tool registry for the agent the request was verified to act as (a
//! [`BridgeScope`] in the HTTP request's extensions, put there by the route before the MCP
//! server sees the request).

use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use goclaw_core::ToolDefinition;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use super::BridgeScope;
use crate::routes::AppState;

/// The bridge's MCP service and the token requests must present.
pub(crate) struct Bridge {
    token: String,
    service: StreamableHttpService<BridgeServer, NeverSessionManager>,
}

impl Bridge {
    pub fn new(state: AppState, token: String) -> Self {
        let server = BridgeServer { state };
        // The bearer check, not the Host header, is what keeps strangers out; the gateway
        // decides where it listens. Each request stands alone (no MCP session), as in GoClaw.
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_cancellation_token(server.state.shutdown.child_token());
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        Self { token, service }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn handle(&self, request: Request) -> Response {
        self.service
            .handle(request)
            .await
            .map(axum::body::Body::new)
            .into_response()
    }
}

/// Answers MCP requests with the runtime's tools.
#[derive(Clone)]
pub(crate) struct BridgeServer {
    state: AppState,
}

/// The scope the route verified for this request.
fn scope_of(context: &RequestContext<RoleServer>) -> Result<BridgeScope, McpError> {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<BridgeScope>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("request context missing", None))
}

fn mcp_tool(definition: ToolDefinition) -> Tool {
    let schema = match definition.parameters {
        serde_json::Value::Object(schema) => schema,
        _ => {
            let mut schema = serde_json::Map::new();
            schema.insert("type".into(), "object".into());
            schema
        }
    };
    Tool::new(definition.name, definition.description, Arc::new(schema))
}

impl ServerHandler for BridgeServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("goclaw-bridge", self.state.version.clone()),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let scope = scope_of(&context)?;
        let tools = self.state.runtime.tools().definitions_for(&scope.agent);
        Ok(ListToolsResult::with_all_items(
            tools.into_iter().map(mcp_tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let BridgeScope { agent, mut context } = scope_of(&context)?;
        let name = request.name.as_ref();
        let Some(tool) = self.state.runtime.tools().get_for(&agent, name) else {
            tracing::info!(tool = %name, agent = %agent.agent_key, "mcp bridge: tool refused");
            return Err(McpError::invalid_params(
                format!("unknown tool: {name}"),
                None,
            ));
        };
        context.run_id = format!("mcp-bridge-{}", uuid::Uuid::new_v4());
        let arguments = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let output = tool.call(&context, arguments).await;
        self.state.metrics.tool_call(name, output.is_error);
        // Every result loses the gateway's own secrets, as a run's results do.
        let text = goclaw_tools::known_secrets::known_secrets()
            .scrub(&output.content)
            .into_owned();
        let result = if output.is_error {
            CallToolResult::error(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::success(vec![ContentBlock::text(text)])
        };
        Ok(result.into())
    }
}
