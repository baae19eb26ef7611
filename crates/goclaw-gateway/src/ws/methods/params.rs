//! Parsing method params into typed structs, and the session-key and agent-key rules they share.

use goclaw_core::{AgentKey, SessionKey};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ws::frames::ErrorShape;

/// Decodes `params` (absent = `{}`) into `T`, or an `INVALID_REQUEST` naming the problem.
pub fn parse<T: DeserializeOwned>(params: Value) -> Result<T, ErrorShape> {
    let params = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params
    };
    serde_json::from_value(params).map_err(|e| ErrorShape::invalid(format!("invalid params: {e}")))
}

/// Parses a session key param.
pub fn session_key(raw: &str) -> Result<SessionKey, ErrorShape> {
    SessionKey::parse(raw).map_err(|e| ErrorShape::invalid(e.to_string()))
}

/// Parses an agent key param.
pub fn agent_key(raw: &str) -> Result<AgentKey, ErrorShape> {
    AgentKey::parse(raw).map_err(|e| ErrorShape::invalid(e.to_string()))
}

/// The agent a session key names (`agent:{key}:…`), if it follows that shape.
pub fn agent_of_session(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("agent:")?;
    let agent = rest.split(':').next()?;
    (!agent.is_empty()).then_some(agent)
}

/// Resolves the agent of a chat call: explicit `agentId`, else the session key's agent, else
/// `default`.
pub fn resolve_agent(
    agent_id: Option<&str>,
    session_key: Option<&str>,
) -> Result<AgentKey, ErrorShape> {
    let raw = agent_id
        .filter(|a| !a.is_empty())
        .or_else(|| session_key.and_then(agent_of_session))
        .unwrap_or("default");
    agent_key(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(agent: Option<&str>, session: Option<&str>, expected: &str) {
        assert_eq!(
            resolve_agent(agent, session)
                .map(|k| k.to_string())
                .ok()
                .as_deref(),
            Some(expected),
            "agent={agent:?} session={session:?}"
        );
    }

    #[test]
    fn agent_resolution() {
        check(None, None, "default");
        check(Some("coder"), None, "coder");
        check(Some(""), Some("agent:writer:ws:direct:1"), "writer");
        check(None, Some("agent:writer:ws:direct:1"), "writer");
        check(None, Some("plain-key"), "default");
        check(Some("coder"), Some("agent:writer:x"), "coder");
        assert!(resolve_agent(Some("Bad Key"), None).is_err());
    }
}
