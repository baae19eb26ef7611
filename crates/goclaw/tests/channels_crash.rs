//! Crash safety of a channel, with the real executable on SQLite and on PostgreSQL: 100
//! Telegram users each send one message; the gateway is killed with SIGKILL while some answers
//! are delivered, some wait in the outbox (the fake Bot API holds the send in flight, and
//! drops it unanswered when the process dies, as Telegram never sees a request whose sender
//! died first) and most runs are still waiting for the model. After a restart on the same
//! database every user has exactly one answer: the fake counts deliveries per chat, and the
//! inbox and outbox end settled. An answer streamed in place and cut by the kill is finished
//! in the same message after the restart.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use goclaw_core::{ChannelQueueStore, Store};
use goclaw_testkit::{FakeLlm, FakeTelegram, Reply, StoreBackend, TestDatabase};
use support::Server;

const BOT_TOKEN: &str = "424242:crash-test-telegram-token";
const USERS: i64 = 100;
/// Answered and delivered before the kill.
const DELIVERED: i64 = 10;
/// Answered before the kill, their replies stuck in the outbox.
const QUEUED: usize = 20;
const FIRST_USER: i64 = 7_000;
const PROGRESS_DEADLINE: Duration = Duration::from_secs(60);
const NEVER: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_100_channel_messages_in_flight_on_sqlite() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    crash_and_recover(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_100_channel_messages_in_flight_on_postgres() {
    let Some(db) = TestDatabase::migrated(StoreBackend::Postgres).await else {
        return;
    };
    crash_and_recover(db).await;
}

async fn crash_and_recover(db: TestDatabase) {
    let home = support::home();
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    std::fs::write(
        home.path().join("config.json"),
        format!(
            "{{ gateway: {{ rate_limit_rpm: 0 }}, channels: {{ telegram: {{ api_server: '{}', \
             poll_timeout: 1, dm_policy: 'open' }} }} }}",
            telegram.api_server()
        ),
    )
    .expect("writing config.json");
    let llm = FakeLlm::start().await;
    llm.set_default(Reply::text("this reply never arrives").first_byte_delay(NEVER));
    let users: Vec<i64> = (FIRST_USER..FIRST_USER + USERS).collect();

    let server = start(home.path(), &db, &llm).await;
    // A first wave is answered and delivered.
    llm.push_all((0..DELIVERED).map(|_| Reply::text("your answer")));
    for &user in &users[..DELIVERED as usize] {
        telegram.direct_message(user, &format!("question from {user}"));
    }
    wait_for("the first wave's answers", || {
        telegram.sent().len() == DELIVERED as usize
    })
    .await;
    // Then deliveries stall, a second wave is answered into the outbox, and the rest wait for
    // the model.
    telegram.hold_sends(true);
    llm.push_all((0..QUEUED).map(|_| Reply::text("your answer")));
    for &user in &users[DELIVERED as usize..] {
        telegram.direct_message(user, &format!("question from {user}"));
    }
    let store = db.store();
    wait_for("every message to reach a run", || {
        llm.request_count() == USERS as usize
    })
    .await;
    wait_for_async("the second wave's answers to be queued", || async {
        queued_replies(store.as_ref(), &users).await >= QUEUED
    })
    .await;
    wait_for("a delivery to be in flight", || telegram.held_sends() >= 1).await;

    let status = server.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    telegram.release_sends(false);
    assert_eq!(telegram.sent().len(), DELIVERED as usize);

    llm.set_default(Reply::text("your answer"));
    let server = start(home.path(), &db, &llm).await;
    wait_for("every user to be answered", || {
        users.iter().all(|&user| !telegram.sent_to(user).is_empty())
    })
    .await;
    wait_for_async("the inbox and the outbox to settle", || async {
        settled(store.as_ref()).await
    })
    .await;
    let twice: Vec<i64> = users
        .iter()
        .copied()
        .filter(|&user| telegram.sent_to(user).len() != 1)
        .collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");
    assert_eq!(telegram.sent().len(), USERS as usize);
    assert!(
        telegram
            .sent()
            .iter()
            .all(|message| message.text == "your answer"),
        "{:?}",
        telegram.sent()
    );
    eprintln!(
        "{:?}: {} model calls for {USERS} messages",
        db.backend(),
        llm.request_count()
    );
    let (code, _, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_streamed_before_sigkill_becomes_the_answer_on_sqlite() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    draft_outlives_a_crash(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_streamed_before_sigkill_becomes_the_answer_on_postgres() {
    let Some(db) = TestDatabase::migrated(StoreBackend::Postgres).await else {
        return;
    };
    draft_outlives_a_crash(db).await;
}

/// An answer streamed in place is cut by SIGKILL after its draft reached the chat; after the
/// restart the next attempt's answer is edited into that draft: the chat ends with one
/// message, the whole answer.
async fn draft_outlives_a_crash(db: TestDatabase) {
    const USER: i64 = 9_100;
    let home = support::home();
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    std::fs::write(
        home.path().join("config.json"),
        format!(
            "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'open', \
             dm_stream: true }} }} }}",
            telegram.api_server()
        ),
    )
    .expect("writing config.json");
    let llm = FakeLlm::start().await;
    // Words every two seconds: the draft shows the first ones long before the answer ends.
    let slow = "The first words arrive and the rest takes its time to come along.";
    llm.set_default(Reply::text_in_chunks(slow, 30).chunk_delay(Duration::from_secs(2)));
    let server = start(home.path(), &db, &llm).await;
    telegram.direct_message(USER, "tell me slowly");
    let store = db.store();
    wait_for_async("the draft to be sent and recorded", || async {
        let waiting = store
            .channel_queue()
            .unanswered("telegram", 10)
            .await
            .unwrap_or_default();
        waiting.iter().any(|i| i.draft_message_id.is_some())
    })
    .await;
    let draft = telegram.sent_to(USER);
    assert_eq!(draft.len(), 1, "{draft:?}");
    let status = server.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");

    let whole = "The whole answer, at last.";
    llm.set_default(Reply::text(whole));
    let server = start(home.path(), &db, &llm).await;
    wait_for("the draft to become the answer", || {
        telegram
            .sent_to(USER)
            .first()
            .is_some_and(|m| m.text == whole)
    })
    .await;
    wait_for_async("the inbox and the outbox to settle", || async {
        settled(store.as_ref()).await
    })
    .await;
    let sent = telegram.sent_to(USER);
    assert_eq!(
        sent.len(),
        1,
        "one message, no half-written one beside it: {sent:?}"
    );
    assert_eq!(sent[0].message_id, draft[0].message_id);
    let (code, _, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

/// Replies queued for `users`, sent or not.
async fn queued_replies(store: &dyn Store, users: &[i64]) -> usize {
    let mut count = 0;
    for user in users {
        count += store
            .channel_queue()
            .outbound_for_chat("telegram", &user.to_string())
            .await
            .map(|rows| rows.len())
            .unwrap_or_default();
    }
    count
}

/// Whether nothing is left to answer or to send.
async fn settled(store: &dyn Store) -> bool {
    let queue: &dyn ChannelQueueStore = store.channel_queue();
    let unanswered = queue.unanswered("telegram", 1000).await.unwrap_or_default();
    let due = queue
        .due(
            "telegram",
            chrono::Utc::now() + chrono::Duration::days(1),
            1000,
        )
        .await
        .unwrap_or_default();
    unanswered.is_empty() && due.is_empty()
}

/// Starts the gateway on `db` with its provider pointed at `llm`.
async fn start(home: &Path, db: &TestDatabase, llm: &FakeLlm) -> Server {
    support::serve_on(home, db, &llm.base_url())
        .env("GOCLAW_GATEWAY_TOKEN", "channels-crash-gateway-token")
        .env("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN)
        .env("GOCLAW_VAULT_ENRICHMENT", "false")
        .start()
        .await
        .unwrap_or_else(|exited| panic!("the gateway did not start: {exited:?}"))
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PROGRESS_DEADLINE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {PROGRESS_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_async<F: std::future::Future<Output = bool>>(what: &str, done: impl Fn() -> F) {
    let deadline = tokio::time::Instant::now() + PROGRESS_DEADLINE;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {PROGRESS_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
