//! A small POSIX-shell reader for the exec guard: it splits a command line into the simple
//! commands a shell would run — through pipelines, lists, subshells, groups, command and process
//! substitution, `sh -c` payloads and wrappers such as `env`, `sudo` or `nohup` — so the deny
//! groups look at every program, not only the first word.
//!
//! Unquoted words are brace-expanded (`{rm,-rf,x}`); variables and globs stay as written (the
//! resolver substitutes literal assignments later). Where the grammar is unclear it errs towards
//! finding more commands (a here-document body is read as commands), never fewer.

use thiserror::Error;

use super::expand::{self, AwkCommand};

/// How deep `sh -c`, substitutions and wrappers may nest before the command is refused.
const MAX_DEPTH: usize = 8;

/// One program invocation found in a command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    /// `NAME=value` assignments before the program.
    pub assignments: Vec<(String, String)>,
    /// The program and its arguments, quotes removed.
    pub argv: Vec<String>,
    /// Targets of `>`, `>>`, `<`, `&>` redirections.
    pub redirects: Vec<String>,
    /// Which pipeline of the line this command belongs to.
    pub pipeline: usize,
    /// Its position in that pipeline (0 = reads no pipe).
    pub stage: usize,
    /// The paths it names, normalized and resolved against the working directory (filled in by
    /// the resolver; words that stay inside the workspace are left out).
    pub paths: Vec<String>,
}

impl SimpleCommand {
    /// The program's base name (`/usr/bin/rm` → `rm`), or `""` for a bare assignment.
    pub fn program(&self) -> &str {
        let first = self.argv.first().map(String::as_str).unwrap_or("");
        first.rsplit('/').next().unwrap_or(first)
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }
}

/// Why a command line could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("command nests too deeply")]
    TooDeep,
    #[error("brace expansion produces too many words")]
    TooManyWords,
}

/// `cmd` and every command it runs through wrappers (`nice`, `env`, `find -exec`, …); payloads
/// are numbered as pipelines from `next_pipeline` on.
pub fn with_wrapped(
    cmd: SimpleCommand,
    next_pipeline: usize,
) -> Result<Vec<SimpleCommand>, ParseError> {
    let mut out = Vec::new();
    let mut pipelines = next_pipeline;
    unwrap(cmd, 0, &mut pipelines, &mut out)?;
    Ok(out)
}

/// A shell or interpreter name without its version suffix (`python3.11` → `python`,
/// `perl5.36` → `perl`, `node20` → `node`).
pub fn unversioned(program: &str) -> &str {
    let trimmed = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    if trimmed.is_empty() { program } else { trimmed }
}

/// Every simple command `line` would run, wrappers and payloads included.
pub fn parse(line: &str) -> Result<Vec<SimpleCommand>, ParseError> {
    let mut out = Vec::new();
    let mut pipelines = 0;
    parse_into(line, 0, &mut pipelines, &mut out)?;
    Ok(out)
}

fn parse_into(
    line: &str,
    depth: usize,
    pipelines: &mut usize,
    out: &mut Vec<SimpleCommand>,
) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    let mut nested = Vec::new();
    let tokens = tokenize(line, &mut nested)?;
    let mut current = SimpleCommand {
        pipeline: *pipelines,
        ..SimpleCommand::default()
    };
    let mut pending_redirect = false;
    for token in tokens {
        match token {
            Token::Word(word) => {
                if pending_redirect {
                    current.redirects.push(word);
                    pending_redirect = false;
                } else if current.argv.is_empty() && is_reserved(&word) {
                    continue;
                } else if current.argv.is_empty() && assignment(&word).is_some() {
                    if let Some(pair) = assignment(&word) {
                        current.assignments.push(pair);
                    }
                } else {
                    current.argv.push(word);
                }
            }
            Token::Redirect => pending_redirect = true,
            Token::Op(op) => {
                let stage = current.stage;
                finish(&mut current, depth, pipelines, out)?;
                if op == "|" || op == "|&" {
                    current.stage = stage + 1;
                } else {
                    *pipelines += 1;
                    current.pipeline = *pipelines;
                }
            }
        }
    }
    finish(&mut current, depth, pipelines, out)?;
    for inner in nested {
        *pipelines += 1;
        parse_into(&inner, depth + 1, pipelines, out)?;
    }
    Ok(())
}

