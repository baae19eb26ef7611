//! The catalog's tables of agents at work together and on their own: delegation links,
//! subagent tasks, teams and their boards (with the boards' trail), cron jobs and heartbeats,
//! each with its runs. Listed in [`super::tables::TABLES`] in their place, parents first.

use super::{ColumnType, Table, col};

use ColumnType::{Boolean, Integer, Json, Text, Timestamp, Uuid, UuidList};

pub const AGENT_LINKS: Table = Table {
    name: "agent_links",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("source_agent_id", Uuid),
        col("target_agent_id", Uuid),
        col("direction", Text),
        col("max_concurrent", Integer),
        col("settings", Json),
        col("status", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const SUBAGENT_TASKS: Table = Table {
    name: "subagent_tasks",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("parent_agent_key", Text),
        col("parent_session_key", Text),
        col("session_key", Text),
        col("subject", Text),
        col("description", Text),
        col("status", Text),
        col("result", Text),
        col("depth", Integer),
        col("model", Text),
        col("provider", Text),
        col("iterations", Integer),
        col("input_tokens", Integer),
        col("output_tokens", Integer),
        col("created_at", Timestamp),
        col("completed_at", Timestamp),
        col("metadata", Json),
    ],
    order_by: &["id"],
};

pub const AGENT_TEAMS: Table = Table {
    name: "agent_teams",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("name", Text),
        col("description", Text),
        col("lead_agent_id", Uuid),
        col("settings", Json),
        col("status", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const AGENT_TEAM_MEMBERS: Table = Table {
    name: "agent_team_members",
    columns: &[
        col("team_id", Uuid),
        col("agent_id", Uuid),
        col("role", Text),
        col("joined_at", Timestamp),
    ],
    order_by: &["team_id", "agent_id"],
};

pub const TEAM_TASKS: Table = Table {
    name: "team_tasks",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("team_id", Uuid),
        col("task_number", Integer),
        col("subject", Text),
        col("description", Text),
        col("status", Text),
        col("owner_agent_id", Uuid),
        col("blocked_by", UuidList),
        col("priority", Integer),
        col("result", Text),
        col("user_id", Text),
        col("channel", Text),
        col("chat_id", Text),
        col("parent_id", Uuid),
        col("locked_at", Timestamp),
        col("lock_expires_at", Timestamp),
        col("progress_percent", Integer),
        col("progress_step", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
        col("completed_at", Timestamp),
        col("metadata", Json),
        col("followup_at", Timestamp),
        col("followup_count", Integer),
        col("followup_max", Integer),
        col("followup_message", Text),
        col("followup_channel", Text),
        col("followup_chat_id", Text),
    ],
    // Ids are time-ordered, so a parent task is restored before its subtasks.
    order_by: &["id"],
};

pub const TEAM_TASK_COMMENTS: Table = Table {
    name: "team_task_comments",
    columns: &[
        col("id", Uuid),
        col("task_id", Uuid),
        col("agent_id", Uuid),
        col("user_id", Text),
        col("comment_type", Text),
        col("content", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const TEAM_TASK_EVENTS: Table = Table {
    name: "team_task_events",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("task_id", Uuid),
        col("team_id", Uuid),
        col("event_type", Text),
        col("actor_type", Text),
        col("actor_id", Text),
        col("data", Json),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const TEAM_TASK_ATTACHMENTS: Table = Table {
    name: "team_task_attachments",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("task_id", Uuid),
        col("team_id", Uuid),
        col("chat_id", Text),
        col("path", Text),
        col("file_size", Integer),
        col("mime_type", Text),
        col("created_by_agent_id", Uuid),
        col("created_by_sender_id", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const CRON_JOBS: Table = Table {
    name: "cron_jobs",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("agent_id", Uuid),
        col("user_id", Text),
        col("name", Text),
        col("enabled", Boolean),
        col("schedule_kind", Text),
        col("cron_expression", Text),
        col("interval_ms", Integer),
        col("run_at", Timestamp),
        col("timezone", Text),
        col("anchor_at", Timestamp),
        col("payload", Json),
        col("delete_after_run", Boolean),
        col("deliver", Boolean),
        col("deliver_channel", Text),
        col("deliver_to", Text),
        col("wake_heartbeat", Boolean),
        col("stateless", Boolean),
        col("next_run_at", Timestamp),
        col("last_run_at", Timestamp),
        col("last_status", Text),
        col("last_error", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const CRON_RUN_LOGS: Table = Table {
    name: "cron_run_logs",
    columns: &[
        col("id", Uuid),
        col("job_id", Uuid),
        col("tenant_id", Uuid),
        col("agent_id", Uuid),
        col("status", Text),
        col("due_at", Timestamp),
        col("started_at", Timestamp),
        col("ended_at", Timestamp),
        col("duration_ms", Integer),
        col("summary", Text),
        col("error", Text),
        col("input_tokens", Integer),
        col("output_tokens", Integer),
        col("run_id", Text),
        col("session_key", Text),
    ],
    order_by: &["id"],
};

pub const AGENT_HEARTBEATS: Table = Table {
    name: "agent_heartbeats",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("agent_id", Uuid),
        col("enabled", Boolean),
        col("interval_sec", Integer),
        col("prompt", Text),
        col("provider_id", Uuid),
        col("model", Text),
        col("isolated_session", Boolean),
        col("light_context", Boolean),
        col("ack_max_chars", Integer),
        col("max_retries", Integer),
        col("active_hours_start", Text),
        col("active_hours_end", Text),
        col("timezone", Text),
        col("channel", Text),
        col("chat_id", Text),
        col("next_run_at", Timestamp),
        col("last_run_at", Timestamp),
        col("last_status", Text),
        col("last_error", Text),
        col("run_count", Integer),
        col("suppress_count", Integer),
        col("metadata", Json),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const HEARTBEAT_RUN_LOGS: Table = Table {
    name: "heartbeat_run_logs",
    columns: &[
        col("id", Uuid),
        col("heartbeat_id", Uuid),
        col("tenant_id", Uuid),
        col("agent_id", Uuid),
        col("status", Text),
        col("summary", Text),
        col("error", Text),
        col("duration_ms", Integer),
        col("input_tokens", Integer),
        col("output_tokens", Integer),
        col("skip_reason", Text),
        col("metadata", Json),
        col("ran_at", Timestamp),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};
