//! Exec approvals in the chat they concern: when a run of a channel session asks to run a
//! command, the request is posted to that chat with "Allow once", "Allow always" and "Deny"
//! buttons (through the outbox, once per request), and a press resolves it as
//! `exec.approval.approve`/`deny` would — if it comes from that chat and from the run's own
//! user (in a group: a sender listed in `allow_from`). Anyone else's press changes nothing.

use std::sync::Arc;

use goclaw_core::NewOutbound;
use goclaw_tools::exec::{ApprovalBroker, ApprovalDecision, ApprovalEvent, ApprovalRequest};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::dispatch::Dispatcher;
use crate::message::{Button, ButtonPress, ChatKind, IncomingMessage, OutgoingMessage};
use crate::route::chat_of;

/// The buttons' data: `ap:{o|a|d}:{request id}`.
const PREFIX: &str = "ap:";

fn decision_of(data: &str) -> Option<(ApprovalDecision, &str)> {
    let rest = data.strip_prefix(PREFIX)?;
    let (code, id) = rest.split_once(':')?;
    let decision = match code {
        "o" => ApprovalDecision::AllowOnce,
        "a" => ApprovalDecision::AllowAlways,
        "d" => ApprovalDecision::Deny,
        _ => return None,
    };
    Some((decision, id))
}

/// Whether a press carries an approval answer.
pub fn is_approval_press(press: &ButtonPress) -> bool {
    decision_of(&press.data).is_some()
}

/// Posts every approval request of a channel session to its chat, until `stop`;
/// `dispatchers` gives the instances running at the time.
pub async fn announce(
    broker: ApprovalBroker,
    dispatchers: impl Fn() -> Vec<Arc<Dispatcher>> + Send + 'static,
    stop: CancellationToken,
) {
    let mut events = broker.subscribe();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(ApprovalEvent::Requested(request)) => {
                let Some((channel, kind, chat, thread)) = chat_of(&request.session_key) else {
                    continue;
                };
                let Some(dispatcher) = dispatchers()
                    .into_iter()
                    .find(|d| d.name == channel && d.tenant == request.tenant_id)
                else {
                    continue;
                };
                // A direct session is keyed by its peer; the platform may give their chat an
                // id of its own.
                let chat = match kind {
                    ChatKind::Direct => match dispatcher.channel.direct_chat(&chat).await {
                        Ok(chat) => chat,
                        Err(error) => {
                            tracing::error!(channel = %dispatcher.name, approval_id = %request.id, error = %error, "finding the direct chat of an approval request failed");
                            continue;
                        }
                    },
                    ChatKind::Group => chat,
                };
                post_request(&dispatcher, &request, &chat, thread).await;
            }
            Ok(ApprovalEvent::Resolved { .. }) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "approval announcements fell behind");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn post_request(
    dispatcher: &Dispatcher,
    request: &ApprovalRequest,
    chat: &str,
    thread: Option<String>,
) {
    let markdown = format!(
        "🔐 The agent asks to run:\n```\n{}\n```\nAllow it?",
        request.command
    );
    let parts = dispatcher.channel.render(&markdown);
    let last = parts.len().saturating_sub(1);
    // In a group, under the message the run answers (Slack: in its thread).
    let asking = crate::dispatch::lock(&dispatcher.asking)
        .get(&request.run_id)
        .cloned();
    let buttons = vec![
        button("Allow once", "o", &request.id),
        button("Allow always", "a", &request.id),
        button("Deny", "d", &request.id),
    ];
    let replies: Vec<NewOutbound> = parts
        .into_iter()
        .enumerate()
        .map(|(n, text)| {
            let outgoing = OutgoingMessage {
                edit: None,
                media: None,
                chat_id: chat.to_owned(),
                text,
                markup: true,
                reply_to: asking.clone(),
                thread_id: thread.clone(),
                buttons: if n == last {
                    buttons.clone()
                } else {
                    Vec::new()
                },
            };
            NewOutbound {
                tenant_id: dispatcher.tenant,
                channel: dispatcher.name.clone(),
                chat_id: chat.to_owned(),
                dedup_key: format!("approval:{}:{n}", request.id),
                payload: serde_json::to_value(&outgoing).unwrap_or_default(),
            }
        })
        .collect();
    match dispatcher.store.channel_queue().enqueue(replies).await {
        Ok(()) => dispatcher.outbox.notify_one(),
        Err(error) => {
            tracing::error!(channel = %dispatcher.name, approval_id = %request.id, error = %error, "posting an approval request failed");
        }
    }
}

fn button(text: &str, code: &str, id: &str) -> Button {
    Button {
        text: text.to_owned(),
        data: format!("{PREFIX}{code}:{id}"),
    }
}

/// What a press of an approval button did, to tell the chat.
pub async fn resolve_press(
    dispatcher: &Dispatcher,
    broker: &ApprovalBroker,
    message: &IncomingMessage,
    press: &ButtonPress,
) -> Option<String> {
    let (decision, id) = decision_of(&press.data)?;
    let Some(request) = broker
        .list(dispatcher.tenant)
        .into_iter()
        .find(|r| r.id == id)
    else {
        dispatcher
            .channel
            .acknowledge(press, "This request is no longer waiting.")
            .await;
        return None;
    };
    // A direct session's key names its peer, a group session's the chat.
    let same_chat = chat_of(&request.session_key).is_some_and(|(channel, kind, chat, _)| {
        let here = match kind {
            ChatKind::Direct => &message.sender_id,
            ChatKind::Group => &message.chat_id,
        };
        channel == dispatcher.name && kind == message.chat_kind && chat == *here
    });
    let presser_may = match message.chat_kind {
        ChatKind::Direct => message.sender_id == request.user_id,
        ChatKind::Group => dispatcher.policy.allows(message),
    };
    if !same_chat || !presser_may {
        tracing::warn!(
            channel = %dispatcher.name,
            approval_id = %id,
            sender_id = %message.sender_id,
            "security.exec_approval_press_refused"
        );
        dispatcher
            .channel
            .acknowledge(press, "You may not answer this request.")
            .await;
        return None;
    }
    let by = format!("{}:{}", dispatcher.name, message.sender_id);
    if broker
        .resolve(dispatcher.tenant, id, decision, &by)
        .await
        .is_err()
    {
        dispatcher
            .channel
            .acknowledge(press, "This request is no longer waiting.")
            .await;
        return None;
    }
    let said = match decision {
        ApprovalDecision::AllowOnce => "Allowed once",
        ApprovalDecision::AllowAlways => "Allowed always",
        ApprovalDecision::Deny => "Denied",
    };
    dispatcher.channel.acknowledge(press, said).await;
    Some(format!("{said}: `{}`", request.command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_names_the_decision_and_request() {
        let id = "0193a5b0-7000-7000-8000-000000000001";
        for (code, decision) in [
            ("o", ApprovalDecision::AllowOnce),
            ("a", ApprovalDecision::AllowAlways),
            ("d", ApprovalDecision::Deny),
        ] {
            let data = button("x", code, id).data;
            assert!(data.len() <= 64, "Telegram's limit");
            assert_eq!(decision_of(&data), Some((decision, id)));
        }
        for other in ["", "ap:", "ap:x:1", "other:o:1", "ap:o"] {
            assert_eq!(decision_of(other), None, "{other:?}");
        }
    }
}
