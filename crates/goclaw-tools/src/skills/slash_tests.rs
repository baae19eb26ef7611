//! Slash command cases, one line each: what a message resolves to among three skills.

use std::path::PathBuf;

use goclaw_config::SlashCommandsConfig;

use super::*;

fn entry(slug: &str, name: &str) -> SkillEntry {
    SkillEntry {
        id: None,
        slug: slug.to_owned(),
        name: name.to_owned(),
        description: format!("{name} things"),
        source: "global",
        location: PathBuf::from(slug),
        version: 1,
        tags: Vec::new(),
        content: format!("---\nname: {name}\n---\nDo {slug}."),
    }
}

fn skills() -> Vec<SkillEntry> {
    vec![
        entry("frontend-design", "Frontend Design"),
        entry("haiku", "Haiku"),
        entry("git-review", "Git Review"),
    ]
}

/// `expected`: `activate <slug> <rest>`, `list`, `help <slug>`, `unknown <s1,s2>`, or `none`.
fn check(partial: bool, suggest: bool, message: &str, expected: &str) {
    let config = SlashCommandsConfig {
        partial_matching: partial,
        suggest_not_found: suggest,
        ..SlashCommandsConfig::default()
    };
    let got = match resolve(&skills(), message, &config) {
        None => "none".to_owned(),
        Some(SlashCommand::Activate { skill, remaining }) => {
            format!("activate {} {remaining}", skill.slug)
                .trim()
                .to_owned()
        }
        Some(SlashCommand::List(all)) => format!("list {}", all.len()),
        Some(SlashCommand::Help(skill)) => format!("help {}", skill.slug),
        Some(SlashCommand::Unknown { suggestions, .. }) => {
            let slugs: Vec<&str> = suggestions.iter().map(|s| s.slug.as_str()).collect();
            format!("unknown {}", slugs.join(","))
        }
    };
    assert_eq!(
        got, expected,
        "{message:?} (partial {partial}, suggest {suggest})"
    );
}

#[test]
fn messages_resolve_as_goclaw_resolves_them() {
    check(
        false,
        true,
        "/haiku about spring",
        "activate haiku about spring",
    );
    check(false, true, "/haiku", "activate haiku");
    check(false, true, "  /HAIKU  rain ", "activate haiku rain");
    check(
        false,
        true,
        "/Frontend Design build a page",
        "activate frontend-design build a page",
    );
    check(
        false,
        true,
        "/use git-review the diff",
        "activate git-review the diff",
    );
    check(
        false,
        true,
        "/haiku\nmulti-line input",
        "activate haiku multi-line input",
    );
    check(false, true, "/haiku@GoClawBot now", "activate haiku now");
    check(false, true, "/list-skills", "list 3");
    check(false, true, "/help haiku", "help haiku");
    check(false, true, "/haiko about spring", "unknown haiku");
    check(false, true, "/front build", "unknown frontend-design");
    check(true, true, "/front build", "activate frontend-design build");
    check(false, false, "/haiko about spring", "none");
    check(false, true, "/zzzzzzzzzz", "none");
    check(false, true, "/home/user/project", "none");
    check(false, true, "/etc/config.yaml", "none");
    check(false, true, "https://example.com/path", "none");
    check(false, true, "regular prompt", "none");
    check(false, true, "/", "none");
    check(false, true, "/use", "none");
}

#[test]
fn disabled_commands_and_other_prefixes() {
    let off = SlashCommandsConfig {
        enabled: false,
        ..SlashCommandsConfig::default()
    };
    assert_eq!(resolve(&skills(), "/haiku", &off), None);
    let bang = SlashCommandsConfig {
        prefix: "!".to_owned(),
        ..SlashCommandsConfig::default()
    };
    assert!(matches!(
        resolve(&skills(), "!haiku x", &bang),
        Some(SlashCommand::Activate { .. })
    ));
    assert_eq!(resolve(&skills(), "/haiku x", &bang), None);
}

#[test]
fn sections_carry_the_instructions_or_the_suggestions() {
    let config = SlashCommandsConfig::default();
    let activate = resolve(&skills(), "/haiku rain", &config).expect("command");
    assert!(activate.system_section().contains("Do haiku."));
    assert_eq!(activate.message(), "rain");
    let unknown = resolve(&skills(), "/haiko", &config).expect("command");
    assert!(unknown.system_section().contains("`haiko` was not found"));
    assert!(
        unknown
            .system_section()
            .contains("- `haiku` - Haiku things")
    );
}
