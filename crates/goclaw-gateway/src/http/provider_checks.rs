//! Asking a provider's API from the dashboard, with GoClaw's routes and answers:
//! `GET /v1/providers/{id}/models` lists the models the provider offers now (`{models: [{id,
//! name?}]}`; a provider that cannot be asked lists none, the cause logged), and
//! `POST /v1/providers/{id}/verify` tries a model with a one-word chat (`{valid: true}` or
//! `{valid: false, error}`). Both work for stored providers and those of the configuration.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use goclaw_core::{ChatMessage, ChatRequest, Provider};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::providers::{Named, resolve};
use super::schemas::ErrorResponse;
use crate::routes::AppState;

/// How long listing the models may take.
const MODELS_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the verifying chat may take.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// Output tokens the verifying chat may use (reasoning models need some room).
const VERIFY_MAX_TOKENS: u32 = 50;

/// One model a provider offers.
#[derive(Serialize, ToSchema)]
pub struct ProviderModel {
    #[schema(example = "claude-sonnet-4-5")]
    pub id: String,
    /// Its display name, when the provider gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `GET /v1/providers/{id}/models`.
#[derive(Serialize, ToSchema)]
pub struct ProviderModels {
    pub models: Vec<ProviderModel>,
}

/// `POST /v1/providers/{id}/verify`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The model to try.
    #[schema(example = "claude-sonnet-4-5", min_length = 1)]
    pub model: String,
}

/// The verification's outcome.
#[derive(Serialize, ToSchema)]
pub struct VerifyResult {
    pub valid: bool,
    /// Why the model did not answer (only when `valid` is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The client of the provider `{id}` names, refusing one without the API key it needs.
async fn client(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Arc<dyn Provider>, ApiError> {
    let Some(providers) = state.stored_providers.as_ref() else {
        return Err(ApiError::not_found(format!("provider {id} not found")));
    };
    let (has_key, kind, built) = match resolve(state, caller.0.tenant_id, id).await? {
        Named::Stored(provider) => (
            !provider.api_key_ciphertext.is_empty(),
            provider.provider_type.clone(),
            providers.stored_client(&provider),
        ),
        Named::Configured(provider) => (
            provider.has_api_key,
            provider.provider_type.clone(),
            providers
                .configured_client(&provider.name)
                .ok_or_else(|| format!("provider {} is not in use", provider.name)),
        ),
    };
    if !has_key && !kind.starts_with("ollama") {
        return Err(ApiError::bad_request("API key is required"));
    }
    built.map_err(ApiError::bad_request)
}

/// Lists the models the provider offers now (viewers and up); an unreachable provider or one
/// whose API cannot list models answers an empty list.
#[utoipa::path(
    get,
    path = "/v1/providers/{id}/models",
    tag = "providers",
    params(("id" = String, Path, description = "The provider's UUID or its name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The models", body = ProviderModels),
        (status = 400, description = "Invalid input, or the provider has no API key", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn models(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let provider = client(&state, &caller, &id).await?;
    let listed = tokio::time::timeout(MODELS_TIMEOUT, provider.models()).await;
    let models = match listed {
        Ok(Ok(models)) => models,
        Ok(Err(error)) => {
            tracing::warn!(provider = %provider.name(), error = %error, "providers.models");
            Vec::new()
        }
        Err(_) => {
            tracing::warn!(provider = %provider.name(), "providers.models timed out");
            Vec::new()
        }
    };
    let models: Vec<Value> = models
        .into_iter()
        .map(|m| match m.name {
            Some(name) => json!({ "id": m.id, "name": name }),
            None => json!({ "id": m.id }),
        })
        .collect();
    Ok(Json(json!({ "models": models })))
}

/// Tries `model` with a one-word chat (admin).
#[utoipa::path(
    post,
    path = "/v1/providers/{id}/verify",
    tag = "providers",
    params(("id" = String, Path, description = "The provider's UUID or its name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    request_body(content = VerifyRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Whether the model answered", body = VerifyResult),
        (status = 400, description = "Invalid input, or the provider has no API key", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<Value>, ApiError> {
    let model = request.model.trim();
    if model.is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    let provider = client(&state, &caller, &id).await?;
    let chat = ChatRequest {
        model: model.to_owned(),
        system: Vec::new(),
        messages: vec![ChatMessage::user("hi")],
        tools: Vec::new(),
        max_tokens: VERIFY_MAX_TOKENS,
        temperature: None,
        thinking_budget: None,
    };
    let mut ignore = |_| {};
    let answered = tokio::time::timeout(VERIFY_TIMEOUT, provider.chat(&chat, &mut ignore)).await;
    Ok(Json(match answered {
        Ok(Ok(_)) => json!({ "valid": true }),
        Ok(Err(error)) => json!({ "valid": false, "error": error.to_string() }),
        Err(_) => json!({
            "valid": false,
            "error": format!("the provider did not answer within {} s", VERIFY_TIMEOUT.as_secs())
        }),
    }))
}
