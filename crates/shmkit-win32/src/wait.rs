//! `WaitForSingleObject` and `WaitForMultipleObjects` over every waitable handle.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{Object, ProcessObject};
use crate::types::*;
use shmkit::sync::{Acquire, Event, EventReset, Mutex, Semaphore};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one successful wait reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// The object was signalled (and, for a mutex or semaphore, acquired).
    Signalled,
    /// A mutex whose owner died holding it: acquired, but its data may be inconsistent.
    Abandoned,
}

/// An object a thread can wait for.
enum Waitable {
    Process(Arc<ProcessObject>),
    Mutex(Arc<Mutex>),
    Event(Arc<Event>),
    Semaphore(Arc<Semaphore>),
    /// The calling process: never signalled while anyone waits.
    Current,
    /// Always signalled.
    Signalled,
}

fn waitable(h: HANDLE) -> Result<Waitable> {
    if h == INVALID_HANDLE_VALUE {
        return Ok(Waitable::Current);
    }
    let (object, granted) = handles::get_with_access(h)?;
    if let Some(code) = crate::access::wait_refused(object.class(), granted) {
        // Without SYNCHRONIZE a handle cannot be waited for; a mapping never can.
        return error::fail(code);
    }
    match object {
        Object::Process(p) | Object::Thread(p) => Ok(Waitable::Process(p)),
        Object::Mutex(m) => Ok(Waitable::Mutex(m)),
        Object::Event(e) => Ok(Waitable::Event(e)),
        Object::Semaphore(s) => Ok(Waitable::Semaphore(s)),
        // A file handle is signalled (no I/O is ever pending); a mapping handle was
        // refused above.
        Object::File(_) => Ok(Waitable::Signalled),
        Object::Mapping(_) => error::fail(err::INVALID_HANDLE),
    }
}

impl Waitable {
    /// Waits up to `timeout` (`None`: forever); `None` when it timed out.
    fn wait(&self, timeout: Option<Duration>) -> Result<Option<Signal>> {
        match self {
            Waitable::Process(p) => Ok(p.wait(timeout).then_some(Signal::Signalled)),
            Waitable::Mutex(m) => Ok(match m.acquire(timeout)? {
                Acquire::Acquired => Some(Signal::Signalled),
                Acquire::Abandoned => Some(Signal::Abandoned),
                _ => None,
            }),
            Waitable::Event(e) => Ok(match timeout {
                Some(t) => e.wait_timeout(t)?,
                None => e.wait().map(|()| true)?,
            }
            .then_some(Signal::Signalled)),
            Waitable::Semaphore(s) => Ok(match timeout {
                Some(t) => s.acquire_timeout(t)?,
                None => s.acquire().map(|()| true)?,
            }
            .then_some(Signal::Signalled)),
            Waitable::Current => {
                match timeout {
                    Some(t) => std::thread::sleep(t),
                    None => loop {
                        std::thread::park();
                    },
                }
                Ok(None)
            }
            Waitable::Signalled => Ok(Some(Signal::Signalled)),
        }
    }

    /// Takes the object if it is signalled now, without blocking.
    fn try_take(&self) -> Result<Option<Signal>> {
        match self {
            Waitable::Process(p) => Ok(p.poll().map(|_| Signal::Signalled)),
            Waitable::Mutex(_) | Waitable::Event(_) | Waitable::Semaphore(_) => {
                self.wait(Some(Duration::ZERO))
            }
            Waitable::Current => Ok(None),
            Waitable::Signalled => Ok(Some(Signal::Signalled)),
        }
    }

    /// Gives back what a successful `try_take` took (for wait-all, when another object
    /// of the set is not ready).
    fn give_back(&self) {
        let _ = match self {
            Waitable::Mutex(m) => m.release(),
            Waitable::Semaphore(s) => s.release(1).map(|_| ()),
            Waitable::Event(e) if e.reset_kind() == EventReset::Auto => e.set(),
            Waitable::Event(_) | Waitable::Process(_) | Waitable::Current | Waitable::Signalled => {
                Ok(())
            }
        };
    }
}

fn timeout_of(ms: DWORD) -> Option<Duration> {
    (ms != INFINITE).then(|| Duration::from_millis(u64::from(ms)))
}

/// `WaitForSingleObject`: waits until the object is signalled or `dwMilliseconds` pass
/// (0 polls, `INFINITE` waits forever). Processes and threads are signalled when they
/// end; a mutex when free (the wait acquires it; `WAIT_ABANDONED` when its owner died
/// holding it); an event when set; a semaphore when its count is above 0 (the wait takes
/// one). Returns `WAIT_OBJECT_0`, `WAIT_ABANDONED`, `WAIT_TIMEOUT`, or `WAIT_FAILED`
/// (with `ERROR_INVALID_HANDLE` for a bad handle, `ERROR_ACCESS_DENIED` for a mapping,
/// which cannot be waited for).
#[no_mangle]
pub extern "C" fn WaitForSingleObject(h: HANDLE, ms: DWORD) -> DWORD {
    ffi(WAIT_FAILED, || {
        let w = waitable(h)?;
        Ok(match w.wait(timeout_of(ms))? {
            Some(Signal::Signalled) => WAIT_OBJECT_0,
            Some(Signal::Abandoned) => WAIT_ABANDONED_0,
            None => WAIT_TIMEOUT,
        })
    })
}

