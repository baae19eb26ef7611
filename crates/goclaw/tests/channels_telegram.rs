//! Telegram end to end, on both backends, against a loopback Bot API speaking Telegram's wire
//! format: an unknown sender gets a pairing code (once, however often they write) and no
//! run; after `goclaw pairing approve CODE` they are told so, and their next message is
//! answered by the agent, as Telegram HTML in parts within Telegram's limit; in a group only messages that mention the
//! bot are answered, in the group's session, as replies; and a `getUpdates` that hangs is
//! abandoned by the watchdog and polling resumes without losing the update; in webhook mode
//! updates POSTed with the channel's secret are answered once each; two people's questions in
//! a group are answered side by side, and `/stop` stops the answer under way.

mod support;

use std::time::Duration;

use goclaw_core::{SessionKey, Store};
use goclaw_testkit::{FakeTelegram, Reply, StoreBackend, TestApp, spawn_app_with_config};
use support::Goclaw;

const BOT_TOKEN: &str = "123456:telegram-test-token-9f3c";
const GATEWAY_TOKEN: &str = "channels-gateway-token-41ac";
const WAIT: Duration = Duration::from_secs(30);

async fn start(backend: StoreBackend, dm_policy: &str) -> Option<(TestApp, FakeTelegram)> {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: '{dm_policy}' }} }} }}",
        telegram.api_server()
    );
    let app = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN),
        ],
    )
    .await?;
    Some((app, telegram))
}

/// A long Markdown answer: 100 paragraphs of about 130 characters, one bold word each.
fn long_answer() -> String {
    (0..100)
        .map(|i| format!("Paragraph {i} has a **bold** word and some plain text that fills the line so the answer grows long enough to need several messages."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The words Telegram would show for `html`.
fn visible_words(html: &str) -> Vec<String> {
    html.replace("<b>", "")
        .replace("</b>", "")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

async fn pairing_then_answers(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend, "pairing").await else {
        return;
    };
    app.llm.set_default(Reply::text(long_answer()));

    telegram.direct_message(4711, "hello?");
    let sent = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("a pairing prompt");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].chat_id, "4711");
    let code = sent[0]
        .text
        .split("Pairing code: ")
        .nth(1)
        .and_then(|rest| rest.get(..8))
        .expect("a code in the prompt")
        .to_owned();
    assert!(
        sent[0].text.contains("Your user id: 4711"),
        "{}",
        sent[0].text
    );
    // Writing again while the code waits: no second prompt, and no run.
    telegram.direct_message(4711, "anyone there?");
    wait_until("the second message to be taken", || {
        telegram.unconfirmed() == 0
    })
    .await;
    assert_eq!(telegram.sent_to(4711).len(), 1);
    assert_eq!(
        app.llm.request_count(),
        0,
        "an unpaired sender ran the agent"
    );

    let approved = Goclaw::new(app.data_dir.path())
        .env("GOCLAW_SERVER", app.url(""))
        .env("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN)
        .args(&["pairing", "approve", &code])
        .run()
        .await;
    assert!(approved.success, "{approved:?}");
    assert!(
        approved
            .stdout
            .starts_with(&format!("Pairing approved! Code: {code}"))
    );

    // The sender is told they may write now, once.
    let told = telegram
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("the pairing notice");
    assert_eq!(told[1].chat_id, "4711");
    assert!(told[1].text.contains("You are paired"), "{}", told[1].text);

    telegram.direct_message(4711, "tell me everything");
    let expected_words = visible_words(&long_answer().replace("**", ""));
    let sent = telegram
        .wait_for_sent(WAIT, |s| {
            let words: usize = s.iter().skip(2).map(|m| visible_words(&m.text).len()).sum();
            words >= expected_words.len()
        })
        .await
        .expect("the whole answer");
    let parts = &sent[2..];
    assert!(parts.len() >= 3, "{} parts", parts.len());
    for part in parts {
        assert_eq!(part.chat_id, "4711");
        assert_eq!(part.parse_mode.as_deref(), Some("HTML"));
        assert!(part.text.chars().count() <= 4096, "{}", part.text.len());
        assert!(part.text.contains("<b>bold</b>"), "{}", part.text);
    }
    let shown: Vec<String> = parts.iter().flat_map(|m| visible_words(&m.text)).collect();
    assert_eq!(
        shown, expected_words,
        "the answer arrived whole and in order"
    );
    let asked = app.llm.requests();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].body.to_string().contains("tell me everything"));
    let store: std::sync::Arc<dyn Store> = app.db.store();
    let key = SessionKey::parse("agent:default:telegram:direct:4711").expect("key");
    let session = store
        .sessions()
        .get(goclaw_core::MASTER_TENANT_ID, &key)
        .await
        .expect("the sender's session");
    assert_eq!(session.user_id, "4711");
    app.stop().await.expect("clean stop");
}

