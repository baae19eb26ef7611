//! The Discord adapter against `FakeDiscord`, through Discord's real wire format: who the bot
//! is, messages arriving normalized, replies with their reference and buttons, presses and
//! their ephemeral answers, long answers cut in two, and the gateway faults that must lose
//! nothing (a dropped connection, a zombie one, an update the gateway could not store).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_channels::channel::SinkError;
use goclaw_channels::message::{Button, ButtonPress};
use goclaw_channels::{
    BotIdentity, Channel, ChannelError, ChatKind, InboundSink, IncomingMessage, OutgoingMessage,
    SendError,
};
use goclaw_config::{DiscordConfig, Secret};
use goclaw_fake_channels::FakeDiscord;
use goclaw_fake_channels::discord::{BOT_ID, BOT_USERNAME};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "MTAx.discord-test-token";
const WAIT: Duration = Duration::from_secs(10);

/// The gateway's inbox, as far as the adapter can tell: it stores what it accepts, and
/// refuses the next `refuse` updates.
#[derive(Default)]
struct Inbox {
    messages: Mutex<Vec<IncomingMessage>>,
    arrived: Notify,
    refuse: AtomicUsize,
}

#[async_trait]
impl InboundSink for Inbox {
    async fn accept(&self, message: IncomingMessage) -> Result<(), SinkError> {
        let refused = self
            .refuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refused {
            return Err(SinkError("the database is away".to_owned()));
        }
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
        self.arrived.notify_waiters();
        Ok(())
    }
}

