//! `providers.*` (admin): the LLM providers stored in the caller's tenant (the list also shows
//! the configuration's, read-only, as `GET /v1/providers` does). API keys go in as
//! plaintext and are stored encrypted; they come back only masked. Moving a provider's endpoint
//! without a new key clears the stored one (`apiKeyCleared` in the answer).

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::providers::{self as shared, ProviderFields, ProviderInputError};
use crate::ws::frames::ErrorShape;

fn input_error(error: ProviderInputError) -> ErrorShape {
    ErrorShape::invalid(error.to_string())
}

#[derive(Deserialize)]
struct ProviderRef {
    name: String,
}

fn name_param(params: &Value) -> Result<goclaw_core::ProviderName, ErrorShape> {
    let reference: ProviderRef = parse(params.clone())?;
    shared::provider_name(&reference.name).map_err(input_error)
}

pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let providers = shared::listed(ctx.state, ctx.principal.tenant_id)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "providers": providers }))
}

pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let fields: ProviderFields = parse(params)?;
    let secrets = ctx.state.secrets.as_deref();
    let new =
        shared::new_provider(ctx.principal.tenant_id, fields, secrets).map_err(input_error)?;
    let created = ctx
        .state
        .store
        .llm_providers()
        .create(new)
        .await
        .map_err(|e| store_error(&e))?;
    shared::changed(ctx.state.stored_providers.as_ref()).await;
    Ok(json!({ "ok": true, "provider": shared::wire(&created) }))
}

pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let name = name_param(&params)?;
    let fields: ProviderFields = parse(params)?;
    let secrets = ctx.state.secrets.as_deref();
    let mut patch = shared::update_patch(&name, fields, secrets).map_err(input_error)?;
    let providers = ctx.state.store.llm_providers();
    let current = providers
        .get(ctx.principal.tenant_id, &name)
        .await
        .map_err(|e| store_error(&e))?;
    let key_cleared = shared::drop_key_if_endpoint_moves(&current, &mut patch);
    let updated = providers
        .update(ctx.principal.tenant_id, &name, patch)
        .await
        .map_err(|e| store_error(&e))?;
    if key_cleared {
        shared::log_key_cleared(&name, &ctx.principal.user_id);
    }
    shared::changed(ctx.state.stored_providers.as_ref()).await;
    Ok(json!({
        "ok": true,
        "provider": shared::wire(&updated),
        "apiKeyCleared": key_cleared,
    }))
}

pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let name = name_param(&params)?;
    ctx.state
        .store
        .llm_providers()
        .delete(ctx.principal.tenant_id, &name)
        .await
        .map_err(|e| store_error(&e))?;
    shared::changed(ctx.state.stored_providers.as_ref()).await;
    Ok(json!({ "ok": true, "name": name.as_str() }))
}