async fn groups_answer_mentions_only(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend, "pairing").await else {
        return;
    };
    app.llm.set_default(Reply::text("Hi group!"));
    telegram.group_message(-100, 5, "just chatting among ourselves");
    wait_until("the chatter to be taken", || telegram.unconfirmed() == 0).await;
    let asked = telegram.group_message(-100, 5, "@GoclawBot what's up?");
    let sent = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer to the mention");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].chat_id,
        "-100",
        "{sent:?} {:?}",
        app.llm
            .requests()
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(sent[0].text, "Hi group!");
    assert_eq!(sent[0].reply_to, Some(asked));
    let requests = app.llm.requests();
    assert_eq!(requests.len(), 1, "only the mention ran the agent");
    let body = requests[0].body.to_string();
    assert!(body.contains("what's up?"), "{body}");
    assert!(
        !body.contains("@GoclawBot"),
        "the mention is taken out: {body}"
    );
    let key = SessionKey::parse("agent:default:telegram:group:-100").expect("key");
    let session = app
        .db
        .store()
        .sessions()
        .get(goclaw_core::MASTER_TENANT_ID, &key)
        .await
        .expect("the group's session");
    assert_eq!(session.user_id, "group:telegram:-100");
    app.stop().await.expect("clean stop");
}

async fn a_hanging_poll_is_restarted(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend, "open").await else {
        return;
    };
    app.llm.set_default(Reply::text("still here"));
    wait_until("polling to start", || telegram.polls() > 0).await;
    telegram.hang_polls(true);
    wait_until("a poll to hang", || telegram.hung_polls() >= 1).await;
    telegram.direct_message(77, "are you alive?");
    // The watchdog abandons the hung poll (1 s wait + 5 s grace) and polls again.
    wait_until("the watchdog to poll again", || telegram.hung_polls() >= 2).await;
    telegram.hang_polls(false);
    let sent = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("the update answered after the stall");
    assert_eq!(sent[0].text, "still here");
    assert_eq!(sent[0].chat_id, "77");
    // Answered once, however many polls saw the update.
    wait_until("the update to be confirmed", || telegram.unconfirmed() == 0).await;
    assert_eq!(telegram.sent().len(), 1);
    assert_eq!(app.llm.request_count(), 1);
    app.stop().await.expect("clean stop");
}

/// Webhook mode: the bot registers the configured URL with its secret instead of polling;
/// updates POSTed to `/channels/telegram/webhook` with the secret are answered (a delivery
/// repeated by Telegram once), without it refused.
async fn webhook_mode_answers_each_delivery_once(backend: StoreBackend) {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', dm_policy: 'open', \
         webhook_url: 'https://bot.example.com/channels/telegram/webhook', \
         webhook_secret: 'hook-secret_42' }} }} }}",
        telegram.api_server()
    );
    let Some(app) = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN),
        ],
    )
    .await
    else {
        return;
    };
    app.llm.set_default(Reply::text("Delivered by webhook."));
    wait_until("the webhook is registered", || telegram.webhook().is_some()).await;
    assert_eq!(
        telegram.webhook(),
        Some((
            "https://bot.example.com/channels/telegram/webhook".to_owned(),
            Some("hook-secret_42".to_owned())
        ))
    );
    assert_eq!(telegram.polls(), 0, "no polling in webhook mode");
    let endpoint = app.url("/channels/telegram/webhook");
    let update = telegram.direct_update(6001, "hello by webhook");
    for secret in [None, Some("wrong-secret")] {
        assert_eq!(telegram.deliver(&endpoint, secret, &update).await, 401);
    }
    assert_eq!(
        telegram
            .deliver(&endpoint, Some("hook-secret_42"), &update)
            .await,
        200
    );
    // Telegram repeats a delivery it did not see answered: it is recognized.
    assert_eq!(
        telegram
            .deliver(&endpoint, Some("hook-secret_42"), &update)
            .await,
        200
    );
    let sent = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer");
    assert_eq!(sent[0].text, "Delivered by webhook.");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(telegram.sent_to(6001).len(), 1, "answered once");
    assert_eq!(app.llm.requests().len(), 1, "one run");
    let other = app.url("/channels/discord/webhook");
    assert_eq!(
        telegram
            .deliver(&other, Some("hook-secret_42"), &update)
            .await,
        404
    );
    app.stop().await.expect("clean stop");
}

async fn group_overrides_apply_to_their_group(backend: StoreBackend) {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, groups: {{ \
         '-100': {{ require_mention: false }}, '-300': {{ enabled: false }} }} }} }} }}",
        telegram.api_server()
    );
    let Some(app) =
        spawn_app_with_config(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN)]).await
    else {
        return;
    };
    app.llm.set_default(Reply::text("heard you"));
    telegram.group_message(-300, 5, "@GoclawBot anyone?");
    telegram.group_message(-200, 5, "no mention here");
    telegram.group_message(-100, 5, "no mention needed here");
    let sent = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer in the relaxed group");
    wait_until("every update to be taken", || telegram.unconfirmed() == 0).await;
    assert_eq!(
        sent[0].chat_id,
        "-100",
        "{sent:?} {:?}",
        app.llm
            .requests()
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        app.llm.request_count(),
        1,
        "the disabled group and the unmentioned one ran nothing"
    );
    app.stop().await.expect("clean stop");
}

