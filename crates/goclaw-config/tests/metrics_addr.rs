//! `GOCLAW_METRICS_ADDR`: unset means no separate metrics listener; a socket address is taken
//! as is; anything else is a configuration error naming the variable.
#![forbid(unsafe_code)]

mod common;

use common::{check_error, loaded};

fn metrics_addr(vars: &[(&str, &str)]) -> Option<String> {
    loaded("{}", vars)
        .runtime
        .metrics_addr
        .map(|a| a.to_string())
}

#[test]
fn metrics_addr_comes_from_the_environment() {
    assert_eq!(metrics_addr(&[]), None);
    assert_eq!(metrics_addr(&[("GOCLAW_METRICS_ADDR", "")]), None);
    let set = metrics_addr(&[("GOCLAW_METRICS_ADDR", "127.0.0.1:9100")]);
    assert_eq!(set.as_deref(), Some("127.0.0.1:9100"));
    let v6 = metrics_addr(&[("GOCLAW_METRICS_ADDR", "[::1]:9100")]);
    assert_eq!(v6.as_deref(), Some("[::1]:9100"));
    check_error(
        "{}",
        &[("GOCLAW_METRICS_ADDR", "localhost")],
        "environment variable GOCLAW_METRICS_ADDR: expected a socket address such as \
         127.0.0.1:9100, got \"localhost\"",
    );
}
