//! The access table against what is actually registered: every WebSocket method the dispatch
//! handles, every route the router's sources register and every event has exactly one entry, no
//! entry names something that does not exist, each scope allows exactly its methods and routes,
//! and the filters admit exactly the callers they promise.

use std::collections::BTreeSet;
use std::path::Path;

use goclaw_core::MASTER_TENANT_ID;

use super::*;

/// Read methods: allowed to `operator.read`, and so to `operator.write` and `operator.admin`.
const READ_METHODS: &[&str] = &[
    "health",
    "status",
    "usage.get",
    "usage.summary",
    "quota.usage",
    "chat.history",
    "chat.session.status",
    "sessions.list",
    "sessions.preview",
    "agents.list",
    "agents.files.list",
    "agents.files.get",
    "channels.list",
    "channels.status",
    "channels.instances.list",
    "channels.instances.get",
    "cron.list",
    "cron.status",
    "cron.runs",
    "agents.links.list",
    "teams.list",
    "teams.get",
    "teams.tasks.list",
    "teams.tasks.get",
    "teams.tasks.get-light",
    "teams.scopes",
    "teams.known_users",
    "teams.events.list",
    "teams.tasks.events",
    "teams.tasks.comments",
    "teams.tasks.active-by-session",
    "teams.workspace.list",
    "teams.workspace.read",
    "heartbeat.get",
    "heartbeat.logs",
    "heartbeat.checklist.get",
    "heartbeat.targets",
    "skills.list",
    "skills.get",
    "hooks.list",
    "hooks.history",
    "workstations.list",
    "workstations.activity.list",
    "run.timeline.get",
    "tenants.list",
    "tenants.get",
    "tenants.users.list",
    "tenants.mine",
];

/// Write methods: allowed to `operator.write` and `operator.admin`.
const WRITE_METHODS: &[&str] = &[
    "hooks.test",
    "chat.send",
    "chat.abort",
    "chat.inject",
    "sessions.patch",
    "sessions.delete",
    "sessions.reset",
    "sessions.compact",
    "agents.files.set",
    "cron.create",
    "cron.update",
    "cron.delete",
    "cron.toggle",
    "cron.run",
    "teams.tasks.create",
    "teams.tasks.assign",
    "teams.tasks.claim",
    "teams.tasks.progress",
    "teams.tasks.complete",
    "teams.tasks.fail",
    "teams.tasks.cancel",
    "teams.tasks.review",
    "teams.tasks.approve",
    "teams.tasks.reject",
    "teams.tasks.comment",
    "teams.workspace.write",
    "teams.workspace.delete",
];

