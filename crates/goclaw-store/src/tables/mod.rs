//! The store: one module per table family, each implementing its `goclaw-core` trait once on
//! [`SqlStore`], for either engine, through the neutral layer of [`crate::sql`].
//!
//! A module holds its statements as `static` [`Statement`]s, maps its rows with a
//! [`crate::sql::Record`] impl, and names no engine; where the engines need a different
//! number of statements for one operation (appending a message), it matches on
//! [`crate::sql::Dialect`] once and both arms share the statements' pieces and the mapping.

mod agent_links;
mod agent_owned;
mod agents;
mod api_keys;
mod channel_instances;
mod channel_queue;
mod context_files;
mod cron;
mod episodic;
mod exec_approvals;
mod heartbeats;
mod hooks;
mod knowledge_graph;
mod mcp_servers;
mod memory;
mod messages;
mod pairing;
mod providers;
mod secrets;
mod sessions;
mod skills;
mod subagent_tasks;
mod system_configs;
mod task_trail;
mod team_task_comments;
mod team_tasks;
mod teams;
mod tenants;
mod traces;
mod turns;
mod usage;
mod vault;
mod webhooks;

use async_trait::async_trait;
use goclaw_core::{
    AgentLinkStore, AgentStore, ApiKeyStore, ChannelInstanceStore, ChannelQueueStore,
    ContextFileStore, CronStore, EpisodicStore, ExecApprovalStore, HeartbeatStore,
    KnowledgeGraphStore, LlmProviderStore, MemoryStore, MessageStore, PairingStore, SecretStore,
    SessionStore, SkillStore, Store, StoreBackend, StoreError, SubagentTaskStore,
    SystemConfigStore, TaskTrailStore, TeamStore, TeamTaskStore, TenantStore, TraceStore,
    TurnStore, VaultStore, WebhookStore,
};

use crate::error::store_error;
use crate::signature_index::SignatureIndex;
use crate::sql::{Pool, Statement};

static PING: Statement = Statement::new("SELECT 1");

/// The store on either engine's pool; every sub-store is this same value.
pub(crate) struct SqlStore {
    pool: Pool,
    /// SQLite's memory vector index (unused on PostgreSQL, whose index is in the database).
    signatures: SignatureIndex,
}

impl SqlStore {
    pub(crate) fn new(pool: Pool) -> Self {
        Self {
            pool,
            signatures: SignatureIndex::default(),
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> StoreBackend {
        self.pool.backend()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .execute(&PING, &[])
            .await
            .map_err(|e| store_error(e, "database"))?;
        Ok(())
    }

    fn tenants(&self) -> &dyn TenantStore {
        self
    }

    fn agents(&self) -> &dyn AgentStore {
        self
    }

    fn sessions(&self) -> &dyn SessionStore {
        self
    }

    fn messages(&self) -> &dyn MessageStore {
        self
    }

    fn context_files(&self) -> &dyn ContextFileStore {
        self
    }

    fn llm_providers(&self) -> &dyn LlmProviderStore {
        self
    }

    fn secrets(&self) -> &dyn SecretStore {
        self
    }

    fn api_keys(&self) -> &dyn ApiKeyStore {
        self
    }

    fn exec_approvals(&self) -> &dyn ExecApprovalStore {
        self
    }

    fn traces(&self) -> &dyn TraceStore {
        self
    }

    fn turns(&self) -> &dyn TurnStore {
        self
    }

    fn memory(&self) -> &dyn MemoryStore {
        self
    }

    fn system_configs(&self) -> &dyn SystemConfigStore {
        self
    }

    fn vault(&self) -> &dyn VaultStore {
        self
    }

    fn episodic(&self) -> &dyn EpisodicStore {
        self
    }

    fn knowledge_graph(&self) -> &dyn KnowledgeGraphStore {
        self
    }

    fn pairing(&self) -> &dyn PairingStore {
        self
    }

    fn channel_queue(&self) -> &dyn ChannelQueueStore {
        self
    }

    fn webhooks(&self) -> &dyn WebhookStore {
        self
    }

    fn channel_instances(&self) -> &dyn ChannelInstanceStore {
        self
    }

    fn agent_links(&self) -> &dyn AgentLinkStore {
        self
    }

    fn subagent_tasks(&self) -> &dyn SubagentTaskStore {
        self
    }

    fn teams(&self) -> &dyn TeamStore {
        self
    }

    fn team_tasks(&self) -> &dyn TeamTaskStore {
        self
    }

    fn task_trail(&self) -> &dyn TaskTrailStore {
        self
    }

    fn cron(&self) -> &dyn CronStore {
        self
    }

    fn heartbeats(&self) -> &dyn HeartbeatStore {
        self
    }

    fn skills(&self) -> &dyn SkillStore {
        self
    }

    fn mcp_servers(&self) -> &dyn goclaw_core::McpServerStore {
        self
    }

    fn hooks(&self) -> &dyn goclaw_core::HookStore {
        self
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// SQL one engine spells its own way, each with where a table module finds it instead.
    const ENGINE_SPELLINGS: &[(&str, &str)] = &[
        ("$1", "`?` placeholders"),
        ("::uuid", "typed parameters (Param)"),
        ("strftime", "{now}"),
        ("now()", "{now}"),
        ("julianday", "{ms_since:column}"),
        ("EXTRACT(EPOCH", "{ms_since:column}"),
        ("COLLATE", "{bytewise}"),
        ("FOR UPDATE", "{for_update}"),
        ("SKIP LOCKED", "{skip_locked}"),
        ("BEGIN", "Pool::begin_write or Pool::begin"),
        ("bm25", "sql::retrieval"),
        ("to_tsquery", "sql::retrieval"),
        ("<=>", "sql::retrieval"),
        ("memory_chunks_fts", "sql::retrieval"),
        ("memory_chunks_vec", "sql::retrieval"),
        ("vault_documents_fts", "sql::retrieval"),
        ("vault_documents_vec", "sql::retrieval"),
        ("episodic_summaries_fts", "sql::retrieval"),
        ("episodic_summaries_vec", "sql::retrieval"),
        ("to_tsquery", "sql::retrieval"),
        ("vec_distance_cosine", "sql::retrieval"),
    ];

    /// The code of `source` before its tests, without comments, and the text of its string
    /// literals (the SQL).
    fn code_and_literals(source: &str) -> (String, String) {
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        let (mut code, mut literals) = (String::new(), String::new());
        for line in source.lines() {
            let mut in_literal = false;
            let mut escaped = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if in_literal {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            in_literal = false;
                            literals.push(' ');
                        }
                        _ => {
                            escaped = false;
                            literals.push(c);
                        }
                    }
                } else if c == '/' && chars.peek() == Some(&'/') {
                    break;
                } else {
                    in_literal = c == '"';
                    code.push(c);
                }
            }
            code.push('\n');
        }
        (code, literals)
    }

    #[test]
    fn table_modules_leave_dialects_to_the_sql_layer() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tables");
        let (mut read, mut offences) = (0, Vec::new());
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            read += 1;
            let (code, sql) = code_and_literals(&source);
            if code.contains("sqlx") {
                offences.push(format!("{}: sqlx (use crate::sql)", path.display()));
            }
            for (spelling, instead) in ENGINE_SPELLINGS {
                if sql.contains(spelling) {
                    offences.push(format!("{}: {spelling:?} (use {instead})", path.display()));
                }
            }
        }
        assert!(read > 10, "read {read} table modules in {}", dir.display());
        assert!(
            offences.is_empty(),
            "engine spellings in table modules: {offences:#?}"
        );
    }
}
