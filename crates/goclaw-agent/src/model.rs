//! Which model answers a run, and the one place a model is called: the provider lookup the
//! runtime is given, the ordered candidates of an agent (its provider and model, then the
//! fallbacks of `other_config.model_fallback`), and [`call_model`], which retries and walks
//! them through `goclaw_providers::chat_with_fallback`.

use std::collections::HashMap;
use std::sync::Arc;

use goclaw_config::AgentDefaults;
use goclaw_core::{Agent, ChatRequest, ChatResponse, DeltaSink, Provider, ProviderError, Session};
use goclaw_providers::{Candidate, ProviderRegistry, RetryPolicy, chat_with_fallback};

use crate::error::RuntimeError;

/// Finds the provider client configured under a name.
pub trait ProviderLookup: Send + Sync {
    fn get(&self, name: &str) -> Option<Arc<dyn Provider>>;
}

impl ProviderLookup for HashMap<String, Arc<dyn Provider>> {
    fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        HashMap::get(self, name).cloned()
    }
}

impl ProviderLookup for ProviderRegistry {
    fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        ProviderRegistry::get(self, name)
    }
}

/// One provider/model pair to try.
#[derive(Clone)]
pub struct ModelCandidate {
    pub provider_name: String,
    pub provider: Arc<dyn Provider>,
    pub model: String,
}

impl std::fmt::Debug for ModelCandidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.provider_name, self.model)
    }
}

/// The candidates for a run of `agent` in `session`: the primary (the agent's provider and
/// model, else the defaults; a session model overrides the model), then the enabled fallbacks.
/// An unconfigured primary provider is an error; an unconfigured fallback is skipped.
pub fn resolve_candidates(
    agent: &Agent,
    session: Option<&Session>,
    defaults: &AgentDefaults,
    providers: &dyn ProviderLookup,
) -> Result<Vec<ModelCandidate>, RuntimeError> {
    let (provider_name, model) = primary(agent, session, defaults);
    let provider = providers
        .get(provider_name)
        .ok_or_else(|| RuntimeError::provider_not_configured(provider_name))?;
    let mut candidates = vec![ModelCandidate {
        provider_name: provider_name.to_owned(),
        provider,
        model: model.to_owned(),
    }];
    for (name, model) in fallbacks(agent) {
        match providers.get(&name) {
            Some(provider) => candidates.push(ModelCandidate {
                provider_name: name,
                provider,
                model,
            }),
            None => tracing::warn!(
                agent = %agent.agent_key,
                provider = %name,
                "fallback provider is not configured; skipped"
            ),
        }
    }
    Ok(candidates)
}

/// The provider and model a run of `agent` in `session` calls first: the agent's, else the
/// defaults; a session model overrides the model.
pub fn primary<'a>(
    agent: &'a Agent,
    session: Option<&'a Session>,
    defaults: &'a AgentDefaults,
) -> (&'a str, &'a str) {
    let provider = non_empty(&agent.provider).unwrap_or(&defaults.provider);
    let model = session
        .and_then(|s| non_empty(&s.model))
        .or_else(|| non_empty(&agent.model))
        .unwrap_or(&defaults.model);
    (provider, model)
}

/// `other_config.model_fallback.candidates` as (provider, model) pairs, unless the fallback
/// is disabled (`enabled: false`).
fn fallbacks(agent: &Agent) -> Vec<(String, String)> {
    let Some(config) = agent.other_config.get("model_fallback") else {
        return Vec::new();
    };
    if config.get("enabled").and_then(|v| v.as_bool()) == Some(false) {
        return Vec::new();
    }
    let Some(list) = config.get("candidates").and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            let provider = c.get("provider")?.as_str()?.trim();
            let model = c.get("model")?.as_str()?.trim();
            (!provider.is_empty() && !model.is_empty())
                .then(|| (provider.to_owned(), model.to_owned()))
        })
        .collect()
}

