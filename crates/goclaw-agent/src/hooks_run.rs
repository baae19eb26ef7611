//! Where a run fires its hooks (GoClaw's pipeline stages): `session_start` (not waited for)
//! and `user_prompt_submit` (a block ends the run failed, with the hook's reason) before the
//! first model call; `pre_tool_use` before each tool call (a block answers the model a tool
//! error naming the reason, and the tool does not run) and `post_tool_use` after it; `stop`
//! when the run has answered. Nothing fires when no hook engine is configured.

use goclaw_core::{Agent, HookEvent, ToolCall, ToolOutput};
use serde_json::Value;

use crate::hooks::{HookEngine, HookInput};
use crate::run::RunPlan;
use crate::runtime::{Runtime, Services};
use crate::subagents::is_subagent_session;

impl Runtime {
    /// The hook engine, when hooks are configured.
    pub fn hooks(&self) -> Option<&HookEngine> {
        self.inner.services.hooks.as_ref()
    }
}

/// What every event of `plan`'s run tells the hooks; `detail` tells events apart.
fn input(plan: &RunPlan, agent: &Agent, event: HookEvent, detail: &str) -> HookInput {
    HookInput {
        event_id: format!("{}:{}:{detail}", plan.run_id, event.as_str()),
        session_id: plan.session.key.to_string(),
        tenant_id: plan.session.tenant,
        agent_id: agent.id.as_uuid(),
        // A subagent's run knows its task's depth; any other run in a subagent session is
        // at least one level down.
        depth: plan
            .overrides
            .depth
            .max(u32::from(is_subagent_session(&plan.session.key))),
        ..Default::default()
    }
}

/// Before the first model call: `session_start` on a session's first run, then
/// `user_prompt_submit`. `Some(reason)` when a hook blocked the prompt.
pub(crate) async fn before_run(
    services: &Services,
    plan: &RunPlan,
    agent: &Agent,
    first_run: bool,
) -> Option<String> {
    let engine = services.hooks.as_ref()?;
    if first_run {
        let start = input(plan, agent, HookEvent::SessionStart, "");
        engine.fire(HookEvent::SessionStart, start).await;
    }
    let mut prompt = input(plan, agent, HookEvent::UserPromptSubmit, "");
    prompt.raw_input = plan.text.clone();
    let fired = engine.fire(HookEvent::UserPromptSubmit, prompt).await;
    fired
        .is_block()
        .then(|| format!("blocked by hook: {}", fired.reason))
}

/// Before a tool call: the tool error the model gets when a hook blocks it.
pub(crate) async fn before_tool(
    services: &Services,
    plan: &RunPlan,
    agent: &Agent,
    call: &ToolCall,
) -> Option<ToolOutput> {
    let engine = services.hooks.as_ref()?;
    let mut event = input(plan, agent, HookEvent::PreToolUse, &call.id);
    event.tool_name = call.name.clone();
    event.tool_input = call.arguments.clone();
    let fired = engine.fire(HookEvent::PreToolUse, event).await;
    fired
        .is_block()
        .then(|| ToolOutput::error(format!("Hook blocked this tool call: {}", fired.reason)))
}

/// After a tool call (not waited for).
pub(crate) async fn after_tool(
    services: &Services,
    plan: &RunPlan,
    agent: &Agent,
    call: &ToolCall,
) {
    let Some(engine) = services.hooks.as_ref() else {
        return;
    };
    let mut event = input(plan, agent, HookEvent::PostToolUse, &call.id);
    event.tool_name = call.name.clone();
    event.tool_input = call.arguments.clone();
    engine.fire(HookEvent::PostToolUse, event).await;
}

/// When the run has answered (not waited for).
pub(crate) async fn stopped(services: &Services, plan: &RunPlan, agent: &Agent) {
    if let Some(engine) = services.hooks.as_ref() {
        let mut event = input(plan, agent, HookEvent::Stop, "");
        event.tool_input = Value::Null;
        engine.fire(HookEvent::Stop, event).await;
    }
}
