//! `goclaw doctor [--json] [--production]`: checks the installation and says what the gateway
//! would use, and why.
//!
//! Every finding is a [`Check`] with a status; the plain doctor groups them in sections
//! (runtime, config file, database, provider keys, channels, external tools, MCP servers,
//! sandbox, workspace), `--production` audits the deployment against the production checklist
//! (`production.rs`). Text output lists them; `--json` prints one document
//! `{ "checks": [...], "ok": bool }`. Either way the exit code is non-zero when a check fails.
//! Secrets are only ever shown masked (`abcd****wxyz`). Settings of features this version does
//! not have are reported as `unused` ("configured, not used by this version"), never as OK.

mod channels;
mod checks;
mod mcp;
mod memory;
mod probe;
mod production;
mod sandbox;
mod unused;
mod vault;

use std::path::Path;
use std::process::ExitCode;

use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use crate::cli::DoctorArgs;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Something a program cannot verify; the detail says what to check by hand.
    Manual,
    /// Configured for a feature this version does not have: nothing reads it (never OK).
    Unused,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Check {
    pub section: &'static str,
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// What to do about it, when the status is not OK.
    pub fix: Option<String>,
    /// The production checklist item it covers (`--production` only).
    pub item: Option<&'static str>,
}

impl Check {
    pub fn new(
        section: &'static str,
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            section,
            name: name.into(),
            status,
            detail: detail.into(),
            fix: None,
            item: None,
        }
    }

    pub fn ok(section: &'static str, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(section, name, Status::Ok, detail)
    }

    pub fn warn(section: &'static str, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(section, name, Status::Warn, detail)
    }

    pub fn fail(section: &'static str, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(section, name, Status::Fail, detail)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn item(mut self, item: &'static str) -> Self {
        self.item = Some(item);
        self
    }
}

/// A titled group of checks. `text`, when present, is printed instead of the checks in the
/// text output (the sandbox section keeps its `label: value` form).
pub struct Section {
    pub title: &'static str,
    pub checks: Vec<Check>,
    pub text: Vec<String>,
}

impl Section {
    pub fn new(title: &'static str, checks: Vec<Check>) -> Self {
        Self {
            title,
            checks,
            text: Vec::new(),
        }
    }
}

/// The configuration as the doctor sees it: loaded when it can be, else defaults and the
/// environment, with the reason loading failed.
pub struct ConfigState {
    pub loaded: LoadedConfig,
    pub error: Option<goclaw_config::ConfigError>,
}

pub async fn run(
    explicit: Option<&Path>,
    env: &Environment,
    args: &DoctorArgs,
) -> anyhow::Result<ExitCode> {
    let state = match goclaw_config::load(explicit, env) {
        Ok(loaded) => ConfigState {
            loaded,
            error: None,
        },
        Err(error) => {
            // Report the broken file, and check everything else as the defaults would run.
            let path = goclaw_config::config_path(explicit, env);
            let loaded = goclaw_config::load_str("{}", &path, env).map_err(|e| {
                anyhow::anyhow!("{error}; without the file the environment is invalid too: {e}")
            })?;
            ConfigState {
                loaded,
                error: Some(error),
            }
        }
    };
    let sections = if args.production {
        production::audit(&state, env).await
    } else {
        checks::all(&state).await
    };
    let failed = sections
        .iter()
        .flat_map(|s| &s.checks)
        .any(|c| c.status == Status::Fail);
    if args.json {
        println!("{}", to_json(&sections, args.production, !failed));
    } else {
        print_text(&sections, args.production);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The word a status prints as: `ok/warn/FAIL/unused` in the doctor,
/// `PASS/WARN/FAIL/MANUAL/UNUSED` in the production audit. `--json` uses the same word in lower
/// case.
fn label(status: Status, production: bool) -> &'static str {
    match (status, production) {
        (Status::Ok, false) => "ok",
        (Status::Ok, true) => "PASS",
        (Status::Warn, false) => "warn",
        (Status::Warn, true) => "WARN",
        (Status::Fail, _) => "FAIL",
        (Status::Manual, _) => "MANUAL",
        (Status::Unused, false) => "unused",
        (Status::Unused, true) => "UNUSED",
    }
}

fn print_text(sections: &[Section], production: bool) {
    let mut counts = [0usize; 5];
    for section in sections {
        println!("{}", section.title);
        for check in &section.checks {
            counts[check.status as usize] += 1;
        }
        if !section.text.is_empty() {
            for line in &section.text {
                println!("{line}");
            }
            continue;
        }
        for check in &section.checks {
            println!(
                "  {:<6} {}: {}",
                label(check.status, production),
                check.name,
                check.detail
            );
            if let Some(item) = check.item {
                println!("         checklist: {item}");
            }
            if let Some(fix) = check.fix.as_ref().filter(|_| check.status != Status::Ok) {
                println!("         fix: {fix}");
            }
        }
    }
    let [ok, warn, fail, manual, unused] = counts;
    let unused = if unused > 0 {
        format!(", {unused} not used by this version")
    } else {
        String::new()
    };
    println!();
    if production {
        println!("Summary: {ok} PASS, {warn} WARN, {fail} FAIL, {manual} MANUAL{unused}");
        if fail > 0 {
            println!("Not ready for production: fix every FAIL above.");
        }
    } else {
        println!("Summary: {ok} ok, {warn} warnings, {fail} failed{unused}");
    }
}

fn to_json(sections: &[Section], production: bool, ok: bool) -> Value {
    let checks: Vec<Value> = sections
        .iter()
        .flat_map(|s| &s.checks)
        .map(|check| {
            let mut value = json!({
                "section": check.section,
                "name": check.name,
                "status": label(check.status, production).to_ascii_lowercase(),
                "detail": check.detail,
            });
            if let Some(fix) = &check.fix {
                value["fix"] = json!(fix);
            }
            if let Some(item) = check.item {
                value["item"] = json!(item);
            }
            value
        })
        .collect();
    json!({ "checks": checks, "ok": ok, "production": production })
}

/// The production audit of a running gateway, behind `GET /v1/system/doctor`: the same checks
/// as `goclaw doctor --production --json`, on the configuration the gateway started with and
/// the environment it read them from.
pub(crate) struct RunningAudit {
    loaded: LoadedConfig,
}

impl RunningAudit {
    /// The audit of the gateway started with `loaded`, as the application state keeps it.
    pub(crate) fn shared(loaded: &LoadedConfig) -> goclaw_gateway::http_doctor::SharedAudit {
        std::sync::Arc::new(Self {
            loaded: loaded.clone(),
        })
    }
}

#[async_trait::async_trait]
impl goclaw_gateway::http_doctor::ProductionAudit for RunningAudit {
    async fn report(&self) -> Value {
        let state = ConfigState {
            loaded: self.loaded.clone(),
            error: None,
        };
        let sections = production::audit(&state, &self.loaded.env).await;
        let failed = sections
            .iter()
            .flat_map(|s| &s.checks)
            .any(|c| c.status == Status::Fail);
        to_json(&sections, true, !failed)
    }
}
