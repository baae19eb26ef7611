//! Who may reach what, end to end on both backends: with a gateway token configured, the owner,
//! an admin key, read+write keys bound to alice and bob, a read-only key bound to vera, an
//! approvals key bound to bob, an unbound read+write key and a caller without credentials are
//! each tried on every WebSocket method and every HTTP route (one row per method or route), and
//! the pushed events of real runs are checked against who received them (one row per event).
//! The rows must cover the gateway's access table exactly. Then the read paths: alice never sees
//! bob's sessions, history, traces, approvals or agent events, and the other way round.

mod access;

use std::collections::BTreeSet;

use goclaw_gateway::scopes::{EVENT_ACCESS, METHOD_ACCESS, ROUTE_ACCESS};
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;

use access::{Principals, TOKEN};

const ASK_ALWAYS: &str = r#"{ tools: { execApproval: { security: "full", ask: "always" } } }"#;

/// Everyone allowed by a public entry (`anon` presents no credentials; HTTP only).
const ANYONE: &str = "owner admin alice bob vera approver unbound anon";
/// `operator.read` or more, or the gateway token.
const READERS: &str = "owner admin alice bob vera unbound";
/// `operator.write` or more, or the gateway token.
const WRITERS: &str = "owner admin alice bob unbound";
/// `operator.admin`, or the gateway token.
const ADMINS: &str = "owner admin";
/// The gateway token alone (no API key, whatever its scopes).
const OWNER: &str = "owner";
const NOBODY: &str = "";
/// `operator.approvals` or `operator.admin`, or the gateway token.
const APPROVERS: &str = "owner admin approver";
/// `operator.pairing` or `operator.admin`, or the gateway token (no principal here holds
/// `operator.pairing` alone; `tests/pairing.rs` covers that key).
const PAIRERS: &str = "owner admin";

