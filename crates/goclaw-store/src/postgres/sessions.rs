//! Sessions on PostgreSQL.
//!
//! `get_or_create` inserts with `ON CONFLICT DO NOTHING` and then reads the row: a concurrent
//! creator of the same key waits for the first insert to commit and then finds its row.
//! `patch` reads the row `FOR UPDATE` before writing it back; `reset` updates the session row
//! first, so it holds the same lock `append` takes and no message slips in between.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    Agent, AgentId, Session, SessionFilter, SessionId, SessionKey, SessionPatch, SessionStore,
    StoreError, TenantId, Usage,
};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error, store_error_with_parent};
use crate::patch::{apply_session_patch, tokens};

const COLUMNS: &str = "id, tenant_id, session_key, agent_id, user_id, channel, label, model, \
                       summary, context_start_seq, message_count, input_tokens, output_tokens, \
                       compaction_count, metadata, created_at, updated_at";

/// Page size when a filter asks for 0.
const DEFAULT_LIMIT: u32 = 20;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    tenant_id: Uuid,
    session_key: String,
    agent_id: Option<Uuid>,
    user_id: String,
    channel: String,
    label: String,
    model: String,
    summary: Option<String>,
    context_start_seq: i64,
    message_count: i64,
    input_tokens: i64,
    output_tokens: i64,
    compaction_count: i64,
    metadata: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            session_key: SessionKey::parse(&row.session_key).map_err(|e| corrupt("sessions", e))?,
            agent_id: row.agent_id.map(AgentId::from_uuid),
            user_id: row.user_id,
            channel: row.channel,
            label: row.label,
            model: row.model,
            summary: row.summary,
            context_start_seq: row.context_start_seq,
            message_count: row.message_count,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            compaction_count: row.compaction_count,
            metadata: row.metadata,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
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
        // Nearly every turn finds its session: one read instead of an insert that conflicts.
        if let Some(session) = self.find(tenant, key).await? {
            return Ok(session);
        }
        let sql = format!(
            "INSERT INTO sessions (id, tenant_id, session_key, agent_id, user_id, channel) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, session_key) DO NOTHING RETURNING {COLUMNS}"
        );
        let created = sqlx::query_as::<_, SessionRow>(&sql)
            .bind(SessionId::generate().as_uuid())
            .bind(tenant.as_uuid())
            .bind(key.as_str())
            .bind(agent.map(|a| a.id.as_uuid()))
            .bind(user_id)
            .bind(channel)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "session", "tenant or agent"))?;
        match created {
            Some(row) => row.try_into(),
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
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM sessions");
        push_filter(&mut count, tenant, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;

        let mut page = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM sessions"));
        push_filter(&mut page, tenant, filter);
        let limit = if filter.limit == 0 {
            DEFAULT_LIMIT
        } else {
            filter.limit
        };
        page.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(filter.offset));
        let sessions = page
            .build_query_as::<SessionRow>()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(Session::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sessions, u64::try_from(total).unwrap_or_default()))
    }

    async fn patch(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        patch: SessionPatch,
    ) -> Result<Session, StoreError> {
        let db_error = |e| store_error(e, "session");
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let select = format!(
            "SELECT {COLUMNS} FROM sessions WHERE tenant_id = $1 AND session_key = $2 FOR UPDATE"
        );
        let mut session: Session = sqlx::query_as::<_, SessionRow>(&select)
            .bind(tenant.as_uuid())
            .bind(key.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?
            .try_into()?;
        apply_session_patch(&mut session, patch)?;
        let update = format!(
            "UPDATE sessions SET label = $1, model = $2, metadata = $3, updated_at = now() \
             WHERE id = $4 RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, SessionRow>(&update)
            .bind(&session.label)
            .bind(&session.model)
            .bind(&session.metadata)
            .bind(session.id.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn delete(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "session");
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let id: Uuid = sqlx::query_scalar(
            "DELETE FROM sessions WHERE tenant_id = $1 AND session_key = $2 RETURNING id",
        )
        .bind(tenant.as_uuid())
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound("session"))?;
        // The foreign key cascades too; this keeps the intent explicit.
        sqlx::query("DELETE FROM messages WHERE session_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn reset(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "session");
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let id: Uuid = sqlx::query_scalar(
            "UPDATE sessions SET summary = NULL, context_start_seq = 0, message_count = 0, \
             input_tokens = 0, output_tokens = 0, compaction_count = 0, updated_at = now() \
             WHERE tenant_id = $1 AND session_key = $2 RETURNING id",
        )
        .bind(tenant.as_uuid())
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound("session"))?;
        sqlx::query("DELETE FROM messages WHERE session_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn compact(
        &self,
        session: SessionId,
        summary: &str,
        context_start_seq: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET summary = $1, context_start_seq = $2, \
             compaction_count = compaction_count + 1, updated_at = now() WHERE id = $3",
        )
        .bind(summary)
        .bind(context_start_seq)
        .bind(session.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(|e| store_error(e, "session"))?;
        found(done.rows_affected())
    }

    async fn add_usage(&self, session: SessionId, usage: &Usage) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET input_tokens = input_tokens + $1, \
             output_tokens = output_tokens + $2, updated_at = now() WHERE id = $3",
        )
        .bind(tokens(usage.input_tokens))
        .bind(tokens(usage.output_tokens))
        .bind(session.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(|e| store_error(e, "session"))?;
        found(done.rows_affected())
    }
}

impl PostgresStore {
    /// The session `key` of `tenant`, if there is one.
    async fn find(
        &self,
        tenant: TenantId,
        key: &SessionKey,
    ) -> Result<Option<Session>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM sessions WHERE tenant_id = $1 AND session_key = $2");
        sqlx::query_as::<_, SessionRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(key.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "session"))?
            .map(Session::try_from)
            .transpose()
    }
}

/// Appends the `WHERE` clause of `filter` in `tenant`.
fn push_filter(query: &mut QueryBuilder<'_, Postgres>, tenant: TenantId, filter: &SessionFilter) {
    query
        .push(" WHERE tenant_id = ")
        .push_bind(tenant.as_uuid());
    if let Some(agent) = filter.agent_id {
        query.push(" AND agent_id = ").push_bind(agent.as_uuid());
    }
    if let Some(user) = &filter.user_id {
        query.push(" AND user_id = ").push_bind(user.clone());
    }
    if let Some(channel) = &filter.channel {
        query.push(" AND channel = ").push_bind(channel.clone());
    }
}

/// `NotFound` unless an update touched a session.
fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        return Err(StoreError::NotFound("session"));
    }
    Ok(())
}
