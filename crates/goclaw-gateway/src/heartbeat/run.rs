//! One heartbeat run: the skips (outside active hours, no checklist), the agent turn on the
//! `cron` lane (retried on failure), `HEARTBEAT_OK` suppression, delivery of anything worth
//! reporting, the run log and the `heartbeat` events around it.

use std::time::{Duration, Instant};

use goclaw_agent::{ChatInput, Detail, RunOutcome, TurnOverrides};
use goclaw_core::heartbeat::{ACK_TOKEN, CHECKLIST_FILE, within_active_hours};
use goclaw_core::{
    Agent, AgentKey, Heartbeat, HeartbeatStatus, NewHeartbeatRun, SessionKey, StoreError, Trust,
};

use super::wire::{self, EventDetail};
use crate::channels::{ChannelTarget, PostError};
use crate::routes::AppState;

/// The message a run starts with when the heartbeat has no prompt of its own.
pub const DEFAULT_PROMPT: &str = "Execute your heartbeat checklist now.";
/// The longest summary kept in the run log.
const SUMMARY_CHARS: usize = 500;
/// The user heartbeat runs act as: nobody's, with a user's trust.
const SYSTEM_USER: &str = "system";

/// How one attempt went.
enum Attempt {
    Answered {
        content: String,
        input_tokens: i64,
        output_tokens: i64,
    },
    /// Worth another attempt (the provider failed, the attempt timed out).
    Failed(String),
    /// Not worth another (aborted, the agent is gone, the gateway is stopping).
    Final(String),
}

/// How a run ended, to be recorded.
struct Ended {
    status: HeartbeatStatus,
    summary: Option<String>,
    error: Option<String>,
    tokens: (i64, i64),
}

/// Runs `hb` now and records how it went. Used for due slots, `heartbeat.test` and cron
/// jobs that wake the heartbeat.
pub async fn execute(state: &AppState, hb: Heartbeat) {
    let started = Instant::now();
    let Some(agent) = agent_of(state, &hb).await else {
        tracing::warn!(heartbeat = %hb.id, "heartbeat.agent_not_found");
        return;
    };
    let now = state.cron.clock.now();
    if !within_active_hours(&hb.config, now) {
        skip(state, &hb, &agent, "active_hours").await;
        return;
    }
    let checklist = match state
        .store
        .context_files()
        .get(agent.id, CHECKLIST_FILE)
        .await
    {
        Ok(file) => file.map(|f| f.content).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(heartbeat = %hb.id, error = %e, "heartbeat.checklist_unreadable");
            String::new()
        }
    };
    if checklist.trim().is_empty() {
        skip(state, &hb, &agent, "empty_checklist").await;
        return;
    }
    publish(state, &hb, &agent, "running", EventDetail::default());
    let session = session_key(&agent.agent_key, hb.config.isolated_session);
    let ended = match &session {
        Ok(session) => {
            let ended = attempt_with_retries(state, &hb, &agent, session, &checklist).await;
            if hb.config.isolated_session
                && let Err(e) = state.store.sessions().delete(hb.tenant_id, session).await
                && !matches!(e, StoreError::NotFound(_))
            {
                tracing::debug!(session_key = %session, error = %e, "heartbeat.session_cleanup_failed");
            }
            ended
        }
        Err(reason) => Ended {
            status: HeartbeatStatus::Error,
            summary: None,
            error: Some(reason.clone()),
            tokens: (0, 0),
        },
    };
    let ended = match ended.status {
        HeartbeatStatus::Ok => match deliver(state, &hb, ended.summary.as_deref()).await {
            Ok(()) => ended,
            Err(reason) => Ended {
                status: HeartbeatStatus::Error,
                error: Some(reason),
                ..ended
            },
        },
        _ => ended,
    };
    let run = NewHeartbeatRun {
        heartbeat_id: hb.id,
        status: ended.status,
        summary: ended.summary.map(|s| truncate(&s, SUMMARY_CHARS)),
        error: ended.error.clone(),
        duration_ms: Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)),
        input_tokens: ended.tokens.0,
        output_tokens: ended.tokens.1,
        skip_reason: None,
        ran_at: state.cron.clock.now(),
    };
    if let Err(e) = state.store.heartbeats().record_run(run).await {
        // The agent was deleted during the run (its heartbeat went with it), or the store failed.
        tracing::warn!(heartbeat = %hb.id, error = %e, "heartbeat.run_not_recorded");
    }
    tracing::info!(
        heartbeat = %hb.id,
        agent = %agent.agent_key,
        status = ended.status.as_str(),
        "heartbeat.run_finished"
    );
    let status = ended.status.as_str();
    let detail = EventDetail {
        status: Some(status),
        error: ended.error.as_deref(),
        reason: None,
    };
    publish(state, &hb, &agent, status, detail);
}

