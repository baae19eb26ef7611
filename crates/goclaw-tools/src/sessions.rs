//! The session tools: `sessions_list`, `sessions_history`, `session_status`, `sessions_send` and
//! `wait`. An agent sees only the sessions of the user it is serving, with itself as the agent;
//! any other session reads as not found. `sessions_send` hands its message to a
//! [`SessionMessenger`], which the runtime implements so the message is admitted like any other.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{
    Agent, AgentKey, Role, Session, SessionFilter, SessionKey, Store, Tool, ToolContext,
    ToolDefinition, ToolOutput,
};
use serde_json::{Value, json};

/// Longest `wait`, in milliseconds.
pub const MAX_WAIT_MS: u64 = 300_000;
/// Most sessions or messages one call returns.
const MAX_LIMIT: u64 = 100;

/// Delivers a message to another session of the same agent and user.
#[async_trait]
pub trait SessionMessenger: Send + Sync {
    /// Submits `message` to `target` on behalf of the caller in `ctx`; returns a short
    /// acknowledgement (a run id, say) or why it was refused.
    async fn send(
        &self,
        ctx: &ToolContext,
        target: &SessionKey,
        message: &str,
    ) -> Result<String, String>;
}

/// The session tools over `store`; `sessions_send` only when a messenger is given.
pub fn session_tools(
    store: Arc<dyn Store>,
    messenger: Option<Arc<dyn SessionMessenger>>,
) -> Vec<Arc<dyn Tool>> {
    let mut tools: Vec<Arc<dyn Tool>> = vec![
        Arc::new(SessionsList(store.clone())),
        Arc::new(SessionsHistory(store.clone())),
        Arc::new(SessionStatus(store.clone())),
        Arc::new(Wait),
    ];
    if let Some(messenger) = messenger {
        tools.push(Arc::new(SessionsSend { store, messenger }));
    }
    tools
}

/// The agent a tool call runs for.
pub(crate) async fn caller_agent(store: &dyn Store, ctx: &ToolContext) -> Result<Agent, String> {
    let key = AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?;
    store
        .agents()
        .get_by_key(ctx.tenant_id, &key)
        .await
        .map_err(|e| format!("agent not found: {e}"))
}

/// The sessions the caller may see: its agent's sessions with its user.
async fn caller_filter(store: &dyn Store, ctx: &ToolContext) -> Result<SessionFilter, String> {
    let agent = caller_agent(store, ctx).await?;
    Ok(SessionFilter {
        agent_id: Some(agent.id),
        user_id: Some(ctx.user_id.clone()),
        ..SessionFilter::default()
    })
}

/// The session `raw` names (the caller's own when `None`), if the caller may see it.
async fn visible_session(
    store: &dyn Store,
    ctx: &ToolContext,
    raw: Option<&str>,
) -> Result<Session, String> {
    let key = match raw {
        Some(raw) => SessionKey::parse(raw).map_err(|e| format!("invalid session_key: {e}"))?,
        None => ctx.session_key.clone(),
    };
    let filter = caller_filter(store, ctx).await?;
    let not_found = || format!("session {} not found", key.as_str());
    let session = store
        .sessions()
        .get(ctx.tenant_id, &key)
        .await
        .map_err(|_| not_found())?;
    if session.user_id != ctx.user_id || session.agent_id != filter.agent_id {
        return Err(not_found());
    }
    Ok(session)
}

fn limit_arg(arguments: &Value, default: u64) -> u32 {
    let n = arguments
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(default)
        .clamp(1, MAX_LIMIT);
    u32::try_from(n).unwrap_or(20)
}

fn result(value: Result<Value, String>) -> ToolOutput {
    match value {
        Ok(v) => ToolOutput::ok(serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => ToolOutput::error(e),
    }
}

fn definition(name: &str, description: &str, parameters: Value) -> ToolDefinition {
    ToolDefinition {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    }
}

fn summary(s: &Session) -> Value {
    json!({
        "session_key": s.session_key.as_str(),
        "label": s.label,
        "channel": s.channel,
        "messages": s.message_count,
        "updated_at": s.updated_at.to_rfc3339(),
    })
}

struct SessionsList(Arc<dyn Store>);

#[async_trait]
impl Tool for SessionsList {
    fn definition(&self) -> ToolDefinition {
        definition(
            "sessions_list",
            "List your sessions with the current user, most recently active first.",
            json!({"type": "object", "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "active_minutes": {"type": "integer", "minimum": 1,
                                   "description": "Only sessions active within this many minutes."}
            }}),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let run = async {
            let mut filter = caller_filter(self.0.as_ref(), ctx).await?;
            filter.limit = limit_arg(&arguments, 20);
            let (sessions, total) = self
                .0
                .sessions()
                .list(ctx.tenant_id, &filter)
                .await
                .map_err(|e| format!("cannot list sessions: {e}"))?;
            let since = arguments
                .get("active_minutes")
                .and_then(Value::as_i64)
                .map(|m| chrono::Utc::now() - chrono::Duration::minutes(m.clamp(1, 525_600)));
            let listed: Vec<Value> = sessions
                .iter()
                .filter(|s| since.is_none_or(|t| s.updated_at >= t))
                .map(summary)
                .collect();
            Ok(json!({"sessions": listed, "total": total}))
        };
        result(run.await)
    }
}

