//! Skills over the wire: the HTTP routes `/v1/skills…` (`http.rs`), the WebSocket methods
//! `skills.list/get/update` (`ws/methods/skills.rs`), the JSON shapes both send (GoClaw's
//! `SkillInfo`), and the upload of a skill package.
//!
//! An upload is read whole (at most `skills.max_upload_size_mb`), checked by
//! [`goclaw_tools::skills::read_package`] (no `..`, absolute paths, symlinks, zip bombs; a
//! `SKILL.md` with a `name`), and only then written: the version's directory is staged and
//! renamed into place, then the row stored; a failed store removes the directory again. An
//! upload whose `SKILL.md` is the current version's answers `unchanged` and writes nothing.
//! Uploads are `internal`, as in GoClaw: agents see them once granted (or made public).

pub mod http;
pub mod runtimes;
pub mod transfer;

use std::sync::Arc;

use goclaw_core::{
    NewSkillVersion, Skill, SkillDocument, StoreError, TenantId, is_valid_skill_slug,
    slugify_skill_name,
};
use goclaw_tools::skills::{PackageError, PackageLimits, SkillCatalog, SkillEntry};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// The skill store behind the routes and methods.
#[derive(Clone)]
pub struct Skills {
    pub catalog: SkillCatalog,
    pub limits: PackageLimits,
    /// One upload at a time, so two of one slug never take the same version.
    uploads: Arc<Mutex<()>>,
}

