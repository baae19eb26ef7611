//! Files the gateway hands out over HTTP: workspace files (`/v1/files/{path}`, the path being
//! the file's place on the host, as GoClaw links it) and uploads (`/v1/media/…`).
//!
//! Unlike GoClaw, which serves any path the process can read, a file is served only from
//! inside the gateway's data: the agents' workspace base or the upload directory, after every
//! symbolic link is resolved. Within that, who may read what:
//! - a signed link ([`token`]) opens the one file it names until it expires, for anyone;
//! - a tenant's admins read everything of their tenant — its workspaces (`<base>/` for the
//!   master tenant, without other tenants' `tenants/…`; `<base>/tenants/<tenant>/` otherwise)
//!   and its uploads (`<uploads>/<tenant>/`);
//! - everybody else reads only their own: the per-user directory of an agent's workspace
//!   (`<root>/<agent>/<user>/…`) and their uploads (`<uploads>/<tenant>/<user>/…`).
//!
//! Signing a link (`POST /v1/files/sign`) needs the same right as reading the file.

pub mod attach;
pub mod token;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use goclaw_core::TenantId;
use goclaw_core::clock::Clock;
use goclaw_tools::workspace::sanitize_segment;

pub use token::{FILE_TOKEN_TTL, FileSigner};

use crate::auth::Principal;

/// URL prefix of workspace files.
pub const FILES_PREFIX: &str = "/v1/files/";
/// URL prefix of uploads.
pub const MEDIA_PREFIX: &str = "/v1/media/";
/// Largest file a message may carry (GoClaw's upload limit).
pub const MAX_ATTACHMENT_BYTES: u64 = 50 * 1024 * 1024;

/// Where served files live and how links to them are signed.
#[derive(Debug, Clone)]
pub struct FileAccess {
    pub signer: FileSigner,
    /// The agents' workspace base; `None` serves no workspace file.
    pub workspaces: Option<PathBuf>,
    /// Uploads: `<uploads>/<tenant>/<user>/<id><ext>`.
    pub uploads: PathBuf,
    /// The clock links expire by.
    pub clock: Arc<dyn Clock>,
}

/// Why a file is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such file (or one outside every root: the caller learns nothing more).
    NotFound,
    /// The file exists within the caller's reach of roots, but is not theirs.
    Forbidden,
}

impl FileAccess {
    /// The directory `principal`'s uploads go to.
    pub fn upload_dir(&self, principal: &Principal) -> PathBuf {
        self.uploads
            .join(principal.tenant_id.to_string())
            .join(user_segment(&principal.user_id))
    }

    /// The file `path` names, resolved, when it lies inside one of the roots; `None` for
    /// anything else (missing, a directory, outside).
    pub fn resolve(&self, path: &Path) -> Option<PathBuf> {
        if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
            return None;
        }
        let real = std::fs::canonicalize(path).ok()?;
        if !real.is_file() {
            return None;
        }
        let inside = self.roots().iter().any(|root| real.starts_with(root));
        inside.then_some(real)
    }

    /// The resolved file `path`, when `principal` may read it.
    pub fn readable(&self, principal: &Principal, path: &Path) -> Result<PathBuf, Refusal> {
        let real = self.resolve(path).ok_or(Refusal::NotFound)?;
        if self.belongs(principal, &real) {
            Ok(real)
        } else {
            Err(Refusal::Forbidden)
        }
    }

    /// Whether the resolved file `real` is `principal`'s to read.
    fn belongs(&self, principal: &Principal, real: &Path) -> bool {
        let tenant = principal.tenant_id;
        let user = user_segment(&principal.user_id);
        if let Some(rest) = canonical(&self.uploads).and_then(|u| strip(real, &u)) {
            let mut parts = rest.components();
            let owner_tenant = parts
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            let owner_user = parts
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            return owner_tenant.as_deref() == Some(tenant.to_string().as_str())
                && (principal.sees_all() || owner_user.as_deref() == Some(user.as_str()));
        }
        let Some(rest) = self.tenant_root(tenant).and_then(|root| strip(real, &root)) else {
            return false;
        };
        let mut parts = rest
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let first = parts.next();
        if tenant == goclaw_core::MASTER_TENANT_ID && first.as_deref() == Some("tenants") {
            return false; // another tenant's workspaces
        }
        if principal.sees_all() {
            return true;
        }
        // `<agent>/<user>/…`: the per-user directory of an open agent.
        let second = parts.next();
        let has_more = parts.next().is_some();
        !user.is_empty() && second.as_deref() == Some(user.as_str()) && has_more
    }

    /// The canonical workspace root of `tenant`.
    fn tenant_root(&self, tenant: TenantId) -> Option<PathBuf> {
        let base = canonical(self.workspaces.as_deref()?)?;
        if tenant == goclaw_core::MASTER_TENANT_ID {
            Some(base)
        } else {
            canonical(&base.join("tenants").join(tenant.to_string()))
        }
    }

    fn roots(&self) -> Vec<PathBuf> {
        [self.workspaces.as_deref(), Some(self.uploads.as_path())]
            .into_iter()
            .flatten()
            .filter_map(canonical)
            .collect()
    }

    /// The link to the resolved file `real`, signed.
    pub fn signed_file_url(&self, real: &Path) -> String {
        let url_path = file_url_path(real);
        let token = self
            .signer
            .token(&url_path, self.clock.now() + FILE_TOKEN_TTL);
        format!("{}?ft={token}", encode_path(&url_path))
    }

    /// Whether `token` opens `url_path` now.
    pub fn token_opens(&self, url_path: &str, token: &str) -> bool {
        self.signer.verify(url_path, token, self.clock.now())
    }
}

/// `/v1/files/` and the absolute path without its leading `/` (unencoded; what is signed).
pub fn file_url_path(real: &Path) -> String {
    let path = real.to_string_lossy();
    format!("{FILES_PREFIX}{}", path.trim_start_matches('/'))
}

/// `url_path` with every byte outside the unreserved set and `/` percent-encoded.
fn encode_path(url_path: &str) -> String {
    let mut out = String::with_capacity(url_path.len());
    for byte in url_path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A user id as a directory name (the workspace layout's rule).
pub fn user_segment(user_id: &str) -> String {
    sanitize_segment(user_id)
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

fn strip(real: &Path, root: &Path) -> Option<PathBuf> {
    real.strip_prefix(root).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests;
