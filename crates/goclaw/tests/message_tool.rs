//! The `message` tool end to end on both backends, against a loopback Telegram Bot API: a run
//! answering a Telegram chat posts to that chat at once (before its answer), and a forward to
//! another chat asked by that user's run is refused — the other chat gets nothing.

use std::time::Duration;

use goclaw_testkit::{FakeTelegram, Reply, StoreBackend, TestApp, spawn_app_with_config};
use serde_json::json;

const BOT_TOKEN: &str = "123456:telegram-message-tool-7d2a";
const WAIT: Duration = Duration::from_secs(30);

async fn start(backend: StoreBackend) -> Option<(TestApp, FakeTelegram)> {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'open' }} }} }}",
        telegram.api_server()
    );
    let app =
        spawn_app_with_config(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN)]).await?;
    Some((app, telegram))
}

async fn posts_to_the_conversation_and_refuses_forwards(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend).await else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "c1",
        "message",
        json!({ "action": "send", "message": "Working on it…" }),
    ));
    app.llm.push(Reply::tool_call(
        "c2",
        "message",
        json!({ "action": "send", "message": "psst", "target": "9999", "forward": true,
                "forward_reason": "\"tell 9999\"" }),
    ));
    app.llm.push(Reply::text("Done."));
    telegram.direct_message(4711, "please do the thing");
    let sent = telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text.contains("Done.")))
        .await
        .expect("the answer");
    let texts: Vec<(&str, &str)> = sent
        .iter()
        .map(|m| (m.chat_id.as_str(), m.text.as_str()))
        .collect();
    let early = texts
        .iter()
        .position(|(_, t)| t.contains("Working on it"))
        .expect("the message");
    let done = texts
        .iter()
        .position(|(_, t)| t.contains("Done."))
        .expect("the answer");
    assert!(early < done, "{texts:?}");
    assert!(
        texts.iter().all(|(chat, _)| *chat == "4711"),
        "nothing reached another chat: {texts:?}"
    );
    let requests = app.llm.requests();
    let refused = requests[2].body["messages"].to_string();
    assert!(refused.contains("permission denied"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_to_the_conversation_and_refuses_forwards_sqlite() {
    posts_to_the_conversation_and_refuses_forwards(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_to_the_conversation_and_refuses_forwards_postgres() {
    posts_to_the_conversation_and_refuses_forwards(StoreBackend::Postgres).await;
}