/// Who passes the guard of each WebSocket method.
const METHOD_ROWS: &[(&str, &str)] = &[
    ("health", READERS),
    ("status", READERS),
    ("usage.get", READERS),
    ("usage.summary", READERS),
    ("quota.usage", READERS),
    ("chat.send", WRITERS),
    ("chat.history", READERS),
    ("chat.abort", WRITERS),
    ("chat.inject", WRITERS),
    ("chat.session.status", READERS),
    ("sessions.list", READERS),
    ("sessions.preview", READERS),
    ("sessions.patch", WRITERS),
    ("sessions.delete", WRITERS),
    ("sessions.reset", WRITERS),
    ("sessions.compact", WRITERS),
    ("agents.list", READERS),
    ("agents.files.list", READERS),
    ("agents.files.get", READERS),
    ("agents.files.set", WRITERS),
    ("agents.create", ADMINS),
    ("agents.update", ADMINS),
    ("agents.delete", ADMINS),
    ("api_keys.list", ADMINS),
    ("api_keys.create", ADMINS),
    ("api_keys.revoke", ADMINS),
    ("providers.list", ADMINS),
    ("providers.create", ADMINS),
    ("providers.update", ADMINS),
    ("providers.delete", ADMINS),
    ("exec.approval.list", APPROVERS),
    ("exec.approval.approve", APPROVERS),
    ("exec.approval.deny", APPROVERS),
    ("device.pair.request", PAIRERS),
    ("device.pair.approve", ADMINS),
    ("device.pair.deny", ADMINS),
    ("device.pair.list", ADMINS),
    ("device.pair.revoke", ADMINS),
    ("browser.pairing.status", PAIRERS),
    ("channels.list", READERS),
    ("channels.status", READERS),
    ("channels.toggle", ADMINS),
    ("channels.instances.list", READERS),
    ("channels.instances.get", READERS),
    ("channels.instances.create", ADMINS),
    ("channels.instances.update", ADMINS),
    ("channels.instances.delete", ADMINS),
    ("cron.list", READERS),
    ("cron.status", READERS),
    ("cron.runs", READERS),
    ("cron.create", WRITERS),
    ("cron.update", WRITERS),
    ("cron.delete", WRITERS),
    ("cron.toggle", WRITERS),
    ("cron.run", WRITERS),
    // Teams, their task boards and delegation links.
    ("agents.links.list", READERS),
    ("agents.links.create", ADMINS),
    ("agents.links.update", ADMINS),
    ("agents.links.delete", ADMINS),
    ("teams.list", READERS),
    ("teams.get", READERS),
    ("teams.create", ADMINS),
    ("teams.update", ADMINS),
    ("teams.delete", ADMINS),
    ("teams.members.add", ADMINS),
    ("teams.members.remove", ADMINS),
    ("teams.tasks.list", READERS),
    ("teams.tasks.get", READERS),
    ("teams.tasks.get-light", READERS),
    ("teams.tasks.delete-bulk", ADMINS),
    ("teams.scopes", READERS),
    ("teams.known_users", READERS),
    ("teams.events.list", READERS),
    ("teams.tasks.events", READERS),
    ("teams.tasks.comments", READERS),
    ("teams.tasks.active-by-session", READERS),
    ("teams.tasks.create", WRITERS),
    ("teams.tasks.assign", WRITERS),
    ("teams.tasks.claim", WRITERS),
    ("teams.tasks.progress", WRITERS),
    ("teams.tasks.complete", WRITERS),
    ("teams.tasks.fail", WRITERS),
    ("teams.tasks.cancel", WRITERS),
    ("teams.tasks.review", WRITERS),
    ("teams.tasks.approve", WRITERS),
    ("teams.tasks.reject", WRITERS),
    ("teams.tasks.comment", WRITERS),
    ("teams.tasks.delete", ADMINS),
    ("teams.workspace.list", READERS),
    ("teams.workspace.read", READERS),
    ("teams.workspace.write", WRITERS),
    ("teams.workspace.delete", WRITERS),
    ("heartbeat.get", READERS),
    ("heartbeat.logs", READERS),
    ("heartbeat.checklist.get", READERS),
    ("heartbeat.targets", READERS),
    ("heartbeat.set", ADMINS),
    ("skills.list", READERS),
    ("skills.get", READERS),
    ("skills.update", ADMINS),
    ("hooks.list", READERS),
    ("hooks.history", READERS),
    ("hooks.test", WRITERS),
    ("hooks.create", ADMINS),
    ("hooks.update", ADMINS),
    ("hooks.delete", ADMINS),
    ("hooks.toggle", ADMINS),
    ("heartbeat.toggle", ADMINS),
    ("heartbeat.test", ADMINS),
    ("heartbeat.checklist.set", ADMINS),
    // The configuration, and GoClaw dashboard methods of features not provided.
    ("config.get", OWNER),
    ("config.apply", OWNER),
    ("config.patch", OWNER),
    ("config.schema", OWNER),
    ("config.defaults", ADMINS),
    ("workstations.list", READERS),
    ("workstations.activity.list", READERS),
    ("workstations.create", ADMINS),
    ("workstations.update", ADMINS),
    ("workstations.delete", ADMINS),
    ("bitrix.portals.list", ADMINS),
    ("bitrix.portals.create", ADMINS),
    ("bitrix.portals.delete", ADMINS),
    ("bitrix.portals.get_install_url", ADMINS),
    ("config.permissions.list", ADMINS),
    ("config.permissions.check", ADMINS),
    ("config.permissions.grant", ADMINS),
    ("config.permissions.revoke", ADMINS),
    ("chat_behavior.preview", OWNER),
    ("whatsapp.qr.start", ADMINS),
    ("zalo.personal.qr.start", ADMINS),
    ("zalo.personal.contacts", ADMINS),
    ("logs.tail", ADMINS),
    ("run.timeline.get", READERS),
    // Tenants: reads for readers (the handler narrows them to the caller's tenant); creating
    // tenants and adding members pass the guard with `operator.admin` or `operator.provision`
    // (the handler then wants the owner or `operator.provision`).
    ("tenants.list", READERS),
    ("tenants.get", READERS),
    ("tenants.users.list", READERS),
    ("tenants.mine", READERS),
    ("tenants.create", ADMINS),
    ("tenants.update", ADMINS),
    ("tenants.users.add", ADMINS),
    ("tenants.users.remove", ADMINS),
];

