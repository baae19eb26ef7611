//! Deny rules that judge what the shell will really run, after the resolver substituted
//! literal variables and resolved paths: a program name only known at run time, code read by
//! a shell or interpreter from a pipe, sensitive host paths in any spelling (globs, `..`, `cd`),
//! and network commands aimed at this machine in any address spelling or at a computed host.

use std::net::IpAddr;

use super::parse::{self, SimpleCommand, is_short_flag_with, unversioned};
use super::paths;
use crate::web::ssrf::{blocked_hostname, reaches_this_host};

/// Shells, by their unversioned name.
pub const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "ash", "fish", "mksh", "yash", "busybox",
];
/// Script interpreters, by their unversioned name (`python3.11` is `python`).
pub const INTERPRETERS: &[&str] = &[
    "python",
    "pypy",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "lua",
    "luajit",
    "deno",
    "bun",
    "tclsh",
    "wish",
    "Rscript",
    "osascript",
    "pwsh",
    "powershell",
];

/// Whether `program` is a script interpreter, version suffix or not.
pub fn is_interpreter(program: &str) -> bool {
    INTERPRETERS.contains(&unversioned(program)) || INTERPRETERS.contains(&program)
}

/// Whether `program` is a shell, version suffix or not.
pub fn is_shell(program: &str) -> bool {
    SHELLS.contains(&unversioned(program))
}

/// Host paths no command may name and the deny group each belongs to. `*` is any one name,
/// a final `**` anything below.
const SENSITIVE: &[(&str, &str)] = &[
    ("env_dump", "/proc/*/environ"),
    ("env_dump", "/proc/*/task/*/environ"),
    ("dangerous_paths", "/etc/shadow"),
    ("dangerous_paths", "/etc/shadow-"),
    ("dangerous_paths", "/etc/gshadow"),
    ("dangerous_paths", "/etc/gshadow-"),
    ("dangerous_paths", "/etc/sudoers"),
    ("dangerous_paths", "/etc/sudoers.d/**"),
    ("dangerous_paths", "/etc/master.passwd"),
    ("container_escape", "/var/run/docker.sock"),
    ("container_escape", "/run/docker.sock"),
    ("container_escape", "/proc/*/root/**"),
    ("container_escape", "/proc/*/cwd/**"),
    ("container_escape", "/proc/*/map_files/**"),
    ("container_escape", "/proc/*/mem"),
    ("container_escape", "/proc/sys/kernel/**"),
    ("container_escape", "/proc/sys/fs/**"),
    ("container_escape", "/proc/sys/net/**"),
    ("container_escape", "/sys/kernel/**"),
    ("container_escape", "/sys/fs/**"),
    ("container_escape", "/sys/class/**"),
    ("container_escape", "/sys/devices/**"),
    ("env_injection", "/etc/ld.so.preload"),
];

/// The first sensitive path of `group` that `cmd` may name.
fn sensitive(cmd: &SimpleCommand, group: &str) -> Option<String> {
    cmd.paths.iter().find_map(|path| {
        SENSITIVE
            .iter()
            .filter(|(g, _)| *g == group)
            .find(|(_, target)| paths::may_name(path, target))
            .map(|_| path.clone())
    })
}

pub(super) fn environ_path(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    sensitive(cmd, "env_dump").map(|_| "environment read".to_owned())
}

pub(super) fn secret_path(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    sensitive(cmd, "dangerous_paths").map(|p| format!("access to {p}"))
}

pub(super) fn host_path(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    sensitive(cmd, "container_escape").map(|p| format!("host access via {p}"))
}

/// A symbolic link to `/` or to a directory holding a sensitive path (`ln -s /proc/self p`),
/// through which a relative path would reach it unjudged.
pub(super) fn link_to_sensitive(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let links =
        p == "ln" || (p == "cp" && (has_flag(cmd, 's') || has_long(cmd, "--symbolic-link")));
    if !links {
        return None;
    }
    let target = cmd.paths.iter().find(|path| {
        // `/`, or an unknown directory above the workspace (`ln -s ../../.. r`).
        path.as_str() == "/"
            || path.strip_prefix('/') == Some(paths::UNKNOWN_DIR)
            || SENSITIVE
                .iter()
                .any(|(_, t)| paths::may_name(&format!("{path}/{}", paths::UNKNOWN_DIR), t))
    })?;
    Some(format!("link to {target}"))
}

