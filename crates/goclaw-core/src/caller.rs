//! Who a run acts for, as far as the runtime and the tools care: how much the gateway trusts
//! them ([`Trust`]) and which session keys belong to whom ([`SessionNamespace`]).
//!
//! Session keys follow GoClaw's shapes (`agent:{agent}:{channel}:direct:{peer}`,
//! `agent:{agent}:http:{user}`, `agent:{agent}:subagent:{label}`, …). Some of them name the user
//! they belong to; a caller may only create a key in its own namespace, so nobody can squat a
//! session another user will later be routed to.

use serde::{Deserialize, Serialize};

use crate::domain::SessionKey;

/// How far the gateway trusts the person a run acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// Anyone but the owner and admins: an operator or viewer, an API key's user, a channel
    /// sender. Their runs never reach the host outside a sandbox unless the operator allows it.
    User,
    /// The owner or an admin of the tenant: may act in any session and, where the sandbox mode
    /// leaves the agent on the host, run tools there.
    Admin,
}

impl Trust {
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::User => "user",
            Trust::Admin => "admin",
        }
    }
}

/// Session kinds only the gateway itself creates (subagents, teams, schedules, delegations).
const SYSTEM_KINDS: &[&str] = &["subagent", "team", "cron", "heartbeat", "delegate"];

/// Channels whose sessions are created by the channel layer for a paired sender, never by a
/// WebSocket or HTTP client.
const CHANNEL_KINDS: &[&str] = &[
    "telegram", "discord", "slack", "whatsapp", "zalo", "feishu", "lark", "line", "webhook",
    "email",
];

/// Whose sessions a key may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionNamespace {
    /// Any caller may create it; it then belongs to its creator (`agent:{a}:ws:direct:{uuid}`,
    /// free-form keys).
    Open,
    /// Derived from a user id (`agent:{a}:http:{user}`): only that user may create it.
    User(String),
    /// A channel's or the gateway's own kind (`agent:{a}:telegram:…`, `…:subagent:…`): only the
    /// gateway and admins may create it.
    Reserved(String),
}

impl SessionNamespace {
    /// The namespace `key` lies in.
    pub fn of(key: &SessionKey) -> Self {
        let mut parts = key.as_str().split(':');
        if parts.next() != Some("agent") {
            return SessionNamespace::Open;
        }
        let (Some(_agent), Some(kind)) = (parts.next(), parts.next()) else {
            return SessionNamespace::Open;
        };
        if kind == "http" {
            // `agent:{a}:http:{user}` and anything under it.
            return match parts.next() {
                Some(user) if !user.is_empty() => SessionNamespace::User(user.to_owned()),
                _ => SessionNamespace::Open,
            };
        }
        if SYSTEM_KINDS.contains(&kind) || CHANNEL_KINDS.contains(&kind) {
            return SessionNamespace::Reserved(kind.to_owned());
        }
        SessionNamespace::Open
    }

    /// Whether `user_id`, trusted as `trust`, may create a session with a key in this namespace.
    pub fn admits(&self, user_id: &str, trust: Trust) -> bool {
        match self {
            SessionNamespace::Open => true,
            SessionNamespace::User(owner) => trust == Trust::Admin || owner == user_id,
            SessionNamespace::Reserved(_) => trust == Trust::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, user: &str, trust: Trust, allowed: bool) {
        let parsed = SessionKey::parse(key).expect("valid key");
        assert_eq!(
            SessionNamespace::of(&parsed).admits(user, trust),
            allowed,
            "{key} as {user} ({trust:?})"
        );
    }

    #[test]
    fn users_create_keys_only_in_their_own_namespace() {
        check("agent:default:http:frank", "frank", Trust::User, true);
        check("agent:default:http:frank", "bob", Trust::User, false);
        check("agent:default:http:frank:extra", "bob", Trust::User, false);
        check("agent:default:http:frank", "bob", Trust::Admin, true);
        check("agent:default:ws:direct:1234", "bob", Trust::User, true);
        check("agent:default:main", "bob", Trust::User, true);
        check("my-own-session", "bob", Trust::User, true);
        check(
            "agent:default:telegram:direct:42",
            "bob",
            Trust::User,
            false,
        );
        check("agent:default:slack:group:C1", "bob", Trust::User, false);
        check("agent:default:subagent:research", "bob", Trust::User, false);
        check("agent:default:cron:job-1", "bob", Trust::User, false);
        check(
            "agent:default:telegram:direct:42",
            "admin",
            Trust::Admin,
            true,
        );
        check("agent:default:http-bob-1234abcd", "bob", Trust::User, true);
    }

    #[test]
    fn trust_orders_user_below_admin() {
        assert!(Trust::User < Trust::Admin);
        assert_eq!(Trust::User.min(Trust::Admin), Trust::User);
    }
}
