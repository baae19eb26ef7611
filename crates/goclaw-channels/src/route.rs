//! Where a channel message goes: which agent (the first matching `bindings[]` entry, else the
//! default agent), which session (GoClaw's keys: `agent:{agent}:{channel}:direct:{peer}`,
//! `…:group:{chat}`, `…:group:{chat}:topic:{topic}`) and as which user (the sender in a direct
//! chat; `group:{channel}:{chat}` in a group, whose members share its session).

use goclaw_config::AgentBinding;
use goclaw_core::{AgentKey, ParseError, SessionKey};

use crate::message::{ChatKind, IncomingMessage};

/// A message's agent, session and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub agent: AgentKey,
    pub session_key: SessionKey,
    pub user_id: String,
}

/// The agent `bindings` give a message on `channel`, if any binds it.
pub fn bound_agent<'a>(
    bindings: &'a [AgentBinding],
    channel: &str,
    message: &IncomingMessage,
) -> Option<&'a str> {
    let kind = match message.chat_kind {
        ChatKind::Direct => "direct",
        ChatKind::Group => "group",
    };
    let matches = |binding: &AgentBinding| {
        let rule = &binding.match_;
        rule.channel == channel
            && rule.peer.as_ref().is_none_or(|peer| {
                (peer.kind.is_empty() || peer.kind == kind) && peer.id == message.chat_id
            })
    };
    // A binding naming the chat wins over one for the whole channel.
    bindings
        .iter()
        .filter(|b| b.match_.peer.is_some())
        .chain(bindings.iter().filter(|b| b.match_.peer.is_none()))
        .find(|b| matches(b))
        .map(|b| b.agent_id.as_str())
}

/// The session and user of `message` for `agent` on `channel`.
pub fn route(
    agent: AgentKey,
    channel: &str,
    message: &IncomingMessage,
) -> Result<Route, ParseError> {
    let (key, user_id) = match message.chat_kind {
        ChatKind::Direct => (
            format!("agent:{agent}:{channel}:direct:{}", message.sender_id),
            message.sender_id.clone(),
        ),
        ChatKind::Group => {
            let mut key = format!("agent:{agent}:{channel}:group:{}", message.chat_id);
            if let Some(topic) = &message.thread_id {
                key.push_str(&format!(":topic:{topic}"));
            }
            (key, format!("group:{channel}:{}", message.chat_id))
        }
    };
    Ok(Route {
        session_key: SessionKey::parse(&key)?,
        agent,
        user_id,
    })
}

/// Where a session of a channel lives: the channel, and the chat (with its topic) — read back
/// from a key [`route`] made. `None` for any other key.
pub fn chat_of(session_key: &str) -> Option<(String, ChatKind, String, Option<String>)> {
    let parts: Vec<&str> = session_key.split(':').collect();
    match parts.as_slice() {
        ["agent", _, channel, "direct", peer] => Some((
            (*channel).to_owned(),
            ChatKind::Direct,
            (*peer).to_owned(),
            None,
        )),
        ["agent", _, channel, "group", chat] => Some((
            (*channel).to_owned(),
            ChatKind::Group,
            (*chat).to_owned(),
            None,
        )),
        ["agent", _, channel, "group", chat, "topic", topic] => Some((
            (*channel).to_owned(),
            ChatKind::Group,
            (*chat).to_owned(),
            Some((*topic).to_owned()),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use goclaw_config::{BindingMatch, BindingPeer};

    use super::*;

    fn message(kind: ChatKind, chat: &str, thread: Option<&str>) -> IncomingMessage {
        IncomingMessage {
            platform_id: "x".into(),
            message_id: "1".into(),
            chat_id: chat.into(),
            chat_kind: kind,
            thread_id: thread.map(str::to_owned),
            sender_id: "42".into(),
            sender_username: None,
            sender_name: "Ana".into(),
            text: "hi".into(),
            mentioned: true,
            press: None,
            media: Vec::new(),
        }
    }

    fn agent() -> AgentKey {
        AgentKey::parse("default").expect("key")
    }

    #[test]
    fn keys_follow_goclaw_shapes() {
        let direct =
            route(agent(), "telegram", &message(ChatKind::Direct, "42", None)).expect("route");
        assert_eq!(
            direct.session_key.as_str(),
            "agent:default:telegram:direct:42"
        );
        assert_eq!(direct.user_id, "42");
        let group =
            route(agent(), "telegram", &message(ChatKind::Group, "-100", None)).expect("route");
        assert_eq!(
            group.session_key.as_str(),
            "agent:default:telegram:group:-100"
        );
        assert_eq!(group.user_id, "group:telegram:-100");
        let topic = route(
            agent(),
            "telegram",
            &message(ChatKind::Group, "-100", Some("7")),
        )
        .expect("route");
        assert_eq!(
            topic.session_key.as_str(),
            "agent:default:telegram:group:-100:topic:7"
        );
    }

    #[test]
    fn a_binding_for_the_chat_wins_over_one_for_the_channel() {
        let binding = |agent: &str, channel: &str, peer: Option<(&str, &str)>| AgentBinding {
            agent_id: agent.into(),
            match_: BindingMatch {
                channel: channel.into(),
                peer: peer.map(|(kind, id)| BindingPeer {
                    kind: kind.into(),
                    id: id.into(),
                }),
                ..Default::default()
            },
        };
        let bindings = [
            binding("everyone", "telegram", None),
            binding("team", "telegram", Some(("group", "-100"))),
            binding("other", "discord", None),
        ];
        let group = message(ChatKind::Group, "-100", None);
        assert_eq!(bound_agent(&bindings, "telegram", &group), Some("team"));
        let dm = message(ChatKind::Direct, "42", None);
        assert_eq!(bound_agent(&bindings, "telegram", &dm), Some("everyone"));
        assert_eq!(bound_agent(&bindings, "slack", &dm), None);
    }

    #[test]
    fn chats_are_read_back_from_the_keys_routes_make() {
        for (kind, chat, thread) in [
            (ChatKind::Direct, "42", None),
            (ChatKind::Group, "-100", None),
            (ChatKind::Group, "-100", Some("7")),
        ] {
            let message = message(kind, chat, thread);
            let agent = AgentKey::parse("default").expect("key");
            let route = route(agent, "telegram", &message).expect("route");
            let expected_chat = if kind == ChatKind::Direct { "42" } else { chat };
            assert_eq!(
                chat_of(route.session_key.as_str()),
                Some((
                    "telegram".to_owned(),
                    kind,
                    expected_chat.to_owned(),
                    thread.map(str::to_owned)
                ))
            );
        }
        for other in [
            "agent:a:http:alice",
            "agent:a:ws:direct",
            "webhook:x:y:z",
            "",
        ] {
            assert_eq!(chat_of(other), None, "{other}");
        }
    }
}
