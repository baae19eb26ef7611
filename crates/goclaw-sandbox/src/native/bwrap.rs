//! The bubblewrap command line of one sandboxed command: namespaces, the read-only system,
//! tmpfs scratch space, the workspace and home, the clean environment, and the inner init.

use std::path::{Path, PathBuf};

use crate::settings::{SandboxSettings, WorkspaceMount};

use super::init::InnerOptions;

/// Where the init program appears inside the sandbox.
pub const INIT_INSIDE: &str = "/run/goclaw/init";
/// The sandbox's home directory (persistent per sandbox).
pub const HOME_INSIDE: &str = "/home/sandbox";
/// `PATH` inside the sandbox.
pub const SANDBOX_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Host directories bound read-only (or recreated as symlinks when they are symlinks).
const SYSTEM_DIRS: [&str; 6] = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"];
/// Host files hidden (replaced by an empty file) even though `/etc` is visible.
const HIDDEN_FILES: [&str; 2] = ["/etc/shadow", "/etc/gshadow"];

/// Everything that shapes one bwrap invocation.
#[derive(Debug, Clone)]
pub struct BwrapPlan<'a> {
    pub settings: &'a SandboxSettings,
    /// The init executable on the host, bound at [`INIT_INSIDE`].
    pub init_exe: &'a Path,
    /// Arguments the init needs before its own (`sandbox-init`).
    pub init_args: &'a [String],
    pub workspace: &'a Path,
    pub home: &'a Path,
    /// Absolute directory inside the sandbox.
    pub workdir: &'a str,
    /// Environment: the defaults, then settings, then the request (later wins).
    pub env: Vec<(String, String)>,
    pub inner: InnerOptions,
}

impl BwrapPlan<'_> {
    /// The arguments after `bwrap`.
    pub fn args(&self) -> Vec<String> {
        let s = self.settings;
        let mut a: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(|i| (*i).to_owned()));
        push(&[
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]);
        if !s.network_enabled {
            push(&["--unshare-net"]);
        }
        push(&[
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--hostname",
            "sandbox",
        ]);
        for (name, value) in &self.env {
            push(&["--setenv", name, value]);
        }
        for dir in SYSTEM_DIRS {
            let host = Path::new(dir);
            match std::fs::read_link(host) {
                Ok(target) => push(&["--symlink", &target.to_string_lossy(), dir]),
                Err(_) => push(&["--ro-bind-try", dir, dir]),
            }
        }
        for file in HIDDEN_FILES {
            if Path::new(file).is_file() {
                push(&["--ro-bind", "/dev/null", file]);
            }
        }
        push(&["--proc", "/proc", "--dev", "/dev"]);
        let size = (s.tmpfs_size_mb > 0).then(|| (u64::from(s.tmpfs_size_mb) << 20).to_string());
        for dir in ["/tmp", "/var/tmp", "/run"] {
            if let Some(size) = &size {
                push(&["--size", size]);
            }
            push(&["--tmpfs", dir]);
        }
        if s.network_enabled {
            // /etc/resolv.conf often points into /run.
            push(&[
                "--ro-bind-try",
                "/run/systemd/resolve",
                "/run/systemd/resolve",
            ]);
        }
        let init = self.init_exe.to_string_lossy();
        push(&["--dir", "/run/goclaw", "--ro-bind", &init, INIT_INSIDE]);
        let workspace = self.workspace.to_string_lossy();
        match s.workspace {
            WorkspaceMount::ReadWrite => {
                push(&["--bind", &workspace, goclaw_core::SANDBOX_WORKDIR])
            }
            WorkspaceMount::ReadOnly => {
                push(&["--ro-bind", &workspace, goclaw_core::SANDBOX_WORKDIR]);
            }
            WorkspaceMount::None => push(&["--tmpfs", goclaw_core::SANDBOX_WORKDIR]),
        }
        push(&["--bind", &self.home.to_string_lossy(), HOME_INSIDE]);
        if s.read_only_root {
            push(&["--remount-ro", "/"]);
        }
        push(&["--chdir", self.workdir, "--", INIT_INSIDE]);
        a.extend(self.init_args.iter().cloned());
        a.push("inner".to_owned());
        a.extend(self.inner.to_args());
        a
    }
}

/// The writable and no-exec directories Landlock gets for these settings.
pub fn landlock_dirs(settings: &SandboxSettings) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut rw: Vec<String> = ["/tmp", "/var/tmp", "/run", HOME_INSIDE]
        .map(str::to_owned)
        .to_vec();
    if settings.workspace == WorkspaceMount::ReadWrite {
        rw.push(goclaw_core::SANDBOX_WORKDIR.to_owned());
    }
    if !settings.read_only_root {
        rw.push("/".to_owned());
    }
    let rw_files = vec!["/dev".to_owned()];
    let mut noexec = vec!["/dev".to_owned()];
    if !settings.allow_tmp_exec {
        noexec.extend(["/tmp", "/var/tmp", "/run"].map(str::to_owned));
    }
    (rw, rw_files, noexec)
}

/// The absolute working directory inside the sandbox for a request's `workdir`.
pub fn resolve_workdir(workdir: Option<&str>) -> Result<String, String> {
    let Some(dir) = workdir.filter(|d| !d.is_empty()) else {
        return Ok(goclaw_core::SANDBOX_WORKDIR.to_owned());
    };
    if dir.contains('\0') {
        return Err("working directory contains a NUL byte".to_owned());
    }
    if dir.starts_with('/') {
        Ok(dir.to_owned())
    } else {
        Ok(format!("{}/{dir}", goclaw_core::SANDBOX_WORKDIR))
    }
}

/// Checks an environment variable; errors name the variable, never its value.
pub fn check_env(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(format!("invalid environment variable name {name:?}"));
    }
    if value.contains('\0') {
        return Err(format!("environment variable {name} contains a NUL byte"));
    }
    Ok(())
}

/// Finds `program` on the host: itself when it has a slash, else the first match on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
