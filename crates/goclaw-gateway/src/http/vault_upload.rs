//! `POST /v1/vault/upload`, GoClaw's multipart upload into the knowledge vault: the dashboard
//! sends `agent_id` and `team_id` (both optional) and the files as repeated `files` parts;
//! each file is written into the workspace and registered as the file tools' writes are, and
//! the answer is GoClaw's `{documents: [{document, error}], count}` — one entry per file, in
//! order, `document` null and `error` set for a file that was refused.
//!
//! Where a file goes follows the workspace layout and the write rule of the other vault
//! routes: with an agent, into the caller's workspace of it (`<agent_key>/` for a predefined
//! agent, `<agent_key>/<user>/` for an `open` one — GoClaw's `agents/<agent_key>/`, which this
//! layout spells `<agent_key>/`), a personal document of that agent; without one, into the
//! tenant's workspace root, a shared document. Below admin only the caller's own workspace of
//! an `open` agent may be written (403 otherwise); teams do not exist here (400).
//!
//! Limits: the whole body at most [`MAX_UPLOAD_BYTES`] (413 beyond), each file at most
//! [`MAX_FILE_BYTES`] (the vault's own limit) and at most [`MAX_FILES`] files. A file name
//! is a name, never a path: one holding `/` or `\` (`..`, absolute paths) or naming a hidden
//! file is refused, control and reserved characters become `_`. Nothing is written through a
//! symbolic link: a folder on the way that is one refuses the upload, a file name that is one
//! refuses that file, and each file is written to a fresh temporary name and renamed into
//! place (a rename replaces a link, never follows it). Refusals are logged as
//! `security.vault_upload_refused`.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use goclaw_memory::vault::{Registered, classify};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::agents::find_agent;
use super::auth::Caller;
use super::error::ApiError;
use super::schemas::ErrorResponse;
use super::vault::{VaultDocumentView, document_view, vault};
use crate::routes::AppState;

/// Largest request body, in bytes (64 MiB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Largest file, in bytes (50 MiB: what the vault registers at most, GoClaw's limit).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Most files in one upload (GoClaw's).
pub const MAX_FILES: usize = 50;
/// Longest file name, in bytes.
const MAX_NAME_BYTES: usize = 255;
/// Longest text field (`agent_id`, `team_id`), in bytes.
const MAX_FIELD_BYTES: usize = 1024;

/// The multipart form of `POST /v1/vault/upload` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VaultUploadForm {
    /// The agent (UUID or key) whose workspace takes the files; none: the tenant's shared
    /// root (admins only).
    #[schema(nullable = false)]
    agent_id: Option<String>,
    /// Teams do not exist on this gateway: only an empty value is accepted.
    #[schema(nullable = false, max_length = 0)]
    team_id: Option<String>,
    /// The files, one part each with a file name (at most 50, each at most 50 MiB).
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 50)]
    files: Vec<String>,
}

/// One uploaded file's outcome (GoClaw's `uploadResult`).
#[derive(Serialize, ToSchema)]
pub struct VaultUploadItem {
    /// The registered document; null when the file was refused.
    pub document: Option<VaultDocumentView>,
    /// Why the file was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /v1/vault/upload`.
#[derive(Serialize, ToSchema)]
pub struct VaultUploadResult {
    /// One entry per file part, in order.
    pub documents: Vec<VaultUploadItem>,
    /// How many files were written and registered.
    pub count: usize,
}

/// What the form held.
#[derive(Default)]
struct Form {
    agent_id: String,
    team_id: String,
    files: Vec<Upload>,
}

/// One file part: its name as sent and its bytes, or why it was refused while reading.
struct Upload {
    name: String,
    bytes: Result<Vec<u8>, String>,
}

#[utoipa::path(
    post,
    path = "/v1/vault/upload",
    tag = "vault",
    request_body(content = VaultUploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each file's document, or why it was refused", body = VaultUploadResult),
        (status = 400, description = "Not a multipart body, no files, too many files, or a team", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or (below admin) a place other than the caller's own workspace of an open agent, or a folder that is a symbolic link", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 413, description = "The body is larger than 64 MiB", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "The vault is not available", body = ErrorResponse),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<VaultUploadResult>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES as u64) {
        return Err(too_large());
    }
    let multipart =
        multipart.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let form = read_form(multipart).await?;
    if !form.team_id.is_empty() {
        return Err(ApiError::bad_request("there are no teams on this gateway"));
    }
    if form.files.is_empty() {
        return Err(ApiError::bad_request("no files provided"));
    }
    if form.files.len() > MAX_FILES {
        return Err(ApiError::bad_request(format!(
            "too many files (max {MAX_FILES})"
        )));
    }
    let vault = vault(&state)?;
    let principal = &caller.0;
    let tenant = principal.tenant_id;
    let folder = target_folder(&state, &caller, form.agent_id.trim()).await?;
    let root = vault.tenant_root(tenant);
    let directory = prepare_folder(&root, &folder)
        .await
        .inspect_err(|_| refused(principal, &folder, "a folder on the way is a symbolic link"))?;

    let mut documents = Vec::with_capacity(form.files.len());
    let mut count = 0;
    for upload in form.files {
        let outcome = match upload.bytes {
            Ok(bytes) => {
                store_file(vault, principal, &directory, &folder, &upload.name, bytes).await
            }
            Err(error) => Err(error),
        };
        documents.push(match outcome {
            Ok(document) => {
                count += 1;
                VaultUploadItem {
                    document: Some(document_view(document)),
                    error: None,
                }
            }
            Err(error) => VaultUploadItem {
                document: None,
                error: Some(error),
            },
        });
    }
    tracing::info!(%tenant, user_id = %principal.user_id, folder = %folder, uploaded = count,
        refused = documents.len() - count, "vault upload");
    Ok(Json(VaultUploadResult { documents, count }))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the upload is larger than {} MiB",
            MAX_UPLOAD_BYTES / (1024 * 1024)
        ),
    )
}

