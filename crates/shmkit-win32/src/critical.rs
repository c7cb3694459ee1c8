//! Critical sections, condition variables and slim reader/writer locks: the in-process
//! locks of Windows, over futexes in the caller's own structures.
//!
//! A `CRITICAL_SECTION` has Windows' layout (40 bytes on x64) and its public fields
//! their classic meaning: `LockCount` is -1 when it is free, and one more for each
//! enter of the owner and each thread waiting; `RecursionCount` how many times the
//! owner entered it; `OwningThread` the owner's thread id (0 when free); `SpinCount` how
//! often a contended enter retries before it sleeps. The lock word itself (0 free, 1
//! held, 2 held with sleepers) is the low half of `LockSemaphore`. It is recursive, as on
//! Windows: the owner may enter it again and leaves it as often. A thread that ends
//! inside it leaves it held, as on Windows (it is not abandoned).
//!
//! A `CONDITION_VARIABLE` is a sequence word that each wake-up advances; an `SRWLOCK` a
//! word with the exclusive bit, a sleepers bit and the count of shared owners. None of
//! them needs freeing.

use crate::error;
use crate::types::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// `ERROR_TIMEOUT`: what a condition variable's sleep that timed out sets.
const ERROR_TIMEOUT: DWORD = 1460;

/// Windows' `CRITICAL_SECTION` (`RTL_CRITICAL_SECTION`), with atomic fields.
#[repr(C)]
pub struct CRITICAL_SECTION {
    debug_info: AtomicUsize,
    lock_count: AtomicI32,
    recursion_count: AtomicI32,
    owning_thread: AtomicUsize,
    lock_semaphore: AtomicUsize,
    spin_count: AtomicUsize,
}

fn tid() -> usize {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as usize }
}

/// Sleeps while `word` holds `value` (at most `timeout`); returns false on timeout.
pub(crate) fn futex_wait(word: &AtomicU32, value: u32, timeout: Option<Duration>) -> bool {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live 32-bit word; `tsp` is NULL or a timespec that outlives the
    // call. A relative timeout, private futex.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            value,
            tsp,
        )
    };
    !(r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT))
}

pub(crate) fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: `word` is a live 32-bit word; waking touches nothing else.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            count,
        );
    }
}

/// The lock word of a critical section, as the futex sees it: the first 4 bytes of
/// `LockSemaphore`.
fn word(cs: &CRITICAL_SECTION) -> &AtomicU32 {
    // SAFETY: the field is 8 bytes, aligned to 8, so its first 4 bytes are a properly
    // aligned 32-bit word inside it; it is only ever accessed atomically, as this word.
    unsafe { &*(cs.lock_semaphore.as_ptr() as *const AtomicU32) }
}

/// The critical section behind a caller's pointer: NULL is refused (nothing happens).
///
/// # Safety
/// `cs` is NULL or a critical section (initialized unless the caller initializes it).
unsafe fn section<'a>(cs: *mut CRITICAL_SECTION) -> Option<&'a CRITICAL_SECTION> {
    // SAFETY: by the caller's contract.
    unsafe { cs.as_ref() }
}

fn init(cs: &CRITICAL_SECTION, spin: DWORD) {
    // No debug information, as Windows 8 and later mark it: (ULONG_PTR)-1.
    cs.debug_info.store(usize::MAX, Ordering::Relaxed);
    cs.lock_count.store(-1, Ordering::Relaxed);
    cs.recursion_count.store(0, Ordering::Relaxed);
    cs.owning_thread.store(0, Ordering::Relaxed);
    cs.lock_semaphore.store(0, Ordering::Relaxed);
    cs.spin_count
        .store((spin & 0x00FF_FFFF) as usize, Ordering::Release);
}

/// Takes the lock word (the owner check is the caller's).
fn lock(cs: &CRITICAL_SECTION) {
    let w = word(cs);
    let spins = cs.spin_count.load(Ordering::Relaxed);
    for _ in 0..=spins {
        if w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        std::hint::spin_loop();
    }
    while w.swap(2, Ordering::Acquire) != 0 {
        futex_wait(w, 2, None);
    }
}

fn own(cs: &CRITICAL_SECTION, me: usize, depth: i32) {
    cs.owning_thread.store(me, Ordering::Relaxed);
    cs.recursion_count.store(depth, Ordering::Relaxed);
}

