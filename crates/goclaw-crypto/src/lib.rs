//! Encryption of the secrets the gateway keeps in its database (provider API keys, config
//! secrets), byte-compatible with GoClaw: AES-256-GCM with a random 12-byte nonce and no
//! associated data, stored as `"aes-gcm:" + base64(nonce ‖ ciphertext ‖ tag)`.
//!
//! [`EncryptionKey::parse`] accepts the forms of `GOCLAW_ENCRYPTION_KEY`; a [`SecretBox`]
//! encrypts and decrypts with one key. Key material is wiped from memory when dropped and never
//! printed, and no error carries a key, a plaintext or a ciphertext.
//!
//! **Architecture Invariant:** this crate knows nothing about storage or the gateway; callers
//! decide what a value without the `aes-gcm:` prefix means.
#![forbid(unsafe_code)]

mod key;
mod mask;
mod secret_box;

pub use key::{EncryptionKey, KeyError};
pub use mask::mask_secret;
pub use secret_box::{CryptoError, PREFIX, SecretBox, is_encrypted};
