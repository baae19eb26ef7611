//! One run of a job: its agent turn (retried on failure), the delivery of its answer, the
//! run log's end and the `cron` events around it; then, for a job with `wakeHeartbeat`, a run
//! of its agent's heartbeat.

use std::time::Duration;

use chrono::{DateTime, Utc};
use goclaw_agent::{ChatInput, Detail, RunOutcome, TurnOverrides};
use goclaw_core::{CronJob, CronRun, CronRunEnd, CronRunStatus, SessionKey, Trust};
use rand::Rng;

use super::wire;
use crate::channels::{ChannelTarget, PostError};
use crate::routes::AppState;

/// The longest summary kept in the run log.
const SUMMARY_CHARS: usize = 2_000;
/// The user a job with no owner runs as.
const SYSTEM_USER: &str = "system";

/// How one attempt went.
enum Attempt {
    Answered {
        content: String,
        input_tokens: i64,
        output_tokens: i64,
        run_id: String,
    },
    /// Worth another attempt (the provider failed, the attempt timed out).
    Failed(String),
    /// Not worth another (aborted, the agent is gone, the gateway is stopping).
    Final(String),
    /// The gateway stopped during it.
    Interrupted,
}

/// Runs `job` for its claimed `run` and records how it ended.
pub async fn execute(state: &AppState, job: CronJob, run: CronRun) {
    let owner = job.user_id.clone().unwrap_or_default();
    publish(state, &job, wire::event(&job, "running", None, None));
    let session = session_key(state, &job).await;
    let (status, summary, error, usage, run_id) = match &session {
        Err(reason) => (
            CronRunStatus::Error,
            None,
            Some(reason.clone()),
            (0, 0),
            None,
        ),
        Ok(session) => attempt_with_retries(state, &job, session).await,
    };
    let (status, error) = match (status, error) {
        (CronRunStatus::Ok, _) => match deliver(state, &job, summary.as_deref()).await {
            Ok(()) => (CronRunStatus::Ok, None),
            Err(reason) => (CronRunStatus::Error, Some(reason)),
        },
        other => other,
    };
    let end = CronRunEnd {
        status,
        ended_at: state.cron.clock.now(),
        summary: summary.map(|s| truncate(&s, SUMMARY_CHARS)),
        error: error.clone(),
        input_tokens: usage.0,
        output_tokens: usage.1,
        run_id,
        session_key: session.ok().map(|k| k.to_string()),
    };
    if let Err(e) = state.store.cron().finish_run(run.id, end).await {
        // The job was deleted during the run (its runs went with it), or the store failed.
        tracing::warn!(job = %job.id, error = %e, "cron.run_not_recorded");
    }
    if job.delete_after_run
        && let Err(e) = state.store.cron().delete(job.tenant_id, job.id).await
        && !matches!(e, goclaw_core::StoreError::NotFound(_))
    {
        tracing::warn!(job = %job.id, error = %e, "cron.delete_after_run_failed");
    }
    let action = if status == CronRunStatus::Ok {
        "completed"
    } else {
        "error"
    };
    tracing::info!(
        job = %job.id,
        user_id = %owner,
        status = status.as_str(),
        "cron.run_finished"
    );
    publish(
        state,
        &job,
        wire::event(&job, action, Some(status), error.as_deref()),
    );
    if job.wake_heartbeat {
        // The agent's heartbeat runs now too, when it has one (`wakeHeartbeat`).
        let state = state.clone();
        tokio::spawn(async move {
            crate::heartbeat::wake(&state, job.tenant_id, job.agent_id).await;
        });
    }
}

type Ended = (
    CronRunStatus,
    Option<String>,
    Option<String>,
    (i64, i64),
    Option<String>,
);

