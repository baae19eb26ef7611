//! The system prompt of a run, in two parts: a stable, cacheable part (identity, tools,
//! workspace, and the context files that rarely change: AGENTS.md, SOUL.md, TOOLS.md,
//! IDENTITY.md, ...) and a dynamic part that changes every turn or per user (the current time,
//! USER.md and the remaining files). Keeping the stable part byte-identical across turns is
//! what lets a provider's prompt cache hit.

use std::path::Path;

use chrono::{DateTime, Utc};
use goclaw_core::{Agent, ContextFile, SystemPart};

use crate::truncate::budget_files;

/// GoClaw's load order of context files; files not listed follow in name order.
pub const CONTEXT_FILE_ORDER: [&str; 8] = [
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "USER.md",
    "BOOTSTRAP.md",
    "CAPABILITIES.md",
    "MEMORY.md",
];

/// Context files that belong to the cacheable part of the prompt.
const STABLE_FILES: [&str; 7] = [
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "CAPABILITIES.md",
    "AGENTS_CORE.md",
    "AGENTS_TASK.md",
];

/// What the system prompt is made of.
#[derive(Debug, Clone)]
pub(crate) struct PromptInput<'a> {
    pub agent: &'a Agent,
    pub workspace: &'a Path,
    /// Tool names, sorted.
    pub tool_names: &'a [String],
    pub files: &'a [ContextFile],
    pub now: DateTime<Utc>,
    pub max_chars_per_file: usize,
    pub max_chars_total: usize,
}

/// The system prompt: the stable part (cacheable) then the dynamic part.
pub(crate) fn build_system_prompt(input: &PromptInput<'_>) -> Vec<SystemPart> {
    let files = budget_files(
        &ordered_files(input.files),
        input.max_chars_per_file,
        input.max_chars_total,
    );
    let (stable_files, dynamic_files): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(name, _)| STABLE_FILES.contains(&name.as_str()));

    let agent = input.agent;
    let name = if agent.display_name.trim().is_empty() {
        agent.agent_key.as_str()
    } else {
        agent.display_name.trim()
    };
    let mut stable = format!(
        "You are {name} (agent `{}`), an AI assistant running in the goclaw gateway.\n",
        agent.agent_key
    );
    if !input.tool_names.is_empty() {
        stable.push_str(&format!(
            "\n## Tools\nYou can call these tools: {}. Call a tool when it helps; do not \
             describe a call instead of making it.\n",
            input.tool_names.join(", ")
        ));
    }
    stable.push_str(&format!(
        "\n## Workspace\nYour workspace directory is {}.\n",
        input.workspace.display()
    ));
    stable.push_str(
        "\n## Replying\nIf a message needs no reply at all, answer with exactly NO_REPLY.\n",
    );
    push_files(&mut stable, &stable_files);

    let mut dynamic = format!(
        "## Current time\n{} ({})\n",
        input.now.format("%Y-%m-%d %H:%M:%S UTC"),
        input.now.format("%A")
    );
    push_files(&mut dynamic, &dynamic_files);

    vec![
        SystemPart {
            text: stable,
            cacheable: true,
        },
        SystemPart {
            text: dynamic,
            cacheable: false,
        },
    ]
}

/// `(name, content)` of the files in load order.
pub(crate) fn ordered_files(files: &[ContextFile]) -> Vec<(String, String)> {
    let rank = |name: &str| {
        CONTEXT_FILE_ORDER
            .iter()
            .position(|known| *known == name)
            .unwrap_or(CONTEXT_FILE_ORDER.len())
    };
    let mut sorted: Vec<&ContextFile> = files.iter().collect();
    sorted.sort_by(|a, b| {
        rank(&a.file_name)
            .cmp(&rank(&b.file_name))
            .then_with(|| a.file_name.cmp(&b.file_name))
    });
    sorted
        .into_iter()
        .map(|f| (f.file_name.clone(), f.content.clone()))
        .collect()
}

fn push_files(out: &mut String, files: &[(String, String)]) {
    for (name, content) in files {
        out.push_str(&format!("\n## {name}\n{}\n", content.trim_end()));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use goclaw_core::AgentId;
    use serde_json::json;

    use super::*;
    use crate::settings::tests::agent;

    fn file(name: &str, content: &str) -> ContextFile {
        ContextFile {
            agent_id: AgentId::generate(),
            file_name: name.to_owned(),
            content: content.to_owned(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn files_follow_goclaw_load_order() {
        let files = [
            file("zz.md", "z"),
            file("USER.md", "u"),
            file("AGENTS.md", "a"),
            file("MEMORY.md", "m"),
            file("HEARTBEAT.md", "h"),
            file("SOUL.md", "s"),
        ];
        let names: Vec<String> = ordered_files(&files).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "AGENTS.md",
                "SOUL.md",
                "USER.md",
                "MEMORY.md",
                "HEARTBEAT.md",
                "zz.md"
            ]
        );
    }

    #[test]
    fn stable_and_dynamic_parts() {
        let agent = agent(0, 0, json!({}));
        let files = [
            file("USER.md", "The user is Ada."),
            file("AGENTS.md", "Be brief."),
            file("SOUL.md", "Kind."),
        ];
        let tools = vec!["datetime".to_owned()];
        let input = PromptInput {
            agent: &agent,
            workspace: Path::new("/ws/a"),
            tool_names: &tools,
            files: &files,
            now: Utc
                .with_ymd_and_hms(2025, 1, 6, 9, 5, 0)
                .single()
                .expect("valid instant"),
            max_chars_per_file: 20_000,
            max_chars_total: 24_000,
        };
        let parts = build_system_prompt(&input);
        assert_eq!(parts.len(), 2);
        let (stable, dynamic) = (&parts[0], &parts[1]);
        assert!(stable.cacheable && !dynamic.cacheable);
        assert!(
            stable.text.starts_with("You are A (agent `a`)"),
            "{}",
            stable.text
        );
        assert!(stable.text.contains("datetime"));
        assert!(stable.text.contains("/ws/a"));
        let agents_at = stable
            .text
            .find("## AGENTS.md\nBe brief.")
            .expect("AGENTS.md");
        let soul_at = stable.text.find("## SOUL.md\nKind.").expect("SOUL.md");
        assert!(agents_at < soul_at);
        assert!(!stable.text.contains("Ada"));
        assert!(
            !stable.text.contains("2025"),
            "time is not in the cached part"
        );
        assert!(dynamic.text.contains("2025-01-06 09:05:00 UTC (Monday)"));
        assert!(dynamic.text.contains("## USER.md\nThe user is Ada."));
        // Same inputs at another time: the stable part is byte-identical.
        let later = PromptInput {
            now: input.now + chrono::Duration::hours(3),
            ..input.clone()
        };
        assert_eq!(build_system_prompt(&later)[0], parts[0]);
    }
}
