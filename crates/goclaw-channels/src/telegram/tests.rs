//! Telegram updates as the channel layer's messages: who is addressed in groups, what text
//! the agent gets, and what is not answered at all.

use serde_json::json;

use super::api::Update;
use super::*;

fn bot() -> BotIdentity {
    BotIdentity {
        id: "999".to_owned(),
        username: Some("GoclawBot".to_owned()),
    }
}

fn update(message: serde_json::Value) -> Update {
    serde_json::from_value(json!({"update_id": 10, "message": message})).expect("update")
}

fn group_message(text: &str, entities: serde_json::Value) -> serde_json::Value {
    json!({
        "message_id": 5,
        "from": {"id": 42, "is_bot": false, "first_name": "Ana", "username": "ana"},
        "chat": {"id": -100, "type": "supergroup", "title": "Team"},
        "text": text,
        "entities": entities,
    })
}

#[test]
fn a_direct_message_is_always_addressed() {
    let message = normalize(
        update(json!({
            "message_id": 7,
            "from": {"id": 42, "is_bot": false, "first_name": "Ana", "last_name": "Lima"},
            "chat": {"id": 42, "type": "private"},
            "text": "hello\nsecond line",
        })),
        &bot(),
    )
    .expect("answered");
    assert_eq!(message.platform_id, "42:7");
    assert_eq!(message.chat_kind, ChatKind::Direct);
    assert!(message.mentioned);
    assert_eq!(message.text, "hello\nsecond line");
    assert_eq!(message.sender_name, "Ana Lima");
}

#[test]
fn in_groups_only_a_mention_a_command_for_the_bot_or_a_reply_addresses_it() {
    let mention = normalize(
        update(group_message(
            "hey @goclawbot what's up",
            json!([{"type": "mention", "offset": 4, "length": 10}]),
        )),
        &bot(),
    )
    .expect("message");
    assert!(mention.mentioned);
    assert_eq!(mention.text, "hey  what's up");
    assert_eq!(mention.chat_kind, ChatKind::Group);

    let other = normalize(
        update(group_message(
            "hey @someone",
            json!([{"type": "mention", "offset": 4, "length": 8}]),
        )),
        &bot(),
    )
    .expect("message");
    assert!(!other.mentioned);

    // Offsets count UTF-16 units: an emoji before the mention takes two.
    let emoji = normalize(
        update(group_message(
            "🎉 @GoclawBot hi",
            json!([{"type": "mention", "offset": 3, "length": 10}]),
        )),
        &bot(),
    )
    .expect("message");
    assert!(emoji.mentioned);

    let command = normalize(
        update(group_message(
            "/status@GoclawBot",
            json!([{"type": "bot_command", "offset": 0, "length": 17}]),
        )),
        &bot(),
    )
    .expect("message");
    assert!(command.mentioned);
    assert_eq!(command.text, "/status");

    let mut reply = group_message("and this?", json!([]));
    reply["reply_to_message"] = json!({
        "message_id": 4,
        "from": {"id": 999, "is_bot": true, "first_name": "Bot"},
        "chat": {"id": -100, "type": "supergroup"},
        "text": "earlier answer",
    });
    assert!(normalize(update(reply), &bot()).expect("message").mentioned);

    let plain =
        normalize(update(group_message("just chatting", json!([]))), &bot()).expect("message");
    assert!(!plain.mentioned);
}

#[test]
fn bots_channel_posts_and_updates_without_text_are_not_answered() {
    let mut from_bot = group_message("hi", json!([]));
    from_bot["from"]["is_bot"] = json!(true);
    assert_eq!(normalize(update(from_bot), &bot()), None);
    let mut no_text = group_message("hi", json!([]));
    no_text.as_object_mut().map(|m| m.remove("text"));
    assert_eq!(normalize(update(no_text), &bot()), None);
    let post = json!({"update_id": 3});
    let post: Update = serde_json::from_value(post).expect("update");
    assert_eq!(normalize(post, &bot()), None);
}

#[test]
fn topic_messages_keep_their_thread() {
    let mut topic = group_message(
        "@GoclawBot hi",
        json!([{"type": "mention", "offset": 0, "length": 10}]),
    );
    topic["message_thread_id"] = json!(77);
    topic["is_topic_message"] = json!(true);
    let message = normalize(update(topic), &bot()).expect("message");
    assert_eq!(message.thread_id.as_deref(), Some("77"));
    // A reply thread in a group without topics is not a topic.
    let mut reply_thread = group_message("hi", json!([]));
    reply_thread["message_thread_id"] = json!(78);
    let message = normalize(update(reply_thread), &bot()).expect("message");
    assert_eq!(message.thread_id, None);
}
