//! What every accepted connection is held to: the caps on open connections (in all and per
//! client address), the header, idle and `connect` deadlines, and giving memory back after a
//! flood. `server.rs` applies them to each socket it accepts.

mod deadlines;
mod gate;
mod memory;

pub use deadlines::{Activity, ConnectionDeadlines, HeadTimer, TrackedStream};
pub use gate::{BurstLog, ConnectionGate, ConnectionLimits, ConnectionPermit};
