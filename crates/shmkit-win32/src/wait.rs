//! `WaitForSingleObject`, `WaitForMultipleObjects` and `SignalObjectAndWait` over every
//! waitable handle.
//!
//! A wait for one object is that object's own wait (shmkit's mutex, event and semaphore
//! waits; a process's exit word). A wait for several is `shmkit::sync::multi`: it joins
//! each object as that object's own waiters do and sleeps on all their futex words at
//! once (`futex_waitv`), so it wakes as soon as any of them is released, set or ends, as a
//! single wait does. A process is a word raised when it ends (`objects::ProcessObject`).

use crate::apc;
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{Object, ProcessObject, ThreadLife};
use crate::sync;
use crate::types::*;
use shmkit::sync::multi::{self, Woken};
use shmkit::sync::{Acquire, Event, Mutex, Semaphore};
use std::sync::atomic::AtomicU32;
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

/// The calling process's word in a multi-object wait: never raised. One word for every
/// handle to it, so that a wait-all naming it twice is refused, as on Windows.
static CURRENT: AtomicU32 = AtomicU32::new(0);

/// The one place a handle becomes something to wait for.
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
        Object::Process(p) if p.is_current() => Ok(Waitable::Current),
        Object::Process(p) | Object::Thread(p) => Ok(Waitable::Process(p)),
        Object::Mutex(m) => Ok(Waitable::Mutex(m)),
        Object::Event(e) => Ok(Waitable::Event(e)),
        Object::Semaphore(s) => Ok(Waitable::Semaphore(s)),
        // A waitable timer is the event its expiries set.
        Object::Timer(t) => Ok(Waitable::Event(t.event())),
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
            Waitable::Process(p) => Ok(p.wait(timeout)?.then_some(Signal::Signalled)),
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

    /// The object as a member of a multi-object wait; `always` is a raised word of the
    /// wait's own, for an object that is always signalled.
    fn member<'a>(&'a self, always: &'a AtomicU32) -> Result<multi::Waitable<'a>> {
        Ok(match self {
            Waitable::Process(p) => multi::Waitable::Flag(p.exit_word()?),
            Waitable::Mutex(m) => multi::Waitable::Mutex(m),
            Waitable::Event(e) => multi::Waitable::Event(e),
            Waitable::Semaphore(s) => multi::Waitable::Semaphore(s),
            Waitable::Current => multi::Waitable::Flag(&CURRENT),
            Waitable::Signalled => multi::Waitable::Flag(always),
        })
    }
}

fn timeout_of(ms: DWORD) -> Option<Duration> {
    (ms != INFINITE).then(|| Duration::from_millis(u64::from(ms)))
}

fn single(w: &Waitable, ms: DWORD) -> Result<DWORD> {
    Ok(match w.wait(timeout_of(ms))? {
        Some(Signal::Signalled) => WAIT_OBJECT_0,
        Some(Signal::Abandoned) => WAIT_ABANDONED_0,
        None => WAIT_TIMEOUT,
    })
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
    ffi(WAIT_FAILED, || single(&waitable(h)?, ms))
}

/// `WaitForMultipleObjects`: waits for any one (`bWaitAll` FALSE) or all of up to
/// `MAXIMUM_WAIT_OBJECTS` (64) objects, or until `dwMilliseconds` pass. Returns
/// `WAIT_OBJECT_0 + i` for the lowest-numbered signalled object `i` (wait-any; only that
/// one is taken) or `WAIT_OBJECT_0` (wait-all: all were taken); `WAIT_ABANDONED_0 + i`
/// when the object taken is a mutex whose owner died holding it (wait-all:
/// `WAIT_ABANDONED_0` when one of them is); `WAIT_TIMEOUT`; `WAIT_FAILED` with
/// `ERROR_INVALID_PARAMETER` for a count of 0 or above 64, a NULL array, or a wait-all
/// that names one object twice (the same handle, or two handles to one object), and
/// `ERROR_INVALID_HANDLE` (or `ERROR_ACCESS_DENIED` for a mapping) for a bad handle
/// anywhere in the array, before anything is taken.
///
/// The wait sleeps on all the objects at once and returns within microseconds of the
/// release, set or end that satisfies it. A wait-all takes nothing until every object is
/// signalled: meanwhile it owns none of its mutexes, takes no semaphore unit and consumes
/// no auto-reset event. Taking them all is one step, as on Windows: the wait reserves
/// every object before it takes any, and no other thread takes or resets a reserved one,
/// so no thread sees some of the set taken and the others not
/// (`shmkit::sync::multi::wait_all`).
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
    // SAFETY: by the function's contract.
    unsafe { multiple(count, handles, wait_all, ms, false) }
}

