//! The commands of a line as the shell will run them: variables given a literal value earlier in
//! the line are substituted (`X=rm; $X -rf y` runs `rm`), and so are aliases; a command name that
//! became known this way is split (also on a literal `IFS`) and unwrapped again
//! (`W=nice; $W rm …`), and every path a command names is normalized and resolved against the
//! directory a `cd` earlier in the line entered.

use std::collections::BTreeMap;

use super::deny_shell::{executed_file, is_interpreter, same_file, written_files};
use super::expand;
use super::parse::{self, ParseError, SimpleCommand};
use super::paths::{self, UNKNOWN_DIR, WorkDir};

/// Builtins whose `NAME=value` arguments set shell variables.
const DECLARERS: &[&str] = &["export", "declare", "typeset", "readonly", "local"];

/// `commands` (as parsed) with literal variables substituted and paths resolved.
pub fn resolve(commands: Vec<SimpleCommand>) -> Result<Vec<SimpleCommand>, ParseError> {
    let variables = literal_variables(&commands);
    let aliases = aliases(&commands);
    let separators: Vec<char> = match variables.get("IFS") {
        Some(Some(ifs)) => ifs.chars().collect(),
        _ => Vec::new(),
    };
    let mut next_pipeline = commands.iter().map(|c| c.pipeline).max().unwrap_or(0) + 1;
    let mut cwd = WorkDir::Workspace;
    let mut out = Vec::with_capacity(commands.len());
    for cmd in commands {
        let original = cmd.argv.first().cloned();
        let mut cmd = substitute(cmd, &variables);
        if let Some(first) = cmd.argv.first_mut()
            && let Some(expansion) = aliases.get(first.as_str())
        {
            first.clone_from(expansion);
        }
        let renamed = cmd.argv.first() != original.as_ref();
        if renamed {
            // Word splitting of the substituted name: `X="rm -rf"; $X y`.
            let first = cmd.argv.remove(0);
            let split = |c: char| c.is_whitespace() || separators.contains(&c);
            let mut argv: Vec<String> = first
                .split(split)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            argv.append(&mut cmd.argv);
            cmd.argv = argv;
        }
        let expanded = if renamed && !cmd.argv.is_empty() {
            let expanded = parse::with_wrapped(cmd, next_pipeline)?;
            next_pipeline += expanded.len();
            expanded
        } else {
            vec![cmd]
        };
        for mut cmd in expanded {
            cmd.paths = named_paths(&cmd, &cwd);
            if matches!(cmd.program(), "cd" | "pushd") {
                cwd = entered(&cmd, &cwd);
            }
            out.push(cmd);
        }
    }
    let scripts = written_scripts(&out)?;
    out.extend(scripts);
    Ok(out)
}

/// The commands of scripts the line writes with `echo` / `printf` and then runs
/// (`echo 'rm -rf x' > s.sh; sh s.sh`): judged as if they were part of the line.
fn written_scripts(commands: &[SimpleCommand]) -> Result<Vec<SimpleCommand>, ParseError> {
    let executed: Vec<&str> = commands
        .iter()
        .filter(|runner| !is_interpreter(runner.program()))
        .filter_map(executed_file)
        .collect();
    // Each script once, however often it runs.
    let writers = commands.iter().filter(|w| {
        matches!(w.program(), "echo" | "printf")
            && written_files(w)
                .iter()
                .any(|f| executed.iter().any(|e| same_file(f, e)))
    });
    let mut out = Vec::new();
    {
        for writer in writers {
            let text: Vec<&str> = writer
                .args()
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            let script = text.join(" ").replace("\\n", "\n");
            for mut cmd in parse::parse(&script)? {
                cmd.paths = named_paths(&cmd, &WorkDir::Workspace);
                out.push(cmd);
            }
        }
    }
    Ok(out)
}

/// Variables assigned exactly one literal value in the line (several values: not known).
fn literal_variables(commands: &[SimpleCommand]) -> BTreeMap<String, Option<String>> {
    let mut variables: BTreeMap<String, Option<String>> = BTreeMap::new();
    let assign = |variables: &mut BTreeMap<String, Option<String>>, name: &str, value: &str| {
        let known = (!value.contains('$') && !value.contains('`')).then(|| value.to_owned());
        variables
            .entry(name.to_owned())
            .and_modify(|v| {
                if *v != known {
                    *v = None;
                }
            })
            .or_insert(known);
    };
    for cmd in commands {
        if cmd.argv.is_empty() {
            for (name, value) in &cmd.assignments {
                assign(&mut variables, name, value);
            }
        } else if DECLARERS.contains(&cmd.program()) {
            for arg in cmd.args() {
                if let Some((name, value)) = arg.split_once('=') {
                    assign(&mut variables, name, value);
                }
            }
        } else if matches!(cmd.program(), "read" | "mapfile" | "readarray" | "printf") {
            // Set at run time: whatever value they get is not known here.
            for arg in cmd.args().iter().filter(|a| !a.starts_with('-')) {
                variables.insert(arg.clone(), None);
            }
        }
    }
    variables
}

