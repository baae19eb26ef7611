//! The gateway's own secrets (gateway token, encryption key, provider API keys, DSN passwords)
//! as tool output may carry them: raw, reversed, hex (lower and upper case) and base64
//! (standard and URL-safe, padded or not, at each of the three byte alignments, so a secret
//! inside a longer encoded text is found too, also when the encoder wrapped its lines, as
//! `base64` and `xxd -p` do). [`KnownSecrets::scrub`] replaces every such form before a tool
//! result is stored, traced or shown.

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::scrub::REDACTED;

/// Secrets shorter than this are not scrubbed: their encoded forms would be a few characters
/// that turn up in ordinary output, and the configuration refuses such weak values anyway.
pub const MIN_SECRET_LEN: usize = 8;

/// The process's known secrets, filled in at start-up (and when a provider key is decrypted).
pub fn known_secrets() -> &'static KnownSecrets {
    static GLOBAL: OnceLock<KnownSecrets> = OnceLock::new();
    GLOBAL.get_or_init(KnownSecrets::default)
}

/// A set of secret values and every form of them that is scrubbed.
#[derive(Default)]
pub struct KnownSecrets {
    forms: RwLock<Vec<String>>,
}

impl std::fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets themselves.
        f.debug_struct("KnownSecrets")
            .field("forms", &self.read().len())
            .finish()
    }
}

impl KnownSecrets {
    /// A set holding `secrets`.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let known = Self::default();
        known.extend(secrets);
        known
    }

    /// Adds `secrets` (values shorter than [`MIN_SECRET_LEN`] are ignored).
    pub fn extend<I, S>(&self, secrets: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut forms = match self.forms.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                continue;
            }
            for form in encoded_forms(secret) {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        // Longest first, so a form containing another is replaced whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// Whether no secret is known.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// `text` with every form of every known secret replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let forms = self.read();
        let mut out = Cow::Borrowed(text);
        for form in forms.iter() {
            if out.contains(form.as_str()) {
                out = Cow::Owned(out.replace(form.as_str(), REDACTED));
            }
        }
        if out.contains('\n') {
            let wrapped = scrub_wrapped(&out, &forms);
            if let Some(clean) = wrapped {
                out = Cow::Owned(clean);
            }
        }
        out
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        match self.forms.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// `text` with the forms that only appear once its line breaks are removed replaced, or `None`
/// when there is none.
fn scrub_wrapped(text: &str, forms: &[String]) -> Option<String> {
    // The text without line breaks, and where each of its bytes came from.
    let mut joined = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        if c != '\n' && c != '\r' {
            joined.push(c);
            origin.extend((0..c.len_utf8()).map(|k| at + k));
        }
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for form in forms {
        for (start, found) in joined.match_indices(form.as_str()) {
            let last = start + found.len() - 1;
            spans.push((origin[start], origin[last] + 1));
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        if start >= copied {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        } else if end > copied {
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Every form of `secret` that is scrubbed.
fn encoded_forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = vec![
        secret.to_owned(),
        secret.chars().rev().collect(),
        hex::encode(bytes),
        hex::encode_upper(bytes),
    ];
    for alignment in 0..3 {
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            forms.push(base64_core(&engine, bytes, alignment));
        }
    }
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms
}

/// The base64 characters that depend only on `secret` when it starts `alignment` bytes after a
/// 3-byte boundary of a longer encoded text: the same in every text that contains it so.
fn base64_core(engine: &impl Engine, secret: &[u8], alignment: usize) -> String {
    let mut padded = vec![0u8; alignment];
    padded.extend_from_slice(secret);
    let encoded = engine.encode(&padded);
    let start = (8 * alignment).div_ceil(6);
    let end = (8 * padded.len()) / 6;
    encoded.get(start..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    use super::*;

    const SECRET: &str = "gw-token-6b0e1f2a9c8d7e6f?>~";

    fn check_hidden(known: &KnownSecrets, text: &str) {
        let scrubbed = known.scrub(text);
        assert!(scrubbed.contains(REDACTED), "not scrubbed: {text}");
        for encoded in [
            SECRET.to_owned(),
            STANDARD.encode(SECRET),
            hex::encode(SECRET),
        ] {
            assert!(!scrubbed.contains(&encoded), "{scrubbed}");
        }
    }

    #[test]
    fn every_encoding_at_every_alignment_is_scrubbed() {
        let known = KnownSecrets::new([SECRET]);
        for prefix in ["", "a", "ab", "abc", "abcd"] {
            let embedded = format!("{prefix}{SECRET} and more text after it");
            let engines: [&dyn Fn(&str) -> String; 4] = [
                &|s| STANDARD.encode(s),
                &|s| STANDARD_NO_PAD.encode(s),
                &|s| URL_SAFE.encode(s),
                &|s| URL_SAFE_NO_PAD.encode(s),
            ];
            for encode in engines {
                let text = format!("output: {} end", encode(&embedded));
                let scrubbed = known.scrub(&text);
                assert!(scrubbed.contains(REDACTED), "{prefix:?}: {text}");
            }
            check_hidden(&known, &format!("x {}", hex::encode(&embedded)));
            check_hidden(&known, &format!("x {}", hex::encode_upper(&embedded)));
        }
        check_hidden(&known, &SECRET.chars().rev().collect::<String>());
        check_hidden(&known, &format!("token={SECRET}"));
    }

    #[test]
    fn wrapped_encodings_are_scrubbed() {
        let known = KnownSecrets::new([SECRET]);
        let encoded = STANDARD.encode(format!("KEY={SECRET}\n"));
        let (head, tail) = encoded.split_at(13);
        let text = format!("{head}\n{tail}\ndone");
        let scrubbed = known.scrub(&text);
        assert!(scrubbed.contains(REDACTED), "{scrubbed}");
        assert!(scrubbed.ends_with("\ndone"), "{scrubbed}");
        assert!(scrubbed.starts_with(&head[..4]), "{scrubbed}");
    }

    #[test]
    fn short_secrets_do_not_shred_output() {
        let known = KnownSecrets::new(["app", "1234567"]);
        assert!(known.is_empty());
        let text = "app 1234567 YXBw 617070";
        assert_eq!(known.scrub(text), text);
    }

    #[test]
    fn ordinary_output_is_untouched() {
        let known = KnownSecrets::new([SECRET]);
        let text = "ls -la\ntotal 0\nREADME.md Z3ctdG9r";
        assert_eq!(known.scrub(text), text);
    }
}
