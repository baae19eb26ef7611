//! The hook dispatcher: runs the hooks of an event of a run, in GoClaw's order and with its
//! rules. The hooks that may apply are read per event (the tenant's and the global ones, by
//! priority), then narrowed to the run's agent and, for tool events, to those whose `matcher`
//! finds the tool name. A blocking event (`user_prompt_submit`, `pre_tool_use`,
//! `subagent_start`) runs them one after another within a 10 s budget and stops at the first
//! block; a timeout decides the hook's `on_timeout`, and an error or a spent budget blocks
//! (fail-closed, as GoClaw). The other events run their hooks in the background. Every run of a
//! hook is recorded in `hook_executions`; `hooks.test` runs one without recording it. An `http`
//! hook's header values are stored sealed (`Hook::secrets`) and opened just before it runs;
//! one whose values cannot be opened (no key, or another key) is an error, never a call
//! without them.
//!
//! Runs nest (a subagent's run fires hooks of its own); an event deeper than
//! [`MAX_HOOK_DEPTH`] runs no hook (a blocking one is blocked), so hooks cannot loop forever.

mod breaker;
mod handlers;
mod validate;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use goclaw_core::{
    Decision, HOOK_ERROR_CHARS, Hook, HookEvent, HookExecution, HookStore, TenantId,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use handlers::HandlerOutcome;
pub use validate::{check_hook_url, validate_hook};

/// Events nested deeper than this fire no hook.
pub const MAX_HOOK_DEPTH: u32 = 3;
/// A blocking event's hooks together take at most this long.
pub const CHAIN_BUDGET: Duration = Duration::from_secs(10);
/// A handler's stdout, stderr or response body is read up to this many bytes.
pub const MAX_HOOK_OUTPUT_BYTES: usize = 64 * 1024;

/// Opens a value the secret box sealed; `None` when it cannot (no key, or another key).
pub type Opener = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the dispatcher is told about one event of a run.
#[derive(Debug, Clone)]
pub struct HookInput {
    pub event_id: String,
    /// The session key.
    pub session_id: String,
    pub tenant_id: TenantId,
    /// The id of the run's agent.
    pub agent_id: Uuid,
    pub tool_name: String,
    pub tool_input: Value,
    /// The user's message, for `user_prompt_submit`.
    pub raw_input: String,
    /// How deep the run is nested (subagents).
    pub depth: u32,
}

impl Default for HookInput {
    /// An event of no tenant (the nil id) and no agent; callers name both.
    fn default() -> Self {
        HookInput {
            event_id: String::new(),
            session_id: String::new(),
            tenant_id: TenantId::from_uuid(Uuid::nil()),
            agent_id: Uuid::nil(),
            tool_name: String::new(),
            tool_input: Value::Null,
            raw_input: String::new(),
            depth: 0,
        }
    }
}

impl HookInput {
    /// The event as handlers receive it: GoClaw's `hooks.Event`, whose fields have no JSON
    /// tags and so keep their Go names.
    pub fn payload(&self, event: HookEvent) -> Value {
        json!({
            "EventID": self.event_id,
            "SessionID": self.session_id,
            "TenantID": self.tenant_id,
            "AgentID": self.agent_id,
            "ToolName": self.tool_name,
            "ToolInput": self.tool_input,
            "RawInput": self.raw_input,
            "Depth": self.depth,
            "HookEvent": event.as_str(),
        })
    }

    fn input_hash(&self) -> String {
        let canonical = json!({ "tool_name": self.tool_name, "tool_input": self.tool_input });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// What the hooks of an event decided: `allow` or `block`, and why a block happened.
#[derive(Debug, Clone, PartialEq)]
pub struct FireResult {
    pub decision: Decision,
    pub reason: String,
}

impl FireResult {
    fn allow() -> Self {
        FireResult {
            decision: Decision::Allow,
            reason: String::new(),
        }
    }

    fn block(reason: impl Into<String>) -> Self {
        FireResult {
            decision: Decision::Block,
            reason: reason.into(),
        }
    }

    pub fn is_block(&self) -> bool {
        self.decision == Decision::Block
    }
}

/// Runs hooks. Cheap to clone.
#[derive(Clone)]
pub struct HookEngine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn goclaw_core::Store>,
    /// Lets `http` hooks reach private and loopback addresses (`hooks.allow_private_urls`).
    allow_private: bool,
    /// Opens the sealed header values of `http` hooks.
    open: Opener,
    /// Switches off hooks that keep blocking or timing out.
    breaker: breaker::Breaker,
}

impl HookEngine {
    pub fn new(store: Arc<dyn goclaw_core::Store>, allow_private: bool, open: Opener) -> Self {
        HookEngine {
            inner: Arc::new(Inner {
                store,
                allow_private,
                open,
                breaker: breaker::Breaker::default(),
            }),
        }
    }

