//! What the team tests share: the callers (the owner, an admin key, alice and bob with
//! read+write keys, vera with a read-only key, carol an admin of another tenant), the master
//! tenant's predefined agents `lead`, `writer` and `tester`, the crew team and task helpers.

// Each test binary uses its own part of the kit.
#![allow(dead_code)]

use std::collections::BTreeSet;

use goclaw_core::{AgentKey, ApiKeyScope, MASTER_TENANT_ID, NewAgent};
use goclaw_testkit::{TestApp, WsClient};
use serde_json::{Value, json};

pub const TOKEN: &str = "teams-token-5d1c";

pub struct Callers {
    pub owner: WsClient,
    pub admin: WsClient,
    pub alice: WsClient,
    pub bob: WsClient,
    pub vera: WsClient,
    pub carol: WsClient,
}

impl Callers {
    pub fn all(&mut self) -> [(&'static str, &mut WsClient); 6] {
        [
            ("owner", &mut self.owner),
            ("admin", &mut self.admin),
            ("alice", &mut self.alice),
            ("bob", &mut self.bob),
            ("vera", &mut self.vera),
            ("carol", &mut self.carol),
        ]
    }
}

pub async fn signed_in(app: &TestApp, token: &str, user: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": token, "user_id": user }))
        .await;
    ws
}

/// The master tenant's agents `lead`, `writer` and `tester` (predefined, so they may be
/// delegated to).
pub async fn crew_agents(app: &TestApp) {
    let store = app.db.store();
    for key in ["lead", "writer", "tester"] {
        let mut agent = NewAgent::new(MASTER_TENANT_ID, AgentKey::parse(key).expect("key"), key);
        agent.agent_type = "predefined".to_owned();
        store.agents().create(agent).await.expect("agent");
    }
}

/// The callers, and the crew's agents ([`crew_agents`]).
pub async fn callers(app: &TestApp) -> Callers {
    crew_agents(app).await;
    let key = |scopes: &'static [&'static str], owner: &'static str| async move {
        let body = json!({ "name": owner, "scopes": scopes, "owner_id": owner });
        app.create_api_key(TOKEN, body).await.1
    };
    let admin = key(&["operator.admin"], "ada").await;
    let alice = key(&["operator.read", "operator.write"], "alice").await;
    let bob = key(&["operator.read", "operator.write"], "bob").await;
    let vera = key(&["operator.read"], "vera").await;
    let acme = app
        .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
        .await;
    Callers {
        owner: signed_in(app, TOKEN, "system").await,
        admin: signed_in(app, &admin, "").await,
        alice: signed_in(app, &alice, "").await,
        bob: signed_in(app, &bob, "").await,
        vera: signed_in(app, &vera, "").await,
        carol: signed_in(app, &acme.key, "").await,
    }
}

pub fn error_code(response: &Value) -> &str {
    response["error"]["code"].as_str().unwrap_or_default()
}

pub fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// Waits until `ws` has an event named `name` matching `found`, and returns it.
pub async fn event_where(ws: &mut WsClient, name: &str, found: impl Fn(&Value) -> bool) -> Value {
    loop {
        if let Some(event) = ws
            .events
            .iter()
            .find(|e| e["event"] == name && found(&e["payload"]))
        {
            return event.clone();
        }
        ws.pump().await;
    }
}

/// The crew: `lead` leading `writer` and `tester`, seen by alice and vera.
pub async fn crew(admin: &mut WsClient) -> String {
    let created = admin
        .call_ok(
            "teams.create",
            json!({
                "name": "crew",
                "lead": "lead",
                "members": ["writer", "tester"],
                "description": "writes and tests",
                "settings": { "version": 2, "allow_user_ids": ["alice", "vera"] },
            }),
        )
        .await;
    text(&created["team"]["id"])
}

pub async fn new_task(ws: &mut WsClient, team: &str, subject: &str, blocked_by: &[&str]) -> Value {
    let params = json!({ "teamId": team, "subject": subject, "blockedBy": blocked_by });
    ws.call_ok("teams.tasks.create", params).await["task"].clone()
}

pub fn ids(tasks: &Value) -> Vec<String> {
    tasks
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| text(&t["id"]))
        .collect()
}

/// Calls `method` on the crew's task `task` with `extra` params, as `ws`.
pub async fn on_task(
    ws: &mut WsClient,
    method: &str,
    team: &str,
    task: &str,
    extra: Value,
) -> Value {
    let mut params = json!({ "teamId": team, "taskId": task });
    if let (Some(params), Value::Object(extra)) = (params.as_object_mut(), extra) {
        params.extend(extra);
    }
    ws.call_ok(method, params).await
}

pub fn names(list: &str) -> BTreeSet<&str> {
    list.split_whitespace().collect()
}

pub fn ids_of(tasks: &[goclaw_core::TeamTask]) -> Vec<String> {
    tasks.iter().map(|t| t.id.to_string()).collect()
}

/// Fences the callers' event streams: a last team (led by `lead`) named for every
/// master-tenant user, then one of carol's own. Once a caller has the event of the one it may
/// see, it has every event sent before it.
pub async fn fence(who: &mut Callers, lead: &str) {
    who.admin
        .call_ok(
            "teams.create",
            json!({ "name": "fence", "lead": lead, "members": ["tester"],
                    "settings": { "allow_user_ids": ["alice", "bob", "vera"] } }),
        )
        .await;
    who.carol
        .call_ok(
            "teams.create",
            json!({ "name": "acme", "lead": "helper", "members": ["helper"] }),
        )
        .await;
    for (name, ws) in who.all() {
        let fence = if name == "carol" { "acme" } else { "fence" };
        event_where(ws, "team.created", |p| p["team_name"] == fence).await;
    }
}
