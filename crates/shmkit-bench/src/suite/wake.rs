//! The wake-up latency of shmkit-win32's waits: how long after a `SetEvent` in one
//! process a thread of another process, asleep in `WaitForSingleObject`, in
//! `WaitForMultipleObjects` for any of 1, 8 or 64 handles or in one for all of 8 or 64
//! handles, returns. The C API is called as a Windows program calls it (its `extern "C"`
//! functions, from Rust).
//!
//! Two processes, pinned as the latency systems' ends are. Per sample, the waiter sets an
//! event of the signaller's (`armed`: it is about to wait) and waits; the signaller waits
//! for `armed`, sleeps [`GAP`] so that the waiter is asleep in the kernel, writes the time
//! into a shared mapping and sets the event the waiter waits for. The waiter reads the
//! time when its wait returns; the sample is the difference. Both read `CLOCK_MONOTONIC`,
//! one clock for every process. (A ping-pong would not do: a waiter that is still
//! setting up its wait when the answer comes is not woken at all.) The waiter's set holds
//! events of its own first and the one the signaller sets last, so that the wait looks at
//! every handle: unsignalled for a wait-any; for a wait-all, set by the waiter before it
//! announces the wait, so that the wait returns only once the signaller's is set, and
//! then takes them all.

use super::plan::Scale;
use shmkit_win32::{
    CloseHandle, CreateEventA, CreateFileMappingA, GetLastError, MapViewOfFile, SetEvent,
    UnmapViewOfFile, WaitForMultipleObjects, WaitForSingleObject, BOOL, DWORD, HANDLE,
};
use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The `system` of the wake-up rows, and what `--only` selects them by.
pub const SYSTEM: &str = "win32-wait";

/// A wait measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// `WaitForSingleObject`.
    Single,
    /// `WaitForMultipleObjects` for any of this many handles.
    Any(usize),
    /// `WaitForMultipleObjects` for all of this many handles (`bWaitAll` TRUE).
    All(usize),
}

/// The waits measured, in the order of the report (the wait-all rows came last).
pub const WAITS: [Wait; 6] = [
    Wait::Single,
    Wait::Any(1),
    Wait::Any(8),
    Wait::Any(64),
    Wait::All(8),
    Wait::All(64),
];

/// How long the signaller lets the waiter sleep before it sets the event.
pub const GAP: Duration = Duration::from_millis(1);

// The values of windows.h.
const INVALID_HANDLE_VALUE: HANDLE = usize::MAX as HANDLE;
const PAGE_READWRITE: DWORD = 0x04;
const FILE_MAP_ALL_ACCESS: DWORD = 0x000F_001F;
const WAIT_OBJECT_0: DWORD = 0;
const WAIT_TIMEOUT: DWORD = 0x102;
const FALSE: BOOL = 0;
/// How long either side waits for the other before it gives up (a lost wake-up).
const PATIENCE_MS: DWORD = 10_000;

/// The API of a wait, as the report names it (a wait-all as `WaitForMultipleObjects(all)`,
/// so that the wait-any rows keep their name).
pub fn api(w: Wait) -> &'static str {
    match w {
        Wait::Single => "WaitForSingleObject",
        Wait::Any(_) => "WaitForMultipleObjects",
        Wait::All(_) => "WaitForMultipleObjects(all)",
    }
}

/// The handles a wait waits for.
pub fn handles(w: Wait) -> usize {
    match w {
        Wait::Single => 1,
        Wait::Any(n) | Wait::All(n) => n,
    }
}

/// A wait as a child's spec carries it (its `mode`): `single`, `any-1`, `all-8`...
pub fn mode(w: Wait) -> String {
    match w {
        Wait::Single => "single".to_owned(),
        Wait::Any(n) => format!("any-{n}"),
        Wait::All(n) => format!("all-{n}"),
    }
}

fn wait_of(mode: &str) -> io::Result<Wait> {
    if mode == "single" {
        return Ok(Wait::Single);
    }
    let count = |n: &str| n.parse().ok().filter(|n| (1..=64).contains(n));
    mode.strip_prefix("any-")
        .and_then(count)
        .map(Wait::Any)
        .or_else(|| mode.strip_prefix("all-").and_then(count).map(Wait::All))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("no wait {mode:?}")))
}

fn last_error(what: &str) -> io::Error {
    io::Error::other(format!("{what} failed: Win32 error {}", GetLastError()))
}

fn now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// The objects both sides create-or-open by name, and the waiter's own.
struct Objects {
    map: HANDLE,
    view: *mut AtomicU64,
    armed: HANDLE,
    wake: HANDLE,
    decoys: Vec<HANDLE>,
}

