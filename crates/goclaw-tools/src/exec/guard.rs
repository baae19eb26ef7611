//! The exec guard: what happens to a command line before anything runs — NUL rejection,
//! Unicode normalization, parsing into simple commands, and the deny groups.

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

use super::deny::{self, DenyGroups};
use super::parse::{self, ParseError, SimpleCommand};
use super::resolve;

/// A command line that passed the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screened {
    /// The normalized command line, the one that runs.
    pub command: String,
    /// Every simple command it runs, as the shell will run it (literal variables substituted,
    /// wrappers unwrapped, paths resolved).
    pub commands: Vec<SimpleCommand>,
}

impl Screened {
    /// The distinct programs the line runs, in order of appearance.
    pub fn binaries(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for cmd in &self.commands {
            let program = cmd.program();
            if !program.is_empty() && !out.iter().any(|b| b == program) {
                out.push(program.to_owned());
            }
        }
        out
    }
}

/// Longest command line screened, in bytes: the kernel's limit on one argument (`sh -c …`).
pub const MAX_COMMAND_BYTES: usize = 128 * 1024;

/// Most simple commands one line may run: each is judged against the others, so the cost of
/// screening grows with the square of their number.
pub const MAX_COMMANDS: usize = 1024;

/// Why the guard refused a command line.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("command contains a NUL byte")]
    Nul,
    #[error("command is empty")]
    Empty,
    #[error("command is longer than {MAX_COMMAND_BYTES} bytes")]
    TooLong,
    #[error("command runs more than {MAX_COMMANDS} simple commands")]
    TooManyCommands,
    #[error("command cannot be parsed: {0}")]
    Parse(#[from] ParseError),
    #[error("command denied by the {group} group: {reason}")]
    Denied { group: &'static str, reason: String },
}

impl Refusal {
    /// The deny group that refused the command, if one did.
    pub fn group(&self) -> Option<&'static str> {
        match self {
            Refusal::Denied { group, .. } => Some(group),
            _ => None,
        }
    }
}

/// Runs the guard over `command`.
pub fn screen(command: &str, groups: &DenyGroups) -> Result<Screened, Refusal> {
    if command.contains('\0') {
        return Err(Refusal::Nul);
    }
    let command = normalize(command);
    if command.trim().is_empty() {
        return Err(Refusal::Empty);
    }
    if command.len() > MAX_COMMAND_BYTES {
        return Err(Refusal::TooLong);
    }
    let parsed = parse::parse(&command)?;
    if parsed.len() > MAX_COMMANDS {
        return Err(Refusal::TooManyCommands);
    }
    let commands = resolve::resolve(parsed)?;
    if let Some(denial) = deny::check(&command, &commands, groups) {
        return Err(Refusal::Denied {
            group: denial.group,
            reason: denial.reason,
        });
    }
    Ok(Screened { command, commands })
}

/// NFKC with zero-width and BOM characters removed, so look-alikes cannot hide a program name.
pub fn normalize(command: &str) -> String {
    command
        .nfkc()
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nul_and_hidden_characters() {
        let groups = DenyGroups::default();
        assert_eq!(screen("ls\0", &groups), Err(Refusal::Nul));
        let hidden = screen("r\u{200B}m -rf /", &groups).expect_err("denied");
        assert_eq!(hidden.group(), Some("destructive_ops"));
        let wide = screen("\u{FF52}\u{FF4D} -rf /", &groups).expect_err("denied");
        assert_eq!(wide.group(), Some("destructive_ops"));
    }

    #[test]
    fn explains_what_it_cannot_judge() {
        let groups = DenyGroups::default();
        let computed = screen("$(printf rm) -rf y", &groups).expect_err("denied");
        assert_eq!(
            computed.to_string(),
            "command denied by the code_injection group: the program name $(printf rm) is only \
             known when the command runs; write the program name literally"
        );
        let piped = screen("echo x | python3.11", &groups).expect_err("denied");
        assert_eq!(
            piped.to_string(),
            "command denied by the code_injection group: python3.11 running code read from a pipe"
        );
        let local = screen("curl http://0x7f000001/", &groups).expect_err("denied");
        assert_eq!(
            local.to_string(),
            "command denied by the data_exfiltration group: curl to a local address \
             http://0x7f000001/"
        );
    }

    #[test]
    fn refuses_what_it_cannot_screen_quickly() {
        let groups = DenyGroups::default();
        let long = "a".repeat(MAX_COMMAND_BYTES + 1);
        assert_eq!(screen(&long, &groups), Err(Refusal::TooLong));
        let many = "a;".repeat(MAX_COMMANDS + 1);
        assert_eq!(screen(&many, &groups), Err(Refusal::TooManyCommands));
    }

    #[test]
    fn resolved_programs_are_the_binaries() {
        let screened = screen("X=ls; $X -la", &DenyGroups::default()).expect("allowed");
        assert_eq!(screened.binaries(), vec!["ls"]);
    }

    #[test]
    fn lists_binaries() {
        let screened =
            screen("git status && ls | grep x && ls", &DenyGroups::default()).expect("allowed");
        assert_eq!(screened.binaries(), vec!["git", "ls", "grep"]);
    }
}
