//! GoClaw's JSON shapes of teams, members, tasks, comments and links (its records' JSON tags,
//! snake_case, optional fields left out when empty as its `omitempty` does), and the payload
//! of the `team.task.*` events (`TeamTaskEventPayload`).

use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_core::{
    AgentLink, TaskAttachment, TaskComment, TaskCounts, TaskEvent, Team, TeamMember, TeamTask,
};
use serde_json::{Map, Value, json};

use super::AgentNames;

fn time(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Adds `key: value` unless the value is what GoClaw's `omitempty` leaves out.
fn put(object: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    };
    if !empty {
        object.insert(key.to_owned(), value);
    }
}

/// A team (`TeamData`): with its lead's key and name, and its members when given.
pub fn team_json(team: &Team, names: &AgentNames, members: Option<&[TeamMember]>) -> Value {
    let lead = names.get(team.lead_agent_id);
    let mut object = json!({
        "id": team.id.to_string(),
        "name": team.name,
        "lead_agent_id": team.lead_agent_id.to_string(),
        "status": team.status,
        "settings": team.settings,
        "created_by": "",
        "member_count": members.map_or(0, <[TeamMember]>::len),
        "created_at": time(team.created_at),
        "updated_at": time(team.updated_at),
    });
    if let Value::Object(map) = &mut object {
        put(map, "description", json!(team.description));
        put(
            map,
            "lead_agent_key",
            json!(lead.map_or("", |a| a.agent_key.as_str())),
        );
        put(
            map,
            "lead_display_name",
            json!(lead.map_or("", |a| a.display_name.as_str())),
        );
        if let Some(members) = members {
            let list: Vec<Value> = members.iter().map(|m| member_json(m, names)).collect();
            put(map, "members", Value::Array(list));
        }
    }
    object
}

/// A member (`TeamMemberData`) with its agent's key and name.
pub fn member_json(member: &TeamMember, names: &AgentNames) -> Value {
    let agent = names.get(member.agent_id);
    let mut object = json!({
        "team_id": member.team_id.to_string(),
        "agent_id": member.agent_id.to_string(),
        "role": member.role.as_str(),
        "joined_at": time(member.joined_at),
    });
    if let Value::Object(map) = &mut object {
        put(
            map,
            "agent_key",
            json!(agent.map_or("", |a| a.agent_key.as_str())),
        );
        put(
            map,
            "display_name",
            json!(agent.map_or("", |a| a.display_name.as_str())),
        );
    }
    object
}

/// The kind of task GoClaw's dashboard created it as (`taskType`, kept in the metadata).
pub fn task_type(task: &TeamTask) -> &str {
    task.metadata
        .get("task_type")
        .and_then(Value::as_str)
        .unwrap_or("general")
}

/// A task (`TeamTaskData`) with its owner's key and its comments and attachments counted
/// (`counts`, from `TaskTrailStore::counts`), and its follow-up when one is set.
pub fn task_json(task: &TeamTask, names: &AgentNames, counts: TaskCounts) -> Value {
    let mut object = json!({
        "id": task.id.to_string(),
        "team_id": task.team_id.to_string(),
        "tenant_id": task.tenant_id.to_string(),
        "subject": task.subject,
        "status": task.status.as_str(),
        "priority": task.priority,
        "task_type": task_type(task),
        "task_number": task.task_number,
        "comment_count": counts.comments,
        "attachment_count": counts.attachments,
        "plan_revision": 1,
        "dispatch_count": 0,
        "recovery_count": 0,
        "created_at": time(task.created_at),
        "updated_at": time(task.updated_at),
    });
    if let Value::Object(map) = &mut object {
        put(map, "description", json!(task.description));
        put(
            map,
            "owner_agent_id",
            json!(task.owner_agent_id.map(|id| id.to_string())),
        );
        let blockers: Vec<String> = task.blocked_by.iter().map(ToString::to_string).collect();
        put(map, "blocked_by", json!(blockers));
        put(map, "result", json!(task.result));
        if task.metadata.as_object().is_some_and(|m| !m.is_empty()) {
            map.insert("metadata".to_owned(), task.metadata.clone());
        }
        put(map, "user_id", json!(task.user_id));
        put(map, "channel", json!(task.channel));
        put(map, "chat_id", json!(task.chat_id));
        put(
            map,
            "parent_id",
            json!(task.parent_id.map(|id| id.to_string())),
        );
        put(map, "locked_at", json!(task.locked_at.map(time)));
        put(
            map,
            "lock_expires_at",
            json!(task.lock_expires_at.map(time)),
        );
        put(map, "progress_percent", json!(task.progress_percent));
        put(map, "progress_step", json!(task.progress_step));
        put(map, "completed_at", json!(task.completed_at.map(time)));
        if let Some(owner) = task.owner_agent_id {
            put(map, "owner_agent_key", json!(names.key(owner)));
        }
        if let Some(followup) = &task.followup {
            put(map, "followup_at", json!(followup.due_at.map(time)));
            put(map, "followup_count", json!(followup.sent));
            put(map, "followup_max", json!(followup.max));
            put(map, "followup_message", json!(followup.message));
            put(map, "followup_channel", json!(followup.channel));
            put(map, "followup_chat_id", json!(followup.chat_id));
        }
    }
    object
}

