//! Publishing what changed on a team: every event goes through the tenant's event broadcast
//! with the team's [`super::audience`], so it reaches the tenant's admins and the team's users
//! only (`scopes::EVENT_ACCESS`). Link events belong to the tenant's admins; a delegation's
//! events to the user it runs for and the admins.

use goclaw_core::{Team, TenantId};
use serde_json::Value;

use crate::scopes::Event;
use crate::tenant_events::TenantEvents;

/// Sends `event` about `team` to those who may see the team.
pub fn team(events: &TenantEvents, team: &Team, event: Event, payload: Value) {
    events.publish_to(team.tenant_id, event, payload, super::audience(team));
}

/// Sends `event` about a delegation link to the tenant's admins.
pub fn link(events: &TenantEvents, tenant: TenantId, event: Event, payload: Value) {
    events.publish(tenant, event, payload);
}

/// Sends a delegation's `phase` (`started`, `completed`, `failed`, `cancelled`) to the user
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
        _ => return,
    };
    events.publish_for_user(tenant, user_id, event, payload);
}