fn multipart_error(error: &MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    // Everything else is the body's fault (malformed, cut off), never the server's.
    ApiError::bad_request(format!("invalid multipart body: {}", error.body_text()))
}

fn refused(principal: &crate::auth::Principal, place: &str, why: &str) {
    tracing::warn!(user_id = %principal.user_id, tenant = %principal.tenant_id, place = %place,
        reason = why, "security.vault_upload_refused");
}

/// Reads every part: the text fields and the files (each kept whole, up to its limit).
async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let mut form = Form::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "agent_id" => form.agent_id = read_text(field).await?,
            "team_id" => form.team_id = read_text(field).await?,
            // A part without a file name is a value, not a file (as Go's forms read it).
            "files" if field.file_name().is_some_and(|n| !n.is_empty()) => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = read_file(field).await?;
                form.files.push(Upload { name, bytes });
            }
            // Unknown parts are read past, as GoClaw ignores them.
            _ => drain(field).await?,
        }
    }
    Ok(form)
}

async fn read_text(field: Field<'_>) -> Result<String, ApiError> {
    let bytes = read_file(field).await?;
    let bytes = bytes
        .ok()
        .filter(|b| b.len() <= MAX_FIELD_BYTES)
        .ok_or_else(|| ApiError::bad_request("a text field is too long"))?;
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("a text field is not UTF-8"))
}