async fn answers_stream_in_place(backend: StoreBackend) {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'open', dm_stream: true }} }} }}",
        telegram.api_server()
    );
    let Some(app) =
        spawn_app_with_config(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN)]).await
    else {
        return;
    };
    let answer = "The **answer** grows word by word until it is complete and whole.";
    app.llm
        .set_default(Reply::text_in_chunks(answer, 6).chunk_delay(Duration::from_millis(700)));
    telegram.direct_message(31, "stream it");
    let sent = telegram
        .wait_for_sent(WAIT, |s| {
            s.first()
                .is_some_and(|m| m.text.contains("<b>answer</b>") && m.text.ends_with("whole."))
        })
        .await
        .expect("the whole answer in the draft");
    // Settled: nothing else is queued for this answer.
    wait_until("the update to be answered", || telegram.unconfirmed() == 0).await;
    assert_eq!(sent.len(), 1, "one message, edited in place: {sent:?}");
    assert_eq!(
        sent[0].text,
        "The <b>answer</b> grows word by word until it is complete and whole."
    );
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    let edits = telegram.edits();
    assert!(edits.len() >= 2, "the draft grew in place: {edits:?}");
    assert!(edits.iter().all(|(id, _)| *id == sent[0].message_id));
    app.stop().await.expect("clean stop");
}

async fn a_mention_carries_the_groups_unanswered_messages(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend, "pairing").await else {
        return;
    };
    app.llm.set_default(Reply::text("noted"));
    telegram.group_message(-100, 5, "the build is red again");
    telegram.group_message(-100, 6, "since the last merge, I think");
    wait_until("the chatter to be taken", || telegram.unconfirmed() == 0).await;
    telegram.group_message(-100, 5, "@GoclawBot can you look?");
    telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer");
    let first = app.llm.requests()[0].body.to_string();
    let heading = first
        .find("[Earlier in this group, not addressed to you]")
        .expect("the history's heading");
    let red = first
        .find("the build is red again")
        .expect("the first message");
    let merge = first
        .find("since the last merge")
        .expect("the second message");
    let asked = first.find("can you look?").expect("the question");
    assert!(heading < red && red < merge && merge < asked, "{first}");

    // Once answered, the history starts again.
    telegram.group_message(-100, 6, "thanks");
    wait_until("the thanks to be taken", || telegram.unconfirmed() == 0).await;
    telegram.group_message(-100, 5, "@GoclawBot and now?");
    telegram
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("a second answer");
    let requests = app.llm.requests();
    let second = requests.last().expect("a second request").body.to_string();
    let user_turns: Vec<&str> = second.matches("the build is red again").collect();
    assert_eq!(
        user_turns.len(),
        1,
        "the old history is in the transcript once, not repeated: {second}"
    );
    assert!(second.contains("[User 6 (@user6)]: thanks"), "{second}");
    app.stop().await.expect("clean stop");
}

async fn a_group_answers_two_people_at_once(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend, "pairing").await else {
        return;
    };
    // Slow enough that the first answer is still streaming when the second question runs.
    let answer = "Working on it, one word at a time, until the answer is done.";
    app.llm
        .set_default(Reply::text_in_chunks(answer, 4).chunk_delay(Duration::from_millis(1500)));
    let first = telegram.group_message(-100, 5, "@GoclawBot first question");
    wait_until("the first run to call the model", || {
        app.llm.requests().len() == 1
    })
    .await;
    let second = telegram.group_message(-100, 6, "@GoclawBot second question");
    wait_until("the second run to call the model", || {
        app.llm.requests().len() == 2
    })
    .await;
    assert!(
        telegram.sent().is_empty(),
        "the second run started while the first was still answering"
    );
    let second_body = app.llm.requests()[1].body.to_string();
    assert!(second_body.contains("second question"), "{second_body}");
    assert!(
        !second_body.contains("first question"),
        "a run does not see the question another run is answering: {second_body}"
    );
    let sent = telegram
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("both answers");
    let mut replied: Vec<Option<i64>> = sent.iter().map(|m| m.reply_to).collect();
    replied.sort();
    assert_eq!(replied, vec![Some(first), Some(second)], "{sent:?}");
    assert!(sent.iter().all(|m| m.text == answer));

    // `/stop` stops the answer under way; the group is told so.
    telegram.group_message(-100, 5, "@GoclawBot third question");
    wait_until("the third run to call the model", || {
        app.llm.requests().len() == 3
    })
    .await;
    telegram.group_message(-100, 5, "/stop@GoclawBot");
    let sent = telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text == "Stopped."))
        .await
        .expect("the stop confirmed");
    assert!(
        !sent
            .iter()
            .any(|m| m.text == answer && m.reply_to.is_some_and(|r| r > second)),
        "the stopped run's answer is not sent: {sent:?}"
    );
    app.stop().await.expect("clean stop");
}

async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen in {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

goclaw_testkit::backend_tests!(
    a_group_answers_two_people_at_once,
    a_mention_carries_the_groups_unanswered_messages,
    answers_stream_in_place,
    group_overrides_apply_to_their_group,
    pairing_then_answers,
    groups_answer_mentions_only,
    a_hanging_poll_is_restarted,
    webhook_mode_answers_each_delivery_once
);
