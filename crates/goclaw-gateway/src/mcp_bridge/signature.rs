//! The bridge's context headers and their signature. A caller holding the gateway token signs
//! the context it asks for with `X-Bridge-Sig`: lowercase hex of HMAC-SHA256, keyed by the
//! gateway token, over the nine header values joined by `|` in this order — agent, user,
//! channel, chat, peer kind, workspace, tenant, local key, session key (an absent header is an
//! empty value). That is the form GoClaw's own signer produces, so its bridge configurations
//! verify here unchanged.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Bridge-Sig";

/// The context headers, in signing order.
pub const CONTEXT_HEADERS: [&str; 9] = [
    "X-Agent-ID",
    "X-User-ID",
    "X-Channel",
    "X-Chat-ID",
    "X-Peer-Kind",
    "X-Workspace",
    "X-Tenant-ID",
    "X-Local-Key",
    "X-Session-Key",
];

/// The values of the context headers a request carries (empty where absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeHeaders {
    pub agent_id: String,
    pub user_id: String,
    pub channel: String,
    pub chat_id: String,
    pub peer_kind: String,
    pub workspace: String,
    pub tenant_id: String,
    pub local_key: String,
    pub session_key: String,
}

/// A context header whose value is not text: it cannot have been signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotText;

impl BridgeHeaders {
    /// The context headers of `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, NotText> {
        let value = |name: &str| -> Result<String, NotText> {
            match headers.get(name) {
                None => Ok(String::new()),
                Some(value) => value.to_str().map(str::to_owned).map_err(|_| NotText),
            }
        };
        Ok(Self {
            agent_id: value(CONTEXT_HEADERS[0])?,
            user_id: value(CONTEXT_HEADERS[1])?,
            channel: value(CONTEXT_HEADERS[2])?,
            chat_id: value(CONTEXT_HEADERS[3])?,
            peer_kind: value(CONTEXT_HEADERS[4])?,
            workspace: value(CONTEXT_HEADERS[5])?,
            tenant_id: value(CONTEXT_HEADERS[6])?,
            local_key: value(CONTEXT_HEADERS[7])?,
            session_key: value(CONTEXT_HEADERS[8])?,
        })
    }

    /// Whether the request names no context at all.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|value| value.is_empty())
    }

    fn fields(&self) -> [&str; 9] {
        [
            &self.agent_id,
            &self.user_id,
            &self.channel,
            &self.chat_id,
            &self.peer_kind,
            &self.workspace,
            &self.tenant_id,
            &self.local_key,
            &self.session_key,
        ]
    }

    /// The signature of these values under `token`.
    pub fn sign(&self, token: &str) -> String {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.as_bytes()) else {
            return String::new();
        };
        mac.update(self.fields().join("|").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is these values' signature under `token` (compared in constant time).
    pub fn verify(&self, token: &str, signature: &str) -> bool {
        let expected = self.sign(token);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let Ok(value) = HeaderValue::from_str(value) else {
                panic!("header value {value:?}");
            };
            let Ok(name) = axum::http::HeaderName::from_bytes(name.as_bytes()) else {
                panic!("header name {name:?}");
            };
            map.insert(name, value);
        }
        map
    }

    /// Lowercase hex HMAC-SHA256 of `message` under `key`, computed independently of the code.
    fn hmac_hex(key: &str, message: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            panic!("hmac key");
        };
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signature_covers_the_nine_values_in_goclaws_order() {
        let all = headers(&[
            ("X-Agent-ID", "agent-1"),
            ("X-User-ID", "alice"),
            ("X-Channel", "telegram"),
            ("X-Chat-ID", "42"),
            ("X-Peer-Kind", "direct"),
            ("X-Workspace", "/ws/alice"),
            ("X-Tenant-ID", "tenant-9"),
            ("X-Local-Key", "local-3"),
            ("X-Session-Key", "agent:default:telegram:direct:42"),
        ]);
        let Ok(context) = BridgeHeaders::from_headers(&all) else {
            panic!("text headers");
        };
        let expected = hmac_hex(
            "gw-token",
            "agent-1|alice|telegram|42|direct|/ws/alice|tenant-9|local-3|agent:default:telegram:direct:42",
        );
        assert_eq!(context.sign("gw-token"), expected);
        assert!(context.verify("gw-token", &expected));
        assert!(!context.verify("other-token", &expected));
        assert!(!context.verify("gw-token", &expected.to_uppercase()));
    }

    #[test]
    fn absent_headers_sign_as_empty_values() {
        let Ok(context) = BridgeHeaders::from_headers(&headers(&[("X-User-ID", "bob")])) else {
            panic!("text headers");
        };
        assert!(!context.is_empty());
        assert_eq!(context.sign("k"), hmac_hex("k", "|bob|||||||"));
        let Ok(none) = BridgeHeaders::from_headers(&HeaderMap::new()) else {
            panic!("no headers");
        };
        assert!(none.is_empty());
    }

    #[test]
    fn a_changed_value_breaks_the_signature() {
        let Ok(signed) =
            BridgeHeaders::from_headers(&headers(&[("X-Agent-ID", "a"), ("X-User-ID", "u")]))
        else {
            panic!("text headers");
        };
        let signature = signed.sign("k");
        for (name, value) in [
            ("X-User-ID", "v"),
            ("X-Tenant-ID", "t"),
            ("X-Session-Key", "s"),
        ] {
            let mut tampered = headers(&[("X-Agent-ID", "a"), ("X-User-ID", "u")]);
            let Ok(value) = HeaderValue::from_str(value) else {
                panic!("header value");
            };
            tampered.insert(name, value);
            let Ok(tampered) = BridgeHeaders::from_headers(&tampered) else {
                panic!("text headers");
            };
            assert!(!tampered.verify("k", &signature), "{name} changed");
        }
    }
}
