//! The two environment deny groups: `env_injection` (loader and shell start-up variables that
//! make a program run foreign code) and `env_dump` (listing or reading the environment, which
//! is where credentials live).

use super::deny::any_word;
use super::parse::SimpleCommand;

const INJECTED_VARS: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
];

pub(super) fn env_injection(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let dangerous = |name: &str| {
        INJECTED_VARS.contains(&name) || name.starts_with("LD_") || name.starts_with("DYLD_")
    };
    if let Some((name, _)) = cmd.assignments.iter().find(|(n, _)| dangerous(n)) {
        return Some(format!("{name}= assignment"));
    }
    if matches!(cmd.program(), "export" | "declare" | "typeset" | "setenv") {
        let hit = cmd
            .args()
            .iter()
            .find(|a| dangerous(a.split('=').next().unwrap_or(a)));
        if let Some(a) = hit {
            return Some(format!("export of {a}"));
        }
    }
    any_word(cmd, |w| w.contains("/etc/ld.so.preload")).map(|w| format!("access to {w}"))
}

pub(super) fn env_dump(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let hit = match p {
        "printenv" | "compgen" => true,
        "env" => args.iter().all(|a| a.starts_with('-') || a.contains('=')),
        "set" | "export" => args.is_empty() || args.iter().any(|a| a == "-p"),
        "declare" | "typeset" => args.is_empty() || args.iter().any(|a| a == "-p" || a == "-x"),
        _ => false,
    };
    if hit {
        return Some(format!("environment listing with {p}"));
    }
    // Paths to a process environment are judged by `deny_shell::environ_path`.
    let marks = [
        "GOCLAW_",
        "os.environ",
        "process.env",
        "ENV[",
        "SKILL_RUNTIME_TOKEN",
    ];
    any_word(cmd, |w| marks.iter().any(|m| w.contains(m))).map(|_| "environment read".to_owned())
}