impl Skills {
    pub fn new(catalog: SkillCatalog, max_upload_mb: u32) -> Self {
        Self {
            catalog,
            limits: PackageLimits::from_upload_mb(max_upload_mb),
            uploads: Arc::new(Mutex::new(())),
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the skill failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What an upload did: GoClaw's answer, and whether it stored a new version.
pub struct Uploaded {
    pub body: Value,
    pub created: bool,
}

/// Checks and stores the package `bytes` as the next version of its skill in `tenant`.
pub async fn upload(
    skills: &Skills,
    tenant: TenantId,
    owner: &str,
    bytes: Vec<u8>,
) -> Result<Uploaded, UploadError> {
    let limits = skills.limits;
    let package =
        tokio::task::spawn_blocking(move || goclaw_tools::skills::read_package(&bytes, limits))
            .await
            .map_err(|e| UploadError::Io(std::io::Error::other(e)))??;
    let stored = store_package(skills, tenant, owner, package, &Naming::default()).await?;
    let body = match stored.created {
        false => json!({ "id": stored.id, "slug": stored.slug, "version": stored.version,
            "name": stored.name, "status": "unchanged" }),
        true => json!({ "id": stored.id, "slug": stored.slug, "version": stored.version,
            "name": stored.name, "status": "active", "is_new": stored.is_new }),
    };
    Ok(Uploaded {
        body,
        created: stored.created,
    })
}

/// What a package's `SKILL.md` does not decide: the slug and name a bundle gives, the
/// visibility (`internal` by default).
#[derive(Debug, Default)]
pub struct Naming {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub visibility: Option<String>,
}

/// A package as stored.
pub struct StoredPackage {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub version: i64,
    /// A new version was written (not the current one again).
    pub created: bool,
    /// The skill did not exist before.
    pub is_new: bool,
}

/// Stores a checked `package` as the next version of its skill, unless it is the current
/// version already.
pub async fn store_package(
    skills: &Skills,
    tenant: TenantId,
    owner: &str,
    package: goclaw_tools::skills::SkillPackage,
    naming: &Naming,
) -> Result<StoredPackage, UploadError> {
    let doc = SkillDocument::parse(&package.skill_md);
    let name = match doc.name.trim() {
        "" => naming.name.clone().unwrap_or_default().trim().to_owned(),
        name => name.to_owned(),
    };
    if name.is_empty() {
        return Err(UploadError::Invalid(
            "name is required in SKILL.md frontmatter".into(),
        ));
    }
    let slug = match (&naming.slug, doc.slug.trim()) {
        (Some(slug), _) => slug.clone(),
        (None, "") => slugify_skill_name(&name),
        (None, slug) => slug.to_owned(),
    };
    if !is_valid_skill_slug(&slug) {
        return Err(UploadError::Invalid(format!(
            "invalid slug {slug:?}: use lowercase letters, digits and hyphens"
        )));
    }
    let visibility = naming
        .visibility
        .clone()
        .filter(|v| goclaw_core::SKILL_VISIBILITIES.contains(&v.as_str()))
        .unwrap_or_else(|| "internal".to_owned());
    let hash = hex::encode(Sha256::digest(package.skill_md.as_bytes()));
    let _one_at_a_time = skills.uploads.lock().await;
    let store = skills.catalog.store().skills();
    match store.get_by_slug(tenant, &slug).await {
        Ok(current) if current.file_hash == hash => {
            return Ok(StoredPackage {
                id: current.id,
                slug,
                name,
                version: current.version,
                created: false,
                is_new: false,
            });
        }
        Ok(_) | Err(StoreError::NotFound(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let version = store.next_version(tenant, &slug).await?;
    let dest = skills.catalog.version_dir(tenant, &slug, version);
    let staged = dest.clone();
    let skill_md = package.skill_md.clone();
    let size = tokio::task::spawn_blocking(move || {
        if staged.exists() {
            // Left by an upload whose row was never stored.
            std::fs::remove_dir_all(&staged)?;
        }
        goclaw_tools::skills::install(&package, &staged).map(|()| package.unpacked_bytes)
    })
    .await
    .map_err(|e| UploadError::Io(std::io::Error::other(e)))??;
    let new = NewSkillVersion {
        tenant_id: tenant,
        name: name.clone(),
        slug: slug.clone(),
        description: doc.description.trim().to_owned(),
        owner_id: owner.to_owned(),
        visibility,
        version,
        tags: doc.tags,
        author: doc.author,
        content: skill_md,
        file_path: dest.to_string_lossy().into_owned(),
        file_size: i64::try_from(size).unwrap_or(i64::MAX),
        file_hash: hash,
    };
    let (stored, is_new) = match store.put_version(new).await {
        Ok(stored) => stored,
        Err(error) => {
            let _ = tokio::fs::remove_dir_all(&dest).await;
            return Err(error.into());
        }
    };
    tracing::info!(%tenant, skill = %stored.slug, version, "skill uploaded");
    Ok(StoredPackage {
        id: stored.id,
        slug: stored.slug,
        name,
        version,
        created: true,
        is_new,
    })
}

/// GoClaw's `SkillInfo` of an uploaded skill (`GET /v1/skills`, `skills.list`).
pub fn skill_info(skill: &Skill) -> Value {
    let base_dir = skill.file_path.clone();
    let mut info = json!({
        "id": skill.id,
        "name": skill.name,
        "slug": skill.slug,
        "path": format!("{base_dir}/SKILL.md"),
        "baseDir": base_dir,
        "source": "managed",
        "description": skill.description,
        "visibility": skill.visibility,
        "version": skill.version,
        "is_system": false,
        "enabled": skill.enabled,
        "status": skill.status,
    });
    if !skill.tags.is_empty() {
        info["tags"] = json!(skill.tags);
    }
    if !skill.author.is_empty() {
        info["author"] = json!(skill.author);
    }
    info
}

/// GoClaw's `SkillInfo` of a skill from a directory on disk (no id, always enabled).
pub fn dir_skill_info(entry: &SkillEntry) -> Value {
    let path = entry.location.to_string_lossy();
    let base_dir = entry
        .location
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut info = json!({
        "name": entry.name,
        "slug": entry.slug,
        "path": path,
        "baseDir": base_dir,
        "source": entry.source,
        "description": entry.description,
        "version": entry.version,
        "is_system": entry.source != "global",
        "enabled": true,
        "status": "active",
    });
    if !entry.tags.is_empty() {
        info["tags"] = json!(entry.tags);
    }
    info
}

/// Every skill `tenant` has: its uploaded ones (by name), then the directories' skills whose
/// slugs it has not taken.
pub async fn tenant_skills(skills: &Skills, tenant: TenantId) -> Result<Vec<Value>, StoreError> {
    let uploaded = skills.catalog.store().skills().list(tenant).await?;
    let mut infos: Vec<Value> = uploaded.iter().map(skill_info).collect();
    for entry in skills.catalog.directory_skills().await {
        if !uploaded.iter().any(|s| s.slug == entry.slug) {
            infos.push(dir_skill_info(&entry));
        }
    }
    Ok(infos)
}

/// The tenant's skill named by `key`: a UUID, else a slug (uploaded skills only).
pub async fn find_skill(skills: &Skills, tenant: TenantId, key: &str) -> Result<Skill, StoreError> {
    let store = skills.catalog.store().skills();
    match key.parse::<uuid::Uuid>() {
        Ok(id) => store.get(tenant, id).await,
        Err(_) => store.get_by_slug(tenant, key).await,
    }
}
