//! The program that sets up a native sandbox from inside it (see `goclaw_sandbox::native::init`).
#![forbid(unsafe_code)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(goclaw_sandbox::native::init::main(&args));
}