/// Stores `current` (and whatever it wraps) and starts a fresh command in the same pipeline.
fn finish(
    current: &mut SimpleCommand,
    depth: usize,
    pipelines: &mut usize,
    out: &mut Vec<SimpleCommand>,
) -> Result<(), ParseError> {
    let done = std::mem::take(current);
    current.pipeline = done.pipeline;
    if done.argv.is_empty() && done.assignments.is_empty() && done.redirects.is_empty() {
        return Ok(());
    }
    unwrap(done, depth, pipelines, out)
}

/// Records `cmd` and the commands it runs on behalf of its arguments.
fn unwrap(
    cmd: SimpleCommand,
    depth: usize,
    pipelines: &mut usize,
    out: &mut Vec<SimpleCommand>,
) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    let program = cmd.program().to_owned();
    let args = cmd.args().to_vec();
    let payload = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|pos| args.get(pos + 1))
            .cloned()
    };
    let line_payload = match unversioned(&program) {
        "watch" => {
            Some(args[skip_options(&args, &["-n", "-d", "--interval"]).min(args.len())..].join(" "))
        }
        "env" => payload("-S").or_else(|| payload("--split-string")),
        "flock" | "script" | "su" | "runuser" => payload("-c").or_else(|| payload("--command")),
        _ => None,
    };
    if let Some(payload) = line_payload {
        out.push(cmd);
        *pipelines += 1;
        return parse_into(&payload, depth + 1, pipelines, out);
    }
    match program.as_str() {
        "find" => return unwrap_find(cmd, depth, pipelines, out),
        "awk" | "gawk" | "mawk" | "nawk" => return unwrap_awk(cmd, depth, pipelines, out),
        _ => {}
    }
    let inner_start = match unversioned(&program) {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "fish" => {
            if let Some(pos) = args.iter().position(|a| is_short_flag_with(a, 'c'))
                && let Some(payload) = args.get(pos + 1)
            {
                let payload = payload.clone();
                out.push(cmd);
                *pipelines += 1;
                return parse_into(&payload, depth + 1, pipelines, out);
            }
            None
        }
        "eval" => {
            let payload = args.join(" ");
            out.push(cmd);
            *pipelines += 1;
            return parse_into(&payload, depth + 1, pipelines, out);
        }
        "env" => Some(skip_env_options(&args)),
        "sudo" | "doas" => Some(skip_options(&args, &["-u", "-g", "-C", "-h", "-p", "-U"])),
        "nohup" | "command" | "builtin" | "time" | "setsid" | "unbuffer" | "busybox" | "toybox"
        | "rlwrap" | "proxychains" | "torsocks" | "chronic" | "ifne" | "firejail" | "catchsegv"
        | "valgrind" | "systemd-run" | "caffeinate" => Some(skip_options(&args, &[])),
        "exec" => Some(skip_options(&args, &["-a"])),
        "strace" | "ltrace" => Some(skip_options(&args, &["-o", "-e", "-p", "-s", "-u", "-E"])),
        "nice" | "ionice" => Some(skip_options(&args, &["-n", "-c", "-p"])),
        "chrt" | "taskset" => {
            // A priority or CPU mask comes before the program.
            let start = skip_options(&args, &["-c", "--cpu-list"]);
            let numeric = args.get(start).is_some_and(|a| {
                a.chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, 'x' | ',' | '-'))
            });
            Some(start + usize::from(numeric))
        }
        "flock" => Some(skip_options(&args, &["-w", "-E", "--timeout"]) + 1),
        "timeout" => Some(skip_options(&args, &["-s", "-k", "--signal", "--kill-after"]) + 1),
        "xargs" => Some(skip_options(
            &args,
            &["-I", "-n", "-P", "-L", "-d", "-s", "-E", "-a"],
        )),
        "stdbuf" => Some(skip_options(&args, &["-i", "-o", "-e"])),
        _ => None,
    };
    let inner = inner_start.and_then(|start| {
        let rest = args.get(start..)?;
        let mut inner = SimpleCommand {
            pipeline: cmd.pipeline,
            stage: cmd.stage,
            ..SimpleCommand::default()
        };
        for word in rest {
            if inner.argv.is_empty()
                && let Some(pair) = assignment(word)
            {
                inner.assignments.push(pair);
                continue;
            }
            inner.argv.push(word.clone());
        }
        (!inner.argv.is_empty() || !inner.assignments.is_empty()).then_some(inner)
    });
    // Assignments made through `env X=… cmd` belong to the command they launch.
    let mut cmd = cmd;
    if program == "env"
        && let Some(inner) = &inner
    {
        cmd.assignments.extend(inner.assignments.iter().cloned());
    }
    out.push(cmd);
    match inner {
        Some(inner) if !inner.argv.is_empty() => unwrap(inner, depth + 1, pipelines, out),
        _ => Ok(()),
    }
}

