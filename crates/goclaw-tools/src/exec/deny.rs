//! GoClaw's shell deny groups, applied to every simple command of a command line: each group
//! is a named family of dangerous operations, on by default and switchable per key through
//! `tools.shellDenyGroups` and an agent's `other_config.shell_deny_groups` (the agent wins).

use std::collections::BTreeMap;

use super::deny_env::{env_dump, env_injection};
use super::deny_shell::{
    code_from_pipe, computed_program, decoded_argument, environ_path, host_path, is_interpreter,
    is_shell, link_to_sensitive, local_destination, preload_path, runs_decoded_file, secret_path,
};
use super::parse::{SimpleCommand, is_short_flag_with};

/// Every deny group, in GoClaw's order.
pub const GROUPS: &[&str] = &[
    "destructive_ops",
    "data_exfiltration",
    "reverse_shell",
    "code_injection",
    "privilege_escalation",
    "dangerous_paths",
    "env_injection",
    "container_escape",
    "crypto_mining",
    "filter_bypass",
    "network_recon",
    "package_install",
    "persistence",
    "process_control",
    "env_dump",
];

/// Which deny groups are on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyGroups {
    off: Vec<&'static str>,
}

impl DenyGroups {
    /// Defaults (all on), then the global overrides, then the agent's.
    pub fn resolve(global: &BTreeMap<String, bool>, agent: &BTreeMap<String, bool>) -> Self {
        let mut off = Vec::new();
        for group in GROUPS {
            let on = agent
                .get(*group)
                .or_else(|| global.get(*group))
                .copied()
                .unwrap_or(true);
            if !on {
                off.push(*group);
            }
        }
        Self { off }
    }

    fn is_on(&self, group: &str) -> bool {
        !self.off.contains(&group)
    }
}

/// Why a command line is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub group: &'static str,
    pub reason: String,
}

/// The first deny-group match among `commands` (the parsed form of `raw`), if any.
pub fn check(raw: &str, commands: &[SimpleCommand], groups: &DenyGroups) -> Option<Denial> {
    if groups.is_on("destructive_ops") && is_fork_bomb(raw) {
        return Some(denial("destructive_ops", "fork bomb"));
    }
    for cmd in commands {
        for (group, rule) in RULES {
            if !groups.is_on(group) {
                continue;
            }
            if let Some(reason) = rule(cmd, commands) {
                return Some(denial(group, &reason));
            }
        }
    }
    None
}

fn denial(group: &'static str, reason: &str) -> Denial {
    Denial {
        group,
        reason: reason.to_owned(),
    }
}

type Rule = fn(&SimpleCommand, &[SimpleCommand]) -> Option<String>;

const RULES: &[(&str, Rule)] = &[
    ("destructive_ops", destructive_ops),
    ("data_exfiltration", data_exfiltration),
    ("data_exfiltration", local_destination),
    ("reverse_shell", reverse_shell),
    ("code_injection", code_injection),
    ("code_injection", computed_program),
    ("code_injection", code_from_pipe),
    ("code_injection", runs_decoded_file),
    ("code_injection", decoded_argument),
    ("privilege_escalation", privilege_escalation),
    ("dangerous_paths", dangerous_paths),
    ("dangerous_paths", secret_path),
    ("dangerous_paths", link_to_sensitive),
    ("env_injection", env_injection),
    ("env_injection", preload_path),
    ("container_escape", container_escape),
    ("container_escape", host_path),
    ("crypto_mining", crypto_mining),
    ("filter_bypass", filter_bypass),
    ("network_recon", network_recon),
    ("package_install", package_install),
    ("persistence", persistence),
    ("process_control", process_control),
    ("env_dump", env_dump),
    ("env_dump", environ_path),
];

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "ash", "fish", "source", ".",
];

fn found(condition: bool, reason: impl FnOnce() -> String) -> Option<String> {
    condition.then(reason)
}

/// Whether any argument is the long option `full` or an abbreviation of it (`--rec`).
fn has_long(cmd: &SimpleCommand, full: &str) -> bool {
    cmd.args().iter().any(|a| {
        let Some(name) = a.strip_prefix("--") else {
            return false;
        };
        let name = name.split('=').next().unwrap_or(name);
        name.len() >= 2 && full.starts_with(name)
    })
}

fn has_short(cmd: &SimpleCommand, flag: char) -> bool {
    cmd.args().iter().any(|a| is_short_flag_with(a, flag))
}

