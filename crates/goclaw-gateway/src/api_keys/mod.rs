//! Gateway API keys: their format and hash, authenticating a request that presents one, and
//! the management operations the WebSocket methods and HTTP routes share.
//!
//! A key is `goclaw_` followed by 32 lowercase hex characters (16 random bytes). Only the
//! SHA-256 hex of the whole key is stored, with the first 8 hex characters of the random part
//! as a display prefix; the plaintext is handed out once, when the key is created.

pub mod manage;
pub mod verify;

use sha2::{Digest, Sha256};

/// What every key starts with.
pub const KEY_PREFIX: &str = "goclaw_";
/// Random bytes in a key.
const RANDOM_BYTES: usize = 16;
/// Hex characters of the random part kept for display.
const DISPLAY_CHARS: usize = 8;

/// A freshly generated key: the plaintext to show once, and what the store keeps.
pub struct GeneratedKey {
    pub plaintext: String,
    pub prefix: String,
    pub hash: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A new random key from the operating system's CSPRNG-seeded generator.
pub fn generate() -> GeneratedKey {
    let random: [u8; RANDOM_BYTES] = rand::random();
    let hex = to_hex(&random);
    let plaintext = format!("{KEY_PREFIX}{hex}");
    GeneratedKey {
        prefix: hex[..DISPLAY_CHARS].to_owned(),
        hash: hash(&plaintext),
        plaintext,
    }
}

/// The stored form of a key: SHA-256 of the whole key, lowercase hex.
pub fn hash(key: &str) -> String {
    to_hex(&Sha256::digest(key.as_bytes()))
}

/// Whether a presented token claims to be an API key (it may still be unknown).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_follow_the_format() {
        let key = generate();
        let random = key.plaintext.strip_prefix("goclaw_").expect("prefix");
        assert_eq!(random.len(), 32);
        assert!(
            random.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
            "{random}"
        );
        assert_eq!(key.prefix, random[..8]);
        assert_eq!(key.hash, hash(&key.plaintext));
        assert_eq!(key.hash.len(), 64);
        assert_ne!(generate().plaintext, key.plaintext);
        assert!(!format!("{key:?}").contains(random), "Debug hides the key");
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_key() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(looks_like_key("goclaw_0123"));
        assert!(!looks_like_key("0123"));
    }
}
