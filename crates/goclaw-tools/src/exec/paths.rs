//! Paths as the shell will open them: lexical normalization (`//`, `/./`, `..`), resolution
//! against a directory entered with `cd` earlier in the line, and matching of sensitive host
//! paths (`/proc/*/environ`, `/etc/shadow`, …) that treats globs (`*`, `?`, `[…]`) and
//! unknown variables (`$PPID`) in the word as matching whatever they could expand to.

/// Where relative paths of a command start from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WorkDir {
    /// The workspace the command starts in (its location is not known here).
    #[default]
    Workspace,
    /// A directory entered with `cd`: absolute, possibly with unknown (`$…`) segments.
    Entered(String),
}

/// The segment standing for a directory whose name is not known before running.
pub const UNKNOWN_DIR: &str = "$?";

/// The absolute form of `word` opened from `cwd`, if it can leave the workspace; `None` for a
/// path that stays inside the workspace.
pub fn resolve(word: &str, cwd: &WorkDir) -> Option<String> {
    if word.is_empty() {
        return None;
    }
    let mut word = match word.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{UNKNOWN_DIR}{rest}"),
        _ => word.to_owned(),
    };
    // Kernel symlinks into `/proc/self`, so that `..` after them goes where the kernel goes.
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        if let Some(rest) = word.strip_prefix(link)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            word = format!("{target}{rest}");
        }
    }
    if word.starts_with('/') || word.starts_with('$') {
        return Some(normalize(&word));
    }
    match cwd {
        WorkDir::Entered(dir) => Some(normalize(&format!("{dir}/{word}"))),
        WorkDir::Workspace => {
            let relative = normalize(&format!("/{word}"));
            // Only a path climbing out of the workspace can reach the host.
            let climbs = normalize_segments(&word).first().is_some_and(|s| s == "..");
            climbs.then(|| normalize(&format!("/{UNKNOWN_DIR}{relative}")))
        }
    }
}

/// `path` without empty and `.` segments, with `..` applied lexically; a `..` after a segment
/// of unknown length (`$X`) is kept unknown.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let segments = normalize_segments(path);
    let joined = segments.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn normalize_segments(path: &str) -> Vec<String> {
    let absolute = path.starts_with('/');
    let mut out: Vec<String> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => match out.last() {
                Some(last) if last.contains('$') => {}
                Some(last) if last != ".." => {
                    out.pop();
                }
                _ if absolute => {}
                _ => out.push("..".to_owned()),
            },
            s => out.push(s.to_owned()),
        }
    }
    out
}

/// Whether the (normalized, absolute) `word` may name `sensitive`, a path whose `*` segments
/// stand for any one name (a process id, `self`) and whose final `**` for anything below.
pub fn may_name(word: &str, sensitive: &str) -> bool {
    let word: Vec<&str> = word.split('/').filter(|s| !s.is_empty()).collect();
    let target: Vec<&str> = sensitive.split('/').filter(|s| !s.is_empty()).collect();
    // A word that starts with an unknown (`$DIR/x`, `${HOME}/x`) could name anything; it is
    // judged only when its last name is written out and names the sensitive file itself.
    let anchored = match (word.first(), word.last(), target.last()) {
        (Some(first), _, _) if !is_unknown(first) => true,
        (_, Some(last), Some(t)) => !is_unknown(last) && *t != "*" && *t != "**" && glob(last, t),
        _ => false,
    };
    anchored && segments_match(&word, &target)
}

fn is_unknown(segment: &str) -> bool {
    segment.contains('$') || segment.contains('`')
}

fn segments_match(word: &[&str], target: &[&str]) -> bool {
    // matches[i][j]: word[i..] may name target[j..]. Bottom-up, so an attacker's word with many
    // unknowns costs |word|·|target|², never an exponential search.
    let (w, t) = (word.len(), target.len());
    let mut matches = vec![vec![false; t + 1]; w + 1];
    for i in (0..=w).rev() {
        for j in (0..=t).rev() {
            matches[i][j] = if target.get(j) == Some(&"**") {
                true
            } else if i == w {
                j == t
            } else if is_unknown(word[i]) {
                // An unknown value may hold slashes (or nothing): it stands for any segments.
                (j..=t).any(|k| matches[i + 1][k])
            } else {
                j < t && (target[j] == "*" || glob(word[i], target[j])) && matches[i + 1][j + 1]
            };
        }
    }
    matches[0][0]
}

/// One element of a segment pattern.
enum Glob {
    Any,
    One,
    Class(Vec<char>),
    Char(char),
}

