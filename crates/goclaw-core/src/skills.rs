//! Skills: `SKILL.md` instructions an agent loads on demand. Uploaded skills are rows of
//! `skills` (one per tenant and slug, its current version and that version's `SKILL.md`),
//! granted to agents and users as GoClaw grants them; the files of every version stay on disk
//! under the skill store. Visibility decides who sees a skill: `public` everyone in the tenant,
//! `private` its owner, `internal` agents and users it is granted to.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// GoClaw's visibilities.
pub const SKILL_VISIBILITIES: &[&str] = &["public", "private", "internal"];

/// A skill as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    /// Unique in its tenant: `^[a-z0-9][a-z0-9-]*[a-z0-9]$`.
    pub slug: String,
    pub description: String,
    /// The user who uploaded it.
    pub owner_id: String,
    /// `public`, `private` or `internal`.
    pub visibility: String,
    /// The current version, from 1 on.
    pub version: i64,
    /// `active` or `archived` (deleted).
    pub status: String,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub author: String,
    /// The current version's `SKILL.md`, frontmatter included.
    pub content: String,
    /// The directory of the current version's files.
    pub file_path: String,
    pub file_size: i64,
    /// SHA-256 (hex) of the current `SKILL.md`.
    pub file_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A version of a skill to store: a new skill, or the next version of the tenant's skill with
/// this slug (an archived one comes back active).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSkillVersion {
    pub tenant_id: TenantId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub owner_id: String,
    pub visibility: String,
    pub version: i64,
    pub tags: Vec<String>,
    pub author: String,
    pub content: String,
    pub file_path: String,
    pub file_size: i64,
    pub file_hash: String,
}

/// A change to a skill's metadata; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SkillPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub tags: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An agent's grant of a skill, pinned to a version.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillAgentGrant {
    pub skill_id: Uuid,
    pub agent_id: AgentId,
    pub pinned_version: i64,
    pub granted_by: String,
    pub created_at: DateTime<Utc>,
}

/// A user's grant of a skill.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillUserGrant {
    pub skill_id: Uuid,
    pub user_id: String,
    pub granted_by: String,
    pub created_at: DateTime<Utc>,
}

/// Uploaded skills of each tenant and their grants. Every read is scoped to one tenant.
#[async_trait]
pub trait SkillStore: Send + Sync {
    /// Stores `skill` as the current version of its slug and returns it with whether the slug
    /// was new to the tenant.
    async fn put_version(&self, skill: NewSkillVersion) -> Result<(Skill, bool), StoreError>;
    /// The tenant's skill with this id (archived ones too).
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Skill, StoreError>;
    /// The tenant's active skill with this slug.
    async fn get_by_slug(&self, tenant: TenantId, slug: &str) -> Result<Skill, StoreError>;
    /// The version the next upload of `slug` gets (1 for a slug never seen).
    async fn next_version(&self, tenant: TenantId, slug: &str) -> Result<i64, StoreError>;
    /// The tenant's active skills, by name.
    async fn list(&self, tenant: TenantId) -> Result<Vec<Skill>, StoreError>;
    /// Applies `patch` to the tenant's skill.
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: SkillPatch,
    ) -> Result<Skill, StoreError>;
    /// Archives the tenant's skill and drops its grants.
    async fn archive(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;
    /// Grants the skill to an agent of the same tenant, pinned to `version`; a `private`
    /// skill becomes `internal`, as in GoClaw.
    async fn grant_agent(
        &self,
        tenant: TenantId,
        skill: Uuid,
        agent: AgentId,
        version: i64,
        granted_by: &str,
    ) -> Result<(), StoreError>;
    /// Revokes an agent's grant; an `internal` skill left without agent grants becomes
    /// `private`. Whether there was a grant.
    async fn revoke_agent(
        &self,
        tenant: TenantId,
        skill: Uuid,
        agent: AgentId,
    ) -> Result<bool, StoreError>;
    async fn grant_user(
        &self,
        tenant: TenantId,
        skill: Uuid,
        user: &str,
        granted_by: &str,
    ) -> Result<(), StoreError>;
    async fn revoke_user(
        &self,
        tenant: TenantId,
        skill: Uuid,
        user: &str,
    ) -> Result<bool, StoreError>;
    async fn agent_grants(
        &self,
        tenant: TenantId,
        skill: Uuid,
    ) -> Result<Vec<SkillAgentGrant>, StoreError>;
    async fn user_grants(
        &self,
        tenant: TenantId,
        skill: Uuid,
    ) -> Result<Vec<SkillUserGrant>, StoreError>;
    /// The enabled, active skills `agent` acting for `user` may use: public ones, the user's
    /// private ones, and internal ones granted to the agent or the user.
    async fn accessible(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
        user: &str,
    ) -> Result<Vec<Skill>, StoreError>;
}

