//! `GET /v1/skills/export` and `POST /v1/skills/import`: GoClaw's skill archive of the
//! caller's tenant (admins only). Export writes the tenant's uploaded skills — or those of
//! `?id=`/`?ids=` (comma-separated) — as a `tar.gz` (default) or `?format=zip`. Import reads
//! such an archive (multipart `file`, at most `skills.max_upload_size_mb`), checks all of it
//! first (the upload rules, every slug and name) so a refused archive writes nothing, stores
//! each skill the tenant does not have yet as a new skill, leaves the ones it has (counted as
//! skipped) and applies the grants to agents of the tenant by key.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use goclaw_core::{SkillDocument, StoreError, is_valid_skill_slug};
use goclaw_tools::skills::bundle::{
    BundleError, BundleFormat, BundleGrant, BundleMetadata, ExportSkill, read_bundle, write_bundle,
};
use goclaw_tools::skills::{PackageError, SkillPackage};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::http::{file_part, skills};
use super::{Naming, UploadError, store_package};
use crate::http::{ApiError, Caller, ErrorResponse};
use crate::routes::AppState;

/// The archive format of an export.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum ExportFormat {
    #[serde(rename = "tar.gz")]
    TarGz,
    #[serde(rename = "tgz")]
    Tgz,
    #[serde(rename = "zip")]
    Zip,
}

/// The query of `GET /v1/skills/export`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `tar.gz` (default, also `tgz`) or `zip`.
    pub format: Option<ExportFormat>,
    /// Skill ids to export, comma-separated; all of the tenant's when absent.
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*$"
    )]
    pub id: Option<String>,
    /// The same as `id`.
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*$"
    )]
    pub ids: Option<String>,
}

#[utoipa::path(get, path = "/v1/skills/export", tag = "skills", operation_id = "export_skills",
    params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive (`application/gzip` or `application/zip`) as an attachment: `skills/<slug>/metadata.json`, the files of the current version, `grants.jsonl`", content((Vec<u8> = "application/gzip"), (Vec<u8> = "application/zip"))),
        (status = 400, description = "An unknown format or a malformed id", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
    ))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ExportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    skills(&state)?;
    let tenant = caller.0.tenant_id;
    let format = match query.format {
        None | Some(ExportFormat::TarGz | ExportFormat::Tgz) => BundleFormat::TarGz,
        Some(ExportFormat::Zip) => BundleFormat::Zip,
    };
    let mut wanted = Vec::new();
    for part in [&query.id, &query.ids]
        .into_iter()
        .flatten()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let id = Uuid::parse_str(part)
            .map_err(|_| ApiError::bad_request(format!("invalid skill id {part:?}")))?;
        wanted.push(id);
    }
    let store = state.store.as_ref();
    let agents = store.agents().list(tenant).await?;
    let mut chosen = Vec::new();
    for skill in store.skills().list(tenant).await? {
        if !wanted.is_empty() && !wanted.contains(&skill.id) {
            continue;
        }
        let grants = store
            .skills()
            .agent_grants(tenant, skill.id)
            .await?
            .into_iter()
            .filter_map(|grant| {
                let agent = agents.iter().find(|a| a.id == grant.agent_id)?;
                Some(BundleGrant {
                    agent_key: agent.agent_key.to_string(),
                    pinned_version: grant.pinned_version,
                })
            })
            .collect();
        chosen.push(ExportSkill {
            metadata: BundleMetadata {
                id: skill.id.to_string(),
                name: skill.name.clone(),
                slug: skill.slug.clone(),
                description: (!skill.description.is_empty()).then(|| skill.description.clone()),
                visibility: skill.visibility.clone(),
                version: skill.version,
                tags: skill.tags.clone(),
            },
            dir: std::path::PathBuf::from(&skill.file_path),
            grants,
        });
    }
    let file_name = match chosen.as_slice() {
        [one] => format!(
            "goclaw-skill-{}-v{}{}",
            one.metadata.slug,
            one.metadata.version,
            format.extension()
        ),
        _ => format!(
            "goclaw-skills-export-{}{}",
            chrono::Utc::now().format("%Y%m%d-%H%M"),
            format.extension()
        ),
    };
    let count = chosen.len();
    let bytes = tokio::task::spawn_blocking(move || write_bundle(&chosen, format))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    tracing::info!(%tenant, skills = count, "skills.exported");
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    ))
}

