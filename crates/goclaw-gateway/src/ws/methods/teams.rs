//! `teams.*`: a tenant's teams in GoClaw's shapes — `list` → `{teams, count}`, `get {teamId}`
//! → `{team, members}`, `create {name, lead, members, description, settings}` → `{team}`,
//! `update {teamId, name?, description?, settings?}`, `delete {teamId}`, `members.add {teamId,
//! agent, role?}` and `members.remove {teamId, agentId}` → `{ok: true}`. Below admin a caller
//! sees only the teams that name its user (`crate::teams::visible`); another team is "not
//! found". Creating a team or adding a member links the lead to the member for delegation
//! (`settings.team_id` marks those links, which leave with the member or the team).

use goclaw_core::{AgentId, MemberRole, NewAgentLink, NewTeam, StoreError, Team, TeamPatch};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::agent_links::{agent_names, id_param};
use super::params::parse;
use super::sessions::store_error;
use crate::scopes::Event;
use crate::teams::wire::team_json;
use crate::teams::{AgentNames, events, visible};
use crate::ws::frames::{ErrorCode, ErrorShape};

/// The settings `teams.update` keeps (GoClaw's `teamAccessSettings`); others are dropped.
const SETTINGS_KEYS: &[&str] = &[
    "version",
    "allow_user_ids",
    "deny_user_ids",
    "allow_channels",
    "deny_channels",
    "progress_notifications",
    "followup_interval_minutes",
    "followup_max_reminders",
    "escalation_mode",
    "escalation_actions",
    "workspace_scope",
    "workspace_quota_mb",
    "notifications",
    "member_requests",
    "blocker_escalation",
];

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TeamParams {
    team_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateParams {
    name: String,
    lead: String,
    members: Vec<String>,
    description: String,
    settings: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct UpdateParams {
    team_id: String,
    name: String,
    description: Option<String>,
    settings: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MemberParams {
    team_id: String,
    agent: String,
    agent_id: String,
    role: String,
}

/// The team `raw` names if the caller may see it; "not found" otherwise, whether or not it
/// exists.
pub(super) async fn visible_team(ctx: &Ctx<'_>, raw: &str) -> Result<Team, ErrorShape> {
    let id = id_param(raw, "teamId")?;
    let not_found = || ErrorShape::not_found(format!("team {raw} not found"));
    match ctx
        .state
        .store
        .teams()
        .get(ctx.principal.tenant_id, id)
        .await
    {
        Ok(team) if visible(ctx.principal, &team) => Ok(team),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(other) => Err(store_error(&other)),
    }
}

/// `teams.list` → `{teams, count}`: every team of the tenant for admins, else the caller's
/// active ones.
pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let store = ctx.state.store.teams();
    let teams = store.list(ctx.principal.tenant_id).await;
    let teams = teams.map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let mut listed = Vec::new();
    // Below admin, only active teams are listed (GoClaw's `ListUserTeams`).
    let listed_for =
        |t: &&Team| visible(ctx.principal, t) && (ctx.principal.sees_all() || t.status == "active");
    for team in teams.iter().filter(listed_for) {
        let members = store.members(team.tenant_id, team.id).await;
        let members = members.map_err(|e| store_error(&e))?;
        listed.push(team_json(team, &names, Some(&members)));
    }
    Ok(json!({ "count": listed.len(), "teams": listed }))
}

/// `teams.get {teamId}` → `{team, members}`.
pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TeamParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    let members = ctx
        .state
        .store
        .teams()
        .members(team.tenant_id, team.id)
        .await;
    let members = members.map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let listed: Vec<Value> = members
        .iter()
        .map(|m| crate::teams::wire::member_json(m, &names))
        .collect();
    Ok(json!({ "team": team_json(&team, &names, Some(&members)), "members": listed }))
}

/// `teams.scopes {teamId}` → `{scopes: [{channel, chat_id}]}`: the places the team's tasks
/// came from, each once, in the order first seen.
pub async fn scopes(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TeamParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    let query = goclaw_core::TaskQuery::default();
    let tasks = ctx
        .state
        .store
        .team_tasks()
        .list(team.tenant_id, team.id, &query)
        .await;
    let tasks = tasks.map_err(|e| store_error(&e))?;
    let mut seen = Vec::<(String, String)>::new();
    for task in tasks {
        let scope = (task.channel, task.chat_id);
        if !seen.contains(&scope) {
            seen.push(scope);
        }
    }
    let scopes: Vec<Value> = seen
        .into_iter()
        .map(|(channel, chat_id)| json!({ "channel": channel, "chat_id": chat_id }))
        .collect();
    Ok(json!({ "scopes": scopes }))
}

/// Links the lead to `member` for delegation, marked as the team's; an existing link stays.
async fn link_lead(ctx: &Ctx<'_>, team: &Team, member: AgentId) {
    let mut link = NewAgentLink::new(team.tenant_id, team.lead_agent_id, member);
    link.settings =
        json!({ "team_id": team.id.to_string(), "description": "auto-created by team" });
    if let Err(error) = ctx.state.store.agent_links().create(link).await {
        tracing::debug!(team = %team.id, error = %error, "team link not created");
    }
}

/// Removes the team's own links from the lead (to `member`, or to everyone).
async fn unlink_lead(ctx: &Ctx<'_>, team: &Team, member: Option<AgentId>) {
    let store = ctx.state.store.agent_links();
    let Ok(links) = store.list_from(team.tenant_id, team.lead_agent_id).await else {
        return;
    };
    let ours = links.iter().filter(|link| {
        link.settings.get("team_id").and_then(Value::as_str) == Some(&team.id.to_string())
            && member.is_none_or(|m| link.target_agent_id == m)
    });
    for link in ours {
        if let Err(error) = store.delete(team.tenant_id, link.id).await {
            tracing::debug!(team = %team.id, error = %error, "team link not removed");
        }
    }
}

/// `teams.create` → `{team}`.
pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CreateParams = parse(params)?;
    if params.name.trim().is_empty() {
        return Err(ErrorShape::invalid("name is required"));
    }
    if params.lead.is_empty() {
        return Err(ErrorShape::invalid("lead is required"));
    }
    if params.members.is_empty() {
        return Err(ErrorShape::invalid("at least 1 member is required"));
    }
    let names = agent_names(ctx).await?;
    let lead = names
        .named(&params.lead)
        .ok_or_else(|| ErrorShape::invalid("lead agent: agent not found"))?;
    let mut members = Vec::new();
    for raw in &params.members {
        let member = names
            .named(raw)
            .ok_or_else(|| ErrorShape::invalid(format!("member agent {raw}: agent not found")))?;
        members.push(member.id);
    }
    let tenant = ctx.principal.tenant_id;
    let store = ctx.state.store.teams();
    let led = store
        .teams_of(tenant, lead.id)
        .await
        .map_err(|e| store_error(&e))?;
    if let Some(team) = led.iter().find(|t| t.lead_agent_id == lead.id) {
        return Err(ErrorShape::invalid(format!(
            "agent {:?} already leads team {:?} — each agent can only lead one team",
            lead.agent_key.as_str(),
            team.name
        )));
    }
    let settings = params
        .settings
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let new = NewTeam {
        tenant_id: tenant,
        name: params.name.trim().to_owned(),
        description: params.description,
        lead_agent_id: lead.id,
        settings,
    };
    let team = store.create(new).await.map_err(|e| match e {
        StoreError::Conflict(_) => ErrorShape::new(
            ErrorCode::AlreadyExists,
            "a team of that name already exists",
        ),
        other => store_error(&other),
    })?;
    for member in members.into_iter().filter(|m| *m != lead.id) {
        store
            .add_member(tenant, team.id, member, MemberRole::Member)
            .await
            .map_err(|e| store_error(&e))?;
        link_lead(ctx, &team, member).await;
    }
    let members = store
        .members(tenant, team.id)
        .await
        .map_err(|e| store_error(&e))?;
    let payload = json!({
        "team_id": team.id.to_string(),
        "team_name": team.name,
        "lead_agent_key": lead.agent_key.as_str(),
        "lead_display_name": lead.display_name,
        "member_count": members.len(),
    });
    events::team(&ctx.state.tenant_events, &team, Event::TeamCreated, payload);
    Ok(json!({ "team": team_json(&team, &names, Some(&members)) }))
}

