//! `agents.links.*`: the tenant's delegation links in GoClaw's shapes — `list {agentId,
//! direction: from|to|all}` → `{links, count}`, `create {sourceAgent, targetAgent, direction,
//! description, maxConcurrent, settings}` → `{link}`, `update {linkId, …}` and `delete {linkId}`
//! → `{ok: true}` — each change announced as `agent_link.*` to the tenant's admins.

use goclaw_core::{AgentLinkPatch, LINK_ACTIVE, LinkDirection, NewAgentLink, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::scopes::Event;
use crate::teams::wire::link_json;
use crate::teams::{AgentNames, events};
use crate::ws::frames::ErrorShape;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ListParams {
    agent_id: String,
    direction: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CreateParams {
    source_agent: String,
    target_agent: String,
    direction: String,
    description: String,
    max_concurrent: i32,
    settings: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct UpdateParams {
    link_id: String,
    direction: String,
    description: Option<String>,
    max_concurrent: Option<i32>,
    settings: Option<Value>,
    status: String,
}

/// The tenant's agents, to resolve keys and name both ends of a link.
pub(super) async fn agent_names(ctx: &Ctx<'_>) -> Result<AgentNames, ErrorShape> {
    let agents = ctx.state.store.agents().list(ctx.principal.tenant_id).await;
    Ok(AgentNames::new(agents.map_err(|e| store_error(&e))?))
}

/// A required id param.
pub(super) fn id_param(raw: &str, name: &str) -> Result<Uuid, ErrorShape> {
    if raw.is_empty() {
        return Err(ErrorShape::invalid(format!("{name} is required")));
    }
    raw.trim()
        .parse()
        .map_err(|_| ErrorShape::invalid(format!("invalid {name}")))
}

fn direction(raw: &str) -> Result<LinkDirection, ErrorShape> {
    LinkDirection::parse(raw)
        .ok_or_else(|| ErrorShape::invalid("direction must be outbound, inbound or bidirectional"))
}

/// `agents.links.list` → `{links, count}`.
pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ListParams = parse(params)?;
    if params.agent_id.is_empty() {
        return Err(ErrorShape::invalid("agentId is required"));
    }
    let names = agent_names(ctx).await?;
    let agent = names
        .named(&params.agent_id)
        .ok_or_else(|| ErrorShape::invalid(format!("agent {} not found", params.agent_id)))?;
    let (tenant, id) = (ctx.principal.tenant_id, agent.id);
    let store = ctx.state.store.agent_links();
    let links = match params.direction.as_str() {
        "to" => store.list_to(tenant, id).await,
        "all" => match store.list_from(tenant, id).await {
            Ok(mut from) => store.list_to(tenant, id).await.map(|to| {
                from.extend(to);
                from
            }),
            Err(e) => Err(e),
        },
        _ => store.list_from(tenant, id).await,
    }
    .map_err(|e| store_error(&e))?;
    let links: Vec<Value> = links.iter().map(|l| link_json(l, &names)).collect();
    Ok(json!({ "count": links.len(), "links": links }))
}

/// Settings with GoClaw's `description` kept among them.
fn with_description(settings: Option<Value>, description: Option<&str>) -> Value {
    let mut map = match settings {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        map.insert("description".to_owned(), json!(description));
    }
    Value::Object(map)
}

/// `agents.links.create` → `{link}`.
pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CreateParams = parse(params)?;
    if params.source_agent.is_empty() || params.target_agent.is_empty() {
        return Err(ErrorShape::invalid(
            "sourceAgent and targetAgent are required",
        ));
    }
    let direction = if params.direction.is_empty() {
        LinkDirection::Outbound
    } else {
        direction(&params.direction)?
    };
    let names = agent_names(ctx).await?;
    let source = names
        .named(&params.source_agent)
        .ok_or_else(|| ErrorShape::invalid("source agent: agent not found"))?;
    let target = names
        .named(&params.target_agent)
        .ok_or_else(|| ErrorShape::invalid("target agent: agent not found"))?;
    if source.id == target.id {
        return Err(ErrorShape::invalid(
            "source and target must be different agents",
        ));
    }
    if target.agent_type == "open" {
        return Err(ErrorShape::invalid(
            "cannot delegate to an open agent — only predefined agents can be delegation targets",
        ));
    }
    let mut link = NewAgentLink::new(ctx.principal.tenant_id, source.id, target.id);
    link.direction = direction;
    if params.max_concurrent > 0 {
        link.max_concurrent = params.max_concurrent;
    }
    link.settings = with_description(params.settings, Some(&params.description));
    let link = ctx
        .state
        .store
        .agent_links()
        .create(link)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ErrorShape::new(
                crate::ws::frames::ErrorCode::AlreadyExists,
                "a link between these agents already exists",
            ),
            other => store_error(&other),
        })?;
    let payload = json!({
        "link_id": link.id.to_string(),
        "source_agent_id": source.id.to_string(),
        "source_agent_key": source.agent_key.as_str(),
        "target_agent_id": target.id.to_string(),
        "target_agent_key": target.agent_key.as_str(),
        "direction": link.direction.as_str(),
        "status": LINK_ACTIVE,
    });
    events::link(
        &ctx.state.tenant_events,
        link.tenant_id,
        Event::AgentLinkCreated,
        payload,
    );
    Ok(json!({ "link": link_json(&link, &names) }))
}

