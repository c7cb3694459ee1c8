//! The futex of the Linux events and semaphores: `sync::state`'s wait and wake over
//! words of the shared page. Never `FUTEX_PRIVATE_FLAG`: the waiters are in other
//! processes.

use crate::sync::state::Futex;
use rustix::io::Errno;
use std::sync::atomic::AtomicU32;
use std::time::Instant;

/// Futex waits and wakes on words of the shared page (shared futexes: the kernel keys
/// them by file and offset, so every process that maps the page meets on them).
pub(crate) struct SharedFutex;

impl Futex for SharedFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        use rustix::thread::futex;
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                Some(rustix::fs::Timespec {
                    tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
                    tv_nsec: left.subsec_nanos().into(),
                })
            }
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
