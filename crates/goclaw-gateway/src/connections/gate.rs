//! The connection gate: how many connections the gateway holds open, in all and per client
//! address, and the admission that refuses one more beyond either cap.
//!
//! A permit is taken when a socket is accepted and released when the socket is dropped, so a
//! WebSocket keeps its permit for as long as it lives. Refusals come in bursts (a flood), so
//! they are logged as `security.connection_limit` at most once per [`LOG_EVERY`], with the
//! number of refusals the line stands for.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How often a burst of refusals is logged at most.
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// After the open count falls to half a peak at least this high, freed memory is handed back.
const TRIM_PEAK: usize = 256;

/// The caps; 0 disables one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_total: usize,
    pub max_per_ip: usize,
}

impl ConnectionLimits {
    /// No cap at all (embedding and unit tests).
    pub const UNLIMITED: ConnectionLimits = ConnectionLimits {
        max_total: 0,
        max_per_ip: 0,
    };
}

/// Which cap refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerAddress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "max_connections",
            Refusal::PerAddress => "max_connections_per_ip",
        }
    }
}

/// Open connections, counted in all and per client address.
#[derive(Debug, Clone)]
pub struct ConnectionGate {
    inner: Arc<GateInner>,
}

#[derive(Debug)]
struct GateInner {
    limits: ConnectionLimits,
    counts: Mutex<Counts>,
    /// Woken whenever the last connection closes (shutdown drains on it).
    drained: Notify,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    /// Highest total since memory was last handed back.
    peak: usize,
    refusals: BurstLog,
}

/// Holding one admitted connection; dropping it releases the slot.
#[derive(Debug)]
pub struct ConnectionPermit {
    gate: Arc<GateInner>,
    address: IpAddr,
}

impl ConnectionGate {
    pub fn new(limits: ConnectionLimits) -> Self {
        Self {
            inner: Arc::new(GateInner {
                limits,
                counts: Mutex::new(Counts::default()),
                drained: Notify::new(),
            }),
        }
    }

    /// Admits a connection from `remote`, or says which cap it would exceed (and logs the
    /// refusal once per burst).
    pub fn admit(&self, remote: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let address = bucket(remote);
        let limits = self.inner.limits;
        let mut counts = self.inner.lock();
        let from_address = counts.per_address.get(&address).copied().unwrap_or(0);
        let refusal = if limits.max_total > 0 && counts.total >= limits.max_total {
            Some(Refusal::Total)
        } else if limits.max_per_ip > 0 && from_address >= limits.max_per_ip {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            if let Some(refused) = counts.refusals.record(Instant::now()) {
                tracing::warn!(
                    limit = refusal.as_str(),
                    remote = %address,
                    open = counts.total,
                    open_from_remote = from_address,
                    refused,
                    "security.connection_limit"
                );
            }
            return Err(refusal);
        }
        counts.total += 1;
        counts.peak = counts.peak.max(counts.total);
        *counts.per_address.entry(address).or_insert(0) += 1;
        Ok(ConnectionPermit {
            gate: Arc::clone(&self.inner),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.inner.lock().total
    }

    /// Connections open now from `remote`'s address.
    #[cfg(test)]
    fn open_from(&self, remote: IpAddr) -> usize {
        let counts = self.inner.lock();
        counts
            .per_address
            .get(&bucket(remote))
            .copied()
            .unwrap_or(0)
    }

    /// Waits until no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.inner.drained.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl GateInner {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        match self.counts.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let (now_empty, trim) = {
            let mut counts = self.gate.lock();
            counts.total = counts.total.saturating_sub(1);
            if let Some(n) = counts.per_address.get_mut(&self.address) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.per_address.remove(&self.address);
                }
            }
            let trim = counts.peak >= TRIM_PEAK && counts.total <= counts.peak / 2;
            if trim {
                counts.peak = counts.total;
            }
            (counts.total == 0, trim)
        };
        if trim {
            super::memory::release_freed_memory();
        }
        if now_empty {
            self.gate.drained.notify_waiters();
        }
    }
}

/// The address a connection is counted under: IPv4 as is (IPv4-mapped IPv6 included), IPv6 by
/// its /64, the smallest block one client is usually given.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Rate-limits one kind of log line: the first event of a burst is logged, later ones are
/// counted and reported with the next line at least [`LOG_EVERY`] later.
#[derive(Debug, Default)]
pub struct BurstLog {
    last: Option<Instant>,
    unreported: u64,
}

impl BurstLog {
    /// Records one event at `now`; `Some(n)` when a line should be logged now, standing for
    /// `n` events.
    pub fn record(&mut self, now: Instant) -> Option<u64> {
        self.unreported += 1;
        match self.last {
            Some(last) if now.duration_since(last) < LOG_EVERY => None,
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.unreported))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn caps_count_in_all_and_per_address() {
        let gate = ConnectionGate::new(ConnectionLimits {
            max_total: 3,
            max_per_ip: 2,
        });
        let a1 = gate.admit(ip("10.0.0.1")).expect("first");
        let _a2 = gate.admit(ip("10.0.0.1")).expect("second from a");
        assert_eq!(gate.admit(ip("10.0.0.1")).err(), Some(Refusal::PerAddress));
        let _b1 = gate.admit(ip("10.0.0.2")).expect("first from b");
        assert_eq!(gate.admit(ip("10.0.0.3")).err(), Some(Refusal::Total));
        drop(a1);
        assert_eq!(gate.open(), 2);
        assert_eq!(gate.open_from(ip("10.0.0.1")), 1);
        let _c1 = gate.admit(ip("10.0.0.3")).expect("a slot was freed");
    }

    #[test]
    fn zero_disables_a_cap() {
        let gate = ConnectionGate::new(ConnectionLimits::UNLIMITED);
        let permits: Vec<_> = (0..1000)
            .filter_map(|_| gate.admit(ip("::1")).ok())
            .collect();
        assert_eq!(permits.len(), 1000);
    }

    #[test]
    fn ipv6_counts_per_slash_64_and_mapped_ipv4_as_ipv4() {
        let check = |raw: &str, expected: &str| assert_eq!(bucket(ip(raw)), ip(expected), "{raw}");
        check("2001:db8:1:2:aaaa::1", "2001:db8:1:2::");
        check("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::");
        check("::ffff:192.0.2.7", "192.0.2.7");
        check("192.0.2.7", "192.0.2.7");
    }

    #[test]
    fn refusals_are_logged_once_per_burst() {
        let mut log = BurstLog::default();
        let start = Instant::now();
        assert_eq!(log.record(start), Some(1));
        for _ in 0..99 {
            assert_eq!(log.record(start + Duration::from_secs(1)), None);
        }
        assert_eq!(log.record(start + LOG_EVERY), Some(100));
    }
}
