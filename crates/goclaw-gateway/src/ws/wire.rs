//! The JSON shapes of protocol v3 for domain and runtime values: agent events, messages,
//! sessions, agents, usage — with GoClaw's field names (WebSocket payloads are camelCase where
//! GoClaw's are, e.g. `sessions.list` items, and snake_case where its records are, e.g. usage).

use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_agent::{AgentEvent, AgentEventKind, CompactOutcome, RunPhase, SessionRunStatus};
use goclaw_core::{Agent, Message, Role, Session, Usage};
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::scopes::{self, Event, Owner};
use crate::ws::frames;
use crate::ws::methods::params::agent_of_session;

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

/// The `vault.enrich.progress` frame for `progress`, if a connection signed in as `principal`
/// may be sent it (same tenant: the progress belongs to the tenant, not to a user).
pub fn enrich_progress_frame(
    progress: &goclaw_memory::vault::EnrichProgress,
    principal: Option<&Principal>,
) -> Option<Value> {
    let owner = Owner {
        tenant_id: progress.tenant,
        user_id: "",
    };
    scopes::may_receive(Event::VaultEnrichProgress, principal, Some(owner)).then(|| {
        let payload = json!({
            "phase": progress.phase.as_str(),
            "done": progress.done,
            "total": progress.total,
            "running": progress.running,
        });
        frames::event(Event::VaultEnrichProgress, payload)
    })
}

/// The frame of a tenant event, if a connection signed in as `principal` may be sent it (the
/// event's entry in the access table, for the event's tenant). `tenant.access.revoked` goes to
/// the removed user's own connections only: an admin's dashboard signs out on it.
pub fn tenant_event_frame(
    event: &crate::tenant_events::TenantEvent,
    principal: Option<&Principal>,
) -> Option<Value> {
    if event.event == Event::TenantAccessRevoked
        && principal.is_none_or(|p| p.user_id.is_empty() || p.user_id != event.user_id)
    {
        return None;
    }
    let owner = Owner {
        tenant_id: event.tenant,
        user_id: event.owner_for(principal.map_or("", |p| p.user_id.as_str())),
    };
    scopes::may_receive(event.event, principal, Some(owner))
        .then(|| frames::event(event.event, event.payload.clone()))
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
            let mut payload = json!({ "content": content, "usage": event_usage(usage) });
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

/// Token usage as a `run.completed` event carries it (GoClaw's event names for the cache
/// counters differ from its reply's).
fn event_usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "cache_creation_tokens": usage.cache_creation_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "thinking_tokens": usage.thinking_tokens,
    })
}

