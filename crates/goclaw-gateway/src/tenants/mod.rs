//! Tenants and their members, for the WebSocket methods `tenants.*` and the `/v1/tenants`
//! routes alike: one operation per action, taking the caller and plain inputs and answering
//! with GoClaw's shapes (`{tenants:[…]}`, the tenant object, `{users:[…]}`, `{ok:"true"}`).
//!
//! Who may do what, beyond the access table: the owner (gateway token and an owner user id)
//! sees and manages every tenant; anyone else sees only the tenant it is signed in to (another
//! tenant is "not found", never "forbidden", so its existence does not leak), and only that
//! tenant's admins change it or remove its members. Creating tenants and adding members needs
//! the owner or an API key holding `operator.provision`, and such a key adds members only to
//! its own tenant. Only the owner changes a tenant's status, and the master tenant's never.
//! Removing a member sends `tenant.access.revoked` to that user's connections in the tenant.
//!
//! [`select`] decides which tenant a caller works in (`X-GoClaw-Tenant-Id`, `connect`'s
//! `tenant_id`/`tenant_hint`).

pub mod http;
pub mod select;

use goclaw_core::{
    MASTER_TENANT_ID, MAX_TENANT_NAME_LEN, MAX_TENANT_USER_ID_LEN, NewTenant, NewTenantUser, Store,
    StoreError, Tenant, TenantId, TenantPatch, TenantRole, TenantStatus, TenantUser,
    is_valid_tenant_slug,
};
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::routes::AppState;
use crate::scopes::{Event, Scope};

/// Why a tenant operation was refused.
#[derive(Debug)]
pub enum Refusal {
    /// A missing or malformed input.
    Invalid(String),
    /// Nothing the caller may see by that id.
    NotFound(String),
    /// The caller may see it but not do this.
    Denied(String),
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::Store(error)
    }
}

type Outcome = Result<Value, Refusal>;

/// What `tenants.update` / `PATCH /v1/tenants/{id}` may change.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Update {
    pub name: Option<String>,
    pub status: Option<String>,
    pub settings: Option<serde_json::Map<String, Value>>,
}

/// A member to add.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AddUser {
    pub user_id: String,
    pub role: String,
    pub display_name: Option<String>,
}

fn is_owner(caller: &Principal) -> bool {
    caller.role == Role::Owner
}

/// The owner, or an API key holding `operator.provision`.
fn may_provision(caller: &Principal) -> bool {
    is_owner(caller)
        || caller
            .scopes
            .as_ref()
            .is_some_and(|scopes| scopes.contains(&Scope::Provision))
}

/// Whether `caller` may see tenant `id` at all.
fn sees(caller: &Principal, id: TenantId) -> bool {
    is_owner(caller) || caller.tenant_id == id
}

/// Whether `caller` administers tenant `id`.
fn manages(caller: &Principal, id: TenantId) -> bool {
    is_owner(caller) || (caller.tenant_id == id && caller.role >= Role::Admin)
}

fn denied(method: &str) -> Refusal {
    Refusal::Denied(format!("permission denied: {method}"))
}

fn not_found(id: &str) -> Refusal {
    Refusal::NotFound(format!("tenant not found: {id}"))
}

/// The tenant id `raw` names; GoClaw's "invalid tenant id" otherwise.
pub fn tenant_id(raw: &str) -> Result<TenantId, Refusal> {
    raw.trim()
        .parse()
        .map_err(|_| Refusal::Invalid("invalid tenant id".into()))
}

/// The tenant `id` if `caller` may see it; "not found" for one it may not.
async fn visible(store: &dyn Store, caller: &Principal, id: TenantId) -> Result<Tenant, Refusal> {
    if !sees(caller, id) {
        return Err(not_found(&id.to_string()));
    }
    match store.tenants().get(id).await {
        Err(StoreError::NotFound(_)) => Err(not_found(&id.to_string())),
        other => Ok(other?),
    }
}

/// A tenant as GoClaw answers it.
pub fn tenant_view(tenant: &Tenant) -> Value {
    json!({
        "id": tenant.id.to_string(),
        "name": tenant.name,
        "slug": tenant.slug,
        "status": tenant.status,
        "settings": tenant.settings,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    })
}