struct SessionsHistory(Arc<dyn Store>);

#[async_trait]
impl Tool for SessionsHistory {
    fn definition(&self) -> ToolDefinition {
        definition(
            "sessions_history",
            "Read the latest messages of one of your sessions.",
            json!({"type": "object", "properties": {
                "session_key": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "include_tools": {"type": "boolean", "description": "Include tool messages."}
            }, "required": ["session_key"]}),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let run = async {
            let raw = arguments
                .get("session_key")
                .and_then(Value::as_str)
                .ok_or("missing required argument `session_key`")?;
            let session = visible_session(self.0.as_ref(), ctx, Some(raw)).await?;
            let limit = limit_arg(&arguments, 20);
            let include_tools = arguments
                .get("include_tools")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let after = (session.message_count - i64::from(limit)).max(0);
            let messages = self
                .0
                .messages()
                .list(session.id, after, limit)
                .await
                .map_err(|e| format!("cannot read messages: {e}"))?;
            let shown: Vec<Value> = messages
                .iter()
                .filter(|m| include_tools || m.role != Role::Tool)
                .map(|m| json!({"seq": m.seq, "role": m.role, "content": m.content}))
                .collect();
            Ok(json!({"session_key": raw, "messages": shown}))
        };
        result(run.await.map_err(|e: String| e))
    }
}

struct SessionStatus(Arc<dyn Store>);

#[async_trait]
impl Tool for SessionStatus {
    fn definition(&self) -> ToolDefinition {
        definition(
            "session_status",
            "Show the status of a session (the current one by default).",
            json!({"type": "object", "properties": {"session_key": {"type": "string"}}}),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let raw = arguments.get("session_key").and_then(Value::as_str);
        let run = async {
            let s = visible_session(self.0.as_ref(), ctx, raw).await?;
            Ok(json!({
                "session_key": s.session_key.as_str(),
                "label": s.label,
                "channel": s.channel,
                "model": s.model,
                "messages": s.message_count,
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                "compactions": s.compaction_count,
                "has_summary": s.summary.is_some(),
                "created_at": s.created_at.to_rfc3339(),
                "updated_at": s.updated_at.to_rfc3339(),
            }))
        };
        result(run.await)
    }
}

struct SessionsSend {
    store: Arc<dyn Store>,
    messenger: Arc<dyn SessionMessenger>,
}

#[async_trait]
impl Tool for SessionsSend {
    fn definition(&self) -> ToolDefinition {
        definition(
            "sessions_send",
            "Send a message to another of your sessions, by key or by label.",
            json!({"type": "object", "properties": {
                "message": {"type": "string"},
                "session_key": {"type": "string"},
                "label": {"type": "string"}
            }, "required": ["message"]}),
        )
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let run = async {
            let message = arguments
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.trim().is_empty())
                .ok_or("missing required argument `message`")?;
            let target = match (
                arguments.get("session_key").and_then(Value::as_str),
                arguments.get("label").and_then(Value::as_str),
            ) {
                (Some(key), _) => visible_session(self.store.as_ref(), ctx, Some(key)).await?,
                (None, Some(label)) => self.by_label(ctx, label).await?,
                (None, None) => return Err("give `session_key` or `label`".to_owned()),
            };
            if target.session_key == ctx.session_key {
                return Err("cannot send a message to the current session".to_owned());
            }
            let ack = self
                .messenger
                .send(ctx, &target.session_key, message)
                .await?;
            Ok(json!({"sent_to": target.session_key.as_str(), "status": ack}))
        };
        result(run.await)
    }
}

impl SessionsSend {
    async fn by_label(&self, ctx: &ToolContext, label: &str) -> Result<Session, String> {
        let mut filter = caller_filter(self.store.as_ref(), ctx).await?;
        filter.limit = 500;
        let (sessions, _) = self
            .store
            .sessions()
            .list(ctx.tenant_id, &filter)
            .await
            .map_err(|e| format!("cannot list sessions: {e}"))?;
        sessions
            .into_iter()
            .find(|s| s.label == label)
            .ok_or_else(|| format!("no session labelled {label:?}"))
    }
}

struct Wait;

#[async_trait]
impl Tool for Wait {
    fn definition(&self) -> ToolDefinition {
        definition(
            "wait",
            "Pause for up to 300000 ms before continuing.",
            json!({"type": "object", "properties": {
                "timeMs": {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_MS},
                "reason": {"type": "string"}
            }, "required": ["timeMs"]}),
        )
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(ms) = arguments.get("timeMs").and_then(Value::as_u64) else {
            return ToolOutput::error("missing required argument `timeMs`");
        };
        let ms = ms.min(MAX_WAIT_MS);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ToolOutput::ok(format!("waited {ms} ms"))
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
