//! Calling a gateway with several tenants: HTTP requests and WebSocket connections as a given
//! bearer, user (`X-GoClaw-User-Id` / `user_id`) and tenant (`X-GoClaw-Tenant-Id` /
//! `tenant_id`), and the owner's set-up steps (tenants, members, tenant-bound keys) made
//! through the gateway's own routes.

use goclaw_testkit::{TestApp, WsClient};
use reqwest::Method;
use serde_json::{Value, json};

/// Who calls: a bearer token, the user it acts for and the tenant it names.
#[derive(Debug, Clone, Copy)]
pub struct As<'a> {
    pub bearer: &'a str,
    pub user: Option<&'a str>,
    pub tenant: Option<&'a str>,
}

impl<'a> As<'a> {
    /// A bearer alone (an API key, or the gateway token as the default user).
    pub fn key(bearer: &'a str) -> Self {
        Self {
            bearer,
            user: None,
            tenant: None,
        }
    }

    /// The gateway token as `user`, naming `tenant` when given.
    pub fn user(bearer: &'a str, user: &'a str, tenant: Option<&'a str>) -> Self {
        Self {
            bearer,
            user: Some(user),
            tenant,
        }
    }
}

/// `method path` as `who`: the status and the JSON answer (`null` when not JSON).
pub async fn http(
    app: &TestApp,
    who: As<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(who.bearer);
    if let Some(user) = who.user {
        request = request.header("X-GoClaw-User-Id", user);
    }
    if let Some(tenant) = who.tenant {
        request = request.header("X-GoClaw-Tenant-Id", tenant);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A WebSocket and the response frame of its `connect` as `who`.
pub async fn connect(app: &TestApp, who: As<'_>) -> (WsClient, Value) {
    let mut params = json!({ "token": who.bearer });
    if let Some(user) = who.user {
        params["user_id"] = json!(user);
    }
    if let Some(tenant) = who.tenant {
        params["tenant_id"] = json!(tenant);
    }
    let mut ws = WsClient::open(&app.ws_url()).await;
    let res = ws.call("connect", params).await;
    (ws, res)
}

/// Like [`connect`], asserting success; the `connect` payload.
pub async fn connect_ok(app: &TestApp, who: As<'_>) -> (WsClient, Value) {
    let (ws, res) = connect(app, who).await;
    assert_eq!(res["ok"], true, "connect as {who:?}: {res}");
    (ws, res["payload"].clone())
}

/// Creates tenant `slug` as the owner (`system` with `token`); its id.
pub async fn create_tenant(app: &TestApp, token: &str, slug: &str, name: &str) -> String {
    let body = json!({ "name": name, "slug": slug });
    let (status, created) =
        http(app, As::key(token), Method::POST, "/v1/tenants", Some(body)).await;
    assert_eq!(status, 201, "creating {slug}: {created}");
    created["id"].as_str().expect("the tenant's id").to_owned()
}

/// Makes `user` a member of `tenant` with `role`, as the owner.
pub async fn add_member(app: &TestApp, token: &str, tenant: &str, user: &str, role: &str) {
    let path = format!("/v1/tenants/{tenant}/users");
    let body = json!({ "user_id": user, "role": role });
    let (status, answer) = http(app, As::key(token), Method::POST, &path, Some(body)).await;
    assert_eq!(status, 201, "adding {user} to {tenant}: {answer}");
}

/// An API key bound to `tenant` (its slug) and to user `owner`, created by that tenant's admin
/// `admin`: its id and plaintext.
pub async fn tenant_key(
    app: &TestApp,
    token: &str,
    admin: &str,
    tenant: &str,
    owner: &str,
    scopes: &[&str],
) -> (String, String) {
    let body = json!({ "name": format!("{owner}'s key"), "scopes": scopes, "owner_id": owner });
    let who = As::user(token, admin, Some(tenant));
    let (status, created) = http(app, who, Method::POST, "/v1/api-keys", Some(body)).await;
    assert_eq!(status, 201, "{admin} creating {owner}'s key: {created}");
    let field = |name: &str| created[name].as_str().expect(name).to_owned();
    (field("id"), field("key"))
}
