//! The doctor's sandbox section: the mode, the backend `auto` (or the configured one) resolves
//! to and why, and what it enforces. Unhealthy when some agent is sandboxed and no backend can
//! run; a warning when only users' tools would need one. Its text keeps the `label: value` lines operators and tests rely on.

use goclaw_config::{LoadedConfig, SandboxMode};

use super::{Check, Section};

const SECTION: &str = "sandbox";

pub async fn section(loaded: &LoadedConfig) -> Section {
    let config = &loaded.config.agents.defaults.sandbox;
    let selection = crate::sandbox::select(loaded).await;
    let mut text = vec![
        format!("  mode:     {}", mode_name(config.mode)),
        format!("  backend:  {}", selection.backend),
        format!("  why:      {}", selection.reason),
    ];
    if let Some(sandbox) = &selection.sandbox {
        text.push(format!("  enforces: {}", sandbox.describe()));
    }
    let overrides: Vec<String> = loaded
        .config
        .agents
        .list
        .iter()
        .filter_map(|(id, spec)| Some(format!("{id}={}", mode_name(spec.sandbox.as_ref()?.mode))))
        .collect();
    if !overrides.is_empty() {
        text.push(format!("  agents:   {}", overrides.join(", ")));
    }
    let sandboxed = config.mode != SandboxMode::Off
        || loaded.config.agents.list.values().any(|spec| {
            spec.sandbox
                .as_ref()
                .is_some_and(|s| s.mode != SandboxMode::Off)
        });
    let detail = format!(
        "mode {}, backend {} ({})",
        mode_name(config.mode),
        selection.backend,
        selection.reason
    );
    let check = if sandboxed && selection.sandbox.is_none() {
        let fix = "install bubblewrap or start Docker, or set sandbox.mode to \"off\"";
        text.push(format!(
            "  problem:  sandboxed agents cannot run exec or file tools; {fix}"
        ));
        Check::fail(SECTION, "backend", detail).fix(fix)
    } else if !sandboxed {
        let (note, check) = off_mode(loaded, selection.sandbox.is_some(), &detail);
        text.push(format!("  note:     {note}"));
        check
    } else {
        Check::ok(SECTION, "backend", detail)
    };
    Section {
        title: "Sandbox",
        checks: vec![check],
        text,
    }
}

/// What `sandbox.mode: off` means for whom: the owner's and admins' commands run on the host;
/// other users' run in the sandbox — or are refused without a backend — unless
/// `tools.host_exec_for_users` puts them on the host too.
fn off_mode(loaded: &LoadedConfig, backend: bool, detail: &str) -> (String, Check) {
    const OFF: &str = "sandbox.mode is off: the owner's and admins' commands run on the host";
    if loaded.config.tools.host_exec_for_users {
        let note = format!("{OFF}, and tools.host_exec_for_users puts every user's there too");
        return (
            note.clone(),
            Check::ok(SECTION, "backend", format!("{detail}; {note}")),
        );
    }
    if backend {
        let note = format!("{OFF}; other users' run in the sandbox");
        return (
            note.clone(),
            Check::ok(SECTION, "backend", format!("{detail}; {note}")),
        );
    }
    let note = format!("{OFF}; other users' exec and file tools are refused (no sandbox backend)");
    let check = Check::warn(SECTION, "backend", format!("{detail}; {note}"))
        .fix("install bubblewrap or start Docker so other users' tools can run in a sandbox");
    (note, check)
}

pub fn mode_name(mode: SandboxMode) -> &'static str {
    match mode {
        SandboxMode::Off => "off",
        SandboxMode::NonMain => "non-main",
        SandboxMode::All => "all",
    }
}
