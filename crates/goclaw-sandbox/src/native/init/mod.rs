//! The init program: the two steps a native sandbox runs in before the command itself.
//!
//! It is one program with sub-commands (the gateway runs it as `goclaw sandbox-init …`, tests
//! as `goclaw-sandbox-init …`):
//!
//! ```text
//! enter [--procs FILE]... -- PROGRAM [ARG]...
//!     On the host: writes its own pid to every cgroup.procs FILE (so it joins the sandbox's
//!     cgroups before anything else starts), then execs PROGRAM (bwrap).
//! inner [--rw PATH]... [--rw-files PATH]... [--noexec PATH]...
//!       [--landlock require|best-effort|off] [--seccomp require|best-effort|off]
//!       [--rlimit-as BYTES] [--rlimit-nproc N] [--rlimit-cpu SECONDS] -- PROGRAM [ARG]...
//!     Inside bubblewrap: sets rlimits, Landlock and seccomp, then execs PROGRAM.
//! probe
//!     Applies a permissive Landlock ruleset and the seccomp filter to itself and prints
//!     `landlock=<abi|none> seccomp=<ok|error>` (used by `NativeSandbox::probe`).
//! ```
//!
//! Exit codes of its own failures: 125 (set-up failed), 126 (command not executable),
//! 127 (command not found).

mod enter;
mod inner;
mod landlock_rules;
mod options;
mod seccomp;

pub use inner::apply_rlimits;
pub use landlock_rules::{LandlockPlan, exec_roots};
pub use options::{Enforcement, EnterOptions, InnerOptions};
pub use seccomp::{DENIED_SYSCALLS, filters as seccomp_filters};

/// Exit code when the init itself fails.
pub const EXIT_SETUP_FAILED: i32 = 125;

/// Runs the init with its arguments (the sub-command first); returns the exit code when it does
/// not exec the command.
pub fn main(args: &[String]) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("goclaw-sandbox-init: expected a sub-command: enter, inner or probe");
        return 2;
    };
    match command.as_str() {
        "enter" => match EnterOptions::parse(rest) {
            Ok(options) => enter::run(&options),
            Err(error) => usage(&error),
        },
        "inner" => match InnerOptions::parse(rest) {
            Ok(options) => inner::run(&options),
            Err(error) => usage(&error),
        },
        "probe" => inner::probe(),
        other => usage(&format!("unknown sub-command {other:?}")),
    }
}

fn usage(error: &str) -> i32 {
    eprintln!("goclaw-sandbox-init: {error}");
    2
}

/// Replaces this process with `argv`; returns the exit code when that fails.
fn exec(argv: &[String]) -> i32 {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        eprintln!("goclaw-sandbox-init: no command to run");
        return 2;
    };
    let error = std::process::Command::new(program).args(args).exec();
    eprintln!("goclaw-sandbox: cannot run {program}: {error}");
    match error.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    }
}