/// A time as Go writes one: RFC 3339 in UTC with a `Z`.
pub fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Token usage as the `chat.send` reply carries it.
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
        "created_at": time(&message.created_at),
    });
    if !message.tool_calls.is_null() {
        value["tool_calls"] = message.tool_calls.clone();
    }
    if let Some(id) = &message.tool_call_id {
        value["tool_call_id"] = Value::String(id.clone());
    }
    for key in [
        "thinking",
        "is_error",
        "cancelled",
        "failed",
        "run_id",
        "media_refs",
    ] {
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

/// A `sessions.list` item: GoClaw's `SessionInfoRich` (`key`, `messageCount`, `created`,
/// `updated`, and the optional fields left out when empty), plus the key of the session's
/// agent as `agentId`. `agent` is the session's agent, when it still exists, and `primary` the
/// provider and model its runs call.
pub fn session(session: &Session, agent: Option<&Agent>, primary: (String, String)) -> Value {
    let mut item = Map::new();
    item.insert("key".into(), json!(session.session_key.to_string()));
    item.insert("messageCount".into(), json!(session.message_count));
    item.insert("created".into(), json!(time(&session.created_at)));
    item.insert("updated".into(), json!(time(&session.updated_at)));
    let agent_key = agent
        .map(|a| a.agent_key.to_string())
        .or_else(|| agent_of_session(session.session_key.as_str()).map(str::to_owned));
    let (provider, model) = primary;
    let texts = [
        ("agentId", agent_key.unwrap_or_default()),
        ("label", session.label.clone()),
        ("channel", session.channel.clone()),
        ("userID", session.user_id.clone()),
        ("model", model),
        ("provider", provider),
        (
            "agentName",
            agent.map(|a| a.display_name.clone()).unwrap_or_default(),
        ),
    ];
    for (name, value) in texts {
        if !value.is_empty() {
            item.insert(name.into(), Value::String(value));
        }
    }
    if session.metadata.as_object().is_some_and(|m| !m.is_empty()) {
        item.insert("metadata".into(), session.metadata.clone());
    }
    if let Some(window) = agent.map(|a| a.context_window).filter(|w| *w > 0) {
        item.insert("contextWindow".into(), json!(window));
    }
    item.insert("inputTokens".into(), json!(session.input_tokens));
    item.insert("outputTokens".into(), json!(session.output_tokens));
    item.insert("compactionCount".into(), json!(session.compaction_count));
    Value::Object(item)
}

/// An `agents.list` item as GoClaw sends it (`id` is the agent key; `primary` the provider
/// and model its runs call), with the agent's other settings beside.
pub fn listed_agent(agent: &Agent, primary: (String, String), is_running: bool) -> Value {
    let (provider, model) = primary;
    json!({
        "id": agent.agent_key.to_string(),
        "name": agent.display_name,
        "model": model,
        "provider": provider,
        "agentType": agent.agent_type,
        "status": agent.status,
        "isRunning": is_running,
        "isDefault": agent.is_default,
        "contextWindow": agent.context_window,
        "maxToolIterations": agent.max_tool_iterations,
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

/// The reply to `chat.session.status`: `runId` is `""` when nothing runs, as in GoClaw.
pub fn session_status(status: &SessionRunStatus) -> Value {
    let activity = status.phase.map(|phase| {
        json!({ "phase": phase_name(phase), "tool": status.tool, "iteration": status.iteration })
    });
    json!({
        "isRunning": status.is_running,
        "runId": status.run_id.map(|id| id.to_string()).unwrap_or_default(),
        "activity": activity,
    })
}

/// A run phase by GoClaw's names where it has one (`tool_exec` for running a tool).
fn phase_name(phase: RunPhase) -> &'static str {
    match phase {
        RunPhase::Acting => "tool_exec",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use goclaw_core::{MASTER_TENANT_ID, TenantId};
    use goclaw_memory::vault::{EnrichPhase, EnrichProgress};
    use serde_json::json;

    use super::*;
    use crate::auth::Role;
    use crate::scopes::Scope;
    use crate::tenant_events::TenantEvent;

    /// A caller of the master tenant with `role` (and, for a key, `scopes`).
    fn caller(role: Role, scopes: Option<&[Scope]>) -> Principal {
        Principal {
            role,
            user_id: "u".to_owned(),
            tenant_id: MASTER_TENANT_ID,
            scopes: scopes.map(<[Scope]>::to_vec),
        }
    }

    /// One line per caller: the master tenant's role and key scopes, and whether it is sent
    /// the master tenant's pairing events and its enrichment progress.
    #[test]
    fn tenant_events_reach_exactly_their_callers() {
        let cases: &[(Role, Option<&[Scope]>, bool, bool)] = &[
            (Role::Owner, None, true, true),
            (Role::Admin, Some(&[Scope::Admin]), true, true),
            (Role::Admin, None, true, true),
            (Role::Operator, Some(&[Scope::Pairing]), false, false),
            (
                Role::Operator,
                Some(&[Scope::Read, Scope::Write]),
                false,
                true,
            ),
            (Role::Operator, None, false, true),
            (Role::Viewer, Some(&[Scope::Read]), false, true),
            (Role::Operator, Some(&[Scope::Approvals]), false, false),
        ];
        let pairing = |tenant: TenantId| TenantEvent {
            tenant,
            event: Event::DevicePairRequested,
            payload: json!({ "code": "ABCD2345" }),
            user_id: String::new(),
            audience: None,
        };
        let progress = |tenant: TenantId| EnrichProgress {
            tenant,
            phase: EnrichPhase::Enriching,
            done: 0,
            total: 1,
            running: true,
        };
        let other = TenantId::generate();
        for &(role, scopes, sees_pairing, sees_progress) in cases {
            let who = caller(role, scopes);
            let what = format!("{role} {scopes:?}");
            let sent = tenant_event_frame(&pairing(MASTER_TENANT_ID), Some(&who));
            assert_eq!(sent.is_some(), sees_pairing, "pairing to {what}");
            let sent = enrich_progress_frame(&progress(MASTER_TENANT_ID), Some(&who));
            assert_eq!(sent.is_some(), sees_progress, "progress to {what}");
            assert!(
                tenant_event_frame(&pairing(other), Some(&who)).is_none(),
                "{what}"
            );
            assert!(
                enrich_progress_frame(&progress(other), Some(&who)).is_none(),
                "{what}"
            );
        }
        assert!(tenant_event_frame(&pairing(MASTER_TENANT_ID), None).is_none());
        assert!(enrich_progress_frame(&progress(MASTER_TENANT_ID), None).is_none());
        let frame =
            tenant_event_frame(&pairing(MASTER_TENANT_ID), Some(&caller(Role::Owner, None)))
                .expect("the owner is sent it");
        assert_eq!(frame["type"], "event");
        assert_eq!(frame["event"], "device.pair.requested");
        assert_eq!(frame["payload"], json!({ "code": "ABCD2345" }));
    }

    /// A team's event reaches its tenant's admins and, below admin, only the users the team
    /// names, whatever their role; never another tenant, never a caller without a user.
    #[test]
    fn team_events_reach_admins_and_the_teams_users() {
        let event = |tenant: TenantId| TenantEvent {
            tenant,
            event: Event::TeamTaskCreated,
            payload: json!({ "task_id": "t" }),
            user_id: String::new(),
            audience: Some(vec!["alice".to_owned(), "vera".to_owned()].into()),
        };
        let who = |role: Role, user: &str, tenant: TenantId| Principal {
            role,
            user_id: user.to_owned(),
            tenant_id: tenant,
            scopes: None,
        };
        let other = TenantId::generate();
        let cases = [
            (Role::Owner, "system", MASTER_TENANT_ID, true),
            (Role::Admin, "ada", MASTER_TENANT_ID, true),
            (Role::Operator, "alice", MASTER_TENANT_ID, true),
            (Role::Viewer, "vera", MASTER_TENANT_ID, true),
            (Role::Operator, "bob", MASTER_TENANT_ID, false),
            (Role::Operator, "", MASTER_TENANT_ID, false),
            (Role::Admin, "ada", other, false),
            (Role::Operator, "alice", other, false),
        ];
        for (role, user, tenant, sent) in cases {
            let frame =
                tenant_event_frame(&event(MASTER_TENANT_ID), Some(&who(role, user, tenant)));
            assert_eq!(frame.is_some(), sent, "{role} {user:?}");
        }
        let link = TenantEvent {
            tenant: MASTER_TENANT_ID,
            event: Event::AgentLinkCreated,
            payload: json!({}),
            user_id: String::new(),
            audience: None,
        };
        let alice = who(Role::Operator, "alice", MASTER_TENANT_ID);
        assert!(tenant_event_frame(&link, Some(&alice)).is_none());
        let ada = who(Role::Admin, "ada", MASTER_TENANT_ID);
        assert!(tenant_event_frame(&link, Some(&ada)).is_some());
    }
}
