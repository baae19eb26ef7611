//! Which tenant a caller works in, when it names one (HTTP `X-GoClaw-Tenant-Id`, WebSocket
//! `connect`'s `tenant_id` or `tenant_hint`; a UUID or a slug), by how it authenticated:
//!
//! - the owner (gateway token and an owner user id) narrows to any tenant;
//! - a system-wide API key narrows to any tenant, keeping its own role;
//! - a tenant-bound API key stays in its tenant: a name of another tenant is ignored (as
//!   GoClaw does) and logged, never followed;
//! - anyone else with the gateway token, and a paired browser, needs a membership of the named
//!   tenant (no user id, no membership, or a tenant that is not active: refused, GoClaw's
//!   `TENANT_ACCESS_REVOKED`); such a caller is admitted by its membership, which every later
//!   WebSocket request checks again;
//! - the no-auth fallback stays in the master tenant.
//!
//! A name that matches no tenant leaves the caller in the master tenant, as in GoClaw.

use goclaw_core::{Store, StoreError, Tenant, TenantId, TenantStatus};

use crate::auth::{Principal, Role};

/// How the caller authenticated, as far as choosing a tenant goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The gateway token (the owner when its user id is one).
    GatewayToken,
    /// An API key; `bound` when it belongs to one tenant.
    ApiKey { bound: bool },
    /// A paired browser.
    BrowserPairing,
    /// No credentials, where the gateway allows that.
    NoAuth,
}

/// Why a caller may not work in the tenant it named.
#[derive(Debug)]
pub enum Refused {
    /// It is no (longer a) member of that tenant.
    Revoked,
    Store(StoreError),
}

/// The tenant `name` (a UUID or a slug) names, if any.
pub async fn resolve(store: &dyn Store, name: &str) -> Result<Option<Tenant>, StoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let found = match name.parse::<TenantId>() {
        Ok(id) => store.tenants().get(id).await,
        Err(_) => store.tenants().get_by_slug(name).await,
    };
    match found {
        Ok(tenant) => Ok(Some(tenant)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Moves `principal` to the tenant `requested` names where `credential` allows it. `Ok(true)`
/// when it was admitted by a membership (to be checked again on later requests).
pub async fn select(
    store: &dyn Store,
    principal: &mut Principal,
    credential: Credential,
    requested: &str,
) -> Result<bool, Refused> {
    if requested.trim().is_empty() || credential == Credential::NoAuth {
        return Ok(false);
    }
    let tenant = resolve(store, requested).await.map_err(Refused::Store)?;
    match credential {
        Credential::NoAuth => Ok(false),
        Credential::ApiKey { bound: true } => {
            if tenant.is_some_and(|t| t.id != principal.tenant_id) {
                tracing::warn!(
                    user_id = %principal.user_id,
                    requested = %requested,
                    "security.tenant_hint_ignored"
                );
            }
            Ok(false)
        }
        Credential::ApiKey { bound: false } => {
            if let Some(tenant) = tenant {
                principal.tenant_id = tenant.id;
            }
            Ok(false)
        }
        Credential::GatewayToken if principal.role == Role::Owner => {
            if let Some(tenant) = tenant {
                principal.tenant_id = tenant.id;
            }
            Ok(false)
        }
        Credential::GatewayToken | Credential::BrowserPairing => {
            let Some(tenant) = tenant else {
                return Ok(false);
            };
            if !is_member(store, tenant.id, &principal.user_id).await? {
                tracing::warn!(
                    user_id = %principal.user_id,
                    tenant_id = %tenant.id,
                    "security.tenant_access_revoked"
                );
                return Err(Refused::Revoked);
            }
            if tenant.status != TenantStatus::Active.as_str() {
                tracing::warn!(
                    user_id = %principal.user_id,
                    tenant_id = %tenant.id,
                    status = %tenant.status,
                    "security.tenant_access_revoked"
                );
                return Err(Refused::Revoked);
            }
            principal.tenant_id = tenant.id;
            Ok(true)
        }
    }
}

/// Whether `user_id` (never the anonymous empty id) belongs to `tenant`.
pub async fn is_member(
    store: &dyn Store,
    tenant: TenantId,
    user_id: &str,
) -> Result<bool, Refused> {
    if user_id.is_empty() {
        return Ok(false);
    }
    let role = store
        .tenants()
        .user_role(tenant, user_id)
        .await
        .map_err(Refused::Store)?;
    Ok(role.is_some())
}

/// Whether a caller admitted by its membership of `tenant` still is: it belongs to the tenant
/// and the tenant is active.
pub async fn still_admitted(
    store: &dyn Store,
    tenant: TenantId,
    user_id: &str,
) -> Result<bool, Refused> {
    if !is_member(store, tenant, user_id).await? {
        return Ok(false);
    }
    match store.tenants().get(tenant).await {
        Ok(t) => Ok(t.status == TenantStatus::Active.as_str()),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(error) => Err(Refused::Store(error)),
    }
}
