//! The futex of the Linux sync objects: `sync::state`'s wait and wake over words of the
//! shared page, and `sync::multiwait`'s wait for several words at once (`futex_waitv`,
//! Linux 5.16). Never `FUTEX_PRIVATE_FLAG`: the waiters are in other processes.

use crate::sync::multiwait::{Futexes, MAX_OBJECTS};
use crate::sync::state::Futex;
use rustix::io::Errno;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Futex waits and wakes on words of the shared page (shared futexes: the kernel keys
/// them by file and offset, so every process that maps the page meets on them).
pub(crate) struct SharedFutex;

fn left(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

fn timespec(d: Duration) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: d.subsec_nanos().into(),
    }
}

impl Futex for SharedFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        use rustix::thread::futex;
        let timeout = match deadline {
            None => None,
            Some(d) => match left(d) {
                None => return false,
                Some(left) => Some(timespec(left)),
            },
        };
        match futex::wait(word, futex::Flags::empty(), expected, timeout.as_ref()) {
            Err(Errno::TIMEDOUT) => false,
            // Woken, interrupted, or the word had changed: the caller looks again.
            _ => true,
        }
    }

    fn wake(&self, word: &AtomicU32, n: u32) {
        let n = n.min(i32::MAX as u32);
        let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), n);
    }
}

/// `struct futex_waitv` of `<linux/futex.h>`.
#[repr(C)]
#[derive(Clone, Copy)]
struct FutexWaitv {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32,
}

/// `FUTEX2_SIZE_U32`: a 32-bit word; without `FUTEX2_PRIVATE`, a shared futex.
const FUTEX2_SIZE_U32: u32 = 0x02;

/// Whether `futex_waitv` works here: 0 not known yet, 1 yes, 2 no (a kernel before 5.16,
/// or a seccomp filter that refuses it).
static WAITV: AtomicU8 = AtomicU8::new(0);

/// Without `futex_waitv`, a multi-object sleep is a sleep on the first word of at most
/// this long: the other objects are then seen within it.
pub(crate) const FALLBACK_SLICE: Duration = Duration::from_millis(1);

impl Futexes for SharedFutex {
    fn wait_any(&self, words: &[(&AtomicU32, u32)], deadline: Option<Instant>) -> bool {
        match words {
            // Nothing to be woken by (multiwait never asks for it): a slice of sleep.
            [] => {
                let slice = deadline.map_or(FALLBACK_SLICE, |d| {
                    FALLBACK_SLICE.min(d.saturating_duration_since(Instant::now()))
                });
                std::thread::sleep(slice);
                return deadline.is_none_or(|d| Instant::now() < d);
            }
            [(word, expected)] => return self.wait(word, *expected, deadline),
            _ => {}
        }
        if WAITV.load(Ordering::Relaxed) != 2 {
            if let Some(woken) = waitv(words, deadline) {
                WAITV.store(1, Ordering::Relaxed);
                return woken;
            }
            WAITV.store(2, Ordering::Relaxed);
        }
        fallback(self, words, deadline)
    }
}

/// One `futex_waitv` call; `None` when the system has none.
fn waitv(words: &[(&AtomicU32, u32)], deadline: Option<Instant>) -> Option<bool> {
    let mut waiters = [FutexWaitv {
        val: 0,
        uaddr: 0,
        flags: 0,
        reserved: 0,
    }; MAX_OBJECTS];
    let n = words.len().min(MAX_OBJECTS);
    for (w, (word, expected)) in waiters.iter_mut().zip(words) {
        *w = FutexWaitv {
            val: u64::from(*expected),
            uaddr: word.as_ptr() as u64,
            flags: FUTEX2_SIZE_U32,
            reserved: 0,
        };
    }
    // The timeout is absolute, on the clock `Instant` reads (CLOCK_MONOTONIC).
    let timeout = match deadline {
        None => None,
        Some(d) => match left(d) {
            None => return Some(false),
            Some(left) => {
                let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
                let nanos = now.tv_nsec as u64 + u64::from(left.subsec_nanos());
                Some(libc::timespec {
                    tv_sec: now
                        .tv_sec
                        .saturating_add(left.as_secs().min(i64::MAX as u64) as i64)
                        .saturating_add((nanos / 1_000_000_000) as i64),
                    tv_nsec: (nanos % 1_000_000_000) as _,
                })
            }
        },
    };
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `waiters` holds `n` initialised `futex_waitv` entries whose addresses are
    // words that live for the call (borrowed by `words`); `timeout_ptr` is NULL or points
    // to a timespec that outlives the call. The kernel only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex_waitv,
            waiters.as_ptr(),
            n as libc::c_uint,
            0 as libc::c_uint,
            timeout_ptr,
            libc::CLOCK_MONOTONIC,
        )
    };
    if r >= 0 {
        return Some(true);
    }
    match Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)) {
        Errno::TIMEDOUT => Some(false),
        Errno::NOSYS | Errno::PERM => None,
        // A word had changed, a signal came, or anything else: the caller looks again.
        _ => Some(true),
    }
}

/// Without `futex_waitv`: a sleep on the first word, of at most [`FALLBACK_SLICE`].
pub(crate) fn fallback(
    futex: &SharedFutex,
    words: &[(&AtomicU32, u32)],
    deadline: Option<Instant>,
) -> bool {
    let slice = Instant::now().checked_add(FALLBACK_SLICE);
    let until = match (deadline, slice) {
        (Some(d), Some(s)) => Some(d.min(s)),
        (d, s) => d.or(s),
    };
    let (word, expected) = words[0];
    futex.wait(word, expected, until) || deadline.is_none_or(|d| Instant::now() < d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    #[cfg_attr(miri, ignore)] // system calls
    fn a_wake_of_any_word_ends_the_wait_and_a_changed_word_ends_it_at_once() {
        let words: Arc<[AtomicU32; 3]> =
            Arc::new([AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)]);
        let w = words.clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            w[2].store(1, Ordering::SeqCst);
            SharedFutex.wake(&w[2], 1);
        });
        let list: Vec<(&AtomicU32, u32)> = words.iter().map(|w| (w, 0)).collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        while words[2].load(Ordering::SeqCst) == 0 {
            assert!(SharedFutex.wait_any(&list, Some(deadline)), "timed out");
        }
        waker.join().unwrap();
        // A word that no longer holds the expected value: no sleep at all.
        let stale = [(&words[0], 0), (&words[2], 0)];
        assert!(SharedFutex.wait_any(&stale, None));
    }

    #[test]
    #[cfg_attr(miri, ignore)] // system calls
    fn a_multi_word_wait_times_out_at_its_deadline_and_so_does_the_fallback() {
        let a = AtomicU32::new(0);
        let b = AtomicU32::new(0);
        let words = [(&a, 0), (&b, 0)];
        let start = Instant::now();
        assert!(!SharedFutex.wait_any(&words, Some(start + Duration::from_millis(10))));
        assert!(start.elapsed() >= Duration::from_millis(10));
        let start = Instant::now();
        let deadline = start + Duration::from_millis(5);
        while fallback(&SharedFutex, &words, Some(deadline)) {}
        assert!(start.elapsed() >= Duration::from_millis(5));
    }
}
