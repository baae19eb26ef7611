//! Delegation end to end, on SQLite and PostgreSQL, with the fake model scripting both agents:
//! `lead` delegates to `researcher` over an outbound link and waits for the answer (sync),
//! which comes back as the tool result and runs on the `delegate` lane; the reverse direction,
//! which no link allows, is refused; a link's `max_concurrent` of one refuses a second
//! delegation while the first runs (GoClaw's "Agent at capacity"); and an async delegation's
//! answer is announced to the calling session as a new message; the `delegation.*` events reach
//! the user the delegation runs for and the owner, not another user or a viewer; a team's lead and
//! members are told their part in TEAM.md; async results of one session are held until the last
//! one ends and announced together (`delegation.accumulated`, `progress`, `announce`).
//!
//! The fake tells the researcher's requests from the lead's by the delegated run's system
//! prompt (`[Delegated task]`), which the lead never sees.

use std::time::{Duration, Instant};

use goclaw_core::{
    AgentKey, LinkDirection, MASTER_TENANT_ID, Message, NewAgent, NewAgentLink, Role, SessionKey,
};
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);
const DELEGATED: &str = "[Delegated task]";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    let app = spawn_app_with_config(backend, "{ gateway: { rate_limit_rpm: 0 } }", &[]).await?;
    linked(app).await
}

const TOKEN: &str = "delegation-token-0c4e9a71";

/// The app behind a gateway token, for tests of who receives what.
async fn keyed_app(backend: StoreBackend) -> Option<TestApp> {
    let app = spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await?;
    linked(app).await
}

/// Creates `lead` and `researcher`, `lead` linked to delegate to `researcher` (one at a time).
async fn linked(app: TestApp) -> Option<TestApp> {
    let store = app.db.store();
    let mut ids = Vec::new();
    for key in ["lead", "researcher"] {
        let agent = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse(key).expect("key"),
                key,
            ))
            .await
            .expect("agent");
        ids.push(agent.id);
    }
    store
        .agent_links()
        .create(NewAgentLink {
            tenant_id: MASTER_TENANT_ID,
            source_agent_id: ids[0],
            target_agent_id: ids[1],
            direction: LinkDirection::Outbound,
            max_concurrent: 1,
            settings: json!({}),
            status: "active".to_owned(),
        })
        .await
        .expect("link");
    Some(app)
}

async fn messages(app: &TestApp, session: &str) -> Vec<Message> {
    let store = app.db.store();
    let key = SessionKey::parse(session).expect("session key");
    let Ok(found) = store.sessions().get(MASTER_TENANT_ID, &key).await else {
        return Vec::new();
    };
    store
        .messages()
        .list(found.id, 0, 500)
        .await
        .expect("messages")
}

/// The tool results the model was shown in its last request.
fn tool_results(app: &TestApp) -> String {
    app.llm
        .requests()
        .last()
        .map(|r| r.body.to_string())
        .unwrap_or_default()
}

fn lane_waits(metrics: &str, lane: &str) -> f64 {
    let prefix = format!("goclaw_lane_wait_seconds_count{{lane=\"{lane}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

app_test!(
    a_linked_agent_answers_a_sync_delegation,
    app,
    |app: TestApp| async move {
        app.llm.push(Reply::tool_call(
            "d1",
            "delegate",
            json!({ "agent": "researcher", "task": "What is six times seven?" }),
        ));
        app.llm
            .push_routed(DELEGATED, Reply::text("RESEARCH: six times seven is 42"));
        app.llm.push(Reply::text("The researcher says 42."));
        let mut ws = app.ws_connect("dana").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "ask the researcher" }),
            )
            .await;
        assert_eq!(reply["content"], "The researcher says 42.", "{reply}");
        let shown = tool_results(&app);
        assert!(shown.contains("RESEARCH: six times seven is 42"), "{shown}");
        assert!(shown.contains("delegationId"), "{shown}");
        // The researcher ran in a delegate session of its own, as dana, on the delegate lane.
        let researcher = app
            .llm
            .requests()
            .into_iter()
            .find(|r| r.body.to_string().contains(DELEGATED))
            .expect("the researcher's request");
        assert!(
            researcher
                .body
                .to_string()
                .contains("What is six times seven?"),
            "{}",
            researcher.body
        );
        let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
        assert_eq!(lane_waits(&metrics, "delegate"), 1.0, "{metrics}");
        let sessions = ws
            .call_ok("sessions.list", json!({ "agentId": "researcher" }))
            .await;
        assert!(
            sessions
                .to_string()
                .contains("agent:researcher:delegate:lead-"),
            "{sessions}"
        );

        // No link lets the researcher delegate back.
        app.llm.push(Reply::tool_call(
            "d2",
            "delegate",
            json!({ "agent": "lead", "task": "check my work" }),
        ));
        app.llm.push(Reply::text("I may not."));
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "researcher", "message": "hand it back" }),
        )
        .await;
        let shown = tool_results(&app);
        assert!(
            shown.contains("researcher may not delegate to lead: no active link between them"),
            "{shown}"
        );
    }
);

