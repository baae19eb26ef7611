//! `/v1/skills…`: GoClaw's skill routes for the caller's tenant — list and get (viewers and
//! up), and, for admins, the multipart upload (`file`), metadata updates, deletion (archive),
//! the enabled toggle, versions and agent/user grants. Another tenant's skill is 404.
//! Answers are GoClaw's: `{skills: [...]}`, a `SkillInfo`, `{"ok": "true"}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Router, response::IntoResponse};
use goclaw_core::{SKILL_VISIBILITIES, SkillPatch, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Skills, UploadError, dir_skill_info, find_skill, skill_info, tenant_skills};
use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

/// The body limit of the upload route: the largest `skills.max_upload_size_mb` (500) and
/// room for the form around the file; the configured limit is checked while reading.
const MAX_BODY_BYTES: usize = 501 * 1024 * 1024;

/// The skill routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/skills", get(list))
        .route(
            "/v1/skills/upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/v1/skills/export", get(super::transfer::export))
        .route("/v1/skills/runtimes", get(super::runtimes::runtimes))
        .route(
            "/v1/skills/import",
            post(super::transfer::import).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/v1/skills/{id}", get(get_one).put(update).delete(remove))
        .route("/v1/skills/{id}/versions", get(versions))
        .route("/v1/skills/{id}/toggle", post(toggle))
        .route("/v1/skills/{id}/grants/agent", post(grant_agent))
        .route(
            "/v1/skills/{id}/grants/agent/{agentID}",
            delete(revoke_agent),
        )
        .route("/v1/skills/{id}/grants/user", post(grant_user))
        .route("/v1/skills/{id}/grants/user/{userID}", delete(revoke_user))
}

pub(super) fn skills(state: &AppState) -> Result<&Skills, ApiError> {
    state
        .skills
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "skills are not available"))
}

fn ok() -> Json<Value> {
    Json(json!({ "ok": "true" }))
}

async fn found(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<goclaw_core::Skill, ApiError> {
    match find_skill(skills(state)?, caller.0.tenant_id, key).await {
        Err(StoreError::NotFound(_)) => Err(ApiError::not_found(format!("skill {key} not found"))),
        other => Ok(other?),
    }
}

/// The multipart form of `POST /v1/skills/upload` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SkillUploadForm {
    /// A zip with `SKILL.md` at its root or inside one top-level directory.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(get, path = "/v1/skills", tag = "skills", operation_id = "list_skills",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{skills: [SkillInfo]}`: the tenant's uploaded skills, then the skill directories'", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 503, description = "Skills are not available", body = ErrorResponse),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let infos = tenant_skills(skills(&state)?, caller.0.tenant_id).await?;
    Ok(Json(json!({ "skills": infos })))
}

#[utoipa::path(get, path = "/v1/skills/{id}", tag = "skills", operation_id = "get_skill",
    params(("id" = String, Path, description = "Skill id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The skill's `SkillInfo`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    match found(&state, &caller, &key).await {
        Ok(skill) => Ok(Json(skill_info(&skill))),
        Err(error) if error.status == StatusCode::NOT_FOUND => {
            let on_disk = skills(&state)?.catalog.directory_skills().await;
            let entry = on_disk.into_iter().find(|e| e.slug == key).ok_or(error)?;
            Ok(Json(dir_skill_info(&entry)))
        }
        Err(error) => Err(error),
    }
}

#[utoipa::path(post, path = "/v1/skills/upload", tag = "skills", operation_id = "upload_skill",
    request_body(content = SkillUploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{id, slug, version, name, status: \"active\", is_new}`", body = Object),
        (status = 200, description = "`SKILL.md` is the current version's: `{id, slug, version, name, status: \"unchanged\"}`", body = Object),
        (status = 400, description = "Not a zip, no `SKILL.md` or no `name`, a path leaving the skill, an absolute path, a symlink, too many entries, or files unpacking past five times the upload limit; nothing is written", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 413, description = "The file is larger than `skills.max_upload_size_mb`", body = ErrorResponse),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let skills = skills(&state)?;
    let file = file_part(multipart, skills.limits.max_archive_bytes).await?;
    let principal = &caller.0;
    match super::upload(skills, principal.tenant_id, &principal.user_id, file).await {
        Ok(done) => {
            let status = if done.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(done.body)))
        }
        Err(UploadError::Store(error)) => Err(error.into()),
        Err(UploadError::Io(error)) => Err(ApiError::internal(error)),
        Err(error @ UploadError::Package(goclaw_tools::skills::PackageError::TooLarge { .. })) => {
            Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                error.to_string(),
            ))
        }
        Err(error) => {
            tracing::warn!(tenant = %principal.tenant_id, user_id = %principal.user_id,
                error = %error, "security.skills.upload_rejected");
            Err(ApiError::bad_request(error.to_string()))
        }
    }
}