/// Gives the lock word back and wakes a sleeper, if any.
fn unlock(cs: &CRITICAL_SECTION) {
    cs.owning_thread.store(0, Ordering::Relaxed);
    cs.recursion_count.store(0, Ordering::Relaxed);
    let w = word(cs);
    if w.swap(0, Ordering::Release) == 2 {
        futex_wake(w, 1);
    }
}

/// `InitializeCriticalSection`: makes `cs` a free critical section.
///
/// # Safety
/// `cs` is NULL (ignored) or points to a writable `CRITICAL_SECTION` no thread uses.
#[no_mangle]
pub unsafe extern "C" fn InitializeCriticalSection(cs: *mut CRITICAL_SECTION) {
    // SAFETY: by the function's contract.
    if let Some(cs) = unsafe { section(cs) } {
        init(cs, 0);
    }
}

/// `InitializeCriticalSectionAndSpinCount`: as [`InitializeCriticalSection`], with how
/// often a contended enter retries before it sleeps (the low 24 bits). Returns TRUE.
///
/// # Safety
/// As for [`InitializeCriticalSection`].
#[no_mangle]
pub unsafe extern "C" fn InitializeCriticalSectionAndSpinCount(
    cs: *mut CRITICAL_SECTION,
    spin: DWORD,
) -> BOOL {
    // SAFETY: by the function's contract.
    match unsafe { section(cs) } {
        Some(cs) => {
            init(cs, spin);
            TRUE
        }
        None => {
            error::set(err::INVALID_PARAMETER);
            FALSE
        }
    }
}

/// `InitializeCriticalSectionEx`: as [`InitializeCriticalSectionAndSpinCount`]; the
/// flags (`CRITICAL_SECTION_NO_DEBUG_INFO`...) change nothing here.
///
/// # Safety
/// As for [`InitializeCriticalSection`].
#[no_mangle]
pub unsafe extern "C" fn InitializeCriticalSectionEx(
    cs: *mut CRITICAL_SECTION,
    spin: DWORD,
    _flags: DWORD,
) -> BOOL {
    // SAFETY: by the function's contract.
    unsafe { InitializeCriticalSectionAndSpinCount(cs, spin) }
}

/// `SetCriticalSectionSpinCount`: sets the spin count; returns the previous one.
///
/// # Safety
/// `cs` is NULL (ignored, 0 returned) or an initialized critical section.
#[no_mangle]
pub unsafe extern "C" fn SetCriticalSectionSpinCount(
    cs: *mut CRITICAL_SECTION,
    spin: DWORD,
) -> DWORD {
    // SAFETY: by the function's contract.
    unsafe { section(cs) }.map_or(0, |cs| {
        cs.spin_count
            .swap((spin & 0x00FF_FFFF) as usize, Ordering::Relaxed) as DWORD
    })
}

/// `EnterCriticalSection`: waits until the critical section is free and takes it; the
/// owner enters again at once (it must then leave as often as it entered).
///
/// # Safety
/// `cs` is NULL (ignored) or an initialized critical section.
#[no_mangle]
pub unsafe extern "C" fn EnterCriticalSection(cs: *mut CRITICAL_SECTION) {
    // SAFETY: by the function's contract.
    let Some(cs) = (unsafe { section(cs) }) else {
        return;
    };
    let me = tid();
    cs.lock_count.fetch_add(1, Ordering::Relaxed);
    if cs.owning_thread.load(Ordering::Relaxed) == me {
        cs.recursion_count.fetch_add(1, Ordering::Relaxed);
        return;
    }
    lock(cs);
    own(cs, me, 1);
}

/// `TryEnterCriticalSection`: takes the critical section if it is free or the caller's
/// (TRUE), or returns FALSE at once.
///
/// # Safety
/// As for [`EnterCriticalSection`] (NULL: FALSE).
#[no_mangle]
pub unsafe extern "C" fn TryEnterCriticalSection(cs: *mut CRITICAL_SECTION) -> BOOL {
    // SAFETY: by the function's contract.
    let Some(cs) = (unsafe { section(cs) }) else {
        return FALSE;
    };
    let me = tid();
    if cs.owning_thread.load(Ordering::Relaxed) == me {
        cs.recursion_count.fetch_add(1, Ordering::Relaxed);
        cs.lock_count.fetch_add(1, Ordering::Relaxed);
        return TRUE;
    }
    if word(cs)
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        cs.lock_count.fetch_add(1, Ordering::Relaxed);
        own(cs, me, 1);
        TRUE
    } else {
        FALSE
    }
}