/// Every word of the command: assignments, argv, redirect targets and the resolved paths.
fn words(cmd: &SimpleCommand) -> impl Iterator<Item = &str> {
    cmd.assignments
        .iter()
        .map(|(_, v)| v.as_str())
        .chain(cmd.argv.iter().map(String::as_str))
        .chain(cmd.redirects.iter().map(String::as_str))
        .chain(cmd.paths.iter().map(String::as_str))
}

pub(super) fn any_word(cmd: &SimpleCommand, pred: impl Fn(&str) -> bool) -> Option<String> {
    words(cmd).find(|w| pred(w)).map(str::to_owned)
}

/// A later stage of the same pipeline whose program is one of `programs`.
fn piped_into(cmd: &SimpleCommand, all: &[SimpleCommand], programs: &[&str]) -> bool {
    all.iter().any(|other| {
        other.pipeline == cmd.pipeline
            && other.stage > cmd.stage
            && (programs.contains(&other.program())
                || is_shell(other.program())
                || is_interpreter(other.program()))
    })
}

fn is_fork_bomb(raw: &str) -> bool {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    // A function whose body pipes into itself in the background: `:(){ :|:& };:`.
    compact.split("(){").skip(1).any(|body| {
        let body = body.split('}').next().unwrap_or("");
        body.contains('|') && body.contains('&')
    })
}

fn destructive_ops(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let arg = |s: &str| args.iter().any(|a| a.eq_ignore_ascii_case(s));
    let hit = match p {
        "rm" => {
            has_short(cmd, 'r')
                || has_short(cmd, 'R')
                || has_short(cmd, 'f')
                || has_long(cmd, "recursive")
                || has_long(cmd, "force")
        }
        "del" => arg("/f") || arg("/s") || arg("/q"),
        "rmdir" => arg("/s"),
        "diskpart" | "wipefs" | "fdisk" | "sfdisk" | "parted" | "mke2fs" | "shred" => true,
        p if p.starts_with("mkfs") => true,
        "format" => args.iter().any(|a| a.ends_with(':')),
        "dd" => args
            .iter()
            .any(|a| a.starts_with("if=") || a.starts_with("of=")),
        "find" => {
            arg("-delete")
                || args
                    .windows(2)
                    .any(|w| (w[0] == "-exec" || w[0] == "-execdir") && w[1].ends_with("rm"))
        }
        "shutdown" | "reboot" | "poweroff" | "halt" => true,
        "init" | "telinit" => arg("0") || arg("6"),
        "systemctl" => ["suspend", "hibernate", "poweroff", "reboot", "halt"]
            .iter()
            .any(|s| arg(s)),
        _ => false,
    };
    if hit {
        return Some(format!("{p} with destructive arguments"));
    }
    let device = cmd.redirects.iter().find(|r| {
        [
            "/dev/sd",
            "/dev/hd",
            "/dev/vd",
            "/dev/nvme",
            "/dev/mmcblk",
            "/dev/xvd",
        ]
        .iter()
        .any(|d| r.starts_with(d))
    });
    device.map(|d| format!("write to block device {d}"))
}

fn data_exfiltration(cmd: &SimpleCommand, all: &[SimpleCommand]) -> Option<String> {
    if let Some(w) = any_word(cmd, |w| w.contains("/dev/tcp/") || w.contains("/dev/udp/")) {
        return Some(format!("raw network device {w}"));
    }
    let p = cmd.program();
    match p {
        "nslookup" | "dig" | "host" => return Some(format!("DNS lookup with {p}")),
        "curl" | "wget" => {}
        _ => return None,
    }
    if piped_into(cmd, all, SHELLS) {
        return Some(format!("{p} piped into a shell"));
    }
    let method = cmd.args().windows(2).any(|w| {
        (w[0] == "-X" || w[0] == "--request" || w[0] == "--method")
            && ["POST", "PUT", "PATCH"].contains(&w[1].to_ascii_uppercase().as_str())
    }) || cmd.args().iter().any(|a| {
        let upper = a.to_ascii_uppercase();
        [
            "-XPOST",
            "-XPUT",
            "-XPATCH",
            "--METHOD=POST",
            "--METHOD=PUT",
        ]
        .contains(&upper.as_str())
    });
    let upload = has_short(cmd, 'T')
        || has_short(cmd, 'd')
        || has_short(cmd, 'F')
        || [
            "upload-file",
            "data",
            "data-binary",
            "data-raw",
            "data-urlencode",
            "form",
        ]
        .iter()
        .any(|o| has_long(cmd, o))
        || ["post-data", "post-file", "body-data", "body-file"]
            .iter()
            .any(|o| has_long(cmd, o));
    if method || upload {
        return Some(format!("{p} sending data"));
    }
    let local = [
        "localhost",
        "127.0.0.1",
        "0.0.0.0",
        "[::1]",
        "169.254.169.254",
    ];
    any_word(cmd, |w| local.iter().any(|l| w.contains(l)))
        .map(|w| format!("{p} to a local address {w}"))
}

