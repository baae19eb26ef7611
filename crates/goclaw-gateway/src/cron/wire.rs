//! Cron jobs, runs and events in GoClaw's JSON shapes (camelCase, times in epoch
//! milliseconds): a job is `{id, tenantId, name, agentId, userId?, enabled, schedule, payload,
//! state: {nextRunAtMs?, lastRunAtMs?, lastStatus?, lastError?}, createdAtMs, updatedAtMs,
//! deleteAfterRun?, stateless, deliver, deliverChannel, deliverTo, wakeHeartbeat}`; a run-log
//! entry `{id, ts, jobId, status, error?, summary?, durationMs?, inputTokens?,
//! outputTokens?}`; the `cron` event `{action, jobId, jobName, userId?, status?, error?}`.

use goclaw_core::{CronJob, CronRun, CronRunStatus};
use serde_json::{Map, Value, json};

/// A job as `cron.list`, `cron.create` and `cron.update` return it.
pub fn job(job: &CronJob) -> Value {
    let mut state = Map::new();
    if let Some(next) = job.next_run_at {
        state.insert("nextRunAtMs".into(), next.timestamp_millis().into());
    }
    if let Some(last) = job.last_run_at {
        state.insert("lastRunAtMs".into(), last.timestamp_millis().into());
    }
    if let Some(status) = job.last_status {
        state.insert("lastStatus".into(), status.as_str().into());
    }
    if let Some(error) = job.last_error.as_deref().filter(|e| !e.is_empty()) {
        state.insert("lastError".into(), error.into());
    }
    let mut value = json!({
        "id": job.id,
        "tenantId": job.tenant_id.to_string(),
        "name": job.name,
        "agentId": job.agent_id.to_string(),
        "enabled": job.enabled,
        "schedule": job.schedule,
        "payload": job.payload,
        "state": state,
        "createdAtMs": job.created_at.timestamp_millis(),
        "updatedAtMs": job.updated_at.timestamp_millis(),
        "stateless": job.stateless,
        "deliver": job.deliver,
        "deliverChannel": job.deliver_channel,
        "deliverTo": job.deliver_to,
        "wakeHeartbeat": job.wake_heartbeat,
    });
    if let Some(user) = job.user_id.as_deref().filter(|u| !u.is_empty()) {
        value["userId"] = user.into();
    }
    if job.delete_after_run {
        value["deleteAfterRun"] = true.into();
    }
    value
}

/// A run-log entry as `cron.runs` returns it; `ts` is when it ended (when it started, while
/// it runs).
pub fn run(run: &CronRun) -> Value {
    let mut value = json!({
        "id": run.id,
        "ts": run.ended_at.unwrap_or(run.started_at).timestamp_millis(),
        "jobId": run.job_id,
        "status": run.status.as_str(),
    });
    if let Some(error) = run.error.as_deref().filter(|e| !e.is_empty()) {
        value["error"] = error.into();
    }
    if let Some(summary) = run.summary.as_deref().filter(|s| !s.is_empty()) {
        value["summary"] = summary.into();
    }
    if let Some(duration) = run.duration_ms.filter(|d| *d > 0) {
        value["durationMs"] = duration.into();
    }
    if run.input_tokens > 0 {
        value["inputTokens"] = run.input_tokens.into();
    }
    if run.output_tokens > 0 {
        value["outputTokens"] = run.output_tokens.into();
    }
    value
}

/// The payload of a `cron` event: `running` when a run starts, `completed` or `error` when it
/// ends.
pub fn event(
    job: &CronJob,
    action: &str,
    status: Option<CronRunStatus>,
    error: Option<&str>,
) -> Value {
    let mut value = json!({
        "action": action,
        "jobId": job.id,
        "jobName": job.name,
    });
    if let Some(user) = job.user_id.as_deref().filter(|u| !u.is_empty()) {
        value["userId"] = user.into();
    }
    if let Some(status) = status {
        value["status"] = status.as_str().into();
    }
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        value["error"] = error.into();
    }
    value
}