/// `find` and each command its `-exec`, `-execdir`, `-ok` and `-okdir` actions run.
fn unwrap_find(
    cmd: SimpleCommand,
    depth: usize,
    pipelines: &mut usize,
    out: &mut Vec<SimpleCommand>,
) -> Result<(), ParseError> {
    let mut inners = Vec::new();
    // `{}` stands for each file found.
    let found = expand::find_target(cmd.args());
    let mut args = cmd.args().iter();
    while let Some(arg) = args.next() {
        if !matches!(arg.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            continue;
        }
        let argv: Vec<String> = args
            .by_ref()
            .take_while(|a| *a != ";" && *a != "+")
            .map(|a| a.replace("{}", &found))
            .collect();
        inners.push(SimpleCommand {
            argv,
            pipeline: cmd.pipeline,
            stage: cmd.stage,
            ..SimpleCommand::default()
        });
    }
    out.push(cmd);
    for inner in inners.into_iter().filter(|c| !c.argv.is_empty()) {
        unwrap(inner, depth + 1, pipelines, out)?;
    }
    Ok(())
}

/// `awk` and the shell commands of its program; a command computed at run time becomes a
/// command whose name is a substitution, which the deny groups refuse.
fn unwrap_awk(
    cmd: SimpleCommand,
    depth: usize,
    pipelines: &mut usize,
    out: &mut Vec<SimpleCommand>,
) -> Result<(), ParseError> {
    let args = cmd.args();
    let mut i = 0;
    let mut program = None;
    while let Some(arg) = args.get(i) {
        match arg.as_str() {
            "-F" | "-v" | "-f" => i += 2,
            "--" => {
                program = args.get(i + 1).cloned();
                break;
            }
            a if a.starts_with('-') && a.len() > 1 => i += 1,
            a => {
                program = Some(a.to_owned());
                break;
            }
        }
    }
    let commands = program
        .map(|p| expand::awk_commands(&p))
        .unwrap_or_default();
    let (pipeline, stage) = (cmd.pipeline, cmd.stage);
    out.push(cmd);
    for command in commands {
        match command {
            AwkCommand::Literal(line) => {
                *pipelines += 1;
                parse_into(&line, depth + 1, pipelines, out)?;
            }
            AwkCommand::PipedTo(line) => {
                *pipelines += 1;
                let first = out.len();
                parse_into(&line, depth + 1, pipelines, out)?;
                // It reads what awk prints, like a later stage of a pipeline.
                for cmd in out[first..].iter_mut().filter(|c| c.stage == 0) {
                    cmd.stage = 1;
                }
            }
            AwkCommand::Computed(expr) => out.push(SimpleCommand {
                argv: vec![format!("$({expr})")],
                pipeline,
                stage,
                ..SimpleCommand::default()
            }),
        }
    }
    Ok(())
}

/// Index of the first argument after `env`'s own options.
fn skip_env_options(args: &[String]) -> usize {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        match arg.as_str() {
            "-u" | "--unset" | "-C" | "--chdir" | "-S" => i += 2,
            "--" => return i + 1,
            a if a.starts_with('-') && a.len() > 1 => i += 1,
            _ => return i,
        }
    }
    i
}

