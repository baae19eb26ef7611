//! Who the bot answers: the channel's DM policy (`pairing`, `allowlist`, `open`, `disabled`),
//! its group policy (`open`, `allowlist`, `disabled`), `require_mention` in groups and
//! `allow_from` (sender ids or usernames, with or without `@`).

use goclaw_config::{DmPolicy, GroupPolicy};

use crate::message::{ChatKind, IncomingMessage};

/// A channel's access settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub dm: DmPolicy,
    pub group: GroupPolicy,
    pub require_mention: bool,
    pub allow_from: Vec<String>,
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run the agent.
    Answer,
    /// Answer if the sender is paired, else send a pairing code.
    AnswerIfPaired,
    /// Drop it (logged at debug with the reason).
    Ignore(&'static str),
}

impl AccessPolicy {
    /// Whether `allow_from` names the sender (by id, or by username in any case).
    pub fn allows(&self, message: &IncomingMessage) -> bool {
        let username = message.sender_username.as_deref().map(str::to_lowercase);
        self.allow_from.iter().any(|entry| {
            let entry = entry.trim();
            entry == message.sender_id
                || username
                    .as_deref()
                    .is_some_and(|u| entry.trim_start_matches('@').to_lowercase() == u)
        })
    }

    pub fn decide(&self, message: &IncomingMessage) -> Decision {
        match message.chat_kind {
            ChatKind::Direct => match self.dm {
                DmPolicy::Disabled => Decision::Ignore("direct messages are disabled"),
                DmPolicy::Open => Decision::Answer,
                DmPolicy::Allowlist if self.allows(message) => Decision::Answer,
                DmPolicy::Allowlist => Decision::Ignore("sender not in allow_from"),
                DmPolicy::Pairing if self.allows(message) => Decision::Answer,
                DmPolicy::Pairing => Decision::AnswerIfPaired,
            },
            ChatKind::Group => {
                match self.group {
                    GroupPolicy::Disabled => return Decision::Ignore("groups are disabled"),
                    GroupPolicy::Allowlist if !self.allows(message) => {
                        return Decision::Ignore("sender not in allow_from");
                    }
                    GroupPolicy::Allowlist | GroupPolicy::Open => {}
                }
                if self.require_mention && !message.mentioned {
                    Decision::Ignore("the bot was not mentioned")
                } else {
                    Decision::Answer
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: ChatKind, sender: &str, mentioned: bool) -> IncomingMessage {
        IncomingMessage {
            platform_id: "1:1".into(),
            message_id: "1".into(),
            chat_id: "1".into(),
            chat_kind: kind,
            thread_id: None,
            sender_id: sender.into(),
            sender_username: Some("Ana".into()),
            sender_name: "Ana".into(),
            text: "hi".into(),
            mentioned,
            press: None,
        }
    }

    fn policy(dm: DmPolicy, group: GroupPolicy, allow: &[&str]) -> AccessPolicy {
        AccessPolicy {
            dm,
            group,
            require_mention: true,
            allow_from: allow.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn direct_messages_follow_the_dm_policy() {
        let dm = message(ChatKind::Direct, "42", true);
        let decide = |p: DmPolicy, allow: &[&str]| policy(p, GroupPolicy::Open, allow).decide(&dm);
        assert_eq!(decide(DmPolicy::Pairing, &[]), Decision::AnswerIfPaired);
        assert_eq!(decide(DmPolicy::Pairing, &["42"]), Decision::Answer);
        assert_eq!(decide(DmPolicy::Open, &[]), Decision::Answer);
        assert!(matches!(
            decide(DmPolicy::Disabled, &["42"]),
            Decision::Ignore(_)
        ));
        assert!(matches!(
            decide(DmPolicy::Allowlist, &["43"]),
            Decision::Ignore(_)
        ));
        assert_eq!(decide(DmPolicy::Allowlist, &["@ana"]), Decision::Answer);
        assert_eq!(decide(DmPolicy::Allowlist, &["ANA"]), Decision::Answer);
    }

    #[test]
    fn groups_follow_the_group_policy_and_the_mention_rule() {
        let p = |g: GroupPolicy, allow: &[&str]| policy(DmPolicy::Pairing, g, allow);
        let mentioned = message(ChatKind::Group, "42", true);
        let unmentioned = message(ChatKind::Group, "42", false);
        assert_eq!(
            p(GroupPolicy::Open, &[]).decide(&mentioned),
            Decision::Answer
        );
        assert!(matches!(
            p(GroupPolicy::Open, &[]).decide(&unmentioned),
            Decision::Ignore(_)
        ));
        let mut relaxed = p(GroupPolicy::Open, &[]);
        relaxed.require_mention = false;
        assert_eq!(relaxed.decide(&unmentioned), Decision::Answer);
        assert!(matches!(
            p(GroupPolicy::Allowlist, &["7"]).decide(&mentioned),
            Decision::Ignore(_)
        ));
        assert_eq!(
            p(GroupPolicy::Allowlist, &["42"]).decide(&mentioned),
            Decision::Answer
        );
        assert!(matches!(
            p(GroupPolicy::Disabled, &["42"]).decide(&mentioned),
            Decision::Ignore(_)
        ));
    }
}