app_test!(
    capacity_is_per_link_and_async_answers_are_announced,
    app,
    |app: TestApp| async move {
        app.llm.push(Reply::tool_call(
            "d1",
            "delegate",
            json!({ "agent": "researcher", "task": "a long study", "mode": "async" }),
        ));
        app.llm.push(Reply::tool_call(
            "d2",
            "delegate",
            json!({ "agent": "researcher", "task": "another study", "mode": "async" }),
        ));
        app.llm.push(Reply::text("both asked"));
        app.llm.push_routed(
            DELEGATED,
            Reply::text_in_chunks("STUDY: the long answer", 4)
                .chunk_delay(Duration::from_millis(400)),
        );
        app.llm.set_default(Reply::text("noted the study"));
        let session = "agent:lead:ws:direct:async-1";
        let mut ws = app.ws_connect("dana").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "start two studies", "sessionKey": session }),
            )
            .await;
        assert_eq!(reply["content"], "both asked", "{reply}");
        let history = messages(&app, session).await;
        let results: Vec<&Message> = history.iter().filter(|m| m.role == Role::Tool).collect();
        assert_eq!(results.len(), 2, "{history:#?}");
        assert!(
            results[0].content.contains("\"status\":\"running\""),
            "{}",
            results[0].content
        );
        assert!(
            results[1].content.contains("Agent at capacity (1/1)"),
            "{}",
            results[1].content
        );

        // The first study's answer arrives as a new message of the session, and is answered.
        let deadline = Instant::now() + DEADLINE;
        let announced: Value = loop {
            let history = messages(&app, session).await;
            let found = history.iter().position(|m| {
                m.role == Role::User && m.content.contains("to researcher completed")
            });
            if let Some(at) = found
                && history[at + 1..]
                    .iter()
                    .any(|m| m.role == Role::Assistant && m.content == "noted the study")
            {
                break json!({
                    "text": history[at].content,
                    "channel": history[at].metadata["channel"],
                });
            }
            assert!(Instant::now() < deadline, "no announcement: {history:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            announced["text"]
                .as_str()
                .is_some_and(|t| t.contains("STUDY: the long answer")),
            "{announced}"
        );
        assert_eq!(announced["channel"], "delegate");
    }
);

/// The system prompt the model was given in the request that contains `needle`.
fn system_of(app: &TestApp, needle: &str) -> String {
    app.llm
        .requests()
        .into_iter()
        .filter(|r| r.body.to_string().contains(needle))
        .map(|r| r.body["system"].to_string())
        .next_back()
        .unwrap_or_default()
}

app_test!(
    team_md_tells_the_lead_and_the_members_their_part,
    app,
    |app: TestApp| async move {
        let store = app.db.store();
        let agent = |key: &str| {
            let store = store.clone();
            let key = key.to_owned();
            async move {
                store
                    .agents()
                    .get_by_key(MASTER_TENANT_ID, &AgentKey::parse(&key).expect("key"))
                    .await
                    .expect("agent")
            }
        };
        let (lead, researcher) = (agent("lead").await, agent("researcher").await);
        let team = store
            .teams()
            .create(goclaw_core::NewTeam {
                tenant_id: MASTER_TENANT_ID,
                name: "research desk".to_owned(),
                description: "Answers questions with sources.".to_owned(),
                lead_agent_id: lead.id,
                settings: json!({}),
            })
            .await
            .expect("team");
        store
            .teams()
            .add_member(
                MASTER_TENANT_ID,
                team.id,
                researcher.id,
                goclaw_core::MemberRole::Member,
            )
            .await
            .expect("member");
        app.llm.set_default(Reply::text("ok"));
        let mut ws = app.ws_connect("dana").await;
        for (agent, message) in [
            ("lead", "lead question"),
            ("researcher", "member question"),
            ("default", "outsider question"),
        ] {
            ws.call_ok("chat.send", json!({ "agentId": agent, "message": message }))
                .await;
        }
        let lead_prompt = system_of(&app, "lead question");
        assert!(lead_prompt.contains("TEAM.md"), "{lead_prompt}");
        assert!(
            lead_prompt.contains("Team \\\"research desk\\\""),
            "{lead_prompt}"
        );
        assert!(
            lead_prompt.contains("You lead this team. Members: researcher."),
            "{lead_prompt}"
        );
        let member_prompt = system_of(&app, "member question");
        assert!(
            member_prompt.contains("You are a member of this team, led by lead."),
            "{member_prompt}"
        );
        let outsider = system_of(&app, "outsider question");
        assert!(
            !outsider.is_empty() && !outsider.contains("TEAM.md"),
            "{outsider}"
        );
    }
);

