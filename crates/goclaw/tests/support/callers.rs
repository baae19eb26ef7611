//! The callers most access tests act as: an administrator, two users with read and write keys
//! bound to them (`alice`, `bob`) and a viewer with a read key bound to her (`vera`), each
//! calling over HTTP with their own bearer token. Test files add their own helpers in
//! `impl Callers` blocks of their own.

use goclaw_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

/// Who the administrator is.
#[derive(Debug, Clone, Copy)]
pub enum Admin {
    /// The gateway token itself (the owner).
    GatewayToken,
    /// An `operator.admin` key bound to user `ada`.
    AdminKey,
}

/// Bearer tokens by caller name: `admin`, `alice`, `bob`, `vera`.
pub struct Callers {
    bearers: Vec<(&'static str, String)>,
}

impl Callers {
    /// Creates the keys with the gateway `token`.
    pub async fn create(app: &TestApp, token: &str, admin: Admin) -> Self {
        let key = |scopes: &'static [&'static str], owner: &'static str| {
            let body =
                json!({ "name": format!("{owner}'s key"), "scopes": scopes, "owner_id": owner });
            async move { app.create_api_key(token, body).await.1 }
        };
        let read_write: &[&str] = &["operator.read", "operator.write"];
        let admin = match admin {
            Admin::GatewayToken => token.to_owned(),
            Admin::AdminKey => key(&["operator.admin"], "ada").await,
        };
        Self {
            bearers: vec![
                ("admin", admin),
                ("alice", key(read_write, "alice").await),
                ("bob", key(read_write, "bob").await),
                ("vera", key(&["operator.read"], "vera").await),
            ],
        }
    }

    /// The bearer token of `who`; panics for a name not created.
    pub fn bearer(&self, who: &str) -> String {
        self.bearers
            .iter()
            .find(|(name, _)| *name == who)
            .map(|(_, key)| key.clone())
            .unwrap_or_else(|| panic!("no caller named {who}"))
    }

    /// `method path` as `who`, with `body` as JSON when given: the status and the JSON answer.
    pub async fn call(
        &self,
        app: &TestApp,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        super::http::call(app, &self.bearer(who), None, method, path, body).await
    }
}
