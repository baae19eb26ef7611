//! The domain policy of `web_fetch` (`tools.web_fetch`): `allow_all` or `allowlist`, with
//! `blocked_domains` enforced in every mode. A pattern is an exact host or `*.example.com`,
//! which matches every subdomain of `example.com` but not `example.com` itself.

use goclaw_config::{WebFetchConfig, WebFetchPolicy};

/// The domain policy, patterns lowercased once.
#[derive(Debug, Clone, Default)]
pub struct DomainPolicy {
    allowlist_only: bool,
    allowed: Vec<String>,
    blocked: Vec<String>,
}

impl DomainPolicy {
    /// The policy `config` describes.
    pub fn from_config(config: &WebFetchConfig) -> Self {
        let norm = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|p| p.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect()
        };
        Self {
            allowlist_only: config.policy == WebFetchPolicy::Allowlist,
            allowed: norm(&config.allowed_domains),
            blocked: norm(&config.blocked_domains),
        }
    }

    /// Why `host` may not be fetched, if it may not.
    pub fn refuses(&self, host: &str) -> Option<&'static str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.blocked.iter().any(|p| matches(p, &host)) {
            return Some("domain is in tools.web_fetch.blocked_domains");
        }
        if self.allowlist_only && !self.allowed.iter().any(|p| matches(p, &host)) {
            return Some("domain is not in tools.web_fetch.allowed_domains");
        }
        None
    }
}

fn matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .strip_suffix(parent)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: WebFetchPolicy, allowed: &[&str], blocked: &[&str], host: &str, ok: bool) {
        let config = WebFetchConfig {
            policy,
            allowed_domains: allowed.iter().map(|s| (*s).to_owned()).collect(),
            blocked_domains: blocked.iter().map(|s| (*s).to_owned()).collect(),
        };
        let refused = DomainPolicy::from_config(&config).refuses(host);
        assert_eq!(
            refused.is_none(),
            ok,
            "{policy:?} {allowed:?} {blocked:?} {host}"
        );
    }

    #[test]
    fn domain_policy_table() {
        use WebFetchPolicy::{AllowAll, Allowlist};
        check(AllowAll, &[], &[], "example.com", true);
        check(AllowAll, &[], &["example.com"], "example.com", false);
        check(AllowAll, &[], &["example.com"], "EXAMPLE.com.", false);
        check(AllowAll, &[], &["example.com"], "www.example.com", true);
        check(AllowAll, &[], &["*.example.com"], "www.example.com", false);
        check(AllowAll, &[], &["*.example.com"], "a.b.example.com", false);
        check(AllowAll, &[], &["*.example.com"], "example.com", true);
        check(AllowAll, &[], &["*.example.com"], "badexample.com", true);
        check(Allowlist, &[], &[], "example.com", false);
        check(Allowlist, &["example.com"], &[], "example.com", true);
        check(Allowlist, &["example.com"], &[], "www.example.com", false);
        check(Allowlist, &["*.example.com"], &[], "docs.example.com", true);
        check(Allowlist, &["*.example.com"], &[], "example.com", false);
        check(
            Allowlist,
            &["*.example.com"],
            &[],
            "example.com.evil.net",
            false,
        );
        check(
            Allowlist,
            &["*.example.com"],
            &["x.example.com"],
            "x.example.com",
            false,
        );
        check(
            Allowlist,
            &["Docs.Rust-Lang.org"],
            &[],
            "docs.rust-lang.org",
            true,
        );
    }
}