/// Who passes the guard of each HTTP route.
const ROUTE_ROWS: &[(&str, &str, &str)] = &[
    ("ANY", "/health", ANYONE),
    ("GET", "/ready", ANYONE),
    ("GET", "/", ANYONE),
    ("GET", "/ws", ANYONE),
    ("GET", "/v1/openapi.json", ANYONE),
    ("GET", "/v1/edition", ANYONE),
    ("GET", "/docs", ANYONE),
    ("GET", "/docs/", ANYONE),
    ("GET", "/docs/{*path}", ANYONE),
    ("GET", "/ui/{*path}", ANYONE),
    ("GET", "/metrics", READERS),
    ("GET", "/v1/system/doctor", OWNER),
    ("ANY", "/mcp/bridge", OWNER),
    ("POST", "/v1/chat/completions", WRITERS),
    ("GET", "/v1/agents", READERS),
    ("POST", "/v1/agents", ADMINS),
    ("GET", "/v1/agents/{id}", READERS),
    ("PUT", "/v1/agents/{id}", ADMINS),
    ("DELETE", "/v1/agents/{id}", ADMINS),
    ("GET", "/v1/agents/{id}/episodic", READERS),
    ("POST", "/v1/agents/{id}/episodic/search", READERS),
    ("GET", "/v1/agents/{id}/kg/entities", READERS),
    ("GET", "/v1/agents/{id}/kg/entities/{entityID}", READERS),
    ("POST", "/v1/agents/{id}/kg/traverse", READERS),
    ("GET", "/v1/agents/{id}/kg/dedup", READERS),
    ("POST", "/v1/agents/{id}/kg/entities", WRITERS),
    ("DELETE", "/v1/agents/{id}/kg/entities/{entityID}", WRITERS),
    ("POST", "/v1/agents/{id}/kg/dedup/dismiss", WRITERS),
    ("POST", "/v1/agents/{id}/kg/merge", WRITERS),
    ("GET", "/v1/agents/{id}/kg/stats", READERS),
    ("GET", "/v1/agents/{id}/kg/graph", READERS),
    ("POST", "/v1/agents/{id}/kg/reset", WRITERS),
    ("POST", "/v1/agents/{id}/kg/extract", WRITERS),
    ("POST", "/v1/agents/{id}/kg/dedup/scan", WRITERS),
    ("GET", "/v1/api-keys", ADMINS),
    ("POST", "/v1/api-keys", ADMINS),
    ("POST", "/v1/api-keys/{id}/revoke", ADMINS),
    ("DELETE", "/v1/api-keys/{id}", ADMINS),
    ("GET", "/v1/providers", READERS),
    ("POST", "/v1/providers", ADMINS),
    ("GET", "/v1/providers/{id}", READERS),
    ("PUT", "/v1/providers/{id}", ADMINS),
    ("DELETE", "/v1/providers/{id}", ADMINS),
    ("GET", "/v1/providers/{id}/models", READERS),
    ("POST", "/v1/providers/{id}/verify", ADMINS),
    ("GET", "/v1/traces", READERS),
    ("GET", "/v1/traces/{id}", READERS),
    ("GET", "/v1/usage/summary", READERS),
    ("GET", "/v1/usage/timeseries", READERS),
    ("GET", "/v1/usage/breakdown", READERS),
    ("GET", "/v1/sessions", READERS),
    ("GET", "/v1/system-configs", READERS),
    ("GET", "/v1/system-configs/{key}", READERS),
    ("PUT", "/v1/system-configs/{key}", ADMINS),
    ("DELETE", "/v1/system-configs/{key}", ADMINS),
    ("GET", "/v1/embedding/status", READERS),
    ("GET", "/v1/memory/documents", READERS),
    ("GET", "/v1/agents/{id}/memory/documents", READERS),
    ("GET", "/v1/agents/{id}/memory/documents/{*path}", READERS),
    ("PUT", "/v1/agents/{id}/memory/documents/{*path}", WRITERS),
    (
        "DELETE",
        "/v1/agents/{id}/memory/documents/{*path}",
        WRITERS,
    ),
    ("GET", "/v1/agents/{id}/memory/chunks", READERS),
    ("POST", "/v1/agents/{id}/memory/index", WRITERS),
    ("POST", "/v1/agents/{id}/memory/index-all", WRITERS),
    ("POST", "/v1/agents/{id}/memory/search", READERS),
    ("GET", "/v1/vault/documents", READERS),
    ("GET", "/v1/vault/documents/{docID}", READERS),
    ("GET", "/v1/vault/documents/{docID}/links", READERS),
    ("POST", "/v1/vault/search", READERS),
    ("POST", "/v1/vault/rescan", ADMINS),
    ("GET", "/v1/agents/{id}/vault/documents", READERS),
    ("GET", "/v1/agents/{id}/vault/documents/{docID}", READERS),
    (
        "GET",
        "/v1/agents/{id}/vault/documents/{docID}/links",
        READERS,
    ),
    ("POST", "/v1/agents/{id}/vault/search", READERS),
    ("POST", "/v1/vault/documents", WRITERS),
    ("PUT", "/v1/vault/documents/{docID}", WRITERS),
    ("DELETE", "/v1/vault/documents/{docID}", WRITERS),
    ("POST", "/v1/vault/links", WRITERS),
    ("POST", "/v1/vault/upload", WRITERS),
    ("POST", "/v1/vault/links/batch", READERS),
    ("GET", "/v1/vault/tree", READERS),
    ("GET", "/v1/vault/enrichment/status", READERS),
    ("POST", "/v1/vault/enrichment/stop", ADMINS),
    ("DELETE", "/v1/vault/links/{linkID}", WRITERS),
    ("POST", "/v1/agents/{id}/vault/documents", WRITERS),
    ("PUT", "/v1/agents/{id}/vault/documents/{docID}", WRITERS),
    ("DELETE", "/v1/agents/{id}/vault/documents/{docID}", WRITERS),
    ("POST", "/v1/agents/{id}/vault/links", WRITERS),
    ("DELETE", "/v1/agents/{id}/vault/links/{linkID}", WRITERS),
    ("GET", "/v1/teams/{id}/events", READERS),
    (
        "GET",
        "/v1/teams/{teamId}/attachments/{attachmentId}/download",
        READERS,
    ),
    ("POST", "/v1/teams/{teamId}/workspace/upload", WRITERS),
    ("PUT", "/v1/teams/{teamId}/workspace/move", WRITERS),
    ("GET", "/v1/files/{*path}", READERS),
    ("POST", "/v1/files/sign", READERS),
    ("POST", "/v1/media/upload", WRITERS),
    ("GET", "/v1/media/{id}", READERS),
    ("GET", "/v1/skills", READERS),
    ("GET", "/v1/skills/{id}", READERS),
    ("GET", "/v1/skills/{id}/versions", READERS),
    ("POST", "/v1/skills/upload", ADMINS),
    ("GET", "/v1/skills/export", ADMINS),
    ("GET", "/v1/skills/runtimes", ADMINS),
    ("POST", "/v1/skills/import", ADMINS),
    ("PUT", "/v1/skills/{id}", ADMINS),
    ("DELETE", "/v1/skills/{id}", ADMINS),
    ("POST", "/v1/skills/{id}/toggle", ADMINS),
    ("POST", "/v1/skills/{id}/grants/agent", ADMINS),
    ("DELETE", "/v1/skills/{id}/grants/agent/{agentID}", ADMINS),
    ("POST", "/v1/skills/{id}/grants/user", ADMINS),
    ("DELETE", "/v1/skills/{id}/grants/user/{userID}", ADMINS),
    ("GET", "/v1/mcp/servers", READERS),
    ("POST", "/v1/mcp/servers", ADMINS),
    ("POST", "/v1/mcp/servers/test", ADMINS),
    ("GET", "/v1/mcp/servers/{id}", READERS),
    ("PUT", "/v1/mcp/servers/{id}", ADMINS),
    ("DELETE", "/v1/mcp/servers/{id}", ADMINS),
    ("POST", "/v1/mcp/servers/{id}/reconnect", ADMINS),
    ("GET", "/v1/mcp/servers/{id}/tools", READERS),
    ("GET", "/v1/mcp/servers/{id}/grants", READERS),
    ("POST", "/v1/mcp/servers/{id}/grants/agent", ADMINS),
    (
        "DELETE",
        "/v1/mcp/servers/{id}/grants/agent/{agentID}",
        ADMINS,
    ),
    ("GET", "/v1/mcp/grants/agent/{agentID}", READERS),
    ("POST", "/v1/mcp/servers/{id}/grants/user", ADMINS),
    (
        "DELETE",
        "/v1/mcp/servers/{id}/grants/user/{userID}",
        ADMINS,
    ),
    ("GET", "/v1/mcp/servers/{id}/user-credentials", READERS),
    ("PUT", "/v1/mcp/servers/{id}/user-credentials", WRITERS),
    ("DELETE", "/v1/mcp/servers/{id}/user-credentials", WRITERS),
    ("GET", "/v1/webhooks", ADMINS),
    ("POST", "/v1/webhooks", ADMINS),
    ("GET", "/v1/webhooks/{id}", ADMINS),
    ("PATCH", "/v1/webhooks/{id}", ADMINS),
    ("DELETE", "/v1/webhooks/{id}", ADMINS),
    ("POST", "/v1/webhooks/{id}/rotate", ADMINS),
    ("GET", "/v1/webhooks/{id}/calls", ADMINS),
    ("GET", "/v1/webhooks/{id}/calls/{callId}", ADMINS),
    // Only a webhook's own secret calls it; no gateway credential does.
    ("POST", "/v1/webhooks/llm", NOBODY),
    ("POST", "/v1/webhooks/message", NOBODY),
    // Public: the channel checks its own secret (here no channel runs, so it is not found).
    ("POST", "/channels/{name}/webhook", ANYONE),
    ("GET", "/v1/channels/instances", READERS),
    ("POST", "/v1/channels/instances", ADMINS),
    ("GET", "/v1/channels/instances/{id}", READERS),
    ("PUT", "/v1/channels/instances/{id}", ADMINS),
    ("DELETE", "/v1/channels/instances/{id}", ADMINS),
    // Tenants; over HTTP the handler's refusal of an admin key without `operator.provision` is
    // a 403 as well, so only the owner creates tenants and adds members here.
    ("GET", "/v1/tenants", READERS),
    ("POST", "/v1/tenants", OWNER),
    ("GET", "/v1/tenants/{id}", READERS),
    ("PATCH", "/v1/tenants/{id}", ADMINS),
    ("GET", "/v1/tenants/{id}/users", READERS),
    ("POST", "/v1/tenants/{id}/users", OWNER),
    ("DELETE", "/v1/tenants/{id}/users/{userId}", ADMINS),
];

