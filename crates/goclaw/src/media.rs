//! Where the gateway serves files from (`/v1/files`, `/v1/media`) and the secret their links
//! are signed with: `GOCLAW_FILE_SIGNING_SECRET`, else the gateway token, else a random one
//! (links then last only as long as the process); and the tools for files (`send_file`,
//! `read_document`, `read_image`), channel messages (`message`) and pausing (`wait`).

use std::sync::Arc;

use goclaw_config::LoadedConfig;
use goclaw_core::clock::Clock;
use goclaw_gateway::files::{FileAccess, FileSigner};

/// Adds `send_file`, `read_document`, `wait`, `read_image` (which asks the agent's own model,
/// found in `providers`) and `message` (posting through `sender`) to `tools`.
pub fn register_tools(
    tools: &mut goclaw_agent::ToolRegistry,
    config: &goclaw_config::Config,
    (store, providers): (
        &Arc<dyn goclaw_core::Store>,
        &Arc<dyn goclaw_agent::ProviderLookup>,
    ),
    sender: Arc<dyn goclaw_tools::message::ChannelSender>,
) {
    tools.register(Arc::new(goclaw_tools::message::MessageTool::new(sender)));
    for tool in goclaw_tools::media::media_tools(&config.tools.document_parser) {
        tools.register(tool);
    }
    tools.register(Arc::new(goclaw_agent::ReadImageTool::new(
        store.clone(),
        providers.clone(),
        config.agents.defaults.clone(),
    )));
}

/// The file access of the gateway `loaded` describes.
pub fn file_access(loaded: &LoadedConfig, clock: Arc<dyn Clock>) -> FileAccess {
    let secret = loaded
        .runtime
        .file_signing_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .or_else(|| {
            loaded
                .config
                .gateway
                .token
                .as_ref()
                .map(|t| t.expose().to_owned())
        });
    if secret.is_none() {
        tracing::warn!(
            "no GOCLAW_FILE_SIGNING_SECRET or gateway token: file links are signed with a random key and stop working on restart"
        );
    }
    FileAccess {
        signer: FileSigner::new(secret.as_deref()),
        workspaces: Some(loaded.config.agents.defaults.workspace.clone()),
        uploads: loaded.config.data_dir.join("media"),
        clock,
    }
}
