//! The runtime's door to skill slash commands: when the message a run answers is a command
//! (`/haiku about rain`), [`SkillCommands`] turns it into a system-prompt section (the
//! skill's instructions, or suggestions for an unknown name) and the message the model
//! answers instead. The transcript keeps what the user typed; only this run's view changes.
//! Skills themselves live elsewhere; the runtime only knows this trait.

use async_trait::async_trait;
use goclaw_core::{Agent, ChatRole, ContentPart, SystemPart, TenantId};

use crate::run::RunPlan;
use crate::runtime::Services;

/// A message's command, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillCommand {
    /// Added to the run's system prompt.
    pub system: String,
    /// What the model reads in place of the command.
    pub message: String,
}

/// Reads skill slash commands.
#[async_trait]
pub trait SkillCommands: Send + Sync {
    /// The command `message` from `user` to `agent` is, if it is one.
    async fn resolve(
        &self,
        tenant: TenantId,
        agent: &Agent,
        user_id: &str,
        message: &str,
    ) -> Option<SkillCommand>;
}

/// Applies the command of a run answering one message: its section joins `system`, and the
/// message's text at the end of the last user message becomes the command's message.
pub(crate) async fn apply(
    services: &Services,
    plan: &RunPlan,
    agent: &Agent,
    system: &mut Vec<SystemPart>,
    messages: &mut [goclaw_core::ChatMessage],
) {
    let Some(commands) = services.skill_commands.as_ref() else {
        return;
    };
    if plan.seqs.len() != 1 {
        return; // several messages merged into one run: none of them is a command alone
    }
    let Some(command) = commands
        .resolve(plan.session.tenant, agent, &plan.user_id, &plan.text)
        .await
    else {
        return;
    };
    let last_user = messages
        .iter_mut()
        .rev()
        .find(|m| m.role == ChatRole::User)
        .and_then(|m| {
            m.parts.iter_mut().rev().find_map(|p| match p {
                ContentPart::Text { text } if text.ends_with(plan.text.as_str()) => Some(text),
                _ => None,
            })
        });
    let Some(text) = last_user else {
        return;
    };
    text.truncate(text.len() - plan.text.len());
    text.push_str(&command.message);
    system.push(SystemPart {
        text: command.system,
        cacheable: false,
    });
}