/// `WaitForMultipleObjects(Ex)`: `alertable` as `WaitForMultipleObjectsEx` takes it.
///
/// # Safety
/// `handles` points to `count` handles.
pub(crate) unsafe fn multiple(
    count: DWORD,
    handles: *const HANDLE,
    wait_all: BOOL,
    ms: DWORD,
    alertable: bool,
) -> DWORD {
    ffi(WAIT_FAILED, || {
        if count == 0 || count > MAXIMUM_WAIT_OBJECTS || handles.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: `handles` holds `count` handles, by the function's contract.
        let list = unsafe { std::slice::from_raw_parts(handles, count as usize) };
        // Unlike WaitForSingleObject, the pseudo handles are refused, as on Windows.
        if list.iter().any(|&h| handles::is_pseudo(h)) {
            return error::fail(err::INVALID_HANDLE);
        }
        let set = list
            .iter()
            .map(|&h| waitable(h))
            .collect::<Result<Vec<_>>>()?;
        if set.len() == 1 && !alertable {
            return single(&set[0], ms);
        }
        wait_set(&set, wait_all != 0, ms, alertable)
    })
}

/// Waits for a set of objects (any or all of them) on `shmkit::sync::multi`. An
/// alertable wait that is not satisfied at once runs the thread's queued APCs and
/// returns `WAIT_IO_COMPLETION`, or sleeps on the thread's APC word too (a wait-any; a
/// wait-all looks at it between sleeps of `apc::ALL_SLICE`).
fn wait_set(set: &[Waitable], all: bool, ms: DWORD, alertable: bool) -> Result<DWORD> {
    // One raised word per always-signalled object: two files are two objects.
    let always: Vec<AtomicU32> = set.iter().map(|_| AtomicU32::new(1)).collect();
    let mut members = set
        .iter()
        .zip(&always)
        .map(|(w, a)| w.member(a))
        .collect::<Result<Vec<_>>>()?;
    // "The array may not contain multiple copies of the same handle", nor of the same
    // object: a wait-all naming one twice is ERROR_INVALID_PARAMETER (a wait-any is
    // fine), which `wait_all` checks.
    let take = |members: &[multi::Waitable<'_>], timeout: Option<Duration>| {
        if all {
            multi::wait_all(members, timeout)
        } else {
            multi::wait_any(members, timeout)
        }
    };
    let result = |woken: Woken| match woken {
        Woken::Signalled(i) => WAIT_OBJECT_0 + i as DWORD,
        Woken::Abandoned(i) => WAIT_ABANDONED_0 + i as DWORD,
        Woken::TimedOut => WAIT_TIMEOUT,
    };
    if !alertable {
        return Ok(result(take(&members, timeout_of(ms))?));
    }
    // Alertable: an object signalled now is taken first; else queued APCs end the wait.
    let woken = take(&members, Some(Duration::ZERO))?;
    if woken != Woken::TimedOut {
        return Ok(result(woken));
    }
    let life = ThreadLife::this_thread();
    let ctl = &life.ctl;
    if ctl.run_pending() {
        return Ok(apc::WAIT_IO_COMPLETION);
    }
    let deadline = timeout_of(ms).map(|t| Instant::now() + t);
    let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let n = members.len();
    if !all {
        members.push(multi::Waitable::Flag(ctl.pending_word()));
    }
    loop {
        let woken = if all {
            let slice = left().map_or(apc::ALL_SLICE, |l| l.min(apc::ALL_SLICE));
            take(&members, Some(slice))?
        } else {
            take(&members, left())?
        };
        match woken {
            Woken::Signalled(i) if i == n => {}
            Woken::TimedOut => {}
            woken => return Ok(result(woken)),
        }
        if ctl.run_pending() {
            return Ok(apc::WAIT_IO_COMPLETION);
        }
        if left().is_some_and(|l| l.is_zero()) {
            return Ok(WAIT_TIMEOUT);
        }
    }
}

