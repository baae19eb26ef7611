//! `fake-mcp`: the test MCP server. Without arguments it speaks stdio; `--http ADDR` serves
//! streamable HTTP at `http://ADDR/mcp` and prints `listening http://BOUND/mcp` once bound;
//! `--sse ADDR` serves the HTTP+SSE transport with its event stream at `http://ADDR/sse` and
//! prints `listening http://BOUND/sse`; `--require-header NAME=VALUE` refuses HTTP requests
//! without that header.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use goclaw_fake_mcp::{RequiredHeader, serve_http, serve_sse, serve_stdio};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fake-mcp: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut http: Option<SocketAddr> = None;
    let mut sse: Option<SocketAddr> = None;
    let mut required = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http" => {
                let addr = args.next().ok_or("--http needs an address")?;
                http = Some(addr.parse().map_err(|e| format!("--http {addr}: {e}"))?);
            }
            "--sse" => {
                let addr = args.next().ok_or("--sse needs an address")?;
                sse = Some(addr.parse().map_err(|e| format!("--sse {addr}: {e}"))?);
            }
            "--require-header" => {
                let spec = args.next().ok_or("--require-header needs NAME=VALUE")?;
                let (name, value) = spec
                    .split_once('=')
                    .ok_or("--require-header needs NAME=VALUE")?;
                required = Some(RequiredHeader {
                    name: name.to_owned(),
                    value: value.to_owned(),
                });
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if let Some(addr) = sse {
        let (bound, server) = serve_sse(addr, required).await.map_err(|e| e.to_string())?;
        println!("listening http://{bound}/sse");
        return server.await.map_err(|e| e.to_string());
    }
    let Some(addr) = http else {
        return serve_stdio().await.map_err(|e| e.to_string());
    };
    let (bound, server) = serve_http(addr, required)
        .await
        .map_err(|e| e.to_string())?;
    println!("listening http://{bound}/mcp");
    server.await.map_err(|e| e.to_string())
}