/// A part's bytes, or — past [`MAX_FILE_BYTES`] — why it was refused (the rest is read past).
async fn read_file(mut field: Field<'_>) -> Result<Result<Vec<u8>, String>, ApiError> {
    let mut bytes = Vec::new();
    let mut too_big = false;
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if too_big || bytes.len() + chunk.len() > MAX_FILE_BYTES {
            too_big = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    if too_big {
        let name = field.file_name().unwrap_or_default();
        return Ok(Err(format!(
            "file too large: {name} (at most {} MiB)",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(Ok(bytes))
}

async fn drain(mut field: Field<'_>) -> Result<(), ApiError> {
    while field
        .chunk()
        .await
        .map_err(|e| multipart_error(&e))?
        .is_some()
    {}
    Ok(())
}

/// The folder the files go to, relative to the tenant's workspace root (`""`: the root).
async fn target_folder(state: &AppState, caller: &Caller, agent: &str) -> Result<String, ApiError> {
    let principal = &caller.0;
    let own_only = || {
        ApiError::forbidden(
            "below admin, files are uploaded only into your own workspace of an open agent",
        )
    };
    if agent.is_empty() {
        if !principal.sees_all() {
            refused(principal, "", "shared root below admin");
            return Err(own_only());
        }
        return Ok(String::new());
    }
    // A name no agent could have is simply no agent here (GoClaw answers 400 for both).
    let agent = find_agent(state, principal.tenant_id, agent)
        .await
        .map_err(|e| match e.status {
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {
                ApiError::not_found("agent not found")
            }
            _ => e,
        })?;
    let key = goclaw_tools::workspace::sanitize_segment(agent.agent_key.as_str());
    if agent.agent_type != "open" {
        if !principal.sees_all() {
            refused(
                principal,
                &key,
                "a predefined agent's workspace below admin",
            );
            return Err(own_only());
        }
        return Ok(key);
    }
    let user = goclaw_tools::workspace::sanitize_segment(&principal.user_id);
    if user.is_empty() {
        if !principal.sees_all() {
            return Err(own_only());
        }
        return Ok(key);
    }
    Ok(format!("{key}/{user}"))
}

/// The absolute directory of `folder` under `root`, made where missing; refused (403) when
/// anything on the way is a symbolic link or not a directory.
async fn prepare_folder(root: &Path, folder: &str) -> Result<PathBuf, ApiError> {
    let forbidden =
        || ApiError::forbidden("the upload folder passes through a symbolic link or a file");
    tokio::fs::create_dir_all(root)
        .await
        .map_err(ApiError::internal)?;
    let mut path = root.to_path_buf();
    for part in folder.split('/').filter(|p| !p.is_empty()) {
        path.push(part);
        match tokio::fs::symlink_metadata(&path).await {
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => return Err(forbidden()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ApiError::internal(e)),
        }
        match tokio::fs::create_dir(&path).await {
            Ok(()) => {}
            // Made meanwhile: it must be a real directory all the same.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = tokio::fs::symlink_metadata(&path)
                    .await
                    .map_err(ApiError::internal)?;
                if !meta.is_dir() {
                    return Err(forbidden());
                }
            }
            Err(e) => return Err(ApiError::internal(e)),
        }
    }
    Ok(path)
}

/// `raw` as a file name of the workspace: control and reserved characters become `_`,
/// surrounding spaces and trailing dots go; a path, a hidden file or nothing is refused.
pub fn upload_name(raw: &str) -> Result<String, String> {
    if raw.contains('/') || raw.contains('\\') {
        return Err(format!("invalid filename: {raw} (a file name, not a path)"));
    }
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = cleaned.trim().trim_end_matches('.').trim_end();
    if name.is_empty() {
        return Err(format!("invalid filename: {raw}"));
    }
    if name.starts_with('.') {
        return Err(format!(
            "invalid filename: {raw} (hidden files are not kept)"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "invalid filename: longer than {MAX_NAME_BYTES} bytes"
        ));
    }
    Ok(name.to_owned())
}

/// Writes one file into `directory` (the workspace folder `folder`) and registers it.
async fn store_file(
    vault: &goclaw_memory::vault::Vault,
    principal: &crate::auth::Principal,
    directory: &Path,
    folder: &str,
    raw: &str,
    bytes: Vec<u8>,
) -> Result<goclaw_core::VaultDocument, String> {
    let name = upload_name(raw).inspect_err(|why| refused(principal, raw, why))?;
    let relative = if folder.is_empty() {
        name.clone()
    } else {
        format!("{folder}/{name}")
    };
    if !classify::is_registered(&relative) {
        return Err(format!("unsupported file type: {name}"));
    }
    let destination = directory.join(&name);
    match tokio::fs::symlink_metadata(&destination).await {
        Ok(meta) if meta.file_type().is_symlink() => {
            refused(principal, &relative, "the file name is a symbolic link");
            return Err(format!("refused: {name} is a symbolic link"));
        }
        Ok(meta) if !meta.is_file() => return Err(format!("refused: {name} is not a file")),
        _ => {}
    }
    let temporary = directory.join(format!(".{name}.upload-{}", Uuid::new_v4().simple()));
    let placed = tokio::task::spawn_blocking(move || {
        let placed =
            write_new(&temporary, &bytes).and_then(|()| std::fs::rename(&temporary, &destination));
        if placed.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        placed
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|placed| placed);
    if let Err(error) = placed {
        tracing::warn!(path = %relative, %error, "vault upload: file not written");
        return Err(format!("failed to write: {name}"));
    }
    match vault.register(principal.tenant_id, &relative).await {
        Ok(Registered::New(d) | Registered::Updated(d) | Registered::Unchanged(d)) => Ok(d),
        Ok(Registered::Skipped) => Err(format!("the vault does not keep {name} (type or place)")),
        Err(error) => {
            tracing::warn!(path = %relative, %error, "vault upload: not registered");
            Err(format!("failed to register: {name}"))
        }
    }
}

/// Writes `bytes` to a file that must not exist yet (never through a link).
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::upload_name;

    fn check(raw: &str, expected: Option<&str>) {
        assert_eq!(upload_name(raw).ok().as_deref(), expected, "{raw:?}");
    }

    #[test]
    fn names_are_cleaned_and_paths_refused() {
        check("notes.md", Some("notes.md"));
        check(" spaced out.md ", Some("spaced out.md"));
        check("a<b>:c.md", Some("a_b__c.md"));
        check("tab\there.md", Some("tab_here.md"));
        check("trailing.md...", Some("trailing.md"));
        check("../escape.md", None);
        check("/etc/passwd", None);
        check("..\\escape.md", None);
        check("..", None);
        check(".", None);
        check("", None);
        check(".env", None);
        check(&"x".repeat(300), None);
    }
}
