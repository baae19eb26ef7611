//! The JSON shapes of protocol v3 for domain and runtime values: agent events, messages,
//! sessions, agents, usage.

use goclaw_agent::{AgentEvent, AgentEventKind, CompactOutcome, SessionRunStatus};
use goclaw_core::{Agent, Message, Role, Session, Usage};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::scopes::{self, Event, Owner};
use crate::ws::frames;

/// Longest tool result carried in a `tool.result` event.
const TOOL_RESULT_PREVIEW: usize = 1000;

/// The `agent` event frame for `event`, if a connection signed in as `principal` may be sent it
/// (the `agent` entry of the access table: same tenant, and an admin or the run's own user).
pub fn agent_event_frame(event: &AgentEvent, principal: Option<&Principal>) -> Option<Value> {
    let owner = Owner {
        tenant_id: event.tenant_id,
        user_id: &event.user_id,
    };
    scopes::may_receive(Event::Agent, principal, Some(owner))
        .then(|| frames::event(Event::Agent, agent_event_payload(event)))
}

/// The payload of an `agent` event.
pub fn agent_event_payload(event: &AgentEvent) -> Value {
    let (kind, payload) = match &event.kind {
        AgentEventKind::RunStarted { message } => ("run.started", json!({ "message": message })),
        AgentEventKind::Chunk { content } => ("chunk", json!({ "content": content })),
        AgentEventKind::Thinking { content } => ("thinking", json!({ "content": content })),
        AgentEventKind::ToolCall {
            id,
            name,
            arguments,
        } => (
            "tool.call",
            json!({ "id": id, "name": name, "arguments": arguments }),
        ),
        AgentEventKind::ToolResult {
            id,
            name,
            arguments,
            result,
            is_error,
        } => {
            let preview: String = result.chars().take(TOOL_RESULT_PREVIEW).collect();
            let mut payload = json!({
                "id": id, "name": name, "arguments": arguments, "is_error": is_error, "result": preview,
            });
            if *is_error {
                payload["content"] = Value::String(result.clone());
            }
            ("tool.result", payload)
        }
        AgentEventKind::RunCompleted {
            content,
            thinking,
            usage,
            ..
        } => {
            let mut payload = json!({ "content": content, "usage": self::usage(usage) });
            if let Some(thinking) = thinking.as_ref().filter(|t| !t.is_empty()) {
                payload["thinking"] = Value::String(thinking.clone());
            }
            ("run.completed", payload)
        }
        AgentEventKind::RunFailed { error } => ("run.failed", json!({ "error": error })),
        AgentEventKind::RunCancelled { .. } => ("run.cancelled", json!({})),
    };
    json!({
        "type": kind,
        "agentId": event.agent_key,
        "runId": event.run_id.to_string(),
        "sessionKey": event.session_key.to_string(),
        "userId": event.user_id,
        "channel": event.channel,
        "payload": payload,
    })
}

/// Token usage as GoClaw reports it.
pub fn usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "thinking_tokens": usage.thinking_tokens,
    })
}

/// One stored message.
pub fn message(message: &Message) -> Value {
    let mut value = json!({
        "id": message.id.to_string(),
        "seq": message.seq,
        "role": message.role.as_str(),
        "content": message.content,
        "created_at": message.created_at.to_rfc3339(),
    });
    if !message.tool_calls.is_null() {
        value["tool_calls"] = message.tool_calls.clone();
    }
    if let Some(id) = &message.tool_call_id {
        value["tool_call_id"] = Value::String(id.clone());
    }
    for key in ["thinking", "is_error", "cancelled", "failed", "run_id"] {
        if let Some(v) = message.metadata.get(key) {
            value[key] = v.clone();
        }
    }
    value
}

/// Messages a client is shown: no internal system notes, no silent (`NO_REPLY`) turns.
pub fn visible_messages(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m.role != Role::System)
        .filter(|m| {
            !m.metadata
                .get("silent")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .map(message)
        .collect()
}

/// A session in lists.
pub fn session(session: &Session) -> Value {
    json!({
        "key": session.session_key.to_string(),
        "agentId": session.agent_id.map(|id| id.to_string()),
        "userId": session.user_id,
        "channel": session.channel,
        "label": session.label,
        "model": session.model,
        "messageCount": session.message_count,
        "inputTokens": session.input_tokens,
        "outputTokens": session.output_tokens,
        "compactionCount": session.compaction_count,
        "metadata": session.metadata,
        "createdAt": session.created_at.to_rfc3339(),
        "updatedAt": session.updated_at.to_rfc3339(),
    })
}

/// An agent in lists.
pub fn agent(agent: &Agent) -> Value {
    json!({
        "id": agent.agent_key.to_string(),
        "name": agent.display_name,
        "model": agent.model,
        "provider": agent.provider,
        "agentType": agent.agent_type,
        "status": agent.status,
        "isDefault": agent.is_default,
        "contextWindow": agent.context_window,
        "maxToolIterations": agent.max_tool_iterations,
        "workspace": agent.workspace,
        "restrictToWorkspace": agent.restrict_to_workspace,
        "otherConfig": agent.other_config,
        "createdAt": agent.created_at.to_rfc3339(),
        "updatedAt": agent.updated_at.to_rfc3339(),
    })
}

/// The reply to `sessions.compact`.
pub fn compact_outcome(outcome: &CompactOutcome) -> Value {
    let original = outcome.summarized_messages + outcome.kept_messages;
    if outcome.compacted {
        json!({ "ok": true, "original": original, "kept": outcome.kept_messages })
    } else {
        json!({ "ok": true, "message": "session too short to compact", "kept": outcome.kept_messages })
    }
}

/// The reply to `chat.session.status`.
pub fn session_status(status: &SessionRunStatus) -> Value {
    let activity = status.phase.map(|phase| {
        json!({ "phase": phase.as_str(), "tool": status.tool, "iteration": status.iteration })
    });
    json!({
        "isRunning": status.is_running,
        "runId": status.run_id.map(|id| id.to_string()),
        "activity": activity,
    })
}
