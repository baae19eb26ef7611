//! The `goclaw` executable: parses the command line and hands off to the library.

use std::process::ExitCode;

use clap::Parser;

mod environ;

// A turn allocates a few thousand short-lived objects across the tokio workers; mimalloc
// spends about a fifth of glibc malloc's instructions on them. The `override` feature gives
// SQLite (C) the same allocator; `no_thp` keeps idle memory down (docs/benchmarks.md,
// "Turn path").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Inside a native sandbox: finish its set-up and become the command (never returns on
    // success). Kept out of `--help`: only the gateway itself runs it.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(goclaw::sandbox::INIT_SUBCOMMAND) {
        let code = goclaw_sandbox::native::init::main(&args[1..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = goclaw::cli::Cli::parse();
    // Still one thread: keep the environment for configuration, then take the secrets out of
    // the process so nothing it starts, and nothing reading /proc, finds them there.
    goclaw_config::Environment::capture_process();
    environ::remove_secrets(goclaw_config::is_secret_variable);
    match goclaw::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("goclaw: {}", goclaw::one_line(&error));
            ExitCode::FAILURE
        }
    }
}
