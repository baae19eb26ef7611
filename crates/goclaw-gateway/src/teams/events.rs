//! Publishing what changed on a team: every event goes through the tenant's event broadcast
//! with the team's [`super::audience`], so it reaches the tenant's admins and the team's users
//! only (`scopes::EVENT_ACCESS`). Link events belong to the tenant's admins; a delegation's
//! events to the user it runs for and the admins.

use goclaw_core::{ActorKind, NewTaskEvent, TaskTrailStore, Team, TenantId};
use serde_json::Value;

use crate::scopes::Event;
use crate::tenant_events::TenantEvents;

/// Sends `event` about `team` to those who may see the team.
pub fn team(events: &TenantEvents, team: &Team, event: Event, payload: Value) {
    events.publish_to(team.tenant_id, event, payload, super::audience(team));
}

/// Publishes a change to a task of `team` (`team.task.*`, with a [`super::wire::task_event`]
/// payload) and records it in the task's audit trail first: the event's name without its
/// `team.task.` prefix, the payload's actor, and the rest of the payload as its data. A
/// deleted task has no trail left to write to; a trail that cannot be written is logged and
/// the event still goes out.
pub async fn task(
    events: &TenantEvents,
    trail: &dyn TaskTrailStore,
    team: &Team,
    event: Event,
    payload: Value,
) {
    if event != Event::TeamTaskDeleted
        && let Some(record) = audit_record(event, &payload)
        && let Err(error) = trail.record_event(team.tenant_id, record).await
    {
        tracing::warn!(team = %team.id, event = event.as_str(), error = %error, "task change not recorded");
    }
    self::team(events, team, event, payload);
}

/// The audit row of a `team.task.*` event, from its payload.
fn audit_record(event: Event, payload: &Value) -> Option<NewTaskEvent> {
    let event_type = event.as_str().strip_prefix("team.task.")?;
    let field = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or_default();
    let task_id = field("task_id").parse().ok()?;
    let actor_kind = ActorKind::parse(field("actor_type")).unwrap_or(ActorKind::System);
    let mut data = payload.as_object().cloned().unwrap_or_default();
    for kept_apart in ["team_id", "task_id", "actor_type", "actor_id", "timestamp"] {
        data.remove(kept_apart);
    }
    Some(NewTaskEvent {
        task_id,
        event_type: event_type.to_owned(),
        actor_kind,
        actor_id: field("actor_id").to_owned(),
        data: Value::Object(data),
    })
}

/// Sends `event` about a delegation link to the tenant's admins.
pub fn link(events: &TenantEvents, tenant: TenantId, event: Event, payload: Value) {
    events.publish(tenant, event, payload);
}

/// Sends a delegation's `phase` (`started`, `completed`, `failed`, `cancelled`, `progress`,
/// `accumulated`, `announce`) to the user
/// it runs for and the tenant's admins; an unknown phase sends nothing.
pub fn delegation(
    events: &TenantEvents,
    tenant: TenantId,
    user_id: &str,
    phase: &str,
    payload: Value,
) {
    let event = match phase {
        "started" => Event::DelegationStarted,
        "completed" => Event::DelegationCompleted,
        "failed" => Event::DelegationFailed,
        "cancelled" => Event::DelegationCancelled,
        "progress" => Event::DelegationProgress,
        "accumulated" => Event::DelegationAccumulated,
        "announce" => Event::DelegationAnnounce,
        _ => return,
    };
    events.publish_for_user(tenant, user_id, event, payload);
}
