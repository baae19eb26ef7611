//! Lets the `sessions_send` tool hand a message to another session through the runtime, so
//! the message is stored and admitted like any other (session queue, lane). The tools are
//! built before the runtime, so the runtime is bound once it exists.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use goclaw_agent::{ChatInput, Detail, Runtime};
use goclaw_core::{AgentKey, SessionKey, ToolContext};
use goclaw_tools::sessions::SessionMessenger;

/// A `SessionMessenger` submitting to the runtime it is bound to.
#[derive(Default)]
pub struct RuntimeMessenger {
    runtime: OnceLock<Runtime>,
}

impl RuntimeMessenger {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Binds the runtime; later calls are ignored.
    pub fn bind(&self, runtime: Runtime) {
        let _ = self.runtime.set(runtime);
    }
}

#[async_trait]
impl SessionMessenger for RuntimeMessenger {
    async fn send(
        &self,
        ctx: &ToolContext,
        target: &SessionKey,
        message: &str,
    ) -> Result<String, String> {
        let runtime = self
            .runtime
            .get()
            .ok_or_else(|| "the agent runtime is not ready".to_owned())?;
        let agent_key = AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?;
        let turn = runtime
            .start_turn(
                ChatInput {
                    media: Vec::new(),
                    tenant_id: ctx.tenant_id,
                    agent_key,
                    session_key: target.clone(),
                    user_id: ctx.user_id.clone(),
                    trust: ctx.trust,
                    channel: ctx.channel.clone(),
                    message: message.to_owned(),
                    idempotency_key: None,
                    from_channel: false,
                    overrides: Default::default(),
                },
                Detail::Outcome,
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("message queued in {target} as run {}", turn.run_id))
    }
}
