//! Starting agent turns from the gateway's protocols. Admission (the caller's
//! `gateway.rate_limit_rpm` budget) happens here, then the runtime's turn API decides the rest
//! (whose session, which lane, the debounce); refusals and run endings are classified once
//! here, and each protocol only maps a [`Refusal`] to its own shape.

use std::time::Duration;

use goclaw_agent::{ChatInput, Detail, RunOutcome, RuntimeError, TurnHandle};
use goclaw_core::StoreError;

use crate::routes::AppState;

/// Who is asking, as admission sees it.
pub struct Admission<'a> {
    /// The caller's rate-limit bucket (each protocol keys it as GoClaw does).
    pub rate_key: String,
    /// The caller's user id and address, for the `security.rate_limited` log line.
    pub user_id: &'a str,
    pub remote: String,
    /// The method or route, for logs and metrics.
    pub endpoint: &'static str,
}

/// Why a turn was refused, or how it ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request is wrong (a blocked prompt injection, a bad idempotency key).
    Invalid(String),
    NotFound(String),
    /// The caller may not use this session.
    Forbidden(String),
    /// Over the caller's rate budget; try again after the wait.
    RateLimited(Duration),
    /// Over the caller's `gateway.quota`: GoClaw's notice to show them.
    QuotaExceeded(String),
    /// The message never reached a run (a full session queue), or its stream fell behind.
    Exhausted(String),
    /// The run was aborted.
    Cancelled,
    /// The run failed (the model provider, usually).
    Failed(String),
    /// The gateway cannot take the turn now (shutting down, a provider not configured).
    Unavailable(String),
    /// Something broke inside; the cause is logged, not shown.
    Internal,
}

impl From<RuntimeError> for Refusal {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::AgentNotFound(agent) => {
                Refusal::NotFound(format!("agent {agent} not found"))
            }
            RuntimeError::InjectionBlocked { .. } | RuntimeError::InvalidIdempotencyKey => {
                Refusal::Invalid(error.to_string())
            }
            RuntimeError::SessionNotOwned(_) => Refusal::Forbidden(error.to_string()),
            RuntimeError::QuotaExceeded(exceeded) => Refusal::QuotaExceeded(exceeded.notice()),
            RuntimeError::Store(StoreError::NotFound(what)) => {
                Refusal::NotFound(format!("{what} not found"))
            }
            RuntimeError::Store(error) => {
                tracing::error!(error = %error, "starting a turn failed");
                Refusal::Internal
            }
            other => Refusal::Unavailable(other.to_string()),
        }
    }
}

/// Admits the caller and starts the turn.
pub async fn start(
    state: &AppState,
    admission: Admission<'_>,
    input: ChatInput,
    detail: Detail,
) -> Result<TurnHandle, Refusal> {
    state
        .rate_limiter
        .admit(
            &admission.rate_key,
            admission.user_id,
            &admission.remote,
            admission.endpoint,
        )
        .map_err(|wait| {
            state.metrics.rate_limit_hit(admission.endpoint);
            Refusal::RateLimited(wait)
        })?;
    Ok(state.runtime.start_turn(input, detail).await?)
}

/// A finished run's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub run_id: goclaw_agent::RunId,
    pub content: String,
    pub thinking: Option<String>,
    pub usage: goclaw_core::Usage,
}

/// How a run ended for the caller: its answer, or why there is none.
pub fn answer(outcome: RunOutcome) -> Result<Answer, Refusal> {
    match outcome {
        RunOutcome::Completed {
            run_id,
            content,
            thinking,
            usage,
            ..
        } => Ok(Answer {
            run_id,
            content,
            thinking,
            usage,
        }),
        RunOutcome::Cancelled { .. } => Err(Refusal::Cancelled),
        RunOutcome::Failed { error, .. } => Err(Refusal::Failed(error)),
        RunOutcome::Dropped { reason } => Err(Refusal::Exhausted(reason)),
    }
}

/// The `Idempotency-Key` header or `idempotencyKey` parameter: absent when empty.
pub fn idempotency_key(raw: Option<&str>) -> Option<String> {
    raw.filter(|k| !k.is_empty()).map(str::to_owned)
}
