//! The `goclaw` executable: parses the command line and hands off to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = goclaw::cli::Cli::parse();
    match goclaw::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("goclaw: {}", goclaw::one_line(&error));
            ExitCode::FAILURE
        }
    }
}
