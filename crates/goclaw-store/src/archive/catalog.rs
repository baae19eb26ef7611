//! The logical schema a backup archive carries: every table but `schema_migrations`, in
//! foreign-key order (parents first), each column with the engine-neutral type that decides how
//! its values are read, written to the archive and restored on either engine.
//!
//! SQLite declares only `TEXT`, `INTEGER` and `REAL`, so whether a column holds a boolean, JSON
//! or a timestamp is written down here rather than read from the database. [`check_live`]
//! compares this list with the database's actual tables and columns before every backup and
//! restore, so a migration that adds a table or column without updating this file fails loudly
//! instead of producing an incomplete backup.

use std::collections::BTreeSet;

use sqlx::{PgConnection, SqliteConnection};

use super::ArchiveError;

/// How a column's values are represented in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A JSON string.
    Text,
    /// A hyphenated UUID, as a JSON string (`UUID` on PostgreSQL, text on SQLite).
    Uuid,
    /// A 64-bit integer, as a JSON number.
    Integer,
    /// A double, as a JSON number; NaN and the infinities as `{"float":"NaN"}` and so on.
    Real,
    /// A JSON boolean (`BOOLEAN` on PostgreSQL, 0/1 on SQLite).
    Boolean,
    /// JSON text, as a JSON string holding it verbatim (`JSONB` on PostgreSQL).
    Json,
    /// An RFC 3339 UTC timestamp, as a JSON string (`TIMESTAMPTZ` on PostgreSQL).
    Timestamp,
    /// A list of strings, as a JSON array (`TEXT[]` on PostgreSQL, JSON text on SQLite).
    TextList,
    /// An embedding, as a JSON array of numbers (pgvector's `vector` on PostgreSQL, a float32
    /// blob on SQLite).
    Vector,
}

impl ColumnType {
    /// The name written in the archive header.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Uuid => "uuid",
            ColumnType::Integer => "integer",
            ColumnType::Real => "real",
            ColumnType::Boolean => "boolean",
            ColumnType::Json => "json",
            ColumnType::Timestamp => "timestamp",
            ColumnType::TextList => "text_list",
            ColumnType::Vector => "vector",
        }
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

/// One table of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The columns rows are read in order of: the primary key, or a unique key.
    pub order_by: &'static [&'static str],
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

use ColumnType::{Boolean, Integer, Json, Real, Text, TextList, Timestamp, Uuid, Vector};

