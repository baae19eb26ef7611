//! GoClaw's read routes of a team's board: the audit events of its tasks
//! (`GET /v1/teams/{id}/events?limit=&offset=` → `{events, count}`, newest first, 50 a page and
//! at most 100: the body `teams.events.list` answers) and the file of a task attachment
//! (`GET /v1/teams/{teamId}/attachments/{attachmentId}/download`: its bytes, typed as the
//! attachment says, as a download). Uploads and moves of the team's files are in
//! `team_files.rs`, which shares the helpers here.
//!
//! A caller reaches only a team it may see (`crate::teams::visible`: the tenant's admins and,
//! below admin, the users the team names); any other team, of the caller's tenant or another,
//! is 404 as on the WebSocket. Files are read through `crate::teams::workspace`, so an
//! attachment never leads outside its team's directory; without a workspace base the file
//! routes answer 503.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use goclaw_core::{StoreError, Team};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use crate::routes::AppState;
use crate::teams::visible;
use crate::teams::wire::event_list_json;
use crate::teams::workspace::{MAX_FILE_BYTES, TeamWorkspace, WorkspaceError};

/// Most events one page holds (GoClaw's).
const MAX_EVENTS: u32 = 100;

/// One audit event of a task (GoClaw's `TeamTaskEventData`).
#[derive(Serialize, ToSchema)]
pub struct TeamEventView {
    pub id: Uuid,
    pub task_id: Uuid,
    /// What happened: `created`, `assigned`, `claimed`, `completed`, …
    pub event_type: String,
    /// Who did it: `agent`, `human` or `system`.
    pub actor_type: String,
    /// The agent's key, or the user's id.
    pub actor_id: String,
    /// Details of the change, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub data: Option<Value>,
    /// RFC 3339.
    pub created_at: String,
}

/// `GET /v1/teams/{id}/events`.
#[derive(Serialize, ToSchema)]
pub struct TeamEventList {
    /// Newest first.
    pub events: Vec<TeamEventView>,
    /// How many `events` holds.
    pub count: usize,
}

/// A file's bytes (documentation only).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

#[utoipa::path(
    get,
    path = "/v1/teams/{id}/events",
    tag = "teams",
    operation_id = "list_team_events",
    params(
        ("id" = Uuid, Path, description = "Team id"),
        ("limit" = Option<u32>, Query, description = "At most this many (0 or absent: 50)", minimum = 0, maximum = 100),
        ("offset" = Option<u32>, Query, description = "Skip this many, newest first", minimum = 0, maximum = 2_147_483_647),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events of the team's tasks, newest first", body = TeamEventList),
        (status = 400, description = "A team id that is not a UUID, or `limit`/`offset` out of range", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such team, or one the caller may not see", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_param(&query, "limit", MAX_EVENTS)?;
    let offset = page_param(&query, "offset", i32::MAX.unsigned_abs())?;
    let team = visible_team(&state, &caller, &raw).await?;
    let events = state
        .store
        .task_trail()
        .team_events(team.tenant_id, team.id, limit, offset)
        .await?;
    Ok(Json(event_list_json(&events)))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{teamId}/attachments/{attachmentId}/download",
    tag = "teams",
    operation_id = "download_team_attachment",
    params(
        ("teamId" = Uuid, Path, description = "Team id"),
        ("attachmentId" = Uuid, Path, description = "Attachment id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attached file, typed as the attachment says \
            (`application/octet-stream` when it does not), with `Content-Disposition: attachment` \
            and `X-Content-Type-Options: nosniff`", content_type = "*/*", body = FileBytes),
        (status = 400, description = "An id that is not a UUID, or an attachment whose path is not a file name of the workspace", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such team (or one the caller may not see), attachment or file", body = ErrorResponse),
        (status = 413, description = "The file is larger than the workspace keeps (10 MiB)", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "Team workspaces are not available", body = ErrorResponse),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw_team, raw_attachment)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let team = visible_team(&state, &caller, &raw_team).await?;
    let id = Uuid::parse_str(raw_attachment.trim())
        .map_err(|_| ApiError::bad_request("invalid attachment id"))?;
    let attachment = match state
        .store
        .task_trail()
        .attachment(team.tenant_id, team.id, id)
        .await
    {
        Ok(attachment) => attachment,
        Err(StoreError::NotFound(_)) => return Err(ApiError::not_found("attachment not found")),
        Err(other) => return Err(other.into()),
    };
    let base = workspaces(&state)?;
    let (chat, path) = (attachment.chat_id.clone(), attachment.path.clone());
    let (_, bytes) = blocking(move || TeamWorkspace::of(&base, &team).bytes(&chat, &path)).await?;
    let headers = [
        (header::CONTENT_TYPE, content_type(&attachment.mime_type)),
        (header::CONTENT_DISPOSITION, disposition(&attachment.path)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    Ok((headers, bytes).into_response())
}

/// The team `raw` names when the caller may see it; 404 for any other (400 for no UUID).
pub(super) async fn visible_team(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<Team, ApiError> {
    let id = Uuid::parse_str(raw.trim()).map_err(|_| ApiError::bad_request("invalid team id"))?;
    match state.store.teams().get(caller.0.tenant_id, id).await {
        Ok(team) if visible(&caller.0, &team) => Ok(team),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::not_found("team not found")),
        Err(other) => Err(other.into()),
    }
}

/// The workspace base the teams' files live under; 503 without one.
pub(super) fn workspaces(state: &AppState) -> Result<PathBuf, ApiError> {
    state.team_workspaces.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "team workspaces are not available",
        )
    })
}

/// Runs a workspace call on the blocking pool (it reads and writes the disk) and answers its
/// refusal as an HTTP error.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, WorkspaceError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
        .map_err(refusal)
}