/// A membership as GoClaw answers it (`display_name` only when set).
pub fn user_view(user: &TenantUser) -> Value {
    let mut view = json!({
        "id": user.id.to_string(),
        "tenant_id": user.tenant_id.to_string(),
        "user_id": user.user_id,
        "role": user.role.as_str(),
        "metadata": user.metadata,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    });
    if let Some(name) = &user.display_name {
        view["display_name"] = Value::String(name.clone());
    }
    view
}

/// Every tenant for the owner; the caller's own otherwise.
pub async fn list(state: &AppState, caller: &Principal) -> Outcome {
    let tenants = if is_owner(caller) {
        state.store.tenants().list().await?
    } else {
        match state.store.tenants().get(caller.tenant_id).await {
            Ok(tenant) => vec![tenant],
            Err(StoreError::NotFound(_)) => Vec::new(),
            Err(error) => return Err(error.into()),
        }
    };
    let tenants: Vec<Value> = tenants.iter().map(tenant_view).collect();
    Ok(json!({ "tenants": tenants }))
}

/// One tenant the caller may see.
pub async fn get(state: &AppState, caller: &Principal, id: &str) -> Outcome {
    let id = tenant_id(id)?;
    Ok(tenant_view(
        &visible(state.store.as_ref(), caller, id).await?,
    ))
}

/// Creates an active tenant: `name` and a valid `slug` are required.
pub async fn create(
    state: &AppState,
    caller: &Principal,
    name: &str,
    slug: &str,
    settings: Option<serde_json::Map<String, Value>>,
) -> Result<Tenant, Refusal> {
    if !may_provision(caller) {
        return Err(denied("tenants.create"));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(Refusal::Invalid("name is required".into()));
    }
    if name.chars().count() > MAX_TENANT_NAME_LEN {
        return Err(Refusal::Invalid(format!(
            "name must be at most {MAX_TENANT_NAME_LEN} characters"
        )));
    }
    if slug.is_empty() {
        return Err(Refusal::Invalid("slug is required".into()));
    }
    if !is_valid_tenant_slug(slug) {
        return Err(Refusal::Invalid(
            "invalid slug: lowercase letters, digits and hyphens, starting and ending with a \
             letter or digit, at most 100 characters"
                .into(),
        ));
    }
    let tenant = state
        .store
        .tenants()
        .create(NewTenant {
            id: TenantId::generate(),
            slug: slug.to_owned(),
            name: name.to_owned(),
            settings: Value::Object(settings.unwrap_or_default()),
        })
        .await?;
    tracing::info!(tenant = %tenant.id, slug = %tenant.slug, user_id = %caller.user_id, "tenant.created");
    Ok(tenant)
}

/// Changes a tenant's name, settings or (the owner only) status.
pub async fn update(state: &AppState, caller: &Principal, id: &str, change: Update) -> Outcome {
    let id = tenant_id(id)?;
    visible(state.store.as_ref(), caller, id).await?;
    if !manages(caller, id) {
        return Err(denied("tenants.update"));
    }
    let mut patch = TenantPatch::default();
    let name = change.name.as_deref().unwrap_or_default().trim();
    if !name.is_empty() {
        if name.chars().count() > MAX_TENANT_NAME_LEN {
            return Err(Refusal::Invalid(format!(
                "name must be at most {MAX_TENANT_NAME_LEN} characters"
            )));
        }
        patch.name = Some(name.to_owned());
    }
    if let Some(raw) = change.status.as_deref().filter(|s| !s.is_empty()) {
        let status = TenantStatus::parse(raw).map_err(|e| Refusal::Invalid(e.to_string()))?;
        if !is_owner(caller) {
            return Err(denied(
                "tenants.update: only the owner changes a tenant's status",
            ));
        }
        if id == MASTER_TENANT_ID && status != TenantStatus::Active {
            return Err(Refusal::Denied(
                "permission denied: the master tenant stays active".into(),
            ));
        }
        patch.status = Some(status);
    }
    patch.settings = change.settings.map(Value::Object);
    // Nothing named is nothing changed (GoClaw refuses it as "invalid updates").
    if patch == TenantPatch::default() {
        return Ok(json!({ "ok": "true" }));
    }
    state.store.tenants().update(id, patch).await?;
    tracing::info!(tenant = %id, user_id = %caller.user_id, "tenant.updated");
    Ok(json!({ "ok": "true" }))
}

