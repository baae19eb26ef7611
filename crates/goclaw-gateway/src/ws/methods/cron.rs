//! `cron.*`: the tenant's scheduled jobs in GoClaw's shapes — `cron.list` (`{jobs, status}`),
//! `cron.status`, `cron.create`/`cron.update` (`{job}`), `cron.delete` (`{deleted}`),
//! `cron.toggle` (`{jobId, enabled}`), `cron.run` (`{ok, ran}`, the run going on in the
//! background) and `cron.runs` (`{entries, total}`).
//!
//! Below admin a caller sees and changes only the jobs it created; someone else's job is
//! refused as a permission matter, another tenant's is not found. A job runs as its creator.

use chrono::{DateTime, Utc};
use goclaw_core::cron::{ScheduleChange, to_millis};
use goclaw_core::{
    Agent, CronClaim, CronJob, CronJobPatch, CronPayload, CronSchedule, NewCronJob, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::cron::wire;
use crate::quotas::admit_write;
use crate::ws::frames::{ErrorCode, ErrorShape};

/// The longest job name.
const MAX_NAME_CHARS: usize = 100;
/// The longest message a job sends its agent.
const MAX_MESSAGE_CHARS: usize = 20_000;
/// Runs `cron.runs` answers at most per page.
const MAX_RUNS_PAGE: u32 = 200;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    #[serde(default)]
    include_disabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateParams {
    #[serde(default)]
    name: String,
    schedule: Option<Value>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    deliver: bool,
    #[serde(default)]
    deliver_channel: String,
    #[serde(default)]
    deliver_to: String,
    #[serde(default)]
    wake_heartbeat: bool,
    stateless: Option<bool>,
    delete_after_run: Option<bool>,
    #[serde(default)]
    agent_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobRef {
    #[serde(default)]
    job_id: String,
    #[serde(default)]
    id: String,
}

impl JobRef {
    fn parse(&self) -> Result<Uuid, ErrorShape> {
        let raw = if self.job_id.is_empty() {
            &self.id
        } else {
            &self.job_id
        };
        if raw.is_empty() {
            return Err(ErrorShape::invalid("jobId is required"));
        }
        // Not a job id of ours: no such job.
        raw.parse()
            .map_err(|_| ErrorShape::not_found("cron job not found"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    #[serde(flatten)]
    job: JobRef,
    #[serde(default)]
    patch: Patch,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Patch {
    name: Option<String>,
    enabled: Option<bool>,
    schedule: Option<Value>,
    message: Option<String>,
    delete_after_run: Option<bool>,
    stateless: Option<bool>,
    deliver: Option<bool>,
    deliver_channel: Option<String>,
    deliver_to: Option<String>,
    wake_heartbeat: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToggleParams {
    #[serde(flatten)]
    job: JobRef,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunParams {
    #[serde(flatten)]
    job: JobRef,
    #[serde(default)]
    mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunsParams {
    #[serde(flatten)]
    job: JobRef,
    #[serde(default)]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn now(ctx: &Ctx<'_>) -> DateTime<Utc> {
    to_millis(ctx.state.cron.clock.now())
}

fn default_tz<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    &ctx.state.cron.settings.default_timezone
}

/// The jobs the caller may see: the tenant's, or below admin its own.
async fn visible_jobs(ctx: &Ctx<'_>) -> Result<Vec<CronJob>, ErrorShape> {
    let mut jobs = ctx
        .state
        .store
        .cron()
        .list(ctx.principal.tenant_id, None)
        .await
        .map_err(|e| store_error(&e))?;
    if let Some(user) = ctx.listing_user() {
        jobs.retain(|job| job.user_id.as_deref() == Some(user.as_str()));
    }
    Ok(jobs)
}

/// `{enabled, jobs, nextWakeAtMs?}`: the scheduler runs; how many enabled jobs the caller
/// sees and when the first of them is due.
fn status_of(jobs: &[CronJob]) -> Value {
    let enabled: Vec<&CronJob> = jobs.iter().filter(|j| j.enabled).collect();
    let mut status = json!({ "enabled": true, "jobs": enabled.len() });
    if let Some(next) = enabled.iter().filter_map(|j| j.next_run_at).min() {
        status["nextWakeAtMs"] = next.timestamp_millis().into();
    }
    status
}

/// `cron.list {includeDisabled}` → `{jobs, status}`, newest first.
pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ListParams = parse(params)?;
    let mut jobs = visible_jobs(ctx).await?;
    let status = status_of(&jobs);
    if !params.include_disabled {
        jobs.retain(|job| job.enabled);
    }
    jobs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let jobs: Vec<Value> = jobs.iter().map(wire::job).collect();
    Ok(json!({ "jobs": jobs, "status": status }))
}

/// `cron.status` → `{enabled, jobs, nextWakeAtMs?}`.
pub async fn status(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    Ok(status_of(&visible_jobs(ctx).await?))
}

/// The job `id` if the caller may change or read it: another tenant's is not found, someone
/// else's (below admin) a permission refusal.
async fn own_job(ctx: &Ctx<'_>, id: Uuid) -> Result<CronJob, ErrorShape> {
    let job = ctx
        .state
        .store
        .cron()
        .get(ctx.principal.tenant_id, id)
        .await
        .map_err(|e| store_error(&e))?;
    if !ctx.may_see_user(job.user_id.as_deref().unwrap_or_default()) {
        tracing::warn!(
            job = %id,
            user_id = %ctx.principal.user_id,
            "security.permission_denied"
        );
        return Err(ErrorShape::unauthorized("permission denied: cron job"));
    }
    Ok(job)
}

fn check_name(name: &str) -> Result<String, ErrorShape> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ErrorShape::invalid("name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ErrorShape::invalid(format!(
            "name is too long (at most {MAX_NAME_CHARS} characters)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ErrorShape::invalid(
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_message(message: &str) -> Result<(), ErrorShape> {
    if message.trim().is_empty() {
        return Err(ErrorShape::invalid("message is required"));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ErrorShape::invalid(format!(
            "message is too long (at most {MAX_MESSAGE_CHARS} characters)"
        )));
    }
    Ok(())
}

/// A schedule param, validated and first due after `now`; a one-off time already past is
/// refused rather than stored as a job that never fires.
fn schedule_change(
    raw: Value,
    now: DateTime<Utc>,
    default_tz: &str,
) -> Result<ScheduleChange, ErrorShape> {
    let schedule: CronSchedule = serde_json::from_value(raw).map_err(|e| {
        ErrorShape::invalid(format!(
            "invalid schedule: {e} (expected {{kind: \"at\", atMs}}, {{kind: \"every\", everyMs}} or {{kind: \"cron\", expr, tz?}})"
        ))
    })?;
    let change = ScheduleChange::new(schedule, now, default_tz)
        .map_err(|e| ErrorShape::invalid(e.to_string()))?;
    if change.next_run_at.is_none() {
        return Err(ErrorShape::invalid(
            "schedule has no future run: the time is already in the past",
        ));
    }
    Ok(change)
}

/// A partial schedule merged onto `current`: fields the patch leaves out are kept when the
/// kind stays the same.
fn merged_schedule(current: &CronSchedule, patch: Value) -> Value {
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let Value::Object(patch) = patch else {
        return patch;
    };
    let kind_changes = patch
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind != current.kind());
    if kind_changes {
        merged.clear();
    }
    merged.extend(patch);
    Value::Object(merged)
}

/// The agent `raw` names (its id or its key); the tenant's default agent when empty.
async fn agent_of(ctx: &Ctx<'_>, raw: &str) -> Result<Agent, ErrorShape> {
    let tenant = ctx.principal.tenant_id;
    if raw.trim().is_empty() {
        return ctx
            .state
            .runtime
            .ensure_default_agent(tenant)
            .await
            .map_err(|e| ErrorShape::internal(e.to_string()));
    }
    let agents = ctx
        .state
        .store
        .agents()
        .list(tenant)
        .await
        .map_err(|e| store_error(&e))?;
    agents
        .into_iter()
        .find(|a| a.id.to_string() == raw || a.agent_key.as_str() == raw)
        .ok_or_else(|| ErrorShape::not_found(format!("agent {raw} not found")))
}

/// `cron.create` → `{job}`.
pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CreateParams = parse(params)?;
    let name = check_name(&params.name)?;
    check_message(&params.message)?;
    let raw_schedule = params
        .schedule
        .ok_or_else(|| ErrorShape::invalid("schedule is required"))?;
    let now = now(ctx);
    let change = schedule_change(raw_schedule, now, default_tz(ctx))?;
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "cron.create",
    )?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let one_off = matches!(change.schedule, CronSchedule::At { .. });
    let job = NewCronJob {
        tenant_id: ctx.principal.tenant_id,
        agent_id: agent.id,
        user_id: Some(ctx.principal.user_id.clone()).filter(|u| !u.is_empty()),
        name,
        enabled: true,
        schedule: change.schedule,
        anchor_at: change.anchor_at,
        next_run_at: change.next_run_at,
        payload: CronPayload {
            message: params.message,
            ..CronPayload::default()
        },
        delete_after_run: params.delete_after_run.unwrap_or(one_off),
        deliver: params.deliver,
        deliver_channel: params.deliver_channel,
        deliver_to: params.deliver_to,
        wake_heartbeat: params.wake_heartbeat,
        stateless: params.stateless.unwrap_or(true),
    };
    let job = ctx
        .state
        .store
        .cron()
        .create(job)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ErrorShape::new(
                ErrorCode::AlreadyExists,
                "a cron job of that name already exists for this agent",
            ),
            other => store_error(&other),
        })?;
    tracing::info!(job = %job.id, user_id = %ctx.principal.user_id, "cron.created");
    Ok(json!({ "job": wire::job(&job) }))
}

/// `cron.update {jobId|id, patch}` → `{job}`.
pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: UpdateParams = parse(params)?;
    let id = params.job.parse()?;
    let current = own_job(ctx, id).await?;
    let patch = params.patch;
    let now = now(ctx);
    let mut change = CronJobPatch {
        name: patch.name.as_deref().map(check_name).transpose()?,
        enabled: patch.enabled,
        delete_after_run: patch.delete_after_run,
        deliver: patch.deliver,
        deliver_channel: patch.deliver_channel,
        deliver_to: patch.deliver_to,
        wake_heartbeat: patch.wake_heartbeat,
        stateless: patch.stateless,
        ..CronJobPatch::default()
    };
    if let Some(message) = patch.message {
        check_message(&message)?;
        change.payload = Some(CronPayload {
            message,
            ..current.payload.clone()
        });
    }
    if let Some(schedule) = patch.schedule {
        let merged = merged_schedule(&current.schedule, schedule);
        change.schedule = Some(schedule_change(merged, now, default_tz(ctx))?);
    } else if patch.enabled == Some(true) && !current.enabled {
        // Enabled again: due from now, not at a time passed while it was off.
        change.schedule = Some(reenabled(&current, now, default_tz(ctx))?);
    }
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "cron.update",
    )?;
    let job = ctx
        .state
        .store
        .cron()
        .update(ctx.principal.tenant_id, id, change)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "job": wire::job(&job) }))
}

