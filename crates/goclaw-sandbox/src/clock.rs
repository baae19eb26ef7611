//! Time as the pruner sees it: the system clock in production, a hand-set one in tests (the
//! gateway's one clock abstraction).

pub use goclaw_core::clock::{Clock, ManualClock, SystemClock};
