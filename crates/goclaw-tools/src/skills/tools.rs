//! `skill_search` (GoClaw's parameters: `query`, `max_results` 5) and `use_skill` (`name`,
//! optional `params`; alias `Skill`). Both see only the skills the calling agent may use for
//! the calling user in the caller's tenant, never chosen by arguments. Search is BM25 over
//! name, description and instructions, joined by similarity of meaning when memory has an
//! embedding provider ([`super::vectors`]); using a skill returns its instructions and is
//! logged as `skill.activated`.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};

use super::catalog::SkillCatalog;
use super::search::rank;
use super::vectors::{SkillVectors, hybrid};

const DEFAULT_RESULTS: usize = 5;
const MAX_RESULTS: usize = 50;

/// `skill_search` (by meaning too, with `vectors`) and `use_skill` over `catalog`.
pub fn skill_tools(catalog: SkillCatalog, vectors: Option<SkillVectors>) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(SkillSearch {
            catalog: catalog.clone(),
            vectors,
        }),
        Arc::new(UseSkill { catalog }),
    ]
}

struct SkillSearch {
    catalog: SkillCatalog,
    vectors: Option<SkillVectors>,
}

struct UseSkill {
    catalog: SkillCatalog,
}

#[async_trait]
impl Tool for SkillSearch {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "skill_search".to_owned(),
            description: "Search for available skills by keyword. Returns matching skills with \
                          name, description, and SKILL.md location."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "Search keywords to find relevant skills (use English keywords)"
                    },
                    "max_results": {
                        "type": "integer",
                        "description": "Maximum number of results to return (default: 5)"
                    }
                },
                "required": ["query"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(query) = arguments
            .get("query")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|q| !q.is_empty())
        else {
            return ToolOutput::error("query parameter is required");
        };
        let max = arguments
            .get("max_results")
            .and_then(Value::as_f64)
            .filter(|n| *n >= 1.0)
            .map_or(DEFAULT_RESULTS, |n| (n as usize).min(MAX_RESULTS));
        let entries = match self
            .catalog
            .available(ctx.tenant_id, &ctx.agent_key, &ctx.user_id)
            .await
        {
            Ok(entries) => entries,
            Err(error) => return ToolOutput::error(format!("skill search failed: {error}")),
        };
        let ranked = match &self.vectors {
            None => rank(&entries, query, max),
            Some(vectors) => match vectors.similarities(&entries, query).await {
                Some(similarity) => hybrid(&rank(&entries, query, entries.len()), &similarity, max),
                None => rank(&entries, query, max),
            },
        };
        tracing::info!(query, results = ranked.len(), "skill_search executed");
        let Some((best, _)) = ranked.first() else {
            return ToolOutput::ok(format!("No skills found matching: {query}"));
        };
        let results: Vec<Value> = ranked
            .iter()
            .map(|(i, score)| {
                let entry = &entries[*i];
                json!({
                    "name": entry.name,
                    "slug": entry.slug,
                    "description": entry.description,
                    "location": entry.location.to_string_lossy(),
                    "source": entry.source,
                    "score": (score * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        let body = json!({ "results": results, "count": results.len() });
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        ToolOutput::ok(format!(
            "{text}\n\nACTION REQUIRED: Call use_skill with name \"{}\" to load the skill \
             instructions, then follow them.",
            entries[*best].slug
        ))
    }
}

#[async_trait]
impl Tool for UseSkill {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "use_skill".to_owned(),
            description: "Activate a skill and return its instructions.".to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string",
                        "description": "Skill name or slug to activate"
                    },
                    "params": {
                        "type": "object",
                        "description": "Optional skill-specific parameters"
                    }
                },
                "required": ["name"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(name) = arguments
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
        else {
            return ToolOutput::error("name parameter is required");
        };
        let found = self
            .catalog
            .find(ctx.tenant_id, &ctx.agent_key, &ctx.user_id, name)
            .await;
        let skill = match found {
            Ok(Some(skill)) => skill,
            Ok(None) => {
                return ToolOutput::error(format!(
                    "skill {name:?} not found. Use skill_search to discover available skills."
                ));
            }
            Err(error) => return ToolOutput::error(format!("skill lookup failed: {error}")),
        };
        tracing::info!(
            skill = %skill.slug,
            source = skill.source,
            agent = %ctx.agent_key,
            run_id = %ctx.run_id,
            "skill.activated"
        );
        ToolOutput::ok(format!(
            "Skill {:?} activated. Follow these instructions:\n\n{}",
            skill.slug,
            skill.instructions()
        ))
    }
}
