//! Per-group overrides (`channels.telegram.groups`, as GoClaw): keyed by chat id, or `*` for
//! every group not listed, each may set `enabled`, `group_policy`, `require_mention` and
//! `allow_from`, and per forum topic (`topics.{id}`) the same again. The most specific setting
//! wins: the topic's, then the chat's, then `*`'s, then the channel's. Other keys GoClaw knows
//! there (`system_prompt`, `skills`, `tools`, `mention_mode`) are read and not applied.

use std::collections::BTreeMap;

use goclaw_config::GroupPolicy;
use serde::Deserialize;

/// One group's (or topic's) overrides; `None` keeps what the level above says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupOverride {
    /// `false` makes the bot ignore the group (or topic).
    pub enabled: Option<bool>,
    pub group_policy: Option<GroupPolicy>,
    pub require_mention: Option<bool>,
    #[serde(deserialize_with = "string_list")]
    pub allow_from: Option<Vec<String>>,
    pub topics: BTreeMap<String, GroupOverride>,
}

/// `allow_from` as strings, whether given as strings or numbers.
fn string_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let raw: Option<Vec<serde_json::Value>> = Option::deserialize(d)?;
    Ok(raw.map(|items| {
        items
            .into_iter()
            .filter_map(|item| match item {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    }))
}

/// What a group's settings come to, after its overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRules<'a> {
    pub enabled: bool,
    pub group_policy: GroupPolicy,
    pub require_mention: bool,
    pub allow_from: &'a [String],
}

/// The overrides of one channel, by chat id (and `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupOverrides(BTreeMap<String, GroupOverride>);

impl GroupOverrides {
    /// The overrides `groups` holds; an entry that does not read is skipped with a warning.
    pub fn parse(groups: &BTreeMap<String, serde_json::Value>) -> Self {
        let mut parsed = BTreeMap::new();
        for (chat, raw) in groups {
            match serde_json::from_value::<GroupOverride>(raw.clone()) {
                Ok(entry) => {
                    parsed.insert(chat.clone(), entry);
                }
                Err(error) => {
                    tracing::warn!(chat = %chat, error = %error, "a group override does not read; ignored");
                }
            }
        }
        Self(parsed)
    }

    /// The rules of `chat` (and `topic` in it), starting from the channel's `base`.
    pub fn rules<'a>(
        &'a self,
        chat: &str,
        topic: Option<&str>,
        base: GroupRules<'a>,
    ) -> GroupRules<'a> {
        let chat_entry = self.0.get(chat);
        let levels = [
            self.0.get("*"),
            chat_entry,
            topic.and_then(|t| chat_entry.and_then(|c| c.topics.get(t))),
        ];
        levels
            .into_iter()
            .flatten()
            .fold(base, |rules, entry| GroupRules {
                enabled: entry.enabled.unwrap_or(rules.enabled),
                group_policy: entry.group_policy.unwrap_or(rules.group_policy),
                require_mention: entry.require_mention.unwrap_or(rules.require_mention),
                allow_from: entry.allow_from.as_deref().unwrap_or(rules.allow_from),
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn overrides(value: serde_json::Value) -> GroupOverrides {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_value(value).expect("a map");
        GroupOverrides::parse(&map)
    }

    #[test]
    fn the_most_specific_level_wins() {
        let base_allow = vec!["1".to_owned()];
        let base = GroupRules {
            enabled: true,
            group_policy: GroupPolicy::Open,
            require_mention: true,
            allow_from: &base_allow,
        };
        let groups = overrides(json!({
            "*": {"require_mention": false},
            "-100": {"group_policy": "allowlist", "allow_from": [42, "@ana"],
                     "topics": {"7": {"require_mention": true, "enabled": true}}},
            "-200": {"enabled": false},
            "-300": {"group_policy": "sometimes"},
        }));
        let check = |chat: &str, topic: Option<&str>| {
            let r = groups.rules(chat, topic, base.clone());
            (
                r.enabled,
                r.group_policy,
                r.require_mention,
                r.allow_from.to_vec(),
            )
        };
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check("-999", None),
            (true, GroupPolicy::Open, false, strings(&["1"]))
        );
        assert_eq!(
            check("-100", None),
            (
                true,
                GroupPolicy::Allowlist,
                false,
                strings(&["42", "@ana"])
            )
        );
        assert_eq!(
            check("-100", Some("7")),
            (true, GroupPolicy::Allowlist, true, strings(&["42", "@ana"]))
        );
        assert_eq!(
            check("-100", Some("8")),
            (
                true,
                GroupPolicy::Allowlist,
                false,
                strings(&["42", "@ana"])
            )
        );
        assert_eq!(
            check("-200", None),
            (false, GroupPolicy::Open, false, strings(&["1"]))
        );
        // An entry that does not read is skipped: `*` still applies.
        assert_eq!(
            check("-300", None),
            (true, GroupPolicy::Open, false, strings(&["1"]))
        );
    }
}