impl Inbox {
    fn stored(&self) -> Vec<IncomingMessage> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` messages are stored; fails the test with what was stored otherwise.
    async fn wait_for(&self, count: usize) -> Vec<IncomingMessage> {
        self.wait_for_within(count, WAIT).await
    }

    /// [`Inbox::wait_for`] with a deadline of `wait`.
    async fn wait_for_within(&self, count: usize, wait: Duration) -> Vec<IncomingMessage> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            let stored = self.stored();
            if stored.len() >= count {
                return stored;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{count} messages expected, stored: {:#?}", self.stored());
            }
        }
    }
}

fn channel_for(fake: &FakeDiscord, token: &str) -> Arc<dyn Channel> {
    let config = DiscordConfig {
        enabled: true,
        token: Some(Secret::new(token)),
        api_server: Some(fake.api_server()),
        ..DiscordConfig::default()
    };
    goclaw_channels::discord::from_config(&config, reqwest::Client::new()).expect("enabled")
}

/// A bot receiving from a fresh fake.
struct Running {
    fake: FakeDiscord,
    channel: Arc<dyn Channel>,
    inbox: Arc<Inbox>,
    stop: CancellationToken,
    receiving: JoinHandle<Result<(), ChannelError>>,
}

impl Running {
    async fn start() -> Self {
        let fake = FakeDiscord::start(TOKEN).await.expect("fake");
        let channel = channel_for(&fake, TOKEN);
        let bot = channel.identify().await.expect("identified");
        let inbox = Arc::new(Inbox::default());
        let stop = CancellationToken::new();
        let receiving = tokio::spawn({
            let (channel, inbox, stop) = (channel.clone(), inbox.clone(), stop.clone());
            async move { channel.receive(&bot, inbox.as_ref(), stop).await }
        });
        Self {
            fake,
            channel,
            inbox,
            stop,
            receiving,
        }
    }

    async fn wait(&self, condition: impl Fn(&FakeDiscord) -> bool) {
        assert!(self.fake.wait_until(WAIT, condition).await, "timed out");
    }

    /// Stops receiving; it must end cleanly.
    async fn stop(self) -> FakeDiscord {
        self.stop.cancel();
        let ended = tokio::time::timeout(WAIT, self.receiving).await;
        assert!(
            matches!(ended, Ok(Ok(Ok(())))),
            "receive did not stop: {ended:?}"
        );
        self.fake
    }
}

fn texts(messages: &[IncomingMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

/// Fails when a message was stored twice.
fn assert_once_each(messages: &[IncomingMessage]) {
    let ids: HashSet<_> = messages.iter().map(|m| &m.platform_id).collect();
    assert_eq!(ids.len(), messages.len(), "duplicates: {messages:#?}");
}

#[test]
fn a_disabled_or_tokenless_configuration_runs_no_bot() {
    let build = |enabled: bool, token: Option<&str>| {
        let config = DiscordConfig {
            enabled,
            token: token.map(Secret::new),
            ..DiscordConfig::default()
        };
        goclaw_channels::discord::from_config(&config, reqwest::Client::new()).is_some()
    };
    assert!(build(true, Some("t")));
    assert!(!build(false, Some("t")));
    assert!(!build(true, None));
    assert!(!build(true, Some(" ")));
}

#[tokio::test]
async fn identify_names_the_bot_and_a_wrong_token_is_unauthorized() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    let bot = channel_for(&fake, TOKEN).identify().await;
    assert_eq!(
        bot,
        Ok(BotIdentity {
            id: BOT_ID.to_owned(),
            username: Some(BOT_USERNAME.to_owned())
        })
    );
    let channel = channel_for(&fake, "wrong-secret-token");
    let refused = channel.identify().await;
    assert!(
        matches!(&refused, Err(ChannelError::Unauthorized(_))),
        "{refused:?}"
    );
    assert!(!format!("{refused:?}").contains("wrong-secret-token"));
    let bot = BotIdentity {
        id: BOT_ID.to_owned(),
        username: None,
    };
    let received = tokio::time::timeout(
        WAIT,
        channel.receive(&bot, &Inbox::default(), CancellationToken::new()),
    )
    .await;
    assert!(
        matches!(received, Ok(Err(ChannelError::Unauthorized(_)))),
        "{received:?}"
    );
}

#[tokio::test]
async fn a_token_refused_by_the_gateway_stops_receiving() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    fake.refuse_identify(true);
    let channel = channel_for(&fake, TOKEN);
    let bot = channel.identify().await.expect("REST accepts the token");
    let received = tokio::time::timeout(
        WAIT,
        channel.receive(&bot, &Inbox::default(), CancellationToken::new()),
    )
    .await;
    assert!(
        matches!(&received, Ok(Err(ChannelError::Unauthorized(reason))) if reason.contains("4004") && !reason.contains(TOKEN)),
        "{received:?}"
    );
}

#[tokio::test]
async fn a_direct_message_and_a_guild_mention_arrive_normalized() {
    let bot = Running::start().await;
    let dm = bot.fake.direct_message("42", "hello there");
    bot.fake.guild_message("300", "43", "no mention here");
    let mention = bot
        .fake
        .guild_message("300", "43", &format!("<@{BOT_ID}> what's the time?"));
    let stored = bot.inbox.wait_for(3).await;
    assert_eq!(
        texts(&stored),
        ["hello there", "no mention here", "what's the time?"]
    );
    let (direct, quiet, addressed) = (&stored[0], &stored[1], &stored[2]);
    assert_eq!(
        (direct.platform_id.as_str(), direct.chat_id.as_str()),
        (dm.as_str(), "dm-42")
    );
    assert_eq!(direct.chat_kind, ChatKind::Direct);
    assert!(direct.mentioned);
    assert_eq!(direct.sender_id, "42");
    assert_eq!(direct.sender_username.as_deref(), Some("user42"));
    assert_eq!(direct.sender_name, "User 42");
    assert_eq!((quiet.chat_kind, quiet.mentioned), (ChatKind::Group, false));
    assert_eq!(addressed.message_id, mention);
    assert_eq!(
        (addressed.chat_id.as_str(), addressed.mentioned),
        ("300", true)
    );
    assert_eq!(bot.fake.identify_count(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_reply_goes_with_its_reference_and_buttons() {
    let bot = Running::start().await;
    let question = bot.fake.direct_message("42", "run it?");
    bot.inbox.wait_for(1).await;
    let chat = bot.channel.direct_chat("42").await.expect("DM channel");
    assert_eq!(chat, "dm-42");
    bot.channel.typing(&chat).await;
    let id = bot
        .channel
        .send(&OutgoingMessage {
            edit: None,
            media: None,
            chat_id: chat.clone(),
            text: "**Allow** `ls`?".to_owned(),
            markup: false,
            reply_to: Some(question.clone()),
            thread_id: None,
            buttons: vec![
                Button {
                    text: "Allow once".to_owned(),
                    data: "ap:o:r1".to_owned(),
                },
                Button {
                    text: "Deny".to_owned(),
                    data: "ap:d:r1".to_owned(),
                },
            ],
        })
        .await
        .expect("sent");
    let sent = bot.fake.sent_to("dm-42");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, id);
    assert_eq!(sent[0].content, "**Allow** `ls`?");
    assert_eq!(sent[0].reply_to.as_deref(), Some(question.as_str()));
    assert_eq!(
        sent[0].buttons,
        [
            ("Allow once".to_owned(), "ap:o:r1".to_owned()),
            ("Deny".to_owned(), "ap:d:r1".to_owned())
        ]
    );
    assert_eq!(bot.fake.typing_count(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn sends_refused_for_a_rate_limit_or_for_good_are_told_apart() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    let channel = channel_for(&fake, TOKEN);
    let message = |text: String| OutgoingMessage {
        edit: None,
        media: None,
        chat_id: "300".to_owned(),
        text,
        markup: false,
        reply_to: None,
        thread_id: None,
        buttons: Vec::new(),
    };
    fake.rate_limit_sends(1, 0.25);
    assert_eq!(
        channel.send(&message("hi".to_owned())).await,
        Err(SendError::Retryable {
            reason: "discord 429: You are being rate limited.".to_owned(),
            retry_after: Some(Duration::from_millis(250)),
        })
    );
    let too_long = channel.send(&message("x".repeat(2001))).await;
    assert!(
        matches!(&too_long, Err(SendError::Permanent(reason)) if reason.contains("Invalid Form Body")),
        "{too_long:?}"
    );
    assert!(channel.send(&message("hi".to_owned())).await.is_ok());
}

#[tokio::test]
async fn an_answer_streamed_in_place_edits_the_same_message() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    let channel = channel_for(&fake, TOKEN);
    let message = |text: &str, buttons: Vec<Button>| OutgoingMessage {
        edit: None,
        media: None,
        chat_id: "300".to_owned(),
        text: text.to_owned(),
        markup: false,
        reply_to: Some("299".to_owned()),
        thread_id: None,
        buttons,
    };
    let id = channel
        .send(&message("Thinking", Vec::new()))
        .await
        .expect("sent");
    channel
        .edit(&id, &message("The answer is", Vec::new()))
        .await
        .expect("first edit");
    let deny = Button {
        text: "Deny".to_owned(),
        data: "ap:d:r1".to_owned(),
    };
    channel
        .edit(&id, &message("The answer is 42.", vec![deny]))
        .await
        .expect("second edit");
    let sent = fake
        .wait_for_sent(WAIT, |sent| {
            sent.first()
                .is_some_and(|m| m.content == "The answer is 42.")
        })
        .await
        .expect("edited");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].id, id);
    assert_eq!(sent[0].channel_id, "300");
    assert_eq!(sent[0].reply_to.as_deref(), Some("299"));
    assert_eq!(sent[0].buttons, [("Deny".to_owned(), "ap:d:r1".to_owned())]);
    assert_eq!(
        fake.edits(),
        [
            (id.clone(), "The answer is".to_owned()),
            (id.clone(), "The answer is 42.".to_owned())
        ]
    );

    // An edit without buttons takes the old ones away.
    channel
        .edit(&id, &message("The answer is 42!", Vec::new()))
        .await
        .expect("third edit");
    assert_eq!(fake.sent()[0].buttons, []);

    let unknown = channel
        .edit("1", &message("nothing there", Vec::new()))
        .await;
    assert!(
        matches!(&unknown, Err(SendError::Permanent(reason)) if reason.contains("Unknown Message")),
        "{unknown:?}"
    );
    // A message of the bot, but in another channel, is not found there either.
    let mut elsewhere = message("moved", Vec::new());
    elsewhere.chat_id = "301".to_owned();
    assert!(matches!(
        channel.edit(&id, &elsewhere).await,
        Err(SendError::Permanent(_))
    ));
    let too_long = channel
        .edit(&id, &message(&"x".repeat(2001), Vec::new()))
        .await;
    assert!(
        matches!(&too_long, Err(SendError::Permanent(reason)) if reason.contains("Invalid Form Body")),
        "{too_long:?}"
    );
    assert_eq!(fake.sent()[0].content, "The answer is 42!");
    assert_eq!(fake.edits().len(), 3);
}

#[tokio::test]
async fn a_long_answer_goes_as_two_messages_within_the_limit() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    let channel = channel_for(&fake, TOKEN);
    let answer = "A sentence of the answer. ".repeat(100);
    assert_eq!(answer.chars().count(), 2600);
    let parts = channel.render(&answer);
    assert_eq!(parts.len(), 2);
    for part in parts {
        let sent = channel
            .send(&OutgoingMessage {
                edit: None,
                media: None,
                chat_id: "300".to_owned(),
                text: part,
                markup: true,
                reply_to: None,
                thread_id: None,
                buttons: Vec::new(),
            })
            .await;
        assert!(sent.is_ok(), "{sent:?}");
    }
    let sent = fake.sent_to("300");
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|m| m.content.chars().count() <= 2000));
}

#[tokio::test]
async fn a_press_arrives_and_its_acknowledgement_is_ephemeral() {
    let bot = Running::start().await;
    let interaction = bot.fake.press("300", "42", "ap:o:r1", true);
    let stored = bot.inbox.wait_for(1).await;
    let press = &stored[0];
    assert_eq!(press.platform_id, format!("press:{interaction}"));
    assert_eq!(
        (press.chat_id.as_str(), press.chat_kind, press.mentioned),
        ("300", ChatKind::Group, true)
    );
    assert_eq!(press.sender_id, "42");
    assert_eq!(
        press.press,
        Some(ButtonPress {
            id: format!("{interaction}:token-{interaction}:{BOT_ID}"),
            data: "ap:o:r1".to_owned()
        })
    );
    // Deferred as soon as it is stored (Discord waits three seconds for an answer).
    bot.wait(|fake| !fake.interaction_responses().is_empty())
        .await;
    let deferred = &bot.fake.interaction_responses()[0];
    assert_eq!(
        (
            deferred.interaction_id.as_str(),
            deferred.kind,
            deferred.followup
        ),
        (interaction.as_str(), 6, false)
    );
    let Some(pressed) = &press.press else {
        unreachable!("checked above")
    };
    // What the press did follows, to the presser only.
    bot.channel.acknowledge(pressed, "Allowed once").await;
    let responses = bot.fake.interaction_responses();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[1].interaction_id, interaction);
    assert_eq!(
        (
            responses[1].followup,
            responses[1].content.as_str(),
            responses[1].flags
        ),
        (true, "Allowed once", 64)
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_press_never_deferred_is_answered_directly() {
    // No bot receives here, so nothing defers the presses.
    let fake = FakeDiscord::start(TOKEN).await.expect("fake");
    let channel = channel_for(&fake, TOKEN);
    let with_application = fake.press("300", "42", "ap:o:r2", true);
    let without = fake.press("300", "42", "ap:o:r3", true);
    let press = |id: String, data: &str| ButtonPress {
        id,
        data: data.to_owned(),
    };
    // The follow-up is refused (nothing answered the interaction yet), so the answer is the
    // interaction's own message.
    channel
        .acknowledge(
            &press(
                format!("{with_application}:token-{with_application}:{BOT_ID}"),
                "ap:o:r2",
            ),
            "Allowed once",
        )
        .await;
    // A press stored without its application is answered directly too.
    channel
        .acknowledge(
            &press(format!("{without}:token-{without}"), "ap:o:r3"),
            "Denied",
        )
        .await;
    let answers: Vec<_> = fake
        .interaction_responses()
        .into_iter()
        .map(|r| (r.interaction_id, r.kind, r.followup, r.content, r.flags))
        .collect();
    assert_eq!(
        answers,
        [
            (with_application, 4, false, "Allowed once".to_owned(), 64),
            (without, 4, false, "Denied".to_owned(), 64),
        ]
    );
}

#[tokio::test]
async fn a_dropped_connection_is_resumed_and_loses_nothing() {
    let bot = Running::start().await;
    bot.fake.direct_message("42", "one");
    bot.inbox.wait_for(1).await;
    bot.fake.drop_connection();
    bot.fake.direct_message("42", "two");
    bot.fake.guild_message("300", "43", "three");
    let stored = bot.inbox.wait_for(3).await;
    assert_eq!(texts(&stored), ["one", "two", "three"]);
    bot.wait(|fake| fake.resume_count() >= 1).await;
    bot.fake.direct_message("42", "four");
    let stored = bot.inbox.wait_for(4).await;
    assert_eq!(texts(&stored), ["one", "two", "three", "four"]);
    assert_once_each(&stored);
    assert_eq!(
        bot.fake.identify_count(),
        1,
        "resumed, not identified again"
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_unreachable_resume_url_gives_way_to_the_main_gateway() {
    let bot = Running::start().await;
    bot.fake.direct_message("42", "one");
    bot.inbox.wait_for(1).await;
    // The next session is told to resume where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let dead = format!("ws://{}/gateway", closed.local_addr().expect("address"));
    drop(closed);
    bot.fake.advertise_resume_url(&dead);
    bot.fake.invalidate_session();
    bot.wait(|fake| fake.identify_count() >= 2).await;
    bot.fake.drop_connection();
    bot.fake.direct_message("42", "two");
    // After two refused connections to the resume URL (and the back-off of 2 s and 5 s), the
    // session resumes through the main gateway URL, and the message sent meanwhile arrives once.
    let stored = bot.inbox.wait_for_within(2, Duration::from_secs(30)).await;
    assert_eq!(texts(&stored), ["one", "two"]);
    assert_once_each(&stored);
    assert!(bot.fake.resume_count() >= 1);
    assert_eq!(
        bot.fake.identify_count(),
        2,
        "resumed, not identified again"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_zombie_connection_is_detected_and_resumed() {
    let bot = Running::start().await;
    bot.fake.direct_message("42", "before");
    bot.inbox.wait_for(1).await;
    bot.fake.stop_heartbeat_acks(true);
    bot.fake.direct_message("42", "during");
    bot.wait(|fake| fake.resume_count() >= 1).await;
    bot.fake.stop_heartbeat_acks(false);
    let stored = bot.inbox.wait_for(2).await;
    assert_eq!(texts(&stored), ["before", "during"]);
    bot.fake.direct_message("42", "after");
    let stored = bot.inbox.wait_for(3).await;
    assert_eq!(texts(&stored), ["before", "during", "after"]);
    assert_once_each(&stored);
    assert_eq!(bot.fake.identify_count(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn an_update_not_stored_is_replayed_after_resuming() {
    let bot = Running::start().await;
    bot.inbox.refuse.store(1, Ordering::SeqCst);
    bot.fake.direct_message("42", "first try fails");
    let stored = bot.inbox.wait_for(1).await;
    assert_eq!(texts(&stored), ["first try fails"]);
    assert!(bot.fake.resume_count() >= 1);
    bot.fake.direct_message("42", "next");
    let stored = bot.inbox.wait_for(2).await;
    assert_eq!(texts(&stored), ["first try fails", "next"]);
    assert_once_each(&stored);
    bot.stop().await;
}

#[tokio::test]
async fn asked_to_reconnect_the_bot_resumes_its_session() {
    let bot = Running::start().await;
    bot.fake.direct_message("42", "one");
    bot.inbox.wait_for(1).await;
    bot.fake.request_reconnect();
    bot.wait(|fake| fake.resume_count() >= 1).await;
    bot.fake.direct_message("42", "two");
    let stored = bot.inbox.wait_for(2).await;
    assert_eq!(texts(&stored), ["one", "two"]);
    assert_eq!(bot.fake.identify_count(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn an_invalid_session_is_followed_by_a_fresh_identify() {
    let bot = Running::start().await;
    bot.fake.direct_message("42", "one");
    bot.inbox.wait_for(1).await;
    bot.fake.invalidate_session();
    bot.fake.direct_message("42", "two");
    bot.wait(|fake| fake.identify_count() == 2).await;
    let stored = bot.inbox.wait_for(2).await;
    assert_eq!(texts(&stored), ["one", "two"]);
    assert_once_each(&stored);
    bot.stop().await;
}