/// `WaitForSingleObjectEx` with `bAlertable`.
pub(crate) fn single_alertable(h: HANDLE, ms: DWORD) -> DWORD {
    ffi(WAIT_FAILED, || wait_set(&[waitable(h)?], false, ms, true))
}

/// `SleepEx` with `bAlertable`: 0 after `ms`, or `WAIT_IO_COMPLETION` once queued APCs
/// have run.
pub(crate) fn sleep_alertable(ms: DWORD) -> DWORD {
    let life = ThreadLife::this_thread();
    let ctl = &life.ctl;
    let deadline = timeout_of(ms).map(|t| Instant::now() + t);
    loop {
        if ctl.run_pending() {
            return apc::WAIT_IO_COMPLETION;
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return 0;
        }
        let flag = [multi::Waitable::Flag(ctl.pending_word())];
        if multi::wait_any(&flag, left).is_err() {
            // Cannot fail for a word of our own; sleep on as `Sleep` would.
            if let Some(l) = left {
                std::thread::sleep(l);
            }
        }
    }
}

/// `SignalObjectAndWait`: signals `hObjectToSignal` (releases a mutex once, releases one
/// unit of a semaphore, or sets an event), then waits for `hObjectToWaitOn` as
/// [`WaitForSingleObject`] does, and returns what that wait returns.
///
/// Both handles are checked first: one to signal that is not a mutex, a semaphore or an
/// event is `ERROR_INVALID_HANDLE`, and one to wait for that cannot be waited for fails as
/// `WaitForSingleObject` would, before anything is signalled. A signal that fails — a
/// mutex the calling thread does not own (`ERROR_NOT_OWNER`), a semaphore at its maximum
/// (`ERROR_TOO_MANY_POSTS`) — fails the call, and nothing is waited for. With
/// `bAlertable` the wait is `WaitForSingleObjectEx`'s alertable one: APCs queued to the
/// thread end it if the object is not signalled at once (`WAIT_IO_COMPLETION`). Windows signals and starts the wait in one step; here the wait starts right
/// after the signal, which no object's state can tell apart (a set or release is kept
/// until someone takes it).
#[no_mangle]
pub extern "C" fn SignalObjectAndWait(
    signal: HANDLE,
    wait_on: HANDLE,
    ms: DWORD,
    alertable: BOOL,
) -> DWORD {
    ffi(WAIT_FAILED, || {
        let target = sync::signalable(signal)?;
        let w = waitable(wait_on)?;
        target.signal()?;
        if alertable != 0 {
            wait_set(&[w], false, ms, true)
        } else {
            single(&w, ms)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{CreateEventA, CreateMutexA, CreateSemaphoreA, ReleaseMutex};

    fn event(manual: BOOL, set: BOOL) -> HANDLE {
        // SAFETY: a NULL SECURITY_ATTRIBUTES and a NULL name are allowed.
        let h = unsafe { CreateEventA(std::ptr::null(), manual, set, std::ptr::null()) };
        assert!(!h.is_null());
        h
    }

    fn wait(handles: &[HANDLE], all: BOOL, ms: DWORD) -> (DWORD, DWORD) {
        error::set(0);
        // SAFETY: `handles` holds `len()` handles.
        let r =
            unsafe { WaitForMultipleObjects(handles.len() as DWORD, handles.as_ptr(), all, ms) };
        (r, error::get())
    }

    /// Issue row: a wait-all given the same handle twice succeeded; Windows fails it with
    /// ERROR_INVALID_PARAMETER. A wait-any with a duplicate is fine.
    #[test]
    fn a_wait_all_with_a_handle_twice_is_an_invalid_parameter() {
        let h = event(TRUE, TRUE);
        let twice = [h, h];
        assert_eq!(wait(&twice, TRUE, 0), (WAIT_FAILED, err::INVALID_PARAMETER));
        assert_eq!(wait(&twice, FALSE, 0).0, WAIT_OBJECT_0);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    /// Windows refuses two handles to one object in a wait-all too (Wine accepts them).
    #[test]
    fn a_wait_all_with_one_object_under_two_handles_is_an_invalid_parameter() {
        let h = event(TRUE, TRUE);
        let mut copy: HANDLE = std::ptr::null_mut();
        let me = INVALID_HANDLE_VALUE;
        // SAFETY: `copy` is a writable HANDLE.
        let ok = unsafe { crate::handles::DuplicateHandle(me, h, me, &mut copy, 0, FALSE, 2) };
        assert_eq!(ok, TRUE);
        assert_eq!(
            wait(&[h, copy], TRUE, 0),
            (WAIT_FAILED, err::INVALID_PARAMETER)
        );
        assert_eq!(wait(&[h, copy], FALSE, 0).0, WAIT_OBJECT_0);
        // The pseudo handle itself is refused in a multi-object wait, as on Windows.
        assert_eq!(wait(&[me, me], TRUE, 0), (WAIT_FAILED, err::INVALID_HANDLE));
        let other = event(TRUE, TRUE);
        assert_eq!(
            wait(&[h, other], TRUE, 0).0,
            WAIT_OBJECT_0,
            "two objects are fine"
        );
        for x in [h, copy, other] {
            assert_eq!(crate::handles::CloseHandle(x), TRUE);
        }
    }

    #[test]
    fn bad_counts_arrays_and_handles_fail_before_anything_is_taken() {
        let e = event(FALSE, TRUE);
        assert_eq!(wait(&[], FALSE, 0), (WAIT_FAILED, err::INVALID_PARAMETER));
        let many = vec![e; 65];
        assert_eq!(wait(&many, FALSE, 0), (WAIT_FAILED, err::INVALID_PARAMETER));
        error::set(0);
        // SAFETY: a NULL array is what is tested; the function must not read it.
        let r = unsafe { WaitForMultipleObjects(1, std::ptr::null(), FALSE, 0) };
        assert_eq!((r, error::get()), (WAIT_FAILED, err::INVALID_PARAMETER));
        let bogus = 0x1234 as HANDLE;
        assert_eq!(
            wait(&[e, bogus], FALSE, 0),
            (WAIT_FAILED, err::INVALID_HANDLE)
        );
        assert_eq!(
            wait(&[e], FALSE, 0).0,
            WAIT_OBJECT_0,
            "the event was not consumed"
        );
        assert_eq!(crate::handles::CloseHandle(e), TRUE);
    }

    #[test]
    fn signal_object_and_wait_checks_both_handles_before_it_signals() {
        let e = event(FALSE, FALSE);
        let target = event(FALSE, TRUE);
        error::set(0);
        assert_eq!(
            SignalObjectAndWait(e, 0x1234 as HANDLE, 0, FALSE),
            WAIT_FAILED
        );
        assert_eq!(error::get(), err::INVALID_HANDLE);
        assert_eq!(WaitForSingleObject(e, 0), WAIT_TIMEOUT, "not signalled");
        assert_eq!(
            SignalObjectAndWait(INVALID_HANDLE_VALUE, target, 0, FALSE),
            WAIT_FAILED
        );
        assert_eq!(
            error::get(),
            err::INVALID_HANDLE,
            "a process cannot be signalled"
        );
        assert_eq!(SignalObjectAndWait(e, target, 0, FALSE), WAIT_OBJECT_0);
        assert_eq!(WaitForSingleObject(e, 0), WAIT_OBJECT_0, "signalled");
        // SAFETY: NULL attributes and name.
        let m = unsafe { CreateMutexA(std::ptr::null(), FALSE, std::ptr::null()) };
        assert_eq!(SignalObjectAndWait(m, e, 0, FALSE), WAIT_FAILED);
        assert_eq!(error::get(), err::NOT_OWNER);
        // SAFETY: NULL attributes and name.
        let s = unsafe { CreateSemaphoreA(std::ptr::null(), 1, 1, std::ptr::null()) };
        assert_eq!(SignalObjectAndWait(s, e, 0, FALSE), WAIT_FAILED);
        assert_eq!(error::get(), err::TOO_MANY_POSTS);
        assert_eq!(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
        assert_eq!(
            SignalObjectAndWait(m, m, 0, FALSE),
            WAIT_OBJECT_0,
            "released, retaken"
        );
        assert_eq!(ReleaseMutex(m), TRUE);
        assert_eq!(ReleaseMutex(m), FALSE);
        for h in [e, target, m, s] {
            assert_eq!(crate::handles::CloseHandle(h), TRUE);
        }
    }
}
