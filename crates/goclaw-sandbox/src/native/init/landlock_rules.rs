//! The Landlock ruleset of a sandboxed command: read everywhere visible, execute outside the
//! no-exec directories, write only to the directories the host allows.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, BitFlags, LandlockStatus, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus,
};

/// The newest ABI this code asks for; older kernels get the subset they know (best effort).
const TARGET_ABI: ABI = ABI::V10;

/// The rules to apply, as paths (inside the sandbox) and the rights on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockPlan {
    /// Everything the ruleset restricts.
    pub handled: BitFlags<AccessFs>,
    /// `(path, rights)` rules, each covering the path and everything beneath it.
    pub rules: Vec<(PathBuf, BitFlags<AccessFs>)>,
}

impl LandlockPlan {
    /// The plan for `root` (`/` inside a sandbox): read on `root`, execute on every entry not
    /// under a `noexec` path, all but execute on `rw`, writing existing files on `rw_files`.
    pub fn new(root: &Path, rw: &[PathBuf], rw_files: &[PathBuf], noexec: &[PathBuf]) -> Self {
        let handled =
            AccessFs::from_all(TARGET_ABI) & !(AccessFs::IoctlDev | AccessFs::ResolveUnix);
        let read = AccessFs::ReadFile | AccessFs::ReadDir;
        let write = handled & !AccessFs::Execute;
        let write_files = AccessFs::WriteFile | AccessFs::Truncate;
        let mut rules = vec![(root.to_path_buf(), read)];
        for path in exec_roots(root, noexec) {
            rules.push((path, BitFlags::from(AccessFs::Execute)));
        }
        for path in rw {
            rules.push((path.clone(), write));
        }
        for path in rw_files {
            rules.push((path.clone(), write_files));
        }
        Self { handled, rules }
    }

    /// Restricts this process (and what it execs) to the plan. Missing paths are skipped.
    /// Returns the kernel's Landlock ABI when it enforces the ruleset, `None` when it cannot.
    pub fn restrict_self(&self) -> Result<Option<i32>, String> {
        let mut ruleset = Ruleset::default()
            .handle_access(self.handled)
            .map_err(|e| format!("landlock: {e}"))?
            .create()
            .map_err(|e| format!("landlock: {e}"))?;
        for (path, access) in &self.rules {
            let Ok(fd) = PathFd::new(path) else { continue };
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, *access))
                .map_err(|e| format!("landlock rule for {}: {e}", path.display()))?;
        }
        let status = ruleset
            .restrict_self()
            .map_err(|e| format!("landlock: {e}"))?;
        if status.ruleset == RulesetStatus::NotEnforced {
            return Ok(None);
        }
        Ok(match status.landlock {
            LandlockStatus::Available {
                kernel_abi: Some(abi),
                ..
            } => Some(abi),
            LandlockStatus::Available { effective_abi, .. } => Some(effective_abi as i32),
            _ => None,
        })
    }
}

/// The entries of `root` that may be executed from: every entry, except that a `noexec` path
/// is left out and the directories above one are descended into instead.
pub fn exec_roots(root: &Path, noexec: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, noexec, &mut out, 0);
    out
}

fn walk(dir: &Path, noexec: &[PathBuf], out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if noexec.iter().any(|n| n == &path) {
            continue;
        }
        let above_noexec = noexec.iter().any(|n| n.starts_with(&path));
        if above_noexec && depth < 16 && path.is_dir() && !path.is_symlink() {
            walk(&path, noexec, out, depth + 1);
        } else if !above_noexec {
            out.push(path);
        }
    }
}
