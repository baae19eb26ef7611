//! Sessions.
//!
//! `get_or_create` reads first (nearly every turn finds its session), then inserts with
//! `ON CONFLICT DO NOTHING` and reads again if someone else created it meanwhile. Every write
//! that reads before it writes (`patch`) or touches both sessions and messages (`delete`,
//! `reset`, which also delete the messages' turns) runs in one write transaction, so it cannot
//! interleave with an append: on SQLite it holds the write lock; on PostgreSQL `patch` reads
//! the row `FOR UPDATE`, and `reset` updates the session row first, taking the lock an append
//! takes.

use async_trait::async_trait;
use goclaw_core::{
    Agent, Session, SessionFilter, SessionId, SessionKey, SessionPatch, SessionStore, StoreError,
    TenantId, Usage,
};

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::patch::{apply_session_patch, tokens};
use crate::sql::{Param, Record, Row, Statement, Tx};

const COLUMNS: &str = "id, tenant_id, session_key, agent_id, user_id, channel, label, model, \
                       summary, context_start_seq, message_count, input_tokens, output_tokens, \
                       compaction_count, metadata, created_at, updated_at";

/// Page size when a filter asks for 0.
const DEFAULT_LIMIT: u32 = 20;

static FIND: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM sessions WHERE tenant_id = ? AND session_key = ?",
]);
static FIND_FOR_UPDATE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM sessions WHERE tenant_id = ? AND session_key = ? {for_update}",
]);
static CREATE: Statement = Statement::joined(&[
    "INSERT INTO sessions \
     (id, tenant_id, session_key, agent_id, user_id, channel, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, {now}, {now}) \
     ON CONFLICT (tenant_id, session_key) DO NOTHING RETURNING ",
    COLUMNS,
]);
static PATCH: Statement = Statement::joined(&[
    "UPDATE sessions SET label = ?, model = ?, metadata = ?, updated_at = {now} \
     WHERE id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement =
    Statement::new("DELETE FROM sessions WHERE tenant_id = ? AND session_key = ? RETURNING id");
static RESET: Statement = Statement::new(
    "UPDATE sessions SET summary = NULL, context_start_seq = 0, message_count = 0, \
     input_tokens = 0, output_tokens = 0, compaction_count = 0, updated_at = {now} \
     WHERE tenant_id = ? AND session_key = ? RETURNING id",
);
static DELETE_TURNS: Statement = Statement::new("DELETE FROM turns WHERE session_id = ?");
static DELETE_MESSAGES: Statement = Statement::new("DELETE FROM messages WHERE session_id = ?");
static COMPACT: Statement = Statement::new(
    "UPDATE sessions SET summary = ?, context_start_seq = ?, \
     compaction_count = compaction_count + 1, updated_at = {now} WHERE id = ?",
);
static ADD_USAGE: Statement = Statement::new(
    "UPDATE sessions SET input_tokens = input_tokens + ?, \
     output_tokens = output_tokens + ?, updated_at = {now} WHERE id = ?",
);

impl Record for Session {
    const TABLE: &'static str = "sessions";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Session {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            session_key: row.parse("session_key", SessionKey::parse)?,
            agent_id: row.opt_id("agent_id")?,
            user_id: row.text("user_id")?,
            channel: row.text("channel")?,
            label: row.text("label")?,
            model: row.text("model")?,
            summary: row.opt_text("summary")?,
            context_start_seq: row.int("context_start_seq")?,
            message_count: row.int("message_count")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            compaction_count: row.int("compaction_count")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn get_or_create(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        agent: Option<&Agent>,
        user_id: &str,
        channel: &str,
    ) -> Result<Session, StoreError> {
        if agent.is_some_and(|a| a.tenant_id != tenant) {
            return Err(StoreError::NotFound("agent"));
        }
        // Nearly every turn finds its session: one read, and no write taken for nothing.
        if let Some(session) = self.find(tenant, key).await? {
            return Ok(session);
        }
        let params = [
            SessionId::generate().into(),
            tenant.into(),
            key.as_str().into(),
            agent.map(|a| a.id).into(),
            user_id.into(),
            channel.into(),
        ];
        let created = self
            .pool
            .fetch_optional(&CREATE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "session", "tenant or agent"))?;
        match created {
            Some(row) => row.decode(),
            // Created by someone else since the read above.
            None => self.get(tenant, key).await,
        }
    }

    async fn get(&self, tenant: TenantId, key: &SessionKey) -> Result<Session, StoreError> {
        self.find(tenant, key)
            .await?
            .ok_or(StoreError::NotFound("session"))
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &SessionFilter,
    ) -> Result<(Vec<Session>, u64), StoreError> {
        let db_error = |e| store_error(e, "session");
        let (condition, mut params) = list_filter(tenant, filter);
        let count = Statement::dynamic(format!(
            "SELECT COUNT(*) AS total FROM sessions WHERE {condition}"
        ));
        let total = self
            .pool
            .fetch_one(&count, &params)
            .await
            .map_err(db_error)?
            .read(Session::TABLE)
            .int("total")?;

        let limit = if filter.limit == 0 {
            DEFAULT_LIMIT
        } else {
            filter.limit
        };
        params.push(i64::from(limit).into());
        params.push(i64::from(filter.offset).into());
        let page = Statement::dynamic(format!(
            "SELECT {COLUMNS} FROM sessions WHERE {condition} \
             ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        ));
        let sessions = self
            .pool
            .fetch_all(&page, &params)
            .await
            .map_err(db_error)?
            .decode()?;
        Ok((sessions, u64::try_from(total).unwrap_or_default()))
    }

    async fn patch(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        patch: SessionPatch,
    ) -> Result<Session, StoreError> {
        let db_error = |e| store_error(e, "session");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let mut session: Session = tx
            .fetch_one(&FIND_FOR_UPDATE, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(db_error)?
            .decode()?;
        apply_session_patch(&mut session, patch)?;
        let params = [
            (&session.label).into(),
            (&session.model).into(),
            (&session.metadata).into(),
            session.id.into(),
        ];
        let row = tx.fetch_one(&PATCH, &params).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.decode()
    }

    async fn delete(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError> {
        self.clear(&DELETE, tenant, key).await
    }

    async fn reset(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError> {
        self.clear(&RESET, tenant, key).await
    }

    async fn compact(
        &self,
        session: SessionId,
        summary: &str,
        context_start_seq: i64,
    ) -> Result<(), StoreError> {
        let params = [summary.into(), context_start_seq.into(), session.into()];
        let updated = self
            .pool
            .execute(&COMPACT, &params)
            .await
            .map_err(|e| store_error(e, "session"))?;
        found(updated)
    }

    async fn add_usage(&self, session: SessionId, usage: &Usage) -> Result<(), StoreError> {
        let params = [
            tokens(usage.input_tokens).into(),
            tokens(usage.output_tokens).into(),
            session.into(),
        ];
        let updated = self
            .pool
            .execute(&ADD_USAGE, &params)
            .await
            .map_err(|e| store_error(e, "session"))?;
        found(updated)
    }
}

impl SqlStore {
    /// The session `key` of `tenant`, if there is one.
    async fn find(
        &self,
        tenant: TenantId,
        key: &SessionKey,
    ) -> Result<Option<Session>, StoreError> {
        self.pool
            .fetch_optional(&FIND, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(|e| store_error(e, "session"))?
            .map(|row| row.decode())
            .transpose()
    }

    /// Runs `statement` (deleting or resetting the session `key` of `tenant`, returning its id),
    /// then deletes its transcript, in one write transaction.
    async fn clear(
        &self,
        statement: &Statement,
        tenant: TenantId,
        key: &SessionKey,
    ) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "session");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let id: SessionId = tx
            .fetch_optional(statement, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound("session"))?
            .read(Session::TABLE)
            .id("id")?;
        delete_transcript(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)
    }
}

/// The `WHERE` condition of `filter` in `tenant`, and its parameters.
fn list_filter(tenant: TenantId, filter: &SessionFilter) -> (String, Vec<Param<'_>>) {
    let mut condition = String::from("tenant_id = ?");
    let mut params = vec![tenant.into()];
    if let Some(agent) = filter.agent_id {
        condition.push_str(" AND agent_id = ?");
        params.push(agent.into());
    }
    if let Some(user) = &filter.user_id {
        condition.push_str(" AND user_id = ?");
        params.push(user.into());
    }
    if let Some(channel) = &filter.channel {
        condition.push_str(" AND channel = ?");
        params.push(channel.into());
    }
    (condition, params)
}

/// `NotFound` unless an update touched a session.
fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        return Err(StoreError::NotFound("session"));
    }
    Ok(())
}

/// Deletes the messages of session `id` and their turns. The foreign keys cascade too;
/// deleting explicitly does not depend on SQLite's `foreign_keys` pragma.
async fn delete_transcript(tx: &mut Tx, id: SessionId) -> Result<(), StoreError> {
    for statement in [&DELETE_TURNS, &DELETE_MESSAGES] {
        tx.execute(statement, &[id.into()])
            .await
            .map_err(|e| store_error(e, "session"))?;
    }
    Ok(())
}
