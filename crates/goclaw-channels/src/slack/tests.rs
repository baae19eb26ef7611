//! Slack events as the channel layer's messages (who is addressed, which thread, what text,
//! what is not answered), the `chat.postMessage` bodies of replies, and how failures map.

use serde_json::{Value, json};

use super::api::ApiError;
use super::events::{normalize_event, normalize_press};
use super::*;
use crate::message::{ChatKind, IncomingMessage};

const BOT: &str = "UBOT";

fn bot() -> BotIdentity {
    BotIdentity {
        id: BOT.to_owned(),
        username: Some("goclaw".to_owned()),
    }
}

/// A `message` event in `channel` (`channel_type` as Slack sets it), with extra fields.
fn event(kind: &str, channel: &str, channel_type: Option<&str>, text: &str, extra: Value) -> Value {
    let mut event = json!({
        "type": kind, "channel": channel, "user": "U42", "text": text,
        "ts": "1700000000.000100", "event_ts": "1700000000.000100",
    });
    if let Some(channel_type) = channel_type {
        event["channel_type"] = json!(channel_type);
    }
    if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
        event.extend(extra.clone());
    }
    event
}

/// `(chat kind, mentioned, text, thread)` of the normalized event, or `None`.
fn summary(event: &Value) -> Option<(ChatKind, bool, String, Option<String>)> {
    normalize_event(event, &bot()).map(|m| (m.chat_kind, m.mentioned, m.text, m.thread_id))
}

#[track_caller]
fn check(event: Value, expected: Option<(ChatKind, bool, &str, Option<&str>)>) {
    let expected = expected.map(|(kind, mentioned, text, thread)| {
        (kind, mentioned, text.to_owned(), thread.map(str::to_owned))
    });
    assert_eq!(summary(&event), expected, "for {event}");
}

#[test]
fn who_is_addressed_and_where_the_answer_goes() {
    use ChatKind::{Direct, Group};
    let none = json!({});
    let thread = json!({"thread_ts": "1699999999.000001"});
    check(
        event("message", "D1", Some("im"), "hello", none.clone()),
        Some((Direct, true, "hello", None)),
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "just chatting",
            none.clone(),
        ),
        Some((Group, false, "just chatting", None)),
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "<@UBOT> what's up",
            none.clone(),
        ),
        Some((Group, true, "what's up", None)),
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "hey <@UOTHER>",
            none.clone(),
        ),
        Some((Group, false, "hey <@UOTHER>", None)),
    );
    check(
        event("message", "G1", Some("group"), "a <@UBOT> b", none.clone()),
        Some((Group, true, "a  b", None)),
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "<@UBOT> in thread",
            thread.clone(),
        ),
        Some((Group, true, "in thread", Some("1699999999.000001"))),
    );
    check(
        event("message", "D1", Some("im"), "dm thread", thread),
        Some((Direct, true, "dm thread", Some("1699999999.000001"))),
    );
    check(
        event("app_mention", "C1", None, "<@UBOT> hi", none.clone()),
        Some((Group, true, "hi", None)),
    );
    check(
        event("app_mention", "D1", None, "<@UBOT> hi", none.clone()),
        Some((Direct, true, "hi", None)),
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "also here",
            json!({"subtype": "thread_broadcast", "thread_ts": "1.2"}),
        ),
        Some((Group, false, "also here", Some("1.2"))),
    );
    check(
        event(
            "message",
            "D1",
            Some("im"),
            "a file",
            json!({"subtype": "file_share"}),
        ),
        Some((Direct, true, "a file", None)),
    );
}