fn reverse_shell(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let hit = match p {
        "nc" | "ncat" | "netcat" | "socat" => !args.is_empty(),
        "openssl" => args.iter().any(|a| a == "s_client" || a == "s_server"),
        "telnet" => args.len() >= 2,
        "mkfifo" => true,
        "awk" | "gawk" => args.iter().any(|a| a.contains("/inet/")),
        p if is_interpreter(p) => inline_code(cmd).is_some_and(|code| {
            [
                "socket",
                "http.client",
                "urllib",
                "net.connect",
                "pty.spawn",
                "TCPSocket",
            ]
            .iter()
            .any(|m| code.contains(m))
        }),
        _ => false,
    };
    found(hit, || format!("network shell via {p}"))
}

/// The inline program of `python -c …`, `perl -e …`, `node --eval …` and the like.
fn inline_code(cmd: &SimpleCommand) -> Option<&str> {
    let args = cmd.args();
    let pos = args.iter().position(|a| {
        is_short_flag_with(a, 'c')
            || is_short_flag_with(a, 'e')
            || is_short_flag_with(a, 'E')
            || is_short_flag_with(a, 'r')
            || a == "--eval"
            || a == "--print"
            || a == "-p"
    })?;
    args.get(pos + 1).map(String::as_str).or(Some(""))
}

fn code_injection(cmd: &SimpleCommand, all: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    if p == "eval" {
        return Some("eval of constructed code".to_owned());
    }
    if is_interpreter(p) && inline_code(cmd).is_some() {
        return Some(format!("inline {p} code"));
    }
    let decodes = (p == "base64" && (has_short(cmd, 'd') || has_long(cmd, "decode")))
        || (p == "xxd" && has_short(cmd, 'r'));
    if decodes && piped_into(cmd, all, SHELLS) {
        return Some("decoded data piped into a shell".to_owned());
    }
    let feeds_shell = SHELLS.contains(&p)
        && (cmd.args().iter().any(|a| a.starts_with("<("))
            || cmd.redirects.iter().any(|r| r.starts_with("<(")));
    found(feeds_shell, || format!("{p} running substituted code"))
}

fn privilege_escalation(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let hit = matches!(
        p,
        "sudo"
            | "su"
            | "doas"
            | "pkexec"
            | "runuser"
            | "nsenter"
            | "unshare"
            | "mount"
            | "umount"
            | "capsh"
            | "setcap"
            | "getcap"
            | "chroot"
            | "setuid"
    );
    found(hit, || format!("privilege change with {p}"))
}

const SYSTEM_DIRS: &[&str] = &[
    "/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/var", "/root", "/home",
    "/opt", "/sys", "/proc", "/dev",
];

fn dangerous_paths(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let absolute = || args.iter().find(|a| a.starts_with('/')).cloned();
    match p {
        "chmod" => {
            let numeric = args
                .iter()
                .any(|a| a.len() >= 3 && a.chars().all(|c| c.is_ascii_digit()));
            let recursive_system = (has_short(cmd, 'R') || has_long(cmd, "recursive"))
                && args
                    .iter()
                    .any(|a| SYSTEM_DIRS.contains(&a.trim_end_matches('/')) || a == "/");
            let exec_tmp = args.iter().any(|a| a.contains("+x"))
                && args.iter().any(|a| {
                    ["/tmp", "/var/tmp", "/dev/shm"]
                        .iter()
                        .any(|t| a.starts_with(t))
                });
            if (numeric && absolute().is_some()) || recursive_system || exec_tmp {
                return Some("permission change outside the workspace".to_owned());
            }
        }
        "chown" | "chgrp" => {
            if let Some(path) = absolute() {
                return Some(format!("ownership change of {path}"));
            }
        }
        _ => {}
    }
    let secret = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/sudoers",
        "/etc/master.passwd",
    ];
    any_word(cmd, |w| secret.iter().any(|s| w.starts_with(s))).map(|w| format!("access to {w}"))
}

