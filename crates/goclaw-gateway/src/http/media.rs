//! Uploads for chat: `POST /v1/media/upload` (multipart, the file in part `file`, at most
//! 50 MiB) → `{path, mime_type, filename, id}`; the `path` goes into `chat.send`'s `media`.
//! `GET /v1/media/{id}` serves an upload by its id, opened by a signed `?ft=` token for
//! `/v1/media/{id}` or by the caller's own right (the uploader, or the tenant's admins).
//!
//! Uploads are kept per tenant and user (`{data_dir}/media/<tenant>/<user>/<id><ext>`), never
//! in a shared temporary directory as GoClaw does. Only types an agent can work with are
//! taken (pictures, audio, video, text, PDF, office documents, archives); a picture must be
//! what its name says — a PNG, JPEG, GIF or WebP by its first bytes.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use crate::files::MEDIA_PREFIX;
use crate::routes::AppState;

/// Largest upload (GoClaw's limit).
pub const MAX_MEDIA_BYTES: usize = 50 * 1024 * 1024;
/// Largest request body: the file and the form around it.
pub const MAX_MEDIA_BODY_BYTES: usize = MAX_MEDIA_BYTES + 64 * 1024;

/// Types taken besides `audio/*`, `video/*` and `text/*`.
const DOCUMENT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/json",
    "application/xml",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "application/rtf",
    "application/epub+zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// The multipart form of `POST /v1/media/upload` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MediaUploadForm {
    /// The file (at most 50 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /v1/media/upload` (GoClaw's answer, and the upload's id).
#[derive(Serialize, ToSchema)]
pub struct MediaUploaded {
    /// Where the upload is kept; give it to `chat.send` as `media: [{path}]`.
    pub path: String,
    pub mime_type: String,
    /// The name the file was sent with (its last component).
    pub filename: String,
    /// The upload's id, for `GET /v1/media/{id}`.
    pub id: String,
}

