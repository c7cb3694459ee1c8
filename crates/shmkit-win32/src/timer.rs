//! Waitable timers: `CreateWaitableTimer(Ex)`, `OpenWaitableTimer`, `SetWaitableTimer(Ex)`,
//! `CancelWaitableTimer`, over the objects and the timer thread of `timing`.
//!
//! A waitable timer is a shmkit event of the process's own (manual-reset for a
//! notification timer, auto-reset for a synchronization timer) that the timer thread sets
//! at each expiry; waits wait for that event. Names are the process's: a second create
//! of a name opens the same timer (`ERROR_ALREADY_EXISTS`) and `OpenWaitableTimer` finds
//! it, in this process only.

use crate::access::{self, Class};
use crate::apc;
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::Object;
use crate::objects::ThreadLife;
use crate::strings;
use crate::timing::{lock, schedule, Arm, Completion, Due, TimerObject};
use crate::types::*;
use shmkit::sync::{EventReset, SyncOptions};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CREATE_WAITABLE_TIMER_MANUAL_RESET: DWORD = 0x1;

/// The process's named timers.
fn names() -> MutexGuard<'static, HashMap<String, Weak<TimerObject>>> {
    static NAMES: OnceLock<Mutex<HashMap<String, Weak<TimerObject>>>> = OnceLock::new();
    lock(NAMES.get_or_init(|| Mutex::new(HashMap::new())))
}

fn create(
    sa: *const SECURITY_ATTRIBUTES,
    manual: bool,
    name: Option<String>,
    access: Option<DWORD>,
) -> Result<HANDLE> {
    // SAFETY: `sa` is NULL or valid, by the caller's contract.
    let inherit = unsafe { inheritable(sa) };
    let name = name.filter(|n| !n.is_empty());
    let mut names = names();
    names.retain(|_, t| t.strong_count() > 0);
    let existing = name.as_ref().and_then(|n| names.get(n)?.upgrade());
    let existed = existing.is_some();
    let timer = match existing {
        Some(t) => t,
        None => {
            let reset = if manual {
                EventReset::Manual
            } else {
                EventReset::Auto
            };
            let event = SyncOptions::new().create_event(reset, false)?;
            let t = Arc::new(TimerObject {
                event: Arc::new(event),
                arm: Mutex::new(Arm {
                    generation: 0,
                    due: None,
                    period: Duration::ZERO,
                    completion: None,
                }),
            });
            if let Some(n) = &name {
                names.insert(n.clone(), Arc::downgrade(&t));
            }
            t
        }
    };
    drop(names);
    let object = Object::Timer(timer);
    let h = match access {
        Some(a) => handles::insert_with_access(object, inherit, access::granted(Class::Timer, a)),
        None => handles::insert(object, inherit),
    };
    error::set(if existed {
        err::ALREADY_EXISTS
    } else {
        err::SUCCESS
    });
    Ok(h)
}

/// `CreateWaitableTimerA`: a notification (manual-reset: stays signalled until set
/// again) or synchronization (auto-reset: each expiry releases one waiter) timer, not
/// armed and not signalled; or the process's existing timer of that name
/// (`ERROR_ALREADY_EXISTS`; it keeps its kind and state).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn CreateWaitableTimerA(
    sa: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    name: LPCSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create(sa, manual != 0, unsafe { strings::narrow(name) }?, None)
    })
}

/// `CreateWaitableTimerW`: [`CreateWaitableTimerA`] with a wide name.
///
/// # Safety
/// As for [`CreateWaitableTimerA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn CreateWaitableTimerW(
    sa: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    name: LPCWSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create(sa, manual != 0, unsafe { strings::wide(name) }?, None)
    })
}

fn check_flags(flags: DWORD) -> Result<bool> {
    if flags & !CREATE_WAITABLE_TIMER_MANUAL_RESET != 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    Ok(flags & CREATE_WAITABLE_TIMER_MANUAL_RESET != 0)
}

