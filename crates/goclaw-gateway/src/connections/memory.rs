//! Handing memory freed by closed connections back to the operating system.
//!
//! A flood of connections grows the heap by the buffers and tasks of every socket; glibc keeps
//! most of what they free in its per-thread arenas, so the process would stay near its peak
//! size long after the flood ended. `malloc_trim` returns the free pages of every arena. It is
//! called when the number of open connections has halved from a large peak, off the async
//! worker threads because trimming a large heap takes a few milliseconds.
#![allow(unsafe_code)]

/// Returns freed heap memory to the operating system, where the allocator supports it.
pub fn release_freed_memory() {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(trim)),
        Err(_) => trim(),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: `malloc_trim` is glibc's own, takes a plain integer, touches only the allocator's
    // internal state under the allocator's locks, and is safe to call from any thread at any
    // time.
    let released = unsafe { malloc_trim(0) };
    tracing::debug!(
        released = released != 0,
        "returned freed memory to the system"
    );
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