/// The aliases the line defines (`alias r='rm -rf'`), by name.
fn aliases(commands: &[SimpleCommand]) -> BTreeMap<String, String> {
    commands
        .iter()
        .filter(|c| c.program() == "alias")
        .flat_map(|c| c.args().iter())
        .filter_map(|a| a.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// `cmd` with every `$NAME` / `${NAME}` of a known variable replaced by its value.
fn substitute(
    mut cmd: SimpleCommand,
    variables: &BTreeMap<String, Option<String>>,
) -> SimpleCommand {
    let apply = |word: &mut String| {
        if word.contains('$') {
            *word = substitute_word(word, variables);
        }
    };
    cmd.argv.iter_mut().for_each(apply);
    cmd.redirects.iter_mut().for_each(apply);
    cmd.assignments.iter_mut().for_each(|(_, v)| apply(v));
    cmd
}

fn substitute_word(word: &str, variables: &BTreeMap<String, Option<String>>) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match variables.get(name) {
            Some(Some(value)) if !name.is_empty() => {
                out.push_str(value);
                rest = &after[len..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The working directory after `cmd` (a `cd` or `pushd`) ran in `cwd`.
fn entered(cmd: &SimpleCommand, cwd: &WorkDir) -> WorkDir {
    let target = cmd.args().iter().find(|a| !a.starts_with('-'));
    let Some(target) = target else {
        return WorkDir::Entered(format!("/{UNKNOWN_DIR}"));
    };
    entered_dir(target, cwd)
}

/// The working directory after entering `target` from `cwd`.
fn entered_dir(target: &str, cwd: &WorkDir) -> WorkDir {
    match paths::resolve(target, cwd) {
        Some(dir) if dir.starts_with('/') => WorkDir::Entered(dir),
        Some(dir) => WorkDir::Entered(format!("/{dir}")),
        // Still inside the workspace.
        None => cwd.clone(),
    }
}

/// The paths `cmd` names outside the workspace: its arguments, the values of `--opt=value` /
/// `if=value` arguments, its redirections.
fn named_paths(cmd: &SimpleCommand, cwd: &WorkDir) -> Vec<String> {
    let mut out = Vec::new();
    let words = cmd
        .args()
        .iter()
        .chain(&cmd.redirects)
        .chain(cmd.assignments.iter().map(|(_, v)| v));
    let found = (cmd.program() == "find").then(|| expand::find_target(cmd.args()));
    // `tar -C DIR`, `git -C DIR`, `make --directory=DIR`: later operands are relative to DIR.
    let mut cwd = cwd.clone();
    let mut directory_next = false;
    for word in words.chain(found.as_ref()) {
        if std::mem::take(&mut directory_next) {
            cwd = entered_dir(word, &cwd);
        }
        if word == "-C" || word == "--directory" {
            directory_next = true;
        } else if let Some(dir) = word.strip_prefix("--directory=") {
            cwd = entered_dir(dir, &cwd);
        }
        let value = word.split_once('=').map(|(_, v)| v);
        let candidates = [(!word.starts_with('-')).then_some(word.as_str()), value];
        for candidate in candidates.into_iter().flatten() {
            if let Some(path) = paths::resolve(candidate, &cwd)
                && !out.contains(&path)
            {
                out.push(path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &[&str]) {
        let commands = resolve(parse::parse(line).expect("parses")).expect("resolves");
        let got: Vec<String> = commands
            .iter()
            .filter(|c| !c.argv.is_empty())
            .map(|c| c.argv.join(" "))
            .collect();
        assert_eq!(got, expected, "{line}");
    }

    fn paths_of(line: &str) -> Vec<String> {
        let commands = resolve(parse::parse(line).expect("parses")).expect("resolves");
        commands.into_iter().flat_map(|c| c.paths).collect()
    }

    #[test]
    fn literal_variables_are_substituted() {
        check("X=rm; $X -rf y", &["rm -rf y"]);
        check("X=rm; ${X} -rf y", &["rm -rf y"]);
        check("A=r; B=m; $A$B x", &["rm x"]);
        check("X=\"rm -rf\"; $X y", &["rm -rf y"]);
        check("W=nice; $W rm -rf y", &["nice rm -rf y", "rm -rf y"]);
        check("export X=rm; $X y", &["export X=rm", "rm y"]);
        check("X=ls; X=rm; $X y", &["$X y"]);
        check("read X; $X y", &["read X", "$X y"]);
        check("echo $HOME", &["echo $HOME"]);
        check("alias r='rm -rf'; r x", &["alias r=rm -rf", "rm -rf x"]);
        check("IFS=,; X=rm,-rf,y; $X", &["rm -rf y"]);
    }

    #[test]
    fn paths_follow_cd() {
        assert_eq!(paths_of("cd /etc && cat shadow"), ["/etc", "/etc/shadow"]);
        assert_eq!(
            paths_of("cd /proc/$PPID && cat environ"),
            ["/proc/$PPID", "/proc/$PPID/environ"]
        );
        assert_eq!(paths_of("cat /etc//shadow"), ["/etc/shadow"]);
        assert_eq!(paths_of("cd src && cat notes.txt"), Vec::<String>::new());
        assert_eq!(paths_of("dd if=/etc/./shadow"), ["/etc/shadow"]);
    }
}
