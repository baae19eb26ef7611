//! The `exec` tool built from `tools.execApproval` and `tools.shellDenyGroups`, under each of
//! GoClaw's names (`exec`, `bash`, `Bash`), sharing the application's approval broker and
//! running sandboxed agents' commands in their sandbox.

use std::sync::Arc;

use goclaw_config::{ExecAsk, ExecSecurity, ToolsConfig};
use goclaw_core::{Store, Tool};
use goclaw_tools::exec::{self, ApprovalBroker, ExecPolicy, ExecSettings, ExecTool};
use goclaw_tools::sandbox::SandboxRouter;

/// The `exec` tool (its aliases are registered by name).
pub fn exec_tool(
    config: &ToolsConfig,
    store: Arc<dyn Store>,
    approvals: &ApprovalBroker,
    sandbox: Arc<SandboxRouter>,
) -> Arc<dyn Tool> {
    let approval = &config.exec_approval;
    let policy = ExecPolicy {
        security: match approval.security {
            ExecSecurity::Deny => exec::ExecSecurity::Deny,
            ExecSecurity::Allowlist => exec::ExecSecurity::Allowlist,
            ExecSecurity::Full => exec::ExecSecurity::Full,
        },
        ask: match approval.ask {
            ExecAsk::Off => exec::ExecAsk::Off,
            ExecAsk::OnMiss => exec::ExecAsk::OnMiss,
            ExecAsk::Always => exec::ExecAsk::Always,
        },
        allowlist: approval.allowlist.clone(),
    };
    let settings = ExecSettings {
        policy,
        deny_groups: config.shell_deny_groups.clone(),
        ..ExecSettings::default()
    };
    Arc::new(ExecTool::new(settings, Some(store), Some(approvals.clone())).with_sandbox(sandbox))
}