/// Read routes (besides the public ones, which take no credentials).
const READ_ROUTES: &[&str] = &[
    "GET /v1/skills",
    "GET /v1/skills/{id}",
    "GET /v1/skills/{id}/versions",
    "GET /v1/mcp/servers",
    "GET /v1/mcp/servers/{id}",
    "GET /v1/mcp/servers/{id}/tools",
    "GET /v1/mcp/servers/{id}/grants",
    "GET /v1/mcp/grants/agent/{agentID}",
    "GET /v1/mcp/servers/{id}/user-credentials",
    "GET /v1/channels/instances",
    "GET /v1/channels/instances/{id}",
    "GET /v1/agents",
    "GET /v1/agents/{id}",
    "GET /v1/providers",
    "GET /v1/providers/{id}",
    "GET /v1/providers/{id}/models",
    "GET /v1/agents/{id}/episodic",
    "POST /v1/agents/{id}/episodic/search",
    "GET /v1/agents/{id}/kg/entities",
    "GET /v1/agents/{id}/kg/entities/{entityID}",
    "POST /v1/agents/{id}/kg/traverse",
    "GET /v1/agents/{id}/kg/dedup",
    "GET /v1/agents/{id}/kg/stats",
    "GET /v1/agents/{id}/kg/graph",
    "GET /metrics",
    "GET /v1/traces",
    "GET /v1/traces/{id}",
    "GET /v1/usage/summary",
    "GET /v1/usage/timeseries",
    "GET /v1/usage/breakdown",
    "GET /v1/sessions",
    "GET /v1/system-configs",
    "GET /v1/system-configs/{key}",
    "GET /v1/embedding/status",
    "GET /v1/memory/documents",
    "GET /v1/agents/{id}/memory/documents",
    "GET /v1/agents/{id}/memory/documents/{*path}",
    "GET /v1/agents/{id}/memory/chunks",
    "POST /v1/agents/{id}/memory/search",
    "GET /v1/vault/documents",
    "GET /v1/vault/documents/{docID}",
    "GET /v1/vault/documents/{docID}/links",
    "POST /v1/vault/search",
    "GET /v1/agents/{id}/vault/documents",
    "GET /v1/agents/{id}/vault/documents/{docID}",
    "GET /v1/agents/{id}/vault/documents/{docID}/links",
    "POST /v1/agents/{id}/vault/search",
    "POST /v1/vault/links/batch",
    "GET /v1/vault/tree",
    "GET /v1/vault/enrichment/status",
    "GET /v1/teams/{id}/events",
    "GET /v1/teams/{teamId}/attachments/{attachmentId}/download",
    "GET /v1/files/{*path}",
    "POST /v1/files/sign",
    "GET /v1/media/{id}",
    "GET /v1/tenants",
    "GET /v1/tenants/{id}",
    "GET /v1/tenants/{id}/users",
];

/// Write routes.
const WRITE_ROUTES: &[&str] = &[
    "POST /v1/chat/completions",
    "PUT /v1/agents/{id}/memory/documents/{*path}",
    "DELETE /v1/agents/{id}/memory/documents/{*path}",
    "POST /v1/agents/{id}/memory/index",
    "POST /v1/agents/{id}/memory/index-all",
    "POST /v1/agents/{id}/kg/entities",
    "DELETE /v1/agents/{id}/kg/entities/{entityID}",
    "POST /v1/agents/{id}/kg/dedup/dismiss",
    "POST /v1/agents/{id}/kg/merge",
    "POST /v1/agents/{id}/kg/reset",
    "POST /v1/agents/{id}/kg/extract",
    "POST /v1/agents/{id}/kg/dedup/scan",
    "POST /v1/vault/documents",
    "PUT /v1/vault/documents/{docID}",
    "DELETE /v1/vault/documents/{docID}",
    "POST /v1/vault/links",
    "POST /v1/vault/upload",
    "DELETE /v1/vault/links/{linkID}",
    "POST /v1/agents/{id}/vault/documents",
    "PUT /v1/agents/{id}/vault/documents/{docID}",
    "DELETE /v1/agents/{id}/vault/documents/{docID}",
    "POST /v1/agents/{id}/vault/links",
    "DELETE /v1/agents/{id}/vault/links/{linkID}",
    "POST /v1/teams/{teamId}/workspace/upload",
    "PUT /v1/teams/{teamId}/workspace/move",
    "POST /v1/media/upload",
    "PUT /v1/mcp/servers/{id}/user-credentials",
    "DELETE /v1/mcp/servers/{id}/user-credentials",
];

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

/// The methods `ws/methods/mod.rs` dispatches: the `"name" =>` arms of its `match` on the
/// method name (read from the source, where a new method appears).
fn registered_methods() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ws/methods/mod.rs");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let methods = dispatch_arms(&text);
    assert!(
        methods.contains("chat.send") && methods.contains("exec.approval.deny"),
        "found the dispatch arms: {methods:?}"
    );
    methods
}

fn dispatch_arms(text: &str) -> BTreeSet<String> {
    let Some(start) = text.find("match request.method.as_str() {") else {
        return BTreeSet::new();
    };
    text[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with("other =>"))
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('"')?;
            let (name, after) = rest.split_once('"')?;
            after
                .trim_start()
                .starts_with("=>")
                .then(|| name.to_owned())
        })
        .collect()
}

