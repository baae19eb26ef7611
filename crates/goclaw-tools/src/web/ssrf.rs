//! The SSRF guard of the web tools: which host names and addresses are never fetched, and the
//! resolver seam through which every host name is turned into the addresses that are checked —
//! and then pinned, so the connection goes to exactly the address that passed.
//!
//! Host spellings such as `2130706433`, `0177.0.0.1`, `0x7f.1` or `127.1` are normalized by the
//! URL parser (WHATWG host parsing) before they reach [`blocked_ip`]; IPv4-mapped and
//! IPv4-compatible IPv6 addresses are checked as the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use async_trait::async_trait;
use url::{Host, Url};

/// Turns a host name into the addresses it stands for.
#[async_trait]
pub trait Resolver: Send + Sync {
    /// Every address of `host`, with `port` attached; an error message when it does not resolve.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String>;
}

/// The operating system's resolver.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        tokio::net::lookup_host((host, port))
            .await
            .map(|addrs| addrs.collect())
            .map_err(|e| format!("cannot resolve {host}: {e}"))
    }
}

/// Checks a URL the gateway will send to on its own (a webhook callback, an `http` hook, an
/// MCP server): `http(s)` only, no credentials in it, and — unless `allow_private` — no
/// blocked host name and no blocked address among every address the host resolves to now.
/// Returns the URL and the address to connect to (so the check and the connection agree), or
/// why it is refused.
pub async fn check_outbound_url(
    raw: &str,
    allow_private: bool,
) -> Result<(Url, SocketAddr), String> {
    let url = Url::parse(raw.trim()).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are allowed".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URLs may not carry credentials".to_owned());
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_owned())?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            if !allow_private && let Some(reason) = blocked_hostname(&name) {
                return Err(format!("blocked host ({reason})"));
            }
            tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|_| "the host does not resolve".to_owned())?
                .collect()
        }
        None => return Err("the URL has no host".to_owned()),
    };
    let first = *addrs
        .first()
        .ok_or_else(|| "the host resolves to no address".to_owned())?;
    if !allow_private {
        for addr in &addrs {
            if let Some(reason) = blocked_ip(addr.ip()) {
                return Err(format!("blocked address ({reason})"));
            }
        }
    }
    Ok((url, first))
}

/// Why `host` (a lowercased name, not an IP literal) is never fetched, if it is not.
pub fn blocked_hostname(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("localhost");
    }
    if host == "metadata.google.internal" || host == "metadata" || host == "instance-data" {
        return Some("cloud metadata host");
    }
    if host.ends_with(".internal") || host.ends_with(".local") || host.ends_with(".localdomain") {
        return Some("internal host name");
    }
    None
}

/// Why `ip` is never fetched, if it is not.
pub fn blocked_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

/// Whether `ip` reaches the machine itself or its cloud metadata service: loopback,
/// unspecified (`0.0.0.0`, `::`) and link-local, also inside IPv4-carrying IPv6 forms. Commands
/// of the exec tool may reach other private networks; these never.
pub fn reaches_this_host(ip: IpAddr) -> bool {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4,
            None => {
                return v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xffc0) == 0xfe80;
            }
        },
    };
    v4.is_loopback() || v4.octets()[0] == 0 || v4.is_link_local()
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) => "private (10/8)",
        (172, 16..=31, _) => "private (172.16/12)",
        (192, 168, _) => "private (192.168/16)",
        (169, 254, _) => "link-local / cloud metadata",
        (100, 64..=127, _) => "shared address space (100.64/10)",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved / broadcast",
        _ => return None,
    };
    Some(reason)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return blocked_v4(v4);
    }
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let reason = match seg[0] {
        0xfe80..=0xfebf => "link-local (fe80::/10)",
        0xfec0..=0xfeff => "site-local (fec0::/10)",
        0xfc00..=0xfdff => "unique-local (fc00::/7)",
        0xff00..=0xffff => "multicast",
        0x2001 if seg[1] == 0x0db8 => "documentation",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = Ipv4Addr::new(
        (seg[6] >> 8) as u8,
        seg[6] as u8,
        (seg[7] >> 8) as u8,
        seg[7] as u8,
    );
    if seg[..5] == [0, 0, 0, 0, 0] && (seg[5] == 0xffff || (seg[5] == 0 && !ip.is_loopback())) {
        if seg[5] == 0 && ip.is_unspecified() {
            return None;
        }
        return Some(tail);
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return Some(tail);
    }
    if seg[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ip: &str, blocked: bool) {
        let parsed: IpAddr = ip.parse().expect("test addresses parse");
        assert_eq!(blocked_ip(parsed).is_some(), blocked, "{ip}");
    }

    #[test]
    fn address_table() {
        check("127.0.0.1", true);
        check("127.255.255.254", true);
        check("0.0.0.0", true);
        check("10.1.2.3", true);
        check("172.16.0.1", true);
        check("172.31.255.255", true);
        check("172.32.0.1", false);
        check("192.168.1.1", true);
        check("169.254.169.254", true);
        check("100.64.0.1", true);
        check("100.128.0.1", false);
        check("224.0.0.1", true);
        check("255.255.255.255", true);
        check("192.0.2.7", true);
        check("203.0.113.9", true);
        check("8.8.8.8", false);
        check("93.184.216.34", false);
        check("::", true);
        check("::1", true);
        check("fe80::1", true);
        check("fec0::1", true);
        check("fd00::1", true);
        check("ff02::1", true);
        check("::ffff:127.0.0.1", true);
        check("::ffff:7f00:1", true);
        check("::127.0.0.1", true);
        check("::ffff:8.8.8.8", false);
        check("64:ff9b::10.0.0.1", true);
        check("2002:7f00:1::", true);
        check("2001:db8::1", true);
        check("2606:4700:4700::1111", false);
    }

    #[test]
    fn odd_ip_spellings_normalize_to_the_address_checked() {
        for (raw, host) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"),
            ("http://[0:0:0:0:0:ffff:7f00:1]/", "[::ffff:7f00:1]"),
        ] {
            let url = url::Url::parse(raw).expect("test URLs parse");
            assert_eq!(url.host_str(), Some(host), "{raw}");
            let ip = match url.host() {
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
                _ => panic!("{raw} is not an IP literal"),
            };
            assert!(blocked_ip(ip).is_some(), "{raw}");
        }
    }

    #[test]
    fn hostname_table() {
        for host in [
            "localhost",
            "a.localhost",
            "metadata.google.internal",
            "x.internal",
            "printer.local",
            "localhost.",
        ] {
            assert!(blocked_hostname(host).is_some(), "{host}");
        }
        for host in [
            "example.com",
            "localhost.example.com",
            "internal.example.com",
        ] {
            assert!(blocked_hostname(host).is_none(), "{host}");
        }
    }
}