/// The members of a tenant the caller administers.
pub async fn users(state: &AppState, caller: &Principal, id: &str) -> Outcome {
    let id = tenant_id(id)?;
    visible(state.store.as_ref(), caller, id).await?;
    if !manages(caller, id) {
        return Err(denied("tenants.users.list"));
    }
    let users: Vec<Value> = state
        .store
        .tenants()
        .users(id)
        .await?
        .iter()
        .map(user_view)
        .collect();
    Ok(json!({ "users": users }))
}

/// Adds a member (role `member` unless named), or changes an existing member's role.
pub async fn add_user(state: &AppState, caller: &Principal, id: &str, add: AddUser) -> Outcome {
    if !may_provision(caller) {
        return Err(denied("tenants.users.add"));
    }
    let user_id = add.user_id.trim();
    if user_id.is_empty() {
        return Err(Refusal::Invalid("user_id is required".into()));
    }
    if user_id.len() > MAX_TENANT_USER_ID_LEN || user_id.chars().any(char::is_control) {
        return Err(Refusal::Invalid("invalid user_id".into()));
    }
    let role = if add.role.is_empty() {
        TenantRole::Member
    } else {
        TenantRole::parse(&add.role).map_err(|e| Refusal::Invalid(e.to_string()))?
    };
    let id = tenant_id(id)?;
    visible(state.store.as_ref(), caller, id).await?;
    let display_name = add
        .display_name
        .map(|n| {
            n.trim()
                .chars()
                .take(MAX_TENANT_NAME_LEN)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    state
        .store
        .tenants()
        .add_user(NewTenantUser {
            tenant_id: id,
            user_id: user_id.to_owned(),
            role,
            display_name,
        })
        .await?;
    tracing::info!(tenant = %id, member = %user_id, role = role.as_str(), user_id = %caller.user_id, "tenant.user.added");
    Ok(json!({ "ok": "true" }))
}

/// Removes a member and tells that user's connections in the tenant.
pub async fn remove_user(state: &AppState, caller: &Principal, id: &str, user_id: &str) -> Outcome {
    let id = tenant_id(id)?;
    visible(state.store.as_ref(), caller, id).await?;
    if !manages(caller, id) {
        return Err(denied("tenants.users.remove"));
    }
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(Refusal::Invalid("user_id is required".into()));
    }
    if state.store.tenants().remove_user(id, user_id).await? {
        tracing::info!(tenant = %id, member = %user_id, user_id = %caller.user_id, "tenant.user.removed");
        state.tenant_events.publish_for_user(
            id,
            user_id,
            Event::TenantAccessRevoked,
            json!({ "user_id": user_id, "tenant_id": id.to_string() }),
        );
    }
    Ok(json!({ "ok": "true" }))
}

/// The caller's tenants: every tenant (role `owner`) for the owner; otherwise the active
/// tenants its user belongs to, with its role in each.
pub async fn mine(state: &AppState, caller: &Principal) -> Outcome {
    let entry = |tenant: &Tenant, role: &str| {
        json!({
            "id": tenant.id.to_string(),
            "name": tenant.name,
            "slug": tenant.slug,
            "role": role,
            "status": tenant.status,
        })
    };
    let tenants = state.store.tenants();
    if is_owner(caller) {
        let all: Vec<Value> = tenants
            .list()
            .await?
            .iter()
            .map(|t| entry(t, "owner"))
            .collect();
        return Ok(json!({ "tenants": all }));
    }
    let mut entries = Vec::new();
    if !caller.user_id.is_empty() {
        for membership in tenants.memberships(&caller.user_id).await? {
            let tenant = match tenants.get(membership.tenant_id).await {
                Ok(tenant) => tenant,
                Err(StoreError::NotFound(_)) => continue,
                Err(error) => return Err(error.into()),
            };
            if tenant.status == TenantStatus::Active.as_str() {
                entries.push(entry(&tenant, membership.role.as_str()));
            }
        }
    }
    Ok(json!({ "tenants": entries }))
}
