//! Expansions the exec guard performs before judging a command: brace expansion of unquoted
//! words (`{rm,-rf,x}` runs `rm -rf x`), and the shell commands hidden in an awk program
//! (`system("…")`, `"…" | getline`, `print … | "…"`), and ANSI-C quoted strings (`$'\x72m'`).

use super::parse::ParseError;

/// A word expanding to more words than this is refused rather than judged unexpanded.
const MAX_BRACE_WORDS: usize = 256;

/// The words an unquoted `word` expands to under brace expansion (`a{b,c}d` → `abd acd`).
pub fn braces(word: &str) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    expand_into(word, &mut out);
    if out.len() > MAX_BRACE_WORDS {
        return Err(ParseError::TooManyWords);
    }
    if out.is_empty() {
        out.push(word.to_owned());
    }
    Ok(out)
}

fn expand_into(word: &str, out: &mut Vec<String>) {
    if out.len() > MAX_BRACE_WORDS {
        return;
    }
    let Some((open, close, commas)) = first_group(word) else {
        out.push(word.to_owned());
        return;
    };
    let prefix = &word[..open];
    let suffix = &word[close + 1..];
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        let alternative = &word[start..end];
        expand_into(&format!("{prefix}{alternative}{suffix}"), out);
        start = end + 1;
    }
}

/// The first `{…}` with a comma at its own level: its braces and the commas' byte offsets.
fn first_group(word: &str) -> Option<(usize, usize, Vec<usize>)> {
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // `${…}` is a parameter, not a brace group.
        if bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'$') {
            let mut depth = 0;
            let mut commas = Vec::new();
            for (j, &b) in bytes.iter().enumerate().skip(i) {
                match b {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            if !commas.is_empty() {
                                return Some((i, j, commas));
                            }
                            break;
                        }
                    }
                    b',' if depth == 1 => commas.push(j),
                    _ => {}
                }
            }
        }
        i += 1;
    }
    None
}

/// The text of an ANSI-C quoted string (`$'…'`) whose body starts at `i`, and the index after
/// its closing quote.
pub fn ansi_c(chars: &[char], mut i: usize) -> Result<(String, usize), ParseError> {
    let mut bytes = Vec::new();
    let mut utf8 = [0u8; 4];
    let digits = |from: usize, radix: u32, max: usize| {
        let mut value = 0u32;
        let mut n = 0;
        while n < max
            && let Some(d) = chars.get(from + n).and_then(|c| c.to_digit(radix))
        {
            value = value * radix + d;
            n += 1;
        }
        (value, n)
    };
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(ParseError::Unterminated("quote"));
        };
        match c {
            '\'' => return Ok((String::from_utf8_lossy(&bytes).into_owned(), i + 1)),
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(ParseError::Unterminated("quote"));
                };
                i += 2;
                let simple = match e {
                    'n' => Some(b'\n'),
                    't' => Some(b'\t'),
                    'r' => Some(b'\r'),
                    'a' => Some(7),
                    'b' => Some(8),
                    'e' | 'E' => Some(27),
                    'f' => Some(12),
                    'v' => Some(11),
                    _ => None,
                };
                if let Some(b) = simple {
                    bytes.push(b);
                } else if e == 'x' {
                    let (value, n) = digits(i, 16, 2);
                    bytes.push(value as u8);
                    i += n;
                } else if e.is_digit(8) {
                    let (value, n) = digits(i - 1, 8, 3);
                    bytes.push(value as u8);
                    i += n - 1;
                } else if e == 'u' || e == 'U' {
                    let (value, n) = digits(i, 16, if e == 'u' { 4 } else { 8 });
                    let c = char::from_u32(value).unwrap_or('\u{FFFD}');
                    bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    i += n;
                } else {
                    bytes.extend_from_slice(e.encode_utf8(&mut utf8).as_bytes());
                }
            }
            c => {
                bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                i += 1;
            }
        }
    }
}

/// The files a `find` command line (its arguments) reaches, as one path: the start directory,
/// any depth below it, and the name pattern (`find /proc -name environ` → `/proc/$?/environ`).
pub fn find_target(args: &[String]) -> String {
    let root = args
        .iter()
        .take_while(|a| !a.starts_with('-') && !matches!(a.as_str(), "(" | "!"))
        .next()
        .map_or(".", String::as_str);
    let name = args
        .windows(2)
        .find(|w| {
            matches!(
                w[0].as_str(),
                "-name" | "-iname" | "-path" | "-wholename" | "-ipath"
            )
        })
        .map(|w| w[1].rsplit('/').next().unwrap_or(&w[1]).to_owned());
    let root = root.trim_end_matches('/');
    match name {
        Some(name) => format!("{root}/{}/{name}", super::paths::UNKNOWN_DIR),
        None => format!("{root}/{}", super::paths::UNKNOWN_DIR),
    }
}

/// A shell command an awk program runs, or the awk expression that computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwkCommand {
    /// Run with its output read by awk (`system`, `getline`).
    Literal(String),
    /// Run reading awk's output (`print … | "cmd"`).
    PipedTo(String),
    Computed(String),
}

