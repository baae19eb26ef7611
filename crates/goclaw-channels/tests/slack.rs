//! The Slack adapter against a loopback Slack (`FakeSlack`): credentials, messages arriving
//! normalized, envelopes acknowledged only once stored, reconnection without loss, replies in
//! threads with buttons, button presses answered on their response URL, long answers cut.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_channels::channel::SinkError;
use goclaw_channels::message::{Button, ChatKind, IncomingMessage, OutgoingMessage};
use goclaw_channels::slack::{Keepalive, SlackChannel};
use goclaw_channels::{BotIdentity, Channel, ChannelError, InboundSink};
use goclaw_fake_channels::FakeSlack;
use goclaw_fake_channels::slack::{BOT_USER_ID, BOT_USERNAME};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const BOT_TOKEN: &str = "xoxb-test-bot-token";
const APP_TOKEN: &str = "xapp-test-app-token";
const WAIT: Duration = Duration::from_secs(10);

/// An inbox that records what it stores (once per `platform_id`, as the real one), and can
/// be told to fail.
#[derive(Default)]
struct Inbox {
    failing: AtomicBool,
    accepted: Mutex<Vec<IncomingMessage>>,
    stored: Mutex<Vec<IncomingMessage>>,
    seen: Mutex<HashSet<String>>,
}

#[async_trait]
impl InboundSink for Inbox {
    async fn accept(&self, message: IncomingMessage) -> Result<(), SinkError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SinkError("the database is down".to_owned()));
        }
        self.accepted.lock().expect("lock").push(message.clone());
        if self
            .seen
            .lock()
            .expect("lock")
            .insert(message.platform_id.clone())
        {
            self.stored.lock().expect("lock").push(message);
        }
        Ok(())
    }
}

impl Inbox {
    fn stored(&self) -> Vec<IncomingMessage> {
        self.stored.lock().expect("lock").clone()
    }

    fn accepted(&self) -> Vec<IncomingMessage> {
        self.accepted.lock().expect("lock").clone()
    }
}

/// A fake Slack with the adapter receiving from it.
struct App {
    fake: FakeSlack,
    channel: Arc<SlackChannel>,
    inbox: Arc<Inbox>,
    stop: CancellationToken,
    receiving: JoinHandle<Result<(), ChannelError>>,
}

async fn spawn_app() -> App {
    let fake = FakeSlack::start_with_ack_timeout(BOT_TOKEN, APP_TOKEN, Duration::from_millis(500))
        .await
        .expect("fake slack");
    let channel = Arc::new(
        SlackChannel::new(
            reqwest::Client::new(),
            &fake.api_server(),
            BOT_TOKEN,
            APP_TOKEN,
        )
        .with_keepalive(Keepalive {
            ping_every: Duration::from_millis(200),
            silence_limit: Duration::from_millis(700),
        }),
    );
    let bot = channel.identify().await.expect("identified");
    let inbox = Arc::new(Inbox::default());
    let stop = CancellationToken::new();
    let receiving = tokio::spawn({
        let (channel, inbox, stop) = (channel.clone(), inbox.clone(), stop.clone());
        async move { channel.receive(&bot, inbox.as_ref(), stop).await }
    });
    App {
        fake,
        channel,
        inbox,
        stop,
        receiving,
    }
}

impl App {
    /// Waits until the inbox stored `count` messages; returns them.
    async fn stored(&self, count: usize) -> Vec<IncomingMessage> {
        let inbox = self.inbox.clone();
        let arrived = self
            .fake
            .wait_until(WAIT, |_| inbox.stored().len() >= count)
            .await;
        assert!(arrived, "stored {:?}", self.inbox.stored());
        self.inbox.stored()
    }

    async fn stop(self) {
        self.stop.cancel();
        let stopped = tokio::time::timeout(WAIT, self.receiving).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    }
}

fn reply(chat: &str, text: &str, reply_to: Option<&str>) -> OutgoingMessage {
    OutgoingMessage {
        edit: None,
        media: None,
        chat_id: chat.to_owned(),
        text: text.to_owned(),
        markup: true,
        reply_to: reply_to.map(str::to_owned),
        thread_id: None,
        buttons: Vec::new(),
    }
}

