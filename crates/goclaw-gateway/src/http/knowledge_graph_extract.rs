//! The knowledge-graph routes that need a model: `POST /v1/agents/{id}/kg/extract`, GoClaw's
//! extraction of a graph from a text with a named provider and model, stored in the caller's
//! graph with the agent (another user's for admins) and de-duplicated as episodes' graphs are,
//! answering GoClaw's counts (`entities`, `relations`, `dedup_merged`, `dedup_flagged`;
//! relations less sure than `min_confidence` are dropped); and `POST …/kg/dedup/scan`, which
//! compares the graph's entities by embedding with the memory's embedding provider and flags
//! similar pairs (`{"candidates_found": n}`, 0 without a provider). Both need `operator.write`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use goclaw_agent::{ModelCandidate, RetryPolicy};
use goclaw_core::{Agent, ChatMessage, ChatRequest, Provider, SystemPart};
use goclaw_memory::episodic::{BackgroundModel, ModelError};
use goclaw_memory::graph::GraphExtractor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::find_agent;
use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::knowledge_graph::scope;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use crate::routes::AppState;

/// Longest text one extraction reads, in bytes.
const MAX_TEXT_BYTES: usize = 65_536;
/// Longest wait for the model's answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest answer asked of the model, in tokens.
const MAX_ANSWER_TOKENS: u32 = 2048;
/// Entities a duplicate scan compares without a `limit` (GoClaw's 100), and at most.
const DEFAULT_SCAN: u32 = 100;
const MAX_SCAN: u32 = 500;

/// `POST /v1/agents/{id}/kg/extract`.
#[derive(Deserialize, ToSchema)]
pub struct ExtractRequest {
    /// What to extract the graph of (at most 64 KiB).
    #[schema(min_length = 1, max_length = 65536, pattern = r"\S")]
    pub text: String,
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
    /// A provider name runs can use (stored or configured).
    #[schema(min_length = 1, pattern = r"\S")]
    pub provider: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub model: String,
    /// Relations below this confidence are dropped (default 0).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub min_confidence: f64,
}

/// What an extraction stored (GoClaw's answer).
#[derive(Serialize, ToSchema)]
pub struct ExtractReport {
    pub entities: usize,
    pub relations: usize,
    pub dedup_merged: usize,
    pub dedup_flagged: usize,
}

/// One named provider and model answering once.
struct NamedModel {
    candidate: ModelCandidate,
}

#[async_trait]
impl BackgroundModel for NamedModel {
    async fn complete(
        &self,
        _agent: &Agent,
        system: &str,
        prompt: &str,
    ) -> Result<String, ModelError> {
        let request = ChatRequest {
            model: self.candidate.model.clone(),
            system: vec![SystemPart {
                text: system.to_owned(),
                cacheable: false,
            }],
            messages: vec![ChatMessage::user(prompt)],
            tools: Vec::new(),
            max_tokens: MAX_ANSWER_TOKENS,
            temperature: Some(0.2),
            thinking_budget: None,
        };
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let mut ignore = |_| {};
        let response = goclaw_agent::call_model(
            std::slice::from_ref(&self.candidate),
            &request,
            &mut ignore,
            &once,
        )
        .await
        .map_err(|e| ModelError(e.to_string()))?;
        Ok(goclaw_agent::sanitize_output(&response.text()))
    }
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/extract",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = ExtractRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was stored", body = ExtractReport),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent, or no provider of that name", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error, or the model failed (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn extract(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ExtractRequest>,
) -> Result<Json<ExtractReport>, ApiError> {
    if body.text.trim().is_empty() {
        return Err(ApiError::bad_request("text is required"));
    }
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::bad_request(format!(
            "text must be at most {MAX_TEXT_BYTES} bytes"
        )));
    }
    let (provider_name, model) = (body.provider.trim(), body.model.trim());
    if provider_name.is_empty() || model.is_empty() {
        return Err(ApiError::bad_request("provider and model are required"));
    }
    if !body.min_confidence.is_finite() || !(0.0..=1.0).contains(&body.min_confidence) {
        return Err(ApiError::bad_request("min_confidence must be from 0 to 1"));
    }
    let route = ("POST", "/v1/agents/{id}/kg/extract");
    let graph = scope(&state, &caller.0, route, &id, body.user_id.as_deref())
        .await?
        .ok_or_else(|| ApiError::forbidden("only admins may change another user's graph"))?;
    let agent = find_agent(&state, caller.0.tenant_id, &id).await?;
    let provider: Arc<dyn Provider> = state
        .runtime
        .provider(provider_name)
        .ok_or_else(|| ApiError::not_found(format!("provider {provider_name} not found")))?;
    let model = NamedModel {
        candidate: ModelCandidate {
            provider_name: provider_name.to_owned(),
            provider,
            model: model.to_owned(),
        },
    };
    let extractor = GraphExtractor::new(state.store.clone(), Arc::new(model), None, CALL_TIMEOUT)
        .with_embedder_slot(state.memory.embedder_slot());
    let source = format!("extract:{}", uuid::Uuid::now_v7());
    let report = extractor
        .extract_text(&agent, &graph, &source, &body.text, body.min_confidence)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(ExtractReport {
        entities: report.entities,
        relations: report.relations,
        dedup_merged: report.merged,
        dedup_flagged: report.candidates,
    }))
}

/// `POST /v1/agents/{id}/kg/dedup/scan`.
#[derive(Deserialize, ToSchema)]
pub struct ScanRequest {
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Least similarity of a flagged pair (0 or none: GoClaw's 0.90).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: f64,
    /// Entities compared, by name (0 or none: 100; at most 500).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 500)]
    pub limit: u32,
}

/// GoClaw's answer to a scan.
#[derive(Serialize, ToSchema)]
pub struct ScanReport {
    /// Pairs flagged as candidates by this scan.
    pub candidates_found: usize,
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/dedup/scan",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = ScanRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Similar pairs flagged (none without an embedding provider)", body = ScanReport),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error, or embedding failed (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScanRequest>,
) -> Result<Json<ScanReport>, ApiError> {
    if !body.threshold.is_finite() || !(0.0..=1.0).contains(&body.threshold) {
        return Err(ApiError::bad_request("threshold must be from 0 to 1"));
    }
    if body.limit > MAX_SCAN {
        return Err(ApiError::bad_request(format!(
            "limit must be at most {MAX_SCAN}"
        )));
    }
    let route = ("POST", "/v1/agents/{id}/kg/dedup/scan");
    let graph = scope(&state, &caller.0, route, &id, body.user_id.as_deref())
        .await?
        .ok_or_else(|| ApiError::forbidden("only admins may change another user's graph"))?;
    let Some(embedder) = state.memory.embedder_slot().current() else {
        return Ok(Json(ScanReport {
            candidates_found: 0,
        }));
    };
    let threshold = if body.threshold > 0.0 {
        body.threshold
    } else {
        goclaw_memory::graph::CANDIDATE_SIMILARITY
    };
    let limit = if body.limit > 0 {
        body.limit
    } else {
        DEFAULT_SCAN
    };
    let candidates_found = goclaw_memory::graph::scan_duplicates(
        state.store.as_ref(),
        embedder.as_ref(),
        &graph,
        threshold,
        limit,
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(ScanReport { candidates_found }))
}
