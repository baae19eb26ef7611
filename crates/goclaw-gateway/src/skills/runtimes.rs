//! `GET /v1/skills/runtimes` (admin): whether the runtimes skill scripts need are on the
//! gateway's `PATH`, in GoClaw's shape `{runtimes: [{name, available}], ready}`, where `ready`
//! means the critical ones (`python3`, `pip3`) are present. Nothing is run to find out.

use std::path::Path;

use axum::Json;
use serde_json::{Value, json};

use crate::http::{ApiError, Caller, ErrorResponse};

/// The runtimes probed, and whether a missing one makes the answer not ready.
const RUNTIMES: &[(&str, bool)] = &[
    ("python3", true),
    ("pip3", true),
    ("node", false),
    ("npm", false),
];

#[utoipa::path(get, path = "/v1/skills/runtimes", tag = "skills", operation_id = "skill_runtimes",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{runtimes: [{name, available}], ready}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    ))]
pub async fn runtimes(_caller: Caller) -> Result<Json<Value>, ApiError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<_> = std::env::split_paths(&path).collect();
    let mut ready = true;
    let runtimes: Vec<Value> = RUNTIMES
        .iter()
        .map(|(name, critical)| {
            let available = dirs.iter().any(|dir| is_executable(&dir.join(name)));
            if *critical && !available {
                ready = false;
            }
            json!({ "name": name, "available": available })
        })
        .collect();
    Ok(Json(json!({ "runtimes": runtimes, "ready": ready })))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
