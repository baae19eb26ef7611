//! The `cron` tool: an agent schedules work for itself — `status`, `list`, `add`, `update`,
//! `remove`, `run` and `runs` over the jobs of the agent and the user it serves (anyone
//! else's job reads as not found). Jobs it adds run as that user, like jobs created over the
//! API. Asked from a messaging chat, a job delivers its answer back to that chat unless told
//! otherwise. `run` makes a job due now; the gateway's cron loop starts it within a second.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::clock::Clock;
use goclaw_core::cron::{ScheduleChange, to_millis};
use goclaw_core::{
    CronJob, CronJobPatch, CronPayload, CronSchedule, NewCronJob, Store, Tool, ToolContext,
    ToolDefinition, ToolOutput,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sessions::caller_agent;

/// Channels whose chats a job's answer is sent back to by default.
const CHAT_CHANNELS: &[&str] = &[
    "telegram", "discord", "slack", "whatsapp", "zalo", "feishu", "lark", "line",
];

/// The tool over `store`, reading due times from `clock` and cron expressions without a
/// zone in `default_timezone`.
pub fn cron_tool(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    default_timezone: impl Into<String>,
) -> Arc<dyn Tool> {
    Arc::new(CronTool {
        store,
        clock,
        default_timezone: default_timezone.into(),
    })
}

struct CronTool {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    default_timezone: String,
}

const DESCRIPTION: &str = "Schedule work for yourself. Send an object with \"action\":
- status: {\"action\":\"status\"}
- list: {\"action\":\"list\",\"includeDisabled\":false}
- add: {\"action\":\"add\",\"job\":{\"name\":\"...\",\"schedule\":{...},\"message\":\"what to do when it fires\",\"deliver\":true,\"channel\":\"...\",\"to\":\"...\",\"deleteAfterRun\":true}}
- update: {\"action\":\"update\",\"jobId\":\"...\",\"patch\":{\"name\":...,\"schedule\":{...},\"message\":...,\"deliver\":...,\"channel\":...,\"to\":...,\"deleteAfterRun\":...,\"disabled\":true}}
- remove: {\"action\":\"remove\",\"jobId\":\"...\"}
- run: {\"action\":\"run\",\"jobId\":\"...\",\"runMode\":\"force\"} (\"due\" runs it only if due)
- runs: {\"action\":\"runs\",\"jobId\":\"...\"}
Schedules: {\"kind\":\"at\",\"atMs\":<unix ms>}, {\"kind\":\"every\",\"everyMs\":<ms, at least 1000>}, {\"kind\":\"cron\",\"expr\":\"<5-field cron>\",\"tz\":\"<IANA zone>\"}.
Get the current time from the datetime tool before computing atMs; never guess timestamps.";

#[async_trait]
impl Tool for CronTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "cron".to_owned(),
            description: DESCRIPTION.to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["status", "list", "add", "update", "remove", "run", "runs"]},
                    "includeDisabled": {"type": "boolean"},
                    "job": {"type": "object", "additionalProperties": true},
                    "jobId": {"type": "string"},
                    "patch": {"type": "object", "additionalProperties": true},
                    "runMode": {"type": "string", "enum": ["due", "force"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100}
                },
                "required": ["action"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let action = arguments
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let result = match action {
            "status" | "list" => self.list(ctx, &arguments, action == "status").await,
            "add" => self.add(ctx, &arguments).await,
            "update" => self.update(ctx, &arguments).await,
            "remove" => self.remove(ctx, &arguments).await,
            "run" => self.run(ctx, &arguments).await,
            "runs" => self.runs(ctx, &arguments).await,
            "" => Err("action is required".to_owned()),
            other => Err(format!(
                "unknown action: {other} (status, list, add, update, remove, run or runs)"
            )),
        };
        match result {
            Ok(value) => ToolOutput::ok(value.to_string()),
            Err(message) => ToolOutput::error(message),
        }
    }
}

impl CronTool {
    fn now(&self) -> DateTime<Utc> {
        to_millis(self.clock.now())
    }

    /// The caller's agent's jobs with the caller's user.
    async fn own_jobs(&self, ctx: &ToolContext) -> Result<Vec<CronJob>, String> {
        let agent = caller_agent(self.store.as_ref(), ctx).await?;
        let jobs = self
            .store
            .cron()
            .list(ctx.tenant_id, Some(agent.id))
            .await
            .map_err(|e| format!("cannot list cron jobs: {e}"))?;
        Ok(jobs
            .into_iter()
            .filter(|j| j.user_id.as_deref() == Some(ctx.user_id.as_str()))
            .collect())
    }

    /// The caller's job `jobId` (or `id`); anyone else's is not found.
    async fn own_job(&self, ctx: &ToolContext, arguments: &Value) -> Result<CronJob, String> {
        let raw = ["jobId", "id"]
            .iter()
            .find_map(|k| arguments.get(*k).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .ok_or("jobId is required")?;
        let id: Uuid = raw.parse().map_err(|_| format!("job {raw} not found"))?;
        self.own_jobs(ctx)
            .await?
            .into_iter()
            .find(|j| j.id == id)
            .ok_or_else(|| format!("job {raw} not found"))
    }

    async fn list(
        &self,
        ctx: &ToolContext,
        arguments: &Value,
        status_only: bool,
    ) -> Result<Value, String> {
        let jobs = self.own_jobs(ctx).await?;
        let enabled: Vec<&CronJob> = jobs.iter().filter(|j| j.enabled).collect();
        let next = enabled.iter().filter_map(|j| j.next_run_at).min();
        if status_only {
            return Ok(json!({
                "enabled": true,
                "jobs": enabled.len(),
                "nextWakeAtMs": next.map(|n| n.timestamp_millis()),
            }));
        }
        let include_disabled = arguments
            .get("includeDisabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let shown: Vec<Value> = jobs
            .iter()
            .filter(|j| include_disabled || j.enabled)
            .map(job_json)
            .collect();
        Ok(json!({ "count": shown.len(), "jobs": shown }))
    }

    async fn add(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let job = arguments
            .get("job")
            .filter(|j| j.is_object())
            .ok_or("job object is required for add action")?;
        let text = |key: &str| job.get(key).and_then(Value::as_str).unwrap_or_default();
        let name = text("name").trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err("job.name is required (at most 100 characters)".to_owned());
        }
        let message = text("message");
        if message.trim().is_empty() {
            return Err("job.message is required".to_owned());
        }
        let schedule = job.get("schedule").ok_or("job.schedule is required")?;
        let change = self.schedule(schedule.clone())?;
        let agent = caller_agent(self.store.as_ref(), ctx).await?;
        let (deliver, channel, to) = delivery(ctx, job);
        let one_off = matches!(change.schedule, CronSchedule::At { .. });
        let created = self
            .store
            .cron()
            .create(NewCronJob {
                tenant_id: ctx.tenant_id,
                agent_id: agent.id,
                user_id: Some(ctx.user_id.clone()).filter(|u| !u.is_empty()),
                name,
                enabled: true,
                schedule: change.schedule,
                anchor_at: change.anchor_at,
                next_run_at: change.next_run_at,
                payload: CronPayload {
                    message: message.to_owned(),
                    ..CronPayload::default()
                },
                delete_after_run: job
                    .get("deleteAfterRun")
                    .and_then(Value::as_bool)
                    .unwrap_or(one_off),
                deliver,
                deliver_channel: channel,
                deliver_to: to,
                wake_heartbeat: false,
                stateless: true,
            })
            .await
            .map_err(|e| format!("failed to create cron job: {e}"))?;
        Ok(json!({ "job": job_json(&created) }))
    }

    async fn update(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let job = self.own_job(ctx, arguments).await?;
        let patch = arguments
            .get("patch")
            .filter(|p| p.is_object())
            .ok_or("patch object is required for update action")?;
        let text = |key: &str| patch.get(key).and_then(Value::as_str).map(str::to_owned);
        let flag = |key: &str| patch.get(key).and_then(Value::as_bool);
        let mut change = CronJobPatch {
            name: text("name")
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
            delete_after_run: flag("deleteAfterRun"),
            deliver: flag("deliver"),
            deliver_channel: text("channel"),
            deliver_to: text("to"),
            enabled: flag("disabled").map(|d| !d).or(flag("enabled")),
            ..CronJobPatch::default()
        };
        if let Some(message) = text("message").filter(|m| !m.trim().is_empty()) {
            change.payload = Some(CronPayload {
                message,
                ..job.payload.clone()
            });
        }
        if let Some(schedule) = patch.get("schedule") {
            change.schedule = Some(self.schedule(schedule.clone())?);
        } else if change.enabled == Some(true) && !job.enabled {
            let current = serde_json::to_value(&job.schedule).map_err(|e| e.to_string())?;
            change.schedule = Some(self.schedule(current)?);
        }
        let updated = self
            .store
            .cron()
            .update(ctx.tenant_id, job.id, change)
            .await
            .map_err(|e| format!("failed to update cron job: {e}"))?;
        Ok(json!({ "job": job_json(&updated) }))
    }

    async fn remove(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let job = self.own_job(ctx, arguments).await?;
        self.store
            .cron()
            .delete(ctx.tenant_id, job.id)
            .await
            .map_err(|e| format!("failed to remove cron job: {e}"))?;
        Ok(json!({ "deleted": true, "jobId": job.id }))
    }

    /// Makes the job due now (`force`), or reports whether it is due (`due`): the cron loop
    /// starts due jobs, once each.
    async fn run(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let job = self.own_job(ctx, arguments).await?;
        if !job.enabled {
            return Err(format!("job {} is disabled", job.id));
        }
        let now = self.now();
        let force = arguments.get("runMode").and_then(Value::as_str) == Some("force");
        let due = job.next_run_at.is_some_and(|at| at <= now);
        if !force && !due {
            return Ok(json!({ "ran": false, "jobId": job.id, "reason": "not-due" }));
        }
        if !due {
            self.store
                .cron()
                .set_enabled(ctx.tenant_id, job.id, true, Some(now))
                .await
                .map_err(|e| format!("failed to run cron job: {e}"))?;
        }
        Ok(json!({ "ran": true, "jobId": job.id }))
    }

    async fn runs(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let job = self.own_job(ctx, arguments).await?;
        let limit = arguments
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(20, |l| l.clamp(1, 100)) as u32;
        let (runs, total) = self
            .store
            .cron()
            .runs(ctx.tenant_id, job.id, limit, 0)
            .await
            .map_err(|e| format!("cannot read the runs: {e}"))?;
        let entries: Vec<Value> = runs
            .iter()
            .map(|r| {
                json!({
                    "ts": r.ended_at.unwrap_or(r.started_at).timestamp_millis(),
                    "status": r.status.as_str(),
                    "summary": r.summary,
                    "error": r.error,
                })
            })
            .collect();
        Ok(json!({ "count": entries.len(), "entries": entries, "total": total }))
    }

    fn schedule(&self, raw: Value) -> Result<ScheduleChange, String> {
        let schedule: CronSchedule =
            serde_json::from_value(raw).map_err(|e| format!("invalid schedule: {e}"))?;
        let now = self.now();
        let change = ScheduleChange::new(schedule, now, &self.default_timezone)
            .map_err(|e| e.to_string())?;
        if change.next_run_at.is_none() {
            return Err(format!(
                "schedule.atMs is in the past: the current time is {} ms",
                now.timestamp_millis()
            ));
        }
        Ok(change)
    }
}

/// Whether and where a new job's answer goes: as asked, else back to the chat the request came
/// from (the channel and chat of the caller's session always win over guesses).
fn delivery(ctx: &ToolContext, job: &Value) -> (bool, String, String) {
    let asked = job.get("deliver").and_then(Value::as_bool);
    let text = |key: &str| {
        job.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let from_chat = CHAT_CHANNELS.contains(&ctx.channel.as_str());
    let deliver = asked.unwrap_or(from_chat);
    if !deliver {
        return (false, String::new(), String::new());
    }
    match (from_chat, chat_of(ctx)) {
        (true, Some(chat)) => (true, ctx.channel.clone(), chat),
        _ => (true, text("channel"), text("to")),
    }
}

/// The chat of the caller's channel session.
fn chat_of(ctx: &ToolContext) -> Option<String> {
    ctx.session_key
        .channel_chat()
        .filter(|chat| chat.channel == ctx.channel)
        .map(|chat| chat.chat_id.to_owned())
}

fn job_json(job: &CronJob) -> Value {
    json!({
        "id": job.id,
        "name": job.name,
        "enabled": job.enabled,
        "schedule": job.schedule,
        "message": job.payload.message,
        "deliver": job.deliver,
        "channel": job.deliver_channel,
        "to": job.deliver_to,
        "deleteAfterRun": job.delete_after_run,
        "nextRunAtMs": job.next_run_at.map(|t| t.timestamp_millis()),
        "lastStatus": job.last_status.map(|s| s.as_str()),
    })
}
