//! The `goclaw-memory-bench` binary: retrieval quality and memory search latency; everything
//! lives in the library's `memory` module, see docs/benchmarks.md.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    goclaw_bench::memory::main()
}
