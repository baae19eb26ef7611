//! The known-secret scrubber against `corpus/secret_encodings.txt`: each line encodes a known
//! secret (with text around it) in one way tool output may carry it, and after scrubbing no
//! decoding of what is left — raw, reversed, hex, any base64 alphabet at any offset — may yield
//! the secret again.

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use goclaw_tools::known_secrets::KnownSecrets;

const SECRET: &str = "gw-scan-token-6b0e1f2a9c8d7e6f";
const OTHER: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn unescape(field: &str) -> String {
    if field == "-" {
        return String::new();
    }
    field.replace("\\n", "\n").replace("\\x20", " ")
}

fn wrap(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(width)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn encode(encoding: &str, plain: &str) -> String {
    match encoding {
        "raw" => plain.to_owned(),
        "rev" => plain.chars().rev().collect(),
        "hex" => hex::encode(plain),
        "HEX" => hex::encode_upper(plain),
        "base64" => STANDARD.encode(plain),
        "base64-nopad" => STANDARD_NO_PAD.encode(plain),
        "base64url" => URL_SAFE.encode(plain),
        "base64url-nopad" => URL_SAFE_NO_PAD.encode(plain),
        "base64-wrapped" => wrap(&STANDARD.encode(plain), 76),
        "hex-wrapped" => wrap(&hex::encode(plain), 60),
        other => panic!("unknown encoding {other} in the corpus"),
    }
}

/// Whether any decoding of any stretch of `text` contains `secret`.
fn reveals(text: &str, secret: &str) -> bool {
    let joined: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let reversed: String = joined.chars().rev().collect();
    if joined.contains(secret) || reversed.contains(secret) {
        return true;
    }
    let runs = |alphabet: fn(char) -> bool| -> Vec<String> {
        joined
            .split(|c: char| !alphabet(c))
            .filter(|r| r.len() >= 4)
            .map(str::to_owned)
            .collect()
    };
    let hex_runs = runs(|c| c.is_ascii_hexdigit());
    for run in &hex_runs {
        for skip in 0..2 {
            let even = &run[skip..run.len() - (run.len() - skip) % 2];
            if let Ok(bytes) = hex::decode(even)
                && contains(&bytes, secret)
            {
                return true;
            }
        }
    }
    // Padding ends an encoded stretch.
    let b64_runs = runs(|c| c.is_ascii_alphanumeric() || "+/-_".contains(c));
    for run in &b64_runs {
        for skip in 0..4.min(run.len()) {
            for cut in 0..4.min(run.len() - skip) {
                let body = &run[skip..run.len() - cut];
                for alphabet in [&alphabet::STANDARD, &alphabet::URL_SAFE] {
                    if let Ok(bytes) = lenient(alphabet).decode(body)
                        && contains(&bytes, secret)
                    {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// A decoder that accepts any stretch of an encoding: no padding, stray trailing bits.
fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    let config = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(alphabet, config)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn encoded_secrets_are_scrubbed() {
    let known = KnownSecrets::new([SECRET, OTHER]);
    let corpus = include_str!("corpus/secret_encodings.txt");
    let mut cases = 0;
    let mut leaks = Vec::new();
    for line in corpus
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split(' ').collect();
        let [encoding, before, after] = fields[..] else {
            panic!("corpus line needs three fields: {line}");
        };
        for secret in [SECRET, OTHER] {
            let plain = format!("{}{secret}{}", unescape(before), unescape(after));
            let text = format!("output: {} end", encode(encoding, &plain));
            assert!(reveals(&text, secret), "the check cannot see {line}");
            let scrubbed = known.scrub(&text);
            if reveals(&scrubbed, secret) {
                leaks.push(format!("{line}: {scrubbed}"));
            }
            cases += 1;
        }
    }
    assert!(cases >= 60, "the corpus must hold at least 30 lines");
    assert!(leaks.is_empty(), "secrets left after scrubbing: {leaks:#?}");
}

#[test]
fn unrelated_output_is_kept() {
    let known = KnownSecrets::new([SECRET, OTHER, "short"]);
    let text = format!(
        "total 8\n-rw-r--r-- 1 user user 42 README.md\n{}\nshort words stay\n{}",
        STANDARD.encode("an unrelated line of output"),
        hex::encode("other bytes entirely"),
    );
    assert_eq!(known.scrub(&text), text);
}
