//! Timer queues: `CreateTimerQueue`, `DeleteTimerQueue(Ex)`, `CreateTimerQueueTimer`,
//! `ChangeTimerQueueTimer`, `DeleteTimerQueueTimer`.
//!
//! The process's timer thread (`timer`) keeps the deadlines; each expiry runs the
//! callback on a thread of its own, so that a long callback delays no other timer. The
//! handles of queues and of their timers are no kernel handles (as on Windows): they
//! name entries of this module's tables, and one that is not there is refused.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::Object;
use crate::timing::{self, Due};
use crate::types::*;
use shmkit::sync::Event;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// `WAITORTIMERCALLBACK`.
pub type WaitOrTimerCallback = unsafe extern "C-unwind" fn(*mut c_void, BOOLEAN);

const WT_EXECUTEONLYONCE: ULONG = 0x0000_0008;
/// Every `WT_` flag: they choose threads (each callback has its own here) and are
/// accepted; other bits are `ERROR_INVALID_PARAMETER`.
const WT_KNOWN: ULONG = 0x0000_01FF;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct TimerState {
    /// Raised by every change and by deletion: an expiry armed before is ignored.
    generation: u64,
    period: Duration,
    /// A one-shot timer that fired: changing it does nothing, as on Windows.
    spent: bool,
    deleted: bool,
    /// Callbacks of this timer running now.
    running: u32,
    /// Events to set once the timer is deleted and no callback of it runs.
    on_done: Vec<Arc<Event>>,
}

struct QueueTimer {
    callback: WaitOrTimerCallback,
    /// The callback's argument (a C pointer, passed back as it came).
    param: usize,
    /// The queue it belongs to (0: the default queue).
    queue: usize,
    state: Mutex<TimerState>,
    idle: Condvar,
}

impl QueueTimer {
    /// Marks the timer deleted; `true` when no callback of it runs.
    fn delete(&self) -> bool {
        let mut s = lock(&self.state);
        s.deleted = true;
        s.generation += 1;
        s.running == 0
    }

    fn wait_idle(&self) {
        let mut s = lock(&self.state);
        while s.running > 0 {
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Sets `event` once no callback runs (at once when none does); `true` when now.
    fn set_when_idle(&self, event: Arc<Event>) -> bool {
        let mut s = lock(&self.state);
        if s.running == 0 {
            drop(s);
            let _ = event.set();
            true
        } else {
            s.on_done.push(event);
            false
        }
    }
}

impl Due for QueueTimer {
    fn fire(&self, generation: u64) -> Option<Instant> {
        let mut s = lock(&self.state);
        if s.generation != generation || s.deleted {
            return None;
        }
        s.running += 1;
        let next = if s.period.is_zero() {
            s.spent = true;
            None
        } else {
            Some(Instant::now() + s.period)
        };
        drop(s);
        let me = timers().get(&(self as *const QueueTimer as usize)).cloned();
        let Some(me) = me else {
            lock(&self.state).running -= 1;
            return None;
        };
        let started = std::thread::Builder::new()
            .name("shmkit-timer-callback".into())
            .spawn(move || {
                // SAFETY: the callback and its argument are what the C caller gave
                // CreateTimerQueueTimer, to be called so.
                unsafe { (me.callback)(me.param as *mut c_void, 1) };
                let mut s = lock(&me.state);
                s.running -= 1;
                if s.running == 0 {
                    let done = if s.deleted {
                        std::mem::take(&mut s.on_done)
                    } else {
                        Vec::new()
                    };
                    me.idle.notify_all();
                    drop(s);
                    for e in done {
                        let _ = e.set();
                    }
                }
            });
        if started.is_err() {
            lock(&self.state).running -= 1;
        }
        next
    }
}

/// The live timers, by handle value.
fn timers() -> MutexGuard<'static, HashMap<usize, Arc<QueueTimer>>> {
    static T: OnceLock<Mutex<HashMap<usize, Arc<QueueTimer>>>> = OnceLock::new();
    lock(T.get_or_init(|| Mutex::new(HashMap::new())))
}

/// The live queues, by handle value (each a box of its own, so that values differ).
fn queues() -> MutexGuard<'static, HashMap<usize, Box<u8>>> {
    static Q: OnceLock<Mutex<HashMap<usize, Box<u8>>>> = OnceLock::new();
    lock(Q.get_or_init(|| Mutex::new(HashMap::new())))
}

