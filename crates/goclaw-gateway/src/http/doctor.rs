//! `GET /v1/system/doctor`: the production audit (`goclaw doctor --production --json`) of the
//! running gateway, for the owner, who sees the dashboard's report from it. The binary supplies
//! the audit ([`ProductionAudit`]); without one the route answers 503.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::{ApiError, Caller};
use crate::routes::AppState;

/// Runs the production audit against the running configuration.
#[async_trait]
pub trait ProductionAudit: Send + Sync {
    /// The report as `goclaw doctor --production --json` prints it: `{checks, ok, production}`.
    async fn report(&self) -> Value;
}

/// The shared form the application state keeps.
pub type SharedAudit = Arc<dyn ProductionAudit>;

/// The production audit's report.
#[utoipa::path(
    get,
    path = "/v1/system/doctor",
    tag = "system",
    operation_id = "system_doctor",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The audit: `{checks:[{section,name,status,detail,fix?,item?}], ok, production}`", body = Object),
        (status = 401, description = "Not signed in", body = super::ErrorResponse),
        (status = 403, description = "Not the owner", body = super::ErrorResponse),
        (status = 503, description = "No audit in this build", body = super::ErrorResponse),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let audit = state.doctor.as_ref().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "the production audit is not available",
        )
    })?;
    Ok(Json(audit.report().await))
}