    /// Whether `http` hooks may reach private and loopback addresses.
    pub fn allows_private_urls(&self) -> bool {
        self.inner.allow_private
    }

    fn store(&self) -> &dyn HookStore {
        self.inner.store.hooks()
    }

    /// Runs the hooks of `event`; for a non-blocking event it returns at once with `allow`.
    pub async fn fire(&self, event: HookEvent, input: HookInput) -> FireResult {
        if input.depth > MAX_HOOK_DEPTH {
            tracing::warn!(
                event = event.as_str(),
                session_key = %input.session_id,
                depth = input.depth,
                "security.hook.loop_depth_exceeded"
            );
            return if event.is_blocking() {
                FireResult::block("hook loop depth exceeded")
            } else {
                FireResult::allow()
            };
        }
        let hooks = match self.store().for_event(input.tenant_id, event).await {
            Ok(hooks) => hooks,
            Err(error) => {
                tracing::warn!(event = event.as_str(), error = %error, "security.hook.resolve_error");
                return if event.is_blocking() {
                    FireResult::block("hooks could not be read")
                } else {
                    FireResult::allow()
                };
            }
        };
        let chain: Vec<Hook> = hooks
            .into_iter()
            .filter(|h| h.applies_to(input.tenant_id, input.agent_id))
            .filter(|h| matches(&h.matcher, &input.tool_name))
            .collect();
        if chain.is_empty() {
            return FireResult::allow();
        }
        if !event.is_blocking() {
            for hook in chain {
                let engine = self.clone();
                let input = input.clone();
                tokio::spawn(async move {
                    let outcome = engine.run(&hook, event, &input, hook_timeout(&hook)).await;
                    engine.record(&hook, event, &input, &outcome).await;
                });
            }
            return FireResult::allow();
        }
        self.run_chain(event, &input, &chain).await
    }

    async fn run_chain(&self, event: HookEvent, input: &HookInput, chain: &[Hook]) -> FireResult {
        let deadline = Instant::now() + CHAIN_BUDGET;
        for hook in chain {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return FireResult::block("hook time budget exhausted");
            }
            let outcome = self
                .run(hook, event, input, hook_timeout(hook).min(left))
                .await;
            self.record(hook, event, input, &outcome).await;
            if matches!(outcome.decision, Decision::Block | Decision::Timeout) {
                self.count_trip(hook).await;
            }
            let label = label(hook);
            match outcome.decision {
                Decision::Allow => {}
                Decision::Block if outcome.reason.is_empty() => {
                    return FireResult::block(format!("blocked by hook {label}"));
                }
                Decision::Block => return FireResult::block(outcome.reason),
                Decision::Timeout if hook.on_timeout == Decision::Block => {
                    return FireResult::block(format!("hook {label} timed out"));
                }
                Decision::Timeout => {}
                Decision::Error => return FireResult::block(format!("hook {label} failed")),
            }
        }
        FireResult::allow()
    }

    /// Counts a block or timeout of `hook`; the fifth within a minute switches it off.
    async fn count_trip(&self, hook: &Hook) {
        if !self.inner.breaker.trip(hook.id, Instant::now()) {
            return;
        }
        tracing::warn!(
            hook_id = %hook.id,
            tenant = %hook.tenant_id,
            trips = breaker::TRIPS,
            "security.hook.circuit_breaker"
        );
        if let Err(error) = self
            .store()
            .set_enabled(hook.tenant_id, hook.id, false)
            .await
        {
            tracing::error!(hook_id = %hook.id, error = %error, "hook.circuit_breaker.disable_failed");
        }
    }

