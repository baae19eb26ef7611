//! `agents.*`: listing, creating, updating and deleting agents, and their context files.
//!
//! Context files reach other users' prompts, so who may change which is decided here: an
//! admin reads and writes the agent-level (shared) files; anyone else reads what their own
//! prompt contains (their per-user file, else the shared one) and writes only their per-user
//! files — every file of an `open` agent, USER.md of a `predefined` one. Writes are capped at
//! [`MAX_CONTEXT_FILE_BYTES`] and spend the caller's write budget.

use goclaw_core::{AgentKey, AgentPatch, NewAgent};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::{agent_key, parse};
use super::sessions::store_error;
use crate::agents::{self as shared, AgentFields, FileTarget};
use crate::quotas::{MAX_CONTEXT_FILE_BYTES, admit_write, check_size};
use crate::ws::frames::ErrorShape;
use crate::ws::wire;

/// The caller's tenant's agent with this key.
async fn agent_by_key(ctx: &Ctx<'_>, key: &AgentKey) -> Result<goclaw_core::Agent, ErrorShape> {
    ctx.state
        .store
        .agents()
        .get_by_key(ctx.principal.tenant_id, key)
        .await
        .map_err(|e| store_error(&e))
}

pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let agents = ctx
        .state
        .store
        .agents()
        .list(ctx.principal.tenant_id)
        .await
        .map_err(|e| store_error(&e))?;
    let running = ctx.state.runtime.running_agents(ctx.principal.tenant_id);
    // GoClaw lists the agents one can chat with: the active ones.
    let agents: Vec<Value> = agents
        .iter()
        .filter(|a| a.status == "active")
        .map(|a| {
            let primary = ctx.state.runtime.primary_model(a, None);
            wire::listed_agent(a, primary, running.contains(a.agent_key.as_str()))
        })
        .collect();
    Ok(json!({ "agents": agents }))
}

pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let fields: AgentFields = parse(params)?;
    shared::check_quotas(ctx.principal, &fields)?;
    let key = shared::key_for_new_agent(&fields).map_err(ErrorShape::invalid)?;
    let mut agent = NewAgent::new(
        ctx.principal.tenant_id,
        key,
        fields.name.clone().unwrap_or_default(),
    );
    shared::apply_to_new(&mut agent, &fields).map_err(ErrorShape::invalid)?;
    let created = ctx
        .state
        .store
        .agents()
        .create(agent)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({
        "ok": true,
        "agentId": created.agent_key.to_string(),
        "name": created.display_name,
        "workspace": created.workspace,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentRef {
    agent_id: String,
}

fn agent_ref(params: &Value) -> Result<AgentKey, ErrorShape> {
    let reference: AgentRef = parse(params.clone())?;
    agent_key(&reference.agent_id)
}

/// The agent a context-file call names; `default` when it names none, as in GoClaw.
fn file_agent(agent_id: Option<&str>) -> Result<AgentKey, ErrorShape> {
    agent_key(agent_id.filter(|a| !a.is_empty()).unwrap_or("default"))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct FilesParams {
    agent_id: Option<String>,
}

pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let key = agent_ref(&params)?;
    let fields: AgentFields = parse(params)?;
    shared::check_quotas(ctx.principal, &fields)?;
    let patch: AgentPatch = shared::patch_from(&fields).map_err(ErrorShape::invalid)?;
    let updated = ctx
        .state
        .store
        .agents()
        .update(ctx.principal.tenant_id, &key, patch)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true, "agentId": updated.agent_key.to_string() }))
}

pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let key = agent_ref(&params)?;
    ctx.state
        .store
        .agents()
        .delete(ctx.principal.tenant_id, &key)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true, "agentId": key.to_string(), "removedBindings": 0 }))
}

/// `(name, size)` of a file as listed.
fn listed(name: &str, file: Option<&goclaw_core::ContextFile>) -> Value {
    match file {
        Some(file) => json!({ "name": name, "missing": false, "size": file.content.len() }),
        None => json!({ "name": name, "missing": true, "size": 0 }),
    }
}

