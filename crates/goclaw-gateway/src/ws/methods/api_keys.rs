//! `api_keys.list`, `api_keys.create` and `api_keys.revoke` (admin), and the guard that holds a
//! connection opened with an API key to that key: still valid, and scoped for each method.

use serde::Deserialize;
use serde_json::{Value, json};

use super::params::parse;
use super::{Connection, Ctx};
use crate::api_keys::manage::{self, CreateParams, ManageError};
use crate::api_keys::verify::{self, BoundKey, KeyRejection, Origin};
use crate::auth::Principal;
use crate::scopes::method_access;
use crate::ws::frames::ErrorShape;

/// Refuses `method` when the connection's API key has since been revoked or has expired (the
/// connection then has to `connect` again), or when the key's scopes do not allow it.
pub async fn guard(
    conn: &mut Connection,
    principal: &Principal,
    method: &str,
) -> Result<(), ErrorShape> {
    let (Some(key_hash), Some(scopes)) = (
        conn.api_key.as_ref().map(|k| k.hash.clone()),
        principal.scopes.as_ref(),
    ) else {
        return Ok(());
    };
    let remote = conn.remote.to_string();
    let origin = Origin {
        method,
        remote: &remote,
    };
    match verify::recheck(&conn.state.store, &key_hash, &principal.user_id, origin).await {
        Ok(()) => {}
        Err(KeyRejection::Store(_)) => {
            return Err(ErrorShape::internal("cannot check the api key"));
        }
        Err(rejection) => {
            conn.principal = None;
            conn.api_key = None;
            return Err(ErrorShape::unauthorized(format!(
                "permission denied: {rejection}"
            )));
        }
    }
    match method_access(method) {
        Some(access) if access.allows(scopes) => Ok(()),
        access => {
            tracing::warn!(
                method,
                user_id = %principal.user_id,
                remote = %remote,
                "security.api_key_scope_denied"
            );
            let needed = access.map(|a| a.needed().as_str()).unwrap_or("a scope");
            Err(ErrorShape::unauthorized(format!(
                "permission denied: {method} requires {needed} scope"
            )))
        }
    }
}

/// The keys the caller may see, as a bare array (GoClaw's `api_keys.list` answer).
pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let keys = manage::visible(ctx.state.store.as_ref(), ctx.principal)
        .await
        .map_err(error)?;
    Ok(Value::Array(keys))
}

pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CreateParams = parse(params)?;
    manage::create(ctx.state.store.as_ref(), ctx.principal, params)
        .await
        .map_err(error)
}

#[derive(Deserialize)]
struct RevokeParams {
    id: String,
}

pub async fn revoke(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: RevokeParams = parse(params)?;
    let mut revoked = manage::revoke(
        ctx.state.store.as_ref(),
        &ctx.state.clients,
        ctx.principal,
        &params.id,
    )
    .await
    .map_err(error)?;
    // GoClaw answers `{status: "revoked"}`.
    if let Some(answer) = revoked.as_object_mut() {
        answer.insert("status".into(), json!("revoked"));
    }
    Ok(revoked)
}

fn error(error: ManageError) -> ErrorShape {
    match error {
        ManageError::Invalid(message) => ErrorShape::invalid(message),
        ManageError::Forbidden(message) => ErrorShape::unauthorized(message),
        ManageError::NotFound => ErrorShape::not_found("api key not found"),
        ManageError::Store(error) => super::sessions::store_error(&error),
    }
}

/// `connect` with an API key: the principal and the key, to re-check it by and to close the
/// connection by when it is revoked.
pub async fn login(
    conn: &Connection,
    token: &str,
    user_id: &str,
) -> Result<(Principal, Option<BoundKey>, bool), ErrorShape> {
    let remote = conn.remote.to_string();
    let origin = Origin {
        method: "connect",
        remote: &remote,
    };
    match verify::authenticate(&conn.state.store, token, user_id, origin).await {
        Ok(login) => Ok((login.principal, Some(login.key), login.tenant_bound)),
        Err(KeyRejection::Store(_)) => Err(ErrorShape::internal("cannot check the api key")),
        Err(rejection) => Err(ErrorShape::unauthorized(format!(
            "permission denied: {rejection}"
        ))),
    }
}
