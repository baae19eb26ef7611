//! Teams, their task boards and delegation links as the gateway serves them: who below admin
//! may see a team ([`visible`]: the users its `settings.allow_user_ids` names), the JSON shapes
//! of GoClaw's records (`wire`), the events a change publishes (`events`), the recovery
//! ticker that tends v2 boards (`recovery`), the follow-up reminders it sends (`followups`)
//! and the teams' files (`workspace`).
//!
//! GoClaw keeps per-user grants in a `team_user_grants` table that none of its methods fill;
//! here a team's own access list decides, which `teams.update` edits (`docs/compat.md`).

pub mod events;
pub mod followups;
pub mod recovery;
pub mod tool;
pub mod wire;
pub mod workspace;

use std::collections::HashMap;

use goclaw_core::{Agent, AgentId, Team};
use serde_json::Value;

use crate::auth::Principal;
use crate::tenant_events::Audience;

/// The users a team names in `settings.allow_user_ids`, who see it below admin.
pub fn users_of(team: &Team) -> Vec<String> {
    team.settings
        .get("allow_user_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `principal` may see `team`: an admin of its tenant, or a user the team names.
pub fn visible(principal: &Principal, team: &Team) -> bool {
    if principal.tenant_id != team.tenant_id {
        return false;
    }
    if principal.sees_all() {
        return true;
    }
    !principal.user_id.is_empty() && users_of(team).contains(&principal.user_id)
}

/// Who below admin is sent the events of `team`.
pub fn audience(team: &Team) -> Audience {
    users_of(team).into()
}

/// A tenant's agents by id, for naming owners and members in answers.
#[derive(Default)]
pub struct AgentNames {
    by_id: HashMap<AgentId, Agent>,
}

impl AgentNames {
    pub fn new(agents: Vec<Agent>) -> Self {
        Self {
            by_id: agents.into_iter().map(|a| (a.id, a)).collect(),
        }
    }

    pub fn get(&self, id: AgentId) -> Option<&Agent> {
        self.by_id.get(&id)
    }

    /// The key of agent `id`, or `""` for an agent that is gone.
    pub fn key(&self, id: AgentId) -> &str {
        self.get(id).map_or("", |a| a.agent_key.as_str())
    }

    /// The agent `raw` names, by id or key.
    pub fn named(&self, raw: &str) -> Option<&Agent> {
        let raw = raw.trim();
        self.by_id
            .values()
            .find(|a| a.id.to_string() == raw || a.agent_key.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use goclaw_core::{MASTER_TENANT_ID, TenantId};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::auth::Role;

    fn check(settings: Value, role: Role, user: &str, expected: bool) {
        let team = Team {
            id: Uuid::now_v7(),
            tenant_id: MASTER_TENANT_ID,
            name: "crew".to_owned(),
            description: String::new(),
            lead_agent_id: goclaw_core::AgentId::generate(),
            settings: settings.clone(),
            status: "active".to_owned(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let principal = Principal {
            role,
            user_id: user.to_owned(),
            tenant_id: MASTER_TENANT_ID,
            scopes: None,
        };
        assert_eq!(
            visible(&principal, &team),
            expected,
            "{settings} {role} {user:?}"
        );
        let stranger = Principal {
            tenant_id: TenantId::generate(),
            ..principal
        };
        assert!(!visible(&stranger, &team), "another tenant");
    }

    #[test]
    fn teams_are_seen_by_admins_and_their_users() {
        let named = json!({ "allow_user_ids": ["alice", "vera", ""] });
        check(named.clone(), Role::Admin, "ada", true);
        check(named.clone(), Role::Owner, "", true);
        check(named.clone(), Role::Operator, "alice", true);
        check(named.clone(), Role::Viewer, "vera", true);
        check(named.clone(), Role::Operator, "bob", false);
        check(named, Role::Operator, "", false);
        check(json!({}), Role::Operator, "alice", false);
        check(
            json!({ "allow_user_ids": "alice" }),
            Role::Operator,
            "alice",
            false,
        );
    }
}
