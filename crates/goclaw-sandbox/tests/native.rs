//! The native backend against the real kernel: each test fails if its protection is removed,
//! and a spawned process is talked to over its streams from inside the sandbox and dies with
//! its handle.
//! Skipped (with a note) where bubblewrap or a kernel protection (pids cgroup, Landlock) is
//! missing, except under `CI=true`, where a missing prerequisite fails the test.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goclaw_core::{
    ProcessOutput, ProcessStdin, PruneReason, Sandbox, SandboxExec, SandboxOutput, SandboxSpawn,
};
use goclaw_sandbox::native::init::{Enforcement, InnerOptions, LandlockPlan, exec_roots};
use goclaw_sandbox::native::{Controller, NativeOptions, NativeSandbox};
use goclaw_sandbox::{Clock, ManualClock, SandboxSettings, SystemClock, WorkspaceMount};
use tempfile::TempDir;

fn bwrap_available() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("bwrap").is_file()));
    prerequisite(
        found,
        "bwrap is not installed: run scripts/sandbox.sh (installs bubblewrap)",
    )
}

/// Whether a prerequisite of the current test is there; without it the test is skipped with a
/// note, except under `CI=true`, where it fails: CI must exercise every protection.
fn prerequisite(available: bool, missing: &str) -> bool {
    if available {
        return true;
    }
    let current = std::thread::current();
    let test = current.name().unwrap_or("this test");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test} needs a prerequisite that is missing under CI=true: {missing}");
    }
    eprintln!("skipped: {test}: {missing}");
    false
}

struct Fixture {
    _dir: TempDir,
    root: PathBuf,
    workspace: PathBuf,
    settings: SandboxSettings,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let workspace = root.join("ws");
    std::fs::create_dir_all(&workspace).expect("workspace");
    let mut settings = SandboxSettings::new(
        root.join("state"),
        vec![env!("CARGO_BIN_EXE_goclaw-sandbox-init").into()],
    );
    settings.timeout = Duration::from_secs(20);
    Fixture {
        _dir: dir,
        root,
        workspace,
        settings,
    }
}

/// A backend whose sandboxes' cgroups are removed when the test is done with it.
struct Guard(NativeSandbox, PathBuf);

impl std::ops::Deref for Guard {
    type Target = NativeSandbox;
    fn deref(&self) -> &NativeSandbox {
        &self.0
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.1) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            for dir in self.0.cgroup_paths(&name) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

async fn sandbox(settings: &SandboxSettings) -> Guard {
    guard(
        NativeSandbox::probe(settings.clone(), Arc::new(SystemClock))
            .await
            .expect("probe"),
        settings,
    )
}

fn guard(sandbox: NativeSandbox, settings: &SandboxSettings) -> Guard {
    Guard(sandbox, settings.state_dir.clone())
}

async fn sh(sandbox: &NativeSandbox, workspace: &Path, line: &str) -> SandboxOutput {
    let mut exec = SandboxExec::shell("test", workspace, line);
    exec.timeout = Duration::from_secs(20);
    sandbox.exec(exec).await.expect("exec")
}

#[tokio::test]
async fn probe_reports_what_is_enforced() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let sb = sandbox(&f.settings).await;
    let line = sb.describe();
    eprintln!("describe: {line}");
    assert_eq!(sb.backend(), "native");
    assert!(line.contains("native") && !line.contains('\n'));
    let out = sh(&sb, &f.workspace, "echo out; echo err >&2; exit 3").await;
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.exit_code, Some(3));
    let mut exec = SandboxExec::shell("test", &f.workspace, "cat; pwd");
    exec.stdin = Some(b"in-".to_vec());
    exec.workdir = Some("sub".into());
    std::fs::create_dir_all(f.workspace.join("sub")).expect("sub");
    let out = sb.exec(exec).await.expect("exec");
    assert_eq!(out.stdout, b"in-/workspace/sub\n", "{}", out.combined());
}

#[tokio::test]
async fn output_is_capped() {
    if !bwrap_available() {
        return;
    }
    let mut f = fixture();
    f.settings.max_output_bytes = 1000;
    let sb = sandbox(&f.settings).await;
    let out = sh(&sb, &f.workspace, "head -c 100000 /dev/zero; echo done >&2").await;
    assert!(out.success());
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.truncated);
    assert_eq!(out.stderr, b"done\n");
}