#[tokio::test]
async fn the_bot_token_identifies_the_bot_and_refused_tokens_are_unauthorized() {
    let fake = FakeSlack::start(BOT_TOKEN, APP_TOKEN).await.expect("fake");
    let http = reqwest::Client::new();
    let good = SlackChannel::new(http.clone(), &fake.api_server(), BOT_TOKEN, APP_TOKEN);
    assert_eq!(
        good.identify().await,
        Ok(BotIdentity {
            id: BOT_USER_ID.to_owned(),
            username: Some(BOT_USERNAME.to_owned())
        })
    );
    let bad_bot = SlackChannel::new(http.clone(), &fake.api_server(), "xoxb-wrong", APP_TOKEN);
    let refused = bad_bot.identify().await;
    assert!(
        matches!(&refused, Err(ChannelError::Unauthorized(_))),
        "{refused:?}"
    );
    assert!(
        !format!("{refused:?}").contains("xoxb"),
        "no token in errors"
    );

    // A refused app token ends `receive` with the same error, not a retry loop.
    let bad_app = SlackChannel::new(http, &fake.api_server(), BOT_TOKEN, "xapp-wrong");
    let bot = good.identify().await.expect("identified");
    let inbox = Inbox::default();
    let ended = tokio::time::timeout(
        WAIT,
        bad_app.receive(&bot, &inbox, CancellationToken::new()),
    )
    .await;
    assert!(
        matches!(ended, Ok(Err(ChannelError::Unauthorized(_)))),
        "{ended:?}"
    );
}

#[tokio::test]
async fn from_config_needs_both_tokens_and_the_switch() {
    use goclaw_config::{Secret, SlackConfig};
    let http = reqwest::Client::new();
    let config = |enabled: bool, bot: Option<&str>, app: Option<&str>| SlackConfig {
        enabled,
        bot_token: bot.map(Secret::from),
        app_token: app.map(Secret::from),
        ..SlackConfig::default()
    };
    let built =
        |c: SlackConfig| goclaw_channels::slack::from_config(&c, http.clone()).map(|c| c.kind());
    assert_eq!(
        built(config(true, Some("xoxb-1"), Some("xapp-1"))),
        Some("slack")
    );
    assert_eq!(built(config(false, Some("xoxb-1"), Some("xapp-1"))), None);
    assert_eq!(built(config(true, None, Some("xapp-1"))), None);
    assert_eq!(built(config(true, Some("xoxb-1"), Some(" "))), None);
}

#[tokio::test]
async fn direct_messages_and_channel_mentions_arrive_normalized() {
    let app = spawn_app().await;
    let dm = app.fake.direct_message("U1", "hello there");
    let [direct] = &app.stored(1).await[..] else {
        panic!("one message")
    };
    assert_eq!(direct.platform_id, format!("DU1:{}", dm.ts));
    assert_eq!(
        (direct.chat_id.as_str(), direct.chat_kind),
        ("DU1", ChatKind::Direct)
    );
    assert_eq!(
        (
            direct.sender_id.as_str(),
            direct.text.as_str(),
            direct.mentioned
        ),
        ("U1", "hello there", true)
    );

    let mention = app
        .fake
        .channel_message("C1", "U2", &format!("<@{BOT_USER_ID}> what's up?"));
    assert_eq!(
        mention.envelope_ids.len(),
        2,
        "a message and an app_mention event"
    );
    let stored = app.stored(2).await;
    assert!(
        app.fake.wait_until(WAIT, |f| f.unacked().is_empty()).await,
        "all acknowledged"
    );
    let in_channel = &stored[1];
    assert_eq!(in_channel.platform_id, format!("C1:{}", mention.ts));
    assert_eq!(
        (in_channel.chat_kind, in_channel.mentioned),
        (ChatKind::Group, true)
    );
    assert_eq!(in_channel.text, "what's up?");
    let accepted = app.inbox.accepted();
    assert_eq!(
        accepted.len(),
        3,
        "both events of the mention were handed over"
    );
    assert_eq!(
        accepted[1].platform_id, accepted[2].platform_id,
        "and de-duplicate to one"
    );
    assert_eq!(app.inbox.stored().len(), 2);

    app.fake.channel_message("C1", "U2", "just chatting");
    let stored = app.stored(3).await;
    assert!(!stored[2].mentioned);
    app.stop().await;
}

