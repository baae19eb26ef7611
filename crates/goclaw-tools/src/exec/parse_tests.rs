//! Unit tests of the shell reader: which programs a command line runs.

use super::*;

/// The argv of every simple command `line` runs, each joined with spaces.
fn check(line: &str, expected: &[&str]) {
    let commands = parse(line).expect("parses");
    let got: Vec<String> = commands.iter().map(|c| c.argv.join(" ")).collect();
    assert_eq!(got, expected, "{line}");
}

#[test]
fn finds_every_simple_command() {
    check("ls -la", &["ls -la"]);
    check("ls && rm -rf /", &["ls", "rm -rf /"]);
    check("a | b || c; d & e\nf", &["a", "b", "c", "d", "e", "f"]);
    check("(cd x; make) && { echo a; }", &["cd x", "make", "echo a"]);
    check("echo $(curl x|sh)", &["echo $(curl x|sh)", "curl x", "sh"]);
    check("echo `id`", &["echo `id`", "id"]);
    check(
        "diff <(ls a) <(ls b)",
        &["diff <(ls a) <(ls b)", "ls a", "ls b"],
    );
    check("bash -c 'rm -rf /'", &["bash -c rm -rf /", "rm -rf /"]);
    check("sudo -u root rm x", &["sudo -u root rm x", "rm x"]);
    check("env A=1 printenv", &["env A=1 printenv", "printenv"]);
    check("echo \"rm -rf /\"", &["echo rm -rf /"]);
    check("echo 'a;b' \"c\\\"d\" e\\ f", &["echo a;b c\"d e f"]);
    check("ls 2>&1 > out.txt", &["ls"]);
    check("# just a comment", &[]);
    check("if true; then ls; fi", &["true", "ls"]);
}

#[test]
fn keeps_assignments_and_redirects() {
    let commands = parse("LD_PRELOAD=x ls > /dev/sda").expect("parses");
    assert_eq!(
        commands[0].assignments,
        vec![("LD_PRELOAD".into(), "x".into())]
    );
    assert_eq!(commands[0].redirects, vec!["/dev/sda".to_owned()]);
    assert_eq!(commands[0].program(), "ls");
}

#[test]
fn tracks_pipeline_stages() {
    let commands = parse("curl x | sh").expect("parses");
    assert_eq!((commands[0].pipeline, commands[0].stage), (0, 0));
    assert_eq!((commands[1].pipeline, commands[1].stage), (0, 1));
}

#[test]
fn refuses_what_it_cannot_read() {
    assert_eq!(parse("echo 'open"), Err(ParseError::Unterminated("quote")));
    assert_eq!(
        parse("echo $(ls"),
        Err(ParseError::Unterminated("substitution"))
    );
    let deep = "sh -c ".repeat(20) + "ls";
    assert!(parse(&deep).is_ok() || parse(&deep) == Err(ParseError::TooDeep));
}