#[tokio::test]
async fn writes_stay_in_the_workspace() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let outside = f.root.join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let sb = sandbox(&f.settings).await;
    let target = outside.join("escaped");
    let out = sh(&sb, &f.workspace, &format!("echo x > {}", target.display())).await;
    assert!(
        !out.success(),
        "write outside succeeded: {}",
        out.combined()
    );
    assert!(!target.exists());
    let out = sh(&sb, &f.workspace, "echo hello > /workspace/inside").await;
    assert!(out.success(), "{}", out.combined());
    assert_eq!(
        std::fs::read_to_string(f.workspace.join("inside")).expect("inside"),
        "hello\n"
    );

    let mut ro = f.settings.clone();
    ro.workspace = WorkspaceMount::ReadOnly;
    let sb = sandbox(&ro).await;
    let out = sh(
        &sb,
        &f.workspace,
        "cat /workspace/inside && echo x > /workspace/ro",
    )
    .await;
    assert_eq!(out.stdout, b"hello\n");
    assert!(!out.success());
    assert!(!f.workspace.join("ro").exists());

    let mut none = f.settings.clone();
    none.workspace = WorkspaceMount::None;
    let sb = sandbox(&none).await;
    let out = sh(&sb, &f.workspace, "ls -A /workspace").await;
    assert!(out.success(), "{}", out.combined());
    assert!(out.stdout.is_empty(), "{}", out.combined());
}

#[tokio::test]
async fn read_only_root_is_honoured() {
    if !bwrap_available() {
        return;
    }
    let mut f = fixture();
    f.settings.read_only_root = true;
    let sb = sandbox(&f.settings).await;
    let out = sh(&sb, &f.workspace, "touch /rootfile").await;
    assert!(!out.success(), "{}", out.combined());
    let home = sh(
        &sb,
        &f.workspace,
        "echo $HOME; touch ~/kept && touch /tmp/t",
    )
    .await;
    assert!(home.success(), "{}", home.combined());
    assert_eq!(home.stdout, b"/home/sandbox\n");

    f.settings.read_only_root = false;
    let sb = sandbox(&f.settings).await;
    let out = sh(&sb, &f.workspace, "touch /rootfile").await;
    assert!(out.success(), "{}", out.combined());
    assert!(!Path::new("/rootfile").exists());
}

#[tokio::test]
async fn network_is_cut_unless_enabled() {
    if !bwrap_available() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
    let line = format!("bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}'");

    let mut f = fixture();
    f.settings.network_enabled = false;
    let sb = sandbox(&f.settings).await;
    let out = sh(&sb, &f.workspace, &line).await;
    assert!(
        !out.success(),
        "connected without network: {}",
        out.combined()
    );
    assert!(!accepted.is_finished());

    f.settings.network_enabled = true;
    let sb = sandbox(&f.settings).await;
    let out = sh(&sb, &f.workspace, &line).await;
    assert!(out.success(), "{}", out.combined());
    let accepted = tokio::time::timeout(Duration::from_secs(20), accepted)
        .await
        .expect("accept in time")
        .expect("join");
    assert!(accepted);
}

const MEMORY_HOG: &str = "dd if=/dev/zero of=/dev/null bs=200M count=1";
const MEMORY_SMALL: &str = "dd if=/dev/zero of=/dev/null bs=4M count=1";

#[tokio::test]
async fn memory_limit_stops_a_hog() {
    if !bwrap_available() {
        return;
    }
    let mut f = fixture();
    f.settings.memory_mb = 64;
    let sb = sandbox(&f.settings).await;
    eprintln!("{}", sb.describe());
    let out = sh(&sb, &f.workspace, MEMORY_HOG).await;
    assert!(!out.success(), "hog succeeded: {}", out.combined());
    let out = sh(&sb, &f.workspace, MEMORY_SMALL).await;
    assert!(out.success(), "{}", out.combined());
}

#[tokio::test]
async fn memory_limit_without_cgroups_uses_rlimits() {
    if !bwrap_available() {
        return;
    }
    let mut f = fixture();
    f.settings.memory_mb = 64;
    let options = NativeOptions {
        cgroups: false,
        ..NativeOptions::default()
    };
    let sb = NativeSandbox::probe_with(f.settings.clone(), Arc::new(SystemClock), options)
        .await
        .expect("probe");
    let sb = guard(sb, &f.settings);
    assert!(!sb.cgroup_enforces(Controller::Memory));
    assert!(sb.describe().contains("AS"));
    let out = sh(&sb, &f.workspace, MEMORY_HOG).await;
    assert!(!out.success(), "hog succeeded: {}", out.combined());
    let out = sh(&sb, &f.workspace, MEMORY_SMALL).await;
    assert!(out.success(), "{}", out.combined());
}

