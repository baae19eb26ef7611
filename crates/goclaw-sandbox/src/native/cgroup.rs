//! Cgroups of native sandboxes: one per sandbox under a `goclaw` parent (like a container),
//! with one child per command so a timed-out command's processes can all be found and killed.
//!
//! Version 2 is used when `/sys/fs/cgroup` is the unified hierarchy with the memory and pids
//! controllers; version 1 per controller (memory, pids, cpu) where its hierarchy is writable.
//! Where neither is possible, the sandbox relies on rlimits alone.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The parent of every sandbox's cgroup.
const PARENT: &str = "goclaw";

/// A resource a cgroup can limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Memory,
    Pids,
    Cpu,
}

impl Controller {
    const ALL: [Self; 3] = [Self::Memory, Self::Pids, Self::Cpu];

    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Pids => "pids",
            Self::Cpu => "cpu",
        }
    }
}

/// A sandbox's limits as cgroup values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// 0 = unlimited.
    pub memory_bytes: u64,
    /// 0 = unlimited.
    pub pids: u32,
    /// 0 = unlimited.
    pub cpus: f64,
}

/// Which cgroup hierarchy, if any, the backend manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroups {
    /// No writable cgroups: rlimits only.
    None,
    /// Unified hierarchy; the path is the `goclaw` parent.
    V2 {
        parent: PathBuf,
        controllers: Vec<Controller>,
    },
    /// Version 1: the `goclaw` parent in each writable controller's hierarchy.
    V1(Vec<(Controller, PathBuf)>),
}

impl Cgroups {
    /// Finds what is usable under `root` (normally `/sys/fs/cgroup`), creating the `goclaw`
    /// parents.
    pub fn detect(root: &Path) -> Self {
        if root.join("cgroup.controllers").is_file() {
            return detect_v2(root).unwrap_or(Self::None);
        }
        let mut found = Vec::new();
        for controller in Controller::ALL {
            let hierarchy = root.join(controller.name());
            if !hierarchy.join("cgroup.procs").is_file() {
                continue;
            }
            let parent = hierarchy.join(PARENT);
            let usable = ensure_dir(&parent).is_ok()
                && std::fs::OpenOptions::new()
                    .write(true)
                    .open(parent.join("cgroup.procs"))
                    .is_ok();
            if usable {
                found.push((controller, parent));
            }
        }
        if found.is_empty() {
            Self::None
        } else {
            Self::V1(found)
        }
    }

    /// Whether `controller` limits sandboxes.
    pub fn has(&self, controller: Controller) -> bool {
        match self {
            Self::None => false,
            Self::V2 { controllers, .. } => controllers.contains(&controller),
            Self::V1(list) => list.iter().any(|(c, _)| *c == controller),
        }
    }

    /// One phrase for `doctor`.
    pub fn describe(&self) -> String {
        let names =
            |list: Vec<Controller>| list.iter().map(|c| c.name()).collect::<Vec<_>>().join("+");
        match self {
            Self::None => "no writable cgroups (rlimits only)".to_owned(),
            Self::V2 {
                parent,
                controllers,
            } => format!(
                "cgroup v2 {} at {}",
                names(controllers.clone()),
                parent.display()
            ),
            Self::V1(list) => format!(
                "cgroup v1 {} under <controller>/{PARENT}",
                names(list.iter().map(|(c, _)| *c).collect())
            ),
        }
    }

    /// The sandbox's cgroup directories (one per hierarchy).
    fn sandbox_dirs(&self, name: &str) -> Vec<(Controller, PathBuf)> {
        match self {
            Self::None => Vec::new(),
            Self::V2 {
                parent,
                controllers,
            } => controllers
                .iter()
                .map(|c| (*c, parent.join(name)))
                .collect(),
            Self::V1(list) => list.iter().map(|(c, p)| (*c, p.join(name))).collect(),
        }
    }