/// The schedule of a job enabled again, due next after `now`.
fn reenabled(
    job: &CronJob,
    now: DateTime<Utc>,
    default_tz: &str,
) -> Result<ScheduleChange, ErrorShape> {
    let value =
        serde_json::to_value(&job.schedule).map_err(|e| ErrorShape::internal(e.to_string()))?;
    schedule_change(value, now, default_tz)
}

/// `cron.delete {jobId}` → `{deleted: true}`.
pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: JobRef = parse(params)?;
    let id = params.parse()?;
    own_job(ctx, id).await?;
    ctx.state
        .store
        .cron()
        .delete(ctx.principal.tenant_id, id)
        .await
        .map_err(|e| store_error(&e))?;
    tracing::info!(job = %id, user_id = %ctx.principal.user_id, "cron.deleted");
    Ok(json!({ "deleted": true }))
}

/// `cron.toggle {jobId, enabled}` → `{jobId, enabled}`. Enabling a job makes it due at its
/// schedule's next time after now; a one-off whose time has passed cannot be enabled.
pub async fn toggle(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ToggleParams = parse(params)?;
    let id = params.job.parse()?;
    let job = own_job(ctx, id).await?;
    let next_run_at = match (params.enabled, job.enabled) {
        (false, _) => None,
        (true, true) => job.next_run_at,
        (true, false) => reenabled(&job, now(ctx), default_tz(ctx))?.next_run_at,
    };
    ctx.state
        .store
        .cron()
        .set_enabled(ctx.principal.tenant_id, id, params.enabled, next_run_at)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "jobId": id, "enabled": params.enabled }))
}

