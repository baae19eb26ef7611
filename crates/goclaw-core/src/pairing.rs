//! Pairing: how someone the gateway does not know yet — a chat-app user messaging a channel, a
//! browser without a token — is let in. They are given a short code; an operator approves it
//! (`device.pair.approve`, `goclaw pairing approve CODE`) and the sender is paired with that
//! channel for 30 days, or denies it. GoClaw's rules: 8 characters from an alphabet without
//! look-alikes, a code lives 60 minutes, at most 3 codes wait per account of a tenant, and a
//! sender asking again while its code waits gets the same code.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::TenantId;
use crate::store::StoreError;

/// The characters of a pairing code: no `0`/`O`, `1`/`I`.
pub const PAIRING_CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Characters in a pairing code.
pub const PAIRING_CODE_LEN: usize = 8;
/// How long a code waits for an operator.
pub const PAIRING_CODE_TTL: Duration = Duration::from_secs(60 * 60);
/// Codes waiting at once for one account of a tenant.
pub const MAX_PENDING_PER_ACCOUNT: usize = 3;
/// How long a paired sender stays paired.
pub const PAIRED_DEVICE_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The longest sender id.
pub const SENDER_ID_MAX_LEN: usize = 128;
/// The account of a request that names none.
pub const DEFAULT_PAIRING_ACCOUNT: &str = "default";

/// Whether `sender` may ask for pairing: 1 to 128 of letters, digits and `._:@-`, starting
/// with a letter or digit (GoClaw's rule).
pub fn is_valid_sender_id(sender: &str) -> bool {
    let mut bytes = sender.bytes();
    sender.len() <= SENDER_ID_MAX_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-'))
}

/// A code made of the first 40 bits of `random` (each character takes 5 bits, so every
/// character of the alphabet is equally likely).
pub fn pairing_code(random: [u8; 5]) -> String {
    let bits = random
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    (0..PAIRING_CODE_LEN)
        .map(|i| {
            let index = (bits >> (35 - 5 * i)) & 0x1f;
            char::from(PAIRING_CODE_ALPHABET[index as usize])
        })
        .collect()
}

/// Whether `code` could be a pairing code (its length and alphabet; case-sensitive).
pub fn is_pairing_code(code: &str) -> bool {
    code.len() == PAIRING_CODE_LEN && code.bytes().all(|b| PAIRING_CODE_ALPHABET.contains(&b))
}

/// Who asks to be paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPairingRequest {
    pub tenant_id: TenantId,
    pub sender_id: String,
    /// `telegram`, `discord`, `slack`, `browser`, ...
    pub channel: String,
    /// The chat to answer in once approved (empty when none).
    pub chat_id: String,
    pub account_id: String,
}

/// A code waiting for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingRequest {
    pub tenant_id: TenantId,
    pub code: String,
    pub sender_id: String,
    pub channel: String,
    pub chat_id: String,
    pub account_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A sender an operator let in on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedDevice {
    pub tenant_id: TenantId,
    pub sender_id: String,
    pub channel: String,
    pub chat_id: String,
    pub paired_by: String,
    pub paired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What asking for pairing gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingAsked {
    /// A new code.
    Created(PairingRequest),
    /// The sender's code that was already waiting.
    Waiting(PairingRequest),
    /// The account already has [`MAX_PENDING_PER_ACCOUNT`] codes waiting.
    TooManyPending,
}

/// Storage of pairing codes and paired senders, per tenant. Expired codes and pairings are
/// never returned (and are removed as the store comes across them).
#[async_trait]
pub trait PairingStore: Send + Sync {
    /// A code for the sender on the channel: the one waiting, else a new random one unless
    /// the account has too many waiting.
    async fn request(&self, request: NewPairingRequest) -> Result<PairingAsked, StoreError>;
    /// Approves the waiting `code`: the sender is paired (again, for a fresh 30 days) and the
    /// code is gone; `None` when no such code waits.
    async fn approve(
        &self,
        tenant: TenantId,
        code: &str,
        approved_by: &str,
    ) -> Result<Option<PairedDevice>, StoreError>;
    /// Drops the waiting `code`; whether it was waiting.
    async fn deny(&self, tenant: TenantId, code: &str) -> Result<bool, StoreError>;
    /// Unpairs the sender on the channel; whether it was paired.
    async fn revoke(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<bool, StoreError>;
    /// The sender's live pairing on the channel.
    async fn paired(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<Option<PairedDevice>, StoreError>;
    /// The sender's live code on the channel.
    async fn pending_for(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<Option<PairingRequest>, StoreError>;
    /// The tenant's waiting codes, newest first.
    async fn list_pending(&self, tenant: TenantId) -> Result<Vec<PairingRequest>, StoreError>;
    /// The tenant's live pairings, newest first.
    async fn list_paired(&self, tenant: TenantId) -> Result<Vec<PairedDevice>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_every_character_of_the_alphabet_and_nothing_else() {
        assert_eq!(pairing_code([0; 5]), "AAAAAAAA");
        assert_eq!(pairing_code([0xff; 5]), "99999999");
        // 00001 00010 00011 ... : consecutive 5-bit groups pick consecutive characters.
        assert_eq!(pairing_code([0x08, 0x86, 0x42, 0x98, 0xe8]), "BCDEFGHJ");
        let mut seen = std::collections::BTreeSet::new();
        for n in 0u8..=255 {
            let code = pairing_code([n, n.wrapping_mul(7), n ^ 0x5a, n.rotate_left(3), !n]);
            assert!(is_pairing_code(&code), "{code}");
            seen.extend(code.bytes());
        }
        assert_eq!(seen.len(), PAIRING_CODE_ALPHABET.len());
    }

    #[test]
    fn codes_are_checked_by_length_and_alphabet() {
        assert!(is_pairing_code("ABCD2345"));
        for bad in [
            "",
            "ABCD234",
            "ABCD23456",
            "ABCD234O",
            "abcd2345",
            "ABCD 345",
        ] {
            assert!(!is_pairing_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn sender_ids_follow_goclaws_rule() {
        for good in ["12345", "u@example.com", "a.b_c:d-e", &"x".repeat(128)] {
            assert!(is_valid_sender_id(good), "{good}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "ä", "a\n", &"x".repeat(129)] {
            assert!(!is_valid_sender_id(bad), "{bad:?}");
        }
    }
}
