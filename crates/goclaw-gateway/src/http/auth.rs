//! Authenticating HTTP requests: `Authorization: Bearer <gateway token>` and
//! `X-GoClaw-User-Id`, or the no-auth fallback when no token is configured. A bearer API key
//! (`goclaw_…`) is checked by `api_keys.rs`; a request without a bearer may carry a paired
//! browser's `X-GoClaw-Sender-Id` (an operator, as on the WebSocket). `X-GoClaw-Tenant-Id`
//! (UUID or slug) then names the tenant to work in, where the credential allows it
//! (`crate::tenants::select`; a membership it needs and lacks is a 401, as in GoClaw). Then
//! the route guard: the caller must pass the
//! route's entry in the access table (`scopes::ROUTE_ACCESS`), its least role and, for an API
//! key, its scopes; a route without an entry is refused.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::auth::{Principal, Role};
use crate::routes::AppState;
use crate::scopes::{Denial, route_rule};
use crate::tenants::select::{Credential, Refused, select};

/// The caller of an HTTP request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The user id a request names, if any (ignored when longer than 255 bytes or holding control
/// characters, which no user id has).
pub fn header_user_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-goclaw-user-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 255 && !v.chars().any(char::is_control))
        .map(str::to_owned)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (mut caller, credential) = authenticate(parts, state).await?;
        let requested = parts
            .headers
            .get("x-goclaw-tenant-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match select(state.store.as_ref(), &mut caller.0, credential, requested).await {
            Ok(_) => {}
            Err(Refused::Revoked) => return Err(ApiError::unauthorized()),
            Err(Refused::Store(error)) => return Err(ApiError::internal(error)),
        }
        guard(parts, &caller.0)?;
        Ok(caller)
    }
}

/// Holds `principal` to the entry of the route `parts` matched.
fn guard(parts: &Parts, principal: &Principal) -> Result<(), ApiError> {
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let method = parts.method.as_str();
    let Some(rule) = route_rule(method, &path) else {
        tracing::error!(method, path = %path, "security.permission_denied: route without an access entry");
        return Err(ApiError::forbidden(format!(
            "permission denied: {method} {path} is not permitted"
        )));
    };
    match rule.check(principal) {
        Ok(()) => Ok(()),
        Err(Denial::Scope(access)) => {
            tracing::warn!(
                method,
                path = %path,
                user_id = %principal.user_id,
                "security.api_key_scope_denied"
            );
            Err(ApiError::forbidden(format!(
                "permission denied: {method} {path} requires {} scope",
                access.needed().as_str()
            )))
        }
        Err(Denial::Role(role)) => {
            tracing::warn!(
                method,
                path = %path,
                role = %principal.role,
                needed = %role,
                user_id = %principal.user_id,
                "security.permission_denied"
            );
            Err(ApiError::forbidden(format!(
                "permission denied: {path} requires {role} role"
            )))
        }
    }
}

/// Who presents the request's credentials, and how.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<(Caller, Credential), ApiError> {
    let user_id = header_user_id(&parts.headers).unwrap_or_else(|| "system".to_owned());
    let token = bearer(&parts.headers).unwrap_or_default();
    let auth = &state.auth;
    if crate::api_keys::looks_like_key(token) && !auth.is_gateway_token(token) {
        let named = header_user_id(&parts.headers);
        let (caller, bound) =
            super::api_keys::key_caller(parts, state, token, named.as_deref()).await?;
        return Ok((caller, Credential::ApiKey { bound }));
    }
    if auth.token.as_deref().is_none_or(str::is_empty) {
        if !auth.allow_no_auth {
            return Err(ApiError::unauthorized());
        }
        // Without a configured token the gateway only listens where that is allowed; the
        // local caller administers it.
        let mut principal = auth
            .authenticate("", &user_id)
            .map_err(|_| ApiError::unauthorized())?;
        principal.role = Role::Admin;
        return Ok((Caller(principal), Credential::NoAuth));
    }
    if token.is_empty()
        && let Some(sender) = parts.headers.get("x-goclaw-sender-id")
    {
        let sender = sender.to_str().unwrap_or_default().trim();
        let named = header_user_id(&parts.headers).unwrap_or_default();
        let paired = crate::ws::methods::browser_pairing::operator_of(state, sender, &named)
            .await
            .map_err(ApiError::internal)?;
        return match paired {
            Some(principal) => Ok((Caller(principal), Credential::BrowserPairing)),
            None => {
                tracing::warn!(path = %parts.uri.path(), "security.http_auth_rejected");
                Err(ApiError::unauthorized())
            }
        };
    }
    match auth.authenticate(token, &user_id) {
        Ok(principal) => Ok((Caller(principal), Credential::GatewayToken)),
        Err(_) => {
            tracing::warn!(path = %parts.uri.path(), "security.http_auth_rejected");
            Err(ApiError::unauthorized())
        }
    }
}