pub(super) fn has_flag(cmd: &SimpleCommand, flag: char) -> bool {
    cmd.args().iter().any(|a| is_short_flag_with(a, flag))
}

fn has_long(cmd: &SimpleCommand, option: &str) -> bool {
    cmd.args().iter().any(|a| a == option)
}

pub(super) fn preload_path(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    sensitive(cmd, "env_injection").map(|p| format!("access to {p}"))
}

/// A program whose name is computed when the line runs: an unknown variable, a command
/// substitution, a glob (`/bin/r?`).
pub(super) fn computed_program(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let name = cmd.argv.first()?;
    let glob = name.contains('*')
        || name.contains('?')
        || (name.contains('[') && name.contains(']') && name != "[[");
    (name.contains('$') || name.contains('`') || glob).then(|| {
        format!(
            "the program name {name} is only known when the command runs; \
             write the program name literally"
        )
    })
}

/// A shell or interpreter reading its program from a pipe (`… | sh`, `… | python3`), from
/// standard input fed with computed text (`bash <<< "$(…)"`), or sourcing standard input.
pub(super) fn code_from_pipe(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    let args = cmd.args();
    let script = args
        .iter()
        .find(|a| !a.starts_with('-') || a.as_str() == "-")
        .map(String::as_str);
    let stdin = |s: Option<&str>| matches!(s, None | Some("-" | "/dev/stdin" | "/proc/self/fd/0"));
    if matches!(p, "source" | ".") {
        return (script.is_some() && stdin(script))
            .then(|| format!("{p} running code read from standard input"));
    }
    if !(is_shell(p) || is_interpreter(p)) {
        return None;
    }
    let from_stdin =
        stdin(script) || (is_shell(p) && args.iter().any(|a| is_short_flag_with(a, 's')));
    if !from_stdin {
        return None;
    }
    if cmd.stage > 0 {
        return Some(format!("{p} running code read from a pipe"));
    }
    let computed = cmd
        .redirects
        .iter()
        .any(|r| r.contains("$(") || r.contains('`'));
    computed.then(|| format!("{p} running code computed at run time"))
}

/// A decoder: its output is text the line does not show (`base64 -d`, `xxd -r`, `rev`,
/// `printf '\x…'`, decompressors).
fn is_decoder(cmd: &SimpleCommand) -> bool {
    let escapes = |a: &String| a.contains("\\x") || a.contains("\\0") || a.contains("\\u");
    match cmd.program() {
        "base64" | "base32" | "basenc" => has_flag(cmd, 'd') || has_long(cmd, "--decode"),
        "xxd" => has_flag(cmd, 'r'),
        "rev" | "tr" | "uudecode" | "zcat" | "gunzip" | "xzcat" | "bzcat" | "unxz" => true,
        "gzip" | "xz" | "bzip2" | "zstd" => has_flag(cmd, 'd'),
        "openssl" => cmd.args().iter().any(|a| a == "-d" || a == "base64"),
        "printf" => cmd.args().iter().any(escapes),
        "echo" => has_flag(cmd, 'e') && cmd.args().iter().any(escapes),
        _ => false,
    }
}

/// The file `cmd` runs as a program or script, if any.
pub(super) fn executed_file(cmd: &SimpleCommand) -> Option<&str> {
    let p = cmd.program();
    let first_operand = || {
        cmd.args()
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
    };
    if is_shell(p) || is_interpreter(p) || matches!(p, "source" | ".") {
        return first_operand();
    }
    cmd.argv.first().map(String::as_str)
}

/// The files a command writes: redirect targets, `tee` operands, `of=` / `-out` values.
pub(super) fn written_files(cmd: &SimpleCommand) -> Vec<&str> {
    let mut files: Vec<&str> = cmd.redirects.iter().map(String::as_str).collect();
    let args = cmd.args();
    if cmd.program() == "tee" {
        files.extend(
            args.iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str),
        );
    }
    files.extend(args.iter().filter_map(|a| a.strip_prefix("of=")));
    for pair in args.windows(2) {
        if matches!(pair[0].as_str(), "-out" | "-o" | "--output") {
            files.push(&pair[1]);
        }
    }
    files
}

