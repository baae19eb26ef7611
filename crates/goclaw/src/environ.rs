//! Taking the gateway's secrets out of its own process environment once they have been read.
//!
//! The kernel shows a process's initial environment block in `/proc/<pid>/environ` to every
//! process of the same user, and `unsetenv` only drops the pointer to an entry, not its bytes.
//! So the executable first snapshots the environment (`Environment::capture_process`), then
//! unsets each secret variable and overwrites its bytes in place: a tool process that reaches
//! `/proc/<gateway pid>/environ` finds zeros where the token and keys were.
//!
//! This is the one module of the crate that needs `unsafe`: the environment block is libc's.
#![allow(unsafe_code)]

use std::ffi::CStr;

/// Unsets every variable `is_secret` names and zeroes its `NAME=value` bytes in the
/// environment block. Returns the names removed.
///
/// Must run while the process has a single thread (before the async runtime starts): nothing
/// else may read or change the environment meanwhile.
pub fn remove_secrets(is_secret: impl Fn(&str) -> bool) -> Vec<String> {
    let found = secret_entries(&is_secret);
    for (name, _) in &found {
        // SAFETY: the process is single-threaded here (see above), so no other thread reads or
        // writes the environment concurrently.
        unsafe { std::env::remove_var(name) };
    }
    for (_, entry) in &found {
        // SAFETY: `entry` pointed at a NUL-terminated `NAME=value` string of the environment
        // block (checked when it was collected); unsetting it removed only the pointer, so the
        // bytes are still there and writable (the initial block is on the stack, later ones on
        // the heap), and nothing refers to them any more. The terminating NUL stays in place.
        unsafe {
            let len = CStr::from_ptr(entry.0).to_bytes().len();
            std::ptr::write_bytes(entry.0, 0, len);
        }
    }
    found.into_iter().map(|(name, _)| name).collect()
}

/// A pointer to one `NAME=value` string of the environment block.
struct Entry(*mut libc::c_char);

/// The names and strings of the secret variables, read from libc's `environ`.
fn secret_entries(is_secret: &impl Fn(&str) -> bool) -> Vec<(String, Entry)> {
    let mut found = Vec::new();
    // SAFETY: `environ` is a NULL-terminated array of pointers to NUL-terminated strings, and
    // the process is single-threaded, so it is not changed while it is walked.
    unsafe {
        let mut cursor = libc::environ;
        if cursor.is_null() {
            return found;
        }
        while !(*cursor).is_null() {
            let entry = *cursor;
            let bytes = CStr::from_ptr(entry).to_bytes();
            let name = bytes.split(|b| *b == b'=').next().unwrap_or_default();
            if let Ok(name) = std::str::from_utf8(name)
                && bytes.len() > name.len()
                && is_secret(name)
            {
                found.push((name.to_owned(), Entry(entry)));
            }
            cursor = cursor.add(1);
        }
    }
    found
}
