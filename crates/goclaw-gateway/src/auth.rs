//! Who is calling: roles, the principal of a connection or request, and how a gateway token or
//! the no-auth fallback turns into one.
//!
//! Roles rank `owner` > `admin` > `operator` > `viewer`. API keys and browser pairing add more
//! ways to become a principal; they plug in here.

use std::fmt;
use std::sync::{Arc, RwLock};

use goclaw_core::{MASTER_TENANT_ID, TenantId};
use subtle::ConstantTimeEq;

/// A caller's rank; each method and route names the least rank it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer = 1,
    Operator = 2,
    Admin = 3,
    Owner = 4,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The caller's user id; may be empty for anonymous operators.
    pub user_id: String,
    pub tenant_id: TenantId,
    /// The scopes of the API key the caller authenticated with; `None` when it is not a key
    /// (gateway token, no-auth fallback), which only its role limits.
    pub scopes: Option<Vec<crate::scopes::Scope>>,
}

impl Principal {
    /// Whether this caller may see and act on everything in its tenant.
    pub fn sees_all(&self) -> bool {
        self.role >= Role::Admin
    }

    /// How far the runtime trusts runs this caller starts.
    pub fn trust(&self) -> goclaw_core::Trust {
        if self.sees_all() {
            goclaw_core::Trust::Admin
        } else {
            goclaw_core::Trust::User
        }
    }
}

/// How callers authenticate.
#[derive(Clone, Default)]
pub struct AuthSettings {
    /// The gateway token; `None` when not configured.
    pub token: Option<String>,
    /// User ids with the owner role when they present the gateway token. Empty means only
    /// `system`. Shared: a configuration change applies to the next caller.
    pub owner_ids: OwnerIds,
    /// Whether callers without credentials are let in when no token is configured (the gateway
    /// listens on loopback, or `GOCLAW_ALLOW_INSECURE_NO_AUTH` is set).
    pub allow_no_auth: bool,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("owner_ids", &self.owner_ids)
            .field("allow_no_auth", &self.allow_no_auth)
            .finish()
    }
}

/// Why a caller was turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("permission denied: valid token required")]
    InvalidToken,
}

/// `gateway.owner_ids`, read on every authentication and replaced when the configuration
/// changes.
#[derive(Clone, Default)]
pub struct OwnerIds(Arc<RwLock<Vec<String>>>);

impl OwnerIds {
    pub fn new(ids: Vec<String>) -> Self {
        Self(Arc::new(RwLock::new(ids)))
    }

    /// Replaces the list for every holder of this handle.
    pub fn set(&self, ids: Vec<String>) {
        match self.0.write() {
            Ok(mut guard) => *guard = ids,
            Err(poisoned) => *poisoned.into_inner() = ids,
        }
    }

    /// The current list.
    pub fn get(&self) -> Vec<String> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl fmt::Debug for OwnerIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.get()).finish()
    }
}

impl From<Vec<String>> for OwnerIds {
    fn from(ids: Vec<String>) -> Self {
        Self::new(ids)
    }
}

impl AuthSettings {
    /// Whether `user_id` is an owner.
    pub fn is_owner(&self, user_id: &str) -> bool {
        let owners = self.owner_ids.get();
        if owners.is_empty() {
            return user_id == "system";
        }
        owners.iter().any(|o| o == user_id)
    }

    /// Whether `token` is the configured gateway token.
    pub fn is_gateway_token(&self, token: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|t| !t.is_empty() && constant_time_eq(token, t))
    }

    /// Resolves the caller presenting `token` (possibly empty) as `user_id`.
    pub fn authenticate(&self, token: &str, user_id: &str) -> Result<Principal, AuthError> {
        let principal = |role| Principal {
            role,
            user_id: user_id.to_owned(),
            tenant_id: MASTER_TENANT_ID,
            scopes: None,
        };
        match self.token.as_deref().filter(|t| !t.is_empty()) {
            Some(expected) => {
                if !token.is_empty() && constant_time_eq(token, expected) {
                    let role = if self.is_owner(user_id) {
                        Role::Owner
                    } else {
                        Role::Admin
                    };
                    Ok(principal(role))
                } else {
                    Err(AuthError::InvalidToken)
                }
            }
            None if self.allow_no_auth => Ok(principal(Role::Operator)),
            None => Err(AuthError::InvalidToken),
        }
    }
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(token: Option<&str>, owners: &[&str], no_auth: bool) -> AuthSettings {
        AuthSettings {
            token: token.map(str::to_owned),
            owner_ids: OwnerIds::new(owners.iter().map(|s| (*s).to_owned()).collect()),
            allow_no_auth: no_auth,
        }
    }

    fn check(s: &AuthSettings, token: &str, user: &str, expected: Option<Role>) {
        assert_eq!(
            s.authenticate(token, user).ok().map(|p| p.role),
            expected,
            "token={token:?} user={user:?}"
        );
    }

    #[test]
    fn token_and_owner_rules() {
        let s = settings(Some("secret-token"), &[], false);
        check(&s, "secret-token", "system", Some(Role::Owner));
        check(&s, "secret-token", "alice", Some(Role::Admin));
        check(&s, "wrong", "system", None);
        check(&s, "", "system", None);
        check(&s, "secret-token-longer", "alice", None);

        let s = settings(Some("secret-token"), &["alice"], false);
        check(&s, "secret-token", "alice", Some(Role::Owner));
        check(&s, "secret-token", "system", Some(Role::Admin));
    }

    #[test]
    fn no_auth_fallback_only_without_token() {
        check(&settings(None, &[], true), "", "bob", Some(Role::Operator));
        check(
            &settings(None, &[], true),
            "anything",
            "bob",
            Some(Role::Operator),
        );
        check(&settings(None, &[], false), "", "bob", None);
        check(&settings(Some("t0k3n"), &[], true), "", "bob", None);
    }

    #[test]
    fn debug_hides_the_token() {
        let shown = format!("{:?}", settings(Some("hidden-value"), &[], false));
        assert!(!shown.contains("hidden-value"), "{shown}");
    }
}