/// The files the caller may see: an admin the agent-level ones, anyone else what their own
/// prompt contains.
async fn visible_files(
    ctx: &Ctx<'_>,
    agent: &goclaw_core::Agent,
) -> Result<Vec<goclaw_core::ContextFile>, ErrorShape> {
    let store = ctx.state.store.as_ref();
    let files = if ctx.principal.sees_all() {
        store.context_files().list(agent.id).await
    } else {
        goclaw_agent::files_for_user(store, agent, &ctx.principal.user_id).await
    };
    files.map_err(|e| store_error(&e))
}

pub async fn files_list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: FilesParams = parse(params)?;
    let key = file_agent(params.agent_id.as_deref())?;
    let agent = agent_by_key(ctx, &key).await?;
    let stored = visible_files(ctx, &agent).await?;
    let mut files: Vec<Value> = shared::CONTEXT_FILES
        .iter()
        .map(|name| listed(name, stored.iter().find(|f| f.file_name == *name)))
        .collect();
    for file in stored
        .iter()
        .filter(|f| !shared::CONTEXT_FILES.contains(&f.file_name.as_str()))
    {
        files.push(listed(&file.file_name, Some(file)));
    }
    Ok(json!({ "agentId": key.to_string(), "files": files }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileParams {
    #[serde(default)]
    agent_id: Option<String>,
    name: String,
    content: Option<String>,
}

pub async fn files_get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: FileParams = parse(params)?;
    let key = file_agent(params.agent_id.as_deref())?;
    shared::check_file_name(&params.name).map_err(ErrorShape::invalid)?;
    let agent = agent_by_key(ctx, &key).await?;
    let store = ctx.state.store.as_ref();
    let file = if ctx.principal.sees_all() {
        store.context_files().get(agent.id, &params.name).await
    } else {
        goclaw_agent::file_for_user(
            store,
            agent.id,
            &agent.agent_type,
            &ctx.principal.user_id,
            &params.name,
        )
        .await
    }
    .map_err(|e| store_error(&e))?;
    let file = match file {
        Some(f) => {
            json!({ "name": f.file_name, "missing": false, "size": f.content.len(), "content": f.content })
        }
        None => json!({ "name": params.name, "missing": true, "size": 0, "content": "" }),
    };
    Ok(json!({ "agentId": key.to_string(), "file": file }))
}

pub async fn files_set(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: FileParams = parse(params)?;
    let key = file_agent(params.agent_id.as_deref())?;
    shared::check_file_name(&params.name).map_err(ErrorShape::invalid)?;
    let content = params
        .content
        .ok_or_else(|| ErrorShape::invalid("content is required"))?;
    let principal = ctx.principal;
    check_size(
        principal,
        "content",
        content.len(),
        MAX_CONTEXT_FILE_BYTES,
        "bytes",
    )?;
    let agent = agent_by_key(ctx, &key).await?;
    let target = shared::file_target(principal, &agent, &params.name).map_err(|refusal| {
        tracing::warn!(
            method = "agents.files.set",
            role = %principal.role,
            user_id = %principal.user_id,
            agent = %key,
            file = %params.name,
            "security.permission_denied"
        );
        refusal.into_error_shape()
    })?;
    admit_write(
        ctx.state,
        principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "agents.files.set",
    )?;
    let files = ctx.state.store.context_files();
    let tenant = principal.tenant_id;
    let file = match target {
        FileTarget::Shared => files.set(tenant, agent.id, &params.name, &content).await,
        FileTarget::Own => {
            files
                .set_for_user(tenant, agent.id, &principal.user_id, &params.name, &content)
                .await
        }
    }
    .map_err(|e| store_error(&e))?;
    // `propagated` counts the per-user copies GoClaw can push a shared file to; here a user's
    // own file overrides the shared one and nothing is copied.
    Ok(json!({
        "agentId": key.to_string(),
        "file": {
            "name": file.file_name,
            "missing": false,
            "size": file.content.len(),
            "content": file.content,
            "scope": target.as_str(),
        },
        "propagated": 0,
    }))
}