#[tokio::test]
async fn pids_limit_stops_a_fork_bomb() {
    if !bwrap_available() {
        return;
    }
    let mut f = fixture();
    f.settings.pids_limit = 64;
    let sb = sandbox(&f.settings).await;
    // RLIMIT_NPROC does not bind root; only the cgroup enforces it here.
    if !prerequisite(
        sb.cgroup_enforces(Controller::Pids),
        &format!("no writable pids cgroup ({})", sb.describe()),
    ) {
        return;
    }
    let started = Instant::now();
    let mut exec = SandboxExec::shell(
        "test",
        &f.workspace,
        "i=0; while [ $i -lt 200 ]; do sleep 30 & echo started; i=$((i+1)); done",
    );
    exec.timeout = Duration::from_secs(10);
    let out = sb.exec(exec).await.expect("exec");
    let count = String::from_utf8_lossy(&out.stdout)
        .matches("started")
        .count();
    eprintln!("started {count} sleeps");
    assert!(count > 0);
    assert!(count <= 64, "started {count} processes");
    assert!(started.elapsed() < Duration::from_secs(60));
}

fn host_processes_with(args: &[&str]) -> usize {
    let needle: Vec<u8> = args.join("\0").into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| {
            cmdline
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
        })
        .count()
}

#[tokio::test]
async fn timeout_kills_every_process() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let sb = sandbox(&f.settings).await;
    let mut exec = SandboxExec::shell("test", &f.workspace, "sleep 3171 & sleep 3172");
    exec.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let out = sb.exec(exec).await.expect("exec");
    assert!(out.timed_out);
    assert_eq!(out.exit_code, None);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(host_processes_with(&["sleep", "3171"]), 0);
    assert_eq!(host_processes_with(&["sleep", "3172"]), 0);
}

#[tokio::test]
async fn gateway_environment_is_not_passed_on() {
    if !bwrap_available() {
        return;
    }
    assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
    let mut f = fixture();
    f.settings.env = vec![("FROM_SETTINGS".into(), "settings-value".into())];
    let sb = sandbox(&f.settings).await;
    let mut exec = SandboxExec::shell("test", &f.workspace, "env");
    exec.env = BTreeMap::from([("FROM_REQUEST".into(), "request-value".into())]);
    let out = sb.exec(exec).await.expect("exec");
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(!env.contains("CARGO_PKG_NAME"), "{env}");
    assert!(!env.contains("CARGO_MANIFEST_DIR"), "{env}");
    assert!(env.contains("FROM_SETTINGS=settings-value"), "{env}");
    assert!(env.contains("FROM_REQUEST=request-value"), "{env}");
    assert!(env.contains("HOME=/home/sandbox"), "{env}");
    assert!(env.contains("LANG=C.UTF-8"), "{env}");
}

#[tokio::test]
async fn seccomp_denies_namespaces_and_mounts() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let sb = sandbox(&f.settings).await;
    if !prerequisite(
        sb.describe().contains("seccomp filter"),
        &format!("the kernel offers no seccomp filter ({})", sb.describe()),
    ) {
        return;
    }
    let out = sh(&sb, &f.workspace, "unshare -U true").await;
    assert!(!out.success(), "{}", out.combined());
    assert!(
        out.combined().contains("Operation not permitted"),
        "{}",
        out.combined()
    );
    let out = sh(&sb, &f.workspace, "mount -t tmpfs none /tmp").await;
    assert!(!out.success(), "{}", out.combined());
}

#[tokio::test]
async fn landlock_denies_writes_bubblewrap_allows() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let sb = sandbox(&f.settings).await;
    if !prerequisite(
        sb.describe().contains("Landlock ABI"),
        &format!("the kernel offers no Landlock ({})", sb.describe()),
    ) {
        return;
    }
    // bubblewrap's /dev is a writable tmpfs; Landlock lets files there be written, not created.
    let out = sh(
        &sb,
        &f.workspace,
        "echo x > /dev/null && touch /dev/created",
    )
    .await;
    assert!(!out.success(), "{}", out.combined());
    assert!(
        out.combined().contains("Permission denied"),
        "{}",
        out.combined()
    );
    // Nothing copied to /tmp may be executed.
    let out = sh(&sb, &f.workspace, "cp /bin/true /tmp/t && /tmp/t").await;
    assert!(!out.success(), "{}", out.combined());
    let mut exec_ok = f.settings.clone();
    exec_ok.allow_tmp_exec = true;
    let sb = sandbox(&exec_ok).await;
    let out = sh(&sb, &f.workspace, "cp /bin/true /tmp/t && /tmp/t").await;
    assert!(out.success(), "{}", out.combined());
}