/// `teams.update` → `{ok: true}` (nothing to change is no error either).
pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: UpdateParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    let mut patch = TeamPatch::default();
    let mut changes = Vec::new();
    if let Some(settings) = params.settings {
        let kept: Map<String, Value> = settings
            .into_iter()
            .filter(|(key, _)| SETTINGS_KEYS.contains(&key.as_str()))
            .collect();
        patch.settings = Some(Value::Object(kept));
        changes.push("settings");
    }
    if !params.name.trim().is_empty() {
        patch.name = Some(params.name.trim().to_owned());
        changes.push("name");
    }
    if let Some(description) = params.description {
        patch.description = Some(description);
        changes.push("description");
    }
    if changes.is_empty() {
        return Ok(json!({ "ok": true }));
    }
    let store = ctx.state.store.teams();
    let updated = store.update(team.tenant_id, team.id, patch).await;
    let updated = updated.map_err(|e| store_error(&e))?;
    let payload =
        json!({ "team_id": team.id.to_string(), "team_name": team.name, "changes": changes });
    // Those who could see the team before the change hear of it, and so do those who can now.
    let mut audience: Vec<String> = crate::teams::users_of(&team);
    audience.extend(crate::teams::users_of(&updated));
    ctx.state.tenant_events.publish_to(
        team.tenant_id,
        Event::TeamUpdated,
        payload,
        audience.into(),
    );
    Ok(json!({ "ok": true }))
}

