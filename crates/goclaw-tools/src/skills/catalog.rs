//! The skills a run may use, from every source: the tenant's uploaded skills it has access to
//! (the store decides visibility and grants), then the skill directories on disk that every
//! tenant shares (`GOCLAW_SKILLS_DIR`, built-in, bundled; `<slug>/SKILL.md` each). A slug
//! found twice is the first source's. An agent with a `skills` list in `agents.list` sees only
//! the slugs it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goclaw_config::{AgentsConfig, SkillDirs};
use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, Skill, SkillDocument, Store, StoreError, TenantId,
    is_valid_skill_slug, slugify_skill_name,
};
use uuid::Uuid;

/// Largest `SKILL.md` read from a skill directory.
const MAX_SKILL_MD_BYTES: u64 = 1024 * 1024;

/// One skill a run may use.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillEntry {
    /// The uploaded skill's id; `None` for a skill from a directory.
    pub id: Option<Uuid>,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// `managed` (uploaded), `global`, `builtin` or `bundled`, as GoClaw names them.
    pub source: &'static str,
    /// Where its `SKILL.md` is.
    pub location: PathBuf,
    pub version: i64,
    pub tags: Vec<String>,
    /// The whole `SKILL.md`.
    pub content: String,
}

impl SkillEntry {
    /// The instructions: `SKILL.md` without its frontmatter.
    pub fn instructions(&self) -> String {
        SkillDocument::parse(&self.content).body
    }

    fn from_skill(skill: Skill) -> Self {
        Self {
            id: Some(skill.id),
            location: Path::new(&skill.file_path).join("SKILL.md"),
            slug: skill.slug,
            name: skill.name,
            description: skill.description,
            source: "managed",
            version: skill.version,
            tags: skill.tags,
            content: skill.content,
        }
    }
}

/// Every source of skills, for every tenant.
#[derive(Clone)]
pub struct SkillCatalog {
    store: Arc<dyn Store>,
    storage_dir: PathBuf,
    dirs: Vec<(&'static str, PathBuf)>,
    allow: Arc<BTreeMap<String, Vec<String>>>,
}

impl SkillCatalog {
    /// Uploaded skills live under `storage_dir`; `dirs` are the shared directories and
    /// `agents` the per-agent allow lists.
    pub fn new(
        store: Arc<dyn Store>,
        storage_dir: PathBuf,
        dirs: &SkillDirs,
        agents: &AgentsConfig,
    ) -> Self {
        let dirs = [
            ("global", &dirs.global),
            ("builtin", &dirs.builtin),
            ("bundled", &dirs.bundled),
        ]
        .into_iter()
        .filter_map(|(source, dir)| dir.clone().map(|dir| (source, dir)))
        .collect();
        let allow = agents
            .list
            .iter()
            .filter_map(|(key, spec)| spec.skills.clone().map(|list| (key.clone(), list)))
            .collect();
        Self {
            store,
            storage_dir,
            dirs,
            allow: Arc::new(allow),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The directory of an uploaded skill's version: `{storage}/{slug}/{version}` for the
    /// master tenant (GoClaw's layout), `{storage}/tenants/{tenant}/{slug}/{version}` for
    /// the others.
    pub fn version_dir(&self, tenant: TenantId, slug: &str, version: i64) -> PathBuf {
        self.slug_dir(tenant, slug).join(version.to_string())
    }

    /// The directory holding every version of an uploaded skill.
    pub fn slug_dir(&self, tenant: TenantId, slug: &str) -> PathBuf {
        if tenant == MASTER_TENANT_ID {
            self.storage_dir.join(slug)
        } else {
            self.storage_dir
                .join("tenants")
                .join(tenant.to_string())
                .join(slug)
        }
    }

    /// The skills `agent_key` acting for `user` may use in `tenant`.
    pub async fn available(
        &self,
        tenant: TenantId,
        agent_key: &str,
        user: &str,
    ) -> Result<Vec<SkillEntry>, StoreError> {
        let agent = match AgentKey::parse(agent_key) {
            Ok(key) => match self.store.agents().get_by_key(tenant, &key).await {
                Ok(agent) => Some(agent.id),
                Err(StoreError::NotFound(_)) => None,
                Err(error) => return Err(error),
            },
            Err(_) => None,
        };
        let uploaded = self.store.skills().accessible(tenant, agent, user).await?;
        let mut entries: Vec<SkillEntry> =
            uploaded.into_iter().map(SkillEntry::from_skill).collect();
        for entry in self.directory_skills().await {
            if !entries.iter().any(|e| e.slug == entry.slug) {
                entries.push(entry);
            }
        }
        if let Some(allowed) = self.allow.get(agent_key) {
            entries.retain(|e| allowed.contains(&e.slug));
        }
        Ok(entries)
    }

    /// The skills of the directories on disk, every tenant's; a slug found twice is the
    /// first directory's.
    pub async fn directory_skills(&self) -> Vec<SkillEntry> {
        let dirs = self.dirs.clone();
        let found = tokio::task::spawn_blocking(move || {
            dirs.iter()
                .flat_map(|(source, dir)| read_dir_skills(source, dir))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut entries: Vec<SkillEntry> = Vec::with_capacity(found.len());
        for entry in found {
            if !entries.iter().any(|e| e.slug == entry.slug) {
                entries.push(entry);
            }
        }
        entries
    }

    /// The skill called `name` (its slug, or its name in any case) among those available.
    pub async fn find(
        &self,
        tenant: TenantId,
        agent_key: &str,
        user: &str,
        name: &str,
    ) -> Result<Option<SkillEntry>, StoreError> {
        let name = name.trim();
        let entries = self.available(tenant, agent_key, user).await?;
        Ok(entries
            .iter()
            .find(|e| e.slug == name)
            .or_else(|| entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)))
            .cloned())
    }
}

/// The skills of one directory: each subdirectory with a readable `SKILL.md` (symlinks are
/// not followed).
fn read_dir_skills(source: &'static str, dir: &Path) -> Vec<SkillEntry> {
    let Ok(children) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<SkillEntry> = children
        .flatten()
        .filter(|child| child.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|child| {
            let location = child.path().join("SKILL.md");
            let meta = std::fs::symlink_metadata(&location).ok()?;
            if !meta.is_file() || meta.len() > MAX_SKILL_MD_BYTES {
                return None;
            }
            let content = std::fs::read_to_string(&location).ok()?;
            let doc = SkillDocument::parse(&content);
            let dir_name = child.file_name().to_string_lossy().into_owned();
            let slug = [
                doc.slug.clone(),
                dir_name.clone(),
                slugify_skill_name(&dir_name),
            ]
            .into_iter()
            .find(|s| is_valid_skill_slug(s))?;
            let name = if doc.name.is_empty() {
                dir_name
            } else {
                doc.name
            };
            Some(SkillEntry {
                id: None,
                slug,
                name,
                description: doc.description,
                source,
                location,
                version: 1,
                tags: doc.tags,
                content,
            })
        })
        .collect();
    entries.sort_by(|a, b| a.slug.cmp(&b.slug));
    entries
}