/// The `file` part of a multipart body, at most `limit` bytes: past it the rest is read and
/// dropped, so the client hears the 413 instead of a connection closed under its feet.
pub(super) async fn file_part(
    multipart: Result<Multipart, MultipartRejection>,
    limit: u64,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is larger than the {} MB limit (skills.max_upload_size_mb)",
                limit / (1024 * 1024)
            ),
        )
    };
    let mut multipart =
        multipart.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let mut file: Option<Vec<u8>> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, too_large))?
    {
        let wanted = field.name() == Some("file") && file.is_none();
        let mut bytes = Some(Vec::new());
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(&e, too_large))?
        {
            if !wanted {
                continue;
            }
            if let Some(kept) = bytes.as_mut() {
                if (kept.len() + chunk.len()) as u64 > limit {
                    bytes = None;
                } else {
                    kept.extend_from_slice(&chunk);
                }
            }
        }
        if wanted {
            file = Some(bytes.ok_or_else(too_large)?);
        }
    }
    file.ok_or_else(|| ApiError::bad_request("file is required (multipart part `file`)"))
}

fn multipart_error(
    error: &axum::extract::multipart::MultipartError,
    too_large: impl Fn() -> ApiError,
) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::bad_request(format!("invalid multipart body: {}", error.body_text()))
}

#[utoipa::path(put, path = "/v1/skills/{id}", tag = "skills", operation_id = "update_skill",
    params(("id" = String, Path, description = "Skill id or slug")),
    request_body(content = Object, description = "Fields to change: `name`, `description`, `visibility` (`public`, `private`, `internal`), `tags`; others are ignored"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"ok\": \"true\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 400, description = "A field of the wrong type or an unknown visibility", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(updates): ApiJson<BTreeMap<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    let patch = skill_patch(&updates).map_err(ApiError::bad_request)?;
    state
        .store
        .skills()
        .update(caller.0.tenant_id, skill.id, patch)
        .await?;
    Ok(ok())
}

/// GoClaw's update map as a patch: `id`, `owner_id`, `file_path`, `is_system` and `enabled`
/// (use the toggle) are ignored, like any unknown field.
pub fn skill_patch(updates: &BTreeMap<String, Value>) -> Result<SkillPatch, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match updates.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(format!("{key} must be a string")),
        }
    };
    let visibility = text("visibility")?;
    if let Some(v) = visibility
        .as_ref()
        .filter(|v| !SKILL_VISIBILITIES.contains(&v.as_str()))
    {
        return Err(format!(
            "invalid visibility {v:?}: public, private or internal"
        ));
    }
    let tags = match updates.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|t| t.as_str().map(str::to_owned).ok_or("tags must be strings"))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err("tags must be an array of strings".to_owned()),
    };
    let name = text("name")?.filter(|n| !n.is_empty());
    Ok(SkillPatch {
        name,
        description: text("description")?,
        visibility,
        tags,
        enabled: None,
    })
}

#[utoipa::path(delete, path = "/v1/skills/{id}", tag = "skills", operation_id = "delete_skill",
    params(("id" = String, Path, description = "Skill id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Archived, its grants dropped: `{\"ok\": \"true\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    state
        .store
        .skills()
        .archive(caller.0.tenant_id, skill.id)
        .await?;
    Ok(ok())
}

#[utoipa::path(get, path = "/v1/skills/{id}/versions", tag = "skills", operation_id = "list_skill_versions",
    params(("id" = String, Path, description = "Skill id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{versions: [n], current}`: the versions kept on disk", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    let dir = skills(&state)?
        .catalog
        .slug_dir(caller.0.tenant_id, &skill.slug);
    let mut kept: Vec<i64> = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let is_dir = entry.file_type().await.is_ok_and(|t| t.is_dir());
            let number = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i64>().ok());
            if let Some(n) = number.filter(|n| is_dir && *n >= 1) {
                kept.push(n);
            }
        }
    }
    kept.sort_unstable();
    if kept.is_empty() {
        kept.push(skill.version);
    }
    Ok(Json(json!({ "versions": kept, "current": skill.version })))
}

