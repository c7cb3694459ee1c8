//! The mutex of a sync object: a process-shared, robust, recursive pthread mutex in the
//! shared page. Its lock word is the kernel's robust-futex word (owner tid, waiters bit,
//! owner-died bit); glibc puts the mutex on the owning thread's robust list, so when that
//! thread ends or its process is killed the kernel marks it abandoned and wakes a waiter,
//! which gets `EOWNERDEAD`. Uncontended lock and unlock are one atomic instruction each.
//!
//! Every function here takes the [`Page`] of an object whose header says it is a mutex:
//! its creator initialised the mutex (`init`) before the object got its name.

use super::page::{Page, SYNC_AT};
use rustix::io::Errno;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The kernel's robust-futex owner mask (`FUTEX_TID_MASK`).
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

extern "C" {
    // glibc 2.30 and later: a mutex wait against CLOCK_MONOTONIC, immune to clock changes.
    fn pthread_mutex_clocklock(
        mutex: *mut libc::pthread_mutex_t,
        clock: libc::clockid_t,
        abstime: *const libc::timespec,
    ) -> libc::c_int;
}

/// Initialises the mutex of a new object's page; with `initial_owner`, the calling thread
/// takes it before anyone else can see the object.
pub(super) fn init(page: &Page, initial_owner: bool) -> Result<(), Errno> {
    let m = page.mutex();
    // SAFETY: `m` points into the mapped page, suitably aligned (SYNC_AT is a multiple of
    // 8) and large enough (checked at compile time in `page`); no other process can see the
    // object before it is linked under its name, so initialising it here races with
    // nobody. The attribute object lives on this stack frame.
    unsafe {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        let a = attr.as_mut_ptr();
        let mut rc = libc::pthread_mutexattr_init(a);
        if rc == 0 {
            rc = libc::pthread_mutexattr_settype(a, libc::PTHREAD_MUTEX_RECURSIVE);
            if rc == 0 {
                rc = libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED);
            }
            if rc == 0 {
                rc = libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST);
            }
            if rc == 0 {
                rc = libc::pthread_mutex_init(m, a);
            }
            libc::pthread_mutexattr_destroy(a);
        }
        if rc == 0 && initial_owner {
            rc = libc::pthread_mutex_lock(m);
        }
        if rc != 0 {
            return Err(Errno::from_raw_os_error(rc));
        }
    }
    Ok(())
}

/// What a lock call ended with.
pub(super) enum Locked {
    Acquired,
    /// Acquired from an owner that died holding it; already marked consistent again.
    Abandoned,
    TimedOut,
    /// The owning thread holds it too many times (EAGAIN).
    TooDeep,
    /// Released after an owner's death without being made consistent (ENOTRECOVERABLE).
    NotRecoverable,
    Failed(Errno),
}

/// Locks the mutex: `None` waits forever, a zero timeout polls.
#[inline]
pub(super) fn lock(page: &Page, timeout: Option<Duration>) -> Locked {
    let m = page.mutex();
    // A timeout too long to represent waits forever.
    let timeout = timeout.filter(|t| t.as_secs() < (i64::MAX as u64) / 4);
    // SAFETY: `m` is the process-shared mutex initialised by the object's creator in the
    // page, which stays mapped as long as `page` lives.
    let rc = unsafe {
        match timeout {
            None => libc::pthread_mutex_lock(m),
            Some(t) if t.is_zero() => libc::pthread_mutex_trylock(m),
            Some(t) => {
                let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
                let mut sec = now.tv_sec.saturating_add(t.as_secs() as i64);
                let mut nsec = now.tv_nsec + i64::from(t.subsec_nanos());
                if nsec >= 1_000_000_000 {
                    nsec -= 1_000_000_000;
                    sec = sec.saturating_add(1);
                }
                let abs = libc::timespec {
                    tv_sec: sec as libc::time_t,
                    tv_nsec: nsec as _,
                };
                pthread_mutex_clocklock(m, libc::CLOCK_MONOTONIC, &abs)
            }
        }
    };
    match rc {
        0 => Locked::Acquired,
        libc::EOWNERDEAD => {
            // The owner died holding it: we own it now. Mark it usable again, as a
            // Windows mutex is after WAIT_ABANDONED.
            // SAFETY: this thread owns the mutex (EOWNERDEAD hands it over).
            unsafe { libc::pthread_mutex_consistent(m) };
            Locked::Abandoned
        }
        libc::EBUSY | libc::ETIMEDOUT => Locked::TimedOut,
        libc::EAGAIN => Locked::TooDeep,
        libc::ENOTRECOVERABLE => Locked::NotRecoverable,
        e => Locked::Failed(Errno::from_raw_os_error(e)),
    }
}

/// Releases one level of ownership; `EPERM` when the calling thread does not own it
/// (robust and recursive mutexes check the owner).
#[inline]
pub(super) fn unlock(page: &Page) -> Result<(), Errno> {
    // SAFETY: as in `lock`.
    match unsafe { libc::pthread_mutex_unlock(page.mutex()) } {
        0 => Ok(()),
        e => Err(Errno::from_raw_os_error(e)),
    }
}

/// Whether the calling thread owns the mutex: the robust lock word holds the owner's
/// thread id.
pub(super) fn owned_by_caller(page: &Page) -> bool {
    // The lock word is the first field of glibc's pthread_mutex_t, in the kernel's
    // robust-futex format.
    let word = page.u32_at(SYNC_AT).load(Ordering::SeqCst) & FUTEX_TID_MASK;
    word != 0 && word == rustix::thread::gettid().as_raw_nonzero().get() as u32
}