/// The queue `h` names: 0 for NULL (the default queue); `ERROR_INVALID_HANDLE` for a
/// value that is no live queue.
fn queue_of(h: HANDLE) -> Result<usize> {
    if h.is_null() {
        return Ok(0);
    }
    if queues().contains_key(&(h as usize)) {
        Ok(h as usize)
    } else {
        error::fail(err::INVALID_HANDLE)
    }
}

fn timer_of(h: HANDLE) -> Result<Arc<QueueTimer>> {
    match timers().get(&(h as usize)) {
        Some(t) => Ok(t.clone()),
        None => error::fail(err::INVALID_HANDLE),
    }
}

fn arm(t: &Arc<QueueTimer>, due: ULONG, period: ULONG, once: bool) {
    let generation = {
        let mut s = lock(&t.state);
        s.generation += 1;
        s.spent = false;
        s.period = if once {
            Duration::ZERO
        } else {
            Duration::from_millis(u64::from(period))
        };
        s.generation
    };
    let target: Arc<dyn Due> = t.clone();
    let at = Instant::now() + Duration::from_millis(u64::from(due));
    timing::schedule(at, Arc::downgrade(&target), generation);
}

/// What a deletion's `CompletionEvent` asks for.
enum Completion {
    /// NULL: do not wait.
    None,
    /// `INVALID_HANDLE_VALUE`: wait for running callbacks.
    Wait,
    /// An event to set when they are done.
    Event(Arc<Event>),
}

fn completion(h: HANDLE) -> Result<Completion> {
    if h.is_null() {
        Ok(Completion::None)
    } else if h == INVALID_HANDLE_VALUE {
        Ok(Completion::Wait)
    } else {
        match handles::get(h)? {
            Object::Event(e) => Ok(Completion::Event(e)),
            _ => error::fail(err::INVALID_HANDLE),
        }
    }
}

/// `CreateTimerQueue`: a new, empty timer queue.
#[no_mangle]
pub extern "C" fn CreateTimerQueue() -> HANDLE {
    let b = Box::new(0u8);
    let h = &*b as *const u8 as usize;
    queues().insert(h, b);
    h as HANDLE
}

/// `DeleteTimerQueueEx`: deletes the queue and every timer in it (none fires again);
/// `CompletionEvent` NULL returns at once, `INVALID_HANDLE_VALUE` returns once their
/// running callbacks have returned, an event is set then (`TRUE` either way, as on
/// Windows since Vista). A value that is no queue (NULL, the default queue, included) is
/// `ERROR_INVALID_HANDLE`, as is a completion handle that is no event; nothing is
/// deleted then.
#[no_mangle]
pub extern "C" fn DeleteTimerQueueEx(queue: HANDLE, completion_event: HANDLE) -> BOOL {
    ffi(FALSE, || {
        if queue.is_null() {
            return error::fail(err::INVALID_HANDLE);
        }
        let q = queue_of(queue)?;
        let done = completion(completion_event)?;
        queues().remove(&q);
        let mine: Vec<Arc<QueueTimer>> = {
            let mut all = timers();
            let keys: Vec<usize> = all
                .iter()
                .filter(|(_, t)| t.queue == q)
                .map(|(&k, _)| k)
                .collect();
            keys.iter().filter_map(|k| all.remove(k)).collect()
        };
        for t in &mine {
            t.delete();
        }
        match done {
            Completion::None => {}
            Completion::Wait => mine.iter().for_each(|t| t.wait_idle()),
            Completion::Event(e) => {
                std::thread::Builder::new()
                    .name("shmkit-timer-queue-delete".into())
                    .spawn(move || {
                        mine.iter().for_each(|t| t.wait_idle());
                        let _ = e.set();
                    })
                    .map_err(|_| error::Win32Error(err::NOT_ENOUGH_MEMORY))?;
            }
        }
        Ok(TRUE)
    })
}