/// Records a skipped run and tells the tenant why.
async fn skip(state: &AppState, hb: &Heartbeat, agent: &Agent, reason: &str) {
    let run = NewHeartbeatRun {
        heartbeat_id: hb.id,
        status: HeartbeatStatus::Skipped,
        summary: None,
        error: None,
        duration_ms: None,
        input_tokens: 0,
        output_tokens: 0,
        skip_reason: Some(reason.to_owned()),
        ran_at: state.cron.clock.now(),
    };
    if let Err(e) = state.store.heartbeats().record_run(run).await {
        tracing::warn!(heartbeat = %hb.id, error = %e, "heartbeat.skip_not_recorded");
    }
    tracing::debug!(heartbeat = %hb.id, reason, "heartbeat.skipped");
    let detail = EventDetail {
        reason: Some(reason),
        ..EventDetail::default()
    };
    publish(state, hb, agent, "skipped", detail);
}

/// Attempts the turn up to `1 + max_retries` times.
async fn attempt_with_retries(
    state: &AppState,
    hb: &Heartbeat,
    agent: &Agent,
    session: &SessionKey,
    checklist: &str,
) -> Ended {
    let failed = |reason: String| Ended {
        status: HeartbeatStatus::Error,
        summary: None,
        error: Some(reason),
        tokens: (0, 0),
    };
    let retries = u32::try_from(hb.config.max_retries).unwrap_or(0);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match attempt_once(state, hb, agent, session, checklist).await {
            Attempt::Answered {
                content,
                input_tokens,
                output_tokens,
            } => {
                let status = if content.contains(ACK_TOKEN) {
                    HeartbeatStatus::Suppressed
                } else {
                    HeartbeatStatus::Ok
                };
                return Ended {
                    status,
                    summary: Some(content),
                    error: None,
                    tokens: (input_tokens, output_tokens),
                };
            }
            Attempt::Final(reason) => return failed(reason),
            Attempt::Failed(reason) if attempt > retries => return failed(reason),
            Attempt::Failed(reason) => {
                let settings = &state.cron.settings;
                let wait = retry_delay(settings.retry_base, settings.retry_max, attempt);
                tracing::info!(heartbeat = %hb.id, attempt, reason = %reason, "heartbeat.retry");
                tokio::select! {
                    _ = state.shutdown.cancelled() => {
                        return failed("the gateway stopped during the run".to_owned());
                    }
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// One attempt: the turn and its outcome within the cron job timeout.
async fn attempt_once(
    state: &AppState,
    hb: &Heartbeat,
    agent: &Agent,
    session: &SessionKey,
    checklist: &str,
) -> Attempt {
    let prompt = hb
        .config
        .prompt
        .clone()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PROMPT.to_owned());
    let input = ChatInput {
        media: Vec::new(),
        tenant_id: hb.tenant_id,
        agent_key: agent.agent_key.clone(),
        session_key: session.clone(),
        user_id: SYSTEM_USER.to_owned(),
        trust: Trust::User,
        // The `cron` lane, as GoClaw runs heartbeats.
        channel: "heartbeat".to_owned(),
        message: prompt,
        idempotency_key: None,
        from_channel: true,
        overrides: TurnOverrides {
            model: hb.config.model.clone().filter(|m| !m.is_empty()),
            extra_system_prompt: Some(context_prompt(hb, agent, checklist)),
            ..Default::default()
        },
    };
    let turn = match state.runtime.start_turn(input, Detail::Outcome).await {
        Ok(turn) => turn,
        Err(goclaw_agent::RuntimeError::AgentNotFound(agent)) => {
            return Attempt::Final(format!("agent {agent} not found"));
        }
        Err(e) if state.shutdown.is_cancelled() => {
            return Attempt::Final(format!("the gateway is stopping: {e}"));
        }
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    let timeout = state.cron.settings.job_timeout;
    match tokio::time::timeout(timeout, turn.events.outcome()).await {
        Err(_) => {
            state.runtime.abort(hb.tenant_id, session).await;
            Attempt::Failed(format!("heartbeat timed out after {}s", timeout.as_secs()))
        }
        Ok(RunOutcome::Completed { content, usage, .. }) => Attempt::Answered {
            content,
            input_tokens: tokens(
                usage.input_tokens + usage.cache_creation_tokens + usage.cache_read_tokens,
            ),
            output_tokens: tokens(usage.output_tokens),
        },
        Ok(RunOutcome::Failed { error, .. }) => Attempt::Failed(error),
        Ok(RunOutcome::Cancelled { .. }) => Attempt::Final("the run was aborted".to_owned()),
        Ok(RunOutcome::Dropped { reason }) if state.shutdown.is_cancelled() => {
            Attempt::Final(reason)
        }
        Ok(RunOutcome::Dropped { reason }) => Attempt::Failed(reason),
    }
}

/// `agent:{agent}:heartbeat`, or a fresh `agent:{agent}:heartbeat:{id}` for an isolated run.
fn session_key(agent: &AgentKey, isolated: bool) -> Result<SessionKey, String> {
    let key = if isolated {
        format!("agent:{agent}:heartbeat:{}", uuid::Uuid::now_v7().simple())
    } else {
        format!("agent:{agent}:heartbeat")
    };
    SessionKey::parse(&key).map_err(|e| format!("invalid session key: {e}"))
}

/// The extra system prompt of a run: the checklist and when to answer `HEARTBEAT_OK`.
fn context_prompt(hb: &Heartbeat, agent: &Agent, checklist: &str) -> String {
    let destination = match (&hb.config.channel, &hb.config.chat_id) {
        (Some(channel), Some(chat)) if !channel.is_empty() && !chat.is_empty() => {
            format!("is posted as written to chat {chat} on {channel}")
        }
        _ => "is kept in the heartbeat's log".to_owned(),
    };
    format!(
        "[Heartbeat]\nA scheduled heartbeat check-in of agent {agent}. The checklist:\n---\n{checklist}\n---\n\
         Work through the checklist with your tools rather than repeating it.\n\
         When nothing new needs anyone's attention — every check passed and nothing changed since \
         last time — reply with {ACK_TOKEN} alone: a reply containing {ACK_TOKEN} anywhere is \
         not delivered.\n\
         When something does need attention, or the checklist asks for a message every time, \
         leave {ACK_TOKEN} out; your reply {destination}.",
        agent = agent.agent_key,
    )
}

/// Posts an answer worth reporting to the heartbeat's chat, when it has one.
async fn deliver(state: &AppState, hb: &Heartbeat, answer: Option<&str>) -> Result<(), String> {
    let (Some(channel), Some(chat)) = (&hb.config.channel, &hb.config.chat_id) else {
        return Ok(());
    };
    let text = answer.unwrap_or_default();
    if channel.is_empty() || chat.is_empty() || text.trim().is_empty() {
        return Ok(());
    }
    let Some(channels) = &state.channels else {
        return Err(format!("no channel {channel} to deliver to"));
    };
    let target = ChannelTarget {
        tenant_id: hb.tenant_id,
        channel: channel.clone(),
        chat_id: chat.clone(),
    };
    let key = format!("heartbeat:{}:{}", hb.id, uuid::Uuid::now_v7());
    match channels.post(&target, text, &key, None).await {
        Ok(_) => Ok(()),
        Err(PostError::NoChannel) => Err(format!("no running channel {channel} to deliver to")),
        Err(PostError::Failed(reason)) => Err(format!("delivery failed: {reason}")),
    }
}

async fn agent_of(state: &AppState, hb: &Heartbeat) -> Option<Agent> {
    let agents = state.store.agents().list(hb.tenant_id).await.ok()?;
    agents.into_iter().find(|a| a.id == hb.agent_id)
}

/// The wait before attempt `failed + 1`: `base` doubled per failed attempt, at most `max`.
fn retry_delay(base: Duration, max: Duration, failed: u32) -> Duration {
    base.saturating_mul(1u32 << failed.saturating_sub(1).min(16))
        .min(max)
}

fn tokens(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn publish(state: &AppState, hb: &Heartbeat, agent: &Agent, action: &str, detail: EventDetail) {
    let payload = wire::event(
        action,
        &hb.agent_id.to_string(),
        agent.agent_key.as_str(),
        detail,
    );
    state
        .tenant_events
        .publish(hb.tenant_id, crate::scopes::Event::Heartbeat, payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_max() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(5);
        let waits: Vec<u64> = (1..=5)
            .map(|n| retry_delay(base, max, n).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn isolated_runs_get_a_session_of_their_own() {
        let agent = AgentKey::parse("ops").expect("key");
        let shared = session_key(&agent, false).expect("shared");
        assert_eq!(shared.as_str(), "agent:ops:heartbeat");
        let one = session_key(&agent, true).expect("isolated");
        let two = session_key(&agent, true).expect("isolated");
        assert!(one.as_str().starts_with("agent:ops:heartbeat:"), "{one}");
        assert_ne!(one, two);
    }
}
