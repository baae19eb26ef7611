//! Retried requests: a client that sends the same idempotency key again (same tenant and user)
//! gets the first request's turn back — the run still going, or how it ended — and nothing
//! runs twice.

use goclaw_core::{MAX_IDEMPOTENCY_KEY_BYTES, Turn, TurnStatus, Usage};
use serde_json::Value;

use crate::error::RuntimeError;
use crate::events::{AgentEvent, AgentEventKind, RunId};
use crate::history;
use crate::hub::{Detail, RunEvents, StreamError};
use crate::runtime::Services;
use crate::types::{ChatInput, TurnHandle};

/// Messages read per page while looking for a run's last message.
const PAGE: u32 = 200;

/// Refuses a key that is empty, too long or holds control characters.
pub(crate) fn check_key(key: &str) -> Result<(), RuntimeError> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES || key.chars().any(char::is_control)
    {
        return Err(RuntimeError::InvalidIdempotencyKey);
    }
    Ok(())
}

/// The turn an idempotency key named, as a handle whose stream holds only how its run ends:
/// the live run's terminal event if it is still going here, else the ending from the store.
pub(crate) async fn resume(
    services: &Services,
    input: &ChatInput,
    turn: Turn,
) -> Result<TurnHandle, RuntimeError> {
    let store = services.store.as_ref();
    let run_id = RunId::from_uuid(turn.run_id);
    tracing::info!(
        session_key = %turn.session_key,
        user_id = %turn.user_id,
        run_id = %run_id,
        "request retried with a known idempotency key; returning its turn"
    );
    let user_message = store
        .messages()
        .list(turn.session_id, turn.seq - 1, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(goclaw_core::StoreError::NotFound("message"))?;
    // A retry joins a run that may have streamed already: it gets the ending only (whose
    // answer is whole), never a stream that starts mid-answer.
    let live = (!turn.status.is_terminal())
        .then(|| {
            services
                .events
                .subscribe_run(run_id, turn.seq, Detail::Outcome)
        })
        .flatten();
    let events = match live {
        Some(events) => events,
        None => {
            // Ended meanwhile, or not running in this process: read how it ended.
            let latest = store
                .turns()
                .by_idempotency_key(turn.tenant_id, &turn.user_id, key_of(&turn))
                .await?
                .unwrap_or_else(|| turn.clone());
            ended(services, input, &latest).await?
        }
    };
    Ok(TurnHandle {
        run_id,
        session_key: turn.session_key.clone(),
        user_message,
        replayed: true,
        events,
    })
}

fn key_of(turn: &Turn) -> &str {
    turn.idempotency_key.as_deref().unwrap_or_default()
}

/// The stream of a turn that ended: just its terminal event, rebuilt from the store.
async fn ended(
    services: &Services,
    input: &ChatInput,
    turn: &Turn,
) -> Result<RunEvents, RuntimeError> {
    let run_id = RunId::from_uuid(turn.run_id);
    let kind = match turn.status {
        TurnStatus::Queued => {
            return Ok(RunEvents::failed(
                run_id,
                StreamError::Dropped("the turn is not running on this gateway".to_owned()),
            ));
        }
        TurnStatus::Dropped => {
            let reason = turn.error.clone().unwrap_or_else(|| "dropped".to_owned());
            return Ok(RunEvents::failed(run_id, StreamError::Dropped(reason)));
        }
        TurnStatus::Failed => AgentEventKind::RunFailed {
            error: turn
                .error
                .clone()
                .unwrap_or_else(|| "the run failed".to_owned()),
        },
        TurnStatus::Cancelled => AgentEventKind::RunCancelled {
            partial: last_message(services, turn)
                .await?
                .map(|m| m.content)
                .unwrap_or_default(),
        },
        TurnStatus::Completed => {
            let answer = last_message(services, turn).await?;
            let metadata = answer.as_ref().map(|m| &m.metadata);
            let silent = metadata
                .and_then(|m| m.get("silent"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            AgentEventKind::RunCompleted {
                content: match (&answer, silent) {
                    (Some(answer), false) => answer.content.clone(),
                    _ => String::new(),
                },
                thinking: metadata
                    .and_then(|m| m.get("thinking"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                usage: metadata
                    .and_then(|m| m.get("usage"))
                    .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok())
                    .unwrap_or_default(),
                silent,
            }
        }
    };
    Ok(RunEvents::ended(AgentEvent {
        tenant_id: turn.tenant_id,
        agent_key: input.agent_key.to_string(),
        session_key: turn.session_key.clone(),
        run_id,
        user_id: turn.user_id.clone(),
        channel: input.channel.clone(),
        kind,
    }))
}

/// The last assistant message the turn's run stored (its answer, or its partial answer).
async fn last_message(
    services: &Services,
    turn: &Turn,
) -> Result<Option<goclaw_core::Message>, RuntimeError> {
    let run = turn.run_id.to_string();
    let mut after = turn.seq;
    let mut last = None;
    loop {
        let page = services
            .store
            .messages()
            .list(turn.session_id, after, PAGE)
            .await?;
        let full = page.len() >= PAGE as usize;
        if let Some(message) = page.last() {
            after = message.seq;
        }
        last = page
            .into_iter()
            .rev()
            .find(|m| {
                m.role == goclaw_core::Role::Assistant
                    && history::run_of(m) == Some(run.as_str())
                    && m.tool_calls.is_null()
            })
            .or(last);
        if !full {
            return Ok(last);
        }
    }
}
