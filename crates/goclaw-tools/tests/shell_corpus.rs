//! The exec guard against two command corpora: every line of `corpus/shell_denied.txt` must be
//! refused with GoClaw's default deny groups, every line of `corpus/shell_allowed.txt` let through.

use goclaw_tools::exec::{DenyGroups, screen};

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[test]
fn denied_corpus_is_refused() {
    let corpus = include_str!("corpus/shell_denied.txt");
    let groups = DenyGroups::default();
    let passed: Vec<&str> = lines(corpus)
        .filter(|l| screen(l, &groups).is_ok())
        .collect();
    assert!(
        lines(corpus).count() >= 80,
        "the denied corpus must hold at least 80 commands"
    );
    assert!(
        passed.is_empty(),
        "commands that should be denied: {passed:#?}"
    );
}

#[test]
fn allowed_corpus_runs() {
    let corpus = include_str!("corpus/shell_allowed.txt");
    let groups = DenyGroups::default();
    let refused: Vec<String> = lines(corpus)
        .filter_map(|l| screen(l, &groups).err().map(|e| format!("{l}: {e}")))
        .collect();
    assert!(
        lines(corpus).count() >= 40,
        "the allowed corpus must hold at least 40 commands"
    );
    assert!(
        refused.is_empty(),
        "commands that should be allowed: {refused:#?}"
    );
}
