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
//! word with the exclusive bit, a sleepers bit, an exclusive waiter's claim (which keeps
//! new shared holders out, as Windows prefers exclusive waiters) and the count of shared
//! owners. None of them needs freeing.

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

// The lock word's bits:
//
// | bit   | meaning                                                                 |
// |-------|-------------------------------------------------------------------------|
// | 31    | held exclusively                                                        |
// | 30    | a thread sleeps on the word: a release that ends a hold wakes them all   |
// | 29    | an exclusive acquirer waits: no new shared hold is granted until it holds |
// | 0..29 | the number of shared holds                                              |
//
// Bit 29 is what makes an exclusive waiter preferred over new shared acquirers, as on
// Windows: set by an exclusive acquirer that must wait, cleared when an exclusive
// acquirer takes the lock or when an exclusive hold ends. Every sleeper is woken when a
// hold ends and looks again, so a second exclusive waiter sets it again.
const EXCLUSIVE: u32 = 1 << 31;
const SLEEPERS: u32 = 1 << 30;
const EXCLUSIVE_WAITS: u32 = 1 << 29;
const READERS: u32 = EXCLUSIVE_WAITS - 1;

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

/// How a hold is asked for.
#[derive(Clone, Copy, PartialEq)]
enum Hold {
    Exclusive,
    Shared,
}

/// The word once `hold` is granted in state `s`; None while it cannot be.
fn granted(s: u32, hold: Hold) -> Option<u32> {
    match hold {
        // Taking the lock answers the exclusive waiters' claim (any other one claims
        // it again when it wakes).
        Hold::Exclusive => (s & (EXCLUSIVE | READERS) == 0).then_some(s & SLEEPERS | EXCLUSIVE),
        Hold::Shared => {
            (s & (EXCLUSIVE | EXCLUSIVE_WAITS) == 0 && s & READERS < READERS).then_some(s + 1)
        }
    }
}

/// Takes `hold` if it can be granted now, retrying while only the race for the word is
/// lost.
fn try_hold(l: &SRWLOCK, hold: Hold) -> bool {
    let mut s = l.state.load(Ordering::Relaxed);
    while let Some(next) = granted(s, hold) {
        match l
            .state
            .compare_exchange_weak(s, next, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return true,
            Err(now) => s = now,
        }
    }
    false
}