fn container_escape(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let marks = [
        "docker.sock",
        "/proc/sys/kernel",
        "/proc/sys/fs",
        "/proc/sys/net",
        "/sys/kernel",
        "/sys/fs",
        "/sys/class",
        "/sys/devices",
        "/proc/1/root",
    ];
    any_word(cmd, |w| marks.iter().any(|m| w.contains(m))).map(|w| format!("host access via {w}"))
}

fn crypto_mining(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let miners = [
        "xmrig",
        "minerd",
        "cpuminer",
        "ethminer",
        "cgminer",
        "bfgminer",
        "t-rex",
        "nbminer",
        "lolminer",
        "xmr-stak",
        "nanominer",
    ];
    if miners.contains(&cmd.program()) {
        return Some(format!("miner {}", cmd.program()));
    }
    any_word(cmd, |w| {
        w.contains("stratum+tcp://") || w.contains("stratum+ssl://")
    })
    .map(|_| "mining pool address".to_owned())
}

fn filter_bypass(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let hit = match p {
        "sed" => args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .any(|a| a.ends_with("/e") || a.contains("/e;") || a.starts_with("e ")),
        "sort" => has_long(cmd, "compress-program"),
        "git" => {
            ["upload-pack", "receive-pack", "exec"]
                .iter()
                .any(|o| has_long(cmd, o))
                || args
                    .iter()
                    .any(|a| a.contains("core.sshCommand") || a.contains("core.pager"))
        }
        "rg" | "grep" => has_long(cmd, "pre"),
        "man" => has_long(cmd, "html"),
        "history" => has_short(cmd, 's') || has_short(cmd, 'a') || has_short(cmd, 'w'),
        _ => false,
    };
    if hit {
        return Some(format!("{p} running a side command"));
    }
    any_word(cmd, |w| w.contains("@P}")).map(|_| "prompt expansion of a variable".to_owned())
}

fn network_recon(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let hit = match p {
        "nmap" | "masscan" | "zmap" | "rustscan" | "chisel" | "frpc" | "frps" | "ngrok"
        | "cloudflared" | "bore" | "lt" | "localtunnel" => true,
        "ssh" | "scp" | "sftp" => cmd.args().iter().any(|a| a.contains('@')),
        _ => false,
    };
    found(hit, || format!("network reconnaissance or tunnel via {p}"))
}

fn package_install(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let first = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    let hit = match (p, first) {
        (p, Some("install" | "uninstall")) if p == "pip" || p.starts_with("pip3") => true,
        ("npm", Some("install" | "i" | "uninstall" | "add" | "ci")) => true,
        ("npx", _) => true,
        ("pnpm" | "yarn", Some("dlx" | "add" | "install" | "global")) => true,
        ("apk", Some("add" | "del")) => true,
        ("apt" | "apt-get" | "yum" | "dnf", Some("install" | "remove" | "purge")) => true,
        ("gem", Some("install")) => true,
        (p, _) if p.starts_with("python") => args.windows(2).any(|w| w[0] == "-m" && w[1] == "pip"),
        _ => false,
    };
    found(hit, || format!("package installation with {p}"))
}

fn persistence(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    if cmd.program() == "crontab" {
        return Some("crontab change".to_owned());
    }
    let rc = [
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
        "/etc/profile",
        "/etc/bash.bashrc",
        "/etc/rc.local",
    ];
    let targets = cmd.redirects.iter().chain(if cmd.program() == "tee" {
        cmd.args()
    } else {
        &[]
    });
    let hit = targets
        .into_iter()
        .find(|t| rc.iter().any(|r| t.ends_with(r)));
    hit.map(|t| format!("write to start-up file {t}"))
}

fn process_control(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let hit = match p {
        "killall" | "pkill" => true,
        "kill" => {
            let args = cmd.args();
            args.iter()
                .any(|a| matches!(a.to_ascii_uppercase().as_str(), "-9" | "-KILL" | "-SIGKILL"))
                || args.windows(2).any(|w| {
                    w[0] == "-s"
                        && matches!(w[1].to_ascii_uppercase().as_str(), "9" | "KILL" | "SIGKILL")
                })
        }
        _ => false,
    };
    found(hit, || format!("process control with {p}"))
}

#[cfg(test)]
#[path = "deny_tests.rs"]
mod tests;
