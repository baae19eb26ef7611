//! Skill slash commands, as GoClaw reads them: `/slug rest` (or `/Skill Name rest`, or
//! `/use name rest`) runs the turn with that skill's instructions and `rest` as the message;
//! `/list-skills` and `/help name` ask about skills; an unknown `/name` with
//! `suggest_not_found` has the agent suggest up to three close names. A message whose first
//! word looks like a path (`/home/x`, `/etc/a.conf`) is no command.

use goclaw_config::SlashCommandsConfig;

use super::catalog::SkillEntry;

/// What a message's slash command asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SlashCommand {
    Activate {
        skill: SkillEntry,
        remaining: String,
    },
    List(Vec<SkillEntry>),
    Help(SkillEntry),
    Unknown {
        target: String,
        suggestions: Vec<SkillEntry>,
    },
}

/// The command `message` is among `skills`, if it is one.
pub fn resolve(
    skills: &[SkillEntry],
    message: &str,
    config: &SlashCommandsConfig,
) -> Option<SlashCommand> {
    let prefix = if config.prefix.is_empty() {
        "/"
    } else {
        config.prefix.as_str()
    };
    if !config.enabled {
        return None;
    }
    let after = message.trim().strip_prefix(prefix)?.trim();
    let (first, rest) = first_field(after);
    if first.is_empty() || first.contains(['/', '\\', '.']) {
        return None;
    }
    let first = first.split('@').next().unwrap_or(first);
    match first.to_lowercase().as_str() {
        "list-skills" => Some(SlashCommand::List(skills.to_vec())),
        "help" if !rest.is_empty() => match matching(skills, rest, config.partial_matching) {
            Some((skill, _)) => Some(SlashCommand::Help(skill.clone())),
            None => unknown(skills, rest, config),
        },
        "use" | "activate" if !rest.is_empty() => activate(skills, rest, config),
        "help" | "use" | "activate" => None,
        _ => activate(skills, &format!("{first} {rest}"), config),
    }
}

fn activate(
    skills: &[SkillEntry],
    raw: &str,
    config: &SlashCommandsConfig,
) -> Option<SlashCommand> {
    match matching(skills, raw, config.partial_matching) {
        Some((skill, remaining)) => Some(SlashCommand::Activate {
            skill: skill.clone(),
            remaining,
        }),
        None => unknown(skills, first_field(raw).0, config),
    }
}

fn unknown(
    skills: &[SkillEntry],
    target: &str,
    config: &SlashCommandsConfig,
) -> Option<SlashCommand> {
    if !config.suggest_not_found {
        return None;
    }
    let suggestions = similar(skills, target, 3);
    if suggestions.is_empty() {
        return None;
    }
    Some(SlashCommand::Unknown {
        target: target.to_owned(),
        suggestions,
    })
}

/// The leading word of `text` and the trimmed rest.
fn first_field(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    }
}

/// The skill `raw` starts with (its slug or name as whole leading words; with `partial`, a
/// prefix of one as the first word) and what follows; none when two skills match as well.
fn matching<'a>(
    skills: &'a [SkillEntry],
    raw: &str,
    partial: bool,
) -> Option<(&'a SkillEntry, String)> {
    let raw = raw.trim();
    let lower = raw.to_lowercase();
    let (target, target_rest) = first_field(raw);
    let target = target.to_lowercase();
    let mut found: Vec<(&SkillEntry, String, usize)> = Vec::new();
    for skill in skills {
        for value in [&skill.slug, &skill.name] {
            let value = value.trim().to_lowercase();
            if value.is_empty() {
                continue;
            }
            let score = value.chars().count();
            if lower == value {
                found.push((skill, String::new(), score));
            } else if lower.starts_with(&value)
                && lower[value.len()..].starts_with(char::is_whitespace)
            {
                let rest = raw.get(value.len()..).unwrap_or("").trim().to_owned();
                found.push((skill, rest, score));
            } else if partial && !target.is_empty() && value.starts_with(&target) {
                found.push((skill, target_rest.to_owned(), target.chars().count()));
            }
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.2));
    let mut best: Vec<(&SkillEntry, String, usize)> = Vec::new();
    for candidate in found {
        if !best.iter().any(|(s, _, _)| s.slug == candidate.0.slug) {
            best.push(candidate);
        }
    }
    match best.as_slice() {
        [] => None,
        [one, two, ..] if one.2 == two.2 => None,
        [one, ..] => Some((one.0, one.1.clone())),
    }
}