/// `CreateWaitableTimerExA`: [`CreateWaitableTimerA`] with
/// `CREATE_WAITABLE_TIMER_MANUAL_RESET` as its one flag (others:
/// `ERROR_INVALID_PARAMETER`), the handle granted `dwDesiredAccess`.
///
/// # Safety
/// As for [`CreateWaitableTimerA`].
#[no_mangle]
pub unsafe extern "C" fn CreateWaitableTimerExA(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        let manual = check_flags(flags)?;
        // SAFETY: by the function's contract.
        create(sa, manual, unsafe { strings::narrow(name) }?, Some(access))
    })
}

/// `CreateWaitableTimerExW`: [`CreateWaitableTimerExA`] with a wide name.
///
/// # Safety
/// As for [`CreateWaitableTimerA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn CreateWaitableTimerExW(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCWSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        let manual = check_flags(flags)?;
        // SAFETY: by the function's contract.
        create(sa, manual, unsafe { strings::wide(name) }?, Some(access))
    })
}

fn open(desired: DWORD, inherit: BOOL, name: Option<String>) -> Result<HANDLE> {
    let Some(name) = name else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let Some(timer) = names().get(&name).and_then(Weak::upgrade) else {
        return error::fail(err::FILE_NOT_FOUND);
    };
    if let Some(e) = access::open_refused(Class::Timer, desired) {
        return error::fail(e);
    }
    let granted = access::granted(Class::Timer, desired);
    Ok(handles::insert_with_access(
        Object::Timer(timer),
        inherit != 0,
        granted,
    ))
}

/// `OpenWaitableTimerA`: opens this process's timer `name`; `ERROR_FILE_NOT_FOUND` when
/// there is none, `ERROR_INVALID_PARAMETER` for a NULL name, `ERROR_ACCESS_DENIED` for
/// access 0 or a right a timer does not have.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn OpenWaitableTimerA(access: DWORD, inherit: BOOL, name: LPCSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(access, inherit, unsafe { strings::narrow(name) }?)
    })
}

/// `OpenWaitableTimerW`: [`OpenWaitableTimerA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn OpenWaitableTimerW(access: DWORD, inherit: BOOL, name: LPCWSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(access, inherit, unsafe { strings::wide(name) }?)
    })
}

/// The timer `h` names, if its handle has `TIMER_MODIFY_STATE` (`ERROR_ACCESS_DENIED`
/// otherwise; `ERROR_INVALID_HANDLE` for a handle to anything but a timer).
fn modifiable(h: HANDLE) -> Result<Arc<TimerObject>> {
    match handles::get_with_access(h)? {
        (Object::Timer(t), granted) if access::may_modify(Class::Timer, granted) => Ok(t),
        (Object::Timer(_), _) => error::fail(err::ACCESS_DENIED),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// The instant a due time stands for: negative, that many 100-ns intervals from now;
/// otherwise an absolute FILETIME (one already past is now).
fn deadline(due: i64) -> Instant {
    let now = Instant::now();
    // Past a century from now a timer does not expire in any program's life; the clamp
    // keeps the instant representable.
    let at = |ahead: u64| {
        let ahead = Duration::from_nanos(ahead.saturating_mul(100));
        now + ahead.min(Duration::from_secs(100 * 365 * 86_400))
    };
    if due < 0 {
        return at(due.unsigned_abs());
    }
    let since_1601 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() / 100)
        .unwrap_or(0) as u64
        + FILETIME_UNIX_EPOCH;
    at((due as u64).saturating_sub(since_1601))
}

/// `PTIMERAPCROUTINE`: `VOID CALLBACK TimerAPCProc(LPVOID lpArgToCompletionRoutine,
/// DWORD dwTimerLowValue, DWORD dwTimerHighValue)`.
type TimerApcRoutine = unsafe extern "C-unwind" fn(*mut c_void, DWORD, DWORD);

/// One expiry's completion routine, queued to the thread that set the timer.
struct TimerApc {
    routine: TimerApcRoutine,
    arg: usize,
    /// When the timer expired: a UTC FILETIME.
    at: u64,
}

/// Runs a queued [`TimerApc`] (one that a new set or a cancel has not taken back).
unsafe extern "C-unwind" fn run_timer_apc(data: usize) {
    // SAFETY: `data` is a Box that `completion` queued with this routine, taken once.
    let apc = unsafe { Box::from_raw(data as *mut TimerApc) };
    // SAFETY: the routine and its argument are what `SetWaitableTimer` was given, called
    // on the thread that set the timer, as Windows does.
    unsafe {
        (apc.routine)(
            apc.arg as *mut c_void,
            apc.at as DWORD,
            (apc.at >> 32) as DWORD,
        )
    };
}

/// What each expiry of `timer` queues to the calling thread: `routine(arg, time)`; the
/// APCs are tagged with the timer's address, to be taken back by the tag.
fn completion(timer: &Arc<TimerObject>, routine: TimerApcRoutine, arg: usize) -> Completion {
    let life = ThreadLife::this_thread();
    let tag = Arc::as_ptr(timer) as usize;
    let queue_to = life.clone();
    Completion {
        queue: Box::new(move || {
            let since_1970 = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| (d.as_nanos() / 100) as u64);
            let apc = Box::new(TimerApc {
                routine,
                arg,
                at: since_1970 + FILETIME_UNIX_EPOCH,
            });
            let data = Box::into_raw(apc) as usize;
            if !apc::queue_to(&queue_to, run_timer_apc, data, tag) {
                // Not queued (the thread has ended, or the last expiry's routine has not
                // run yet: expiries while it waits run it once): the Box is still
                // this closure's.
                // SAFETY: as just said.
                drop(unsafe { Box::from_raw(data as *mut TimerApc) });
            }
        }),
        withdraw: Box::new(move || {
            for data in life.ctl.withdraw(tag) {
                // SAFETY: every APC queued with this tag is a Box of `queue`'s, and a
                // withdrawn one will not run.
                drop(unsafe { Box::from_raw(data as *mut TimerApc) });
            }
        }),
    }
}