/// One pass over the set: the index of the first signalled object (wait-any), or
/// whether all were taken together (wait-all).
fn poll_set(set: &[Waitable], all: bool) -> Result<Option<(usize, Signal)>> {
    if !all {
        for (i, w) in set.iter().enumerate() {
            if let Some(s) = w.try_take()? {
                return Ok(Some((i, s)));
            }
        }
        return Ok(None);
    }
    let mut taken = Vec::with_capacity(set.len());
    let mut abandoned = false;
    for w in set {
        match w.try_take() {
            Ok(Some(s)) => {
                abandoned |= s == Signal::Abandoned;
                taken.push(w);
            }
            other => {
                for t in taken.into_iter().rev() {
                    t.give_back();
                }
                return other.map(|_| None);
            }
        }
    }
    let signal = if abandoned {
        Signal::Abandoned
    } else {
        Signal::Signalled
    };
    Ok(Some((0, signal)))
}

/// `WaitForMultipleObjects`: waits for any one (`bWaitAll` FALSE) or all of up to
/// `MAXIMUM_WAIT_OBJECTS` (64) objects. Returns `WAIT_OBJECT_0 + i` for the first
/// signalled object `i` (wait-any) or `WAIT_OBJECT_0` (wait-all); `WAIT_ABANDONED_0 + i`
/// for an abandoned mutex; `WAIT_TIMEOUT`; `WAIT_FAILED` with `ERROR_INVALID_PARAMETER`
/// for a bad count and `ERROR_INVALID_HANDLE` for a bad handle. A wait-all returns only
/// once it holds every object, but unlike Windows it does not take them in one atomic
/// step: it polls, taking the objects one by one, and when one is not ready it gives back
/// those it took and tries again; other threads may see those objects taken meanwhile.
///
/// # Safety
/// `handles` points to `count` handles.
#[no_mangle]
pub unsafe extern "C" fn WaitForMultipleObjects(
    count: DWORD,
    handles: *const HANDLE,
    wait_all: BOOL,
    ms: DWORD,
) -> DWORD {
    ffi(WAIT_FAILED, || {
        if count == 0 || count > MAXIMUM_WAIT_OBJECTS || handles.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: `handles` holds `count` handles, by the function's contract.
        let list = unsafe { std::slice::from_raw_parts(handles, count as usize) };
        // "The array may not contain multiple copies of the same handle": Windows refuses
        // it for a wait-all (a wait-any returns the first).
        if wait_all != 0 && list.iter().enumerate().any(|(i, h)| list[..i].contains(h)) {
            return error::fail(err::INVALID_PARAMETER);
        }
        let set = list
            .iter()
            .map(|&h| waitable(h))
            .collect::<Result<Vec<_>>>()?;
        if set.len() == 1 {
            return Ok(match set[0].wait(timeout_of(ms))? {
                Some(Signal::Signalled) => WAIT_OBJECT_0,
                Some(Signal::Abandoned) => WAIT_ABANDONED_0,
                None => WAIT_TIMEOUT,
            });
        }
        let deadline = timeout_of(ms).map(|t| Instant::now() + t);
        let mut pause = Duration::from_micros(100);
        loop {
            if let Some((i, s)) = poll_set(&set, wait_all != 0)? {
                let base = if s == Signal::Abandoned {
                    WAIT_ABANDONED_0
                } else {
                    WAIT_OBJECT_0
                };
                return Ok(base + i as DWORD);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(WAIT_TIMEOUT);
            }
            std::thread::sleep(deadline.map_or(pause, |d| pause.min(d - now)));
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::CreateEventA;

    /// Issue row: a wait-all given the same handle twice succeeded; Windows fails it with
    /// ERROR_INVALID_PARAMETER. A wait-any with a duplicate is fine.
    #[test]
    fn a_wait_all_with_a_handle_twice_is_an_invalid_parameter() {
        // SAFETY: a NULL SECURITY_ATTRIBUTES and a NULL name are allowed.
        let h = unsafe { CreateEventA(std::ptr::null(), TRUE, TRUE, std::ptr::null()) };
        assert!(!h.is_null());
        let twice = [h, h];
        // SAFETY: `twice` holds 2 handles.
        let r = unsafe { WaitForMultipleObjects(2, twice.as_ptr(), TRUE, 0) };
        assert_eq!((r, error::get()), (WAIT_FAILED, err::INVALID_PARAMETER));
        // SAFETY: as above.
        let r = unsafe { WaitForMultipleObjects(2, twice.as_ptr(), FALSE, 0) };
        assert_eq!(r, WAIT_OBJECT_0);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }
}
