//! Filling every table of a migrated database with raw SQL (independently of the code under
//! test), reading every row back as comparable text, and emptying the tables again.

use goclaw_core::{
    AgentId, AgentKey, EMBEDDING_DIMENSIONS, EmbeddingKey, EpisodicScope, MASTER_TENANT_ID,
    MemoryScope, NewAgent, NewEpisode, NewMemoryChunk, NewMemoryDocument, NewMessage, NewTurn,
    Role, SessionKey, Store, TurnEnd, TurnStatus, Usage,
};
use goclaw_store::testing::TestDatabase;
use serde_json::json;

mod channel_instances;
mod cron;
mod heartbeats;
mod hooks;
mod knowledge_graph;
mod search;
mod skills;
mod teams;
mod webhooks;

pub use search::assert_memory_searchable;

pub const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";
pub const ACME_AGENT: &str = "0193a5b0-7000-7000-8000-0000000000a2";
pub const TRACE: &str = "0193a5b0-7000-7000-8000-0000000000b1";
pub const CHILD_TRACE: &str = "0193a5b0-7000-7000-8000-0000000000b2";

/// A value for [`insert`], typed the way the column is.
enum V<'a> {
    Text(&'a str),
    Uuid(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
    Json(&'a str),
    Time(&'a str),
    List(&'a [&'a str]),
    Null,
}

/// Inserts one row with raw SQL, independently of the code under test.
async fn insert(db: &TestDatabase, table: &str, values: &[(&str, V<'_>)]) {
    let columns: Vec<String> = values.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    if let Some(pool) = db.sqlite_pool() {
        let marks: Vec<&str> = values
            .iter()
            .map(|(_, v)| if matches!(v, V::Null) { "NULL" } else { "?" })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (_, value) in values {
            query = match value {
                V::Text(s) | V::Uuid(s) | V::Json(s) | V::Time(s) => query.bind(*s),
                V::Int(i) => query.bind(*i),
                V::Real(r) => query.bind(*r),
                V::Bool(b) => query.bind(i64::from(*b)),
                V::List(l) => query.bind(json!(l).to_string()),
                V::Null => query,
            };
        }
        query.execute(pool).await.expect(&sql);
        return;
    }
    let pool = db.postgres_pool().expect("a PostgreSQL pool");
    let mut n = 0;
    let marks: Vec<String> = values
        .iter()
        .map(|(_, v)| {
            let cast = match v {
                V::Null => return "NULL".to_owned(),
                V::Uuid(_) => "::uuid",
                V::Json(_) => "::jsonb",
                V::Time(_) => "::timestamptz",
                _ => "",
            };
            n += 1;
            format!("${n}{cast}")
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (_, value) in values {
        query = match value {
            V::Text(s) | V::Uuid(s) | V::Json(s) | V::Time(s) => query.bind(*s),
            V::Int(i) => query.bind(*i),
            V::Real(r) => query.bind(*r),
            V::Bool(b) => query.bind(*b),
            V::List(l) => query.bind(l.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            V::Null => query,
        };
    }
    query.execute(pool).await.expect(&sql);
}

/// Puts representative rows in every table: the store's own writes where it has them, raw
/// inserts for the rest; NULLs, unicode, JSON, booleans, reals and integers beyond 2^53.
pub async fn fill(db: &TestDatabase) {
    use V::*;
    let store = db.store();
    let key = |k: &str| AgentKey::parse(k).expect("agent key");
    let mut alpha = NewAgent::new(MASTER_TENANT_ID, key("alpha"), "Alpha ✨");
    alpha.is_default = true;
    alpha.other_config = json!({ "temperature": 0.5, "tools": ["exec", "web_fetch"] });
    let alpha = store.agents().create(alpha).await.expect("alpha");
    let beta = NewAgent::new(MASTER_TENANT_ID, key("beta"), "Beta");
    store.agents().create(beta).await.expect("beta");
    store
        .agents()
        .delete(MASTER_TENANT_ID, &key("beta"))
        .await
        .expect("soft-delete beta");
    store
        .context_files()
        .set(
            MASTER_TENANT_ID,
            alpha.id,
            "SOUL.md",
            "# Soul\n\"quoted\" — ünïcode",
        )
        .await
        .expect("context file");
    store
        .context_files()
        .set_for_user(MASTER_TENANT_ID, alpha.id, "u1", "USER.md", "# Me\nälice")
        .await
        .expect("user context file");
    let session_key = SessionKey::parse("agent:alpha:ws:direct:u1").expect("session key");
    let session = store
        .sessions()
        .get_or_create(MASTER_TENANT_ID, &session_key, Some(&alpha), "u1", "ws")
        .await
        .expect("session");
    let messages = store.messages();
    messages
        .append(
            session.id,
            NewMessage::text(Role::User, "héllo 🌍\nline two"),
        )
        .await
        .expect("user message");
    let mut call = NewMessage::text(Role::Assistant, "");
    call.tool_calls = json!([{ "id": "c1", "name": "exec", "arguments": { "cmd": "ls" } }]);
    messages.append(session.id, call).await.expect("tool call");
    let mut result = NewMessage::text(Role::Tool, "file.txt");
    result.tool_call_id = Some("c1".to_owned());
    result.metadata = json!({ "ms": 12 });
    messages
        .append(session.id, result)
        .await
        .expect("tool result");
    let turns = store.turns();
    let run = uuid::Uuid::now_v7();
    let turn = |key: Option<&str>| NewTurn {
        tenant_id: MASTER_TENANT_ID,
        run_id: run,
        user_id: "u1".to_owned(),
        idempotency_key: key.map(str::to_owned),
    };
    let text = |role, content: &str| NewMessage::text(role, content);
    turns
        .accept(
            session.id,
            text(Role::User, "answered"),
            turn(Some("req-1")),
        )
        .await
        .expect("answered turn");
    turns
        .finish_run(
            session.id,
            run,
            TurnEnd {
                status: TurnStatus::Completed,
                error: None,
                message: Some(text(Role::Assistant, "the answer")),
            },
        )
        .await
        .expect("finish the run");
    let (dropped, _) = turns
        .accept(session.id, text(Role::User, "dropped"), turn(None))
        .await
        .expect("dropped turn");
    turns
        .finish_message(
            session.id,
            dropped.seq,
            TurnEnd {
                status: TurnStatus::Dropped,
                error: Some("session queue full ⏳".to_owned()),
                message: None,
            },
        )
        .await
        .expect("drop the message");
    let usage = Usage {
        input_tokens: 1200,
        output_tokens: 34,
        ..Usage::default()
    };
    store
        .sessions()
        .add_usage(session.id, &usage)
        .await
        .expect("usage");

    fill_memory(store.as_ref(), alpha.id).await;
    fill_episodic(store.as_ref(), alpha.id).await;
    knowledge_graph::fill(db, &alpha.id.to_string()).await;

    let t = "2026-01-02T03:04:05.678Z";
    insert(
        db,
        "tenants",
        &[
            ("id", Uuid(ACME)),
            ("slug", Text("acme")),
            ("name", Text("Acme, Inc.")),
            ("settings", Json(r#"{"plan":"pro","limits":{"rpm":60}}"#)),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "agents",
        &[
            ("id", Uuid(ACME_AGENT)),
            ("tenant_id", Uuid(ACME)),
            ("agent_key", Text("helper")),
            ("is_default", Bool(false)),
            ("restrict_to_workspace", Bool(false)),
            ("context_window", Int(1_000_000)),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "llm_providers",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000c1")),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("openrouter")),
            ("api_base", Text("https://openrouter.ai/api/v1")),
            ("api_key", Text("aes-gcm:AAAAbase64ciphertext==")),
            ("enabled", Bool(false)),
            ("settings", Json(r#"{"headers":{"X-Title":"goclaw"}}"#)),
        ],
    )
    .await;
    insert(
        db,
        "api_keys",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000d1")),
            ("tenant_id", Null),
            ("name", Text("ci")),
            ("prefix", Text("goclaw_ab")),
            ("key_hash", Text(&"a".repeat(64))),
            ("scopes", List(&["operator.admin", "operator.read"])),
            ("owner_id", Null),
            ("expires_at", Time("2027-01-01T00:00:00.000Z")),
            ("revoked", Bool(true)),
        ],
    )
    .await;
    insert(
        db,
        "api_keys",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000d2")),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("bot")),
            ("prefix", Text("goclaw_cd")),
            ("key_hash", Text(&"b".repeat(64))),
            ("scopes", List(&[])),
            ("owner_id", Text("u1")),
            ("last_used_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "config_secrets",
        &[
            ("key", Text("telegram.token")),
            ("tenant_id", Uuid(ACME)),
            ("value", Text("aes-gcm:c2VjcmV0")),
        ],
    )
    .await;
    insert(
        db,
        "system_configs",
        &[
            ("tenant_id", Uuid(ACME)),
            ("key", Text("embedding.provider")),
            ("value", Text("openai")),
        ],
    )
    .await;
    insert(
        db,
        "traces",
        &[
            ("id", Uuid(TRACE)),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("name", Text("chat")),
            ("status", Text("ok")),
            ("start_time", Time(t)),
            ("end_time", Time("2026-01-02T03:04:06.912Z")),
            ("duration_ms", Int(1234)),
            ("input_tokens", Int(9_007_199_254_740_993)),
            ("total_cost", Real(0.125)),
            ("metadata", Json(r#"{"k":[1,2.5,null,true]}"#)),
        ],
    )
    .await;
    insert(
        db,
        "traces",
        &[
            ("id", Uuid(CHILD_TRACE)),
            ("tenant_id", Uuid(ACME)),
            ("parent_trace_id", Uuid(TRACE)),
            ("start_time", Time(t)),
            ("total_cost", Real(-3.0e-7)),
            ("error", Text("boom")),
        ],
    )
    .await;
    insert(
        db,
        "spans",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e1")),
            ("trace_id", Uuid(TRACE)),
            ("span_type", Text("llm_call")),
            ("start_time", Time(t)),
            ("model", Text("m")),
            ("input_preview", Text("{\"not\": \"json column\"}")),
            ("duration_ms", Null),
        ],
    )
    .await;
    insert(
        db,
        "exec_approvals",
        &[
            ("id", Text("appr-1")),
            ("tenant_id", Uuid(ACME)),
            ("agent_key", Text("helper")),
            ("command", Text("rm -rf /tmp/x")),
            ("status", Text("denied")),
            ("decision", Text("deny")),
            ("resolved_at", Time(t)),
            ("resolved_by", Text("op")),
        ],
    )
    .await;
    insert(
        db,
        "exec_allowlist",
        &[
            ("tenant_id", Uuid(ACME)),
            ("agent_key", Text("helper")),
            ("binary", Text("git")),
        ],
    )
    .await;
    insert(
        db,
        "pairing_requests",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e1")),
            ("tenant_id", Uuid(ACME)),
            ("code", Text("ABCD2345")),
            ("sender_id", Text("4711")),
            ("channel", Text("telegram")),
            ("chat_id", Text("-100")),
            ("expires_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "paired_devices",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e2")),
            ("tenant_id", Uuid(ACME)),
            ("sender_id", Text("4712")),
            ("channel", Text("discord")),
            ("paired_by", Text("operator")),
            ("expires_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "channel_inbox",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e3")),
            ("tenant_id", Uuid(ACME)),
            ("channel", Text("telegram")),
            ("platform_id", Text("update:991")),
            ("chat_id", Text("4711")),
            ("sender_id", Text("4711")),
            ("payload", Json(r#"{"text": "héllo ✨"}"#)),
            ("attempts", Int(2)),
            ("settled_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "channel_outbox",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e4")),
            ("tenant_id", Uuid(ACME)),
            ("channel", Text("telegram")),
            ("chat_id", Text("4711")),
            ("dedup_key", Text("run:1:0")),
            ("payload", Json(r#"{"text": "<b>hi</b>"}"#)),
            ("status", Text("sent")),
            ("platform_message_id", Text("77")),
            ("sent_at", Time(t)),
        ],
    )
    .await;
    webhooks::fill(db, t).await;
    channel_instances::fill(db, t).await;
    teams::fill(db).await;
    cron::fill(db, t).await;
    heartbeats::fill(db, t).await;
    skills::fill(db, t).await;
    skills::fill_mcp(db, t).await;
    hooks::fill(db, t).await;
    insert(
        db,
        "tenant_users",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000c7")),
            ("tenant_id", Uuid(ACME)),
            ("user_id", Text("zoë@acme")),
            ("role", Text("admin")),
            ("display_name", Text("Zoë")),
            ("metadata", Json(r#"{"invited_by": "system"}"#)),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    let alpha_id = alpha.id.to_string();
    insert(
        db,
        "vault_documents",
        &[
            ("id", Uuid(VAULT_NOTE)),
            ("tenant_id", Uuid(&MASTER_TENANT_ID.to_string())),
            ("agent_id", Uuid(&alpha_id)),
            ("scope", Text("personal")),
            ("owner_key", Text(&alpha_id)),
            ("path", Text("alpha/notes/Plan ✨.md")),
            ("path_basename", Text("plan ✨.md")),
            ("title", Text("Plan ✨")),
            ("doc_type", Text("note")),
            ("content_hash", Text("ab12")),
            ("metadata", Json(r#"{"source": "watcher"}"#)),
        ],
    )
    .await;
    insert(
        db,
        "vault_documents",
        &[
            ("id", Uuid(VAULT_SHARED)),
            ("tenant_id", Uuid(&MASTER_TENANT_ID.to_string())),
            ("scope", Text("shared")),
            ("path", Text("handbook.md")),
            ("path_basename", Text("handbook.md")),
            ("title", Text("handbook")),
            ("summary", Text("how we work")),
        ],
    )
    .await;
    insert(
        db,
        "vault_links",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000c3")),
            ("tenant_id", Uuid(&MASTER_TENANT_ID.to_string())),
            ("from_doc_id", Uuid(VAULT_NOTE)),
            ("to_doc_id", Uuid(VAULT_SHARED)),
            ("context", Text("see [[handbook]] first")),
        ],
    )
    .await;
}

const VAULT_NOTE: &str = "0193a5b0-7000-7000-8000-0000000000c1";
const VAULT_SHARED: &str = "0193a5b0-7000-7000-8000-0000000000c2";

/// The word every filled memory chunk can be found by, and the axis its embedding points along.
pub const MEMORY_WORD: &str = "lighthouse";
pub const MEMORY_AXIS: usize = 42;

/// Memory documents with chunks (one embedded with values no float prints exactly, one not)
/// and a cached embedding, written through the store.
async fn fill_memory(store: &dyn Store, agent: AgentId) {
    let memory = store.memory();
    let chunk = |line: i64, text: &str| NewMemoryChunk {
        start_line: line,
        end_line: line + 1,
        text: text.to_owned(),
        content_hash: format!("h{line}"),
        embedding: None,
    };
    let mut embedding = vec![0.0_f32; EMBEDDING_DIMENSIONS];
    embedding[MEMORY_AXIS] = 0.1;
    embedding[MEMORY_AXIS + 1] = -1.0e-7;
    for (owner, text) in [
        (
            MemoryScope::shared(MASTER_TENANT_ID, agent),
            "the lighthouse ✨ keeper",
        ),
        (
            MemoryScope::user(MASTER_TENANT_ID, agent, "u1"),
            "älice's lighthouse",
        ),
    ] {
        let (_, chunks) = memory
            .put_document(NewMemoryDocument {
                owner,
                path: "memory/notes.md".to_owned(),
                content: format!("{text}\nunembedded line"),
                content_hash: "doc-hash".to_owned(),
                chunks: vec![chunk(1, text), chunk(3, "unembedded line")],
            })
            .await
            .expect("memory document");
        memory
            .set_chunk_embedding(MASTER_TENANT_ID, chunks[0].id, Some(&embedding))
            .await
            .expect("chunk embedding");
    }
    let key = EmbeddingKey {
        hash: "h1",
        provider: "openai",
        model: "text-embedding-3-small",
    };
    memory
        .cache_embedding(key, &embedding)
        .await
        .expect("cached embedding");
}

/// The word the filled episode can be found by.
pub const EPISODE_WORD: &str = "lantern";

/// Two episodes of one user through the store, one with an embedding (along
/// [`MEMORY_AXIS`]) and an expiry, one with neither.
async fn fill_episodic(store: &dyn Store, agent: AgentId) {
    let mut embedding = vec![0.0_f32; EMBEDDING_DIMENSIONS];
    embedding[MEMORY_AXIS] = 0.25;
    let expires = chrono::DateTime::parse_from_rfc3339("2099-03-04T05:06:07.891Z")
        .expect("time")
        .to_utc();
    for (source, embedding, expires_at) in [
        ("web:one#4", Some(embedding), Some(expires)),
        ("web:two#2", None, None),
    ] {
        store
            .episodic()
            .insert_episode(NewEpisode {
                scope: EpisodicScope::new(MASTER_TENANT_ID, agent, "u1"),
                session_key: source.split('#').next().unwrap_or_default().to_owned(),
                summary: format!("The user lit a {EPISODE_WORD} ✨ at dusk ({source})."),
                l0_abstract: "A lantern at dusk.".to_owned(),
                key_topics: vec!["lantern".to_owned(), "dusk, evening".to_owned()],
                embedding,
                source_type: "session".to_owned(),
                source_id: source.to_owned(),
                turn_count: 2,
                token_count: 9_007_199_254_740_993,
                expires_at,
            })
            .await
            .expect("episode")
            .expect("a new episode");
    }
}

/// Tables derived from others, which a backup leaves out and a restore rebuilds: SQLite's
/// full-text and vector indexes (and their shadow tables).
fn derived(table: &str) -> bool {
    [
        "memory_chunks_fts",
        "memory_chunks_vec",
        "vault_documents_fts",
        "vault_documents_vec",
        "episodic_summaries_fts",
        "episodic_summaries_vec",
    ]
    .iter()
    .any(|prefix| table.starts_with(prefix))
}

/// Every table but `schema_migrations` with all its rows, as the engine itself renders them
/// as JSON, ordered by every column (primary key first).
pub async fn contents(db: &TestDatabase) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(pool) = db.sqlite_pool() {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .expect("tables");
        for table in tables.into_iter().filter(|t| !derived(t)) {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY pk DESC, cid")
                    .bind(&table)
                    .fetch_all(pool)
                    .await
                    .expect("columns");
            let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
            // JSON holds no blobs (embeddings): those are compared as hexadecimal.
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| format!("'{c}', iif(typeof(\"{c}\") = 'blob', hex(\"{c}\"), \"{c}\")"))
                .collect();
            let sql = format!(
                "SELECT json_object({}) FROM \"{table}\" ORDER BY {}",
                pairs.join(", "),
                quoted.join(", ")
            );
            let rows = sqlx::query_scalar(&sql).fetch_all(pool).await.expect(&sql);
            out.push((table, rows));
        }
        return out;
    }
    let pool = db.postgres_pool().expect("a PostgreSQL pool");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \
         current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' \
         ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .expect("columns");
        let quoted: Vec<String> = columns.iter().map(|c| format!("t.\"{c}\"")).collect();
        let sql = format!(
            "SELECT to_jsonb(t)::text FROM \"{table}\" t ORDER BY {}",
            quoted.join(", ")
        );
        let rows = sqlx::query_scalar(&sql).fetch_all(pool).await.expect(&sql);
        out.push((table, rows));
    }
    out
}

/// Deletes every row (the tenants' cascade takes the rest; the embedding cache and API keys
/// without a tenant are deleted on their own).
pub async fn wipe(db: &TestDatabase) {
    for sql in [
        "DELETE FROM api_keys",
        "DELETE FROM embedding_cache",
        "DELETE FROM tenants",
    ] {
        match (db.sqlite_pool(), db.postgres_pool()) {
            (Some(pool), _) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            (_, Some(pool)) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            _ => unreachable!("one of the pools"),
        }
        .expect(sql);
    }
}

pub fn total_rows(contents: &[(String, Vec<String>)]) -> usize {
    contents.iter().map(|(_, rows)| rows.len()).sum()
}
