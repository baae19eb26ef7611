//! Slack end to end, on both backends, against a loopback Slack speaking Socket Mode and the
//! Web API: an unknown sender's direct message gets a pairing code and no run; after
//! `goclaw pairing approve CODE` they are told so and their next message is answered by the
//! agent as mrkdwn, in parts within Slack's limit; in a channel only a message mentioning the
//! bot is answered — once, although Slack sends it as a `message` and an `app_mention` — in a
//! thread under it; and every envelope is acknowledged only after it was stored. An exec
//! approval a channel run asks for is posted in that thread too.

mod support;

use std::time::Duration;

use goclaw_testkit::fake_slack::BOT_USER_ID;
use goclaw_testkit::{FakeSlack, Reply, StoreBackend, TestApp, spawn_app_with_config};
use support::Goclaw;

const BOT_TOKEN: &str = "xoxb-slack-test-bot-token-51";
const APP_TOKEN: &str = "xapp-slack-test-app-token-52";
const GATEWAY_TOKEN: &str = "slack-gateway-token-53";
const WAIT: Duration = Duration::from_secs(30);

async fn start(backend: StoreBackend) -> Option<(TestApp, FakeSlack)> {
    let slack = FakeSlack::start(BOT_TOKEN, APP_TOKEN)
        .await
        .expect("fake Slack");
    let config = format!(
        "{{ channels: {{ slack: {{ api_server: '{}' }} }} }}",
        slack.api_server()
    );
    let app = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_SLACK_BOT_TOKEN", BOT_TOKEN),
            ("GOCLAW_SLACK_APP_TOKEN", APP_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN),
        ],
    )
    .await?;
    Some((app, slack))
}

/// A long Markdown answer: 60 paragraphs of about 130 characters, one bold word each.
fn long_answer() -> String {
    (0..60)
        .map(|i| format!("Paragraph {i} has a **bold** word and some plain text that fills the line so the answer grows long enough to need two messages."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn pairing_then_answers(backend: StoreBackend) {
    let Some((app, slack)) = start(backend).await else {
        return;
    };
    app.llm.set_default(Reply::text(long_answer()));

    slack.direct_message("U4711", "hello?");
    let sent = slack
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("a pairing prompt");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].channel, "DU4711");
    let code = sent[0]
        .text
        .split("Pairing code: ")
        .nth(1)
        .and_then(|rest| rest.get(..8))
        .expect("a code in the prompt")
        .to_owned();
    slack.direct_message("U4711", "anyone there?");
    assert!(
        slack
            .wait_until(WAIT, |s| s.unacked().is_empty() && s.acks().len() >= 2)
            .await,
        "both messages acknowledged"
    );
    assert_eq!(slack.sent().len(), 1, "no second prompt");
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
    let told = slack
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("the pairing notice");
    assert!(told[1].text.contains("You are paired"), "{}", told[1].text);

    slack.direct_message("U4711", "tell me everything");
    let sent = slack
        .wait_for_sent(WAIT, |s| {
            s.iter()
                .skip(2)
                .map(|m| m.text.matches("*bold*").count())
                .sum::<usize>()
                >= 60
        })
        .await
        .expect("the whole answer");
    let parts = &sent[2..];
    assert!(parts.len() >= 2, "{} parts", parts.len());
    for part in parts {
        assert_eq!(part.channel, "DU4711");
        assert!(part.text.chars().count() <= 4000, "{}", part.text.len());
        assert!(
            !part.text.contains("**"),
            "mrkdwn, not Markdown: {}",
            part.text
        );
        assert_eq!(part.thread_ts, None, "direct answers are not threaded");
    }
    let asked = app.llm.requests();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].body.to_string().contains("tell me everything"));
    app.stop().await.expect("clean stop");
}