    fn distinct_dirs(&self, name: &str) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .sandbox_dirs(name)
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        dirs.dedup();
        dirs
    }

    /// The sandbox's cgroup directories, one per hierarchy.
    pub fn sandbox_paths(&self, name: &str) -> Vec<PathBuf> {
        self.distinct_dirs(name)
    }

    /// Creates the sandbox's cgroup when missing and writes its limits.
    pub fn ensure_sandbox(&self, name: &str, limits: Limits) -> io::Result<()> {
        let v2 = matches!(self, Self::V2 { .. });
        for (controller, dir) in self.sandbox_dirs(name) {
            ensure_dir(&dir)?;
            match (controller, v2) {
                (Controller::Memory, true) => {
                    write(&dir, "memory.max", &max_or(limits.memory_bytes))?;
                    if dir.join("memory.swap.max").exists() {
                        write(&dir, "memory.swap.max", "0")?;
                    }
                }
                (Controller::Memory, false) => {
                    let value = if limits.memory_bytes == 0 {
                        "-1".to_owned()
                    } else {
                        limits.memory_bytes.to_string()
                    };
                    // memsw must stay >= the limit: try both orders.
                    let first = write(&dir, "memory.limit_in_bytes", &value);
                    if dir.join("memory.memsw.limit_in_bytes").exists() {
                        write(&dir, "memory.memsw.limit_in_bytes", &value)?;
                    }
                    if first.is_err() {
                        write(&dir, "memory.limit_in_bytes", &value)?;
                    }
                }
                (Controller::Pids, _) => {
                    write(&dir, "pids.max", &max_or(u64::from(limits.pids)))?;
                }
                (Controller::Cpu, true) => {
                    let value = match quota(limits.cpus) {
                        Some(quota) => format!("{quota} 100000"),
                        None => "max 100000".to_owned(),
                    };
                    write(&dir, "cpu.max", &value)?;
                }
                (Controller::Cpu, false) => {
                    write(&dir, "cpu.cfs_period_us", "100000")?;
                    let value = quota(limits.cpus).map_or("-1".to_owned(), |q| q.to_string());
                    write(&dir, "cpu.cfs_quota_us", &value)?;
                }
            }
        }
        Ok(())
    }

    /// Creates a child cgroup of the sandbox's for one command.
    pub fn create_exec(&self, name: &str, id: &str) -> io::Result<ExecCgroup> {
        let mut dirs = Vec::new();
        for dir in self.distinct_dirs(name) {
            let child = dir.join(format!("exec-{id}"));
            if let Err(error) = std::fs::create_dir(&child) {
                ExecCgroup { dirs }.remove();
                return Err(error);
            }
            dirs.push(child);
        }
        Ok(ExecCgroup { dirs })
    }

    /// Kills every process in the sandbox's cgroup and removes it.
    pub fn remove_sandbox(&self, name: &str) -> io::Result<()> {
        let dirs = self.distinct_dirs(name);
        for dir in &dirs {
            kill_all(dir);
        }
        let mut result = Ok(());
        for dir in &dirs {
            if dir.exists()
                && let Err(error) = remove_tree(dir)
            {
                result = Err(error);
            }
        }
        result
    }
}

fn detect_v2(root: &Path) -> Option<Cgroups> {
    let available = std::fs::read_to_string(root.join("cgroup.controllers")).ok()?;
    let wanted: Vec<Controller> = Controller::ALL
        .into_iter()
        .filter(|c| available.split_whitespace().any(|a| a == c.name()))
        .collect();
    if !wanted.contains(&Controller::Memory) || !wanted.contains(&Controller::Pids) {
        return None;
    }
    let enable = wanted
        .iter()
        .map(|c| format!("+{}", c.name()))
        .collect::<Vec<_>>()
        .join(" ");
    // Already enabled is fine; failing here leaves the check below to decide.
    let _ = std::fs::write(root.join("cgroup.subtree_control"), &enable);
    let parent = root.join(PARENT);
    ensure_dir(&parent).ok()?;
    let _ = std::fs::write(parent.join("cgroup.subtree_control"), &enable);
    let enabled = std::fs::read_to_string(parent.join("cgroup.subtree_control")).ok()?;
    let controllers: Vec<Controller> = wanted
        .into_iter()
        .filter(|c| enabled.split_whitespace().any(|e| e == c.name()))
        .collect();
    if !controllers.contains(&Controller::Memory) || !controllers.contains(&Controller::Pids) {
        return None;
    }
    Some(Cgroups::V2 {
        parent,
        controllers,
    })
}

/// The cgroup of one command (one directory per hierarchy).
#[derive(Debug, Default)]
pub struct ExecCgroup {
    dirs: Vec<PathBuf>,
}

impl ExecCgroup {
    /// The `cgroup.procs` files a process writes its pid to in order to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// SIGKILLs every process in the cgroup until it is empty (bounded).
    pub fn kill_all(&self) {
        for dir in &self.dirs {
            kill_all(dir);
        }
    }

    /// Kills what is left and removes the directories.
    pub fn remove(&self) {
        for dir in &self.dirs {
            kill_all(dir);
            if let Err(error) = remove_tree(dir) {
                tracing::warn!(cgroup = %dir.display(), %error, "cannot remove a command's cgroup");
            }
        }
    }
}

fn max_or(value: u64) -> String {
    if value == 0 {
        "max".to_owned()
    } else {
        value.to_string()
    }
}

fn quota(cpus: f64) -> Option<u64> {
    if cpus.is_finite() && cpus > 0.0 {
        // At least 1ms per period, which the kernel requires.
        Some(((cpus * 100_000.0).round() as u64).max(1_000))
    } else {
        None
    }
}

fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => Err(error),
        _ => Ok(()),
    }
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    std::fs::write(dir.join(file), value)
        .map_err(|e| io::Error::new(e.kind(), format!("{}/{file}: {e}", dir.display())))
}

/// The pids in `dir` and every cgroup beneath it.
fn pids_beneath(dir: &Path, out: &mut Vec<i32>) {
    if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pids_beneath(&entry.path(), out);
            }
        }
    }
}

/// SIGKILLs every process in `dir` (and beneath) until none is left, for up to ~2 s.
fn kill_all(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let kill_file = dir.join("cgroup.kill");
    for _ in 0..200 {
        let mut pids = Vec::new();
        pids_beneath(dir, &mut pids);
        if pids.is_empty() {
            return;
        }
        if kill_file.exists() {
            let _ = std::fs::write(&kill_file, "1");
        }
        for pid in pids {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    tracing::warn!(cgroup = %dir.display(), "processes survived SIGKILL");
}

/// Removes a cgroup directory and its child cgroups (deepest first), retrying while the
/// kernel still counts exiting processes.
fn remove_tree(dir: &Path) -> io::Result<()> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path())?;
            }
        }
    }
    let mut last = Ok(());
    for _ in 0..50 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => last = Err(error),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    last
}
