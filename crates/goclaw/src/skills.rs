//! Skills wired into the gateway: one catalog over the uploaded skills (under
//! `skills.storage_dir`) and the skill directories of the environment, giving agents
//! `skill_search` and `use_skill` (alias `Skill`), the runtime its slash commands
//! (`skills.slash_commands`), and the gateway its `/v1/skills` routes and `skills.*` methods.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_agent::{SkillCommand, SkillCommands, ToolRegistry};
use goclaw_config::{LoadedConfig, SlashCommandsConfig};
use goclaw_core::{Agent, Store, TenantId};
use goclaw_tools::skills::{SkillCatalog, skill_tools};

/// The catalog of every skill source `loaded` names.
pub(crate) fn catalog(loaded: &LoadedConfig, store: &Arc<dyn Store>) -> SkillCatalog {
    SkillCatalog::new(
        store.clone(),
        loaded.config.skills_storage_dir(),
        &loaded.runtime.skill_dirs,
        &loaded.config.agents,
    )
}

/// Registers the skill tools and returns the slash commands the runtime reads.
pub(crate) fn register(
    tools: &mut ToolRegistry,
    loaded: &LoadedConfig,
    store: &Arc<dyn Store>,
    embedder: goclaw_memory::embed::EmbedderSlot,
) -> Arc<dyn SkillCommands> {
    let catalog = catalog(loaded, store);
    let vectors = goclaw_tools::skills::SkillVectors::new(embedder);
    for tool in skill_tools(catalog.clone(), Some(vectors)) {
        tools.register(tool);
    }
    for (alias, tool) in goclaw_tools::policy::ALIASES {
        if *tool == "use_skill" {
            tools.register_alias(alias, tool);
        }
    }
    Arc::new(SlashSkills {
        catalog,
        config: loaded.config.skills.slash_commands.clone(),
    })
}

/// The gateway's side: routes and methods over the same sources.
pub(crate) fn gateway(
    loaded: &LoadedConfig,
    store: &Arc<dyn Store>,
) -> goclaw_gateway::skills::Skills {
    goclaw_gateway::skills::Skills::new(
        catalog(loaded, store),
        loaded.config.skills.max_upload_size_mb,
    )
}

/// Slash commands over the skills the agent may use for the sender.
struct SlashSkills {
    catalog: SkillCatalog,
    config: SlashCommandsConfig,
}

#[async_trait]
impl SkillCommands for SlashSkills {
    async fn resolve(
        &self,
        tenant: TenantId,
        agent: &Agent,
        user_id: &str,
        message: &str,
    ) -> Option<SkillCommand> {
        let prefix = if self.config.prefix.is_empty() {
            "/"
        } else {
            &self.config.prefix
        };
        if !self.config.enabled || !message.trim_start().starts_with(prefix) {
            return None;
        }
        let skills = match self
            .catalog
            .available(tenant, agent.agent_key.as_str(), user_id)
            .await
        {
            Ok(skills) => skills,
            Err(error) => {
                tracing::warn!(%error, agent = %agent.agent_key, "skill slash command: skills unavailable");
                return None;
            }
        };
        let command = goclaw_tools::skills::slash::resolve(&skills, message, &self.config)?;
        if let goclaw_tools::skills::SlashCommand::Activate { skill, .. } = &command {
            tracing::info!(skill = %skill.slug, agent = %agent.agent_key, "skill.activated");
        }
        Some(SkillCommand {
            system: command.system_section(),
            message: command.message(),
        })
    }
}
