//! The prompt-injection guard: six named detectors that look for the usual ways a user message
//! tries to take over an agent's instructions, and the `gateway.injection_action` that decides
//! what a hit does (`log`, `warn`, `block` or `off`).
//!
//! Text is normalized before it is scanned — invisible characters (zero-width spaces and
//! joiners, bidi controls, soft hyphens) are removed, the rest is NFKC-normalized (so fullwidth
//! `ＩＧＮＯＲＥ` reads `IGNORE`) and lowercased — so the common obfuscations do not slip
//! past. The guard only ever logs the names of the detectors that fired, never the message.

use goclaw_config::InjectionAction;

use crate::error::RuntimeError;
use crate::types::ChatInput;

pub use goclaw_tools::injection::{INJECTION_DETECTORS, detect_injection, normalize_for_scan};

/// Applies `action` to a message about to be submitted: logs a detection, or refuses the
/// message with [`RuntimeError::InjectionBlocked`] under `block`.
pub(crate) fn guard(
    action: InjectionAction,
    text: &str,
    input: &ChatInput,
) -> Result<(), RuntimeError> {
    if action == InjectionAction::Off {
        return Ok(());
    }
    let found = detect_injection(text);
    if found.is_empty() {
        return Ok(());
    }
    let detectors = found.join(",");
    match action {
        InjectionAction::Off => Ok(()),
        InjectionAction::Log => {
            tracing::info!(
                detectors = %detectors,
                session_key = %input.session_key,
                user_id = %input.user_id,
                agent = %input.agent_key,
                channel = %input.channel,
                "security.injection_detected"
            );
            Ok(())
        }
        InjectionAction::Warn => {
            tracing::warn!(
                detectors = %detectors,
                session_key = %input.session_key,
                user_id = %input.user_id,
                agent = %input.agent_key,
                channel = %input.channel,
                "security.injection_detected"
            );
            Ok(())
        }
        InjectionAction::Block => {
            tracing::warn!(
                detectors = %detectors,
                session_key = %input.session_key,
                user_id = %input.user_id,
                agent = %input.agent_key,
                channel = %input.channel,
                "security.injection_blocked"
            );
            Err(RuntimeError::InjectionBlocked {
                detectors: found.into_iter().map(str::to_owned).collect(),
            })
        }
    }
}