/// `LeaveCriticalSection`: leaves once; the critical section is free when the owner has
/// left as often as it entered. A thread that does not own it changes nothing (Windows
/// leaves it in an undefined state).
///
/// # Safety
/// As for [`EnterCriticalSection`].
#[no_mangle]
pub unsafe extern "C" fn LeaveCriticalSection(cs: *mut CRITICAL_SECTION) {
    // SAFETY: by the function's contract.
    let Some(cs) = (unsafe { section(cs) }) else {
        return;
    };
    if cs.owning_thread.load(Ordering::Relaxed) != tid() {
        return;
    }
    cs.lock_count.fetch_sub(1, Ordering::Relaxed);
    let depth = cs.recursion_count.load(Ordering::Relaxed) - 1;
    if depth > 0 {
        cs.recursion_count.store(depth, Ordering::Relaxed);
    } else {
        unlock(cs);
    }
}

/// `DeleteCriticalSection`: the critical section may no longer be used (it holds no
/// resource: nothing is freed). Its fields are cleared.
///
/// # Safety
/// As for [`EnterCriticalSection`]; no thread uses it any more.
#[no_mangle]
pub unsafe extern "C" fn DeleteCriticalSection(cs: *mut CRITICAL_SECTION) {
    // SAFETY: by the function's contract.
    if let Some(cs) = unsafe { section(cs) } {
        init(cs, 0);
        cs.debug_info.store(0, Ordering::Relaxed);
    }
}

// ---- condition variables -----------------------------------------------------------

/// Windows' `CONDITION_VARIABLE`: one pointer; here its low 32 bits are a sequence
/// number that every wake advances.
#[repr(C)]
pub struct CONDITION_VARIABLE {
    seq: AtomicU32,
    _high: u32,
}

/// `InitializeConditionVariable`.
///
/// # Safety
/// `cv` is NULL (ignored) or writable.
#[no_mangle]
pub unsafe extern "C" fn InitializeConditionVariable(cv: *mut CONDITION_VARIABLE) {
    // SAFETY: by the function's contract.
    if let Some(cv) = unsafe { cv.as_ref() } {
        cv.seq.store(0, Ordering::Release);
    }
}

/// `WakeConditionVariable`: wakes one sleeper.
///
/// # Safety
/// `cv` is NULL (ignored) or an initialized condition variable.
#[no_mangle]
pub unsafe extern "C" fn WakeConditionVariable(cv: *mut CONDITION_VARIABLE) {
    // The address from the pointer, before a reference (which would be taken as
    // aligned) exists.
    let addr = cv as usize;
    // SAFETY: by the function's contract.
    if let Some(cv) = unsafe { cv.as_ref() } {
        cv.seq.fetch_add(1, Ordering::Release);
        wake(cv, addr, 1);
    }
}

/// `WakeAllConditionVariable`: wakes every sleeper.
///
/// # Safety
/// As for [`WakeConditionVariable`].
#[no_mangle]
pub unsafe extern "C" fn WakeAllConditionVariable(cv: *mut CONDITION_VARIABLE) {
    let addr = cv as usize;
    // SAFETY: by the function's contract.
    if let Some(cv) = unsafe { cv.as_ref() } {
        cv.seq.fetch_add(1, Ordering::Release);
        wake(cv, addr, i32::MAX);
    }
}

/// The word sleepers on an unaligned condition variable (which Windows allows, and a
/// futex cannot take) sleep on: one of a set of aligned words, by address; None for an
/// aligned one, whose sleepers sleep on its own word.
/// `addr` is the caller's pointer, as an integer taken before any reference to it.
fn parked(addr: usize) -> Option<&'static AtomicU32> {
    static PARK: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];
    (addr % 4 != 0).then(|| &PARK[(addr >> 2) % PARK.len()])
}

/// Wakes `count` sleepers of `cv` (every sleeper of its parking word when unaligned:
/// the others see a spurious wake, which Windows allows too).
fn wake(cv: &CONDITION_VARIABLE, addr: usize, count: i32) {
    match parked(addr) {
        Some(p) => {
            p.fetch_add(1, Ordering::Release);
            futex_wake(p, i32::MAX);
        }
        None => futex_wake(&cv.seq, count),
    }
}

fn timeout_of(ms: DWORD) -> Option<Duration> {
    (ms != INFINITE).then(|| Duration::from_millis(u64::from(ms)))
}

