//! Cron jobs at work: the loop that fires due jobs (`runner.rs`), one job's run with its
//! retries and delivery (`run.rs`), and the JSON shapes the `cron.*` methods and the `cron`
//! event use (`wire.rs`).
//!
//! **Once per due time.** The loop claims each due time with the store's compare-and-set
//! ([`goclaw_core::CronStore::claim`]), which records the run as `running` in the same
//! transaction; any number of loops (and gateways) may race for it and one wins. A run is
//! never retried by a later claim: a gateway that stops during a run leaves the row
//! `running`, and the next start marks it `interrupted` instead of running it again.
//!
//! **Missed runs.** A job whose due time passed while no gateway ran fires once when one
//! starts (not once per missed period), then continues from its schedule's next fire time
//! after that moment.
//!
//! **Runs.** A run is an agent turn in session `agent:{agent}:cron:{job}` on the `cron` lane,
//! started from an empty session (the session is reset first), as the job's owner, with an
//! extra system prompt naming the job and its delivery target. A failed attempt is retried
//! (`cron.max_retries`, delays from `cron.retry_base_delay` doubling up to
//! `cron.retry_max_delay`, ±25 % jitter); each attempt has `cron.job_timeout`. With
//! `deliver`, the answer is posted to `deliverChannel`/`deliverTo` through the channel outbox.

mod run;
pub mod runner;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::clock::{Clock, SystemClock};

pub use run::execute;
pub use runner::{interrupt_leftovers, spawn, tick};

/// How jobs are run: the settings of the `cron` config section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSettings {
    /// The IANA zone of cron expressions without their own.
    pub default_timezone: String,
    /// Retries of a failed run (0: none).
    pub max_retries: u32,
    /// The first retry's delay; each next one doubles it.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_max: Duration,
    /// The longest one attempt may take.
    pub job_timeout: Duration,
}

impl Default for CronSettings {
    fn default() -> Self {
        Self {
            default_timezone: "UTC".to_owned(),
            max_retries: 3,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(30),
            job_timeout: Duration::from_secs(600),
        }
    }
}

/// The cron settings and the clock due times are read from (a hand-set one in tests).
#[derive(Debug, Clone)]
pub struct Cron {
    pub settings: CronSettings,
    pub clock: Arc<dyn Clock>,
}

impl Default for Cron {
    fn default() -> Self {
        Self {
            settings: CronSettings::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Cron {
    pub fn new(settings: CronSettings, clock: Arc<dyn Clock>) -> Self {
        Self { settings, clock }
    }
}