/// Waits until `hold` is granted. A thread that must wait marks the word (sleepers, and
/// an exclusive one its claim) and sleeps until it changes: on the word itself, or for
/// an unaligned lock (which Windows allows and a futex cannot take) on its parking word,
/// read before the lock word so that a release in between is not missed.
fn acquire(l: &SRWLOCK, addr: usize, hold: Hold) {
    loop {
        let park = parked(addr).map(|p| (p, p.load(Ordering::SeqCst)));
        let s = l.state.load(Ordering::SeqCst);
        if let Some(next) = granted(s, hold) {
            if l.state
                .compare_exchange(s, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            continue;
        }
        if hold == Hold::Shared && s & (EXCLUSIVE | EXCLUSIVE_WAITS) == 0 {
            // Only the count of shared holds is full: no release will wake for that.
            std::thread::yield_now();
            continue;
        }
        let claim = if hold == Hold::Exclusive {
            EXCLUSIVE_WAITS
        } else {
            0
        };
        let marked = s | SLEEPERS | claim;
        if s != marked
            && l.state
                .compare_exchange(s, marked, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            continue;
        }
        match park {
            Some((p, seen)) => futex_wait(p, seen, None),
            None => futex_wait(&l.state, marked, None),
        };
    }
}

/// Wakes every sleeper of the lock at `addr`.
fn wake_lock(l: &SRWLOCK, addr: usize) {
    match parked(addr) {
        Some(p) => {
            p.fetch_add(1, Ordering::SeqCst);
            futex_wake(p, i32::MAX);
        }
        None => futex_wake(&l.state, i32::MAX),
    }
}

/// Ends an exclusive hold (nothing when the lock is not held exclusively, where Windows
/// raises an exception).
fn release_exclusive(l: &SRWLOCK, addr: usize) {
    let mut s = l.state.load(Ordering::Relaxed);
    while s & EXCLUSIVE != 0 {
        match l
            .state
            .compare_exchange_weak(s, 0, Ordering::SeqCst, Ordering::Relaxed)
        {
            Ok(_) => {
                if s & SLEEPERS != 0 {
                    wake_lock(l, addr);
                }
                return;
            }
            Err(now) => s = now,
        }
    }
}

/// Ends one shared hold (nothing when there is none). The last one, with sleepers,
/// clears the sleepers bit and wakes them; an exclusive waiter's claim stays, so that
/// it, not a shared waiter, takes the lock.
fn release_shared(l: &SRWLOCK, addr: usize) {
    let mut s = l.state.load(Ordering::Relaxed);
    while s & READERS != 0 && s & EXCLUSIVE == 0 {
        let mut next = s - 1;
        if next & READERS == 0 {
            next &= !SLEEPERS;
        }
        match l
            .state
            .compare_exchange_weak(s, next, Ordering::SeqCst, Ordering::Relaxed)
        {
            Ok(_) => {
                if next & READERS == 0 && s & SLEEPERS != 0 {
                    wake_lock(l, addr);
                }
                return;
            }
            Err(now) => s = now,
        }
    }
}

macro_rules! srw_fn {
    ($(#[$doc:meta])* $name:ident, $body:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// `l` is NULL (ignored) or an initialized `SRWLOCK`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(l: *mut SRWLOCK) {
            // The address from the pointer, before a reference (which would be taken as
            // aligned) exists.
            let addr = l as usize;
            // SAFETY: by the function's contract.
            if let Some(l) = unsafe { l.as_ref() } {
                $body(l, addr);
            }
        }
    };
}

srw_fn!(
    /// `AcquireSRWLockExclusive`: waits until no thread holds the lock, then holds it
    /// alone. While it waits, new shared acquirers wait too (the exclusive waiter is
    /// preferred, as on Windows). Not recursive (a second acquire by the holder waits for
    /// ever, as on Windows).
    AcquireSRWLockExclusive,
    |l, addr| acquire(l, addr, Hold::Exclusive)
);
srw_fn!(
    /// `AcquireSRWLockShared`: waits until no thread holds the lock exclusively or waits
    /// to, then holds it shared.
    AcquireSRWLockShared,
    |l, addr| acquire(l, addr, Hold::Shared)
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
    unsafe { l.as_ref() }.is_some_and(|l| try_hold(l, Hold::Exclusive)) as u8
}

/// `TryAcquireSRWLockShared`: holds the lock shared unless it is held exclusively or an
/// exclusive acquirer waits for it (TRUE), else FALSE at once.
///
/// # Safety
/// As for [`TryAcquireSRWLockExclusive`].
#[no_mangle]
pub unsafe extern "C" fn TryAcquireSRWLockShared(l: *mut SRWLOCK) -> u8 {
    // SAFETY: by the function's contract.
    unsafe { l.as_ref() }.is_some_and(|l| try_hold(l, Hold::Shared)) as u8
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
    let lock_addr = l as usize;
    // SAFETY: by the function's contract.
    let (Some(cv), Some(l)) = (unsafe { cv.as_ref() }, unsafe { l.as_ref() }) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    if flags & LOCKMODE_SHARED != 0 {
        sleep_on(
            cv,
            addr,
            ms,
            || release_shared(l, lock_addr),
            || acquire(l, lock_addr, Hold::Shared),
        )
    } else {
        sleep_on(
            cv,
            addr,
            ms,
            || release_exclusive(l, lock_addr),
            || acquire(l, lock_addr, Hold::Exclusive),
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

    /// Waits (at most 30 s) for what `f`, run on a new thread, returns.
    fn on_thread<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::sync::mpsc::Receiver<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx
    }

    const WATCHDOG: Duration = Duration::from_secs(30);

    /// Holds the lock at `addr` shared, makes an exclusive acquirer wait for it, then a
    /// shared one: the shared try fails and the shared acquirer waits while the
    /// exclusive one does, and the exclusive one holds the lock first once it is free.
    fn an_exclusive_waiter_is_preferred(addr: usize) {
        let l = addr as *mut SRWLOCK;
        // SAFETY: `l` is a live lock for the whole test (the caller's).
        unsafe {
            InitializeSRWLock(l);
            AcquireSRWLockShared(l);
        }
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let exclusive = {
            let order = order.clone();
            on_thread(move || {
                let l = addr as *mut SRWLOCK;
                // SAFETY: as above.
                unsafe { AcquireSRWLockExclusive(l) };
                order.lock().unwrap().push("exclusive");
                std::thread::sleep(Duration::from_millis(20));
                // SAFETY: as above; this thread holds it exclusively.
                unsafe { ReleaseSRWLockExclusive(l) };
            })
        };
        // Shared tries succeed until the exclusive acquirer has claimed the lock.
        let mut tries = 0;
        // SAFETY: as above.
        while unsafe { TryAcquireSRWLockShared(l) } != 0 {
            // SAFETY: this thread holds it shared twice.
            unsafe { ReleaseSRWLockShared(l) };
            tries += 1;
            assert!(tries < 30_000, "the exclusive acquirer never waited");
            std::thread::sleep(Duration::from_millis(1));
        }
        let shared = {
            let order = order.clone();
            on_thread(move || {
                let l = addr as *mut SRWLOCK;
                // SAFETY: as above.
                unsafe { AcquireSRWLockShared(l) };
                order.lock().unwrap().push("shared");
                // SAFETY: this thread holds it shared.
                unsafe { ReleaseSRWLockShared(l) };
            })
        };
        // Time for a shared acquirer that is wrongly let in to show it.
        std::thread::sleep(Duration::from_millis(50));
        assert!(order.lock().unwrap().is_empty(), "let in past the waiter");
        // SAFETY: this thread holds it shared.
        unsafe { ReleaseSRWLockShared(l) };
        exclusive
            .recv_timeout(WATCHDOG)
            .expect("exclusive acquirer");
        shared.recv_timeout(WATCHDOG).expect("shared acquirer");
        assert_eq!(*order.lock().unwrap(), ["exclusive", "shared"]);
        // Free: both kinds of try succeed again.
        // SAFETY: as above.
        unsafe {
            assert_eq!(TryAcquireSRWLockExclusive(l), 1);
            ReleaseSRWLockExclusive(l);
            assert_eq!(TryAcquireSRWLockShared(l), 1);
            ReleaseSRWLockShared(l);
        }
    }

    #[test]
    fn an_srw_locks_exclusive_waiter_is_preferred_over_new_shared_holders() {
        let l = Box::leak(Box::new(SRWLOCK {
            state: AtomicU32::new(0),
            _high: 0,
        }));
        an_exclusive_waiter_is_preferred(l as *mut SRWLOCK as usize);
    }

    #[test]
    fn an_unaligned_srw_lock_prefers_its_exclusive_waiter_too() {
        // An aligned block, and the lock one byte into it (as in a packed structure).
        let block: &'static mut [u64; 3] = Box::leak(Box::new([0; 3]));
        let addr = block.as_mut_ptr() as usize + 1;
        assert_ne!(addr % 4, 0);
        an_exclusive_waiter_is_preferred(addr);
    }

    #[test]
    fn srw_locks_exclude_writers_from_readers_and_each_other() {
        struct Guarded(SRWLOCK, std::cell::UnsafeCell<u64>);
        // SAFETY: the counter is only written under the exclusive hold, read under a
        // shared one.
        unsafe impl Sync for Guarded {}
        let g: &'static Guarded = Box::leak(Box::new(Guarded(
            SRWLOCK {
                state: AtomicU32::new(0),
                _high: 0,
            },
            0.into(),
        )));
        let l = &g.0 as *const SRWLOCK as usize;
        let done: Vec<_> = (0..4)
            .map(|i| {
                on_thread(move || {
                    let l = l as *mut SRWLOCK;
                    for _ in 0..5_000 {
                        // SAFETY: `l` lives for ever; the counter is only touched
                        // under the lock, written only under the exclusive hold.
                        unsafe {
                            if i % 2 == 0 {
                                AcquireSRWLockExclusive(l);
                                *g.1.get() += 1;
                                ReleaseSRWLockExclusive(l);
                            } else {
                                AcquireSRWLockShared(l);
                                let v = *g.1.get();
                                assert!(v <= 10_000);
                                ReleaseSRWLockShared(l);
                            }
                        }
                    }
                })
            })
            .collect();
        for d in done {
            d.recv_timeout(WATCHDOG).expect("a locker ended");
        }
        // SAFETY: every thread has ended.
        assert_eq!(unsafe { *g.1.get() }, 10_000);
        assert_eq!(g.0.state.load(Ordering::Relaxed), 0, "nothing left behind");
    }
}
