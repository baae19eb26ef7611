//! Episodic memory in the running application, on both engines, with the fake LLM answering
//! the summary prompts: a fact told in one session is found in a new session of the same user
//! (in the prompt's memory section, by `memory_search`, opened with `memory_expand`) and never
//! in another user's; a flood of idle sessions is held to the queue's capacity while a turn
//! completes, and summaries that fail (HTTP 500) are retried and counted in `/metrics` and in
//! `goclaw doctor`, run as the real executable against the running gateway.

mod support;

use std::time::Duration;

use goclaw_core::{AgentKey, Episode, MASTER_TENANT_ID, NewMessage, Role, SessionKey};
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;
use support::{Goclaw, home};

/// A phrase only the episodic worker's summary prompt holds.
const SUMMARY_PROMPT: &str = "Write the episodic memory of this conversation";
/// A phrase only the knowledge-graph extraction prompt holds.
const GRAPH_PROMPT: &str = "Extract the knowledge graph of these notes";

async fn quick_sweeps(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{agents: {defaults: {memory: {episodic: {idle_timeout_ms: 200, sweep_interval_ms: 50}}}}}",
        &[],
    )
    .await
}

async fn small_queue(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{agents: {defaults: {memory: {episodic: {idle_timeout_ms: 100, sweep_interval_ms: 20, \
         queue_capacity: 40, max_attempts: 2}}}}}",
        &[],
    )
    .await
}

/// Polls `probe` every 20 ms until it returns something, failing after `seconds`.
async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn episodes(app: &TestApp, user: &str) -> Vec<Episode> {
    let store = app.db.store();
    let agent = store
        .agents()
        .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
        .await
        .expect("default agent");
    store
        .episodic()
        .list_episodes(MASTER_TENANT_ID, agent.id, Some(user), 100, 0)
        .await
        .expect("episodes")
}

/// The bodies of the requests turns made (not the summary calls), in order.
fn turn_requests(app: &TestApp) -> Vec<String> {
    app.llm
        .requests()
        .into_iter()
        .map(|r| r.body.to_string())
        .filter(|body| !body.contains(SUMMARY_PROMPT) && !body.contains(GRAPH_PROMPT))
        .collect()
}