fn public_routes() -> BTreeSet<String> {
    ROUTE_ACCESS
        .iter()
        .filter(|(_, _, rule)| rule.access == Access::Public)
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect()
}

/// What a key holding only `scope` may call, in the table's own terms.
fn methods_allowed(scope: Scope) -> BTreeSet<String> {
    registered_methods()
        .into_iter()
        .filter(|m| method_access(m).is_some_and(|a| a.allows(&[scope])))
        .collect()
}

fn routes_allowed(scope: Scope) -> BTreeSet<String> {
    registered_routes()
        .into_iter()
        .filter(|route| {
            let (method, path) = route.split_once(' ').unwrap_or_default();
            route_access(method, path).is_some_and(|a| a.allows(&[scope]))
        })
        .collect()
}

/// `(expected methods, expected routes)` of a key holding only `scope`.
fn expected(scope: Scope) -> (BTreeSet<String>, BTreeSet<String>) {
    let public = public_routes();
    match scope {
        Scope::Read => (
            set(READ_METHODS.iter().copied()),
            &public | &set(READ_ROUTES.iter().copied()),
        ),
        Scope::Write => (
            set(READ_METHODS.iter().chain(WRITE_METHODS).copied()),
            &public | &set(READ_ROUTES.iter().chain(WRITE_ROUTES).copied()),
        ),
        Scope::Admin => (registered_methods(), registered_routes()),
        Scope::Approvals => (
            set([
                "exec.approval.list",
                "exec.approval.approve",
                "exec.approval.deny",
            ]),
            public,
        ),
        Scope::Pairing => (
            set(["device.pair.request", "browser.pairing.status"]),
            public,
        ),
        Scope::Provision => (
            set(["tenants.create", "tenants.users.add"]),
            &public | &set(["POST /v1/tenants", "POST /v1/tenants/{id}/users"]),
        ),
    }
}

#[test]
fn each_scope_allows_exactly_its_methods_and_routes() {
    for scope in Scope::ALL {
        let (methods, routes) = expected(scope);
        assert_eq!(methods_allowed(scope), methods, "methods of {scope}");
        assert_eq!(routes_allowed(scope), routes, "routes of {scope}");
    }
}

#[test]
fn every_registered_method_has_one_scope_entry() {
    let entries: Vec<&str> = METHOD_ACCESS.iter().map(|(m, _)| *m).collect();
    let unique = set(entries.iter().copied());
    assert_eq!(
        unique.len(),
        entries.len(),
        "duplicate entries in METHOD_ACCESS"
    );
    let registered = registered_methods();
    let missing: Vec<_> = registered.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "methods without a scope entry in scopes.rs METHOD_ACCESS: {missing:?}"
    );
    let stale: Vec<_> = unique.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "METHOD_ACCESS names unknown methods: {stale:?}"
    );
}

#[test]
fn every_registered_route_has_one_scope_entry() {
    let entries: Vec<String> = ROUTE_ACCESS
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    let unique = set(entries.iter().map(String::as_str));
    assert_eq!(
        unique.len(),
        entries.len(),
        "duplicate entries in ROUTE_ACCESS"
    );
    let registered = registered_routes();
    let missing: Vec<_> = registered.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "routes without a scope entry in scopes.rs ROUTE_ACCESS: {missing:?}"
    );
    let stale: Vec<_> = unique.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "ROUTE_ACCESS names unknown routes: {stale:?}"
    );
}

