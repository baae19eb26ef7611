//! Discord events as the channel layer's messages (who is addressed, what text the agent
//! gets, what is not answered), the message bodies sent, and how refusals are retried.

use std::time::Duration;

use serde_json::json;

use super::*;

const BOT: &str = "900";

fn bot() -> BotIdentity {
    BotIdentity {
        id: BOT.to_owned(),
        username: Some("goclaw".to_owned()),
    }
}

/// A `MESSAGE_CREATE` payload by user 42, changed by `edit`.
fn event(edit: impl FnOnce(&mut Value)) -> Option<IncomingMessage> {
    let mut message = json!({
        "id": "1001",
        "channel_id": "77",
        "author": {"id": "42", "username": "ana", "global_name": "Ana Lima", "bot": false},
        "content": "hello",
        "type": 0,
        "mentions": [],
    });
    edit(&mut message);
    let message: api::Message = serde_json::from_value(message).expect("a message payload");
    normalize_message(message, &bot())
}

fn in_guild(text: &str) -> impl FnOnce(&mut Value) {
    let text = text.to_owned();
    move |m: &mut Value| {
        m["guild_id"] = json!("5");
        m["content"] = json!(text);
    }
}

/// `(mentioned, text)` of a guild message, `None` when not answered.
fn guild(text: &str, edit: impl FnOnce(&mut Value)) -> Option<(bool, String)> {
    event(|m| {
        in_guild(text)(m);
        edit(m);
    })
    .map(|message| (message.mentioned, message.text))
}

fn mention_of(id: &str) -> Value {
    json!([{"id": id, "username": "someone"}])
}

#[test]
fn a_direct_message_is_always_addressed() {
    let message = event(|_| {}).expect("answered");
    assert_eq!(message.platform_id, "1001");
    assert_eq!(message.message_id, "1001");
    assert_eq!(message.chat_id, "77");
    assert_eq!(message.chat_kind, ChatKind::Direct);
    assert!(message.mentioned);
    assert_eq!(message.text, "hello");
    assert_eq!(message.sender_id, "42");
    assert_eq!(message.sender_username.as_deref(), Some("ana"));
    assert_eq!(message.sender_name, "Ana Lima");
    assert_eq!(message.thread_id, None);
}

#[test]
fn in_guilds_only_a_mention_or_a_reply_to_the_bot_addresses_it() {
    let some = |text: &str| Some((true, text.to_owned()));
    let quiet = |text: &str| Some((false, text.to_owned()));
    assert_eq!(guild("just chatting", |_| {}), quiet("just chatting"));
    assert_eq!(
        guild("<@900> what's up", |m| m["mentions"] = mention_of(BOT)),
        some("what's up")
    );
    assert_eq!(
        guild("hey <@!900> hi", |m| m["mentions"] = mention_of(BOT)),
        some("hey  hi")
    );
    assert_eq!(
        guild("hey <@123>", |m| m["mentions"] = mention_of("123")),
        quiet("hey <@123>")
    );
    assert_eq!(
        guild("and this?", |m| {
            m["type"] = json!(19);
            m["message_reference"] = json!({"message_id": "990"});
            m["referenced_message"] = json!({
                "id": "990", "channel_id": "77", "content": "earlier answer",
                "author": {"id": BOT, "username": "goclaw", "bot": true},
            });
        }),
        some("and this?")
    );
    assert_eq!(
        guild("and that?", |m| {
            m["type"] = json!(19);
            m["referenced_message"] = json!({
                "id": "991", "channel_id": "77", "content": "someone else",
                "author": {"id": "7", "username": "bo"},
            });
        }),
        quiet("and that?")
    );
}

#[test]
fn bots_webhooks_system_and_empty_messages_are_not_answered() {
    assert_eq!(event(|m| m["author"]["bot"] = json!(true)), None);
    assert_eq!(event(|m| m["author"]["id"] = json!(BOT)), None);
    assert_eq!(event(|m| m["webhook_id"] = json!("3")), None);
    assert_eq!(event(|m| m["type"] = json!(7)), None);
    assert_eq!(event(|m| m["content"] = json!("  ")), None);
}

#[test]
fn a_guild_nickname_names_the_sender_before_the_display_name() {
    let named = |edit: fn(&mut Value)| event(edit).map(|m| m.sender_name);
    assert_eq!(named(|_| {}), Some("Ana Lima".to_owned()));
    assert_eq!(
        named(|m| m["member"] = json!({"nick": "Annie"})),
        Some("Annie".to_owned())
    );
    assert_eq!(
        named(|m| m["author"]["global_name"] = Value::Null),
        Some("ana".to_owned())
    );
}

