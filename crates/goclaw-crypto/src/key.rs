//! [`EncryptionKey`]: the 32 bytes of an AES-256 key, parsed from one of the three forms
//! `GOCLAW_ENCRYPTION_KEY` may take, wiped on drop and never printed.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length in bytes of an AES-256 key.
pub const KEY_LEN: usize = 32;

/// An AES-256 key. `Debug` shows no key material; the bytes are zeroed when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EncryptionKey {
    bytes: [u8; KEY_LEN],
}

/// Why a configured key was refused. The message names the accepted forms, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the encryption key is empty; generate one with `openssl rand -hex 32`")]
    Empty,
    #[error(
        "the encryption key is not valid: expected 64 hexadecimal characters (`openssl rand -hex 32`), \
         44 base64 characters encoding 32 bytes, or exactly 32 raw bytes (got {len} bytes)"
    )]
    Invalid {
        /// Length of the value in bytes.
        len: usize,
    },
}

impl EncryptionKey {
    /// Parses a key the way GoClaw does: 64 characters that hex-decode to 32 bytes; else 44
    /// characters that base64-decode (standard alphabet, padded) to 32 bytes; else exactly 32
    /// raw bytes. Anything else is an error.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        if raw.is_empty() {
            return Err(KeyError::Empty);
        }
        if raw.len() == 64 {
            let mut bytes = [0u8; KEY_LEN];
            if hex::decode_to_slice(raw, &mut bytes).is_ok() {
                return Ok(Self { bytes });
            }
            bytes.zeroize();
        }
        if raw.len() == 44
            && let Ok(decoded) = STANDARD.decode(raw).map(Zeroizing::new)
            && let Ok(bytes) = <[u8; KEY_LEN]>::try_from(decoded.as_slice())
        {
            return Ok(Self { bytes });
        }
        if let Ok(bytes) = <[u8; KEY_LEN]>::try_from(raw.as_bytes()) {
            return Ok(Self { bytes });
        }
        Err(KeyError::Invalid { len: raw.len() })
    }

    /// A key from raw bytes, e.g. freshly generated ones.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// A new random key.
    pub fn generate() -> Self {
        Self {
            bytes: rand::random(),
        }
    }

    /// The key in the 64-hex-character form, e.g. to print once for the operator to store.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn check(raw: &str, expected: Result<[u8; KEY_LEN], KeyError>) {
        let parsed = EncryptionKey::parse(raw).map(|k| *k.as_bytes());
        assert_eq!(parsed, expected, "key of {} bytes", raw.len());
    }

    fn sequence() -> [u8; KEY_LEN] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn each_form_parses() {
        check(HEX, Ok(sequence()));
        check(&HEX.to_uppercase(), Ok(sequence()));
        check(BASE64, Ok(sequence()));
        check(
            "0123456789abcdef0123456789abcdef",
            Ok(*b"0123456789abcdef0123456789abcdef"),
        );
    }

    #[test]
    fn other_values_are_refused() {
        check("", Err(KeyError::Empty));
        check(&HEX[..63], Err(KeyError::Invalid { len: 63 }));
        check(&format!("{HEX}0"), Err(KeyError::Invalid { len: 65 }));
        // 64 characters that are not hex are not 32 raw bytes either.
        check(&"z".repeat(64), Err(KeyError::Invalid { len: 64 }));
        check(&format!("{BASE64}A"), Err(KeyError::Invalid { len: 45 }));
        // 44 base64 characters that do not decode to 32 bytes.
        check(&"A".repeat(44), Err(KeyError::Invalid { len: 44 }));
        check(&"k".repeat(31), Err(KeyError::Invalid { len: 31 }));
        check(&"k".repeat(33), Err(KeyError::Invalid { len: 33 }));
    }

    #[test]
    fn errors_and_debug_never_show_the_value() {
        let raw = "secret-material-that-is-too-long-to-be-a-key";
        let error = EncryptionKey::parse(&format!("{raw}!")).expect_err("refused");
        assert!(!error.to_string().contains("secret-material"), "{error}");
        assert!(error.to_string().contains("64 hexadecimal characters"));
        let key = EncryptionKey::parse(HEX).expect("valid");
        assert_eq!(format!("{key:?}"), "EncryptionKey(***)");
    }

    #[test]
    fn generated_keys_round_trip_through_hex() {
        let key = EncryptionKey::generate();
        let again = EncryptionKey::parse(&key.to_hex()).expect("hex form parses");
        assert_eq!(key.as_bytes(), again.as_bytes());
        assert_ne!(key.as_bytes(), EncryptionKey::generate().as_bytes());
    }
}