/// `cron.run {jobId|id, mode}` → `{ok: true, ran}`. `force` runs the job now whatever its
/// schedule or state; `due` (the default) runs it only if it is due, claiming that due time
/// so the scheduler does not run it too (`{ok: true, ran: false, reason: "not-due"}`
/// otherwise). The run goes on in the background.
pub async fn run(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: RunParams = parse(params)?;
    let id = params.job.parse()?;
    let job = own_job(ctx, id).await?;
    let now = now(ctx);
    let cron = ctx.state.store.cron();
    let run = if params.mode == "force" {
        Some(
            cron.start_run(job.tenant_id, job.id, now)
                .await
                .map_err(|e| store_error(&e))?,
        )
    } else {
        match job.next_run_at.filter(|due| job.enabled && *due <= now) {
            None => None,
            Some(due_at) => {
                let next_run_at = job
                    .schedule
                    .compile(default_tz(ctx))
                    .ok()
                    .and_then(|s| s.next_after(job.anchor_at, now));
                let claim = CronClaim {
                    job_id: job.id,
                    due_at,
                    next_run_at,
                    now,
                };
                cron.claim(claim).await.map_err(|e| store_error(&e))?
            }
        }
    };
    let Some(run) = run else {
        return Ok(json!({ "ok": true, "ran": false, "reason": "not-due" }));
    };
    tracing::info!(job = %id, user_id = %ctx.principal.user_id, mode = %params.mode, "cron.run");
    let state = ctx.state.clone();
    tokio::spawn(async move { crate::cron::execute(&state, job, run).await });
    Ok(json!({ "ok": true, "ran": true }))
}