/// Index of the first argument that is not an option (options in `with_value` take one).
fn skip_options(args: &[String], with_value: &[&str]) -> usize {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            return i + 1;
        }
        if !arg.starts_with('-') || arg.len() == 1 {
            return i;
        }
        i += if with_value.contains(&arg.as_str()) {
            2
        } else {
            1
        };
    }
    i
}

/// Whether `arg` is a short-option cluster containing `flag` (`-c`, `-lc`, `-xc`).
pub fn is_short_flag_with(arg: &str, flag: char) -> bool {
    arg.len() > 1 && arg.starts_with('-') && !arg.starts_with("--") && arg[1..].contains(flag)
}

fn assignment(word: &str) -> Option<(String, String)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (name.to_owned(), value.to_owned()))
}

fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "{" | "}"
            | "!"
            | "if"
            | "then"
            | "else"
            | "elif"
            | "fi"
            | "do"
            | "done"
            | "while"
            | "until"
            | "esac"
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Op(&'static str),
    Redirect,
}

/// Splits `line` into words and operators; the texts of substitutions go to `nested`.
fn tokenize(line: &str, nested: &mut Vec<String>) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // Whether the word holds an unquoted `{`, so brace expansion applies.
    let mut brace = false;
    let mut i = 0;
    macro_rules! flush {
        () => {
            if in_word {
                let done = std::mem::take(&mut word);
                if std::mem::take(&mut brace) {
                    tokens.extend(expand::braces(&done)?.into_iter().map(Token::Word));
                } else {
                    tokens.push(Token::Word(done));
                }
                in_word = false;
            }
        };
    }
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\r' => {
                flush!();
                i += 1;
            }
            '#' if !in_word => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            '\n' | ';' | '(' | ')' => {
                flush!();
                tokens.push(Token::Op(match c {
                    '\n' => "\n",
                    ';' => ";",
                    '(' => "(",
                    _ => ")",
                }));
                i += 1;
            }
            '|' | '&' => {
                if c == '&' && next == Some('>') {
                    flush!();
                    tokens.push(Token::Redirect);
                    i += if chars.get(i + 2) == Some(&'>') { 3 } else { 2 };
                    continue;
                }
                flush!();
                let doubled = next == Some(c);
                tokens.push(Token::Op(match (c, doubled, next) {
                    ('|', true, _) => "||",
                    ('|', false, Some('&')) => "|&",
                    ('|', false, _) => "|",
                    ('&', true, _) => "&&",
                    _ => "&",
                }));
                i += if doubled || (c == '|' && next == Some('&')) {
                    2
                } else {
                    1
                };
            }
            '<' | '>' if next == Some('(') => {
                let (inner, end) = balanced(&chars, i + 2, '(', ')')?;
                nested.push(inner.clone());
                word.push(c);
                word.push('(');
                word.push_str(&inner);
                word.push(')');
                in_word = true;
                i = end;
            }
            '<' | '>' => {
                // A file descriptor number right before the operator is part of it (`2>`).
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                flush!();
                tokens.push(Token::Redirect);
                i += 1;
                while matches!(chars.get(i), Some('<' | '>' | '&' | '|')) {
                    i += 1;
                }
                if chars.get(i - 1) == Some(&'&') && chars.get(i).is_some_and(char::is_ascii_digit)
                {
                    // `2>&1` duplicates a descriptor; there is no file.
                    tokens.pop();
                    while chars.get(i).is_some_and(char::is_ascii_digit) {
                        i += 1;
                    }
                }
            }
            '\\' => {
                if let Some(n) = next
                    && n != '\n'
                {
                    word.push(n);
                    in_word = true;
                }
                i += 2;
            }
            '\'' => {
                let end = find(&chars, i + 1, '\'').ok_or(ParseError::Unterminated("quote"))?;
                word.extend(&chars[i + 1..end]);
                in_word = true;
                i = end + 1;
            }
            '"' => {
                i = double_quoted(&chars, i + 1, &mut word, nested)?;
                in_word = true;
            }
            '`' => {
                let (inner, end) = backticks(&chars, i + 1)?;
                nested.push(inner.clone());
                word.push('`');
                word.push_str(&inner);
                word.push('`');
                in_word = true;
                i = end;
            }
            '$' if next == Some('\'') => {
                // ANSI-C quoting: `$'\x72\x6d'` is `rm`.
                let (text, end) = expand::ansi_c(&chars, i + 2)?;
                word.push_str(&text);
                in_word = true;
                i = end;
            }
            '$' => {
                i = dollar(&chars, i, &mut word, nested)?;
                in_word = true;
            }
            _ => {
                brace |= c == '{';
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        if brace {
            tokens.extend(expand::braces(&word)?.into_iter().map(Token::Word));
        } else {
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

/// Reads a `"…"` body starting at `i`; returns the index after the closing quote.
fn double_quoted(
    chars: &[char],
    mut i: usize,
    word: &mut String,
    nested: &mut Vec<String>,
) -> Result<usize, ParseError> {
    loop {
        match chars.get(i) {
            None => return Err(ParseError::Unterminated("quote")),
            Some('"') => return Ok(i + 1),
            Some('\\') => {
                match chars.get(i + 1) {
                    Some(&n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                    Some('\n') => {}
                    Some(&n) => {
                        word.push('\\');
                        word.push(n);
                    }
                    None => return Err(ParseError::Unterminated("quote")),
                }
                i += 2;
            }
            Some('`') => {
                let (inner, end) = backticks(chars, i + 1)?;
                nested.push(inner.clone());
                word.push('`');
                word.push_str(&inner);
                word.push('`');
                i = end;
            }
            Some('$') => i = dollar(chars, i, word, nested)?,
            Some(&c) => {
                word.push(c);
                i += 1;
            }
        }
    }
}

/// Reads `$…` at `i` into `word`; command substitutions are also queued in `nested`.
fn dollar(
    chars: &[char],
    i: usize,
    word: &mut String,
    nested: &mut Vec<String>,
) -> Result<usize, ParseError> {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('('), Some('(')) => {
            let (inner, end) = balanced(chars, i + 3, '(', ')')?;
            word.push_str("$((");
            word.push_str(&inner);
            word.push(')');
            Ok(end)
        }
        (Some('('), _) => {
            let (inner, end) = balanced(chars, i + 2, '(', ')')?;
            nested.push(inner.clone());
            word.push_str("$(");
            word.push_str(&inner);
            word.push(')');
            Ok(end)
        }
        (Some('{'), _) => {
            let (inner, end) = balanced(chars, i + 2, '{', '}')?;
            word.push_str("${");
            word.push_str(&inner);
            word.push('}');
            Ok(end)
        }
        _ => {
            word.push('$');
            Ok(i + 1)
        }
    }
}

/// The text up to the `close` matching an already consumed `open`, and the index after it.
fn balanced(
    chars: &[char],
    mut i: usize,
    open: char,
    close: char,
) -> Result<(String, usize), ParseError> {
    let start = i;
    let mut depth = 1;
    let mut quote: Option<char> = None;
    while let Some(&c) = chars.get(i) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => i += 1,
            (Some(_), _) => {}
            (None, '\\') => i += 1,
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c == open => depth += 1,
            (None, c) if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Ok((chars[start..i].iter().collect(), i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(ParseError::Unterminated("substitution"))
}

fn backticks(chars: &[char], mut i: usize) -> Result<(String, usize), ParseError> {
    let mut inner = String::new();
    loop {
        match chars.get(i) {
            None => return Err(ParseError::Unterminated("backquote")),
            Some('`') => return Ok((inner, i + 1)),
            Some('\\') => {
                if let Some(&n) = chars.get(i + 1) {
                    inner.push(n);
                }
                i += 2;
            }
            Some(&c) => {
                inner.push(c);
                i += 1;
            }
        }
    }
}

fn find(chars: &[char], from: usize, target: char) -> Option<usize> {
    (from..chars.len()).find(|&j| chars.get(j) == Some(&target))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
