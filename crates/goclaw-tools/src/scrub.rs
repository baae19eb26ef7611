//! Credential scrubbing of tool output (`tools.scrub_credentials`): the gateway's own secrets in
//! any common encoding (see [`crate::known_secrets`]), API keys of the common providers,
//! `password=`-style assignments, passwords in connection URLs and long hex strings are replaced
//! with `[REDACTED]` before the model sees the output.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a scrubbed credential is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Patterns replaced as a whole, most specific first.
static WHOLE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"sk-ant-[A-Za-z0-9_\-]{16,}",
        r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}",
        r"github_pat_[A-Za-z0-9_]{20,}",
        r"gh[pousr]_[A-Za-z0-9]{30,}",
        r"(?:AKIA|ASIA)[0-9A-Z]{16}",
        r"xox[abpors]-[A-Za-z0-9\-]{10,}",
        r"\b[0-9a-fA-F]{64,}\b",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// `key=value` / `key: value` assignments of secret-looking keys; the value is replaced.
static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b((?:[a-z0-9_\-]*_)?(?:password|passwd|pwd|secret|token|api_?key|access_?key)\b["']?\s*[=:]\s*["']?)([^\s"'&,;]+)"#,
    )
    .ok()
});

/// `scheme://user:password@`; the password is replaced.
static DSN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^:/\s@]+:)([^@\s/]+)(@)").ok());

/// `text` with every credential replaced by [`REDACTED`]: the process's known secrets first,
/// then the credential patterns.
pub fn scrub(text: &str) -> Cow<'_, str> {
    match crate::known_secrets::known_secrets().scrub(text) {
        Cow::Borrowed(text) => scrub_patterns(text),
        Cow::Owned(clean) => Cow::Owned(scrub_patterns(&clean).into_owned()),
    }
}

/// `text` with every credential-shaped value replaced by [`REDACTED`].
pub fn scrub_patterns(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Some(dsn) = DSN.as_ref()
        && dsn.is_match(&out)
    {
        let replacement = format!("${{1}}{REDACTED}${{3}}");
        out = Cow::Owned(dsn.replace_all(&out, replacement.as_str()).into_owned());
    }
    for pattern in WHOLE.iter() {
        if pattern.is_match(&out) {
            out = Cow::Owned(pattern.replace_all(&out, REDACTED).into_owned());
        }
    }
    if let Some(assignment) = ASSIGNMENT.as_ref()
        && assignment.is_match(&out)
    {
        let replaced = assignment.replace_all(&out, |caps: &regex::Captures<'_>| {
            if &caps[2] == REDACTED {
                caps[0].to_owned()
            } else {
                format!("{}{REDACTED}", &caps[1])
            }
        });
        out = Cow::Owned(replaced.into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(scrub(input), expected, "input: {input}");
    }

    #[test]
    fn credentials_are_redacted() {
        let hex64 = "ab".repeat(32);
        let cases: &[(&str, String)] = &[
            (
                "key sk-abcdefghijklmnopqrstuvwx1234",
                "key [REDACTED]".into(),
            ),
            ("sk-proj-abcdefghijklmnopqrstuvwx_12", "[REDACTED]".into()),
            ("sk-ant-api03-abcdefghijklmnopqrstuv", "[REDACTED]".into()),
            (
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "[REDACTED]".into(),
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijk",
                "[REDACTED]".into(),
            ),
            ("aws AKIAIOSFODNN7EXAMPLE end", "aws [REDACTED] end".into()),
            ("password=hunter2 next", "password=[REDACTED] next".into()),
            (
                "DB_PASSWORD: \"s3cr3t\"",
                "DB_PASSWORD: \"[REDACTED]\"".into(),
            ),
            ("secret = abc123", "secret = [REDACTED]".into()),
            ("?token=abc.def&x=1", "?token=[REDACTED]&x=1".into()),
            ("api_key: xyz", "api_key: [REDACTED]".into()),
            (
                "postgres://app:pa55w0rd@db:5432/x",
                "postgres://app:[REDACTED]@db:5432/x".into(),
            ),
            ("redis://u:p@h", "redis://u:[REDACTED]@h".into()),
            (&format!("hash {hex64}"), "hash [REDACTED]".into()),
            ("short deadbeef stays", "short deadbeef stays".into()),
            ("nothing to see here", "nothing to see here".into()),
            (
                "https://example.com/path",
                "https://example.com/path".into(),
            ),
            ("sk-short", "sk-short".into()),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }
}
