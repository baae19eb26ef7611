//! Why a runtime operation failed.

use goclaw_core::{ProviderError, StoreError};

/// Errors of [`crate::Runtime`] operations. A run that fails after it was scheduled does not
/// surface here: it ends in `RunOutcome::Failed` and a `RunFailed` event.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No agent with this key exists in the tenant.
    #[error("agent {0:?} not found")]
    AgentNotFound(String),
    /// The agent exists but is switched off.
    #[error("agent {0:?} is inactive")]
    AgentInactive(String),
    /// No session with this key exists in the tenant.
    #[error("session {0:?} not found")]
    SessionNotFound(String),
    /// The session belongs to another user, or its key lies in another user's (or a
    /// channel's) namespace; only admins may use it.
    #[error("permission denied: not your session")]
    SessionNotOwned(String),
    /// The runtime no longer accepts work.
    #[error("gateway is shutting down, please retry shortly")]
    ShuttingDown,
    /// The agent names a provider the gateway has no client for.
    #[error(
        "provider {name} is not configured: set {env_var} (or add it under providers in config.json)"
    )]
    ProviderNotConfigured { name: String, env_var: String },
    /// The model call failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// Storage failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// The prompt-injection guard refused the message (`gateway.injection_action: block`);
    /// nothing was stored and no run started.
    #[error("message blocked: potential prompt injection detected ({})", detectors.join(", "))]
    InjectionBlocked { detectors: Vec<String> },
    /// The client's idempotency key is empty, too long or holds control characters.
    #[error(
        "idempotency key must be 1 to {} bytes without control characters",
        goclaw_core::MAX_IDEMPOTENCY_KEY_BYTES
    )]
    InvalidIdempotencyKey,
    /// The sender reached a `gateway.quota` limit; nothing was stored and no run started.
    #[error(transparent)]
    QuotaExceeded(#[from] crate::quota::QuotaExceeded),
}

impl RuntimeError {
    /// The error for a provider name that has no client.
    pub fn provider_not_configured(name: &str) -> Self {
        let env = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect::<String>();
        Self::ProviderNotConfigured {
            name: name.to_owned(),
            env_var: format!("GOCLAW_{env}_API_KEY"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_not_configured_names_the_variable() {
        let message = RuntimeError::provider_not_configured("open-router").to_string();
        assert_eq!(
            message,
            "provider open-router is not configured: set GOCLAW_OPEN_ROUTER_API_KEY (or add it \
             under providers in config.json)"
        );
    }
}
