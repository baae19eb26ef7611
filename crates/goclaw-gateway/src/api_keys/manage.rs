//! Creating, listing and revoking API keys, shared by the WebSocket methods and the HTTP
//! routes; both require the admin role before calling in here.
//!
//! Owners create system-wide keys and see and revoke every key; other admins act only on the
//! keys of their own tenant. A caller that is itself an API key can hand out only the scopes it
//! holds (`operator.admin` stands for every scope but `operator.provision`). Listings never
//! carry a hash or a key.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use goclaw_core::{ApiKey, ApiKeyId, NewApiKey, Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::scopes::Scope;
use crate::ws::ClientRegistry;

/// Longest key name.
const MAX_NAME_CHARS: usize = 100;
/// Longest owner user id.
const MAX_OWNER_CHARS: usize = 255;
/// Longest lifetime a key may be given (about 100 years), so expiry times stay representable.
const MAX_EXPIRES_IN_SECS: i64 = 100 * 366 * 24 * 3600;

/// Parameters of `api_keys.create` and `POST /v1/api-keys`.
#[derive(Debug, Deserialize)]
pub struct CreateParams {
    pub name: String,
    pub scopes: Vec<String>,
    /// Lifetime in seconds; absent or 0 means the key does not expire.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// The user every request made with the key acts as.
    #[serde(default)]
    pub owner_id: Option<String>,
}

/// Why a management call failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("api key not found")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ManageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => ManageError::NotFound,
            other => ManageError::Store(other),
        }
    }
}

/// Creates a key and returns it, plaintext included — the only time it is ever shown.
pub async fn create(
    store: &dyn Store,
    caller: &Principal,
    params: CreateParams,
) -> Result<Value, ManageError> {
    let name = params.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ManageError::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let scopes = parse_scopes(&params.scopes)?;
    if let Some(held) = &caller.scopes
        && let Some(extra) = scopes.iter().find(|s| !grants(held, **s))
    {
        return Err(ManageError::Forbidden(format!(
            "permission denied: an API key cannot grant {extra}, which it does not hold"
        )));
    }
    let expires_at = expiry(params.expires_in, Utc::now())?;
    let owner_id = match params.owner_id.as_deref().map(str::trim) {
        Some(owner) if owner.chars().count() > MAX_OWNER_CHARS => {
            return Err(ManageError::Invalid(format!(
                "owner_id must be at most {MAX_OWNER_CHARS} characters"
            )));
        }
        Some(owner) if !owner.is_empty() => Some(owner.to_owned()),
        _ => None,
    };
    let generated = super::generate();
    let key = store
        .api_keys()
        .create(NewApiKey {
            tenant_id: (caller.role != Role::Owner).then_some(caller.tenant_id),
            name: name.to_owned(),
            prefix: generated.prefix.clone(),
            key_hash: generated.hash.clone(),
            scopes: scopes.into_iter().collect(),
            owner_id,
            expires_at,
            created_by: caller.user_id.clone(),
        })
        .await?;
    tracing::info!(key_id = %key.id, prefix = %key.prefix, user_id = %caller.user_id, "api key created");
    Ok(json!({
        "id": key.id.to_string(),
        "name": key.name,
        "prefix": key.prefix,
        "key": generated.plaintext,
        "scopes": key.scopes,
        "expires_at": key.expires_at,
        "created_at": key.created_at,
    }))
}

/// The keys the caller may see, newest first, as listings show them.
pub async fn visible(store: &dyn Store, caller: &Principal) -> Result<Vec<Value>, ManageError> {
    let tenant = (caller.role != Role::Owner).then_some(caller.tenant_id);
    let keys = store.api_keys().list(tenant).await?;
    Ok(keys.iter().map(wire).collect())
}

/// Revokes key `id`: it stops working from the next request on, and the WebSocket connections
/// opened with it are closed at once.
pub async fn revoke(
    store: &dyn Store,
    clients: &ClientRegistry,
    caller: &Principal,
    id: &str,
) -> Result<Value, ManageError> {
    let id: ApiKeyId = id
        .trim()
        .parse()
        .map_err(|_| ManageError::Invalid(format!("invalid api key id: {id:?}")))?;
    let key = store.api_keys().get(id).await?;
    // Keys outside the caller's reach look the same as missing ones.
    if caller.role != Role::Owner && key.tenant_id != Some(caller.tenant_id) {
        return Err(ManageError::NotFound);
    }
    store.api_keys().revoke(id).await?;
    let closed = clients.close_key(id);
    tracing::info!(key_id = %id, user_id = %caller.user_id, closed_connections = closed, "api key revoked");
    Ok(json!({ "ok": true, "id": id.to_string(), "revoked": true }))
}

/// A key as listings show it: never its hash, never the key.
fn wire(key: &ApiKey) -> Value {
    json!({
        "id": key.id.to_string(),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "tenant_id": key.tenant_id.map(|t| t.to_string()),
        "owner_id": key.owner_id,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked": key.revoked,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "updated_at": key.updated_at,
    })
}

fn parse_scopes(raw: &[String]) -> Result<BTreeSet<Scope>, ManageError> {
    if raw.is_empty() {
        return Err(ManageError::Invalid(
            "scopes must name at least one scope".to_owned(),
        ));
    }
    raw.iter()
        .map(|s| Scope::parse(s.trim()).map_err(|e| ManageError::Invalid(e.to_string())))
        .collect()
}

/// Whether a key holding `held` may hand out `scope`.
fn grants(held: &[Scope], scope: Scope) -> bool {
    held.contains(&scope) || (held.contains(&Scope::Admin) && scope != Scope::Provision)
}

fn expiry(
    expires_in: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ManageError> {
    match expires_in {
        None | Some(0) => Ok(None),
        Some(secs) if (1..=MAX_EXPIRES_IN_SECS).contains(&secs) => {
            Ok(Some(now + Duration::seconds(secs)))
        }
        Some(_) => Err(ManageError::Invalid(format!(
            "expires_in must be between 1 and {MAX_EXPIRES_IN_SECS} seconds (0 or absent: never)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_grant(held: &[Scope], scope: Scope, expected: bool) {
        assert_eq!(grants(held, scope), expected, "{held:?} -> {scope}");
    }

    #[test]
    fn keys_hand_out_only_what_they_hold() {
        check_grant(&[Scope::Admin], Scope::Read, true);
        check_grant(&[Scope::Admin], Scope::Pairing, true);
        check_grant(&[Scope::Admin], Scope::Provision, false);
        check_grant(&[Scope::Admin, Scope::Provision], Scope::Provision, true);
        check_grant(&[Scope::Read], Scope::Write, false);
        check_grant(&[Scope::Write], Scope::Write, true);
    }

    #[test]
    fn expiry_bounds() {
        let now = Utc::now();
        assert_eq!(expiry(None, now).ok(), Some(None));
        assert_eq!(expiry(Some(0), now).ok(), Some(None));
        assert_eq!(
            expiry(Some(60), now).ok(),
            Some(Some(now + Duration::seconds(60)))
        );
        assert!(expiry(Some(-1), now).is_err());
        assert!(expiry(Some(i64::MAX), now).is_err());
    }

    #[test]
    fn scopes_are_parsed_and_deduplicated() {
        let parsed = parse_scopes(&["operator.read".into(), "operator.read".into()]);
        assert_eq!(parsed.ok(), Some(BTreeSet::from([Scope::Read])));
        assert!(parse_scopes(&[]).is_err());
        assert!(parse_scopes(&["operator.root".into()]).is_err());
    }
}
