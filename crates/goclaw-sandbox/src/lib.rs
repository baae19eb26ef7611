//! Sandbox backends: where agent commands run isolated from the host.
//!
//! * [`docker`] — one container per scope, through the Docker Engine API.
//! * [`native`] — bubblewrap namespaces plus Landlock, seccomp, rlimits and cgroups, no daemon.
//!
//! [`select`] picks one per `sandbox.backend` (`auto` prefers Docker when its API answers, then
//! native) and says why; when none can run, callers refuse sandboxed tools rather than run them
//! on the host.
//!
//! **Architecture Invariant:** nothing here decides *whether* an agent is sandboxed (that is the
//! caller's `sandbox.mode`); a backend only runs what it is given, inside its limits.
#![forbid(unsafe_code)]

pub mod clock;
pub mod docker;
pub mod native;
mod select;
mod settings;
mod streams;

pub use clock::{Clock, ManualClock, SystemClock};
pub use select::{Selection, select};
pub use settings::{BackendChoice, SandboxSettings, WorkspaceMount, sandbox_name};
