//! [`SecretBox`]: AES-256-GCM encryption of secret strings in GoClaw's stored format,
//! `"aes-gcm:" + base64std(nonce(12) ‖ ciphertext ‖ tag(16))`, without associated data, so
//! values written by GoClaw decrypt here and the other way round.

use std::fmt;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::key::EncryptionKey;

/// The prefix of every encrypted value.
pub const PREFIX: &str = "aes-gcm:";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Whether a stored value is in the encrypted format (starts with [`PREFIX`]).
pub fn is_encrypted(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// Why a value could not be decrypted. No variant carries the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The value does not start with `aes-gcm:`; whether it is legacy plaintext is the
    /// caller's call.
    #[error("the value is not encrypted (no \"aes-gcm:\" prefix)")]
    NotEncrypted,
    /// The value has the prefix but is not valid base64 or is too short to hold a nonce and a
    /// tag.
    #[error("the encrypted value is malformed: {0}")]
    Malformed(&'static str),
    /// Authentication failed: the key is not the one the value was encrypted with, or the
    /// value was altered.
    #[error("the value does not decrypt with this key (wrong key or corrupted value)")]
    WrongKeyOrCorrupt,
}

/// Encrypts and decrypts secrets with one key. `Debug` shows no key material, and the
/// expanded key schedule is wiped when the box is dropped.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    pub fn new(key: &EncryptionKey) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.as_bytes().into()),
        }
    }

    /// Encrypts `plaintext` under a fresh random nonce. As in GoClaw, the empty string stays
    /// empty: it means "no secret", not a secret to protect.
    pub fn encrypt(&self, plaintext: &str) -> String {
        if plaintext.is_empty() {
            return String::new();
        }
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plaintext.as_bytes())
            // AES-GCM refuses only plaintexts over 64 GiB, which no `&str` here can be.
            .expect("AES-GCM encrypts any plaintext shorter than 64 GiB");
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce_bytes);
        raw.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(raw))
    }

    /// Decrypts a value produced by [`SecretBox::encrypt`] (or by GoClaw) with this key.
    pub fn decrypt(&self, value: &str) -> Result<String, CryptoError> {
        let encoded = value
            .strip_prefix(PREFIX)
            .ok_or(CryptoError::NotEncrypted)?;
        let raw = STANDARD
            .decode(encoded)
            .map_err(|_| CryptoError::Malformed("not valid base64"))?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("too short for a nonce and a tag"));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| CryptoError::WrongKeyOrCorrupt)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed("plaintext is not UTF-8"))
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    /// `sk-ant-api03-goclaw-vector` under [`HEX_KEY`] with the nonce `a0 a1 … ab`, produced by
    /// OpenSSL's AES-GCM (through Python's `cryptography`) and laid out the GoClaw way.
    const GOCLAW_VECTOR: &str =
        "aes-gcm:oKGio6SlpqeoqaqrlXNRTCu/L94SDLfgKh2vvRzNLj3k0iEY83wgtq2QpxJGzGfEvNmRQ/7E";

    fn secret_box(raw_key: &str) -> SecretBox {
        SecretBox::new(&EncryptionKey::parse(raw_key).expect("valid key"))
    }

    fn check_decrypt(b: &SecretBox, value: &str, expected: Result<&str, CryptoError>) {
        assert_eq!(
            b.decrypt(value).as_deref().map_err(|e| *e),
            expected,
            "value {value:?}"
        );
    }

    #[test]
    fn round_trip() {
        let b = secret_box(HEX_KEY);
        for plaintext in ["sk-test", "x", "ключ 🔑", &"long".repeat(1000)] {
            let sealed = b.encrypt(plaintext);
            assert!(is_encrypted(&sealed));
            assert!(plaintext.len() < 4 || !sealed.contains(plaintext));
            check_decrypt(&b, &sealed, Ok(plaintext));
        }
        assert_eq!(b.encrypt(""), "");
    }

    #[test]
    fn goclaw_ciphertext_decrypts() {
        check_decrypt(
            &secret_box(HEX_KEY),
            GOCLAW_VECTOR,
            Ok("sk-ant-api03-goclaw-vector"),
        );
    }

    #[test]
    fn value_assembled_by_hand_decrypts() {
        let key: [u8; 32] = std::array::from_fn(|i| (255 - i) as u8);
        let nonce = [7u8; NONCE_LEN];
        let sealed = Aes256Gcm::new(&key.into())
            .encrypt(Nonce::from_slice(&nonce), b"hello goclaw".as_slice())
            .expect("encrypt");
        assert_eq!(sealed.len(), "hello goclaw".len() + TAG_LEN);
        let value = format!(
            "aes-gcm:{}",
            STANDARD.encode([&nonce[..], &sealed].concat())
        );
        let b = SecretBox::new(&EncryptionKey::from_bytes(key));
        check_decrypt(&b, &value, Ok("hello goclaw"));
    }

    #[test]
    fn nonces_differ_per_encryption() {
        let b = secret_box(HEX_KEY);
        let (one, two) = (b.encrypt("same"), b.encrypt("same"));
        assert_ne!(one, two);
        let nonce =
            |v: &str| STANDARD.decode(&v[PREFIX.len()..]).expect("base64")[..NONCE_LEN].to_vec();
        assert_ne!(nonce(&one), nonce(&two));
    }

    #[test]
    fn wrong_key_tampering_and_garbage_are_refused() {
        let b = secret_box(HEX_KEY);
        let other = secret_box("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        check_decrypt(&other, GOCLAW_VECTOR, Err(CryptoError::WrongKeyOrCorrupt));

        let mut raw = STANDARD
            .decode(&GOCLAW_VECTOR[PREFIX.len()..])
            .expect("base64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("{PREFIX}{}", STANDARD.encode(&raw));
        check_decrypt(&b, &tampered, Err(CryptoError::WrongKeyOrCorrupt));
        raw[last] ^= 1;
        raw[NONCE_LEN] ^= 0x80;
        let tampered = format!("{PREFIX}{}", STANDARD.encode(&raw));
        check_decrypt(&b, &tampered, Err(CryptoError::WrongKeyOrCorrupt));

        check_decrypt(&b, "sk-plaintext", Err(CryptoError::NotEncrypted));
        check_decrypt(&b, "", Err(CryptoError::NotEncrypted));
        check_decrypt(
            &b,
            "aes-gcm:!!!",
            Err(CryptoError::Malformed("not valid base64")),
        );
        check_decrypt(
            &b,
            "aes-gcm:AAAA",
            Err(CryptoError::Malformed("too short for a nonce and a tag")),
        );
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(format!("{:?}", secret_box(HEX_KEY)), "SecretBox(***)");
    }
}
