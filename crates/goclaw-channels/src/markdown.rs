//! The pieces of Markdown's inline syntax every platform's renderer reads the same way:
//! which emphasis a marker opens (`**`/`__` bold, `~~` struck, `*`/`_` italic — only when
//! text follows it, so `2 * 3` stays text), where a marker closes, and `[label](url)` links,
//! kept only for the schemes a platform allows (never `javascript:`).

/// An emphasis a marker opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    Bold,
    Struck,
    Italic,
}

/// The emphasis opening at the start of `rest`, and its marker.
pub fn emphasis(rest: &[char]) -> Option<(Emphasis, &'static [char])> {
    const MARKERS: [(&[char], Emphasis); 5] = [
        (&['*', '*'], Emphasis::Bold),
        (&['_', '_'], Emphasis::Bold),
        (&['~', '~'], Emphasis::Struck),
        (&['*'], Emphasis::Italic),
        (&['_'], Emphasis::Italic),
    ];
    MARKERS.into_iter().find_map(|(marker, kind)| {
        let text_follows = rest.get(marker.len()).is_some_and(|c| !c.is_whitespace());
        (rest.starts_with(marker) && text_follows).then_some((kind, marker))
    })
}

/// The index at which `marker` next occurs in `chars` from `from`.
pub fn find(chars: &[char], from: usize, marker: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&at| chars[at..].starts_with(marker))
}

/// `[label](url)` at `at`: the label, the URL and the index after it — when the URL starts
/// with one of `schemes` and `url_ok` accepts it.
pub fn link(
    chars: &[char],
    at: usize,
    schemes: &[&str],
    url_ok: impl Fn(&str) -> bool,
) -> Option<(String, String, usize)> {
    let close = find(chars, at + 1, &[']'])?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = find(chars, close + 2, &[')'])?;
    let url = collect(&chars[close + 2..end]);
    let allowed = schemes.iter().any(|scheme| url.starts_with(scheme));
    (allowed && url_ok(&url)).then(|| (collect(&chars[at + 1..close]), url, end + 1))
}

pub fn collect(chars: &[char]) -> String {
    chars.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn markers_open_emphasis_only_before_text() {
        for (text, expected) in [
            ("**b**", Some(Emphasis::Bold)),
            ("__b__", Some(Emphasis::Bold)),
            ("~~s~~", Some(Emphasis::Struck)),
            ("*i*", Some(Emphasis::Italic)),
            ("_i_", Some(Emphasis::Italic)),
            ("* 3", None),
            ("x", None),
        ] {
            assert_eq!(emphasis(&chars(text)).map(|(k, _)| k), expected, "{text}");
        }
    }

    #[test]
    fn links_keep_only_allowed_schemes() {
        let web = ["http://", "https://"];
        let found = link(&chars("[a](https://e.com) x"), 0, &web, |_| true);
        assert_eq!(found, Some(("a".into(), "https://e.com".into(), 18)));
        assert_eq!(link(&chars("[a](javascript:x)"), 0, &web, |_| true), None);
        assert_eq!(link(&chars("[a] (https://e.com)"), 0, &web, |_| true), None);
        assert_eq!(link(&chars("[a](https://e.com"), 0, &web, |_| true), None);
        assert_eq!(link(&chars("[a](https://e.com)"), 0, &web, |_| false), None);
    }
}
