//! What both engines check about a turn before touching the database: an end must be terminal,
//! and an idempotency key must fit. Refusals are programming errors of the caller, reported as
//! errors rather than panics.

use goclaw_core::{MAX_IDEMPOTENCY_KEY_BYTES, NewTurn, StoreError, TurnEnd, TurnStatus};

/// The entity named when an idempotency key is already taken: the error reads
/// "turn with this idempotency key already exists".
pub(crate) const KEY_TAKEN: &str = "turn with this idempotency key";

/// A turn the store refuses to write.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TurnRefused {
    #[error("a turn cannot end as queued")]
    QueuedEnd,
    #[error("idempotency key of {0} bytes is longer than {MAX_IDEMPOTENCY_KEY_BYTES}")]
    KeyTooLong(usize),
}

impl From<TurnRefused> for StoreError {
    fn from(refused: TurnRefused) -> Self {
        StoreError::Database(Box::new(refused))
    }
}

/// Refuses an idempotency key longer than the wire allows.
pub(crate) fn check_new(turn: &NewTurn) -> Result<(), StoreError> {
    match turn.idempotency_key.as_deref() {
        Some(key) if key.len() > MAX_IDEMPOTENCY_KEY_BYTES => {
            Err(TurnRefused::KeyTooLong(key.len()).into())
        }
        _ => Ok(()),
    }
}

/// Refuses an end that is not one.
pub(crate) fn check_end(end: &TurnEnd) -> Result<(), StoreError> {
    if end.status == TurnStatus::Queued {
        return Err(TurnRefused::QueuedEnd.into());
    }
    Ok(())
}
