//! `GET /v1/edition`: which feature tier this gateway is, in GoClaw's `Edition` shape, public
//! like GoClaw's (its dashboard reads it before signing in). This gateway is always the
//! `standard` edition: no limits (`0` and `null` mean unlimited), every feature it has on.
//! `supports_pip_npm` and `supports_apk` are false: it installs no packages for agents.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// GoClaw's edition record.
#[derive(Serialize, ToSchema)]
pub struct Edition {
    #[schema(example = "standard")]
    pub name: String,
    /// Most agents; 0 is unlimited.
    pub max_agents: u32,
    /// Most teams; 0 is unlimited.
    pub max_teams: u32,
    /// Most members of a team; 0 is unlimited.
    pub max_team_members: u32,
    /// Most instances per channel type; `null` is unlimited.
    #[schema(value_type = Option<Object>)]
    pub max_channels: Option<Value>,
    /// Most subagents running at once; 0 is unlimited.
    pub max_subagent_concurrent: u32,
    /// Deepest subagent nesting; 0 is the configured default.
    pub max_subagent_depth: u32,
    pub kg_enabled: bool,
    pub rbac_enabled: bool,
    pub team_full_mode: bool,
    pub vector_search: bool,
    pub supports_pip_npm: bool,
    pub supports_apk: bool,
}

/// The edition (no credentials needed).
#[utoipa::path(
    get,
    path = "/v1/edition",
    tag = "system",
    security(()),
    responses((status = 200, description = "The edition", body = Edition))
)]
pub async fn get() -> Json<Edition> {
    Json(Edition {
        name: "standard".to_owned(),
        max_agents: 0,
        max_teams: 0,
        max_team_members: 0,
        max_channels: None,
        max_subagent_concurrent: 0,
        max_subagent_depth: 0,
        kg_enabled: true,
        rbac_enabled: true,
        team_full_mode: true,
        vector_search: true,
        supports_pip_npm: false,
        supports_apk: false,
    })
}