#[derive(Deserialize, ToSchema)]
pub struct ToggleBody {
    pub enabled: bool,
}

#[utoipa::path(post, path = "/v1/skills/{id}/toggle", tag = "skills", operation_id = "toggle_skill",
    params(("id" = String, Path, description = "Skill id or slug")),
    request_body = ToggleBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{ok: true, enabled, status}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 400, description = "The body is not valid JSON", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn toggle(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ToggleBody>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    let patch = SkillPatch {
        enabled: Some(body.enabled),
        ..SkillPatch::default()
    };
    let updated = state
        .store
        .skills()
        .update(caller.0.tenant_id, skill.id, patch)
        .await?;
    let status = if body.enabled {
        updated.status.as_str()
    } else {
        ""
    };
    Ok(Json(
        json!({ "ok": true, "enabled": body.enabled, "status": status }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AgentGrantBody {
    /// The agent's id or key.
    pub agent_id: String,
    /// The version pinned (1 when absent or below 1).
    #[serde(default)]
    pub version: i64,
}

#[utoipa::path(post, path = "/v1/skills/{id}/grants/agent", tag = "skills", operation_id = "grant_skill_to_agent",
    params(("id" = String, Path, description = "Skill id or slug")),
    request_body = AgentGrantBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{\"ok\": \"true\"}`; a private skill becomes internal", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 400, description = "The body is not valid JSON", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill or agent in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn grant_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AgentGrantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    let tenant = caller.0.tenant_id;
    let agent = crate::http::find_agent(&state, tenant, &body.agent_id).await?;
    let version = body.version.max(1);
    state
        .store
        .skills()
        .grant_agent(tenant, skill.id, agent.id, version, &caller.0.user_id)
        .await?;
    Ok((StatusCode::CREATED, ok()))
}

#[utoipa::path(delete, path = "/v1/skills/{id}/grants/agent/{agentID}", tag = "skills", operation_id = "revoke_skill_from_agent",
    params(("id" = String, Path, description = "Skill id or slug"), ("agentID" = String, Path, description = "Agent id or key")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"ok\": \"true\"}`; an internal skill left without agent grants becomes private", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill or agent in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn revoke_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((key, agent)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    let tenant = caller.0.tenant_id;
    let agent = crate::http::find_agent(&state, tenant, &agent).await?;
    state
        .store
        .skills()
        .revoke_agent(tenant, skill.id, agent.id)
        .await?;
    Ok(ok())
}

#[derive(Deserialize, ToSchema)]
pub struct UserGrantBody {
    /// The user's id (not blank, at most 255 characters).
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub user_id: String,
}

#[utoipa::path(post, path = "/v1/skills/{id}/grants/user", tag = "skills", operation_id = "grant_skill_to_user",
    params(("id" = String, Path, description = "Skill id or slug")),
    request_body = UserGrantBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{\"ok\": \"true\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 400, description = "An empty user id", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn grant_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<UserGrantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let user = body.user_id.trim();
    if user.is_empty() || user.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "user_id is required (at most 255 characters)",
        ));
    }
    let skill = found(&state, &caller, &key).await?;
    let tenant = caller.0.tenant_id;
    state
        .store
        .skills()
        .grant_user(tenant, skill.id, user, &caller.0.user_id)
        .await?;
    Ok((StatusCode::CREATED, ok()))
}

#[utoipa::path(delete, path = "/v1/skills/{id}/grants/user/{userID}", tag = "skills", operation_id = "revoke_skill_from_user",
    params(("id" = String, Path, description = "Skill id or slug"), ("userID" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"ok\": \"true\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such skill in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn revoke_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((key, user)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let skill = found(&state, &caller, &key).await?;
    state
        .store
        .skills()
        .revoke_user(caller.0.tenant_id, skill.id, &user)
        .await?;
    Ok(ok())
}
