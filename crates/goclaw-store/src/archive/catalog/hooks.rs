//! The catalog's tables of hooks and their executions. Listed in [`super::tables::TABLES`]
//! after tenants and agents, hooks before their executions.

use super::{ColumnType, Table, col};

use ColumnType::{Boolean, Integer, Json, Text, Timestamp, Uuid, UuidList};

pub const HOOKS: Table = Table {
    name: "hooks",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("agent_ids", UuidList),
        col("event", Text),
        col("handler_type", Text),
        col("scope", Text),
        col("name", Text),
        col("config", Json),
        col("secrets", Text),
        col("matcher", Text),
        col("if_expr", Text),
        col("timeout_ms", Integer),
        col("on_timeout", Text),
        col("priority", Integer),
        col("enabled", Boolean),
        col("version", Integer),
        col("source", Text),
        col("metadata", Json),
        col("created_by", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const HOOK_EXECUTIONS: Table = Table {
    name: "hook_executions",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("hook_id", Uuid),
        col("session_id", Text),
        col("event", Text),
        col("input_hash", Text),
        col("decision", Text),
        col("duration_ms", Integer),
        col("retry", Integer),
        col("dedup_key", Text),
        col("error", Text),
        col("metadata", Json),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};