/// Attempts the turn up to `1 + max_retries` times.
async fn attempt_with_retries(state: &AppState, job: &CronJob, session: &SessionKey) -> Ended {
    let settings = &state.cron.settings;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match attempt_once(state, job, session).await {
            Attempt::Answered {
                content,
                input_tokens,
                output_tokens,
                run_id,
            } => {
                return (
                    CronRunStatus::Ok,
                    Some(content),
                    None,
                    (input_tokens, output_tokens),
                    Some(run_id),
                );
            }
            Attempt::Final(reason) => {
                return (CronRunStatus::Error, None, Some(reason), (0, 0), None);
            }
            Attempt::Interrupted => {
                return (
                    CronRunStatus::Interrupted,
                    None,
                    Some("the gateway stopped during the run".to_owned()),
                    (0, 0),
                    None,
                );
            }
            Attempt::Failed(reason) if attempt > settings.max_retries => {
                return (CronRunStatus::Error, None, Some(reason), (0, 0), None);
            }
            Attempt::Failed(reason) => {
                let wait = retry_delay(settings.retry_base, settings.retry_max, attempt);
                tracing::info!(job = %job.id, attempt, reason = %reason, wait_ms = wait.as_millis() as u64, "cron.retry");
                tokio::select! {
                    _ = state.shutdown.cancelled() => {
                        return (CronRunStatus::Interrupted, None, Some("the gateway stopped during the run".to_owned()), (0, 0), None);
                    }
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// One attempt: a fresh session, the turn, its outcome within the job timeout.
async fn attempt_once(state: &AppState, job: &CronJob, session: &SessionKey) -> Attempt {
    let tenant = job.tenant_id;
    if let Err(e) = state.store.sessions().reset(tenant, session).await
        && !matches!(e, goclaw_core::StoreError::NotFound(_))
    {
        return Attempt::Failed(format!("cannot reset the job's session: {e}"));
    }
    let Ok(agent_key) = agent_key_of(session) else {
        return Attempt::Final("the job's agent key is invalid".to_owned());
    };
    let input = ChatInput {
        media: Vec::new(),
        tenant_id: tenant,
        agent_key,
        session_key: session.clone(),
        user_id: job
            .user_id
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| SYSTEM_USER.to_owned()),
        trust: Trust::User,
        channel: "cron".to_owned(),
        message: expand(&job.payload.message, job, state.cron.clock.now()),
        idempotency_key: None,
        from_channel: true,
        overrides: TurnOverrides {
            model: None,
            extra_system_prompt: Some(context_prompt(job)),
            ..Default::default()
        },
    };
    let turn = match state.runtime.start_turn(input, Detail::Outcome).await {
        Ok(turn) => turn,
        Err(goclaw_agent::RuntimeError::AgentNotFound(agent)) => {
            return Attempt::Final(format!("agent {agent} not found"));
        }
        Err(e) if state.shutdown.is_cancelled() => {
            tracing::debug!(error = %e, "cron run refused while stopping");
            return Attempt::Interrupted;
        }
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    let timeout = state.cron.settings.job_timeout;
    match tokio::time::timeout(timeout, turn.events.outcome()).await {
        Err(_) => {
            state.runtime.abort(tenant, session).await;
            Attempt::Failed(format!(
                "cron job {} timed out after {}s",
                job.name,
                timeout.as_secs()
            ))
        }
        Ok(RunOutcome::Completed {
            run_id,
            content,
            usage,
            ..
        }) => Attempt::Answered {
            content,
            input_tokens: tokens(
                usage.input_tokens + usage.cache_creation_tokens + usage.cache_read_tokens,
            ),
            output_tokens: tokens(usage.output_tokens),
            run_id: run_id.to_string(),
        },
        Ok(RunOutcome::Failed { error, .. }) => Attempt::Failed(error),
        Ok(RunOutcome::Cancelled { .. }) if state.shutdown.is_cancelled() => Attempt::Interrupted,
        Ok(RunOutcome::Cancelled { .. }) => Attempt::Final("the run was aborted".to_owned()),
        Ok(RunOutcome::Dropped { .. }) if state.shutdown.is_cancelled() => Attempt::Interrupted,
        Ok(RunOutcome::Dropped { reason }) => Attempt::Failed(reason),
    }
}

/// `agent:{agent key}:cron:{job id}`, or why the job cannot run.
async fn session_key(state: &AppState, job: &CronJob) -> Result<SessionKey, String> {
    let agents = state
        .store
        .agents()
        .list(job.tenant_id)
        .await
        .map_err(|e| format!("cannot read the job's agent: {e}"))?;
    let agent = agents
        .into_iter()
        .find(|a| a.id == job.agent_id)
        .ok_or_else(|| "the job's agent no longer exists".to_owned())?;
    SessionKey::parse(&format!("agent:{}:cron:{}", agent.agent_key, job.id))
        .map_err(|e| format!("invalid session key: {e}"))
}

fn agent_key_of(session: &SessionKey) -> Result<goclaw_core::AgentKey, goclaw_core::ParseError> {
    let key = session
        .as_str()
        .strip_prefix("agent:")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default();
    goclaw_core::AgentKey::parse(key)
}

/// The extra system prompt of a run: which job this is and where its answer goes.
fn context_prompt(job: &CronJob) -> String {
    let owner = job.user_id.as_deref().unwrap_or(SYSTEM_USER);
    if job.deliver && !job.deliver_channel.is_empty() && !job.deliver_to.is_empty() {
        format!(
            "[Cron Job]\nThis is scheduled job \"{}\" (ID: {}).\nRequester: user {} on channel \"{}\" (chat {}).\nYour response will be delivered to that chat automatically: write the content itself.",
            job.name, job.id, owner, job.deliver_channel, job.deliver_to
        )
    } else {
        format!(
            "[Cron Job]\nThis is scheduled job \"{}\" (ID: {}), created by user {}.\nNo delivery is configured: answer normally.",
            job.name, job.id, owner
        )
    }
}

/// The message with its template variables filled in: `{{date}}`, `{{datetime}}`,
/// `{{weekday}}`, `{{month}}`, `{{job_name}}`, `{{job_id}}` (dates in the job's zone).
fn expand(message: &str, job: &CronJob, now: DateTime<Utc>) -> String {
    if !message.contains("{{") {
        return message.to_owned();
    }
    let zone: chrono_tz::Tz = match &job.schedule {
        goclaw_core::CronSchedule::Cron { tz: Some(tz), .. } => {
            tz.parse().unwrap_or(chrono_tz::UTC)
        }
        _ => chrono_tz::UTC,
    };
    let local = now.with_timezone(&zone);
    message
        .replace("{{date}}", &local.format("%Y-%m-%d").to_string())
        .replace("{{datetime}}", &local.to_rfc3339())
        .replace("{{weekday}}", &local.format("%A").to_string())
        .replace("{{month}}", &local.format("%Y-%m").to_string())
        .replace("{{job_name}}", &job.name)
        .replace("{{job_id}}", &job.id.to_string())
}

/// Posts the answer to the job's chat when it asks for delivery.
async fn deliver(state: &AppState, job: &CronJob, answer: Option<&str>) -> Result<(), String> {
    if !job.deliver {
        return Ok(());
    }
    if job.deliver_channel.is_empty() || job.deliver_to.is_empty() {
        return Err("delivery is on but deliverChannel or deliverTo is empty".to_owned());
    }
    let text = answer.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(());
    }
    let Some(channels) = &state.channels else {
        return Err(format!("no channel {} to deliver to", job.deliver_channel));
    };
    let target = ChannelTarget {
        tenant_id: job.tenant_id,
        channel: job.deliver_channel.clone(),
        chat_id: job.deliver_to.clone(),
    };
    let key = format!("cron:{}:{}", job.id, uuid::Uuid::now_v7());
    match channels.post(&target, text, &key, None).await {
        Ok(_) => Ok(()),
        Err(PostError::NoChannel) => Err(format!(
            "no running channel {} to deliver to",
            job.deliver_channel
        )),
        Err(PostError::Failed(reason)) => Err(format!("delivery failed: {reason}")),
    }
}

/// The wait before attempt `failed + 1`: `base` doubled per failed attempt, at most `max`,
/// within ±25 %.
pub(super) fn retry_delay(base: Duration, max: Duration, failed: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << failed.saturating_sub(1).min(16));
    let nominal = doubled.min(max);
    let jitter = rand::rng().random_range(0.75..=1.25);
    nominal.mul_f64(jitter)
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

fn publish(state: &AppState, job: &CronJob, payload: serde_json::Value) {
    state.tenant_events.publish_for_user(
        job.tenant_id,
        job.user_id.as_deref().unwrap_or_default(),
        crate::scopes::Event::Cron,
        payload,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_within_a_quarter_and_stop_at_the_max() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(30);
        for _ in 0..200 {
            for (failed, nominal) in [
                (1, 2.0),
                (2, 4.0),
                (3, 8.0),
                (4, 16.0),
                (5, 30.0),
                (9, 30.0),
            ] {
                let wait = retry_delay(base, max, failed).as_secs_f64();
                assert!(
                    (nominal * 0.75..=nominal * 1.25).contains(&wait),
                    "attempt {failed}: {wait} s"
                );
            }
        }
    }

    #[test]
    fn summaries_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 5), "hi");
    }
}
