//! GoClaw's file links: `GET /v1/files/{path}` serves a file by its place on the host (the
//! URL path after `/v1/files/` is the absolute path without its leading `/`), opened by a
//! signed `?ft=` token or by the caller's own right to it (see [`crate::files`]); `?download=true`
//! asks for an attachment. `POST /v1/files/sign {path}` → `{url}` signs a link to a file the
//! caller may read, valid for an hour.
//!
//! A file is sent with its type from its name and `nosniff`; one a browser would run (HTML,
//! SVG, XML, scripts) is always an attachment under a `sandbox` content security policy, so
//! no served file can script the gateway's own origin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use super::teams::{content_type, disposition};
use crate::files::{FILES_PREFIX, Refusal};
use crate::routes::AppState;

/// Types a browser would run or render as a page: never shown inline.
const ACTIVE_TYPES: &[&str] = &[
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "application/xml",
    "text/xml",
    "text/javascript",
    "application/javascript",
];

/// `POST /v1/files/sign`.
#[derive(Deserialize, ToSchema)]
pub struct SignRequest {
    /// The file's absolute path on the host, or a `/v1/files/...` link to it.
    #[schema(min_length = 1, pattern = "\\S")]
    pub path: String,
}

/// `POST /v1/files/sign` (GoClaw's answer).
#[derive(Serialize, ToSchema)]
pub struct SignedUrl {
    /// `/v1/files/...?ft=...`, working for an hour.
    pub url: String,
}

#[utoipa::path(
    get,
    path = "/v1/files/{path}",
    tag = "files",
    operation_id = "get_file",
    params(
        ("path" = String, Path, description = "The file's absolute path on the host, without its leading `/`"),
        ("ft" = Option<String>, Query, description = "A signed token for this path (from `/v1/files/sign` or a link the gateway gave); without it the bearer's own right decides"),
        ("download" = Option<bool>, Query, description = "`true` sends the file as an attachment"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The file's bytes"),
        (status = 401, description = "No token and no or wrong credentials", body = ErrorResponse),
        (status = 403, description = "An expired or wrong token, or a file that is not the caller's", body = ErrorResponse),
        (status = 404, description = "No such file within the gateway's workspaces and uploads", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(raw): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
    caller: Result<Caller, ApiError>,
) -> Result<Response, ApiError> {
    let path = PathBuf::from(format!("/{}", raw.trim_start_matches('/')));
    let files = &state.files;
    let real = match query.get("ft").filter(|t| !t.is_empty()) {
        Some(token) => {
            if !files.token_opens(
                &format!("{FILES_PREFIX}{}", raw.trim_start_matches('/')),
                token,
            ) {
                tracing::warn!("security.files_token_rejected");
                return Err(ApiError::forbidden("invalid or expired file token"));
            }
            files.resolve(&path).ok_or_else(not_found)?
        }
        None => readable(&state, &caller?, &path)?,
    };
    serve(&real, query.get("download").is_some_and(|d| d == "true")).await
}

#[utoipa::path(
    post,
    path = "/v1/files/sign",
    tag = "files",
    operation_id = "sign_file",
    request_body = SignRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A signed link to the file", body = SignedUrl),
        (status = 400, description = "No path, or a body that is not valid JSON", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The file is not the caller's", body = ErrorResponse),
        (status = 404, description = "No such file within the gateway's workspaces and uploads", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
    )
)]
pub async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<SignRequest>,
) -> Result<Json<SignedUrl>, ApiError> {
    let given = request.path.trim();
    let given = given.split_once('?').map_or(given, |(path, _)| path);
    let absolute = match given.strip_prefix(FILES_PREFIX) {
        Some(rest) => format!("/{rest}"),
        None => given.to_owned(),
    };
    if absolute.is_empty() {
        return Err(ApiError::bad_request("path is required"));
    }
    let real = readable(&state, &caller, Path::new(&absolute))?;
    Ok(Json(SignedUrl {
        url: state.files.signed_file_url(&real),
    }))
}

/// The resolved file when the caller may read it.
fn readable(state: &AppState, caller: &Caller, path: &Path) -> Result<PathBuf, ApiError> {
    match state.files.readable(&caller.0, path) {
        Ok(real) => Ok(real),
        Err(Refusal::NotFound) => Err(not_found()),
        Err(Refusal::Forbidden) => {
            tracing::warn!(user_id = %caller.0.user_id, "security.files_forbidden");
            Err(ApiError::forbidden("permission denied: not your file"))
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("file not found")
}

/// The response carrying the file at `real`.
pub(super) async fn serve(real: &Path, download: bool) -> Result<Response, ApiError> {
    let bytes = tokio::fs::read(real).await.map_err(|_| not_found())?;
    let mime = mime_guess::from_path(real).first_or_octet_stream();
    let active = ACTIVE_TYPES.contains(&mime.essence_str());
    let name = real.to_string_lossy();
    let disposition = if download || active {
        disposition(&name)
    } else {
        HeaderValue::from_static("inline")
    };
    let headers = [
        (header::CONTENT_TYPE, content_type(mime.as_ref())),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=3600"),
        ),
    ];
    Ok((headers, bytes).into_response())
}
