//! The catalog's tables of uploaded skills and their grants. Listed in
//! [`super::tables::TABLES`] after agents, parents first.

use super::{ColumnType, Table, col};

use ColumnType::{Boolean, Integer, Text, TextList, Timestamp, Uuid};

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