/// `DeleteTimerQueue`: [`DeleteTimerQueueEx`] without waiting.
#[no_mangle]
pub extern "C" fn DeleteTimerQueue(queue: HANDLE) -> BOOL {
    DeleteTimerQueueEx(queue, std::ptr::null_mut())
}

/// `CreateTimerQueueTimer`: a timer in `TimerQueue` (NULL: the process's default queue)
/// that calls `Callback(Parameter, TRUE)` after `DueTime` ms, then every `Period` ms
/// (0, or the `WT_EXECUTEONLYONCE` flag: once), each call on a thread of the library.
/// The `WT_` flags are accepted (every callback has a thread of its own here). A NULL
/// `phNewTimer` or callback, or an unknown flag, is `ERROR_INVALID_PARAMETER`; a queue
/// that is not one is `ERROR_INVALID_HANDLE`.
///
/// # Safety
/// `ph` is NULL or points to a writable HANDLE; the callback may be called with
/// `param` from another thread until the timer is deleted.
#[no_mangle]
pub unsafe extern "C" fn CreateTimerQueueTimer(
    ph: *mut HANDLE,
    queue: HANDLE,
    callback: Option<WaitOrTimerCallback>,
    param: *mut c_void,
    due: DWORD,
    period: DWORD,
    flags: ULONG,
) -> BOOL {
    ffi(FALSE, || {
        let Some(callback) = callback else {
            return error::fail(err::INVALID_PARAMETER);
        };
        if ph.is_null() || flags & !WT_KNOWN != 0 {
            return error::fail(err::INVALID_PARAMETER);
        }
        let q = queue_of(queue)?;
        let t = Arc::new(QueueTimer {
            callback,
            param: param as usize,
            queue: q,
            state: Mutex::new(TimerState {
                generation: 0,
                period: Duration::ZERO,
                spent: false,
                deleted: false,
                running: 0,
                on_done: Vec::new(),
            }),
            idle: Condvar::new(),
        });
        let h = Arc::as_ptr(&t) as usize;
        timers().insert(h, t.clone());
        // The handle is stored before the timer is armed: a callback due at once may use it.
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { *ph = h as HANDLE };
        arm(&t, due, period, flags & WT_EXECUTEONLYONCE != 0);
        Ok(TRUE)
    })
}

/// `ChangeTimerQueueTimer`: the timer next fires `DueTime` ms from now, then every
/// `Period` ms (0: once). A one-shot timer that has fired is not armed again (`TRUE`,
/// nothing changes, as on Windows). A timer that is not one is `ERROR_INVALID_HANDLE`.
/// The queue is not checked: a timer may be changed through any queue, as on Windows.
#[no_mangle]
pub extern "C" fn ChangeTimerQueueTimer(
    _queue: HANDLE,
    timer: HANDLE,
    due: ULONG,
    period: ULONG,
) -> BOOL {
    ffi(FALSE, || {
        let t = timer_of(timer)?;
        if lock(&t.state).spent {
            return Ok(TRUE);
        }
        arm(&t, due, period, false);
        Ok(TRUE)
    })
}