/// Every table of the schema but `schema_migrations`, parents before children.
pub const TABLES: &[Table] = &[
    Table {
        name: "tenants",
        columns: &[
            col("id", Uuid),
            col("slug", Text),
            col("name", Text),
            col("status", Text),
            col("settings", Json),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "agents",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_key", Text),
            col("display_name", Text),
            col("provider", Text),
            col("model", Text),
            col("is_default", Boolean),
            col("context_window", Integer),
            col("max_tool_iterations", Integer),
            col("workspace", Text),
            col("restrict_to_workspace", Boolean),
            col("other_config", Json),
            col("status", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
            col("deleted_at", Timestamp),
            col("agent_type", Text),
        ],
        order_by: &["id"],
    },
    Table {
        name: "agent_context_files",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("file_name", Text),
            col("content", Text),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "user_context_files",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("file_name", Text),
            col("content", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "sessions",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("session_key", Text),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("channel", Text),
            col("summary", Text),
            col("model", Text),
            col("provider", Text),
            col("label", Text),
            col("input_tokens", Integer),
            col("output_tokens", Integer),
            col("compaction_count", Integer),
            col("message_count", Integer),
            col("metadata", Json),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
            col("context_start_seq", Integer),
        ],
        order_by: &["id"],
    },
    Table {
        name: "messages",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("session_id", Uuid),
            col("seq", Integer),
            col("role", Text),
            col("content", Text),
            col("tool_calls", Json),
            col("tool_call_id", Text),
            col("metadata", Json),
            col("created_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "turns",
        columns: &[
            col("message_id", Uuid),
            col("tenant_id", Uuid),
            col("session_id", Uuid),
            col("seq", Integer),
            col("run_id", Uuid),
            col("user_id", Text),
            col("idempotency_key", Text),
            col("status", Text),
            col("error", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["message_id"],
    },
    Table {
        name: "memory_documents",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("path", Text),
            col("content", Text),
            col("content_hash", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "memory_chunks",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("document_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("path", Text),
            col("start_line", Integer),
            col("end_line", Integer),
            col("text", Text),
            col("content_hash", Text),
            col("embedding", Vector),
        ],
        order_by: &["id"],
    },
    Table {
        name: "embedding_cache",
        columns: &[
            col("hash", Text),
            col("provider", Text),
            col("model", Text),
            col("embedding", Vector),
            col("created_at", Timestamp),
        ],
        order_by: &["hash", "provider", "model"],
    },
    Table {
        name: "vault_documents",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("team_id", Uuid),
            col("scope", Text),
            col("owner_key", Text),
            col("path", Text),
            col("path_basename", Text),
            col("title", Text),
            col("doc_type", Text),
            col("content_hash", Text),
            col("summary", Text),
            col("embedding", Vector),
            col("metadata", Json),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "vault_links",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("from_doc_id", Uuid),
            col("to_doc_id", Uuid),
            col("link_type", Text),
            col("context", Text),
            col("metadata", Json),
            col("created_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "episodic_summaries",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("session_key", Text),
            col("summary", Text),
            col("l0_abstract", Text),
            col("key_topics", TextList),
            col("embedding", Vector),
            col("source_type", Text),
            col("source_id", Text),
            col("turn_count", Integer),
            col("token_count", Integer),
            col("created_at", Timestamp),
            col("expires_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "kg_entities",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("external_id", Text),
            col("name", Text),
            col("entity_type", Text),
            col("description", Text),
            col("properties", Json),
            col("source_id", Text),
            col("confidence", Real),
            col("embedding", Vector),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
            col("valid_from", Timestamp),
            col("valid_until", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "kg_relations",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("source_entity_id", Uuid),
            col("relation_type", Text),
            col("target_entity_id", Uuid),
            col("confidence", Real),
            col("properties", Json),
            col("created_at", Timestamp),
            col("valid_from", Timestamp),
            col("valid_until", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "kg_dedup_candidates",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("user_id", Text),
            col("entity_a_id", Uuid),
            col("entity_b_id", Uuid),
            col("similarity", Real),
            col("status", Text),
            col("created_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "llm_providers",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("name", Text),
            col("provider_type", Text),
            col("api_base", Text),
            col("api_key", Text),
            col("enabled", Boolean),
            col("settings", Json),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "api_keys",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("name", Text),
            col("prefix", Text),
            col("key_hash", Text),
            col("scopes", TextList),
            col("owner_id", Text),
            col("expires_at", Timestamp),
            col("last_used_at", Timestamp),
            col("revoked", Boolean),
            col("created_by", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "config_secrets",
        columns: &[
            col("key", Text),
            col("tenant_id", Uuid),
            col("value", Text),
            col("updated_at", Timestamp),
        ],
        order_by: &["key", "tenant_id"],
    },
    Table {
        name: "system_configs",
        columns: &[
            col("tenant_id", Uuid),
            col("key", Text),
            col("value", Text),
            col("updated_at", Timestamp),
        ],
        order_by: &["tenant_id", "key"],
    },
    Table {
        name: "traces",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("parent_trace_id", Uuid),
            col("agent_id", Uuid),
            col("session_key", Text),
            col("run_id", Text),
            col("user_id", Text),
            col("channel", Text),
            col("name", Text),
            col("status", Text),
            col("start_time", Timestamp),
            col("end_time", Timestamp),
            col("duration_ms", Integer),
            col("input_tokens", Integer),
            col("output_tokens", Integer),
            col("cache_read_tokens", Integer),
            col("cache_write_tokens", Integer),
            col("total_cost", Real),
            col("span_count", Integer),
            col("llm_call_count", Integer),
            col("tool_call_count", Integer),
            col("error", Text),
            col("metadata", Json),
            col("created_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "spans",
        columns: &[
            col("id", Uuid),
            col("trace_id", Uuid),
            col("parent_span_id", Uuid),
            col("span_type", Text),
            col("name", Text),
            col("status", Text),
            col("start_time", Timestamp),
            col("end_time", Timestamp),
            col("duration_ms", Integer),
            col("model", Text),
            col("provider", Text),
            col("input_tokens", Integer),
            col("output_tokens", Integer),
            col("cache_read_tokens", Integer),
            col("cache_write_tokens", Integer),
            col("tool_name", Text),
            col("tool_call_id", Text),
            col("input_preview", Text),
            col("output_preview", Text),
            col("error", Text),
            col("metadata", Json),
        ],
        order_by: &["id"],
    },
    Table {
        name: "exec_approvals",
        columns: &[
            col("id", Text),
            col("tenant_id", Uuid),
            col("agent_key", Text),
            col("session_key", Text),
            col("run_id", Text),
            col("command", Text),
            col("status", Text),
            col("decision", Text),
            col("created_at", Timestamp),
            col("resolved_at", Timestamp),
            col("resolved_by", Text),
        ],
        order_by: &["id"],
    },
    Table {
        name: "exec_allowlist",
        columns: &[
            col("tenant_id", Uuid),
            col("agent_key", Text),
            col("binary", Text),
            col("created_at", Timestamp),
        ],
        order_by: &["tenant_id", "agent_key", "binary"],
    },
    Table {
        name: "pairing_requests",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("code", Text),
            col("sender_id", Text),
            col("channel", Text),
            col("chat_id", Text),
            col("account_id", Text),
            col("created_at", Timestamp),
            col("expires_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "paired_devices",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("sender_id", Text),
            col("channel", Text),
            col("chat_id", Text),
            col("paired_by", Text),
            col("paired_at", Timestamp),
            col("expires_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "channel_inbox",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("channel", Text),
            col("platform_id", Text),
            col("chat_id", Text),
            col("sender_id", Text),
            col("payload", Json),
            col("status", Text),
            col("attempts", Integer),
            col("received_at", Timestamp),
            col("settled_at", Timestamp),
            col("draft_message_id", Text),
        ],
        order_by: &["id"],
    },
    Table {
        name: "channel_outbox",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("channel", Text),
            col("chat_id", Text),
            col("dedup_key", Text),
            col("payload", Json),
            col("status", Text),
            col("attempts", Integer),
            col("platform_message_id", Text),
            col("last_error", Text),
            col("created_at", Timestamp),
            col("next_attempt_at", Timestamp),
            col("sent_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "webhooks",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("agent_id", Uuid),
            col("name", Text),
            col("kind", Text),
            col("secret_prefix", Text),
            col("secret_hash", Text),
            col("encrypted_secret", Text),
            col("scopes", TextList),
            col("channel_id", Uuid),
            col("rate_limit_per_min", Integer),
            col("ip_allowlist", TextList),
            col("require_hmac", Boolean),
            col("localhost_only", Boolean),
            col("revoked", Boolean),
            col("created_by", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
            col("last_used_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "webhook_calls",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("webhook_id", Uuid),
            col("agent_id", Uuid),
            col("idempotency_key", Text),
            col("mode", Text),
            col("callback_url", Text),
            col("status", Text),
            col("attempts", Integer),
            col("delivery_id", Uuid),
            col("next_attempt_at", Timestamp),
            col("started_at", Timestamp),
            col("completed_at", Timestamp),
            col("request_payload", Json),
            col("response", Json),
            col("last_error", Text),
            col("created_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
        name: "channel_instances",
        columns: &[
            col("id", Uuid),
            col("tenant_id", Uuid),
            col("name", Text),
            col("display_name", Text),
            col("channel_type", Text),
            col("agent_id", Uuid),
            col("encrypted_credentials", Text),
            col("credential_keys", TextList),
            col("config", Json),
            col("enabled", Boolean),
            col("created_by", Text),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
        ],
        order_by: &["id"],
    },
    Table {
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
    },
    Table {
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
    },
];

/// The table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Quotes an identifier for either engine (`binary` is a keyword on some).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Tables the archive never carries.
const SKIPPED: &[&str] = &["schema_migrations"];

/// Retrieval indexes derived from other rows, never carried: SQLite's FTS5 and sqlite-vec
/// tables over `memory_chunks`, `vault_documents` and `episodic_summaries` (with their shadow
/// tables, named after them), which their triggers fill as a restore inserts the rows.
const DERIVED_TABLE_PREFIXES: &[&str] = &[
    "memory_chunks_fts",
    "memory_chunks_vec",
    "vault_documents_fts",
    "vault_documents_vec",
    "episodic_summaries_fts",
    "episodic_summaries_vec",
];

/// Generated columns, never carried: the engine recomputes them (PostgreSQL's `tsv`).
const DERIVED_COLUMNS: &[(&str, &str)] = &[
    ("memory_chunks", "tsv"),
    ("vault_documents", "tsv"),
    ("episodic_summaries", "tsv"),
];

/// Fails unless the SQLite database has exactly the tables and columns of [`TABLES`].
pub async fn check_live_sqlite(conn: &mut SqliteConnection) -> Result<(), ArchiveError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut live = Vec::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await?;
        live.push((table, columns));
    }
    compare(live)
}

/// Fails unless the PostgreSQL schema has exactly the tables and columns of [`TABLES`].
pub async fn check_live_postgres(conn: &mut PgConnection) -> Result<(), ArchiveError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut live: Vec<(String, Vec<String>)> = Vec::new();
    for (table, column) in rows {
        match live.last_mut() {
            Some((name, columns)) if *name == table => columns.push(column),
            _ => live.push((table, vec![column])),
        }
    }
    compare(live)
}

fn compare(live: Vec<(String, Vec<String>)>) -> Result<(), ArchiveError> {
    let mut seen = BTreeSet::new();
    for (name, columns) in live {
        if SKIPPED.contains(&name.as_str())
            || DERIVED_TABLE_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            continue;
        }
        let Some(known) = table(&name) else {
            return Err(ArchiveError::UnknownSchema(format!(
                "the database has table {name}, which this goclaw's backup format does not know"
            )));
        };
        let live_columns: BTreeSet<&str> = columns
            .iter()
            .map(String::as_str)
            .filter(|column| !DERIVED_COLUMNS.contains(&(name.as_str(), column)))
            .collect();
        let known_columns: BTreeSet<&str> = known.columns.iter().map(|c| c.name).collect();
        if live_columns != known_columns {
            let differing: Vec<&str> = live_columns
                .symmetric_difference(&known_columns)
                .copied()
                .collect();
            return Err(ArchiveError::UnknownSchema(format!(
                "the columns of table {name} differ from this goclaw's backup format ({})",
                differing.join(", ")
            )));
        }
        seen.insert(known.name);
    }
    if let Some(missing) = TABLES.iter().find(|t| !seen.contains(t.name)) {
        return Err(ArchiveError::UnknownSchema(format!(
            "the database has no table {}, which this goclaw's backup format expects",
            missing.name
        )));
    }
    Ok(())
}
