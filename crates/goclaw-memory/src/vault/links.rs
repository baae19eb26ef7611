//! Wikilinks: `[[target]]` and `[[target|display]]` found in a markdown document (the display
//! text is ignored, an empty or blank target skipped), each with about 50 characters of text
//! around it; how a target is resolved to a document the linking document may see (its exact
//! path, then with `.md`, then — relative to the owner's directory — the same two, then any
//! document whose file name matches, case-insensitively, with or without `.md`; otherwise the
//! link is left out); and replacing a document's outgoing links with what its text says now.

use goclaw_core::{NewVaultLink, VaultDocument, VaultScope, VaultView};

use super::{Vault, VaultError};

/// Characters of context kept on each side of a link.
const CONTEXT_CHARS: usize = 25;

/// One `[[…]]` in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wikilink {
    /// The target, trimmed, without the display text.
    pub target: String,
    /// The link with about 25 characters on each side.
    pub context: String,
    /// Byte offset of the `[[` in the text.
    pub offset: usize,
}

/// Every wikilink in `text`, in order.
pub fn wikilinks(text: &str) -> Vec<Wikilink> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("[[").map(|i| i + from) {
        let inner_start = at + 2;
        let Some(close) = text[inner_start..].find("]]").map(|i| i + inner_start) else {
            break;
        };
        let inner = &text[inner_start..close];
        let (target, display) = match inner.split_once('|') {
            Some((target, display)) => (target, Some(display)),
            None => (inner, None),
        };
        let well_formed = !target.is_empty()
            && !inner.contains(']')
            && display.is_none_or(|d| !d.is_empty() && !d.contains('|'));
        if !well_formed {
            from = at + 1;
            continue;
        }
        let end = close + 2;
        let trimmed = target.trim();
        if !trimmed.is_empty() {
            found.push(Wikilink {
                target: trimmed.to_owned(),
                context: context(text, at, end),
                offset: at,
            });
        }
        from = end;
    }
    found
}

/// `text[start..end]` widened by [`CONTEXT_CHARS`] characters on each side.
fn context(text: &str, start: usize, end: usize) -> String {
    let before = text[..start]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let after = text[end..]
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(text.len(), |(i, _)| end + i);
    text[before..after].to_owned()
}

/// The paths a target may name, most specific first, and whether each is a file name.
fn candidates(target: &str, source: &VaultDocument) -> Vec<(String, bool)> {
    let target = target.trim_start_matches("./");
    let mut out = Vec::new();
    let mut with_and_without_md = |path: String, by_name: bool| {
        let suffixed = (!path.to_ascii_lowercase().ends_with(".md")).then(|| format!("{path}.md"));
        out.push((path, by_name));
        out.extend(suffixed.map(|p| (p, by_name)));
    };
    with_and_without_md(target.to_owned(), false);
    if source.scope == VaultScope::Personal
        && let Some((top, _)) = source.path.split_once('/')
    {
        with_and_without_md(format!("{top}/{target}"), false);
    }
    let name = target.rsplit('/').next().unwrap_or(target).to_lowercase();
    with_and_without_md(name, true);
    out
}

/// Whether a document linking from `source` may point at `target`: a personal document at
/// its own agent's documents and shared ones, anything else at shared ones.
fn may_link(source: &VaultDocument, target: &VaultDocument) -> bool {
    target.tenant_id == source.tenant_id
        && target.id != source.id
        && match target.scope {
            VaultScope::Shared => true,
            VaultScope::Personal => {
                source.scope == VaultScope::Personal && target.agent_id == source.agent_id
            }
            VaultScope::Team => {
                source.scope == VaultScope::Team && target.team_id == source.team_id
            }
            VaultScope::Custom => false,
        }
}

impl Vault {
    /// The document `target` names for a link from `source`, if any.
    pub async fn resolve(
        &self,
        source: &VaultDocument,
        target: &str,
    ) -> Result<Option<VaultDocument>, VaultError> {
        let view = match (source.scope, source.agent_id) {
            (VaultScope::Personal, Some(agent)) => VaultView::agent(source.tenant_id, agent),
            _ => VaultView::tenant(source.tenant_id),
        };
        for (path, by_basename) in candidates(target, source) {
            let found = self.store.vault().lookup(&view, &path, by_basename).await?;
            if let Some(doc) = found.into_iter().find(|d| may_link(source, d)) {
                return Ok(Some(doc));
            }
        }
        Ok(None)
    }

    /// Replaces `document`'s outgoing wikilinks with those `text` holds that resolve; how many.
    pub async fn sync_links(
        &self,
        document: &VaultDocument,
        text: &str,
    ) -> Result<usize, VaultError> {
        let mut links = Vec::new();
        for link in wikilinks(text) {
            if let Some(target) = self.resolve(document, &link.target).await? {
                links.push(NewVaultLink {
                    to_doc_id: target.id,
                    context: link.context,
                });
            }
        }
        let stored = self
            .store
            .vault()
            .replace_wikilinks(document.tenant_id, document.id, &links)
            .await?;
        Ok(stored.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[(&str, &str)]) {
        let found: Vec<(String, String)> = wikilinks(text)
            .into_iter()
            .map(|l| (l.target, l.context))
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(found, expected, "{text:?}");
    }

    #[test]
    fn wikilinks_are_parsed_like_goclaw() {
        check("see [[plan]] now", &[("plan", "see [[plan]] now")]);
        check(
            "[[a/b|the B]] and [[ c ]]",
            &[
                ("a/b", "[[a/b|the B]] and [[ c ]]"),
                ("c", "[[a/b|the B]] and [[ c ]]"),
            ],
        );
        check("[[]] [[   ]] [[|x]] [[a|]] [[a]b]]", &[]);
        check("no links [here] or [[unclosed", &[]);
        check("[[x]]", &[("x", "[[x]]")]);
        check(
            "ünïcødé ✨ [[naïve]] ✨",
            &[("naïve", "ünïcødé ✨ [[naïve]] ✨")],
        );
    }

    #[test]
    fn context_is_about_fifty_characters_around_the_link() {
        let text = format!("{}[[target]]{}", "a".repeat(40), "b".repeat(40));
        let links = wikilinks(&text);
        assert_eq!(
            links[0].context,
            format!("{}[[target]]{}", "a".repeat(25), "b".repeat(25))
        );
        assert_eq!(links[0].offset, 40);
    }

    #[test]
    fn candidates_go_from_exact_to_file_name() {
        let source = VaultDocument {
            id: uuid::Uuid::nil(),
            tenant_id: goclaw_core::MASTER_TENANT_ID,
            agent_id: Some(goclaw_core::AgentId::generate()),
            team_id: None,
            scope: VaultScope::Personal,
            path: "keeper/index.md".to_owned(),
            title: "index".to_owned(),
            doc_type: "note".to_owned(),
            content_hash: String::new(),
            summary: String::new(),
            metadata: serde_json::json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let paths = |t: &str| -> Vec<(String, bool)> { candidates(t, &source) };
        let own = |p: &str, b: bool| (p.to_owned(), b);
        assert_eq!(
            paths("notes/Plan"),
            [
                own("notes/Plan", false),
                own("notes/Plan.md", false),
                own("keeper/notes/Plan", false),
                own("keeper/notes/Plan.md", false),
                own("plan", true),
                own("plan.md", true),
            ]
        );
        assert_eq!(
            paths("plan.md"),
            [
                own("plan.md", false),
                own("keeper/plan.md", false),
                own("plan.md", true),
            ]
        );
    }
}