fn set(
    h: HANDLE,
    due: *const i64,
    period: LONG,
    routine: *const c_void,
    arg: *mut c_void,
    _resume: BOOL,
) -> Result<BOOL> {
    let timer = modifiable(h)?;
    if due.is_null() {
        return error::fail(err::NOACCESS);
    }
    if period < 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    // SAFETY: a non-NULL routine is a PTIMERAPCROUTINE, by the function's contract.
    let routine = (!routine.is_null())
        .then(|| unsafe { std::mem::transmute::<*const c_void, TimerApcRoutine>(routine) });
    let completion = routine.map(|routine| completion(&timer, routine, arg as usize));
    // SAFETY: non-NULL and readable, by the function's contract (read unaligned: a
    // LARGE_INTEGER of a C caller may be anywhere).
    let due = unsafe { std::ptr::read_unaligned(due) };
    let at = deadline(due);
    let generation = {
        let mut arm = lock(&timer.arm);
        arm.generation += 1;
        arm.due = Some(at);
        arm.period = Duration::from_millis(period as u64);
        TimerObject::replace_completion(&mut arm, completion);
        timer.event.reset()?;
        arm.generation
    };
    let target: Arc<dyn Due> = timer;
    schedule(at, Arc::downgrade(&target), generation);
    Ok(TRUE)
}

/// `SetWaitableTimer`: arms the timer to expire at `*lpDueTime` (negative: that many
/// 100-ns intervals from now; positive: an absolute UTC FILETIME; one already past
/// expires at once), then every `lPeriod` ms when `lPeriod` > 0. Setting it resets its
/// signalled state and replaces what it was armed with. With `pfnCompletionRoutine`,
/// each expiry also queues an APC to the calling thread, which runs
/// `pfnCompletionRoutine(lpArgToCompletionRoutine, low, high)` (the expiry's UTC
/// FILETIME) in its next alertable wait; expiries while it waits to run run it once; a
/// new set or a cancel takes it back if it has not run, as on Windows (closing the
/// timer does not). `fResume` is accepted and has no effect. A negative period is
/// `ERROR_INVALID_PARAMETER`, a NULL due time `ERROR_NOACCESS`, a handle without
/// `TIMER_MODIFY_STATE` `ERROR_ACCESS_DENIED`; nothing changes then.
///
/// # Safety
/// `due` is NULL or points to a readable LARGE_INTEGER (64 bits, signed).
#[no_mangle]
pub unsafe extern "C" fn SetWaitableTimer(
    h: HANDLE,
    due: *const i64,
    period: LONG,
    routine: *const c_void,
    arg: *mut c_void,
    resume: BOOL,
) -> BOOL {
    ffi(FALSE, || set(h, due, period, routine, arg, resume))
}

