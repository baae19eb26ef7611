//! Turning a presented API key into a principal, and re-checking it on later requests.
//!
//! There is no cache: every request looks the key up by its hash, so a revoked or expired key
//! is refused from the very next request on. Last use is recorded in the background.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use goclaw_core::{ApiKey, ApiKeyId, ApiKeyScope, MASTER_TENANT_ID, Store, StoreError};

use crate::auth::Principal;
use crate::scopes::role_for;

/// Why a presented key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyRejection {
    #[error("unknown api key")]
    Unknown,
    #[error("api key revoked")]
    Revoked,
    #[error("api key expired")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl KeyRejection {
    fn reason(&self) -> &'static str {
        match self {
            KeyRejection::Unknown => "unknown",
            KeyRejection::Revoked => "revoked",
            KeyRejection::Expired => "expired",
            KeyRejection::Store(_) => "store_error",
        }
    }
}

/// A successful key login: who the caller is, and the key it authenticated with.
#[derive(Debug, Clone)]
pub struct KeyLogin {
    pub principal: Principal,
    pub key: BoundKey,
    /// Whether the key belongs to one tenant (else it is system-wide and may name one).
    pub tenant_bound: bool,
}

/// The key a connection authenticated with: its hash to re-check it by, its id to close the
/// connection by when the key is revoked, and when it expires.
#[derive(Debug, Clone)]
pub struct BoundKey {
    pub hash: String,
    pub id: ApiKeyId,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a request came from, for log lines.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The WebSocket method or `HTTP-METHOD /path`.
    pub method: &'a str,
    pub remote: &'a str,
}

/// Authenticates `token` as an API key. `requested_user` is the user id the caller asked for
/// (empty when none); see [`acting_user`] for who the caller becomes.
pub async fn authenticate(
    store: &Arc<dyn Store>,
    token: &str,
    requested_user: &str,
    origin: Origin<'_>,
) -> Result<KeyLogin, KeyRejection> {
    let key_hash = super::hash(token);
    let key = valid_key(store, &key_hash, requested_user, origin).await?;
    let user_id = acting_user(&key, requested_user, origin);
    let tenant_bound = key.tenant_id.is_some();
    let principal = Principal {
        role: role_for(&key.scopes),
        user_id,
        tenant_id: key.tenant_id.unwrap_or(MASTER_TENANT_ID),
        scopes: Some(key.scopes),
    };
    Ok(KeyLogin {
        tenant_bound,
        principal,
        key: BoundKey {
            hash: key_hash,
            id: key.id,
            expires_at: key.expires_at,
        },
    })
}

/// The identity a key of its own: the user it is bound to (`--owner-id`), else one fixed for
/// the key, `apikey-<id>` — never whoever a request names.
pub fn key_identity(key: &ApiKey) -> String {
    match key.owner_id.as_deref().filter(|o| !o.is_empty()) {
        Some(owner) => owner.to_owned(),
        None => format!("{UNBOUND_KEY_USER_PREFIX}{}", key.id),
    }
}

/// What the identity of a key without an owner starts with.
pub const UNBOUND_KEY_USER_PREFIX: &str = "apikey-";

/// Who a caller presenting `key` acts as: the key's own identity, unless an `operator.admin`
/// key asks to act for another user, which is allowed and logged as
/// `security.api_key_owner_override`. Other keys asking for someone else stay themselves.
fn acting_user(key: &ApiKey, requested_user: &str, origin: Origin<'_>) -> String {
    let own = key_identity(key);
    if requested_user.is_empty() || requested_user == own {
        return own;
    }
    if key.scopes.contains(&ApiKeyScope::Admin) {
        tracing::warn!(
            key_id = %key.id,
            user_id = %requested_user,
            key_user_id = %own,
            method = origin.method,
            remote = origin.remote,
            "security.api_key_owner_override"
        );
        return requested_user.to_owned();
    }
    tracing::warn!(
        key_id = %key.id,
        user_id = %own,
        requested_user_id = %requested_user,
        method = origin.method,
        remote = origin.remote,
        "security.api_key_user_ignored"
    );
    own
}

/// Re-checks a key a connection authenticated with earlier.
pub async fn recheck(
    store: &Arc<dyn Store>,
    key_hash: &str,
    user_id: &str,
    origin: Origin<'_>,
) -> Result<(), KeyRejection> {
    valid_key(store, key_hash, user_id, origin).await.map(drop)
}

/// The key with this hash if it is valid now (its last use recorded), else why not (logged).
async fn valid_key(
    store: &Arc<dyn Store>,
    key_hash: &str,
    user_id: &str,
    origin: Origin<'_>,
) -> Result<ApiKey, KeyRejection> {
    let now = Utc::now();
    let verdict = match store.api_keys().find_by_hash(key_hash).await {
        Ok(Some(key)) if key.revoked => Err((KeyRejection::Revoked, Some(key.id))),
        Ok(Some(key)) if !key.is_valid_at(now) => Err((KeyRejection::Expired, Some(key.id))),
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err((KeyRejection::Unknown, None)),
        Err(error) => Err((KeyRejection::Store(error), None)),
    };
    match verdict {
        Ok(key) => {
            let store = Arc::clone(store);
            let id = key.id;
            tokio::spawn(async move {
                if let Err(error) = store.api_keys().touch(id, now).await {
                    tracing::debug!(key_id = %id, error = %error, "recording api key use failed");
                }
            });
            Ok(key)
        }
        Err((rejection, key_id)) => {
            if let KeyRejection::Store(error) = &rejection {
                tracing::error!(error = %error, "api key lookup failed");
            }
            tracing::warn!(
                reason = rejection.reason(),
                key_id = key_id.map(|id| id.to_string()).unwrap_or_default(),
                user_id = %user_id,
                method = origin.method,
                remote = origin.remote,
                "security.api_key_rejected"
            );
            Err(rejection)
        }
    }
}