impl Objects {
    fn open(name: &str, decoys: usize) -> io::Result<Objects> {
        let c = |part: &str| {
            CString::new(format!("Local\\{name}-{part}"))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        };
        let event = |name: Option<&CString>| {
            let name = name.map_or(std::ptr::null(), |n| n.as_ptr());
            // SAFETY: a NULL SECURITY_ATTRIBUTES; `name` is NULL or NUL-terminated.
            let h = unsafe { CreateEventA(std::ptr::null(), FALSE, FALSE, name) };
            if h.is_null() {
                Err(last_error("CreateEventA"))
            } else {
                Ok(h)
            }
        };
        let mut o = Objects {
            map: std::ptr::null_mut(),
            view: std::ptr::null_mut(),
            armed: std::ptr::null_mut(),
            wake: std::ptr::null_mut(),
            decoys: Vec::new(),
        };
        let map_name = c("time")?;
        // SAFETY: a NULL SECURITY_ATTRIBUTES and a NUL-terminated name.
        o.map = unsafe {
            CreateFileMappingA(
                INVALID_HANDLE_VALUE,
                std::ptr::null(),
                PAGE_READWRITE,
                0,
                4096,
                map_name.as_ptr(),
            )
        };
        if o.map.is_null() {
            return Err(last_error("CreateFileMappingA"));
        }
        o.view = MapViewOfFile(o.map, FILE_MAP_ALL_ACCESS, 0, 0, 0).cast();
        if o.view.is_null() {
            return Err(last_error("MapViewOfFile"));
        }
        o.armed = event(Some(&c("armed")?))?;
        o.wake = event(Some(&c("wake")?))?;
        for _ in 0..decoys {
            o.decoys.push(event(None)?);
        }
        Ok(o)
    }

    fn time(&self) -> &AtomicU64 {
        // SAFETY: the view is a page-aligned, 4096-byte shared mapping that lives as long
        // as `self`; the word is only ever accessed atomically, by both processes.
        unsafe { &*self.view }
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        if !self.view.is_null() {
            UnmapViewOfFile(self.view.cast());
        }
        for h in self
            .decoys
            .drain(..)
            .chain([self.armed, self.wake, self.map])
        {
            if !h.is_null() {
                CloseHandle(h);
            }
        }
    }
}

/// Samples taken (after the warm-up) by each measurement.
pub fn samples(scale: Scale) -> (usize, usize) {
    match scale {
        Scale::Full => (100, 2_000),
        Scale::Quick => (20, 200),
        Scale::Smoke => (2, 5),
    }
}

/// The waiting side: creates the objects, calls `ready`, then measures; returns the
/// wake-ups in nanoseconds, sorted.
pub fn waiter(name: &str, mode: &str, scale: Scale, ready: impl FnOnce()) -> io::Result<Vec<f64>> {
    let wait = wait_of(mode)?;
    let o = Objects::open(name, handles(wait) - 1)?;
    let mut set = o.decoys.clone();
    set.push(o.wake);
    let all = matches!(wait, Wait::All(_));
    // Wait-any returns the index of the one set; wait-all returns 0 once it took them all.
    let want = WAIT_OBJECT_0 + if all { 0 } else { set.len() as DWORD - 1 };
    ready();
    let (warm, n) = samples(scale);
    let mut out = Vec::with_capacity(n);
    for i in 0..warm + n {
        // A wait-all's own events are auto-reset and set again before every sample (before
        // the announcement, so outside the time measured), not manual-reset and set once:
        // taking a set manual-reset event changes nothing, so the wait would not have to
        // take them at all; this way it must reserve and reset every one once the last is
        // set, and the check after the wait sees that it did.
        if all && !o.decoys.iter().all(|&d| SetEvent(d) != 0) {
            return Err(last_error("SetEvent"));
        }
        if SetEvent(o.armed) == 0 {
            return Err(last_error("SetEvent"));
        }
        let r = match wait {
            Wait::Single => WaitForSingleObject(o.wake, PATIENCE_MS),
            // SAFETY: `set` holds `len()` handles.
            Wait::Any(_) | Wait::All(_) => unsafe {
                let all = BOOL::from(all);
                WaitForMultipleObjects(set.len() as DWORD, set.as_ptr(), all, PATIENCE_MS)
            },
        };
        let woke = now_ns();
        if r != want {
            return Err(io::Error::other(format!(
                "sample {i}: the wait returned {r:#x}, not {want:#x} (Win32 error {})",
                GetLastError()
            )));
        }
        let still_set = |&d: &HANDLE| WaitForSingleObject(d, 0) != WAIT_TIMEOUT;
        if all && o.decoys.iter().any(still_set) {
            return Err(io::Error::other(format!(
                "sample {i}: the wait-all returned with events of its own still set"
            )));
        }
        if i >= warm {
            let set_at = o.time().load(Ordering::SeqCst);
            out.push(woke.saturating_sub(set_at) as f64);
        }
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// The signalling side: opens the waiter's objects and sets its event, a [`GAP`] after
/// each announcement.
pub fn signaller(name: &str, mode: &str, scale: Scale) -> io::Result<()> {
    wait_of(mode)?;
    let o = Objects::open(name, 0)?;
    let (warm, n) = samples(scale);
    for i in 0..warm + n {
        if WaitForSingleObject(o.armed, PATIENCE_MS) != WAIT_OBJECT_0 {
            return Err(io::Error::other(format!(
                "sample {i}: the waiter never got ready"
            )));
        }
        std::thread::sleep(GAP);
        o.time().store(now_ns(), Ordering::SeqCst);
        if SetEvent(o.wake) == 0 {
            return Err(last_error("SetEvent"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_name_the_waits() {
        for w in WAITS {
            assert_eq!(wait_of(&mode(w)).unwrap(), w);
        }
        for bad in ["any-65", "any-0", "all-65", "all-0", "all-", "some-8"] {
            assert!(wait_of(bad).is_err(), "{bad}");
        }
        assert_eq!(api(Wait::Single), "WaitForSingleObject");
        assert_eq!(api(Wait::All(8)), "WaitForMultipleObjects(all)");
        assert_eq!((handles(Wait::Single), handles(Wait::All(64))), (1, 64));
    }
}
