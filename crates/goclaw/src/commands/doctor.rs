//! `goclaw doctor`: checks the installation and says what the gateway would use, and why.
//!
//! Each section prints `label: value` lines; a section that finds a problem says what to do.

use std::process::ExitCode;

use goclaw_config::{LoadedConfig, SandboxMode};

pub async fn run(loaded: &LoadedConfig) -> anyhow::Result<ExitCode> {
    let healthy = sandbox(loaded).await;
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The sandbox section: mode, the backend `auto`/the configured one resolves to, and what it
/// enforces. Unhealthy when some agent is sandboxed and no backend can run.
async fn sandbox(loaded: &LoadedConfig) -> bool {
    let config = &loaded.config.agents.defaults.sandbox;
    let selection = crate::sandbox::select(loaded).await;
    println!("Sandbox");
    println!("  mode:     {}", mode_name(config.mode));
    println!("  backend:  {}", selection.backend);
    println!("  why:      {}", selection.reason);
    if let Some(sandbox) = &selection.sandbox {
        println!("  enforces: {}", sandbox.describe());
    }
    let overrides: Vec<String> = loaded
        .config
        .agents
        .list
        .iter()
        .filter_map(|(id, spec)| Some(format!("{id}={}", mode_name(spec.sandbox.as_ref()?.mode))))
        .collect();
    if !overrides.is_empty() {
        println!("  agents:   {}", overrides.join(", "));
    }
    let sandboxed = config.mode != SandboxMode::Off
        || loaded.config.agents.list.values().any(|spec| {
            spec.sandbox
                .as_ref()
                .is_some_and(|s| s.mode != SandboxMode::Off)
        });
    if sandboxed && selection.sandbox.is_none() {
        println!(
            "  problem:  sandboxed agents cannot run exec or file tools; install bubblewrap or \
             start Docker, or set sandbox.mode to \"off\""
        );
        return false;
    }
    if !sandboxed {
        println!("  note:     sandbox.mode is off: agents' commands run on the host");
    }
    true
}

fn mode_name(mode: SandboxMode) -> &'static str {
    match mode {
        SandboxMode::Off => "off",
        SandboxMode::NonMain => "non-main",
        SandboxMode::All => "all",
    }
}
