//! The rule that a gateway reachable from other machines must require a token.

/// Why the gateway refuses to bind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error(
        "refusing to listen on {host} without authentication: set GOCLAW_GATEWAY_TOKEN \
         (e.g. `export GOCLAW_GATEWAY_TOKEN=$(openssl rand -hex 32)`), bind to 127.0.0.1, \
         or set GOCLAW_ALLOW_INSECURE_NO_AUTH=true if another layer authenticates clients"
    )]
    NonLoopbackWithoutToken { host: String },
}

/// Whether `host` only accepts connections from this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    if trimmed.eq_ignore_ascii_case("localhost") {
        return true;
    }
    trimmed
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Refuses a non-loopback bind when no gateway token is configured, unless the operator
/// explicitly allowed it.
pub fn check_bind_security(
    host: &str,
    token_configured: bool,
    allow_insecure_no_auth: bool,
) -> Result<(), BindError> {
    if token_configured || allow_insecure_no_auth || is_loopback_host(host) {
        return Ok(());
    }
    Err(BindError::NonLoopbackWithoutToken {
        host: host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host: &str, token: bool, insecure: bool, allowed: bool) {
        assert_eq!(
            check_bind_security(host, token, insecure).is_ok(),
            allowed,
            "host={host} token={token} insecure={insecure}"
        );
    }

    #[test]
    fn bind_rules() {
        check("127.0.0.1", false, false, true);
        check("127.0.0.2", false, false, true);
        check("localhost", false, false, true);
        check("::1", false, false, true);
        check("[::1]", false, false, true);
        check("0.0.0.0", false, false, false);
        check("::", false, false, false);
        check("192.168.1.10", false, false, false);
        check("example.com", false, false, false);
        check("0.0.0.0", true, false, true);
        check("0.0.0.0", false, true, true);
    }

    #[test]
    fn refusal_names_the_fix() {
        let err = check_bind_security("0.0.0.0", false, false).expect_err("must refuse");
        let text = err.to_string();
        assert!(text.contains("GOCLAW_GATEWAY_TOKEN"), "{text}");
        assert!(text.contains("GOCLAW_ALLOW_INSECURE_NO_AUTH"), "{text}");
    }
}