/// Who is sent each event of a run of bob's (`shutdown` belongs to nobody).
const EVENT_ROWS: &[(&str, &str)] = &[
    ("agent", "owner admin bob"),
    ("exec.approval.requested", "owner admin approver"),
    ("exec.approval.resolved", "owner admin approver"),
    ("shutdown", "owner admin alice bob vera approver unbound"),
];

/// Events that belong to a tenant rather than to a run, and the test that checks who of two
/// tenants and a viewer receives them.
const TENANT_EVENT_ROWS: &[(&str, &str)] = &[
    (
        "vault.enrich.progress",
        "vault_enrichment.rs: progress_is_pushed_to_its_tenant_and_nobody_else",
    ),
    (
        "device.pair.requested",
        "pairing.rs: pairing_events_reach_the_tenants_admins_only",
    ),
    (
        "device.pair.resolved",
        "pairing.rs: pairing_events_reach_the_tenants_admins_only",
    ),
    (
        "cron",
        "cron/access.rs: cron_events_reach_the_owner_and_admins_only",
    ),
    (
        "delegation.started",
        "delegation.rs: delegation_events_reach_the_user_and_admins_only",
    ),
    (
        "delegation.completed",
        "delegation.rs: delegation_events_reach_the_user_and_admins_only",
    ),
    (
        "delegation.failed",
        "delegation.rs: delegation_events_reach_the_user_and_admins_only",
    ),
    (
        "delegation.cancelled",
        "delegation.rs: delegation_events_reach_the_user_and_admins_only",
    ),
    (
        "delegation.progress",
        "delegation.rs: async_results_of_a_session_are_announced_together",
    ),
    (
        "delegation.accumulated",
        "delegation.rs: async_results_of_a_session_are_announced_together",
    ),
    (
        "delegation.announce",
        "delegation.rs: async_results_of_a_session_are_announced_together",
    ),
    // Teams: the tenant's admins and the users a team names; links: the tenant's admins.
    (
        "team.created",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.updated",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.deleted",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.member.added",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.member.removed",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.created",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.claimed",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.completed",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.cancelled",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.failed",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.reviewed",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.approved",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.rejected",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.progress",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.commented",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.assigned",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.updated",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.deleted",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.stale",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "team.task.dispatched",
        "team_trail.rs: trail_events_reach_the_teams_users_only",
    ),
    (
        "team.task.attachment_added",
        "team_trail.rs: trail_events_reach_the_teams_users_only",
    ),
    (
        "agent_link.created",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "agent_link.updated",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "agent_link.deleted",
        "teams.rs: team_events_reach_admins_and_the_teams_users_only",
    ),
    (
        "heartbeat",
        "heartbeat/access.rs: heartbeat_events_reach_the_tenant_and_nobody_else",
    ),
    (
        "tenant.access.revoked",
        "tenants.rs: removing_a_member_revokes_its_access",
    ),
];

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        ASK_ALWAYS,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            // Webhook routes exist only with an encryption key.
            (
                "GOCLAW_ENCRYPTION_KEY",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ],
    )
    .await
}

