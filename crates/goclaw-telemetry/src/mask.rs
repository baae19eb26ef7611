//! Secret masking: a set of secret values and a `MakeWriter` that rewrites each formatted log
//! line so none of them appears, in raw or JSON-escaped form.

use std::io::{self, Write};
use std::sync::{Arc, RwLock};

use tracing_subscriber::fmt::MakeWriter;

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

/// Values shorter than this are not masked: masking a two-letter "secret" would shred every
/// log line, and such a value is rejected as weak elsewhere.
const MIN_SECRET_LEN: usize = 4;

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

    /// `text` with every secret replaced by [`MASK`].
    pub fn apply(&self, text: &str) -> String {
        let needles = match self.needles.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = text.to_owned();
        for needle in needles.iter() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
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
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mask = SecretMask::new(["top-secret-value"]);
        assert!(!format!("{mask:?}").contains("top-secret-value"));
    }
}