/// Whether two spellings name the same file (`./x.sh` and `x.sh`).
pub(super) fn same_file(a: &str, b: &str) -> bool {
    paths::normalize(a) == paths::normalize(b)
}

/// A shell, interpreter or program running a file that a decoding pipeline wrote earlier in the
/// same line (`… | base64 -d > x.sh; sh x.sh`).
pub(super) fn runs_decoded_file(cmd: &SimpleCommand, all: &[SimpleCommand]) -> Option<String> {
    let file = executed_file(cmd)?;
    let decoding: Vec<usize> = all
        .iter()
        .filter(|c| is_decoder(c))
        .map(|c| c.pipeline)
        .collect();
    if decoding.is_empty() {
        return None;
    }
    let decoded = all.iter().any(|writer| {
        decoding.contains(&writer.pipeline)
            && written_files(writer).iter().any(|w| same_file(w, file))
    });
    decoded.then(|| format!("{} running {file}, decoded by the same line", cmd.program()))
}

/// An argument (or redirect, or assigned value) computed by decoding hidden text:
/// `cat $(echo L3Byb2M… | base64 -d)`.
pub(super) fn decoded_argument(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let words = cmd
        .args()
        .iter()
        .chain(&cmd.redirects)
        .chain(cmd.assignments.iter().map(|(_, v)| v));
    for word in words.filter(|w| w.contains("$(") || w.contains('`')) {
        let decoded = parse::parse(word).is_ok_and(|inner| inner.iter().any(is_decoder));
        if decoded {
            let p = cmd.program();
            return Some(format!("{p} with an argument decoded at run time: {word}"));
        }
    }
    None
}

/// Programs that open network connections to the hosts in their arguments.
const NETWORK: &[&str] = &[
    "curl", "wget", "http", "https", "xh", "aria2c", "lynx", "w3m", "links", "elinks", "ftp",
    "lftp", "tftp", "ssh", "scp", "sftp", "rsync", "telnet", "git", "httpie", "websocat",
];

/// A network command aimed at this machine (any spelling of loopback, `0`, link-local) or at a
/// host computed when the line runs.
pub(super) fn local_destination(cmd: &SimpleCommand, _: &[SimpleCommand]) -> Option<String> {
    let p = cmd.program();
    if !NETWORK.contains(&p) {
        return None;
    }
    for word in cmd.args() {
        // `--resolve host:80:127.0.0.1`, `-L 8080:127.0.0.1:18790`: addresses inside a value.
        let inner = word
            .split([':', ',', '='])
            .filter_map(|piece| piece.parse::<IpAddr>().ok())
            .any(reaches_this_host);
        if inner {
            return Some(format!("{p} to a local address {word}"));
        }
        match destination(word) {
            Some(Destination::Local) => return Some(format!("{p} to a local address {word}")),
            Some(Destination::Computed) => {
                return Some(format!("{p} to an address computed at run time {word}"));
            }
            None => {}
        }
    }
    None
}

enum Destination {
    Local,
    Computed,
}

fn destination(word: &str) -> Option<Destination> {
    let (host, bare) = match word.split_once("://") {
        Some((_, rest)) => (rest, false),
        None if word.starts_with('-') => return None,
        None => (word, true),
    };
    let host = host.split(['/', '?', '#']).next().unwrap_or(host);
    let host = host.rsplit('@').next().unwrap_or(host);
    let computed = |s: &str| s.contains('$') || s.contains('`');
    // `http :18790/health` is httpie's spelling of localhost.
    if bare && word.starts_with(':') && word[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Destination::Local);
    }
    if (bare && (word.starts_with('$') || word.starts_with('`'))) || (!bare && computed(host)) {
        return Some(Destination::Computed);
    }
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    let local = match url.host()? {
        url::Host::Ipv4(v4) if bare => v4.is_loopback() || v4.is_link_local(),
        url::Host::Ipv4(v4) => reaches_this_host(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => reaches_this_host(IpAddr::V6(v6)),
        url::Host::Domain(name) => blocked_hostname(&name.to_ascii_lowercase()).is_some(),
    };
    local.then_some(Destination::Local)
}