/// `teams.delete` → `{ok: true}`: the team with its members, tasks and links.
pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TeamParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    unlink_lead(ctx, &team, None).await;
    let deleted = ctx
        .state
        .store
        .teams()
        .delete(team.tenant_id, team.id)
        .await;
    deleted.map_err(|e| store_error(&e))?;
    let payload = json!({ "team_id": team.id.to_string(), "team_name": team.name });
    events::team(&ctx.state.tenant_events, &team, Event::TeamDeleted, payload);
    Ok(json!({ "ok": true }))
}

/// `teams.members.add {teamId, agent, role?}` → `{ok: true}`.
pub async fn add_member(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: MemberParams = parse(params)?;
    if params.team_id.is_empty() || params.agent.is_empty() {
        return Err(ErrorShape::invalid("teamId and agent are required"));
    }
    let team = visible_team(ctx, &params.team_id).await?;
    let names = agent_names(ctx).await?;
    let agent = names
        .named(&params.agent)
        .ok_or_else(|| ErrorShape::invalid("agent: agent not found"))?;
    if agent.id == team.lead_agent_id {
        return Err(ErrorShape::invalid("agent is already the team lead"));
    }
    let role = match params.role.as_str() {
        "" | "member" => MemberRole::Member,
        "reviewer" => MemberRole::Reviewer,
        _ => return Err(ErrorShape::invalid("role must be member or reviewer")),
    };
    let store = ctx.state.store.teams();
    store
        .add_member(team.tenant_id, team.id, agent.id, role)
        .await
        .map_err(|e| store_error(&e))?;
    link_lead(ctx, &team, agent.id).await;
    let payload = member_payload(&team, &names, agent.id, Some(role.as_str()));
    events::team(
        &ctx.state.tenant_events,
        &team,
        Event::TeamMemberAdded,
        payload,
    );
    Ok(json!({ "ok": true }))
}

/// `teams.members.remove {teamId, agentId}` → `{ok: true}`.
pub async fn remove_member(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: MemberParams = parse(params)?;
    if params.team_id.is_empty() || params.agent_id.is_empty() {
        return Err(ErrorShape::invalid("teamId and agentId are required"));
    }
    let team = visible_team(ctx, &params.team_id).await?;
    let agent = AgentId::from_uuid(id_param(&params.agent_id, "agentId")?);
    if agent == team.lead_agent_id {
        return Err(ErrorShape::invalid("cannot remove the team lead"));
    }
    let store = ctx.state.store.teams();
    store
        .remove_member(team.tenant_id, team.id, agent)
        .await
        .map_err(|e| store_error(&e))?;
    unlink_lead(ctx, &team, Some(agent)).await;
    let names = agent_names(ctx).await?;
    let payload = member_payload(&team, &names, agent, None);
    events::team(
        &ctx.state.tenant_events,
        &team,
        Event::TeamMemberRemoved,
        payload,
    );
    Ok(json!({ "ok": true }))
}

fn member_payload(team: &Team, names: &AgentNames, agent: AgentId, role: Option<&str>) -> Value {
    let mut payload = json!({
        "team_id": team.id.to_string(),
        "team_name": team.name,
        "agent_id": agent.to_string(),
        "agent_key": names.key(agent),
    });
    if let Some(display) = names.get(agent).map(|a| a.display_name.as_str()) {
        payload["display_name"] = json!(display);
    }
    if let Some(role) = role {
        payload["role"] = json!(role);
    }
    payload
}