/// Sleeps on `cv` until woken or `ms` pass, having released with `release` what
/// `reacquire` takes again before it returns. TRUE when woken (which may be spurious,
/// as on Windows), FALSE with `ERROR_TIMEOUT`.
fn sleep_on(
    cv: &CONDITION_VARIABLE,
    addr: usize,
    ms: DWORD,
    release: impl FnOnce(),
    reacquire: impl FnOnce(),
) -> BOOL {
    let (word, value) = match parked(addr) {
        Some(p) => (p, p.load(Ordering::Acquire)),
        None => (&cv.seq, cv.seq.load(Ordering::Acquire)),
    };
    release();
    let woken = futex_wait(word, value, timeout_of(ms));
    reacquire();
    if woken {
        TRUE
    } else {
        error::set(ERROR_TIMEOUT);
        FALSE
    }
}

/// `SleepConditionVariableCS`: leaves the critical section (which the caller owns, at
/// any depth), sleeps until the condition variable is woken or `dwMilliseconds` pass,
/// and enters the critical section again at the same depth. FALSE with `ERROR_TIMEOUT`
/// when the time ran out; a caller that does not own the section is
/// `ERROR_NOT_OWNER` (and nothing waits).
///
/// # Safety
/// `cv` and `cs` are initialized (or NULL: `ERROR_INVALID_PARAMETER`).
#[no_mangle]
pub unsafe extern "C" fn SleepConditionVariableCS(
    cv: *mut CONDITION_VARIABLE,
    cs: *mut CRITICAL_SECTION,
    ms: DWORD,
) -> BOOL {
    let addr = cv as usize;
    // SAFETY: by the function's contract.
    let (Some(cv), Some(cs)) = (unsafe { cv.as_ref() }, unsafe { section(cs) }) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    let me = tid();
    if cs.owning_thread.load(Ordering::Relaxed) != me {
        error::set(err::NOT_OWNER);
        return FALSE;
    }
    let depth = cs.recursion_count.load(Ordering::Relaxed);
    sleep_on(
        cv,
        addr,
        ms,
        || {
            cs.lock_count.fetch_sub(depth, Ordering::Relaxed);
            unlock(cs);
        },
        || {
            cs.lock_count.fetch_add(depth, Ordering::Relaxed);
            lock(cs);
            own(cs, me, depth);
        },
    )
}

// ---- slim reader/writer locks ------------------------------------------------------

/// Windows' `SRWLOCK`: one pointer; here its low 32 bits are the lock word.
#[repr(C)]
pub struct SRWLOCK {
    state: AtomicU32,
    _high: u32,
}

const EXCLUSIVE: u32 = 1 << 31;
const SLEEPERS: u32 = 1 << 30;
const READERS: u32 = SLEEPERS - 1;

/// `CONDITION_VARIABLE_LOCKMODE_SHARED`.
const LOCKMODE_SHARED: DWORD = 1;

/// `InitializeSRWLock`.
///
/// # Safety
/// `l` is NULL (ignored) or writable.
#[no_mangle]
pub unsafe extern "C" fn InitializeSRWLock(l: *mut SRWLOCK) {
    // SAFETY: by the function's contract.
    if let Some(l) = unsafe { l.as_ref() } {
        l.state.store(0, Ordering::Release);
    }
}

