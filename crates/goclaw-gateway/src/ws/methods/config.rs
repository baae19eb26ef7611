//! `config.get`, `config.apply`, `config.patch`, `config.schema` (the owner, in the master
//! tenant) and `config.defaults` (the master tenant), in GoClaw's shapes: `{config, hash,
//! path}` with every secret as `"***"`; `{raw, baseHash}` in, `{ok, path, config, hash,
//! restart}` out; `{json}`; the per-agent defaults. The work is done by the application's
//! [`crate::config_admin::ConfigAdmin`].

use goclaw_core::MASTER_TENANT_ID;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use crate::auth::Role;
use crate::config_admin::{ConfigAdmin, ConfigEditError, EditKind};
use crate::ws::frames::{ErrorCode, ErrorShape};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EditParams {
    raw: String,
    base_hash: Option<String>,
}

/// The configuration service, for a caller in the master tenant (and the owner, when
/// `owner_only`).
fn admin<'a>(
    ctx: &'a Ctx<'_>,
    method: &str,
    owner_only: bool,
) -> Result<&'a dyn ConfigAdmin, ErrorShape> {
    let principal = ctx.principal;
    let refused =
        (owner_only && principal.role < Role::Owner) || principal.tenant_id != MASTER_TENANT_ID;
    if refused {
        tracing::warn!(
            method,
            role = %principal.role,
            user_id = %principal.user_id,
            tenant_id = %principal.tenant_id,
            "security.permission_denied"
        );
        let needed = if owner_only {
            "the owner role in the master tenant"
        } else {
            "the master tenant"
        };
        return Err(ErrorShape::unauthorized(format!(
            "permission denied: {method} requires {needed}"
        )));
    }
    ctx.state
        .config
        .as_deref()
        .ok_or_else(|| ErrorShape::new(ErrorCode::Unavailable, "configuration is not available"))
}

pub async fn get(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let view = admin(ctx, "config.get", true)?.view();
    Ok(json!({ "config": view.config, "hash": view.hash, "path": view.path }))
}

pub async fn edit(ctx: &Ctx<'_>, params: Value, kind: EditKind) -> Result<Value, ErrorShape> {
    let method = match kind {
        EditKind::Apply => "config.apply",
        EditKind::Patch => "config.patch",
    };
    let service = admin(ctx, method, true)?;
    let params: EditParams = parse(params)?;
    if params.raw.trim().is_empty() {
        return Err(ErrorShape::invalid(match kind {
            EditKind::Apply => "raw config is required",
            EditKind::Patch => "raw patch is required",
        }));
    }
    let base_hash = params.base_hash.as_deref().filter(|h| !h.is_empty());
    let actor = ctx.principal.user_id.as_str();
    let applied = service
        .edit(kind, &params.raw, base_hash, actor)
        .await
        .map_err(|e| match e {
            ConfigEditError::Stale | ConfigEditError::Invalid(_) => {
                ErrorShape::invalid(e.to_string())
            }
            ConfigEditError::Save(_) => ErrorShape::internal(e.to_string()),
        })?;
    let view = applied.view;
    Ok(json!({
        "ok": true,
        "path": view.path,
        "config": view.config,
        "hash": view.hash,
        "restart": applied.restart,
    }))
}

pub async fn schema(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let service = admin(ctx, "config.schema", true)?;
    Ok(json!({ "json": service.schema() }))
}

pub async fn defaults(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    Ok(admin(ctx, "config.defaults", false)?.defaults())
}
