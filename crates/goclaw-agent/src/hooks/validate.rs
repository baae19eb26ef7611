//! A hook config checked and completed before it is stored or tested (GoClaw's
//! `HookConfig.Validate`): a known event and scope, an `agent` scope naming agents, a handler
//! this gateway runs with the options it needs, a timeout within 10 s (0 → 5 s), `on_timeout`
//! `allow` or `block` (by default `block` for blocking events, else `allow`), a matcher that
//! compiles. An `http` hook's URL must be http(s), carry no credentials, and — unless
//! `hooks.allow_private_urls` — reach no private, loopback, link-local or metadata address:
//! the project's SSRF rules of `web_fetch`, applied again at every call to the address the
//! connection is then pinned to.

use goclaw_core::{
    DEFAULT_HOOK_SOURCE, DEFAULT_HOOK_TIMEOUT_MS, Decision, HandlerType, Hook, HookScope,
    MAX_HOOK_TIMEOUT_MS,
};
pub use goclaw_tools::web::hook_post::check_hook_url;
use regex::Regex;

/// Matchers longer than this are refused.
const MAX_MATCHER_CHARS: usize = 512;
/// `if_expr` longer than this is refused.
const MAX_IF_EXPR_CHARS: usize = 4096;

/// Compiles a tool-name matcher, bounded in size.
pub(crate) fn compile_matcher(matcher: &str) -> Result<Regex, String> {
    if matcher.chars().count() > MAX_MATCHER_CHARS {
        return Err(format!("longer than {MAX_MATCHER_CHARS} characters"));
    }
    regex::RegexBuilder::new(matcher)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Checks `hook` and fills in its defaults; `on_timeout_raw` is what the caller sent (empty
/// for the default). The error is a message for the caller.
pub async fn validate_hook(
    hook: &mut Hook,
    on_timeout_raw: &str,
    allow_private: bool,
) -> Result<(), String> {
    if hook.scope == HookScope::Agent && hook.agent_ids.is_empty() {
        return Err("hook: agent scope requires at least one agent_id".to_owned());
    }
    match hook.handler_type {
        HandlerType::Command => {
            let command = hook.config["command"].as_str().unwrap_or_default();
            if command.trim().is_empty() {
                return Err("hook: command handler requires config.command".to_owned());
            }
            let vars = &hook.config["allowed_env_vars"];
            if !vars.is_null()
                && !vars
                    .as_array()
                    .is_some_and(|a| a.iter().all(|v| v.is_string()))
            {
                return Err("hook: config.allowed_env_vars must be a list of names".to_owned());
            }
        }
        HandlerType::Http => {
            let url = hook.config["url"].as_str().unwrap_or_default();
            if url.is_empty() {
                return Err("hook: http handler requires config.url".to_owned());
            }
            check_hook_url(url, allow_private)
                .await
                .map_err(|reason| format!("hook: config.url refused: {reason}"))?;
            let headers = &hook.config["headers"];
            if !headers.is_null()
                && !headers
                    .as_object()
                    .is_some_and(|h| h.values().all(|v| v.is_string()))
            {
                return Err("hook: config.headers must map names to strings".to_owned());
            }
        }
        HandlerType::Prompt | HandlerType::Script => {
            return Err(format!(
                "hook: {} handler is not supported by this gateway (use command or http)",
                hook.handler_type.as_str()
            ));
        }
    }
    if hook.timeout_ms < 0 {
        return Err(format!(
            "hook: timeout_ms must be >= 0, got {}",
            hook.timeout_ms
        ));
    }
    if hook.timeout_ms > MAX_HOOK_TIMEOUT_MS {
        return Err(format!(
            "hook: timeout_ms {} exceeds max {MAX_HOOK_TIMEOUT_MS}",
            hook.timeout_ms
        ));
    }
    if hook.timeout_ms == 0 {
        hook.timeout_ms = DEFAULT_HOOK_TIMEOUT_MS;
    }
    hook.on_timeout = match on_timeout_raw {
        "" if hook.event.is_blocking() => Decision::Block,
        "" => Decision::Allow,
        "allow" => Decision::Allow,
        "block" => Decision::Block,
        other => return Err(format!("hook: on_timeout={other:?} not supported")),
    };
    if hook.source.is_empty() {
        hook.source = DEFAULT_HOOK_SOURCE.to_owned();
    }
    compile_matcher(&hook.matcher).map_err(|e| format!("hook: matcher invalid: {e}"))?;
    if hook.if_expr.chars().count() > MAX_IF_EXPR_CHARS {
        return Err(format!(
            "hook: if_expr longer than {MAX_IF_EXPR_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the corpus is a URL an `http` hook must never be created with (blank
    /// lines and `#` comments aside); removing the SSRF rule fails this test.
    #[tokio::test]
    async fn the_url_attack_corpus_is_refused() {
        let corpus = include_str!("../../tests/corpus/hook_url_attacks.txt");
        let mut cases = 0;
        for line in corpus.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            cases += 1;
            assert!(
                check_hook_url(line, false).await.is_err(),
                "{line} was allowed"
            );
        }
        assert!(cases >= 20, "the corpus lost its cases ({cases})");
        let (_, addr) = check_hook_url("http://127.0.0.1:9/hook", true)
            .await
            .expect("loopback is allowed when private URLs are");
        assert_eq!(addr.port(), 9);
        assert!(
            check_hook_url("http://93.184.215.14/hook", false)
                .await
                .is_ok()
        );
    }

    #[test]
    fn matchers_compile_within_bounds() {
        assert!(compile_matcher("^(exec|write_file)$").is_ok());
        assert!(compile_matcher("(").is_err());
        assert!(compile_matcher(&"a".repeat(MAX_MATCHER_CHARS + 1)).is_err());
    }
}
