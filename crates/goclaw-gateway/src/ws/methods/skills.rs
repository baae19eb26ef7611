//! `skills.*` in GoClaw's shapes: `skills.list` (`{skills: [{name, slug, description, source,
//! version, is_system, enabled, id?, visibility?, tags?, status?, author?}]}`), `skills.get`
//! (`{name}` → `{name, slug, description, source, content, version, id?, visibility?,
//! tags?}`, `content` the instructions) and `skills.update` (`{name | id, updates}` →
//! `{"ok": "true"}`, admins only). The caller's tenant's skills only.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::skills::{Skills, find_skill, http::skill_patch, tenant_skills};
use crate::ws::frames::ErrorShape;

fn skills<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Skills, ErrorShape> {
    ctx.state
        .skills
        .as_ref()
        .ok_or_else(|| ErrorShape::not_found("skills are not available"))
}

/// GoClaw's list entry: optional fields only when set.
fn list_entry(info: &Value) -> Value {
    let mut entry = json!({
        "name": info["name"],
        "slug": info["slug"],
        "description": info["description"],
        "source": info["source"],
        "version": info["version"],
        "is_system": info["is_system"],
        "enabled": info["enabled"],
    });
    for key in ["id", "visibility", "tags", "status", "author"] {
        if let Some(value) = info.get(key).filter(|v| !v.is_null()) {
            entry[key] = value.clone();
        }
    }
    entry
}

pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let infos = tenant_skills(skills(ctx)?, ctx.principal.tenant_id)
        .await
        .map_err(|e| store_error(&e))?;
    let entries: Vec<Value> = infos.iter().map(list_entry).collect();
    Ok(json!({ "skills": entries }))
}

#[derive(Deserialize)]
struct GetParams {
    #[serde(default)]
    name: String,
}

pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let GetParams { name } = parse(params)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(ErrorShape::invalid("name is required"));
    }
    let skills = skills(ctx)?;
    let tenant = ctx.principal.tenant_id;
    let not_found = || ErrorShape::not_found(format!("skill {name} not found"));
    match find_skill(skills, tenant, name).await {
        Ok(skill) => {
            let mut answer = json!({
                "id": skill.id,
                "name": skill.name,
                "slug": skill.slug,
                "description": skill.description,
                "source": "managed",
                "content": goclaw_core::SkillDocument::parse(&skill.content).body,
                "version": skill.version,
                "visibility": skill.visibility,
            });
            if !skill.tags.is_empty() {
                answer["tags"] = json!(skill.tags);
            }
            Ok(answer)
        }
        Err(goclaw_core::StoreError::NotFound(_)) => {
            let on_disk = skills.catalog.directory_skills().await;
            let entry = on_disk
                .into_iter()
                .find(|e| e.slug == name)
                .ok_or_else(not_found)?;
            let mut answer = json!({
                "name": entry.name,
                "slug": entry.slug,
                "description": entry.description,
                "source": entry.source,
                "content": entry.instructions(),
                "version": entry.version,
            });
            if !entry.tags.is_empty() {
                answer["tags"] = json!(entry.tags);
            }
            Ok(answer)
        }
        Err(error) => Err(store_error(&error)),
    }
}

#[derive(Deserialize)]
struct UpdateParams {
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    updates: BTreeMap<String, Value>,
}

pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let UpdateParams { name, id, updates } = parse(params)?;
    let key = if id.trim().is_empty() {
        name.trim()
    } else {
        id.trim()
    };
    if key.is_empty() {
        return Err(ErrorShape::invalid("name or id is required"));
    }
    if updates.is_empty() {
        return Err(ErrorShape::invalid("updates is required"));
    }
    let tenant = ctx.principal.tenant_id;
    let skill = find_skill(skills(ctx)?, tenant, key)
        .await
        .map_err(|e| store_error(&e))?;
    let mut patch = skill_patch(&updates).map_err(ErrorShape::invalid)?;
    // GoClaw's method passes `enabled` through to the row, unlike the HTTP update.
    patch.enabled = updates.get("enabled").and_then(Value::as_bool);
    ctx.state
        .store
        .skills()
        .update(tenant, skill.id, patch)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": "true" }))
}
