//! The commands every channel understands — `/help` (and `/start`), `/stop`, `/stopall`,
//! `/reset`, `/status` — and the texts the channel layer itself sends.

use std::sync::Arc;

use goclaw_agent::Runtime;
use goclaw_core::{Store, TenantId};

use crate::route::Route;

/// What a sender is told once an operator approved their pairing code.
pub const PAIRED_TEXT: &str = "✅ You are paired with this bot now. Send a message to start.";

/// A channel command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Help,
    /// Cancel the session's running run.
    Stop,
    /// Cancel the running run and everything queued.
    StopAll,
    /// Start the conversation over.
    Reset,
    Status,
}

/// The command `text` is, if it is one (`/name`, a bot mention already taken out).
pub fn parse(text: &str) -> Option<Command> {
    let word = text.split_whitespace().next()?;
    let name = word.strip_prefix('/')?.split('@').next()?;
    Some(match name.to_ascii_lowercase().as_str() {
        "help" | "start" => Command::Help,
        "stop" => Command::Stop,
        "stopall" => Command::StopAll,
        "reset" | "new" => Command::Reset,
        "status" => Command::Status,
        _ => return None,
    })
}

pub const HELP_TEXT: &str = "Send a message and the agent answers.\n\n\
    /stop — stop the oldest answer under way\n\
    /stopall — stop every answer and drop queued messages\n\
    /reset — start a new conversation\n\
    /status — what the agent is doing\n\
    /help — this text";

/// Runs `command` for the conversation `route` names; returns the text to answer with.
pub async fn run(
    command: Command,
    runtime: &Runtime,
    store: &Arc<dyn Store>,
    tenant: TenantId,
    route: &Route,
) -> String {
    match command {
        Command::Help => HELP_TEXT.to_owned(),
        Command::Stop => match runtime.stop_oldest(tenant, &route.session_key) {
            Some(_) => "Stopped.".to_owned(),
            None => "Nothing is running.".to_owned(),
        },
        Command::StopAll => {
            let aborted = runtime.abort(tenant, &route.session_key).await;
            if aborted.aborted {
                "Stopped.".to_owned()
            } else {
                "Nothing is running.".to_owned()
            }
        }
        Command::Reset => {
            runtime.abort(tenant, &route.session_key).await;
            match store.sessions().reset(tenant, &route.session_key).await {
                Ok(()) | Err(goclaw_core::StoreError::NotFound(_)) => {
                    "Conversation reset. Send a message to start over.".to_owned()
                }
                Err(error) => {
                    tracing::error!(error = %error, "resetting a channel session failed");
                    "⚠️ The conversation could not be reset.".to_owned()
                }
            }
        }
        Command::Status => {
            let status = runtime.session_status(tenant, &route.session_key);
            match (status.is_running, status.phase) {
                (true, Some(phase)) => format!(
                    "Working ({}); {} message(s) waiting.",
                    phase.as_str(),
                    status.queued_messages
                ),
                (true, None) => "Working.".to_owned(),
                (false, _) => "Idle.".to_owned(),
            }
        }
    }
}

/// What an unknown sender is told: their id and the code an operator approves.
pub fn pairing_text(sender_id: &str, code: &str) -> String {
    format!(
        "This bot only answers people its operator approved.\n\n\
         Your user id: {sender_id}\n\
         Pairing code: {code}\n\n\
         Ask the operator to run:\n  goclaw pairing approve {code}\n\n\
         The code is valid for 60 minutes."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognized_with_or_without_the_bot_name() {
        assert_eq!(parse("/stop"), Some(Command::Stop));
        assert_eq!(parse("/STOPALL now"), Some(Command::StopAll));
        assert_eq!(parse("/status@GoclawBot"), Some(Command::Status));
        assert_eq!(parse("/start"), Some(Command::Help));
        assert_eq!(parse("/reset"), Some(Command::Reset));
        assert_eq!(parse("/unknown"), None);
        assert_eq!(parse("stop"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_pairing_text_names_the_code_and_the_command() {
        let text = pairing_text("42", "ABCD2345");
        assert!(text.contains("Your user id: 42"));
        assert!(text.contains("goclaw pairing approve ABCD2345"));
    }
}