#[tokio::test]
async fn an_envelope_is_acknowledged_only_once_stored() {
    let app = spawn_app().await;
    app.inbox.failing.store(true, Ordering::SeqCst);
    let sent = app.fake.direct_message("U1", "keep me");
    let envelope = sent.envelope_ids[0].clone();
    let retried = app
        .fake
        .wait_until(WAIT, |f| f.attempts(&envelope) >= 2)
        .await;
    assert!(retried, "slack sent it again");
    assert!(
        app.fake.acks().is_empty(),
        "nothing acknowledged while not stored"
    );
    assert_eq!(app.fake.unacked(), vec![envelope.clone()]);

    app.inbox.failing.store(false, Ordering::SeqCst);
    let [stored] = &app.stored(1).await[..] else {
        panic!("one message")
    };
    assert_eq!(stored.text, "keep me");
    assert!(
        app.fake
            .wait_until(WAIT, |f| f.acks() == vec![envelope.clone()])
            .await
    );
    app.stop().await;
}

#[tokio::test]
async fn disconnects_and_dropped_or_silent_connections_reconnect_without_loss() {
    let app = spawn_app().await;
    app.fake.direct_message("U1", "one");
    app.stored(1).await;

    app.fake.send_disconnect();
    assert!(
        app.fake
            .wait_until(WAIT, |f| f.connections_opened() >= 2)
            .await
    );
    app.fake.direct_message("U1", "two");
    app.stored(2).await;

    app.fake.drop_connection();
    app.fake.direct_message("U1", "three");
    assert!(
        app.fake
            .wait_until(WAIT, |f| f.connections_opened() >= 3)
            .await
    );
    app.stored(3).await;

    // A connection that answers nothing (not even pings) is abandoned by the watchdog.
    app.fake.silence_connections();
    app.fake.direct_message("U1", "four");
    assert!(
        app.fake
            .wait_until(WAIT, |f| f.connections_opened() >= 4)
            .await
    );
    let texts: Vec<String> = app.stored(4).await.into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["one", "two", "three", "four"]);
    assert!(app.fake.wait_until(WAIT, |f| f.unacked().is_empty()).await);
    app.stop().await;
}

#[tokio::test]
async fn a_reply_with_buttons_is_posted_as_blocks_in_the_thread_and_a_press_is_answered() {
    let app = spawn_app().await;
    let asked = app
        .fake
        .channel_message("C1", "U2", &format!("<@{BOT_USER_ID}> run ls"));
    let question = app.stored(1).await.remove(0);
    let mut message = reply("C1", "*Run* `ls`?", Some(&question.message_id));
    message.buttons = vec![
        Button {
            text: "Allow".to_owned(),
            data: "ap:o:1".to_owned(),
        },
        Button {
            text: "Deny".to_owned(),
            data: "ap:d:1".to_owned(),
        },
    ];
    let ts = app.channel.send(&message).await.expect("sent");
    let [posted] = &app.fake.sent_to("C1")[..] else {
        panic!("one post")
    };
    assert_eq!(posted.ts, ts);
    assert_eq!(
        posted.thread_ts.as_deref(),
        Some(asked.ts.as_str()),
        "in the asker's thread"
    );
    assert_eq!(
        posted.buttons,
        [
            ("Allow".to_owned(), "ap:o:1".to_owned()),
            ("Deny".to_owned(), "ap:d:1".to_owned())
        ]
    );
    assert_eq!(posted.blocks[0]["text"]["text"], "*Run* `ls`?");
    assert_eq!(posted.blocks[1]["elements"][1]["style"], "danger");

    let press = app.fake.press("C1", "U2", "ap:o:1");
    let pressed = app.stored(2).await.remove(1);
    let button = pressed.press.clone().expect("a press");
    assert_eq!(
        (button.id.as_str(), button.data.as_str()),
        (press.response_url.as_str(), "ap:o:1")
    );
    assert_eq!(
        (
            pressed.chat_id.as_str(),
            pressed.sender_id.as_str(),
            pressed.text.as_str()
        ),
        ("C1", "U2", "")
    );
    assert_eq!(pressed.thread_id.as_deref(), Some(asked.ts.as_str()));
    app.channel.acknowledge(&button, "Approved").await;
    let responses = app.fake.responses();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].1["text"], "Approved");
    assert_eq!(responses[0].1["response_type"], "ephemeral");
    assert_eq!(responses[0].1["replace_original"], false);
    app.stop().await;
}

