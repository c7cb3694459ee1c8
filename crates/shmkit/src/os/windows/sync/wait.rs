//! Waiting and signalling: `WaitForSingleObject` with any timeout, and what each kind
//! does with it — a mutex's acquire and release (`WAIT_ABANDONED`, ERROR_NOT_OWNER), an
//! event's set, reset and wait, a semaphore's release (ERROR_TOO_MANY_POSTS) and acquire.

use super::super::sys::{code_of, last_error};
use super::kernel;
use super::SyncHandle;
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Acquire, Kind};
use std::io;
use std::os::windows::io::RawHandle;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{HANDLE, WAIT_ABANDONED, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    ReleaseMutex, ReleaseSemaphore, ResetEvent, SetEvent, WaitForSingleObject, INFINITE,
};

/// Waits for `h`; `None` waits forever, `Some(ZERO)` polls. Timeouts longer than
/// `WaitForSingleObject` can express are waited in several calls.
fn wait(h: RawHandle, timeout: Option<Duration>) -> io::Result<u32> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let ms = match (timeout, deadline) {
            (None, _) | (Some(_), None) => INFINITE,
            (Some(_), Some(d)) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up, so that a wait never ends before its timeout.
                let ms = left.as_nanos().div_ceil(1_000_000);
                u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
            }
        };
        // SAFETY: plain FFI call on a handle the caller owns.
        let r = unsafe { WaitForSingleObject(h as HANDLE, ms) };
        match r {
            WAIT_TIMEOUT if deadline.is_some_and(|d| Instant::now() < d) => continue,
            WAIT_OBJECT_0 | WAIT_ABANDONED | WAIT_TIMEOUT => return Ok(r),
            _ => return Err(last_error()),
        }
    }
}

impl SyncHandle {
    pub(crate) fn mutex_acquire(&self, timeout: Option<Duration>) -> Result<Acquire> {
        if self.kind != Kind::Mutex {
            return Err(self.wrong_op("waiting for a mutex"));
        }
        match wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))? {
            WAIT_OBJECT_0 => Ok(Acquire::Acquired),
            WAIT_ABANDONED => Ok(Acquire::Abandoned),
            _ => Ok(Acquire::TimedOut),
        }
    }

    pub(crate) fn mutex_release(&self) -> Result<()> {
        if self.kind != Kind::Mutex {
            return Err(self.wrong_op("releasing a mutex"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { ReleaseMutex(self.raw() as HANDLE) } == 0 {
            let e = last_error();
            if code_of(&e) == code::NOT_OWNER {
                return Err(Error::new(
                    ErrorKind::NotOwner,
                    format!(
                        "releasing {}: the calling thread does not own it",
                        self.what()
                    ),
                ));
            }
            return Err(self.fail("releasing", e));
        }
        Ok(())
    }

    pub(crate) fn mutex_owned_by_caller(&self) -> bool {
        self.kind == Kind::Mutex
            && kernel::query_mutant(self.raw()).is_ok_and(|i| i.owned_by_caller != 0)
    }

    pub(crate) fn event_set(&self) -> Result<()> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("setting an event"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { SetEvent(self.raw() as HANDLE) } == 0 {
            return Err(self.fail("setting", last_error()));
        }
        Ok(())
    }

    pub(crate) fn event_reset(&self) -> Result<()> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("resetting an event"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { ResetEvent(self.raw() as HANDLE) } == 0 {
            return Err(self.fail("resetting", last_error()));
        }
        Ok(())
    }

    pub(crate) fn event_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("waiting for an event"));
        }
        let r = wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))?;
        Ok(r == WAIT_OBJECT_0)
    }

    pub(crate) fn event_manual(&self) -> bool {
        self.kind == Kind::Event && self.param != 0
    }

    pub(crate) fn semaphore_release(&self, n: u32) -> Result<u32> {
        if self.kind != Kind::Semaphore {
            return Err(self.wrong_op("releasing a semaphore"));
        }
        let mut previous = 0i32;
        // SAFETY: plain FFI call on a handle this value owns; `previous` is a valid out
        // pointer. The public layer checked that `n` fits an i32.
        if unsafe { ReleaseSemaphore(self.raw() as HANDLE, n as i32, &mut previous) } == 0 {
            let e = last_error();
            if code_of(&e) == code::TOO_MANY_POSTS {
                return Err(Error::new(
                    ErrorKind::TooManyPosts,
                    format!(
                        "releasing {} by {n}: its count would pass its maximum {}; \
                         nothing changed",
                        self.what(),
                        self.param
                    ),
                ));
            }
            return Err(self.fail("releasing", e));
        }
        Ok(previous as u32)
    }

    pub(crate) fn semaphore_acquire(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != Kind::Semaphore {
            return Err(self.wrong_op("waiting for a semaphore"));
        }
        let r = wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))?;
        Ok(r == WAIT_OBJECT_0)
    }

    pub(crate) fn semaphore_max(&self) -> u32 {
        if self.kind == Kind::Semaphore {
            self.param
        } else {
            0
        }
    }
}
