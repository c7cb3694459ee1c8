//! Waitable timers: `CreateWaitableTimer(Ex)`, `OpenWaitableTimer`, `SetWaitableTimer(Ex)`,
//! `CancelWaitableTimer`, over the objects and the timer thread of `timing`.
//!
//! A waitable timer is a shmkit event of the process's own (manual-reset for a
//! notification timer, auto-reset for a synchronization timer) that the timer thread sets
//! at each expiry; waits wait for that event. Names are the process's: a second create
//! of a name opens the same timer (`ERROR_ALREADY_EXISTS`) and `OpenWaitableTimer` finds
//! it, in this process only.

use crate::access::{self, Class};
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::Object;
use crate::strings;
use crate::timing::{lock, schedule, Arm, Due, TimerObject};
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

fn set(
    h: HANDLE,
    due: *const i64,
    period: LONG,
    routine: *const c_void,
    _resume: BOOL,
) -> Result<BOOL> {
    let timer = modifiable(h)?;
    if due.is_null() {
        return error::fail(err::NOACCESS);
    }
    if period < 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    if !routine.is_null() {
        // A completion routine is an APC, which nothing runs here.
        return error::fail(err::NOT_SUPPORTED);
    }
    // SAFETY: non-NULL and readable, by the function's contract (read unaligned: a
    // LARGE_INTEGER of a C caller may be anywhere).
    let due = unsafe { std::ptr::read_unaligned(due) };
    let at = deadline(due);
    let generation = {
        let mut arm = lock(&timer.arm);
        arm.generation += 1;
        arm.due = Some(at);
        arm.period = Duration::from_millis(period as u64);
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
/// signalled state and replaces what it was armed with. `pfnCompletionRoutine` must be
/// NULL (a completion routine is an APC, which this library does not run:
/// `ERROR_NOT_SUPPORTED`); `fResume` is accepted and has no effect. A negative period is
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
    let _ = arg;
    ffi(FALSE, || set(h, due, period, routine, resume))
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
    let _ = (arg, wake_context, tolerable_delay);
    ffi(FALSE, || set(h, due, period, routine, FALSE))
}

/// `CancelWaitableTimer`: disarms the timer; its signalled state does not change.
#[no_mangle]
pub extern "C" fn CancelWaitableTimer(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        let timer = modifiable(h)?;
        let mut arm = lock(&timer.arm);
        arm.generation += 1;
        arm.due = None;
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

    extern "C" fn routine(_: *mut c_void, _: DWORD, _: DWORD) {}

    #[test]
    fn refused_settings_change_nothing() {
        let h = timer(TRUE);
        assert_eq!(set(h, -10_000, 0, std::ptr::null()).0, TRUE);
        assert_eq!(WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        let apc = routine as extern "C" fn(*mut c_void, DWORD, DWORD) as *const c_void;
        assert_eq!(set(h, -10_000, 0, apc), (FALSE, err::NOT_SUPPORTED));
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