/// Every command the awk `program` hands to a shell.
pub fn awk_commands(program: &str) -> Vec<AwkCommand> {
    let chars: Vec<char> = program.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut last_string: Option<(String, usize)> = None;
    let mut prev_significant = '\n';
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => {
                let (text, end) = awk_string(&chars, i + 1);
                last_string = Some((text, end));
                i = end;
                prev_significant = '"';
                continue;
            }
            '/' if "(,~!{;&|\n=".contains(prev_significant) => {
                i = skip_regex(&chars, i + 1);
                prev_significant = '/';
                continue;
            }
            '|' if chars.get(i + 1) == Some(&'|') => i += 1,
            '|' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'&') {
                    j += 1;
                }
                while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                // Only a short excerpt is kept: it names the command in a refusal.
                let rest: String = chars[j..].iter().take(80).collect();
                if rest.starts_with("getline") {
                    match &last_string {
                        Some((text, end)) if chars[*end..i].iter().all(|c| c.is_whitespace()) => {
                            out.push(AwkCommand::Literal(text.clone()));
                        }
                        _ => out.push(AwkCommand::Computed(before_pipe(&chars, i))),
                    }
                } else if chars.get(j) == Some(&'"') {
                    let (text, end) = awk_string(&chars, j + 1);
                    if next_significant(&chars, end).is_some_and(|c| c != ';' && c != '}') {
                        out.push(AwkCommand::Computed(rest.trim().to_owned()));
                    } else {
                        out.push(AwkCommand::PipedTo(text));
                    }
                } else {
                    out.push(AwkCommand::Computed(rest.trim().to_owned()));
                }
            }
            's' if chars[i..].starts_with(&['s', 'y', 's', 't', 'e', 'm'])
                && !chars
                    .get(i.wrapping_sub(1))
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_') =>
            {
                let mut j = i + 6;
                while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                if chars.get(j) == Some(&'(') {
                    out.push(system_call(&chars, j + 1));
                }
            }
            _ => {}
        }
        if !c.is_whitespace() {
            prev_significant = c;
        }
        i += 1;
    }
    out
}

/// The argument of `system(` starting at `i`: a lone string literal, or computed.
fn system_call(chars: &[char], mut i: usize) -> AwkCommand {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    let close = |from: usize| {
        let mut depth = 1;
        (from..chars.len().min(from + 80))
            .find(|&k| {
                match chars[k] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .unwrap_or(chars.len().min(from + 80))
    };
    if chars.get(i) == Some(&'"') {
        let (text, end) = awk_string(chars, i + 1);
        if next_significant(chars, end) == Some(')') {
            return AwkCommand::Literal(text);
        }
    }
    AwkCommand::Computed(chars[i..close(i)].iter().collect())
}

fn next_significant(chars: &[char], from: usize) -> Option<char> {
    chars[from.min(chars.len())..]
        .iter()
        .copied()
        .find(|c| !c.is_whitespace())
}

fn before_pipe(chars: &[char], pipe: usize) -> String {
    let floor = pipe.saturating_sub(80);
    let start = chars[floor..pipe]
        .iter()
        .rposition(|c| matches!(c, ';' | '{' | '}' | '\n'))
        .map_or(floor, |p| floor + p + 1);
    chars[start..pipe]
        .iter()
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An awk string literal's text (escapes resolved) and the index after its closing quote.
fn awk_string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut text = String::new();
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => return (text, i + 1),
            '\\' => {
                match chars.get(i + 1) {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some(&n) => text.push(n),
                    None => {}
                }
                i += 2;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    (text, i)
}

fn skip_regex(chars: &[char], mut i: usize) -> usize {
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 2,
            '/' | '\n' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brace_expansion() {
        for (word, expected) in [
            ("{rm,-rf,x}", vec!["rm", "-rf", "x"]),
            ("a{b,c}d", vec!["abd", "acd"]),
            ("/etc/{shadow,passwd}", vec!["/etc/shadow", "/etc/passwd"]),
            ("{a,{b,c}}", vec!["a", "b", "c"]),
            ("{}", vec!["{}"]),
            ("{x}", vec!["{x}"]),
            ("${A,B}", vec!["${A,B}"]),
        ] {
            assert_eq!(
                braces(word),
                Ok(expected.iter().map(|s| s.to_string()).collect()),
                "{word}"
            );
        }
        let huge = format!("{{rm,-rf,x}}{}", "{,}".repeat(9));
        assert_eq!(braces(&huge), Err(ParseError::TooManyWords));
    }

    #[test]
    fn find_targets() {
        let args = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            find_target(&args("/proc -name environ")),
            "/proc/$?/environ"
        );
        assert_eq!(find_target(&args(". -type f")), "./$?");
        assert_eq!(find_target(&args("/ -path */envir*")), "/$?/envir*");
    }

    #[test]
    fn ansi_c_quoting() {
        for (body, expected) in [
            (r"\x72\x6d'", "rm"),
            (r"\162\155'", "rm"),
            (r"a\tb\'c'", "a\tb'c"),
            (r"\u00e9'", "é"),
            (r"/etc\x2fshadow' x", "/etc/shadow"),
        ] {
            let chars: Vec<char> = body.chars().collect();
            let (text, _) = ansi_c(&chars, 0).expect("terminated");
            assert_eq!(text, expected, "{body}");
        }
    }

    #[test]
    fn awk_programs() {
        use AwkCommand::*;
        for (program, expected) in [
            (
                r#"BEGIN{system("rm -rf x")}"#,
                vec![Literal("rm -rf x".into())],
            ),
            (r#"{system($0)}"#, vec![Computed("$0".into())]),
            (
                r#"BEGIN{"id" | getline x; print x}"#,
                vec![Literal("id".into())],
            ),
            (r#"{print $1 | "sh"}"#, vec![PipedTo("sh".into())]),
            (r#"{print | cmd}"#, vec![Computed("cmd}".into())]),
            (r#"/a|b/ {print $1}"#, vec![]),
            (r#"{ if (a || b) print $1, $2 }"#, vec![]),
            (r#"{print "a|b"}"#, vec![]),
        ] {
            assert_eq!(awk_commands(program), expected, "{program}");
        }
    }
}