#[test]
fn a_button_press_becomes_a_message_carrying_it() {
    let press = |edit: fn(&mut Value)| {
        let mut interaction = json!({
            "id": "555", "token": "tok", "type": 3, "channel_id": "77", "guild_id": "5",
            "member": {"user": {"id": "42", "username": "ana"}},
            "data": {"custom_id": "ap:o:r1", "component_type": 2},
            "message": {"id": "1002"},
        });
        edit(&mut interaction);
        normalize_interaction(serde_json::from_value(interaction).expect("an interaction"))
    };
    let message = press(|_| {}).expect("a press");
    assert_eq!(message.platform_id, "press:555");
    assert_eq!(message.message_id, "1002");
    assert_eq!(message.chat_kind, ChatKind::Group);
    assert_eq!(message.sender_id, "42");
    assert!(message.mentioned);
    assert_eq!(message.text, "");
    assert_eq!(
        message.press,
        Some(ButtonPress {
            id: "555:tok".to_owned(),
            data: "ap:o:r1".to_owned()
        })
    );
    let direct = press(|i| {
        i.as_object_mut().map(|i| i.remove("guild_id"));
        i.as_object_mut().map(|i| i.remove("member"));
        i["user"] = json!({"id": "43", "username": "bo"});
    })
    .expect("a press");
    assert_eq!(
        (direct.chat_kind, direct.sender_id.as_str()),
        (ChatKind::Direct, "43")
    );
    assert_eq!(press(|i| i["type"] = json!(2)), None, "a slash command");
    assert_eq!(press(|i| i["data"]["component_type"] = json!(3)), None);
}

#[test]
fn message_bodies_reply_and_carry_coloured_buttons() {
    let mut message = OutgoingMessage {
        edit: None,
        media: None,
        chat_id: "77".to_owned(),
        text: "answer".to_owned(),
        markup: true,
        reply_to: Some("1001".to_owned()),
        thread_id: None,
        buttons: ["ap:o:1", "ap:a:1", "ap:d:1", "other"]
            .iter()
            .map(|data| Button {
                text: data.to_uppercase(),
                data: (*data).to_owned(),
            })
            .collect(),
    };
    let body = message_body(&message);
    assert_eq!(body["content"], "answer");
    assert_eq!(
        body["message_reference"],
        json!({"message_id": "1001", "fail_if_not_exists": false})
    );
    assert_eq!(body["allowed_mentions"]["parse"], json!(["users"]));
    let row = &body["components"][0];
    assert_eq!(row["type"], 1);
    let styles: Vec<_> = row["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| (b["style"].as_u64(), b["custom_id"].as_str()))
        .collect();
    assert_eq!(
        styles,
        [
            (Some(3), Some("ap:o:1")),
            (Some(3), Some("ap:a:1")),
            (Some(4), Some("ap:d:1")),
            (Some(2), Some("other"))
        ]
    );
    message.reply_to = None;
    message.buttons.clear();
    let plain = message_body(&message);
    assert!(plain.get("message_reference").is_none());
    assert!(plain.get("components").is_none());
}

#[test]
fn edit_bodies_replace_the_buttons_and_reply_to_nothing() {
    let mut message = OutgoingMessage {
        edit: None,
        media: None,
        chat_id: "77".to_owned(),
        text: "answer, so far".to_owned(),
        markup: false,
        reply_to: Some("1001".to_owned()),
        thread_id: None,
        buttons: (0..7)
            .map(|n| Button {
                text: format!("B{n}"),
                data: format!("b:{n}"),
            })
            .collect(),
    };
    let body = edit_body(&message);
    assert_eq!(body["content"], "answer, so far");
    assert!(body.get("message_reference").is_none());
    assert_eq!(body["allowed_mentions"]["parse"], json!(["users"]));
    let rows: Vec<usize> = body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| row["components"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(rows, [5, 2]);
    assert_eq!(body["components"][1]["components"][1]["custom_id"], "b:6");
    message.buttons.clear();
    // Without buttons the old ones go.
    assert_eq!(edit_body(&message)["components"], json!([]));
}

#[test]
fn rate_limits_server_errors_and_the_network_are_retried_other_refusals_are_not() {
    let refused = |status: u16, retry: Option<f64>| ApiError::Refused {
        status,
        code: Some(0),
        message: "no".to_owned(),
        retry_after: retry.map(Duration::from_secs_f64),
    };
    // `Some(retry_after)` when worth another try, `None` when final.
    let retried = |error: ApiError| match send_error(error) {
        SendError::Retryable { retry_after, .. } => Some(retry_after),
        SendError::Permanent(_) => None,
    };
    let after = |secs: f64| Some(Some(Duration::from_secs_f64(secs)));
    assert_eq!(retried(refused(429, Some(1.5))), after(1.5));
    assert_eq!(retried(refused(502, None)), Some(None));
    assert_eq!(retried(ApiError::TimedOut), Some(None));
    assert_eq!(retried(ApiError::Transport("reset".to_owned())), Some(None));
    assert_eq!(retried(refused(400, None)), None);
    assert_eq!(retried(refused(403, None)), None);
    assert_eq!(
        send_error(refused(404, None)),
        SendError::Permanent("discord 404: no".to_owned())
    );
}

#[test]
fn rendering_cuts_at_discords_limit() {
    let channel = DiscordChannel::new(reqwest::Client::new(), "http://127.0.0.1:9", "secret");
    let parts = channel.render(&"word ".repeat(500));
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p.chars().count() <= TEXT_CHUNK));
    assert!(!format!("{channel:?}").contains("secret"));
}
