//! The catalog's tables of uploaded skills and API-managed MCP servers, and their grants. Listed in
//! [`super::tables::TABLES`] after agents, parents first.

use super::{ColumnType, Table, col};

use ColumnType::{Boolean, Integer, Json, Text, TextList, Timestamp, Uuid};

pub const SKILLS: Table = Table {
    name: "skills",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("name", Text),
        col("slug", Text),
        col("description", Text),
        col("owner_id", Text),
        col("visibility", Text),
        col("version", Integer),
        col("status", Text),
        col("enabled", Boolean),
        col("tags", TextList),
        col("author", Text),
        col("content", Text),
        col("file_path", Text),
        col("file_size", Integer),
        col("file_hash", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const SKILL_AGENT_GRANTS: Table = Table {
    name: "skill_agent_grants",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("skill_id", Uuid),
        col("agent_id", Uuid),
        col("pinned_version", Integer),
        col("granted_by", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const SKILL_USER_GRANTS: Table = Table {
    name: "skill_user_grants",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("skill_id", Uuid),
        col("user_id", Text),
        col("granted_by", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const MCP_SERVERS: Table = Table {
    name: "mcp_servers",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("name", Text),
        col("display_name", Text),
        col("transport", Text),
        col("command", Text),
        col("args", TextList),
        col("url", Text),
        col("tool_prefix", Text),
        col("timeout_sec", Integer),
        col("settings", Json),
        col("enabled", Boolean),
        col("require_user_credentials", Boolean),
        col("secrets", Text),
        col("created_by", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const MCP_AGENT_GRANTS: Table = Table {
    name: "mcp_agent_grants",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("server_id", Uuid),
        col("agent_id", Uuid),
        col("enabled", Boolean),
        col("tool_allow", Json),
        col("tool_deny", Json),
        col("granted_by", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const MCP_USER_GRANTS: Table = Table {
    name: "mcp_user_grants",
    columns: &[
        col("id", Uuid),
        col("tenant_id", Uuid),
        col("server_id", Uuid),
        col("user_id", Text),
        col("enabled", Boolean),
        col("tool_allow", Json),
        col("tool_deny", Json),
        col("granted_by", Text),
        col("created_at", Timestamp),
    ],
    order_by: &["id"],
};

pub const MCP_USER_CREDENTIALS: Table = Table {
    name: "mcp_user_credentials",
    columns: &[
        col("tenant_id", Uuid),
        col("server_id", Uuid),
        col("user_id", Text),
        col("secrets", Text),
        col("created_at", Timestamp),
        col("updated_at", Timestamp),
    ],
    order_by: &["server_id", "user_id"],
};
