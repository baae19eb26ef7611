//! Model listings: `GET <base>/models` of the Anthropic and the OpenAI-compatible APIs, both
//! answering `{"data": [{"id": …}, …]}` (Anthropic adds `display_name`), read into
//! [`ModelInfo`]s in the order given.

use goclaw_core::llm::{ModelInfo, ProviderError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// The models of a listing body; entries without an id are an error of the provider.
pub(crate) fn parse(body: &str) -> Result<Vec<ModelInfo>, ProviderError> {
    let listing: Listing = serde_json::from_str(body)
        .map_err(|error| ProviderError::Protocol(format!("model listing: {error}")))?;
    Ok(listing
        .data
        .into_iter()
        .filter(|entry| !entry.id.trim().is_empty())
        .map(|entry| ModelInfo {
            name: entry.display_name.or(entry.name).filter(|n| !n.is_empty()),
            id: entry.id,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wire_formats_are_read() {
        let anthropic = r#"{"data":[{"id":"claude-x","display_name":"Claude X","type":"model"}],"has_more":false}"#;
        assert_eq!(
            parse(anthropic).ok(),
            Some(vec![ModelInfo {
                id: "claude-x".into(),
                name: Some("Claude X".into())
            }])
        );
        let openai = r#"{"object":"list","data":[{"id":"gpt-y","object":"model","owned_by":"o"},{"id":""}]}"#;
        assert_eq!(
            parse(openai).ok(),
            Some(vec![ModelInfo {
                id: "gpt-y".into(),
                name: None
            }])
        );
        assert!(parse("<html>").is_err());
    }
}