/// A scope that allows a method must also give a role that may call it; otherwise the entry
/// promises something the role check takes away.
#[test]
fn scopes_and_roles_agree() {
    let methods = METHOD_ACCESS
        .iter()
        .map(|(m, rule)| ((*m).to_owned(), *rule));
    let routes = ROUTE_ACCESS
        .iter()
        .map(|(m, p, rule)| (format!("{m} {p}"), *rule));
    let events = EVENT_ACCESS
        .iter()
        .map(|(e, rule)| (e.as_str().to_owned(), *rule));
    for (name, rule) in methods.chain(routes).chain(events) {
        if rule.access == Access::Public {
            assert_eq!(rule.filter, Filter::None, "{name}: public yet filtered");
            continue;
        }
        // Owner-only entries are meant to be out of every key's reach.
        if rule.role == Role::Owner {
            continue;
        }
        let needed = rule.access.needed();
        assert!(
            role_for(&[needed]) >= rule.role,
            "{name}: {needed} gives {} but the entry needs {}",
            role_for(&[needed]),
            rule.role,
        );
    }
}

/// Read paths that show users' conversations, runs or commands are narrowed to the caller's
/// own user below admin; a changed entry fails here before any integration test runs.
#[test]
fn per_user_data_is_filtered_to_its_user() {
    let own = [
        "chat.history",
        "chat.session.status",
        "sessions.list",
        "sessions.preview",
        "exec.approval.list",
        "exec.approval.approve",
        "exec.approval.deny",
        "cron.list",
        "cron.runs",
        "cron.update",
        "cron.delete",
        "cron.toggle",
        "cron.run",
        "usage.get",
        "usage.summary",
        "quota.usage",
    ];
    for method in own {
        let filter = method_rule(method).map(|r| r.filter);
        assert_eq!(filter, Some(Filter::OwnUser), "{method}");
    }
    for (method, path) in [
        ("GET", "/v1/traces"),
        ("GET", "/v1/traces/{id}"),
        ("GET", "/v1/usage/summary"),
        ("GET", "/v1/usage/timeseries"),
        ("GET", "/v1/usage/breakdown"),
        ("GET", "/v1/sessions"),
    ] {
        let filter = route_rule(method, path).map(|r| r.filter);
        assert_eq!(filter, Some(Filter::OwnUser), "{method} {path}");
    }
    for event in [
        Event::Agent,
        Event::ExecApprovalRequested,
        Event::ExecApprovalResolved,
        Event::Cron,
    ] {
        let filter = event_rule(event).map(|r| r.filter);
        assert_eq!(filter, Some(Filter::OwnUser), "{event:?}");
    }
}

#[test]
fn every_event_has_one_entry() {
    let entries: Vec<Event> = EVENT_ACCESS.iter().map(|(e, _)| *e).collect();
    let unique: BTreeSet<Event> = entries.iter().copied().collect();
    assert_eq!(
        unique.len(),
        entries.len(),
        "duplicate entries in EVENT_ACCESS"
    );
    let all: BTreeSet<Event> = Event::ALL.into_iter().collect();
    assert_eq!(unique, all, "events without an entry in EVENT_ACCESS");
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scopes.rs"))
            .unwrap_or_default();
    let variants = enum_variants(&source, "pub enum Event {");
    assert_eq!(
        variants.len(),
        Event::ALL.len(),
        "Event::ALL misses one of {variants:?}"
    );
}

/// Event frames are built only by `frames::event`, which takes an [`Event`]: no source builds
/// one by hand.
#[test]
fn event_frames_are_built_in_one_place() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_sources(&src, &mut files);
    let needle = ["\"type\": \"", "event\""].concat();
    let by_hand: Vec<_> = files
        .iter()
        .filter(|path| !path.ends_with("ws/frames.rs"))
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(&needle)))
        .collect();
    assert!(
        by_hand.is_empty(),
        "event frames built outside frames::event: {by_hand:?}"
    );
}

fn enum_variants(text: &str, header: &str) -> Vec<String> {
    let Some(start) = text.find(header) else {
        return Vec::new();
    };
    text[start + header.len()..]
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with('}'))
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(|line| line.trim_end_matches(',').to_owned())
        .collect()
}

fn principal(role: Role, user: &str, scopes: Option<&[Scope]>) -> Principal {
    Principal {
        role,
        user_id: user.to_owned(),
        tenant_id: MASTER_TENANT_ID,
        scopes: scopes.map(<[Scope]>::to_vec),
    }
}

