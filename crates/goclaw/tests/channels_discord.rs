//! Discord end to end, on both backends, against a loopback Discord speaking the gateway
//! WebSocket and REST: with `dm_policy: pairing` an unknown sender's direct message gets a
//! pairing code and no run; after `goclaw pairing approve CODE` they are told so and their next
//! message is answered by the agent in parts within Discord's 2,000 characters; in a guild
//! only a message mentioning the bot is answered, as a reply; and a message sent while the
//! connection is down arrives through Resume and is answered once.

mod support;

use std::time::Duration;

use goclaw_testkit::fake_discord::BOT_ID;
use goclaw_testkit::{FakeDiscord, Reply, StoreBackend, TestApp, spawn_app_with_config};
use support::Goclaw;

const BOT_TOKEN: &str = "discord-test-bot-token.61";
const GATEWAY_TOKEN: &str = "discord-gateway-token-62";
const WAIT: Duration = Duration::from_secs(30);

async fn start(backend: StoreBackend, dm_policy: &str) -> Option<(TestApp, FakeDiscord)> {
    let discord = FakeDiscord::start(BOT_TOKEN).await.expect("fake Discord");
    let config = format!(
        "{{ channels: {{ discord: {{ api_server: '{}', dm_policy: '{dm_policy}' }} }} }}",
        discord.api_server()
    );
    let app = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_DISCORD_TOKEN", BOT_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN),
        ],
    )
    .await?;
    Some((app, discord))
}

/// A long Markdown answer: 40 paragraphs of about 130 characters.
fn long_answer() -> String {
    (0..40)
        .map(|i| format!("Paragraph {i} has a **bold** word and some plain text that fills the line so the answer grows long enough to need several messages."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn pairing_then_answers(backend: StoreBackend) {
    let Some((app, discord)) = start(backend, "pairing").await else {
        return;
    };
    app.llm.set_default(Reply::text(long_answer()));

    discord.direct_message("4711", "hello?");
    let sent = discord
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("a pairing prompt");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].channel_id, "dm-4711");
    let code = sent[0]
        .content
        .split("Pairing code: ")
        .nth(1)
        .and_then(|rest| rest.get(..8))
        .expect("a code in the prompt")
        .to_owned();
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
    let told = discord
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("the pairing notice");
    assert_eq!(told[1].channel_id, "dm-4711");
    assert!(
        told[1].content.contains("You are paired"),
        "{}",
        told[1].content
    );

    discord.direct_message("4711", "tell me everything");
    let expected = long_answer();
    let sent = discord
        .wait_for_sent(WAIT, |s| {
            let shown: String = s.iter().skip(2).map(|m| m.content.as_str()).collect();
            shown.matches("**bold**").count() >= 40
        })
        .await
        .expect("the whole answer");
    let parts = &sent[2..];
    assert!(parts.len() >= 3, "{} parts", parts.len());
    for part in parts {
        assert_eq!(part.channel_id, "dm-4711");
        assert!(
            part.content.chars().count() <= 2000,
            "{}",
            part.content.len()
        );
    }
    let words = |text: &str| {
        text.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let shown: Vec<String> = parts.iter().flat_map(|m| words(&m.content)).collect();
    assert_eq!(
        shown,
        words(&expected),
        "the answer arrived whole and in order"
    );
    app.stop().await.expect("clean stop");
}

async fn guilds_answer_mentions_only(backend: StoreBackend) {
    let Some((app, discord)) = start(backend, "open").await else {
        return;
    };
    app.llm.set_default(Reply::text("Hi guild!"));
    discord.guild_message("555", "5", "just chatting among ourselves");
    let asked = discord.guild_message("555", "5", &format!("<@{BOT_ID}> what's up?"));
    let sent = discord
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("an answer to the mention");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].channel_id, "555");
    assert_eq!(sent[0].content, "Hi guild!");
    assert_eq!(sent[0].reply_to.as_deref(), Some(asked.as_str()));
    let requests = app.llm.requests();
    assert_eq!(requests.len(), 1, "only the mention ran the agent");
    let body = requests[0].body.to_string();
    assert!(body.contains("what's up?"), "{body}");
    assert!(!body.contains(BOT_ID), "the mention is taken out: {body}");
    app.stop().await.expect("clean stop");
}

async fn a_message_sent_while_disconnected_is_answered_once(backend: StoreBackend) {
    let Some((app, discord)) = start(backend, "open").await else {
        return;
    };
    app.llm.set_default(Reply::text("back again"));
    assert!(
        discord.wait_until(WAIT, |d| d.identify_count() >= 1).await,
        "the bot connects"
    );
    discord.drop_connection();
    discord.direct_message("88", "are you there?");
    let sent = discord
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("the answer after the connection came back");
    assert_eq!(sent[0].content, "back again");
    assert!(
        discord.wait_until(WAIT, |d| d.resume_count() >= 1).await,
        "the session was resumed"
    );
    // Sent once: the run is settled with its reply, so a second one would be queued by now.
    assert_eq!(discord.sent().len(), 1, "{:?}", discord.sent());
    assert_eq!(app.llm.request_count(), 1);
    app.stop().await.expect("clean stop");
}

async fn answers_stream_in_place(backend: StoreBackend) {
    let discord = FakeDiscord::start(BOT_TOKEN).await.expect("fake Discord");
    let config = format!(
        "{{ channels: {{ discord: {{ api_server: '{}', dm_stream: true }} }} }}",
        discord.api_server()
    );
    let Some(app) =
        spawn_app_with_config(backend, &config, &[("GOCLAW_DISCORD_TOKEN", BOT_TOKEN)]).await
    else {
        return;
    };
    let answer = "The **answer** grows word by word until it is complete and whole.";
    app.llm
        .set_default(Reply::text_in_chunks(answer, 6).chunk_delay(Duration::from_millis(700)));
    discord.direct_message("31", "stream it");
    assert!(
        discord
            .wait_until(WAIT, |d| d
                .sent()
                .first()
                .is_some_and(|m| m.content == answer))
            .await,
        "the whole answer in the draft: {:?}",
        discord.sent()
    );
    let sent = discord.sent();
    assert_eq!(sent.len(), 1, "one message, edited in place: {sent:?}");
    let edits = discord.edits();
    assert!(edits.len() >= 2, "the draft grew in place: {edits:?}");
    assert!(edits.iter().all(|(id, _)| *id == sent[0].id));
    app.stop().await.expect("clean stop");
}

goclaw_testkit::backend_tests!(
    answers_stream_in_place,
    pairing_then_answers,
    guilds_answer_mentions_only,
    a_message_sent_while_disconnected_is_answered_once
);