/// Shell pattern matching of one path segment: `*`, `?` and bracket classes.
pub fn glob(pattern: &str, text: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        tokens.push(match c {
            '*' => Glob::Any,
            '?' => Glob::One,
            '[' => match class_end(&chars[i..]) {
                Some(end) => {
                    let body = chars[i..i + end].to_vec();
                    i += end + 1;
                    Glob::Class(body)
                }
                None => Glob::Char('['),
            },
            c => Glob::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // matches[k][j]: tokens[k..] match text[j..], filled bottom-up.
    let (p, t) = (tokens.len(), text.len());
    let mut matches = vec![vec![false; t + 1]; p + 1];
    matches[p][t] = true;
    for k in (0..p).rev() {
        for j in (0..=t).rev() {
            let here = text.get(j);
            matches[k][j] = match &tokens[k] {
                Glob::Any => matches[k + 1][j] || (j < t && matches[k][j + 1]),
                Glob::One => here.is_some() && matches[k + 1][j + 1],
                Glob::Class(body) => {
                    here.is_some_and(|c| in_class(body, *c)) && matches[k + 1][j + 1]
                }
                Glob::Char(c) => here == Some(c) && matches[k + 1][j + 1],
            };
        }
    }
    matches[0][0]
}

/// Index of the `]` closing a bracket class whose body starts at `body[0]`.
fn class_end(body: &[char]) -> Option<usize> {
    let start = usize::from(matches!(body.first(), Some('!' | '^')));
    let first_literal = usize::from(body.get(start) == Some(&']'));
    (start + first_literal..body.len()).find(|&i| body[i] == ']')
}

fn in_class(body: &[char], c: char) -> bool {
    let (negated, body) = match body.split_first() {
        Some(('!' | '^', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while let Some(&start) = body.get(i) {
        if body.get(i + 1) == Some(&'-')
            && let Some(&end) = body.get(i + 2)
        {
            hit |= (start..=end).contains(&c);
            i += 3;
        } else {
            hit |= start == c;
            i += 1;
        }
    }
    hit != negated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_the_kernel() {
        for (raw, expected) in [
            ("/etc//shadow", "/etc/shadow"),
            ("/etc/./shadow", "/etc/shadow"),
            ("/etc/x/../shadow", "/etc/shadow"),
            ("/../../etc/shadow", "/etc/shadow"),
            ("/proc/$X/../environ", "/proc/$X/environ"),
            ("a/../../b", "../b"),
        ] {
            assert_eq!(normalize(raw), expected, "{raw}");
        }
        assert_eq!(
            resolve("/dev/fd/../environ", &WorkDir::Workspace).as_deref(),
            Some("/proc/self/environ")
        );
    }

    #[test]
    fn resolves_against_the_working_directory() {
        let etc = WorkDir::Entered("/etc".into());
        assert_eq!(resolve("shadow", &etc).as_deref(), Some("/etc/shadow"));
        assert_eq!(resolve("./shadow", &etc).as_deref(), Some("/etc/shadow"));
        assert_eq!(resolve("notes.txt", &WorkDir::Workspace), None);
        assert_eq!(
            resolve("../../etc/shadow", &WorkDir::Workspace).as_deref(),
            Some("/$?/etc/shadow")
        );
    }

    #[test]
    fn globs_and_unknown_segments_may_name_a_sensitive_path() {
        let environ = "/proc/*/environ";
        for word in [
            "/proc/1/environ",
            "/proc/self/environ",
            "/proc/*/environ",
            "/proc/1/envir?n",
            "/proc/[0-9]/env*",
            "/pr?c/$PPID/environ",
            "/$?/environ",
        ] {
            assert!(may_name(word, environ), "{word}");
        }
        for word in [
            "/proc/1/status",
            "/home/x/environ.txt",
            "$FILE",
            "/$X",
            "${HOME}/x",
        ] {
            assert!(!may_name(word, environ), "{word}");
        }
        assert!(may_name("/etc/[s]hadow", "/etc/shadow"));
        assert!(may_name("/proc/1/root", "/proc/*/root/**"));
        assert!(may_name("/proc/1/r?ot/etc/x", "/proc/*/root/**"));
        assert!(!may_name("/proc/1/rootx", "/proc/*/root/**"));
        // Hostile shapes stay cheap.
        let stars = format!("/proc/1/{}x", "*".repeat(5000));
        assert!(!may_name(&stars, environ));
        let unknowns = format!("/proc{}/x", "/$X/y".repeat(2000));
        assert!(!may_name(&unknowns, environ));
        assert!(!may_name("/etc/[!s]hadow", "/etc/shadow"));
    }
}
