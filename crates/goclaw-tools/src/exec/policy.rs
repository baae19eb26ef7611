//! `ExecPolicy`: GoClaw's exec approval decision table — `security` (deny, allowlist, full)
//! crossed with `ask` (off, on-miss, always), the safe-bin list and the configured allowlist
//! globs — deciding per command line whether it runs, is refused, or waits for an operator.

/// Which commands may run at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecSecurity {
    Deny,
    Allowlist,
    #[default]
    Full,
}

/// When an operator is asked before a command runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecAsk {
    #[default]
    Off,
    OnMiss,
    Always,
}

/// What to do with a screened command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Ask,
    Deny(String),
}

/// Read-only and developer tools that never prompt in `full` + `on-miss` mode.
pub const SAFE_BINS: &[&str] = &[
    "cat", "echo", "ls", "pwd", "head", "tail", "wc", "sort", "uniq", "grep", "find", "which",
    "whoami", "date", "uname", "hostname", "df", "du", "free", "uptime", "file", "stat", "dirname",
    "basename", "realpath", "jq", "yq", "sed", "awk", "tr", "cut", "diff", "patch", "tee", "xargs",
    "git", "node", "npm", "npx", "yarn", "pnpm", "bun", "deno", "python", "python3", "pip", "pip3",
    "go", "cargo", "rustc", "make", "cmake", "gcc", "g++", "clang", "java", "javac", "mvn",
    "gradle",
];

/// The configured approval policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecPolicy {
    pub security: ExecSecurity,
    pub ask: ExecAsk,
    /// Globs (`*`, `?`) matched against each program and against the whole command line.
    pub allowlist: Vec<String>,
}

impl ExecPolicy {
    /// The decision for `command` running `binaries`; `approved` says whether an operator
    /// already allowed a program for this agent ("allow always").
    pub fn decide(
        &self,
        command: &str,
        binaries: &[String],
        approved: &dyn Fn(&str) -> bool,
    ) -> Decision {
        if self.security == ExecSecurity::Deny {
            return Decision::Deny("exec is disabled (tools.execApproval.security = deny)".into());
        }
        if !binaries.is_empty() && binaries.iter().all(|b| approved(b)) {
            return Decision::Run;
        }
        let listed = |b: &str| approved(b) || self.allowlist.iter().any(|g| glob(g, b));
        let whole = self.allowlist.iter().any(|g| glob(g, command));
        let all_listed = whole || binaries.iter().all(|b| listed(b));
        match (self.security, self.ask) {
            (ExecSecurity::Allowlist, ExecAsk::Always) => Decision::Ask,
            (ExecSecurity::Allowlist, _) if all_listed => Decision::Run,
            (ExecSecurity::Allowlist, ExecAsk::Off) => {
                Decision::Deny("command is not on the exec allowlist".into())
            }
            (ExecSecurity::Allowlist, _) => Decision::Ask,
            (_, ExecAsk::Off) => Decision::Run,
            (_, ExecAsk::Always) => Decision::Ask,
            (_, ExecAsk::OnMiss) => {
                let safe = |b: &String| SAFE_BINS.contains(&b.as_str()) || listed(b);
                if whole || binaries.iter().all(safe) {
                    Decision::Run
                } else {
                    Decision::Ask
                }
            }
        }
    }
}

/// Shell-style glob with `*` and `?` over the whole text.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(security: ExecSecurity, ask: ExecAsk, command: &str, expected: &str) {
        let policy = ExecPolicy {
            security,
            ask,
            allowlist: vec!["git".into(), "make *".into()],
        };
        let binaries: Vec<String> = command
            .split(" && ")
            .filter_map(|c| c.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        let approved = |b: &str| b == "approved-bin";
        let got = match policy.decide(command, &binaries, &approved) {
            Decision::Run => "run",
            Decision::Ask => "ask",
            Decision::Deny(_) => "deny",
        };
        assert_eq!(got, expected, "{security:?} {ask:?} {command}");
    }

    #[test]
    fn decision_table() {
        use ExecAsk::*;
        use ExecSecurity::*;
        check(Deny, Off, "ls", "deny");
        check(Allowlist, Off, "git status", "run");
        check(Allowlist, Off, "make all", "run");
        check(Allowlist, Off, "ls", "deny");
        check(Allowlist, OnMiss, "ls", "ask");
        check(Allowlist, Always, "git status", "ask");
        check(Full, Off, "terraform apply", "run");
        check(Full, Always, "ls", "ask");
        check(Full, OnMiss, "ls && git log", "run");
        check(Full, OnMiss, "terraform apply", "ask");
        check(Full, Always, "approved-bin x", "run");
        check(Allowlist, Off, "approved-bin x", "run");
    }

    #[test]
    fn globs() {
        assert!(glob("make *", "make all"));
        assert!(glob("g?t", "git"));
        assert!(!glob("git", "gitx"));
        assert!(glob("*", ""));
    }
}
