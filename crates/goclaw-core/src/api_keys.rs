//! Gateway API keys: their scopes, the record the store keeps, and the [`ApiKeyStore`] trait.
//!
//! A key is never stored in plaintext: the store holds the SHA-256 of the whole key and a short
//! prefix for display. Whether a record still authenticates anyone is decided by
//! [`ApiKey::is_valid_at`]; the store only finds records.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{ParseError, TenantId};
use crate::store::StoreError;

/// Identifies one API key record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyId(Uuid);

impl ApiKeyId {
    /// A new time-ordered (UUID v7) identifier.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The underlying UUID.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ApiKeyId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self).map_err(|e| ParseError {
            kind: "api key id",
            reason: e.to_string(),
        })
    }
}

/// What an API key may do. Each WebSocket method and HTTP route names the scopes that allow
/// it; a key holds one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiKeyScope {
    /// Everything, including agent definitions and key management.
    Admin,
    /// Reading: lists, histories, previews, status.
    Read,
    /// Chatting and changing sessions and agent files (and reading).
    Write,
    /// Answering exec approval requests.
    Approvals,
    /// Device and browser pairing.
    Pairing,
    /// Provisioning tenants and their users.
    Provision,
}

impl ApiKeyScope {
    /// Every scope, in the order GoClaw documents them.
    pub const ALL: [ApiKeyScope; 6] = [
        ApiKeyScope::Admin,
        ApiKeyScope::Read,
        ApiKeyScope::Write,
        ApiKeyScope::Approvals,
        ApiKeyScope::Pairing,
        ApiKeyScope::Provision,
    ];

    /// The wire name, e.g. `operator.read`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Admin => "operator.admin",
            ApiKeyScope::Read => "operator.read",
            ApiKeyScope::Write => "operator.write",
            ApiKeyScope::Approvals => "operator.approvals",
            ApiKeyScope::Pairing => "operator.pairing",
            ApiKeyScope::Provision => "operator.provision",
        }
    }

    /// Parses a wire name; anything but the six known names is refused.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ParseError {
                kind: "api key scope",
                reason: format!(
                    "unknown scope {raw:?} (expected one of operator.admin, operator.read, \
                     operator.write, operator.approvals, operator.pairing, operator.provision)"
                ),
            })
    }
}

impl fmt::Display for ApiKeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ApiKeyScope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiKeyScope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ApiKeyScope::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A stored API key, without its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// `None` for a system-wide key.
    pub tenant_id: Option<TenantId>,
    pub name: String,
    /// The first hex characters of the key's random part, for telling keys apart.
    pub prefix: String,
    pub scopes: Vec<ApiKeyScope>,
    /// The user every request made with this key acts as, when set.
    pub owner_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ApiKey {
    /// Whether the key authenticates at `now`: not revoked and not expired.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at.is_none_or(|expires| now < expires)
    }
}

/// A key to store; `key_hash` is the SHA-256 hex of the whole plaintext key.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub tenant_id: Option<TenantId>,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: Vec<ApiKeyScope>,
    pub owner_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
}

/// The `api_keys` table. Lookups return records whatever their state; callers decide with
/// [`ApiKey::is_valid_at`].
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; `Conflict` when the hash is already known.
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, StoreError>;
    async fn get(&self, id: ApiKeyId) -> Result<ApiKey, StoreError>;
    /// The key whose hash is `key_hash`, revoked or expired ones included.
    async fn find_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Keys of `tenant`, or every key (system keys included) for `None`, newest first.
    async fn list(&self, tenant: Option<TenantId>) -> Result<Vec<ApiKey>, StoreError>;
    /// Marks a key revoked (again is fine); `NotFound` when there is no such key.
    async fn revoke(&self, id: ApiKeyId) -> Result<(), StoreError>;
    /// Records that the key was used at `at`.
    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Option<ApiKeyScope>) {
        assert_eq!(ApiKeyScope::parse(raw).ok(), expected, "{raw:?}");
    }

    #[test]
    fn scopes_parse_by_wire_name() {
        check("operator.admin", Some(ApiKeyScope::Admin));
        check("operator.read", Some(ApiKeyScope::Read));
        check("operator.write", Some(ApiKeyScope::Write));
        check("operator.approvals", Some(ApiKeyScope::Approvals));
        check("operator.pairing", Some(ApiKeyScope::Pairing));
        check("operator.provision", Some(ApiKeyScope::Provision));
        check("operator.Read", None);
        check("admin", None);
        check("", None);
        for scope in ApiKeyScope::ALL {
            assert_eq!(ApiKeyScope::parse(scope.as_str()), Ok(scope));
        }
    }

    #[test]
    fn validity_follows_revocation_and_expiry() {
        let now = Utc::now();
        let mut key = ApiKey {
            id: ApiKeyId::generate(),
            tenant_id: None,
            name: "k".into(),
            prefix: "0123abcd".into(),
            scopes: vec![ApiKeyScope::Read],
            owner_id: None,
            expires_at: None,
            last_used_at: None,
            revoked: false,
            created_by: String::new(),
            created_at: now,
            updated_at: now,
        };
        assert!(key.is_valid_at(now));
        key.expires_at = Some(now + chrono::Duration::seconds(1));
        assert!(key.is_valid_at(now));
        key.expires_at = Some(now);
        assert!(!key.is_valid_at(now));
        key.expires_at = None;
        key.revoked = true;
        assert!(!key.is_valid_at(now));
    }
}