#[test]
fn the_bot_other_bots_edits_and_other_events_are_not_answered() {
    let none = json!({});
    check(
        event("message", "D1", Some("im"), "mine", json!({"user": BOT})),
        None,
    );
    check(
        event(
            "message",
            "D1",
            Some("im"),
            "a bot",
            json!({"bot_id": "B9"}),
        ),
        None,
    );
    check(
        event(
            "message",
            "D1",
            Some("im"),
            "edited",
            json!({"subtype": "message_changed"}),
        ),
        None,
    );
    check(
        event(
            "message",
            "D1",
            Some("im"),
            "gone",
            json!({"subtype": "message_deleted"}),
        ),
        None,
    );
    check(
        event(
            "message",
            "C1",
            Some("channel"),
            "joined",
            json!({"subtype": "channel_join"}),
        ),
        None,
    );
    check(
        event("message", "D1", Some("im"), "<@UBOT>", none.clone()),
        None,
    );
    check(event("reaction_added", "C1", None, "", none.clone()), None);
    check(
        json!({"type": "message", "channel": "D1", "channel_type": "im", "ts": "1.1", "text": "no user"}),
        None,
    );
}

#[test]
fn the_message_and_app_mention_of_one_mention_are_one_update() {
    let message = event("message", "C1", Some("channel"), "<@UBOT> hi", json!({}));
    let mention = event("app_mention", "C1", None, "<@UBOT> hi", json!({}));
    let message = normalize_event(&message, &bot()).expect("message");
    let mention = normalize_event(&mention, &bot()).expect("mention");
    assert_eq!(message.platform_id, "C1:1700000000.000100");
    assert_eq!(message.platform_id, mention.platform_id);
    assert_eq!(message.message_id, "1700000000.000100");
    assert_eq!(message.chat_id, "C1");
}

#[test]
fn senders_are_named_from_their_profile_else_their_id() {
    let profile =
        json!({"user_profile": {"name": "ana", "display_name": "", "real_name": "Ana Lima"}});
    let named = normalize_event(&event("message", "D1", Some("im"), "hi", profile), &bot())
        .expect("message");
    assert_eq!(
        (
            named.sender_id.as_str(),
            named.sender_username.as_deref(),
            named.sender_name.as_str()
        ),
        ("U42", Some("ana"), "Ana Lima")
    );
    let bare = normalize_event(&event("message", "D1", Some("im"), "hi", json!({})), &bot())
        .expect("message");
    assert_eq!(
        (bare.sender_username.as_deref(), bare.sender_name.as_str()),
        (Some("U42"), "U42")
    );
}

fn press_payload(channel: &str, value: &str) -> Value {
    json!({
        "type": "block_actions",
        "user": {"id": "U42", "username": "ana", "name": "ana"},
        "trigger_id": "123.456.abc",
        "channel": {"id": channel, "name": "general"},
        "container": {"type": "message", "message_ts": "1700000000.000200", "channel_id": channel},
        "message": {"ts": "1700000000.000200", "thread_ts": "1700000000.000100"},
        "response_url": "https://hooks.slack.com/actions/T1/1/xyz",
        "actions": [{"type": "button", "action_id": "goclaw_0", "value": value, "action_ts": "1700000001.000001"}],
    })
}

#[test]
fn a_press_is_a_message_carrying_its_response_url_and_value() {
    let press = normalize_press(&press_payload("C1", "ap:o:7")).expect("press");
    let expected = IncomingMessage {
        platform_id: "press:1700000001.000001".to_owned(),
        message_id: "1700000000.000200".to_owned(),
        chat_id: "C1".to_owned(),
        chat_kind: ChatKind::Group,
        thread_id: Some("1700000000.000100".to_owned()),
        sender_id: "U42".to_owned(),
        sender_username: Some("ana".to_owned()),
        sender_name: "ana".to_owned(),
        text: String::new(),
        mentioned: true,
        press: Some(ButtonPress {
            id: "https://hooks.slack.com/actions/T1/1/xyz".to_owned(),
            data: "ap:o:7".to_owned(),
        }),
        media: Vec::new(),
    };
    assert_eq!(press, expected);
    let direct = normalize_press(&press_payload("D9", "x")).expect("press");
    assert_eq!(direct.chat_kind, ChatKind::Direct);
    let mut other = press_payload("C1", "x");
    other["type"] = json!("view_submission");
    assert_eq!(normalize_press(&other), None);
}