#[utoipa::path(
    post,
    path = "/v1/media/upload",
    tag = "media",
    operation_id = "upload_media",
    request_body(content = MediaUploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file is kept for the caller's next message", body = MediaUploaded),
        (status = 400, description = "Not a multipart body, no `file` part or no usable file name", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 413, description = "The file is larger than 50 MiB", body = ErrorResponse),
        (status = 415, description = "A type that is not taken, or a picture that is not what its name says", body = ErrorResponse),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<MediaUploaded>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_MEDIA_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let mut multipart =
        multipart.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") || file.is_some() {
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        // Past the limit the rest of the part is read and dropped, so the client hears the 413
        // instead of a connection closed under its feet.
        let mut bytes = Some(Vec::new());
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if let Some(kept) = bytes.as_mut() {
                if kept.len() + chunk.len() > MAX_MEDIA_BYTES {
                    bytes = None;
                } else {
                    kept.extend_from_slice(&chunk);
                }
            }
        }
        file = Some((name, bytes.ok_or_else(too_large)?));
    }
    let Some((name, bytes)) = file else {
        return Err(ApiError::bad_request("file is required"));
    };
    let filename = clean_name(&name).ok_or_else(|| ApiError::bad_request("invalid filename"))?;
    let mime_type = accepted_type(&filename, &bytes)?;
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".to_owned());
    let id = format!("{}.{extension}", uuid::Uuid::now_v7().simple());
    let dir = state.files.upload_dir(&caller.0);
    let path = dir.join(&id);
    write_new(&dir, &path, &bytes)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(user_id = %caller.0.user_id, media_id = %id, size = bytes.len(), mime_type, "media uploaded");
    Ok(Json(MediaUploaded {
        path: path.to_string_lossy().into_owned(),
        mime_type: mime_type.to_owned(),
        filename,
        id,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/media/{id}",
    tag = "media",
    operation_id = "get_media",
    params(
        ("id" = String, Path, description = "The upload's id"),
        ("ft" = Option<String>, Query, description = "A signed token for `/v1/media/{id}`"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The upload's bytes"),
        (status = 401, description = "No token and no or wrong credentials", body = ErrorResponse),
        (status = 403, description = "An expired or wrong token", body = ErrorResponse),
        (status = 404, description = "No such upload of the caller's", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
    caller: Result<Caller, ApiError>,
) -> Result<Response, ApiError> {
    let found = match query.get("ft").filter(|t| !t.is_empty()) {
        Some(token) => {
            if !state
                .files
                .token_opens(&format!("{MEDIA_PREFIX}{id}"), token)
            {
                tracing::warn!("security.files_token_rejected");
                return Err(ApiError::forbidden("invalid or expired file token"));
            }
            valid_id(&id)?;
            find_upload(state.files.uploads.clone(), None, id).await
        }
        None => {
            let caller = caller?;
            valid_id(&id)?;
            let tenant_dir = state.files.uploads.join(caller.0.tenant_id.to_string());
            let own = (!caller.0.sees_all()).then(|| state.files.upload_dir(&caller.0));
            find_upload(tenant_dir, own, id).await
        }
    };
    let path = found.ok_or_else(|| ApiError::not_found("media not found"))?;
    super::files::serve(&path, query.get("download").is_some_and(|d| d == "true")).await
}

/// What cannot be an upload id (`<hex>.<ext>`: no separators, no leading dot) names no
/// upload: 404, as any unknown id.
fn valid_id(id: &str) -> Result<(), ApiError> {
    let valid = !id.is_empty()
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    if valid {
        Ok(())
    } else {
        Err(ApiError::not_found("media not found"))
    }
}

/// The upload `id` under `root` (`<root>/<tenant>/<user>/` or `<root>/<user>/`), only in
/// `own` when given.
async fn find_upload(root: PathBuf, own: Option<PathBuf>, id: String) -> Option<PathBuf> {
    tokio::task::spawn_blocking(move || {
        if let Some(own) = own {
            let path = own.join(&id);
            return path.is_file().then_some(path);
        }
        walk(&root, &id, 2)
    })
    .await
    .ok()
    .flatten()
}

fn walk(dir: &std::path::Path, id: &str, depth: u8) -> Option<PathBuf> {
    let direct = dir.join(id);
    if direct.is_file() && !direct.is_symlink() {
        return Some(direct);
    }
    if depth == 0 {
        return None;
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .find_map(|e| walk(&e.path(), id, depth - 1))
}

/// The last component of a sent file name, when it is a usable name.
fn clean_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next()?.trim();
    let ok = !last.is_empty()
        && last != "."
        && !last.contains("..")
        && !last.chars().any(char::is_control)
        && last.len() <= 255;
    ok.then(|| last.to_owned())
}

/// The type of an upload named `name`, when it is one that is taken.
fn accepted_type(name: &str, bytes: &[u8]) -> Result<&'static str, ApiError> {
    let guessed = mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream");
    let family = guessed.split('/').next().unwrap_or_default();
    let taken = matches!(family, "audio" | "video" | "text") || DOCUMENT_TYPES.contains(&guessed);
    if !taken {
        return Err(unsupported(format!("file type not allowed: {guessed}")));
    }
    if family == "image" && goclaw_core::image_type_of(bytes) != Some(guessed) {
        return Err(unsupported(format!("the file is not a {guessed} picture")));
    }
    Ok(guessed)
}

/// Writes `bytes` to `path` (new) through a temporary name, so no half file is ever seen.
async fn write_new(
    dir: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = path.with_extension("part");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

fn unsupported(message: String) -> ApiError {
    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file too large (max 50 MiB)")
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::bad_request(format!("invalid multipart body: {}", error.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_names_keep_their_last_component_only() {
        assert_eq!(clean_name("photo.png").as_deref(), Some("photo.png"));
        assert_eq!(clean_name("a/b/../c.png").as_deref(), Some("c.png"));
        assert_eq!(clean_name("C:\\x\\y.pdf").as_deref(), Some("y.pdf"));
        assert_eq!(clean_name(".."), None);
        assert_eq!(clean_name(""), None);
        assert_eq!(clean_name("dir/"), None);
        assert_eq!(clean_name("a\u{0}b.png"), None);
    }

    #[test]
    fn only_known_types_and_true_pictures_are_taken() {
        let png = b"\x89PNG\r\n\x1a\n....";
        assert_eq!(accepted_type("a.png", png).ok(), Some("image/png"));
        assert_eq!(accepted_type("a.txt", b"hi").ok(), Some("text/plain"));
        assert_eq!(
            accepted_type("a.pdf", b"%PDF").ok(),
            Some("application/pdf")
        );
        assert!(accepted_type("a.jpg", png).is_err(), "a PNG named .jpg");
        assert!(accepted_type("a.png", b"<svg/>").is_err());
        assert!(accepted_type("a.svg", b"<svg/>").is_err());
        assert!(accepted_type("a.exe", b"MZ").is_err());
        assert!(accepted_type("noextension", b"x").is_err());
    }
}