/// One line per case: filter, caller's role and user, owner's tenant (`m` master, `x` another)
/// and user, and whether the caller sees it.
#[test]
fn filters_admit_exactly_their_callers() {
    let other = TenantId::generate();
    let cases: &[(Filter, Role, &str, char, &str, bool)] = &[
        (Filter::None, Role::Viewer, "alice", 'x', "bob", true),
        (Filter::Tenant, Role::Viewer, "alice", 'm', "bob", true),
        (Filter::Tenant, Role::Owner, "system", 'x', "bob", false),
        (Filter::OwnUser, Role::Viewer, "alice", 'm', "alice", true),
        (Filter::OwnUser, Role::Operator, "alice", 'm', "bob", false),
        (Filter::OwnUser, Role::Operator, "", 'm', "", false),
        (
            Filter::OwnUser,
            Role::Operator,
            "alice",
            'x',
            "alice",
            false,
        ),
        (Filter::OwnUser, Role::Admin, "root", 'm', "bob", true),
        (Filter::OwnUser, Role::Admin, "root", 'm', "", true),
        (Filter::OwnUser, Role::Owner, "system", 'x', "bob", false),
    ];
    for &(filter, role, user, tenant, owner_user, expected) in cases {
        let owner = Owner {
            tenant_id: if tenant == 'm' {
                MASTER_TENANT_ID
            } else {
                other
            },
            user_id: owner_user,
        };
        let admitted = filter.admits(&principal(role, user, None), owner);
        assert_eq!(
            admitted, expected,
            "{filter:?} {role} {user:?} -> {tenant} {owner_user:?}"
        );
    }
}

/// One line per case: who receives an approval request of bob's (`Filter::OwnUser`, approvals
/// scope, operator role): key scopes (`None` = gateway token or no-auth), role, user.
#[test]
fn approval_events_reach_only_approvers_of_the_run() {
    let cases: &[(Option<&[Scope]>, Role, &str, bool)] = &[
        (Some(&[Scope::Approvals]), Role::Operator, "bob", true),
        (Some(&[Scope::Approvals]), Role::Operator, "alice", false),
        (
            Some(&[Scope::Read, Scope::Write]),
            Role::Operator,
            "bob",
            false,
        ),
        (Some(&[Scope::Read]), Role::Viewer, "bob", false),
        (Some(&[Scope::Admin]), Role::Admin, "root", true),
        (None, Role::Operator, "bob", true),
        (None, Role::Operator, "alice", false),
        (None, Role::Viewer, "bob", false),
        (None, Role::Owner, "system", true),
    ];
    let owner = Owner {
        tenant_id: MASTER_TENANT_ID,
        user_id: "bob",
    };
    for &(scopes, role, user, expected) in cases {
        let caller = principal(role, user, scopes);
        for event in [Event::ExecApprovalRequested, Event::ExecApprovalResolved] {
            let sent = may_receive(event, Some(&caller), Some(owner));
            assert_eq!(sent, expected, "{event:?} to {scopes:?} {role} {user}");
        }
    }
    assert!(!may_receive(
        Event::ExecApprovalRequested,
        None,
        Some(owner)
    ));
    assert!(!may_receive(
        Event::Agent,
        Some(&principal(Role::Admin, "root", None)),
        None
    ));
    assert!(may_receive(Event::Shutdown, None, None));
}

/// A tenant's vault enrichment progress reaches everyone signed in to that tenant, a viewer
/// included, and nobody of another tenant or not signed in.
#[test]
fn enrichment_progress_reaches_its_tenant_only() {
    let master = Owner {
        tenant_id: MASTER_TENANT_ID,
        user_id: "",
    };
    let other = Owner {
        tenant_id: TenantId::generate(),
        user_id: "",
    };
    let event = Event::VaultEnrichProgress;
    for role in [Role::Viewer, Role::Operator, Role::Admin, Role::Owner] {
        let caller = principal(role, "vera", Some(&[Scope::Read]));
        assert!(may_receive(event, Some(&caller), Some(master)), "{role}");
        assert!(!may_receive(event, Some(&caller), Some(other)), "{role}");
    }
    assert!(!may_receive(event, None, Some(master)));
    assert!(!may_receive(
        event,
        Some(&principal(Role::Admin, "a", None)),
        None
    ));
}

