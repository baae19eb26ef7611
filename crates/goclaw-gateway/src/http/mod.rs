//! HTTP API under `/v1`: OpenAI-compatible chat completions and agent management.

mod agents;
mod auth;
mod chat_completions;
mod error;

use axum::Router;
use axum::routing::{get, post};

use crate::routes::AppState;

/// Routes of the `/v1` API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions::create))
        .route("/v1/agents", get(agents::list).post(agents::create))
        .route(
            "/v1/agents/{id}",
            get(agents::get).put(agents::update).delete(agents::delete),
        )
}
