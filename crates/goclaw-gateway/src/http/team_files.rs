//! GoClaw's changes to a team's files from the dashboard:
//! `POST /v1/teams/{teamId}/workspace/upload?chat_id=` (multipart, the file in part `file`) →
//! `{path, filename, size, mime_type}`, and `PUT /v1/teams/{teamId}/workspace/move?chat_id=&from=&to=`
//! → `{from, to}`. `chat_id` picks the chat's directory (ignored when the team's
//! `workspace_scope` is `shared`; required otherwise) and may also come as a form field of the
//! upload; `file_name` (query or form field) names the file — a relative path such as
//! `docs/plan.md` — instead of the part's own file name.
//!
//! Both go through `crate::teams::workspace`: a name with `..`, `.`, a leading `/`, `\` or NUL,
//! or reaching through a symbolic link is refused (400) before anything is written; at most
//! 10 MiB a file (413, the body at most [`MAX_UPLOAD_BYTES`]) and 100 files a scope (400, as
//! GoClaw); a move onto an existing file is 409 and of a missing one 404. `path` in the answer
//! is the file's path in its scope, never its place on the host. Only teams the caller may see,
//! for operators and up (the write rule of `teams.workspace.write`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use super::teams::{blocking, too_large, visible_team, workspaces};
use crate::routes::AppState;
use crate::teams::workspace::{MAX_FILE_BYTES, TeamWorkspace};

/// Largest request body of an upload: one file at the workspace's limit and the form around it.
pub const MAX_UPLOAD_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;
/// Longest text field (`chat_id`, `file_name`), in bytes.
const MAX_FIELD_BYTES: usize = 1024;

/// The multipart form of `POST /v1/teams/{teamId}/workspace/upload` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TeamUploadForm {
    /// The file (at most 10 MiB); its file name names it unless `file_name` is given.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The chat whose directory takes the file, when the query does not say.
    #[schema(nullable = false)]
    chat_id: Option<String>,
    /// The file's path in the chat's directory (e.g. `docs/plan.md`), when the query does not say.
    #[schema(nullable = false)]
    file_name: Option<String>,
}

/// `POST /v1/teams/{teamId}/workspace/upload` (GoClaw's answer).
#[derive(Serialize, ToSchema)]
pub struct TeamUploaded {
    /// The file's path in its scope (the chat's directory, or the team's when shared).
    pub path: String,
    /// Its last component.
    pub filename: String,
    pub size: u64,
    /// From the name's extension.
    pub mime_type: String,
    /// The chat whose directory holds it (`""` when the team shares one directory).
    pub chat_id: String,
}

/// `PUT /v1/teams/{teamId}/workspace/move` (GoClaw's answer).
#[derive(Serialize, ToSchema)]
pub struct TeamMoved {
    pub from: String,
    pub to: String,
}

/// What the form held.
#[derive(Default)]
struct Form {
    chat_id: Option<String>,
    file_name: Option<String>,
    /// The `file` part's own file name and bytes.
    file: Option<(String, Vec<u8>)>,
}