/// `DeleteTimerQueueTimer`: deletes the timer (it does not fire again). With
/// `CompletionEvent` `INVALID_HANDLE_VALUE` it returns once a running callback of it has
/// returned (a callback deleting its own timer so waits for itself); NULL or an event:
/// at once, and when a callback still runs it fails with `ERROR_IO_PENDING` (the timer is
/// deleted all the same; the event is set when the callback returns, at once when none
/// runs). A timer that is not one, or a completion handle that is no event, is
/// `ERROR_INVALID_HANDLE`, and nothing is deleted.
#[no_mangle]
pub extern "C" fn DeleteTimerQueueTimer(
    _queue: HANDLE,
    timer: HANDLE,
    completion_event: HANDLE,
) -> BOOL {
    ffi(FALSE, || {
        let t = timer_of(timer)?;
        let done = completion(completion_event)?;
        if timers().remove(&(timer as usize)).is_none() {
            return error::fail(err::INVALID_HANDLE);
        }
        let idle = t.delete();
        match done {
            Completion::Wait => {
                t.wait_idle();
                Ok(TRUE)
            }
            Completion::None if idle => Ok(TRUE),
            Completion::None => error::fail(err::IO_PENDING),
            Completion::Event(e) => {
                if t.set_when_idle(e) {
                    Ok(TRUE)
                } else {
                    error::fail(err::IO_PENDING)
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C-unwind" fn nothing(_: *mut c_void, _: BOOLEAN) {}

    #[test]
    fn values_that_are_no_queue_or_timer_are_refused() {
        let bogus = 0x7ff0 as HANDLE;
        let mut t: HANDLE = std::ptr::null_mut();
        error::set(0);
        // SAFETY: `t` is a writable HANDLE.
        let r = unsafe {
            CreateTimerQueueTimer(&mut t, bogus, Some(nothing), std::ptr::null_mut(), 0, 0, 0)
        };
        assert_eq!((r, error::get()), (FALSE, err::INVALID_HANDLE));
        // SAFETY: a NULL out pointer is what is tested; it is not written.
        let r = unsafe {
            CreateTimerQueueTimer(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                Some(nothing),
                std::ptr::null_mut(),
                0,
                0,
                0,
            )
        };
        assert_eq!(
            (r, error::get()),
            (FALSE, err::INVALID_PARAMETER),
            "Wine 8 crashes"
        );
        // SAFETY: as above.
        let r = unsafe {
            CreateTimerQueueTimer(
                &mut t,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
                0,
                0,
                0,
            )
        };
        assert_eq!((r, error::get()), (FALSE, err::INVALID_PARAMETER));
        assert_eq!(
            ChangeTimerQueueTimer(std::ptr::null_mut(), bogus, 0, 0),
            FALSE
        );
        assert_eq!(error::get(), err::INVALID_HANDLE);
        assert_eq!(
            DeleteTimerQueueTimer(std::ptr::null_mut(), bogus, std::ptr::null_mut()),
            FALSE
        );
        assert_eq!(error::get(), err::INVALID_HANDLE);
        assert_eq!(
            DeleteTimerQueueEx(std::ptr::null_mut(), std::ptr::null_mut()),
            FALSE
        );
        assert_eq!(error::get(), err::INVALID_HANDLE);
        let q = CreateTimerQueue();
        assert_eq!(DeleteTimerQueue(q), TRUE);
        assert_eq!(DeleteTimerQueue(q), FALSE, "deleted once");
        assert_eq!(error::get(), err::INVALID_HANDLE);
    }

    static GO: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    unsafe extern "C-unwind" fn held(_: *mut c_void, _: BOOLEAN) {
        use std::sync::atomic::Ordering::SeqCst;
        STARTED.store(true, SeqCst);
        while !GO.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The queue's completion event is set once the running callbacks have returned.
    #[test]
    fn a_queue_deleted_with_an_event_sets_it_after_its_callbacks() {
        use crate::wait::WaitForSingleObject;
        use std::sync::atomic::Ordering::SeqCst;
        // SAFETY: NULL attributes and name.
        let e =
            unsafe { crate::sync::CreateEventA(std::ptr::null(), TRUE, FALSE, std::ptr::null()) };
        let q = CreateTimerQueue();
        let mut t: HANDLE = std::ptr::null_mut();
        // SAFETY: `t` is a writable HANDLE.
        let r =
            unsafe { CreateTimerQueueTimer(&mut t, q, Some(held), std::ptr::null_mut(), 0, 0, 0) };
        assert_eq!(r, TRUE);
        while !STARTED.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(DeleteTimerQueueEx(q, e), TRUE);
        assert_eq!(
            WaitForSingleObject(e, 100),
            WAIT_TIMEOUT,
            "the callback still runs"
        );
        GO.store(true, SeqCst);
        assert_eq!(WaitForSingleObject(e, 10_000), WAIT_OBJECT_0);
        assert_eq!(crate::handles::CloseHandle(e), TRUE);
    }
}
