//! `enter`: join the sandbox's cgroups, then become bubblewrap.
//!
//! Joining from inside the process that then execs bwrap means nothing of the sandbox ever
//! runs outside the cgroup (no window between spawn and a later move).

use super::options::EnterOptions;

/// Writes our pid to every `cgroup.procs` file, then execs the program.
pub fn run(options: &EnterOptions) -> i32 {
    let pid = std::process::id().to_string();
    for file in &options.procs {
        if let Err(error) = std::fs::write(file, &pid) {
            eprintln!("goclaw-sandbox-init: cannot join cgroup {file}: {error}");
            return super::EXIT_SETUP_FAILED;
        }
    }
    super::exec(&options.argv)
}