#[utoipa::path(post, path = "/v1/skills/import", tag = "skills", operation_id = "import_skills",
    request_body(content = super::http::SkillUploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{skills_imported, skills_skipped, grants_applied}`", body = Object),
        (status = 400, description = "Not a tar.gz or zip, a path leaving the skill, an absolute path, a link or device, too many entries, files unpacking past five times the upload limit, a skill without `metadata.json` or `SKILL.md`, or an invalid slug or name; nothing is written", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 413, description = "The file is larger than `skills.max_upload_size_mb`", body = ErrorResponse),
    ))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let skills = skills(&state)?;
    let principal = &caller.0;
    let tenant = principal.tenant_id;
    let bytes = file_part(multipart, skills.limits.max_archive_bytes).await?;
    let limits = skills.limits;
    let bundle = tokio::task::spawn_blocking(move || read_bundle(&bytes, limits))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| refused(&caller, error))?;
    for skill in &bundle {
        let name = SkillDocument::parse(&skill.skill_md).name;
        if !is_valid_skill_slug(&skill.metadata.slug) {
            return Err(ApiError::bad_request(format!(
                "skill {:?}: invalid slug: use lowercase letters, digits and hyphens",
                skill.metadata.slug
            )));
        }
        if name.trim().is_empty() && skill.metadata.name.trim().is_empty() {
            return Err(ApiError::bad_request(format!(
                "skill {:?}: no name in SKILL.md or metadata.json",
                skill.metadata.slug
            )));
        }
    }
    let (mut imported, mut skipped, mut grants_applied) = (0, 0, 0);
    let store = state.store.as_ref();
    for skill in bundle {
        let slug = skill.metadata.slug.clone();
        let id = match store.skills().get_by_slug(tenant, &slug).await {
            Ok(existing) => {
                skipped += 1;
                existing.id
            }
            Err(StoreError::NotFound(_)) => {
                let unpacked = skill.files.iter().map(|(_, d)| d.len() as u64).sum();
                let package = SkillPackage {
                    skill_md: skill.skill_md.clone(),
                    files: skill.files.clone(),
                    unpacked_bytes: unpacked,
                };
                let naming = Naming {
                    slug: Some(slug.clone()),
                    name: Some(skill.metadata.name.clone()),
                    visibility: Some(skill.metadata.visibility.clone()),
                };
                let stored = store_package(skills, tenant, &principal.user_id, package, &naming)
                    .await
                    .map_err(|error| match error {
                        UploadError::Store(error) => error.into(),
                        UploadError::Io(error) => ApiError::internal(error),
                        other => ApiError::bad_request(other.to_string()),
                    })?;
                imported += 1;
                stored.id
            }
            Err(error) => return Err(error.into()),
        };
        for grant in &skill.grants {
            let Ok(key) = goclaw_core::AgentKey::parse(&grant.agent_key) else {
                continue;
            };
            let Ok(agent) = store.agents().get_by_key(tenant, &key).await else {
                tracing::warn!(skill = %slug, agent = %grant.agent_key, "skills.import.agent_not_found");
                continue;
            };
            let version = grant.pinned_version.max(1);
            store
                .skills()
                .grant_agent(tenant, id, agent.id, version, &principal.user_id)
                .await?;
            grants_applied += 1;
        }
    }
    tracing::info!(%tenant, imported, skipped, grants_applied, "skills.imported");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "skills_imported": imported,
            "skills_skipped": skipped,
            "grants_applied": grants_applied,
        })),
    ))
}

/// The answer to a refused archive, logged as a security event.
fn refused(caller: &Caller, error: BundleError) -> ApiError {
    if let BundleError::Package(PackageError::TooLarge { .. }) = error {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string());
    }
    tracing::warn!(tenant = %caller.0.tenant_id, user_id = %caller.0.user_id,
        error = %error, "security.skills.import_rejected");
    ApiError::bad_request(error.to_string())
}