fn outgoing(
    chat: &str,
    text: &str,
    reply_to: Option<&str>,
    thread: Option<&str>,
) -> OutgoingMessage {
    OutgoingMessage {
        edit: None,
        media: None,
        chat_id: chat.to_owned(),
        text: text.to_owned(),
        markup: true,
        reply_to: reply_to.map(str::to_owned),
        thread_id: thread.map(str::to_owned),
        buttons: Vec::new(),
    }
}

#[test]
fn replies_go_in_the_thread_of_what_they_answer() {
    let thread_of = |m: &OutgoingMessage| {
        post_message_body(m)["thread_ts"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(
        thread_of(&outgoing("C1", "hi", Some("1.1"), None)),
        Some("1.1".to_owned())
    );
    assert_eq!(
        thread_of(&outgoing("C1", "hi", Some("1.2"), Some("1.1"))),
        Some("1.1".to_owned())
    );
    assert_eq!(thread_of(&outgoing("D1", "hi", None, None)), None);
    let mut plain = outgoing("D1", "a <b> & c", None, None);
    plain.markup = false;
    let body = post_message_body(&plain);
    assert_eq!(
        (body["text"].as_str(), body["mrkdwn"].as_bool()),
        (Some("a &lt;b&gt; &amp; c"), Some(false))
    );
}

#[test]
fn buttons_are_block_kit_actions_styled_by_their_data() {
    let mut message = outgoing("C1", "*Run* `ls`?", None, Some("1.1"));
    message.buttons = vec![
        Button {
            text: "Allow once".to_owned(),
            data: "ap:o:7".to_owned(),
        },
        Button {
            text: "Deny".to_owned(),
            data: "ap:d:7".to_owned(),
        },
        Button {
            text: "Other".to_owned(),
            data: "x".to_owned(),
        },
    ];
    let body = post_message_body(&message);
    assert_eq!(body["text"], "*Run* `ls`?");
    assert_eq!(
        body["blocks"][0],
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "*Run* `ls`?"}})
    );
    let elements = &body["blocks"][1]["elements"];
    assert_eq!(body["blocks"][1]["type"], "actions");
    assert_eq!(
        elements[0],
        json!({"type": "button", "text": {"type": "plain_text", "text": "Allow once"}, "value": "ap:o:7", "action_id": "goclaw_0", "style": "primary"})
    );
    assert_eq!(elements[1]["style"], "danger");
    assert_eq!(elements[2].get("style"), None);
    assert_eq!(elements[2]["action_id"], "goclaw_2");
}

#[test]
fn an_edit_replaces_text_and_blocks_of_the_message_outside_any_thread() {
    let mut plain = outgoing("C1", "a <b> & c", Some("1.2"), Some("1.1"));
    plain.markup = false;
    let body = update_body("1.5", &plain);
    assert_eq!(
        body,
        json!({"channel": "C1", "ts": "1.5", "text": "a &lt;b&gt; &amp; c", "mrkdwn": false, "blocks": []})
    );
    let mut with_buttons = outgoing("C1", "*Run* `ls`?", None, None);
    with_buttons.buttons = vec![Button {
        text: "Deny".to_owned(),
        data: "ap:d:7".to_owned(),
    }];
    let body = update_body("1.5", &with_buttons);
    assert_eq!(body["blocks"], post_message_body(&with_buttons)["blocks"]);
    assert_eq!(body["text"], "*Run* `ls`?");
    assert_eq!(body["mrkdwn"], true);
    assert_eq!(body.get("thread_ts"), None);
}

#[track_caller]
fn check_send_error(error: ApiError, expected: SendError) {
    assert_eq!(send_error(error), expected);
}

