//! Starting one long-running host process — the bubblewrap command line of a sandboxed
//! command — with its standard streams kept open, and killing it with everything it started
//! when its [`SandboxProcess`] goes.
//!
//! The process leads a process group of its own; killing the group kills bubblewrap, whose
//! sandboxed child dies with it (`--die-with-parent`), and with it the sandbox's whole PID
//! namespace. The command's cgroup (when there are cgroups) is then emptied and removed, which
//! also catches anything that escaped the namespace.

use std::process::Stdio;
use std::sync::Arc;

use goclaw_core::{ProcessReaper, SandboxError, SandboxProcess};

use super::bwrap::SANDBOX_PATH;
use super::cgroup::ExecCgroup;
use crate::streams;

/// Starts `program` with `args` in a process group of its own; `cgroup` is the cgroup it
/// joins (removed when the process is killed).
pub fn start(
    program: &str,
    args: &[String],
    cgroup: ExecCgroup,
) -> Result<SandboxProcess, SandboxError> {
    let cgroup = Arc::new(cgroup);
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", SANDBOX_PATH)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            remove_cgroup(cgroup);
            return Err(SandboxError::Backend(format!(
                "cannot start {program}: {error}"
            )));
        }
    };
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        remove_cgroup(cgroup);
        return Err(SandboxError::Backend(
            "the sandboxed process has no standard streams".to_owned(),
        ));
    };
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    let reaper = GroupReaper {
        child: Some(child),
        group,
        cgroup,
    };
    Ok(SandboxProcess::new(
        streams::stdin(stdin),
        streams::output(stdout),
        streams::output(stderr),
        Box::new(reaper),
    ))
}

/// Kills a spawned process's group, reaps it, and removes its cgroup.
#[derive(Debug)]
struct GroupReaper {
    /// Held un-waited until the kill, so the group's id cannot be reused before it.
    child: Option<tokio::process::Child>,
    group: Option<rustix::process::Pid>,
    cgroup: Arc<ExecCgroup>,
}

impl ProcessReaper for GroupReaper {
    fn kill(&mut self) {
        if let Some(group) = self.group.take() {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        // Dropping the child kills it (again) and leaves the reaping to tokio.
        drop(self.child.take());
        remove_cgroup(self.cgroup.clone());
    }
}

/// Empties and removes a command's cgroup, in the background when a runtime is there (it
/// may wait for exiting processes).
fn remove_cgroup(cgroup: Arc<ExecCgroup>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || cgroup.remove());
        }
        Err(_) => cgroup.remove(),
    }
}