fn names(list: &str) -> BTreeSet<String> {
    list.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn rows_cover_the_access_table() {
    let rows = |it: &mut dyn Iterator<Item = String>| it.collect::<BTreeSet<String>>();
    let methods = rows(&mut METHOD_ROWS.iter().map(|(m, _)| (*m).to_owned()));
    let table = rows(&mut METHOD_ACCESS.iter().map(|(m, _)| (*m).to_owned()));
    assert_eq!(methods, table, "METHOD_ROWS against scopes::METHOD_ACCESS");
    assert_eq!(methods.len(), METHOD_ROWS.len(), "duplicate method rows");
    let routes = rows(&mut ROUTE_ROWS.iter().map(|(m, p, _)| format!("{m} {p}")));
    let table = rows(&mut ROUTE_ACCESS.iter().map(|(m, p, _)| format!("{m} {p}")));
    assert_eq!(routes, table, "ROUTE_ROWS against scopes::ROUTE_ACCESS");
    assert_eq!(routes.len(), ROUTE_ROWS.len(), "duplicate route rows");
    let all_rows = || EVENT_ROWS.iter().chain(TENANT_EVENT_ROWS);
    let events = rows(&mut all_rows().map(|(e, _)| (*e).to_owned()));
    let table = rows(&mut EVENT_ACCESS.iter().map(|(e, _)| e.as_str().to_owned()));
    assert_eq!(
        events, table,
        "EVENT_ROWS and TENANT_EVENT_ROWS against scopes::EVENT_ACCESS"
    );
    assert_eq!(events.len(), all_rows().count(), "duplicate event rows");
    for (event, test) in TENANT_EVENT_ROWS {
        let (file, name) = test.split_once(": ").expect("file: test");
        let source = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(file),
        )
        .unwrap_or_default();
        assert!(
            source.contains(name) && source.contains(event),
            "{event}: {test} is not there"
        );
    }
}

