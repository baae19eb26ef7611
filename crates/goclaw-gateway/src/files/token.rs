//! Signed file links, as GoClaw makes them: `?ft=<sig>.<expiry>` where `sig` is the first 16
//! bytes of HMAC-SHA256 over `"{url path}:{expiry}"` in unpadded base64url and `expiry` a Unix
//! time in seconds. The HMAC key is itself HMAC-SHA256(secret, `goclaw-file-signing-v1`),
//! the secret being `GOCLAW_FILE_SIGNING_SECRET`, else the gateway token, else random per
//! process (links then die with the process). A token names one path: it opens no other file.

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// How long a link works.
pub const FILE_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(1);
/// What the key is derived for.
const KEY_CONTEXT: &[u8] = b"goclaw-file-signing-v1";
/// Bytes of the HMAC kept in a token.
const SIGNATURE_BYTES: usize = 16;

/// Makes and checks file tokens.
#[derive(Clone)]
pub struct FileSigner {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for FileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSigner(***)")
    }
}

impl FileSigner {
    /// A signer keyed from `secret`; a random key when there is none.
    pub fn new(secret: Option<&str>) -> Self {
        let key = match secret.filter(|s| !s.is_empty()) {
            Some(secret) => {
                let mut mac = keyed(secret.as_bytes());
                mac.update(KEY_CONTEXT);
                mac.finalize().into_bytes().into()
            }
            None => rand::random::<[u8; 32]>(),
        };
        Self {
            key: Zeroizing::new(key),
        }
    }

    /// A token for `url_path` (`/v1/files/...`, `/v1/media/...`) working until `expiry`.
    pub fn token(&self, url_path: &str, expiry: DateTime<Utc>) -> String {
        let expiry = expiry.timestamp();
        format!("{}.{expiry}", self.signature(url_path, expiry))
    }

    /// Whether `token` was made for `url_path` and has not expired at `now`.
    pub fn verify(&self, url_path: &str, token: &str, now: DateTime<Utc>) -> bool {
        let Some((signature, expiry)) = token.split_once('.') else {
            return false;
        };
        let Ok(expiry) = expiry.parse::<i64>() else {
            return false;
        };
        if now.timestamp() > expiry {
            return false;
        }
        let expected = self.signature(url_path, expiry);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }

    fn signature(&self, url_path: &str, expiry: i64) -> String {
        let mut mac = keyed(self.key.as_slice());
        mac.update(format!("{url_path}:{expiry}").as_bytes());
        let digest = mac.finalize().into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..SIGNATURE_BYTES])
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("a valid time")
    }

    #[test]
    fn a_token_opens_its_path_until_it_expires() {
        let signer = FileSigner::new(Some("secret"));
        let token = signer.token("/v1/files/a/b.png", at(1_000));
        let (signature, expiry) = token.split_once('.').expect("sig.expiry");
        assert_eq!(expiry, "1000");
        assert_eq!(signature.len(), 22, "16 bytes in unpadded base64url");
        assert!(signer.verify("/v1/files/a/b.png", &token, at(999)));
        assert!(signer.verify("/v1/files/a/b.png", &token, at(1_000)));
        assert!(!signer.verify("/v1/files/a/b.png", &token, at(1_001)));
        assert!(!signer.verify("/v1/files/a/c.png", &token, at(999)));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let signer = FileSigner::new(Some("secret"));
        let token = signer.token("/v1/files/x", at(1_000));
        let later = token.replace(".1000", ".9000");
        assert!(!signer.verify("/v1/files/x", &later, at(999)));
        assert!(!signer.verify("/v1/files/x", "garbage", at(0)));
        assert!(!signer.verify("/v1/files/x", "", at(0)));
        let other = FileSigner::new(Some("other secret"));
        assert!(!other.verify("/v1/files/x", &token, at(999)));
        let random = FileSigner::new(None);
        assert!(!random.verify("/v1/files/x", &token, at(999)));
    }

    #[test]
    fn the_key_is_derived_as_goclaw_derives_it() {
        // key = HMAC-SHA256("s", "goclaw-file-signing-v1"); sig = HMAC-SHA256(key, "/p:5")[..16]
        let mut mac = keyed(b"s");
        mac.update(KEY_CONTEXT);
        let key = mac.finalize().into_bytes();
        let mut mac = keyed(&key);
        mac.update(b"/p:5");
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(&mac.finalize().into_bytes()[..16]);
        assert_eq!(
            FileSigner::new(Some("s")).token("/p", at(5)),
            format!("{expected}.5")
        );
    }
}