/// `cron.runs {jobId|id, limit, offset}` → `{entries, total}`, newest first.
pub async fn runs(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: RunsParams = parse(params)?;
    let id = params.job.parse()?;
    own_job(ctx, id).await?;
    let (runs, total) = ctx
        .state
        .store
        .cron()
        .runs(
            ctx.principal.tenant_id,
            id,
            params.limit.min(MAX_RUNS_PAGE),
            params.offset,
        )
        .await
        .map_err(|e| store_error(&e))?;
    let entries: Vec<Value> = runs.iter().map(wire::run).collect();
    Ok(json!({ "entries": entries, "total": total }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_schedule_keeps_the_fields_of_its_kind() {
        let current = CronSchedule::Cron {
            expr: "0 9 * * *".to_owned(),
            tz: Some("Europe/Berlin".to_owned()),
        };
        assert_eq!(
            merged_schedule(&current, json!({ "expr": "0 10 * * *" })),
            json!({ "kind": "cron", "expr": "0 10 * * *", "tz": "Europe/Berlin" })
        );
        assert_eq!(
            merged_schedule(&current, json!({ "kind": "every", "everyMs": 60000 })),
            json!({ "kind": "every", "everyMs": 60000 })
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("  nightly report ").is_ok_and(|n| n == "nightly report"));
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