fn refused(error: &str) -> ApiError {
    ApiError::Refused {
        method: "chat.postMessage".to_owned(),
        error: error.to_owned(),
    }
}

fn retryable(reason: &str, secs: Option<u64>) -> SendError {
    SendError::Retryable {
        reason: reason.to_owned(),
        retry_after: secs.map(Duration::from_secs),
    }
}

#[test]
fn send_failures_are_retried_or_given_up_as_slack_means_them() {
    let limited = ApiError::RateLimited {
        method: "chat.postMessage".to_owned(),
        retry_after: Some(3),
    };
    check_send_error(
        limited,
        retryable("slack chat.postMessage: rate limited", Some(3)),
    );
    check_send_error(
        refused("ratelimited"),
        retryable("slack chat.postMessage: ratelimited", None),
    );
    check_send_error(
        refused("internal_error"),
        retryable("slack chat.postMessage: internal_error", None),
    );
    check_send_error(
        ApiError::Status {
            method: "chat.postMessage".to_owned(),
            status: 503,
        },
        retryable("slack chat.postMessage: HTTP 503", None),
    );
    check_send_error(
        ApiError::Transport("reset".to_owned()),
        retryable("slack unreachable: reset", None),
    );
    check_send_error(
        ApiError::TimedOut,
        retryable("slack did not answer in time", None),
    );
    for error in [
        "channel_not_found",
        "not_in_channel",
        "msg_too_long",
        "invalid_auth",
        "is_archived",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    ] {
        check_send_error(
            refused(error),
            SendError::Permanent(format!("slack chat.postMessage: {error}")),
        );
    }
    check_send_error(
        ApiError::Status {
            method: "chat.postMessage".to_owned(),
            status: 404,
        },
        SendError::Permanent("slack chat.postMessage: HTTP 404".to_owned()),
    );
}

#[test]
fn only_token_refusals_are_unauthorized() {
    for error in [
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
    ] {
        assert!(refused(error).is_unauthorized(), "{error}");
    }
    for error in ["channel_not_found", "ratelimited", "missing_scope"] {
        assert!(!refused(error).is_unauthorized(), "{error}");
    }
}

#[test]
fn response_urls_are_called_only_on_slack_or_the_configured_api() {
    let slack = SlackChannel::new(
        reqwest::Client::new(),
        "http://127.0.0.1:4000/api",
        "xoxb-1",
        "xapp-1",
    );
    let cases = [
        ("https://hooks.slack.com/actions/T/1/x", true),
        ("http://127.0.0.1:4000/response/1", true),
        ("http://hooks.slack.com/actions/T/1/x", false),
        ("http://127.0.0.1:4001/response/1", false),
        ("http://169.254.169.254/latest", false),
        ("https://hooks.slack.com.evil.example/x", false),
        ("not a url", false),
    ];
    for (url, trusted) in cases {
        assert_eq!(slack.trusts_response_url(url), trusted, "{url}");
    }
}

#[test]
fn answers_render_as_mrkdwn_within_the_limit() {
    let slack = SlackChannel::new(
        reqwest::Client::new(),
        "https://slack.com/api",
        "xoxb-1",
        "xapp-1",
    );
    assert_eq!(
        slack.render("**hi** [x](https://e.com)"),
        vec!["*hi* <https://e.com|x>".to_owned()]
    );
    let long = "word ".repeat(1200);
    let parts = slack.render(&long);
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p.chars().count() <= TEXT_CHUNK));
    assert_eq!((slack.kind(), slack.limits().text_chunk), ("slack", 4000));
}

#[test]
fn the_debug_form_hides_the_tokens() {
    let slack = SlackChannel::new(
        reqwest::Client::new(),
        "https://slack.com/api",
        "xoxb-secret",
        "xapp-secret",
    );
    let shown = format!("{slack:?}");
    assert!(!shown.contains("secret"), "{shown}");
}
