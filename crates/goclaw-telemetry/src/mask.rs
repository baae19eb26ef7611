//! Secret masking: a set of secret values and a `MakeWriter` that rewrites each formatted log
//! line so none of them appears, in raw or JSON-escaped form.

use std::io::{self, Write};
use std::sync::{Arc, OnceLock, RwLock};

use tracing_subscriber::fmt::MakeWriter;

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

/// Values shorter than this are not masked: masking a two-letter "secret" would shred every
/// log line, and such a value is rejected as weak elsewhere.
const MIN_SECRET_LEN: usize = 4;

/// The process's mask: what the installed logger hides. Secrets that only become known after
/// start-up (e.g. provider keys decrypted from the database) are added to it.
pub fn global_mask() -> SecretMask {
    static GLOBAL: OnceLock<SecretMask> = OnceLock::new();
    GLOBAL.get_or_init(SecretMask::default).clone()
}

/// A shared, updatable set of secret values to hide from log output.
#[derive(Clone, Default)]
pub struct SecretMask {
    needles: Arc<RwLock<Vec<String>>>,
}

impl std::fmt::Debug for SecretMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets themselves.
        f.debug_struct("SecretMask")
            .field("count", &self.len())
            .finish()
    }
}

impl SecretMask {
    /// A mask hiding the given values (empty and very short values are ignored).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mask = Self::default();
        mask.extend(secrets);
        mask
    }

    /// Adds more values to hide, e.g. a secret loaded from the database after start-up.
    pub fn extend<I, S>(&self, secrets: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut needles = match self.needles.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                continue;
            }
            for form in [secret.to_owned(), json_escaped(secret)] {
                if !needles.contains(&form) {
                    needles.push(form);
                }
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        needles.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// How many distinct forms are masked.
    pub fn len(&self) -> usize {
        self.needles.read().map(|n| n.len()).unwrap_or(0)
    }

    /// Whether nothing is masked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `text` with every secret replaced by [`MASK`]: the configured values, and anything
    /// shaped like a gateway API key (`goclaw_` + 32 hex), whose values the process only
    /// sees in requests.
    pub fn apply(&self, text: &str) -> String {
        let needles = match self.needles.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = mask_api_keys(text);
        for needle in needles.iter() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
}

/// Prefix of gateway API keys.
const API_KEY_PREFIX: &str = "goclaw_";
/// Hex digits after the prefix.
const API_KEY_HEX: usize = 32;

/// `text` with every `goclaw_<32 hex>` replaced by `goclaw_***`.
fn mask_api_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(API_KEY_PREFIX) {
        let after = &rest[at + API_KEY_PREFIX.len()..];
        let hex = after
            .bytes()
            .take(API_KEY_HEX)
            .take_while(u8::is_ascii_hexdigit)
            .count();
        out.push_str(&rest[..at + API_KEY_PREFIX.len()]);
        if hex == API_KEY_HEX {
            out.push_str(MASK);
            rest = &after[API_KEY_HEX..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The secret as it appears inside a JSON string literal.
fn json_escaped(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len());
    for c in secret.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Wraps a `MakeWriter` so every event is buffered whole, masked, then written.
#[derive(Clone, Debug)]
pub struct MaskingMakeWriter<M> {
    inner: M,
    mask: SecretMask,
}

impl<M> MaskingMakeWriter<M> {
    pub fn new(inner: M, mask: SecretMask) -> Self {
        Self { inner, mask }
    }
}

impl<'a, M> MakeWriter<'a> for MaskingMakeWriter<M>
where
    M: MakeWriter<'a>,
{
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter {
            inner: self.inner.make_writer(),
            mask: self.mask.clone(),
            buf: Vec::new(),
        }
    }
}

/// Collects one event's bytes and writes them masked when dropped or flushed.
pub struct MaskingWriter<W: Write> {
    inner: W,
    mask: SecretMask,
    buf: Vec<u8>,
}

impl<W: Write> MaskingWriter<W> {
    fn write_masked(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf);
        let masked = self.mask.apply(&text);
        self.buf.clear();
        self.inner.write_all(masked.as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_masked()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        // Nowhere to report a failed log write; losing the line is the only option.
        let _ = self.write_masked();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(secrets: &[&str], input: &str, expected: &str) {
        assert_eq!(SecretMask::new(secrets).apply(input), expected);
    }

    #[test]
    fn masks_values() {
        check(&["s3cr3t-token"], "token=s3cr3t-token", "token=***");
        check(
            &["s3cr3t-token"],
            "a s3cr3t-token b s3cr3t-token",
            "a *** b ***",
        );
        check(&["abcd", "abcdefgh"], "abcdefgh", "***");
        check(
            &["pa\"ss\\word"],
            r#"{"dsn":"pa\"ss\\word"}"#,
            r#"{"dsn":"***"}"#,
        );
        check(&["ab"], "ab ab", "ab ab");
        check(&[""], "nothing here", "nothing here");
        check(&["hunter22"], "no secret", "no secret");
        check(
            &[],
            "key=goclaw_0123456789abcdef0123456789abcdef!",
            "key=goclaw_***!",
        );
        check(
            &[],
            "goclaw_0123456789abcdef0123456789abcdef0",
            "goclaw_***0",
        );
        check(
            &[],
            "goclaw_serve and goclaw_12ab",
            "goclaw_serve and goclaw_12ab",
        );
        check(&[], "héllo goclaw_ünï", "héllo goclaw_ünï");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mask = SecretMask::new(["top-secret-value"]);
        assert!(!format!("{mask:?}").contains("top-secret-value"));
    }
}