/// Up to `limit` skills whose slug or name is within three edits of `target` (or starts
/// with it), closest first.
fn similar(skills: &[SkillEntry], target: &str, limit: usize) -> Vec<SkillEntry> {
    let target = target.trim().to_lowercase();
    if target.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &SkillEntry)> = skills
        .iter()
        .map(|skill| (distance_to(&target, skill), skill))
        .filter(|(score, _)| *score <= 3)
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.slug.cmp(&b.1.slug)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, s)| s.clone())
        .collect()
}

fn distance_to(target: &str, skill: &SkillEntry) -> usize {
    let slug = skill.slug.to_lowercase();
    let name = skill.name.to_lowercase();
    if slug.starts_with(target) || name.contains(target) {
        return 0;
    }
    let n = target.chars().count();
    [slug, name]
        .iter()
        .filter(|v| !v.is_empty())
        .flat_map(|v| {
            let head: String = v.chars().take(n).collect();
            [levenshtein(target, v), levenshtein(target, &head)]
        })
        .min()
        .unwrap_or(usize::MAX)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current[j + 1] = (current[j] + 1)
                .min(previous[j + 1] + 1)
                .min(previous[j] + cost);
        }
        previous = current;
    }
    previous[b.len()]
}

impl SlashCommand {
    /// The system-prompt section the run gets.
    pub fn system_section(&self) -> String {
        let line = |s: &SkillEntry| format!("- `{}` - {}", s.slug, display_description(s));
        match self {
            SlashCommand::Activate { skill, .. } => format!(
                "## Explicit Skill Activation\n\nThe user explicitly requested skill `{}` ({}). \
                 Use this skill for the current request and treat the remaining user message as \
                 the skill input. Follow these instructions:\n\n{}",
                skill.slug,
                skill.name,
                skill.instructions()
            ),
            SlashCommand::List(all) if all.is_empty() => {
                "## Skill Slash Command\n\nNo skills are currently available.".to_owned()
            }
            SlashCommand::List(all) => {
                let mut lines = vec!["## Skill Slash Command".to_owned(), String::new()];
                lines.push("Available skills:".to_owned());
                let mut sorted: Vec<&SkillEntry> = all.iter().collect();
                sorted.sort_by(|a, b| a.slug.cmp(&b.slug));
                lines.extend(sorted.into_iter().map(line));
                lines.join("\n")
            }
            SlashCommand::Help(skill) => format!(
                "## Skill Slash Command\n\nSkill `{}` ({})\nDescription: {}\nExplain this skill \
                 and how to invoke it with the configured slash prefix.",
                skill.slug,
                skill.name,
                display_description(skill)
            ),
            SlashCommand::Unknown {
                target,
                suggestions,
            } => {
                let mut lines = vec![
                    "## Skill Slash Command".to_owned(),
                    String::new(),
                    format!(
                        "Requested skill `{target}` was not found. Suggest these available \
                         alternatives:"
                    ),
                ];
                lines.extend(suggestions.iter().map(line));
                lines.join("\n")
            }
        }
    }

    /// The message the model answers instead of the command.
    pub fn message(&self) -> String {
        match self {
            SlashCommand::Activate { remaining, .. } if !remaining.is_empty() => remaining.clone(),
            SlashCommand::Activate { .. } => {
                "Use the activated skill to help with the user's request.".to_owned()
            }
            SlashCommand::List(_) => {
                "List the available skills shown in the system instructions.".to_owned()
            }
            SlashCommand::Help(_) => {
                "Explain the requested skill and how it should be used.".to_owned()
            }
            SlashCommand::Unknown { .. } => "Explain that the requested skill was not found and \
                                             suggest available alternatives."
                .to_owned(),
        }
    }
}

fn display_description(skill: &SkillEntry) -> &str {
    match skill.description.trim() {
        "" => skill.name.as_str(),
        description => description,
    }
}

#[cfg(test)]
#[path = "slash_tests.rs"]
mod tests;