    /// Runs one hook for `hooks.test`: nothing is recorded.
    pub async fn test(&self, hook: &Hook, input: &HookInput) -> HandlerOutcome {
        self.run(hook, hook.event, input, hook_timeout(hook)).await
    }

    async fn run(
        &self,
        hook: &Hook,
        event: HookEvent,
        input: &HookInput,
        timeout: Duration,
    ) -> HandlerOutcome {
        let started = Instant::now();
        let hook = match self.unsealed(hook) {
            Ok(hook) => hook,
            Err(outcome) => return outcome,
        };
        let payload = input.payload(event);
        let run = handlers::run_handler(&hook, &payload, self.inner.allow_private);
        let mut outcome = match tokio::time::timeout(timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => HandlerOutcome::failed(
                Decision::Timeout,
                format!("hook timed out after {} ms", timeout.as_millis()),
            ),
        };
        outcome.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        outcome
    }

    /// `hook` with its sealed header values opened into its config, or the error outcome
    /// when they cannot be opened.
    fn unsealed<'h>(&self, hook: &'h Hook) -> Result<Cow<'h, Hook>, HandlerOutcome> {
        if hook.secrets.is_empty() {
            return Ok(Cow::Borrowed(hook));
        }
        let headers = (self.inner.open)(&hook.secrets)
            .and_then(|opened| serde_json::from_str::<Value>(&opened).ok())
            .filter(Value::is_object);
        let Some(headers) = headers else {
            tracing::warn!(hook_id = %hook.id, "security.hook.secrets_unreadable");
            return Err(HandlerOutcome::failed(
                Decision::Error,
                "hook: the stored header values cannot be decrypted (check GOCLAW_ENCRYPTION_KEY)",
            ));
        };
        let mut opened = hook.clone();
        if let Some(config) = opened.config.as_object_mut() {
            config.insert("headers".to_owned(), headers);
        }
        Ok(Cow::Owned(opened))
    }

    async fn record(
        &self,
        hook: &Hook,
        event: HookEvent,
        input: &HookInput,
        outcome: &HandlerOutcome,
    ) {
        let mut metadata = json!({});
        if !outcome.reason.is_empty() {
            metadata["reason"] = json!(clip(&outcome.reason, HOOK_ERROR_CHARS));
        }
        if outcome.status_code != 0 {
            metadata["status_code"] = json!(outcome.status_code);
        }
        let execution = HookExecution {
            id: Uuid::now_v7(),
            tenant_id: input.tenant_id,
            hook_id: Some(hook.id),
            session_id: input.session_id.clone(),
            event,
            input_hash: input.input_hash(),
            decision: outcome.decision,
            duration_ms: outcome.duration_ms,
            retry: 0,
            dedup_key: format!("{}:{}", hook.id, input.event_id),
            error: clip(&outcome.error, HOOK_ERROR_CHARS),
            metadata,
            created_at: Utc::now(),
        };
        if let Err(error) = self.store().record_execution(&execution).await {
            tracing::warn!(hook_id = %hook.id, error = %error, "security.hook.audit_write_failed");
        }
    }
}

fn hook_timeout(hook: &Hook) -> Duration {
    let ms = if hook.timeout_ms > 0 {
        hook.timeout_ms.min(goclaw_core::MAX_HOOK_TIMEOUT_MS)
    } else {
        goclaw_core::DEFAULT_HOOK_TIMEOUT_MS
    };
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn label(hook: &Hook) -> String {
    if hook.name.is_empty() {
        hook.id.to_string()
    } else {
        format!("{:?}", hook.name)
    }
}

/// Whether a hook's `matcher` admits `tool_name` (an empty matcher admits every event; one
/// that is no valid expression admits none, as GoClaw).
fn matches(matcher: &str, tool_name: &str) -> bool {
    if matcher.is_empty() {
        return true;
    }
    validate::compile_matcher(matcher).is_ok_and(|re| re.is_match(tool_name))
}

/// At most `max` characters of `text`.
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