async fn connect(
    app: &TestApp,
    scopes: &[&str],
    owner: &str,
    role: &str,
) -> goclaw_testkit::WsClient {
    let token = if owner == "system" {
        TOKEN.to_owned()
    } else {
        app.create_api_key(
            TOKEN,
            json!({ "name": owner, "scopes": scopes, "owner_id": owner }),
        )
        .await
        .1
    };
    let mut ws = goclaw_testkit::WsClient::open(&app.ws_url()).await;
    let hello = ws
        .call_ok("connect", json!({ "token": token, "user_id": owner }))
        .await;
    assert_eq!(hello["role"], role, "{hello}");
    ws
}

app_test!(
    delegation_events_reach_the_user_and_admins_only,
    keyed_app,
    |app: TestApp| async move {
        let mut owner = connect(&app, &[], "system", "owner").await;
        let mut alice = connect(
            &app,
            &["operator.read", "operator.write"],
            "alice",
            "operator",
        )
        .await;
        let mut bob = connect(
            &app,
            &["operator.read", "operator.write"],
            "bob",
            "operator",
        )
        .await;
        let mut vera = connect(&app, &["operator.read"], "vera", "viewer").await;
        app.llm.push(Reply::tool_call(
            "d1",
            "delegate",
            json!({ "agent": "researcher", "task": "What is six times seven?" }),
        ));
        app.llm.push_routed(DELEGATED, Reply::text("42"));
        app.llm.push(Reply::text("It is 42."));
        alice
            .call_ok("chat.send", json!({ "agentId": "lead", "message": "ask" }))
            .await;
        let of = |ws: &goclaw_testkit::WsClient, name: &str| {
            ws.events.iter().find(|e| e["event"] == name).cloned()
        };
        // delegation.started and delegation.completed reach alice and the owner.
        for ws in [&mut alice, &mut owner] {
            while of(ws, "delegation.completed").is_none() {
                ws.pump().await;
            }
        }
        let started = of(&alice, "delegation.started").expect("delegation.started");
        let payload = &started["payload"];
        assert_eq!(payload["source_agent_key"], "lead", "{payload}");
        assert_eq!(payload["target_agent_key"], "researcher");
        assert_eq!(payload["user_id"], "alice");
        assert_eq!(payload["mode"], "sync");
        assert_eq!(payload["status"], "started");
        let completed = of(&alice, "delegation.completed").expect("delegation.completed");
        assert_eq!(completed["payload"]["status"], "completed");
        assert_eq!(
            completed["payload"]["delegation_id"],
            payload["delegation_id"]
        );
        assert!(completed["payload"]["elapsed_ms"].is_u64(), "{completed}");
        // Bob and the viewer, a round trip later, have heard of neither.
        for ws in [&mut bob, &mut vera] {
            ws.call_ok("cron.status", json!({})).await;
            assert!(
                !ws.events.iter().any(|e| e["event"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("delegation."))),
                "{:?}",
                ws.events
            );
        }
        // A failed delegation is `delegation.failed` (and a cancelled one would be
        // `delegation.cancelled`): the model errors for the researcher.
        app.llm.push(Reply::tool_call(
            "d2",
            "delegate",
            json!({ "agent": "researcher", "task": "fail please" }),
        ));
        app.llm
            .push_routed(DELEGATED, Reply::http_error(400, "{\"error\":\"bad\"}"));
        app.llm.push(Reply::text("It failed."));
        alice
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "ask again" }),
            )
            .await;
        while of(&alice, "delegation.failed").is_none() {
            alice.pump().await;
        }
        let failed = of(&alice, "delegation.failed").expect("delegation.failed");
        assert!(
            failed["payload"]["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{failed}"
        );
    }
);