#[test]
fn landlock_plan_grants_exec_outside_noexec_and_write_only_where_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["usr", "tmp", "var/tmp", "var/lib", "workspace"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
    }
    let root = dir.path();
    let noexec = [root.join("tmp"), root.join("var/tmp")];
    let roots = exec_roots(root, &noexec);
    assert!(roots.contains(&root.join("usr")));
    assert!(roots.contains(&root.join("var/lib")));
    assert!(!roots.iter().any(|p| p.starts_with(root.join("tmp"))));
    assert!(!roots.contains(&root.join("var")));
    assert!(!roots.contains(&root.join("var/tmp")));

    let plan = LandlockPlan::new(root, &[root.join("workspace")], &[], &noexec);
    let writable: Vec<&PathBuf> = plan
        .rules
        .iter()
        .filter(|(_, access)| access.contains(landlock::AccessFs::WriteFile))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(writable, vec![&root.join("workspace")]);
    assert!(
        plan.rules
            .iter()
            .all(|(_, a)| !(a.contains(landlock::AccessFs::WriteFile)
                && a.contains(landlock::AccessFs::Execute)))
    );
}

#[test]
fn init_options_round_trip() {
    let options = InnerOptions {
        rw: vec!["/tmp".into()],
        rw_files: vec!["/dev".into()],
        noexec: vec!["/tmp".into()],
        landlock: Enforcement::BestEffort,
        seccomp: Enforcement::Require,
        rlimit_as: Some(1 << 26),
        rlimit_nproc: None,
        rlimit_cpu: Some(3),
        argv: vec!["sh".into(), "-c".into(), "--rw x".into()],
    };
    assert_eq!(InnerOptions::parse(&options.to_args()), Ok(options));
    assert!(InnerOptions::parse(&["--bogus".into()]).is_err());
    assert!(InnerOptions::parse(&["--".into()]).is_err());
    assert!(goclaw_sandbox::native::init::seccomp_filters().is_ok());
}

#[tokio::test]
async fn pruning_follows_the_clock_and_survives_restarts() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    let start = chrono::Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let mut settings = f.settings.clone();
    settings.idle_hours = 2;
    settings.max_age_days = 1;
    let sb = NativeSandbox::probe(settings.clone(), clock.clone())
        .await
        .expect("probe");
    let busy_ws = f.root.join("busy");
    let idle = sh(&sb, &f.workspace, "true").await;
    assert!(idle.success(), "{}", idle.combined());
    assert!(sh(&sb, &busy_ws, "true").await.success());
    let listed = sb.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    let idle_name = goclaw_sandbox::sandbox_name("test", &f.workspace);
    let busy_name = goclaw_sandbox::sandbox_name("test", &busy_ws);
    let idle_cgroups = sb.cgroup_paths(&idle_name);
    assert!(idle_cgroups.iter().all(|p| p.is_dir()));
    assert!(sb.state_path(&idle_name).is_dir());

    // A new backend over the same state sees the same sandboxes and times.
    let again = NativeSandbox::probe(settings.clone(), clock.clone())
        .await
        .expect("probe");
    assert_eq!(again.list().await.expect("list"), listed);

    // Keep `busy` in use every hour; `idle` goes idle after 2 h.
    let mut pruned = Vec::new();
    for _ in 0..30 {
        clock.advance(chrono::Duration::hours(1));
        assert!(sh(&again, &busy_ws, "true").await.success());
        pruned.extend(again.prune().await.expect("prune").removed);
        if pruned.iter().any(|(name, _)| *name == busy_name) {
            break;
        }
    }
    assert_eq!(
        pruned,
        vec![
            (idle_name.clone(), PruneReason::Idle),
            (busy_name.clone(), PruneReason::MaxAge)
        ]
    );
    assert!(!sb.state_path(&idle_name).exists());
    assert!(idle_cgroups.iter().all(|p| !p.exists()));
    assert!(again.cgroup_paths(&busy_name).iter().all(|p| !p.exists()));
    assert_eq!(clock.now() - start, chrono::Duration::hours(25));

    // remove_all clears whatever is left.
    assert!(sh(&again, &f.workspace, "true").await.success());
    assert_eq!(again.remove_all().await.expect("remove_all"), 1);
    assert!(again.list().await.expect("list").is_empty());
}

