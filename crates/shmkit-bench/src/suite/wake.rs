//! The wake-up latency of shmkit-win32's waits: how long after a `SetEvent` in one
//! process a thread of another process, asleep in `WaitForSingleObject` or in
//! `WaitForMultipleObjects` for any of 1, 8 or 64 handles, returns. The C API is called
//! as a Windows program calls it (its `extern "C"` functions, from Rust).
//!
//! Two processes, pinned as the latency systems' ends are. Per sample, the waiter sets an
//! event of the signaller's (`armed`: it is about to wait) and waits; the signaller waits
//! for `armed`, sleeps [`GAP`] so that the waiter is asleep in the kernel, writes the time
//! into a shared mapping and sets the event the waiter waits for. The waiter reads the
//! time when its wait returns; the sample is the difference. Both read `CLOCK_MONOTONIC`,
//! one clock for every process. The waiter's set holds unsignalled events of its own
//! first and the one the signaller sets last, so that the wait looks at every handle.
//! (A ping-pong would not do: a waiter that is still setting up its wait when the answer
//! comes is not woken at all.)

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

/// The waits measured: `WaitForSingleObject`, and `WaitForMultipleObjects` (wait-any)
/// for this many handles.
pub const WAITS: [Option<usize>; 4] = [None, Some(1), Some(8), Some(64)];

/// How long the signaller lets the waiter sleep before it sets the event.
pub const GAP: Duration = Duration::from_millis(1);

// The values of windows.h.
const INVALID_HANDLE_VALUE: HANDLE = usize::MAX as HANDLE;
const PAGE_READWRITE: DWORD = 0x04;
const FILE_MAP_ALL_ACCESS: DWORD = 0x000F_001F;
const WAIT_OBJECT_0: DWORD = 0;
const FALSE: BOOL = 0;
/// How long either side waits for the other before it gives up (a lost wake-up).
const PATIENCE_MS: DWORD = 10_000;

/// The API of a wait, as the report names it.
pub fn api(handles: Option<usize>) -> &'static str {
    match handles {
        None => "WaitForSingleObject",
        Some(_) => "WaitForMultipleObjects",
    }
}

/// A wait as a child's spec carries it (its `mode`): `single`, `any-1`, `any-8`...
pub fn mode(handles: Option<usize>) -> String {
    handles.map_or_else(|| "single".to_owned(), |n| format!("any-{n}"))
}

fn handles_of(mode: &str) -> io::Result<Option<usize>> {
    if mode == "single" {
        return Ok(None);
    }
    mode.strip_prefix("any-")
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=64).contains(n))
        .map(Some)
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
    let handles = handles_of(mode)?;
    let o = Objects::open(name, handles.map_or(0, |n| n - 1))?;
    let mut set = o.decoys.clone();
    set.push(o.wake);
    let want = WAIT_OBJECT_0 + set.len() as DWORD - 1;
    ready();
    let (warm, n) = samples(scale);
    let mut out = Vec::with_capacity(n);
    for i in 0..warm + n {
        if SetEvent(o.armed) == 0 {
            return Err(last_error("SetEvent"));
        }
        let r = match handles {
            None => WaitForSingleObject(o.wake, PATIENCE_MS),
            // SAFETY: `set` holds `len()` handles.
            Some(_) => unsafe {
                WaitForMultipleObjects(set.len() as DWORD, set.as_ptr(), FALSE, PATIENCE_MS)
            },
        };
        let woke = now_ns();
        if r != want {
            return Err(io::Error::other(format!(
                "sample {i}: the wait returned {r:#x}, not {want:#x} (Win32 error {})",
                GetLastError()
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
    handles_of(mode)?;
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
            assert_eq!(handles_of(&mode(w)).unwrap(), w);
        }
        assert!(handles_of("any-65").is_err() && handles_of("any-0").is_err());
        assert_eq!(api(None), "WaitForSingleObject");
    }
}