async fn channels_answer_mentions_once_in_a_thread(backend: StoreBackend) {
    let Some((app, slack)) = start(backend).await else {
        return;
    };
    app.llm.set_default(Reply::text("Hi channel!"));
    slack.channel_message("C100", "U5", "just chatting among ourselves");
    assert!(
        slack
            .wait_until(WAIT, |s| s.unacked().is_empty() && !s.acks().is_empty())
            .await
    );
    let asked = slack.channel_message("C100", "U5", &format!("<@{BOT_USER_ID}> what's up?"));
    assert_eq!(asked.envelope_ids.len(), 2, "a message and an app_mention");
    let sent = slack
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer to the mention");
    assert!(
        slack
            .wait_until(WAIT, |s| s.unacked().is_empty() && s.acks().len() >= 3)
            .await,
        "every envelope acknowledged"
    );
    // Anything else would have been posted by now: the answer is settled with its run.
    let sent_again = slack.sent();
    assert_eq!(sent_again.len(), 1, "answered once: {sent_again:?}");
    assert_eq!(sent[0].channel, "C100");
    assert_eq!(sent[0].text, "Hi channel!");
    assert_eq!(sent[0].thread_ts.as_deref(), Some(asked.ts.as_str()));
    let requests = app.llm.requests();
    assert_eq!(requests.len(), 1, "only the mention ran the agent");
    let body = requests[0].body.to_string();
    assert!(body.contains("what's up?"), "{body}");
    assert!(
        !body.contains(BOT_USER_ID),
        "the mention is taken out: {body}"
    );
    app.stop().await.expect("clean stop");
}

async fn an_approval_in_a_channel_is_asked_in_the_thread(backend: StoreBackend) {
    let slack = FakeSlack::start(BOT_TOKEN, APP_TOKEN)
        .await
        .expect("fake Slack");
    let config = format!(
        "{{ channels: {{ slack: {{ api_server: '{}' }} }}, \
         tools: {{ execApproval: {{ security: 'full', ask: 'always' }} }} }}",
        slack.api_server()
    );
    let Some(app) = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_SLACK_BOT_TOKEN", BOT_TOKEN),
            ("GOCLAW_SLACK_APP_TOKEN", APP_TOKEN),
        ],
    )
    .await
    else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        serde_json::json!({"command": "echo asked-in-thread"}),
    ));
    app.llm.push(Reply::text("Done."));
    let asked = slack.channel_message("C100", "U5", &format!("<@{BOT_USER_ID}> run it"));
    let sent = slack
        .wait_for_sent(WAIT, |s| s.iter().any(|m| !m.buttons.is_empty()))
        .await
        .expect("an approval request");
    let request = sent
        .iter()
        .find(|m| !m.buttons.is_empty())
        .expect("the request");
    assert_eq!(request.channel, "C100");
    assert!(
        request.text.contains("echo asked-in-thread"),
        "{}",
        request.text
    );
    assert_eq!(
        request.thread_ts.as_deref(),
        Some(asked.ts.as_str()),
        "asked in the thread of the message the run answers: {request:?}"
    );
    app.stop().await.expect("clean stop");
}

async fn answers_stream_in_place(backend: StoreBackend) {
    let slack = FakeSlack::start(BOT_TOKEN, APP_TOKEN)
        .await
        .expect("fake Slack");
    let config = format!(
        "{{ channels: {{ slack: {{ api_server: '{}', dm_policy: 'open', dm_stream: true }} }} }}",
        slack.api_server()
    );
    let env = [
        ("GOCLAW_SLACK_BOT_TOKEN", BOT_TOKEN),
        ("GOCLAW_SLACK_APP_TOKEN", APP_TOKEN),
    ];
    let Some(app) = spawn_app_with_config(backend, &config, &env).await else {
        return;
    };
    let answer = "The **answer** grows word by word until it is complete and whole.";
    app.llm
        .set_default(Reply::text_in_chunks(answer, 6).chunk_delay(Duration::from_millis(700)));
    slack.direct_message("U31", "stream it");
    let done = "The *answer* grows word by word until it is complete and whole.";
    assert!(
        slack
            .wait_until(WAIT, |s| s.sent().first().is_some_and(|m| m.text == done))
            .await,
        "the whole answer in the draft: {:?}",
        slack.sent()
    );
    let sent = slack.sent();
    assert_eq!(sent.len(), 1, "one message, edited in place: {sent:?}");
    let edits = slack.edits();
    assert!(edits.len() >= 2, "the draft grew in place: {edits:?}");
    assert!(edits.iter().all(|(ts, _)| *ts == sent[0].ts));
    app.stop().await.expect("clean stop");
}

goclaw_testkit::backend_tests!(
    an_approval_in_a_channel_is_asked_in_the_thread,
    answers_stream_in_place,
    pairing_then_answers,
    channels_answer_mentions_once_in_a_thread
);