#[utoipa::path(
    post,
    path = "/v1/teams/{teamId}/workspace/upload",
    tag = "teams",
    operation_id = "upload_team_file",
    params(
        ("teamId" = uuid::Uuid, Path, description = "Team id"),
        ("chat_id" = Option<String>, Query, description = "The chat whose directory takes the file (required unless the team shares one directory, or the form says)"),
        ("file_name" = Option<String>, Query, description = "The file's path in that directory (default: the part's file name)"),
    ),
    request_body(content = TeamUploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file was written (an existing one of the name replaced)", body = TeamUploaded),
        (status = 400, description = "Not a multipart body, no `file` part, no `chat_id`, a file name that is not a plain relative path, or a full workspace", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such team, or one the caller may not see", body = ErrorResponse),
        (status = 413, description = "The file is larger than 10 MiB", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "Team workspaces are not available", body = ErrorResponse),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<TeamUploaded>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES as u64) {
        return Err(too_large());
    }
    let team = visible_team(&state, &caller, &raw).await?;
    let base = workspaces(&state)?;
    let multipart =
        multipart.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let form = read_form(multipart).await?;
    let Some((part_name, bytes)) = form.file else {
        return Err(ApiError::bad_request("file is required"));
    };
    let chat = given(&query, "chat_id")
        .or(form.chat_id)
        .unwrap_or_default();
    let name = given(&query, "file_name")
        .or(form.file_name)
        .unwrap_or(part_name);
    let (team_id, user) = (team.id, caller.0.user_id.clone());
    let entry =
        blocking(move || TeamWorkspace::of(&base, &team).write_bytes(&chat, &name, &bytes)).await?;
    tracing::info!(team = %team_id, user_id = %user, chat_id = %entry.chat_id, file = %entry.name,
        size = entry.size, "team workspace upload");
    let filename = entry.name.rsplit('/').next().unwrap_or_default().to_owned();
    let mime_type = mime_guess::from_path(&entry.name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned();
    Ok(Json(TeamUploaded {
        path: entry.name,
        filename,
        size: entry.size,
        mime_type,
        chat_id: entry.chat_id,
    }))
}

#[utoipa::path(
    put,
    path = "/v1/teams/{teamId}/workspace/move",
    tag = "teams",
    operation_id = "move_team_file",
    params(
        ("teamId" = uuid::Uuid, Path, description = "Team id"),
        ("from" = String, Query, description = "The file's path in the chat's directory"),
        ("to" = String, Query, description = "Its new path there (missing folders are made)"),
        ("chat_id" = Option<String>, Query, description = "The chat whose directory holds it (required unless the team shares one directory)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file was moved", body = TeamMoved),
        (status = 400, description = "No `from`, `to` or `chat_id`, or a path that is not a plain relative path", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such team (or one the caller may not see), or no such file", body = ErrorResponse),
        (status = 409, description = "A file or folder of the new path exists", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "Team workspaces are not available", body = ErrorResponse),
    )
)]
pub async fn move_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<TeamMoved>, ApiError> {
    let team = visible_team(&state, &caller, &raw).await?;
    let base = workspaces(&state)?;
    let (Some(from), Some(to)) = (given(&query, "from"), given(&query, "to")) else {
        return Err(ApiError::bad_request("from and to are required"));
    };
    let chat = given(&query, "chat_id").unwrap_or_default();
    let (team_id, user) = (team.id, caller.0.user_id.clone());
    let (source, target) = (from.clone(), to.clone());
    let entry =
        blocking(move || TeamWorkspace::of(&base, &team).rename(&chat, &source, &target)).await?;
    tracing::info!(team = %team_id, user_id = %user, chat_id = %entry.chat_id, from = %from,
        to = %to, "team workspace move");
    Ok(Json(TeamMoved { from, to }))
}

/// The query parameter `name`, when given and not empty.
fn given(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query.get(name).filter(|v| !v.is_empty()).cloned()
}

fn multipart_error(error: &MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    // Everything else is the body's fault (malformed, cut off), never the server's.
    ApiError::bad_request(format!("invalid multipart body: {}", error.body_text()))
}

/// Reads every part: the first `file` part whole (up to the workspace's limit, else 413) and
/// the text fields; anything else is read past, as GoClaw ignores it.
async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let mut form = Form::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        match field.name().unwrap_or_default() {
            "file" if form.file.is_none() => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = read_bytes(field, MAX_FILE_BYTES)
                    .await?
                    .ok_or_else(too_large)?;
                form.file = Some((name, bytes));
            }
            "chat_id" => form.chat_id = Some(read_text(field).await?),
            "file_name" => form.file_name = Some(read_text(field).await?),
            _ => {
                read_bytes(field, 0).await?;
            }
        }
    }
    form.chat_id = form.chat_id.filter(|c| !c.is_empty());
    form.file_name = form.file_name.filter(|n| !n.is_empty());
    Ok(form)
}

async fn read_text(field: Field<'_>) -> Result<String, ApiError> {
    let bytes = read_bytes(field, MAX_FIELD_BYTES)
        .await?
        .ok_or_else(|| ApiError::bad_request("a text field is too long"))?;
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("a text field is not UTF-8"))
}

/// A part's bytes; `None` once they pass `limit` (the rest is read past).
async fn read_bytes(mut field: Field<'_>, limit: usize) -> Result<Option<Vec<u8>>, ApiError> {
    let mut bytes = Some(Vec::new());
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if let Some(kept) = bytes.as_mut() {
            if kept.len() + chunk.len() > limit {
                bytes = None;
            } else {
                kept.extend_from_slice(&chunk);
            }
        }
    }
    Ok(bytes)
}
