//! `inner`: the last step inside bubblewrap: rlimits, Landlock, seccomp, then the command.

use std::path::{Path, PathBuf};

use rlimit::Resource;

use super::landlock_rules::LandlockPlan;
use super::options::{Enforcement, InnerOptions};
use super::{EXIT_SETUP_FAILED, seccomp};

/// Applies the protections then execs the command.
pub fn run(options: &InnerOptions) -> i32 {
    if let Err(error) = apply_rlimits(options) {
        eprintln!("goclaw-sandbox-init: {error}");
        return EXIT_SETUP_FAILED;
    }
    if options.landlock != Enforcement::Off {
        let paths = |list: &[String]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
        let plan = LandlockPlan::new(
            Path::new("/"),
            &paths(&options.rw),
            &paths(&options.rw_files),
            &paths(&options.noexec),
        );
        match plan.restrict_self() {
            Ok(Some(_)) => {}
            Ok(None) if options.landlock == Enforcement::BestEffort => {}
            Ok(None) => {
                eprintln!("goclaw-sandbox-init: Landlock is required but not enforced");
                return EXIT_SETUP_FAILED;
            }
            Err(error) if options.landlock == Enforcement::BestEffort => {
                eprintln!("goclaw-sandbox-init: warning: {error}");
            }
            Err(error) => {
                eprintln!("goclaw-sandbox-init: {error}");
                return EXIT_SETUP_FAILED;
            }
        }
    }
    if options.seccomp != Enforcement::Off {
        match seccomp::apply() {
            Ok(()) => {}
            Err(error) if options.seccomp == Enforcement::BestEffort => {
                eprintln!("goclaw-sandbox-init: warning: {error}");
            }
            Err(error) => {
                eprintln!("goclaw-sandbox-init: {error}");
                return EXIT_SETUP_FAILED;
            }
        }
    }
    super::exec(&options.argv)
}

/// Sets the rlimits the options ask for, and no core dumps.
pub fn apply_rlimits(options: &InnerOptions) -> Result<(), String> {
    let set = |resource: Resource, soft: u64, hard: u64, what: &str| {
        rlimit::setrlimit(resource, soft, hard).map_err(|e| format!("cannot limit {what}: {e}"))
    };
    set(Resource::CORE, 0, 0, "core dumps")?;
    if let Some(bytes) = options.rlimit_as {
        set(Resource::AS, bytes, bytes, "memory")?;
    }
    if let Some(count) = options.rlimit_nproc {
        set(Resource::NPROC, count, count, "processes")?;
    }
    if let Some(seconds) = options.rlimit_cpu {
        set(
            Resource::CPU,
            seconds,
            seconds.saturating_add(1),
            "CPU time",
        )?;
    }
    Ok(())
}

/// `probe`: applies a permissive Landlock ruleset and the seccomp filter to this process and
/// prints what took effect.
pub fn probe() -> i32 {
    let plan = LandlockPlan::new(Path::new("/"), &[PathBuf::from("/")], &[], &[]);
    let landlock = match plan.restrict_self() {
        Ok(Some(abi)) => abi.to_string(),
        Ok(None) | Err(_) => "none".to_owned(),
    };
    let seccomp = match seccomp::apply() {
        Ok(()) => "ok".to_owned(),
        Err(_) => "error".to_owned(),
    };
    println!("landlock={landlock} seccomp={seccomp}");
    0
}
