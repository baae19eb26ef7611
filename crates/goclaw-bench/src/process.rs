//! The server under test as a child process: the release `goclaw serve` or the in-bench floor
//! program, started with its own environment, waited for until `/health` answers 200, measured
//! through `/proc/<pid>` (resident memory, CPU time) and stopped with SIGTERM.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long a server may take to answer its first `/health`.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// What to start: a program, its arguments and its whole environment.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Where the child's stdout and stderr go.
    pub log: PathBuf,
}

/// A running server process.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub port: u16,
    /// From spawn to the first 200 from `/health`.
    pub started_in: Duration,
}

impl Server {
    /// Starts `launch` on a free loopback port (passed as `GOCLAW_PORT`) and waits for health.
    pub async fn start(launch: &Launch) -> Result<Self> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .with_context(|| format!("opening {}", launch.log.display()))?;
        let log_err = log.try_clone().context("duplicating the log handle")?;
        let began = Instant::now();
        let mut child = Command::new(&launch.program)
            .args(&launch.args)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GOCLAW_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", launch.program.display()))?;
        let pid = child.id().context("a just-spawned child has a pid")?;
        loop {
            if health_ok(port).await {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{} exited with {status} before answering /health; see {}",
                    launch.program.display(),
                    launch.log.display()
                );
            }
            if began.elapsed() > START_DEADLINE {
                bail!(
                    "no /health 200 within {START_DEADLINE:?}; see {}",
                    launch.log.display()
                );
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        Ok(Self {
            child,
            pid,
            port,
            started_in: began.elapsed(),
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Resident set size in bytes.
    pub fn rss(&self) -> Result<u64> {
        rss_bytes(self.pid)
    }

    /// User plus system CPU time consumed so far.
    pub fn cpu(&self) -> Result<Duration> {
        cpu_time(self.pid)
    }

    /// SIGTERM, then SIGKILL after [`STOP_DEADLINE`].
    pub async fn stop(mut self) -> Result<()> {
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .context("child pid out of range")?;
        // The child may have exited already; the wait below tells.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if tokio::time::timeout(STOP_DEADLINE, self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await.context("killing a stuck server")?;
        }
        Ok(())
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a probe port")?;
    Ok(listener.local_addr()?.port())
}

/// One `GET /health` over a fresh connection; true on a 200.
pub async fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_exact(&mut stream, &mut head),
    )
    .await;
    matches!(read, Ok(Ok(_))) && head.starts_with(b"HTTP/1.1 200")
}

/// `VmRSS` of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("VmRSS missing from /proc/<pid>/status")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmRSS has a value")?
        .parse()
        .context("VmRSS is a number")?;
    Ok(kb * 1024)
}

/// utime + stime of a process from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // Fields after the command name, which may itself hold spaces and parentheses.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let ticks = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .context("short /proc/<pid>/stat")?
            .parse::<u64>()
            .context("CPU ticks are numbers")
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / clock_ticks() as f64))
}

/// `sysconf(_SC_CLK_TCK)` via `getconf`, else the Linux default of 100.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// The size in bytes of `binary` after `strip` (on a copy; the original is untouched).
pub fn stripped_size(binary: &Path) -> Result<u64> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let copy = dir.path().join("goclaw");
    std::fs::copy(binary, &copy).with_context(|| format!("copying {}", binary.display()))?;
    let status = std::process::Command::new("strip")
        .arg(&copy)
        .status()
        .context("running strip (install binutils)")?;
    if !status.success() {
        bail!("strip failed with {status}");
    }
    Ok(std::fs::metadata(&copy)?.len())
}