fn try_exclusive(l: &SRWLOCK) -> bool {
    let s = l.state.load(Ordering::Relaxed);
    s & !SLEEPERS == 0
        && l.state
            .compare_exchange(s, s | EXCLUSIVE, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
}

fn try_shared(l: &SRWLOCK) -> bool {
    let s = l.state.load(Ordering::Relaxed);
    s & EXCLUSIVE == 0
        && s & READERS < READERS
        && l.state
            .compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
}

/// Sleeps until the lock word changes, having marked that someone sleeps.
fn sleep_on_lock(l: &SRWLOCK) {
    let s = l.state.load(Ordering::Relaxed);
    if s & !SLEEPERS == 0 {
        return; // free: try again
    }
    if s & SLEEPERS == 0
        && l.state
            .compare_exchange(s, s | SLEEPERS, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    futex_wait(&l.state, s | SLEEPERS, None);
}

fn acquire_exclusive(l: &SRWLOCK) {
    while !try_exclusive(l) {
        sleep_on_lock(l);
    }
}

fn acquire_shared(l: &SRWLOCK) {
    while !try_shared(l) {
        let s = l.state.load(Ordering::Relaxed);
        if s & EXCLUSIVE == 0 && s & READERS < READERS {
            continue;
        }
        sleep_on_lock(l);
    }
}

fn release_exclusive(l: &SRWLOCK) {
    if l.state.swap(0, Ordering::Release) & SLEEPERS != 0 {
        futex_wake(&l.state, i32::MAX);
    }
}

fn release_shared(l: &SRWLOCK) {
    let before = l.state.fetch_sub(1, Ordering::Release);
    // The last shared owner gone, with sleepers: wake them (unless another owner came,
    // who will wake them when it releases).
    if before == SLEEPERS | 1
        && l.state
            .compare_exchange(SLEEPERS, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        futex_wake(&l.state, i32::MAX);
    }
}

macro_rules! srw_fn {
    ($(#[$doc:meta])* $name:ident, $body:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// `l` is NULL (ignored) or an initialized `SRWLOCK`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(l: *mut SRWLOCK) {
            // SAFETY: by the function's contract.
            if let Some(l) = unsafe { l.as_ref() } {
                $body(l);
            }
        }
    };
}

srw_fn!(
    /// `AcquireSRWLockExclusive`: waits until no thread holds the lock, then holds it
    /// alone. Not recursive (a second acquire by the holder waits for ever, as on
    /// Windows).
    AcquireSRWLockExclusive,
    acquire_exclusive
);
srw_fn!(
    /// `AcquireSRWLockShared`: waits until no thread holds the lock exclusively, then
    /// holds it shared.
    AcquireSRWLockShared,
    acquire_shared
);
srw_fn!(
    /// `ReleaseSRWLockExclusive`: releases an exclusive hold.
    ReleaseSRWLockExclusive,
    release_exclusive
);
srw_fn!(
    /// `ReleaseSRWLockShared`: releases one shared hold.
    ReleaseSRWLockShared,
    release_shared
);

/// `TryAcquireSRWLockExclusive`: holds the lock alone if it is free (TRUE), else FALSE
/// at once.
///
/// # Safety
/// `l` is NULL (FALSE) or an initialized `SRWLOCK`.
#[no_mangle]
pub unsafe extern "C" fn TryAcquireSRWLockExclusive(l: *mut SRWLOCK) -> u8 {
    // SAFETY: by the function's contract.
    unsafe { l.as_ref() }.is_some_and(try_exclusive) as u8
}

/// `TryAcquireSRWLockShared`: holds the lock shared unless it is held exclusively (TRUE),
/// else FALSE at once.
///
/// # Safety
/// As for [`TryAcquireSRWLockExclusive`].
#[no_mangle]
pub unsafe extern "C" fn TryAcquireSRWLockShared(l: *mut SRWLOCK) -> u8 {
    // SAFETY: by the function's contract.
    unsafe { l.as_ref() }.is_some_and(try_shared) as u8
}

/// `SleepConditionVariableSRW`: releases the lock (shared with
/// `CONDITION_VARIABLE_LOCKMODE_SHARED`, else exclusive, which the caller holds), sleeps
/// until the condition variable is woken or `dwMilliseconds` pass, and takes the lock
/// again the same way. FALSE with `ERROR_TIMEOUT` when the time ran out.
///
/// # Safety
/// `cv` and `l` are initialized (NULL: `ERROR_INVALID_PARAMETER`); the caller holds `l`
/// as `flags` says.
#[no_mangle]
pub unsafe extern "C" fn SleepConditionVariableSRW(
    cv: *mut CONDITION_VARIABLE,
    l: *mut SRWLOCK,
    ms: DWORD,
    flags: DWORD,
) -> BOOL {
    let addr = cv as usize;
    // SAFETY: by the function's contract.
    let (Some(cv), Some(l)) = (unsafe { cv.as_ref() }, unsafe { l.as_ref() }) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    if flags & LOCKMODE_SHARED != 0 {
        sleep_on(cv, addr, ms, || release_shared(l), || acquire_shared(l))
    } else {
        sleep_on(
            cv,
            addr,
            ms,
            || release_exclusive(l),
            || acquire_exclusive(l),
        )
    }
}

// ---- one-time initialization -----------------------------------------------------------

/// Windows' `INIT_ONCE`: one pointer. Here its low two bits are the state (0 not yet,
/// 1 running, 2 done) and the rest the context the callback gave (its low two bits must
/// be 0, as on Windows); its low 32 bits are a futex word for those who wait.
#[repr(C)]
pub struct INIT_ONCE {
    pub(crate) word: AtomicUsize,
}

/// `PINIT_ONCE_FN`: the one-time callback.
pub type InitOnceFn =
    unsafe extern "C-unwind" fn(*mut INIT_ONCE, *mut c_void, *mut *mut c_void) -> BOOL;

pub(crate) const ONCE_RUNNING: usize = 1;
pub(crate) const ONCE_DONE: usize = 2;
pub(crate) const ONCE_STATE: usize = 3;

pub(crate) fn once_futex(once: &INIT_ONCE) -> &AtomicU32 {
    // SAFETY: the 8-byte word is aligned to 8, so its first 4 bytes (the low half on
    // little-endian Linux targets) are an aligned 32-bit word inside it, only ever
    // accessed atomically; the state bits live in that half.
    unsafe { &*(once.word.as_ptr() as *const AtomicU32) }
}

/// `InitOnceInitialize`: makes `InitOnce` not yet run.
///
/// # Safety
/// `once` is NULL (ignored) or writable.
#[no_mangle]
pub unsafe extern "C" fn InitOnceInitialize(once: *mut INIT_ONCE) {
    // SAFETY: by the function's contract.
    if let Some(once) = unsafe { once.as_ref() } {
        once.word.store(0, Ordering::Release);
    }
}

/// `InitOnceExecuteOnce`: runs `InitFn(InitOnce, Parameter, &Context)` once for the
/// `INIT_ONCE`, however many threads call at once: the others wait until it has
/// returned. When it returns TRUE, every call (that one and all later ones) returns
/// TRUE and stores the context it gave in `*Context` (when not NULL); when it returns
/// FALSE, that call returns FALSE and the next call runs it again.
/// While an asynchronous initialization (`InitOnceBeginInitialize` with
/// `INIT_ONCE_ASYNC`, src/initonce.rs) is pending it is `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `once` is an initialized `INIT_ONCE` (NULL: `ERROR_INVALID_PARAMETER`); `context`
/// NULL or writable; the callback may be called with `param`.
#[no_mangle]
pub unsafe extern "C" fn InitOnceExecuteOnce(
    once: *mut INIT_ONCE,
    init: Option<InitOnceFn>,
    param: *mut c_void,
    context: *mut *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    let (Some(o), Some(init)) = (unsafe { once.as_ref() }, init) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    loop {
        let v = o.word.load(Ordering::Acquire);
        match v & ONCE_STATE {
            ONCE_DONE => {
                if !context.is_null() {
                    // SAFETY: non-NULL and writable, by the function's contract.
                    unsafe { *context = (v & !ONCE_STATE) as *mut c_void };
                }
                return TRUE;
            }
            ONCE_RUNNING => {
                futex_wait(once_futex(o), v as u32, None);
            }
            ONCE_STATE => {
                error::set(err::INVALID_PARAMETER);
                return FALSE;
            }
            _ => {
                if o.word
                    .compare_exchange(0, ONCE_RUNNING, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    continue;
                }
                // The callback gets the caller's context value (NULL without one).
                let mut ctx: *mut c_void = if context.is_null() {
                    std::ptr::null_mut()
                } else {
                    // SAFETY: non-NULL and readable, by the function's contract.
                    unsafe { *context }
                };
                // SAFETY: the caller's callback with its parameter, as documented.
                let ok = unsafe { init(once, param, &mut ctx) };
                if ok != 0 {
                    o.word
                        .store((ctx as usize & !ONCE_STATE) | ONCE_DONE, Ordering::Release);
                } else {
                    o.word.store(0, Ordering::Release);
                }
                futex_wake(once_futex(o), i32::MAX);
                if ok == 0 {
                    return FALSE;
                }
                if !context.is_null() {
                    // SAFETY: as above.
                    unsafe { *context = (ctx as usize & !ONCE_STATE) as *mut c_void };
                }
                return TRUE;
            }
        }
    }
}

// ---- waits on an address ---------------------------------------------------------------

/// The aligned 32-bit word that holds the byte at `addr`: what waiters sleep on and
/// wakers wake (a value of 8 bytes is watched through the word of its first byte).
fn word_at(addr: *const c_void) -> *const AtomicU32 {
    (addr as usize & !3) as *const AtomicU32
}

/// Whether the `size` bytes at `addr` equal those at `compare`.
///
/// # Safety
/// Both hold `size` readable bytes.
unsafe fn same(addr: *const c_void, compare: *const c_void, size: usize) -> bool {
    // SAFETY: by the caller's contract; volatile, as another thread may change `addr`.
    unsafe {
        (0..size).all(|i| {
            std::ptr::read_volatile(addr.cast::<u8>().add(i)) == *compare.cast::<u8>().add(i)
        })
    }
}

/// `WaitOnAddress`: sleeps while the `AddressSize` (1, 2, 4 or 8) bytes at `Address`
/// equal those at `CompareAddress`, until `WakeByAddressSingle`/`All` for the address
/// or `dwMilliseconds` pass. TRUE when the value differs or the thread was woken (which
/// may be spurious, as on Windows: the caller checks the value again); FALSE with
/// `ERROR_TIMEOUT` when the time ran out. Another size, or NULL, is
/// `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `addr` and `compare` hold `size` readable bytes, `addr` for as long as it is waited on.
#[no_mangle]
pub unsafe extern "C" fn WaitOnAddress(
    addr: *const c_void,
    compare: *const c_void,
    size: usize,
    ms: DWORD,
) -> BOOL {
    if addr.is_null() || compare.is_null() || ![1, 2, 4, 8].contains(&size) {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    }
    let word = word_at(addr);
    // SAFETY: the word holds the address's first byte, so it is readable memory of the
    // caller's (an aligned word never crosses a page).
    let word = unsafe { &*word };
    let seen = word.load(Ordering::Acquire);
    // SAFETY: by the function's contract.
    if !unsafe { same(addr, compare, size) } {
        return TRUE;
    }
    if futex_wait(word, seen, timeout_of(ms)) {
        TRUE
    } else {
        error::set(ERROR_TIMEOUT);
        FALSE
    }
}

/// `WakeByAddressSingle`: wakes one thread waiting on `Address` (the threads waiting on
/// the same aligned word may all be woken: a woken waiter checks its value again).
///
/// # Safety
/// `addr` is NULL (ignored) or an address of the caller's memory.
#[no_mangle]
pub unsafe extern "C" fn WakeByAddressSingle(addr: *const c_void) {
    if !addr.is_null() {
        // SAFETY: the word holds a byte of the caller's memory.
        futex_wake(unsafe { &*word_at(addr) }, i32::MAX);
    }
}

/// `WakeByAddressAll`: wakes every thread waiting on `Address`.
///
/// # Safety
/// As for [`WakeByAddressSingle`].
#[no_mangle]
pub unsafe extern "C" fn WakeByAddressAll(addr: *const c_void) {
    if !addr.is_null() {
        // SAFETY: as in WakeByAddressSingle.
        futex_wake(unsafe { &*word_at(addr) }, i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Shared(
        std::cell::UnsafeCell<CRITICAL_SECTION>,
        std::cell::UnsafeCell<u64>,
    );
    // SAFETY: the critical section is made for sharing; the counter is only touched
    // inside it.
    unsafe impl Sync for Shared {}
    // SAFETY: as above.
    unsafe impl Send for Shared {}

    #[test]
    fn a_critical_section_is_recursive_and_excludes_other_threads() {
        // SAFETY: zeroed memory is a valid CRITICAL_SECTION to initialize.
        let s = Arc::new(Shared(unsafe { std::mem::zeroed() }, 0.into()));
        let cs = s.0.get();
        // SAFETY: `cs` is live for the test.
        unsafe {
            InitializeCriticalSection(cs);
            EnterCriticalSection(cs);
            assert_eq!(TryEnterCriticalSection(cs), TRUE, "recursive");
        }
        let other = {
            let s = s.clone();
            // SAFETY: as above.
            std::thread::spawn(move || unsafe { TryEnterCriticalSection(s.0.get()) })
                .join()
                .unwrap()
        };
        assert_eq!(other, FALSE);
        // SAFETY: as above.
        unsafe {
            LeaveCriticalSection(cs);
            LeaveCriticalSection(cs);
        }
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        // SAFETY: the counter is only touched inside the section.
                        unsafe {
                            EnterCriticalSection(s.0.get());
                            *s.1.get() += 1;
                            LeaveCriticalSection(s.0.get());
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: every thread has ended.
        assert_eq!(unsafe { *s.1.get() }, 40_000);
        // SAFETY: as above.
        unsafe { DeleteCriticalSection(cs) };
    }
}