/// An audit event of a task (`TeamTaskEventData`).
pub fn event_json(event: &TaskEvent) -> Value {
    let mut object = json!({
        "id": event.id.to_string(),
        "task_id": event.task_id.to_string(),
        "event_type": event.event_type,
        "actor_type": event.actor_kind.as_str(),
        "actor_id": event.actor_id,
        "created_at": time(event.created_at),
    });
    if let Value::Object(map) = &mut object
        && event.data.as_object().is_some_and(|m| !m.is_empty())
    {
        map.insert("data".to_owned(), event.data.clone());
    }
    object
}

/// A page of a team's audit events, as `teams.events.list` and `GET /v1/teams/{id}/events`
/// answer it: `{events, count}`.
pub fn event_list_json(events: &[TaskEvent]) -> Value {
    let listed: Vec<Value> = events.iter().map(event_json).collect();
    json!({ "count": listed.len(), "events": listed })
}

/// A file attached to a task (`TeamTaskAttachmentData`).
pub fn attachment_json(attachment: &TaskAttachment) -> Value {
    let mut object = json!({
        "id": attachment.id.to_string(),
        "task_id": attachment.task_id.to_string(),
        "team_id": attachment.team_id.to_string(),
        "path": attachment.path,
        "file_size": attachment.file_size,
        "metadata": {},
        "created_at": time(attachment.created_at),
    });
    if let Value::Object(map) = &mut object {
        put(map, "chat_id", json!(attachment.chat_id));
        put(map, "mime_type", json!(attachment.mime_type));
        put(
            map,
            "created_by_agent_id",
            json!(attachment.created_by_agent_id.map(|id| id.to_string())),
        );
        put(
            map,
            "created_by_sender_id",
            json!(attachment.created_by_sender_id),
        );
    }
    object
}

/// A comment (`TeamTaskCommentData`) with its agent's key.
pub fn comment_json(comment: &TaskComment, names: &AgentNames) -> Value {
    let mut object = json!({
        "id": comment.id.to_string(),
        "task_id": comment.task_id.to_string(),
        "content": comment.content,
        "comment_type": comment.kind.as_str(),
        "created_at": time(comment.created_at),
    });
    if let Value::Object(map) = &mut object {
        put(map, "user_id", json!(comment.user_id));
        if let Some(agent) = comment.agent_id {
            map.insert("agent_id".to_owned(), json!(agent.to_string()));
            put(map, "agent_key", json!(names.key(agent)));
        }
    }
    object
}

/// A delegation link (`AgentLinkData`) with both agents' keys. GoClaw's `description` and
/// `team_id` columns live in the link's settings here.
pub fn link_json(link: &AgentLink, names: &AgentNames) -> Value {
    let target = names.get(link.target_agent_id);
    let mut object = json!({
        "id": link.id.to_string(),
        "source_agent_id": link.source_agent_id.to_string(),
        "target_agent_id": link.target_agent_id.to_string(),
        "direction": link.direction.as_str(),
        "max_concurrent": link.max_concurrent,
        "status": link.status,
        "created_by": "",
        "created_at": time(link.created_at),
        "updated_at": time(link.updated_at),
    });
    if let Value::Object(map) = &mut object {
        if link.settings.as_object().is_some_and(|m| !m.is_empty()) {
            map.insert("settings".to_owned(), link.settings.clone());
        }
        put(
            map,
            "description",
            link.settings
                .get("description")
                .cloned()
                .unwrap_or_default(),
        );
        put(
            map,
            "team_id",
            link.settings.get("team_id").cloned().unwrap_or_default(),
        );
        put(
            map,
            "source_agent_key",
            json!(names.key(link.source_agent_id)),
        );
        put(
            map,
            "target_agent_key",
            json!(target.map_or("", |a| a.agent_key.as_str())),
        );
        put(
            map,
            "target_display_name",
            json!(target.map_or("", |a| a.display_name.as_str())),
        );
    }
    object
}

/// Who changed a task, for the events' audit fields.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A person, by user id.
    Human(&'a str),
    /// An agent, by key.
    Agent(&'a str),
    /// The gateway itself (the recovery ticker).
    System,
}

/// The payload of a `team.task.*` event about `task` (`TeamTaskEventPayload`); `extra` adds
/// the event's own fields (`reason`, `comment_text`).
pub fn task_event(
    task: &TeamTask,
    names: &AgentNames,
    actor: Actor<'_>,
    extra: &[(&str, Value)],
) -> Value {
    let (actor_type, actor_id) = match actor {
        Actor::Human(user) => ("human", user),
        Actor::Agent(key) => ("agent", key),
        Actor::System => ("system", "task_recovery"),
    };
    let user_id = match actor {
        Actor::Human(user) => user,
        _ => task.user_id.as_str(),
    };
    let mut object = json!({
        "team_id": task.team_id.to_string(),
        "task_id": task.id.to_string(),
        "status": task.status.as_str(),
        "user_id": user_id,
        "channel": task.channel,
        "chat_id": task.chat_id,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "actor_type": actor_type,
        "actor_id": actor_id,
    });
    if let Value::Object(map) = &mut object {
        put(map, "task_number", json!(task.task_number));
        put(map, "subject", json!(task.subject));
        if let Some(owner) = task.owner_agent_id {
            put(map, "owner_agent_key", json!(names.key(owner)));
            let name = names.get(owner).map_or("", |a| a.display_name.as_str());
            put(map, "owner_display_name", json!(name));
        }
        put(map, "progress_percent", json!(task.progress_percent));
        put(map, "progress_step", json!(task.progress_step));
        for (key, value) in extra {
            put(map, key, value.clone());
        }
    }
    object
}
