//! Who the bot answers: the channel's DM policy (`pairing`, `allowlist`, `open`, `disabled`),
//! its group policy (`open`, `allowlist`, `disabled`), `require_mention` in groups and
//! `allow_from` (sender ids or usernames, with or without `@`) — in a group, as its overrides
//! (`groups`, see [`crate::groups`]) change them.

use goclaw_config::{DmPolicy, GroupPolicy};

use crate::groups::{GroupOverrides, GroupRules};
use crate::message::{ChatKind, IncomingMessage};

/// A channel's access settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub dm: DmPolicy,
    pub group: GroupPolicy,
    pub require_mention: bool,
    pub allow_from: Vec<String>,
    /// Per-group and per-topic overrides.
    pub groups: GroupOverrides,
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
    /// Whether `allow_from` (in a group: the group's) names the sender (by id, or by username
    /// in any case).
    pub fn allows(&self, message: &IncomingMessage) -> bool {
        let allow_from = match message.chat_kind {
            ChatKind::Direct => self.allow_from.as_slice(),
            ChatKind::Group => self.group_rules(message).allow_from,
        };
        listed(allow_from, message)
    }

    /// The rules of the group `message` was written in.
    pub fn group_rules(&self, message: &IncomingMessage) -> GroupRules<'_> {
        let base = GroupRules {
            enabled: true,
            group_policy: self.group,
            require_mention: self.require_mention,
            allow_from: &self.allow_from,
        };
        self.groups
            .rules(&message.chat_id, message.thread_id.as_deref(), base)
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
                let rules = self.group_rules(message);
                if !rules.enabled {
                    return Decision::Ignore("the bot is disabled in this group");
                }
                match rules.group_policy {
                    GroupPolicy::Disabled => return Decision::Ignore("groups are disabled"),
                    GroupPolicy::Allowlist if !listed(rules.allow_from, message) => {
                        return Decision::Ignore("sender not in allow_from");
                    }
                    GroupPolicy::Allowlist | GroupPolicy::Open => {}
                }
                if rules.require_mention && !message.mentioned {
                    Decision::Ignore("the bot was not mentioned")
                } else {
                    Decision::Answer
                }
            }
        }
    }
}

/// Whether `allow_from` names the sender of `message`.
fn listed(allow_from: &[String], message: &IncomingMessage) -> bool {
    let username = message.sender_username.as_deref().map(str::to_lowercase);
    allow_from.iter().any(|entry| {
        let entry = entry.trim();
        entry == message.sender_id
            || username
                .as_deref()
                .is_some_and(|u| entry.trim_start_matches('@').to_lowercase() == u)
    })
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
            media: Vec::new(),
        }
    }

    fn policy(dm: DmPolicy, group: GroupPolicy, allow: &[&str]) -> AccessPolicy {
        AccessPolicy {
            dm,
            group,
            require_mention: true,
            allow_from: allow.iter().map(|s| (*s).to_owned()).collect(),
            groups: GroupOverrides::default(),
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

    #[test]
    fn group_overrides_change_the_rules_of_their_group_only() {
        let mut p = policy(DmPolicy::Pairing, GroupPolicy::Open, &[]);
        let groups: std::collections::BTreeMap<String, serde_json::Value> = serde_json::from_value(
            serde_json::json!({"1": {"require_mention": false}, "2": {"enabled": false}}),
        )
        .expect("overrides");
        p.groups = GroupOverrides::parse(&groups);
        let in_chat = |chat: &str| {
            let mut m = message(ChatKind::Group, "42", false);
            m.chat_id = chat.into();
            m
        };
        assert_eq!(p.decide(&in_chat("1")), Decision::Answer);
        assert!(matches!(p.decide(&in_chat("3")), Decision::Ignore(_)));
        let mut mentioned = in_chat("2");
        mentioned.mentioned = true;
        assert_eq!(
            p.decide(&mentioned),
            Decision::Ignore("the bot is disabled in this group")
        );
    }
}