fn non_empty(s: &str) -> Option<&str> {
    let trimmed = s.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// Calls the model: the first candidate, retried under `policy`, then the next ones while a
/// failure is of a kind another provider may not share (rate limits, server errors, timeouts,
/// connection and credential errors) and nothing has streamed yet. Deltas stream into `sink`
/// as they arrive.
pub async fn call_model(
    candidates: &[ModelCandidate],
    request: &ChatRequest,
    sink: DeltaSink<'_>,
    policy: &RetryPolicy,
) -> Result<ChatResponse, ProviderError> {
    let candidates: Vec<Candidate> = candidates
        .iter()
        .map(|c| Candidate::new(c.provider.clone(), c.model.clone()))
        .collect();
    chat_with_fallback(&candidates, request, sink, policy).await
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use goclaw_core::{ContentPart, StopReason, StreamDelta, Usage};
    use serde_json::json;

    use super::*;
    use crate::settings::tests::agent;

    /// Answers with its own name, or fails with `error`.
    struct Named(&'static str, Option<ProviderError>);

    #[async_trait]
    impl Provider for Named {
        fn name(&self) -> &str {
            self.0
        }

        async fn chat(
            &self,
            request: &ChatRequest,
            sink: DeltaSink<'_>,
        ) -> Result<ChatResponse, ProviderError> {
            if let Some(error) = &self.1 {
                return Err(error.clone());
            }
            let text = format!("{}:{}", self.0, request.model);
            sink(StreamDelta::Text(text.clone()));
            Ok(ChatResponse {
                parts: vec![ContentPart::Text { text }],
                stop_reason: StopReason::EndTurn,
                usage: Usage::default(),
                model: request.model.clone(),
            })
        }
    }

    fn lookup(
        entries: Vec<(&'static str, Option<ProviderError>)>,
    ) -> HashMap<String, Arc<dyn Provider>> {
        entries
            .into_iter()
            .map(|(name, error)| {
                (
                    name.to_owned(),
                    Arc::new(Named(name, error)) as Arc<dyn Provider>,
                )
            })
            .collect()
    }

    fn names(candidates: &[ModelCandidate]) -> Vec<String> {
        candidates.iter().map(|c| format!("{c:?}")).collect()
    }

    #[test]
    fn candidates() {
        let providers = lookup(vec![("anthropic", None), ("openai", None)]);
        let defaults = AgentDefaults::default();
        let plain = agent(0, 0, json!({}));
        let got = resolve_candidates(&plain, None, &defaults, &providers).expect("resolves");
        assert_eq!(names(&got), ["anthropic/claude-sonnet-4-5-20250929"]);

        let mut own = agent(
            0,
            0,
            json!({"model_fallback": {"candidates": [
                {"provider": "anthropic", "model": "claude-haiku"},
                {"provider": "missing", "model": "m"},
                {"provider": "openai"}
            ]}}),
        );
        own.provider = "openai".into();
        own.model = "gpt-4o".into();
        let got = resolve_candidates(&own, None, &defaults, &providers).expect("resolves");
        assert_eq!(names(&got), ["openai/gpt-4o", "anthropic/claude-haiku"]);

        own.other_config["model_fallback"]["enabled"] = json!(false);
        let got = resolve_candidates(&own, None, &defaults, &providers).expect("resolves");
        assert_eq!(names(&got), ["openai/gpt-4o"]);

        own.provider = "groq".into();
        let error = resolve_candidates(&own, None, &defaults, &providers).expect_err("unknown");
        assert!(error.to_string().contains("GOCLAW_GROQ_API_KEY"), "{error}");
    }

    fn request(model: &str) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            system: vec![],
            messages: vec![],
            tools: vec![],
            max_tokens: 10,
            temperature: None,
            thinking_budget: None,
        }
    }

    async fn answer(
        entries: Vec<(&'static str, Option<ProviderError>)>,
    ) -> Result<String, ProviderError> {
        let providers = lookup(entries.clone());
        let candidates: Vec<_> = entries
            .iter()
            .map(|(name, _)| ModelCandidate {
                provider_name: (*name).to_owned(),
                provider: providers[*name].clone(),
                model: format!("{name}-model"),
            })
            .collect();
        let mut streamed = Vec::new();
        let mut sink = |d: StreamDelta| streamed.push(d);
        let first = format!("{}-model", entries[0].0);
        call_model(
            &candidates,
            &request(&first),
            &mut sink,
            &RetryPolicy::no_retries(),
        )
        .await
        .map(|r| r.text())
    }

    #[tokio::test]
    async fn falls_back_on_transient_failures_only() {
        let server = ProviderError::Server {
            status: 503,
            retry_after: None,
            message: "down".into(),
        };
        let bad = ProviderError::BadRequest {
            status: 400,
            message: "bad".into(),
        };
        assert_eq!(
            answer(vec![("a", None), ("b", None)]).await,
            Ok("a:a-model".into())
        );
        assert_eq!(
            answer(vec![("a", Some(server.clone())), ("b", None)]).await,
            Ok("b:b-model".into())
        );
        assert_eq!(
            answer(vec![("a", Some(bad.clone())), ("b", None)]).await,
            Err(bad)
        );
        assert_eq!(answer(vec![("a", Some(server.clone()))]).await, Err(server));
    }
}
