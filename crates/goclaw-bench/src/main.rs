//! The `goclaw-bench` binary; everything lives in the library (`lib.rs`), see
//! docs/benchmarks.md.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    goclaw_bench::main()
}
