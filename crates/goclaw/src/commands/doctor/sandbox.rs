//! The doctor's sandbox section: the mode, the backend `auto` (or the configured one) resolves
//! to and why, and what it enforces. Unhealthy when some agent is sandboxed and no backend can
//! run. Its text keeps the `label: value` lines operators and tests rely on.

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
        text.push("  note:     sandbox.mode is off: agents' commands run on the host".to_owned());
        Check::ok(
            SECTION,
            "backend",
            format!("{detail}; sandbox.mode is off: agents' commands run on the host"),
        )
    } else {
        Check::ok(SECTION, "backend", detail)
    };
    Section {
        title: "Sandbox",
        checks: vec![check],
        text,
    }
}

pub fn mode_name(mode: SandboxMode) -> &'static str {
    match mode {
        SandboxMode::Off => "off",
        SandboxMode::NonMain => "non-main",
        SandboxMode::All => "all",
    }
}
