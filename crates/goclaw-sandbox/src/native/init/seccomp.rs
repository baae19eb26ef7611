//! The seccomp filter of a sandboxed command: everything allowed except system calls that
//! administer the kernel, mounts, namespaces or other processes, which fail with `EPERM`.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// System calls that fail with `EPERM` (besides `clone` with namespace flags, and `clone3`,
/// which fails with `ENOSYS` so that libc falls back to the inspectable `clone`).
pub const DENIED_SYSCALLS: &[&str] = &[
    "mount",
    "umount2",
    "pivot_root",
    "ptrace",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "unshare",
    "setns",
    "reboot",
    "swapon",
    "swapoff",
    "open_by_handle_at",
    "userfaultfd",
    "process_vm_readv",
    "process_vm_writev",
    "acct",
    "quotactl",
    "syslog",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "mount_setattr",
];

const EPERM: u32 = 1;
const ENOSYS: u32 = 38;

/// `CLONE_NEW*` flags: a `clone` asking for any of them is refused like `unshare`.
const CLONE_NAMESPACE_FLAGS: [u64; 7] = [
    0x0002_0000, // CLONE_NEWNS
    0x0200_0000, // CLONE_NEWCGROUP
    0x0400_0000, // CLONE_NEWUTS
    0x0800_0000, // CLONE_NEWIPC
    0x1000_0000, // CLONE_NEWUSER
    0x2000_0000, // CLONE_NEWPID
    0x4000_0000, // CLONE_NEWNET
];

#[cfg(target_arch = "x86_64")]
const ARCH: Option<TargetArch> = Some(TargetArch::x86_64);
#[cfg(target_arch = "aarch64")]
const ARCH: Option<TargetArch> = Some(TargetArch::aarch64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ARCH: Option<TargetArch> = None;

/// The system call number of `name` on this architecture.
fn number(name: &str) -> Option<i64> {
    #[cfg(target_arch = "x86_64")]
    let table: &[(&str, i64)] = &[
        ("mount", 165),
        ("umount2", 166),
        ("pivot_root", 155),
        ("ptrace", 101),
        ("kexec_load", 246),
        ("kexec_file_load", 320),
        ("init_module", 175),
        ("finit_module", 313),
        ("delete_module", 176),
        ("bpf", 321),
        ("perf_event_open", 298),
        ("keyctl", 250),
        ("add_key", 248),
        ("request_key", 249),
        ("unshare", 272),
        ("setns", 308),
        ("reboot", 169),
        ("swapon", 167),
        ("swapoff", 168),
        ("open_by_handle_at", 304),
        ("userfaultfd", 323),
        ("process_vm_readv", 310),
        ("process_vm_writev", 311),
        ("acct", 163),
        ("quotactl", 179),
        ("syslog", 103),
        ("open_tree", 428),
        ("move_mount", 429),
        ("fsopen", 430),
        ("fsconfig", 431),
        ("fsmount", 432),
        ("mount_setattr", 442),
        ("clone", 56),
        ("clone3", 435),
    ];
    #[cfg(target_arch = "aarch64")]
    let table: &[(&str, i64)] = &[
        ("mount", 40),
        ("umount2", 39),
        ("pivot_root", 41),
        ("ptrace", 117),
        ("kexec_load", 104),
        ("kexec_file_load", 294),
        ("init_module", 105),
        ("finit_module", 273),
        ("delete_module", 106),
        ("bpf", 280),
        ("perf_event_open", 241),
        ("keyctl", 219),
        ("add_key", 217),
        ("request_key", 218),
        ("unshare", 97),
        ("setns", 268),
        ("reboot", 142),
        ("swapon", 224),
        ("swapoff", 225),
        ("open_by_handle_at", 265),
        ("userfaultfd", 282),
        ("process_vm_readv", 270),
        ("process_vm_writev", 271),
        ("acct", 89),
        ("quotactl", 60),
        ("syslog", 116),
        ("open_tree", 428),
        ("move_mount", 429),
        ("fsopen", 430),
        ("fsconfig", 431),
        ("fsmount", 432),
        ("mount_setattr", 442),
        ("clone", 220),
        ("clone3", 435),
    ];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let table: &[(&str, i64)] = &[];
    table.iter().find(|(n, _)| *n == name).map(|(_, nr)| *nr)
}

/// The compiled filters, in the order to install them.
pub fn filters() -> Result<Vec<BpfProgram>, String> {
    let arch = ARCH.ok_or("seccomp filter not available on this architecture")?;
    let nr = |name: &str| number(name).ok_or(format!("no syscall number for {name}"));
    let mut deny: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for name in DENIED_SYSCALLS {
        deny.insert(nr(name)?, Vec::new());
    }
    let mut clone_rules = Vec::new();
    for flag in CLONE_NAMESPACE_FLAGS {
        let condition = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )
        .map_err(|e| e.to_string())?;
        clone_rules.push(SeccompRule::new(vec![condition]).map_err(|e| e.to_string())?);
    }
    deny.insert(nr("clone")?, clone_rules);
    let deny = SeccompFilter::new(
        deny,
        SeccompAction::Allow,
        SeccompAction::Errno(EPERM),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let clone3 = SeccompFilter::new(
        BTreeMap::from([(nr("clone3")?, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(ENOSYS),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let mut programs = Vec::new();
    for filter in [deny, clone3] {
        programs.push(BpfProgram::try_from(filter).map_err(|e| e.to_string())?);
    }
    Ok(programs)
}

/// Installs the filters on this thread (and what it execs).
pub fn apply() -> Result<(), String> {
    for program in filters()? {
        seccompiler::apply_filter(&program).map_err(|e| format!("seccomp: {e}"))?;
    }
    Ok(())
}