#[tokio::test]
async fn a_long_answer_goes_as_parts_within_the_limit_and_failures_map() {
    let app = spawn_app().await;
    let answer = "A sentence of the answer that goes on. ".repeat(155);
    assert!(answer.chars().count() > 6000);
    let parts = app.channel.render(&answer);
    assert_eq!(parts.len(), 2);
    for part in &parts {
        app.channel
            .send(&reply("DU1", part, None))
            .await
            .expect("sent");
    }
    let sent = app.fake.sent_to("DU1");
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|m| m.text.chars().count() <= 4000 && m.thread_ts.is_none())
    );

    app.fake.rate_limit_posts(1);
    let limited = app.channel.send(&reply("DU1", "hi", None)).await;
    assert_eq!(
        limited,
        Err(goclaw_channels::SendError::Retryable {
            reason: "slack chat.postMessage: rate limited".to_owned(),
            retry_after: Some(Duration::from_secs(1)),
        })
    );
    let too_long = app
        .channel
        .send(&reply("DU1", &"x".repeat(40_001), None))
        .await;
    assert_eq!(
        too_long,
        Err(goclaw_channels::SendError::Permanent(
            "slack chat.postMessage: msg_too_long".to_owned()
        ))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_answer_is_edited_in_place_and_an_unknown_message_is_not_edited() {
    let app = spawn_app().await;
    let ts = app
        .channel
        .send(&reply("C1", "Thinking", Some("1700000000.000100")))
        .await
        .expect("sent");
    app.channel
        .edit(&ts, &reply("C1", "Thinking about *ls*", None))
        .await
        .expect("first edit");
    let mut last = reply("C1", "Run `ls`?", None);
    last.buttons = vec![
        Button {
            text: "Allow".to_owned(),
            data: "ap:o:1".to_owned(),
        },
        Button {
            text: "Deny".to_owned(),
            data: "ap:d:1".to_owned(),
        },
    ];
    app.channel.edit(&ts, &last).await.expect("second edit");

    let [message] = &app.fake.sent_to("C1")[..] else {
        panic!("one message, edited in place")
    };
    assert_eq!(message.ts, ts);
    assert_eq!(message.text, "Run `ls`?");
    assert_eq!(
        message.thread_ts.as_deref(),
        Some("1700000000.000100"),
        "still in its thread"
    );
    assert_eq!(
        message.buttons,
        [
            ("Allow".to_owned(), "ap:o:1".to_owned()),
            ("Deny".to_owned(), "ap:d:1".to_owned())
        ]
    );
    assert_eq!(message.blocks[0]["text"]["text"], "Run `ls`?");
    assert_eq!(
        app.fake.edits(),
        [
            (ts.clone(), "Thinking about *ls*".to_owned()),
            (ts.clone(), "Run `ls`?".to_owned())
        ]
    );

    // Without buttons the old ones go.
    app.channel
        .edit(&ts, &reply("C1", "Done", None))
        .await
        .expect("third edit");
    let edited = app
        .fake
        .wait_for_sent(WAIT, |sent| sent.iter().any(|m| m.text == "Done"))
        .await
        .expect("edited");
    assert_eq!(edited.len(), 1);
    assert!(edited[0].buttons.is_empty() && edited[0].blocks.is_null());

    let unknown = app
        .channel
        .edit("1699999999.000001", &reply("C1", "lost", None))
        .await;
    assert_eq!(
        unknown,
        Err(goclaw_channels::SendError::Permanent(
            "slack chat.update: message_not_found".to_owned()
        ))
    );
    let elsewhere = app.channel.edit(&ts, &reply("C2", "lost", None)).await;
    assert!(
        matches!(elsewhere, Err(goclaw_channels::SendError::Permanent(_))),
        "{elsewhere:?}"
    );
    assert_eq!(app.fake.edits().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn the_bots_own_messages_are_acknowledged_and_not_stored() {
    let app = spawn_app().await;
    let own = app.fake.push_event(serde_json::json!({
        "type": "message", "channel": "C1", "channel_type": "channel", "user": BOT_USER_ID,
        "bot_id": "BGOCLAW01", "text": "my own answer", "ts": "1700000009.000100",
    }));
    assert!(app.fake.wait_until(WAIT, |f| f.acks().contains(&own)).await);
    app.fake.direct_message("U1", "after");
    let texts: Vec<String> = app.stored(1).await.into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["after"]);
    app.stop().await;
}
