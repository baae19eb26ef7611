//! Where webhook calls may come from and where callbacks may go: a webhook's IP allowlist
//! (addresses and CIDR blocks, matched against the peer address only — a forwarded-for header
//! is whatever the caller wrote), its `localhost_only`, and the SSRF check of a callback URL,
//! which refuses private, loopback, link-local and metadata addresses unless the operator
//! allowed private callbacks (`gateway.webhook_private_callbacks`).

use std::net::{IpAddr, SocketAddr};

use goclaw_tools::web::ssrf::check_outbound_url;
use url::Url;

/// One allowlist entry: an address, or a block of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    base: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address; `None` when invalid.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (ip, prefix) = match raw.split_once('/') {
            Some((ip, prefix)) => (ip.parse::<IpAddr>().ok()?, Some(prefix.parse::<u8>().ok()?)),
            None => (raw.parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpBlock { base: ip, prefix })
    }

    /// Whether `ip` lies in this block (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.base), ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(base)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                masked(u128::from(base), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(value: u128, prefix: u8, width: u32) -> u128 {
    let prefix = u32::from(prefix).min(width);
    if prefix == 0 {
        return 0;
    }
    let shift = width - prefix;
    (value >> shift) << shift
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether an entry of an allowlist is valid.
pub fn is_valid_entry(raw: &str) -> bool {
    IpBlock::parse(raw).is_some()
}

/// Whether `peer` may call a webhook with `allowlist` (empty allows everyone).
pub fn allowed_by(allowlist: &[String], peer: IpAddr) -> bool {
    allowlist.is_empty()
        || allowlist
            .iter()
            .filter_map(|entry| IpBlock::parse(entry))
            .any(|block| block.contains(peer))
}

/// Whether `peer` is this host.
pub fn is_loopback(peer: IpAddr) -> bool {
    canonical(peer).is_loopback()
}

/// Checks a callback URL now ([`check_outbound_url`]): its scheme, and every address its
/// host resolves to. Returns the address to connect to (so the check and the connection
/// agree), or why it is refused.
pub async fn check_callback(url: &str, allow_private: bool) -> Result<(Url, SocketAddr), String> {
    check_outbound_url(url, allow_private).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("test address")
    }

    #[test]
    fn blocks_and_addresses_match() {
        let list: Vec<String> = ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]
            .map(String::from)
            .into();
        for allowed in ["10.1.2.3", "192.168.1.7", "2001:db8::1", "::ffff:10.9.9.9"] {
            assert!(allowed_by(&list, ip(allowed)), "{allowed}");
        }
        for refused in ["11.0.0.1", "192.168.1.8", "2001:db9::1", "127.0.0.1"] {
            assert!(!allowed_by(&list, ip(refused)), "{refused}");
        }
        assert!(allowed_by(&[], ip("8.8.8.8")));
    }

    #[test]
    fn invalid_entries_never_match() {
        for raw in [
            "",
            "10.0.0.0/33",
            "::/129",
            "host.example",
            "10.0.0/8",
            "1.2.3.4/x",
        ] {
            assert!(!is_valid_entry(raw), "{raw:?}");
        }
        // A list of only invalid entries allows nobody (it is not empty).
        assert!(!allowed_by(&["nonsense".to_owned()], ip("1.2.3.4")));
        assert!(is_valid_entry("0.0.0.0/0"));
        assert!(allowed_by(&["0.0.0.0/0".to_owned()], ip("1.2.3.4")));
    }

    #[test]
    fn loopback_includes_mapped_addresses() {
        assert!(is_loopback(ip("127.0.0.1")));
        assert!(is_loopback(ip("127.3.4.5")));
        assert!(is_loopback(ip("::1")));
        assert!(is_loopback(ip("::ffff:127.0.0.1")));
        assert!(!is_loopback(ip("10.0.0.1")));
    }

    #[tokio::test]
    async fn callbacks_to_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/cb",
            "http://10.0.0.1/cb",
            "http://169.254.169.254/latest",
            "http://[::1]/cb",
            "http://localhost/cb",
            "ftp://example.com/cb",
            "http://user:pw@example.com/cb",
            "not a url",
        ] {
            assert!(check_callback(url, false).await.is_err(), "{url}");
        }
        let (_, addr) = check_callback("http://127.0.0.1:9/cb", true)
            .await
            .expect("allowed when private callbacks are");
        assert_eq!(addr, "127.0.0.1:9".parse().expect("addr"));
        assert!(check_callback("ftp://127.0.0.1/cb", true).await.is_err());
    }
}