/// Waits (up to a minute, asking the gateway something every half second so the socket stays
/// busy) until `ws` has an event named `name`, and returns it.
async fn event_named(ws: &mut goclaw_testkit::WsClient, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(event) = ws.events.iter().find(|e| e["event"] == name) {
            return event.clone();
        }
        assert!(Instant::now() < deadline, "no {name} in {:?}", ws.events);
        ws.call_ok("cron.status", json!({})).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

app_test!(
    async_results_of_a_session_are_announced_together,
    keyed_app,
    |app: TestApp| async move {
        // A second target for the lead, so two async delegations run at once.
        let store = app.db.store();
        let lead = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("lead").expect("key"))
            .await
            .expect("lead");
        let critic = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse("critic").expect("key"),
                "Critic",
            ))
            .await
            .expect("critic");
        store
            .agent_links()
            .create(NewAgentLink {
                tenant_id: MASTER_TENANT_ID,
                source_agent_id: lead.id,
                target_agent_id: critic.id,
                direction: LinkDirection::Outbound,
                max_concurrent: 1,
                settings: json!({}),
                status: "active".to_owned(),
            })
            .await
            .expect("link");
        let mut alice = connect(
            &app,
            &["operator.read", "operator.write"],
            "alice",
            "operator",
        )
        .await;
        let mut bob = connect(
            &app,
            &["operator.read", "operator.write"],
            "bob",
            "operator",
        )
        .await;
        app.llm.push(Reply::tool_call(
            "d1",
            "delegate",
            json!({ "agent": "researcher", "task": "Study the tides", "mode": "async" }),
        ));
        app.llm.push(Reply::tool_call(
            "d2",
            "delegate",
            json!({ "agent": "critic", "task": "Critique the plan", "mode": "async" }),
        ));
        app.llm.push(Reply::text("both asked"));
        // The first delegated run to ask answers after a progress report is due; the other at
        // once (which of the two asks first is up to the lane).
        app.llm.push_routed(
            DELEGATED,
            Reply::text("SLOW: moon").first_byte_delay(Duration::from_secs(33)),
        );
        app.llm.push_routed(DELEGATED, Reply::text("QUICK: fine"));
        app.llm.set_default(Reply::text("noted both"));
        let session = "agent:lead:ws:direct:together";
        let reply = alice
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "study and critique", "sessionKey": session }),
            )
            .await;
        assert_eq!(reply["content"], "both asked", "{reply}");

        // The quick result is held while the slow one works.
        let held = event_named(&mut alice, "delegation.accumulated").await;
        let payload = &held["payload"];
        assert_eq!(payload["siblings_remaining"], 1, "{payload}");
        assert_eq!(payload["source_agent_key"], "lead");
        let quick = payload["target_agent_key"]
            .as_str()
            .expect("target")
            .to_owned();
        let slow = if quick == "critic" {
            "researcher"
        } else {
            "critic"
        };
        let progress = event_named(&mut alice, "delegation.progress").await;
        let active = &progress["payload"]["active_delegations"];
        assert_eq!(active.as_array().map(Vec::len), Some(1), "{progress}");
        assert_eq!(active[0]["target_agent_key"], slow);
        let elapsed = active[0]["elapsed_ms"].as_u64();
        assert!(elapsed.is_some_and(|ms| ms >= 29_000), "{progress}");

        // Then both results are announced in one message.
        let announced = event_named(&mut alice, "delegation.announce").await;
        let results: Vec<&str> = announced["payload"]["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| r["agent_key"].as_str())
            .collect();
        assert_eq!(results, [quick.as_str(), slow], "{announced}");
        let deadline = Instant::now() + DEADLINE;
        let told = loop {
            let history = messages(&app, session).await;
            let told: Vec<Message> = history
                .into_iter()
                .filter(|m| m.role == Role::User && m.content.contains("[Delegation "))
                .collect();
            if !told.is_empty() {
                break told;
            }
            assert!(Instant::now() < deadline, "no announcement");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(told.len(), 1, "one message: {told:#?}");
        assert!(
            told[0].content.contains("QUICK: fine") && told[0].content.contains("SLOW: moon"),
            "{}",
            told[0].content
        );
        // Another user heard of none of it.
        bob.call_ok("cron.status", json!({})).await;
        assert!(
            !bob.events.iter().any(|e| e["event"]
                .as_str()
                .is_some_and(|n| n.starts_with("delegation."))),
            "{:?}",
            bob.events
        );
    }
);