app_test!(
    every_principal_on_every_entry,
    app,
    |app: TestApp| async move {
        let mut who = Principals::create(&app).await;
        let mut wrong = Vec::new();

        for (method, allowed) in METHOD_ROWS {
            let allowed = names(allowed);
            for (name, ws) in who.sockets() {
                let response = ws.call(method, json!({})).await;
                let passed = !access::ws_refused(&response);
                if passed != allowed.contains(name) {
                    wrong.push(format!("{name} {method}: passed={passed} {response}"));
                }
            }
        }
        for (method, path, allowed) in ROUTE_ROWS {
            let allowed = names(allowed);
            for name in names(ANYONE) {
                let (status, body) = who.http(&app, method, &access::concrete(path), &name).await;
                let passed = !access::http_refused(status, &body);
                if passed != allowed.contains(&name) {
                    wrong.push(format!("{name} {method} {path}: {status} {body}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "unexpected outcomes:\n{}",
            wrong.join("\n")
        );

        let runs = access::Runs::play(&app, &mut who).await;
        access::sessions_stay_with_their_user(&mut who, &runs).await;
        access::traces_stay_with_their_user(&app, &who, &runs).await;

        app.stop().await.expect("the gateway stops cleanly");
        let received = who.drain_until_shutdown().await;
        for (event, allowed) in EVENT_ROWS {
            let got: BTreeSet<String> = received
                .iter()
                .filter(|(_, events)| events.iter().any(|e| runs.of_bob(event, e)))
                .map(|(name, _)| name.clone())
                .collect();
            assert_eq!(got, names(allowed), "who received {event} of bob's run");
        }
        for (name, events) in &received {
            let alices = events.iter().filter(|e| runs.of_alice(e)).count();
            let sees_alice = names("owner admin alice").contains(name);
            assert_eq!(
                alices > 0,
                sees_alice,
                "{name} and alice's events: {events:?}"
            );
            let approvals = events.iter().filter(|e| runs.is_alices_approval(e)).count();
            assert_eq!(
                approvals > 0,
                names(ADMINS).contains(name),
                "{name}: {events:?}"
            );
        }
    }
);

// Bob's approvals key lists, resolves and is sent only the approvals of bob's runs.
app_test!(
    approvals_key_is_held_to_its_user,
    app,
    |app: TestApp| async move {
        let mut who = Principals::create(&app).await;
        app.llm.push(Reply::tool_call(
            "a1",
            "exec",
            json!({"command": "echo alice"}),
        ));
        app.llm.push(Reply::text("alice done"));
        let asked = who
            .alice
            .request("chat.send", json!({"message": "run it"}))
            .await;
        let id = access::wait_request(&mut who.admin).await;

        let listed = who.approver.call_ok("exec.approval.list", json!({})).await;
        assert_eq!(
            listed["pending"],
            json!([]),
            "bob's approver lists alice's request"
        );
        for method in ["exec.approval.approve", "exec.approval.deny"] {
            let refused = who.approver.call(method, json!({ "id": id })).await;
            assert_eq!(refused["error"]["code"], "NOT_FOUND", "{method}: {refused}");
        }
        let listed = who.admin.call_ok("exec.approval.list", json!({})).await;
        assert_eq!(listed["pending"][0]["id"], id.as_str(), "{listed}");
        who.admin
            .call_ok("exec.approval.approve", json!({ "id": id }))
            .await;
        let done = who.alice.response(&asked).await;
        assert_eq!(done["payload"]["content"], "alice done", "{done}");
    }
);
