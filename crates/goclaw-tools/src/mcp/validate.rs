//! The checks a server registered through the API passes before it is stored (the servers of
//! `tools.mcp_servers` are the operator's own and are not checked). A stdio server's program
//! must be a known runtime (`node`, `npx`, `python3`, `uvx`, … — GoClaw's list — or one the
//! operator adds in `tools.mcp_allowed_commands`), without shell syntax or `..`; its
//! arguments may not be code-running flags (`-e`, `-c`, `--eval`, `--require`, …), hold code
//! (`eval(`, `child_process`, …) or shell syntax. Unlike a plain substring match, a package
//! named `server-everything` is not mistaken for `-e`. An HTTP server's URL must be `http(s)` without credentials and, unless
//! `tools.mcp_allow_private_urls` is set, must not point at loopback, private, link-local or
//! metadata addresses — checked on every address the host resolves to.

use crate::web::ssrf::check_outbound_url;

/// The programs a stdio server may run, by file name.
pub const ALLOWED_COMMANDS: &[&str] = &[
    "node",
    "npx",
    "npm",
    "python",
    "python3",
    "python2",
    "ruby",
    "go",
    "cargo",
    "java",
    "dotnet",
    "php",
    "uvx",
    "uv",
    "pipx",
    "deno",
    "bun",
    "mcp-server-darwin-arm64",
];

/// Flags that make a runtime run inline code or load extra modules: refused as an argument
/// of their own, with `=value`, or (short ones) with the value run on (`-cprint(1)`).
const CODE_FLAGS: &[&str] = &["-e", "-c", "-r", "--eval", "--require", "--import"];

/// Fragments of inline code, refused anywhere in an argument.
const CODE_FRAGMENTS: &[&str] = &[
    "exec(",
    "eval(",
    "__import__",
    "child_process",
    "subprocess",
];

/// Characters a shell would interpret.
const SHELL_SYNTAX: &[char] = &[
    ';', '|', '&', '$', '`', '(', ')', '{', '}', '[', ']', '<', '>',
];

/// What the operator allows beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct ServerPolicy {
    /// More program names a stdio server may run.
    pub extra_commands: Vec<String>,
    /// HTTP servers may be on loopback and private networks.
    pub private_urls: bool,
}

/// Checks a server's transport settings; the error says what is wrong, never a secret.
pub async fn check_server(
    policy: &ServerPolicy,
    transport: &str,
    command: &str,
    args: &[String],
    url: &str,
) -> Result<(), String> {
    match transport {
        "stdio" => {
            check_command(policy, command)?;
            check_args(args)
        }
        "sse" | "streamable-http" => check_url(policy, url).await,
        other => Err(format!(
            "transport {other:?} is not one of stdio, sse, streamable-http"
        )),
    }
}

/// A stdio server's program.
pub fn check_command(policy: &ServerPolicy, command: &str) -> Result<(), String> {
    let command = command.trim();
    if command.is_empty() {
        return Err("invalid command: a stdio server needs a command".to_owned());
    }
    if command.contains(SHELL_SYNTAX) || command.contains(['\n', '\r', '\0']) {
        return Err("invalid command: it contains shell syntax".to_owned());
    }
    if command.contains("..") {
        return Err("invalid command: it contains \"..\"".to_owned());
    }
    let name = command.rsplit('/').next().unwrap_or(command);
    let allowed =
        ALLOWED_COMMANDS.contains(&name) || policy.extra_commands.iter().any(|extra| extra == name);
    if !allowed {
        return Err(format!(
            "invalid command: {name:?} is not an allowed program ({}, or one added in \
             tools.mcp_allowed_commands)",
            ALLOWED_COMMANDS.join(", ")
        ));
    }
    Ok(())
}

/// A stdio server's arguments.
pub fn check_args(args: &[String]) -> Result<(), String> {
    for (index, arg) in args.iter().enumerate() {
        let lower = arg.to_lowercase();
        let flag = CODE_FLAGS.iter().find(|flag| {
            lower == **flag
                || lower.starts_with(&format!("{flag}="))
                || (!flag.starts_with("--") && lower.starts_with(**flag))
        });
        let fragment = CODE_FRAGMENTS.iter().find(|f| lower.contains(**f));
        if let Some(pattern) = flag.or(fragment) {
            return Err(format!(
                "invalid args: args[{index}] uses {pattern:?}, which runs inline code"
            ));
        }
        if arg.contains(SHELL_SYNTAX) || arg.contains(['\n', '\r', '\0']) {
            return Err(format!("invalid args: args[{index}] contains shell syntax"));
        }
    }
    Ok(())
}

/// An HTTP server's URL, resolved now ([`check_outbound_url`]).
pub async fn check_url(policy: &ServerPolicy, raw: &str) -> Result<(), String> {
    check_outbound_url(raw, policy.private_urls)
        .await
        .map(|_| ())
        .map_err(|reason| format!("invalid URL: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn known_runtimes_and_added_programs_pass_others_do_not() {
        let policy = ServerPolicy::default();
        for command in ["npx", "/usr/bin/node", "uvx", "python3"] {
            assert!(check_command(&policy, command).is_ok(), "{command}");
        }
        for command in ["bash", "/bin/sh", "fake-mcp", "node;id", "../node", ""] {
            assert!(check_command(&policy, command).is_err(), "{command}");
        }
        let added = ServerPolicy {
            extra_commands: vec!["fake-mcp".to_owned()],
            ..ServerPolicy::default()
        };
        assert!(check_command(&added, "/opt/bin/fake-mcp").is_ok());
    }

    #[test]
    fn code_flags_are_refused_but_package_names_holding_them_are_not() {
        let fine = args(&["-y", "@modelcontextprotocol/server-everything", "--port=3"]);
        assert!(check_args(&fine).is_ok());
        for bad in [
            &["-e", "1"][..],
            &["-cprint(1)"],
            &["--eval=1"],
            &["--require", "x"],
            &["-r", "x"],
            &["x", "child_process"],
            &["$(id)"],
        ] {
            assert!(check_args(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn private_urls_only_when_allowed() {
        let strict = ServerPolicy::default();
        let open = ServerPolicy {
            private_urls: true,
            ..ServerPolicy::default()
        };
        let url = "http://127.0.0.1:9/mcp";
        assert!(check_url(&strict, url).await.is_err());
        assert!(check_url(&open, url).await.is_ok());
        assert!(check_url(&open, "file:///etc/passwd").await.is_err());
        assert!(check_url(&open, "http://u:p@127.0.0.1/").await.is_err());
    }
}