/// Host processes whose command line holds `marker` (a zombie's is empty, so it never counts).
fn processes_with(marker: &str) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline")).is_ok_and(|cmdline| {
                cmdline
                    .windows(marker.len())
                    .any(|window| window == marker.as_bytes())
            })
        })
        .count()
}

/// Writes `bytes` to a spawned process's standard input.
async fn send(stdin: &mut ProcessStdin, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = poll_fn(|cx| stdin.as_mut().poll_write(cx, rest))
            .await
            .expect("writing to the process");
        rest = &rest[n..];
    }
    poll_fn(|cx| stdin.as_mut().poll_flush(cx))
        .await
        .expect("flushing");
}

/// One line (without its newline) of a spawned process's output; `None` at its end.
async fn line(output: &mut ProcessOutput) -> Option<String> {
    let mut bytes = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        let read = poll_fn(|cx| output.as_mut().poll_read(cx, &mut byte));
        let n = tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the process answered in time")
            .expect("reading from the process");
        if n == 0 {
            return (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned());
        }
        if byte[0] == b'\n' {
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        bytes.push(byte[0]);
    }
}

#[tokio::test]
async fn a_spawned_process_talks_over_its_streams_from_inside_and_dies_when_dropped() {
    if !bwrap_available() {
        return;
    }
    let f = fixture();
    std::fs::write(f.workspace.join("note.txt"), "in-workspace").expect("note");
    let host_file = f.root.join("host-only.txt");
    std::fs::write(&host_file, "host").expect("host file");
    let marker = format!("goclaw-spawn-{}", uuid::Uuid::new_v4().simple());
    let sb = sandbox(&f.settings).await;
    let script = "echo started; echo warming >&2; while read -r word; do \
                  echo \"got=$word host=$(hostname) cwd=$(pwd) note=$(cat note.txt) \
                  home=$HOME extra=$EXTRA hostfile=$(test -e \"$1\" && echo visible || echo hidden)\"; \
                  done";
    let request = SandboxSpawn {
        key: "test".to_owned(),
        workspace: f.workspace.clone(),
        argv: ["sh", "-c", script, &marker, &host_file.to_string_lossy()]
            .map(str::to_owned)
            .to_vec(),
        workdir: None,
        env: BTreeMap::from([("EXTRA".to_owned(), "passed".to_owned())]),
    };
    let mut process = sb.spawn(request).await.expect("spawn");
    let mut stdin = process.take_stdin().expect("stdin");
    let mut stdout = process.take_stdout().expect("stdout");
    let mut stderr = process.take_stderr().expect("stderr");
    assert_eq!(line(&mut stdout).await.as_deref(), Some("started"));
    assert_eq!(line(&mut stderr).await.as_deref(), Some("warming"));
    for word in ["one", "two"] {
        send(&mut stdin, format!("{word}\n").as_bytes()).await;
        assert_eq!(
            line(&mut stdout).await.unwrap_or_default(),
            format!(
                "got={word} host=sandbox cwd=/workspace note=in-workspace home=/home/sandbox \
                 extra=passed hostfile=hidden"
            )
        );
    }
    assert_eq!(sb.list().await.expect("list").len(), 1, "one sandbox");
    assert!(processes_with(&marker) > 0, "the process runs");

    drop(process);
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&marker) > 0 {
        assert!(
            Instant::now() < deadline,
            "the sandboxed processes outlived their handle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(line(&mut stdout).await, None, "its output ended");

    // Closing standard input lets a process end by itself; its output then ends.
    let mut request = SandboxSpawn {
        key: "test".to_owned(),
        workspace: f.workspace.clone(),
        argv: vec!["cat".to_owned()],
        workdir: None,
        env: BTreeMap::new(),
    };
    let mut cat = sb.spawn(request.clone()).await.expect("spawn cat");
    let mut stdin = cat.take_stdin().expect("stdin");
    let mut stdout = cat.take_stdout().expect("stdout");
    send(&mut stdin, b"last words").await;
    poll_fn(|cx| stdin.as_mut().poll_close(cx))
        .await
        .expect("closing stdin");
    assert_eq!(line(&mut stdout).await.as_deref(), Some("last words"));
    assert_eq!(line(&mut stdout).await, None);

    request.argv = Vec::new();
    assert!(sb.spawn(request).await.is_err(), "an empty command");
    assert_eq!(sb.remove_all().await.expect("remove_all"), 1);
}