#[test]
fn role_follows_the_strongest_scope() {
    let check = |scopes: &[Scope], role: Role| assert_eq!(role_for(scopes), role, "{scopes:?}");
    check(&[Scope::Admin], Role::Admin);
    check(&[Scope::Read, Scope::Admin], Role::Admin);
    check(&[Scope::Write], Role::Operator);
    check(&[Scope::Approvals], Role::Operator);
    check(&[Scope::Pairing], Role::Operator);
    check(&[Scope::Read], Role::Viewer);
    check(&[Scope::Provision], Role::Viewer);
    check(&[], Role::Viewer);
}

#[test]
fn unlisted_methods_and_routes_are_refused() {
    assert_eq!(method_access("config.applyx"), None);
    assert_eq!(method_access("chat.sendx"), None);
    assert_eq!(route_access("PATCH", "/v1/agents"), None);
    assert_eq!(route_access("GET", "/v1/unknown"), None);
    assert_eq!(route_access("GET", "/health"), Some(Access::Public));
}

/// Every `METHOD /path` the gateway's sources register with `.route("/path", get(..).post(..))`.
/// axum cannot list a router's routes, so the registrations are read from the sources, which
/// is where a new route appears.
fn registered_routes() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_sources(&src, &mut files);
    let mut routes = BTreeSet::new();
    for path in files {
        if path.ends_with("scopes_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (method, route) in route_calls(&text) {
            routes.insert(format!("{method} {route}"));
        }
    }
    assert!(
        routes.contains("POST /v1/chat/completions"),
        "found the router's registrations: {routes:?}"
    );
    routes
}

fn collect_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(METHOD, path)` of each `.route("path", <method router>)` call in `text`.
fn route_calls(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let args = rest.trim_start();
        let Some(args) = args.strip_prefix('"') else {
            continue;
        };
        let Some((path, after)) = args.split_once('"') else {
            break;
        };
        for method in method_router_calls(call_body(after)) {
            found.push((method, path.to_owned()));
        }
    }
    found
}

/// The text up to the `)` that closes the call whose arguments `text` continues.
fn call_body(text: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return &text[..i],
            ')' => depth -= 1,
            _ => {}
        }
    }
    text
}

/// HTTP methods of `get(..)`, `.post(..)`, `any(..)`, … at the top level of a method router.
fn method_router_calls(body: &str) -> Vec<String> {
    const NAMES: [&str; 6] = ["get", "post", "put", "delete", "patch", "any"];
    let mut methods = Vec::new();
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    for (i, c) in body.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    let word_start = body[..i]
                        .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .map_or(0, |p| p + 1);
                    let word = &body[word_start..i];
                    let qualified = word_start >= 2 && &bytes[word_start - 2..word_start] == b"::";
                    let is_router_call =
                        word_start == 0 || !qualified || body[..word_start].ends_with("routing::");
                    if is_router_call && NAMES.contains(&word) {
                        methods.push(word.to_ascii_uppercase());
                    }
                }
                depth += 1;
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    methods
}

#[test]
fn route_registrations_are_read_from_source() {
    let text = r#"
        .route("/a", any(x))
        .route(
            "/b/{id}",
            get(m::get).put(m::update).delete(m::delete),
        )
        .route("/c", axum::routing::post(handler))
    "#;
    let found: Vec<String> = route_calls(text)
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        found,
        [
            "ANY /a",
            "GET /b/{id}",
            "PUT /b/{id}",
            "DELETE /b/{id}",
            "POST /c"
        ]
    );
}