/// `name{labels} value` samples of `/metrics` whose line starts with `prefix`, summed.
async fn metric(app: &TestApp, prefix: &str) -> f64 {
    let text = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

app_test!(
    a_fact_told_in_one_session_is_recalled_in_a_new_one,
    quick_sweeps,
    |app: TestApp| async move {
        let summary = "Alice said her favourite colour is teal and her locker code is 4711.";
        let l0 = "Alice's favourite colour is teal; locker code 4711.";
        app.llm.route(
            SUMMARY_PROMPT,
            Reply::text(
                json!({"summary": summary, "abstract": l0, "topics": ["colour", "locker"]})
                    .to_string(),
            ),
        );
        // The knowledge graph's extraction fails here: the episode stays, the failure is counted.
        app.llm.route(GRAPH_PROMPT, Reply::server_error());
        let mut alice = app.ws_connect("alice").await;
        alice
            .call_ok(
                "chat.send",
                json!({ "message": "My favourite colour is teal and my locker code is 4711.",
                        "sessionKey": "agent:default:ws:direct:first" }),
            )
            .await;
        let first = "agent:default:ws:direct:first";
        let episode = eventually(30, "the first session's episode", || async {
            episodes(&app, "alice")
                .await
                .into_iter()
                .find(|e| e.source_id == format!("{first}#2"))
        })
        .await;
        assert_eq!(episode.session_key, first);
        assert_eq!(episode.summary, summary);
        assert_eq!(episode.l0_abstract, l0);
        assert_eq!(episode.key_topics, ["colour", "locker"]);
        assert!(
            episode
                .expires_at
                .is_some_and(|at| at > episode.created_at + chrono::Duration::days(89))
        );
        let asked = app
            .llm
            .requests()
            .into_iter()
            .map(|r| r.body.to_string())
            .find(|body| body.contains(SUMMARY_PROMPT))
            .expect("a summary request");
        assert!(
            asked.contains("my locker code is 4711"),
            "the transcript was summarized: {asked}"
        );
        eventually(30, "the failed extraction counted", || async {
            let failed = metric(
                &app,
                "goclaw_episodic_jobs_total{outcome=\"listener_failed\"}",
            )
            .await;
            (failed >= 1.0).then_some(())
        })
        .await;

        // A new session: the memory section of the prompt already has it; the model also
        // searches and opens the episode.
        app.llm.push(Reply::tool_call(
            "call_s",
            "memory_search",
            json!({"query": "favourite colour"}),
        ));
        app.llm.push(Reply::tool_call(
            "call_x",
            "memory_expand",
            json!({"id": episode.id}),
        ));
        app.llm.push(Reply::text("Teal."));
        let before = turn_requests(&app).len();
        let answer = alice
            .call_ok(
                "chat.send",
                json!({ "message": "What is my favourite colour?",
                        "sessionKey": "agent:default:ws:direct:second" }),
            )
            .await;
        assert_eq!(answer["content"], "Teal.");
        let turns = turn_requests(&app);
        let new: Vec<&String> = turns[before..].iter().collect();
        assert_eq!(new.len(), 3, "{new:#?}");
        assert!(
            new[0].contains("Memory of earlier conversations") && new[0].contains(l0),
            "auto-injected: {}",
            new[0]
        );
        assert!(new[0].contains(&episode.id.to_string()), "{}", new[0]);
        assert!(
            new[1].contains("episodic_id") && new[1].contains(&episode.id.to_string()),
            "memory_search found the episode: {}",
            new[1]
        );
        assert!(
            new[2].contains(summary),
            "memory_expand opened it: {}",
            new[2]
        );

        // Bob's new session: nothing of Alice's in his prompt or his search.
        app.llm.push(Reply::tool_call(
            "call_b",
            "memory_search",
            json!({"query": "favourite colour teal locker"}),
        ));
        app.llm.push(Reply::text("I don't know."));
        let mut bob = app.ws_connect("bob").await;
        let before = turn_requests(&app).len();
        bob.call_ok(
            "chat.send",
            json!({ "message": "What is Alice's favourite colour?",
                    "sessionKey": "agent:default:ws:direct:bobs" }),
        )
        .await;
        for body in &turn_requests(&app)[before..] {
            assert!(!body.contains("teal;") && !body.contains("4711"), "{body}");
            assert!(!body.contains("Memory of earlier conversations"), "{body}");
        }
    }
);

app_test!(
    a_flood_of_idle_sessions_is_bounded_and_failures_are_retried_and_counted,
    small_queue,
    |app: TestApp| async move {
        // Every summary fails; turns are answered normally.
        app.llm.route(
            SUMMARY_PROMPT,
            Reply::server_error().first_byte_delay(Duration::from_millis(5)),
        );
        let store = app.db.store();
        let agent = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
            .await
            .expect("default agent");
        const SESSIONS: usize = 2000;
        for n in 0..SESSIONS {
            let key = SessionKey::parse(&format!("agent:default:ws:direct:idle-{n}")).expect("key");
            let session = store
                .sessions()
                .get_or_create(
                    MASTER_TENANT_ID,
                    &key,
                    Some(&agent),
                    &format!("user-{n}"),
                    "ws",
                )
                .await
                .expect("session");
            store
                .messages()
                .append(
                    session.id,
                    NewMessage::text(Role::User, format!("note number {n}")),
                )
                .await
                .expect("message");
        }

        // While the worker is swamped, a turn completes.
        let mut alice = app.ws_connect("alice").await;
        app.llm.push(Reply::text("Still here."));
        let answer = tokio::time::timeout(
            Duration::from_secs(20),
            alice.call_ok(
                "chat.send",
                json!({ "message": "hello?", "sessionKey": "agent:default:ws:direct:live" }),
            ),
        )
        .await
        .expect("the turn was not held up by the episodic worker");
        assert_eq!(answer["content"], "Still here.");

        // The queue never holds more than its capacity; the overflow is refused and counted.
        let deepest = std::cell::Cell::new(0.0_f64);
        let app = &app;
        let sample_depth = || async {
            let depth = metric(app, "goclaw_episodic_queue_depth").await;
            deepest.set(deepest.get().max(depth));
        };
        let rejected = eventually(60, "refused sessions", || async {
            sample_depth().await;
            let rejected = metric(app, "goclaw_episodic_jobs_total{outcome=\"rejected\"}").await;
            (rejected > 0.0).then_some(rejected)
        })
        .await;
        assert!(rejected >= 1.0);
        let failed = eventually(60, "failed summaries", || async {
            sample_depth().await;
            let failed = metric(app, "goclaw_episodic_jobs_total{outcome=\"failed\"}").await;
            (failed >= 10.0).then_some(failed)
        })
        .await;
        let deepest = deepest.get();
        assert!(deepest <= 40.0, "queue depth {deepest} over its capacity");
        let retried = metric(app, "goclaw_episodic_jobs_total{outcome=\"retried\"}").await;
        assert!(
            retried >= failed,
            "every failed job was tried twice: {retried} < {failed}"
        );
        let summary_calls = app
            .llm
            .requests()
            .iter()
            .filter(|r| r.body.to_string().contains(SUMMARY_PROMPT))
            .count() as f64;
        assert!(
            summary_calls >= failed * 2.0,
            "{summary_calls} summary calls for {failed} jobs failed twice"
        );
        let written = metric(app, "goclaw_episodic_jobs_total{outcome=\"written\"}").await;
        assert_eq!(written, 0.0);
        assert!(episodes(app, "user-0").await.is_empty());
    }
);

app_test!(
    facts_of_an_episode_are_found_in_the_knowledge_graph,
    quick_sweeps,
    |app: TestApp| async move {
        app.llm.route(
            SUMMARY_PROMPT,
            Reply::text(
                json!({"summary": "Alice's sister Maria lives in Porto.",
                       "abstract": "Alice's sister Maria lives in Porto.",
                       "topics": ["family"]})
                .to_string(),
            ),
        );
        app.llm.route(
            GRAPH_PROMPT,
            Reply::text(
                json!({
                    "entities": [
                        {"id": "alice", "name": "Alice", "type": "person"},
                        {"id": "maria", "name": "Maria", "type": "person",
                         "description": "Alice's sister"},
                        {"id": "porto", "name": "Porto", "type": "place"}
                    ],
                    "relations": [
                        {"source": "maria", "type": "sister_of", "target": "alice"},
                        {"source": "maria", "type": "lives_in", "target": "porto"}
                    ]
                })
                .to_string(),
            ),
        );
        let mut alice = app.ws_connect("alice").await;
        alice
            .call_ok(
                "chat.send",
                json!({ "message": "My sister Maria lives in Porto.",
                        "sessionKey": "agent:default:ws:direct:family" }),
            )
            .await;
        let store = app.db.store();
        let agent = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
            .await
            .expect("default agent");
        let scope = goclaw_core::GraphScope::new(MASTER_TENANT_ID, agent.id, "alice");
        eventually(30, "the extracted graph", || async {
            let counts = store.knowledge_graph().graph_counts(&scope).await.ok()?;
            (counts.relations >= 2).then_some(())
        })
        .await;

        app.llm.push(Reply::tool_call(
            "call_g",
            "knowledge_graph_search",
            json!({"query": "Maria"}),
        ));
        app.llm.push(Reply::text("In Porto."));
        let before = turn_requests(&app).len();
        let answer = alice
            .call_ok(
                "chat.send",
                json!({ "message": "Where does my sister live?",
                        "sessionKey": "agent:default:ws:direct:later" }),
            )
            .await;
        assert_eq!(answer["content"], "In Porto.");
        let turns = turn_requests(&app);
        let result = &turns[before + 1];
        assert!(
            result.contains("lives_in") && result.contains("Porto") && result.contains("sister_of"),
            "the graph reached the model: {result}"
        );

        // Bob's graph with the same agent is his own, and empty.
        app.llm.push(Reply::tool_call(
            "call_h",
            "knowledge_graph_search",
            json!({"query": "Maria"}),
        ));
        app.llm.push(Reply::text("I don't know."));
        let mut bob = app.ws_connect("bob").await;
        let before = turn_requests(&app).len();
        bob.call_ok(
            "chat.send",
            json!({ "message": "Where does Maria live?",
                    "sessionKey": "agent:default:ws:direct:bobs" }),
        )
        .await;
        let result = &turn_requests(&app)[before + 1];
        assert!(!result.contains("Porto"), "{result}");
        assert!(result.contains(r#"\"entities\": []"#), "{result}");
    }
);

/// A free loopback address for the app's `/metrics` listener.
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_reports_failed_summaries_of_the_running_gateway() {
    let metrics_addr = free_addr();
    let app = spawn_app_with_config(
        StoreBackend::Sqlite,
        "{agents: {defaults: {memory: {episodic: {idle_timeout_ms: 50, sweep_interval_ms: 20, \
         max_attempts: 2}}}}}",
        &[("GOCLAW_METRICS_ADDR", &metrics_addr)],
    )
    .await
    .expect("SQLite is always available");
    app.llm.route(SUMMARY_PROMPT, Reply::server_error());
    let mut alice = app.ws_connect("alice").await;
    alice
        .call_ok(
            "chat.send",
            json!({ "message": "remember this", "sessionKey": "agent:default:ws:direct:one" }),
        )
        .await;
    eventually(30, "a failed summary", || async {
        let failed = metric(&app, "goclaw_episodic_jobs_total{outcome=\"failed\"}").await;
        (failed >= 1.0).then_some(())
    })
    .await;
    let home = home();
    let report = Goclaw::new(home.path())
        .env("GOCLAW_METRICS_ADDR", &metrics_addr)
        .env("GOCLAW_SANDBOX_BACKEND", "none")
        .args(&["doctor", "--json"])
        .run()
        .await;
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("JSON report");
    let worker = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["section"] == "memory" && c["name"] == "episodic worker")
        .cloned()
        .expect("an episodic worker check");
    assert_eq!(worker["status"], "warn", "{worker}");
    let detail = worker["detail"].as_str().expect("detail");
    assert!(detail.contains("0 written, 1 failed"), "{detail}");
    assert!(detail.contains("1 retried"), "{detail}");

    // Without a gateway to ask, the doctor says so and does not warn.
    let idle = Goclaw::new(home.path())
        .env("GOCLAW_METRICS_ADDR", free_addr())
        .env("GOCLAW_SANDBOX_BACKEND", "none")
        .args(&["doctor", "--json"])
        .run()
        .await;
    let idle: serde_json::Value = serde_json::from_str(&idle.stdout).expect("JSON report");
    let worker = idle["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["section"] == "memory" && c["name"] == "episodic worker")
        .cloned()
        .expect("an episodic worker check");
    assert_eq!(worker["status"], "ok", "{worker}");
    assert!(
        worker["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no counters"))
    );
}