/// A refused workspace call: what the caller did wrong is shown, an I/O failure only logged
/// (its text may name host paths).
fn refusal(error: WorkspaceError) -> ApiError {
    match error {
        WorkspaceError::Invalid(what) => ApiError::bad_request(what),
        WorkspaceError::NotFound(what) => ApiError::not_found(what),
        WorkspaceError::TooLarge => too_large(),
        // GoClaw answers a full workspace with 400 too.
        WorkspaceError::Full(what) => ApiError::bad_request(what),
        WorkspaceError::Exists(what) => ApiError::new(StatusCode::CONFLICT, what),
        WorkspaceError::Io(error) => ApiError::internal(format!("team workspace: {error}")),
    }
}

/// 413: a file beyond the workspace's limit.
pub(super) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "file too large (at most {} MiB)",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// The query parameter `name` as an integer from 0 to `max`; 0 when absent.
fn page_param(query: &HashMap<String, String>, name: &str, max: u32) -> Result<u32, ApiError> {
    match query.get(name).map(|v| v.trim().parse::<u32>()) {
        None => Ok(0),
        Some(Ok(n)) if n <= max => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!(
            "{name} must be an integer from 0 to {max}"
        ))),
    }
}

/// The attachment's MIME type as a header, `application/octet-stream` when it is none.
pub(super) fn content_type(mime: &str) -> HeaderValue {
    const UNKNOWN: HeaderValue = HeaderValue::from_static("application/octet-stream");
    match mime.trim().parse::<mime_guess::mime::Mime>() {
        Ok(parsed) => HeaderValue::from_str(parsed.as_ref()).unwrap_or(UNKNOWN),
        Err(_) => UNKNOWN,
    }
}

/// `attachment; filename="…"` for the file at `path`: its last component with quotes,
/// backslashes, control and non-ASCII characters as `_`, and a name beyond ASCII also in full
/// as `filename*` (RFC 6266), so no name can break out of the header.
pub(super) fn disposition(path: &str) -> HeaderValue {
    let name = path
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("download");
    let plain: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            ' ' => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    let mut value = format!("attachment; filename=\"{plain}\"");
    if !name.is_ascii() {
        value.push_str("; filename*=UTF-8''");
        for byte in name.bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                value.push(char::from(byte));
            } else {
                let _ = write!(value, "%{byte:02X}");
            }
        }
    }
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"download\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: &str) {
        assert_eq!(disposition(path), expected, "{path:?}");
    }

    /// Every line: an attachment's path, and the header it is downloaded with.
    #[test]
    fn file_names_cannot_break_out_of_the_header() {
        check("report.pdf", "attachment; filename=\"report.pdf\"");
        check("docs/plan v2.md", "attachment; filename=\"plan v2.md\"");
        check("a\"b.txt", "attachment; filename=\"a_b.txt\"");
        check("a\\b.txt", "attachment; filename=\"a_b.txt\"");
        check(
            "evil\r\nSet-Cookie: x",
            "attachment; filename=\"evil__Set-Cookie: x\"",
        );
        check("tab\there", "attachment; filename=\"tab_here\"");
        check("del\u{7f}", "attachment; filename=\"del_\"");
        check("docs/", "attachment; filename=\"download\"");
        check(
            "résumé.txt",
            "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt",
        );
        check(
            "ü\"x",
            "attachment; filename=\"__x\"; filename*=UTF-8''%C3%BC%22x",
        );
    }

    #[test]
    fn content_types_are_the_attachments_or_octet_stream() {
        let cases = [
            ("text/markdown", "text/markdown"),
            (" image/png ", "image/png"),
            ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
            ("", "application/octet-stream"),
            ("not a type", "application/octet-stream"),
            ("text/html\r\nX-Evil: 1", "application/octet-stream"),
        ];
        for (stored, sent) in cases {
            assert_eq!(content_type(stored), sent, "{stored:?}");
        }
    }
}
