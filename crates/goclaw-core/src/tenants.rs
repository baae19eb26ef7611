//! Tenants and who belongs to them: a tenant's slug, status and settings, the changes an
//! owner may make to it, and the `tenant_users` memberships that admit a user to a tenant with
//! a role (GoClaw's `owner > admin > operator > member > viewer`). User ids are opaque: there is
//! no users table, only the ids callers and channels present.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{ParseError, TenantId};

/// Most characters of a tenant slug (the column's width, as GoClaw's).
pub const MAX_TENANT_SLUG_LEN: usize = 100;
/// Most characters of a tenant's name.
pub const MAX_TENANT_NAME_LEN: usize = 255;
/// Most bytes of a member's user id (GoClaw's `VARCHAR(255)`).
pub const MAX_TENANT_USER_ID_LEN: usize = 255;

/// Whether `slug` is a tenant slug: lowercase letters, digits and hyphens, starting and ending
/// with a letter or digit, at most [`MAX_TENANT_SLUG_LEN`] characters.
pub fn is_valid_tenant_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= MAX_TENANT_SLUG_LEN
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'-')
}

/// A tenant's status: only an active tenant admits its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantStatus {
    Active,
    Suspended,
    Archived,
}

impl TenantStatus {
    pub const ALL: [TenantStatus; 3] = [
        TenantStatus::Active,
        TenantStatus::Suspended,
        TenantStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ParseError::new(
                    "tenant status",
                    format!("{raw:?} (expected active, suspended or archived)"),
                )
            })
    }
}

/// A member's role in a tenant, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TenantRole {
    Viewer,
    Member,
    Operator,
    Admin,
    Owner,
}

impl TenantRole {
    pub const ALL: [TenantRole; 5] = [
        TenantRole::Owner,
        TenantRole::Admin,
        TenantRole::Operator,
        TenantRole::Member,
        TenantRole::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TenantRole::Owner => "owner",
            TenantRole::Admin => "admin",
            TenantRole::Operator => "operator",
            TenantRole::Member => "member",
            TenantRole::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                ParseError::new(
                    "tenant role",
                    format!("{raw:?} (expected owner, admin, operator, member or viewer)"),
                )
            })
    }
}

/// A tenant to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub settings: Value,
}

/// A change to a tenant; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub status: Option<TenantStatus>,
    pub settings: Option<Value>,
}

/// One user's membership of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantUser {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub user_id: String,
    pub role: TenantRole,
    pub display_name: Option<String>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A membership to add (or whose role and name to change when it exists).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenantUser {
    pub tenant_id: TenantId,
    pub user_id: String,
    pub role: TenantRole,
    pub display_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(slug: &str, valid: bool) {
        assert_eq!(is_valid_tenant_slug(slug), valid, "{slug:?}");
    }

    #[test]
    fn slugs() {
        check("acme", true);
        check("a", true);
        check("team-42", true);
        check("9lives", true);
        check(&"a".repeat(100), true);
        check(&"a".repeat(101), false);
        check("", false);
        check("-acme", false);
        check("acme-", false);
        check("Acme", false);
        check("ac_me", false);
        check("ac me", false);
        check("acmé", false);
    }

    #[test]
    fn roles_and_statuses_round_trip() {
        for role in TenantRole::ALL {
            assert_eq!(TenantRole::parse(role.as_str()), Ok(role));
        }
        for status in TenantStatus::ALL {
            assert_eq!(TenantStatus::parse(status.as_str()), Ok(status));
        }
        assert!(TenantRole::parse("root").is_err());
        assert!(TenantStatus::parse("gone").is_err());
        assert!(TenantRole::Owner > TenantRole::Admin && TenantRole::Member > TenantRole::Viewer);
    }
}