/// `SetWaitableTimerEx`: [`SetWaitableTimer`]; the wake context and tolerable delay are
/// accepted and change nothing (the timer expires as it would without them).
///
/// # Safety
/// As for [`SetWaitableTimer`]; `wake_context` is not read.
#[no_mangle]
pub unsafe extern "C" fn SetWaitableTimerEx(
    h: HANDLE,
    due: *const i64,
    period: LONG,
    routine: *const c_void,
    arg: *mut c_void,
    wake_context: *mut c_void,
    tolerable_delay: ULONG,
) -> BOOL {
    let _ = (wake_context, tolerable_delay);
    ffi(FALSE, || set(h, due, period, routine, arg, FALSE))
}

/// `CancelWaitableTimer`: disarms the timer; its signalled state does not change.
#[no_mangle]
pub extern "C" fn CancelWaitableTimer(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        let timer = modifiable(h)?;
        let mut arm = lock(&timer.arm);
        arm.generation += 1;
        arm.due = None;
        TimerObject::replace_completion(&mut arm, None);
        Ok(TRUE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::WaitForSingleObject;

    fn timer(manual: BOOL) -> HANDLE {
        // SAFETY: NULL attributes and name.
        let h = unsafe { CreateWaitableTimerA(std::ptr::null(), manual, std::ptr::null()) };
        assert!(!h.is_null());
        h
    }

    fn set(h: HANDLE, due: i64, period: LONG, routine: *const c_void) -> (BOOL, DWORD) {
        error::set(0);
        // SAFETY: `due` is a readable i64.
        let r = unsafe { SetWaitableTimer(h, &due, period, routine, std::ptr::null_mut(), 0) };
        (r, error::get())
    }

    /// A completion routine that counts its runs in the `AtomicU32` its argument points
    /// to and records the expiry time it is given.
    extern "C-unwind" fn count(arg: *mut c_void, low: DWORD, high: DWORD) {
        // SAFETY: every test passes a live `Runs`.
        let runs = unsafe { &*(arg as *const Runs) };
        runs.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        runs.at.store(
            (high as u64) << 32 | low as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    #[derive(Default)]
    struct Runs {
        n: std::sync::atomic::AtomicU32,
        at: std::sync::atomic::AtomicU64,
    }

    fn set_with(h: HANDLE, due: i64, period: LONG, runs: &Runs) -> BOOL {
        let routine = count as extern "C-unwind" fn(*mut c_void, DWORD, DWORD) as *const c_void;
        // SAFETY: `due` is a readable i64; `runs` outlives the timer's use of it.
        unsafe {
            SetWaitableTimer(
                h,
                &due,
                period,
                routine,
                runs as *const Runs as *mut c_void,
                0,
            )
        }
    }

    fn now_filetime() -> u64 {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        (d.as_nanos() / 100) as u64 + FILETIME_UNIX_EPOCH
    }

    #[test]
    fn a_completion_routine_runs_in_an_alertable_wait_of_the_setting_thread() {
        let h = timer(TRUE);
        let runs = Runs::default();
        let before = now_filetime();
        assert_eq!(set_with(h, -10_000, 0, &runs), TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0, "it expires");
        assert_eq!(
            runs.n.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "not yet run"
        );
        assert_eq!(
            crate::thread::SleepEx(10_000, TRUE),
            crate::apc::WAIT_IO_COMPLETION
        );
        assert_eq!(runs.n.load(std::sync::atomic::Ordering::SeqCst), 1);
        let at = runs.at.load(std::sync::atomic::Ordering::SeqCst);
        assert!(at >= before && at <= now_filetime(), "{before} {at}");
        assert_eq!(crate::thread::SleepEx(0, TRUE), 0, "it runs once");
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn a_cancel_or_a_new_set_drops_the_routine_not_yet_run_a_close_does_not() {
        let runs = Runs::default();
        let h = timer(TRUE);
        assert_eq!(set_with(h, -1, 0, &runs), TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(CancelWaitableTimer(h), TRUE);
        assert_eq!(
            crate::thread::SleepEx(0, TRUE),
            0,
            "cancelled: nothing runs"
        );
        assert_eq!(set_with(h, -1, 0, &runs), TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(set(h, i64::MAX, 0, std::ptr::null()).0, TRUE);
        assert_eq!(
            crate::thread::SleepEx(0, TRUE),
            0,
            "set again: nothing runs"
        );
        assert_eq!(set_with(h, -1, 0, &runs), TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(runs.n.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
        assert_eq!(
            crate::thread::SleepEx(0, TRUE),
            crate::apc::WAIT_IO_COMPLETION,
            "closed: it still runs"
        );
        assert_eq!(runs.n.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_periodic_timer_queues_its_routine_at_each_expiry() {
        let h = timer(FALSE);
        let runs = Runs::default();
        assert_eq!(set_with(h, -1, 5, &runs), TRUE);
        let start = std::time::Instant::now();
        while runs.n.load(std::sync::atomic::Ordering::SeqCst) < 3 {
            assert!(start.elapsed() < Duration::from_secs(20), "too few runs");
            crate::thread::SleepEx(1000, TRUE);
        }
        assert_eq!(CancelWaitableTimer(h), TRUE);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn expiries_while_the_routine_waits_to_run_run_it_once() {
        let h = timer(FALSE);
        let runs = Runs::default();
        assert_eq!(set_with(h, -1, 300, &runs), TRUE);
        std::thread::sleep(Duration::from_millis(700));
        assert_eq!(
            crate::thread::SleepEx(0, TRUE),
            crate::apc::WAIT_IO_COMPLETION
        );
        assert_eq!(
            runs.n.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "three expiries, one run"
        );
        assert_eq!(CancelWaitableTimer(h), TRUE);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn another_thread_waiting_alertably_does_not_run_the_routine() {
        let h = timer(TRUE);
        let runs = std::sync::Arc::new(Runs::default());
        assert_eq!(set_with(h, -1, 0, &runs), TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        let r = runs.clone();
        let other = std::thread::spawn(move || {
            (
                crate::thread::SleepEx(50, TRUE),
                r.n.load(std::sync::atomic::Ordering::SeqCst),
            )
        });
        assert_eq!(other.join().unwrap(), (0, 0));
        assert_eq!(
            crate::thread::SleepEx(0, TRUE),
            crate::apc::WAIT_IO_COMPLETION
        );
        assert_eq!(runs.n.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn refused_settings_change_nothing() {
        let h = timer(TRUE);
        assert_eq!(set(h, -10_000, 0, std::ptr::null()).0, TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(
            set(h, -10_000, -1, std::ptr::null()),
            (FALSE, err::INVALID_PARAMETER)
        );
        error::set(0);
        // SAFETY: a NULL due time is what is tested; it is not read.
        let r = unsafe {
            SetWaitableTimer(
                h,
                std::ptr::null(),
                0,
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!((r, error::get()), (FALSE, err::NOACCESS));
        assert_eq!(WaitForSingleObject(h, 0), WAIT_OBJECT_0, "still signalled");
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn a_closed_timer_no_longer_fires_and_bad_handles_are_refused() {
        let h = timer(FALSE);
        for far in [i64::MIN, i64::MAX] {
            assert_eq!(set(h, far, LONG::MAX, std::ptr::null()).0, TRUE);
            assert_eq!(WaitForSingleObject(h, 0), WAIT_TIMEOUT, "due in ages");
        }
        assert_eq!(set(h, -10_000_000, 0, std::ptr::null()).0, TRUE);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
        error::set(0);
        assert_eq!(CancelWaitableTimer(h), FALSE);
        assert_eq!(error::get(), err::INVALID_HANDLE);
        error::set(0);
        // SAFETY: unknown flags are refused before anything is read.
        let bad = unsafe { CreateWaitableTimerExA(std::ptr::null(), std::ptr::null(), 2, 0) };
        assert!(bad.is_null());
        assert_eq!(error::get(), err::INVALID_PARAMETER);
    }
}
