//! The mutex of a sync object: `crate::sync::lockword`'s state machine over words of the
//! shared page, which hold thread ids and start times, never addresses. This file gives
//! it the two things it asks of the system: who the calling thread is ([`me`]), and
//! whether an owner still runs ([`Threads`]). Uncontended lock and unlock are one
//! compare-and-swap each, with no system call.
//!
//! An owner's death is found by its waiters, not announced by the kernel: a waiter that
//! sees the same acquisition in place after a sleep asks whether its owner still runs, and
//! sleeps at most [`MAX_SLICE`] between two looks. So a mutex whose owner died is reported
//! abandoned within that time (at once to a poll, whose one look is immediate).

use super::futex::SharedFutex;
use super::page::{Page, OWNER_START_AT, PARAM_AT, RESERVER_AT, SEALED_AT, SEQ_AT, STATE_AT};
use crate::sync::lockword::{Me, MutexWords, Owners, TID_MASK};
use crate::sync::reserve::{self, Reservers};
use std::cell::Cell;
use std::sync::Once;
use std::time::Duration;

/// The first sleep of a waiter before it looks at the owner.
const FIRST_SLICE: Duration = Duration::from_micros(500);
/// The longest sleep of a waiter between two looks at the owner.
pub(super) const MAX_SLICE: Duration = Duration::from_millis(25);

/// The mutex words of a mutex object's page.
pub(super) fn words(page: &Page) -> MutexWords<'_> {
    MutexWords {
        state: page.u64_at(STATE_AT),
        seq: page.u32_at(SEQ_AT),
        depth: page.u32_at(PARAM_AT),
        start: page.u64_at(OWNER_START_AT),
        sealed: page.u32_at(SEALED_AT),
        reserver: page.u64_at(RESERVER_AT),
    }
}

thread_local! {
    /// The calling thread's identity, found once per thread (and again in a forked child).
    static ME: Cell<Option<Me>> = const { Cell::new(None) };
}

/// A forked child's only thread is not the thread it was copied from.
extern "C" fn forget_identity_in_child() {
    ME.with(|me| me.set(None));
}

/// The calling thread as mutexes record their owners.
#[inline]
pub(crate) fn me() -> Me {
    ME.with(|cell| match cell.get() {
        Some(me) => me,
        None => {
            let me = find_me();
            cell.set(Some(me));
            me
        }
    })
}

#[cold]
fn find_me() -> Me {
    static ATFORK: Once = Once::new();
    ATFORK.call_once(|| {
        // SAFETY: registers a child handler that only resets a thread-local cell; it
        // allocates nothing and takes no lock, so it is safe to run in a forked child.
        unsafe { libc::pthread_atfork(None, None, Some(forget_identity_in_child)) };
    });
    let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
    let start = std::fs::read("/proc/thread-self/stat")
        .ok()
        .and_then(|stat| parse_stat(&stat))
        .map_or(0, |(_, start)| start);
    Me { tid, start }
}

/// The state letter and the start time of a `/proc/<id>/stat` line. The command name in
/// parentheses may hold anything, so the fields are counted after its last `)`.
pub(super) fn parse_stat(stat: &[u8]) -> Option<(u8, u64)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3 is the state, field 22 the start time.
    let state = *fields.next()?.as_bytes().first()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// The owners of mutexes are threads of this machine, looked up by id.
pub(crate) struct Threads;

/// Whether the thread `tid` runs, and `started` says its start time is the one expected.
fn runs(tid: u32, started: impl Fn(u64) -> bool) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(tid as i32) else {
        return false;
    };
    // A signal 0 finds any thread id, also one whose /proc entry is hidden from us
    // (EPERM still means it exists).
    if rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH) {
        return false;
    }
    match std::fs::read(format!("/proc/{tid}/stat")) {
        Ok(stat) => match parse_stat(&stat) {
            // A thread that ended but is not yet reaped is a zombie.
            Some((b'Z' | b'X', _)) => false,
            Some((_, start)) => started(start),
            None => true,
        },
        // Not readable (a /proc that hides other users' processes): it exists.
        Err(_) => true,
    }
}

impl Owners for Threads {
    fn alive(&self, tid: u32, start: Option<u64>) -> bool {
        // The same id, started at another time: another thread.
        runs(tid, |started| start.is_none_or(|s| s == started))
    }

    fn recheck(&self, round: u32) -> Option<Duration> {
        Some(
            FIRST_SLICE
                .saturating_mul(1 << round.min(16))
                .min(MAX_SLICE),
        )
    }
}

/// Reservations by wait-alls (`crate::sync::reserve`) are held by threads of this machine
/// too: a reserver id is a thread id and the low half of its start time.
impl Reservers for SharedFutex {
    fn reserver_id(&self) -> u64 {
        let me = me();
        reserve::reserver_id(me.tid, me.start)
    }

    fn reserver_alive(&self, id: u64) -> bool {
        let tid = id as u32;
        if u64::from(tid) > TID_MASK {
            return false;
        }
        // The low half of the start time is in the id (0: unknown).
        runs(tid, |started| {
            id >> 32 == 0 || id >> 32 == started & 0xffff_ffff
        })
    }

    fn pause(&self, round: u32) {
        // A reservation lasts a few instructions of a thread that runs: give it the CPU,
        // and once it has been a while (it was preempted), sleep a little.
        if round < 16 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_line_is_read_after_the_last_parenthesis() {
        let line = b"42 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21\n";
        assert_eq!(parse_stat(line), Some((b'S', 987654)));
        assert_eq!(parse_stat(b"42 (x"), None);
        assert_eq!(parse_stat(b"42 (x) S 1 2"), None);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // reads /proc
    fn this_thread_runs_and_a_thread_that_ended_does_not() {
        let me = me();
        assert!(me.start != 0, "the start time of this thread is readable");
        assert!(Threads.alive(me.tid, Some(me.start)));
        assert!(
            !Threads.alive(me.tid, Some(me.start + 1)),
            "another start: another thread"
        );
        let other = std::thread::spawn(super::me)
            .join()
            .expect("the thread ran");
        assert!(!Threads.alive(other.tid, Some(other.start)));
    }
}
