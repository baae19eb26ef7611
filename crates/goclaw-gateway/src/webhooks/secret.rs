//! Webhook secrets and signatures. A secret is `wh_` and the base32 (RFC 4648, no padding) of
//! 24 random bytes — 42 characters; its SHA-256 (hex) finds the webhook of a bearer call. A
//! signature is GoClaw's: `t=<unix seconds>,v1=<hex HMAC-SHA256>` over `"{t}.{body}"`, keyed
//! by the secret's bytes, in `X-GoClaw-Signature` on calls and `X-Webhook-Signature` on
//! callbacks.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Every secret starts with this.
pub const SECRET_PREFIX: &str = "wh_";
/// Characters of the secret shown to recognize it by.
const SHOWN_PREFIX_LEN: usize = 8;
/// Random bytes in a secret.
const SECRET_BYTES: usize = 24;
/// How far a signature's time may be from ours.
pub const MAX_SKEW_SECS: i64 = 300;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new secret, shown once.
pub fn new_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    rand::rng().fill_bytes(bytes.as_mut());
    let mut secret = Zeroizing::new(String::from(SECRET_PREFIX));
    base32_into(bytes.as_ref(), &mut secret);
    secret
}

fn base32_into(bytes: &[u8], out: &mut String) {
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 0x1f) as usize]));
    }
}

/// The part of `secret` stored and shown to recognize it by.
pub fn shown_prefix(secret: &str) -> String {
    secret.chars().take(SHOWN_PREFIX_LEN).collect()
}

/// Hex SHA-256 of `secret`: how a bearer call finds its webhook.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hex SHA-256 of a request body: what an idempotency key remembers of it.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The header value signing `body` at `timestamp`: `t=…,v1=…`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// A parsed `X-GoClaw-Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    /// The `v1` value, lowercase hex.
    pub v1: String,
}

/// Parses `t=<unix>,v1=<hex>` (parts in any order, spaces around them ignored); `None` when
/// `t` is missing or zero, or `v1` is missing.
pub fn parse_signature_header(raw: &str) -> Option<SignatureHeader> {
    let mut timestamp = None;
    let mut v1 = None;
    for part in raw.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name.trim() {
            "t" => timestamp = value.trim().parse::<i64>().ok(),
            "v1" => v1 = Some(value.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    let timestamp = timestamp.filter(|t| *t > 0)?;
    let v1 = v1.filter(|v| !v.is_empty())?;
    Some(SignatureHeader { timestamp, v1 })
}

/// Whether `header` signs `body` under `secret` (compared in constant time).
pub fn verify(secret: &str, header: &SignatureHeader, body: &[u8]) -> bool {
    let Ok(given) = hex::decode(&header.v1) else {
        return false;
    };
    let expected = mac(secret, header.timestamp, body).finalize().into_bytes();
    expected.as_slice().ct_eq(&given).into()
}

/// Whether a signature made at `timestamp` may still be accepted at `now`.
pub fn within_skew(timestamp: i64, now: i64) -> bool {
    (now - timestamp).abs() <= MAX_SKEW_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_goclaw_shape() {
        let secret = new_secret();
        assert!(secret.starts_with("wh_"));
        // 24 bytes = 192 bits = 38.4 base32 characters, rounded up.
        assert_eq!(secret.len(), 3 + 39);
        assert!(secret[3..].bytes().all(|b| BASE32.contains(&b)));
        assert_ne!(*secret, *new_secret());
        assert_eq!(shown_prefix(&secret), secret[..8]);
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            let mut out = String::new();
            base32_into(input.as_bytes(), &mut out);
            assert_eq!(out, expected, "{input}");
        }
    }

    #[test]
    fn signatures_verify_and_reject_changes() {
        let header = parse_signature_header(&signature_header("wh_key", 1_700_000_000, b"{}"))
            .expect("own header parses");
        assert!(verify("wh_key", &header, b"{}"));
        assert!(!verify("wh_other", &header, b"{}"));
        assert!(!verify("wh_key", &header, b"{ }"));
        let moved = SignatureHeader {
            timestamp: header.timestamp + 1,
            ..header.clone()
        };
        assert!(!verify("wh_key", &moved, b"{}"));
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: Python's hmac.new(b"wh_TESTSECRET",
        // b'1700000000.{"input":"hi"}', sha256).hexdigest().
        assert_eq!(
            signature("wh_TESTSECRET", 1_700_000_000, br#"{"input":"hi"}"#),
            "38df1066ece262dbd6651c5db5274d30d778cab95633607c35ea81d622d59b7c"
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for raw in [
            "",
            "t=0,v1=ab",
            "v1=ab",
            "t=5",
            "t=x,v1=ab",
            "garbage",
            "t=5,v1=",
        ] {
            assert_eq!(parse_signature_header(raw), None, "{raw:?}");
        }
        assert_eq!(
            parse_signature_header(" v1=AB , t=7 "),
            Some(SignatureHeader {
                timestamp: 7,
                v1: "ab".into()
            })
        );
    }

    #[test]
    fn skew_is_five_minutes_either_way() {
        assert!(within_skew(1000, 1300));
        assert!(within_skew(1300, 1000));
        assert!(!within_skew(1000, 1301));
        assert!(!within_skew(1301, 1000));
    }
}