/// Whether `slug` is one GoClaw accepts: lowercase letters, digits and inner hyphens, at
/// least two characters.
pub fn is_valid_skill_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    bytes.len() >= 2
        && bytes.len() <= 100
        && allowed(&bytes[0])
        && allowed(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| allowed(b) || *b == b'-')
}

/// GoClaw's slug of a skill name: lowercase, every run of other characters one hyphen.
pub fn slugify_skill_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The parts of a `SKILL.md`: its frontmatter fields and the instructions after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillDocument {
    pub name: String,
    pub description: String,
    pub slug: String,
    pub author: String,
    pub tags: Vec<String>,
    /// The instructions: everything after the frontmatter, trimmed.
    pub body: String,
}

impl SkillDocument {
    /// Reads `SKILL.md` text: a `---` frontmatter block of `key: value` lines (quotes around a
    /// value dropped, `tags` as `[a, b]` or a comma list) followed by the body. A file without
    /// frontmatter is all body.
    pub fn parse(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut doc = SkillDocument::default();
        let Some(rest) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
        else {
            doc.body = text.trim().to_owned();
            return doc;
        };
        let (front, body) = match rest.find("\n---") {
            Some(end) => {
                let after = &rest[end + 4..];
                let body = after.split_once('\n').map_or("", |(_, body)| body);
                (&rest[..end], body)
            }
            None => (rest, ""),
        };
        for line in front.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if line.starts_with([' ', '\t']) {
                continue; // nested YAML is not ours to read
            }
            let value = unquote(value.trim());
            match key.trim() {
                "name" => doc.name = value.to_owned(),
                "description" => doc.description = value.to_owned(),
                "slug" => doc.slug = value.to_owned(),
                "author" => doc.author = value.to_owned(),
                "tags" => {
                    doc.tags = value
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .split(',')
                        .map(|t| unquote(t.trim()).to_owned())
                        .filter(|t| !t.is_empty())
                        .collect();
                }
                _ => {}
            }
        }
        doc.body = body.trim().to_owned();
        doc
    }
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_goclaws_pattern() {
        for slug in ["ab", "web-search", "a1", "x-y-z"] {
            assert!(is_valid_skill_slug(slug), "{slug}");
        }
        for slug in ["", "a", "-ab", "ab-", "Ab", "a_b", "a b", "../x", "a/b"] {
            assert!(!is_valid_skill_slug(slug), "{slug:?}");
        }
        assert_eq!(slugify_skill_name("Web Search!"), "web-search");
        assert_eq!(slugify_skill_name("  PDF -- Tools "), "pdf-tools");
    }

    #[test]
    fn frontmatter_and_body() {
        let doc = SkillDocument::parse(
            "---\nname: \"Haiku Writer\"\ndescription: Writes haiku\ntags: [poetry, 'short']\n\
             metadata:\n  nested: ignored\n---\n\n# Steps\nCount syllables.\n",
        );
        assert_eq!(doc.name, "Haiku Writer");
        assert_eq!(doc.description, "Writes haiku");
        assert_eq!(doc.tags, ["poetry", "short"]);
        assert_eq!(doc.body, "# Steps\nCount syllables.");
        let plain = SkillDocument::parse("Just do it.");
        assert_eq!(
            (plain.name.as_str(), plain.body.as_str()),
            ("", "Just do it.")
        );
    }
}