/// `agents.links.update` → `{ok: true}`.
pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: UpdateParams = parse(params)?;
    let id = id_param(&params.link_id, "linkId")?;
    let tenant = ctx.principal.tenant_id;
    let mut patch = AgentLinkPatch::default();
    let mut changes = Vec::new();
    if !params.direction.is_empty() {
        patch.direction = Some(direction(&params.direction)?);
        changes.push("direction");
    }
    if let Some(max) = params.max_concurrent.filter(|m| *m > 0) {
        patch.max_concurrent = Some(max);
        changes.push("max_concurrent");
    }
    if !params.status.is_empty() {
        if params.status != "active" && params.status != "disabled" {
            return Err(ErrorShape::invalid("status must be active or disabled"));
        }
        patch.status = Some(params.status.clone());
        changes.push("status");
    }
    if params.settings.is_some() || params.description.is_some() {
        let current = ctx.state.store.agent_links().get(tenant, id).await;
        let current = current.map_err(|e| store_error(&e))?;
        let base = params.settings.clone().or(Some(current.settings));
        patch.settings = Some(with_description(base, params.description.as_deref()));
        if params.settings.is_some() {
            changes.push("settings");
        }
        if params.description.is_some() {
            changes.push("description");
        }
    }
    if changes.is_empty() {
        return Err(ErrorShape::invalid("no updates provided"));
    }
    let link = ctx
        .state
        .store
        .agent_links()
        .update(tenant, id, patch)
        .await;
    let link = link.map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let payload = json!({
        "link_id": link.id.to_string(),
        "source_agent_key": names.key(link.source_agent_id),
        "target_agent_key": names.key(link.target_agent_id),
        "direction": link.direction.as_str(),
        "status": link.status,
        "changes": changes,
    });
    events::link(
        &ctx.state.tenant_events,
        tenant,
        Event::AgentLinkUpdated,
        payload,
    );
    Ok(json!({ "ok": true }))
}

/// `agents.links.delete` → `{ok: true}`.
pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct DeleteParams {
        link_id: String,
    }
    let params: DeleteParams = parse(params)?;
    let id = id_param(&params.link_id, "linkId")?;
    let tenant = ctx.principal.tenant_id;
    let store = ctx.state.store.agent_links();
    let link = store.get(tenant, id).await.map_err(|e| store_error(&e))?;
    store
        .delete(tenant, id)
        .await
        .map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let payload = json!({
        "link_id": link.id.to_string(),
        "source_agent_key": names.key(link.source_agent_id),
        "target_agent_key": names.key(link.target_agent_id),
    });
    events::link(
        &ctx.state.tenant_events,
        tenant,
        Event::AgentLinkDeleted,
        payload,
    );
    Ok(json!({ "ok": true }))
}
